"""The planner alone: pure millisecond arithmetic, speech lengths from a stand-in function."""

import pytest

from routinecast.errors import InputError
from routinecast.plan import (LEAD_MS, MIN_QUIET_MS, TONE_MS, format_table, lengthen,
                              make_plan, plan_to_dict, spoken_texts)
from routinecast.routine import load_routine

from conftest import FIXTURES


def length(text: str) -> int:
    """A stand-in voice: 50 ms a character."""
    return 50 * len(text)


def plan_of(write_routine, text, speech=length):
    return make_plan(load_routine(write_routine(text)), speech)


def assert_contiguous(plan):
    assert plan.segments[0].start_ms == 0
    for before, after in zip(plan.segments, plan.segments[1:]):
        assert before.end_ms == after.start_ms
        assert after.end_ms > after.start_ms
    assert plan.segments[-1].end_ms == plan.duration_ms
    leaves = plan.leaf_chapters()
    assert leaves[0].start_ms == 0 and leaves[-1].end_ms == plan.duration_ms
    for before, after in zip(leaves, leaves[1:]):
        assert before.end_ms == after.start_ms


def test_small_fixture_timeline():
    plan = make_plan(load_routine(FIXTURES / "small.yaml"), length)
    assert_contiguous(plan)
    assert [c.title for c in plan.chapters] == ["Introduction", "Reach", "Side Bend", "Rock",
                                                 "Closing"]
    holds = [(h.exercise_id, h.side, h.set, h.rep, h.phase, h.end_ms - h.start_ms)
             for h in plan.holds]
    assert holds == [
        ("reach", None, 1, 1, None, 5000),
        ("side-bend", "left", 1, 1, None, 3000), ("side-bend", "right", 1, 1, None, 3000),
        ("side-bend", "left", 2, 1, None, 3000), ("side-bend", "right", 2, 1, None, 3000),
        ("rock", None, 1, 1, 1, 3000), ("rock", None, 1, 1, 2, 10000),
        ("rock", None, 1, 2, 1, 3000), ("rock", None, 1, 2, 2, 10000),
    ]
    texts = [s.text for s in plan.segments if s.kind == "speech"]
    assert texts[:5] == ["Test Stretches", "Stretch gently.", "You'll need a mat.", "Reach",
                         "Stand tall."]
    assert texts.count("Switch to the right side.") == 2
    assert texts.count("Switch to the left side.") == 1
    assert "Start with the left side." in texts
    assert texts[-1] == "Done."


def test_each_hold_is_followed_by_the_end_tone_and_contains_its_cues():
    plan = make_plan(load_routine(FIXTURES / "small.yaml"), length)
    by_start = {s.start_ms: s for s in plan.segments}
    for hold in plan.holds:
        tone = by_start[hold.end_ms]
        assert tone.kind == "tone" and tone.label == "end"
        assert tone.duration_ms == TONE_MS["end"]
        inside = [s for s in plan.segments if hold.start_ms <= s.start_ms < hold.end_ms]
        assert sum(s.duration_ms for s in inside) == hold.end_ms - hold.start_ms
        # `during` is spoken as the hold begins: inside it, not added to it
        assert inside[0].kind == "speech" and inside[0].text in ("Breathe.", "Relax.", "Hold.")


def test_countdown_sits_in_the_last_seconds_of_long_holds(write_routine):
    plan = plan_of(write_routine, "title: T\ndefaults: {countdown: 3}\n"
                   "exercises:\n  - name: A\n    hold: 20s\n    during: Breathe.\n"
                   "  - name: B\n    hold: 4s\n    during: A long sentence that fills most of it.\n")
    long_hold, short_hold = plan.holds
    words = [(s.text, s.start_ms - long_hold.end_ms) for s in plan.segments
             if s.kind == "speech" and s.text in ("Three.", "Two.", "One.")
             and long_hold.start_ms <= s.start_ms < long_hold.end_ms]
    assert words == [("Three.", -3000), ("Two.", -2000), ("One.", -1000)]
    assert long_hold.end_ms - long_hold.start_ms == 20_000
    # the short hold's during (39 chars = 1950 ms) + 1 s quiet + 3 s countdown > 4 s: no countdown
    inside = [s for s in plan.segments if short_hold.start_ms <= s.start_ms < short_hold.end_ms]
    assert [s.text for s in inside if s.kind == "speech"] == [
        "A long sentence that fills most of it."]


def test_during_too_long_for_its_hold_is_said_before_it(write_routine):
    plan = plan_of(write_routine, "title: T\nexercises:\n  - name: A\n    hold: 2s\n"
                   "    during: This cue takes far longer than two seconds to say.\n")
    (hold,) = plan.holds
    before = [s for s in plan.segments if s.end_ms <= hold.start_ms and s.kind == "speech"]
    assert before[-1].text.startswith("This cue")
    assert all(s.kind == "silence" for s in plan.segments
               if hold.start_ms <= s.start_ms < hold.end_ms)
    assert hold.end_ms - hold.start_ms == 2000


def test_countdown_zero_and_long_words_turn_it_off(write_routine):
    text = "title: T\ndefaults: {countdown: COUNT}\nexercises:\n  - name: A\n    hold: 30s\n"
    off = plan_of(write_routine, text.replace("COUNT", "0"))
    assert not [s for s in off.segments if s.text == "One."]
    slow = plan_of(write_routine, text.replace("COUNT", "3"), speech=lambda t: 1200)
    assert not [s for s in slow.segments if s.text == "One."]
    on = plan_of(write_routine, text.replace("COUNT", "3"))
    assert [s for s in on.segments if s.text == "One."]


def test_holds_are_exact_whatever_the_speech_lengths(write_routine):
    text = "title: T\nexercises:\n  - name: A\n    hold: 7.25s\n    during: Breathe.\n"
    for speech in (lambda t: 1, lambda t: 777, lambda t: 3 * len(t)):
        (hold,) = plan_of(write_routine, text, speech).holds
        assert hold.end_ms - hold.start_ms == 7250


def test_reps_sets_and_rests(write_routine):
    plan = plan_of(write_routine, "title: T\ndefaults: {rest: 8s, rep_rest: 2s, countdown: 0, "
                   "announce_next: false}\n"
                   "exercises:\n  - name: A\n    hold: 5s\n    reps: 2\n    sets: 2\n"
                   "  - name: B\n    hold: 5s\n    rest: 20s\n")
    labels = [(s.label, s.duration_ms) for s in plan.segments
              if s.label in ("rest", "rep-rest", "set-rest")]
    # 4 holds of A: a rep-rest between the reps of a set, the set rest between the sets;
    # rest after A only (B is last)
    assert labels == [("rep-rest", 2000), ("set-rest", 10_000), ("rep-rest", 2000),
                      ("rest", 8000)]
    texts = [s.text for s in plan.segments if s.kind == "speech"]
    assert texts.count("Again.") == 2
    assert texts.index("Set 1 of 2.") < texts.index("Set 2 of 2.")


def test_multiword_side_names_and_sides_across_sets(write_routine):
    plan = plan_of(write_routine, "title: T\nexercises:\n  - name: A\n    hold: 3s\n"
                   "    sides: [right leg, left leg]\n    sets: 2\n")
    texts = [s.text for s in plan.segments if s.kind == "speech"]
    assert texts.count("Start with the right leg.") == 1
    assert texts.count("Switch to the left leg.") == 2 and texts.count("Switch to the right leg.") == 1
    assert [h.side for h in plan.holds] == ["right leg", "left leg"] * 2
    assert len([s for s in plan.segments if s.label == "switch"]) == 3


def test_sections_nest_chapters_with_a_lead_in():
    plan = make_plan(load_routine(FIXTURES / "sections.yaml"), length)
    assert_contiguous(plan)
    intro, hips, back, outro = plan.chapters
    assert hips.title == "The Hips" and [c.title for c in hips.children] == ["Hip Opener",
                                                                            "Hip Hinge"]
    assert hips.start_ms < hips.children[0].start_ms and hips.end_ms == hips.children[-1].end_ms
    assert back.start_ms == hips.end_ms
    leaves = [c.title for c in plan.leaf_chapters()]
    assert leaves == ["Introduction", "The Hips", "Hip Opener", "Hip Hinge", "The Back",
                      "Back Arch", "Closing"]


def test_spoken_texts_cover_every_plan(write_routine):
    routine = load_routine(FIXTURES / "small.yaml")
    texts = spoken_texts(routine)
    assert len(texts) == len(set(texts))
    for speech in (length, lambda t: 900, lambda t: 1):
        plan = make_plan(routine, speech)
        assert {s.text for s in plan.segments if s.kind == "speech"} <= set(texts)


def test_plan_json_shape_and_table():
    plan = make_plan(load_routine(FIXTURES / "small.yaml"), length)
    data = plan_to_dict(plan)
    assert set(data) == {"title", "duration_ms", "chapters", "segments", "holds", "overrides"}
    assert data["segments"][0] == {"kind": "silence", "start_ms": 0, "end_ms": LEAD_MS,
                                   "label": "pause"}
    assert set(data["holds"][0]) == {"exercise_id", "side", "set", "rep", "phase", "start_ms",
                                     "end_ms", "move"}
    table = format_table(plan)
    assert "hold 5s (set 1, rep 1)" in table and "hold 3s (left side, set 2, rep 1)" in table
    assert table.splitlines()[-1].startswith("total ")


@pytest.mark.parametrize("sets, message", [
    (6, "the track would last 12:0.*, over the limit of 12h"),   # holds fit, speech does not
    (7, "the holds alone would last 14h, over the track limit of 12h"),  # known before planning
])
def test_track_over_twelve_hours_is_refused(write_routine, sets, message):
    text = f"title: T\nexercises:\n  - name: A\n    hold: 2h\n    sets: {sets}\n"
    with pytest.raises(InputError, match=message):
        plan_of(write_routine, text)


def test_min_quiet_is_respected(write_routine):
    text = ("title: T\ndefaults: {countdown: 2, countdown_min: 0s}\nexercises:\n"
            "  - name: A\n    hold: 4s\n")
    plan = plan_of(write_routine, text, speech=lambda t: 400)
    (hold,) = plan.holds
    first_word = min(s.start_ms for s in plan.segments if s.text == "Two.")
    assert first_word - hold.start_ms >= MIN_QUIET_MS


def test_lengthen_extends_only_the_closing_silence():
    plan = make_plan(load_routine(FIXTURES / "small.yaml"), length)
    longer = lengthen(plan, plan.duration_ms + 2)
    assert_contiguous(longer)
    assert longer.duration_ms == plan.duration_ms + 2
    assert longer.segments[:-1] == plan.segments[:-1] and longer.holds == plan.holds
    assert longer.chapters[-1].end_ms == plan.duration_ms + 2
    assert lengthen(plan, plan.duration_ms) is plan


def test_table_clips_long_texts_but_json_keeps_them(write_routine):
    intro = "A sentence long enough to be clipped in the table. " * 3
    plan = plan_of(write_routine, f"title: T\nintro: {intro}\nexercises:\n  - name: A\n")
    assert f"“{intro[:71].rstrip()}…”" in format_table(plan)
    assert intro.strip() in [s["text"] for s in plan_to_dict(plan)["segments"] if "text" in s]


def test_a_section_left_without_exercises_is_not_announced(write_routine):
    """A routine file cannot have an empty section, and overrides and target lengths drop
    the sections they empty; a `Routine` made in code may still hold one: it says nothing."""
    from dataclasses import replace
    routine = load_routine(write_routine(
        "title: T\nsections:\n  - title: Hips\n    exercises: [{name: A, hold: 5s}]\n"
        "  - title: Psoas\n    intro: Deep muscles.\n    exercises: [{name: B, hold: 5s}]\n"))
    hips, psoas = routine.sections
    emptied = replace(routine, sections=(hips, replace(psoas, exercises=())))
    plan = make_plan(emptied, length)
    said = [s.text for s in plan.segments if s.kind == "speech"]
    assert "Psoas" not in said and "Deep muscles." not in said
    assert [c.title for c in plan.chapters] == ["Introduction", "Hips", "Closing"]
