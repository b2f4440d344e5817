"""Durable outputs: every output's bytes are flushed to the disk before its name points at
them, and its folder after, so that a power cut leaves the old file or the new one whole.

A power cut cannot be made in a test; what can be checked is the order of the calls that
make a write survive one. Real builds run in-process with `os.fsync`, `os.replace`,
`os.rename` and `os.link` recorded, in order, with each flushed descriptor's path."""

from __future__ import annotations

import errno
import os
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from routinecast import files
from routinecast.errors import OutputError
from routinecast.files import move_into, replacing, replacing_folder, sync, write_text_atomic
from routinecast.tts.cache import ClipCache

from conftest import FIXTURES

PROC = Path("/proc/self/fd").is_dir()  # Linux
GETPATH = getattr(files.fcntl, "F_GETPATH", None)  # macOS
pytestmark = pytest.mark.skipif(not PROC and GETPATH is None,
                                reason="cannot tell which file a descriptor is open on")


def real(path: str | os.PathLike) -> str:
    return os.path.realpath(path)


def descriptor_path(descriptor: int) -> str:
    if PROC:
        return os.readlink(f"/proc/self/fd/{descriptor}")
    return real(files.fcntl.fcntl(descriptor, GETPATH, bytes(1024)).rstrip(b"\0").decode())


@pytest.fixture
def calls(monkeypatch) -> list[tuple[str, ...]]:
    """Every fsync (with the path it flushed), replace, rename and link, in order."""
    recorded: list[tuple[str, ...]] = []
    fsync, replace, rename, link = os.fsync, os.replace, os.rename, os.link
    monkeypatch.setattr(files, "_FULLFSYNC", None)  # on macOS too: flush with fsync

    def recording_fsync(descriptor):
        path = descriptor_path(descriptor)
        fsync(descriptor)
        recorded.append(("fsync", path))

    def moving(kind, call):
        def move(source, destination, *args, **kwargs):
            call(source, destination, *args, **kwargs)
            recorded.append((kind, real(source) if kind == "link" else os.path.abspath(source),
                             real(destination)))
        return move

    monkeypatch.setattr(os, "fsync", recording_fsync)
    monkeypatch.setattr(os, "replace", moving("replace", replace))
    monkeypatch.setattr(os, "rename", moving("rename", rename))
    monkeypatch.setattr(os, "link", moving("link", link))
    return recorded


def moved_onto(calls, target: Path) -> tuple[int, str]:
    """The index of the last rename (or link) that put a file in place at `target`, and the
    file it moved."""
    target_ = real(target)
    for index in range(len(calls) - 1, -1, -1):
        if calls[index][0] != "fsync" and calls[index][2] == target_:
            return index, calls[index][1]
    raise AssertionError(f"nothing was moved onto {target}: {calls}")


def flushed(calls, path: str | Path, start: int = 0, end: int | None = None) -> bool:
    return ("fsync", real(path)) in calls[start:end]


def assert_durable(calls, target: Path) -> None:
    """`target` was put in place by a rename of a temp file flushed before it, and its
    folder was flushed after it."""
    index, source = moved_onto(calls, target)
    assert flushed(calls, source, end=index), f"{source} renamed onto {target} unflushed"
    assert flushed(calls, target.parent, start=index + 1), \
        f"{target.parent} not flushed after {target} was renamed into it"


@pytest.mark.slow
def test_a_build_flushes_the_mp3_before_renaming_it_and_its_folder_after(
        tmp_path, run, calls):
    mp3 = tmp_path / "out" / "small.mp3"
    mp3.parent.mkdir()
    mp3.write_bytes(b"the old mp3")
    assert run("build", FIXTURES / "small.yaml", "-o", mp3).exit_code == 0
    assert_durable(calls, mp3)
    # the carried routine, written back out
    calls.clear()
    routine = tmp_path / "out" / "small.yaml"
    assert run("extract", mp3, "-o", routine).exit_code == 0
    assert_durable(calls, routine)


@pytest.mark.slow
def test_speech_cache_entries_are_flushed_before_they_are_renamed(tmp_path, run, calls):
    cache = tmp_path / "cache"
    assert run("build", FIXTURES / "small.yaml", "-o", tmp_path / "small.mp3",
               "--cache-dir", cache).exit_code == 0
    entries = [p for p in cache.rglob("*") if p.is_file()]
    assert entries
    for entry in entries:
        index, source = moved_onto(calls, entry)
        assert flushed(calls, source, end=index), f"cache entry {entry} renamed unflushed"


@pytest.mark.slow
def test_a_split_build_flushes_every_part_and_the_folder_before_it_takes_the_old_ones_place(
        tmp_path, run, calls):
    playlist, folder = tmp_path / "small.m3u8", tmp_path / "small"
    folder.mkdir()
    (folder / "01-old-part.mp3").write_bytes(b"a part of an older build")
    assert run("build", FIXTURES / "small.yaml", "--split", "-o", playlist).exit_code == 0
    index, temp = moved_onto(calls, folder)
    parts = sorted(folder.iterdir())
    assert parts and "01-old-part.mp3" not in [part.name for part in parts]
    for part in parts:
        assert flushed(calls, Path(temp) / part.name, end=index), f"{part.name} unflushed"
    assert flushed(calls, temp, end=index)  # the parts' names, in the temp folder
    assert flushed(calls, tmp_path, start=index + 1)
    assert_durable(calls, playlist)


@pytest.mark.slow
def test_a_share_flushes_every_file_before_it_is_moved_in_and_the_folder_before_the_page(
        tmp_path, run, calls):
    folder = tmp_path / "share"
    assert run("share", FIXTURES / "small.yaml", "-o", folder).exit_code == 0
    page, feed = moved_onto(calls, folder / "index.html")[0], \
        moved_onto(calls, folder / "feed.xml")[0]
    listed = [p for p in folder.iterdir() if p.name not in ("index.html", "feed.xml")]
    assert {p.name for p in listed} >= {"small.mp3", "small.yaml", "small.vtt",
                                        "small.chapters.json", "cover.png"}
    last = max(moved_onto(calls, p)[0] for p in listed)
    assert last < min(page, feed)
    for path in (*listed, folder / "index.html", folder / "feed.xml"):
        index, source = moved_onto(calls, path)
        assert flushed(calls, source, end=index), f"{path.name} moved in unflushed"
    # what the page and feed list is there for good before they are
    assert flushed(calls, folder, start=last + 1, end=min(page, feed))
    assert flushed(calls, folder, start=max(page, feed) + 1)


def test_replacing_flushes_the_file_then_renames_it_then_flushes_the_folder(tmp_path, calls):
    target = tmp_path / "a.txt"
    with replacing(target) as temp:
        temp.write_text("new")
    assert [call[0] for call in calls] == ["fsync", "replace", "fsync"]
    assert calls[0] == ("fsync", real(calls[1][1]))
    assert calls[2] == ("fsync", real(tmp_path))


def test_without_overwriting_the_link_is_flushed_too(tmp_path, calls):
    write_text_atomic(tmp_path / "me.yaml", "hold-scale: 1.5\n", overwrite=False)
    assert [call[0] for call in calls] == ["fsync", "link", "fsync"]
    assert calls[2] == ("fsync", real(tmp_path))


def test_a_cache_like_write_may_skip_the_folder_flush(tmp_path, calls):
    with replacing(tmp_path / "entry.clip", sync_folder=False) as temp:
        temp.write_bytes(b"samples")
    assert [call[0] for call in calls] == ["fsync", "replace"]


def test_clip_cache_entries_are_flushed_before_the_rename(tmp_path, calls):
    ClipCache(tmp_path).put("a" * 64, np.zeros(100, dtype=np.float32), 22050)
    moves = [i for i, call in enumerate(calls) if call[0] == "replace"]
    assert moves
    for index in moves:
        assert flushed(calls, calls[index][1], end=index)


def test_a_folder_is_flushed_whole_before_it_takes_the_place_of_the_old_one(tmp_path, calls):
    target = tmp_path / "parts"
    target.mkdir()
    (target / "old.mp3").write_text("old")
    with replacing_folder(target) as temp:
        (temp / "01-a.mp3").write_text("a")
        (temp / "02-b.mp3").write_text("b")
    index, moved = moved_onto(calls, target)
    assert moved == str(temp)
    for name in ("01-a.mp3", "02-b.mp3"):
        assert flushed(calls, temp / name, end=index)
    assert flushed(calls, temp, end=index)
    assert flushed(calls, tmp_path, start=index + 1)


def test_move_into_flushes_each_file_then_moves_them_then_flushes_the_folder(tmp_path, calls):
    staging, folder = tmp_path / ".staging", tmp_path / "share"
    staging.mkdir()
    folder.mkdir()
    for name in ("a.mp3", "b.yaml"):
        (staging / name).write_text(name)
    move_into(staging, folder, ["a.mp3", "b.yaml"])
    assert [call[0] for call in calls] == ["fsync", "fsync", "replace", "replace", "fsync"]
    assert calls[-1] == ("fsync", real(folder))
    assert (folder / "b.yaml").read_text() == "b.yaml"


def test_a_failed_flush_is_a_clear_error_and_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "small.mp3"
    target.write_bytes(b"old")

    def failing(descriptor):
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "fsync", failing)
    with pytest.raises(OutputError, match=r"cannot write .*small\.mp3 \(Input/output error\)"):
        with replacing(target) as temp:
            temp.write_bytes(b"new")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["small.mp3"]


def test_a_folder_that_cannot_be_flushed_is_left_but_a_file_that_cannot_is_an_error(
        tmp_path, monkeypatch):
    def refusing(descriptor):
        raise OSError(errno.EINVAL, "Invalid argument")

    monkeypatch.setattr(os, "fsync", refusing)
    sync(tmp_path)  # as on some network file systems: nothing to do about it
    (tmp_path / "a").write_text("a")
    with pytest.raises(OSError):
        sync(tmp_path / "a")


# macOS: the same code, with its own flush; these force the branches Linux does not take


def test_on_macos_the_drive_cache_is_flushed_with_f_fullfsync(tmp_path, monkeypatch):
    done = []
    fake_fcntl = type(sys)("fcntl")
    fake_fcntl.fcntl = lambda descriptor, command: done.append(("fcntl", command))
    monkeypatch.setattr(files, "fcntl", fake_fcntl)
    monkeypatch.setattr(files, "_FULLFSYNC", 51)  # F_FULLFSYNC's number on macOS
    monkeypatch.setattr(os, "fsync", lambda descriptor: done.append(("fsync",)))
    with replacing(tmp_path / "a.mp3") as temp:
        temp.write_bytes(b"new")
    assert done == [("fcntl", 51), ("fcntl", 51)]  # the file, then the folder


def test_where_f_fullfsync_is_refused_fsync_still_flushes(tmp_path, monkeypatch):
    done = []

    def refusing(descriptor, command):
        raise OSError(errno.ENOTSUP, "Operation not supported")

    fake_fcntl = type(sys)("fcntl")
    fake_fcntl.fcntl = refusing
    monkeypatch.setattr(files, "fcntl", fake_fcntl)
    monkeypatch.setattr(files, "_FULLFSYNC", 51)
    monkeypatch.setattr(os, "fsync", lambda descriptor: done.append("fsync"))
    (tmp_path / "a").write_text("a")
    sync(tmp_path / "a")
    assert done == ["fsync"]


def test_free_space_without_statvfs_or_geteuid(tmp_path, monkeypatch):
    usage = shutil.disk_usage(tmp_path)._replace(free=5_000_000)
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage)  # as on Windows
    monkeypatch.delattr(os, "statvfs")
    monkeypatch.delattr(os, "geteuid")
    assert files._free_space(tmp_path) == 5_000_000
    files.ensure_space(tmp_path, 4_000_000, tmp_path / "x.mp3")
    with pytest.raises(OutputError, match="needs about 6.0 MB, but its disk has 5.0 MB free"):
        files.ensure_space(tmp_path, 6_000_000, tmp_path / "x.mp3")


def test_free_space_counts_the_reserved_blocks_for_root_only(tmp_path, monkeypatch):
    disk = os.statvfs(tmp_path)
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    assert files._free_space(tmp_path) == disk.f_bfree * disk.f_frsize
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert files._free_space(tmp_path) == disk.f_bavail * disk.f_frsize


def test_the_umask_is_honoured_without_fchmod(tmp_path, monkeypatch):
    monkeypatch.delattr(os, "fchmod")
    mask = os.umask(0o027)
    try:
        write_text_atomic(tmp_path / "a.txt", "a")
    finally:
        os.umask(mask)
    assert (tmp_path / "a.txt").stat().st_mode & 0o777 == 0o640
