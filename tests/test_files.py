"""Atomic writes of files and folders: the old one stays whole until the new one is."""

from __future__ import annotations

import os

import pytest

from routinecast.errors import OutputError
from routinecast.files import replacing_folder


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
