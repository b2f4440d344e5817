"""Plan + clips → the track's PCM, streamed segment by segment in order.

Positions are converted once from milliseconds to sample indices, so every segment (and so
every hold) is exactly as long as the plan says, to the sample.
"""

from __future__ import annotations

from typing import Iterator, Mapping

import numpy as np

from .models import Plan
from .tones import tone

BLOCK_SAMPLES = 1 << 16
"""Largest piece of silence yielded at once: keeps memory flat whatever the hold lengths."""


def sample_index(ms: int, sample_rate: int) -> int:
    return ms * sample_rate // 1000


def total_samples(plan: Plan, sample_rate: int) -> int:
    return sample_index(plan.duration_ms, sample_rate)


def render(plan: Plan, clips: Mapping[str, np.ndarray], sample_rate: int) -> Iterator[bytes]:
    """Yield mono s16le PCM for the whole plan, in order, never more than one clip at a time."""
    zeros = bytes(2 * BLOCK_SAMPLES)
    for segment in plan.segments:
        length = (sample_index(segment.end_ms, sample_rate)
                  - sample_index(segment.start_ms, sample_rate))
        if segment.kind == "silence":
            while length > 0:
                step = min(length, BLOCK_SAMPLES)
                yield zeros[: 2 * step]
                length -= step
            continue
        samples = clips[segment.text] if segment.kind == "speech" else \
            tone(segment.label, sample_rate)
        yield _fit(samples, length).astype("<i2").tobytes()


def _fit(samples: np.ndarray, length: int) -> np.ndarray:
    """Pad with silence or cut to exactly `length` samples (they differ by rounding only)."""
    if len(samples) >= length:
        return samples[:length]
    return np.concatenate([samples, np.zeros(length - len(samples), dtype=samples.dtype)])
