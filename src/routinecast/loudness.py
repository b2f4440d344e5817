"""Loudness as ITU-R BS.1770-4 measures it, true peak, and the levelling built on them.

Pure functions on float sample arrays (full scale = 1.0; shape `(n,)` for mono or
`(n, channels)`). The only module that imports scipy.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from typing import Iterable

from .lazy import lazy_module

np = lazy_module("numpy")  # see lazy.py: loaded when first used

# scipy is imported where it is used, by `Meter` alone (the reference meter the tests check
# against): importing scipy.signal takes most of a second, which no build need pay

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
    """Per-sample K-weighted energy of a mono signal, summed over channels for stereo.

    The filter runs as a product of spectra (numpy's FFT, no scipy: a build that measures
    a new clip need not import scipy.signal, which takes most of a second), over the
    signal padded with `K_TAIL` zeros: the filter's response dies out long before, so the
    samples come out as the recursive filter makes them from rest, to rounding."""
    signal = samples.reshape(len(samples), -1)
    size = 1 << int(len(signal) + K_TAIL - 1).bit_length()
    frequencies = np.fft.rfftfreq(size, 1 / rate)
    z = np.exp(-2j * np.pi * frequencies / rate)
    response = np.ones_like(z)
    for b0, b1, b2, a0, a1, a2 in k_weighting(rate):
        response *= (b0 + b1 * z + b2 * z * z) / (a0 + a1 * z + a2 * z * z)
    weighted = np.fft.irfft(np.fft.rfft(signal, size, axis=0) * response[:, None], size,
                            axis=0)[: len(signal)]
    return np.einsum("ij,ij->i", weighted, weighted)


K_TAIL = 1 << 14
"""Zeros after a signal filtered by `k_energy`: the K-weighting filter's response has
fallen by hundreds of dB within them at any rate routinecast uses."""


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
    (with a margin for the interpolation filter) so that a long clip never has a 4× copy.

    The interpolation is scipy's `resample_poly(x, 4, 1)` (the same Kaiser-windowed sinc
    of 81 taps), run as four 21-tap convolutions in numpy, one per position between samples."""
    peaks = np.empty(len(samples))
    margin = 64
    phases = _interpolator()
    half = phases.shape[1] // 2
    for start in range(0, len(samples), block):
        end = min(start + block, len(samples))
        low, high = max(0, start - margin), min(len(samples), end + margin)
        part = samples[low:high].astype(np.float64)
        top = np.zeros(end - start)
        for taps in phases:
            between = np.convolve(part, taps)[half + start - low: half + end - low]
            np.maximum(top, np.abs(between), out=top)
        peaks[start:end] = top
    return peaks


def true_peaks_at(samples: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """`oversampled_peaks` (the largest over the channels of `samples`, shape `(n,)` or
    `(n, channels)`) at sorted `indices` only, worked out on the samples around them: the
    rest of a long signal is never upsampled."""
    signal = samples.reshape(len(samples), -1)
    margin = 32  # more than the interpolation filter reaches
    breaks = np.flatnonzero(np.diff(indices) > 2 * margin)
    low = np.maximum(indices[np.concatenate([[0], breaks + 1])] - margin, 0)
    high = np.minimum(indices[np.concatenate([breaks, [len(indices) - 1]])] + margin + 1,
                      len(signal))
    lengths = high - low
    # the stretches around the indices, end to end: each keeps a margin of its own samples
    gather = np.arange(int(lengths.sum())) + np.repeat(low - (np.cumsum(lengths) - lengths),
                                                       lengths)
    packed = np.searchsorted(gather, indices)
    return np.max([oversampled_peaks(signal[gather, c])[packed]
                   for c in range(signal.shape[1])], axis=0)


def interpolation_gain() -> float:
    """The most the 4× interpolation can make of samples no larger than 1: a true peak is at
    most this times the largest sample within the filter's reach (`INTERPOLATION_REACH`)."""
    return float(np.abs(_interpolator()).sum(axis=1).max())


INTERPOLATION_REACH = 10
"""Samples on either side of a point that the 4× interpolation around it looks at."""


def _interpolator() -> np.ndarray:
    """The 4× interpolation filter of `resample_poly` (81 taps, cutoff at the original
    Nyquist frequency, Kaiser window, beta 5), split into its four phases: row p makes the
    samples p quarters of the way to the next one."""
    global _PHASES
    if _PHASES is None:
        middle = 10 * OVERSAMPLE
        m = np.arange(2 * middle + 1) - middle
        h = np.sinc(m / OVERSAMPLE) / OVERSAMPLE * np.kaiser(2 * middle + 1, 5.0)
        h *= OVERSAMPLE / h.sum()
        taps = 2 * (middle // OVERSAMPLE) + 1
        _PHASES = np.zeros((OVERSAMPLE, taps))
        for phase in range(OVERSAMPLE):
            for k in range(taps):
                i = OVERSAMPLE * (k - taps // 2) + phase + middle
                if 0 <= i <= 2 * middle:
                    _PHASES[phase, k] = h[i]
    return _PHASES


_PHASES: np.ndarray | None = None


def stream_true_peak_db(blocks: Iterable[np.ndarray], floor_db: float) -> float:
    """The highest true peak of a stream of int16 blocks (shape `(n,)` or `(n, channels)`),
    as `true_peak_db` reads it on the whole, when it reaches `floor_db`; else at most
    `floor_db`. Only the samples within the interpolation's reach of one loud enough to
    reach the floor are upsampled: a decoded track is checked in about the time it takes
    to read it."""
    floor = 10 ** (floor_db / 20)
    # no true peak reaches the floor unless a sample within reach is at least this loud
    quiet = floor / (interpolation_gain() * (1 + 1e-9)) * 32768
    # a position's true peak needs the samples within the filter's reach on both sides: one
    # nearer a block's end than that is worked out with the next block (or at the end)
    edge = INTERPOLATION_REACH + 1
    context = 2 * edge + 32
    offsets = np.arange(-INTERPOLATION_REACH, INTERPOLATION_REACH + 1)

    def peak_in(window: np.ndarray, start: int, end: int) -> float:
        # channel by channel: numpy's reductions across a row of two are slow
        loudest = np.abs(window[:, 0].astype(np.int32))
        for channel in range(1, window.shape[1]):
            np.maximum(loudest, np.abs(window[:, channel].astype(np.int32)), out=loudest)
        loud = np.flatnonzero(loudest >= quiet)
        suspects = np.unique((loud[:, None] + offsets).ravel()) if len(loud) else loud
        suspects = suspects[(suspects >= start) & (suspects < end)]
        return float(true_peaks_at(window, suspects).max()) / 32768 if len(suspects) else 0.0

    top, tail = 0.0, None
    for block in blocks:
        if not len(block):
            continue
        block = block.reshape(len(block), -1)
        window = block if tail is None else np.concatenate([tail, block])
        start = 0 if tail is None else max(0, len(tail) - edge)
        top = max(top, peak_in(window, start, len(window) - edge))
        tail = window[-context:]
    if tail is not None:  # the stream's last positions, with nothing after them
        top = max(top, peak_in(tail, max(0, len(tail) - edge), len(tail)))
    return 20 * math.log10(top) if top > floor else floor_db


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


ENERGY_GRAIN = 32
"""`Figures` keep a clip's running K-weighted energy every this many samples: fine enough to
book it into any track's 100 ms steps wherever the clip starts (a step is 2,205 samples or
more), small enough to keep beside every clip (an eighth of its own size)."""
FIGURES_FORMAT = 1
"""Bumped whenever what `Figures` hold or how they are measured changes."""
_FIGURES_HEADER = struct.Struct("<HddQIII")


@dataclass(frozen=True)
class Figures:
    """What levelling needs to know of a clip or cue sound, measured once (when it is made)
    and kept with it, so that levelling it to any loudness measures nothing."""

    lufs: float
    """Its integrated loudness (`SILENT` for silence)."""
    square_sum: float
    """The sum of its squared samples: the energy the limiter's share is taken from."""
    peaks: Peaks
    """Its loud true peaks, all a limiter looks at."""
    energy: np.ndarray
    """Its running K-weighted energy (as `k_energy` gives it, summed) at samples 0,
    `ENERGY_GRAIN`, 2 × `ENERGY_GRAIN`, … and at its end."""

    @classmethod
    def of(cls, samples: np.ndarray, rate: int) -> "Figures":
        """Measure mono float `samples` (as they will be levelled: faded edges)."""
        energy = k_energy(samples, rate)
        steps = np.zeros((len(samples) + rate // 10 - 1) // (rate // 10))
        step_energies(energy, 0, rate // 10, steps)
        running = np.concatenate([[0.0], np.cumsum(energy)])
        marks = np.append(np.arange(0, len(samples), ENERGY_GRAIN), len(samples))
        return cls(gated(steps, rate // 10, len(samples)), float(np.dot(samples, samples)),
                   Peaks.of(samples), running[marks])

    def energy_between(self, low: np.ndarray, high: np.ndarray) -> np.ndarray:
        """K-weighted energy of the samples from each `low` to its `high` (sample offsets
        into the clip), interpolated between the kept marks."""
        marks = np.minimum(np.arange(len(self.energy)) * ENERGY_GRAIN, self.peaks.length)
        return np.interp(high, marks, self.energy) - np.interp(low, marks, self.energy)

    def to_bytes(self) -> bytes:
        return (_FIGURES_HEADER.pack(FIGURES_FORMAT, self.lufs, self.square_sum,
                                     self.peaks.length, len(self.peaks.at), len(self.energy),
                                     ENERGY_GRAIN)
                + self.peaks.at.astype("<i4").tobytes()
                + self.peaks.value.astype("<f4").tobytes()
                + self.energy.astype("<f8").tobytes())

    @classmethod
    def from_bytes(cls, data: bytes) -> "Figures | None":
        """The figures `to_bytes` wrote, or None if `data` holds other ones (another format,
        another grain, cut short)."""
        if len(data) < _FIGURES_HEADER.size:
            return None
        version, lufs, square_sum, length, count, marks, grain = \
            _FIGURES_HEADER.unpack_from(data)
        start = _FIGURES_HEADER.size
        if (version, grain) != (FIGURES_FORMAT, ENERGY_GRAIN) or \
                len(data) != start + 8 * count + 8 * marks:
            return None
        at = np.frombuffer(data, "<i4", count, start)
        value = np.frombuffer(data, "<f4", count, start + 4 * count)
        energy = np.frombuffer(data, "<f8", marks, start + 8 * count)
        return cls(lufs, square_sum, Peaks(length, at, value), energy)


class StepMeter:
    """The K-weighted energy of each 100 ms step of a stream, read from each step's spectrum
    (numpy's FFT: no scipy, and a tenth of the filter's time), to check a track as it
    streams to the encoder. It ignores the filter's memory across step edges, which moves
    the reading of speech by about a thousandth of an LU."""

    def __init__(self, rate: int, channels: int = 1):
        self.rate, self.channels, self.step = rate, channels, rate // 10
        self.weights = _k_power(rate, self.step)
        self.pending = np.zeros((0, channels))
        self.parts: list[np.ndarray] = []
        self.position = 0
        """Samples added so far."""

    def add(self, chunk: np.ndarray) -> None:
        """Add int16 (full scale 32768) or float samples, shape `(n,)` or `(n, channels)`."""
        chunk = chunk.reshape(len(chunk), -1)
        self.position += len(chunk)
        if len(self.pending):
            chunk = np.concatenate([self.pending, chunk])
        whole = len(chunk) - len(chunk) % self.step
        self.pending = chunk[whole:]
        frames = chunk[:whole].reshape(-1, self.step, chunk.shape[1])
        energies = np.zeros(len(frames))
        sounding = np.flatnonzero(frames.any(axis=(1, 2)))
        if len(sounding):
            energies[sounding] = self._energy(frames[sounding], self.weights)
        self.parts.append(energies)

    def _energy(self, frames: np.ndarray, weights: np.ndarray) -> np.ndarray:
        # in single precision, each channel's steps in a row: twice as fast, and a check
        # meter needs no more than seven digits
        scale = 1 / 32768 if frames.dtype == np.int16 else 1.0
        rows = np.ascontiguousarray(frames.transpose(0, 2, 1), dtype=np.float32)
        spectrum = np.fft.rfft(rows, axis=2)
        power = spectrum.real ** 2 + spectrum.imag ** 2
        return np.einsum("fck,k->f", power, weights.astype(np.float32)).astype(np.float64) \
            * (scale * scale)

    @property
    def steps(self) -> np.ndarray:
        """K-weighted energy of each 100 ms step so far (the last one may be partial)."""
        steps = np.concatenate([*self.parts, [0.0]]) if self.parts else np.zeros(1)
        if len(self.pending):
            steps[-1] = self._energy(self.pending[None], _k_power(self.rate,
                                                                   len(self.pending)))[0]
            return steps
        return steps[:-1]

    def integrated(self) -> float:
        """Gated integrated loudness in LUFS of everything added so far."""
        return gated(self.steps, self.step, self.position)


def _k_power(rate: int, size: int) -> np.ndarray:
    """For each bin of a real FFT of `size` samples, what the K-weighting filter makes of
    its power, scaled so that the weighted sum over the bins is the signal's K-weighted
    energy (Parseval)."""
    frequencies = np.fft.rfftfreq(size, 1 / rate)
    z = np.exp(-2j * np.pi * frequencies / rate)
    response = np.ones_like(z)
    for b0, b1, b2, a0, a1, a2 in k_weighting(rate):
        response *= (b0 + b1 * z + b2 * z * z) / (a0 + a1 * z + a2 * z * z)
    power = np.abs(response) ** 2
    # every bin but 0 (and size / 2 when size is even) stands for its mirror image too
    power[1: (size + 1) // 2] *= 2
    return power / size


def limiter_gain(peaks: Peaks, gain: float, rate: int, ceiling_db: float) -> np.ndarray | None:
    """The smooth gain envelope (5 ms ahead of each peak and after it) that keeps a signal
    with true `peaks`, amplified by `gain`, under `ceiling_db`; None if none is needed."""
    near = limiter_near(peaks, gain, rate, ceiling_db)
    if near is None:
        return None
    whole = np.ones(peaks.length)
    whole[near[0]] = near[1]
    return whole


def limiter_near(peaks: Peaks, gain: float, rate: int,
                 ceiling_db: float) -> tuple[np.ndarray, np.ndarray] | None:
    """`limiter_gain` near the peaks it acts on only, as (sample indices, envelope there);
    it is exactly 1 everywhere else. A clip's peaks over the ceiling are few, and levelling
    looks at them every calibration round."""
    ceiling = 10 ** (ceiling_db / 20)
    if peaks.top * gain <= ceiling:
        return None
    over = peaks.value.astype(np.float64) * gain > ceiling
    at = peaks.at[over].astype(np.int64)
    need = np.minimum(1.0, ceiling / np.maximum(peaks.value[over] * gain, 1e-12))
    reach = max(1, rate // 200)
    # every sample's gain is at most what any peak within `reach` of it needs, and the
    # average over `reach` samples keeps that bound while removing the steps; further than
    # `margin` from every peak both are exactly 1, so only the stretches around groups of
    # peaks are worked out, laid end to end (they are far enough apart not to interact)
    margin = 2 * reach + 2
    breaks = np.flatnonzero(np.diff(at) > 2 * margin)
    low = np.maximum(at[np.concatenate([[0], breaks + 1])] - margin, 0)
    high = np.minimum(at[np.concatenate([breaks, [len(at) - 1]])] + margin + 1, peaks.length)
    lengths = high - low
    shift = np.repeat(low - (np.cumsum(lengths) - lengths), lengths)  # index - packed index
    indices = np.arange(int(lengths.sum())) + shift
    wanted = np.ones(len(indices))
    wanted[np.searchsorted(indices, at)] = need  # the peaks are distinct samples
    held = _running_min(wanted, 2 * reach + 1)
    return indices, np.minimum(_running_mean(held, reach | 1), held)


def _running_min(values: np.ndarray, size: int) -> np.ndarray:
    """The minimum over a centred window of odd `size`, the ends extended by their values
    (scipy.ndimage's minimum_filter1d, mode "nearest"), in numpy: van Herk's method, two
    running minima over blocks of `size`."""
    radius = size // 2
    padded = np.pad(values, radius, mode="edge")
    blocks = -(-len(padded) // size)
    padded = np.concatenate([padded, np.full(blocks * size - len(padded), np.inf)])
    grid = padded.reshape(blocks, size)
    ahead = np.minimum.accumulate(grid, axis=1).ravel()
    behind = np.minimum.accumulate(grid[:, ::-1], axis=1)[:, ::-1].ravel()
    return np.minimum(behind[: len(values)], ahead[size - 1: size - 1 + len(values)])


def running_max(values: np.ndarray, size: int) -> np.ndarray:
    """The maximum over a centred window of odd `size`, the ends extended by their values."""
    return -_running_min(-values, size)


def _running_mean(values: np.ndarray, size: int) -> np.ndarray:
    """The mean over a centred window of odd `size`, the ends extended by their values
    (scipy.ndimage's uniform_filter1d, mode "nearest"), in numpy."""
    radius = size // 2
    total = np.concatenate([[0.0], np.cumsum(np.pad(values, radius, mode="edge"))])
    return (total[size: size + len(values)] - total[: len(values)]) / size


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
