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
- `reword`: rewrites that turn an article's sentence into one said to "you";
  `name-reword`: rewrites of a heading into an exercise's name.
- One row each, read by id through `pattern`: a sentence's kind (`first-person`,
  `second-person`, `sensation`, `filler`), its context (`hold-context`, `not-hold`,
  `frequency-context`, `side-talk`, `both-ways`, `return`, `breath-move`, `named-list`,
  `side-named`, `shouted-step`, `hold-first`, `hold-word`, `hold-again`, `said-to-you`,
  `during-step`, `breath-pacing`, `not-an-instruction`, `frequency-one`, `steps-elsewhere`,
  `advice`) and
  what a heading names (`exercise-word`, `not-exercise`, `not-a-name`, `not-a-title`).

Besides the rows: `VERBS` (what an instruction starts with) and `POSITION_VERBS` (those that
put the body somewhere), word lists for the same purpose.
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
BODY = (r"leg|knee|foot|feet|hip|arm|hand|shoulder|shoulder blade|side|ankle|elbow|wrist|"
        r"thigh|glute|buttock|bottom|heel|toe|big toe|shin|calf|calve|ear|cheek|eye|temple|"
        r"armpit|forearm|palm|hamstring|quad|oblique|flank|sitting bone|sit bone")
"""Parts of the body a side word goes with ("your right ankle")."""


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
_HELD = r"(?:hold\w*|stay\w*|rest\w*|remain\w*|seconds?|secs?|minutes?|mins?|breaths?|count)\b"
_UNHELD = rf"(?:(?!\b{_HELD})[^.;])"
"""One character of a clause with no hold in it: what a movement done both ways passes
over between its first direction and the second (a pause is part of the movement)."""

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
         r"\b(?:to|on|with|for|using|pull|bring|repeat|switch|change|swap|lift|raise|hug|do)\s+"
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
         r"\b(?:on\s+)?(?:the\s+|your\s+)?(?:right|left)\b[^.]*?\bthen\s+(?:[a-z]+\s+){0,2}?"
         r"(?:(?:on|to|with)\s+)?(?:the\s+|your\s+)?(?:left|right)\b",
         True, "on the right and then the left (not \"your right knee in, then guide it across "
               "your body to the left\": one movement)"),
    rule("sides-back-to-first", "sides",
         r"\b(?:go|come|switch)\s+back\s+to\s+the\s+(?:first|starting|original)\s+side\b", True,
         "then go back to the first side"),

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
         r"\bcan injure\b|\bmedical advice\b|\bto avoid (?:an )?injur(?:y|ies|ing)\b",
         True, "never force it; be careful; done carefully to avoid injury"),
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
    rule("steps-elsewhere", "steps-elsewhere",
         r"\bvideos?\b|\byoutube\b|\bwatch (?:me|how|this|the clip)\b",
         True, 'the steps are shown elsewhere ("It\'s best to watch me do this in the video"): '
               "an exercise with no instruction of its own gets a placeholder for them"),
    rule("advice", "advice",
         r"^\W*(?:(?:make|be)\s+sure\b|be\s+careful\b|take\s+care\b|do\s*n['’]?t\b|"
         r"do\s+not\b|never\b|avoid\b)",
         True, 'a clause of advice, not an instruction ("Make sure you have some support in '
               'front of you", "so don\'t rush into doing this"): an exercise whose sentences '
               'send the reader to a video and instruct nothing else has its steps there'),
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

    # ---- what kind of sentence, and its context: rows read by id (`pattern`) ------------------------
    rule("exercise-word", "exercise-word",
         r"\b(?:stretch\w*|pose|twist|bend|raise|lift|curl|roll|tilt|bridge|plank|squat|lunge|"
         r"rotation|press|pull|reach|hug|knee|chest|hip|hamstrings?|calf|quad\w*|psoas|glute\w*|"
         r"piriformis|neck|shoulder|spine|spinal|cat|camel|cobra|child'?s|butterfly|baby|dog|"
         r"pigeon|figure|wipers?|clam|flexor|lumbar|lumborum|fascia|it band|back|torso|side|"
         r"opener|exercise)\b",
         True, 'a heading that names an exercise ("Knee Hug", "Cat Stretch")'),
    rule("not-exercise", "not-exercise",
         r"\b(?:assessment|instructions? for|introduction|conclusion|summary|benefits?|why|faq|"
         r"tips|about|book|video|disclaimer|warning|more|learning|answers?|help others|"
         r"invited)\b",
         True, 'a heading that names no exercise ("Self-Assessment", "More About this Book")'),
    rule("first-person", "first-person",
         r"\b(?:I|I'm|I've|I'd|I'll|me|my|mine|we|we're|we've|we'll|our|"
         r"ours|us)\b",
         True, 'said by the author ("I recommend"): not an instruction'),
    rule("second-person", "second-person",
         r"\b(?:you|your|yours|yourself|you're|you'll|you've)\b",
         True, 'said to "you"'),
    rule("filler", "filler",
         r"^(?:(?:now|first|firstly|then|next|lastly|finally|also|gently|slowly|carefully|again|and|"
         r"so|otherwise|initially|still|afterwards?|once there|from here|from there|to begin|"
         r"remember|(?:once|while|as|with|using|if|when|keeping|from|on|in|at|after|before|for|"
         r"without|placing|holding|lying|sitting|standing)\b[^,]{0,80}),?\s+)+",
         True, 'what an instruction may start with before its verb ("Now, gently")'),
    rule("hold-context", "hold-context",
         r"\b(?:hold\w*|stay\w*|remain\w*|keep\w*|press\w*|perform\w*|do this|do the|do each|"
         r"do it|stretch\w*|rest\w*|relax\w*|lie|lying|sit|breath\w*|continue|count|for|sets? of|"
         r"take \w+ (?:slow |deep |full )?breaths?)\b",
         True, 'a duration is a hold only in a sentence with one of these words'),
    rule("not-hold", "not-hold",
         r"\b(?:walk|walking|wait|rest between|between (?:sets|reps)|"
         r"takes?\s+(?:about|around|only|just|under|less|no more)|"
         r"routine|in (?:about|under)|minutes? time|lie down just)\b",
         True, 'a duration after these words is not a hold ("walk around for two minutes")'),
    rule("named-list", "named-list",
         r"\b(?:stretches|exercises|moves|poses|stretching)\s+(?:like|such as|including)\s+"
         r"(?P<list>[^.;]+?)(?=\s+(?:will|to|can|help|are|that|which|may)\b|[.;]|$)",
         True, 'stretches named in a list ("static stretches like A, B and C")'),
    rule("side-named", "side-named",
         rf"\b(?:to|on|onto|toward|towards|over|at)\s+(?:the|your)\s+(?P<after>right|left)\b"
         r"(?![-\s]+(?:angle|amount|position|place|way|time|track|one|thing|spot|now|away)\b)|"
         rf"\b(?P<before>right|left)(?=(?:[-\s]hand(?:ed)?)?\s+(?:{BODY})(?:e?s)?\b)",
         lambda m: (m["after"] or m["before"]).lower(),
         'a side of the body in a step ("your right ankle", "lean to the left"; not "a right '
         'angle"): in an exercise with sides, `{side}` or `{other side}`'),
    rule("side-talk", "side-talk",
         r"^\W*(?:then\s+|and\s+|now\s+)?(?:go back to|return to|hold for|hold)\b|\b(?:repeat|do the "
         r"same|same thing|switch|swap|change|alternate)\b|\b(?:pull|bring|do)\s+the\s+(?:other|"
         r"opposite)\b",
         True, "a sentence about doing the other side: the format's sides say it"),
    rule("both-ways", "both-ways",
         rf"\b(?:rotat|turn|twist|swivel|swing|sway|rock|roll|pivot|tilt|lean|bend|look)\w*\b"
         rf"{_UNHELD}*?\b(?:to|towards?|over\s+to)\s+(?:the|your)\s+(?:right|left)\b"
         rf"{_UNHELD}*?\bthen\s+(?:(?!{_HELD})[a-z]+\s+){{0,2}}?(?:(?:to|towards?)\s+)?"
         r"(?:the|your)\s+(?:left|right)\b(?!\s+(?:" + BODY + r")s?\b)"
         rf"(?![^.!?]*?\b(?:{_HELD}|(?:each|per)\s+(?:side|way|direction)\b))",
         True, 'a movement that turns one way, then the other, with no hold between ("Rotate '
               'your trunk to the right, then to the left"): one movement, not sides, and said '
               'whole (not "Lean to the right and hold, then to the left", nor "Lean to the '
               'right, then to the left, holding each side for 20 seconds": a hold each side)'),
    rule("frequency-context", "frequency-context",
         r"\b(?:do|doing|did|repeat|perform|practi[cs]e|stretch|use|try|start|begin|"
         r"take|lie|them|these|this routine|this stretch)\b",
         True, "a frequency is the routine's only in a sentence about doing it"),
    rule("frequency-one", "frequency-one",
         r"\b(?:did|do|doing|repeat|try)\s+it\b|\bthis (?:one|stretch|exercise|pose)\b",
         True, 'a frequency said of one stretch ("if you did it many times a day"): not the '
               "routine's"),
    rule("sensation", "sensation",
         r"\b(?:feel|feeling|notice|sense|should be|will be)\b",
         True, 'what you feel: said during the hold'),
    rule("return", "return",
         r"\b(?:come|coming|return|release|straighten|roll\w* (?:back )?up|ease your way|"
         r"back up|upright|let go|stand up|sit up|walk|steps|rise|lower|relax)\b",
         True, 'steps after a hold that undo it ("then lower down"): a last phase'),
    rule("hold-first", "hold-first",
         r"^\W*(?:then\s+|now\s+)?(?:hold|stay|keep|press|remain|do this|perform|repeat|do)\b"
         r"[\w\s]{0,30}$",
         True, 'the words before a duration that make the hold come first ("Hold for 20 seconds '
               'and straighten up": what follows is done after the hold)'),
    rule("hold-word", "hold-word", r"\bhold\b", True,
         'a sentence that says how often gives a hold only with "hold" in it ("Hold for 30 '
         'seconds, twice a day"; not "Do this twice a day for 2 weeks")'),
    rule("hold-again", "hold-again", r"\b(?:hold|stay)\w*\b", True,
         'between a not-hold word and a duration, these make it a hold again ("walk your hands '
         'out and hold for 20 seconds")'),
    rule("said-to-you", "said-to-you",
         r"^(?:(?:most likely|probably|perhaps|maybe|often|usually)\s*,?\s*)?(?:(?:you|you'll|"
         r"you're|you've)\b|your\s+[\w\s]{1,30}?\s+(?:should|will|may|might|can)\b)|"
         r"\byou(?:'ll| will| should| may| might| can)?\s+(?:feel|notice)\b",
         True, 'said to "you" without being an instruction ("You should feel this in your hip", '
               '"Most likely, your back will round"; not "Your hamstrings are the muscles …")'),
    rule("during-step", "during-step", r"^(?:hold|stay|keep breathing)\b", True,
         'a last step that only says to stay ("Hold the position"): said as the hold begins'),
    rule("not-a-name", "not-a-name",
         r"^(?:note|tip|important|warning|caution|remember|step|why|how|what|when|benefits?)\b",
         True, 'words before a colon that name no exercise ("Note:", "Tip:", "Why:")'),
    rule("not-a-title", "not-a-title",
         r"(?-i:\b(?:you|your|you're|I|I'm|we|we're|we'll|our|us|my)\b)",
         True, 'a short line said to someone or by someone is a sentence, not a title ("Relax '
               'your jaw"; the pronouns as written: "Our" and "My" may start a title)'),
    rule("breath-pacing", "breath-pacing",
         r"\b(?:inhale|breathe in)\b[^.]*\b(?:exhale|breathe out)\b|"
         r"\b(?:exhale|breathe out)\b[^.]*\b(?:inhale|breathe in)\b",
         True, 'how to breathe through a flow, both breaths in one sentence ("Inhale as you lift '
               'your head; exhale as you drop it"): said before the moves, not a move'),
    rule("not-an-instruction", "not-an-instruction",
         r"\bfeel free to\b|^\W*notice how much\b",
         True, 'permission and praise, not a step ("Feel free to walk around …", "Notice how '
               'much relief this stretch gives"): left out'),
    rule("shouted-step", "shouted-step",
         r"(?-i:(?<![\w'])(?P<verb>[A-Z]{3,})(?:\s+[A-Z][A-Z'’]*){2,}(?![\w']))",
         lambda m: m["verb"].lower() in VERBS,
         'an instruction in capitals ("FLEX YOUR THIGH MUSCLES"): a step, said in sentence case '
         '(true when its first word is one of VERBS)'),
    rule("breath-move", "breath-move",
         r"^(?:(?:now|then|and)\s*,?\s+)?(?:breathe (?:in|out)|inhale|exhale|as you "
         r"(?:breathe|inhale|exhale))\b",
         True, 'a movement paced by the breath ("Breathe out and round your back")'),

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

    # ---- exercise names from headings -----------------------------------------------------------
    rule("name-stretching-pair", "name-reword",
         r"(?P<keep>\band(?:\s+\w+){0,2})\s+stretching exercises?$",
         lambda m: f"{m['keep']} Stretch",
         "Hamstring and Back Stretching Exercises → Hamstring and Back Stretch"),
    rule("name-stretching", "name-reword", r"\s+(?:back\s+)?stretching exercises?$", "",
         "Knee to Chest Stretching Exercises → Knee to Chest"),
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
flatten glide curl shrug swing sweep pivot kick march pedal nudge
""".split())
"""Words an instruction to the listener starts with (after fillers such as "Now," or "Gently")."""

POSITION_VERBS = frozenset("""
lie lay kneel sit stand bend lean place put rest bring pull lift raise drop reach round arch
cross clasp hold grab straighten rotate twist tuck loop slide roll begin start hinge fold
""".split())
"""Instructions that put the body somewhere: a paragraph of these sets up the stretch after it."""

FIELDS = ("hold", "reps", "sets", "sides", "caution", "frequency", "equipment", "name", "skip",
          "end", "aside", "heading", "reword", "exercise-word", "not-exercise", "first-person",
          "second-person", "filler", "hold-context", "not-hold", "named-list", "side-named",
          "side-talk", "both-ways", "frequency-context", "sensation", "return", "breath-move",
          "shouted-step", "hold-first", "hold-word", "hold-again", "said-to-you", "during-step",
          "not-a-name", "not-a-title", "name-reword", "breath-pacing", "not-an-instruction",
          "frequency-one", "steps-elsewhere", "advice")


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


def reword(text: str, field: str = "reword") -> str:
    """Applies the rows of `field` (`reword`, `name-reword`), in order."""
    for row in rules_for(field):
        text = row.pattern.sub(lambda m, row=row: row.value(m), text, count=1)
    return text


def pattern(id: str) -> re.Pattern:
    """The pattern of the row `id`: for the rows read by id (a sentence's kind and context)."""
    for row in RULES:
        if row.id == id:
            return row.pattern
    raise KeyError(id)
