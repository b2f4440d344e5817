"""How an M4B reaches its file: by path, in a work folder of its own (see
`ffmpeg.encode_m4b`), not through /dev/fd/N as an MP3 does."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from routinecast import ffmpeg
from routinecast.ffmpeg import BookChapter, encode_m4b, probe_chapters

RATE = 22_050


def _encode(path: Path, chunks, monkeypatch) -> list[list[str]]:
    """Encode a two-chapter book of `chunks` (a second of samples) at `path`; the encoders
    started (each command as a list)."""
    commands = []
    real = subprocess.Popen

    def recording(args, *more, **options):
        if "pipe:0" in args:  # the encoder, not a look at ffmpeg's version
            commands.append([str(arg) for arg in args])
        return real(args, *more, **options)

    with monkeypatch.context() as patch:
        patch.setattr(ffmpeg.subprocess, "Popen", recording)
        encode_m4b(chunks, path, RATE, 64, RATE,
                   [BookChapter(0, 400, "One"), BookChapter(400, 1000, "Two")],
                   {"title": "Book"}, name="book.m4b")
    return commands


def test_an_m4b_is_handed_to_ffmpeg_by_path_beside_it(tmp_path, monkeypatch):
    """`+faststart` opens the finished book again to read it; on macOS /dev/fd/N would hand
    that second opening the same write-only descriptor, so the book goes by its path."""
    book = tmp_path / ".book.123.part.m4b"
    [command] = _encode(book, [np.zeros(RATE, dtype=np.int16)], monkeypatch)
    output = Path(command[-1])
    assert not command[-1].startswith("/dev/fd/") and output.is_absolute()
    assert output.parent.parent == tmp_path.absolute()  # the same disk as the book: renamed
    assert b"ftypM4B " in book.read_bytes()[:64]
    assert [chapter.title for chapter in probe_chapters(book)] == ["One", "Two"]
    assert list(tmp_path.iterdir()) == [book]  # the work folder is gone


def test_an_interrupted_m4b_leaves_no_work_folder(tmp_path, monkeypatch):
    def chunks():
        yield np.zeros(RATE // 2, dtype=np.int16)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _encode(tmp_path / "book.m4b", chunks(), monkeypatch)
    assert list(tmp_path.iterdir()) == []
