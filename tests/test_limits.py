"""Limits and names: what the format refuses up front, so that no build fails half way or
writes where it should not."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import yaml

from routinecast.errors import RoutineError
from routinecast.ffmpeg import encode_mp3, probe_chapters
from routinecast.files import MAX_NAME_BYTES, unsafe_name
from routinecast.plan import make_plan
from routinecast.routine import MAX_TOC_ENTRIES, load_routine
from routinecast.tagging import read_tags, write_tags

from conftest import FIXTURES


def _exercises(count: int) -> list[dict]:
    return [{"name": f"Stretch {number}", "hold": "1s"} for number in range(1, count + 1)]


def _mp3_with_chapters(tmp_path, routine_data: dict):
    """The routine's plan (each text taken as 300 ms long) as CHAP and CTOC frames on a short
    silent MP3: the tags are what is tested, not the speech."""
    path = tmp_path / "many.yaml"
    path.write_text(yaml.safe_dump(routine_data), encoding="utf-8")
    routine = load_routine(path)
    plan = make_plan(routine, lambda text: 300)
    mp3 = tmp_path / "many.mp3"
    encode_mp3([np.zeros(22_050, dtype=np.int16)], mp3, 22_050, 64, 22_050)
    write_tags(mp3, routine, plan, "test")
    return plan, mp3


def test_a_flat_routine_with_the_most_chapters_is_written_and_read_back(tmp_path):
    plan, mp3 = _mp3_with_chapters(tmp_path, {"title": "Many",
                                              "exercises": _exercises(MAX_TOC_ENTRIES - 2)})
    tags = read_tags(mp3)
    top = [toc for toc in tags.toc.values() if toc[0]]
    assert len(top) == 1 and len(top[0][2]) == MAX_TOC_ENTRIES
    titles = [chapter.title for chapter in plan.leaf_chapters()]
    assert [chapter.title for chapter in probe_chapters(mp3)] == titles


def test_a_section_with_the_most_chapters_is_written_and_read_back(tmp_path):
    plan, mp3 = _mp3_with_chapters(tmp_path, {"title": "Many", "sections": [
        {"title": "All", "exercises": _exercises(MAX_TOC_ENTRIES - 1)}]})
    tags = read_tags(mp3)
    # the section's table: its spoken title, then its exercises
    assert sorted(len(children) for _, _, children, _ in tags.toc.values()) == \
        [3, MAX_TOC_ENTRIES]
    assert len(probe_chapters(mp3)) == len(plan.leaf_chapters()) == MAX_TOC_ENTRIES + 2


@pytest.mark.parametrize("data, line, says", [
    ({"title": "T", "exercises": _exercises(MAX_TOC_ENTRIES - 1)}, 2, "at most 253"),
    ({"title": "T", "sections": [{"title": "A", "exercises": _exercises(MAX_TOC_ENTRIES)}]},
     4, "at most 254"),
    ({"title": "T", "sections": [{"title": f"Part {n}", "exercises": _exercises(1)}
                                 for n in range(MAX_TOC_ENTRIES - 1)]}, 2, "at most 253"),
])
def test_more_chapters_than_a_table_of_contents_holds_are_refused(tmp_path, data, line, says):
    path = tmp_path / "many.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    with pytest.raises(RoutineError) as caught:
        load_routine(path)
    assert caught.value.line == line and says in caught.value.message


@pytest.mark.parametrize("stem, says", [
    ("CON", "device"), ("aux.backup", "device"), ("Lpt1", "device"),
    (".hidden", "starts with `.`"),
    ("back:stretch", "':'"), ('say "hi"', "'\"'"), ("a?b", "'?'"), ("tab\there", "'\\t'"),
    ("new\nline", "'\\n'"), ("escape\x1b[31m", "'\\x1b'"), ("evil\u202e3pm", "'\\u202e'"),
    ("COM²", "device"),
    ("trailing ", "ends in a space"), ("dots.", "ends in a space or a dot"),
    ("x" * (MAX_NAME_BYTES + 1), "longer than"),
])
def test_output_names_made_from_unsafe_file_names_are_refused(tmp_path, run, stem, says):
    routine = tmp_path / f"{stem}.yaml"
    shutil.copy(FIXTURES / "small.yaml", routine)
    out = tmp_path / "out"
    result = run("build", routine, "-o", out)
    assert result.exit_code == 2, result.output
    error = result.stderr.strip()
    assert "\n" not in error and "\x1b" not in error
    assert says in error and "-o FILE.mp3" in error
    assert not out.exists()


def test_a_profile_whose_name_is_unsafe_is_refused(tmp_path, run):
    profile = tmp_path / "me:you.yaml"
    profile.write_text("hold-scale: 2\n", encoding="utf-8")
    out = tmp_path / "out"
    result = run("build", FIXTURES / "small.yaml", "-o", out, "--profile", profile)
    assert result.exit_code == 2 and "'small-me:you'" in result.stderr
    assert not out.exists()


def test_a_named_output_file_is_the_users_choice(tmp_path, run, speech_cache):
    routine = tmp_path / "CON.yaml"
    shutil.copy(FIXTURES / "small.yaml", routine)
    result = run("build", routine, "-o", tmp_path / "out" / "evening.mp3")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "evening.mp3").is_file()


@pytest.mark.parametrize("name", ["low-back", "Rückendehnung", "背中のストレッチ", "día 1 (easy)",
                                  "con-stretch", "a.b", "x" * MAX_NAME_BYTES])
def test_ordinary_names_are_kept(name):
    assert unsafe_name(name) is None


def test_a_track_over_the_limit_is_refused_before_any_routine_is_built(tmp_path, run):
    long = tmp_path / "long.yaml"
    long.write_text("title: Long\nexercises:\n  - {name: Rest, hold: 2h, sets: 7}\n",
                    encoding="utf-8")
    out = tmp_path / "out"
    result = run("build", FIXTURES / "small.yaml", long, "-o", out)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"{long}: the holds alone would last 14h")
    assert not out.exists()
