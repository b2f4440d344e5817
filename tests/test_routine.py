from pathlib import Path

import pytest

from routinecast.errors import RoutineError
from routinecast.models import Phase
from routinecast.routine import load_routine, slugify

from conftest import FIXTURES


def load_error(path) -> RoutineError:
    """The error loading `path` raises; it must be ours and one line."""
    with pytest.raises(RoutineError) as info:
        load_routine(path)
    assert "\n" not in str(info.value)
    return info.value

SPEC_EXAMPLE = """\
title: Low Back Stretches
description: Three gentle stretches for the whole back.
source: Back Stretching Exercises Video Series
language: en
equipment: [exercise mat]
defaults:
  hold: 20s
  rest: 8s
  countdown: 3
  breath: 5s
intro: >
  If you feel any undue stress, lighten the stretch or stop altogether.
outro: Well done. Take a moment before you get up.
exercises:
  - name: Child's Pose
    setup:
      - Kneel down on the mat and sit back on your heels.
      - Reach your arms in front of you, palms down on the mat.
    hold: 30s
    during: Hold the stretch and remember to breathe.
  - name: Cat and Camel
    setup: Start on your hands and knees.
    reps: 5
    phases:
      - say: As you exhale, round your back and drop your head.
        hold: 10s
      - say: Now arch your back and lift your head towards the ceiling.
        hold: 10s
  - name: Reclining Hip Stretch
    sides: [left, right]
    sets: 2
    setup: Lie on your back, cross your ankle over the other knee.
    hold: 1m
  - name: Butterfly
    hold: 5 breaths
"""


def test_spec_example_loads(write_routine):
    routine = load_routine(write_routine(SPEC_EXAMPLE))
    childs, cat, hip, butterfly = routine.exercises
    assert routine.title == "Low Back Stretches"
    assert routine.equipment == ("exercise mat",)
    assert routine.intro == "If you feel any undue stress, lighten the stretch or stop altogether."
    assert childs.id == "childs-pose"
    assert childs.setup[1] == "Reach your arms in front of you, palms down on the mat."
    assert childs.phases == (Phase(hold_ms=30_000, during="Hold the stretch and remember to breathe."),)
    assert cat.reps == 5 and [p.hold_ms for p in cat.phases] == [10_000, 10_000]
    assert hip.sides == ("left", "right") and hip.sets == 2 and hip.phases[0].hold_ms == 60_000
    assert hip.rest_ms == 8_000
    assert butterfly.phases[0].hold_ms == 25_000


def test_defaults_apply_when_missing(write_routine):
    routine = load_routine(write_routine("title: T\nexercises:\n  - name: A\n    sides: true\n"))
    (exercise,) = routine.exercises
    assert exercise.phases[0].hold_ms == 30_000
    assert exercise.sides == ("left", "right")
    assert routine.defaults.cues.countdown == 3 and routine.language == "en"


def test_sections_load_in_order():
    routine = load_routine(FIXTURES / "sections.yaml")
    assert not routine.flat
    assert [s.title for s in routine.sections] == ["The Hips", "The Back"]
    assert [e.id for e in routine.exercises] == ["hip-opener", "hip-hinge", "back-arch"]


def test_json_errors_name_the_line(write_routine):
    path = write_routine('{\n  "title": "J",\n  "exercises": [\n    {"name": "A",\n'
                         '     "hold": "-1s"}\n  ]\n}\n', "r.json")
    assert str(load_error(path)) == f'{path}:5: exercises[0].hold: "-1s" is not a positive duration'


@pytest.mark.parametrize("text, line, message", [
    ("title: T\nexercises:\n  - name: A\n    hold: -5s\n", 4,
     'exercises[0].hold: "-5s" is not a positive duration'),
    ("title: T\nexercises:\n  - name: A\n    hold: 0\n", 4,
     "exercises[0].hold: the number 0 is not a positive duration"),
    ("title: T\nexercises:\n  - name: A\n    hold: 3h\n", 4,
     'exercises[0].hold: "3h" is longer than the limit of 2h'),
    ("title: T\nexercises:\n  - name: A\n    hodl: 10s\n", 4,
     "exercises[0].hodl: unknown key (did you mean `hold`?)"),
    ("title: T\nexercises:\n  - name: A\n    hold: soon\n", 4,
     'exercises[0].hold: "soon" is not a duration (write e.g. 30s, 1m30s, 2 minutes, 5 breaths)'),
    ("title: T\nexercises:\n  - name: A\n  - name: A\n", 4,
     'exercises[1].name: its id "a" is already used by the exercise at line 3; '
     "give one of them an `id`"),
    ("title: T\nexercises:\n  - name: A\n    id: x\n  - name: B\n    id: x\n", 6,
     'exercises[1].id: duplicate id "x" (also used by the exercise at line 4)'),
    ("title: T\nexercises: []\n", 2, "exercises: is an empty list"),
    ('title: "Ring \\a bell"\nexercises:\n  - name: A\n', 1,
     "title: contains the control character U+0007; delete it"),
    ("title: T\n", 1, "needs `exercises` (a list) or `sections`"),
    ("exercises:\n  - name: A\n", 1, "`title` is required"),
    ("title: T\nexercises:\n  - hold: 3s\n", 3, "exercises[0]: `name` is required"),
    ("title: T\nexercises:\n  - name: A\n    reps: 0\n", 4,
     "exercises[0].reps: 0 is out of range (1 to 1000)"),
    ("title: T\nexercises:\n  - name: A\n    reps: two\n", 4,
     'exercises[0].reps: must be a whole number or a range of them, not "two" '
     '(write e.g. 8, or 7-10)'),
    ("title: T\nexercises:\n  - name: A\n    sides: [left, left]\n", 4,
     'exercises[0].sides[1]: "left" is listed twice'),
    ("title: T\nexercises:\n  - name: A\n    phases:\n      - {}\n", 5,
     "exercises[0].phases[0]: is empty; give it `say` and `hold`"),
    ("title: T\ntitle: U\nexercises:\n  - name: A\n", 2,
     "`title` appears twice in the same mapping (first at line 1)"),
    ("title: T\nexercise:\n  - name: A\n", 2, "exercise: unknown key (did you mean `exercises`?)"),
    ("title: T\nexercises:\n  - name: A\n    rest: -1s\n", 4, 'exercises[0].rest: "-1s" is negative'),
    ("title: T\ndefaults:\n  countdown: 20\nexercises:\n  - name: A\n", 3,
     "defaults.countdown: 20 is out of range (0 to 10)"),
    ("title: T\nvoice:\n  speed: 5\nexercises:\n  - name: A\n", 3,
     "voice.speed: 5 is out of range (0.5 to 2.0)"),
    ("title: T\nexercises:\n  - name: A\n    hold: 2 breaths\n    sides: maybe\n", 5,
     'exercises[0].sides: must be true or a list of side names like [left, right], not "maybe"'),
    ("title: T\nexercises:\n  - name: [A]\n", 3, "exercises[0].name: must be text, not a list"),
    ("- title: T\n", 1, "must be a mapping of keys (title, exercises, …), not a list"),
    ("title: T\nexercises:\n  - name: A\n   hold: 3s\n", 4,
     "invalid YAML: the indentation does not line up with the lines above (while parsing a "
     "block collection expected <block end>, but found '<block mapping start>')"),
    ("title: T\nintro: Note: hold still\nexercises:\n  - name: A\n", 2,
     "invalid YAML: a `: ` where it does not belong (put text that contains `: ` in quotes) "
     "(mapping values are not allowed here)"),
    ("title: T\nexercises:\n\t- name: A\n", 3,
     "invalid YAML: a tab; indent with spaces (while scanning for the next token found "
     "character '\\t' that cannot start any token)"),
    ("title: !!python/object:os.system x\nexercises:\n  - name: A\n", 1,
     "the tag !!python/object:os.system is not allowed in a routine; delete it"),
    ("title: T\nexercises:\n  - name: A\n    id: Not An Id\n", 4,
     'exercises[0].id: "Not An Id" is not a valid id: use lowercase letters, digits, - and _ '
     "(e.g. not-an-id)"),
    ("title: T\nsections:\n  - title: S\n    exercises: [{name: A}]\n  - title: S\n"
     "    exercises: [{name: B}]\n", 5,
     'sections[1].title: "S" is already the title of the section at line 3'),
    ("title: T\nlanguage: english please\nexercises:\n  - name: A\n", 2,
     'language: "english please" is not a language tag (e.g. en, en-GB, de)'),
])
def test_mistakes_name_file_line_and_key(write_routine, text, line, message):
    path = write_routine(text)
    assert str(load_error(path)) == f"{path}:{line}: {message}"


def test_file_level_problems(tmp_path, write_routine):
    with pytest.raises(RoutineError, match=r"nope\.yaml: no such file"):
        load_routine(tmp_path / "nope.yaml")
    with pytest.raises(RoutineError, match=r"is a folder, not a routine file \(give the \.yaml"):
        load_routine(tmp_path)
    with pytest.raises(RoutineError, match=r"unsupported file type `\.txt`"):
        load_routine(write_routine("title: T", "r.txt"))
    bad = tmp_path / "latin1.yaml"
    bad.write_bytes("title: T\nintro: caf\xe9\n".encode("latin-1"))
    with pytest.raises(RoutineError, match=r"latin1\.yaml:2: is not UTF-8 text"):
        load_routine(bad)
    with pytest.raises(RoutineError, match=r":1: is empty"):
        load_routine(write_routine(""))
    bom = tmp_path / "bom.yaml"
    bom.write_bytes(b"\xef\xbb\xbftitle: T\nexercises:\n  - name: A\n")
    assert load_routine(bom).title == "T"


def test_alias_bomb_is_refused_quickly(write_routine):
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [*a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, "
              f"*a{i-1}, *a{i-1}, *a{i-1}]" for i in range(1, 9)]
    path = write_routine("\n".join(lines) + "\ntitle: T\nexercises: [{name: A}]\n")
    with pytest.raises(RoutineError, match="has more than 100000 values"):
        load_routine(path)


@pytest.mark.parametrize("name, slug", [
    ("Child's Pose", "childs-pose"), ("90/90 Hamstring", "90-90-hamstring"),
    ("  Café  Stretch! ", "cafe-stretch"), ("!!!", ""),
])
def test_slugify(name, slug):
    assert slugify(name) == slug


def test_every_fixture_file_is_named_for_its_state():
    for path in FIXTURES.glob("bad-*.yaml"):
        with pytest.raises(RoutineError):
            load_routine(Path(path))


@pytest.mark.parametrize("text, line, message", [
    ("title: T\nexercises:\n  - name: A\n    hold: '" + "9" * 400 + "'\n", 4, "is not a duration"),
    ("title: T\nexercises:\n  - name: A\n    hold: " + "9" * 320 + "s\n", 4, "is not a duration"),
    ("title: T\nintro: " + "[" * 2000 + "]" * 2000 + "\nexercises:\n  - name: A\n", None,
     "nested too deeply"),
    ("title: T\nexercises:\n  - name: A\n    <<: 5\n", 3, "cannot merge"),
    ("title: T\nexercises:\n  - name: A\n    reps: !!int x\n", 4, "cannot read value 'x' as int"),
    ("title: T\nexercises:\n  - name: A\n    reps: !!bool x\n", 4, "cannot read value 'x' as bool"),
    ("title: T\x07\nexercises:\n  - name: A\n", 1, "contains the control character U+0007"),
    ("title: T\nexercises:\n  - name: A\n    sides: [On, Off]\n", 4,
     "must be text, not the boolean true (put words like yes, no, on and off in quotes)"),
])
def test_hostile_input_is_our_error(write_routine, text, line, message):
    error = load_error(write_routine(text))
    assert message in str(error) and error.line == line


def test_merge_keys_let_written_keys_override(write_routine):
    routine = load_routine(write_routine(
        "title: T\nexercises:\n  - &base {name: A, hold: 5s, reps: 2}\n"
        "  - <<: *base\n    name: B\n  - <<: *base\n    name: C\n    hold: 7s\n"))
    assert [(e.name, e.phases[0].hold_ms, e.reps) for e in routine.exercises] == [
        ("A", 5000, 2), ("B", 5000, 2), ("C", 7000, 2)]


def test_json_with_tabs_and_escaped_emoji(write_routine):
    path = write_routine('{\n\t"title": "Stretch \\ud83d\\ude00",\n\t"exercises": '
                         '[{"name": "A"}]\n}\n', "r.json")
    routine = load_routine(path)
    assert routine.title == "Stretch \U0001F600"
    routine.title.encode("utf-8")


def test_errors_come_in_file_order(write_routine):
    path = write_routine("title: [T]\nexercises:\n  - name: A\n    hold: -1s\n")
    with pytest.raises(RoutineError, match=":1: title: must be text"):
        load_routine(path)


def test_empty_default_means_the_default(write_routine):
    routine = load_routine(write_routine("title: T\ndefaults: {breath: , hold: }\n"
                                         "exercises:\n  - name: A\n    hold: 2 breaths\n"))
    assert routine.exercises[0].phases[0].hold_ms == 10_000
