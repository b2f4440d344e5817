"""The mix: the plan rendered from the levelled clips and cue sounds, in one or two
channels, with the music bed under it, and the streaming limiter that holds the sum (and
the bed alone) under the true-peak ceiling.
"""

from __future__ import annotations

from itertools import chain
from typing import TYPE_CHECKING, Iterator

from ..lazy import lazy_module
from ..loudness import (INTERPOLATION_REACH, Peaks, interpolation_gain, limiter_gain,
                        running_max, true_peaks_at)
from ..models import Plan
from ..render import render

if TYPE_CHECKING:  # for annotations only: music.py uses this module's limiter, and a cycle
    # of imports would make the order they load in matter
    from .levelling import Levels
    from .music import MusicBed

np = lazy_module("numpy")  # see lazy.py: loaded when first used

MIX_BLOCK = 1 << 14
"""Frames the music mix is limited in at a time (and decoded music read back in)."""


def mix(plan: Plan, levels: Levels, rate: int, channels: int, bed: MusicBed | None,
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

    for block in limited(reblocked(mixed(), MIX_BLOCK), rate, ceiling_db):
        yield np.clip(np.round(block * 32768), -32768, 32767).astype(np.int16)


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


def reblocked(blocks: Iterator[np.ndarray], size: int) -> Iterator[np.ndarray]:
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


def limited(blocks: Iterator[np.ndarray], rate: int, ceiling_db: float) -> Iterator[np.ndarray]:
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

