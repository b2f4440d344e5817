"""Routine → Plan: the whole timeline in integer milliseconds, with no I/O.

Speech lengths come from a function (text → ms) so that the plan is built from the real
synthesised clips; `spoken_texts` finds which texts a routine needs before they exist.
"""

from __future__ import annotations

import json
from dataclasses import asdict, replace
from typing import Callable

from .durations import describe_ms, format_ms
from .errors import InputError
from .models import Chapter, Exercise, Hold, Phase, Plan, Routine, Segment

TONE_MS = {"end": 350, "switch": 600}
"""Length of each generated cue tone; tones.py makes them exactly this long."""
LEAD_MS = 500
"""Silence at the very start, so players do not clip the first word."""
PAUSE_MS = 600
"""Silence after anything spoken or sounded, before the next thing."""
SECTION_PAUSE_MS = 1_000
"""Silence after the routine's introduction and after a section's."""
TAIL_MS = 1_500
"""Silence at the very end."""
MIN_QUIET_MS = 1_000
"""A hold keeps at least this much silence; cues that would leave less are moved or dropped."""
MAX_TRACK_MS = 12 * 3_600_000

INTRO_TITLE = "Introduction"
OUTRO_TITLE = "Closing"
AGAIN = "Again."
NUMBER_WORDS = ("One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine", "Ten")

TABLE_TEXT = 72
"""Longest text the plan table shows in full; `--json` always has all of it."""

SpeechLength = Callable[[str], int]


def side_phrase(side: str) -> str:
    """`left` → `the left side`; a name of several words is used as it is (`the left leg`)."""
    return f"the {side} side" if len(side.split()) == 1 else f"the {side}"


def start_side_text(side: str) -> str:
    return f"Start with {side_phrase(side)}."


def switch_side_text(side: str) -> str:
    return f"Switch to {side_phrase(side)}."


def outro_text(routine: Routine) -> str:
    return routine.outro or f"That is the end of {routine.title}. Well done."


def countdown_words(count: int) -> tuple[str, ...]:
    """Words spoken for a countdown from `count`, in the order they are said."""
    return tuple(f"{NUMBER_WORDS[n - 1]}." for n in range(count, 0, -1))


class _Timeline:
    """Appends segments back to back and remembers holds; the cursor is the track's end."""

    def __init__(self, speech_ms: SpeechLength):
        self.speech_ms = speech_ms
        self.segments: list[Segment] = []
        self.holds: list[Hold] = []
        self.now = 0

    def add(self, kind: str, length: int, text: str | None = None,
            label: str | None = None) -> None:
        if length <= 0:
            return
        last = self.segments[-1] if self.segments else None
        if kind == "silence" and last and last.kind == "silence" and last.label == label:
            self.segments[-1] = Segment(kind, last.start_ms, self.now + length, text, label)
        else:
            self.segments.append(Segment(kind, self.now, self.now + length, text, label))
        self.now += length

    def say(self, text: str | None, pause: int = PAUSE_MS) -> None:
        if text:
            self.add("speech", self.speech_ms(text), text=text)
            self.add("silence", pause, label="pause")

    def tone(self, name: str) -> None:
        self.add("tone", TONE_MS[name], label=name)
        self.add("silence", PAUSE_MS, label="pause")

    def silence(self, length: int, label: str) -> None:
        self.add("silence", length, label=label)

    def hold(self, phase: Phase, countdown: int) -> tuple[int, int]:
        """A hold of exactly `phase.hold_ms`, its `during` and countdown inside it, then the
        end tone; returns where the hold starts and ends."""
        during_ms = self.speech_ms(phase.during) if phase.during else 0
        inside = during_ms > 0 and during_ms + MIN_QUIET_MS <= phase.hold_ms
        if phase.during and not inside:
            self.say(phase.during)
        used = during_ms if inside else 0
        words = countdown_words(countdown)
        word_ms = [self.speech_ms(word) for word in words]
        counts = bool(words) and max(word_ms) < 1000 and \
            used + MIN_QUIET_MS + 1000 * len(words) <= phase.hold_ms

        start = self.now
        end = start + phase.hold_ms
        if inside:
            self.add("speech", during_ms, text=phase.during)
        if counts:
            for k, (word, length) in enumerate(zip(words, word_ms)):
                self.add("silence", end - 1000 * (len(words) - k) - self.now, label="hold")
                self.add("speech", length, text=word)
        self.add("silence", end - self.now, label="hold")
        self.tone("end")
        return start, end


def make_plan(routine: Routine, speech_ms: SpeechLength) -> Plan:
    """The timeline of `routine`, given the length in ms of each spoken text."""
    line = _Timeline(speech_ms)
    countdown = routine.defaults.countdown

    line.silence(LEAD_MS, "pause")
    line.say(routine.title)
    line.say(routine.intro)
    line.silence(SECTION_PAUSE_MS - PAUSE_MS, "pause")
    chapters = [Chapter("intro", INTRO_TITLE, 0, line.now)]

    last = routine.exercises[-1]
    for section in routine.sections:
        section_start = line.now
        if not routine.flat:
            line.say(section.title)
            line.say(section.intro)
            line.silence(SECTION_PAUSE_MS - PAUSE_MS, "pause")
        children = []
        for exercise in section.exercises:
            start = line.now
            _exercise(line, exercise, countdown, rest=exercise is not last)
            children.append(Chapter(exercise.id, exercise.name, start, line.now))
        if routine.flat:
            chapters.extend(children)
        else:
            chapters.append(Chapter(f"section:{section.id}", section.title, section_start,
                                    line.now, tuple(children)))

    outro_start = line.now
    line.say(outro_text(routine), pause=TAIL_MS)
    chapters.append(Chapter("outro", OUTRO_TITLE, outro_start, line.now))

    if line.now > MAX_TRACK_MS:
        raise InputError(f"the track would last {format_ms(line.now)}, over the limit of "
                         f"{describe_ms(MAX_TRACK_MS)}; shorten holds or split the routine",
                         routine.path)
    return Plan(routine.title, line.now, tuple(chapters), tuple(line.segments),
                tuple(line.holds))


def _exercise(line: _Timeline, exercise: Exercise, countdown: int, rest: bool) -> None:
    line.say(exercise.name)
    for text in exercise.setup:
        line.say(text)
    sides = exercise.sides or (None,)
    if exercise.sides:
        line.say(start_side_text(sides[0]))
    plain = exercise.phases[0].say is None
    numbered = not plain or len(exercise.phases) > 1

    def again() -> None:
        line.silence(exercise.rep_rest_ms, "rep-rest")
        if plain:  # phases announce each rep with their `say`
            line.say(AGAIN)

    previous_side = sides[0]
    for set_number in range(1, exercise.sets + 1):
        for side in sides:
            if set_number > 1 or side != sides[0]:
                if side != previous_side:
                    line.tone("switch")
                    line.say(switch_side_text(side))
                else:
                    again()
            previous_side = side
            for rep in range(1, exercise.reps + 1):
                if rep > 1:
                    again()
                for number, phase in enumerate(exercise.phases, start=1):
                    line.say(phase.say)
                    start, end = line.hold(phase, countdown)
                    line.holds.append(Hold(exercise.id, side, set_number, rep,
                                           number if numbered else None, start, end))
    if rest:
        line.silence(exercise.rest_ms, "rest")


def lengthen(plan: Plan, duration_ms: int) -> Plan:
    """`plan` with its closing silence extended so that the track lasts `duration_ms`."""
    extra = duration_ms - plan.duration_ms
    if extra <= 0:
        return plan
    last_segment, last_chapter = plan.segments[-1], plan.chapters[-1]
    return replace(
        plan, duration_ms=duration_ms,
        segments=(*plan.segments[:-1], replace(last_segment, end_ms=duration_ms)),
        chapters=(*plan.chapters[:-1], replace(last_chapter, end_ms=duration_ms)))


def spoken_texts(routine: Routine) -> list[str]:
    """Every distinct text the routine may speak, in order of first use.

    It plans once, recording each text the planner measures; the planner measures every
    text it might place (each countdown word, each `during`), so any real plan uses a subset.
    """
    seen: dict[str, None] = {}

    def record(text: str) -> int:
        seen.setdefault(text)
        return 0

    make_plan(routine, record)
    return list(seen)


def plan_to_dict(plan: Plan) -> dict:
    """The plan as `routinecast plan --json` prints it."""

    def chapter(c: Chapter) -> dict:
        return {"id": c.id, "title": c.title, "start_ms": c.start_ms, "end_ms": c.end_ms,
                "children": [chapter(child) for child in c.children]}

    def segment(s: Segment) -> dict:
        out = {"kind": s.kind, "start_ms": s.start_ms, "end_ms": s.end_ms}
        if s.text is not None:
            out["text"] = s.text
        if s.label is not None:
            out["label"] = s.label
        return out

    return {
        "title": plan.title,
        "duration_ms": plan.duration_ms,
        "chapters": [chapter(c) for c in plan.chapters],
        "segments": [segment(s) for s in plan.segments],
        "holds": [asdict(h) for h in plan.holds],
    }


def plan_to_json(plan: Plan) -> str:
    return json.dumps(plan_to_dict(plan), indent=2, ensure_ascii=False)


def format_table(plan: Plan) -> str:
    """A readable timeline: time, chapter, and what is said or held; the total at the end."""
    leaves = plan.leaf_chapters()
    holds = list(plan.holds)
    rows: list[tuple[int, str]] = []
    for segment in plan.segments:
        while holds and holds[0].start_ms <= segment.start_ms:
            hold = holds.pop(0)
            detail = [f"{hold.side} side" if hold.side else "", f"set {hold.set}",
                      f"rep {hold.rep}", f"phase {hold.phase}" if hold.phase else ""]
            rows.append((hold.start_ms, f"hold {describe_ms(hold.end_ms - hold.start_ms)} "
                                        f"({', '.join(d for d in detail if d)})"))
        if segment.kind == "speech":
            text = segment.text if len(segment.text) <= TABLE_TEXT else \
                segment.text[: TABLE_TEXT - 1].rstrip() + "…"
            rows.append((segment.start_ms, f"“{text}”"))
        elif segment.label in ("rest", "rep-rest"):
            rows.append((segment.start_ms, f"{segment.label} {describe_ms(segment.duration_ms)}"))
        elif segment.label == "switch":
            rows.append((segment.start_ms, "tone: switch sides"))

    width = max(len(c.title) for c in leaves)
    lines = [f"{'time':>8}  {'chapter':<{width}}  what", f"{'':->8}  {'':-<{width}}  ----"]
    chapter_index, shown = 0, -1
    for start, what in rows:
        while chapter_index + 1 < len(leaves) and start >= leaves[chapter_index].end_ms:
            chapter_index += 1
        title = leaves[chapter_index].title if chapter_index != shown else ""
        shown = chapter_index
        lines.append(f"{format_ms(start):>8}  {title:<{width}}  {what}")
    lines.append(f"total {format_ms(plan.duration_ms)} ({len(leaves)} chapters, "
                 f"{len(plan.holds)} holds)")
    return "\n".join(lines)
