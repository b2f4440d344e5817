"""Text-to-speech: one small engine interface, engines by name, and cached synthesis."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Protocol

from ..errors import InputError, LanguageError, setting
from ..ffmpeg import resample
from ..models import Voice
from .cache import ClipCache
from ..lazy import lazy_module

np = lazy_module("numpy")  # see lazy.py: loaded when first used

if TYPE_CHECKING:
    from ..loudness import Figures

ENGINES = ("piper", "gtts", "espeak")
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
    concurrency: int
    """How many texts may be synthesised at once (network engines wait, local ones compute);
    an engine that waits may also have `cancel()`, to stop waiting when the build ends."""

    def synthesize(self, text: str) -> np.ndarray:
        """`text` spoken, as mono int16 samples at `sample_rate`."""


def open_engine(voice: Voice, language: str) -> Engine:
    """The engine and voice `voice` names, checked to speak `language`; an engine or voice
    that cannot speak it is an error naming the engines that can."""
    if voice.engine == "piper":
        from .piper import PiperEngine as engine
    elif voice.engine == "gtts":
        from .google import GttsEngine as engine
    elif voice.engine == "espeak":
        from .espeak import EspeakEngine as engine
    else:
        raise InputError(f"unknown speech engine `{voice.engine}` "
                         f"(available: {', '.join(ENGINES)})")
    try:
        return engine(voice.name, voice.speed, language)
    except LanguageError as exc:
        others = [name for name in speakers_of(language) if name != voice.engine]
        hint = (f"; {', '.join(others)} can speak it ({setting('engine')} {others[0]})" if others
                else "; no engine here can speak it")
        raise LanguageError(exc.message + hint) from None


def voice_files(voice: Voice) -> list[Path]:
    """The files that make `voice` sound as it does (a piper model and its settings, the
    espeak-ng program), without opening the engine: what a rebuild must look at to see
    whether the voice changed. Google's voice is online: no file."""
    if voice.engine == "piper":
        from .piper import BUNDLED_ALIASES, _bundled_files

        if voice.name is None or voice.name in BUNDLED_ALIASES:
            return list(_bundled_files())
        model = Path(voice.name).expanduser()
        return [model, Path(f"{model}.json")]
    if voice.engine == "espeak":
        from .espeak import executable

        found = executable()
        return [Path(found)] if found else []
    return []


def cores() -> int:
    """The cores this process may run on: how many texts an engine whose speech runs on
    one of them (a process or a one-thread model each) says at once."""
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
               else os.cpu_count() or 1)


def language_family(tag: str) -> str:
    """`en-GB`, `en_US` → `en`: what two language tags must share for a voice to fit."""
    return tag.replace("_", "-").split("-")[0].lower()


@dataclass(frozen=True)
class VoiceInfo:
    """A voice `routinecast voices` lists."""

    engine: str
    """Engine name."""
    voice: str
    """What `--voice` takes for it."""
    languages: tuple[str, ...]
    """The languages it speaks, as codes."""
    note: str
    """What else to know of it (an accent)."""
    usable: str
    """`yes`, or why it cannot be used on this machine right now."""


def speakers_of(language: str) -> list[str]:
    """The engines with a voice for `language` (installed or not)."""
    from .espeak import voice_languages as espeak_voice_languages
    from .google import languages as google_languages
    from .piper import bundled_language

    family = language_family(language)

    def speaks(codes: Iterable[str]) -> bool:
        return any(language_family(code) == family for code in codes)

    return [engine for engine, codes in (
        ("piper", [bundled_language()]), ("gtts", google_languages()),
        ("espeak", espeak_voice_languages())) if speaks(codes)]


def list_voices(check_network: bool = True) -> list[VoiceInfo]:
    """Every engine's voices, and whether each can be used now (installed; for gTTS, Google
    reachable, checked with one connection unless `check_network` is false)."""
    from . import espeak, google, piper

    voices = [VoiceInfo("piper", piper.BUNDLED_ALIASES[0], (piper.bundled_language(),),
                        "bundled, the default", piper.usable()),
              VoiceInfo("piper", "PATH/TO/VOICE.onnx", (), "any piper voice, by path, with "
                        "its .onnx.json beside it", piper.usable())]
    online = google.reachable() if check_network else "not checked"
    voices.append(VoiceInfo("gtts", "com", tuple(sorted(google.languages())),
                            "add `slow` for slow reading", online))
    voices.extend(VoiceInfo("gtts", tld, tuple(codes.split()), f"{accent} accent", online)
                  for tld, (accent, codes) in google.ACCENTS.items())
    if espeak.executable():
        voices.extend(VoiceInfo("espeak", voice.name, voice.languages, voice.description,
                                "yes") for voice in espeak.voices())
    else:
        voices.append(VoiceInfo("espeak", "-", (), "about 100 languages",
                                f"no: {espeak.INSTALL}"))
    return voices


def synthesize_all(texts: Iterable[str], engine: Engine, cache: ClipCache, sample_rate: int,
                   progress: Callable[[int, int], None] | None = None,
                   figures: dict[str, Figures] | None = None,
                   cached_only: bool = False) -> dict[str, np.ndarray]:
    """Each distinct text as int16 samples at `sample_rate`, from the cache or the engine
    (with `cached_only`, from the cache alone: the texts it does not hold are left out).

    `progress(done, total)` is called after each text that had to be synthesised. Given a
    `figures` dict, each text's loudness figures are put in it: kept in the cache with the
    clip, measured once when it is made (or when its entry has none).
    """
    from ..sound import clip_figures

    def measure(clip: np.ndarray) -> Figures:
        return clip_figures(clip, sample_rate)

    clips: dict[str, np.ndarray] = {}
    missing: list[tuple[str, str]] = []
    for text in dict.fromkeys(texts):
        key = cache.key(engine.name, engine.voice_id, engine.speed, sample_rate, text)
        entry = cache.entry(key, sample_rate)
        if entry is None:
            missing.append((text, key))
            continue
        clips[text], kept = entry
        if figures is not None:
            if kept is None:  # an entry from before figures were kept: the samples stay
                kept = measure(clips[text])
                cache.put(key, clips[text], sample_rate, kept)
            figures[text] = kept
    if cached_only:
        return clips

    def synthesize(text: str) -> tuple[np.ndarray, Figures]:
        clip = trim_silence(resample(engine.synthesize(text), engine.sample_rate, sample_rate),
                            sample_rate)
        # measured in the worker too: with engines that run in parallel, so does this
        return clip, measure(clip)

    def keep(text: str, key: str, made: tuple[np.ndarray, Figures], done: int) -> None:
        # kept even if a later text fails; a clip another build stored meanwhile wins
        clip, measured = cache.add(key, *made[:1], sample_rate, made[1])
        if figures is not None:
            figures[text] = measured
        clips[text] = clip
        if progress:
            progress(done, len(missing))

    if engine.concurrency <= 1 or len(missing) <= 1:
        # in this thread, so that Ctrl-C stops it at once
        for done, (text, key) in enumerate(missing, start=1):
            keep(text, key, synthesize(text), done)
        return clips
    pool = ThreadPoolExecutor(max_workers=engine.concurrency)
    try:
        futures = {pool.submit(synthesize, text): (text, key) for text, key in missing}
        for done, future in enumerate(as_completed(futures), start=1):
            keep(*futures[future], future.result(), done)
    except BaseException:
        # the first failure ends the build: nothing more is started, and an engine waiting
        # to retry gives up rather than hold the error back
        getattr(engine, "cancel", lambda: None)()
        raise
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
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
