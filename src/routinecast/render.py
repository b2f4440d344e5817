"""Plan + clips → the track's PCM, streamed segment by segment in order.

Positions are converted once from milliseconds to sample indices, so every segment (and so
every hold) is exactly as long as the plan says, to the sample.
"""

from __future__ import annotations

from typing import Iterator, Mapping

from .models import Plan
from .lazy import lazy_module

np = lazy_module("numpy")  # see lazy.py: loaded when first used

BLOCK_SAMPLES = 1 << 16
"""Largest piece of silence yielded at once: keeps memory flat whatever the hold lengths."""


def sample_index(ms: int, sample_rate: int) -> int:
    return ms * sample_rate // 1000


def total_samples(plan: Plan, sample_rate: int) -> int:
    return sample_index(plan.duration_ms, sample_rate)


def render(plan: Plan, speech: Mapping[str, np.ndarray], sounds: Mapping[str, np.ndarray],
           sample_rate: int) -> Iterator[np.ndarray]:
    """Yield the whole plan as mono int16 arrays, in order: each spoken text from `speech`,
    each tone from `sounds` (by cue name), silence in blocks of at most `BLOCK_SAMPLES`."""
    zeros = np.zeros(BLOCK_SAMPLES, dtype=np.int16)
    for segment in plan.segments:
        length = (sample_index(segment.end_ms, sample_rate)
                  - sample_index(segment.start_ms, sample_rate))
        if segment.kind == "silence":
            while length > 0:
                step = min(length, BLOCK_SAMPLES)
                yield zeros[:step]
                length -= step
            continue
        samples = speech[segment.text] if segment.kind == "speech" else sounds[segment.label]
        yield _fit(samples, length)


def _fit(samples: np.ndarray, length: int) -> np.ndarray:
    """Pad with silence or cut to exactly `length` samples (they differ by rounding only)."""
    if len(samples) >= length:
        return samples[:length]
    return np.concatenate([samples, np.zeros(length - len(samples), dtype=samples.dtype)])
