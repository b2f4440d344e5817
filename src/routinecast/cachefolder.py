"""What the cache folder holds, and clearing out what no build has used for a while.

The folder (`$ROUTINECAST_CACHE`, `--cache-dir`, or the user's cache directory) keeps speech
clips and cue sounds' figures (`tts/cache.py`), calibrations (`levels/`, see
`builder._calibrated`) and covers (`covers/`); none is ever needed, each is made again when
missing, but nothing removes them either, and a year of edited routines leaves hundreds of
megabytes of clips no routine says any more. A file's modification time is when a build
last used it: reading an entry marks it (`mark_used`, at most once a day, so a warm build
does not write to the disk for every clip), and `prune` removes what was not used for so
many days (give or take the day a mark may lag).

Only files named as routinecast names them (a SHA-256 in hex, or the temp file of one) are
counted or removed: a cache folder pointed at the wrong place (a home folder) loses nothing
of anyone else's.
"""

from __future__ import annotations

import os
import re
import stat
import time
from dataclasses import dataclass
from pathlib import Path

MARK_EVERY_S = 24 * 3600
"""An entry read is marked as used when it was last marked longer ago than this."""

_OURS = re.compile(r"\.?[0-9a-f]{64}(\.[0-9]+\.[^/]*\.part)?\.(clip|fig|json|txt|png)")
"""An entry's name (the hex digest of what it keeps), or the temp file of one being written
(`files.replacing`: `.NAME.PID.RANDOM.part.EXT`). `.fig` and `.txt` are older versions'."""

_SHARD = re.compile(r"[0-9a-f]{2}")
"""The folders speech clips are spread over, by the first two characters of their digest."""

_KINDS = (("speech", "speech clips and cue sounds' figures"),
          ("levels", "calibrations"),
          ("covers", "covers"),
          ("older", "kept by older versions of routinecast"))


def read_entry(path: Path) -> tuple[bytes, float] | None:
    """The bytes of the entry at `path` and when it was last modified (for `mark_used`, once
    the caller finds it good); None if there is none, or it is not a regular file (reading a
    pipe put there would never end)."""
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            return None
        return path.read_bytes(), info.st_mtime
    except OSError:
        return None


def mark_used(path: Path, modified: float) -> None:
    """Note that a build used the entry at `path` (last modified at `modified`, seconds since
    the epoch), unless that was noted within a day. A cache it cannot write to stays usable."""
    if time.time() - modified > MARK_EVERY_S:
        try:
            os.utime(path)
        except OSError:
            pass


@dataclass(frozen=True)
class Kind:
    """One kind of entry in a cache folder, and how much of it there is."""

    name: str
    """`speech`, `levels`, `covers` or `older`."""
    description: str
    """What these entries are, in a few words."""
    files: int
    """How many entries."""
    size: int
    """Their size in bytes."""
    last_used: float | None
    """When a build last used one of them (seconds since the epoch); None if there are none."""


TEMP_AGE_S = 3600
"""A temp file (an entry being written) is removed only when older than this: a build may
be writing it, on this machine or another sharing the folder."""


@dataclass(frozen=True)
class Removed:
    """What `prune` removed, and what it could not."""

    files: int
    """How many entries."""
    size: int
    """Their size in bytes."""
    failed: int = 0
    """How many it could not remove (a read-only folder, a file that is not ours to delete)."""
    error: str = ""
    """Why the first of those could not be removed."""


def survey(directory: Path) -> tuple[Kind, ...]:
    """Each kind of entry in the cache folder `directory` (none if it does not exist)."""
    counts = {name: [0, 0, None] for name, _ in _KINDS}
    for kind, _, info in _entries(Path(directory)):
        count = counts[kind]
        count[0] += 1
        count[1] += info.st_size
        count[2] = max(count[2] or 0.0, info.st_mtime)
    return tuple(Kind(name, description, *counts[name]) for name, description in _KINDS)


def prune(directory: Path, unused_days: float) -> Removed:
    """Remove the entries of the cache folder `directory` that no build used in the last
    `unused_days` days (0: all of them). A build running meanwhile makes again what it
    finds missing (a build reads an entry once, so none is removed under it), and the
    entries being written are left alone unless they are over an hour old (leftovers of a
    build that was killed). A file that cannot be removed is counted, not an error."""
    if unused_days < 0:
        raise ValueError(f"unused_days is {unused_days}: it is 0 or more")
    now = time.time()
    # a build marks what it reads at most once a day (`mark_used`): an entry used within
    # the last `unused_days` may carry a time up to a day older than that use
    cutoff = now - unused_days * 24 * 3600 - MARK_EVERY_S
    files = size = failed = 0
    error = ""
    for _, path, info in _entries(Path(directory)):
        if path.name.startswith("."):
            if info.st_mtime > now - TEMP_AGE_S:
                continue
        elif unused_days and info.st_mtime >= cutoff:
            continue
        try:
            path.unlink()
        except FileNotFoundError:  # another prune, or a build replacing it
            continue
        except OSError as exc:
            failed += 1
            error = error or f"{path}: {exc.strerror or exc}"
            continue
        files, size = files + 1, size + info.st_size
    return Removed(files, size, failed, error)


def _entries(directory: Path):
    """(kind, path, stat) of each entry in `directory`: the two-character folders of speech
    clips, `levels/`, `covers/` and an older version's `sounds/XX/`; nothing else is looked
    into, and links are neither followed nor counted."""
    for folder, depth in _folders(directory):
        try:
            names = os.listdir(folder)
        except OSError:
            continue
        for name in names:
            if not _OURS.fullmatch(name):
                continue
            path = folder / name
            try:
                info = path.lstat()
            except OSError:
                continue
            if not stat.S_ISREG(info.st_mode):
                continue
            top = path.relative_to(directory).parts[0]
            if name.endswith(".clip") and depth == 1 and _SHARD.fullmatch(top):
                kind = "speech"
            elif top in ("levels", "covers") and name.endswith(
                    ".json" if top == "levels" else ".png"):
                kind = top
            else:
                kind = "older"
            yield kind, path, info


def _folders(directory: Path):
    """The folders entries are kept in, with their depth below `directory`."""
    yield directory, 0
    try:
        tops = sorted(os.listdir(directory))
    except OSError:
        return
    for top in tops:
        path = directory / top
        if not path.is_dir() or path.is_symlink():
            continue
        if _SHARD.fullmatch(top) or top in ("levels", "covers"):
            yield path, 1
        elif top == "sounds":
            try:
                subs = sorted(os.listdir(path))
            except OSError:
                continue
            for sub in subs:
                if _SHARD.fullmatch(sub) and (path / sub).is_dir() \
                        and not (path / sub).is_symlink():
                    yield path / sub, 2
