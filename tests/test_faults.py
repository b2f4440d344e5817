"""Fault injection (scripts/faults): builds killed at random points never lose the good MP3."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from importlib.machinery import SourceFileLoader
from pathlib import Path

import pytest

from conftest import FIXTURES

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "faults"
SEED = 174
"""A plan that sends all three signals, aims SIGKILL at encoding and SIGTERM at tagging (both
leave temp files for the next builds to remove), and lets the last run finish; where each
kill lands still depends on the machine's timing, which the test allows for."""


def load_faults():
    """scripts/faults as a module (it has no .py suffix to import it by)."""
    loader = SourceFileLoader("routinecast_faults_script", str(SCRIPT))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules[loader.name] = module  # its dataclasses look their module up there
    loader.exec_module(module)
    return module


@pytest.mark.slow
def test_builds_killed_at_random_points_never_lose_the_good_mp3(tmp_path):
    faults = load_faults()
    lines: list[str] = []
    try:
        summary = faults.run(runs=6, seed=SEED, routine=FIXTURES / "small.yaml", work=tmp_path,
                             report=lines.append)
    except faults.Violation as exc:
        violation = exc
    else:
        violation = None
    if violation:  # out of the except block: the runs' lines, not a chain of tracebacks
        pytest.fail("\n".join([*lines, f"FAIL: {violation}"]), pytrace=False)
    print("\n".join(lines))  # the figures, for -rP
    # the kills must reach the steps where a broken atomic write would show: one aimed at
    # each, and two more anywhere
    assert summary.count(phase="encoding") + summary.count(phase="tagging") >= 1, lines
    assert summary.count(outcome="kept old") >= 1, lines
    assert summary.count(outcome="new complete") >= 1, lines
    assert sorted(os.listdir(tmp_path / "out")) == ["small.mp3"]


def test_the_script_stands_alone():
    assert os.access(SCRIPT, os.X_OK)
    shown = subprocess.run([sys.executable, SCRIPT, "--help"], capture_output=True, text=True)
    assert shown.returncode == 0 and "--runs" in shown.stdout and "--seed" in shown.stdout
    refused = subprocess.run([sys.executable, SCRIPT, "--runs", "0"], capture_output=True,
                             text=True)
    assert refused.returncode == 2 and "--runs must be" in refused.stderr
