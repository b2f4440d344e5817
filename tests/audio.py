"""Reading decoded audio in tests: where sound begins, what counts as silence."""

from __future__ import annotations

import numpy as np

from routinecast.render import sample_index

RATE = 44_100
LOUD = 300
"""Decoded samples above this (about -41 dBFS) are sound; planned silence stays under it."""
ONSET = 40
"""Where a sound is taken to begin: the edge of a clip's first syllable, above MP3 noise."""
TOLERANCE_MS = 10


def onset_ms(pcm: np.ndarray, from_ms: int) -> float:
    """Time of the first sound at or after `from_ms`."""
    start = sample_index(from_ms, RATE)
    loud = np.flatnonzero(np.abs(pcm[start:].astype(np.int32)) > ONSET)
    return (start + loud[0]) * 1000 / RATE
