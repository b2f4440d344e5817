"""The cache folder: what it holds (`routinecast cache`), entries marked as used when a build
reads them, and pruning what no build used for a while, never anything that is not ours."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from routinecast.cachefolder import MARK_EVERY_S, prune, survey

from conftest import FIXTURES

HEX = "0123456789abcdef" * 4
DAY = 24 * 3600


def _age(folder: Path, days: float) -> None:
    then = time.time() - days * DAY
    for path in folder.rglob("*"):
        if path.is_file():
            os.utime(path, (then, then))


def _kinds(folder: Path) -> dict[str, int]:
    return {kind.name: kind.files for kind in survey(folder)}


@pytest.mark.slow
def test_what_a_build_reads_is_kept_and_what_none_used_is_pruned(run, tmp_path):
    cache = tmp_path / "cache"
    assert run("build", FIXTURES / "small.yaml", "-o", tmp_path / "a.mp3", "-q",
               "--cache-dir", cache).exit_code == 0
    made = _kinds(cache)
    assert made["speech"] > 3 and made["levels"] == 1 and made["covers"] == 1
    _age(cache, 100)
    # a plan reads every clip (so marks them) but no calibration or cover
    assert run("plan", FIXTURES / "small.yaml", "--cache-dir", cache, "-q").exit_code == 0
    pruned = run("cache", "--prune", "30", "--cache-dir", cache)
    assert pruned.exit_code == 0
    assert pruned.output.startswith(f"removed 2 files (")
    assert f"not used in 30 days from {cache}" in pruned.output
    assert _kinds(cache) == {"speech": made["speech"], "levels": 0, "covers": 0, "older": 0}
    # what was removed is made again; what was kept is used as it is (no speech made)
    assert run("build", FIXTURES / "small.yaml", "-o", tmp_path / "b.mp3", "-q",
               "--cache-dir", cache).exit_code == 0
    assert _kinds(cache) == made


def test_an_entry_read_is_marked_at_most_once_a_day(tmp_path):
    import numpy as np

    from routinecast.tts.cache import ClipCache

    cache = ClipCache(tmp_path)
    key = cache.key("piper", "voice", 1.0, 22050, "Hello.")
    cache.put(key, np.zeros(10, dtype=np.int16), 22050)
    entry = next(tmp_path.rglob("*.clip"))
    recent = time.time() - MARK_EVERY_S / 2
    os.utime(entry, (recent, recent))
    assert cache.get(key, 22050) is not None
    assert entry.stat().st_mtime == recent  # not written to for every read
    old = time.time() - 3 * MARK_EVERY_S
    os.utime(entry, (old, old))
    assert cache.get(key, 22050) is not None
    assert entry.stat().st_mtime > time.time() - 60


def test_only_our_entries_are_counted_or_removed(tmp_path):
    cache = tmp_path / "cache"
    outside = tmp_path / "precious.txt"
    outside.write_text("mine")
    ours = [cache / "ab" / f"{HEX}.clip", cache / "levels" / f"{HEX}.json",
            cache / "covers" / f"{HEX}.png", cache / "cd" / f".{HEX}.123.x7y.part.clip",
            cache / "sounds" / "ef" / f"{HEX}.fig", cache / "levels" / f"{HEX}.txt"]
    theirs = [cache / "notes.txt", cache / "ab" / "notes.clip", cache / "photos" / f"{HEX}.png",
              cache / "ab" / f"{HEX}.clip.bak"]
    for path in ours + theirs:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x" * 100)
    (cache / "ab" / f"{'f' * 64}.clip").symlink_to(outside)
    (cache / "12").symlink_to(tmp_path)  # a folder link is not looked into
    _age(cache, 1 / 12)  # two hours: the temp file is a killed build's leftover
    writing = cache / "ab" / f".{HEX}.456.k2z.part.clip"  # a build writing it now
    writing.write_bytes(b"x" * 100)
    kinds = {kind.name: (kind.files, kind.size) for kind in survey(cache)}
    assert kinds == {"speech": (3, 300), "levels": (1, 100), "covers": (1, 100),
                     "older": (2, 200)}
    removed = prune(cache, 0)
    assert (removed.files, removed.size, removed.failed) == (6, 600, 0)
    assert not any(path.exists() for path in ours)
    assert all(path.exists() for path in theirs + [writing])
    assert outside.read_text() == "mine"


def test_a_recent_entry_stays_and_a_missing_folder_is_empty(tmp_path):
    cache = tmp_path / "cache"
    assert prune(cache, 30).files == 0
    assert all(kind.files == 0 and kind.last_used is None for kind in survey(cache))
    old, new = cache / "ab" / f"{HEX}.clip", cache / "ab" / f"{HEX[::-1]}.clip"
    old.parent.mkdir(parents=True)
    old.write_bytes(b"x")
    new.write_bytes(b"x")
    _age(cache, 40)
    # marked at most once a day: used within 30 days means a time up to 31 days old
    then = time.time() - 30.5 * DAY
    os.utime(new, (then, then))
    assert prune(cache, 30).files == 1
    assert not old.exists() and new.exists()
    with pytest.raises(ValueError, match="unused_days"):
        prune(cache, -1)


def test_the_cache_command_shows_each_kind_and_refuses_a_bad_number(run, tmp_path):
    cache = tmp_path / "cache"
    (cache / "ab").mkdir(parents=True)
    (cache / "ab" / f"{HEX}.clip").write_bytes(b"x" * 2_500_000)
    shown = run("cache", "--cache-dir", cache)
    assert shown.exit_code == 0
    lines = shown.output.splitlines()
    assert lines[0] == f"cache: {cache}"
    assert lines[1].split()[:4] == ["speech", "1", "files", "2.5"]
    assert lines[-1].split() == ["total", "1", "files", "2.5", "MB"]
    bad = run("cache", "--prune", "-1", "--cache-dir", cache)
    assert bad.exit_code == 2 and len(bad.stderr.splitlines()) == 1
    assert (cache / "ab" / f"{HEX}.clip").exists()


def test_what_cannot_be_removed_is_counted_and_the_command_fails(run, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    (cache / "ab").mkdir(parents=True)
    for name in (HEX, HEX[::-1]):
        (cache / "ab" / f"{name}.clip").write_bytes(b"x")
    stuck = cache / "ab" / f"{HEX}.clip"
    real = Path.unlink

    def unlink(path, *args, **kwargs):
        if path == stuck:
            raise PermissionError(1, "Operation not permitted")
        return real(path, *args, **kwargs)
    monkeypatch.setattr(Path, "unlink", unlink)
    result = run("cache", "--prune", "0", "--cache-dir", cache)
    assert result.exit_code == 1
    assert result.output.startswith(f"removed 1 file (0.0 MB) from {cache}\n")
    assert result.stderr == (f"could not remove 1 file ({stuck}: Operation not permitted); "
                             "check the folder's permissions\n")
    assert stuck.exists()


def test_a_folder_that_is_not_there_is_said_so(run, tmp_path):
    result = run("cache", "--prune", "0", "--cache-dir", tmp_path / "typo")
    assert result.exit_code == 0
    assert result.output == f"no cache at {tmp_path / 'typo'}: nothing has been built with it yet\n"
    assert not (tmp_path / "typo").exists()
