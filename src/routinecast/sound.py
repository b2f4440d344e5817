"""The sound of the track: cue sounds, levels, clean joins, the music bed and the final mix.

Every speech clip is brought to the same loudness and every cue sound to a fixed distance
under it, with soft edges and under the true-peak ceiling. The music bed loops under the
whole track, fades in and out, and ducks under everything spoken or sounded. A first pass
measures the finished mix; the second, corrected to the loudness target, is what gets
encoded, and is measured again on the way.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from itertools import chain
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Mapping, Sequence

import numpy as np

from .errors import AudioError, InputError, RoutineError
from .ffmpeg import decode_pcm, decode_stream, encode_mp3
from .loudness import (DUAL_MONO, SILENT, Meter, Peaks, fade_edges, gated, integrated,
                       k_energy, limiter_gain, oversampled_peaks, step_energies)
from .models import SOUND_NAMES, Plan, Routine
from .render import render, sample_index
from .tones import tone

FADE_MS = 5
"""Fade at both edges of every clip and cue sound, so that no join clicks."""
TONE_LU = -4.0
"""Cue sounds sit this far under the speech: clearly heard, never startling."""
ENCODER_MARGIN_DB = 0.5
"""Clips are limited this far under the true-peak target: MP3 encoding adds overshoot."""
MIX_MARGIN_DB = 1.5
"""With music, the mix is limited this far under the true-peak target: percussive music
gains up to about a decibel of overshoot in a 128 kbit/s encoder."""
MAX_MISS_LU = 0.9
"""A track further than this from its loudness target is refused rather than written."""
CALIBRATION_ROUNDS = 8
"""Most corrections of the speech level towards the target (each a cheap computation)."""
MIX_BLOCK = 1 << 16
"""Frames the music mix is limited in at a time."""
MIN_MUSIC_DUCK_DB = 10.0
"""The music stays at least this far under the speech while speech plays."""
PROBE_MS = 20_000
"""Speech encoded to learn what the encoder does to the level."""
MAX_SOUND_MS = 3_000
"""Longest cue sound file; a countdown beep must also leave room in its second."""
MAX_BEEP_MS = 900
DUCK_RAMP_MS = 200
"""How long the music takes to dip under speech and to come back."""
MUSIC_FADE_IN_MS = 3_000
MUSIC_FADE_OUT_MS = 5_000
MUSIC_EDGE_MS = 30
"""Fade at both ends of each music file, so that the loop and the playlist join softly."""
LOUDNESS_RANGE = (-30.0, -12.0)
"""Loudness targets accepted, in LUFS."""
AUDIO_SUFFIXES = (".mp3", ".m4a", ".aac", ".ogg", ".oga", ".opus", ".flac", ".wav", ".aif",
                  ".aiff", ".wma", ".webm", ".mka", ".mp4")
"""Files taken from a music folder."""


@dataclass(frozen=True)
class SoundSettings:
    """How the finished track sounds."""

    loudness_lufs: float = -16.0
    """Integrated loudness as a listener on two speakers hears it: for a mono file, measured
    with BS.1770's dual-mono rule (the plain measurement then reads 3 LU lower)."""
    true_peak_db: float = -1.0
    """Highest true peak allowed, in dBTP."""
    music: tuple[Path, ...] = ()
    """Music bed: audio files, played in order and looped; empty for none."""
    music_level_lu: float = -18.0
    """Level of the music bed, between cues, relative to the speech."""
    duck_db: float = 12.0
    """How far the music dips under speech and cue sounds."""
    stereo: bool | None = None
    """Two channels (music in stereo, voice centred) or one; None: stereo with music."""

    @property
    def channels(self) -> int:
        return 2 if self.stereo or (self.stereo is None and self.music) else 1


@dataclass(frozen=True)
class Measured:
    """What the meter read on the mix that was encoded."""

    loudness_lufs: float
    """Integrated loudness, as `SoundSettings.loudness_lufs` defines it, of the mix (computed
    from its clips' and music's energy) with the encoder's measured effect added."""
    true_peak_db: float
    """Highest true peak of the voice and cue sounds, before encoding (with music, the mix
    is limited to the same ceiling)."""


# -- cue sounds --------------------------------------------------------------------------


def cue_sounds(routine: Routine, rate: int) -> dict[str, np.ndarray]:
    """Each cue sound the routine uses, as float samples: the built-in tone, or its file
    decoded. A file that cannot be used is an error naming the key."""
    sounds = {}
    for name in SOUND_NAMES:
        choice = getattr(routine.defaults.sounds, name)
        if choice == "off":
            continue
        if choice == "on":
            sounds[name] = tone(name, rate)
            continue
        where = f"defaults.sounds.{name}: {Path(choice).name}"
        try:
            samples = decode_pcm(Path(choice), rate).astype(np.float64) / 32768
        except AudioError as exc:
            raise RoutineError(f"{where} is not audio ffmpeg can read ({exc})",
                               routine.path) from None
        limit_ms = MAX_BEEP_MS if name == "count" else MAX_SOUND_MS
        if len(samples) * 1000 > limit_ms * rate:
            raise RoutineError(f"{where} lasts {len(samples) / rate:.1f}s; the {name} sound "
                               f"must last at most {limit_ms / 1000:g}s", routine.path)
        if not np.any(samples):
            raise RoutineError(f"{where} is silent", routine.path)
        sounds[name] = samples
    return sounds


def sound_lengths(sounds: Mapping[str, np.ndarray], rate: int) -> dict[str, int]:
    """Length in ms of each cue sound, 0 for those turned off: what the planner needs."""
    return {name: -(-len(sounds[name]) * 1000 // rate) if name in sounds else 0
            for name in SOUND_NAMES}


# -- levels ------------------------------------------------------------------------------


class _Clip:
    """One clip or cue sound, measured once so that it can be levelled to any loudness.

    Holds the samples as given (int16 for speech) and the loud samples' peaks only: a long
    routine has minutes of distinct speech, and float copies of it would not stay small.
    """

    def __init__(self, samples: np.ndarray, rate: int):
        self.samples, self.rate = samples, rate
        shaped = self._shaped()
        self.lufs = integrated(shaped, rate)
        self.peaks = Peaks.of(shaped)

    def _shaped(self) -> np.ndarray:
        scale = 1 / 32768 if self.samples.dtype == np.int16 else 1.0
        return fade_edges(self.samples.astype(np.float64) * scale, self.rate, FADE_MS)

    def at(self, lufs: float, ceiling_db: float) -> tuple[np.ndarray, float, float]:
        """int16 samples at `lufs`, true peaks limited to `ceiling_db`; the true peak; and
        the fraction of the energy the limiter left (1.0 when it did nothing)."""
        gain = 10 ** ((lufs - self.lufs) / 20) if self.lufs > SILENT else 1.0
        envelope = limiter_gain(self.peaks, gain, self.rate, ceiling_db)
        levelled = self._shaped() * gain
        peak, kept = self.peaks.top * gain, 1.0
        if envelope is not None:
            before = float(np.dot(levelled, levelled))
            levelled *= envelope
            kept = float(np.dot(levelled, levelled)) / before if before else 1.0
            peak = float((self.peaks.value * gain * envelope[self.peaks.at]).max())
        samples = np.round(np.clip(levelled, -1.0, 32767 / 32768) * 32768).astype(np.int16)
        return samples, 20 * np.log10(peak) if peak > 0 else SILENT, kept


class _Levelled:
    """Clips and cue sounds at a given speech loudness, measured once and levelled on demand."""

    def __init__(self, clips: Mapping[str, np.ndarray], sounds: Mapping[str, np.ndarray],
                 rate: int, ceiling_db: float):
        self.rate, self.ceiling = rate, ceiling_db
        self.speech = {text: _Clip(clip, rate) for text, clip in clips.items()}
        self.sounds = {name: _Clip(np.asarray(x, dtype=np.float64), rate)
                       for name, x in sounds.items()}

    def at(self, speech_lufs: float) -> "Levels":
        """Every speech clip levelled to `speech_lufs` and limited; the cue sounds `TONE_LU`
        under the speech as the limiter left it, so that loud targets keep the balance."""
        speech, peak, before, after = {}, SILENT, 0.0, 0.0
        for key, clip in self.speech.items():
            speech[key], clip_peak, kept = clip.at(speech_lufs, self.ceiling)
            peak = max(peak, clip_peak)
            before, after = before + len(speech[key]), after + len(speech[key]) * kept
        actual = speech_lufs + (10 * np.log10(after / before) if before else 0.0)
        sounds = {}
        for key, clip in self.sounds.items():
            sounds[key], clip_peak, _ = clip.at(actual + TONE_LU, self.ceiling)
            peak = max(peak, clip_peak)
        return Levels(speech, sounds, peak, actual)


@dataclass(frozen=True)
class Levels:
    """The clips and cue sounds at one speech level, ready to render."""

    speech: dict[str, np.ndarray]
    """int16 speech clips by text."""
    sounds: dict[str, np.ndarray]
    """int16 cue sounds by name."""
    peak_db: float
    """Highest true peak among them."""
    speech_lufs: float
    """Loudness of the speech as limited (what the tones and the music are set against)."""


def voice_steps(plan: Plan, speech: Mapping[str, np.ndarray],
                sounds: Mapping[str, np.ndarray], rate: int) -> np.ndarray:
    """K-weighted energy of each 100 ms step of the voice-and-cues track of `plan`, from each
    distinct clip's energy rather than by filtering the whole track: the clips follow each
    other, and the filter's ringing past a clip's end is negligible."""
    step = rate // 10
    steps = np.zeros(sample_index(plan.duration_ms, rate) // step + 1)
    sounding = [(s.kind, s.text if s.kind == "speech" else s.label)
                for s in plan.segments if s.kind != "silence"]
    # only what recurs (countdown words, tones) is kept: most instructions are said once
    recurring = {key for key, count in Counter(sounding).items() if count > 1}
    energies: dict[tuple[str, str], np.ndarray] = {}
    for segment in plan.segments:
        if segment.kind == "silence":
            continue
        key = (segment.kind, segment.text if segment.kind == "speech" else segment.label)
        energy = energies.get(key)
        if energy is None:
            samples = speech[key[1]] if segment.kind == "speech" else sounds[key[1]]
            energy = k_energy(samples.astype(np.float64) / 32768, rate)
            if key in recurring:
                energies[key] = energy
        start = sample_index(segment.start_ms, rate)
        length = sample_index(segment.end_ms, rate) - start
        step_energies(energy[:length], start, step, steps)
    return steps


# -- the music bed -----------------------------------------------------------------------


def playlist(paths: Sequence[str | Path]) -> tuple[Path, ...]:
    """Music files in play order: files as given, folders expanded to their audio files
    sorted by name. A missing file or an empty folder is an error."""
    files: list[Path] = []
    for given in paths:
        path = Path(given)
        if not str(given).strip():
            raise InputError("--music: give a music file or folder, not an empty name")
        if path.is_dir():
            found = sorted(p for p in path.iterdir()
                           if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES)
            if not found:
                raise InputError(f"--music {path}: the folder has no audio files "
                                 f"({', '.join(AUDIO_SUFFIXES[:6])}, …)")
            files += found
        elif path.is_file():
            files.append(path)
        elif path.exists():
            raise InputError(f"--music {path}: not an audio file or a folder")
        else:
            raise InputError(f"--music {path}: no such file or folder")
    return tuple(files)


def check_music(files: Sequence[Path], rate: int) -> None:
    """Fail now, before anything is written, if a music file is not audio ffmpeg can read."""
    for path in files:
        try:
            blocks = decode_stream(path, rate, 2, block=rate)
            first = next(blocks, None)
            blocks.close()
        except AudioError as exc:
            raise InputError(f"--music {path}: not audio ffmpeg can read ({exc})") from None
        if first is None or len(first) < rate // 10:
            raise InputError(f"--music {path}: too short to play under a routine "
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
        distance = np.maximum(np.maximum(begin - t, t - end), 0) / ramp
        shape = 0.5 - 0.5 * np.cos(np.pi * np.minimum(distance, 1.0))
        np.minimum(gains, floor + (1 - floor) * shape, out=gains)
    return gains


class MusicBed:
    """The music under a plan: the playlist looped to the track's length, each file at the
    same loudness, faded in and out, ducked under speech and cue sounds."""

    def __init__(self, files: Sequence[Path], plan: Plan, rate: int, level_lufs: float,
                 duck_db: float, ceiling_db: float = 0.0):
        self.files, self.rate, self.duck_db = tuple(files), rate, duck_db
        self.ceiling_db = ceiling_db
        self.level_lufs = level_lufs
        self.total = sample_index(plan.duration_ms, rate)
        self.intervals = duck_intervals(plan, rate)
        self.file_lufs: dict[Path, float] = {}

    def _loudness(self, path: Path) -> float:
        if path not in self.file_lufs:
            meter = Meter(self.rate, 2)
            for block in self._decode(path):
                meter.add(block.astype(np.float64) / 32768)
            self.file_lufs[path] = meter.integrated()
            if self.file_lufs[path] <= SILENT:
                raise InputError(f"--music {path}: the file is silent")
        return self.file_lufs[path]

    def _decode(self, path: Path) -> Iterator[np.ndarray]:
        try:
            yield from decode_stream(path, self.rate, 2)
        except AudioError as exc:
            raise InputError(f"--music {path}: not audio ffmpeg can read ({exc})") from None

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
                raise InputError(f"--music: {', '.join(str(p) for p in self.files)}: too short "
                                 f"to loop (at least {2 * MUSIC_EDGE_MS} ms of sound)")

    def steps(self, channels: int) -> np.ndarray:
        """K-weighted energy of each 100 ms step of the bed as it will be mixed into
        `channels` channels (one pass over the music, never held whole)."""
        meter = Meter(self.rate, channels)
        for block in self.blocks():
            meter.add(block if channels == 2 else block.mean(axis=1))
        return meter.steps.copy()

    def blocks(self) -> Iterator[np.ndarray]:
        """Float stereo blocks of the bed, exactly the track's length in all, true peaks
        under the ceiling (so that what is measured of it is what is heard)."""
        return _limited(_reblocked(self._shaped(), MIX_BLOCK), self.rate, self.ceiling_db)

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
            envelope *= np.clip(t / max(fade_in, 1), 0.0, 1.0)
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


def _take(source: Iterator[np.ndarray], count: int, buffer: list[np.ndarray]) -> np.ndarray:
    """The next `count` frames of `source`, keeping what is left over in `buffer`."""
    parts, have = [], 0
    while have < count:
        block = buffer.pop() if buffer else next(source)
        need = count - have
        if len(block) > need:
            buffer.append(block[need:])
            block = block[:need]
        parts.append(block)
        have += len(block)
    return np.concatenate(parts) if len(parts) > 1 else parts[0]


# -- the mix -----------------------------------------------------------------------------


def mix(plan: Plan, levels: "Levels", rate: int, channels: int, bed: MusicBed | None,
        ceiling_db: float = 0.0) -> Iterator[np.ndarray]:
    """The finished track as int16 blocks: mono as rendered, or stereo with the voice in
    the centre; with the music bed under it, the sum is held under `ceiling_db` true peak
    (the clips alone are limited already)."""
    blocks = render(plan, levels.speech, levels.sounds, rate)
    if channels == 1 and bed is None:
        yield from blocks
        return
    if bed is None:
        for block in blocks:
            yield np.repeat(block[:, None], channels, axis=1)
        return
    music, left = bed.blocks(), []

    def mixed() -> Iterator[np.ndarray]:
        for block in blocks:
            bed_block = _take(music, len(block), left)
            if channels == 1:
                bed_block = bed_block.mean(axis=1, keepdims=True)
            yield block[:, None] / 32768 + bed_block

    for block in _limited(_reblocked(mixed(), MIX_BLOCK), rate, ceiling_db):
        yield np.clip(np.round(block * 32768), -32768, 32767).astype(np.int16)


def _reblocked(blocks: Iterator[np.ndarray], size: int) -> Iterator[np.ndarray]:
    """The same samples in blocks of exactly `size` frames (the last may be shorter)."""
    buffer, have = [], 0
    for block in blocks:
        buffer.append(block)
        have += len(block)
        if have >= size:
            joined = np.concatenate(buffer)
            whole = len(joined) - len(joined) % size
            yield from (joined[i: i + size] for i in range(0, whole, size))
            buffer, have = [joined[whole:]], len(joined) - whole
    if have:
        yield np.concatenate(buffer)


def _limited(blocks: Iterator[np.ndarray], rate: int, ceiling_db: float) -> Iterator[np.ndarray]:
    """`blocks` (float, shape (n, channels), all but the last at least `context` long) with
    true peaks held under `ceiling_db` by the clips' limiter, run over each block together
    with its neighbours' edges; the output runs one block behind the input."""
    ceiling = 10 ** (ceiling_db / 20)
    context = 2 * max(1, rate // 200) + 64
    before = current = None
    for following in chain(blocks, [None]):
        if current is not None:
            tail = before if before is not None else current[:0]
            head = following[:context] if following is not None else current[:0]
            window = np.concatenate([tail, current, head])
            out = current
            # a true peak is well under 1.5 times the sample peak: quiet blocks pass as they are
            if np.abs(window).max(initial=0.0) * 1.5 > ceiling:
                peaks = np.max([oversampled_peaks(window[:, c]) for c in range(window.shape[1])],
                               axis=0)
                every = Peaks(len(window), np.arange(len(window), dtype=np.int32),
                              peaks.astype(np.float32))
                gain = limiter_gain(every, 1.0, rate, ceiling_db)
                if gain is not None:
                    out = current * gain[len(tail): len(tail) + len(current), None]
            yield out
            before = current[-context:]
        current = following


class Track:
    """A plan's finished sound: levelled, mixed and corrected to the loudness target."""

    def __init__(self, plan: Plan, clips: Mapping[str, np.ndarray],
                 sounds: Mapping[str, np.ndarray], rate: int, settings: SoundSettings):
        self.plan, self.rate, self.settings = plan, rate, settings
        self.channels = settings.channels
        self.ceiling = settings.true_peak_db - (MIX_MARGIN_DB if settings.music
                                                else ENCODER_MARGIN_DB)
        if settings.music and settings.duck_db - settings.music_level_lu < MIN_MUSIC_DUCK_DB:
            raise InputError(
                f"--music-level {settings.music_level_lu:g} with --duck {settings.duck_db:g} "
                f"would leave the music {settings.duck_db - settings.music_level_lu:g} dB under "
                f"the speech; keep it at least {MIN_MUSIC_DUCK_DB:g} dB under (the defaults, "
                "-18 and 12, leave 30)")
        self.levels = _Levelled(clips, sounds, rate, self.ceiling)
        # what BS.1770 must read on this file for listeners to hear the target
        self.target = settings.loudness_lufs - (DUAL_MONO if self.channels == 1 else 0.0)
        # the voice is centred: in stereo each channel carries it, so it reads as dual mono
        self.speech_lufs = settings.loudness_lufs - DUAL_MONO
        self.music_files = playlist(settings.music) if settings.music else ()
        self.encoder_db = 0.0
        self.measured: Measured | None = None
        self._music_steps: np.ndarray | None = None
        self._calibrated: Levels | None = None
        self._music_reference = 0.0

    def _bed(self, levels: Levels) -> MusicBed | None:
        if not self.music_files:
            return None
        return MusicBed(self.music_files, self.plan, self.rate,
                        levels.speech_lufs + self.settings.music_level_lu, self.settings.duck_db,
                        self.ceiling)

    def _loudness(self, levels: Levels) -> float:
        """Loudness as BS.1770 reads this file with the clips at `levels`, from the
        K-weighted energy of every 100 ms: the voice's from its clips, the music's from one
        pass over the bed, added (the two are unrelated)."""
        # a centred voice is in both channels of a stereo file
        steps = voice_steps(self.plan, levels.speech, levels.sounds, self.rate) * self.channels
        if self.music_files:
            if self._music_steps is None:
                self._music_reference = levels.speech_lufs
                self._music_steps = self._bed(levels).steps(self.channels)
            scale = 10 ** ((levels.speech_lufs - self._music_reference) / 10)
            count = min(len(steps), len(self._music_steps))
            steps[:count] += self._music_steps[:count] * scale
        return gated(steps, self.rate // 10, sample_index(self.plan.duration_ms, self.rate))

    def calibrate(self, bitrate_kbps: int) -> None:
        """Move speech and music together onto the loudness target, then make up for what
        MP3 encoding at `bitrate_kbps` takes off the level (LAME quantises a few tenths of
        a dB away at low bitrates). A target the limiter cannot reach without crushing the
        speech is an error."""
        # the limiter makes loudness grow slower than gain: step by the slope seen so far
        slope, last = 1.0, None
        for _ in range(CALIBRATION_ROUNDS):
            level = self._loudness(self.levels.at(self.speech_lufs))
            if level <= SILENT or abs(self.target - level) < 0.05:
                break
            if last is not None and self.speech_lufs != last[0]:
                slope = min(1.0, max(0.2, (level - last[1]) / (self.speech_lufs - last[0])))
            last = (self.speech_lufs, level)
            self.speech_lufs += (self.target - level) / slope
        self.encoder_db = self._encoder_loss(bitrate_kbps)
        self.speech_lufs -= self.encoder_db
        levels = self._calibrated = self.levels.at(self.speech_lufs)
        level = self._loudness(levels)
        listened = level + (DUAL_MONO if self.channels == 1 else 0.0) + self.encoder_db
        self.measured = Measured(round(listened, 2), round(levels.peak_db, 2))
        wanted = self.settings.loudness_lufs
        if level > SILENT and abs(listened - wanted) > MAX_MISS_LU:
            raise InputError(f"loudness {wanted:g} LUFS is out of reach: with true peaks under "
                             f"{self.settings.true_peak_db:g} dBTP this track gets to "
                             f"{listened:.1f} LUFS; choose a quieter --loudness")

    def _encoder_loss(self, bitrate_kbps: int) -> float:
        """How many dB the encoder changes the loudness of this track's speech, measured on
        `PROBE_MS` of it encoded and decoded."""
        speech = self.levels.at(self.speech_lufs).speech
        probe, length = [], 0
        for clip in sorted(speech.values(), key=len, reverse=True):
            if length >= PROBE_MS * self.rate // 1000:
                break
            probe.append(clip)
            length += len(clip)
        if not probe:
            return 0.0
        pcm = np.repeat(np.concatenate(probe)[:, None], self.channels, axis=1)
        with tempfile.TemporaryDirectory() as folder:
            encoded = Path(folder) / "probe.mp3"
            encode_mp3([pcm], encoded, self.rate, bitrate_kbps, len(pcm),
                       channels=self.channels)
            decoded = decode_pcm(encoded, self.rate, self.channels)
        before = integrated(pcm.astype(np.float64) / 32768, self.rate)
        after = integrated(decoded.astype(np.float64) / 32768, self.rate)
        return after - before if before > SILENT and after > SILENT else 0.0

    def blocks(self) -> Iterator[np.ndarray]:
        """The mix at the calibrated level, as int16 blocks."""
        levels = self._calibrated or self.levels.at(self.speech_lufs)
        return mix(self.plan, levels, self.rate, self.channels, self._bed(levels),
                   self.ceiling)
