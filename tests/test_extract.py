"""The MP3 carries the routine it was built from: `extract` gives it back, and building that
file gives the same plan."""

from __future__ import annotations

import json
import subprocess

from dataclasses import replace

import imageio_ffmpeg

from routinecast.builder import BuildSettings, build
from routinecast.dump import dump_routine
from routinecast.routine import load_routine

from conftest import CONTENT, FIXTURES


def plan_json(run, *args) -> dict:
    result = run("plan", *args, "--json", "-q")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    data.pop("overrides", None)  # the extracted file has them built in
    return data


def test_every_demo_routine_survives_the_round_trip(tmp_path):
    for path in sorted(CONTENT.glob("*.yaml")):
        routine = load_routine(path)
        copy = tmp_path / path.name
        copy.write_text(dump_routine(routine, "a comment\nover two lines"), encoding="utf-8")
        assert replace(load_routine(copy), path=routine.path) == routine, path.name


def test_extract_round_trips_a_customised_build(tmp_path, run):
    overrides = ["--hold-scale", "1.5", "--hold", "rock.2=7s", "--skip", "reach",
                 "--counts", "--halfway", "tone", "--speed", "1.1"]
    built = run("build", FIXTURES / "small.yaml", "-o", tmp_path / "small.mp3", *overrides)
    assert built.exit_code == 0, built.output
    extracted = tmp_path / "extracted.yaml"
    result = run("extract", tmp_path / "small.mp3", "-o", extracted)
    assert result.exit_code == 0, result.output
    text = extracted.read_text(encoding="utf-8")
    assert text.startswith("# small.yaml, as built by routinecast")
    assert "--hold-scale 1.5 (command line)" in text
    assert plan_json(run, extracted) == plan_json(run, FIXTURES / "small.yaml", *overrides)

    # whoever has only the MP3 can change a hold and rebuild
    changed = tmp_path / "changed.yaml"
    changed.write_text(text.replace("hold: 7s", "hold: 9s"), encoding="utf-8")
    again = plan_json(run, changed)
    rock = [h for h in again["holds"] if h["exercise_id"] == "rock" and h["phase"] == 2]
    assert rock and all(h["end_ms"] - h["start_ms"] == 9000 for h in rock)


def test_extract_to_standard_output_and_refusals(tmp_path, run, speech_cache):
    mp3 = build([FIXTURES / "sections.yaml"], tmp_path, BuildSettings(cache_dir=speech_cache))[0]
    printed = run("extract", mp3.path, "-o", "-")
    assert printed.exit_code == 0 and printed.output == mp3.routine_text

    target = tmp_path / "mine.yaml"
    target.write_text("my own file\n")
    refused = run("extract", mp3.path, "-o", target)
    assert refused.exit_code == 2 and "--force" in refused.output
    assert target.read_text() == "my own file\n"
    assert run("extract", mp3.path, "-o", target, "--force").exit_code == 0
    assert target.read_text(encoding="utf-8") == mp3.routine_text

    missing = run("extract", tmp_path / "nothing.mp3")
    assert missing.exit_code == 2 and "no such file" in missing.output

    # an MP3 from elsewhere: ffmpeg's own, with no routine in it
    other = tmp_path / "other.mp3"
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", "-f", "lavfi", "-i",
                    "sine=duration=1", "-c:a", "libmp3lame", str(other)], check=True)
    foreign = run("extract", other)
    assert foreign.exit_code == 2
    assert foreign.output.count("\n") == 1 and "not built by routinecast" in foreign.output
    assert not (tmp_path / "other.yaml").exists()


def test_extract_names_the_file_after_the_mp3(tmp_path, run, speech_cache, monkeypatch):
    mp3 = build([FIXTURES / "sections.yaml"], tmp_path / "out",
                BuildSettings(cache_dir=speech_cache))[0]
    monkeypatch.chdir(tmp_path)
    result = run("extract", mp3.path)
    assert result.exit_code == 0
    assert "wrote sections.yaml" in result.output
    assert (tmp_path / "sections.yaml").read_text(encoding="utf-8") == mp3.routine_text


def test_cue_sound_files_are_found_from_the_dumped_routine(tmp_path, monkeypatch):
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", "-f", "lavfi", "-i",
                    "sine=frequency=880:duration=0.3", str(tmp_path / "bell.wav")], check=True)
    (tmp_path / "r.yaml").write_text("title: T\ndefaults: {sounds: {end: bell.wav}}\n"
                                     "exercises:\n  - {name: A, hold: 2s}\n")
    monkeypatch.chdir(tmp_path.parent)  # a relative routine path, as on the command line
    routine = load_routine(f"{tmp_path.name}/r.yaml")
    elsewhere = tmp_path / "elsewhere" / "r.yaml"
    elsewhere.parent.mkdir()
    elsewhere.write_text(dump_routine(routine), encoding="utf-8")
    again = load_routine(elsewhere)
    assert again.defaults.sounds.end == str(tmp_path / "bell.wav")
    assert replace(again, path=routine.path) == routine
