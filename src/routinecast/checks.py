"""Reading and checking small YAML or JSON files: the helpers the routine loader, profiles
and command-line overrides share.

`read_mapping` reads a file into `Map`/`Seq` values that remember their lines; `Checker` turns
them into checked values, raising one `InputError` (of the caller's class) that names the
file, the line and the key, e.g. `content/x.yaml:14: exercises[2].hold: "-5s" is not a
positive duration`.
"""

from __future__ import annotations

import difflib
import json
import re
import unicodedata
from pathlib import Path
from typing import Any, Iterable

import yaml

from .durations import DurationSyntaxError, describe_ms, parse_duration
from .errors import InputError, RoutineError

MAX_FILE_BYTES = 1_000_000
MAX_NODES = 100_000
MAX_TEXT_CHARS = 2_000
MAX_HOLD_MS = 2 * 3_600_000
MAX_COUNT = 1_000
SPEED_RANGE = (0.5, 2.0)
SUFFIXES = (".yaml", ".yml", ".json")

class Map(dict):
    """A mapping read from the file, remembering the line of itself and of each key."""

    line: int | None = None
    key_lines: dict[str, int | None]


class Seq(list):
    """A list read from the file, remembering the line of itself and of each item."""

    line: int | None = None
    item_lines: list[int | None]



def read_mapping(path: Path, what: str, keys: str,
                 error: type[InputError] = RoutineError, empty_ok: bool = False) -> Map:
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
                empty = Map()
                empty.line, empty.key_lines = 1, {}
                return empty
            raise error(f"is empty; a {what} needs at least {keys}", name, 1)
        data = Converter(name, error).convert(node)
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
    if not isinstance(data, Map):
        raise error(f"must be a mapping of keys ({keys}), not {kind(data)}",
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


class Converter:
    """YAML node tree → plain values in `Map`/`Seq` with line numbers.

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
            result = Map()
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
            result = Seq()
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


def kind(value: Any) -> str:
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


def join(where: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{where}[{key}]"
    return f"{where}.{key}" if where else key



class Checker:
    """Checks values that `read_mapping` read (or the command line gave), one at a time;
    every mistake is an error of `error`'s class naming `path`, the line and the key."""

    def __init__(self, path: str, error: type[InputError] = RoutineError):
        self.path = path
        self.error = error

    def fail(self, line: int | None, where: str, message: str) -> InputError:
        return self.error(f"{where}: {message}" if where else message, self.path, line)

    # -- containers -------------------------------------------------------------------

    def mapping(self, value: Any, where: str, line: int | None, allowed: Iterable[str],
                required: Iterable[str] = ()) -> Map:
        if not isinstance(value, Map):
            raise self.fail(line, where, f"must be a mapping of keys, not {kind(value)}")
        allowed = tuple(allowed)
        for key in value:
            if key not in allowed:
                near = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
                hint = f"did you mean `{near[0]}`?" if near else f"valid keys: {', '.join(allowed)}"
                raise self.fail(value.key_lines[key], join(where, key), f"unknown key ({hint})")
        for key in required:
            if key not in value:
                raise self.fail(value.line, where, f"`{key}` is required")
        return value

    def sequence(self, value: Any, where: str, line: int | None) -> Seq:
        if not isinstance(value, Seq):
            raise self.fail(line, where, f"must be a list, not {kind(value)}")
        if not value:
            raise self.fail(line, where, "is an empty list")
        return value

    # -- scalars ----------------------------------------------------------------------

    def text(self, value: Any, where: str, line: int | None, spoken: bool = False) -> str:
        """A one-line text; a `spoken` one must give the voice something to say."""
        if isinstance(value, bool):
            raise self.fail(line, where, f"must be text, not {kind(value)} (put words like "
                            "yes, no, on and off in quotes)")
        if not isinstance(value, (str, int, float)):
            raise self.fail(line, where, f"must be text, not {kind(value)}")
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

    def optional_text(self, data: Map, key: str, where: str,
                      spoken: bool = False) -> str | None:
        if key not in data or data[key] is None:
            return None
        return self.text(data[key], join(where, key), data.key_lines[key], spoken)

    def texts(self, value: Any, where: str, line: int | None,
              spoken: bool = False) -> tuple[str, ...]:
        """A text or a list of texts."""
        if isinstance(value, Seq):
            items = self.sequence(value, where, line)
            return tuple(self.text(item, join(where, i), item_line, spoken)
                         for i, (item, item_line) in enumerate(zip(items, items.item_lines)))
        return (self.text(value, where, line, spoken),)

    def count(self, value: Any, where: str, line: int | None, low: int, high: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(line, where, f"must be a whole number, not {kind(value)}")
        if not low <= value <= high:
            raise self.fail(line, where, f"{value} is out of range ({low} to {high})")
        return value

    def duration(self, value: Any, where: str, line: int | None, breath_ms: int | None,
                 allow_zero: bool = False, high: int = MAX_HOLD_MS) -> int:
        shown = f'"{value}"' if isinstance(value, str) else kind(value)
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
            shown = f'"{value}"' if isinstance(value, str) else kind(value)
            near = difflib.get_close_matches(str(value), choices, n=1, cutoff=0.6)
            hint = f"did you mean `{near[0]}`?" if near else f"use one of {', '.join(choices)}"
            raise self.fail(line, where, f"{shown} is not a choice ({hint})")
        return value

    def flag(self, value: Any, where: str, line: int | None) -> bool:
        if not isinstance(value, bool):
            raise self.fail(line, where, f"must be true or false, not {kind(value)}")
        return value

    def speed(self, value: Any, where: str, line: int | None) -> float:
        low, high = SPEED_RANGE
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(line, where, f"must be a number like 0.9 or 1.2, not {kind(value)}")
        if not low <= value <= high:
            raise self.fail(line, where, f"{value} is out of range ({low} to {high})")
        return float(value)

    # -- ranges -----------------------------------------------------------------------

    def count_range(self, value: Any, where: str, line: int | None, low: int,
                    high: int) -> tuple[int, tuple[int, int] | None]:
        """A whole number, or a range `7-10` / `7 to 10`: (its middle, (low, high) or None).
        The middle of a range is rounded half up (7-10 → 9)."""
        if isinstance(value, str):
            match = _COUNT_RANGE.fullmatch(value)
            if match:
                first, last = int(match["low"]), int(match["high"])
                for number in (first, last):
                    self.count(number, where, line, low, high)
                self._ordered(first, last, value, where, line)
                return middle(first, last, 1), (first, last) if first != last else None
            if value.strip().isdigit():
                value = int(value)
        if isinstance(value, str):
            raise self.fail(line, where, f'must be a whole number or a range of them, not '
                            f'"{value}" (write e.g. 8, or 7-10)')
        return self.count(value, where, line, low, high), None

    def duration_range(self, value: Any, where: str, line: int | None, breath_ms: int | None,
                       high: int = MAX_HOLD_MS) -> tuple[int, tuple[int, int] | None, int | None]:
        """A positive duration or a range of them (`15-20s`, `15 to 20 seconds`,
        `3-5 breaths`, `1-2 min`): (the middle, (low, high) or None, the breath's length
        when written in breaths). The middle is rounded half up to whole seconds, or to
        whole breaths."""
        text = value.strip().lower() if isinstance(value, str) else None
        match = _DURATION_RANGE.fullmatch(text) if text else None
        if match is None:
            ms = self.duration(value, where, line, breath_ms, high=high)
            breaths = text is not None and breath_ms is not None and bool(_BREATHS.fullmatch(text))
            return ms, None, breath_ms if breaths else None
        unit = match["unit"] or "s"
        first_unit = match["first_unit"] or unit
        first = self.duration(f"{match['low']} {first_unit}", where, line, breath_ms, high=high)
        last = self.duration(f"{match['high']} {unit}", where, line, breath_ms, high=high)
        self._ordered(first, last, value, where, line)
        breath = breath_ms if unit.startswith("breath") else None
        chosen = middle(first, last, breath or 1000)
        return chosen, (first, last) if first != last else None, breath

    def _ordered(self, first: int, last: int, value: Any, where: str, line: int | None) -> None:
        if first > last:
            raise self.fail(line, where, f'"{value}" runs from high to low; write the '
                            "smaller value first (e.g. 15-20s)")


def middle(low: int, high: int, unit: int) -> int:
    """The middle of `low`..`high` in whole `unit`s, half rounded up (the standard level);
    never outside the range."""
    value = (low + high) / 2
    rounded = int(value / unit + 0.5) * unit
    return min(max(rounded, low), high)


_NUM = r"\d+(?:\.\d+)?"
_COUNT_RANGE = re.compile(r"\s*(?P<low>\d+)\s*(?:-|–|—|to)\s*(?P<high>\d+)\s*", re.IGNORECASE)
_DURATION_RANGE = re.compile(rf"(?P<low>{_NUM})\s*(?P<first_unit>[a-z]+)?\s*(?:-|–|—|to)\s*"
                             rf"(?P<high>{_NUM})\s*(?P<unit>[a-z]+)?")
_BREATHS = re.compile(rf"{_NUM}\s*breaths?")
