"""Customising a routine without editing it: the command line's overrides and profiles.

Overrides come in layers applied in order, each over the one before and all over the routine
file: a profile (`--profile FILE`), then the command line. `customise` is pure: a routine
and layers in, the customised routine and a record of every value changed out.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from dataclasses import dataclass, replace
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any, Iterable, Sequence

from .durations import describe_ms
from .errors import InputError, OverrideError, ProfileError
from .files import write_text_atomic
from .routine import slugify
from .checks import MAX_COUNT, MAX_HOLD_MS, Checker, Map, middle, read_mapping
from .models import Change, Cues, Exercise, Phase, Routine
from .settings import BUILD_SETTINGS, BY_KEY, SETTINGS, read_settings

MAX_SCALE = 100
COMMAND_LINE = "command line"
PROFILE_KEYS = ("hold-scale", "hold", "reps", "sets", "rest", "engine", "voice", "speed",
                "skip", *(setting.name for setting in SETTINGS))

_TARGET = re.compile(r"(?P<id>[a-z0-9]+(?:[-_][a-z0-9]+)*)(?:\.(?P<phase>[0-9]+))?")
_SCALE = re.compile(r"[0-9]+(?:\.[0-9]+)?|\.[0-9]+")

_PROFILE_HEAD = """\
# A routinecast profile: your own settings, for any routine.
# Use it with: routinecast build ROUTINE --profile THIS-FILE
# Options given on the command line win over these; these win over the routine file.
# Ids that a routine does not have are skipped with a note. Delete the `#` to use a line.

hold-scale: 1.25          # every hold 25 % longer (except those set under `hold`)
# hold:                   # holds by exercise id; ID.N is phase N of an exercise with phases
#   childs-pose: 45s
#   standing-roll-down.2: 15s
# reps: {cat-and-camel: 8}
# sets: {hamstring-stretch: 2}
# rest: 10s               # silence between exercises
# skip: [butterfly]       # exercise (or section) ids to leave out

# Settings (each also a command-line option: --NAME)
"""
_PROFILE_TAIL = """
# Voice
# engine: piper
# voice: joe
# speed: 0.9              # 0.5 to 2.0
"""
_PROFILE_SHOWN = {"level": "gentle", "halfway": "voice", "remind-every": "1m",
                  "guidance": "brief"}
"""Settings the example profile turns on; the others are listed commented out."""


def _profile_line(setting) -> str:
    value = _PROFILE_SHOWN.get(setting.name)
    if value is None:
        default = setting.show(setting.default)
        value = "15m" if setting.name == "length" else \
            str(default).lower() if isinstance(default, bool) else default
    line = f"{'' if setting.name in _PROFILE_SHOWN else '# '}{setting.name}: {value}"
    return f"{line:<26}# {setting.help}"


PROFILE_EXAMPLE = (_PROFILE_HEAD + "\n".join(_profile_line(s) for s in SETTINGS) + "\n"
                   + _PROFILE_TAIL)
"""What `routinecast profile init` writes: every setting of the table, explained."""


@dataclass(frozen=True)
class Target:
    """An exercise (or, for `only` and `skip`, a section) an override names."""

    id: str
    """The exercise or section id."""
    phase: int | None = None
    """Phase number from 1 (`--hold ID.N`); None for the whole exercise."""
    value: int = 0
    """The value given: a hold in ms, a number of reps or sets; 0 for `only` and `skip`."""
    given: str = ""
    """The override as the user wrote it, for messages (`--hold nosuch=10s`, `hold.nosuch`)."""
    line: int | None = None
    """Line in the profile; None on the command line."""


@dataclass(frozen=True)
class Overrides:
    """One layer of overrides: a profile, or the command line. None and () change nothing."""

    path: str | None = None
    """The profile file; None for the command line."""
    hold_scale: Fraction | None = None
    """Factor for every hold that no layer sets explicitly."""
    lines: tuple[tuple[str, int | None], ...] = ()
    """(key, line) of each setting in the profile, for messages; empty for the command line."""
    holds: tuple[Target, ...] = ()
    """Holds set explicitly, for a whole exercise or one phase."""
    reps: tuple[Target, ...] = ()
    """Reps by exercise."""
    sets: tuple[Target, ...] = ()
    """Sets by exercise."""
    rest_ms: int | None = None
    """Rest after every exercise."""
    engine: str | None = None
    """Text-to-speech engine."""
    voice: str | None = None
    """Voice name (or path) for the engine."""
    speed: float | None = None
    """Speaking rate, 1.0 the voice's own."""
    only: tuple[Target, ...] = ()
    """Exercises or sections to keep; empty keeps all."""
    skip: tuple[Target, ...] = ()
    """Exercises or sections to leave out."""
    cues: tuple[tuple[str, Any], ...] = ()
    """(`Cues` field, value) pairs set for every exercise."""
    level: str | None = None
    """`gentle`, `standard` or `strong`: which value of every range."""
    length_ms: int | None = None
    """A target length for the track."""

    @property
    def origin(self) -> str:
        """`command line` or `profile FILE`."""
        return f"profile {self.path}" if self.path else COMMAND_LINE

    @property
    def strict(self) -> bool:
        """The command line names ids in one routine: an unknown one is a mistake. A profile
        is meant for many routines: ids a routine lacks are noted and ignored."""
        return self.path is None

    def is_empty(self) -> bool:
        return self == Overrides(path=self.path, lines=self.lines)

    def blame(self, key: str) -> tuple[str, str | None, int | None]:
        """How messages name setting `key` of this layer: (`--voice` or `voice`, file, line)."""
        if self.strict:
            return f"--{key}", None, None
        return key, self.path, dict(self.lines).get(key)


@dataclass(frozen=True)
class Customised:
    """A routine with its overrides applied."""

    routine: Routine
    """The routine as it will be built."""
    changes: tuple[Change, ...] = ()
    """Every value that differs from the routine file."""
    notes: tuple[str, ...] = ()
    """Profile settings that did not apply to this routine, one line each."""
    variant: str = ""
    """Tells this build apart from the plain one in file names (`me-x1.5`); empty when no
    override was given."""


# -- reading overrides ---------------------------------------------------------------------


def _target(text: str, given: str, line: int | None, error, phases: bool) -> tuple[str, int | None]:
    match = _TARGET.fullmatch(text)
    if not match or (match["phase"] and not phases):
        raise error(f"{given}: `{text}` is not an exercise id"
                    + (" (or ID.N for phase N)" if phases else ""), line)
    phase = int(match["phase"]) if match["phase"] else None
    if phase == 0:
        raise error(f"{given}: phases count from 1", line)
    return match["id"], phase


def _option_error(message: str, _line: int | None) -> OverrideError:
    return OverrideError(message)


def parse_scale(value: Any, given: str, error=_option_error, line: int | None = None) -> Fraction:
    """`1.5` or `"1.5"` → Fraction(3, 2), exactly, so that scaled holds round the same way
    everywhere."""
    text = str(value).strip() if not isinstance(value, bool) else ""
    if not _SCALE.fullmatch(text) or Fraction(text) == 0 or Fraction(text) > MAX_SCALE:
        raise error(f"{given}: must be a number above 0 and at most {MAX_SCALE}, like 1.5 "
                    "(1.5 makes every hold half as long again)", line)
    return Fraction(text)


def command_line(hold_scale: str | float | None = None, hold: Iterable[str] = (),
                 reps: Iterable[str] = (), sets: Iterable[str] = (), rest: str | None = None,
                 engine: str | None = None, voice: str | None = None,
                 speed: float | None = None, only: Iterable[str] = (),
                 skip: Iterable[str] = (), **settings: Any) -> Overrides:
    """The overrides as the command line spells them: `hold=["standing-roll-down.2=15s"]`,
    `reps=["cat-and-camel=8"]`, `rest="10s"`, `only=["a,b"]`, and the settings of
    `settings.SETTINGS` by their keys (`halfway="voice"`, `remind_every="1m"`,
    `counts=True`, `level="gentle"`, `length="15m"`). None leaves a value alone."""
    check = Checker(None, OverrideError)
    error = _option_error
    def pairs(option: str, items: Iterable[str], phases: bool) -> tuple[tuple[str, str, str], ...]:
        found = []
        for item in items:
            given = f"--{option} {item}"
            name, sep, value = item.partition("=")
            if not sep or not value.strip():
                example = "childs-pose=45s" if option == "hold" else "cat-and-camel=8"
                raise OverrideError(f"{given}: write ID=VALUE, e.g. --{option} {example}")
            found.append((name.strip(), value.strip(), given))
        return tuple(found)

    holds = []
    for name, value, given in pairs("hold", hold, True):
        target, phase = _target(name, given, None, error, True)
        holds.append(Target(target, phase, check.duration(value, given, None, None), given))
    counted: dict[str, list[Target]] = {"reps": [], "sets": []}
    for option, items in (("reps", reps), ("sets", sets)):
        for name, value, given in pairs(option, items, False):
            target, _ = _target(name, given, None, error, False)
            number = int(value) if re.fullmatch(r"-?[0-9]+", value) else value
            counted[option].append(Target(target, None, check.count(number, given, None, 1,
                                                                    MAX_COUNT), given))
    chosen = {}
    for option, items in (("only", only), ("skip", skip)):
        found = []
        for item in items:
            given = f"--{option} {item}"
            names = [name.strip() for name in item.split(",")]
            if not all(names):
                raise OverrideError(f"{given}: give exercise or section ids separated by commas, "
                                    f"e.g. --{option} childs-pose,cat-and-camel")
            found += [Target(_target(name, given, None, error, False)[0], given=given)
                      for name in names]
        chosen[option] = tuple(found)
    values = Map({key: value for key, value in settings.items() if value is not None})
    values.key_lines = dict.fromkeys(values)
    unknown = set(values) - set(BY_KEY)
    if unknown:
        raise TypeError(f"unknown settings: {', '.join(sorted(unknown))}")
    return Overrides(
        hold_scale=parse_scale(hold_scale, f"--hold-scale {hold_scale}")
        if hold_scale is not None else None,
        holds=tuple(holds), reps=tuple(counted["reps"]), sets=tuple(counted["sets"]),
        rest_ms=check.duration(rest, f"--rest {rest}", None, None, allow_zero=True)
        if rest is not None else None,
        **_voice(engine, voice, speed, check, lambda key: f"--{key}", {}),
        only=chosen["only"], skip=chosen["skip"],
        **_settings(check, values, lambda key: key, lambda key: BY_KEY[key].option),
    )


def _voice(engine: Any, name: Any, speed: Any, check: Checker, spell,
           lines: dict) -> dict[str, Any]:
    """The `engine`, `voice` and `speed` fields of `Overrides`, validated."""
    return {
        "engine": check.text(engine, spell("engine"), lines.get("engine"))
        if engine is not None else None,
        "voice": check.text(name, spell("voice"), lines.get("voice"))
        if name is not None else None,
        "speed": check.speed(speed, spell("speed"), lines.get("speed"))
        if speed is not None else None,
    }


def _settings(check: Checker, data: Map, spell, shown) -> dict[str, Any]:
    """The `cues`, `level` and `length_ms` fields of `Overrides` from the settings present in
    `data`; `spell` gives a key as `data` holds it, `shown` as messages name it."""
    present = [s for s in SETTINGS if data.get(spell(s.key)) is not None]
    named = Map({shown(s.key): data[spell(s.key)] for s in present})
    named.key_lines = {shown(s.key): data.key_lines.get(spell(s.key)) for s in present}
    cues = read_settings(check, named, "", Cues(), None, None, spell=shown)
    found: dict[str, Any] = {
        "cues": tuple((s.field, getattr(cues, s.field)) for s in present if s.cascades)}
    for setting in BUILD_SETTINGS:
        if setting in present:
            name = shown(setting.key)
            found[setting.field] = setting.parse(check, named[name], name,
                                                 named.key_lines[name])
    return found


def load_profile(path: str | Path) -> Overrides:
    """Read a profile: the command line's overrides under the options' names."""
    path = Path(path)
    # a profile with every line commented out is a profile that changes nothing
    data = read_mapping(path, "profile", ", ".join(PROFILE_KEYS[:4]) + ", …", ProfileError,
                        empty_ok=True)
    return profile_from_mapping(data, str(path))


def profile_from_mapping(data: Map, name: str, prefix: str = "") -> Overrides:
    """A profile's overrides from a mapping `read_mapping` read (a profile file, or a
    listener of a batch manifest), every mistake a `ProfileError` naming `name` and the line;
    `prefix` goes before each key in messages (`listeners[2].`)."""
    check = Checker(name, ProfileError)
    check.mapping(data, prefix.rstrip("."), data.line, PROFILE_KEYS)
    lines = data.key_lines

    def error(message: str, line: int | None) -> ProfileError:
        return ProfileError(f"{prefix}{message}", name, line)

    def targets(key: str, phases: bool) -> tuple[Target, ...]:
        if data.get(key) is None:
            return ()
        table = data[key]
        if not isinstance(table, Map):
            raise check.fail(lines[key], f"{prefix}{key}", "must be a mapping of exercise ids "
                             f"to values, e.g. {key}: {{childs-pose: "
                             f"{'45s' if key == 'hold' else 8}}}")
        found = []
        for target_text, value in table.items():
            line = table.key_lines[target_text]
            given = f"{key}.{target_text}"
            target, phase = _target(str(target_text), given, line, error, phases)
            if key == "hold":
                amount = check.duration(value, f"{prefix}{given}", line, None)
            else:
                amount = check.count(value, f"{prefix}{given}", line, 1, MAX_COUNT)
            found.append(Target(target, phase, amount, given, line))
        return tuple(found)

    skip: tuple[Target, ...] = ()
    if data.get("skip") is not None:
        items = data["skip"] if isinstance(data["skip"], list) else [data["skip"]]
        item_lines = getattr(data["skip"], "item_lines", [lines["skip"]])
        skip = tuple(Target(_target(check.text(item, f"{prefix}skip", line), "skip", line,
                                    error, False)[0], given="skip", line=line)
                     for item, line in zip(items, item_lines))
    return Overrides(
        path=name,
        hold_scale=parse_scale(data["hold-scale"], f"{prefix}hold-scale", error,
                               lines["hold-scale"])
        if data.get("hold-scale") is not None else None,
        lines=tuple(lines.items()),
        holds=targets("hold", True), reps=targets("reps", False), sets=targets("sets", False),
        rest_ms=check.duration(data["rest"], f"{prefix}rest", lines["rest"], None,
                               allow_zero=True)
        if data.get("rest") is not None else None,
        **_voice(data.get("engine"), data.get("voice"), data.get("speed"), check,
                 lambda key: f"{prefix}{key}", lines),
        skip=skip,
        **_settings(check, data, lambda key: key.replace("_", "-"),
                    lambda key: f"{prefix}{key.replace('_', '-')}"),
    )


def write_profile_example(path: str | Path, overwrite: bool = False) -> None:
    """Write `PROFILE_EXAMPLE` to `path` (a `.yaml` file in an existing folder)."""
    path = Path(path)
    if path.suffix.lower() not in (".yaml", ".yml"):
        raise InputError(f"{path}: a profile is a .yaml file; name it e.g. {path.stem}.yaml")
    write_text_atomic(path, PROFILE_EXAMPLE, overwrite=overwrite, make_folder=False)


# -- applying them -------------------------------------------------------------------------


def customise(routine: Routine, layers: Sequence[Overrides] = ()) -> Customised:
    """`routine` with `layers` applied in order, each over the one before."""
    layers = [layer for layer in layers if not layer.is_empty()]
    if not layers:
        return Customised(routine)
    by_id = {exercise.id: exercise for exercise in routine.exercises}
    section_ids = {section.id for section in routine.sections if section.id}
    notes: list[str] = []
    changes: list[Change] = []

    def known(layer: Overrides, target: Target, sections: bool = False,
              held: bool = False) -> bool:
        """Whether the routine has what `target` names (`held`: a hold of it); a mistake or
        a note if not."""
        ids = [*by_id, *(section_ids if sections else ())]
        problem = None
        if held and target.id in by_id and by_id[target.id].flow:
            problem = (f"`{target.id}` is a breath-paced flow: its moves follow the breath "
                       "(its `breath`), not a hold")
        elif target.id not in ids:
            near = difflib.get_close_matches(target.id, ids, n=1, cutoff=0.5)
            kind = "exercise or section" if sections and section_ids else "exercise"
            problem = f"no {kind} `{target.id}`" + (f" (did you mean `{near[0]}`?)" if near
                                                    else f"; the ids are {', '.join(ids)}")
        elif target.phase is not None and target.phase > len(by_id[target.id].phases):
            count = len(by_id[target.id].phases)
            problem = (f"`{target.id}` has {count} phase{'s' if count != 1 else ''}, "
                       f"so there is no phase {target.phase}")
        if problem is None:
            return True
        if layer.strict:
            raise OverrideError(f"{target.given}: {problem}", routine.path)
        notes.append(f"{layer.path}:{target.line}: {target.given} does not apply to "
                     f"{routine.path}: {problem}; ignored")
        return False

    # holds: explicit values layer by layer (a whole exercise before one phase), then scale
    explicit: dict[tuple[str, int], tuple[int, str]] = {}
    scale: tuple[Fraction, Overrides] | None = None
    for layer in layers:
        for target in sorted(layer.holds, key=lambda t: t.phase is not None):
            if known(layer, target, held=True):
                numbers = [target.phase] if target.phase else \
                    range(1, len(by_id[target.id].phases) + 1)
                for number in numbers:
                    explicit[target.id, number] = (target.value,
                                                   f"{target.given} ({layer.origin})")
        if layer.hold_scale is not None:
            scale = (layer.hold_scale, layer)

    def scaled_hold(exercise: Exercise, number: int, phase: Phase) -> int:
        if (exercise.id, number) in explicit:
            value, origin = explicit[exercise.id, number]
        elif scale and not phase.move:  # a movement takes the time it takes
            factor, layer = scale
            value = max(1, round(phase.hold_ms * factor))
            given = f"{layer.blame('hold-scale')[0]} {_decimal(factor)}"
            origin = f"{given} ({layer.origin})"
            if value > MAX_HOLD_MS:
                where = routine.path if layer.strict else layer.path
                raise OverrideError(
                    f"{given}: `{exercise.id}` would hold {describe_ms(value)}, over the limit "
                    f"of {describe_ms(MAX_HOLD_MS)}" + ("" if layer.strict
                                                        else f" (in {routine.path})"),
                    where, layer.blame("hold-scale")[2])
        else:
            return phase.hold_ms
        if value != phase.hold_ms:
            plain = len(exercise.phases) == 1 and exercise.phases[0].say is None
            changes.append(Change(exercise.id, "hold", None if plain else number,
                                  phase.hold_ms, value, origin))
        return value

    counts: dict[tuple[str, str], tuple[int, str]] = {}
    rest: tuple[int, str] | None = None
    skipped: set[str] = set()
    only: set[str] = set()
    cue_values: dict[str, tuple[Any, str]] = {}
    voice = routine.voice
    for layer in layers:
        for key, targets in (("reps", layer.reps), ("sets", layer.sets)):
            for target in targets:
                if known(layer, target):
                    counts[target.id, key] = (target.value, f"{target.given} ({layer.origin})")
        if layer.rest_ms is not None:
            rest = (layer.rest_ms, f"{layer.blame('rest')[0]} {describe_ms(layer.rest_ms)} "
                                   f"({layer.origin})")
        skipped |= {t.id for t in layer.skip if known(layer, t, sections=True)}
        only |= {t.id for t in layer.only if known(layer, t, sections=True)}
        for key, value in layer.cues:
            cue_values[key] = (value, layer.origin)
        given = {name: value for name, value in (("engine", layer.engine),
                                                  ("name", layer.voice),
                                                  ("speed", layer.speed))
                 if value is not None}
        voice = replace(voice, **given)

    for name in ("engine", "name", "speed"):
        if getattr(voice, name) != getattr(routine.voice, name):
            origin = next(layer.origin for layer in reversed(layers)
                          if getattr(layer, "voice" if name == "name" else name) is not None)
            changes.append(Change(None, "voice" if name == "name" else name, None,
                                  getattr(routine.voice, name), getattr(voice, name), origin))

    sections = []
    for section in routine.sections:
        kept = tuple(exercise for exercise in section.exercises
                     if (not only or exercise.id in only or section.id in only)
                     and exercise.id not in skipped and section.id not in skipped)
        if kept:
            sections.append((section, kept))
    if not sections:
        used = [f"{layer.blame(key)[0]} ({layer.origin})" for layer in layers
                for key in ("only", "skip") if getattr(layer, key)]
        raise OverrideError(f"no exercise is left to build after {' and '.join(used)}",
                            routine.path)
    last = sections[-1][1][-1]

    for key, (value, origin) in cue_values.items():
        before = {getattr(ex.cues, key) for _, kept in sections for ex in kept}
        if before != {value}:
            changes.append(Change(None, key.removesuffix("_ms"), None,
                                  before.pop() if len(before) == 1 else "varies", value, origin))
    new_cues = {key: value for key, (value, _) in cue_values.items()}

    level: tuple[str, str] | None = None
    length: tuple[int, str] | None = None
    for layer in layers:
        if layer.level is not None:
            level = (layer.level, f"{layer.blame('level')[0]} {layer.level} ({layer.origin})")
        if layer.length_ms is not None:
            length = (layer.length_ms, f"{layer.blame('length')[0]} "
                                       f"{describe_ms(layer.length_ms)} ({layer.origin})")
    if length:
        changes.append(Change(None, "length", None, routine.length_ms, length[0], length[1]))
    elif level and level[0] != "standard" and routine.length_ms:
        shorter = level[0] == "gentle"
        notes.append(f"the own length of {routine.path}, {describe_ms(routine.length_ms)}, "
                     f"is its standard level's: {level[1]} makes it "
                     f"{'shorter' if shorter else 'longer'} by as much as the level "
                     f"{'shortens' if shorter else 'lengthens'} the routine; give a length to "
                     "set one exactly")

    def pick(span: tuple[int, int], unit: int) -> int:
        """The value of `span` at the chosen level."""
        return {"gentle": span[0], "strong": span[1]}.get(level[0] if level else "",
                                                           middle(*span, unit))

    def leveled(exercise: Exercise, number: int, phase: Phase) -> Phase:
        if not (level and phase.hold_range):
            return phase
        value = pick(phase.hold_range, phase.breath_ms or 1000)
        plain = len(exercise.phases) == 1 and exercise.phases[0].say is None
        changes.append(Change(exercise.id, "hold", None if plain else number,
                              phase.hold_range, value, level[1]))
        return replace(phase, hold_ms=value)

    def held(exercise: Exercise, number: int, phase: Phase) -> Phase:
        phase = leveled(exercise, number, phase)
        value = scaled_hold(exercise, number, phase)
        span = phase.hold_range
        if (exercise.id, number) in explicit:
            span = None  # a hold set by hand is no longer a choice
        elif scale and span:
            span = (max(1, round(span[0] * scale[0])), max(1, round(span[1] * scale[0])))
        cues = replace(phase.cues, **new_cues) if phase.cues else None
        breath = phase.breath_ms if phase.breath_ms and not value % phase.breath_ms and \
            not (span and any(end % phase.breath_ms for end in span)) else None
        return replace(phase, hold_ms=value, hold_range=span, breath_ms=breath, cues=cues)

    def changed(exercise: Exercise) -> Exercise:
        phases = exercise.phases if exercise.flow else tuple(  # a flow follows the breath
            held(exercise, number, phase) for number, phase in enumerate(exercise.phases, 1))
        values: dict[str, Any] = {}
        for key in ("reps", "sets"):
            span = getattr(exercise, f"{key}_range")
            if level and span:
                values[key] = pick(span, 1)
                changes.append(Change(exercise.id, key, None, span, values[key], level[1]))
            if (exercise.id, key) in counts:
                value, origin = counts[exercise.id, key]
                if value != values.get(key, getattr(exercise, key)):
                    changes.append(Change(exercise.id, key, None,
                                          values.get(key, getattr(exercise, key)), value,
                                          origin))
                values[key], values[f"{key}_range"] = value, None
        if rest and rest[0] != exercise.rest_ms:
            if exercise is not last:  # no rest follows the last exercise
                changes.append(Change(exercise.id, "rest", None, exercise.rest_ms, rest[0],
                                      rest[1]))
            values["rest_ms"] = rest[0]
        return replace(exercise, phases=phases, cues=replace(exercise.cues, **new_cues),
                       **values)

    customised = replace(
        routine, voice=voice, length_ms=length[0] if length else routine.length_ms,
        setting_lines=tuple(pair for pair in routine.setting_lines
                            if not (length and pair[0] == "length")),
        sections=tuple(replace(section, exercises=tuple(changed(ex) for ex in kept))
                       for section, kept in sections),
        defaults=replace(routine.defaults, cues=replace(routine.defaults.cues, **new_cues)))
    return Customised(customised, tuple(changes), tuple(notes), _variant(layers))


def _decimal(value: Fraction) -> str:
    """3/2 → `1.5`: a scale as the user wrote it (scales are read from decimals)."""
    return str(Decimal(value.numerator) / Decimal(value.denominator))


def _variant(layers: Sequence[Overrides]) -> str:
    """`me-gentle-15m-espeak-x1.5`: the profiles' names, then what the command line changed
    in words people read (level, length, engine, voice, speed, scale, guidance), and a digest
    only for the rest, so that each variant gets its own file name."""
    parts = []
    for layer in layers:
        if not layer.strict:
            parts.append(Path(layer.path).stem)
            continue
        named = {
            "level": layer.level,
            "length_ms": describe_ms(layer.length_ms) if layer.length_ms else None,
            "engine": layer.engine,
            "voice": slugify(Path(layer.voice).name.removesuffix(".onnx"))
            if layer.voice else None,
            "speed": f"speed{layer.speed:g}" if layer.speed is not None else None,
            "hold_scale": f"x{_decimal(layer.hold_scale)}" if layer.hold_scale else None,
        }
        guidance = dict(layer.cues).get("guidance")
        parts += [part for part in (*named.values(), guidance) if part]
        rest = replace(layer, **dict.fromkeys(named),
                       cues=tuple(pair for pair in layer.cues if pair[0] != "guidance"))
        if not rest.is_empty():
            digest = hashlib.sha256(repr(rest).encode()).hexdigest()[:6]
            parts.append(f"custom-{digest}")
    return "-".join(parts)
