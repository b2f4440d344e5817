"""`Routine` → routine file text: the resolved routine, every value spelled out.

What an MP3 carries and a share folder holds, so that whoever receives it can change a
hold and rebuild. Loading the text gives back an equal routine (durations are written to
the millisecond), so building it reproduces the same plan.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import yaml

from .durations import describe_ms
from .models import Cues, Exercise, Phase, Routine, Sounds, Voice


def dump_routine(routine: Routine, comment: str = "") -> str:
    """The routine as YAML in the routine format, headed by `comment` (one `#` line each)."""
    data: dict[str, Any] = {"title": routine.title}
    for key in ("description", "author", "source"):
        if getattr(routine, key):
            data[key] = getattr(routine, key)
    data["language"] = routine.language
    if routine.equipment:
        data["equipment"] = list(routine.equipment)
    data["voice"] = _voice(routine.voice)
    defaults = routine.defaults
    data["defaults"] = {
        "hold": describe_ms(defaults.hold_ms), "rest": describe_ms(defaults.rest_ms),
        "breath": describe_ms(defaults.breath_ms),
        "rep_rest": describe_ms(defaults.rep_rest_ms),
        **_cues(defaults.cues),
    }
    if defaults.sounds != Sounds():
        data["defaults"]["sounds"] = asdict(defaults.sounds)
    for key in ("intro", "outro"):
        if getattr(routine, key):
            data[key] = getattr(routine, key)
    if routine.flat:
        data["exercises"] = [_exercise(ex, defaults.cues) for ex in routine.exercises]
    else:
        data["sections"] = [
            {"title": section.title, **({"intro": section.intro} if section.intro else {}),
             "exercises": [_exercise(ex, defaults.cues) for ex in section.exercises]}
            for section in routine.sections]
    head = "".join(f"# {line}".rstrip() + "\n" for line in comment.splitlines())
    return head + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


def _voice(voice: Voice) -> dict[str, Any]:
    out: dict[str, Any] = {"engine": voice.engine}
    if voice.name:
        out["name"] = voice.name
    out["speed"] = voice.speed
    return out


def _cues(cues: Cues, base: Cues | None = None) -> dict[str, Any]:
    """The cue settings as the file spells them: all of them, or those that differ from
    `base`."""
    values = {
        "countdown": cues.countdown, "countdown_style": cues.countdown_style,
        "halfway": cues.halfway, "remind_every": describe_ms(cues.remind_every_ms),
        "remind_say": cues.remind_say, "announce_next": cues.announce_next,
        "side_rest": describe_ms(cues.side_rest_ms), "counts": cues.counts,
    }
    fields = {"remind_every": "remind_every_ms", "side_rest": "side_rest_ms"}
    return {key: value for key, value in values.items()
            if base is None
            or getattr(cues, fields.get(key, key)) != getattr(base, fields.get(key, key))}


def _exercise(exercise: Exercise, default_cues: Cues) -> dict[str, Any]:
    out: dict[str, Any] = {"name": exercise.name, "id": exercise.id}
    if exercise.setup:
        out["setup"] = list(exercise.setup)
    plain = len(exercise.phases) == 1 and exercise.phases[0].say is None
    if plain:
        out["hold"] = describe_ms(exercise.phases[0].hold_ms)
        if exercise.phases[0].during:
            out["during"] = exercise.phases[0].during
    else:
        out["phases"] = [_phase(phase) for phase in exercise.phases]
    if exercise.reps != 1:
        out["reps"] = exercise.reps
    if exercise.sides:
        out["sides"] = list(exercise.sides)
    if exercise.sets != 1:
        out["sets"] = exercise.sets
    out["rest"] = describe_ms(exercise.rest_ms)
    out["rep_rest"] = describe_ms(exercise.rep_rest_ms)
    out.update(_cues(exercise.cues, default_cues))
    if exercise.notes:
        out["notes"] = exercise.notes
    return out


def _phase(phase: Phase) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if phase.say:
        out["say"] = phase.say
    out["hold"] = describe_ms(phase.hold_ms)
    if phase.during:
        out["during"] = phase.during
    return out
