"""`batch`: a manifest of listeners, each with their own versions of the routines and a share
site of their own; incremental, resumable, private feeds; the manifest's mistakes."""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import feedparser
import pytest

import routinecast.batch.state as state_module
from routinecast.batch import (BUILT, FAILED, LOCK_NAME, SITE_RECORD, UP_TO_DATE, batch,
                               format_results)
from routinecast.batch.manifest import ManifestError, read_manifest
from routinecast.batch.state import State, lock_path, state_path
from routinecast.batch.work import Task, run_task
from routinecast.builder import BuildSettings, build_key, load_all
from routinecast.cover import make_cover
from routinecast.tagging import read_build
from routinecast.errors import InputError, ProfileError

from conftest import FIXTURES, serving

BATCH = FIXTURES / "batch"


@pytest.fixture
def fixtures(tmp_path) -> Path:
    """The batch fixtures copied where the manifest's state file may be written."""
    folder = tmp_path / "in"
    shutil.copytree(BATCH, folder)
    return folder


def write(folder: Path, text: str, name: str = "manifest.yaml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def rows(done) -> list[tuple[str, str, str]]:
    return [(r.listener, Path(r.routine).name, r.result) for r in done.results]


# -- the manifest ------------------------------------------------------------------------------


def test_a_manifest_gives_each_listener_their_routines_and_profile(fixtures):
    manifest = read_manifest(fixtures / "manifest.yaml")
    assert [l.name for l in manifest.listeners] == ["ana", "ben", "Cleo"]
    assert [l.folder for l in manifest.listeners] == ["ana", "ben", "cleo"]
    ana, ben, cleo = manifest.listeners
    assert [p.name for p in ana.routines] == ["neck.yaml", "wrists.yaml"]
    assert str(ana.inline.hold_scale) == "3/2"
    assert ben.profile == fixtures / "profiles" / "ben.yaml" and ben.inline.rest_ms == 2000
    assert cleo.title == "Cleo's desk breaks" and cleo.inline.holds[0].value == 2000
    assert manifest.title == "Desk breaks"


def test_a_csv_manifest_reads_as_the_yaml_one(fixtures):
    def seen(listener):
        return (listener.name, listener.folder, listener.routines, listener.profile,
                listener.inline.hold_scale, listener.inline.rest_ms,
                [(t.id, t.value) for t in listener.inline.holds])

    yaml_one, csv_one = (read_manifest(fixtures / name)
                         for name in ("manifest.yaml", "manifest.csv"))
    assert [seen(l) for l in csv_one.listeners] == [seen(l) for l in yaml_one.listeners]
    assert [l.title for l in csv_one.listeners] == ["Desk breaks", "Desk breaks",
                                                    "Cleo's desk breaks"]


def test_globs_are_relative_to_the_manifest(fixtures):
    path = write(fixtures, "routines: ['*.yaml']\nlisteners: [{name: ana}]\n", "globs.yaml")
    # a glob matches files beside the manifest, in order
    found = [p.name for p in read_manifest(path).listeners[0].routines]
    assert "neck.yaml" in found and "wrists.yaml" in found


@pytest.mark.parametrize("text, line, says", [
    ("listeners: [{name: ana, hodl-scale: 2}]\nroutines: [neck.yaml]\n", 1,
     "listeners[0].hodl-scale: unknown key (did you mean `hold-scale`?)"),
    ("routines: [neck.yaml]\nlisteners:\n  - name: ana\n  - hold-scale: 2\n", 4,
     "listeners[1]: `name` is required"),
    ("routines: [neck.yaml]\nlisteners:\n  - name: ana\n  - name: Ana\n", 4,
     "would share the folder `ana`"),
    ("routines: [nope.yaml]\nlisteners: [{name: ana}]\n", 1, "`nope.yaml`: no such file"),
    ("routines: ['x*.yaml']\nlisteners: [{name: ana}]\n", 1, "matches no routine file"),
    ("listeners:\n  - name: ana\n", 2, "listeners[0]: has no `routines`"),
    ("routines: [neck.yaml]\nlisteners:\n  - name: ana\n    hold-scale: -2\n", 4,
     "listeners[0].hold-scale: must be a number above 0"),
    ("routines: [neck.yaml]\nlisteners:\n  - name: ana\n    halfway: loud\n", 4,
     "listeners[0].halfway"),
    ("routines: [neck.yaml]\nlisteners:\n  - name: ana\n    cover: neck.yaml\n", 4,
     "is not a PNG image"),
    ("routines: [neck.yaml]\nlistener: []\n", 2, "listener: unknown key"),
    ("routines: [neck.yaml]\nlisteners:\n  - name: '..'\n", 3, "cannot name a folder"),
])
def test_a_mistake_in_the_manifest_names_its_line_and_writes_nothing(fixtures, tmp_path,
                                                                      text, line, says):
    path = write(fixtures, text)
    with pytest.raises(InputError) as caught:
        batch(path, tmp_path / "out")
    message = str(caught.value)
    assert message.startswith(f"{path}:{line}: "), message
    assert says in message
    assert isinstance(caught.value, (ManifestError, ProfileError))
    assert not (tmp_path / "out").exists() and not state_path(path).exists()


def test_a_csv_mistake_names_its_row(fixtures, tmp_path):
    path = write(fixtures, "name,routines,level\nana,neck.yaml,gentle\nben,neck.yaml,soft\n",
                 "bad.csv")
    with pytest.raises(InputError, match=re.escape(f"{path}:3: listeners[1].level")):
        batch(path, tmp_path / "out")
    path = write(fixtures, "name,routines,hodl\nana,neck.yaml,x\n", "typo.csv")
    with pytest.raises(InputError, match=r"typo.csv:1: hodl: unknown key \(did you mean `hold`"):
        batch(path, tmp_path / "out")


# -- building ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def built(tmp_path_factory, speech_cache):
    """The fixtures' manifest (3 listeners × 2 routines) built once with two jobs."""
    folder = tmp_path_factory.mktemp("batch") / "in"
    shutil.copytree(BATCH, folder)
    output = folder.parent / "out"
    started = time.perf_counter()
    done = batch(folder / "manifest.yaml", output, jobs=2,
                 settings=BuildSettings(cache_dir=speech_cache))
    return folder, output, done, time.perf_counter() - started


@pytest.mark.slow
def test_every_listener_gets_every_routine_and_a_site(built):
    folder, output, done, _ = built
    assert rows(done) == [(who, name, BUILT) for who in ("ana", "ben", "Cleo")
                          for name in ("neck.yaml", "wrists.yaml")]
    assert sorted(p.relative_to(output).as_posix() for p in output.rglob("*.mp3")) == [
        f"{who}/{name}.mp3" for who in ("ana", "ben", "cleo") for name in ("neck", "wrists")]
    for who in ("ana", "ben", "cleo"):
        site = output / who
        for name in ("index.html", "feed.xml", "cover.png", "neck.chapters.json",
                     "neck.vtt", "neck.yaml", "wrists.chapters.json", "wrists.vtt"):
            assert (site / name).is_file(), f"{who}/{name}"
        feed = feedparser.parse((site / "feed.xml").read_bytes())
        assert [entry.title for entry in feed.entries] == ["Neck Release", "Wrist Care"]
    titles = {who: feedparser.parse((output / who / "feed.xml").read_bytes()).feed.title
              for who in ("ana", "cleo")}
    assert titles == {"ana": "Desk breaks", "cleo": "Cleo's desk breaks"}
    hidden = list(output.rglob(".*"))
    assert sorted(p.relative_to(output).as_posix() for p in hidden) == [LOCK_NAME] + [
        f"{who}/{SITE_RECORD}" for who in ("ana", "ben", "cleo")], "no temp file is left"
    # what makes the batch incremental is in the outputs: without --private, no state file
    assert not state_path(folder / "manifest.yaml").exists()


@pytest.mark.slow
def test_each_listener_hears_their_own_holds(built):
    _, output, done, _ = built
    length = {(r.listener, Path(r.routine).stem): r.duration_ms for r in done.results}
    # ana's holds are 1.5 times, ben's half (his profile file); Cleo's chin tuck is 2 s
    assert length["ana", "neck"] > length["Cleo", "neck"] > length["ben", "neck"]
    # 3s→4.5s ×2, 4s→6s/2s; ±1 ms: a track's length is rounded to whole samples
    assert abs(length["Cleo", "neck"] - (length["ana", "neck"] - 5_000 - 2_000)) <= 1
    ben = (output / "ben" / "neck.yaml").read_text(encoding="utf-8")
    assert "profiles/ben.yaml" in ben and "rest" in ben


@pytest.mark.slow
def test_the_table_is_written_as_json(built):
    _, output, done, _ = built
    table = json.loads((output / "batch.json").read_text(encoding="utf-8"))
    assert table["failed"] == 0
    assert [(r["listener"], r["result"]) for r in table["results"]] == [
        (r.listener, r.result) for r in done.results]
    assert all(r["duration_ms"] > 0 and r["file"].endswith(".mp3") for r in table["results"])
    assert [s["feed"] for s in table["sites"]] == [
        f"http://127.0.0.1:8000/{who}/feed.xml" for who in ("ana", "ben", "cleo")]
    printed = format_results(done)
    assert "listener" in printed and "6 built, 0 up to date, 0 failed" in printed


@pytest.mark.slow
def test_a_second_run_skips_everything_in_under_two_seconds(built, speech_cache):
    folder, output, done, _ = built
    before = {p: p.stat().st_mtime_ns for p in output.rglob("*") if p.is_file()}
    started = time.perf_counter()
    again = batch(folder / "manifest.yaml", output, jobs=2,
                  settings=BuildSettings(cache_dir=speech_cache))
    assert time.perf_counter() - started < 2
    assert {r.result for r in again.results} == {UP_TO_DATE}
    # read back from the MP3s, as long as when they were built
    assert [r.duration_ms for r in again.results] == [r.duration_ms for r in done.results]
    assert not any(site.written for site in again.sites)
    after = {p: p.stat().st_mtime_ns for p in output.rglob("*") if p.is_file()}
    assert {p: t for p, t in after.items() if p.name != "batch.json"} == \
        {p: t for p, t in before.items() if p.name != "batch.json"}


@pytest.mark.slow
def test_a_copied_output_folder_is_still_up_to_date(built, tmp_path, speech_cache):
    folder, output, _, _ = built
    # each MP3 carries its build key, and each site folder its record: nothing is elsewhere
    shutil.copytree(output, tmp_path / "copy")
    again = batch(folder / "manifest.yaml", tmp_path / "copy", jobs=2,
                  settings=BuildSettings(cache_dir=speech_cache))
    assert {r.result for r in again.results} == {UP_TO_DATE}
    assert not any(site.written for site in again.sites)


@pytest.mark.slow
def test_each_mp3_carries_the_builders_key(built, speech_cache):
    folder, output, _, _ = built
    settings = BuildSettings(cache_dir=speech_cache)
    (customised,) = load_all([folder / "neck.yaml"], [read_manifest(
        folder / "manifest.yaml").listeners[0].inline])
    cover = (output / "ana" / "cover.png").read_bytes()
    assert read_build(output / "ana" / "neck.mp3") == build_key(customised, settings, cover)


@pytest.mark.slow
def test_a_task_stamps_the_key_it_is_given(built, speech_cache, tmp_path):
    """A worker on another machine would compute another key (its own voice files, no
    routine file): the MP3 carries the coordinator's, which its next run computes again."""
    folder, output, _, _ = built
    (customised,) = load_all([folder / "neck.yaml"])
    outcome = run_task(Task(0, "ana", "neck.mp3", customised,
                            BuildSettings(cache_dir=speech_cache),
                            (output / "ana" / "cover.png").read_bytes(), "the coordinator's"))
    assert outcome.error is None, outcome.error
    (tmp_path / "neck.mp3").write_bytes(outcome.data)
    assert read_build(tmp_path / "neck.mp3") == "the coordinator's"


@pytest.mark.slow
def test_changing_one_listener_rebuilds_theirs_alone(fixtures, tmp_path, speech_cache):
    text = ("routines: [neck.yaml]\nlisteners:\n  - {name: ana, hold-scale: 1.5}\n"
            "  - name: ben\n    cover: ben.png\n")
    # a cover of his own: a drawn one shows his routines' titles, so they would change it
    (fixtures / "ben.png").write_bytes(make_cover("Ben"))
    path = write(fixtures, text)
    settings = BuildSettings(cache_dir=speech_cache)
    batch(path, tmp_path / "out", jobs=1, settings=settings)
    text = text.replace("1.5", "1.25")
    write(fixtures, text)
    again = batch(path, tmp_path / "out", jobs=1, settings=settings)
    assert rows(again) == [("ana", "neck.yaml", BUILT), ("ben", "neck.yaml", UP_TO_DATE)]
    assert [site.written for site in again.sites] == [True, False]
    (tmp_path / "out" / "ben" / "feed.xml").unlink()  # a site file gone: the site is remade
    again = batch(path, tmp_path / "out", jobs=1, settings=settings)
    assert rows(again) == [("ana", "neck.yaml", UP_TO_DATE), ("ben", "neck.yaml", UP_TO_DATE)]
    assert [site.written for site in again.sites] == [False, True]
    assert len(feedparser.parse((tmp_path / "out" / "ben" / "feed.xml").read_bytes()).entries) == 1
    # ben's set of routines changes: his site follows; the MP3 he keeps is not built again
    write(fixtures, text + "    routines: [neck.yaml, wrists.yaml]\n")
    again = batch(path, tmp_path / "out", jobs=1, settings=settings)
    assert rows(again) == [("ana", "neck.yaml", UP_TO_DATE), ("ben", "neck.yaml", UP_TO_DATE),
                           ("ben", "wrists.yaml", BUILT)]
    assert [site.written for site in again.sites] == [False, True]
    assert len(feedparser.parse((tmp_path / "out" / "ben" / "feed.xml").read_bytes()).entries) == 2
    write(fixtures, text)
    again = batch(path, tmp_path / "out", jobs=1, settings=settings)
    assert rows(again) == [("ana", "neck.yaml", UP_TO_DATE), ("ben", "neck.yaml", UP_TO_DATE)]
    assert [site.written for site in again.sites] == [False, True]
    assert len(feedparser.parse((tmp_path / "out" / "ben" / "feed.xml").read_bytes()).entries) == 1


@pytest.mark.slow
def test_a_broken_profile_fails_its_listener_and_the_others_land(fixtures, tmp_path,
                                                                 speech_cache):
    path = write(fixtures, "routines: [neck.yaml]\nlisteners:\n  - name: ana\n"
                           "  - name: ben\n    profile: profiles/broken.yaml\n"
                           "  - name: cleo\n    level: gentle\n")
    done = batch(path, tmp_path / "out", jobs=1, settings=BuildSettings(cache_dir=speech_cache))
    assert rows(done) == [("ana", "neck.yaml", BUILT), ("ben", "neck.yaml", FAILED),
                          ("cleo", "neck.yaml", BUILT)]
    assert done.failed == 1
    error = done.results[1].error
    assert error.startswith(f"{path}:4: ben: ") and "broken.yaml:1: hold-scale" in error
    assert (tmp_path / "out" / "ana" / "feed.xml").is_file()
    assert (tmp_path / "out" / "cleo" / "feed.xml").is_file()
    assert not (tmp_path / "out" / "ben").exists()
    assert json.loads((tmp_path / "out" / "batch.json").read_text())["failed"] == 1


@pytest.mark.slow
def test_an_interrupted_batch_resumes_where_it_stopped(fixtures, tmp_path, speech_cache):
    settings = BuildSettings(cache_dir=speech_cache)
    seen = []

    def interrupt(result):
        seen.append(result)
        if len(seen) == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        batch(fixtures / "manifest.yaml", tmp_path / "out", jobs=1, settings=settings,
              on_result=interrupt)
    assert [r.result for r in seen] == [BUILT] * 3
    assert not list((tmp_path / "out").rglob(".*.part*"))
    assert not (tmp_path / "out" / "batch.json").exists()
    done = batch(fixtures / "manifest.yaml", tmp_path / "out", jobs=1, settings=settings)
    assert [r.result for r in done.results] == [UP_TO_DATE] * 3 + [BUILT] * 3
    for who in ("ana", "ben", "cleo"):
        assert (tmp_path / "out" / who / "index.html").is_file()
    # ben's site was not written before the interruption: now it is, with both routines
    feed = feedparser.parse((tmp_path / "out" / "ben" / "feed.xml").read_bytes())
    assert len(feed.entries) == 2


@pytest.mark.slow
def test_private_sites_live_behind_a_stable_token(fixtures, tmp_path, speech_cache):
    path = write(fixtures, "routines: [neck.yaml]\nlisteners: [{name: ana}, {name: ben}]\n")
    settings = BuildSettings(cache_dir=speech_cache)
    done = batch(path, tmp_path / "out", jobs=1, settings=settings, private=True, lan=True,
                 port=8123)
    folders = sorted(p.name for p in (tmp_path / "out").iterdir() if p.is_dir())
    assert [re.fullmatch(r"(ana|ben)-[0-9a-f]{32}", name) is not None for name in folders] \
        == [True, True]
    assert all(site.qr and site.qr.is_file() for site in done.sites)
    assert all(site.feed.endswith(f":8123/{site.folder.name}/feed.xml") for site in done.sites)
    again = batch(path, tmp_path / "out", jobs=1, settings=settings, private=True)
    assert [s.folder for s in again.sites] == [s.folder for s in done.sites]
    assert {r.result for r in again.results} == {UP_TO_DATE}
    assert oct(state_path(path).stat().st_mode & 0o777) == "0o600"
    with serving(tmp_path / "out") as port:
        def status(url_path: str) -> int:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}{url_path}") as answer:
                    return answer.status
            except urllib.error.HTTPError as exc:
                return exc.code
        assert status(f"/{done.sites[0].folder.name}/feed.xml") == 200
        assert status("/") == 404 and status("/ana/") == 404 and status("/ana/feed.xml") == 404
        # the results name every private folder: never served
        assert (tmp_path / "out" / "batch.json").is_file() and status("/batch.json") == 404


def test_two_batches_at_once_give_each_listener_one_token(fixtures, monkeypatch):
    """Two batches on one manifest (threads here), both having read the state file before
    either saved it: the second to save takes the first's tokens, not its own."""
    token_hex = secrets.token_hex

    def slow_token(size: int) -> str:
        time.sleep(0.2)  # holds the window between reading the file and saving it open
        return token_hex(size)

    monkeypatch.setattr(state_module.secrets, "token_hex", slow_token)
    manifest = fixtures / "manifest.yaml"
    batches = [State(manifest), State(manifest)]
    start = threading.Barrier(2)
    got: list[dict[str, str] | BaseException] = [{}, {}]

    def run(number: int) -> None:
        start.wait()
        try:
            got[number] = batches[number].tokens_for(["ana", "ben", "cleo"])
        except BaseException as exc:  # raised in the test below
            got[number] = exc

    threads = [threading.Thread(target=run, args=(number,)) for number in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    for outcome in got:
        if isinstance(outcome, BaseException):
            raise outcome
    assert got[0] == got[1] and len(set(got[0].values())) == 3
    assert State(manifest).tokens == got[0]
    assert oct(lock_path(manifest).stat().st_mode & 0o777) == "0o600"


def test_a_version_1_state_file_keeps_its_tokens(fixtures):
    # version 1 kept outputs' and sites' keys too: now in the outputs, the tokens stay
    path = state_path(fixtures / "manifest.yaml")
    path.write_text(json.dumps({"version": 1, "tokens": {"ana": "a" * 32},
                                "outputs": {"/x/ana/neck.mp3": {"key": "k"}}, "sites": {}}))
    state = State(fixtures / "manifest.yaml")
    assert state.tokens_for(["ana", "ben"])["ana"] == "a" * 32
    saved = json.loads(path.read_text())
    assert saved["version"] == 2 and set(saved) == {"version", "tokens"}
    assert saved["tokens"]["ana"] == "a" * 32 and len(saved["tokens"]["ben"]) == 32


@pytest.mark.slow
def test_the_command_prints_the_table_and_the_feeds(fixtures, tmp_path, run):
    path = write(fixtures, "routines: [neck.yaml]\nlisteners:\n  - name: ana\n"
                           "  - name: ben\n    profile: profiles/broken.yaml\n")
    ran = run("batch", path, "-o", tmp_path / "out", "--jobs", "1",
              "--base-url", "https://example.org/b")
    assert ran.exit_code == 1
    assert re.search(r"ana\s+neck.yaml\s+built", ran.stdout)
    assert re.search(r"ben\s+neck.yaml\s+failed", ran.stdout)
    assert f"{path}:4: ben: " in ran.stdout
    assert "ana: https://example.org/b/ana/feed.xml" in ran.stdout
    feed = feedparser.parse((tmp_path / "out" / "ana" / "feed.xml").read_bytes())
    assert feed.entries[0].enclosures[0].href == "https://example.org/b/ana/neck.mp3"
    ran = run("batch", write(fixtures, "listeners: []\n", "empty.yaml"), "-o", tmp_path / "x")
    assert ran.exit_code == 2 and ran.stderr.count("\n") == 1
    assert "empty.yaml:1: listeners: is an empty list" in ran.stderr


@pytest.mark.slow
def test_a_local_batch_never_imports_dask(built, speech_cache):
    folder, output, _, _ = built
    script = ("import sys; from routinecast.batch import batch; "
              f"done = batch({str(folder / 'manifest.yaml')!r}, {str(output)!r}, jobs=2); "
              "assert {r.result for r in done.results} == {'up to date'}, done; "
              "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')))")
    ran = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         env={**os.environ, "ROUTINECAST_CACHE": str(speech_cache)})
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == "[]"


def test_the_longest_builds_start_first(fixtures, monkeypatch):
    """With several jobs the longest tracks are started first, so that no core idles at the
    end while one long build finishes alone."""
    from routinecast.batch import local

    submitted = []

    class Pool:  # records the order; runs nothing
        def __init__(self, *args, **kwargs):
            pass

        def submit(self, function, task):
            submitted.append(task.name)
            raise RuntimeError("recorded")

        def shutdown(self, **kwargs):
            pass

    monkeypatch.setattr(local, "ProcessPoolExecutor", Pool)
    [neck, wrists] = load_all([fixtures / "neck.yaml", fixtures / "wrists.yaml"])
    tasks = [Task(number, "ana", f"{name}.mp3", customised, BuildSettings(), b"", "key")
             for number, (name, customised) in enumerate([("neck", neck), ("neck-2", neck),
                                                            ("wrists", wrists)])]
    lengths = {task.name: local._expected_ms(task) for task in tasks}
    assert lengths["wrists.mp3"] > lengths["neck.mp3"]  # the last given, the first started
    with pytest.raises(RuntimeError, match="recorded"):
        local.run_local(tasks, 2, lambda task, outcome: None)
    assert submitted == ["wrists.mp3"]


def test_a_second_batch_into_the_same_folder_stops_at_once(fixtures, tmp_path, run):
    """Two batches into one output folder would both do all the work (and race on its
    sites): the one that finds the folder's lock held stops before building anything."""
    from routinecast.files import locked

    output = tmp_path / "out"
    output.mkdir()
    path = write(fixtures, "routines: [neck.yaml]\nlisteners:\n  - name: ana\n")
    with locked(output / LOCK_NAME) as held:  # as a batch running into it holds it
        assert held
        ran = run("batch", path, "-o", output, "--jobs", "1")
    assert ran.exit_code == 1 and ran.stderr.count("\n") == 1
    assert f"another batch is building into {output}; wait for it to end, or give another " \
           "folder (-o)" in ran.stderr
    assert [p.name for p in output.iterdir()] == [LOCK_NAME]
