"""Routine → Plan: the whole timeline in integer milliseconds, with no I/O.

Speech lengths come from a function (text → ms) so that the plan is built from the real
synthesised clips; `spoken_texts` finds which texts a routine needs before they exist.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, replace
from typing import Any, Callable, Mapping, Sequence

from .durations import describe_ms, format_ms
from .errors import InputError
from .models import Change, Chapter, Cues, Exercise, Hold, Phase, Plan, Routine, Segment

TONE_MS = {"start": 300, "end": 350, "switch": 600, "count": 150, "halfway": 450}
"""Length of each built-in cue tone; tones.py makes them exactly this long."""
LEAD_MS = 500
"""Silence at the very start, so players do not clip the first word."""
PAUSE_MS = 600
"""Silence after anything spoken or sounded, before the next thing."""
SECTION_PAUSE_MS = 1_000
"""Silence after the routine's introduction and after a section's."""
TAIL_MS = 1_500
"""Silence at the very end."""
MIN_QUIET_MS = 1_000
"""Quiet kept between the cues inside a hold, and before its end; a cue that would leave
less is said before the hold (`during`) or left out (the others)."""
HALFWAY_MIN_MS = 20_000
"""Shortest hold that gets a halfway cue."""
MAX_TRACK_MS = 12 * 3_600_000

INTRO_TITLE = "Introduction"
OUTRO_TITLE = "Closing"
AGAIN = "Again."
HALFWAY = "Halfway."
NUMBER_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
                "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen",
                "seventeen", "eighteen", "nineteen")
TENS_WORDS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty",
              "ninety")

TABLE_TEXT = 72
"""Longest text the plan table shows in full; `--json` always has all of it."""

SpeechLength = Callable[[str], int]
SoundLengths = Mapping[str, int]
"""Length in ms of each cue sound by name (`end`, `switch`, …); 0 for a sound turned off."""


def number_words(n: int) -> str:
    """0 to 999 in English words: 42 → `forty-two`."""
    if n < 20:
        return NUMBER_WORDS[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return TENS_WORDS[tens] + (f"-{NUMBER_WORDS[ones]}" if ones else "")
    hundreds, rest = divmod(n, 100)
    return f"{NUMBER_WORDS[hundreds]} hundred" + (f" and {number_words(rest)}" if rest else "")


def _sentence(text: str) -> str:
    return text[0].upper() + text[1:] + ("" if text[-1] in ".!?" else ".")


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
    return tuple(_sentence(number_words(n)) for n in range(count, 0, -1))


def time_left_text(ms: int) -> str:
    """`Two minutes left.`, `One minute thirty seconds left.`, to the nearest second."""
    minutes, seconds = divmod((ms + 500) // 1000, 60)
    parts = [f"{number_words(minutes)} minute{'s' if minutes != 1 else ''}"] if minutes else []
    if seconds or not minutes:
        parts.append(f"{number_words(seconds)} second{'s' if seconds != 1 else ''}")
    return _sentence(" ".join(parts) + " left")


def count_text(what: str, number: int, total: int) -> str:
    return f"{what} {number} of {total}."


def next_text(name: str, equipment: Sequence[str] = ()) -> str:
    """`Next: Psoas Stretch. You'll need the strap.`"""
    text = f"Next: {name}" + ("" if name[-1] in ".!?" else ".")
    if equipment:
        text += f" You'll need {_listing([_definite(item) for item in equipment])}."
    return text


BREATHE_IN, BREATHE_OUT = "Breathe in.", "And out."
"""The first breath of a hold whose breaths are counted aloud, said as it begins and half a
breath later; the next ones are numbered as they begin ("Two.")."""
BREATHE = "Breathe in, and out."
"""The first breath said at once, when the breath is too short to pace the two halves."""
_COUNTING = {*NUMBER_WORDS[:10], "a", "an", "the", "some", "your", "any", "another"}


def _listing(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _indefinite(item: str) -> str:
    """`strap` → `a strap`, `exercise mat` → `an exercise mat`; plurals, counts and
    phrases with their own article as they are."""
    first = item.split()[0].lower()
    # "table or stairs" takes the article of its first choice
    head = re.split(r",|\s+(?:or|and)\s+", item)[0].strip()
    if first in _COUNTING or first[0].isdigit() or (head.endswith("s") and
                                                     not head.endswith("ss")):
        return item
    return ("an " if first[0] in "aeiou" else "a ") + item


def _definite(item: str) -> str:
    """`strap` → `the strap`, `two pillows` → `the two pillows`, `your mat` as it is."""
    first = item.split()[0].lower()
    if first in ("the", "your"):
        return item
    if first in ("a", "an", "some", "any"):
        item = item.split(None, 1)[1]
    return f"the {item}"


def equipment_text(items: Sequence[str]) -> str | None:
    """`You'll need a mat, a strap and two pillows.`; None for nothing."""
    return f"You'll need {_listing([_indefinite(item) for item in items])}." if items else None


def routine_equipment(routine: Routine) -> tuple[str, ...]:
    """Everything the routine and its exercises need, each once, in order of first mention."""
    seen: dict[str, str] = {}
    for item in (*routine.equipment, *(i for ex in routine.exercises for i in ex.equipment)):
        seen.setdefault(item.lower(), item)
    return tuple(seen.values())


def fill_side(text: str, side: str | None, sides: Sequence[str]) -> str:
    """`{side}` and `{other side}` in `text` filled for `side` (the next side, with more
    than two)."""
    if side is None or "{" not in text:
        return text
    other = sides[(sides.index(side) + 1) % len(sides)]
    return text.replace("{side}", side).replace("{other side}", other)


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'“])")


def first_sentence(text: str) -> str:
    """The first sentence of `text` (all of it when it has one)."""
    return _SENTENCE_END.split(text, maxsplit=1)[0]


class _Timeline:
    """Appends segments back to back and remembers holds; the cursor is the track's end."""

    def __init__(self, speech_ms: SpeechLength, sound_ms: SoundLengths):
        self.speech_ms = speech_ms
        self.sound_ms = sound_ms
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

    def say(self, text: str | None, pause: int = PAUSE_MS, label: str | None = None) -> None:
        if text:
            self.add("speech", self.speech_ms(text), text=text, label=label)
            self.add("silence", pause, label="pause")

    def tone(self, name: str) -> None:
        if self.sound_ms[name]:
            self.add("tone", self.sound_ms[name], label=name)
            self.add("silence", PAUSE_MS, label="pause")

    def silence(self, length: int, label: str) -> None:
        self.add("silence", length, label=label)

    def settle(self, ms: int) -> None:
        """Time to get into position after an instruction: the pause after it counts."""
        last = self.segments[-1] if self.segments else None
        already = last.duration_ms if last and last.label == "pause" else 0
        self.silence(ms - already, "settle")

    def hold(self, phase: Phase, cues: Cues, reminder: str | None = None) -> tuple[int, int]:
        """A hold of exactly `phase.hold_ms` with its cues inside it, then the end tone;
        returns where the hold starts and ends. `reminder`: what a reminder of `during`
        says (its short form, as guidance says it again), by default `during` itself.

        A hold (not a move) begins `settle` after the instruction before it. Cues are placed
        in order of importance (`during`, countdown or counted breaths, halfway, reminders),
        each only where it keeps `MIN_QUIET_MS` from the others and from the hold's end.
        Every candidate text is measured, placed or not, so that `spoken_texts` sees it.
        """
        length = phase.hold_ms
        breaths = length // phase.breath_ms if phase.breath_ms else 0
        counting = cues.count_breaths and breaths > 1 and not phase.move
        during_ms = self.speech_ms(phase.during) if phase.during else 0
        # counted breaths begin the hold: `during` is said before it
        inside = during_ms > 0 and during_ms + MIN_QUIET_MS <= length and not counting
        if phase.during and not inside:
            self.say(phase.during)
        if not phase.move:
            self.settle(cues.settle_ms)
        # (offset in the hold, length, kind, text, label), kept sorted by offset
        cues_at: list[tuple[int, int, str, str | None, str | None]] = []
        if inside:
            cues_at.append((0, during_ms, "speech", phase.during, None))

        def place(offset: int, ms: int, kind: str, text: str | None, label: str) -> None:
            before = [end for at, size, *_ in cues_at if at <= offset for end in [at + size]]
            after = [at for at, *_ in cues_at if at > offset] + [length]
            if offset + ms + MIN_QUIET_MS <= min(after) and \
                    all(offset >= end + MIN_QUIET_MS for end in before):
                cues_at.append((offset, ms, kind, text, label))
                cues_at.sort()

        style = cues.countdown_style if cues.countdown else "off"
        if phase.move or counting or length < cues.countdown_min_ms:
            style = "off"
        if style != "off":
            if style == "voice":
                beats = [(word, self.speech_ms(word)) for word in countdown_words(cues.countdown)]
            else:
                beats = [(None, self.sound_ms["count"])] * cues.countdown
            first = length - 1000 * len(beats)
            spoken_before = during_ms if inside else 0
            if 0 < max(ms for _, ms in beats) < 1000 and first >= spoken_before + MIN_QUIET_MS:
                cues_at += [(first + 1000 * k, ms, "speech" if word else "tone", word,
                             "countdown" if word else "count")
                            for k, (word, ms) in enumerate(beats)]
        if counting:
            # "Breathe in." as the first breath begins, "And out." half a breath later
            half = phase.breath_ms // 2
            inhale, exhale, both = (self.speech_ms(text) for text in (BREATHE_IN, BREATHE_OUT,
                                                                      BREATHE))
            if inhale + MIN_QUIET_MS <= half and half + exhale + MIN_QUIET_MS <= phase.breath_ms:
                place(0, inhale, "speech", BREATHE_IN, "breath")
                place(half, exhale, "speech", BREATHE_OUT, "breath")
            else:
                place(0, both, "speech", BREATHE, "breath")
            for k in range(1, min(breaths, 20)):
                text = _sentence(number_words(k + 1))
                place(k * phase.breath_ms, self.speech_ms(text), "speech", text, "breath")

        if cues.halfway != "off" and length >= HALFWAY_MIN_MS and not counting:
            if cues.halfway == "voice":
                place(length // 2, self.speech_ms(HALFWAY), "speech", HALFWAY, "halfway")
            elif self.sound_ms["halfway"]:
                place(length // 2, self.sound_ms["halfway"], "tone", None, "halfway")
        if cues.remind_every_ms:
            for offset in range(cues.remind_every_ms, length, cues.remind_every_ms):
                text = (reminder or phase.during) \
                    if cues.remind_say == "during" and phase.during \
                    else time_left_text(length - offset)
                place(offset, self.speech_ms(text), "speech", text, "reminder")

        # the start sound ends as the hold begins
        if not phase.move:
            self.add("tone", self.sound_ms["start"], label="start")
        start = self.now
        label = "move" if phase.move else "hold"
        for offset, ms, kind, text, cue_label in cues_at:
            self.add("silence", start + offset - self.now, label=label)
            self.add(kind, ms, text=text, label=cue_label)
        self.add("silence", start + length - self.now, label=label)
        if cues.end_tone and not phase.move:
            self.tone("end")
        return start, start + length


def make_plan(routine: Routine, speech_ms: SpeechLength,
              sound_ms: SoundLengths | None = None) -> Plan:
    """The timeline of `routine`, given the length in ms of each spoken text and of each
    cue sound (default: the built-in tones, with the sounds the routine turns off silent)."""
    if sound_ms is None:
        sound_ms = builtin_sound_ms(routine)
    holding = sum(ex.sets * max(1, len(ex.sides)) * ex.reps * sum(p.hold_ms for p in ex.phases)
                  for ex in routine.exercises)
    if holding > MAX_TRACK_MS:  # said before planning a million holds to find it out
        raise InputError(f"the holds alone would last {describe_ms(holding)}, over the track "
                         f"limit of {describe_ms(MAX_TRACK_MS)}; shorten holds or split the "
                         "routine", routine.path)
    line = _Timeline(speech_ms, sound_ms)

    line.silence(LEAD_MS, "pause")
    line.say(routine.title)
    line.say(routine.intro)
    line.say(equipment_text(routine_equipment(routine)))
    line.silence(SECTION_PAUSE_MS - PAUSE_MS, "pause")
    chapters = [Chapter("intro", INTRO_TITLE, 0, line.now)]

    exercises = routine.exercises
    following = dict(zip(exercises, exercises[1:]))
    short_forms = dict(routine.short_forms)
    for section in routine.sections:
        if not section.exercises:  # nothing of it is heard: not even its title
            continue
        section_start = line.now
        if not routine.flat:
            line.say(section.title)
            line.say(section.intro)
            line.silence(SECTION_PAUSE_MS - PAUSE_MS, "pause")
        children = []
        for exercise in section.exercises:
            start = line.now
            _exercise(line, exercise, following.get(exercise), short_forms)
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


def builtin_sound_ms(routine: Routine) -> dict[str, int]:
    """Cue sound lengths with the built-in tones: `TONE_MS`, or 0 for a sound turned off."""
    sounds = routine.defaults.sounds
    return {name: 0 if getattr(sounds, name) == "off" else ms for name, ms in TONE_MS.items()}


MARKERS = ("start", "count")
"""The sounds that stand in for an instruction `minimal` guidance leaves out, the first one
the routine has: the start chime, or else the countdown's beep."""
BRIEF_CHARS = 60
"""Texts up to this long are said whole on repeats in `brief` guidance; longer ones without
a short form are shortened to their first sentence."""


class _Guide:
    """What an exercise says on repeats, by its `guidance`: the first time every text in
    full; after that in full, as its short form (or first sentence), or not at all."""

    def __init__(self, guidance: str, short_forms: Mapping[str, str]):
        self.guidance = guidance
        self.short_forms = short_forms
        self.said: set[str] = set()

    def __call__(self, text: str | None, keep: bool = False) -> str | None:
        """`text` as said now; `keep`: never left out (a flow's moves pace the breath)."""
        if text is None:
            return None
        if text not in self.said or self.guidance == "full":
            self.said.add(text)
            return text
        if self.guidance == "minimal" and not keep:
            return None
        return self.brief(text)

    def again(self, text: str) -> str:
        """`text` as said once more after it was said (a reminder inside a hold): in full
        under `full` guidance, else as `brief` says it. (Under `minimal`, a hold whose
        `during` is left out has none to remind of: its reminders say the time left.)"""
        return text if self.guidance == "full" else self.brief(text)

    def brief(self, text: str) -> str:
        """`text` as `brief` guidance says it again."""
        if text in self.short_forms:
            return self.short_forms[text]
        # a short text is said whole: its first sentence alone ("One more.") says too little
        return text if len(text) <= BRIEF_CHARS else first_sentence(text)


def _exercise(line: _Timeline, exercise: Exercise, following: Exercise | None,
              short_forms: Mapping[str, str] = {}) -> None:
    """One exercise's chapter: name, setup, every set, side, rep and phase (or round of its
    flow), then the rest before `following` (none after the last exercise)."""
    cues = exercise.cues
    guide = _Guide(cues.guidance, short_forms)
    line.say(exercise.name)
    sides = exercise.sides or (None,)

    def fill(text: str | None, side: str | None) -> str | None:
        return fill_side(text, side, exercise.sides) if text else text

    for text in exercise.setup:
        line.say(fill(guide(text), sides[0]))
    plain = exercise.phases[0].say is None and not exercise.flow
    numbered = not plain or len(exercise.phases) > 1

    def again() -> None:
        line.silence(exercise.rep_rest_ms, "rep-rest")
        if plain and not cues.counts:  # phases announce each rep with their `say`
            line.say(AGAIN)

    previous_side = sides[0]
    for set_number in range(1, exercise.sets + 1):
        for side_number, side in enumerate(sides):
            first = set_number == 1 and side_number == 0
            switch = side != previous_side
            if switch:
                line.silence(cues.side_rest_ms, "side-rest")
                line.tone("switch")
            elif not first:
                if exercise.sides:
                    again()
                else:  # a new set of an exercise without sides
                    line.silence(cues.set_rest_ms, "set-rest")
            if exercise.sets > 1 and side_number == 0:
                line.say(count_text("Set", set_number, exercise.sets), label="count")
            if first and exercise.sides:
                line.say(start_side_text(side))
            elif switch:
                line.say(switch_side_text(side))
                if exercise.setup_each_side:
                    for text in exercise.setup:
                        line.say(fill(guide(text), side))
            previous_side = side
            if exercise.flow:
                _flow(line, exercise, side, set_number, guide, fill)
                continue
            for rep in range(1, exercise.reps + 1):
                if rep > 1:
                    again()
                if cues.counts and exercise.reps > 1:
                    line.say(count_text("Rep", rep, exercise.reps), label="count")
                for number, phase in enumerate(exercise.phases, start=1):
                    said = guide(phase.say)
                    if phase.say and said is None:  # `minimal`: a tone says "now"
                        marker = next((name for name in MARKERS if line.sound_ms[name]), None)
                        if marker:
                            line.tone(marker)
                        else:  # no sound to play: the short form, rather than nothing
                            said = guide.brief(phase.say)
                    line.say(fill(said, side))
                    during = fill(guide(phase.during), side)
                    # a reminder is said again within the hold: as guidance says repeats
                    reminder = fill(guide.again(phase.during), side) if during else None
                    start, end = line.hold(replace(phase, during=during), phase.cues or cues,
                                           reminder)
                    line.holds.append(Hold(exercise.id, side, set_number, rep,
                                           number if numbered else None, start, end,
                                           move=phase.move))
    if following is None:
        return
    announce = next_text(following.name, following.equipment) \
        if cues.announce_next is not False else None
    announce_ms = line.speech_ms(announce) if announce else 0
    if announce and announce_ms + MIN_QUIET_MS <= exercise.rest_ms:
        line.add("speech", announce_ms, text=announce, label="next")
        line.silence(exercise.rest_ms - announce_ms, "rest")
    else:
        line.say(announce if cues.announce_next is True else None, label="next")
        line.silence(exercise.rest_ms, "rest")


def _flow(line: _Timeline, exercise: Exercise, side: str | None, set_number: int,
          guide: _Guide, fill: Callable[[str | None, str | None], str | None]) -> None:
    """The rounds of a breath-paced flow on one side: each move spoken as its breath begins
    and lasting its breaths; no tones between moves, one end tone when the flow ends."""
    cues = exercise.cues
    line.settle(cues.settle_ms)
    for rep in range(1, exercise.reps + 1):
        for number, move in enumerate(exercise.flow, start=1):
            start = line.now
            text = fill(guide(move.say, keep=True), side)
            line.add("speech", line.speech_ms(text), text=text)
            line.add("silence", max(start + move.breaths * exercise.breath_ms - line.now,
                                    PAUSE_MS), label="move")
            line.holds.append(Hold(exercise.id, side, set_number, rep, number, start,
                                   line.now, move=True))
    if cues.end_tone:
        line.tone("end")


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


def plan_to_dict(plan: Plan, changes: Sequence[Change] = ()) -> dict:
    """The plan as `routinecast plan --json` prints it; `overrides` lists `changes`."""

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
        "overrides": [asdict(c) for c in changes],
    }


def plan_to_json(plan: Plan, changes: Sequence[Change] = ()) -> str:
    return json.dumps(plan_to_dict(plan, changes), indent=2, ensure_ascii=False)


DURATION_KEYS = ("hold", "rest", "remind_every", "side_rest", "settle", "countdown_min",
                 "set_rest", "length")
TONE_ROWS = {"switch": "tone: switch sides", "halfway": "tone: halfway", "count": "beep"}
"""Tones the plan table shows (the end tone after every hold goes without saying)."""
CHANGED = "*"
"""Marks a value in the plan table that an override changed."""


def show_value(key: str, value: Any) -> str:
    """A routine value as the plan table shows it."""
    if isinstance(value, tuple):  # a range, before a level or length chose from it
        return "-".join(show_value(key, end) for end in value)
    if key in DURATION_KEYS and isinstance(value, int):
        return describe_ms(value) if value else "off"
    if isinstance(value, bool):
        return "on" if value else "off"
    return str(value) if value is not None else "default"


def format_changes(changes: Sequence[Change]) -> str:
    """One line per change: what, from, to, and which override did it."""
    rows = []
    for c in changes:
        what = c.key.replace("_", "-") + (f" (phase {c.phase})" if c.phase else "")
        rows.append((c.exercise_id or "all exercises", what,
                     f"{show_value(c.key, c.before)} → {show_value(c.key, c.after)}", c.origin))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    return "\n".join(f"  {a:<{widths[0]}}  {b:<{widths[1]}}  {v:<{widths[2]}}  {o}"
                     for a, b, v, o in rows)


def format_table(plan: Plan, changes: Sequence[Change] = ()) -> str:
    """A readable timeline: time, chapter, and what is said or held; the total at the end.
    Values that `changes` made are marked, and listed first."""
    leaves = plan.leaf_chapters()
    changed_holds = {(c.exercise_id, c.phase) for c in changes if c.key == "hold"}
    changed_rests = {c.exercise_id for c in changes if c.key == "rest"}
    holds = list(plan.holds)
    rows: list[tuple[int, str]] = []
    segments = plan.segments
    for index, segment in enumerate(segments):
        while holds and holds[0].start_ms <= segment.start_ms:
            hold = holds.pop(0)
            detail = [f"{hold.side} side" if hold.side else "", f"set {hold.set}",
                      f"rep {hold.rep}", f"phase {hold.phase}" if hold.phase else ""]
            mark = CHANGED if (hold.exercise_id, hold.phase) in changed_holds else ""
            if hold.move and segment.kind == "speech":  # a flow: rounds of moves
                detail[2:] = [f"round {hold.rep}", f"move {hold.phase}"]
            rows.append((hold.start_ms, f"{'move' if hold.move else 'hold'} "
                                        f"{describe_ms(hold.end_ms - hold.start_ms)}{mark} "
                                        f"({', '.join(d for d in detail if d)})"))
        following = segments[index + 1] if index + 1 < len(segments) else None
        if segment.label == "next" and following and following.label == "rest":
            continue  # said inside the rest: shown on the rest's row
        if segment.kind == "speech":
            text = segment.text if len(segment.text) <= TABLE_TEXT else \
                segment.text[: TABLE_TEXT - 1].rstrip() + "…"
            rows.append((segment.start_ms, f"“{text}”"))
        elif segment.label in ("rest", "rep-rest", "set-rest", "side-rest"):
            start, said = segment.start_ms, ""
            previous = segments[index - 1]
            if segment.label == "rest" and previous.label == "next":
                start, said = previous.start_ms, f", “{previous.text}”"
            mark = CHANGED if segment.label == "rest" and \
                _leaf_at(leaves, start).id in changed_rests else ""
            rows.append((start, f"{segment.label} {describe_ms(segment.end_ms - start)}{mark}"
                                f"{said}"))
        elif segment.kind == "tone" and segment.label in TONE_ROWS:
            rows.append((segment.start_ms, TONE_ROWS[segment.label]))

    width = max(len(c.title) for c in leaves)
    lines = []
    if changes:
        lines += ["overrides (command line over profile over routine file):",
                  format_changes(changes), ""]
    lines += [f"{'time':>8}  {'chapter':<{width}}  what", f"{'':->8}  {'':-<{width}}  ----"]
    shown = None
    for start, what in rows:
        leaf = _leaf_at(leaves, start)
        lines.append(f"{format_ms(start):>8}  {leaf.title if leaf is not shown else '':<{width}}"
                     f"  {what}")
        shown = leaf
    lines.append(f"total {format_ms(plan.duration_ms)} ({len(leaves)} chapters, "
                 f"{len(plan.holds)} holds)"
                 + (f"; {CHANGED} marks values the overrides changed" if changes else ""))
    return "\n".join(lines)


def _leaf_at(leaves: Sequence[Chapter], ms: int) -> Chapter:
    return next((c for c in leaves if c.start_ms <= ms < c.end_ms), leaves[-1])
