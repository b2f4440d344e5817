"""Format 2: the settings table and what it drives, ranges, levels and target lengths, flows,
settle, quieter countdowns, guidance, sets, equipment, sides in texts, and the spoken form.

Planning tests use a stand-in voice (50 ms a character); the command-line tests the real one.
"""

import json
import re
from pathlib import Path

import pytest

from routinecast.durations import describe_ms
from routinecast.errors import OverrideError
from routinecast.fitting import fit_length, reachable
from routinecast.overrides import PROFILE_EXAMPLE, command_line, customise
from routinecast.plan import make_plan
from routinecast.routine import load_routine
from routinecast.settings import SETTINGS, docs_table

from conftest import CONTENT

DOCS = Path(__file__).parent.parent / "docs" / "format.md"


def length(text: str) -> int:
    return 50 * len(text)


def plan_of(path, *layers, speech=length):
    routine = customise(load_routine(path), layers).routine
    return make_plan(routine, speech)


def speech(plan):
    return [s.text for s in plan.segments if s.kind == "speech"]


# -- the table and what it drives ------------------------------------------------------


def test_docs_show_the_settings_table():
    text = DOCS.read_text(encoding="utf-8")
    shown = text.split("<!-- settings table: begin -->\n")[1].split("\n<!-- settings table: end")[0]
    assert shown == docs_table(), "regenerate docs/format.md's table from settings.docs_table()"


def test_every_setting_is_a_profile_key_an_option_and_in_the_example(run):
    helped = run("plan", "--help").output
    for setting in SETTINGS:
        assert re.search(rf"^#? ?{setting.name}: ", PROFILE_EXAMPLE, re.M), setting.name
        assert setting.option in helped, setting.option


def test_every_setting_reads_the_same_from_file_profile_and_command_line(write_routine, tmp_path):
    from routinecast.overrides import load_profile
    profile = tmp_path / "p.yaml"
    profile.write_text("settle: 5s\nguidance: full\ncountdown-min: 20s\nend-tone: false\n")
    from_profile = load_profile(profile)
    from_options = command_line(settle="5s", guidance="full", countdown_min="20s",
                                end_tone=False)
    assert dict(from_profile.cues) == dict(from_options.cues) == {
        "settle_ms": 5000, "guidance": "full", "countdown_min_ms": 20_000, "end_tone": False}
    routine = load_routine(write_routine(
        "title: T\ndefaults: {settle: 5s, guidance: full, countdown_min: 20s, end_tone: false}\n"
        "exercises:\n  - name: A\n"))
    cues = routine.exercises[0].cues
    assert (cues.settle_ms, cues.guidance, cues.countdown_min_ms, cues.end_tone) == (
        5000, "full", 20_000, False)


# -- mistakes: one line naming file, line and key ---------------------------------------


@pytest.mark.parametrize("text, line, says", [
    ("title: T\nexercises:\n  - name: A\n    hold: 20-15s\n", 4,
     'exercises[0].hold: "20-15s" runs from high to low'),
    ("title: T\nexercises:\n  - name: A\n    reps: 10-7\n", 4,
     'exercises[0].reps: "10-7" runs from high to low'),
    ("title: T\nexercises:\n  - name: A\n    sets: 0-2\n", 4,
     "exercises[0].sets: 0 is out of range"),
    ("title: T\ndefaults:\n  guidance: chatty\nexercises:\n  - name: A\n", 3,
     'defaults.guidance: "chatty" is not a choice'),
    ("title: T\ndefaults:\n  settle: 2m\nexercises:\n  - name: A\n", 3,
     "defaults.settle: \"2m\" is longer than the limit of 1m"),
    ("title: T\nexercises:\n  - name: A\n    setup: Bend your {side} knee.\n", 4,
     "exercises[0].setup: uses {side}, but the exercise has no sides"),
    ("title: T\nexercises:\n  - name: A\n    hold: 5s\n    flow: [In., Out.]\n", 4,
     "exercises[0].hold: a flow's moves are paced by the breath"),
    ("title: T\nexercises:\n  - name: A\n    optional: 12\n", 4,
     "exercises[0].optional: 12 is out of range (1 to 9)"),
    ("title: T\nexercises:\n  - name: A\n    phases:\n      - {cue: Up., hold: 2s}\n", 5,
     "exercises[0].phases[0].cue: is the short form of `say`"),
    ("title: T\nexercises:\n  - name: A\n    guidance: full\n    phases:\n"
     "      - {say: Up., guidance: full}\n", 6,
     "exercises[0].phases[0].guidance: unknown key"),
    ("title: T\npronounce: [psoas]\nexercises:\n  - name: A\n", 2,
     "pronounce: must be a mapping of words"),
    # placeholders other than {side} and {other side}, in the text or its short form
    ("title: T\nexercises:\n  - name: A\n    sides: true\n    setup: Bend your {sid} knee.\n",
     5, "exercises[0].setup: {sid} is not a placeholder; did you mean {side}?"),
    ("title: T\nexercises:\n  - name: A\n    sides: true\n    phases:\n      - say: Up.\n"
     "        cue: 'Your {Side} leg up.'\n", 7,
     "exercises[0].phases[0].cue: {Side} is not a placeholder; did you mean {side}?"),
    ("title: T\nexercises:\n  - name: A\n    sides: true\n    flow:\n"
     "      - {say: 'Reach to the {other-side}.'}\n", 6,
     "exercises[0].flow[0].say: {other-side} is not a placeholder; did you mean {other side}?"),
    ("title: T\nexercises:\n  - name: A\n    during: Hold {n} breaths.\n", 4,
     "exercises[0].during: {n} is not a placeholder; the placeholders are {side} and "
     "{other side}"),
    # each key the format added, given a value it cannot take
    ("title: T\ndefaults:\n  count_breaths: maybe\nexercises:\n  - name: A\n", 3,
     'defaults.count_breaths: must be true or false, not "maybe"'),
    ("title: T\nexercises:\n  - name: A\n    phases:\n      - {say: Up., end_tone: 3}\n", 5,
     "exercises[0].phases[0].end_tone: must be true or false, not the number 3"),
    ("title: T\nexercises:\n  - name: A\n    set_rest: -5s\n", 4,
     'exercises[0].set_rest: "-5s" is negative'),
    ("title: T\nexercises:\n  - name: A\n    set_rest: 3h\n", 4,
     'exercises[0].set_rest: "3h" is longer than the limit of 2h'),
    ("title: T\ndefaults:\n  countdown_min: forever\nexercises:\n  - name: A\n", 3,
     'defaults.countdown_min: "forever" is not a duration'),
    ("title: T\nexercises:\n  - name: A\n    announce_next: sometimes\n", 4,
     "exercises[0].announce_next: must be true, false or auto, not 'sometimes'"),
    ("title: T\nexercises:\n  - name: A\n    phases:\n      - {say: Up., announce_next: true}\n",
     5, "exercises[0].phases[0].announce_next: unknown key"),
    ("title: T\nexercises:\n  - name: A\n    equipment: {strap: 1}\n", 4,
     "exercises[0].equipment: must be text, not a mapping"),
    ("title: T\nexercises:\n  - name: A\n    equipment: [strap, '']\n", 4,
     "exercises[0].equipment[1]: is empty"),
    ("title: T\nequipment: [mat, yes]\nexercises:\n  - name: A\n", 2,
     "equipment[1]: must be text, not the boolean true"),
    ("title: T\nexercises:\n  - name: A\n    phases:\n      - {say: Up., move: yes please}\n", 5,
     'exercises[0].phases[0].move: must be true or false, not "yes please"'),
    ("title: T\nexercises:\n  - name: A\n    flow:\n      - {say: In., breaths: 0}\n", 5,
     "exercises[0].flow[0].breaths: 0 is out of range (1 to 20)"),
    ("title: T\nexercises:\n  - name: A\n    flow:\n      - {say: In., breaths: 21}\n", 5,
     "exercises[0].flow[0].breaths: 21 is out of range (1 to 20)"),
    ("title: T\nexercises:\n  - name: A\n    flow:\n      - {say: In., breaths: 1.5}\n", 5,
     "exercises[0].flow[0].breaths: must be a whole number, not the number 1.5"),
])
def test_mistakes_in_new_keys(write_routine, run, text, line, says):
    path = write_routine(text)
    result = run("validate", path)
    assert result.exit_code == 2
    [message] = result.output.strip().splitlines()
    assert message.startswith(f"{path}:{line}: "), message
    assert says in message
    assert "Traceback" not in result.output


@pytest.mark.parametrize("args, says", [
    (["--length", "0"], "--length: \"0\" is not a positive duration"),
    (["--length", "30s"], "--length: must be at least 1m"),
    (["--level", "extreme"], "'extreme' is not one of"),
    (["--guidance", "loud"], "'loud' is not one of"),
])
def test_bad_options_are_one_line_and_exit_2(run, args, says):
    result = run("plan", str(CONTENT / "low-back-stretches.yaml"), *args)
    assert result.exit_code == 2
    assert len(result.output.strip().splitlines()) == 1 and says in result.output


@pytest.mark.parametrize("text, says", [
    ("level: extreme\n", 'level: "extreme" is not a choice (use one of gentle, standard, strong)'),
    ("level: [gentle]\n", "level: a list is not a choice"),
    ("# mine\nlength: 0\n", "length: the number 0 is not a positive duration"),
    ("length: 13h\n", 'length: "13h" is longer than the limit of 12h'),
    ("length: 20s\n", "length: must be at least 1m"),
])
def test_bad_level_or_length_in_a_profile(run, tmp_path, text, says):
    profile = tmp_path / "me.yaml"
    profile.write_text(text)
    result = run("plan", CONTENT / "low-back-stretches.yaml", "--profile", profile, "-q")
    assert result.exit_code == 2
    line = text.count("\n")
    assert result.output.strip() == f"{profile}:{line}: {says}" or \
        result.output.strip().startswith(f"{profile}:{line}: {says}"), result.output
    assert len(result.output.strip().splitlines()) == 1


def test_announce_next_takes_auto_true_or_false_on_the_command_line(run, write_routine):
    path = write_routine("title: T\ndefaults: {rest: 8s, announce_next: false}\nexercises:\n"
                         "  - {name: A, hold: 5s}\n  - {name: B, hold: 5s}\n")

    def chosen(*args):
        result = run("plan", path, "--json", "-q", *args)
        assert result.exit_code == 0, result.output
        data = json.loads(result.output)
        changed = {c["after"] for c in data["overrides"] if c["key"] == "announce_next"}
        return changed, any(s.get("label") == "next" for s in data["segments"])

    assert chosen() == (set(), False)
    assert chosen("--announce-next", "auto") == ({"auto"}, True)
    assert chosen("--announce-next", "AUTO") == ({"auto"}, True)
    assert chosen("--announce-next") == ({True}, True)  # alone: true, as before
    assert chosen("--announce-next", "true", "--no-announce-next") == (set(), False)
    assert chosen("--no-announce-next", "--announce-next", "auto") == ({"auto"}, True)
    bad = run("plan", path, "--announce-next", "maybe")
    assert bad.exit_code == 2 and len(bad.output.strip().splitlines()) == 1
    assert "'maybe' is not one of 'auto', 'true', 'false'" in bad.output


# -- ranges, levels, lengths -------------------------------------------------------------

RANGES = """\
title: Ranges
defaults: {breath: 4s}
exercises:
  - name: A
    hold: 15-20s
    reps: 7-10
  - name: B
    hold: 3-5 breaths
    sets: 2-3
  - name: C
    hold: 10 to 30 seconds
    optional: true
"""


def test_levels_take_the_low_end_the_middle_or_the_high_end(write_routine):
    path = write_routine(RANGES)
    routine = load_routine(path)
    a, b, c = routine.exercises
    assert (a.phases[0].hold_ms, a.reps, b.phases[0].hold_ms, b.sets, c.phases[0].hold_ms) == (
        18_000, 9, 16_000, 3, 20_000)  # the middle, half rounded up to whole units
    chosen = {}
    for level in ("gentle", "standard", "strong"):
        custom = customise(routine, [command_line(level=level)])
        a, b, c = custom.routine.exercises
        chosen[level] = (a.phases[0].hold_ms, a.reps, b.phases[0].hold_ms, b.sets)
        assert {ch.origin for ch in custom.changes} == {f"--level {level} (command line)"}
        assert custom.variant == level
    assert chosen == {"gentle": (15_000, 7, 12_000, 2), "standard": (18_000, 9, 16_000, 3),
                      "strong": (20_000, 10, 20_000, 3)}
    plans = {level: make_plan(customise(routine, [command_line(level=level)]).routine,
                              length).duration_ms for level in chosen}
    assert plans["gentle"] < plans["standard"] < plans["strong"]


def test_length_lands_within_two_percent_or_names_the_reach(write_routine):
    routine = load_routine(write_routine(RANGES))
    shortest, longest = reachable(routine, length)
    for target in (shortest + 1000, (shortest + longest) // 2, longest - 1000):
        target = max(target, 60_000)
        wanted = customise(routine, [command_line(length=f"{target}ms")]).routine
        fitted, changes = fit_length(wanted, length)
        got = make_plan(fitted, length).duration_ms
        assert abs(got - target) <= 0.02 * target, (target, got)
        assert changes
    too_long = customise(routine, [command_line(length="3h")]).routine
    with pytest.raises(OverrideError, match=r"`length` 3h is out of reach: this routine runs "
                                            r"\d+:\d\d to \d+:\d\d$"):
        fit_length(too_long, length)


def test_length_leaves_out_optional_exercises_least_important_first(write_routine):
    routine = load_routine(write_routine(RANGES))
    without_c = make_plan(customise(routine, [command_line(skip=["c"], level="gentle")]).routine,
                          length).duration_ms
    wanted = customise(routine, [command_line(length=f"{without_c}ms")]).routine
    fitted, changes = fit_length(wanted, length)
    assert [ex.id for ex in fitted.exercises] == ["a", "b"]
    assert ("c", "left out") in {(ch.exercise_id, ch.key) for ch in changes}


def test_a_routine_file_gives_its_own_length(write_routine):
    """`length:` at the top level fits the routine as `--length` would, unless a profile or
    the command line gives a length; dumped as written, and the fitted routine has none."""
    from routinecast.dump import dump_routine
    shortest, longest = reachable(load_routine(write_routine(RANGES)), length)
    target = 330_000  # gentle's and strong's scaled lengths are in reach too
    assert shortest < target < longest
    path = write_routine(RANGES.replace("title: Ranges\n", f"title: Ranges\nlength: {target}ms\n"))
    routine = load_routine(path)
    assert (routine.length_ms, routine.setting_lines) == (target, (("length", 2),))
    plain = customise(routine, [])
    fitted, changes = fit_length(plain.routine, length)
    assert abs(make_plan(fitted, length).duration_ms - target) <= 0.02 * target
    assert changes and {c.origin for c in changes} == {
        f"length {describe_ms(target)} (routine file)"}
    assert fitted.length_ms is None and "length" not in dump_routine(fitted)
    assert f"length: {describe_ms(target)}\n" in dump_routine(routine)
    assert load_routine(write_routine(dump_routine(routine), "again.yaml")).length_ms == target
    # the command line's length wins, and the change names what it replaced
    ten = customise(routine, [command_line(length="10m")])
    assert (ten.routine.length_ms, ten.routine.setting_lines) == (600_000, ())
    [change] = [c for c in ten.changes if c.key == "length"]
    assert (change.before, change.after) == (target, 600_000)
    # the file's length is the standard level's; another level scales it by how much that
    # level changes the routine unfitted: gentle runs shorter, strong longer
    unfitted = {level: make_plan(customise(routine, [command_line(level=level)]).routine,
                                 length).duration_ms for level in ("gentle", "standard",
                                                                   "strong")}
    got = {}
    for level in unfitted:
        custom = customise(routine, [command_line(level=level)])
        assert custom.routine.length_ms == target
        assert any("is its standard level's" in note for note in custom.notes) == (
            level != "standard")
        fitted_at, chosen = fit_length(custom.routine, length)
        got[level] = make_plan(fitted_at, length).duration_ms
        wanted = target * unfitted[level] / unfitted["standard"]
        assert abs(got[level] - wanted) <= 0.02 * wanted, (level, got[level], wanted)
        origins = {c.origin for c in chosen}
        assert origins == ({f"length {describe_ms(target)} (routine file)"}
                           if level == "standard" else
                           {f"length {describe_ms(int(wanted / 1000 + 0.5) * 1000)} "
                            f"(routine file: {describe_ms(target)} at standard)"}), origins
    assert got["gentle"] < got["standard"] < got["strong"]
    # scaled beyond what the routine reaches, a level runs as long as it can, not refused
    near_top = load_routine(write_routine(RANGES.replace(
        "title: Ranges\n", f"title: Ranges\nlength: {longest - 5000}ms\n"), "top.yaml"))
    strong = customise(near_top, [command_line(level="strong")]).routine
    assert abs(make_plan(fit_length(strong, length)[0], length).duration_ms - longest) <= \
        0.02 * longest
    # a length given with the level is kept exactly
    both = customise(routine, [command_line(level="gentle", length=f"{target}ms")]).routine
    assert abs(make_plan(fit_length(both, length)[0], length).duration_ms - target) <= \
        0.02 * target


def test_a_level_keeps_the_exercises_of_the_routine_files_length(write_routine):
    """At another level, the routine file's length keeps the exercises its standard level
    keeps, held shorter or longer, rather than taking in an optional one (here B, which
    strong's longer target would have room for at A's low end)."""
    routine = load_routine(write_routine("title: Kept\nlength: 2m\ndefaults: {countdown: 0}\n"
                                         "exercises:\n  - name: A\n    hold: 30-90s\n"
                                         "    reps: 2\n  - name: B\n    hold: 40s\n"
                                         "    optional: true\n"))
    holds = {}
    for level in ("gentle", "standard", "strong"):
        fitted, _ = fit_length(customise(routine, [command_line(level=level)]).routine, length)
        assert [ex.id for ex in fitted.exercises] == ["a"], level
        holds[level] = fitted.exercises[0].phases[0].hold_ms
    assert holds["gentle"] < holds["standard"] < holds["strong"], holds


ROUNDED = """\
title: Rounded
defaults: {remind_every: 1m, countdown: 0}
exercises:
  - name: Lie
    hold: 2-6 min
  - name: Hips
    sides: true
    hold: 30-60s
"""


def test_fitted_holds_round_to_values_people_say(write_routine):
    """A fitted hold of a minute or more is whole 15 s, one of 20 s or more whole 5 s, so
    reminders say "Three minutes fifteen seconds left.", not "… thirteen seconds …"; when
    that cannot land within 2 %, whole seconds do."""
    routine = load_routine(write_routine(ROUNDED))
    shortest, longest = reachable(routine, length)
    for k in range(1, 8):
        target = shortest + k * (longest - shortest) // 8 + 1_234
        wanted = customise(routine, [command_line(length=f"{target}ms")]).routine
        fitted, _ = fit_length(wanted, length)
        plan = make_plan(fitted, length)
        assert abs(plan.duration_ms - target) <= 0.02 * target, (target, plan.duration_ms)
        lie, hips = (ex.phases[0].hold_ms for ex in fitted.exercises)
        assert lie % 15_000 == 0 and hips % 5_000 == 0, (target, lie, hips)
        for reminder in [s.text for s in plan.segments if s.label == "reminder"]:
            assert re.fullmatch(r"(\w+ minutes?( (fifteen|thirty|forty-five) seconds)?"
                                r"|(Fifteen|Thirty|Forty-five) seconds) left\.", reminder), \
                reminder
    # ten holds that step together by 5 s move the track by 50 s: whole seconds then
    many = load_routine(write_routine("title: Many\ndefaults: {countdown: 0}\nexercises:\n"
                                      "  - name: A\n    hold: 30-40s\n    reps: 10\n",
                                      "many.yaml"))
    at = {hold: make_plan(customise(many, [command_line(hold=[f"a={hold}s"])]).routine,
                          length).duration_ms for hold in (30, 35)}
    target = (at[30] + at[35]) // 2
    fitted, _ = fit_length(customise(many, [command_line(length=f"{target}ms")]).routine, length)
    assert abs(make_plan(fitted, length).duration_ms - target) <= 0.02 * target
    assert 30_000 < fitted.exercises[0].phases[0].hold_ms < 35_000


@pytest.mark.parametrize("value, says", [
    ("0", "length: the number 0 is not a positive duration"),
    ("13h", 'length: "13h" is longer than the limit of 12h'),
    ("30s", "length: must be at least 1m"),
    ("soon", 'length: "soon" is not a duration'),
])
def test_a_routine_files_length_that_cannot_be(write_routine, run, value, says):
    path = write_routine(f"title: T\nlength: {value}\nexercises:\n  - name: A\n")
    result = run("validate", path)
    assert result.exit_code == 2
    assert result.output.strip() == f"{path}:2: {says}" or \
        result.output.strip().startswith(f"{path}:2: {says}"), result.output


def test_a_routine_files_length_out_of_reach_names_its_line(write_routine, run):
    path = write_routine("title: T\ndefaults: {countdown: 0}\nlength: 2h\nexercises:\n"
                         "  - name: A\n    hold: 20-40s\n    reps: 2-3\n")
    result = run("plan", path, "-q")
    assert result.exit_code == 2
    [message] = result.output.strip().splitlines()
    assert re.fullmatch(rf"{re.escape(str(path))}:3: length: 2h is out of reach: this routine "
                        r"runs \d+:\d\d to \d+:\d\d", message), message
    assert run("plan", path, "-q", "--length", "1m30s").exit_code == 0  # an override wins


def test_plan_length_of_a_content_routine_with_the_real_voice(run):
    path = CONTENT / "lower-back-pain-stretches.yaml"
    result = run("plan", path, "--length", "15m", "--json", "-q")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert abs(data["duration_ms"] - 900_000) <= 0.02 * 900_000
    assert any(change["key"] == "length" for change in data["overrides"])
    assert all(change["origin"].isprintable() for change in data["overrides"])
    assert {c["origin"] for c in data["overrides"] if c["key"] != "length"} == {"length 15m"}
    far = run("plan", path, "--length", "4h", "-q")
    assert far.exit_code == 2
    assert re.search(r"this routine runs \d+:\d\d to \d+:\d\d$", far.output.strip())


def test_gentle_is_shorter_than_strong_on_three_content_routines(run):
    shorter = 0
    for path in sorted(CONTENT.glob("*.yaml")):
        lengths = [json.loads(run("plan", path, "--level", level, "--json", "-q").stdout)
                   ["duration_ms"] for level in ("gentle", "strong")]
        shorter += lengths[0] < lengths[1]
    assert shorter >= 3


# -- how it sounds -----------------------------------------------------------------------


def test_a_hold_starts_after_the_settle_time_and_short_holds_have_no_countdown(write_routine):
    plan = plan_of(write_routine("title: T\nexercises:\n  - name: A\n    phases:\n"
                                 "      - {say: Roll down., hold: 12s}\n"
                                 "      - {say: Come up., hold: 20s}\n"))
    for hold in plan.holds:
        said = max(s.end_ms for s in plan.segments
                   if s.kind == "speech" and s.end_ms <= hold.start_ms)
        assert hold.start_ms - said == 3000
    words = [s for s in plan.segments if s.label == "countdown"]
    assert len(words) == 3 and all(s.start_ms >= plan.holds[1].start_ms for s in words)


def test_a_move_has_no_settle_countdown_or_end_tone(write_routine):
    plan = plan_of(write_routine("title: T\ndefaults: {countdown_min: 0s}\nexercises:\n"
                                 "  - name: A\n    phases:\n"
                                 "      - {say: Roll up., hold: 6s, move: true}\n"
                                 "      - {say: Stand., hold: 6s, end_tone: false}\n"))
    move, hold = plan.holds
    assert [s.label for s in plan.segments if move.start_ms <= s.start_ms < move.end_ms] == [
        "move"]
    said = max(s.end_ms for s in plan.segments if s.kind == "speech" and s.end_ms <= move.start_ms)
    assert move.start_ms - said == 600  # the pause after any speech; no settle
    assert not [s for s in plan.segments if s.kind == "tone" and s.label == "end"]


def test_a_flow_speaks_each_move_on_its_breath_with_one_end_tone(write_routine):
    plan = plan_of(write_routine(
        "title: T\nexercises:\n  - name: Cat\n    breath: 4s\n    reps: 3\n    flow:\n"
        "      - {say: 'Breathe in, drop your belly.', cue: In.}\n"
        "      - {say: 'Breathe out, round your back.', cue: Out., breaths: 2}\n"))
    moves = plan.holds
    assert [m.end_ms - m.start_ms for m in moves] == [4000, 8000] * 3
    for before, after in zip(moves, moves[1:]):
        assert before.end_ms == after.start_ms  # one breath runs into the next
    texts = [s.text for s in plan.segments if s.kind == "speech" and
             moves[0].start_ms <= s.start_ms < moves[-1].end_ms]
    assert texts == ["Breathe in, drop your belly.", "Breathe out, round your back.",
                     "In.", "Out.", "In.", "Out."]
    assert [s.start_ms for s in plan.segments if s.text in ("In.", "Out.")] == [
        m.start_ms for m in moves[2:]]
    tones = [s for s in plan.segments if s.kind == "tone" and s.label == "end"]
    assert len(tones) == 1 and tones[0].start_ms == moves[-1].end_ms
    assert not [s for s in plan.segments if s.label == "countdown"]


def test_breaths_counted_aloud(write_routine):
    plan = plan_of(write_routine("title: T\ndefaults: {breath: 5s}\nexercises:\n"
                                 "  - name: A\n    hold: 4 breaths\n    count_breaths: true\n"))
    (hold,) = plan.holds
    counted = [(s.text, s.start_ms - hold.start_ms) for s in plan.segments
               if s.label == "breath"]
    # the first breath paced: "And out." half a breath after "Breathe in."
    assert counted == [("Breathe in.", 0), ("And out.", 2500), ("Two.", 5000),
                       ("Three.", 10_000), ("Four.", 15_000)]
    # a breath too short to pace both halves gets them said at once
    quick = plan_of(write_routine("title: T\ndefaults: {breath: 2s}\nexercises:\n"
                                  "  - name: A\n    hold: 4 breaths\n    count_breaths: true\n"))
    (hold,) = quick.holds
    assert [(s.text, s.start_ms - hold.start_ms) for s in quick.segments
            if s.label == "breath"][0] == ("Breathe in, and out.", 0)


@pytest.mark.parametrize("guidance, repeats", [
    ("full", ["Lie down and slowly roll your knees to one side. Keep your shoulders down."] * 2),
    ("brief", ["Knees over."] * 2),
    ("minimal", []),
])
def test_guidance_says_repeats_in_full_briefly_or_not_at_all(write_routine, guidance, repeats):
    plan = plan_of(write_routine(
        f"title: T\ndefaults: {{guidance: {guidance}}}\nexercises:\n  - name: Roll\n"
        "    reps: 3\n    phases:\n"
        "      - say: Lie down and slowly roll your knees to one side. Keep your shoulders down.\n"
        "        cue: Knees over.\n        hold: 5s\n"))
    texts = [t for t in speech(plan) if t.startswith(("Lie", "Knees"))]
    assert texts[0].startswith("Lie down") and texts[1:] == repeats


@pytest.mark.parametrize("sounds, marker", [("", "count"), ("    sounds: {start: on}\n", "start"),
                                            ("    sounds: {count: off}\n", None)])
def test_minimal_marks_each_instruction_it_leaves_out_with_a_tone(write_routine, sounds,
                                                                   marker):
    """No rep is silent: where `minimal` leaves a phase's instruction out, the start chime
    (or the countdown's beep) says when to move; with neither, the short form is said."""
    plan = plan_of(write_routine(
        f"title: T\ndefaults:\n    guidance: minimal\n{sounds}exercises:\n  - name: Roll\n"
        "    reps: 3\n    phases:\n"
        "      - {say: Roll down slowly and hang there., cue: Roll down., hold: 10s}\n"
        "      - {say: Roll back up slowly., hold: 6s, move: true}\n"))
    for hold in plan.holds[2:]:  # every phase of reps 2 and 3
        before = [s for s in plan.segments if s.end_ms <= hold.start_ms
                  and s.label not in ("pause", "settle")][-1]
        if marker:
            assert (before.kind, before.label) == ("tone", marker), hold
        else:
            assert before.text in ("Roll down.", "Roll back up slowly."), hold
    if marker:
        assert [t for t in speech(plan) if t.startswith("Roll ")] == [
            "Roll down slowly and hang there.", "Roll back up slowly."]


def test_brief_without_a_short_form_says_the_first_sentence(write_routine):
    plan = plan_of(write_routine(
        "title: T\nexercises:\n  - name: A\n    reps: 2\n"
        "    during: Let your back sink. Breathe into your belly and feel it rise.\n"))
    assert [t for t in speech(plan) if t.startswith("Let")] == [
        "Let your back sink. Breathe into your belly and feel it rise.", "Let your back sink."]


def test_sets_are_announced_and_rested(write_routine):
    plan = plan_of(write_routine("title: T\nexercises:\n  - name: A\n    hold: 5s\n"
                                 "    sets: 3\n    reps: 3\n    set_rest: 12s\n"))
    assert [t for t in speech(plan) if t.startswith("Set")] == [
        "Set 1 of 3.", "Set 2 of 3.", "Set 3 of 3."]
    assert [s.duration_ms for s in plan.segments if s.label == "set-rest"] == [12_000] * 2


def test_equipment_is_said_in_the_introduction_and_before_the_exercise(write_routine):
    plan = plan_of(write_routine(
        "title: T\nequipment: [mat]\ndefaults: {rest: 10s}\nexercises:\n  - name: A\n"
        "  - name: Psoas Stretch\n    equipment: [strap, two pillows]\n"))
    texts = speech(plan)
    assert "You'll need a mat, a strap and two pillows." in texts
    assert "Next: Psoas Stretch. You'll need the strap and the two pillows." in texts


def test_side_placeholders_are_filled_per_side(write_routine):
    plan = plan_of(write_routine(
        "title: T\nexercises:\n  - name: Knee Hug\n    sides: true\n    setup_each_side: true\n"
        "    setup: Hug your {side} knee, and keep your {other side} leg long.\n"))
    texts = speech(plan)
    assert "Hug your left knee, and keep your right leg long." in texts
    assert "Hug your right knee, and keep your left leg long." in texts


def test_v1_files_keep_loading_and_planning():
    for path in sorted((Path(__file__).parent / "fixtures" / "v1").glob("*.yaml")):
        assert make_plan(load_routine(path), length).duration_ms > 0


@pytest.mark.slow
def test_the_voice_reads_the_spoken_form_and_the_plan_keeps_the_written(tmp_path,
                                                                        write_routine):
    from routinecast.builder import BuildSettings, prepare
    from routinecast.tts import open_engine
    from routinecast.tts.cache import ClipCache
    path = write_routine("title: T\npronounce: {sacroiliac: sacro-iliac}\nexercises:\n"
                         "  - name: Sacroiliac Stretch\n    hold: 10-15 sec\n"
                         "    during: Hold for 10-15 sec.\n")
    cache = tmp_path / "cache"
    prepared = prepare(load_routine(path), BuildSettings(cache_dir=cache))
    assert "Hold for 10-15 sec." in speech(prepared.plan)
    assert "Sacroiliac Stretch" in speech(prepared.plan)
    engine = open_engine(prepared.routine.voice, "en")
    store = ClipCache(cache)
    for said in ("Hold for 10 to 15 seconds.", "Sacro-iliac Stretch"):
        key = store.key(engine.name, engine.voice_id, engine.speed, 44_100, said)
        assert store.get(key, 44_100) is not None, said


def test_the_share_page_shows_listeners_about_not_authors_notes(write_routine):
    from routinecast.share.page import Card, make_page
    routine = load_routine(write_routine(
        "title: T\ndescription: For stiff mornings.\nexercises:\n  - name: Psoas Stretch\n"
        "    equipment: [strap]\n    about: Opens the front of the hip.\n"
        "    notes: The article gives no time; use --hold psoas-stretch=1m.\n"))
    page = make_page("T", "", [Card(routine, make_plan(routine, length), "t.mp3", "t.yaml",
                                    "t.json", "t.vtt")], "feed.xml", "cover.png")
    assert "For stiff mornings." in page
    assert "Opens the front of the hip. Needs: strap." in page
    assert "psoas-stretch=1m" not in page and "The article gives no time" not in page


@pytest.mark.parametrize("options, variant", [
    ({"engine": "espeak"}, "espeak"),
    ({"engine": "espeak", "voice": "en-gb"}, "espeak-en-gb"),
    ({"voice": "/home/me/voices/en_GB-alba-medium.onnx"}, "en-gb-alba-medium"),
    ({"speed": 0.9}, "speed0.9"),
    ({"level": "gentle", "length": "15m"}, "gentle-15m"),
    ({"guidance": "minimal"}, "minimal"),
    ({"hold_scale": "1.5", "halfway": "voice"}, "x1.5-custom-"),
])
def test_variant_names_people_can_read(options, variant):
    name = customise(load_routine(CONTENT / "low-back-stretches.yaml"),
                     [command_line(**options)]).variant
    assert name == variant or (variant.endswith("-") and name.startswith(variant)), name


def test_a_hold_override_on_a_flow_is_refused_on_the_command_line_and_noted_in_a_profile(
        write_routine, tmp_path):
    from routinecast.overrides import load_profile
    routine = load_routine(write_routine(
        "title: T\nexercises:\n  - name: Cat\n    flow: [Breathe in., Breathe out.]\n"))
    with pytest.raises(OverrideError, match="`cat` is a breath-paced flow"):
        customise(routine, [command_line(hold=["cat=15s"])])
    profile = tmp_path / "me.yaml"
    profile.write_text("hold: {cat: 15s}\n")
    custom = customise(routine, [load_profile(profile)])
    assert any("breath-paced flow" in note for note in custom.notes)


def test_counted_breaths_begin_the_hold_and_during_comes_before(write_routine):
    plan = plan_of(write_routine("title: T\nexercises:\n  - name: A\n    hold: 3 breaths\n"
                                 "    count_breaths: true\n    during: Let your knees fall.\n"))
    (hold,) = plan.holds
    inside = [s.text for s in plan.segments
              if s.kind == "speech" and hold.start_ms <= s.start_ms < hold.end_ms]
    assert inside == ["Breathe in.", "And out.", "Two.", "Three."]
    assert "Let your knees fall." in speech(plan)


def test_equipment_articles():
    from routinecast.plan import equipment_text
    assert equipment_text(["mat", "exercise mat", "table or stairs", "two pillows", "cushions",
                           "your bed"]) == ("You'll need a mat, an exercise mat, a table or "
                                            "stairs, two pillows, cushions and your bed.")


def test_brief_says_a_short_text_whole(write_routine):
    plan = plan_of(write_routine("title: T\nexercises:\n  - name: A\n    reps: 2\n"
                                 "    phases:\n      - {say: One more. Tighten and reach., hold: 5s}\n"))
    assert [t for t in speech(plan) if t.startswith("One")] == ["One more. Tighten and reach."] * 2


@pytest.mark.slow
def test_a_target_length_synthesises_only_what_the_fit_keeps(write_routine, tmp_path):
    """A 15-minute version of a 30-minute routine says half its texts: what the fit leaves
    out is not synthesised (the real voice, on an empty cache), and the track still lands
    within 2 % of the length; built again from the cache it is the same plan."""
    from routinecast.builder import BuildSettings, prepare
    from routinecast.tts.cache import ClipCache

    text = RANGES.replace("  - name: C\n", "  - name: C\n    setup: Reach for the quiet ceiling lamp.\n")
    routine = load_routine(write_routine(text))
    shortest, longest = reachable(routine, length)
    target = max(shortest + 5_000, 60_000)
    settings = BuildSettings(cache_dir=tmp_path / "cache")
    wanted = customise(routine, [command_line(length=f"{target}ms")]).routine
    prepared = prepare(wanted, settings)
    assert [ex.id for ex in prepared.routine.exercises] == ["a", "b"]  # C left out
    assert "Reach for the quiet ceiling lamp." not in prepared.clips
    assert abs(prepared.plan.duration_ms - target) <= 0.02 * target
    cache = ClipCache(tmp_path / "cache")

    def spoken() -> int:  # entries holding speech (the cue sounds' figures hold none)
        return sum(len(cache.entry(e.stem, settings.sample_rate)[0]) > 0
                   for e in (tmp_path / "cache").rglob("*.clip"))

    assert spoken() == len(prepared.clips)  # nothing else was synthesised
    again = prepare(wanted, settings)
    assert again.plan == prepared.plan and spoken() == len(prepared.clips)


@pytest.mark.parametrize("guidance, said", [
    ("brief", ["Pull in, ease off a little, and pull again, letting the buttock soften.",
               "Pull, ease off, pull.", "Pull, ease off, pull."]),
    ("full", ["Pull in, ease off a little, and pull again, letting the buttock soften."] * 3)])
def test_a_reminder_of_during_says_it_as_a_repeat(write_routine, guidance, said):
    """Said again within the same hold, `during` is a repeat: its short form, unless guidance
    is full (a physiotherapist heard a 5-second sentence three times in one 50 s hold)."""
    path = write_routine(
        "title: T\n"
        f"defaults: {{remind_every: 20s, remind_say: during, guidance: {guidance}}}\n"
        "exercises:\n"
        "  - name: Hip\n"
        "    hold: 60s\n"
        "    during: {say: 'Pull in, ease off a little, and pull again, letting the buttock "
        "soften.', cue: 'Pull, ease off, pull.'}\n")
    plan = plan_of(path, speech=lambda text: 20 * len(text))
    assert [s.text for s in plan.segments if s.kind == "speech" and s.text.startswith("Pull")
            ] == said
