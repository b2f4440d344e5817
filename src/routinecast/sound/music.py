"""The music bed: the playlist, decoded once, looped to the track's length at one loudness,
faded in and out, and ducked under everything spoken or sounded.

Music files are checked before anything is written. The bed's loudness is estimated for
the calibration from each file's own energy and the bed's envelope, without playing it;
played, it is held under the true-peak ceiling by the mix's limiter (`mixing.py`).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Iterator, Sequence

from ..errors import AudioError, InputError, setting
from ..ffmpeg import decode_stream
from ..lazy import lazy_module
from ..loudness import SILENT, StepMeter
from ..models import Plan
from ..render import sample_index
from .mixing import MIX_BLOCK, limited, reblocked

np = lazy_module("numpy")  # see lazy.py: loaded when first used

ESTIMATE_STEPS = 2048
"""100 ms steps of the music bed estimated at a time (see `MusicBed.estimated_steps`)."""
MAX_KEPT_BYTES = 1 << 30
"""Decoded music kept on disk for the length of a build, at most (about 100 minutes)."""
DUCK_RAMP_MS = 200
"""How long the music takes to dip under speech and to come back."""
MUSIC_FADE_IN_MS = 3_000
"""How long the bed takes to fade in as the track begins."""
MUSIC_FADE_OUT_MS = 5_000
"""How long the bed takes to fade out as the track ends."""
MUSIC_EDGE_MS = 30
"""Fade at both ends of each music file, so that the loop and the playlist join softly."""
AUDIO_SUFFIXES = (".mp3", ".m4a", ".aac", ".ogg", ".oga", ".opus", ".flac", ".wav", ".aif",
                  ".aiff", ".wma", ".webm", ".mka", ".mp4")
"""Files taken from a music folder."""


def playlist(paths: Sequence[str | Path]) -> tuple[Path, ...]:
    """Music files in play order: files as given, folders expanded to their audio files
    sorted by name. A missing file or an empty folder is an error."""
    files: list[Path] = []
    for given in paths:
        path = Path(given)
        if not str(given).strip():
            raise InputError(f"{setting('music')}: give a music file or folder, not an empty "
                             "name")
        if path.is_dir():
            found = sorted(p for p in path.iterdir()
                           if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES)
            if not found:
                raise InputError(f"{setting('music')} {path}: the folder has no audio files "
                                 f"({', '.join(AUDIO_SUFFIXES[:6])}, …)")
            files += found
        elif path.is_file():
            files.append(path)
        elif path.exists():
            raise InputError(f"{setting('music')} {path}: not an audio file or a folder")
        else:
            raise InputError(f"{setting('music')} {path}: no such file or folder")
    return tuple(files)


def check_music(files: Sequence[Path], rate: int) -> None:
    """Fail now, before anything is written, if a music file is not audio ffmpeg can read."""
    for path in files:
        try:
            blocks = decode_stream(path, rate, 2, block=rate)
            first = next(blocks, None)
            blocks.close()
        except AudioError as exc:
            raise InputError(f"{setting('music')} {path}: not audio ffmpeg can read "
                             f"({exc})") from None
        if first is None or len(first) < rate // 10:
            raise InputError(f"{setting('music')} {path}: too short to play under a routine "
                             "(less than a tenth of a second)")


def duck_intervals(plan: Plan, rate: int) -> np.ndarray:
    """Sample spans (start, end), one row each, of everything spoken or sounded: where the
    music ducks."""
    return np.array([(sample_index(s.start_ms, rate), sample_index(s.end_ms, rate))
                     for s in plan.segments if s.kind != "silence"],
                    dtype=np.int64).reshape(-1, 2)


def duck_gains(intervals: np.ndarray | Sequence[tuple[int, int]], start: int, count: int,
               rate: int, depth_db: float) -> np.ndarray:
    """The music's gain for samples `start` … `start + count`: 1 between cues, `depth_db`
    under them, with raised-cosine ramps of `DUCK_RAMP_MS` ending as each cue begins and
    starting as it ends. `intervals` are sorted (start, end) sample spans."""
    ramp = DUCK_RAMP_MS * rate // 1000
    floor = 10 ** (-depth_db / 20)
    gains = np.ones(count)
    t = np.arange(start, start + count)
    spans = np.asarray(intervals).reshape(-1, 2)
    low = np.searchsorted(spans[:, 1], start - ramp)  # called per block: no list rebuilt
    for begin, end in spans[low:]:
        if begin - ramp >= start + count:
            break
        # further than a ramp from the cue the gain it asks for is 1: only nearer is worked out
        near = slice(max(begin - ramp - start, 0), max(min(end + ramp + 1 - start, count), 0))
        around = t[near]
        distance = np.maximum(np.maximum(begin - around, around - end), 0) / ramp
        shape = 0.5 - 0.5 * np.cos(np.pi * np.minimum(distance, 1.0))
        np.minimum(gains[near], floor + (1 - floor) * shape, out=gains[near])
    return gains


class MusicFiles:
    """The music files, each decoded once (at the track's rate, into a temporary folder) and
    its loudness measured on the way: the bed is played twice, measured and then mixed, and
    loops, and ffmpeg would otherwise decode every file again each time round (and start
    again for each). Past `MAX_KEPT_BYTES` of decoded music, files are decoded each time."""

    def __init__(self, rate: int):
        self.rate = rate
        self.lufs: dict[Path, float] = {}
        self.steps: dict[Path, dict[int, np.ndarray]] = {}
        """Each file's K-weighted energy per 100 ms, in stereo and as the centre (mono)."""
        self.length: dict[Path, int] = {}
        """Each file's length in frames at the track's rate."""
        self.kept: dict[Path, Path] = {}
        self.size = 0
        self._folder: tempfile.TemporaryDirectory | None = None

    def loudness(self, path: Path) -> float:
        """Integrated loudness of the file, as decoded."""
        self._load(path)
        return self.lufs[path]

    def blocks(self, path: Path) -> Iterator[np.ndarray]:
        """The file as int16 stereo blocks at the track's rate."""
        kept = self._load(path)
        if kept is None:
            yield from self._decode(path)
            return
        with open(kept, "rb") as decoded:
            while data := decoded.read(MIX_BLOCK * 4):
                yield np.frombuffer(data, dtype="<i2").reshape(-1, 2)

    def close(self) -> None:
        """Remove the decoded files (also done when this is garbage-collected)."""
        if self._folder is not None:
            self._folder.cleanup()
            self._folder, self.kept = None, {}

    def _load(self, path: Path) -> Path | None:
        if path in self.lufs:
            return self.kept.get(path)
        meter, centre = StepMeter(self.rate, 2), StepMeter(self.rate, 1)
        kept = None
        if self.size < MAX_KEPT_BYTES:
            if self._folder is None:
                self._folder = tempfile.TemporaryDirectory(prefix="routinecast-music-")
            kept = Path(self._folder.name) / f"{len(self.kept)}.pcm"
        with open(kept, "wb") if kept else _nowhere() as out:
            for block in self._decode(path):
                meter.add(block)
                centre.add(block.mean(axis=1) / 32768)
                self.length[path] = self.length.get(path, 0) + len(block)
                if kept:
                    out.write(block.tobytes())
                    self.size += block.nbytes
        self.lufs[path] = meter.integrated()
        self.steps[path] = {2: meter.steps, 1: centre.steps}
        if self.lufs[path] <= SILENT:
            raise InputError(f"{setting('music')} {path}: the file is silent")
        if kept:
            self.kept[path] = kept
        return kept

    def _decode(self, path: Path) -> Iterator[np.ndarray]:
        try:
            yield from decode_stream(path, self.rate, 2)
        except AudioError as exc:
            raise InputError(f"{setting('music')} {path}: not audio ffmpeg can read "
                             f"({exc})") from None


def _nowhere():
    return open(os.devnull, "wb")


class MusicBed:
    """The music under a plan: the playlist looped to the track's length, each file at the
    same loudness, faded in and out, ducked under speech and cue sounds."""

    def __init__(self, files: Sequence[Path], plan: Plan, rate: int, level_lufs: float,
                 duck_db: float, ceiling_db: float = 0.0, decoded: MusicFiles | None = None):
        self.files, self.rate, self.duck_db = tuple(files), rate, duck_db
        self.ceiling_db = ceiling_db
        self.level_lufs = level_lufs
        self.total = sample_index(plan.duration_ms, rate)
        self.intervals = duck_intervals(plan, rate)
        self.decoded = decoded or MusicFiles(rate)

    def _loudness(self, path: Path) -> float:
        return self.decoded.loudness(path)

    def _decode(self, path: Path) -> Iterator[np.ndarray]:
        return self.decoded.blocks(path)

    def _looped(self) -> Iterator[np.ndarray]:
        """The playlist, round and round, each file levelled, faded at its ends, and
        overlapped with the next by the length of the fades, so that no join leaves a gap."""
        edge = MUSIC_EDGE_MS * self.rate // 1000
        carry = np.zeros((0, 2))
        while True:
            played = 0
            for path in self.files:
                gain = 10 ** ((self.level_lufs - self._loudness(path)) / 20)
                song = _faded((block.astype(np.float64) * (gain / 32768)
                               for block in self._decode(path)), edge)
                while True:
                    try:
                        block = next(song)
                    except StopIteration as end:
                        carry = end.value if end.value is not None else carry
                        break
                    if len(carry):
                        block = block.copy()
                        block[: len(carry)] += carry
                        carry = np.zeros((0, 2))
                    played += len(block)
                    yield block
            if not played:
                raise InputError(f"{setting('music')}: {', '.join(str(p) for p in self.files)}: "
                                 "too short "
                                 f"to loop (at least {2 * MUSIC_EDGE_MS} ms of sound)")

    def estimated_steps(self, channels: int) -> np.ndarray:
        """`steps`, worked out from each file's own energy per 100 ms (measured when it was
        decoded) and the bed's envelope (level, fades, ducking), without playing the bed:
        what the calibration needs. It is close, not exact (a file's steps fall across the
        track's, the limiter is not run): the meter over the encoded stream has the last
        word (see `Calibrated.corrected` in track.py)."""
        step = self.rate // 10
        count = -(-self.total // step)
        edge = MUSIC_EDGE_MS * self.rate // 1000
        lengths = np.array([self.decoded.length[path] if self._loudness(path) else 0
                            for path in self.files])
        played = np.maximum(lengths - edge, 0)  # each overlaps the next by a fade
        period = int(played.sum())
        if period <= 0:
            return np.zeros(count)
        starts = np.concatenate([[0], np.cumsum(played)[:-1]])
        points = 30  # envelope and music looked up 30 times a step
        gains = [10 ** ((self.level_lufs - self._loudness(path)) / 20) for path in self.files]
        steps = np.zeros(count)
        for first in range(0, count, ESTIMATE_STEPS):  # a few minutes at a time: flat memory
            last = min(first + ESTIMATE_STEPS, count)
            t = (np.arange(first * points, last * points) + 0.5) * (step / points)
            where = np.minimum(t, self.total - 1)
            within = np.mod(where, period)
            which = np.searchsorted(starts, within, side="right") - 1
            density = np.zeros(len(t))
            for number, path in enumerate(self.files):
                chosen = which == number
                energy = self.decoded.steps[path][channels]
                index = np.minimum(((within[chosen] - starts[number]) // step)
                                   .astype(np.int64), len(energy) - 1)
                density[chosen] = energy[index] / step * gains[number] ** 2
            envelope = self._envelope_at(where)
            energy = density * envelope * envelope * (step / points)
            energy[t >= self.total] = 0.0
            steps[first:last] = energy.reshape(last - first, points).sum(axis=1)
        return steps

    def _envelope_at(self, t: np.ndarray) -> np.ndarray:
        """The bed's gain at sample positions `t` (sorted): the fades and the ducking of
        `_shaped`, at those points alone."""
        ramp = DUCK_RAMP_MS * self.rate // 1000
        floor = 10 ** (-self.duck_db / 20)
        spans = self.intervals
        distance = np.full(len(t), np.inf)
        if len(spans):
            after = np.minimum(np.searchsorted(spans[:, 1], t), len(spans) - 1)
            distance = np.maximum(spans[after, 0] - t, 0)
            distance = np.where(t > spans[after, 1], t - spans[after, 1], distance)
            before = np.maximum(after - 1, 0)
            distance = np.minimum(distance, np.where(t > spans[before, 1],
                                                     t - spans[before, 1], distance))
        shape = 0.5 - 0.5 * np.cos(np.pi * np.minimum(distance / ramp, 1.0))
        gains = floor + (1 - floor) * shape
        fade_in = MUSIC_FADE_IN_MS * self.rate // 1000
        fade_out = MUSIC_FADE_OUT_MS * self.rate // 1000
        gains *= np.clip(t / max(fade_in, 1), 0.0, 1.0)
        gains *= np.clip((self.total - t) / max(fade_out, 1), 0.0, 1.0)
        return gains

    def steps(self, channels: int) -> np.ndarray:
        """K-weighted energy of each 100 ms step of the bed as it will be mixed into
        `channels` channels (one pass over the music, never held whole)."""
        meter = StepMeter(self.rate, channels)
        for block in self.blocks():
            meter.add(block if channels == 2 else block.mean(axis=1))
        return meter.steps.copy()

    def blocks(self) -> Iterator[np.ndarray]:
        """Float stereo blocks of the bed, exactly the track's length in all, true peaks
        under the ceiling (so that what is measured of it is what is heard)."""
        return limited(reblocked(self._shaped(), MIX_BLOCK), self.rate, self.ceiling_db)

    def _shaped(self) -> Iterator[np.ndarray]:
        fade_in = MUSIC_FADE_IN_MS * self.rate // 1000
        fade_out = MUSIC_FADE_OUT_MS * self.rate // 1000
        position = 0
        for music in self._looped():
            if position >= self.total:
                return
            music = music[: self.total - position]
            t = np.arange(position, position + len(music))
            envelope = duck_gains(self.intervals, position, len(music), self.rate,
                                  self.duck_db)
            if position < fade_in:  # elsewhere the fades are 1: nothing to multiply by
                envelope *= np.clip(t / max(fade_in, 1), 0.0, 1.0)
            if position + len(music) > self.total - fade_out:
                envelope *= np.clip((self.total - t) / max(fade_out, 1), 0.0, 1.0)
            yield music * envelope[:, None]
            position += len(music)


def _faded(blocks: Iterator[np.ndarray], edge: int):
    """Stereo `blocks` with raised-cosine fades of `edge` samples at both ends. Yields all
    but the faded-out last `edge` samples, which it returns for the caller to overlap with
    what follows; a sound shorter than two fades yields nothing and returns None."""
    ramp = 0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, edge, endpoint=False))[:, None]
    position, held = 0, np.zeros((0, 2))
    for block in blocks:
        if position < edge:
            block = block.copy()
            head = min(edge - position, len(block))
            block[:head] *= ramp[position: position + head]
        position += len(block)
        held = np.concatenate([held, block])
        if position >= 2 * edge and len(held) > edge:
            yield held[:-edge]
            held = held[-edge:]
    if position < 2 * edge:
        return None
    return held * ramp[::-1]
