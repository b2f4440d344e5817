"""Levelling: every clip and cue sound brought to a loudness, softened at its edges and
held under the true-peak ceiling, from figures measured once per clip.

Speech clips are levelled to one loudness and cue sounds `TONE_LU` under the speech as the
limiter left it. What levelling to a given loudness does (the peaks, the energy the limiter
takes, where each clip's energy falls in the track) is worked out from each clip's
`Figures` (kept in the speech cache) without making the samples; the samples are made only
as the mix asks for them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Collection, Iterator, Mapping

from ..lazy import lazy_module
from ..loudness import (SILENT, Figures, fade_edges, k_energy, limiter_near,
                        step_energies)
from ..models import Plan
from ..render import sample_index

np = lazy_module("numpy")  # see lazy.py: loaded when first used

FADE_MS = 5
"""Fade at both edges of every clip and cue sound, so that no join clicks."""
TONE_LU = -4.0
"""Cue sounds sit this far under the speech: clearly heard, never startling."""


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
    ceiling_db: float = 0.0
    """The true-peak ceiling it was worked out under."""

    def as_json(self) -> dict:
        """This effect as JSON can hold it (floats exactly, by their repr)."""
        return {"lufs": self.lufs, "speech_lufs": self.speech_lufs, "peak_db": self.peak_db,
                "ceiling_db": self.ceiling_db,
                "scales": [[kind, name, scale] for (kind, name), scale in self.scales.items()]}

    @classmethod
    def from_json(cls, data: dict) -> Effect:
        """The effect `as_json` gave; a KeyError, TypeError or ValueError if it is not one."""
        scales = {(str(kind), str(name)): float(scale) for kind, name, scale in data["scales"]}
        return cls(float(data["lufs"]), float(data["speech_lufs"]), float(data["peak_db"]),
                   scales, float(data["ceiling_db"]))


class Levelled:
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
        return Effect(speech_lufs, actual, peak, scales, self.ceiling)

    def at(self, speech_lufs: float, effect: Effect | None = None,
           recurring: Collection[str] | None = None) -> Levels:
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
    """Clips levelled when first asked for (see `Levelled.at`)."""

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


class Booking:
    """Where the energy of each thing spoken or sounded falls among the track's 100 ms
    steps, at the level it was measured at: booked once from the clips' figures, then
    scaled by each calibration round's `Effect` (no filtering, no rendering)."""

    def __init__(self, plan: Plan, levels: Levelled, rate: int):
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

