"""Writing output files atomically and durably: a temp file beside the target, flushed to
the disk and renamed over it only once complete, then the folder flushed (as SQLite and git
do), so that a failed or interrupted write, or a power cut, leaves the old file or the new
one whole. Also what decides whether a name is safe for an output, whether its disk has
room, and how a failed write is reported.

Runs on Linux and macOS (POSIX calls only, each with the portable form where one differs);
see `sync` for macOS's flush."""

from __future__ import annotations

import errno
import glob
import os
import shutil
import stat
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, Iterator

try:
    import fcntl
except ImportError:  # not POSIX (Windows, unsupported): plain fsync
    fcntl = None  # type: ignore[assignment]

from .errors import InputError, OutputError, setting

try:
    import fcntl
except ImportError:  # Windows: `locked` does not lock there
    fcntl = None  # type: ignore[assignment]


@contextmanager
def replacing(path: str | Path, overwrite: bool = True, make_folder: bool = True,
              sync_folder: bool = True) -> Iterator[Path]:
    """Yields a temp path in `path`'s folder to write; when the block ends without error it
    becomes `path`. With `overwrite=False` an existing `path` is an error and is kept; with
    `make_folder=False` a missing folder is an error rather than created.

    Durable: the temp file is flushed to the disk before it is renamed, so that no power
    cut can leave `path` naming a file whose bytes never reached the disk, and the folder
    is flushed after, so that the new name itself survives one. `sync_folder=False` skips
    the second flush, for files whose loss costs nothing but time (a cache entry: a rename
    lost in a power cut is a miss, made again)."""
    path = Path(path)
    if not make_folder and not path.parent.is_dir():
        raise InputError(f"{path.parent} is not a folder; create it first")
    if _special(path):
        # the rename would put a file where the device was (`-o /dev/null` run as root
        # replaced the machine's /dev/null); a link to one too (/dev/stdout)
        raise InputError(f"{path} is a device, pipe or socket, not a file; write to a file "
                         f"instead ({setting('output')})")
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
            _chmod(handle, temp, 0o666 & ~_umask())
            os.close(handle)
        except OSError as exc:
            raise cannot_write(path.parent, exc) from None
        yield temp
        sync(temp)  # whole on the disk before its name says so
        if overwrite:
            os.replace(temp, path)
        else:
            exists = InputError(f"{path} already exists; use {setting('overwrite')} to "
                                "replace it")
            try:
                os.link(temp, path)  # fails if `path` exists, where a rename would replace it
            except FileExistsError:
                raise exists from None
            except OSError as exc:
                if exc.errno not in NO_LINKS:
                    raise
                # a file system without hard links (FAT, exFAT, some network mounts): look,
                # then rename; another writer may slip in between, and its file is replaced
                if path.exists():
                    raise exists from None
                os.replace(temp, path)
        if sync_folder:
            sync(path.parent)  # the new name on the disk too
    except OSError as exc:
        raise cannot_write(path, exc, into=False) from None
    finally:
        if temp is not None:
            temp.unlink(missing_ok=True)


def _special(path: Path) -> bool:
    """Whether `path`, or what a link there points to, is a device, pipe or socket."""
    for look in (os.lstat, os.stat):
        try:
            kind = look(path).st_mode
        except OSError:
            continue
        if stat.S_ISCHR(kind) or stat.S_ISBLK(kind) or stat.S_ISFIFO(kind) \
                or stat.S_ISSOCK(kind):
            return True
    return False


def keep(path: str | Path, data: bytes) -> None:
    """Write `data` as `path`, a file whose loss costs only time (a cover drawn, a level
    found, kept beside the speech cache): atomically, but without flushing its folder (a
    rename lost in a power cut means doing the work again), and a write that fails is
    given up quietly, as the work is done and only not kept."""
    try:
        with replacing(path, sync_folder=False) as temp:
            temp.write_bytes(data)
    except (InputError, OutputError):
        pass


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
        sync_tree(temp)  # every file in it, and its names, on the disk before it is renamed
        if path.is_dir() and not path.is_symlink():
            os.replace(path, old)
            moved = True
        elif path.exists() or path.is_symlink():
            raise OutputError(f"{path} exists and is not a folder; move it away first")
        os.replace(temp, path)
        moved = False
        sync(path.parent)
    except OSError as exc:
        raise cannot_write(path, exc, into=False) from None
    finally:
        if moved:  # the new folder could not take its place: the old one goes back
            os.replace(old, path)
        shutil.rmtree(temp, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)


def move_into(staging: Path, folder: Path, names: Iterable[str]) -> None:
    """Move the files `names` from `staging` into `folder` (on the same disk), replacing any
    there, in order, durably: each is flushed to the disk before it is renamed, and `folder`
    once they are all in. Call it again for files that list these (a page, a feed): after a
    power cut, they never name a file that is not there."""
    names = list(names)
    for name in names:
        sync(staging / name)
    for name in names:
        os.replace(staging / name, folder / name)
    sync(folder)


def sync(path: str | Path) -> None:
    """Flush the file or folder `path` to the disk: a file's bytes, a folder's names (what
    was renamed into or out of it).

    On macOS, fsync only hands the data to the drive, whose own cache a power cut may
    empty; `F_FULLFSYNC` asks the drive to write it down, as git does there (and SQLite
    with `fullfsync`). Where a file system refuses it, fsync does what it can. A folder
    that cannot be flushed (some network and FUSE file systems refuse, and Windows cannot
    open one) is left as it is, as SQLite leaves it: its files are flushed all the same."""
    try:
        descriptor = os.open(path, os.O_RDONLY)
        try:
            _flush(descriptor)
        finally:
            os.close(descriptor)
    except OSError as exc:
        if not (exc.errno in _FOLDER_REFUSALS and os.path.isdir(path)):
            raise


_FOLDER_REFUSALS = (errno.EINVAL, errno.ENOTSUP, errno.EBADF, errno.EACCES, errno.EPERM,
                    errno.EISDIR)


def sync_tree(folder: Path) -> None:
    """`sync` every file and folder in `folder`, then `folder` itself."""
    for path in sorted(folder.iterdir()):
        if path.is_dir() and not path.is_symlink():
            sync_tree(path)
        elif path.is_file() and not path.is_symlink():
            sync(path)
    sync(folder)


_FULLFSYNC = getattr(fcntl, "F_FULLFSYNC", None)
"""macOS's flush through the drive's cache; None elsewhere (Linux's fsync already does)."""


def _flush(descriptor: int) -> None:
    if _FULLFSYNC is not None:
        try:
            fcntl.fcntl(descriptor, _FULLFSYNC)
            return
        except OSError:
            pass  # not every file system (nor every disk) takes it: fsync, at least
    os.fsync(descriptor)


class NoLocks(OSError):
    """The file system of a file to lock has no locks."""


@contextmanager
def locked(path: Path, wait: bool = True) -> Iterator[bool]:
    """Hold an exclusive lock (`flock`) on the file `path`, made if missing and never removed
    (a process that removed it while another waited on it would let a third lock a new
    file of the same name); released when the block ends, or when the process does. Yields
    True once held; False at once, without waiting, if `wait` is false and another process
    holds it. Where there are no locks (Windows) it yields True. An OSError when the file
    cannot be made; `NoLocks` when its file system has none (some network mounts)."""
    if fcntl is None:
        yield True
        return
    handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            held = False
        except OSError as exc:
            raise NoLocks(exc.errno, exc.strerror) from None
        else:
            held = True
        yield held
    finally:
        os.close(handle)  # which releases the lock


def cannot_write(path: str | Path, exc: OSError, into: bool = True) -> OutputError:
    """Our error for `exc`, raised writing `path` (or `into` the folder `path`), with the fix
    when there is a usual one."""
    elsewhere = f"write somewhere else ({setting('output')})"
    advice = {errno.ENOSPC: f"; free up space, or {elsewhere}",
              errno.EDQUOT: f"; free up space, or {elsewhere}",
              errno.EFBIG: f"; write to another kind of disk ({setting('output')}), or split "
                           "the routine",
              errno.EROFS: f"; {elsewhere}",
              errno.EACCES: f"; {elsewhere}, or change its permissions",
              errno.EPERM: f"; {elsewhere}, or change its permissions",
              }.get(exc.errno, "")
    return OutputError(f"cannot write {'to ' if into else ''}{path} "
                       f"({exc.strerror or exc}){advice}")


DISK_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
"""Errors that mean the disk, not the program, stopped a write."""
NO_LINKS = (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS, errno.EXDEV,
            errno.EMLINK)
"""How `os.link` fails on a file system that has no hard links (or no more for a file)."""


def ensure_space(folder: Path, needed: int, target: Path) -> None:
    """Refuse to start writing `target` (about `needed` bytes, written in `folder`) when its
    disk clearly has too little room, rather than failing once most of the work is done."""
    try:
        free = _free_space(folder)
    except OSError:
        return  # the write itself will say what is wrong
    if free < needed:
        raise OutputError(f"{target} needs about {megabytes(needed)}, but its disk has "
                          f"{megabytes(free)} free; free up space, or write somewhere else "
                          f"({setting('output')})")


def _free_space(folder: Path) -> int:
    """Bytes that this process may still write on `folder`'s disk."""
    if not hasattr(os, "statvfs"):  # not POSIX: what any user may write
        return shutil.disk_usage(folder).free
    disk = os.statvfs(folder)  # Linux and macOS alike
    # root may also use the blocks a file system keeps back for it
    root = hasattr(os, "geteuid") and os.geteuid() == 0
    return (disk.f_bfree if root else disk.f_bavail) * disk.f_frsize


def megabytes(size: int) -> str:
    """`size` bytes as people read it: "2.5 MB"."""
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


def _chmod(descriptor: int, path: str, mode: int) -> None:
    """Set the mode of the file open as `descriptor` (at `path`)."""
    if hasattr(os, "fchmod"):  # Linux and macOS; Windows only from Python 3.13
        os.fchmod(descriptor, mode)
    else:
        os.chmod(path, mode)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
