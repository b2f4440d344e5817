"""`routinecast draft`: an article about stretches (plain text, Markdown, a saved HTML page or
a URL) to a routine file for its author to review.

Deterministic and offline: the meaning of words comes from one table of rules (rules.py),
the shape of the text from parse.py, a page's main text from extract.py (trafilatura), a URL
from fetch.py (urllib, with a timeout and a size cap). Every value drafted carries a YAML
comment quoting the article's words and their line, or saying it is the format's default.
"""

from __future__ import annotations

import re
import unicodedata
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..errors import InputError, RoutinecastError
from . import rules
from .fetch import MAX_BYTES, TIMEOUT, FetchError, Source, read_source
from .parse import Block, Sentence, parse

__all__ = ["draft", "Draft", "FetchError", "draft_text"]

DEFAULT_HOLD = "30s"
"""The format's default hold (`defaults.hold`), written where the article gives none."""
RETURN_HOLD = "5s"
"""The time given to steps that follow a hold ("Now slowly come back up"), when the
article gives none."""
MAX_EXERCISES = 250
"""Exercises in one draft (a table of chapters holds 253 with the introduction and closing)."""
MAX_TEXT = 600
"""A drafted spoken text is cut at a sentence end under this many characters."""

# -- the vocabulary of instructions -------------------------------------------------------------

VERBS = rules.VERBS
POSITION_VERBS = rules.POSITION_VERBS
EXERCISE_WORDS = rules.pattern("exercise-word")
NOT_EXERCISE = rules.pattern("not-exercise")
FIRST_PERSON = rules.pattern("first-person")
SECOND_PERSON = rules.pattern("second-person")
FILLER = rules.pattern("filler")
HOLDING = rules.pattern("hold-context")
NOT_HOLD = rules.pattern("not-hold")
NAMED_LIST = rules.pattern("named-list")
RIGHT_THEN_LEFT = rules.pattern("sides-right-then-left")
SIDE_NAMED = rules.pattern("side-named")
HOLD_FIRST = rules.pattern("hold-first")
HOLD_WORD = rules.pattern("hold-word")
HOLD_AGAIN = rules.pattern("hold-again")
SAID_TO_YOU = rules.pattern("said-to-you")
DURING_STEP = rules.pattern("during-step")
SIDE_TALK = rules.pattern("side-talk")
BOTH_WAYS = rules.pattern("both-ways")
FREQUENT = rules.pattern("frequency-context")
SENSATION = rules.pattern("sensation")
RETURN = rules.pattern("return")
BREATH_PACING = rules.pattern("breath-pacing")
NOT_AN_INSTRUCTION = rules.pattern("not-an-instruction")
FREQUENCY_ONE = rules.pattern("frequency-one")
STEPS_ELSEWHERE = rules.pattern("steps-elsewhere")
ADVICE = rules.pattern("advice")


@dataclass
class Value:
    """One drafted value and where it came from."""

    value: object
    words: str | None = None
    """The article's words, quoted in the comment; None: defaulted."""
    line: int | None = None
    note: str | None = None


@dataclass
class Phase:
    say: list[Sentence]
    hold: Value
    during: list[Sentence] = field(default_factory=list)


@dataclass
class Exercise:
    name: Value
    setup: list[Sentence] = field(default_factory=list)
    hold: Value | None = None
    during: list[Sentence] = field(default_factory=list)
    phases: list[Phase] = field(default_factory=list)
    flow: list[Sentence] = field(default_factory=list)
    """Moves paced by the breath: the steps of a list repeated with no hold between them."""
    reps: Value | None = None
    sets: Value | None = None
    sides: Value | None = None
    equipment: list[Value] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    defaulted: list[str] = field(default_factory=list)
    left_out: list[Sentence] = field(default_factory=list)
    """The article's sentences read for this exercise that gave it nothing (not said, no
    value, no note): each written as a comment under it, and counted in the summary."""
    to_write: str | None = None
    """Why the steps are a placeholder for the author to write (`_placeholder`), said in a
    comment above them; None when the article gives the steps."""


@dataclass
class Draft:
    """A drafted routine: its file text, and what the drafter found."""

    text: str
    title: str
    slug: str
    exercises: list[Exercise]
    summary: str
    source: str
    defaulted: list[str]
    routine: object = None
    """The draft as the routine loader reads it (a `Routine`), once validated."""

    @property
    def names(self) -> list[str]:
        return [str(e.name.value) for e in self.exercises]


# -- sentences ----------------------------------------------------------------------------------


@dataclass
class Said:
    """A sentence of the article, read."""

    sentence: Sentence
    text: str
    """Reworded for the listener ("" when nothing of it is said)."""
    kind: str
    """`step` (an instruction), `feel` (said to "you", not an instruction), `background`."""
    holds: list[rules.Found]
    counts: dict[str, rules.Found]
    hold_first: bool = False
    """The hold comes first ("Hold for 20 seconds and straighten up"): the rest of the
    sentence is done after the hold."""


def _clean(text: str) -> str:
    text = "".join(c for c in text if unicodedata.category(c) not in ("Cc", "Cf", "Co", "Cs")
                   or c in "\t\n")
    text = re.sub(r"&#?\w{1,30};", " ", text)  # entity references a page left unexpanded
    text = text.replace("{", "(").replace("}", ")")  # braces are the format's placeholders
    text = re.sub(r"\s+", " ", text).strip()
    text = re.sub(r"\([^)]{40,}\)", "", text)  # long asides in brackets
    text = re.sub(r"\b([A-Z]{3,})\b", lambda m: m[1].lower() if m[1] not in ("IT",) else m[1],
                  text)  # SHOUTING
    text = re.sub(r"\s+([,.;:!?])", r"\1", text)
    text = re.sub(r"([,;:])(?=[.!?])", "", text)
    text = re.sub(r"\s*(?:…|\.\.\.)+\s*$", ".", text)
    text = re.sub(r"\s*(?:…|\.\.\.)+\s*(?=\S)", ", ", text)  # "thighs… bring" → "thighs, bring"
    text = re.sub(r"\s*[-–—]+\s*$", "", text)
    text = text.strip(" ,;:-–—")
    return text


def _sentence(text: str) -> str:
    """`text` as one spoken sentence: capital first, a full stop at the end."""
    text = _clean(rules.reword(_clean(text)))
    if not text:
        return ""
    text = text[0].upper() + text[1:]
    if not text.endswith((".", "!", "?")):
        text += "."
    text = re.sub(r"!+$", ".", text)
    return text


def _imperative(text: str, advice: bool = True) -> bool:
    """"Kneel on the mat.", "Now, gently pull …", "First, with a chair beside you, kneel …";
    with `advice` false, a clause of advice ("make sure you have a chair in front of you",
    "so don't rush into it") is no instruction."""
    text = text.strip(" \"“")
    clauses = [text] + [part for part in text.split(", ")[1:4]]
    for clause in clauses:
        rest = FILLER.sub("", clause)
        first = re.match(r"[A-Za-z']+", rest)
        if not first or (not advice and ADVICE.match(rest)):
            continue
        word = first[0].lower()
        if word in ("don't", "do") and re.match(r"(?i)do(?:n't| not)\s+\w+", rest):
            return True
        if word in VERBS:
            return True
    return False


def second_person(text: str) -> bool:
    """An instruction, or a sentence said to "you", with no "I" or "we" in it."""
    if FIRST_PERSON.search(text) or text.rstrip().endswith("?"):
        return False
    return _imperative(text) or bool(SECOND_PERSON.search(text))


def _holds(text: str) -> list[rules.Found]:
    found = [f for f in rules.find("hold", text)]
    if not found or not HOLDING.search(text):
        return []
    if rules.matches("frequency", text) and not HOLD_WORD.search(text):
        return []
    kept = []
    for f in found:
        before = text[max(0, f.match.start() - 60):f.match.start()]
        if NOT_HOLD.search(before) and not HOLD_AGAIN.search(before):
            continue
        kept.append(f)
    return kept


def read_sentence(sentence: Sentence) -> Said:
    raw = sentence.text
    shouted = next((f for f in rules.find("shouted-step", raw) if f.value), None)
    if shouted is not None and re.search(r"[a-z]\s+$", raw[:shouted.match.start()]):
        # "… with only your bodyweight FLEX YOUR THIGH MUSCLES": the instruction is a clause
        raw = f"{raw[:shouted.match.start()].rstrip()}, {raw[shouted.match.start():]}"
    text = rules.reword(_clean(raw)) or raw
    holds = [f for f in _holds(text) if _sane(f)]
    counts: dict[str, rules.Found] = {}
    for name in ("sets", "reps", "sides"):
        found = [f for f in rules.find(name, text) if _sane(f)]
        if name == "sides":
            found = [f for f in found if not _both_ways(f, text)]
        if found:
            counts[name] = found[0]
    # what is said: the sentence without its timing words
    said = text
    hold_first = False
    timing = [f.match for f in holds] + [f.match for n, f in counts.items() if n != "sides"]
    if timing:
        first = min(m.start() for m in timing)
        lead = text[:first]
        hold_first = bool(HOLD_FIRST.search(lead))
        said = _strip_timing(text, timing)
    kind = "background"
    if rules.matches("skip", text) or text.rstrip().endswith("?"):
        kind = "background"
    elif rules.matches("aside", text):
        kind = "aside"
    elif FIRST_PERSON.search(text) or NOT_AN_INSTRUCTION.search(text):
        kind = "background"
    elif _imperative(text) or shouted is not None:
        kind = "step"
    elif _to_you(text):
        kind = "feel"
    if "sides" in counts and SIDE_TALK.search(text) and counts["sides"].rule.id != "sides-each":
        # "Repeat with the left leg": the format's sides say it; what came before that
        # clause may still be a step ("Draw circles with the knee, then switch legs")
        side = counts["sides"].match
        before = text[:side.start()]
        cut = max(before.rfind(", "), before.lower().rfind(" and "), before.lower().rfind(" then "))
        before = before[:cut] if cut >= 0 else ""
        kept = _strip_timing(before, [m for m in timing if m.end() <= len(before)])
        said = kept if _words(kept) >= 3 and _imperative(kept) and not hold_first else ""
    elif hold_first and said:
        after = text[max(m.end() for m in timing):]
        said = _imperative_of(_strip_timing(
            re.sub(r"^\W*(?:and|then)?\s*(?:then\s+)?", "", after), []))
        if "sides" in counts and SIDE_TALK.search(said):
            said = ""
    if said and "sides" in counts and counts["sides"].rule.id == "sides-right-then-left":
        said = _first_side(said)
    return Said(sentence, said, kind, holds, counts, hold_first)


def _both_ways(found: rules.Found, text: str) -> bool:
    """Whether `found` ("to the right …, then to the left") is one movement turning both ways
    rather than a side each: "Rotate your trunk to the right, then to the left" is done in
    both directions in every rep, so it has no sides and is said whole; "Lean to the right and
    hold, then lean to the left" holds each side, and keeps them, as does a sentence that
    holds after both directions ("…, then to the left, holding each side for 20 seconds":
    the row's end) or says to hold at all ("Hold the stretch as you lean …")."""
    if found.rule.id != "sides-right-then-left" or HOLD_WORD.search(text):
        return False
    return any(m.start() < found.match.end() and found.match.start() < m.end()
               for m in BOTH_WAYS.finditer(text))


def _first_side(text: str) -> str:
    """A step done on one side and then the other, for its first side only: the format's
    sides repeat it ("Lean to the right and hold, then lean to the left and hold" → "Lean to
    the right and hold"; "Slide your right arm under, first on the right and then on the
    left" → "Slide your right arm under")."""
    m = RIGHT_THEN_LEFT.search(text)
    if not m:
        return text
    then = list(re.finditer(r"\bthen\b", m[0], re.IGNORECASE))[-1]
    kept = re.sub(r"[\s,;]*(?:\band\b)?[\s,;]*$", "", text[:m.start() + then.start()])
    named = list(SIDE_NAMED.finditer(kept))
    if named and named[-1]["after"] and not kept[named[-1].end():].strip():
        # "…, first on the right": left out when the side is named before ("your right arm")
        before = re.sub(r",?\s*\bfirst\s*$", "", kept[:named[-1].start()], flags=re.IGNORECASE)
        kept = before if len(named) > 1 else f"{before} {kept[named[-1].start():]}"
    return kept.strip()


def _to_you(text: str) -> bool:
    """Said to "you" without being an instruction: "You should feel this in your hip.",
    "Your back should be rounded." (not "Your hamstrings are the muscles …")."""
    return bool(SAID_TO_YOU.search(FILLER.sub("", text.strip(" \"“"))) or SAID_TO_YOU.search(text))


MAX_HOLD_S = 2 * 60 * 60
MAX_COUNT = 1000
"""The format's limits: a value outside them is no reading of the article ("hold for 0
seconds", "repeat 100000 times") and is left out, so the draft says it defaulted instead."""


def _sane(found: rules.Found) -> bool:
    value = found.value
    if found.rule.field == "hold":
        seconds = _seconds(value)
        return seconds is not None and seconds[0] > 0 and seconds[1] <= MAX_HOLD_S
    if found.rule.field in ("reps", "sets") and value is not None:
        lo, _, hi = str(value).partition("-")
        return 1 <= int(lo) <= MAX_COUNT and 1 <= int(hi or lo) <= MAX_COUNT
    return True


def _strip_timing(text: str, spans: list[re.Match]) -> str:
    """`text` without its timing words, or "" when only timing (and filler) was in it."""
    out = text
    for m in sorted(spans, key=lambda m: m.start(), reverse=True):
        out = out[:m.start()] + " " + out[m.end():]
    # the words left around a removed duration
    out = re.sub(r"\b(?:for|of|about|around|roughly|approximately|up to)\s+(?=[,.;]|$|and\b|then\b)",
                 "", out, flags=re.IGNORECASE)
    out = re.sub(r"\b(?:each|per)\s+(?=[,.;]|$)", "", out, flags=re.IGNORECASE)
    out = re.sub(r"\bfor\s+(?=(?:on\s+)?(?:each|either|every|per)\b)", "", out, flags=re.IGNORECASE)
    out = re.sub(r"\b(?:sets|reps|times)\b", "", out, flags=re.IGNORECASE)
    out = re.sub(r"\s+", " ", out).strip()
    leftovers = re.sub(
        r"\b(?:hold|holding|stay|this|that|the|it|position|stretch|in|for|and|then|repeat|do|"
        r"perform|each|side|a|an|of|or|so|about|press|count|keep|these|those|procedure|"
        r"sequence|times?|more|release|slow|same|on|at|least|exercise|pose|remain|there|here|"
        r"again|before|moving|with|breathing|slowly|deeply|throughout)\b|[\W\d]",
        "", out, flags=re.IGNORECASE)
    if len(leftovers.strip()) < 4:
        return ""
    out = re.sub(r",?\s*(?:and\s+)?(?:then\s+)?repeat(?:\s+(?:this|the|that|these)\s+\w+)?\s*"
                 r"(?=[.!]?$)", "", out, flags=re.IGNORECASE)
    out = re.sub(r"^(?:and|then|,)\s+", "", out, flags=re.IGNORECASE)
    out = re.sub(r"\s*,\s*(?:and\s+)?(?=[.!]?$)", "", out)
    return out


# -- exercises ----------------------------------------------------------------------------------


def _name_from(heading: str) -> str:
    name = _clean(_plain_name(heading))
    if len(name) > MAX_NAME:
        name = name[:MAX_NAME].rsplit(" ", 1)[0]
    return name if re.search(r"[^\W_]", name) else ""


MAX_NAME = 80
"""Characters in a drafted exercise name (a heading can be a whole paragraph)."""


def _plain_name(heading: str) -> str:
    name = re.sub(r"\s*\([^)]*\)", "", heading).strip()
    name = re.sub(r"^(?:[A-H]|\d{1,2})\s*(?:\.\)|[.)])\s+", "", name)
    generic = rules.first("heading", name)
    if generic is not None and generic.rule.id == "heading-generic" and generic.value:
        name = str(generic.value)
    name = name.strip(" -–—:.#")
    parts = re.split(r"\s+[-–—]\s+", name)
    if len(parts) > 1 and _words(" ".join(parts[1:])) <= 4 and parts[1].strip():
        extra = re.sub(r"^the\s+", "", " ".join(p.strip(" -–—") for p in parts[1:]),
                       flags=re.IGNORECASE)
        name = f"{parts[0]} ({extra})" if extra else parts[0]
    name = re.sub(r"^the\s+", "", name, flags=re.IGNORECASE)
    name = rules.reword(name, "name-reword")
    if name and name == name.lower():
        name = name.title().replace("'S", "'s")
    return name.strip() or heading.strip()


def _words(text: str) -> int:
    return len(text.split())


def _generic(heading: str) -> bool:
    found = rules.first("heading", heading)
    return found is not None and found.rule.id == "heading-generic" and not found.value


def _exercise_heading(heading: str) -> bool:
    return (bool(EXERCISE_WORDS.search(heading)) or _generic(heading)) \
        and not NOT_EXERCISE.search(heading)


def _known_name(said: list[Said]) -> rules.Found | None:
    text = " ".join(s.sentence.text for s in said if s.kind in ("step", "feel"))
    return rules.first("name", text[:2000])


class _Drafter:
    def __init__(self, origin: str):
        self.origin = origin
        self.cautions: list[Value] = []
        self.frequencies: list[Value] = []

    # an exercise from the sentences that describe it
    def exercise(self, name: Value, said: list[Said]) -> Exercise | None:
        """The exercise these sentences describe: each hold closes a phase whose `say` is
        what came since the hold before; what follows the last hold comes back up."""
        if _steps_elsewhere(said):
            return self.steps_to_write(name, said)
        ex = Exercise(name)
        phases: list[Phase] = []
        pending: list[Said] = []
        coming: list[Sentence] = []  # sensations said before the hold they belong to
        for s in said:
            _take_counts(ex, s)
            if s.kind == "aside":
                ex.notes.append(_sentence(s.sentence.text))
                continue
            spoken = bool(s.text) and s.kind in ("step", "feel")
            if s.holds:
                found = s.holds[0]
                hold = Value(found.value, found.words, s.sentence.line)
                if spoken and not s.hold_first:
                    pending.append(s)
                if pending or not phases:
                    phases.append(Phase([Sentence(_sentence(x.text), x.sentence.line)
                                         for x in pending if _sentence(x.text)], hold, coming))
                    pending, coming = [], []
                if spoken and s.hold_first:
                    pending.append(s)
                continue
            if not spoken:
                continue
            sentence = Sentence(_sentence(s.text), s.sentence.line)
            if s.kind == "feel" and SENSATION.search(s.text):
                if phases and not pending and not phases[-1].during:
                    phases[-1].during = [sentence]
                elif pending and not coming:
                    coming = [sentence]
                continue
            pending.append(s)
        trailing = [Sentence(_sentence(x.text), x.sentence.line) for x in pending
                    if x.kind == "step" and _sentence(x.text)]
        if not phases:
            setup = [Sentence(_sentence(x.text), x.sentence.line) for x in pending
                     if _sentence(x.text)]
            if not setup or not any(x.kind == "step" for x in pending):
                return None
            ex.setup = setup
            moves = _moves(pending)
            if ex.reps is not None and ex.reps.value not in (None, 1) and len(moves) < 2:
                steps = [Sentence(_sentence(x.text), x.sentence.line) for x in pending
                         if x.kind == "step" and _sentence(x.text)]
                moves = steps[1:] if len(steps) > 1 else steps
            if moves and ex.reps is not None and ex.reps.value not in (None, 1):
                # a repeated sequence of listed movements with no hold: a flow, a breath a move
                ex.setup = [Sentence(_sentence(x.text), x.sentence.line) for x in pending
                            if (not x.sentence.item or BREATH_PACING.search(x.text))
                            and _sentence(x.text)
                            and not any(_sentence(x.text) in m.text for m in moves)
                            and not any(m.text in _sentence(x.text) for m in moves)]
                ex.flow = moves
                ex.defaulted.append("pace of the flow")
                return self.finish(ex, said)
            ex.hold = Value(DEFAULT_HOLD, None, None, "the format's default: the article "
                                                     "gives no time")
            ex.defaulted.append("hold")
            if len(ex.setup) > 1 and DURING_STEP.search(ex.setup[-1].text):
                ex.during = [ex.setup.pop()]
            elif coming:
                ex.during = coming
        else:
            repeated = any(v is not None and v.value not in (None, 1) for v in (ex.reps, ex.sets))
            returning = bool(trailing) and (repeated or any(RETURN.search(t.text) for t in trailing)
                                            or len(phases) > 1)
            if trailing and not returning:
                phases[-1].say += trailing
            if len(phases) == 1 and not returning:
                ex.setup, ex.hold, ex.during = phases[0].say, phases[0].hold, phases[0].during
            else:
                first = phases[0]
                ex.setup = first.say[:-1]
                ex.phases = [Phase(first.say[-1:], first.hold, first.during)] + phases[1:]
                if returning:
                    ex.phases.append(Phase(trailing, Value(
                        RETURN_HOLD, None, None, "defaulted: time for the steps after the hold")))
                    ex.defaulted.append("hold of the last phase")
                merged: list[Phase] = []
                for phase in ex.phases:  # a phase with nothing to say is the one before it again
                    if not phase.say and merged:
                        continue
                    merged.append(phase)
                ex.phases = merged
                if len(ex.phases) == 1:
                    only = ex.phases[0]
                    ex.setup += only.say
                    ex.hold, ex.during, ex.phases = only.hold, only.during, []
        return self.finish(ex, said)

    def steps_to_write(self, name: Value, said: list[Said]) -> Exercise:
        """An exercise whose steps are in a video: a placeholder for its author to write
        them, with the hold and counts the article gives. What the article does say of it (a
        tip, a word of care that the table does not read as a caution; those it does read are
        in the intro already) is kept in its notes, not said: with no steps to go with, it
        would be said as if it were the stretch, and it is advice for whoever writes them."""
        ex = Exercise(name)
        for s in said:
            _take_counts(ex, s)
            if s.kind == "aside":
                ex.notes.append(_sentence(s.sentence.text))
            elif s.kind in ("step", "feel") and _sentence(s.text):
                ex.notes.append(_sentence(s.text))
        _first_hold(ex, next((s for s in said if s.holds), None))
        _placeholder(ex, name.line, "the article gives no steps (a video?): write them")
        return self.finish(ex, said)

    def finish(self, ex: Exercise, said: list[Said]) -> Exercise:
        name = ex.name
        ex.left_out = _left_out(ex, said)
        if ex.reps is not None and ex.reps.value is None:
            ex.reps = Value(5, None, ex.reps.line, f"defaulted: the article says "
                                                   f"\"{ex.reps.words}\" without a number")
            ex.defaulted.append("reps")
        if ex.sides is not None:
            ex.sides.value = self.sides(ex)
            if isinstance(ex.sides.value, list):
                ex.sides.note = f"the steps start on the {ex.sides.value[0]}"
        text = " ".join(s.sentence.text for s in said if s.kind != "background")
        seen = set()
        for found in rules.find("equipment", text):
            if found.value not in seen:
                seen.add(found.value)
                line = next((s.sentence.line for s in said if found.words.lower()
                             in s.sentence.text.lower()), None)
                ex.equipment.append(Value(found.value, found.words, line))
        if not ex.setup and not ex.phases and not ex.flow:
            _placeholder(ex, name.line, "the article gives no steps: write them")
            ex.notes.append("The article gives no steps for this stretch; write them here.")
        return ex

    @staticmethod
    def sides(ex: Exercise) -> object:
        """`[right, left]` or `[left, right]` when the steps name the side they start on,
        each side word then written `{side}` or `{other side}` (filled per side), so that no
        side is said for the other; `True` (left, then right) when they name none."""
        sentences = [*ex.setup, *ex.during, *(s for p in ex.phases for s in (*p.say, *p.during)),
                     *ex.flow]
        named = [found for s in sentences for found in rules.find("side-named", s.text)]
        if not named:
            return True
        first = str(named[0].value)

        def placeholder(m: re.Match) -> str:
            group = "after" if m["after"] else "before"
            word = "{side}" if m[group].lower() == first else "{other side}"
            return m[0][:m.start(group) - m.start()] + word + m[0][m.end(group) - m.start():]

        for sentence in sentences:
            sentence.text = SIDE_NAMED.sub(placeholder, sentence.text)
        return [first, "left" if first == "right" else "right"]


def _placeholder(ex: Exercise, line: int | None, why: str) -> None:
    """Steps for the author to write: "Get into position for the …", so that the draft still
    validates and builds, under a comment saying `why`, and counted in the summary as a value
    defaulted ("steps of T Stretch")."""
    ex.setup = [Sentence(f"Get into position for the {ex.name.value}.", line or 0)]
    ex.defaulted.insert(0, "steps")
    ex.to_write = why


def _first_hold(ex: Exercise, timed: Said | None) -> None:
    """`ex` holds for the first time sentence `timed` gives, or the format's default (said
    to be one) when no sentence gives a time."""
    if timed is not None:
        ex.hold = Value(timed.holds[0].value, timed.holds[0].words, timed.sentence.line)
    else:
        ex.hold = Value(DEFAULT_HOLD, None, None, "the format's default: the article gives "
                                                  "no time")
        ex.defaulted.append("hold")


def _take_counts(ex: Exercise, s: Said) -> None:
    """The reps, sets and such that sentence `s` gives `ex`, where nothing before gave them:
    the first the article says is the one it means."""
    for key, found in s.counts.items():
        if getattr(ex, key) is None:
            setattr(ex, key, Value(found.value, found.words, s.sentence.line))


def _steps_elsewhere(said: list[Said]) -> bool:
    """The exercise's steps are somewhere else (a video): its sentences send the reader
    there, and none of them instructs anything but advice ("Make sure you have some support
    in front of you", "Don't rush into it" are advice, not the stretch). A step of any verb
    the rules know is the stretch's own, not only one that puts the body somewhere ("Tilt
    your head toward your right shoulder …" beside "You can watch the video below" is kept)."""
    return any(STEPS_ELSEWHERE.search(s.sentence.text) for s in said) and not any(
        s.kind == "step" and s.text and _imperative(s.text, advice=False) for s in said)


def _left_out(ex: Exercise, said: list[Said]) -> list[Sentence]:
    """The sentences of `said` that gave `ex` nothing: not said in it, no hold, count or
    side, no note, no equipment."""
    spoken = [s.text for s in (*ex.setup, *ex.during, *ex.flow)] \
        + [s.text for phase in ex.phases for s in (*phase.say, *phase.during)] + ex.notes
    out: dict[tuple[int, str], Sentence] = {}
    for s in said:
        if s.holds or s.counts or s.kind == "aside":
            continue
        text = _sentence(s.text) if s.text else ""
        if text and any(text in t for t in spoken):
            continue
        if s.kind != "background" and rules.find("equipment", s.sentence.text):
            continue
        out.setdefault((s.sentence.line, s.sentence.text), s.sentence)
    return list(out.values())


BREATH_MOVE = rules.pattern("breath-move")


def _moves(said: list[Said]) -> list[Sentence]:
    """The movements of a flow: the list items among `said`, one move per item (its
    sentences joined); or, in prose, the steps that begin with a breath ("Breathe out and
    round your back")."""
    moves: dict[int, list[str]] = {}
    for x in said:
        if x.sentence.item and _sentence(x.text) and not BREATH_PACING.search(x.text):
            moves.setdefault(x.sentence.line, []).append(_sentence(x.text))
    if len(moves) >= 2:
        return [Sentence(" ".join(texts), line) for line, texts in moves.items()]
    return [Sentence(_sentence(x.text), x.sentence.line) for x in said
            if x.kind == "step" and BREATH_MOVE.search(x.text) and _sentence(x.text)
            and not BREATH_PACING.search(x.text)]


def _said_all(sentences: list[Sentence], drafter: _Drafter) -> list[Said]:
    """Reads each sentence; cautions and frequencies go to the drafter."""
    out = []
    for sentence in sentences:
        said = read_sentence(sentence)
        text = sentence.text
        caution = rules.first("caution", text)
        if caution is not None and not (said.kind == "step" and _position(text)):
            if not said.holds:
                drafter.cautions.append(Value(_caution_text(text, caution), caution.words,
                                              sentence.line))
                continue
        frequency = rules.first("frequency", text)
        if frequency is not None and FREQUENT.search(text) and not FREQUENCY_ONE.search(text):
            for found in rules.find("frequency", text):
                drafter.frequencies.append(Value(found.value, found.words, sentence.line))
            stripped = _strip_frequency(text, frequency)
            if stripped is None:
                continue
            said = read_sentence(Sentence(stripped, sentence.line, sentence.item, sentence.para))
        out.append(said)
    return out


def _position(text: str) -> bool:
    rest = FILLER.sub("", text)
    first = re.match(r"[A-Za-z']+", rest)
    return bool(first) and first[0].lower() in POSITION_VERBS


_GERUNDS = {"lying": "lie", "placing": "place", "raising": "raise", "releasing": "release",
            "rotating": "rotate", "breathing": "breathe", "squeezing": "squeeze",
            "sliding": "slide", "moving": "move", "using": "use", "taking": "take",
            "sitting": "sit", "hugging": "hug", "tucking": "tuck"}


def _imperative_of(text: str) -> str:
    """"pedalling your heels gently" → "pedal your heels gently"."""
    m = re.match(r"^(\w+)ing\b(.*)$", text, re.IGNORECASE | re.DOTALL)
    if not m:
        return text
    word = f"{m[1]}ing".lower()
    base = _GERUNDS.get(word)
    if base is None:
        base = m[1].lower()
        if len(base) > 2 and base[-1] == base[-2] and base[-1] not in "lsz":
            base = base[:-1]
        elif len(base) > 3 and base.endswith("ll") and base[-3] in "aeiou" and base[-4] in "aeiou":
            pass
        elif base.endswith("ll") and len(base) > 4 and base[:-2].endswith(("a", "e")):
            base = base[:-1]
    return base + m[2]


def _strip_frequency(text: str, found: rules.Found) -> str | None:
    """The instruction in a sentence that also says how often ("Start each morning by
    gently pulling one knee …" → "Gently pull one knee …"); None if there is none."""
    m = re.match(rf"^(?:start|begin)\s+{re.escape(found.words)}\s+by\s+(?P<adverb>\w+ly\s+)?"
                 rf"(?P<verb>\w+ing)\b(?P<rest>.*)$", text, re.IGNORECASE)
    if m:
        verb = m["verb"].lower()
        verb = _GERUNDS.get(verb, verb[:-3])
        return f"{(m['adverb'] or '').strip()} {verb}{m['rest']}".strip()
    rest = (text[:found.match.start()] + text[found.match.end():]).strip()
    if _position(rest) and not FIRST_PERSON.search(rest):
        return re.sub(r"\s+", " ", rest)
    return None


def _caution_text(text: str, found: rules.Found) -> str:
    said = _sentence(text)
    if second_person(said) and len(said) < 220 and not FIRST_PERSON.search(said):
        return said
    return {"caution-stop": "Stop if you feel pain.",
            "caution-doctor": "If you are unsure, ask your doctor before you start.",
            "caution-force": "Move carefully, and never force a stretch."}[found.rule.id]


def _timed(said: list[Said]) -> bool:
    return any(s.holds or "reps" in s.counts or "sets" in s.counts for s in said)


def _positioned(said: list[Said]) -> bool:
    return any(s.kind == "step" and _position(s.sentence.text) for s in said)


def _by_para(said: list[Said]) -> list[list[Said]]:
    paras: dict[int, list[Said]] = {}
    for s in said:
        paras.setdefault(s.sentence.para, []).append(s)
    return list(paras.values())


def _prose_exercises(said: list[Said], drafter: _Drafter,
                     heading: str | None = None, line: int | None = None) -> list[Exercise]:
    """Exercises in prose with no heading of their own: a paragraph with a hold or a count,
    split at each hold that is not the other side of the one before, with the paragraph
    before it when that one positions the body."""
    out: list[Exercise] = []
    paras = _by_para(said)
    used: set[int] = set()
    for index, para in enumerate(paras):
        if not _timed(para) or not any(s.kind == "step" for s in para):
            continue
        groups: list[list[Said]] = [[]]
        for s in para:
            if groups[-1] and any(x.holds for x in groups[-1]) and (
                    s.kind == "step" and not s.holds and not s.counts
                    and _position(s.sentence.text)):
                groups.append([])
            groups[-1].append(s)
        if index > 0 and index - 1 not in used and not _timed(paras[index - 1]) \
                and _positioned(paras[index - 1]):
            groups[0] = [s for s in paras[index - 1] if s.kind in ("step", "feel")] + groups[0]
        used.add(index)
        titled = heading is not None and len(groups) == 1 and _words(heading) <= 6 \
            and not NOT_EXERCISE.search(heading) and not rules.matches("skip", heading)
        for group in groups:
            known = _known_name(group)
            if known is not None:
                name = Value(known.value, known.words[:40], _line_of(group, known.words),
                             "the usual name of these steps")
            elif titled:
                name = Value(_name_from(heading), heading, line)
            else:
                name = Value(f"Stretch {len(out) + 1}", None, group[0].sentence.line,
                             "no name in the article: give it one")
            ex = drafter.exercise(name, group)
            if ex is not None and (ex.phases or "hold" not in ex.defaulted or ex.reps):
                out.append(ex)
    return out


def _line_of(said: list[Said], words: str) -> int | None:
    for s in said:
        if words.lower()[:20] in s.sentence.text.lower():
            return s.sentence.line
    return said[0].sentence.line if said else None


def _named_exercises(said: list[Said], drafter: _Drafter) -> list[Exercise]:
    """"static stretches like kneeling hip flexor stretch 90-90 hamstrings and t stretch …
    Perform each stretch for 30-60 seconds": one exercise per name, with the paragraph's hold."""
    out = []
    for s in said:
        m = NAMED_LIST.search(s.sentence.text)
        if not m:
            continue
        names = [n.strip(" ,") for n in re.split(
            r",\s*|\s+and\s+|\s+or\s+|(?<=stretch)\s+", m["list"], flags=re.IGNORECASE)]
        names = [n for n in names if n and _words(n) <= 5 and EXERCISE_WORDS.search(n)]
        if len(names) < 2:
            continue
        para = [x for x in said if x.sentence.para == s.sentence.para]
        hold = next((x for x in para if x.holds), None)
        for raw in names:
            name = raw if re.search(r"\b(?:stretch|pose|twist|bend)\b", raw, re.I) \
                else f"{raw} stretch"
            name = _title(_clean(name))[:MAX_NAME]
            ex = Exercise(Value(name, raw, s.sentence.line))
            _placeholder(ex, s.sentence.line, "the article names this stretch without its "
                                              "steps: write them")
            ex.notes.append("The article names this stretch without its steps; write them here.")
            _first_hold(ex, hold)
            out.append(ex)
    return out


def _title(name: str) -> str:
    small = {"and", "or", "to", "of", "the", "a", "on", "in", "with"}
    words = name.split()
    return " ".join(w if (i and w.lower() in small) or not w[:1].isalpha() or w.isupper()
                    else w[0].upper() + w[1:] for i, w in enumerate(words))


def _exercises(blocks: list[Block], drafter: _Drafter) -> list[Exercise]:
    out: list[Exercise] = []
    named_sentences: list[Said] = []
    for block in blocks:
        if len(out) > MAX_EXERCISES:
            break  # refused below; reading the rest would only take time
        said = _said_all(block.sentences, drafter)
        named_sentences += said
        heading = block.heading
        if heading is not None and (block.has_list or block.listed or _exercise_heading(heading)) \
                and not NOT_EXERCISE.search(heading):
            if rules.matches("skip", heading):
                continue
            if _generic(heading) or not _name_from(heading):
                known = _known_name(said)
                if known is not None:
                    name = Value(known.value, known.words[:40], _line_of(said, known.words),
                                 f"the usual name of these steps (heading \"{heading}\")")
                else:
                    name = Value(_name_from(heading), heading, block.line)
            else:
                name = Value(_name_from(heading), heading, block.line)
            if not block.has_list and sum(bool(s.holds) for s in said) > 1 \
                    and not _exercise_heading(heading):
                out += _prose_exercises(said, drafter, heading, block.line)
                continue
            steps = [s for s in said if s.kind in ("step", "feel") and s.text]
            if not steps:
                continue
            ex = drafter.exercise(name, said)
            if ex is not None:
                out.append(ex)
        else:
            if heading is not None and NOT_EXERCISE.search(heading):
                continue
            out += _prose_exercises(said, drafter, heading, block.line)
    out += _named_exercises(named_sentences, drafter)
    for number, ex in enumerate(out, 1):  # a heading of symbols only ("## ***")
        if not re.search(r"[^\W_]", str(ex.name.value)):
            ex.name = Value(f"Stretch {number}", None, ex.name.line,
                            "no name in the article: give it one")
    # one id per name
    seen: dict[str, int] = {}
    from ..routine import slugify
    for ex in out:
        slug = slugify(str(ex.name.value)) or "stretch"
        if slug in seen:
            seen[slug] += 1
            ex.name.value = f"{ex.name.value} {seen[slug]}"
        else:
            seen[slug] = 1
    return out


# -- the routine file -------------------------------------------------------------------------------


def _scalar(value: object) -> str:
    text = yaml.safe_dump(value, allow_unicode=True, width=10 ** 9, default_flow_style=True)
    text = text.strip()
    if text.endswith("\n..."):
        text = text[:-4].rstrip()
    elif text.endswith("..."):
        text = text[:-3].rstrip()
    return text


def _comment(text: str) -> str:
    text = re.sub(r"[\x00-\x1f\x7f\u2028\u2029\u202a-\u202e\u2066-\u2069]", " ", text)
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= 90 else text[:87] + "…"


def _quote(value: Value) -> str:
    if value.words is None:
        return _comment(value.note or "defaulted")
    words = value.words if len(value.words) <= 60 else value.words[:57] + "…"
    where = f" (line {value.line})" if value.line else ""
    note = f"; {value.note}" if value.note else ""
    return _comment(f"\"{words}\"{where}{note}")


def _limit(text: str) -> str:
    if len(text) <= MAX_TEXT:
        return text
    cut = text[:MAX_TEXT]
    end = max(cut.rfind(". "), cut.rfind("! "))
    return cut[:end + 1] if end > 40 else cut.rsplit(" ", 1)[0] + "."


def _texts(key: str, sentences: list[Sentence], indent: str) -> list[str]:
    lines = []
    if len(sentences) == 1:
        s = sentences[0]
        lines.append(f"{indent}{key}: {_scalar(_limit(s.text))}  # line {s.line}")
    elif sentences:
        lines.append(f"{indent}{key}:")
        for s in sentences:
            lines.append(f"{indent}  - {_scalar(_limit(s.text))}  # line {s.line}")
    return lines


def _joined(sentences: list[Sentence]) -> Sentence | None:
    if not sentences:
        return None
    return Sentence(_limit(" ".join(s.text for s in sentences)), sentences[0].line)


def _write(title: Value, source: str, language: Value, description: Value | None,
           intro: list[Value], outro: list[Value], exercises: list[Exercise],
           origin: str) -> str:
    out = [f"# Drafted by `routinecast draft` from {_comment(origin)}.",
           "# Every value drafted says where it comes from; review them, then:",
           "#   routinecast validate FILE && routinecast plan FILE && routinecast build FILE",
           f"title: {_scalar(title.value)}  # {_quote(title)}"]
    if description is not None:
        out.append(f"description: {_scalar(description.value)}  # {_quote(description)}")
    out.append(f"source: {_scalar(source)}")
    out.append(f"language: {_scalar(language.value)}  # {_quote(language)}")
    equipment: list[str] = []
    for ex in exercises:
        for item in ex.equipment:
            if item.value not in equipment:
                equipment.append(str(item.value))
    if equipment:
        out.append(f"equipment: {_scalar(equipment)}  # what the exercises below need")
    if intro:
        text = " ".join(str(v.value) for v in intro)
        out.append(f"intro: {_scalar(_limit(text))}  # "
                   + _comment("; ".join(dict.fromkeys(f"line {v.line}" for v in intro))))
    else:
        out.append("# intro: the article gives no caution; add one if it needs it")
    if outro:
        text = "That's the end of the routine. " + " ".join(str(v.value) for v in outro)
        out.append(f"outro: {_scalar(text)}  # "
                   + _comment("; ".join(_quote(Value(None, v.words, v.line)) for v in outro)))
    else:
        out.append("# outro: the format's default (\"That is the end of …\"): the article "
                   "says nothing on how often")
    out.append("exercises:")
    for ex in exercises:
        out.append(f"  - name: {_scalar(ex.name.value)}  # {_quote(ex.name)}")
        if ex.equipment:
            out.append(f"    equipment: {_scalar([str(e.value) for e in ex.equipment])}  # "
                       + _comment("; ".join(_quote(e) for e in ex.equipment)))
        if ex.sides is not None:
            out.append(f"    sides: {_scalar(ex.sides.value)}  # {_quote(ex.sides)}")
        if ex.sets is not None and ex.sets.value not in (None, 1):
            out.append(f"    sets: {_scalar(ex.sets.value)}  # {_quote(ex.sets)}")
        if ex.reps is not None and ex.reps.value not in (None, 1):
            out.append(f"    reps: {_scalar(ex.reps.value)}  # {_quote(ex.reps)}")
        if ex.to_write:
            out.append(f"    # {_comment(ex.to_write)}")
        out += _texts("setup", ex.setup, "    ")
        if ex.flow:
            out.append("    flow:  # one breath a move (defaults.breath, 5s): the article gives "
                       "no time")
            for move in ex.flow:
                out.append(f"      - {_scalar(_limit(move.text))}  # line {move.line}")
        elif ex.phases:
            out.append("    phases:")
            for phase in ex.phases:
                say = _joined(phase.say)
                if say is not None:
                    out.append(f"      - say: {_scalar(say.text)}  # line {say.line}")
                    out.append(f"        hold: {_scalar(phase.hold.value)}  # {_quote(phase.hold)}")
                else:
                    out.append(f"      - hold: {_scalar(phase.hold.value)}  # {_quote(phase.hold)}")
                during = _joined(phase.during)
                if during is not None:
                    out.append(f"        during: {_scalar(during.text)}  # line {during.line}")
        else:
            hold = ex.hold or Value(DEFAULT_HOLD, None, None, "the format's default")
            out.append(f"    hold: {_scalar(hold.value)}  # {_quote(hold)}")
            during = _joined(ex.during)
            if during is not None:
                out.append(f"    during: {_scalar(during.text)}  # line {during.line}")
        if ex.notes:
            out.append(f"    notes: {_scalar(' '.join(dict.fromkeys(ex.notes)))}")
        for sentence in ex.left_out[:MAX_LEFT_OUT]:
            words = sentence.text if len(sentence.text) <= 60 else sentence.text[:57] + "…"
            out.append("    # " + _comment(f"left out (line {sentence.line}): \"{words}\""))
        if len(ex.left_out) > MAX_LEFT_OUT:
            out.append(f"    # and {len(ex.left_out) - MAX_LEFT_OUT} more sentences left out")
    return "\n".join(out) + "\n"


MAX_LEFT_OUT = 12
"""Sentences left out listed under one exercise; the rest are counted."""


def _seconds(hold: object, breath_s: int = 5) -> tuple[float, float] | None:
    text = str(hold)
    m = re.fullmatch(r"([\d.]+)(?:-([\d.]+))?\s*(s|m| min| breaths?)", text)
    if not m:
        return None
    lo = float(m[1])
    hi = float(m[2]) if m[2] else lo
    scale = {"s": 1, "m": 60, " min": 60}.get(m[3], breath_s)
    return lo * scale, hi * scale


def _summary(exercises: list[Exercise]) -> tuple[str, list[str]]:
    spans, defaulted = [], []
    for ex in exercises:
        holds = [ex.hold] if not ex.phases else [p.hold for p in ex.phases]
        for hold in holds:
            if hold is not None and hold.words is not None:
                seconds = _seconds(hold.value)
                if seconds:
                    spans.append(seconds)
        name = str(ex.name.value)
        for what in ex.defaulted:  # a name with a comma quoted, so that the list reads
            defaulted.append(f"{what} of {name}" if "," not in name else f"{what} of “{name}”")
    count = len(exercises)
    parts = [f"{count} exercise{'s' if count != 1 else ''}"]
    left_out = sum(len(ex.left_out) for ex in exercises)
    if spans:
        lo, hi = min(s[0] for s in spans), max(s[1] for s in spans)
        parts.append(f"holds {lo:g}-{hi:g} s" if hi != lo else f"holds {lo:g} s")
    else:
        parts.append("no hold times in the article")
    if defaulted:
        shown = ", ".join(defaulted[:3]) + (", …" if len(defaulted) > 3 else "")
        parts.append(f"{len(defaulted)} value{'s' if len(defaulted) != 1 else ''} defaulted "
                     f"({shown})")
    else:
        parts.append("no value defaulted")
    if left_out:
        parts.append(f"{left_out} sentence{'s' if left_out != 1 else ''} left out (see the "
                     f"draft's comments)")
    return "; ".join(parts), defaulted


def draft_text(text: str, name: str, *, html: bool = False, url: str | None = None) -> Draft:
    """Draft a routine from an article's `text` (HTML when `html`); `name` names it in
    messages and the routine's `source`."""
    title_words, language, site = None, None, None
    html_source = text if html else None
    if html:
        from .extract import html_to_text
        page = html_to_text(text, name)
        text, title_words, language, site = page.text, page.title, page.language, page.site
        url = url or page.url
    parsed = parse(text)
    drafter = _Drafter(name)
    exercises = _exercises(parsed.blocks, drafter)
    for sentence in parsed.tail:  # a disclaimer after "Related posts"
        caution = rules.first("caution", sentence.text)
        if caution is not None and caution.rule.id == "caution-doctor":
            drafter.cautions.append(Value(_caution_text(sentence.text, caution), caution.words,
                                          sentence.line))
    if not exercises:
        raise InputError(f"{name}: no exercise found in the article (no steps with a hold, "
                         f"reps or a named stretch)")
    if len(exercises) > MAX_EXERCISES:
        raise InputError(f"{name}: over {MAX_EXERCISES} exercises found; a routine holds at most "
                         f"{MAX_EXERCISES}")

    def line_of(words: str | None, fallback: int | None) -> int | None:
        if html_source is not None and words:
            from .extract import html_line_of
            return html_line_of(html_source, words) or fallback
        return fallback

    if html_source is not None:  # lines of the saved page, not of its extracted text
        from .extract import PageLines
        page = PageLines(text, html_source)
        items: dict[int, Value | Sentence] = {}
        for ex in exercises:
            for item in [ex.name, ex.hold, ex.reps, ex.sets, ex.sides, *ex.equipment,
                         *ex.setup, *ex.during, *ex.flow, *ex.left_out,
                         *(x for phase in ex.phases for x in (phase.hold, *phase.say,
                                                               *phase.during))]:
                items.setdefault(id(item), item)
        for item in [*items.values(), *drafter.cautions, *drafter.frequencies]:
            if item is not None and item.line:
                words = item.words if isinstance(item, Value) else item.text
                item.line = page.line(item.line, words)
    heading = title_words or parsed.title
    if heading and not re.search(r"[^\W_]", _clean(heading)):
        heading = None
    if heading:
        shouted = heading if heading.upper() != heading else heading.title()
        title = Value(re.sub(r"[\s.…:;,-]+$", "", _clean(shouted))[:200], heading,
                      line_of(heading, parsed.title_line), "the page's headline")
    else:
        title = Value(Path(name).stem.replace("-", " ").replace("_", " ").strip() or "Draft",
                      None, None, "no headline in the article: the file's name")
    if language:
        code = language.split("-")[0].split("_")[0].lower()
        lang = Value(code, f"lang={language}", line_of(f'lang="{language}"', None),
                     "the page's language")
    else:
        lang = Value("en", None, None, "defaulted: the article does not say its language")
    source = f"{url}" if url else (f"{title.value}, {site}" if site else
                                   f"{title.value} ({Path(name).name})")
    intro = list({v.value: v for v in drafter.cautions}.values())[:3]
    outro = []
    seen = set()
    for value in drafter.frequencies:
        key = str(value.value).lower()
        if key not in seen:
            seen.add(key)
            outro.append(Value(f"Try to do these stretches {value.value}.", value.words,
                               value.line))
    outro = outro[:2]
    source = _clean(source)[:300]
    text_out = _write(title, source, lang, None, intro, outro, exercises, name)
    summary, defaulted = _summary(exercises)
    from ..routine import slugify
    return Draft(text_out, str(title.value), slugify(str(title.value)) or "draft", exercises,
                 summary, source, defaulted)


def draft(source: str | Path, *, timeout: float = TIMEOUT, max_bytes: int = MAX_BYTES,
          validate: bool = True) -> Draft:
    """Draft a routine from the article at `source` (a file or an http/https URL).

    Raises `InputError` for what cannot be an article (too large, binary, no exercise) and
    `FetchError` (a `RoutinecastError`, exit status 1) when a URL cannot be fetched. With
    `validate`, the draft is loaded by the routine loader before it is returned."""
    src: Source = read_source(source, timeout=timeout, max_bytes=max_bytes)
    result = draft_text(src.text, src.name, html=src.html, url=src.url)
    if validate:
        result.routine = check(result)
    return result


def check(result: Draft):
    """Loads the draft with the routine loader; returns the `Routine`."""
    from ..routine import load_routine
    with tempfile.TemporaryDirectory(prefix="routinecast-draft-") as folder:
        path = Path(folder) / f"{result.slug or 'draft'}.yaml"
        path.write_text(result.text, encoding="utf-8")
        try:
            return load_routine(path)
        except InputError as exc:
            raise RoutinecastError(f"the draft of {result.source} does not validate "
                                   f"(a fault of the drafter, please report it): "
                                   f"{exc.message}") from None
