"""The sound of the track: cue sounds, levels, clean joins, the music bed and the final mix.

Every speech clip is brought to the same loudness and every cue sound to a fixed distance
under it, with soft edges and under the true-peak ceiling. The music bed loops under the
whole track, fades in and out, and ducks under everything spoken or sounded. The level is
set from figures measured once per clip (kept in the speech cache), without rendering or
filtering the track; the one pass that is encoded is metered on the way, and encoded again,
corrected, only if the meter reads it off the target.
"""

from __future__ import annotations

import os
import tempfile
from collections import Counter
from itertools import chain
from dataclasses import dataclass
from pathlib import Path
from typing import Collection, Iterator, Mapping, Sequence

from .errors import AudioError, InputError, RoutineError, setting
from .ffmpeg import decode_pcm, decode_stream
from .loudness import (DUAL_MONO, INTERPOLATION_REACH, SILENT, Figures, Peaks, StepMeter,
                       fade_edges, gated, interpolation_gain, k_energy, limiter_gain,
                       limiter_near, running_max, step_energies, true_peaks_at)
from .models import SOUND_NAMES, Plan, Routine
from .render import render, sample_index
from .tones import tone
from .lazy import lazy_module

np = lazy_module("numpy")  # see lazy.py: loaded when first used

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
ENCODER_DB = -0.44
"""What MP3 encoding changes the loudness of the levelled speech by, in LU: LAME takes a
few tenths of a dB off (measured by encoding and decoding each content routine: -0.433 to
-0.448 at 64, 96 and 160 kbit/s mono and 128 kbit/s stereo), so the mix is made that much
louder than the target."""
CHECK_LU = 0.1
"""The meter over the encoded stream may read this far off the level predicted from the
clips' figures before the level is corrected and the track encoded again."""
MAX_CORRECTIONS = 1
"""Encodes redone at most; one correction by what the meter read lands on the target."""
MIX_BLOCK = 1 << 14
"""Frames the music mix is limited in at a time."""
ESTIMATE_STEPS = 2048
"""100 ms steps of the music bed estimated at a time (see `MusicBed.estimated_steps`)."""
MAX_KEPT_BYTES = 1 << 30
"""Decoded music kept on disk for the length of a build, at most (about 100 minutes)."""
MIN_MUSIC_DUCK_DB = 10.0
"""The music stays at least this far under the speech while speech plays."""
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


def sound_files(routine: Routine) -> list[Path]:
    """The sound files the routine's cue sounds are made from (the built-in tones are not
    files): what a rebuild must look at to see whether they changed."""
    chosen = (getattr(routine.defaults.sounds, name) for name in SOUND_NAMES)
    return [Path(choice) for choice in chosen if choice not in ("on", "off")]


def sound_lengths(sounds: Mapping[str, np.ndarray], rate: int) -> dict[str, int]:
    """Length in ms of each cue sound, 0 for those turned off: what the planner needs."""
    return {name: -(-len(sounds[name]) * 1000 // rate) if name in sounds else 0
            for name in SOUND_NAMES}


# -- levels ------------------------------------------------------------------------------


def clip_figures(samples: np.ndarray, rate: int) -> Figures:
    """The `Figures` of a clip (int16) or cue sound (float) as it is levelled: with its
    edges faded. Measured once, when the clip is made, and kept in the speech cache."""
    scale = 1 / 32768 if samples.dtype == np.int16 else 1.0
    return Figures.of(fade_edges(samples.astype(np.float64) * scale, rate, FADE_MS), rate)


class _Clip:
    """One clip or cue sound with its `Figures`, levelled to any loudness without being
    measured again.

    Holds the samples as given (int16 for speech): a long routine has minutes of distinct
    speech, and float copies of it would not stay small.
    """

    def __init__(self, samples: np.ndarray, rate: int, figures: Figures | None = None):
        self.samples, self.rate = samples, rate
        self.figures = figures if figures is not None else clip_figures(samples, rate)
        self.lufs, self.peaks = self.figures.lufs, self.figures.peaks

    def _fade(self) -> np.ndarray:
        fade = min(FADE_MS * self.rate // 1000, len(self.samples) // 2)
        return 0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, fade, endpoint=False))

    def _shaped(self) -> np.ndarray:
        scale = 1 / 32768 if self.samples.dtype == np.int16 else 1.0
        return fade_edges(self.samples.astype(np.float64) * scale, self.rate, FADE_MS)

    def _shaped_at(self, indices: np.ndarray) -> np.ndarray:
        """`_shaped()[indices]`, without a float copy of the whole clip."""
        scale = 1 / 32768 if self.samples.dtype == np.int16 else 1.0
        part = self.samples[indices].astype(np.float64) * scale
        ramp = self._fade()
        if len(ramp):
            head, tail = indices < len(ramp), indices >= len(self.samples) - len(ramp)
            part[head] *= ramp[indices[head]]
            part[tail] *= ramp[::-1][indices[tail] - (len(self.samples) - len(ramp))]
        return part

    def gain(self, lufs: float) -> float:
        return 10 ** ((lufs - self.lufs) / 20) if self.lufs > SILENT else 1.0

    def effect(self, lufs: float, ceiling_db: float) -> tuple[float, float]:
        """What levelling to `lufs` under `ceiling_db` does, without making the samples:
        the true peak, and the fraction of the energy the limiter leaves (1.0 when it does
        nothing). Looks at the samples the limiter changes only."""
        gain = self.gain(lufs)
        near = limiter_near(self.peaks, gain, self.rate, ceiling_db)
        if near is None:
            peak = self.peaks.top * gain
            return (20 * np.log10(peak) if peak > 0 else SILENT), 1.0
        indices, envelope = near
        part = self._shaped_at(indices)
        lost = float(np.dot(part * part, 1.0 - envelope * envelope))
        total = self.figures.square_sum
        kept = 1.0 - lost / total if total else 1.0
        return self._peak_db(gain, near, ceiling_db), kept

    def _peak_db(self, gain: float, near: tuple[np.ndarray, np.ndarray],
                 ceiling_db: float) -> float:
        """The highest true peak once limited: the peaks the limiter acted on as it left
        them, the others as they were (those near a limited one, which the limiter also
        turned down a little, are counted at most at their own height: never more than the
        ceiling, so what is reported is at most that much high)."""
        indices, envelope = near
        values = self.peaks.value.astype(np.float64) * gain
        over = values > 10 ** (ceiling_db / 20)
        under = float(values[~over].max(initial=0.0))
        at = self.peaks.at[over].astype(np.int64)
        limited = float((values[over] * envelope[np.searchsorted(indices, at)]).max(initial=0.0))
        peak = max(under, limited)
        return 20 * np.log10(peak) if peak > 0 else SILENT

    def at(self, lufs: float, ceiling_db: float) -> np.ndarray:
        """int16 samples at `lufs`, true peaks limited to `ceiling_db` (what `effect` says
        of them, made)."""
        gain = self.gain(lufs)
        levelled = self._shaped() * gain
        near = limiter_near(self.peaks, gain, self.rate, ceiling_db)
        if near is not None:
            levelled[near[0]] *= near[1]
        return _int16(levelled)


def _int16(levelled: np.ndarray) -> np.ndarray:
    return np.round(np.clip(levelled, -1.0, 32767 / 32768) * 32768).astype(np.int16)


@dataclass(frozen=True)
class Effect:
    """What levelling the speech to one loudness does, computed without making the samples."""

    lufs: float
    """The level the speech was levelled to."""
    speech_lufs: float
    """Loudness of the speech as limited."""
    peak_db: float
    """Highest true peak of speech and cue sounds."""
    scales: dict[tuple[str, str], float]
    """For each clip (`("speech", text)`) and cue sound (`("sound", name)`), how much its
    measured energy is multiplied by: its gain squared, times the share the limiter leaves."""


class _Levelled:
    """Clips and cue sounds at a given speech loudness, from their figures, levelled on demand."""

    def __init__(self, clips: Mapping[str, np.ndarray], sounds: Mapping[str, np.ndarray],
                 rate: int, ceiling_db: float, figures: Mapping[str, Figures] | None = None,
                 sound_figures: Mapping[str, Figures] | None = None):
        self.rate, self.ceiling = rate, ceiling_db
        figures, sound_figures = figures or {}, sound_figures or {}
        self.speech = {text: _Clip(clip, rate, figures.get(text))
                       for text, clip in clips.items()}
        self.sounds = {name: _Clip(np.asarray(x, dtype=np.float64), rate,
                                   sound_figures.get(name)) for name, x in sounds.items()}

    def effect(self, speech_lufs: float) -> Effect:
        """`at`'s figures without its samples: what each calibration round needs."""
        scales, peak, before, after = {}, SILENT, 0.0, 0.0
        for key, clip in self.speech.items():
            clip_peak, kept = clip.effect(speech_lufs, self.ceiling)
            peak = max(peak, clip_peak)
            scales["speech", key] = clip.gain(speech_lufs) ** 2 * kept
            length = len(clip.samples)
            before, after = before + length, after + length * kept
        actual = speech_lufs + (10 * np.log10(after / before) if before else 0.0)
        for key, clip in self.sounds.items():
            clip_peak, kept = clip.effect(actual + TONE_LU, self.ceiling)
            peak = max(peak, clip_peak)
            scales["sound", key] = clip.gain(actual + TONE_LU) ** 2 * kept
        return Effect(speech_lufs, actual, peak, scales)

    def at(self, speech_lufs: float, effect: Effect | None = None,
           recurring: Collection[str] | None = None) -> "Levels":
        """Every speech clip levelled to `speech_lufs` and limited; the cue sounds `TONE_LU`
        under the speech as the limiter left it, so that loud targets keep the balance.

        The clips are levelled as the track asks for them, while the encoder works on what
        came before (`effect`, if given, is this level's, saving its computation); those
        said once are not kept once used when `recurring` names the others."""
        effect = effect or self.effect(speech_lufs)
        speech = _Levelling({key: (clip, speech_lufs) for key, clip in self.speech.items()},
                            self.ceiling, recurring)
        tones = effect.speech_lufs + TONE_LU
        sounds = _Levelling({key: (clip, tones) for key, clip in self.sounds.items()},
                            self.ceiling, None)
        return Levels(speech, sounds, effect.peak_db, effect.speech_lufs)


class _Levelling(Mapping):
    """Clips levelled when first asked for (see `_Levelled.at`)."""

    def __init__(self, clips: dict[str, tuple[_Clip, float]], ceiling_db: float,
                 recurring: Collection[str] | None):
        self.clips, self.ceiling, self.recurring = clips, ceiling_db, recurring
        self.done: dict[str, np.ndarray] = {}

    def __getitem__(self, key: str) -> np.ndarray:
        samples = self.done.get(key)
        if samples is None:
            clip, lufs = self.clips[key]
            samples = clip.at(lufs, self.ceiling)
            if self.recurring is None or key in self.recurring:
                self.done[key] = samples
        return samples

    def __iter__(self) -> Iterator[str]:
        return iter(self.clips)

    def __len__(self) -> int:
        return len(self.clips)


class _Booking:
    """Where the energy of each thing spoken or sounded falls among the track's 100 ms
    steps, at the level it was measured at: booked once from the clips' figures, then
    scaled by each calibration round's `Effect` (no filtering, no rendering)."""

    def __init__(self, plan: Plan, levels: _Levelled, rate: int):
        step = rate // 10
        self.count = sample_index(plan.duration_ms, rate) // step + 1
        self.keys: list[tuple[str, str]] = []
        numbers: dict[tuple[str, str], int] = {}
        steps, energies, owners = [], [], []
        for segment in plan.segments:
            if segment.kind == "silence":
                continue
            speech = segment.kind == "speech"
            key = ("speech", segment.text) if speech else ("sound", segment.label)
            clip = levels.speech[key[1]] if speech else levels.sounds[key[1]]
            start = sample_index(segment.start_ms, rate)
            length = min(sample_index(segment.end_ms, rate) - start, len(clip.samples))
            if length <= 0:
                continue
            bins = np.arange(start // step, (start + length - 1) // step + 1)
            low = np.maximum(bins * step, start) - start
            high = np.minimum((bins + 1) * step, start + length) - start
            steps.append(bins)
            energies.append(clip.figures.energy_between(low, high))
            owners.append(np.full(len(bins), numbers.setdefault(key, len(numbers))))
        self.keys = list(numbers)
        self.steps = np.concatenate(steps) if steps else np.zeros(0, dtype=np.int64)
        self.energies = np.concatenate(energies) if energies else np.zeros(0)
        self.owners = np.concatenate(owners) if owners else np.zeros(0, dtype=np.int64)

    def at(self, effect: Effect) -> np.ndarray:
        """K-weighted energy of each 100 ms step of the voice-and-cues track."""
        scales = np.array([effect.scales[key] for key in self.keys])
        weights = self.energies * scales[self.owners] if len(self.keys) else self.energies
        return np.bincount(self.steps, weights, minlength=self.count).astype(np.float64)


@dataclass(frozen=True)
class Levels:
    """The clips and cue sounds at one speech level, ready to render."""

    speech: Mapping[str, np.ndarray]
    """int16 speech clips by text."""
    sounds: Mapping[str, np.ndarray]
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
        word (see `Track.missed`)."""
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
    reach_gain = interpolation_gain() * (1 + 1e-9)  # and a hair for rounding
    before = current = None
    for following in chain(blocks, [None]):
        if current is not None:
            tail = before if before is not None else current[:0]
            head = following[:context] if following is not None else current[:0]
            window = np.concatenate([tail, current, head])
            out = current
            # a true peak is well under 1.5 times the sample peak: quiet blocks pass as they are
            if np.abs(window).max(initial=0.0) * 1.5 > ceiling:
                # only samples whose neighbourhood is loud enough can have a true peak over
                # the ceiling: the true peaks are worked out there alone (the limiter needs
                # no others), which leaves the gain exactly as if all had been
                loudest = running_max(np.abs(window).max(axis=1), 2 * INTERPOLATION_REACH + 1)
                suspects = np.flatnonzero(loudest * reach_gain > ceiling)
                gain = None
                if len(suspects):
                    every = Peaks(len(window), suspects.astype(np.int32),
                                  true_peaks_at(window, suspects).astype(np.float32))
                    gain = limiter_gain(every, 1.0, rate, ceiling_db)
                if gain is not None:
                    out = current * gain[len(tail): len(tail) + len(current), None]
            yield out
            before = current[-context:]
        current = following


class Track:
    """A plan's finished sound: levelled, mixed and corrected to the loudness target.

    The level is set from the clips' figures (no probe, nothing filtered); `blocks` meters
    the mix as it streams to the encoder, and `missed` says, after the stream, whether the
    meter read the level that was predicted, correcting it when it did not."""

    def __init__(self, plan: Plan, clips: Mapping[str, np.ndarray],
                 sounds: Mapping[str, np.ndarray], rate: int, settings: SoundSettings,
                 figures: Mapping[str, Figures] | None = None,
                 sound_figures: Mapping[str, Figures] | None = None):
        self.plan, self.rate, self.settings = plan, rate, settings
        self.channels = settings.channels
        self.ceiling = settings.true_peak_db - (MIX_MARGIN_DB if settings.music
                                                else ENCODER_MARGIN_DB)
        if settings.music and settings.duck_db - settings.music_level_lu < MIN_MUSIC_DUCK_DB:
            raise InputError(
                f"{setting('music_level')} {settings.music_level_lu:g} with {setting('duck')} "
                f"{settings.duck_db:g} "
                f"would leave the music {settings.duck_db - settings.music_level_lu:g} dB under "
                f"the speech; keep it at least {MIN_MUSIC_DUCK_DB:g} dB under (the defaults, "
                "-18 and 12, leave 30)")
        self.levels = _Levelled(clips, sounds, rate, self.ceiling, figures, sound_figures)
        self._booking: _Booking | None = None
        # what BS.1770 must read on this file for listeners to hear the target
        self.target = settings.loudness_lufs - (DUAL_MONO if self.channels == 1 else 0.0)
        # the voice is centred: in stereo each channel carries it, so it reads as dual mono
        self.speech_lufs = settings.loudness_lufs - DUAL_MONO
        self.music_files = playlist(settings.music) if settings.music else ()
        self.encoder_db = 0.0
        self.measured: Measured | None = None
        self.predicted = SILENT
        """What the meter should read on the mix `blocks` streams (BS.1770, as the file)."""
        self.corrections = 0
        """How often the meter read the stream off its prediction and the level was redone."""
        self.meter: StepMeter | None = None
        self._music_steps: np.ndarray | None = None
        self._calibrated: Levels | None = None
        self._music_reference = 0.0
        self._peak_db = SILENT
        self._effect: Effect | None = None
        self._music: MusicFiles | None = None
        self._last: tuple[float, float] | None = None

    def _bed(self, levels: Levels) -> MusicBed | None:
        if not self.music_files:
            return None
        return MusicBed(self.music_files, self.plan, self.rate,
                        levels.speech_lufs + self.settings.music_level_lu, self.settings.duck_db,
                        self.ceiling, self._decoded())

    def _decoded(self) -> MusicFiles:
        if self._music is None:
            self._music = MusicFiles(self.rate)
        return self._music

    def _loudness(self, speech_lufs: float) -> float:
        """Loudness as BS.1770 reads this file with the speech levelled to `speech_lufs`,
        from the K-weighted energy of every 100 ms: the voice's from its clips' figures, the
        music's from its files' (`MusicBed.estimated_steps`), added (the two are unrelated)."""
        if self._last is not None and self._last[0] == speech_lufs:
            return self._last[1]  # the level the calibration ended on: not worked out again
        if self._booking is None:
            self._booking = _Booking(self.plan, self.levels, self.rate)
        effect = self._effect = self.levels.effect(speech_lufs)
        self._peak_db = effect.peak_db
        # a centred voice is in both channels of a stereo file
        steps = self._booking.at(effect) * self.channels
        if self.music_files:
            if self._music_steps is None:
                self._music_reference = effect.speech_lufs
                self._music_steps = MusicBed(
                    self.music_files, self.plan, self.rate,
                    effect.speech_lufs + self.settings.music_level_lu, self.settings.duck_db,
                    self.ceiling, self._decoded()).estimated_steps(self.channels)
            scale = 10 ** ((effect.speech_lufs - self._music_reference) / 10)
            count = min(len(steps), len(self._music_steps))
            steps[:count] += self._music_steps[:count] * scale
        level = gated(steps, self.rate // 10, sample_index(self.plan.duration_ms, self.rate))
        self._last = (speech_lufs, level)
        return level

    def calibrate(self, bitrate_kbps: int) -> None:
        """Move speech and music together onto the loudness target, allowing for what MP3
        encoding takes off the level (`ENCODER_DB`). A target the limiter cannot reach
        without crushing the speech is an error."""
        # the mix is made louder by what the encoder will take off; the limiter makes
        # loudness grow slower than gain: step by the slope seen so far
        self.encoder_db = ENCODER_DB
        wanted = self.target - self.encoder_db
        slope, last = 1.0, None
        for _ in range(CALIBRATION_ROUNDS):
            level = self._loudness(self.speech_lufs)
            if level <= SILENT or abs(wanted - level) < 0.05:
                break
            if last is not None and self.speech_lufs != last[0]:
                slope = min(1.0, max(0.2, (level - last[1]) / (self.speech_lufs - last[0])))
            last = (self.speech_lufs, level)
            self.speech_lufs += (wanted - level) / slope
        self._settle()

    def _settle(self) -> None:
        """Level the clips at `speech_lufs`, predict what the meter will read of the mix,
        and refuse a target the limiter keeps out of reach."""
        self.predicted = self._loudness(self.speech_lufs)
        self._calibrated = None  # levelled as the stream asks, see `blocks`
        self._report(self.predicted)
        listened = self.measured.loudness_lufs
        wanted = self.settings.loudness_lufs
        if self.predicted > SILENT and abs(listened - wanted) > MAX_MISS_LU:
            raise InputError(f"loudness {wanted:g} LUFS is out of reach: with true peaks under "
                             f"{self.settings.true_peak_db:g} dBTP this track gets to "
                             f"{listened:.1f} LUFS; choose a quieter {setting('loudness')}")

    def _report(self, level: float) -> None:
        listened = level + (DUAL_MONO if self.channels == 1 else 0.0) + self.encoder_db
        self.measured = Measured(round(float(listened), 2), round(float(self._peak_db), 2))

    def blocks(self) -> Iterator[np.ndarray]:
        """The mix at the calibrated level, as int16 blocks, metered on the way."""
        levels = self._calibrated = self.levels.at(
            self.speech_lufs, self._effect if self._effect_lufs() else None, self._recurring())
        self.meter = meter = StepMeter(self.rate, self.channels)
        for block in mix(self.plan, levels, self.rate, self.channels, self._bed(levels),
                         self.ceiling):
            meter.add(block)
            yield block

    def _effect_lufs(self) -> bool:
        return self._effect is not None and self._effect.lufs == self.speech_lufs

    def _recurring(self) -> set[str]:
        """The texts said more than once: those worth keeping levelled once used."""
        said = Counter(s.text for s in self.plan.segments if s.kind == "speech")
        return {text for text, count in said.items() if count > 1}

    def missed(self) -> bool:
        """Once `blocks` has been streamed whole: True if the meter read the mix more than
        `CHECK_LU` off what was predicted, in which case the level is corrected by the
        difference and `blocks` must be encoded again; False if it was right (what it read
        is then in `measured`)."""
        heard = self.meter.integrated() if self.meter else SILENT
        if heard <= SILENT or abs(heard - self.predicted) <= CHECK_LU \
                or self.corrections >= MAX_CORRECTIONS:
            self._report(heard if heard > SILENT else self.predicted)
            return False
        self.corrections += 1
        self.speech_lufs += self.predicted - heard
        self._settle()
        return True
