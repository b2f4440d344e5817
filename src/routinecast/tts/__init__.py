"""Text-to-speech: one small engine interface, engines by name, and cached synthesis."""

from __future__ import annotations

from typing import Callable, Iterable, Protocol

import numpy as np

from ..errors import InputError
from ..ffmpeg import resample
from ..models import Voice
from .cache import ClipCache

ENGINES = ("piper",)
SILENCE_LEVEL = 64
"""Samples at or under this (about -54 dBFS) count as the silence around speech."""
EDGE_MS = 5
"""Kept before the first and after the last audible sample, faded, so onsets stay soft."""


class Engine(Protocol):
    """What routinecast needs of a text-to-speech engine."""

    name: str
    """Engine name, as given to `--engine` and in the routine's `voice.engine`."""
    voice_id: str
    """Stable identity of the voice, part of the cache key."""
    speed: float
    """Speaking rate asked for."""
    sample_rate: int
    """Rate of the samples `synthesize` returns."""

    def synthesize(self, text: str) -> np.ndarray:
        """`text` spoken, as mono int16 samples at `sample_rate`."""


def open_engine(voice: Voice, language: str) -> Engine:
    """The engine and voice `voice` names, checked to speak `language`."""
    if voice.engine == "piper":
        from .piper import PiperEngine

        return PiperEngine(voice.name, voice.speed, language)
    raise InputError(f"unknown speech engine `{voice.engine}` (available: {', '.join(ENGINES)})")


def synthesize_all(texts: Iterable[str], engine: Engine, cache: ClipCache, sample_rate: int,
                   progress: Callable[[int, int], None] | None = None) -> dict[str, np.ndarray]:
    """Each distinct text as int16 samples at `sample_rate`, from the cache or the engine.

    `progress(done, total)` is called after each text that had to be synthesised.
    """
    clips: dict[str, np.ndarray] = {}
    missing: list[tuple[str, str]] = []
    for text in dict.fromkeys(texts):
        key = cache.key(engine.name, engine.voice_id, engine.speed, sample_rate, text)
        clip = cache.get(key, sample_rate)
        if clip is None:
            missing.append((text, key))
        else:
            clips[text] = clip
    for done, (text, key) in enumerate(missing, start=1):
        clip = trim_silence(resample(engine.synthesize(text), engine.sample_rate, sample_rate),
                            sample_rate)
        cache.put(key, clip, sample_rate)
        clips[text] = clip
        if progress:
            progress(done, len(missing))
    return clips


def trim_silence(clip: np.ndarray, sample_rate: int) -> np.ndarray:
    """Cut the engine's leading and trailing silence, keeping short faded edges.

    The plan then places each word where it is heard, and a cue said as a hold begins
    starts with the hold.
    """
    loud = np.flatnonzero(np.abs(clip.astype(np.int32)) > SILENCE_LEVEL)
    if len(loud) == 0:
        return clip
    edge = EDGE_MS * sample_rate // 1000
    start, end = max(loud[0] - edge, 0), min(loud[-1] + 1 + edge, len(clip))
    trimmed = clip[start:end].astype(np.float64)
    fade = min(edge, len(trimmed) // 2)
    ramp = np.linspace(0.0, 1.0, fade, endpoint=False)
    trimmed[:fade] *= ramp
    trimmed[len(trimmed) - fade:] *= ramp[::-1]
    return np.round(trimmed).astype(np.int16)
