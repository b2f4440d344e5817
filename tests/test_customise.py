"""Customising end to end: the command line with the real voice, real MP3s decoded back."""

from __future__ import annotations

import json
from fractions import Fraction

import pytest

from routinecast.ffmpeg import decode_pcm, probe_chapters
from routinecast.render import sample_index

from audio import LOUD, RATE, TOLERANCE_MS, onset_ms
from conftest import FIXTURES

ROUTINE = """title: Cue Test
defaults: {rest: 2s, countdown: 2}
exercises:
  - name: Long Hold
    hold: 24s
    during: Breathe.
  - name: Two Sides
    sides: true
    reps: 2
    hold: 4s
"""


def plan_json(run, *args):
    result = run("plan", *args, "--json", "-q")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_plan_json_scale_with_the_real_voice(run):
    plain = plan_json(run, FIXTURES / "small.yaml")
    scaled = plan_json(run, FIXTURES / "small.yaml", "--hold-scale", "1.5")
    assert plain["overrides"] == []
    lengths = [(h["end_ms"] - h["start_ms"]) for h in plain["holds"]]
    assert [(h["end_ms"] - h["start_ms"]) for h in scaled["holds"]] == \
        [round(Fraction(3, 2) * ms) for ms in lengths]
    assert {c["origin"] for c in scaled["overrides"]} == {"--hold-scale 1.5 (command line)"}
    # only the holds changed: the same instructions are said
    said = [[s["text"] for s in p["segments"] if s["kind"] == "speech" and "label" not in s]
            for p in (plain, scaled)]
    assert said[0] == said[1]


def test_scaled_build_with_cues_matches_its_plan(run, tmp_path, write_routine):
    routine = write_routine(ROUTINE, "cue-test.yaml")
    out = tmp_path / "out"
    args = ["--hold-scale", "1.5", "--halfway", "tone", "--remind-every", "10s",
            "--announce-next", "--side-rest", "3s", "--counts", "--countdown-style", "beeps",
            "--countdown-min", "0s"]
    planned = plan_json(run, routine, *args)
    result = run("build", routine, "-o", out, *args)
    assert result.exit_code == 0, result.output
    [mp3] = list(out.glob("cue-test-x1.5-custom-*.mp3"))
    assert f"wrote {mp3}" in result.output

    holds = planned["holds"]
    assert [h["end_ms"] - h["start_ms"] for h in holds] == [36_000] + [6_000] * 4
    segments = planned["segments"]
    labels = [s.get("label") for s in segments]
    assert {"halfway", "reminder", "next", "side-rest", "count"} <= set(labels)
    assert labels.count("count") == 2 * len(holds) + 4  # two beeps a hold, "Rep N of 2." × 4
    reminders = [s for s in segments if s.get("label") == "reminder"]
    assert [s["start_ms"] - holds[0]["start_ms"] for s in reminders] == [10_000, 20_000, 30_000]
    assert reminders[0]["text"] == "Twenty-six seconds left."

    pcm = decode_pcm(mp3, RATE)
    assert len(pcm) == sample_index(planned["duration_ms"], RATE)
    level = abs(pcm.astype("int32"))
    for segment in segments:
        start, end = segment["start_ms"], segment["end_ms"]
        if segment["kind"] != "silence":
            # every cue, tone and word begins where the plan says
            assert abs(onset_ms(pcm, start - TOLERANCE_MS) - start) <= TOLERANCE_MS, segment
        elif end - start > 2 * TOLERANCE_MS:
            quiet = level[sample_index(start + TOLERANCE_MS, RATE):
                          sample_index(end - TOLERANCE_MS, RATE)]
            assert quiet.max() <= LOUD, segment
    chapters = probe_chapters(mp3)
    assert [c.title for c in chapters] == ["Introduction", "Long Hold", "Two Sides", "Closing"]


def test_profile_names_the_file_and_the_command_line_wins(run, tmp_path):
    profile = tmp_path / "me.yaml"
    profile.write_text("hold-scale: 2\nhold:\n  reach: 4s\n  nosuch: 1m\ncountdown: 0\n")
    out = tmp_path / "out"
    planned = plan_json(run, FIXTURES / "small.yaml", "--profile", profile, "--hold-scale", "3")
    lengths = {(h["exercise_id"], h["phase"]): h["end_ms"] - h["start_ms"]
               for h in planned["holds"]}
    assert lengths[("reach", None)] == 4_000          # the profile's explicit hold
    assert lengths[("side-bend", None)] == 9_000      # 3s × 3: the command line's scale
    assert not [s for s in planned["segments"] if s.get("label") == "countdown"]

    result = run("build", FIXTURES / "small.yaml", "-o", out, "--profile", profile)
    assert result.exit_code == 0, result.output
    assert (out / "small-me.mp3").is_file() and not (out / "small.mp3").exists()
    assert f"note: {profile}:4: hold.nosuch does not apply to" in result.stderr

    named = tmp_path / "named.mp3"
    result = run("build", FIXTURES / "small.yaml", "-o", named, "--hold-scale", "1.5")
    assert result.exit_code == 0 and named.is_file()


@pytest.mark.parametrize("args, message", [
    (["--hold", "nosuch=10s"], f"{FIXTURES / 'small.yaml'}: --hold nosuch=10s: no exercise "
                               "`nosuch`; the ids are reach, side-bend, rock"),
    (["--hold", "rech=10s"], f"{FIXTURES / 'small.yaml'}: --hold rech=10s: no exercise `rech` "
                             "(did you mean `reach`?)"),
    (["--hold-scale", "-1"], "--hold-scale -1: must be a number above 0 and at most 100, like "
                             "1.5 (1.5 makes every hold half as long again)"),
    (["--reps", "x=0"], "--reps x=0: 0 is out of range (1 to 1000)"),
    (["--countdown", "11"], "routinecast build: Invalid value for '--countdown': 11 is not in "
                            "the range 0<=x<=10. (see routinecast build --help)"),
    (["--profile", "missing.yaml"], "missing.yaml: no such file"),
    (["--voice", "nosuch"], "--voice nosuch: unknown piper voice `nosuch` (use `joe`, the "
                            "bundled voice, or the path of a piper .onnx voice)"),
    (["--only", ","], "--only ,: give exercise or section ids separated by commas, e.g. "
                      "--only childs-pose,cat-and-camel"),
    (["--speed"], "routinecast build: Option '--speed' requires an argument. "
                  "(see routinecast build --help)"),
])
def test_bad_overrides_exit_2_with_one_line_and_write_nothing(run, tmp_path, args, message):
    out = tmp_path / "out"
    result = run("build", FIXTURES / "small.yaml", "-o", out, *args)
    assert result.exit_code == 2
    assert result.stderr == message + "\n"
    assert not out.exists()


def test_one_file_name_for_several_routines_is_refused(run, tmp_path):
    result = run("build", FIXTURES / "small.yaml", FIXTURES / "sections.yaml",
                 "-o", tmp_path / "x.mp3")
    assert result.exit_code == 2
    assert "names one file, but 2 routines were given" in result.stderr
    assert not list(tmp_path.iterdir())


def test_a_voice_chosen_by_a_profile_is_blamed_on_the_profile(run, tmp_path):
    profile = tmp_path / "me.yaml"
    profile.write_text("countdown: 2\nvoice: bogus\n")
    result = run("plan", FIXTURES / "small.yaml", "--profile", profile)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"{profile}:2: voice bogus: unknown piper voice `bogus`")


def test_profile_init(run, tmp_path):
    path = tmp_path / "mine.yaml"
    result = run("profile", "init", path)
    assert result.exit_code == 0 and path.read_text().startswith("# A routinecast profile")
    path.write_text("countdown: 1\n")
    result = run("profile", "init", path)
    assert result.exit_code == 2 and "already exists; use --force" in result.stderr
    assert path.read_text() == "countdown: 1\n"
    assert run("profile", "init", path, "--force").exit_code == 0
    assert path.read_text().startswith("# A routinecast profile")
    # the example works as a profile straight away
    assert plan_json(run, FIXTURES / "small.yaml", "--profile", path)["overrides"]
    # a profile must be YAML, in a folder that exists
    result = run("profile", "init", tmp_path / "me.txt")
    assert result.exit_code == 2 and "a profile is a .yaml file" in result.stderr
    result = run("profile", "init", tmp_path / "no" / "me.yaml")
    assert result.exit_code == 2 and "is not a folder; create it first" in result.stderr
    assert not (tmp_path / "no").exists() and not (tmp_path / "me.txt").exists()
