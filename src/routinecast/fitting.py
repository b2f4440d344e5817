"""A target length (`--length 15m`): the values inside a routine's ranges, and which optional
exercises to leave out, so that the track lands within 2 % of it. Pure: it plans, with the
speech lengths it is given, and does no I/O.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Callable, Sequence

from .durations import describe_ms, format_ms
from .errors import OverrideError, RoutineError, setting
from .models import Change, Exercise, Routine
from .plan import SoundLengths, SpeechLength, make_plan

TOLERANCE = 0.02
"""How far from the target a track may land, as a fraction of the target."""
STEPS = 24
"""Halvings of the search between the low and the high ends: finer than a millisecond."""


ROUNDING = (((60_000, 15_000), (20_000, 5_000)), ((60_000, 15_000),), ())
"""How a fitted hold (one timed in seconds, not breaths) is rounded, tried in this order
until a fit lands within `TOLERANCE`: (from, to whole) — a minute or more to whole 15 s and
20 s or more to whole 5 s, so that a reminder says "Two minutes fifteen seconds left." and
not "… thirteen seconds …"; then only holds of a minute or more; then whole seconds."""
Rounding = tuple[tuple[int, int], ...]


def _at(low: int, high: int, t: float, unit: int, rounding: Rounding = ()) -> int:
    """The value a fraction `t` of the way from `low` to `high`, in whole `unit`s (a
    duration in seconds rounded as `rounding` says); never outside the range."""
    value = low + t * (high - low)
    if unit == 1000:
        unit = next((step for least, step in rounding if value >= least), unit)
    return min(max(int(value / unit + 0.5) * unit, low), high)


def _exercise_at(exercise: Exercise, t_counts: float, t_holds: float,
                 rounding: Rounding = ()) -> Exercise:
    phases = tuple(replace(p, hold_ms=_at(*p.hold_range, t_holds, p.breath_ms or 1000,
                                          rounding))
                   if p.hold_range else p for p in exercise.phases)
    values = {key: _at(*getattr(exercise, f"{key}_range"), t_counts, 1)
              for key in ("reps", "sets") if getattr(exercise, f"{key}_range")}
    return replace(exercise, phases=phases, **values)


def _routine_at(routine: Routine, t_counts: float, t_holds: float,
                left_out: frozenset[str], rounding: Rounding = ()) -> Routine:
    sections = []
    for section in routine.sections:
        kept = tuple(_exercise_at(ex, t_counts, t_holds, rounding) for ex in section.exercises
                     if ex.id not in left_out)
        if kept:
            sections.append(replace(section, exercises=kept))
    return replace(routine, sections=tuple(sections))


def reachable(routine: Routine, speech_ms: SpeechLength,
              sound_ms: SoundLengths | None = None) -> tuple[int, int]:
    """The shortest and longest tracks the routine's ranges and optional exercises give."""
    drop = frozenset(ex.id for ex in _drop_order(routine))
    shortest = make_plan(_routine_at(routine, 0, 0, drop), speech_ms, sound_ms).duration_ms
    longest = make_plan(_routine_at(routine, 1, 1, frozenset()), speech_ms,
                        sound_ms).duration_ms
    return shortest, longest


def _drop_order(routine: Routine) -> list[Exercise]:
    """Optional exercises in the order they are left out: lowest rank first, later ones
    before earlier ones of the same rank; never every exercise."""
    optional = [ex for ex in routine.exercises if ex.optional]
    order = sorted(optional, key=lambda ex: (ex.optional, -routine.exercises.index(ex)))
    return order[:len(routine.exercises) - 1]


def fit_length(routine: Routine, speech_ms: SpeechLength,
               sound_ms: SoundLengths | None = None) -> tuple[Routine, tuple[Change, ...]]:
    """`routine` with values inside its ranges (and optional exercises left out, least
    important first) so that its track lasts `routine.length_ms` within `TOLERANCE`; and a
    `Change` for every value chosen. Raises `OverrideError` naming the lengths the routine
    can reach when the target is outside them (a `RoutineError` naming the line when the
    routine file gives the length). The fitted routine has no target length: its values
    are chosen.

    A routine file's own length is the standard level's: when the routine's values are
    another level's (`--level gentle`), the target is scaled by how much those values change
    the track (its length at them over its length at the ranges' middles, both unfitted),
    so that gentle runs shorter and strong longer, keeping the exercises the standard
    level's fit keeps when it can. A profile's or the command line's length is kept
    exactly."""
    target = routine.length_ms
    if not target:
        return routine, ()
    line = dict(routine.setting_lines).get("length", False)
    own = line is not False  # the routine file's own length, not an override's

    def length(candidate: Routine) -> int:
        return make_plan(candidate, speech_ms, sound_ms).duration_ms

    written = f"length: {describe_ms(target)}"  # as the file says it, for its messages
    # what the overrides table says chose a value
    given = f"length {describe_ms(target)}" + (" (routine file)" if own else "")

    def refuse(message: str) -> Exception:
        if own:
            return RoutineError(f"{written} {message}", routine.path, line)
        return OverrideError(f"{setting('length')} {describe_ms(target)} {message}",
                             routine.path)

    shortest, longest = reachable(routine, speech_ms, sound_ms)
    if not shortest * (1 - TOLERANCE) <= target <= longest * (1 + TOLERANCE):
        raise refuse(f"is out of reach: this routine runs {_mss(shortest)} to "
                     f"{_mss(longest)}")
    standard_out: frozenset[str] | None = None  # what the standard level's fit leaves out
    if own:
        # every range at its middle, as the standard level picks it (`checks.middle`: the
        # same rounding); a flow's moves have no range, and no level changes them
        middles = _routine_at(routine, 0.5, 0.5, frozenset())
        standard, here = length(middles), length(routine)
        if here != standard:  # to the second, and as far as the routine reaches
            at_standard = fit_length(middles, speech_ms, sound_ms)[0]
            standard_out = frozenset(ex.id for ex in routine.exercises) - {
                ex.id for ex in at_standard.exercises}
            scaled = min(max(target * here / standard, shortest), longest)
            scaled = int(scaled / 1000 + 0.5) * 1000
            written += f" ({describe_ms(scaled)} at this level)"
            given = (f"length {describe_ms(scaled)} (routine file: {describe_ms(target)} at "
                     "standard)")
            target = scaled
    order = _drop_order(routine)
    best: tuple[float, Routine, frozenset[str]] | None = None

    def search(t_counts: float | None, left_out: frozenset[str], rounding: Rounding) -> bool:
        """Halve the holds' fraction (and the counts' with it when `t_counts` is None)
        towards the target; True once a candidate lands within the tolerance."""
        nonlocal best
        lo, hi = 0.0, 1.0
        for _ in range(STEPS):  # the track grows with its holds
            mid = (lo + hi) / 2
            candidate = _routine_at(routine, mid if t_counts is None else t_counts, mid,
                                    left_out, rounding)
            got = length(candidate)
            miss = abs(got - target) / target
            if best is None or miss < best[0]:
                best = (miss, candidate, left_out)
            if miss <= TOLERANCE / 4:
                break
            lo, hi = (mid, hi) if got < target else (lo, mid)
        return best is not None and best[0] <= TOLERANCE

    def fits(left_out: frozenset[str]) -> bool:
        """Whether the routine without `left_out` lands within the tolerance: every range
        at the same fraction first; where the counts' steps jump over the target, each
        setting of the counts with the holds fitted around it; holds rounded to values
        people say first, to whole seconds only when that misses."""
        if length(_routine_at(routine, 0, 0, left_out)) > target * (1 + TOLERANCE):
            return False  # too long even at the low ends
        return any(search(None, left_out, rounding)
                   or any(search(t, left_out, rounding) for t in _count_steps(routine))
                   for rounding in ROUNDING)

    # at another level than the file's length, the standard level's exercises held shorter
    # or longer when they can be; otherwise as few left out as the target allows
    if standard_out is None or not fits(standard_out):
        for dropped in range(len(order) + 1):
            if fits(frozenset(ex.id for ex in order[:dropped])):
                break
    if best is None:
        raise refuse(f"falls between the lengths this routine can take (from "
                     f"{_mss(shortest)} to {_mss(longest)}); try a little more or less")
    fitted = replace(best[1], length_ms=None, setting_lines=tuple(
        pair for pair in routine.setting_lines if pair[0] != "length"))
    return fitted, _chosen(routine, fitted, best[2], given)


def _count_steps(routine: Routine) -> Sequence[float]:
    """The fractions at which the reps and sets of the widest range take each value."""
    widest = max([hi - lo for ex in routine.exercises
                  for span in (ex.reps_range, ex.sets_range) if span for lo, hi in [span]],
                 default=0)
    if not widest:
        return (0.0,)
    return tuple(step / widest for step in range(widest + 1))


def _chosen(routine: Routine, fitted: Routine, left_out: frozenset[str],
            given: str) -> tuple[Change, ...]:
    """A `Change` per value the fit chose, and per exercise it left out."""
    chosen = {ex.id: ex for ex in fitted.exercises}
    changes = []
    for exercise in routine.exercises:
        if exercise.id in left_out:
            changes.append(Change(exercise.id, "left out", None, "optional", "left out", given))
            continue
        new = chosen[exercise.id]
        plain = len(exercise.phases) == 1 and exercise.phases[0].say is None
        for number, (before, after) in enumerate(zip(exercise.phases, new.phases), start=1):
            if before.hold_range:
                changes.append(Change(exercise.id, "hold", None if plain else number,
                                      before.hold_range, after.hold_ms, given))
        for key in ("reps", "sets"):
            span = getattr(exercise, f"{key}_range")
            if span:
                changes.append(Change(exercise.id, key, None, span, getattr(new, key), given))
    return tuple(changes)


def _mss(ms: int) -> str:
    """`9:40`: a track's length to the second, as people say it."""
    return format_ms(int(ms / 1000 + 0.5) * 1000).rsplit(".", 1)[0]


def estimate_speech(known: Callable[[str], int | None], ms_per_char: float = 62.0
                    ) -> SpeechLength:
    """Speech lengths for the search: the real length of a text already synthesised, an
    estimate from its length in characters for one the search meets first (a count it
    may say, "Set 3 of 4."); the plan of the chosen values is remade from real clips."""
    def length(text: str) -> int:
        ms = known(text)
        return ms if ms is not None else int(len(text) * ms_per_char) + 300
    return length
