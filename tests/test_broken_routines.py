"""A corpus of broken routine files (tests/fixtures/broken/, with what each must say in
expected.json): each is refused with exit status 2 and one line naming the file, the line
and the key, quickly and in bounded memory, with nothing written."""

from __future__ import annotations

import json
import time
import tracemalloc
from pathlib import Path

import pytest

from conftest import FIXTURES

BROKEN = FIXTURES / "broken"
EXPECTED = json.loads((BROKEN / "expected.json").read_text(encoding="utf-8"))


def test_the_corpus_is_complete():
    files = sorted(p.name for p in BROKEN.iterdir() if p.name != "expected.json")
    assert files == sorted(EXPECTED) and len(files) >= 40


def refused(run, path: Path, tmp_path: Path) -> str:
    """Builds `path` and checks the refusal; returns the one line said."""
    out = tmp_path / "out"
    tracemalloc.start()
    started = time.monotonic()
    result = run("build", path, "-o", out)
    elapsed = time.monotonic() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1, result.stderr
    assert elapsed < 1.0
    assert peak < 64 * 2**20
    assert not out.exists()
    return result.stderr.rstrip("\n")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_broken_routine_is_refused_with_file_line_and_reason(name, run, tmp_path):
    expected = EXPECTED[name]
    line = refused(run, BROKEN / name, tmp_path)
    assert line.startswith(f"{BROKEN / name}:{expected['line']}: "), line
    assert expected["says"] in line


def test_a_50_mb_routine_is_refused_without_reading_it(run, tmp_path):
    huge = tmp_path / "huge.yaml"
    with huge.open("w") as file:
        file.write("title: T\nexercises:\n")
        file.write("  - name: A\n" * (50 * 2**20 // 12))
    line = refused(run, huge, tmp_path)
    assert "is larger than 1 MB" in line and line.startswith(str(huge))


def test_a_utf8_bom_is_not_a_mistake(run, tmp_path):
    routine = tmp_path / "bom.yaml"
    routine.write_bytes(b"\xef\xbb\xbftitle: T\nexercises:\n  - name: A\n")
    assert run("validate", routine).exit_code == 0
