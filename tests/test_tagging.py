"""What tagging.py has mutagen write, read back without the voice: the chapter frames after
every other frame in start-time order (walked here byte by byte, not through mutagen), the
tables of contents, the text tags, the cover, the carried routine and the build key of an MP3
and of an M4B.

Marked `tagging`: .ci/run runs them against the newest mutagen release as well, so that a
mutagen that stops honouring tagging.py's override of its private `ID3._write` is seen the day
it is released, not when the pin is next raised.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from routinecast import tagging
from routinecast.errors import TaggingError
from routinecast.ffmpeg import BookChapter, encode_m4b, encode_mp3, probe_chapters
from routinecast.plan import make_plan
from routinecast.render import sample_index
from routinecast.routine import load_routine
from routinecast.tagging import read_build, read_tags, write_m4b_build, write_tags

from conftest import FIXTURES

pytestmark = pytest.mark.tagging

RATE = 22_050
COVER = b"\x89PNG\r\n\x1a\n not really a picture: tags carry bytes"
ROUTINE_TEXT = "title: Carried\nexercises:\n  - {name: Reach, hold: 5s}\n"
TOP_LEVEL, ORDERED = 0x02, 0x01  # the CTOC flag bits of the ID3 chapter specification


def _tagged(folder: Path, name: str, **tags):
    """`FIXTURES/name.yaml` planned with every text 300 ms long, as a silent MP3 of the plan's
    length, tagged by `write_tags`; the plan and the MP3."""
    routine = load_routine(FIXTURES / f"{name}.yaml")
    plan = make_plan(routine, lambda text: 300)
    mp3 = folder / f"{name}.mp3"
    samples = sample_index(plan.duration_ms, RATE)
    encode_mp3([np.zeros(samples, dtype=np.int16)], mp3, RATE, 32, samples)
    write_tags(mp3, routine, plan, "routinecast test", **tags)
    return plan, mp3


def _frames(path: Path) -> list[tuple[str, bytes]]:
    """The ID3v2.3 frames at the start of `path` as (frame id, body), in file order."""
    data = path.read_bytes()
    assert data[:4] == b"ID3\x03" and data[5] == 0  # v2.3, no unsynchronisation, no extras
    end = 10 + sum(byte << (7 * (3 - i)) for i, byte in enumerate(data[6:10]))
    frames, at = [], 10
    while at + 10 <= end and data[at] != 0:  # up to the padding
        size = struct.unpack(">I", data[at + 4:at + 8])[0]
        frames.append((data[at:at + 4].decode("ascii"), data[at + 10:at + 10 + size]))
        at += 10 + size
    return frames


def _chap(body: bytes) -> tuple[str, int, int]:
    """A CHAP frame's element id, start and end (ms)."""
    element_id, rest = body.split(b"\0", 1)
    return (element_id.decode("latin-1"), *struct.unpack(">II", rest[:8]))


def _ctoc(body: bytes) -> tuple[str, int, list[str]]:
    """A CTOC frame's element id, flags and children."""
    element_id, rest = body.split(b"\0", 1)
    children = [child.decode("latin-1") for child in rest[2:].split(b"\0")[:rest[1]]]
    return element_id.decode("latin-1"), rest[0], children


@pytest.mark.parametrize("name", ["small", "sections"])
def test_chapter_frames_come_last_in_start_time_order(tmp_path, name):
    plan, mp3 = _tagged(tmp_path, name, routine_text=ROUTINE_TEXT, cover=COVER, build="k")
    frames = _frames(mp3)
    ids = [frame_id for frame_id, _ in frames]
    first = ids.index("CTOC")
    assert "APIC" in ids[:first] and "GEOB" in ids[:first]  # large frames, still before
    assert set(ids[first:]) == {"CTOC", "CHAP"} and ids[first:] == sorted(
        ids[first:], key=["CTOC", "CHAP"].index)
    chaps = [_chap(body) for frame_id, body in frames if frame_id == "CHAP"]
    leaves = plan.leaf_chapters()
    assert [(start, end) for _, start, end in chaps] == [
        (leaf.start_ms, leaf.end_ms) for leaf in leaves]
    # the tables, walked depth first from the one top-level table, list them in that order
    tocs = {toc[0]: toc for toc in (_ctoc(body) for frame_id, body in frames
                                    if frame_id == "CTOC")}
    [top] = [toc for toc in tocs.values() if toc[1] & TOP_LEVEL]
    assert all(toc[1] & ORDERED for toc in tocs.values())

    def walk(toc) -> list[str]:
        return [leaf for child in toc[2]
                for leaf in (walk(tocs[child]) if child in tocs else [child])]

    assert walk(top) == [element_id for element_id, _, _ in chaps]
    assert [(c.title, c.start_ms) for c in probe_chapters(mp3)] == [
        (leaf.title, leaf.start_ms) for leaf in leaves]


def test_read_tags_gives_back_what_was_written(tmp_path):
    plan, mp3 = _tagged(tmp_path, "sections", routine_text=ROUTINE_TEXT, cover=COVER,
                        build="key-1")
    info = read_tags(mp3)
    assert info.version == (2, 3, 0) and info.title == "Sectioned Stretches"
    assert [(start, end, title) for _, start, end, title in info.chapters] == [
        (leaf.start_ms, leaf.end_ms, leaf.title) for leaf in plan.leaf_chapters()]
    top = [toc for toc in info.toc.values() if toc[0]]
    assert len(top) == 1 and top[0][1] and top[0][3] == "Sectioned Stretches"
    sections = [info.toc[child] for child in top[0][2] if child in info.toc]
    assert [(toc[0], toc[1], toc[3]) for toc in sections] == [
        (False, True, "The Hips"), (False, True, "The Back")]
    assert info.cover == COVER and info.routine_text == ROUTINE_TEXT
    assert read_build(mp3) == "key-1"


def test_a_part_of_a_split_routine_has_its_own_title_and_no_chapters(tmp_path):
    routine = load_routine(FIXTURES / "small.yaml")
    mp3 = tmp_path / "part.mp3"
    encode_mp3([np.zeros(RATE, dtype=np.int16)], mp3, RATE, 32, RATE)
    write_tags(mp3, routine, None, "routinecast test", title="Reach", track=(2, 5))
    info = read_tags(mp3)
    assert info.title == "Reach" and info.chapters == [] and info.toc == {}
    assert "2/5".encode("utf-16-le") in dict(_frames(mp3))["TRCK"]
    assert read_build(mp3) is None


def test_the_build_key_of_an_m4b(tmp_path):
    book = tmp_path / "book.m4b"
    encode_m4b([np.zeros(RATE, dtype=np.int16)], book, RATE, 64, RATE,
               [BookChapter(0, 1000, "All")], {"title": "Book"})
    assert read_build(book) is None
    write_m4b_build(book, "key-2")
    assert read_build(book) == "key-2"
    assert [chapter.title for chapter in probe_chapters(book)] == ["All"]


@pytest.mark.parametrize("broken", ["dropped", "reordered"])
def test_chapters_that_do_not_read_back_fail_the_tagging(tmp_path, monkeypatch, broken):
    """The read-back that stands guard over the override: a mutagen that stops calling
    `ID3._write` (chapters dropped) or orders the frames itself (mutagen#506) fails."""
    from mutagen.id3 import ID3

    if broken == "dropped":
        monkeypatch.setattr(tagging._ChapterOrderedID3, "_write", ID3._write)
    else:
        def reordered(self, config):
            return ID3._write(self, config) + b"".join(
                tagging.save_frame(f, config=config) for f in reversed(self.chapter_frames))
        monkeypatch.setattr(tagging._ChapterOrderedID3, "_write", reordered)
    with pytest.raises(TaggingError, match="the chapters read back are not those written"):
        _tagged(tmp_path, "sections")
