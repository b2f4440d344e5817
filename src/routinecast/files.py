"""Writing output files atomically: a temp file beside the target, renamed over it only
once complete, so that a failed or interrupted write leaves the old file as it was. Also
what decides whether a name is safe for an output, whether its disk has room, and how a
failed write is reported."""

from __future__ import annotations

import errno
import glob
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from .errors import InputError, OutputError


@contextmanager
def replacing(path: str | Path, overwrite: bool = True,
              make_folder: bool = True) -> Iterator[Path]:
    """Yields a temp path in `path`'s folder to write; when the block ends without error it
    becomes `path`. With `overwrite=False` an existing `path` is an error and is kept; with
    `make_folder=False` a missing folder is an error rather than created."""
    path = Path(path)
    if not make_folder and not path.parent.is_dir():
        raise InputError(f"{path.parent} is not a folder; create it first")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        remove_stale(path.parent, f".{path.stem}.", f".part{path.suffix}")
    except OSError as exc:
        raise cannot_write(path.parent, exc) from None
    temp: Path | None = None
    try:  # from the temp file's creation on, so that an interruption anywhere removes it
        try:
            handle, temp_name = tempfile.mkstemp(
                dir=path.parent, prefix=f".{path.stem}.{os.getpid()}.",
                suffix=f".part{path.suffix}")
            temp = Path(temp_name)
            # mkstemp makes the file private; outputs are for sharing, so honour the umask
            os.fchmod(handle, 0o666 & ~_umask())
            os.close(handle)
        except OSError as exc:
            raise cannot_write(path.parent, exc) from None
        yield temp
        if overwrite:
            os.replace(temp, path)
        else:
            try:
                os.link(temp, path)  # fails if `path` exists, where a rename would replace it
            except FileExistsError:
                raise InputError(f"{path} already exists; use --force to overwrite it") from None
    except OSError as exc:
        raise cannot_write(path, exc, into=False) from None
    finally:
        if temp is not None:
            temp.unlink(missing_ok=True)


@contextmanager
def replacing_folder(path: str | Path) -> Iterator[Path]:
    """Like `replacing`, for a folder: yields an empty temp folder beside `path`; when the
    block ends without error it takes the place of `path` (whose old contents are removed)."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        for old in _stale(path.parent, f".{path.name}.", ".old"):
            if path.exists() or path.is_symlink():
                shutil.rmtree(old, ignore_errors=True)
            else:  # a run killed between moving it aside and the new one in: it goes back
                os.replace(old, path)
        temp = temp_folder(path.parent, path.name)
        os.chmod(temp, 0o777 & ~_umask())  # it becomes the output: shared as the umask says
    except OSError as exc:
        raise cannot_write(path.parent, exc) from None
    old = path.parent / f"{temp.name[:-len('.part')]}.old"
    moved = False
    try:
        yield temp
        if path.is_dir() and not path.is_symlink():
            os.replace(path, old)
            moved = True
        elif path.exists() or path.is_symlink():
            raise OutputError(f"{path} exists and is not a folder; move it away first")
        os.replace(temp, path)
        moved = False
    except OSError as exc:
        raise cannot_write(path, exc, into=False) from None
    finally:
        if moved:  # the new folder could not take its place: the old one goes back
            os.replace(old, path)
        shutil.rmtree(temp, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)


def cannot_write(path: str | Path, exc: OSError, into: bool = True) -> OutputError:
    """Our error for `exc`, raised writing `path` (or `into` the folder `path`), with the fix
    when there is a usual one."""
    advice = {errno.ENOSPC: "; free up space, or write somewhere else (-o)",
              errno.EDQUOT: "; free up space, or write somewhere else (-o)",
              errno.EFBIG: "; write to another kind of disk (-o), or split the routine",
              errno.EROFS: "; write somewhere else (-o)",
              errno.EACCES: "; write somewhere else (-o), or change its permissions",
              errno.EPERM: "; write somewhere else (-o), or change its permissions",
              }.get(exc.errno, "")
    return OutputError(f"cannot write {'to ' if into else ''}{path} "
                       f"({exc.strerror or exc}){advice}")


DISK_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
"""Errors that mean the disk, not the program, stopped a write."""


def ensure_space(folder: Path, needed: int, target: Path) -> None:
    """Refuse to start writing `target` (about `needed` bytes, written in `folder`) when its
    disk clearly has too little room, rather than failing once most of the work is done."""
    try:
        disk = os.statvfs(folder)
    except OSError:
        return  # the write itself will say what is wrong
    # root may also use the blocks a file system keeps back for it
    free = (disk.f_bfree if os.geteuid() == 0 else disk.f_bavail) * disk.f_frsize
    if free < needed:
        raise OutputError(f"{target} needs about {_megabytes(needed)}, but its disk has "
                          f"{_megabytes(free)} free; free up space, or write somewhere else "
                          "(-o)")


def _megabytes(size: int) -> str:
    return f"{size / 1e6:.1f} MB"


MAX_NAME_BYTES = 200
"""Longest output name (UTF-8 bytes, before its suffix): file systems allow 255, and the temp
file beside it and the share's `NAME.chapters.json` add up to 50 more."""
_WINDOWS_DEVICES = {"con", "prn", "aux", "nul", *(f"{port}{n}" for port in ("com", "lpt")
                                                   for n in "123456789¹²³")}
_UNPORTABLE = set('<>:"/\\|?*')


def unsafe_name(name: str) -> str | None:
    """Why `name` should not name an output file, or None if it may.

    Outputs are copied to phones, memory cards, Windows machines and web servers, so a name
    must be one that all of them keep as it is, and it must stay in its folder."""
    if name in ("", ".", ".."):
        return "is not a file name"
    if name.startswith("."):
        return "starts with `.`, which hides the file (web servers refuse to serve it)"
    odd = sorted({c for c in name if c in _UNPORTABLE or not (c.isprintable() or c == " ")})
    if odd:
        return (f"holds {' '.join(repr(c) for c in odd)}, which Windows, memory cards or "
                "playlists cannot hold")
    if name.endswith((" ", ".")):
        return "ends in a space or a dot, which Windows drops"
    if name.split(".")[0].rstrip().lower() in _WINDOWS_DEVICES:
        return "is the name of a device on Windows"
    if len(name.encode("utf-8")) > MAX_NAME_BYTES:
        return f"is longer than {MAX_NAME_BYTES} bytes"
    return None


def write_text_atomic(path: str | Path, text: str, overwrite: bool = True,
                      make_folder: bool = True) -> None:
    """Write `text` (UTF-8) to `path` atomically."""
    with replacing(path, overwrite, make_folder) as temp:
        temp.write_text(text, encoding="utf-8")


def temp_folder(parent: Path, name: str) -> Path:
    """A new hidden work folder in `parent`, named so that `remove_stale` can tell when the
    process that made it is gone."""
    remove_stale(parent, f".{name}.", ".part")
    return Path(tempfile.mkdtemp(dir=parent, prefix=f".{name}.{os.getpid()}.", suffix=".part"))


def remove_stale(folder: Path, prefix: str, suffix: str) -> None:
    """Remove what a killed run left in `folder`: temp files and folders named
    `PREFIX<pid>.<random>SUFFIX` whose process no longer runs. Those of live processes
    (another build at work) are left alone."""
    for leftover in _stale(folder, prefix, suffix):
        if leftover.is_dir() and not leftover.is_symlink():
            shutil.rmtree(leftover, ignore_errors=True)
        else:
            leftover.unlink(missing_ok=True)


def _stale(folder: Path, prefix: str, suffix: str) -> Iterator[Path]:
    """The paths `PREFIX<pid>.<random>SUFFIX` in `folder` whose process no longer runs."""
    for leftover in folder.glob(f"{glob.escape(prefix)}*{glob.escape(suffix)}"):
        pid = leftover.name[len(prefix):].split(".", 1)[0]
        if pid.isdigit() and not _running(int(pid)):
            yield leftover


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True  # someone else's, or not a pid we can ask about: keep its files
    return True


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
