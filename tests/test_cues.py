"""Cues in the plan: where each one falls, and that no cue ever changes a hold's length."""

from __future__ import annotations

import pytest

from routinecast.errors import RoutineError
from routinecast.overrides import command_line, customise
from routinecast.plan import MIN_QUIET_MS, TONE_MS, make_plan
from routinecast.routine import load_routine


def length(text: str) -> int:
    """A stand-in voice: 50 ms a character."""
    return 50 * len(text)


BASE = """title: T
defaults: {DEFAULTS}
exercises:
  - name: Long
    hold: 5m
    during: Breathe slowly.
  - name: Short
    hold: 15s
  - name: Sided
    sides: true
    reps: 2
    sets: 2
    hold: 20s
"""


@pytest.fixture
def plan_with(write_routine):
    def make(defaults: str = "{}", text: str = BASE):
        return make_plan(load_routine(write_routine(text.replace("{DEFAULTS}", defaults))),
                         length)

    return make


def cue_segments(plan, label):
    return [s for s in plan.segments if s.label == label]


def inside(plan, hold):
    return [s for s in plan.segments if hold.start_ms <= s.start_ms < hold.end_ms]


def test_cues_never_change_hold_lengths(plan_with):
    plain = plan_with("{countdown: 0}")
    busy = plan_with("{countdown: 5, halfway: voice, remind_every: 30s, counts: true, "
                     "announce_next: true}")
    assert [h.end_ms - h.start_ms for h in busy.holds] == \
        [h.end_ms - h.start_ms for h in plain.holds]
    for hold in busy.holds:
        assert sum(s.duration_ms for s in inside(busy, hold)) == hold.end_ms - hold.start_ms
        tone = next(s for s in busy.segments if s.start_ms == hold.end_ms)
        assert tone.label == "end"


@pytest.mark.parametrize("style, kind", [("voice", "speech"), ("tone", "tone")])
def test_halfway_at_the_middle_of_holds_of_20s_or_more(plan_with, style, kind):
    plan = plan_with(f"{{halfway: {style}}}")
    cues = cue_segments(plan, "halfway")
    long_enough = [h for h in plan.holds if h.end_ms - h.start_ms >= 20_000]
    assert len(long_enough) == 1 + 8 and len(cues) == len(long_enough)
    for hold, cue in zip(long_enough, cues):
        assert cue.kind == kind and cue.start_ms == (hold.start_ms + hold.end_ms) // 2
    if kind == "speech":
        assert {c.text for c in cues} == {"Halfway."}
    else:
        assert {c.duration_ms for c in cues} == {TONE_MS["halfway"]}


def test_reminders_say_the_time_left(plan_with):
    plan = plan_with("{remind_every: 1m}")
    long = plan.holds[0]
    reminders = cue_segments(plan, "reminder")
    assert [(r.start_ms - long.start_ms, r.text) for r in reminders] == [
        (60_000, "Four minutes left."), (120_000, "Three minutes left."),
        (180_000, "Two minutes left."), (240_000, "One minute left.")]


def test_reminders_repeat_during_and_give_way_to_halfway(plan_with):
    plan = plan_with("{remind_every: 50s, remind_say: during, halfway: voice}")
    long = plan.holds[0]
    said = [(s.start_ms - long.start_ms, s.text) for s in inside(plan, long) if s.kind == "speech"]
    assert said == [(0, "Breathe slowly."), (50_000, "Breathe slowly."),
                    (100_000, "Breathe slowly."), (150_000, "Halfway."),
                    (200_000, "Breathe slowly."), (250_000, "Breathe slowly."),
                    (297_000, "Three."), (298_000, "Two."), (299_000, "One.")]


def test_reminder_in_odd_intervals_rounds_the_time_left(plan_with):
    plan = plan_with("{remind_every: 100s}")
    assert [r.text for r in cue_segments(plan, "reminder")] == [
        "Three minutes twenty seconds left.", "One minute forty seconds left."]


def test_cues_keep_quiet_between_them(plan_with):
    plan = plan_with("{remind_every: 10s, halfway: voice, countdown: 5}")
    for hold in plan.holds:
        spoken = [s for s in inside(plan, hold) if s.kind != "silence"
                  and s.label not in ("countdown", "count")]
        for before, after in zip(spoken, spoken[1:]):
            assert after.start_ms - before.end_ms >= MIN_QUIET_MS
        countdown = [s for s in inside(plan, hold) if s.label == "countdown"]
        if spoken and countdown:
            assert countdown[0].start_ms - spoken[-1].end_ms >= MIN_QUIET_MS


def test_countdown_stays_when_during_is_said_before_a_short_hold(plan_with, write_routine):
    text = ("title: T\ndefaults: {countdown_min: 0s}\nexercises:\n  - name: A\n    hold: 5s\n"
            "    during: " + "word " * 20 + "\n")
    plan = plan_with("{}", text)
    hold = plan.holds[0]
    assert [s.text for s in inside(plan, hold) if s.kind == "speech"] == ["Three.", "Two.", "One."]
    said_before = next(s for s in plan.segments if s.text and s.text.startswith("word"))
    assert said_before.end_ms <= hold.start_ms


def test_countdown_beeps_and_off(plan_with):
    plan = plan_with("{countdown: 3, countdown_style: beeps, countdown_min: 0s}")
    for hold in plan.holds:
        beeps = [s for s in inside(plan, hold) if s.label == "count"]
        assert [s.start_ms for s in beeps] == [hold.end_ms - 3000, hold.end_ms - 2000,
                                               hold.end_ms - 1000]
        assert {s.kind for s in beeps} == {"tone"}
    assert not cue_segments(plan, "countdown")
    plan = plan_with("{countdown: 3, countdown_style: off}")
    assert not cue_segments(plan, "countdown")
    assert not [s for s in cue_segments(plan, "count") if s.kind == "tone"]


def test_counts_replace_again(plan_with):
    plan = plan_with("{counts: true}")
    texts = [s.text for s in plan.segments if s.kind == "speech"]
    sided = texts[texts.index("Sided"):]
    assert [t for t in sided if t[:4] in ("Set ", "Rep ")] == [
        "Set 1 of 2.", "Rep 1 of 2.", "Rep 2 of 2.", "Rep 1 of 2.", "Rep 2 of 2.",
        "Set 2 of 2.", "Rep 1 of 2.", "Rep 2 of 2.", "Rep 1 of 2.", "Rep 2 of 2."]
    assert "Again." not in texts
    assert sided[:3] == ["Sided", "Set 1 of 2.", "Start with the left side."]
    assert "Again." in [s.text for s in plan_with().segments if s.kind == "speech"]


def test_announce_next_inside_the_rest(plan_with, write_routine):
    plain, announced = plan_with("{rest: 8s}"), plan_with("{rest: 8s, announce_next: true}")
    assert announced.duration_ms == plain.duration_ms
    nexts = cue_segments(announced, "next")
    assert [n.text for n in nexts] == ["Next: Short.", "Next: Sided."]
    for cue in nexts:
        rest = next(s for s in announced.segments if s.start_ms == cue.end_ms)
        assert rest.label == "rest" and cue.duration_ms + rest.duration_ms == 8_000
    # a rest too short for it: said before the rest, which keeps its length
    short = plan_with("{rest: 1s, announce_next: true}")
    cue = cue_segments(short, "next")[0]
    rest = next(s for s in short.segments if s.label == "rest" and s.start_ms > cue.end_ms)
    assert rest.duration_ms == 1_000


def test_side_rest_before_the_switch_tone(plan_with):
    plan = plan_with("{side_rest: 4s}")
    switches = cue_segments(plan, "switch")
    assert len(switches) == 3
    for tone in switches:
        before = next(s for s in plan.segments if s.end_ms == tone.start_ms)
        assert before.label == "side-rest" and before.duration_ms == 4_000


def test_exercise_cues_over_defaults(plan_with):
    text = BASE.replace("    during: Breathe slowly.\n", "    during: Breathe slowly.\n"
                        "    halfway: off\n    countdown: 0\n")
    plan = plan_with("{halfway: voice}", text)
    long = plan.holds[0]
    assert not [s for s in inside(plan, long) if s.label in ("halfway", "countdown")]
    assert [s for s in inside(plan, plan.holds[-1]) if s.label == "halfway"]


def test_command_line_cues_override_exercise_cues(write_routine):
    text = BASE.replace("{DEFAULTS}", "{}").replace("    hold: 15s\n",
                                                    "    hold: 15s\n    countdown: 0\n")
    routine = customise(load_routine(write_routine(text)),
                        [command_line(countdown=2, halfway="tone")]).routine
    assert {ex.cues.countdown for ex in routine.exercises} == {2}
    plan = make_plan(routine, length)
    assert len(cue_segments(plan, "countdown")) == 2 * len(plan.holds)


@pytest.mark.parametrize("setting, message", [
    ("halfway: loud", 'defaults.halfway: "loud" is not a choice (use one of off, voice, tone)'),
    ("countdown_style: beep", 'defaults.countdown_style: "beep" is not a choice (did you mean '
                              '`beeps`?)'),
    ("remind_every: 5s", "defaults.remind_every: reminders more often than every 10s"),
    ("counts: 3", "defaults.counts: must be true or false, not the number 3"),
    ("side_rest: -1s", 'defaults.side_rest: "-1s" is negative'),
    ("remind_say: timeleft", 'defaults.remind_say: "timeleft" is not a choice (did you mean '
                             '`time-left`?)'),
])
def test_bad_cue_settings(write_routine, setting, message):
    path = write_routine(f"title: T\ndefaults:\n  {setting}\nexercises:\n  - name: A\n")
    with pytest.raises(RoutineError) as caught:
        load_routine(path)
    assert str(caught.value).startswith(f"{path}:3: {message}")
