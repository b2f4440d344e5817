"""`--split` (one MP3 per chapter and a relative playlist) and `--format m4b` (an audiobook
whose chapters ffmpeg reads back)."""

from __future__ import annotations

import io
import subprocess
from urllib.parse import unquote

import imageio_ffmpeg
import pytest
from PIL import Image

from routinecast.builder import BuildSettings, build
from routinecast.errors import InputError
from routinecast.ffmpeg import decode_pcm, probe_chapters
from routinecast.render import sample_index
from routinecast.tagging import read_tags

from audio import RATE
from conftest import FIXTURES


@pytest.fixture(scope="module")
def split(tmp_path_factory, speech_cache):
    out = tmp_path_factory.mktemp("split")
    return build([FIXTURES / "sections.yaml"], out,
                 BuildSettings(cache_dir=speech_cache, split=True))[0]


def test_split_writes_a_relative_playlist_of_every_chapter(split):
    playlist = split.path
    assert playlist.suffix == ".m3u8"
    lines = playlist.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "#EXTM3U"
    entries = [line for line in lines if line and not line.startswith("#")]
    chapters = split.plan.leaf_chapters()
    assert len(entries) == len(chapters)
    for entry, chapter, info in zip(entries, chapters,
                                    [line for line in lines if line.startswith("#EXTINF:")]):
        assert not entry.startswith("/") and ".." not in entry
        part = playlist.parent / unquote(entry)
        assert part.is_file()
        assert info.endswith("," + chapter.title)
        tags = read_tags(part)
        assert tags.title == chapter.title
        assert tags.chapters == []
        assert tags.routine_text == split.routine_text
    assert sorted(p.name for p in playlist.parent.iterdir()) == ["sections", "sections.m3u8"]


def test_split_parts_add_up_to_the_track(split):
    parts = sorted((split.path.parent / "sections").glob("*.mp3"))
    total = 0
    for part, chapter in zip(parts, split.plan.leaf_chapters()):
        samples = len(decode_pcm(part, RATE))
        expected = sample_index(chapter.end_ms, RATE) - sample_index(chapter.start_ms, RATE)
        assert abs(samples - expected) <= 46  # at most a frame's rounding, gapless otherwise
        total += samples
    assert abs(total - sample_index(split.plan.duration_ms, RATE)) <= 46 * len(parts)
    track = "".join(f"{read_tags(p).title}|" for p in parts)
    assert track.startswith("Introduction|The Hips|Hip Opener|")


def test_split_rebuild_replaces_the_folder_whole(split, speech_cache):
    folder = split.path.parent / "sections"
    (folder / "99-stale.mp3").write_bytes(b"old")
    build([FIXTURES / "sections.yaml"], split.path.parent,
          BuildSettings(cache_dir=speech_cache, split=True))
    assert not (folder / "99-stale.mp3").exists()
    assert not [p for p in split.path.parent.iterdir() if p.name.startswith(".")]


def test_split_refuses_to_replace_a_folder_of_other_files(tmp_path, speech_cache):
    mine = tmp_path / "small" / "notes.txt"
    mine.parent.mkdir()
    mine.write_text("mine")
    with pytest.raises(InputError, match="holds files routinecast did not write"):
        build([FIXTURES / "small.yaml"], tmp_path, BuildSettings(cache_dir=speech_cache,
                                                                 split=True))
    assert mine.read_text() == "mine"
    assert not (tmp_path / "small.m3u8").exists()


def test_m4b_has_the_chapters_and_cover(tmp_path, speech_cache):
    built = build([FIXTURES / "small.yaml"], tmp_path,
                  BuildSettings(cache_dir=speech_cache, format="m4b"))[0]
    assert built.path.name == "small.m4b"
    probed = probe_chapters(built.path)
    leaves = built.plan.leaf_chapters()
    assert [c.title for c in probed] == [c.title for c in leaves]
    for chapter, leaf in zip(probed, leaves):
        assert abs(chapter.start_ms - leaf.start_ms) <= 1
        assert abs(chapter.end_ms - leaf.end_ms) <= 1
    decoded_ms = len(decode_pcm(built.path, RATE)) * 1000 / RATE
    assert abs(decoded_ms - built.plan.duration_ms) < 30
    cover = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", "-i",
                            str(built.path), "-map", "0:v", "-c", "copy", "-f", "image2pipe",
                            "-"], capture_output=True, check=True).stdout
    assert Image.open(io.BytesIO(cover)).size == (1400, 1400)
    head = built.path.read_bytes()[:64]
    assert b"ftypM4B " in head


def test_format_and_split_errors(tmp_path, run):
    both = run("build", FIXTURES / "small.yaml", "-o", tmp_path, "--split", "--format", "m4b")
    assert both.exit_code == 2 and "--split" in both.output
    wrong = run("build", FIXTURES / "small.yaml", "-o", tmp_path / "x.mp3", "--format", "m4b")
    assert wrong.exit_code == 2 and "ends in .mp3" in wrong.output
    assert list(tmp_path.iterdir()) == []


def test_part_names_from_titles_stay_in_their_folder(tmp_path, write_routine, speech_cache):
    routine = write_routine(
        "title: T\nexercises:\n"
        "  - {name: ../../escape, hold: 1s}\n  - {name: /etc/passwd, hold: 1s}\n"
        "  - {name: CON, hold: 1s}\n  - {name: 'NUL ..', hold: 1s}\n")
    out = tmp_path / "out"
    built = build([routine], out, BuildSettings(cache_dir=speech_cache, split=True))[0]
    written = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.mp3"))
    assert written == ["out/routine/01-introduction.mp3", "out/routine/02-escape.mp3",
                       "out/routine/03-etc-passwd.mp3", "out/routine/04-con.mp3",
                       "out/routine/05-nul.mp3", "out/routine/06-closing.mp3"]
    entries = [line for line in built.path.read_text().splitlines() if not line.startswith("#")]
    assert all(entry.startswith("routine/") and ".." not in entry for entry in entries)
