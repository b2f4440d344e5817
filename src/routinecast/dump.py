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
from .checks import middle
from .models import Defaults, Exercise, Phase, Routine, Sounds, Voice
from .settings import changed_settings, top_settings


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
    if routine.pronounce:
        data["pronounce"] = dict(routine.pronounce)
    data.update(top_settings(routine))  # a fitted routine has none: its values are chosen
    defaults = routine.defaults
    data["defaults"] = {
        "hold": _span(defaults.hold_ms, defaults.hold_range, None),
        "rest": describe_ms(defaults.rest_ms),
        "breath": describe_ms(defaults.breath_ms),
        "rep_rest": describe_ms(defaults.rep_rest_ms),
        **changed_settings(defaults.cues, None, "defaults"),
    }
    if defaults.sounds != Sounds():
        data["defaults"]["sounds"] = asdict(defaults.sounds)
    for key in ("intro", "outro"):
        if getattr(routine, key):
            data[key] = getattr(routine, key)
    short = dict(routine.short_forms)
    if routine.flat:
        data["exercises"] = [_exercise(ex, defaults, short) for ex in routine.exercises]
    else:
        data["sections"] = [
            {"title": section.title, **({"intro": section.intro} if section.intro else {}),
             "exercises": [_exercise(ex, defaults, short) for ex in section.exercises]}
            for section in routine.sections]
    head = "".join(f"# {line}".rstrip() + "\n" for line in comment.splitlines())
    return head + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


def _voice(voice: Voice) -> dict[str, Any]:
    out: dict[str, Any] = {"engine": voice.engine}
    if voice.name:
        out["name"] = voice.name
    out["speed"] = voice.speed
    return out


def _span(ms: int, span: tuple[int, int] | None, breath_ms: int | None) -> str:
    """A hold as the file writes it: a range while its value is the range's middle (what
    loading it gives back), else the value; in breaths when it was written in them."""
    unit = breath_ms or 1000
    if span and middle(*span, unit) != ms:
        span = None
    if breath_ms and not any(value % breath_ms for value in (ms, *(span or ()))):
        low, high = (span or (ms, ms))
        count = f"{low // breath_ms}-{high // breath_ms}" if span else f"{ms // breath_ms}"
        return f"{count} breaths"
    if span:
        return "-".join(f"{end / 1000:.3f}".rstrip("0").rstrip(".") for end in span) + "s"
    return describe_ms(ms)


def _count(value: int, span: tuple[int, int] | None) -> Any:
    if span and middle(*span, 1) == value:
        return f"{span[0]}-{span[1]}"
    return value


def _spoken(text: str, short: dict[str, str]) -> Any:
    return {"say": text, "cue": short[text]} if text in short else text


def _exercise(exercise: Exercise, defaults: Defaults, short: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {"name": exercise.name, "id": exercise.id}
    for key in ("about", "notes"):
        if getattr(exercise, key):
            out[key] = getattr(exercise, key)
    if exercise.equipment:
        out["equipment"] = list(exercise.equipment)
    if exercise.optional:
        out["optional"] = exercise.optional
    if exercise.breath_ms != defaults.breath_ms:
        out["breath"] = describe_ms(exercise.breath_ms)
    if exercise.setup:
        out["setup"] = [_spoken(text, short) for text in exercise.setup]
    if exercise.setup_each_side:
        out["setup_each_side"] = True
    plain = len(exercise.phases) == 1 and exercise.phases[0].say is None
    if exercise.flow:
        out["flow"] = [{"say": move.say, **({"cue": short[move.say]} if move.say in short
                                              else {}),
                        **({"breaths": move.breaths} if move.breaths != 1 else {})}
                       for move in exercise.flow]
    elif plain and not exercise.phases[0].move and exercise.phases[0].cues is None:
        phase = exercise.phases[0]
        out["hold"] = _span(phase.hold_ms, phase.hold_range, phase.breath_ms)
        if phase.during:
            out["during"] = _spoken(phase.during, short)
    else:
        out["phases"] = [_phase(phase, exercise, short) for phase in exercise.phases]
    if exercise.reps != 1:
        out["reps"] = _count(exercise.reps, exercise.reps_range)
    if exercise.sides:
        out["sides"] = list(exercise.sides)
    if exercise.sets != 1:
        out["sets"] = _count(exercise.sets, exercise.sets_range)
    out["rest"] = describe_ms(exercise.rest_ms)
    out["rep_rest"] = describe_ms(exercise.rep_rest_ms)
    out.update(changed_settings(exercise.cues, defaults.cues, "exercise"))
    return out


def _phase(phase: Phase, exercise: Exercise, short: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if phase.say:
        out["say"] = phase.say
        if phase.say in short:
            out["cue"] = short[phase.say]
    out["hold"] = _span(phase.hold_ms, phase.hold_range, phase.breath_ms)
    if phase.during:
        out["during"] = _spoken(phase.during, short)
    if phase.move:
        out["move"] = True
    if phase.cues:
        out.update(changed_settings(phase.cues, exercise.cues, "phase"))
    return out
