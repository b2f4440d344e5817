"""Overrides and profiles: parsed, layered and applied to routines (planning only, no audio)."""

from __future__ import annotations

import re
from fractions import Fraction

import pytest

from routinecast.errors import InputError, OverrideError, ProfileError
from routinecast.overrides import PROFILE_EXAMPLE, command_line, customise, load_profile
from routinecast.plan import format_table, make_plan, plan_to_dict
from routinecast.routine import load_routine

from conftest import CONTENT, FIXTURES

V1 = FIXTURES / "v1"
"""The content routines as format v1 wrote them: overrides are tested on fixed files."""


def length(text: str) -> int:
    return 50 * len(text)


def holds(routine, *layers):
    """(exercise id, side, set, rep, phase) → hold length, for `routine` customised."""
    plan = make_plan(customise(routine, layers).routine, length)
    return {(h.exercise_id, h.side, h.set, h.rep, h.phase): h.end_ms - h.start_ms
            for h in plan.holds}


@pytest.fixture
def low_back():
    return load_routine(V1 / "low-back-stretches.yaml")


@pytest.fixture
def profile(tmp_path):
    def write(text: str, name: str = "me.yaml"):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return load_profile(path)

    return write


@pytest.mark.parametrize("routine", sorted(CONTENT.glob("*.yaml")), ids=lambda p: p.stem)
def test_scale_makes_every_hold_exactly_that_much_longer(routine):
    routine = load_routine(routine)
    plain = holds(routine)
    scaled = holds(routine, command_line(hold_scale="1.5"))
    assert scaled.keys() == plain.keys()
    moves = {(h.exercise_id, h.side, h.set, h.rep, h.phase)
             for h in make_plan(routine, length).holds if h.move}
    for key, ms in plain.items():
        # a flow's moves follow the breath, and a movement takes the time it takes: no hold
        # scale changes them
        moving = key in moves
        assert scaled[key] == (ms if moving else round(Fraction(3, 2) * ms)), key


def test_hold_of_one_phase_changes_only_that_phase(low_back):
    plain = holds(low_back)
    changed = holds(low_back, command_line(hold=["cat-and-camel.2=15s"]))
    differing = {key for key in plain if plain[key] != changed[key]}
    assert differing == {key for key in plain if key[0] == "cat-and-camel" and key[4] == 2}
    assert all(changed[key] == 15_000 for key in differing) and len(differing) == 5


def test_hold_of_an_exercise_sets_all_its_phases_and_is_not_scaled(low_back):
    result = holds(low_back, command_line(hold_scale="2", hold=["cat-and-camel=7s",
                                                                "childs-pose=45s"]))
    assert {ms for key, ms in result.items() if key[0] == "cat-and-camel"} == {7_000}
    assert result["childs-pose", None, 1, 1, None] == 45_000
    assert result["standing-roll-down", None, 1, 1, 1] == 20_000  # 10s × 2


def test_precedence_command_line_over_profile_over_file(low_back, profile):
    me = profile("hold-scale: 2\nhold:\n  childs-pose: 45s\n  cat-and-camel.1: 4s\n"
                 "reps: {cat-and-camel: 2}\nrest: 9s\ncountdown: 5\n")
    # the profile alone
    result = holds(low_back, me)
    assert result["childs-pose", None, 1, 1, None] == 45_000
    assert result["standing-roll-down", None, 1, 1, 2] == 12_000
    assert sorted({key[3] for key in result if key[0] == "cat-and-camel"}) == [1, 2]
    # the command line wins over it, value by value
    cli = command_line(hold_scale="1.5", hold=["childs-pose=20s"], reps=["cat-and-camel=3"],
                       countdown=0)
    result = holds(low_back, me, cli)
    assert result["childs-pose", None, 1, 1, None] == 20_000
    assert result["cat-and-camel", None, 1, 1, 1] == 4_000  # the profile's explicit hold
    assert result["cat-and-camel", None, 1, 1, 2] == 15_000  # scaled by the command line
    assert result["standing-roll-down", None, 1, 1, 2] == 9_000
    assert sorted({key[3] for key in result if key[0] == "cat-and-camel"}) == [1, 2, 3]
    routine = customise(low_back, [me, cli]).routine
    assert {ex.rest_ms for ex in routine.exercises} == {9_000}
    assert {ex.cues.countdown for ex in routine.exercises} == {0}


def test_reps_sets_rest_voice_and_cues_apply_to_the_routine(low_back):
    customised = customise(low_back, [command_line(
        reps=["childs-pose=2"], sets=["cat-and-camel=2"], rest="0s", speed=1.2, voice="joe",
        halfway="tone", counts=True)])
    routine = customised.routine
    by_id = {ex.id: ex for ex in routine.exercises}
    assert by_id["childs-pose"].reps == 2 and by_id["cat-and-camel"].sets == 2
    assert {ex.rest_ms for ex in routine.exercises} == {0}
    assert routine.voice.speed == 1.2 and routine.voice.name == "joe"
    assert {(ex.cues.halfway, ex.cues.counts) for ex in routine.exercises} == {("tone", True)}
    keys = {(c.exercise_id, c.key) for c in customised.changes}
    assert {("childs-pose", "reps"), ("cat-and-camel", "sets"), ("childs-pose", "rest"),
            (None, "speed"), (None, "voice"), (None, "halfway"), (None, "counts")} <= keys


def test_only_and_skip_by_exercise_or_section():
    routine = load_routine(V1 / "lower-back-pain-stretches.yaml")
    sections = [s.id for s in routine.sections]
    first_ids = [ex.id for ex in routine.sections[0].exercises]
    only = customise(routine, [command_line(only=[sections[0]])]).routine
    assert [ex.id for ex in only.exercises] == first_ids
    skipped = customise(routine, [command_line(skip=[f"{first_ids[0]},{sections[-1]}"])]).routine
    assert first_ids[0] not in [ex.id for ex in skipped.exercises]
    assert [s.id for s in skipped.sections] == sections[:-1]
    plan = make_plan(skipped, length)
    assert {h.exercise_id for h in plan.holds} == {ex.id for ex in skipped.exercises}


@pytest.mark.parametrize("layer, message", [
    (dict(hold=["nosuch=10s"]), "--hold nosuch=10s: no exercise `nosuch`; the ids are"),
    (dict(hold=["child-pose=10s"]),
     "--hold child-pose=10s: no exercise `child-pose` (did you mean `childs-pose`?)"),
    (dict(hold=["cat-and-camel.3=10s"]),
     "--hold cat-and-camel.3=10s: `cat-and-camel` has 2 phases, so there is no phase 3"),
    (dict(reps=["cat-and-camle=3"]),
     "--reps cat-and-camle=3: no exercise `cat-and-camle` (did you mean `cat-and-camel`?)"),
    (dict(skip=["childs-pose,cat-and-camel,standing-roll-down"]),
     "no exercise is left to build after --skip (command line)"),
])
def test_overrides_that_do_not_fit_the_routine(low_back, layer, message):
    with pytest.raises(OverrideError) as caught:
        customise(low_back, [command_line(**layer)])
    assert str(caught.value).startswith(f"{low_back.path}: ")
    assert message in str(caught.value)


@pytest.mark.parametrize("layer, message", [
    (dict(hold_scale="-1"), "--hold-scale -1: must be a number above 0"),
    (dict(hold_scale="0"), "--hold-scale 0: must be a number above 0"),
    (dict(hold_scale="x"), "--hold-scale x: must be a number above 0"),
    (dict(hold=["childs-pose"]), "--hold childs-pose: write ID=VALUE, e.g."),
    (dict(only=[","]), "--only ,: give exercise or section ids separated by commas"),
    (dict(skip=["a,,b"]), "--skip a,,b: give exercise or section ids separated by commas"),
    (dict(hold=["childs-pose=soon"]), '--hold childs-pose=soon: "soon" is not a duration'),
    (dict(hold=["childs-pose=0s"]), '--hold childs-pose=0s: "0s" is not a positive duration'),
    (dict(hold=["Childs Pose=1s"]), "--hold Childs Pose=1s: `Childs Pose` is not an exercise id"),
    (dict(hold=["childs-pose.0=1s"]), "--hold childs-pose.0=1s: phases count from 1"),
    (dict(reps=["x=0"]), "--reps x=0: 0 is out of range (1 to 1000)"),
    (dict(reps=["x=two"]), '--reps x=two: must be a whole number, not "two"'),
    (dict(sets=["x.2=2"]), "--sets x.2=2: `x.2` is not an exercise id"),
    (dict(rest="-5s"), '--rest -5s: "-5s" is negative'),
    (dict(speed=3), "--speed: 3 is out of range (0.5 to 2.0)"),
    (dict(remind_every="5s"), "--remind-every: reminders more often than every 10s"),
    (dict(halfway="loud"), '--halfway: "loud" is not a choice (use one of off, voice, tone)'),
])
def test_malformed_overrides(layer, message):
    with pytest.raises(OverrideError) as caught:
        command_line(**layer)
    assert str(caught.value).startswith(message.split(":")[0])
    assert message in str(caught.value)


def test_scaled_holds_keep_to_the_limit():
    routine = load_routine(V1 / "lower-back-pain-stretches.yaml")
    with pytest.raises(OverrideError) as caught:
        customise(routine, [command_line(hold_scale="25")])
    assert str(caught.value) == (f"{routine.path}: --hold-scale 25: `passive-low-back-stretch` "
                                 "would hold 2h5m, over the limit of 2h")


def test_profile_ids_a_routine_lacks_are_notes(low_back, profile):
    me = profile("hold:\n  butterfly: 1m\n  childs-pose: 40s\nskip: [piriformis]\n")
    customised = customise(low_back, [me])
    assert customised.notes[0].startswith(f"{me.path}:2: hold.butterfly does not apply to "
                                          f"{low_back.path}: no exercise `butterfly`")
    assert customised.notes[0].endswith("; ignored")
    assert f"{me.path}:4: skip" in customised.notes[1]
    assert holds(low_back, me)["childs-pose", None, 1, 1, None] == 40_000


@pytest.mark.parametrize("text, line, message", [
    ("hold-scale: 2\nhodl: 3\n", 2, "hodl: unknown key (did you mean `hold`?)"),
    ("hold:\n  childs-pose: -3s\n", 2, 'hold.childs-pose: "-3s" is not a positive duration'),
    ("hold-scale: -1\n", 1, "hold-scale: must be a number above 0"),
    ("reps: [a, b]\n", 1, "reps: must be a mapping of exercise ids to values"),
    ("reps:\n  a: 0\n", 2, "reps.a: 0 is out of range (1 to 1000)"),
    ("halfway: sometimes\n", 1, 'halfway: "sometimes" is not a choice'),
    ("remind_every: 1m\n", 1, "remind_every: unknown key (did you mean `remind-every`?)"),
    ("speed: fast\n", 1, 'speed: must be a number like 0.9 or 1.2, not "fast"'),
    ("hold-scale: [\n", 2, "invalid YAML"),
    ("- hold-scale: 2\n", 1, "must be a mapping of keys"),
])
def test_malformed_profile_names_file_and_line(profile, tmp_path, text, line, message):
    with pytest.raises(ProfileError) as caught:
        profile(text)
    assert str(caught.value).startswith(f"{tmp_path / 'me.yaml'}:{line}: {message}")


def test_profile_notes_read_as_sentences_and_empty_profiles_change_nothing(low_back, profile):
    me = profile("hold: {cat-and-camel.9: 5s}\n")
    assert customise(low_back, [me]).notes == (
        f"{me.path}:1: hold.cat-and-camel.9 does not apply to {low_back.path}: "
        "`cat-and-camel` has 2 phases, so there is no phase 9; ignored",)
    empty = profile("# hold-scale: 2\n")
    assert empty.is_empty() and customise(low_back, [empty]).routine == low_back


def test_skipping_everything_names_who_did_it(low_back, profile):
    me = profile("skip: [childs-pose, cat-and-camel]\n")
    with pytest.raises(OverrideError) as caught:
        customise(low_back, [me, command_line(skip=["standing-roll-down"])])
    assert str(caught.value) == (f"{low_back.path}: no exercise is left to build after skip "
                                 f"(profile {me.path}) and --skip (command line)")


def test_change_list_is_honest_about_before_values():
    routine = load_routine(V1 / "lower-back-pain-stretches.yaml")
    customised = customise(routine, [command_line(remind_every="0", rest="3s")])
    reminders = [c for c in customised.changes if c.key == "remind_every"]
    assert [(c.before, c.after) for c in reminders] == [("varies", 0)]
    rests = {c.exercise_id for c in customised.changes if c.key == "rest"}
    assert routine.exercises[-1].id not in rests and len(rests) == len(routine.exercises) - 1
    assert "remind-every  varies → off" in format_table(make_plan(customised.routine, length),
                                                         customised.changes)


def test_absurd_reps_and_sets_fail_fast(low_back):
    routine = customise(low_back, [command_line(reps=["cat-and-camel=1000"],
                                                sets=["cat-and-camel=1000"])]).routine
    with pytest.raises(InputError) as caught:
        make_plan(routine, length)
    assert "the holds alone would last" in str(caught.value)


def test_profile_example_loads_as_written_and_with_every_line_uncommented(tmp_path, low_back):
    path = tmp_path / "example.yaml"
    path.write_text(PROFILE_EXAMPLE)
    example = load_profile(path)
    assert example.hold_scale == Fraction(5, 4)
    assert dict(example.cues)["halfway"] == "voice"
    # every `# key: value` line is a valid setting too
    uncommented = re.sub(r"^# (?=[a-z-]+:|  [a-z-])", "", PROFILE_EXAMPLE, flags=re.M)
    assert uncommented.count("\n# ") < PROFILE_EXAMPLE.count("\n# ")
    path.write_text(uncommented)
    everything = load_profile(path)
    assert everything.holds and everything.reps and everything.sets and everything.skip
    assert everything.speed == 0.9 and everything.voice == "joe"
    customise(low_back, [everything])  # applies, with notes for the ids it lacks


def test_variant_names(low_back, profile, tmp_path):
    assert customise(low_back, []).variant == ""
    assert customise(low_back, [command_line()]).variant == ""
    assert customise(low_back, [command_line(hold_scale="1.5")]).variant == "x1.5"
    me = profile("countdown: 5\n")
    assert customise(low_back, [me, command_line(hold_scale="2")]).variant == "me-x2"
    one = customise(low_back, [command_line(hold=["childs-pose=45s"])]).variant
    two = customise(low_back, [command_line(hold=["childs-pose=50s"])]).variant
    assert re.fullmatch(r"custom-[0-9a-f]{6}", one) and one != two
    assert one == customise(low_back, [command_line(hold=["childs-pose=45s"])]).variant


def test_plan_shows_and_marks_what_was_overridden(low_back):
    customised = customise(low_back, [command_line(hold=["cat-and-camel.2=15s"], rest="9s")])
    plan = make_plan(customised.routine, length)
    table = format_table(plan, customised.changes)
    assert re.search(r"cat-and-camel\s+hold \(phase 2\)\s+10s → 15s\s+"
                     r"--hold cat-and-camel.2=15s \(command line\)", table)
    assert "hold 15s* (set 1, rep 1, phase 2)" in table
    assert "hold 10s (set 1, rep 1, phase 1)" in table
    assert "rest 9s*" in table and "* marks values the overrides changed" in table
    data = plan_to_dict(plan, customised.changes)
    assert {"exercise_id": "cat-and-camel", "key": "hold", "phase": 2, "before": 10_000,
            "after": 15_000, "origin": "--hold cat-and-camel.2=15s (command line)"} \
        in data["overrides"]
