"""Loudness as ITU-R BS.1770-4 measures it, true peak, and the levelling built on them.

Pure functions on float sample arrays (full scale = 1.0; shape `(n,)` for mono or
`(n, channels)`). The only module that imports scipy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# scipy is imported where it is used: it takes over half a second, which commands that
# only read routines (validate, plan from the cache, extract, voices) need not pay

ABSOLUTE_GATE = -70.0
"""Blocks quieter than this (LUFS) are not counted (BS.1770-4)."""
RELATIVE_GATE = -10.0
"""Blocks more than this (LU) under the level of the blocks kept so far are not counted."""
BLOCK_STEPS = 4
"""A gating block is 400 ms: four 100 ms steps (blocks overlap by 75 %)."""
SILENT = -200.0
"""What `integrated` returns for silence: far under any gate."""
DUAL_MONO = 10 * math.log10(2)
"""A mono track played on two speakers is this much (3.01 LU) louder than BS.1770 measures
the mono file; ffmpeg's `ebur128=dualmono=true` adds it."""
OVERSAMPLE = 4
"""True peak is read from the signal upsampled four times, as BS.1770-4 asks."""


def k_weighting(rate: int) -> np.ndarray:
    """The K-weighting filter (head shelf, then high-pass) as second-order sections for
    `rate`, derived as libebur128 does so that every sample rate gets the standard curve
    (at 48 kHz these are BS.1770's published coefficients)."""
    k = math.tan(math.pi * 1681.974450955533 / rate)
    q = 0.7071752369554196
    vh = 10 ** (3.999843853973347 / 20)
    vb = vh ** 0.4996667741545416
    a0 = 1 + k / q + k * k
    shelf = [(vh + vb * k / q + k * k) / a0, 2 * (k * k - vh) / a0,
             (vh - vb * k / q + k * k) / a0, 1.0, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0]
    k = math.tan(math.pi * 38.13547087602444 / rate)
    q = 0.5003270373238773
    a0 = 1 + k / q + k * k
    highpass = [1.0, -2.0, 1.0, 1.0, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0]
    return np.array([shelf, highpass])


class Meter:
    """Integrated loudness of a stream fed in consecutive chunks, as one long signal.

    Keeps only the energy of each 100 ms step, so memory grows by 8 bytes per 100 ms.
    Runs of digital silence once the filter has settled cost next to nothing.
    """

    def __init__(self, rate: int, channels: int = 1):
        self.rate = rate
        self.step = rate // 10
        self.sos = k_weighting(rate)
        self.state = np.zeros((len(self.sos), 2, channels))
        self._steps = np.zeros(0)
        self.position = 0
        """Samples added so far."""

    def add(self, chunk: np.ndarray) -> None:
        chunk = chunk.reshape(len(chunk), -1)
        if not chunk.any() and not np.abs(self.state).max() > 1e-12:
            energy = np.zeros(len(chunk))
        else:
            from scipy.signal import sosfilt

            weighted, self.state = sosfilt(self.sos, chunk, axis=0, zi=self.state)
            energy = np.einsum("ij,ij->i", weighted, weighted)
        needed = (self.position + len(energy) + self.step - 1) // self.step
        if needed > len(self._steps):  # grow by doubling: appending stays cheap
            self._steps = np.concatenate([self._steps,
                                          np.zeros(max(needed, 2 * len(self._steps))
                                                   - len(self._steps))])
        step_energies(energy, self.position, self.step, self._steps)
        self.position += len(energy)

    @property
    def steps(self) -> np.ndarray:
        """K-weighted energy of each 100 ms step so far (the last one may be partial)."""
        return self._steps[: (self.position + self.step - 1) // self.step]

    def integrated(self) -> float:
        """Gated integrated loudness in LUFS of everything added so far."""
        return gated(self.steps, self.step, self.position)


def step_energies(energy: np.ndarray, start: int, step: int, out: np.ndarray) -> None:
    """Adds per-sample `energy` placed at sample `start` of a track into `out`, the track's
    energy per `step` samples: how a clip's share of the track's loudness is booked without
    filtering the whole track."""
    if not len(energy):
        return
    cumulative = np.concatenate([[0.0], np.cumsum(energy)])
    first, last = start // step, (start + len(energy) - 1) // step
    bins = np.arange(first, last + 1)
    low = np.maximum(bins * step, start) - start
    high = np.minimum((bins + 1) * step, start + len(energy)) - start
    out[first: last + 1] += cumulative[high] - cumulative[low]


def gated(steps: np.ndarray, step: int, samples: int) -> float:
    """Gated integrated loudness (LUFS) from the K-weighted energy of each 100 ms step
    (`step` samples) of a signal `samples` long."""
    if len(steps) < BLOCK_STEPS:
        # shorter than one gating block: the whole signal is the block
        return _lufs(steps.sum() / samples) if samples and steps.sum() > 0 else SILENT
    window = np.convolve(steps, np.ones(BLOCK_STEPS), mode="valid")
    power = window / (BLOCK_STEPS * step)
    with np.errstate(divide="ignore"):
        blocks = -0.691 + 10 * np.log10(power)
    kept = power[blocks > ABSOLUTE_GATE]
    if not len(kept):
        return SILENT
    relative = _lufs(kept.mean()) + RELATIVE_GATE
    kept = power[blocks > max(relative, ABSOLUTE_GATE)]
    return _lufs(kept.mean())


def k_energy(samples: np.ndarray, rate: int) -> np.ndarray:
    """Per-sample K-weighted energy of a mono signal, summed over channels for stereo."""
    from scipy.signal import sosfilt

    weighted = sosfilt(k_weighting(rate), samples.reshape(len(samples), -1), axis=0)
    return np.einsum("ij,ij->i", weighted, weighted)


def _lufs(power: float) -> float:
    return -0.691 + 10 * math.log10(power) if power > 0 else SILENT


def integrated(samples: np.ndarray, rate: int) -> float:
    """Gated integrated loudness of `samples` in LUFS (`SILENT` for silence)."""
    meter = Meter(rate, samples.reshape(len(samples), -1).shape[1])
    meter.add(samples)
    return meter.integrated()


def oversampled_peaks(samples: np.ndarray, block: int = 1 << 16) -> np.ndarray:
    """For each sample of a mono signal, the largest magnitude of the 4× upsampled signal
    around it: the true peak, sample by sample. Works through the signal a block at a time
    (with a margin for the interpolation filter) so that a long clip never has a 4× copy."""
    peaks = np.empty(len(samples))
    margin = 64
    for start in range(0, len(samples), block):
        end = min(start + block, len(samples))
        low, high = max(0, start - margin), min(len(samples), end + margin)
        from scipy.signal import resample_poly

        upsampled = resample_poly(samples[low:high], OVERSAMPLE, 1)
        frames = np.abs(upsampled[: (high - low) * OVERSAMPLE]).reshape(-1, OVERSAMPLE)
        peaks[start:end] = frames[start - low: end - low].max(axis=1)
    return peaks


def true_peak_db(samples: np.ndarray) -> float:
    """True peak in dBTP of a mono signal."""
    peak = float(oversampled_peaks(samples).max(initial=0.0))
    return 20 * math.log10(peak) if peak > 0 else SILENT


@dataclass(frozen=True)
class Peaks:
    """The true peaks of a signal's loud samples: all a limiter ever needs to look at, kept
    small (a speech clip's quiet majority is left out)."""

    length: int
    """Samples in the signal."""
    at: np.ndarray
    """Indices of the samples whose true peak is within `LOUD_DB` of the highest."""
    value: np.ndarray
    """Their true peaks (linear)."""

    @classmethod
    def of(cls, samples: np.ndarray) -> "Peaks":
        peaks = oversampled_peaks(samples)
        top = float(peaks.max(initial=0.0))
        at = np.flatnonzero(peaks >= top * 10 ** (-LOUD_DB / 20)) if top > 0 else \
            np.zeros(0, dtype=np.int64)
        return cls(len(samples), at.astype(np.int32), peaks[at].astype(np.float32))

    @property
    def top(self) -> float:
        return float(self.value.max(initial=0.0))


LOUD_DB = 20.0
"""Samples this far under a signal's highest true peak are never limited: no gain a level
correction makes brings them up to the ceiling."""


def limiter_gain(peaks: Peaks, gain: float, rate: int, ceiling_db: float) -> np.ndarray | None:
    """The smooth gain envelope (5 ms ahead of each peak and after it) that keeps a signal
    with true `peaks`, amplified by `gain`, under `ceiling_db`; None if none is needed."""
    ceiling = 10 ** (ceiling_db / 20)
    if peaks.top * gain <= ceiling:
        return None
    need = np.ones(peaks.length)
    need[peaks.at] = np.minimum(1.0, ceiling / np.maximum(peaks.value * gain, 1e-12))
    reach = max(1, rate // 200)
    # every sample's gain is at most what any peak within `reach` of it needs, and the
    # average over `reach` samples keeps that bound while removing the steps
    from scipy.ndimage import minimum_filter1d, uniform_filter1d

    held = minimum_filter1d(need, size=2 * reach + 1, mode="nearest")
    gain = uniform_filter1d(held, size=reach | 1, mode="nearest")
    return np.minimum(gain, held)


def fade_edges(samples: np.ndarray, rate: int, fade_ms: int) -> np.ndarray:
    """`samples` with raised-cosine fades of `fade_ms` at both ends, so that it starts and
    ends at zero and joins silence without a click."""
    fade = min(fade_ms * rate // 1000, len(samples) // 2)
    if fade == 0:
        return samples
    ramp = 0.5 - 0.5 * np.cos(np.linspace(0.0, math.pi, fade, endpoint=False))
    shape = (fade,) + (1,) * (samples.ndim - 1)
    faded = samples.astype(np.float64, copy=True)
    faded[:fade] *= ramp.reshape(shape)
    faded[len(faded) - fade:] *= ramp[::-1].reshape(shape)
    return faded
