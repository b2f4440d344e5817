"""The only module that runs ffmpeg (the binary shipped in the `imageio-ffmpeg` wheel).

Encodes the track once from streamed PCM, resamples speech clips, and decodes and reads
back MP3s for checking. ffmpeg's failures become `AudioError`.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Callable, Iterable, Iterator

from .errors import AudioError
from .files import DISK_FULL, cannot_write, temp_folder
from .lazy import lazy_module

np = lazy_module("numpy")  # see lazy.py: loaded when first used

LAME_QUALITY = 3
"""LAME's -q (0 best … 9 fastest): 3 is LAME's own default for CBR."""


def ffmpeg_exe() -> str:
    """The ffmpeg that imageio-ffmpeg's wheel brings (or `IMAGEIO_FFMPEG_EXE`)."""
    exe = os.environ.get("IMAGEIO_FFMPEG_EXE") or _bundled_exe()
    if exe:
        return exe
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    except (ImportError, RuntimeError) as exc:
        raise AudioError(f"ffmpeg is not available ({exc}); reinstall routinecast so that "
                         "the imageio-ffmpeg wheel comes with it") from None


def _bundled_exe() -> str | None:
    """The one ffmpeg binary in imageio-ffmpeg's `binaries` folder, found without importing
    it: `get_ffmpeg_exe` runs `ffmpeg -version` first, a process that costs a warm build
    more than a tenth of its time beyond the encoder. Anything else in that folder than one
    executable (a changed wheel layout) gives None, and `get_ffmpeg_exe` decides."""
    spec = importlib.util.find_spec("imageio_ffmpeg")
    if spec is None or not spec.submodule_search_locations:
        return None
    found = [path for folder in spec.submodule_search_locations
             for path in (Path(folder) / "binaries").glob("ffmpeg*")
             if path.is_file() and os.access(path, os.X_OK)]
    return str(found[0]) if len(found) == 1 else None


def _run(args: list[str], what: str, data: bytes | None = None,
         loglevel: str = "error") -> subprocess.CompletedProcess:
    try:
        done = subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", loglevel,
                               *args], input=data, capture_output=True, check=False)
    except OSError as exc:
        raise AudioError(f"cannot run ffmpeg to {what}: {exc.strerror}") from None
    if done.returncode != 0:
        raise AudioError(f"ffmpeg failed to {what}: {_last_line(done.stderr)}")
    return done


def _last_line(stderr: bytes) -> str:
    lines = [line for line in stderr.decode("utf-8", "replace").splitlines() if line.strip()]
    return lines[-1].strip() if lines else "no message"


def resample(samples: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    """Mono int16 samples at `from_rate` → mono int16 at `to_rate`."""
    if from_rate == to_rate or len(samples) == 0:
        return samples.astype(np.int16)
    out = _run(["-f", "s16le", "-ar", str(from_rate), "-ac", "1", "-i", "pipe:0",
                "-f", "s16le", "-ar", str(to_rate), "-ac", "1", "pipe:1"],
               "resample speech", samples.astype("<i2").tobytes()).stdout
    return np.frombuffer(out, dtype="<i2").copy()


def decode_bytes(data: bytes, sample_rate: int, tempo: float = 1.0,
                 what: str = "decode speech") -> np.ndarray:
    """An encoded audio file held in memory (an MP3, a WAV) → mono int16 at `sample_rate`,
    played `tempo` times as fast without changing its pitch."""
    filters = ["-af", tempo_filter(tempo)] if tempo != 1.0 else []
    out = _run(["-i", "pipe:0", *filters, "-f", "s16le", "-ac", "1", "-ar", str(sample_rate),
                "pipe:1"], what, data).stdout
    return np.frombuffer(out, dtype="<i2").copy()


def tempo_filter(tempo: float) -> str:
    """ffmpeg's `atempo` stages for any `tempo`: each stage stays within 0.5 to 2, where
    atempo neither fails nor skips samples."""
    stages = []
    while tempo > 2.0:
        stages.append(2.0)
        tempo /= 2.0
    while tempo < 0.5:
        stages.append(0.5)
        tempo /= 0.5
    stages.append(tempo)
    return ",".join(f"atempo={stage:.6g}" for stage in stages)


def encode_mp3(chunks: Iterable[np.ndarray], path: Path, sample_rate: int, bitrate_kbps: int,
               total_samples: int, progress: Callable[[int], None] | None = None,
               name: str | None = None, channels: int = 1) -> None:
    """Encode int16 PCM `chunks` (shape `(n,)` mono or `(n, channels)`) once into a CBR MP3
    at `path` (no tags).

    Written to a seekable file so that LAME's Info header (length, encoder delay and
    padding for gapless playback) is filled in. `progress` is called with samples done (per
    channel); `name` is what messages call the file (the final name when `path` is a
    temporary one).
    """
    _encode(chunks, ["-map_metadata", "-1", "-c:a", "libmp3lame", "-b:a", f"{bitrate_kbps}k",
                     "-compression_level", str(LAME_QUALITY), "-id3v2_version", "0",
                     "-write_xing", "1", "-f", "mp3"],
            path, sample_rate, channels, total_samples, progress,
            path.parent / (name or path.name))


@dataclass(frozen=True)
class BookChapter:
    """A chapter of an M4B."""

    start_ms: int
    """Where it begins."""
    end_ms: int
    """Where it ends."""
    title: str
    """What players show."""


def encode_m4b(chunks: Iterable[np.ndarray], path: Path, sample_rate: int, bitrate_kbps: int,
               total_samples: int, chapters: list[BookChapter], tags: dict[str, str],
               cover: bytes | None = None, progress: Callable[[int], None] | None = None,
               name: str | None = None, channels: int = 1) -> None:
    """Encode PCM `chunks` once into an AAC audiobook (M4B) at `path` with `chapters`, text
    `tags` (ffmpeg's names: title, artist, album, comment) and a PNG `cover`.

    ffmpeg is given the book by its path, not as /dev/fd/N as an MP3 is: `+faststart` opens
    the finished file a second time, to read it while moving the index to the front, and on
    macOS opening /dev/fd/N only duplicates the write-only descriptor, offset and all. It
    writes into a work folder of its own beside `path` (the same disk: a rename away),
    removed when this ends, and the finished book is renamed onto `path`: an ffmpeg left
    running by an interruption then finds no folder to make the book anew in, as the
    descriptor rules out for an MP3.
    """
    target = path.parent / (name or path.name)
    try:
        # absolute: ffmpeg reads a relative path's `word:` start as a protocol's name
        folder = temp_folder(path.parent, target.name).absolute()
    except OSError as exc:
        raise cannot_write(path.parent, exc) from None
    try:
        metadata = folder / "metadata.txt"
        metadata.write_text(_ffmetadata(chapters, tags), encoding="utf-8")
        inputs = ["-i", str(metadata)]
        maps = ["-map", "0:a", "-map_metadata", "1", "-map_chapters", "1"]
        if cover:
            picture = folder / "cover.png"
            picture.write_bytes(cover)
            inputs += ["-i", str(picture)]
            maps += ["-map", "2:v", "-c:v", "copy", "-disposition:v:0", "attached_pic"]
        book = folder / "book.m4b"
        _encode(chunks, [*inputs, *maps, "-c:a", "aac", "-b:a", f"{bitrate_kbps}k",
                         "-movflags", "+faststart", "-brand", "M4B ", "-f", "mp4"],
                book, sample_rate, channels, total_samples, progress, target, by_path=True)
        os.replace(book, path)
    except OSError as exc:
        raise cannot_write(target, exc, into=False) from None
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _ffmetadata(chapters: list[BookChapter], tags: dict[str, str]) -> str:
    def value(text: str) -> str:  # ffmetadata escapes these with a backslash
        return re.sub(r"([=;#\\\n])", r"\\\1", text)

    lines = [";FFMETADATA1", *(f"{key}={value(text)}" for key, text in tags.items())]
    for chapter in chapters:
        lines += ["[CHAPTER]", "TIMEBASE=1/1000", f"START={chapter.start_ms}",
                  f"END={chapter.end_ms}", f"title={value(chapter.title)}"]
    return "\n".join(lines) + "\n"


def _encode(chunks: Iterable[np.ndarray], output_args: list[str], path: Path,
            sample_rate: int, channels: int, total_samples: int,
            progress: Callable[[int], None] | None, target: Path,
            by_path: bool = False) -> None:
    """Run ffmpeg on PCM fed through its standard input, with `output_args` after the PCM
    input (further inputs, maps, codec, format), writing `path`; messages call it `target`
    (the final name when `path` is a temporary one).

    ffmpeg writes through a descriptor of `path` opened here: should an interruption leave
    it running on, it writes to a file that is no longer there rather than making it anew.
    `by_path` gives ffmpeg the path itself, for a muxer that opens its output again (see
    `encode_m4b`).
    """
    command = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-nostats", "-loglevel", "error",
               "-y", "-f", "s16le", "-ar", str(sample_rate), "-ac", str(channels),
               "-i", "pipe:0", *output_args]
    if by_path:
        _run_encoder(chunks, [*command, str(path)], (), total_samples, progress, target)
        return
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
    except OSError as exc:
        raise cannot_write(target, exc, into=False) from None
    try:
        _run_encoder(chunks, [*command, f"/dev/fd/{descriptor}"], (descriptor,),
                     total_samples, progress, target)
    finally:
        os.close(descriptor)


def _run_encoder(chunks: Iterable[np.ndarray], args: list[str], descriptors: tuple[int, ...],
                 total_samples: int, progress: Callable[[int], None] | None,
                 target: Path) -> None:
    """Feed `chunks` to the ffmpeg command `args`, which writes `target` (to one of
    `descriptors`, those it is handed, or by path)."""
    name = target.name
    written = 0
    with tempfile.TemporaryFile() as errors:
        process = None
        try:
            try:
                # its own session: a Ctrl-C reaches routinecast alone, which then stops
                # ffmpeg and reports the interruption rather than a failed encoder
                process = subprocess.Popen(args, stdin=subprocess.PIPE,
                                           stdout=subprocess.DEVNULL, stderr=errors,
                                           start_new_session=True, pass_fds=descriptors)
            except OSError as exc:
                raise AudioError(f"cannot run ffmpeg to encode {name}: {exc.strerror}") \
                    from None
            assert process.stdin is not None
            for chunk in chunks:
                process.stdin.write(np.ascontiguousarray(chunk, dtype="<i2").tobytes())
                written += len(chunk)
                if progress:
                    progress(written)
            process.stdin.close()
            code = process.wait()
        except BrokenPipeError:
            code = process.wait()
        except BaseException:
            if process is not None:
                process.kill()
                process.wait()
            raise
        if code != 0:
            errors.seek(0)
            said = errors.read()
            # ffmpeg says so in words: when it is the disk's fault, not ffmpeg's, say that
            full = next((number for number in DISK_FULL if os.strerror(number).encode() in said),
                        None)
            if full:
                raise cannot_write(target, OSError(full, os.strerror(full)), into=False)
            raise AudioError(f"ffmpeg failed to encode {name}: {_last_line(said)}")
    if written != total_samples:
        raise AudioError(f"encoding {name} received {written} samples, "
                         f"expected {total_samples}")


def exact_length_ms(duration_ms: int, sample_rate: int) -> int:
    """The shortest length from `duration_ms` whose MP3 decodes to exactly its samples.

    A track ending 1 to 46 samples into an MP3 frame (1152 samples; 576 below 32 kHz)
    decodes up to 46 samples longer than was encoded, which would move the end of the last
    chapter off the end of the audio; a length a millisecond or two longer avoids it.
    """
    frame = 1152 if sample_rate >= 32_000 else 576
    while 1 <= (duration_ms * sample_rate // 1000) % frame <= 46:
        duration_ms += 1
    return duration_ms


def decode_pcm(path: Path, sample_rate: int, channels: int = 1) -> np.ndarray:
    """Decode an audio file to int16 samples at `sample_rate`, as a player would: shape
    `(n,)` for mono, `(n, channels)` otherwise."""
    out = _run(["-i", str(path), "-vn", "-f", "s16le", "-ac", str(channels), "-ar",
                str(sample_rate), "pipe:1"], f"decode {Path(path).name}").stdout
    samples = np.frombuffer(out, dtype="<i2")
    return samples if channels == 1 else samples.reshape(-1, channels)


def decode_stream(path: Path, sample_rate: int, channels: int,
                  block: int = 1 << 16) -> Iterator[np.ndarray]:
    """Decode an audio file of any length piece by piece: int16 arrays of shape
    `(≤ block, channels)`, so that a long file never sits in memory whole."""
    args = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-nostats", "-loglevel", "error",
            "-i", str(path), "-vn", "-f", "s16le", "-ac", str(channels), "-ar",
            str(sample_rate), "pipe:1"]
    with tempfile.TemporaryFile() as errors:
        try:
            process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=errors,
                                       stdin=subprocess.DEVNULL, start_new_session=True)
        except OSError as exc:
            raise AudioError(f"cannot run ffmpeg to decode {Path(path).name}: "
                             f"{exc.strerror}") from None
        try:
            assert process.stdout is not None
            frame = 2 * channels
            while data := process.stdout.read(block * frame):
                usable = len(data) - len(data) % frame
                yield np.frombuffer(data[:usable], dtype="<i2").reshape(-1, channels)
            code = process.wait()
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        if code != 0:
            errors.seek(0)
            raise AudioError(f"ffmpeg failed to decode {Path(path).name}: "
                             f"{_last_line(errors.read())}")


@dataclass(frozen=True)
class ProbedChapter:
    """A chapter as ffmpeg's demuxer reads it from a file."""

    start_ms: int
    end_ms: int
    title: str


def probe_chapters(path: Path) -> list[ProbedChapter]:
    """Chapters as ffmpeg's demuxer reads them (for MP3: the CHAP frames in file order).

    ffmpeg's metadata dump shifts chapters earlier by the stream's start time (the MP3
    encoder's start padding), clamping at 0; the shift is added back so that times compare
    with the tags'.
    """
    done = _run(["-i", str(path), "-f", "ffmetadata", "pipe:1"],
                f"read the chapters of {Path(path).name}", loglevel="info")
    start = re.search(r"Duration: .*?, start: (-?[\d.]+)", done.stderr.decode("utf-8", "replace"))
    shift = Fraction(start.group(1)) * 1000 if start else Fraction(0)
    chapters = []
    text = done.stdout.decode("utf-8", "replace")
    for block in re.split(r"^\[CHAPTER\]\s*$", text, flags=re.M)[1:]:
        fields = dict(line.split("=", 1) for line in block.splitlines() if "=" in line)
        base = Fraction(fields.get("TIMEBASE", "1/1000")) * 1000

        def to_ms(value: str) -> int:
            return round(int(value) * base + shift) if int(value) > 0 else 0

        chapters.append(ProbedChapter(to_ms(fields["START"]), to_ms(fields["END"]),
                                      fields.get("title", "")))
    return chapters
