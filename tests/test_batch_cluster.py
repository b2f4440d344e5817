"""`batch --scheduler`: the same batch as tasks on a real Dask cluster (a scheduler and two
workers, as processes on 127.0.0.1), the same plans as a local run, and a worker killed
mid-run costs nothing."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from routinecast.batch import BUILT, LOCK_NAME, SITE_RECORD, UP_TO_DATE, batch
from routinecast.builder import BuildSettings

from conftest import FIXTURES

distributed = pytest.importorskip("distributed")
DASK = Path(sys.executable).parent / "dask"
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not DASK.exists(), reason="the dask command is not installed")]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, speech_cache):
    """A scheduler and two single-threaded workers (no nanny, so a killed worker stays dead)
    sharing the session's speech cache; yields the scheduler file and the workers."""
    folder = tmp_path_factory.mktemp("dask")
    file = folder / "scheduler.json"
    env = {**os.environ, "ROUTINECAST_CACHE": str(speech_cache)}
    log = (folder / "cluster.log").open("wb")
    processes = [subprocess.Popen(
        [DASK, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
         "--scheduler-file", file], stdout=log, stderr=subprocess.STDOUT, env=env)]
    try:
        for number in range(2):
            processes.append(subprocess.Popen(
                [DASK, "worker", "--scheduler-file", file, "--nthreads", "1", "--no-dashboard",
                 "--no-nanny", "--host", "127.0.0.1", "--local-directory",
                 folder / f"worker{number}"], stdout=log, stderr=subprocess.STDOUT, env=env))
        client = None
        for _ in range(600):  # the scheduler file appears once the scheduler listens
            if file.exists() and file.stat().st_size:
                client = distributed.Client(scheduler_file=str(file), timeout=30)
                break
            assert processes[0].poll() is None, (folder / "cluster.log").read_text()
            time.sleep(0.1)
        assert client is not None, (folder / "cluster.log").read_text()
        with client:
            client.wait_for_workers(2, timeout=90)
        yield file, processes[1:]
    finally:
        for process in reversed(processes):
            process.kill()
            process.wait(timeout=30)
        log.close()


def plans(output: Path) -> dict[str, object]:
    """Every listener's chapters (from the chapter files) and track lengths (from the table)."""
    table = json.loads((output / "batch.json").read_text(encoding="utf-8"))
    found: dict[str, object] = {f"{r['listener']}/{Path(r['routine']).name}": r["duration_ms"]
                                for r in table["results"]}
    for chapters in sorted(output.rglob("*.chapters.json")):
        found[chapters.relative_to(output).as_posix()] = json.loads(chapters.read_text())
    return found


def test_a_cluster_builds_the_same_plans_as_this_machine(cluster, tmp_path, speech_cache,
                                                         run):
    file, _ = cluster
    shutil.copytree(FIXTURES / "batch", tmp_path / "local")
    shutil.copytree(FIXTURES / "batch", tmp_path / "cluster")
    batch(tmp_path / "local" / "manifest.yaml", tmp_path / "out-local", jobs=1,
          settings=BuildSettings(cache_dir=speech_cache))
    address = json.loads(file.read_text())["address"]
    ran = run("batch", tmp_path / "cluster" / "manifest.yaml", "-o", tmp_path / "out-cluster",
              "--scheduler", address)
    assert ran.exit_code == 0, ran.output
    table = json.loads((tmp_path / "out-cluster" / "batch.json").read_text())
    assert [r["result"] for r in table["results"]] == [BUILT] * 6
    assert plans(tmp_path / "out-cluster") == plans(tmp_path / "out-local")
    assert len(plans(tmp_path / "out-cluster")) == 12
    for who in ("ana", "ben", "Cleo"):
        assert (tmp_path / "out-cluster" / who.lower() / "feed.xml").is_file()
        assert f"{who}: http://127.0.0.1:8000/{who.lower()}/feed.xml" in ran.stdout
    # the MP3s carry the key this machine gives them: a local run finds them up to date
    again = batch(tmp_path / "cluster" / "manifest.yaml", tmp_path / "out-cluster", jobs=1,
                  settings=BuildSettings(cache_dir=speech_cache))
    assert {r.result for r in again.results} == {UP_TO_DATE}
    assert not any(site.written for site in again.sites)


def test_a_worker_killed_mid_run_still_gives_every_output(cluster, tmp_path, speech_cache):
    file, workers = cluster
    shutil.copytree(FIXTURES / "batch", tmp_path / "in")
    killed = []

    def kill_one(result):
        """At the first result, kill a worker that is building something."""
        if killed:
            return
        with distributed.Client(scheduler_file=str(file), timeout=30) as client:
            busy = {worker for worker, keys in client.processing().items() if keys}
            pids = client.run(os.getpid)
        victim = next(p for p in workers if any(pids.get(w) == p.pid for w in busy))
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=30)
        killed.append(victim.pid)

    done = batch(tmp_path / "in" / "manifest.yaml", tmp_path / "out", scheduler=str(file),
                 settings=BuildSettings(cache_dir=speech_cache), on_result=kill_one)
    assert killed
    assert [r.result for r in done.results] == [BUILT] * 6
    assert len(list((tmp_path / "out").rglob("*.mp3"))) == 6
    assert {p.name for p in (tmp_path / "out").rglob(".*")} == {SITE_RECORD, LOCK_NAME}
    assert all((site.folder / "feed.xml").is_file() for site in done.sites)
