"""Text put into the words a person reads aloud, before it is synthesised.

Routines are written for the eye: "90-90 Hamstring Stretch", "hold 10-15 sec", "1/2 turn",
"approx. 30s". Voices read that literally ("ninety dash ninety", "one slash two", "sec"),
so `spoken_form` rewrites what is written into what is said, with one table of rules
(`RULES`) applied in order, then the routine's own `pronounce:` table for words the voice
gets wrong. The plan and transcript keep the written text; only synthesis and the speech
cache see the spoken form. Text with nothing to rewrite comes back identical, so the cache
keys of existing clips do not change.

The rules are for English. For other languages only `pronounce` applies.
Digits are kept as digits: every engine reads them well; it is the signs between and after
them (-, /, x, °, units) that they get wrong.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Callable, Mapping, Union

Replacement = Union[str, Callable[["re.Match[str]"], str]]

_NUM = r"(\d+(?:\.\d+)?)"
_STOP = r"(?:\.(?!\s*$|\s+[A-Z]))?"
"""An abbreviation's dot, consumed unless it also ends the sentence: the voice needs the stop."""
_FRACTION_WORDS = {2: ("half", "halves"), 3: ("third", "thirds"), 4: ("quarter", "quarters"),
                   8: ("eighth", "eighths")}
_SCALES = (5, 10)  # "6/10": a rating, said "6 out of 10" (stretch intensity), not "six tenths"
_ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen "
         "fourteen fifteen").split()
_MANY_BEFORE = re.compile(r"\d[ \t]+(?:\d+/|(?:to|or)[ \t]+)$")
_UNICODE_FRACTIONS = {"½": "1/2", "¼": "1/4", "¾": "3/4", "⅓": "1/3", "⅔": "2/3", "⅛": "1/8"}


def _unicode_fraction(m: re.Match[str]) -> str:
    whole = f"{m[1]} " if m[1] else ""
    return whole + _UNICODE_FRACTIONS[m[2]]


def _range(m: re.Match[str]) -> str:
    low, high = m[1], m[2]
    # Rising numbers are a range ("10-15 sec"); anything else is a pair of numbers that
    # names something ("90-90 stretch", both joints at 90 degrees) and is said as two numbers.
    return f"{low} to {high}" if float(low) < float(high) else f"{low} {high}"


def _after_number(abbreviation: str, singular: str, plural: str, space: str = r"[ \t]?",
                  end: str = _STOP) -> tuple[str, Replacement]:
    """A rule for a unit written after a number ("30s", "1 min", "2 ft"): said in full."""

    def say(m: re.Match[str]) -> str:
        before = m.string[max(0, m.start() - 40):m.start()]
        if _MANY_BEFORE.search(before):
            one = False  # "1 1/2 min", "1 to 2 min", "1 or 2 min" (but "up to 1 min": one)
        elif before.endswith("/"):
            one = True  # "1/2 min" is half a minute
        else:
            one = m[1] == "1"
        return f"{m[1]} {singular if one else plural}"

    return rf"(?<![\w.]){_NUM}{space}(?i:{abbreviation}){end}(?!\w)", say


def _abbreviation(written: str, said: str) -> tuple[str, Replacement]:
    """A rule for an abbreviation, with or without its dot, in any case ("Approx.", "vs")."""
    return rf"\b(?i:{written}){_STOP}(?!\w)", lambda m: _same_case(m[0], said)


def _same_case(written: str, said: str) -> str:
    """`said`, its first letter in the case of `written`'s: "Psoas" -> "So-as"."""
    if said and written[:1].isalpha() and said[0].isalpha():
        return (said[0].upper() if written[0].isupper() else said[0].lower()) + said[1:]
    return said


def _fraction(m: re.Match[str]) -> str:
    whole, top, bottom = m["whole"], int(m["top"]), int(m["bottom"])
    if bottom in _SCALES and not whole and 0 <= top <= bottom:
        return f"{top} out of {bottom}"
    if bottom not in _FRACTION_WORDS or not 0 < top < bottom:
        return m[0]  # a date, "24/7", a ratio: no reading is sure, so leave it as written
    name = _FRACTION_WORDS[bottom][top > 1]
    if whole:
        return f"{whole} and {'a' if top == 1 else _ONES[top]} {name}"
    return f"{_ONES[top]} {name}"


def _alternatives(m: re.Match[str]) -> str:
    words = m[0].split("/")
    return "and or" if m[0].lower() == "and/or" else " or ".join(words)


def _aside(m: re.Match[str]) -> str:
    inside = m[1].strip(" ,;:")
    if len(inside) > 1 and inside[0].isupper() and inside[1].islower():
        inside = inside[0].lower() + inside[1:]  # "(Easy)" is not the start of a sentence
    rest = m.string[m.end():]
    return f", {inside}," if re.match(r"[ \t]*\w", rest) else f", {inside}"


RULES: list[tuple[str, Replacement]] = [
    # "1½" -> "1 1/2", "½" -> "1/2": one spelling of fractions for the fraction rules below.
    (r"(?:(\d)[ \t]*)?([½¼¾⅓⅔⅛])", _unicode_fraction),
    # "w/o", "w/": note-taking shorthand, read as the words; before the slash rule below.
    (r"\b[wW]/[oO](?!\w)", "without"),
    (r"\b[wW]/(?:[ \t]+|(?=\w))", "with "),
    # "10-15", "15–20", "10 - 15": a range, said "10 to 15"; "90-90": two numbers. Not in
    # chains ("1-2-3") or dates, whose dashes mean something else.
    (rf"(?<![\w.\-–—/]){_NUM}[ \t]?[-–—][ \t]?{_NUM}(?![\d\-–—/]|\.\d)", _range),
    # "3 x 10", "3x10", "2 × 30s": "x" between numbers is "times", not the letter "ex".
    (r"(?<=\d)[ \t]*[xX×][ \t]*(?=\d)", " times "),
    # "3x", "3 x": a count of repetitions.
    (r"(?<=\d)[ \t]*[xX×](?!\w)", " times"),
    # "x3": the same count, written before the number.
    (r"(?<![\w.])[xX×](\d+)(?!\w)", r"\1 times"),
    # Units after a number, said in full; the voice says "sec", "ef tee", "thirty zee".
    # Only after a number: "min", "in", "sec" alone are (or may be) words.
    _after_number(r"s", "second", "seconds", space=""),  # "30s", written as the durations are
    _after_number(r"secs?", "second", "seconds"),  # "10 sec", "10 secs", "10 sec."
    _after_number(r"mins?", "minute", "minutes"),  # "2m" is left alone: metres or minutes?
    _after_number(r"hrs?", "hour", "hours"),
    _after_number(r"°|degs?", "degree", "degrees", end=""),
    _after_number(r"ft", "foot", "feet"),
    # "6 in." only with its dot and mid-sentence: "breathe 4 in, 4 out" and "count 4 in." are words.
    _after_number(r"in", "inch", "inches", end=r"\.(?=[ \t]*[a-z0-9,;(])"),
    _after_number(r"cm", "centimeter", "centimeters"),
    _after_number(r"mm", "millimeter", "millimeters"),
    _after_number(r"kg", "kilogram", "kilograms"),
    _after_number(r"lbs?", "pound", "pounds"),
    # "1 1/2" -> "1 and a half", "3/4" -> "three quarters", "6/10" -> "6 out of 10", instead
    # of "slash"; only fractions people say as such, so dates and "24/7" stay as written.
    (r"(?<![\w./])(?:(?P<whole>\d+)[ \t]+)?(?P<top>\d{1,2})/(?P<bottom>\d{1,2})(?![\w/]|\.\d)",
     _fraction),
    # "hip/knee" -> "hip or knee", "and/or" -> "and or": the slash between words is a choice.
    (r"(?<![\w/])[A-Za-z]+(?:/[A-Za-z]+)+(?![\w/])", _alternatives),
    # Latin and written abbreviations, said as the words they stand for.
    _abbreviation(r"approx", "approximately"),
    _abbreviation(r"e\.g", "for example"),
    _abbreviation(r"i\.e", "that is"),
    _abbreviation(r"etc", "et cetera"),
    _abbreviation(r"vs", "versus"),
    # "&" is "and" (some voices skip it); "#2" is "number 2", not "hash 2".
    (r"(?<=\S)[ \t]*&[ \t]*(?=\S)", " and "),
    (r"#(?=\d)", "number "),
    # "Psoas Stretch 1 (Easy)": voices skip brackets without a pause, so the aside runs into
    # the words before it ("one easy"); commas give it the pause a reader makes.
    (r"(?<=\w)[ \t]+\(\s*([^()\n]+?)\s*\)", _aside),
]
"""The rules, in the order they apply: (pattern, replacement), each said why above it."""

_COMPILED = [(re.compile(pattern), replacement) for pattern, replacement in RULES]


def spoken_form(text: str, pronounce: Mapping[str, str] = {}, language: str = "en") -> str:
    """The words a person reads aloud for `text`, for the voice to say.

    Applies `RULES` (English only: for another `language` they are skipped), then
    `pronounce`: whole words or phrases, matched case-insensitively, replaced by how they
    are said (the first letter keeps the case of the text's). Text with nothing to rewrite
    comes back unchanged; text with letters or digits never comes back empty.
    """
    spoken = text
    if language.replace("_", "-").split("-")[0].lower() == "en":
        for pattern, replacement in _COMPILED:
            spoken = pattern.sub(replacement, spoken)
    if pronounce:
        spoken = _pronounced(spoken, tuple(pronounce.items()))
    if not spoken.strip() and any(c.isalnum() for c in text):
        return text  # a `pronounce` entry said as nothing: better the written text than silence
    return spoken


def _pronounced(text: str, table: tuple[tuple[str, str], ...]) -> str:
    pattern, said = _pronounce_pattern(table)
    if pattern is None:
        return text

    def say(m: re.Match[str]) -> str:
        # .get: case-insensitive matching can match more than lower() maps back
        return _same_case(m[0], said.get(_key(m[0]), m[0]))

    return pattern.sub(say, text)


def _key(words: str) -> str:
    return " ".join(words.lower().split())


@lru_cache(maxsize=64)  # one routine's table serves every text of a build
def _pronounce_pattern(table: tuple[tuple[str, str], ...]) \
        -> tuple[re.Pattern[str] | None, dict[str, str]]:
    said = {_key(written): spoken for written, spoken in table if _key(written)}
    if not said:
        return None, said
    # Longest first, so that "psoas stretch" wins over "psoas"; spaces match any spacing.
    keys = sorted(said, key=len, reverse=True)
    alternatives = "|".join(r"\s+".join(map(re.escape, key.split())) for key in keys)
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE), said
