"""Cue sounds: the built-in tones, or the routine's own sound files, checked and decoded.

A sound file that cannot be used (not audio, silent, too long for its cue) is an error that
names the routine's key, found before anything is built. How loud each sound plays is the
levelling's business (`levelling.py`), not this module's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

from ..errors import AudioError, RoutineError
from ..ffmpeg import decode_pcm
from ..lazy import lazy_module
from ..models import SOUND_NAMES, Routine
from ..tones import tone

np = lazy_module("numpy")  # see lazy.py: loaded when first used

MAX_SOUND_MS = 3_000
"""Longest cue sound file; a countdown beep must also leave room in its second."""
MAX_BEEP_MS = 900
"""Longest countdown beep file (the `count` sound): one plays each second."""


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
