"""Routine files (YAML or JSON) → `Routine`, strictly validated.

Every mistake becomes one `RoutineError` naming the file, the line and the key
(`content/x.yaml:14: exercises[2].hold: "-5s" is not a positive duration`), with the
nearest valid key suggested for unknown keys.
"""

from __future__ import annotations

import difflib
import json
import re
import unicodedata
from dataclasses import replace
from pathlib import Path
from typing import Any, Iterable

import yaml

from .durations import DurationSyntaxError, describe_ms, parse_duration
from .errors import InputError, RoutineError
from .models import (COUNTDOWN_STYLES, DEFAULT_SIDES, HALFWAY_STYLES, REMIND_SAYS,
                     SOUND_NAMES, Cues, Defaults, Exercise, Phase, Routine, Section, Sounds,
                     Voice)

MAX_FILE_BYTES = 1_000_000
MAX_NODES = 100_000
MAX_TEXT_CHARS = 2_000
MAX_HOLD_MS = 2 * 3_600_000
MAX_COUNT = 1_000
MAX_TOC_ENTRIES = 255
"""Chapters in one table of contents: ID3 counts a CTOC frame's entries in one byte. The top
one also holds the introduction and closing chapters, a section's its spoken title."""
MAX_COUNTDOWN = 10
MIN_REMIND_MS = 10_000
SPEED_RANGE = (0.5, 2.0)
SUFFIXES = (".yaml", ".yml", ".json")

TOP_KEYS = ("title", "description", "author", "source", "language", "equipment", "voice",
            "defaults", "intro", "outro", "exercises", "sections")
CUE_KEYS = ("countdown", "countdown_style", "halfway", "remind_every", "remind_say",
            "announce_next", "side_rest", "counts")
DEFAULTS_KEYS = ("hold", "rest", "breath", "rep_rest", "sounds", *CUE_KEYS)
VOICE_KEYS = ("engine", "name", "speed")
SECTION_KEYS = ("title", "intro", "exercises")
EXERCISE_KEYS = ("name", "id", "setup", "hold", "phases", "during", "reps", "sides", "sets",
                 "rest", "rep_rest", *CUE_KEYS, "notes")
PHASE_KEYS = ("say", "hold", "during")

_ID = re.compile(r"[a-z0-9]+(?:[-_][a-z0-9]+)*")
_LANGUAGE = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*")


class _Map(dict):
    """A mapping read from the file, remembering the line of itself and of each key."""

    line: int | None = None
    key_lines: dict[str, int | None]


class _Seq(list):
    """A list read from the file, remembering the line of itself and of each item."""

    line: int | None = None
    item_lines: list[int | None]


def slugify(text: str) -> str:
    """`Child's Pose` → `childs-pose`: lowercase ASCII words joined by hyphens."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    ascii_text = re.sub(r"['’`]", "", ascii_text.lower())
    return re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")


def load_routine(path: str | Path) -> Routine:
    """Read and validate a routine file; raise `RoutineError` on the first mistake."""
    path = Path(path)
    data = read_mapping(path, "routine", "title, exercises, …", RoutineError)
    return _Validator(str(path)).routine(data)


def read_mapping(path: Path, what: str, keys: str,
                 error: type[InputError] = RoutineError, empty_ok: bool = False) -> _Map:
    """Read a small YAML or JSON file of `what` (a routine, a profile) whose top level is a
    mapping of `keys`; every value keeps its line. Mistakes raise `error`; an empty file is
    one too unless `empty_ok`."""
    name = str(path)
    if path.is_dir():
        raise error(f"is a folder, not a {what} file (give the .yaml files in it, "
                    f"e.g. {path}/*.yaml)", name)
    if path.suffix.lower() not in SUFFIXES:
        raise error(f"unsupported file type `{path.suffix or '(none)'}`; "
                    f"write the {what} as {', '.join(SUFFIXES)}", name)
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise error("no such file", name) from None
    except OSError as exc:
        raise error(f"cannot be read ({exc.strerror})", name) from None
    if len(raw) > MAX_FILE_BYTES:
        raise error(f"is larger than {MAX_FILE_BYTES // 1_000_000} MB; "
                    f"a {what} is a short text file", name)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise error("is not UTF-8 text; save it as UTF-8", name, line) from None
    if path.suffix.lower() == ".json":
        try:
            json.loads(text)
        except json.JSONDecodeError as exc:
            raise error(f"invalid JSON: {exc.msg}", name, exc.lineno) from None
        # valid JSON has tabs only between tokens, where YAML wants spaces
        text = text.replace("\t", " ")
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        if node is None:
            if empty_ok:
                empty = _Map()
                empty.line, empty.key_lines = 1, {}
                return empty
            raise error(f"is empty; a {what} needs at least {keys}", name, 1)
        data = _Converter(name, error).convert(node)
    except yaml.reader.ReaderError as exc:
        line = text[: exc.position].count("\n") + 1
        char = exc.character
        shown = f"U+{char:04X}" if isinstance(char, int) else repr(char)
        raise error(f"contains the control character {shown}, which a {what} cannot "
                    "hold; delete it", name, line) from None
    except RecursionError:
        raise error(f"is nested too deeply to be a {what}", name) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        if exc.context_mark and _UNCLOSED in _explain_yaml(exc):
            mark = exc.context_mark  # the end of the file says less than where it opened
        line = mark.line + 1 if mark else None
        raise error(f"invalid YAML: {_explain_yaml(exc)}", name, line) from None
    except yaml.YAMLError as exc:
        raise error(f"invalid YAML: {exc}", name) from None
    if not isinstance(data, _Map):
        raise error(f"must be a mapping of keys ({keys}), not {_kind(data)}",
                    name, node.start_mark.line + 1)
    return data


_UNCLOSED = "a quote or bracket opened here is never closed"
_YAML_HINTS = (
    ("end of stream", _UNCLOSED),
    ("<stream end>", _UNCLOSED),
    ("expected <block end>", "the indentation does not line up with the lines above"),
    ("mapping values are not allowed", "a `: ` where it does not belong (put text that "
                                      "contains `: ` in quotes)"),
    ("found character '\\t'", "a tab; indent with spaces"),
    ("could not find expected ':'", "a line without `key: value` inside a mapping"),
)


def _explain_yaml(exc: yaml.MarkedYAMLError) -> str:
    problem = " ".join(f"{exc.context or ''} {exc.problem or ''}".split())
    for pattern, hint in _YAML_HINTS:
        if pattern in problem:
            return f"{hint} ({problem})"
    return problem


_CORE = "tag:yaml.org,2002:"
_PLAIN_TAGS = {f"{_CORE}{name}" for name in ("map", "seq", "str", "int", "float", "bool", "null",
                                             "merge", "timestamp", "binary")}


class _Converter:
    """YAML node tree → plain values in `_Map`/`_Seq` with line numbers.

    Works on the composed nodes rather than `safe_load` so that every value keeps its line,
    duplicate keys are caught, and alias expansion is bounded.
    """

    def __init__(self, path: str, error: type[InputError] = RoutineError):
        self.path = path
        self.error = error
        self.nodes = 0
        self.constructor = yaml.SafeLoader("")

    def convert(self, node: yaml.Node) -> Any:
        self.nodes += 1
        line = node.start_mark.line + 1
        if self.nodes > MAX_NODES:
            raise self.error(f"has more than {MAX_NODES} values (nested aliases?); "
                               "a routine is a short text file", self.path, line)
        if node.tag not in _PLAIN_TAGS:  # `!!python/...` and friends: data, never objects
            tag = node.tag.replace(_CORE, "!!")
            raise self.error(f"the tag {tag} is not allowed in a routine; delete it",
                             self.path, line)
        if isinstance(node, yaml.MappingNode):
            result = _Map()
            result.line, result.key_lines = line, {}
            written = {id(key) for key, _ in node.value}
            # flatten a copy: an alias may bring this same node back
            node = yaml.MappingNode(node.tag, list(node.value), node.start_mark, node.end_mark)
            try:
                self.constructor.flatten_mapping(node)
            except yaml.constructor.ConstructorError as exc:
                raise self.error(f"cannot merge: {exc.problem}", self.path, line) from None
            merged: set[str] = set()
            for key_node, value_node in node.value:
                key = self.convert(key_node)
                key_line = key_node.start_mark.line + 1
                if not isinstance(key, str):
                    raise self.error(f"key {key!r} must be text", self.path, key_line)
                from_merge = id(key_node) not in written
                if key in result:
                    if from_merge:  # of several mappings merged with `<<`, the first wins
                        continue
                    if key not in merged:
                        raise self.error(f"`{key}` appears twice in the same mapping "
                                           f"(first at line {result.key_lines[key]})",
                                           self.path, key_line)
                    del result[key]  # a key written out overrides one merged in
                if from_merge:
                    merged.add(key)
                result[key] = self.convert(value_node)
                result.key_lines[key] = key_line
            return result
        if isinstance(node, yaml.SequenceNode):
            result = _Seq()
            result.line, result.item_lines = line, []
            for item in node.value:
                result.append(self.convert(item))
                result.item_lines.append(item.start_mark.line + 1)
            return result
        try:
            return self.constructor.construct_object(node)
        except yaml.constructor.ConstructorError as exc:
            raise self.error(f"cannot read value: {exc.problem}", self.path, line) from None
        except (ValueError, KeyError, IndexError, TypeError):  # e.g. `!!int x`
            raise self.error(f"cannot read value {node.value!r} as {node.tag.split(':')[-1]}",
                               self.path, line) from None


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if value is None:
        return "empty"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    return f'"{value}"'


def _join(where: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{where}[{key}]"
    return f"{where}.{key}" if where else key


class _Validator:
    """Turns the converted file into a `Routine` (or a profile's values), one field at a time."""

    def __init__(self, path: str, error: type[InputError] = RoutineError):
        self.path = path
        self.error = error

    def fail(self, line: int | None, where: str, message: str) -> InputError:
        return self.error(f"{where}: {message}" if where else message, self.path, line)

    # -- containers -------------------------------------------------------------------

    def mapping(self, value: Any, where: str, line: int | None, allowed: Iterable[str],
                required: Iterable[str] = ()) -> _Map:
        if not isinstance(value, _Map):
            raise self.fail(line, where, f"must be a mapping of keys, not {_kind(value)}")
        allowed = tuple(allowed)
        for key in value:
            if key not in allowed:
                near = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
                hint = f"did you mean `{near[0]}`?" if near else f"valid keys: {', '.join(allowed)}"
                raise self.fail(value.key_lines[key], _join(where, key), f"unknown key ({hint})")
        for key in required:
            if key not in value:
                raise self.fail(value.line, where, f"`{key}` is required")
        return value

    def sequence(self, value: Any, where: str, line: int | None) -> _Seq:
        if not isinstance(value, _Seq):
            raise self.fail(line, where, f"must be a list, not {_kind(value)}")
        if not value:
            raise self.fail(line, where, "is an empty list")
        return value

    # -- scalars ----------------------------------------------------------------------

    def text(self, value: Any, where: str, line: int | None, spoken: bool = False) -> str:
        """A one-line text; a `spoken` one must give the voice something to say."""
        if isinstance(value, bool):
            raise self.fail(line, where, f"must be text, not {_kind(value)} (put words like "
                            "yes, no, on and off in quotes)")
        if not isinstance(value, (str, int, float)):
            raise self.fail(line, where, f"must be text, not {_kind(value)}")
        text = " ".join(str(value).split())
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            try:  # JSON escapes such as "\ud83d\ude00" arrive as two halves of a pair
                text = text.encode("utf-16", "surrogatepass").decode("utf-16")
            except UnicodeError:
                raise self.fail(line, where, "contains an invalid character") from None
        if not text:
            raise self.fail(line, where, "is empty")
        control = next((c for c in text if unicodedata.category(c) == "Cc"
                        or c in "\ufffe\uffff"), None)
        if control:  # no voice can say it, and no feed or page may contain it
            raise self.fail(line, where, f"contains the control character "
                            f"U+{ord(control):04X}; delete it")
        if len(text) > MAX_TEXT_CHARS:
            raise self.fail(line, where, f"is {len(text)} characters long; "
                            f"the limit is {MAX_TEXT_CHARS} (split it into several)")
        if spoken and not any(unicodedata.category(c)[0] in "LNS" for c in text):
            # voices say nothing for punctuation alone, which would fail the build later
            raise self.fail(line, where, f"{text!r} has nothing to say (no letters, digits "
                            "or symbols); write it as words")
        return text

    def optional_text(self, data: _Map, key: str, where: str,
                      spoken: bool = False) -> str | None:
        if key not in data or data[key] is None:
            return None
        return self.text(data[key], _join(where, key), data.key_lines[key], spoken)

    def texts(self, value: Any, where: str, line: int | None,
              spoken: bool = False) -> tuple[str, ...]:
        """A text or a list of texts."""
        if isinstance(value, _Seq):
            items = self.sequence(value, where, line)
            return tuple(self.text(item, _join(where, i), item_line, spoken)
                         for i, (item, item_line) in enumerate(zip(items, items.item_lines)))
        return (self.text(value, where, line, spoken),)

    def count(self, value: Any, where: str, line: int | None, low: int, high: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(line, where, f"must be a whole number, not {_kind(value)}")
        if not low <= value <= high:
            raise self.fail(line, where, f"{value} is out of range ({low} to {high})")
        return value

    def duration(self, value: Any, where: str, line: int | None, breath_ms: int | None,
                 allow_zero: bool = False, high: int = MAX_HOLD_MS) -> int:
        shown = f'"{value}"' if isinstance(value, str) else _kind(value)
        try:
            ms = parse_duration(value, breath_ms)
        except DurationSyntaxError as exc:
            raise self.fail(line, where, f"{shown} {exc} (write e.g. 30s, 1m30s, 2 minutes"
                            f"{', 5 breaths' if breath_ms else ''})") from None
        if ms <= 0 and not allow_zero:
            raise self.fail(line, where, f"{shown} is not a positive duration")
        if ms < 0:
            raise self.fail(line, where, f"{shown} is negative")
        if ms > high:
            raise self.fail(line, where, f"{shown} is longer than the limit of {describe_ms(high)}")
        return ms

    def choice(self, value: Any, where: str, line: int | None, choices: tuple[str, ...],
               when_true: str) -> str:
        """One of `choices`; `true` means `when_true` and `false` (or YAML's bare `off`) `off`."""
        if value is True:
            return when_true
        if value is False:
            return "off"
        if not isinstance(value, str) or value not in choices:
            shown = f'"{value}"' if isinstance(value, str) else _kind(value)
            near = difflib.get_close_matches(str(value), choices, n=1, cutoff=0.6)
            hint = f"did you mean `{near[0]}`?" if near else f"use one of {', '.join(choices)}"
            raise self.fail(line, where, f"{shown} is not a choice ({hint})")
        return value

    def flag(self, value: Any, where: str, line: int | None) -> bool:
        if not isinstance(value, bool):
            raise self.fail(line, where, f"must be true or false, not {_kind(value)}")
        return value

    def cues(self, data: _Map, where: str, base: Cues, breath_ms: int | None,
             spell=lambda key: key) -> Cues:
        """`base` with the cue settings `data` gives; `spell` names each key as the file
        writes it (`remind_every` in routines, `remind-every` in profiles)."""
        changes: dict[str, Any] = {}
        for key in CUE_KEYS:
            name = spell(key)
            if data.get(name) is None:
                continue
            value, line, at = data[name], data.key_lines[name], _join(where, name)
            if key == "countdown":
                changes[key] = self.count(value, at, line, 0, MAX_COUNTDOWN)
            elif key == "countdown_style":
                changes[key] = self.choice(value, at, line, COUNTDOWN_STYLES, "voice")
            elif key == "halfway":
                changes[key] = self.choice(value, at, line, HALFWAY_STYLES, "voice")
            elif key == "remind_say":
                changes[key] = self.choice(value, at, line, REMIND_SAYS, "time-left")
            elif key in ("announce_next", "counts"):
                changes[key] = self.flag(value, at, line)
            elif key == "side_rest":
                changes["side_rest_ms"] = self.duration(value, at, line, breath_ms,
                                                        allow_zero=True)
            else:  # remind_every
                every = 0 if value is False else self.duration(value, at, line, breath_ms,
                                                                allow_zero=True)
                if 0 < every < MIN_REMIND_MS:
                    raise self.fail(line, at, f"reminders more often than every "
                                    f"{describe_ms(MIN_REMIND_MS)} would leave no quiet; "
                                    "give a longer interval, or 0 for none")
                changes["remind_every_ms"] = every
        return replace(base, **changes)

    # -- the routine ------------------------------------------------------------------

    def routine(self, data: _Map) -> Routine:
        self.mapping(data, "", data.line, TOP_KEYS, required=("title",))
        lines = data.key_lines
        has_exercises, has_sections = "exercises" in data, "sections" in data
        if has_exercises == has_sections:
            message = ("has both `exercises` and `sections`; use one of them" if has_exercises
                       else "needs `exercises` (a list) or `sections`")
            raise self.error(message, self.path,
                               lines.get("sections") if has_exercises else data.line)
        title = self.text(data["title"], "title", lines["title"], spoken=True)
        header = dict(
            description=self.optional_text(data, "description", ""),
            author=self.optional_text(data, "author", ""),
            source=self.optional_text(data, "source", ""),
            language=self.language(data),
            equipment=(self.texts(data["equipment"], "equipment", lines["equipment"])
                       if data.get("equipment") is not None else ()),
            voice=self.voice(data),
            intro=self.optional_text(data, "intro", "", spoken=True),
            outro=self.optional_text(data, "outro", "", spoken=True),
        )
        defaults = self.defaults(data)
        self.seen_ids: dict[str, int | None] = {}
        if has_exercises:
            self.fits_toc(data["exercises"], "exercises", lines["exercises"],
                          MAX_TOC_ENTRIES - 2, "group them into sections")
            exercises = self.exercises(data["exercises"], "exercises", lines["exercises"],
                                       defaults)
            sections = (Section(id="", title="", exercises=exercises),)
        else:
            sections = self.sections(data["sections"], lines["sections"], defaults)
        return Routine(title=title, sections=sections, flat=has_exercises, defaults=defaults,
                       path=self.path, **header)

    def language(self, data: _Map) -> str:
        if data.get("language") is None:
            return "en"
        language = self.text(data["language"], "language", data.key_lines["language"])
        if not _LANGUAGE.fullmatch(language):
            raise self.fail(data.key_lines["language"], "language",
                            f'"{language}" is not a language tag (e.g. en, en-GB, de)')
        return language

    def voice(self, data: _Map) -> Voice:
        if data.get("voice") is None:
            return Voice()
        if isinstance(data["voice"], str):
            return Voice(name=self.text(data["voice"], "voice", data.key_lines["voice"]))
        voice = self.mapping(data["voice"], "voice", data.key_lines["voice"], VOICE_KEYS)
        speed = 1.0
        if voice.get("speed") is not None:
            speed = self.speed(voice["speed"], "voice.speed", voice.key_lines["speed"])
        return Voice(engine=self.optional_text(voice, "engine", "voice") or "piper",
                     name=self.optional_text(voice, "name", "voice"), speed=speed)

    def speed(self, value: Any, where: str, line: int | None) -> float:
        low, high = SPEED_RANGE
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(line, where, f"must be a number like 0.9 or 1.2, not {_kind(value)}")
        if not low <= value <= high:
            raise self.fail(line, where, f"{value} is out of range ({low} to {high})")
        return float(value)

    def defaults(self, data: _Map) -> Defaults:
        if data.get("defaults") is None:
            return Defaults()
        values = self.mapping(data["defaults"], "defaults", data.key_lines["defaults"],
                              DEFAULTS_KEYS)
        lines = values.key_lines
        base = Defaults()
        breath_ms = base.breath_ms
        if values.get("breath") is not None:
            breath_ms = self.duration(values["breath"], "defaults.breath", lines["breath"], None,
                                      high=60_000)

        def get(key: str, fallback: int, allow_zero: bool) -> int:
            if values.get(key) is None:
                return fallback
            return self.duration(values[key], f"defaults.{key}", lines[key], breath_ms,
                                 allow_zero=allow_zero)

        return Defaults(hold_ms=get("hold", base.hold_ms, False),
                        rest_ms=get("rest", base.rest_ms, True),
                        breath_ms=breath_ms,
                        rep_rest_ms=get("rep_rest", base.rep_rest_ms, True),
                        cues=self.cues(values, "defaults", base.cues, breath_ms),
                        sounds=self.sounds(values))

    def sounds(self, values: _Map) -> Sounds:
        """`defaults.sounds`: each cue's sound `on`, `off`, or a file beside the routine."""
        if values.get("sounds") is None:
            return Sounds()
        table = self.mapping(values["sounds"], "defaults.sounds", values.key_lines["sounds"],
                             SOUND_NAMES)
        chosen = {}
        for name, value in table.items():
            where, line = f"defaults.sounds.{name}", table.key_lines[name]
            if value is None:
                continue
            if isinstance(value, bool) or value in ("on", "off"):
                chosen[name] = "on" if value in (True, "on") else "off"
                continue
            file = Path(self.text(value, where, line)).expanduser()
            if not file.is_absolute():
                file = Path(self.path).parent / file
            if not file.is_file():
                raise self.fail(line, where, f'"{value}" is not a file (looked for {file}); '
                                "give on, off, or an audio file's path")
            chosen[name] = str(file.resolve())  # the routine may be dumped somewhere else
        return Sounds(**chosen)

    def sections(self, value: Any, line: int | None, defaults: Defaults) -> tuple[Section, ...]:
        items = self.sequence(value, "sections", line)
        self.fits_toc(items, "sections", line, MAX_TOC_ENTRIES - 2,
                      "split the routine into several files")
        seen: dict[str, int | None] = {}
        sections = []
        for i, (item, item_line) in enumerate(zip(items, items.item_lines)):
            where = f"sections[{i}]"
            section = self.mapping(item, where, item_line, SECTION_KEYS,
                                   required=("title", "exercises"))
            title = self.text(section["title"], f"{where}.title", section.key_lines["title"],
                             spoken=True)
            section_id = slugify(title) or f"section-{i + 1}"
            if section_id in seen:
                raise self.fail(section.key_lines["title"], f"{where}.title",
                                f'"{title}" is already the title of the section at line '
                                f"{seen[section_id]}")
            seen[section_id] = section.key_lines["title"]
            self.fits_toc(section["exercises"], f"{where}.exercises",
                          section.key_lines["exercises"], MAX_TOC_ENTRIES - 1,
                          "split the section in two")
            exercises = self.exercises(section["exercises"], f"{where}.exercises",
                                       section.key_lines["exercises"], defaults)
            sections.append(Section(id=section_id, title=title, exercises=exercises,
                                    intro=self.optional_text(section, "intro", where, spoken=True)))
        return tuple(sections)

    def fits_toc(self, value: Any, where: str, line: int | None, room: int, fix: str) -> None:
        """Refuse more chapters than one table of contents can list (see MAX_TOC_ENTRIES)."""
        if isinstance(value, _Seq) and len(value) > room:
            raise self.fail(line, where, f"has {len(value)} entries; one chapter list holds at "
                            f"most {room} (ID3 tables of contents hold {MAX_TOC_ENTRIES} "
                            f"chapters); {fix}")

    def exercises(self, value: Any, where: str, line: int | None,
                  defaults: Defaults) -> tuple[Exercise, ...]:
        items = self.sequence(value, where, line)
        return tuple(self.exercise(item, _join(where, i), item_line, defaults)
                     for i, (item, item_line) in enumerate(zip(items, items.item_lines)))

    def exercise(self, value: Any, where: str, line: int | None, defaults: Defaults) -> Exercise:
        data = self.mapping(value, where, line, EXERCISE_KEYS, required=("name",))
        lines = data.key_lines
        name = self.text(data["name"], f"{where}.name", lines["name"], spoken=True)
        exercise_id = self.exercise_id(data, where, name)
        breath = defaults.breath_ms

        def duration(key: str, fallback: int, allow_zero: bool) -> int:
            if data.get(key) is None:
                return fallback
            return self.duration(data[key], f"{where}.{key}", lines[key], breath,
                                 allow_zero=allow_zero)

        hold_ms = duration("hold", defaults.hold_ms, False)
        during = self.optional_text(data, "during", where, spoken=True)
        if data.get("phases") is not None:
            phases = self.phases(data["phases"], f"{where}.phases", lines["phases"], hold_ms,
                                 during, breath)
        else:
            phases = (Phase(hold_ms=hold_ms, during=during),)
        setup = self.texts(data["setup"], f"{where}.setup", lines["setup"], spoken=True) \
            if data.get("setup") is not None else ()
        return Exercise(
            id=exercise_id, name=name, phases=phases, setup=setup,
            reps=self.optional_count(data, "reps", where),
            sides=self.sides(data, where),
            sets=self.optional_count(data, "sets", where),
            rest_ms=duration("rest", defaults.rest_ms, True),
            rep_rest_ms=duration("rep_rest", defaults.rep_rest_ms, True),
            cues=self.cues(data, where, defaults.cues, breath),
            notes=self.optional_text(data, "notes", where),
        )

    def exercise_id(self, data: _Map, where: str, name: str) -> str:
        if data.get("id") is not None:
            line = data.key_lines["id"]
            exercise_id = self.text(data["id"], f"{where}.id", line)
            if not _ID.fullmatch(exercise_id):
                raise self.fail(line, f"{where}.id", f'"{exercise_id}" is not a valid id: use '
                                "lowercase letters, digits, - and _ (e.g. "
                                f"{slugify(exercise_id) or 'cat-stretch'})")
            if exercise_id in self.seen_ids:
                raise self.fail(line, f"{where}.id", f'duplicate id "{exercise_id}" '
                                f"(also used by the exercise at line {self.seen_ids[exercise_id]})")
        else:
            line = data.key_lines["name"]
            exercise_id = slugify(name) or f"exercise-{len(self.seen_ids) + 1}"
            if exercise_id in self.seen_ids:
                raise self.fail(line, f"{where}.name", f'its id "{exercise_id}" is already used '
                                f"by the exercise at line {self.seen_ids[exercise_id]}; "
                                "give one of them an `id`")
        self.seen_ids[exercise_id] = line
        return exercise_id

    def optional_count(self, data: _Map, key: str, where: str) -> int:
        if data.get(key) is None:
            return 1
        return self.count(data[key], f"{where}.{key}", data.key_lines[key], 1, MAX_COUNT)

    def sides(self, data: _Map, where: str) -> tuple[str, ...]:
        value = data.get("sides")
        if value is None or value is False:
            return ()
        if value is True:
            return DEFAULT_SIDES
        line = data.key_lines["sides"]
        if not isinstance(value, _Seq):
            raise self.fail(line, f"{where}.sides", f"must be true or a list of side names "
                            f"like [left, right], not {_kind(value)}")
        names = self.texts(value, f"{where}.sides", line)
        for i, name in enumerate(names):
            if name in names[:i]:
                raise self.fail(value.item_lines[i], f"{where}.sides[{i}]",
                                f'"{name}" is listed twice')
        return names

    def phases(self, value: Any, where: str, line: int | None, hold_ms: int,
               during: str | None, breath_ms: int) -> tuple[Phase, ...]:
        items = self.sequence(value, where, line)
        phases = []
        for i, (item, item_line) in enumerate(zip(items, items.item_lines)):
            phase_where = f"{where}[{i}]"
            data = self.mapping(item, phase_where, item_line, PHASE_KEYS)
            if not data:
                raise self.fail(item_line, phase_where, "is empty; give it `say` and `hold`")
            phase_hold = hold_ms
            if data.get("hold") is not None:
                phase_hold = self.duration(data["hold"], f"{phase_where}.hold",
                                           data.key_lines["hold"], breath_ms)
            phases.append(Phase(hold_ms=phase_hold,
                                say=self.optional_text(data, "say", phase_where, spoken=True),
                                during=self.optional_text(data, "during", phase_where, spoken=True)
                                or during))
        return tuple(phases)
