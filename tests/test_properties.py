"""Property-based tests (hypothesis): whatever a file holds, loading raises nothing but our
own error; whatever a valid routine says, the planner keeps its promises."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from routinecast.errors import RoutinecastError
from routinecast.models import Routine
from routinecast.plan import make_plan
from routinecast.routine import (CUE_KEYS, EXERCISE_KEYS, PHASE_KEYS, TOP_KEYS, load_routine)

SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
KEYS = sorted({*TOP_KEYS, *EXERCISE_KEYS, *PHASE_KEYS, *CUE_KEYS, "defaults", "voice",
               "sounds", "speed", "engine"})
scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**12),
                    st.floats(allow_nan=True), st.text(max_size=30),
                    st.sampled_from(["30s", "1m30s", "5 breaths", "-3s", "0", "2h", "true",
                                     "left", "voice", "tone", "beeps", "off", "en", "de"]))
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4),
    st.dictionaries(st.sampled_from(KEYS), inner, max_size=5)), max_leaves=25)
documents = st.dictionaries(st.sampled_from(KEYS), values, max_size=8)


def load_text(data: bytes, suffix: str = ".yaml") -> Routine | None:
    """Load `data` as a routine file; our own errors are fine, anything else fails."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"routine{suffix}"
        path.write_bytes(data)
        try:
            return load_routine(path)
        except RoutinecastError as exc:
            assert str(exc).startswith(str(path)) and "\n" not in str(exc)
            return None


@SETTINGS
@given(st.binary(max_size=300))
def test_any_bytes_load_or_fail_with_our_error(data):
    load_text(data)


@SETTINGS
@given(st.text(max_size=300))
def test_any_text_loads_or_fails_with_our_error(text):
    load_text(text.encode("utf-8"))


@SETTINGS
@given(documents)
def test_any_yaml_structure_loads_or_fails_with_our_error(document):
    load_text(yaml.safe_dump(document, allow_unicode=True).encode("utf-8"))


@SETTINGS
@given(documents)
def test_any_json_structure_loads_or_fails_with_our_error(document):
    load_text(json.dumps(document).encode("utf-8"), ".json")


# -- valid routines and their plans --------------------------------------------------------

durations = st.integers(1, 90_000).map(lambda ms: f"{ms}ms")
phases = st.lists(st.fixed_dictionaries({"hold": durations},
                                        optional={"say": st.sampled_from(["In.", "Out."]),
                                                  "during": st.just("Breathe.")}),
                  min_size=1, max_size=3)
exercises = st.lists(st.fixed_dictionaries(
    {"name": st.text("abcdefgh ", min_size=1, max_size=12).filter(str.strip)},
    optional={"hold": durations, "phases": phases, "reps": st.integers(1, 3),
              "sets": st.integers(1, 2), "sides": st.booleans(), "rest": durations,
              "rep_rest": st.sampled_from(["0s", "1s", "2500ms"]),
              "during": st.just("Hold it."), "setup": st.just("Get ready."),
              "countdown": st.integers(0, 5),
              "countdown_style": st.sampled_from(["voice", "beeps", "off"]),
              "halfway": st.sampled_from(["off", "voice", "tone"]),
              "remind_every": st.sampled_from(["0s", "10s", "45s"]),
              "announce_next": st.booleans(), "side_rest": st.sampled_from(["0s", "2s"]),
              "counts": st.booleans()}), min_size=1, max_size=5)


@SETTINGS
@given(exercises, st.integers(1, 3000))
def test_plans_are_contiguous_and_every_hold_as_long_as_asked(items, per_char_ms):
    for i, item in enumerate(items):
        item["id"] = f"ex-{i}"
    routine = load_text(yaml.safe_dump({"title": "T", "intro": "Hello.",
                                        "exercises": items}).encode("utf-8"))
    if routine is None:  # e.g. a hold longer than the limit: refused by our own error
        return
    try:
        plan = make_plan(routine, lambda text: max(1, len(text)) * per_char_ms // 10)
    except RoutinecastError:  # a track over the limit, say: ours, and so allowed
        return
    assert plan.segments[0].start_ms == 0 and plan.segments[-1].end_ms == plan.duration_ms
    for before, after in zip(plan.segments, plan.segments[1:]):
        assert before.end_ms == after.start_ms and before.end_ms > before.start_ms
    leaves = plan.leaf_chapters()
    assert leaves[0].start_ms == 0 and leaves[-1].end_ms == plan.duration_ms
    for before, after in zip(leaves, leaves[1:]):
        assert before.end_ms == after.start_ms
    asked = {ex.id: [p.hold_ms for p in ex.phases] for ex in routine.exercises}
    for hold in plan.holds:
        assert hold.end_ms - hold.start_ms == asked[hold.exercise_id][(hold.phase or 1) - 1]
    expected = sum(ex.sets * max(1, len(ex.sides)) * ex.reps for ex in routine.exercises
                   for _ in ex.phases)
    assert len(plan.holds) == expected
