"""Reading a batch manifest: listeners, each with their own profile (inline, or a file to
start from), and the routines each of them gets.

A manifest is a YAML (or JSON) file:

    title: Back programme                 # optional: every listener's session title
    routines: [content/*.yaml]            # paths or globs, relative to the manifest
    listeners:
      - name: ana                         # required: names the listener's folder
        hold-scale: 1.5                   # any key of a profile, inline
      - name: ben
        profile: profiles/ben.yaml        # a profile file to start from
        level: gentle                     # ... which the inline keys override
        routines: [content/low-back-stretches.yaml]
        title: Ben's back                 # optional: this listener's session title
        cover: covers/ben.png             # optional: a PNG cover for this listener's site

or a CSV file with the listener keys as columns (one listener per row; `routines` and
`skip` separated by `;`, `hold`, `reps` and `sets` written `ID=VALUE; ID=VALUE`).

Everything written in the manifest is checked here, before anything is built: a mistake is
one `ManifestError` (or `ProfileError`, for an inline profile value) naming the manifest's
file, line and key. A listener's profile *file* is read later, per listener, so that a
broken one fails that listener alone.
"""

from __future__ import annotations

import csv
import glob
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..checks import MAX_FILE_BYTES, Checker, Map, Seq, read_mapping
from ..errors import InputError
from ..files import unsafe_name
from ..overrides import PROFILE_KEYS, Overrides, profile_from_mapping
from ..routine import slugify

BATCH_KEYS = ("name", "routines", "profile", "title", "cover")
LISTENER_KEYS = (*BATCH_KEYS, *PROFILE_KEYS)
TOP_KEYS = ("title", "routines", "listeners")
MAX_LISTENERS = 100_000
MAX_COVER_BYTES = 10_000_000
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


class ManifestError(InputError):
    """A batch manifest is malformed."""


@dataclass(frozen=True)
class Listener:
    """One listener of a manifest."""

    name: str
    """As the manifest writes it."""
    folder: str
    """Their folder's name under the output (the slug of `name`; `--private` adds a token)."""
    line: int | None
    """The manifest's line of their entry."""
    routines: tuple[Path, ...]
    """The routine files they get, in order."""
    profile: Path | None
    """A profile file to start from, read when they are built."""
    inline: Overrides
    """The profile keys written in their entry (over `profile`)."""
    title: str | None
    """Their session's title, when the manifest gives one."""
    cover: bytes | None
    """Their site's cover (PNG), when the manifest gives one."""


@dataclass(frozen=True)
class Manifest:
    """A batch manifest, checked."""

    path: Path
    title: str | None
    listeners: tuple[Listener, ...]

    def where(self, listener: Listener) -> str:
        """`manifest.yaml:12`: where a listener's entry is, for messages."""
        return f"{self.path}:{listener.line}" if listener.line else str(self.path)


def read_manifest(path: str | Path) -> Manifest:
    """Read and check the manifest at `path` (`.yaml`, `.yml`, `.json` or `.csv`)."""
    path = Path(path)
    name = str(path)
    check = Checker(name, ManifestError)
    if path.suffix.lower() == ".csv":
        data = _read_csv(path)
    else:
        data = read_mapping(path, "batch manifest", "listeners", ManifestError)
    check.mapping(data, "", data.line, TOP_KEYS, required=("listeners",))
    base = path.parent
    title = check.optional_text(data, "title", "")
    shared = _routines(check, data, "routines", base) if data.get("routines") is not None \
        else None
    entries = check.sequence(data["listeners"], "listeners", data.key_lines["listeners"])
    if len(entries) > MAX_LISTENERS:
        raise check.fail(entries.line, "listeners", f"has {len(entries)} entries; the limit "
                         f"is {MAX_LISTENERS}")
    listeners: list[Listener] = []
    folders: dict[str, tuple[str, int | None]] = {}
    for index, (entry, line) in enumerate(zip(entries, entries.item_lines)):
        where = f"listeners[{index}]"
        check.mapping(entry, where, line, LISTENER_KEYS, required=("name",))
        listener_name = check.text(entry["name"], f"{where}.name", entry.key_lines["name"])
        folder = slugify(listener_name)
        reason = "has no letters or digits" if not folder else unsafe_name(folder)
        if reason:
            raise check.fail(entry.key_lines["name"], f"{where}.name",
                             f"{listener_name!r} cannot name a folder: its slug {reason}")
        if folder in folders:
            other, other_line = folders[folder]
            raise check.fail(entry.key_lines["name"], f"{where}.name",
                             f"{listener_name!r} would share the folder `{folder}` with "
                             f"{other!r} (line {other_line}); give each listener their own name")
        folders[folder] = (listener_name, entry.key_lines["name"])
        if entry.get("routines") is not None:
            routines = _routines(check, entry, "routines", base, where)
        elif shared is not None:
            routines = shared
        else:
            raise check.fail(line, where, "has no `routines`, and the manifest gives none "
                             "for every listener (a top-level `routines: [...]`)")
        stems: dict[str, Path] = {}
        for routine in routines:
            if routine.stem in stems:
                raise check.fail(line, where, f"{stems[routine.stem]} and {routine} would both "
                                 f"be written to {routine.stem}.mp3; rename one of them")
            stems[routine.stem] = routine
        profile = None
        if entry.get("profile") is not None:
            profile = base / check.text(entry["profile"], f"{where}.profile",
                                        entry.key_lines["profile"])
        cover = None
        if entry.get("cover") is not None:
            cover = _cover(check, entry, where, base)
        inline = Map({key: value for key, value in entry.items() if key in PROFILE_KEYS})
        inline.line = line
        inline.key_lines = {key: entry.key_lines[key] for key in inline}
        listeners.append(Listener(
            listener_name, folder, line, routines, profile,
            profile_from_mapping(inline, name, prefix=f"{where}."), check.optional_text(
                entry, "title", where), cover))
    return Manifest(path, title, tuple(listeners))


def _routines(check: Checker, data: Map, key: str, base: Path,
              where: str = "") -> tuple[Path, ...]:
    """The routine files that `data[key]` names (a path, a glob, or a list of them)."""
    value, line = data[key], data.key_lines[key]
    label = f"{where}.{key}" if where else key
    items = check.texts(value, label, line)
    lines = value.item_lines if isinstance(value, Seq) else [line]
    found: list[Path] = []
    for item, item_line in zip(items, lines):
        pattern = base / item
        if glob.has_magic(item):
            matches = sorted(Path(p) for p in glob.glob(str(pattern))
                             if Path(p).suffix.lower() in (".yaml", ".yml", ".json"))
            if not matches:
                raise check.fail(item_line, label, f"`{item}` matches no routine file "
                                 f"(looked in {pattern.parent})")
            found += matches
        elif not pattern.is_file():
            raise check.fail(item_line, label, f"`{item}`: no such file ({pattern})")
        else:
            found.append(pattern)
    return tuple(dict.fromkeys(found))  # a routine named twice is built once


def _cover(check: Checker, entry: Map, where: str, base: Path) -> bytes:
    line = entry.key_lines["cover"]
    path = base / check.text(entry["cover"], f"{where}.cover", line)
    try:
        with path.open("rb") as file:
            data = file.read(MAX_COVER_BYTES + 1)
    except OSError as exc:
        raise check.fail(line, f"{where}.cover", f"{path} cannot be read "
                         f"({exc.strerror or exc})") from None
    if not data.startswith(PNG_MAGIC):
        raise check.fail(line, f"{where}.cover", f"{path} is not a PNG image")
    if len(data) > MAX_COVER_BYTES:
        raise check.fail(line, f"{where}.cover", f"{path} is larger than "
                         f"{MAX_COVER_BYTES // 1_000_000} MB")
    return data


# -- CSV -----------------------------------------------------------------------------------

_LISTS = ("routines", "skip")
_TABLES = ("hold", "reps", "sets")
_TEXTS = ("name", "profile", "title", "cover", "voice", "engine")


def _read_csv(path: Path) -> Map:
    """A CSV manifest as the mapping a YAML one reads into: `{listeners: [...]}`, every value
    keeping its row's line."""
    name = str(path)
    check = Checker(name, ManifestError)
    try:
        raw = path.read_bytes()[: MAX_FILE_BYTES + 1]
    except FileNotFoundError:
        raise ManifestError("no such file", name) from None
    except OSError as exc:
        raise ManifestError(f"cannot be read ({exc.strerror})", name) from None
    if len(raw) > MAX_FILE_BYTES:
        raise ManifestError(f"is larger than {MAX_FILE_BYTES // 1_000_000} MB", name)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ManifestError("is not UTF-8 text; save it as UTF-8", name,
                            raw[: exc.start].count(b"\n") + 1) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if not header or not any(cell.strip() for cell in header):
            raise ManifestError("is empty; a CSV manifest needs a header row (name, routines, "
                                "and any profile keys) and a row per listener", name, 1)
        columns = [cell.strip() for cell in header]
        top = Map.fromkeys(columns, "")
        top.line, top.key_lines = 1, {key: 1 for key in columns}
        check.mapping(top, "", 1, LISTENER_KEYS, required=("name",))
        listeners = Seq()
        listeners.line, listeners.item_lines = 2, []
        start = reader.line_num + 1
        for row in reader:
            line, start = start, reader.line_num + 1
            if not any(cell.strip() for cell in row):
                continue
            if len(row) > len(columns):
                raise ManifestError(f"has {len(row)} cells, but the header names "
                                    f"{len(columns)} columns", name, line)
            entry = Map()
            entry.line, entry.key_lines = line, {}
            for column, cell in zip(columns, row):
                cell = cell.strip()
                if cell:
                    entry[column] = _cell(column, cell, line, check)
                    entry.key_lines[column] = line
            listeners.append(entry)
            listeners.item_lines.append(line)
    except csv.Error as exc:
        raise ManifestError(f"invalid CSV: {exc}", name, reader.line_num) from None
    if not listeners:
        raise ManifestError("has no listener rows under its header", name, 2)
    data = Map({"listeners": listeners})
    data.line, data.key_lines = 1, {"listeners": 2}
    return data


def _cell(column: str, cell: str, line: int, check: Checker) -> Any:
    """A CSV cell as YAML would have read the value."""
    if column in _TEXTS:
        return cell
    if column in _LISTS:
        items = Seq(item.strip() for item in cell.split(";") if item.strip())
        items.line, items.item_lines = line, [line] * len(items)
        return items
    if column in _TABLES:
        table = Map()
        table.line, table.key_lines = line, {}
        for pair in filter(None, (part.strip() for part in cell.split(";"))):
            key, sep, value = pair.partition("=")
            if not sep or not key.strip() or not value.strip():
                raise check.fail(line, column, f"`{pair}`: write ID=VALUE; ID=VALUE, e.g. "
                                 f"{'childs-pose=45s' if column == 'hold' else 'cat-and-camel=8'}")
            table[key.strip()] = _scalar(value.strip())
            table.key_lines[key.strip()] = line
        return table
    return _scalar(cell)


_PLAIN = re.compile(r"[A-Za-z0-9 ._+-]*")


def _scalar(text: str) -> Any:
    """`5` → 5, `1.5` → 1.5, `true` → True, anything else the text itself."""
    if not _PLAIN.fullmatch(text):
        return text
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    return value if isinstance(value, (str, int, float, bool)) else text
