"""THE table of extraction rules: what words in an article mean for a routine.

Each row is a `Rule`: an id, the field it fills, a regular expression (matched without
case against one sentence, or one line for the structural rules) and what a match means.
Every row has a test (tests/test_draft_rules.py) written from sentences like those it is
meant for. The drafting code in `__init__.py` only asks this table questions
(`find`, `first`, `matches`) and never spells a pattern of its own.

Fields:

- `hold`, `reps`, `sets`, `sides`: values of an exercise; a hold is written in the
  format's own spelling (`15-20s`, `1m`, `3-5 breaths`) so that `--level` and `--length`
  work on the draft.
- `caution`: said in the introduction; `frequency`: said in the closing.
- `equipment`: what an exercise needs (plain nouns, as the format asks).
- `name`: a stretch's usual name, recognised from its steps when its heading is generic
  ("Exercise 1") or missing.
- `skip`: boilerplate (adverts, "click here", bios, video notes): left out.
- `end`: a heading after which nothing is part of the article ("Related posts").
- `aside`: not an instruction for the listener ("Communicate with your partner"): kept in
  `notes`.
- `heading`: a line that starts an exercise ("Exercise 2 -", "A. Hip Stretch -").
- `reword`: rewrites that turn an article's sentence into one said to "you".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
    "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17,
    "eighteen": 18, "nineteen": 19, "twenty": 20, "twenty-five": 25, "thirty": 30,
    "forty": 40, "forty-five": 45, "fifty": 50, "sixty": 60, "ninety": 90,
}
_WORDS = "|".join(sorted((w for w in NUMBER_WORDS if len(w) > 2), key=len, reverse=True))
NUM = rf"(?:\d+(?:\.\d+)?|{_WORDS})"
"""A number, in digits or words ("15", "fifteen", "twenty-five")."""
RANGE = rf"(?P<lo>{NUM})(?:\s*(?:-|–|—|to|or)\s*(?P<hi>{NUM}))?"
"""A number or a range of two: "15 - 20", "10-30", "ten to twenty", "5 or 6"."""
SECONDS = r"(?:seconds?|secs?|s)\b"
MINUTES = r"(?:minutes?|mins?)\b"
BREATHS = r"(?:(?:slow |deep |full )*breaths?|(?:slow |deep )*breath cycles?)\b"
LIMB = r"(?:side|leg|knee|hip|arm|foot|shoulder|ankle|hand|direction)s?"


def number(text: str | None) -> float | None:
    """"15" → 15, "fifteen" → 15, None → None."""
    if text is None:
        return None
    text = text.lower()
    return NUMBER_WORDS[text] if text in NUMBER_WORDS else float(text)


def _n(value: float) -> str:
    return f"{value:g}"


def span(match: re.Match, unit: str, scale: float = 1) -> str:
    """A hold of the match's number or range, in the format's spelling."""
    lo, hi = number(match["lo"]) * scale, number(match["hi"])
    if hi is not None:
        hi *= scale
        if hi < lo:
            lo, hi = hi, lo
        if hi != lo:
            return f"{_n(lo)}-{_n(hi)}{unit}"
    return f"{_n(lo)}{unit}"


def _count_range(match: re.Match, plus: int = 0) -> str | int:
    lo, hi = number(match["lo"]), number(match.groupdict().get("hi"))
    if hi is not None and hi != lo:
        return f"{int(min(lo, hi)) + plus}-{int(max(lo, hi)) + plus}"
    return int(lo) + plus


def _minutes(match: re.Match) -> str:
    lo, hi = number(match["lo"]), number(match["hi"])
    if lo == int(lo) and (hi is None or hi == int(hi)):
        return span(match, " min") if hi is not None and hi != lo else f"{_n(lo)}m"
    return span(match, "s", 60)


@dataclass(frozen=True)
class Rule:
    id: str
    field: str
    pattern: re.Pattern
    value: Callable[[re.Match], object]
    says: str
    """What the rule reads, in words (for the docs and test names)."""


def rule(id: str, field: str, pattern: str, value: Callable[[re.Match], object] | object,
         says: str) -> Rule:
    fn = value if callable(value) else (lambda _m, v=value: v)
    return Rule(id, field, re.compile(pattern, re.IGNORECASE), fn, says)


_AGAIN = r"(?:repeat|do|perform|complete)\w*"

RULES: tuple[Rule, ...] = (
    # ---- holds: the format's ranges ("15-20s", "3-5 breaths", "1-2 min") -------------------
    rule("hold-count", "hold",
         rf"\b(?:for\s+)?(?:a\s+)?(?:slow\s+)?count\s+of\s+(?P<lo>{NUM})\b"
         rf"(?:\s*(?:-|to)\s*(?P<hi>{NUM})\b)?(?!\s*(?:-|to|seconds?|secs?|minutes?|breaths?))",
         lambda m: span(m, "s"), "a slow count of five → 5s"),
    rule("hold-breaths", "hold", rf"\b{RANGE}\s+{BREATHS}",
         lambda m: span(m, " breaths") if m["hi"] or number(m["lo"]) != 1 else "1 breath",
         "5 breaths, 3-5 breaths"),
    rule("hold-half-minute", "hold", r"\bhalf\s+a\s+minute\b", "30s", "half a minute → 30s"),
    rule("hold-a-minute", "hold",
         r"\b(?:for\s+)?(?:about\s+|around\s+|roughly\s+|up to\s+)?(?:a|one|1)\s+(?:full\s+)?"
         r"minute(?:\s+or\s+so)?\b(?!\s*(?:-|to|or)\s*\d)",
         "1m", "a minute or so → 1m"),
    rule("hold-minutes", "hold", rf"\b(?:about\s+|around\s+|roughly\s+)?{RANGE}\s*{MINUTES}",
         _minutes, "about 5 minutes → 5m; 1-2 minutes → 1-2 min"),
    rule("hold-seconds", "hold",
         rf"\b{RANGE}\s*(?:-\s*)?{SECONDS}(?:\s+or\s+so)?",
         lambda m: span(m, "s"), "hold for 30 seconds; 15 - 20 seconds; ten to twenty seconds"),

    # ---- reps and sets -----------------------------------------------------------------------
    rule("sets-of-reps", "sets", rf"\b{RANGE}\s+sets?\s+of\b", _count_range,
         "3 sets of 3 reps → sets 3"),
    rule("sets", "sets", rf"\b(?:do\s+|perform\s+|complete\s+)?{RANGE}\s+(?:sets|rounds)\b",
         _count_range, "do three sets → sets 3"),
    rule("reps-more-times", "reps", rf"\b(?P<lo>{NUM})\s+more\s+times\b",
         lambda m: _count_range(m, 1), "three more times → 4 in all"),
    rule("reps-times", "reps", rf"\b{RANGE}\s+(?:more\s+)?times\b(?!\s+(?:a|per|each|every)\s)",
         _count_range, "repeat 10 times; 5 to 10 times"),
    rule("reps-reps", "reps", rf"\b{RANGE}\s+(?:reps|repetitions|repeats)\b", _count_range,
         "perform 2 reps; 3 sets of 3 reps → reps 3"),
    rule("sets-alternate", "sets",
         rf"\balternate\s+(?:sides|legs)\s+(?:(?P<few>several|a few|a couple of)|{RANGE})\s+times\b",
         lambda m: "2-3" if m["few"] else _count_range(m), "alternate sides a few times → sets 2-3"),
    rule("reps-sets-of-n", "reps",
         rf"\b{NUM}\s+sets?\s+of\s+{RANGE}\b(?!\s*(?:seconds?|secs?|minutes?|mins?|breaths?|"
         r"reps|repetitions|times))", _count_range, "3 sets of 10 → reps 10"),
    rule("reps-do-n-moves", "reps",
         rf"\b(?:do|perform|complete|make|draw|take)\s+{RANGE}\s+(?:(?:slow|gentle|small|big|full|"
         r"easy|more)\s+)?(?!seconds?\b|secs?\b|minutes?\b|mins?\b|breaths?\b|sets?\b|times\b|"
         r"reps\b|rounds\b|steps\b)[a-z]+s\b", _count_range, "do 10 glides → reps 10"),
    rule("reps-several", "reps", rf"\b{_AGAIN}\b[^.]*?\b(?:several|a few|a couple of|few)\s+times\b",
         "3-5", "repeat this several times → 3-5"),
    rule("reps-alternating", "reps", r"\bkeep\s+(?:on\s+)?alternating\b|\bcontinue\s+alternating\b",
         None, "keep alternating (no count: the default, said so)"),

    # ---- sides ----------------------------------------------------------------------------------
    rule("sides-each", "sides",
         rf"\b(?:(?:each|either|per|every)\s+(?!directions?){LIMB}|both\s+sides)\b",
         True, "each side; each leg; both sides"),
    rule("sides-other", "sides",
         r"\b(?:to|on|with|for|using|pull|bring|repeat|switch|change|swap|lift|raise|hug)\s+"
         r"(?:the|your)\s+(?:other|opposite)\s+(?:(?:lower\s+back\s+)?(?:side|leg|knee|hip|arm|"
         r"foot|shoulder|ankle|muscle)s?)\b",
         True, "the other leg; opposite side"),
    rule("sides-switch", "sides",
         r"\b(?:switch|swap|change|alternate)\s+(?:over\s+)?(?:your\s+|the\s+)?"
         r"(?:legs|sides|arms|knees|feet|hips)(?:\s+over)?\b",
         True, "switch legs; swap your legs over; alternate sides"),
    rule("sides-repeat-with", "sides",
         r"\b(?:repeat|do the same|same thing)\b[^.]*?\b(?:with|on|for|using)\s+(?:the|your)\s+"
         r"(?:left|right)\b",
         True, "repeat with the left leg"),
    rule("sides-right-then-left", "sides",
         r"\b(?:on\s+)?(?:the\s+|your\s+)?(?:right|left)\b[^.]*?\bthen\b[^.]*?\b(?:the\s+|your\s+)?"
         r"(?:left|right)\b",
         True, "on the right and then the left"),
    rule("sides-back-to-first", "sides",
         r"\b(?:go|come|switch)\s+back\s+to\s+the\s+(?:first|starting|original)\s+side\b", True,
         "then go back to the first side"),
    rule("sides-side-to-side", "sides",
         r"\b(?:rotat|turn|twist)\w*\b[^.]{0,40}\bfrom\s+side\s+to\s+side\b", True,
         "rotate from side to side"),

    # ---- cautions (introduction) and frequency (closing) ------------------------------------------
    rule("caution-stop", "caution",
         r"\b(?:stop|ease off|back off|lighten)\b[^.]*\b(?:pain|hurts?|dizzy|discomfort|undue|"
         r"strain|numb|tingl)|\b(?:pain|hurts?|dizzy|undue stress|strain)\b[^.]*\b(?:stop|ease "
         r"off|lighten)\b",
         True, "stop if you feel pain"),
    rule("caution-doctor", "caution",
         r"\b(?:consult|ask|see|check with|talk to|speak to|speak with)\b[^.]*\b(?:doctor|"
         r"physician|physio\w*|health ?care (?:provider|professional)|gp|therapist)\b",
         True, "consult a doctor"),
    rule("caution-force", "caution",
         r"\b(?:never|don'?t|do not)\s+(?:force|bounce|jerk|overdo)|\bbe careful\b|"
         r"\bcan injure\b|\bmedical advice\b",
         True, "never force it; be careful"),
    rule("frequency", "frequency",
         r"\b(?:once|twice|three times|\w+ times|a few times|several times|many times)\s+"
         r"(?:a|per|each|every)\s+(?:day|week)\b|\b(?:every|each)\s+(?:morning|evening|night|"
         r"day)\b|\bdaily\b|\bfirst thing in the morning\b",
         lambda m: m[0].lower(), "twice a day; every morning"),

    # ---- equipment (plain nouns) -----------------------------------------------------------------
    rule("equipment-chair", "equipment", r"\bchairs?\b", "chair", "a chair"),
    rule("equipment-strap", "equipment", r"\b(?:strap|yoga belt|belt|bed ?sheet|resistance band)s?\b",
         "strap", "a strap (or a belt, a bed sheet)"),
    rule("equipment-towel", "equipment", r"\btowels?\b", "towel", "a towel"),
    rule("equipment-pillows", "equipment", r"\b(?:pillows?|cushions?|bolsters?)\b", "pillows",
         "pillows, cushions"),
    rule("equipment-bench", "equipment", r"\bbench(?:es)?\b", "bench", "a bench"),
    rule("equipment-step", "equipment",
         r"\bstair(?:s|case)?\b|\b(?:edge of|on|onto|off|from)\s+(?:the\s+|a\s+)?"
         r"(?:\w+\s+(?:or\s+\w+\s+)?)?step\b(?!\s+\d)",
         "step", "a step or the stairs"),
    rule("equipment-wall", "equipment",
         r"\b(?:against|facing|face|on|to|near|toward|towards|from|at|up)\s+(?:a|the)\s+wall\b", "wall",
         "against a wall"),
    rule("equipment-mat", "equipment", r"\b(?:exercise |yoga )?mat\b", "mat", "a mat"),
    rule("equipment-bed", "equipment", r"\b(?:bed|couch|sofa|headboard)\b(?!\s*sheet)", "bed",
         "a bed or couch"),
    rule("equipment-table", "equipment", r"\b(?:table|counter|countertop)\b", "table",
         "a table or counter"),
    rule("equipment-foam-roller", "equipment", r"\bfoam roll(?:er)?\b", "foam roller",
         "a foam roller"),

    # ---- usual names, for generic or missing headings ---------------------------------------------
    rule("name-childs-pose", "name",
         r"\b(?:sit|sitting) back on(?:to)? your heels\b[^|]*\b(?:forehead|arms)\b|"
         r"\bchild'?s pose\b", "Child's Pose", "sit back on your heels … forehead on the mat"),
    rule("name-cat-camel", "name",
         r"\bhands and knees\b[^|]*\b(?:round|arch)\w*\b[^|]*\b(?:arch|round|drop|sag)\w*",
         "Cat and Camel", "on hands and knees, round then arch your back"),
    rule("name-roll-down", "name", r"\broll\w*\s+(?:\w+\s+)?down\b[^|]*\bspine\b|\broll-?down\b",
         "Standing Roll-Down", "roll down through the spine"),
    rule("name-single-knee", "name",
         r"\b(?:one|your (?:right|left)|a single)\s+knee\s+(?:\w+\s+){0,2}(?:to|toward|towards|into)"
         r"\s+(?:your|the)\s+chest\b",
         "Single Knee to Chest", "pull one knee toward your chest"),
    rule("name-double-knee", "name",
         r"\b(?:both knees|both shins|your knees)\b[^|]*\b(?:to|toward|towards|into)\s+(?:your|the)"
         r"\s+chest\b",
         "Double Knee to Chest", "pull both knees toward your chest"),
    rule("name-forward-bend", "name",
         r"\b(?:bend|bending|round|rounding|fold|folding)\s+(?:\w+\s+){0,3}forward\b",
         "Forward Bend", "bend forward"),
    rule("name-wall-calf", "name", r"\bwall\b[^|]*\bheel\b|\bheel\b[^|]*\bwall\b",
         "Wall Calf Stretch", "hands on a wall, press the back heel down"),
    rule("name-heel-drop", "name", r"\bheels?\s+(?:\w+\s+)?(?:sink|drop)\w*\b",
         "Heel Drop", "let your heels sink below the step"),
    rule("name-hamstring", "name", r"\bhamstrings?\b", "Hamstring Stretch", "hamstrings"),
    rule("name-bridge", "name", r"\blift your (?:hips|pelvis|bottom)\b[^|]*\b(?:ceiling|floor)\b",
         "Bridge", "lift your hips off the floor"),

    # ---- not part of the routine ------------------------------------------------------------------
    rule("skip-click", "skip", r"\bclick(?:ing)?\b|\btap here\b", True, "click here"),
    rule("skip-advert", "skip",
         r"\badvert\w*|\bsponsored\b|\bsubscribe\b|\bnewsletter\b|\bsign up\b|\bshop now\b|"
         r"\bbuy (?:now|our)\b|\b\d+% off\b|\bpromo code\b|\baffiliate\b",
         True, "Advertisement"),
    rule("skip-copyright", "skip", r"©|\bcopyright\b|\ball rights reserved\b|\bpowered by\b",
         True, "Copyright"),
    rule("skip-video", "skip",
         r"\bvideos?\b|\byoutube\b|\bwatch (?:me|this|the)\b|\bfor future reference\b",
         True, "watch the video below"),
    rule("skip-bio", "skip",
         r"\babout the author\b|\b(?:is|am) an? (?:certified|registered|licensed|qualified)\b|"
         r"\bwrites about\b|\bfollow (?:me|us|her|him) on\b|\bshare this\b|\bshare on\b",
         True, "author bios, sharing"),
    rule("end-related", "end",
         r"^\W*(?:continue learning|related(?: posts| articles| content| stretches)?|you may also "
         r"like|more answers|read more|sources?|references|comments|leave a (?:reply|comment)|"
         r"about the author|further reading|see also)\b",
         True, "Related posts; Sources:"),
    rule("aside-partner", "aside", r"\b(?:your|a) partner\b|\bpartner'?s\b", True,
         "Communicate with your partner"),

    # ---- structure: headings that start an exercise -------------------------------------------------
    rule("heading-generic", "heading",
         r"^\W*(?:exercise|stretch|step|pose|move|movement|position)\s*#?\s*(?P<n>\d+|[a-z]|"
         r"one|two|three|four|five|six|seven|eight|nine|ten)\b\W*(?:[-–—:.)]\s*(?P<rest>.*))?$",
         lambda m: m["rest"] or "", "Exercise 2 -; Stretch 3: Butterfly"),
    rule("heading-lettered", "heading", r"^(?:[A-H]|\d{1,2})\s*(?:\.\)|\.|\))\s+(?P<rest>.+)$",
         lambda m: m["rest"], "A. Reclining Hip Stretch -; 1.) Cat Stretch"),
    rule("heading-name-colon", "heading",
         r"^(?P<rest>[A-Z][\w'’ ,()&/-]{2,48}?)\s*(?::|\s[-–—]\s)\s*(?P<body>[A-Z].*[.!]\s*)$",
         lambda m: m["rest"], "Knee hug: Lie on your back … (a name, then its steps)"),

    # ---- rewording into the second person ---------------------------------------------------------
    rule("reword-filler", "reword",
         r"^(?:(?:so|otherwise|remember|note|tip|important|as always|as with any [\w ]+?|"
         r"here'?s the trick|now the trick|the trick is)\s*[,:!-]+\s*|so\s+(?=[a-z]+ ))",
         "", "So, …; Remember, …; As with any back exercise, …"),
    rule("reword-recommend", "reword",
         r"\b(?:i|we)\s+(?:recommend|suggest|advise)\s+(?:that\s+)?you\s+", "",
         "I recommend you do … → Do …"),
    rule("reword-want-to", "reword", r"^you (?:want|need|will want|'ll want) to\s+", "",
         "You want to make sure … → Make sure …"),
    rule("reword-performed", "reword",
         r"^this (?:stretch|exercise|pose|move) is (?:performed|done)\b", "Do this stretch",
         "This stretch is performed on the floor → Do this stretch on the floor"),
    rule("reword-starting", "reword", r"^starting\b", "Start", "Starting in … → Start in …"),
    rule("reword-begin-laying", "reword", r"^begin laying\b", "Begin lying", "Begin laying → lying"),
)

VERBS = frozenset("""
lie lay kneel sit stand bend lean place put rest bring pull push press lift raise lower drop
reach round arch cross clasp hold grab grasp straighten extend rotate twist turn tuck loop slide
step walk roll flex squeeze relax open start begin keep stay repeat return release breathe
inhale exhale let allow try make move go come get take use position draw hug point look feel
notice sink hang shift switch swap change alternate do perform stretch tighten engage squat
lunge balance support wrap interlace rock sway stop avoid never be aim remain continue tilt
nod lengthen soften set stack loosen grip circle pause hinge fold ease work stick shove play
gently slowly carefully face imagine contract spread plant rise sag lock unlock slip hook
""".split())
"""Words an instruction to the listener starts with (after fillers such as "Now," or "Gently")."""

FIELDS = ("hold", "reps", "sets", "sides", "caution", "frequency", "equipment", "name", "skip",
          "end", "aside", "heading", "reword")


@dataclass(frozen=True)
class Found:
    rule: Rule
    value: object
    match: re.Match

    @property
    def words(self) -> str:
        return self.match[0].strip()


def rules_for(field: str) -> tuple[Rule, ...]:
    return tuple(r for r in RULES if r.field == field)


def find(field: str, text: str) -> list[Found]:
    """Every match of `field`'s rules in `text`, in the order they appear, without overlaps
    (the table's earlier rows win)."""
    found: list[Found] = []
    taken: list[tuple[int, int]] = []
    for row in rules_for(field):
        for m in row.pattern.finditer(text):
            if any(m.start() < end and start < m.end() for start, end in taken):
                continue
            taken.append((m.start(), m.end()))
            found.append(Found(row, row.value(m), m))
    return sorted(found, key=lambda f: f.match.start())


def first(field: str, text: str) -> Found | None:
    """The match of `field`'s first row that matches `text` (table order)."""
    for row in rules_for(field):
        m = row.pattern.search(text)
        if m:
            return Found(row, row.value(m), m)
    return None


def matches(field: str, text: str) -> bool:
    return first(field, text) is not None


def reword(text: str) -> str:
    """Applies the `reword` rows, in order."""
    for row in rules_for("reword"):
        text = row.pattern.sub(lambda m, row=row: row.value(m), text, count=1)
    return text
