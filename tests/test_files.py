"""Atomic writes of files and folders: the old one stays whole until the new one is."""

from __future__ import annotations

import fnmatch
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from routinecast.errors import OutputError
from routinecast.ffmpeg import decode_pcm, probe_chapters
from routinecast.files import replacing, replacing_folder
from routinecast.render import sample_index
from routinecast.tagging import read_tags
from routinecast.tts.cache import ClipCache

from audio import RATE
from conftest import FIXTURES


def test_a_folder_is_replaced_whole(tmp_path):
    target = tmp_path / "parts"
    target.mkdir()
    (target / "old.mp3").write_text("old")
    with replacing_folder(target) as temp:
        (temp / "new.mp3").write_text("new")
        assert (target / "old.mp3").exists()  # nothing changes until the block ends
    assert [p.name for p in target.iterdir()] == ["new.mp3"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["parts"]


def test_a_failure_inside_leaves_the_old_folder(tmp_path):
    target = tmp_path / "parts"
    target.mkdir()
    (target / "old.mp3").write_text("old")
    with pytest.raises(RuntimeError):
        with replacing_folder(target) as temp:
            (temp / "new.mp3").write_text("new")
            raise RuntimeError("encoder died")
    assert [p.name for p in target.iterdir()] == ["old.mp3"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["parts"]


def test_an_old_folder_a_killed_swap_left_aside_is_put_back_or_removed(tmp_path):
    target = tmp_path / "parts"
    aside = tmp_path / ".parts.99999999.abc123.old"  # beyond any pid: its run is gone
    aside.mkdir()
    (aside / "old.mp3").write_text("old")
    with pytest.raises(RuntimeError):  # killed between the two renames: no folder…
        with replacing_folder(target):
            raise RuntimeError("this build fails too")
    assert [p.name for p in target.iterdir()] == ["old.mp3"]  # …so the old one is back
    aside.mkdir()
    with replacing_folder(target) as temp:
        (temp / "new.mp3").write_text("new")
    assert [p.name for p in target.iterdir()] == ["new.mp3"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["parts"]


def test_a_failed_swap_puts_the_old_folder_back(tmp_path, monkeypatch):
    target = tmp_path / "parts"
    target.mkdir()
    (target / "old.mp3").write_text("old")
    real_replace, calls = os.replace, []

    def replace(source, destination):
        calls.append(source)
        if len(calls) == 2:  # the new folder moving into place
            raise OSError(28, "No space left on device")
        return real_replace(source, destination)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(OutputError, match="No space left on device"):
        with replacing_folder(target) as temp:
            (temp / "new.mp3").write_text("new")
    assert [p.name for p in target.iterdir()] == ["old.mp3"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["parts"]


def test_leftovers_of_dead_processes_are_removed_and_live_ones_kept(tmp_path):
    dead = tmp_path / ".small.99999999.abc123.part.mp3"  # beyond any pid
    live = tmp_path / f".small.{os.getpid()}.def456.part.mp3"
    other = tmp_path / ".smaller.99999999.abc123.part.mp3"
    for leftover in (dead, live, other):
        leftover.write_bytes(b"half an mp3")
    with replacing(tmp_path / "small.mp3") as temp:
        temp.write_bytes(b"whole")
    assert not dead.exists() and live.exists() and other.exists()
    assert (tmp_path / "small.mp3").read_bytes() == b"whole"


@pytest.mark.parametrize("signal_number", [signal.SIGINT, signal.SIGKILL])
def test_an_interrupted_build_keeps_the_old_mp3_and_the_next_build_tidies(
        signal_number, tmp_path, speech_cache, run):
    mp3 = tmp_path / "small.mp3"
    assert run("build", FIXTURES / "small.yaml", "-o", mp3).exit_code == 0
    before = mp3.read_bytes()
    # a long variant, so that encoding is still under way when the signal comes
    build = subprocess.Popen(
        [sys.executable, "-m", "routinecast", "build", FIXTURES / "small.yaml", "-o", mp3,
         "--hold-scale", "60", "-q"], env={**os.environ, "ROUTINECAST_CACHE": str(speech_cache)},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        # a test run started in the background ignores SIGINT, and its children would too
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob(".small.*.part.mp3")):
        assert build.poll() is None and time.monotonic() < deadline, build.stderr.read()
        time.sleep(0.01)
    build.send_signal(signal_number)
    _, stderr = build.communicate(timeout=30)
    if signal_number == signal.SIGINT:
        assert build.returncode == 130, stderr
        assert stderr.decode().strip().endswith("interrupted; no file was left half-written")
    assert mp3.read_bytes() == before
    if signal_number == signal.SIGINT:
        assert not list(tmp_path.glob(".*"))
    else:
        assert list(tmp_path.glob(".small.*.part.mp3"))  # what SIGKILL leaves behind…
    assert run("build", FIXTURES / "small.yaml", "-o", mp3).exit_code == 0
    assert not list(tmp_path.glob(".*"))  # …the next build removes


def test_two_builds_at_once_on_one_empty_cache_both_come_out_right(tmp_path):
    """Both synthesise the same texts at the same moments, so they race on every cache
    entry; each must still write an MP3 whose audio and chapters agree, and leave the cache
    whole for the next build."""
    cache = tmp_path / "cache"
    env = {**os.environ, "ROUTINECAST_CACHE": str(cache)}
    builds = [subprocess.Popen(
        [sys.executable, "-m", "routinecast", "build", FIXTURES / "small.yaml", "-o",
         tmp_path / name / "small.mp3", "-q"], env=env, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE) for name in ("a", "b")]
    for build in builds:
        _, stderr = build.communicate(timeout=120)
        assert build.returncode == 0, stderr.decode()
    for name in ("a", "b"):
        mp3 = tmp_path / name / "small.mp3"
        chapters = read_tags(mp3).chapters
        assert chapters[0][1] == 0 and all(
            before[2] == after[1] for before, after in zip(chapters, chapters[1:]))
        # the audio lasts exactly as long as the chapters say, to the sample
        assert len(decode_pcm(mp3, RATE)) == sample_index(chapters[-1][2], RATE)
        assert [c.title for c in probe_chapters(mp3)] == [c[3] for c in chapters]
    # the first clip stored for a text is the one both use: they sound the same
    assert np.array_equal(*(decode_pcm(tmp_path / name / "small.mp3", RATE)
                            for name in ("a", "b")))
    entries = list(cache.rglob("*"))
    # no temp files; beside the clips, the covers drawn (PNG) and the levels found (JSON)
    assert not [e for e in entries
                if e.is_file() and e.suffix not in (".clip", ".fig", ".png", ".json")]
    clips = ClipCache(cache)
    assert all(clips.get(e.stem, RATE) is not None for e in entries if e.suffix == ".clip")


@pytest.fixture
def small_disk(tmp_path):
    """Mounts a tmpfs of the given size (KiB), read-only if asked, and returns its path; as
    root, permissions do not stop writes, but a read-only or full file system does."""
    mounted = []

    def mount(size_kib: int, read_only: bool = False) -> Path:
        point = tmp_path / f"disk{len(mounted)}"
        point.mkdir()
        options = f"size={size_kib}k" + (",ro" if read_only else "")
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(point)],
                              capture_output=True, text=True)
        if done.returncode != 0:
            pytest.skip(f"cannot mount a small file system here: {done.stderr.strip()}")
        mounted.append(point)
        return point

    yield mount
    for point in mounted:
        subprocess.run(["umount", "-l", str(point)], check=True)


@pytest.mark.parametrize("command", [
    ["build", FIXTURES / "small.yaml", "-o", "{disk}"],
    ["build", FIXTURES / "small.yaml", "--split", "-o", "{disk}"],
    ["share", FIXTURES / "small.yaml", "-o", "{disk}/share"],
    ["extract", "{mp3}", "-o", "{disk}/small.yaml"],
    ["profile", "init", "{disk}/me.yaml"],
])
def test_a_read_only_folder_is_a_clear_error(small_disk, run, built_small, command):
    disk = small_disk(64, read_only=True)
    args = [str(a).format(disk=disk, mp3=built_small) for a in command]
    result = run(*args)
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith(f"cannot write to {disk}")
    assert result.stderr.endswith("(Read-only file system); write somewhere else (-o)\n")


def test_a_read_only_speech_cache_is_a_clear_error(small_disk, run, tmp_path):
    cache = small_disk(64, read_only=True)
    result = run("build", FIXTURES / "small.yaml", "-o", tmp_path / "out", "--cache-dir",
                 cache)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"cannot write to {cache}")
    assert result.stderr.endswith("(Read-only file system), in the speech cache; set "
                                  "--cache-dir or ROUTINECAST_CACHE to a writable folder\n")
    assert not (tmp_path / "out").exists()


@pytest.fixture
def built_small(tmp_path, run, speech_cache) -> Path:
    mp3 = tmp_path / "small.mp3"
    assert run("build", FIXTURES / "small.yaml", "-o", mp3).exit_code == 0
    return mp3


@pytest.mark.parametrize("checked", [True, False], ids=["checked", "filling-up"])
def test_a_full_disk_is_a_clear_error_and_keeps_the_old_mp3(
        small_disk, run, built_small, monkeypatch, checked):
    """Checked: the build sees at once that the disk has too little room. Filling up: the
    disk had room when the build started (here: the check is skipped), and ffmpeg's failure
    is reported as the full disk it is."""
    if not checked:
        monkeypatch.setattr("routinecast.builder.ensure_space", lambda *args: None)
    disk = small_disk(built_small.stat().st_size // 1024 + 200)
    mp3 = disk / "small.mp3"
    mp3.write_bytes(built_small.read_bytes())
    result = run("build", FIXTURES / "small.yaml", "-o", mp3, "--hold-scale", "2")
    assert result.exit_code == 1
    said = (f"{mp3} needs about *, but its disk has 0.* MB free" if checked
            else f"cannot write {mp3} (No space left on device)")
    assert fnmatch.fnmatch(result.stderr, f"{said}; free up space, or write somewhere else (-o)\n")
    assert mp3.read_bytes() == built_small.read_bytes()
    assert sorted(p.name for p in disk.iterdir()) == ["small.mp3"]


@pytest.mark.parametrize("delay_s", [0.0, 0.03, 0.06, 0.1, 0.15, 0.25, 0.4])
def test_a_ctrl_c_at_any_moment_of_starting_up_is_no_traceback(tmp_path, delay_s):
    build = subprocess.Popen(
        [sys.executable, "-m", "routinecast", "build", FIXTURES / "small.yaml", "-o",
         tmp_path / "small.mp3", "-q"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    time.sleep(delay_s)
    build.send_signal(signal.SIGINT)
    _, stderr = build.communicate(timeout=60)
    if build.returncode == 0:  # a warm build this small can be done before the signal comes
        assert [p.name for p in tmp_path.iterdir()] == ["small.mp3"]
        return
    said = stderr.decode()
    if build.returncode == 1 and said.rstrip().endswith("initialization failed"):
        return  # the signal came while Python itself was starting, before any code of ours
    if build.returncode in (1, -signal.SIGINT) and said.rstrip().endswith("KeyboardInterrupt") \
            and not any("routinecast" in Path(frame).parts
                        for frame in re.findall(r'File "([^"]+)"', said)):
        # or while Python was still starting (its site modules) or loading our first module:
        # no frame of its report is ours, so no line of ours had run to catch it
        return
    # before Python has set its handler, the signal ends it silently, as any program
    assert build.returncode in (130, -signal.SIGINT), stderr.decode()
    # (click writes a blank line first when the signal comes while it parses the options)
    assert stderr.decode().lstrip("\n") in (
        "", "interrupted\n", "interrupted; no file was left half-written\n")
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("command, linked", [("build", False), ("draft", False),
                                             ("draft", True)])
def test_an_output_that_is_a_pipe_or_device_is_refused_not_replaced(run, tmp_path, command,
                                                                    linked):
    """Run as root, the atomic rename would put a file where the device was (`-o /dev/null
    --force` replaced the machine's /dev/null): a special file, or a link to one (as
    /dev/stdout is), is refused and left as it was."""
    import stat

    target = tmp_path / ("x.mp3" if command == "build" else "x.yaml")
    if linked:
        os.mkfifo(tmp_path / "fifo")
        target.symlink_to(tmp_path / "fifo")
    else:
        os.mkfifo(target)
    source = FIXTURES / "small.yaml" if command == "build" else \
        FIXTURES / "articles" / sorted(p.name for p in (FIXTURES / "articles").iterdir())[0]
    result = run(command, source, "-o", target, "--force", *(["-q"] if command == "build" else []))
    assert result.exit_code == 2, result.output
    assert result.stderr == (f"{target} is a device, pipe or socket, not a file; write to a file "
                             "instead (-o)\n")
    assert stat.S_ISFIFO(target.stat().st_mode)
    assert target.is_symlink() == linked
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [target.name] + (["fifo"] if linked else []))
