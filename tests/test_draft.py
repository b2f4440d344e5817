"""`routinecast draft`: the five seed articles, hostile input, URLs (a local server on
127.0.0.1 only), the command line, and one seed draft planned and built for real (slow)."""

from __future__ import annotations

import http.server
import re
import socket
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml

from routinecast.draft import FetchError, check, draft, draft_text, second_person
from routinecast.draft.fetch import MAX_BYTES
from routinecast.errors import InputError, RoutinecastError
from routinecast.routine import load_routine

from conftest import CONTENT, SEEDS
from test_draft_corpus import ARTICLES, both_sides_said, pair
from test_draft_corpus import spoken_texts as exercise_texts

SEED_ROUTINES = {"000": "low-back-stretches", "001": "lower-back-pain-stretches",
                 "002": "directed-lower-back-stretching", "003": "back-stretching-exercises",
                 "004": "massage-therapist-lower-back-stretches"}


def seed(prefix: str) -> Path:
    """The seed article `prefix`; the test fails (it does not skip) when it is missing: the
    issue's first condition is these five drafts."""
    found = sorted(SEEDS.glob(f"{prefix}_*.txt")) if SEEDS.is_dir() else []
    if not found:
        pytest.fail(f"seed article {prefix}_*.txt not found: the seed articles are expected in "
                    f"{SEEDS} (shared/seeds beside the checkout, as CI lays them out)",
                    pytrace=False)
    return found[0]


def test_a_missing_seed_fails_rather_than_skips(monkeypatch, tmp_path):
    import test_draft
    monkeypatch.setattr(test_draft, "SEEDS", tmp_path / "shared" / "seeds")
    with pytest.raises(BaseException) as caught:  # pytest's skip and fail are BaseExceptions
        seed("000")
    assert caught.type is pytest.fail.Exception  # a fail, not a skip
    assert re.fullmatch(r"seed article 000_\*\.txt not found: the seed articles are expected in "
                        rf"{re.escape(str(tmp_path))}/shared/seeds \(.*\)", str(caught.value))


def content_names(path: Path) -> list[list[str]]:
    """The exercises of a content routine as it is now (sections or not): each its name and,
    when it has one, its id (the name may have been reworded since the id was chosen)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    exercises = data.get("exercises") or [ex for section in data.get("sections", [])
                                          for ex in section["exercises"]]
    return [[ex["name"]] + ([ex["id"]] if ex.get("id") else []) for ex in exercises]


_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
          "eight": 8, "nine": 9, "ten": 10, "fifteen": 15, "twenty": 20, "thirty": 30,
          "sixty": 60, "a": 1}


def article_seconds(text: str, breath: float = 5) -> list[float]:
    """Every duration the article spells (written independently of the drafter's rules):
    "15 - 20 seconds" → 15, 20; "a minute or so" → 60; "5 breaths" → 25."""
    number = r"(\d+|one|two|three|four|five|six|seven|eight|nine|ten|fifteen|twenty|thirty|sixty|a)"
    out = []
    for m in re.finditer(rf"{number}(?:\s*(?:-|to)\s*{number})?\s*(seconds?|minutes?|breaths?)",
                         text, re.IGNORECASE):
        scale = {"s": 1, "m": 60, "b": breath}[m[3][0].lower()]
        for value in (m[1], m[2]):
            if value:
                out.append(float(_WORDS.get(value.lower(), value if value.isdigit() else 0))
                           * scale)
    out += [5.0 * 1 for _ in re.finditer(r"count of (five|5)\b", text, re.IGNORECASE)]
    return out


def hold_seconds(value: str, breath: float = 5) -> tuple[float, float]:
    m = re.fullmatch(r"([\d.]+)(?:-([\d.]+))?\s*(s|m| min| breaths?)", value)
    assert m, value
    scale = {"s": 1, "m": 60, " min": 60}.get(m[3], breath)
    return float(m[1]) * scale, float(m[2] or m[1]) * scale


# -- the seed articles --------------------------------------------------------------------------


@pytest.mark.parametrize("prefix", sorted(SEED_ROUTINES))
def test_seed_drafts_validate_and_have_every_exercise_of_its_content_routine(prefix):
    path = seed(prefix)
    result = draft(path)
    routine = check(result)
    assert len(routine.exercises) == len(result.exercises)
    content = CONTENT / f"{SEED_ROUTINES[prefix]}.yaml"
    wanted = content_names(content)
    found = result.names
    pairs = pair(wanted, found)
    missing = [names[0] for i, names in enumerate(wanted) if i not in pairs]
    assert not missing, f"{path.name}: no draft exercise for {missing}; drafted {found}"
    assert len(set(pairs.values())) == len(pairs)  # one to one
    # every hold taken from the article lies within the numbers of the exercise's own part of
    # it: from its name's line to the next exercise's
    lines = path.read_text(encoding="utf-8").splitlines()
    starts = sorted({ex.name.line for ex in result.exercises} | {len(lines) + 1})
    for j in pairs.values():
        ex = result.exercises[j]
        end = next(line for line in starts if line > ex.name.line)
        spelt = article_seconds("\n".join(lines[ex.name.line - 1:end - 1]))
        for hold in [ex.hold] + [phase.hold for phase in ex.phases]:
            if hold is None or hold.words is None:
                continue
            lo, hi = hold_seconds(str(hold.value))
            assert lo in spelt and hi in spelt, (ex.name.value, ex.name.line, end, hold.value,
                                                 spelt)


def test_seed_pairs_prefer_the_same_words_to_a_subset():
    """Seed 003 has "Hamstring and Back Stretch" and "Hamstring and Lower Back Stretch"; its
    content routine "Hamstring Stretch" and "Standing Hamstring and Low Back Stretch". Each
    name's words are a subset of both others', so only the share of words in common tells the
    pairs apart."""
    wanted = [["Hamstring Stretch"], ["Standing Hamstring and Low Back Stretch"]]
    assert pair(wanted, ["Hamstring and Lower Back Stretch", "Hamstring and Back Stretch"]) \
        == {0: 1, 1: 0}
    assert pair(wanted, ["Hamstring and Back Stretch", "Hamstring and Lower Back Stretch"]) \
        == {0: 0, 1: 1}


@pytest.mark.parametrize("prefix", sorted(SEED_ROUTINES))
def test_seed_drafts_speak_in_the_second_person(prefix):
    data = yaml.safe_load(draft(seed(prefix)).text)
    for text in spoken_texts(data):
        assert second_person(text), text
        assert text[0].isupper() and text.endswith((".", "?")), text
        assert not re.search(r"click here|advertisement|\bvideo\b", text, re.IGNORECASE), text


def spoken_texts(data: dict) -> list[str]:
    out = [data[key] for key in ("intro",) if data.get(key)]
    for ex in data["exercises"]:
        out += exercise_texts(ex)
    return out


@pytest.mark.parametrize("prefix", sorted(SEED_ROUTINES))
def test_seed_drafts_say_one_side_at_a_time(prefix):
    assert not both_sides_said(yaml.safe_load(draft(seed(prefix)).text))


def test_sides_named_in_the_steps_are_filled_per_side(tmp_path):
    """"your right ankle on your left knee" is said "your left ankle on your right knee" on the
    second side; the draft starts on the side the steps name."""
    from routinecast.plan import spoken_texts as planned_texts
    result = draft_text("Stretches\n\n## Figure Four\n\nLie on your back and rest your right "
                        "ankle on your left knee. Hold for 20 seconds. Then pull your left thigh "
                        "toward your chest and hold for 20 seconds. Repeat on the other side.\n",
                        "four.md")
    data = yaml.safe_load(result.text)
    assert data["exercises"][0]["sides"] == ["right", "left"]
    assert [phase["say"] for phase in data["exercises"][0]["phases"]] == [
        "Lie on your back and rest your {side} ankle on your {other side} knee.",
        "Pull your {other side} thigh toward your chest and hold."]
    assert "# \"on the other side\" (line 5); the steps start on the right" in result.text
    path = tmp_path / "four.yaml"
    path.write_text(result.text, encoding="utf-8")
    said = [text for text in planned_texts(load_routine(path))
            if "ankle" in text or "thigh" in text]
    assert said == ["Lie on your back and rest your right ankle on your left knee.",
                    "Pull your left thigh toward your chest and hold.",
                    "Lie on your back and rest your left ankle on your right knee.",
                    "Pull your right thigh toward your chest and hold."]


@pytest.mark.parametrize("steps, sides", [
    ("Stand tall. Rotate your trunk to the right, then to the left. Repeat 10 times.", None),
    ("Sit tall and twist to the left as far as is comfortable, then back to the right. "
     "Do 8 twists.", None),
    ("Sit tall and rotate at the torso from side to side. Repeat 10 times.", None),
    ("Lie on your back and hug one knee. Hold for 20 seconds. Repeat on the other side.", True),
    ("Cross one ankle over the other knee and hold for 20 seconds, then switch legs.", True),
    ("Lean over to the right and hold for 15 seconds, then lean to the left and hold for 15 "
     "seconds.", ["right", "left"]),
    ("Twist to the right for 20 seconds, then to the left.", ["right", "left"]),
])
def test_a_movement_both_ways_in_one_rep_is_not_sides(steps, sides):
    """Turning to the right, then to the left, with no hold between, is one movement done
    in every rep: no `sides` (which would do the whole exercise twice), and said whole. A
    hold on each side, or "the other side" / "switch legs", is sides."""
    result = draft_text(f"Stretches\n\n## Trunk Stretch\n\n{steps}\n", "turns.md")
    exercise = yaml.safe_load(result.text)["exercises"][0]
    assert exercise.get("sides") == sides, result.text
    said = " ".join(exercise_texts(exercise))
    if sides is None and "then" in steps:
        assert re.search(r"right.*then.*left|left.*then.*right", said), said


@pytest.mark.parametrize("prefix", sorted(SEED_ROUTINES))
def test_seed_drafts_have_sides_only_where_their_content_routine_does(prefix):
    """No exercise is drafted with sides that its content routine does without: seed 004's
    torso twist, "rotate at the torso from side to side", turns both ways in each rep. (A
    draft may miss sides an article leaves unsaid.)"""
    content = CONTENT / f"{SEED_ROUTINES[prefix]}.yaml"
    data = yaml.safe_load(content.read_text(encoding="utf-8"))
    exercises = data.get("exercises") or [ex for section in data.get("sections", [])
                                          for ex in section["exercises"]]
    result = draft(seed(prefix))
    for i, j in pair(content_names(content), result.names).items():
        drafted = result.exercises[j]
        assert not drafted.sides or exercises[i].get("sides"), (
            f"{drafted.name.value}: drafted with sides ({drafted.sides.words!r}), "
            f"{exercises[i]['name']} has none")


def test_an_exercise_whose_steps_are_in_a_video_gets_a_placeholder():
    """Seed 001's Tensor Fascia Latae stretch leaves its steps to a video and says only a
    tip and a word of care: those are not said as its steps, but kept in its notes; the steps
    are a placeholder to write, said so in a comment and counted in the summary."""
    result = draft(seed("001"))
    name = "Tensor Fascia Latae, IT Band Stretch"
    data = yaml.safe_load(result.text)
    tfl = next(ex for ex in data["exercises"] if ex["name"] == name)
    assert exercise_texts(tfl) == [f"Get into position for the {name}."]
    assert "physical support directly in front of you" in tfl["notes"]
    assert "don't rush into doing this" in tfl["notes"]
    lines = result.text.splitlines()
    setup = lines.index(f"    setup: Get into position for the {name}.  # line 83")
    assert lines[setup - 1] == "    # the article gives no steps (a video?): write them"
    assert f"steps of “{name}”" in result.summary
    assert "steps" in next(ex for ex in result.exercises if ex.name.value == name).defaulted
    # the others of the article, whose steps are its own, are as they were
    assert all(not exercise_texts(ex)[0].startswith("Get into position")
               for ex in data["exercises"] if ex["name"] != name)


def test_a_video_with_steps_of_its_own_keeps_them():
    result = draft_text("Stretches\n\n## Wall Lean\n\nWatch the video below first. Stand "
                        "facing a wall and lean into it. Hold for 20 seconds.\n\n## Hip Tip\n\n"
                        "It's best to watch me do this in the video. Make sure you have a chair "
                        "in front of you. Hold for 30 seconds.\n", "video.md")
    data = yaml.safe_load(result.text)
    lean, tip = data["exercises"]
    assert lean["setup"] == "Stand facing a wall and lean into it." and lean["hold"] == "20s"
    assert exercise_texts(tip) == ["Get into position for the Hip Tip."]
    assert tip["hold"] == "30s" and tip["equipment"] == ["chair"]
    assert tip["notes"] == "Make sure you have a chair in front of you."
    assert "steps of Hip Tip" in result.summary and "hold of Hip Tip" not in result.summary


def test_a_video_mentioned_beside_steps_of_any_verb_keeps_them():
    """One mention of a video does not make an exercise's steps a placeholder: "Tilt your
    head …" is an instruction though no position verb starts it, so it is said, with its
    sides, and the exercise is not counted as steps to write."""
    result = draft_text("Stretches\n\n## Neck Tilt\n\nTilt your head toward your right "
                        "shoulder until you feel a stretch. Hold for 20 seconds, then repeat on "
                        "the left. You can watch the video below.\n", "neck.md")
    tilt = yaml.safe_load(result.text)["exercises"][0]
    assert tilt["setup"] == "Tilt your head toward your {side} shoulder until you feel a stretch."
    assert tilt["sides"] == ["right", "left"] and tilt["hold"] == "20s"
    assert "notes" not in tilt and "write them" not in result.text
    assert "steps of" not in result.summary


@pytest.mark.parametrize("steps, said", [
    ("Stand tall. Lean to the right, then to the left, holding each side for 20 seconds.",
     ["Stand tall.", "Lean to the {side}."]),
    ("Bend to the right, then to the left, and hold for 20 seconds.", ["Bend to the {side}."]),
    ("Turn your head to the right, then to the left, staying 20 seconds each way.",
     ["Turn your head to the {side}."]),
    ("Sit tall, hold the chair seat with both hands and lean to the right, then to the left. "
     "Stay there for 20 seconds.",
     ["Sit tall, hold the chair seat with both hands and lean to the {side}."]),
])
def test_a_hold_after_both_directions_is_sides(steps, said):
    """A hold, a duration or "each side" after "to the right, then to the left" (or a hold
    anywhere in the sentence) holds each side: sides, and each side's step names one side,
    not both ("Lean to the {side}, then to the {other side}, holding each side"). Without
    one, "Rotate your trunk to the right, then to the left" is still no sides (above)."""
    result = draft_text(f"Stretches\n\n## Side Lean\n\n{steps}\n", "lean.md")
    exercise = yaml.safe_load(result.text)["exercises"][0]
    assert exercise.get("sides") == ["right", "left"], result.text
    assert exercise_texts(exercise) == said, result.text
    assert exercise["hold"] == "20s"


def test_every_drafted_value_says_where_it_comes_from():
    text = draft(seed("003")).text
    for line in text.splitlines():
        if re.match(r"\s*(?:- )?(?:hold|reps|sets|sides|name|title|language|equipment|intro|"
                    r"outro|say|setup|during): ", line) or re.match(r"\s+- [A-Z]", line):
            if line.strip() not in ("setup:", "phases:"):
                assert "  # " in line, line
    assert '# "15 - 20 seconds" (line 13)' in text
    assert "defaulted" in text


def test_summary_names_the_exercises_holds_and_defaults():
    result = draft(seed("000"))
    assert re.fullmatch(r"3 exercises; holds 10 s; 3 values defaulted \(hold of Child's Pose, "
                        r"reps of Cat and Camel, .*\); 4 sentences left out \(see the draft's "
                        r"comments\)", result.summary), result.summary


def test_sentences_left_out_are_listed_under_their_exercise_and_counted():
    result = draft_text("Stretches\n\n## Knee Hug\n\nLie on your back. This stretch was first "
                        "taught by a famous rowing coach in the nineteen twenties, long before "
                        "yoga mats. Hug both knees. Hold for 20 seconds.\n\n## Cat\n\nKneel "
                        "on all fours. Round your back and hold for 5 seconds.\n", "left.md")
    assert result.summary.endswith("; 1 sentence left out (see the draft's comments)")
    lines = result.text.splitlines()
    comment = ('    # left out (line 5): "This stretch was first taught by a famous rowing '
               'coach in…"')
    assert comment in lines
    assert lines.index(comment) < lines.index("  - name: Cat  # \"Cat\" (line 7)")
    assert "rowing" not in "".join(spoken_texts(yaml.safe_load(result.text)))


def test_a_shouted_instruction_is_a_step():
    """Seed 001's Hamstring Stretch turns on "NOW THE TRICK: … FLEX YOUR THIGH MUSCLES": it is
    a step of the draft (in sentence case), not a sentence left out."""
    result = draft(seed("001"))
    hamstring = next(ex for ex in result.exercises if ex.name.value == "Hamstring Stretch")
    setup = " ".join(s.text for s in hamstring.setup)
    assert "with only your bodyweight, flex your thigh muscles" in setup
    assert not any("FLEX" in s.text for s in hamstring.left_out)


def test_seed_drafts_read_their_smaller_points():
    """The audit's smaller points: an outro only of what is said of all the stretches, a flow
    without its breathing advice as a move, the steps an article leaves out counted, a
    caution in the introduction, permission and praise not said."""
    d001, d002, d004 = (yaml.safe_load(draft(seed(p)).text) for p in ("001", "002", "004"))
    assert d001["outro"] == ("That's the end of the routine. Try to do these stretches a few "
                             "times a week.")  # not "many times a day", said of one stretch
    passive = d001["exercises"][-1]
    assert passive["name"] == "Passive Low Back Stretch"
    assert not re.search(r"feel free|notice how much", " ".join(exercise_texts(passive)), re.I)
    cat = d004["exercises"][0]
    assert len(cat["flow"]) == 3 and "Inhale as you lift your head" in cat["setup"][-1]
    assert d004["intro"].startswith("Stretches for your lower back should be done carefully "
                                    "to avoid injury.")
    assert "steps of Kneeling Hip Flexor Stretch" in draft(seed("002")).summary
    assert len([ex for ex in d002["exercises"]
                if exercise_texts(ex)[0].startswith("Get into position")]) == 3


def test_intro_lines_and_names_with_commas_read_plainly():
    result = draft_text("Care\n\nStop if you feel pain. Never force a stretch.\n\n"
                        "## Tensor Fascia Latae, IT Band Stretch\n\nStand beside a wall and "
                        "cross your legs.\n\n## Knee Hug\n\nLie down and hug your knees. "
                        "Hold for 20 seconds.\n", "care.md")
    assert re.search(r"^intro: .*  # line 3$", result.text, re.M), result.text
    assert "hold of “Tensor Fascia Latae, IT Band Stretch”" in result.summary


def test_drafts_are_deterministic():
    assert draft(seed("001")).text == draft(seed("001")).text


# -- hostile input ------------------------------------------------------------------------------


def test_a_50_mb_page_is_refused_before_it_is_read(tmp_path):
    page = tmp_path / "huge.html"
    with page.open("wb") as handle:
        handle.truncate(50 * 1024 * 1024)
    with pytest.raises(InputError, match=r"too large to be an article \(50\.0 MB; at most 5\.0 MB\)"):
        draft(page)


def test_binary_data_is_refused(tmp_path):
    blob = tmp_path / "blob.txt"
    blob.write_bytes(bytes(range(256)) * 64)
    with pytest.raises(InputError, match="is binary data, not an article"):
        draft(blob)
    image = tmp_path / "photo.html"
    image.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    with pytest.raises(InputError, match="is a PNG image, not an article"):
        draft(image)


def test_a_page_with_no_article_is_one_line(tmp_path):
    page = tmp_path / "menu.html"
    page.write_text("<html><body><nav><ul><li><a href='/'>Home</a></li><li><a href='/shop'>"
                    "Shop</a></li></ul></nav><footer>Copyright 2026</footer></body></html>")
    with pytest.raises(InputError) as caught:
        draft(page)
    assert "\n" not in str(caught.value)
    assert re.search(r"no (?:article|exercise) found", str(caught.value))
    prose = tmp_path / "essay.txt"
    prose.write_text("Why Backs Hurt\n\nMost back pain comes from long hours of sitting. "
                     "The muscles beside the spine tire and tighten.\n")
    with pytest.raises(InputError, match="no exercise found in the article"):
        draft(prose)


def test_scripts_in_a_page_are_neither_run_nor_drafted(tmp_path):
    page = tmp_path / "trap.html"
    page.write_text(
        "<html><head><script>fetch('http://192.0.2.1/x'); window.pwned = 1;</script></head>"
        "<body><article><h1>One Stretch</h1><h2>Knee Hug</h2>"
        "<p>Lie on your back and hug both knees. Hold for 20 seconds.</p>"
        "<script>document.write('<p>Hold for 99 seconds.</p>')</script>"
        "<noscript>Hold for 88 seconds.</noscript>"
        "<p onclick=\"alert('Hold for 77 seconds')\">Breathe slowly.</p>"
        "</article></body></html>")
    result = draft(page)
    assert [ex.hold.value for ex in result.exercises] == ["20s"]
    # the draft names its source, whose folder pytest numbers (pytest-177 …): not the page's
    assert not re.search(r"99|88|77|fetch|pwned|alert|document",
                         result.text.replace(str(page), ""))


def test_an_empty_file_and_a_folder_are_refused(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("  \n")
    with pytest.raises(InputError, match="is empty"):
        draft(empty)
    with pytest.raises(InputError, match="is a folder"):
        draft(tmp_path)
    with pytest.raises(InputError, match="no such file"):
        draft(tmp_path / "missing.txt")


# -- URLs: a server on 127.0.0.1 ---------------------------------------------------------------


@contextmanager
def local_server(handler_class) -> str:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler_class)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class _Pages(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.path == "/article.html":
            body = (ARTICLES / "nav-adverts.html").read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif self.path == "/huge-declared":
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(50 * 1024 * 1024))
            self.end_headers()
            self.wfile.write(b"<html>" * 100)
        elif self.path == "/huge-streamed":
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            chunk = b"<p>Hold for 30 seconds.</p>\n" * 4096
            try:
                for _ in range(MAX_BYTES // len(chunk) + 2):
                    self.wfile.write(chunk)
            except OSError:
                pass
        else:
            self.send_error(404)


def test_a_url_is_drafted_with_the_url_as_source():
    with local_server(_Pages) as base:
        result = draft(f"{base}/article.html")
    assert result.source == f"{base}/article.html"
    assert result.names == ["Knee to Chest", "Cat Cow", "Lying Spinal Twist"]
    assert f"source: {base}/article.html" in result.text


def test_a_url_too_large_is_refused():
    with local_server(_Pages) as base:
        with pytest.raises(InputError, match="too large to be an article"):
            draft(f"{base}/huge-declared")
        with pytest.raises(InputError, match="too large to be an article"):
            draft(f"{base}/huge-streamed")


def test_a_missing_page_is_a_network_failure():
    with local_server(_Pages) as base:
        with pytest.raises(FetchError, match="the server answered 404"):
            draft(f"{base}/gone.html")


def test_a_url_that_never_answers_times_out():
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)  # connections complete in the backlog; nothing is ever answered
    try:
        port = listener.getsockname()[1]
        with pytest.raises(FetchError, match=r"no answer within 0\.5 s") as caught:
            draft(f"http://127.0.0.1:{port}/article", timeout=0.5)
        assert not isinstance(caught.value, InputError)  # exit status 1, not 2
        assert isinstance(caught.value, RoutinecastError)
    finally:
        listener.close()


DRIPPED = b"Knee Hug\n\nLie on your back and hug your knees. Hold for 20 seconds.\n"


class _Drip(http.server.BaseHTTPRequestHandler):
    """A server that answers a byte every 0.1 s: its head (/head) or its body (/body)."""

    def log_message(self, *args):
        pass

    def do_GET(self):
        head = (b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n"
                b"Content-Length: %d\r\n\r\n" % len(DRIPPED))
        try:
            if self.path == "/body":
                self.wfile.write(head)
                self.wfile.flush()
            for byte in (head + DRIPPED if self.path == "/head" else DRIPPED):
                time.sleep(0.1)
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
        except OSError:
            pass  # the client gave up


@pytest.mark.parametrize("path, message", [
    ("/body", r"the page did not arrive in full within 1 s"),
    ("/head", r"no answer within 1 s"),
])
def test_the_timeout_bounds_the_whole_fetch(path, message):
    """A server dripping a byte every 0.1 s would take 7 s; the fetch ends at 1 s."""
    with local_server(_Drip) as base:
        start = time.monotonic()
        with pytest.raises(FetchError, match=message):
            draft(f"{base}{path}", timeout=1)
        elapsed = time.monotonic() - start
    assert 0.9 <= elapsed < 2.0, elapsed


def test_cli_a_dripping_url_fails_at_the_timeout(run, tmp_path):
    out = tmp_path / "out.yaml"
    with local_server(_Drip) as base:
        start = time.monotonic()
        ran = run("draft", f"{base}/body", "--timeout", "1", "-o", out)
        elapsed = time.monotonic() - start
    assert ran.exit_code == 1
    assert ran.stderr.strip().splitlines() == [
        f"{base}/body: the page did not arrive in full within 1 s"], ran.stderr
    assert 0.9 <= elapsed < 2.0, elapsed
    assert not out.exists() and not list(tmp_path.iterdir())


def test_an_https_url_that_never_answers_times_out():
    """The TLS handshake waits only for what is left of the deadline."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    try:
        start = time.monotonic()
        with pytest.raises(FetchError, match=r"no answer within 0\.5 s"):
            draft(f"https://127.0.0.1:{listener.getsockname()[1]}/article", timeout=0.5)
        assert time.monotonic() - start < 1.5
    finally:
        listener.close()


@contextmanager
def hanging_resolver(monkeypatch):
    """Name lookups that hang (a dead DNS server) until the test ends; yields the hosts they
    were asked for."""
    asked: list[str] = []
    release = threading.Event()

    def getaddrinfo(host, *args, **kwargs):
        asked.append(host)
        release.wait(30)  # far past any deadline under test; released at the end
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    try:
        yield asked
    finally:
        release.set()


def test_a_name_lookup_that_hangs_ends_at_the_deadline(monkeypatch):
    """The system resolver takes no timeout; the lookup is waited for only as long as the
    deadline leaves, and ends as a server that never answers does."""
    with hanging_resolver(monkeypatch) as asked:
        start = time.monotonic()
        with pytest.raises(FetchError, match=r"^http://articles\.example/stretches: no answer "
                                             r"within 0\.5 s$") as caught:
            draft("http://articles.example/stretches", timeout=0.5)
        elapsed = time.monotonic() - start
    assert asked  # the lookup was made, and was what hung
    assert not isinstance(caught.value, InputError)  # exit status 1, not 2
    assert 0.4 <= elapsed < 1.5, elapsed


def test_cli_a_name_lookup_that_hangs_is_exit_1(run, tmp_path, monkeypatch):
    out = tmp_path / "out.yaml"
    with hanging_resolver(monkeypatch):
        start = time.monotonic()
        ran = run("draft", "https://articles.example/stretches", "--timeout", "0.5", "-o", out)
        elapsed = time.monotonic() - start
    assert ran.exit_code == 1
    assert ran.stderr.strip().splitlines() == [
        "https://articles.example/stretches: no answer within 0.5 s"], ran.stderr
    assert elapsed < 1.5, elapsed
    assert not out.exists()


def test_a_fetch_fails_loudly_if_http_client_stops_using_its_socket_hook(monkeypatch):
    """The deadline's name lookup goes in through http.client's private `_create_connection`:
    an http.client that opened its socket another way would lose it silently, so the fetch
    says so instead (and works as ever while the hook is used: the other URL tests)."""
    import http.client

    def connect(self):  # an http.client of the future, opening the socket itself
        self.sock = socket.create_connection((self.host, self.port), self.timeout)

    monkeypatch.setattr(http.client.HTTPConnection, "connect", connect)
    with local_server(_Pages) as base:
        with pytest.raises(RuntimeError, match="_create_connection"):
            draft(f"{base}/article.html", timeout=5)


def test_a_name_that_does_not_resolve_is_a_network_failure(monkeypatch):
    def getaddrinfo(host, *args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    with pytest.raises(FetchError, match=r"^http://nowhere\.example/: cannot be fetched \(.*Name "
                                         r"or service not known\)$"):
        draft("http://nowhere.example/", timeout=5)


def test_only_http_and_https_are_fetched():
    with pytest.raises(InputError, match="only http:// and https://"):
        draft("file:///etc/passwd")


# -- the command line --------------------------------------------------------------------------


def test_cli_writes_the_draft_named_after_the_headline(run, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ran = run("draft", ARTICLES / "numbered-steps.txt")
    assert ran.exit_code == 0, ran.output
    assert (tmp_path / "five-minutes-on-the-floor.yaml").is_file()
    assert "3 exercises; holds 10-30 s" in ran.stderr
    assert "wrote five-minutes-on-the-floor.yaml" in ran.stdout
    load_routine(tmp_path / "five-minutes-on-the-floor.yaml")
    again = run("draft", ARTICLES / "numbered-steps.txt")
    assert again.exit_code == 2
    assert "already exists; use --force" in again.stderr
    assert run("draft", ARTICLES / "numbered-steps.txt", "--force").exit_code == 0


def test_cli_prints_the_draft_with_dash(run, tmp_path):
    ran = run("draft", ARTICLES / "breaths.md", "-o", "-")
    assert ran.exit_code == 0
    assert yaml.safe_load(ran.stdout)["title"] == "Breath-Timed Yoga for the Back"
    assert not list(tmp_path.iterdir())


def _huge(path: Path) -> None:
    with path.open("wb") as handle:
        handle.truncate(50 * 1024 * 1024)


@pytest.mark.parametrize("make, status", [
    (lambda p: p.write_bytes(bytes(range(256)) * 8), 2),
    (lambda p: p.write_text("<html><body><nav>Home Shop</nav></body></html>"), 2),
    (_huge, 2),
    (lambda p: p.write_text("<html><body><script>alert(1)</script></body></html>"), 2),
])
def test_cli_hostile_input_is_one_line_and_writes_nothing(run, tmp_path, make, status):
    article = tmp_path / "article.html"
    make(article)
    out = tmp_path / "out.yaml"
    ran = run("draft", article, "-o", out)
    assert ran.exit_code == status
    assert len(ran.stderr.strip().splitlines()) == 1, ran.stderr
    assert not out.exists()


def test_cli_a_url_that_never_answers_is_exit_1(run, tmp_path):
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    try:
        out = tmp_path / "out.yaml"
        ran = run("draft", f"http://127.0.0.1:{listener.getsockname()[1]}/", "--timeout", "0.5",
                  "-o", out)
    finally:
        listener.close()
    assert ran.exit_code == 1
    assert "no answer within 0.5 s" in ran.stderr
    assert not out.exists()


@pytest.mark.slow
def test_cli_plan_prints_the_drafts_timeline(run, tmp_path):
    ran = run("draft", seed("004"), "-o", tmp_path / "d.yaml", "--plan")
    assert ran.exit_code == 0, ran.output
    assert "Cat Stretch" in ran.stdout and "Happy Baby" in ran.stdout
    assert re.search(r"total \d+:\d\d\.\d", ran.stdout)


@pytest.mark.slow
def test_a_seed_draft_builds(tmp_path, speech_cache):
    from routinecast.builder import BuildSettings, build
    from routinecast.ffmpeg import probe_chapters

    result = draft(seed("000"))
    path = tmp_path / f"{result.slug}.yaml"
    path.write_text(result.text, encoding="utf-8")
    built = build([path], tmp_path / "out", BuildSettings(cache_dir=speech_cache))
    assert len(built) == 1 and built[0].path.is_file()
    titles = [chapter.title for chapter in probe_chapters(built[0].path)]
    assert titles == ["Introduction", *result.names, "Closing"]


def test_draft_text_reads_markdown_without_a_file():
    result = draft_text("# Quick\n\n## Knee Hug\n\nLie on your back and hug your knees. "
                        "Hold for 20 seconds.\n", "pasted")
    assert result.names == ["Knee Hug"]
    assert result.slug == "quick"


@pytest.mark.parametrize("line", [
    "Hold for 0 seconds.", "Hold for 99999 seconds.", "Stay for 0 breaths.", "Hold 7200 minutes.",
    "Repeat 100000 times.", "Repeat 0 times.", "Do 5000 sets of 3 reps.",
])
def test_values_outside_the_formats_limits_are_not_drafted(line):
    result = draft_text(f"Title\n\n## Knee Hug\n\nLie on your back and hug your knees. {line}\n",
                        "odd.md")
    routine = check(result)
    assert [ex.name for ex in routine.exercises] == ["Knee Hug"]
    assert result.defaulted or "hold" not in line.lower()


def test_braces_in_an_article_are_not_taken_for_placeholders():
    result = draft_text("T\n\n## Knee {Hug}\n\nLie on your back {like this} and hug your "
                        "knees. Hold for 20 seconds.\n", "braces.md")
    routine = check(result)  # the format reads {…} as a placeholder and refuses others
    assert routine.exercises[0].name == "Knee (Hug)"
    assert yaml.safe_load(result.text)["exercises"][0]["setup"] == (
        "Lie on your back (like this) and hug your knees.")


@pytest.mark.parametrize("heading", ["## ***", "## " + "Long " * 600, "## Knee \u202e Hug"])
def test_odd_headings_still_draft_a_valid_routine(heading):
    result = draft_text(f"# \u202e\n\n{heading}\n\nLie on your back. Hold for 20 seconds.\n",
                        "odd.md")
    routine = check(result)
    assert len(routine.exercises) == 1
    assert "\u202e" not in result.text


def test_entities_in_a_page_are_not_expanded(tmp_path):
    page = tmp_path / "entities.html"
    page.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE html [<!ENTITY xxe SYSTEM "file:///etc/passwd">'
        '<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>\n'
        '<html><body><article><h1>Entity Test</h1><h2>Knee Hug</h2><p>Lie on your back and '
        'hug your knees &xxe; &b;. Hold for 20 seconds.</p></article></body></html>\n')
    result = draft(page)
    assert "root:" not in result.text and "aaaaaaaaaa" not in result.text
    assert "&" not in yaml.safe_load(result.text)["exercises"][0]["setup"]


SAVED_PAGE = """<!DOCTYPE html>
<html lang="en-GB">
<head>
<meta charset="utf-8">
<title>Two Stretches for Tight Hips | Stretch Weekly</title>
<meta property="og:site_name" content="Stretch Weekly">
<meta property="og:title" content="Two Stretches for Tight Hips">
</head>
<body>
<nav><a href="/">Home</a> <a href="/shop">Shop</a></nav>
<article>
<h1>Two Stretches for Tight Hips</h1>
<p>Sitting all day leaves the hips stiff. These two stretches take five minutes.</p>
<h2>Figure Four</h2>
<p>Lie on your back and rest your right ankle on your left knee.
Hold for 30 seconds, then switch legs.</p>
<h2>Butterfly</h2>
<p>Sit tall with the soles of your feet together.
Our founder swore by this one.
Hold for 45 seconds.</p>
</article>
<footer>Copyright 2026 Stretch Weekly</footer>
</body>
</html>
"""


def test_a_saved_page_gives_language_title_and_source_from_its_metadata(tmp_path):
    page = tmp_path / "hips.html"
    page.write_text(SAVED_PAGE, encoding="utf-8")
    result = draft(page)
    data = yaml.safe_load(result.text)
    assert data["language"] == "en"  # from <html lang="en-GB">
    assert "language: en  # \"lang=en-GB\" (line 2); the page's language" in result.text
    assert data["title"] == "Two Stretches for Tight Hips"  # og:title, without the site
    assert data["source"] == result.source == "Two Stretches for Tight Hips, Stretch Weekly"
    assert "Shop" not in result.text and "Copyright" not in result.text


def test_a_saved_pages_comments_name_its_own_lines(tmp_path):
    """Every line a comment names is the saved page's, and holds the words it quotes, also
    where the page's paragraph runs over several lines."""
    page = tmp_path / "hips.html"
    page.write_text(SAVED_PAGE, encoding="utf-8")
    lines = SAVED_PAGE.splitlines()
    text = draft(page).text
    quoted = re.findall(r'# "([^"]+)" \(line (\d+)\)', text.split("exercises:", 1)[1])
    assert len(quoted) == 5, quoted  # two names, a side, two holds
    for words, line in quoted:
        assert words.rstrip("…") in lines[int(line) - 1], (words, line)
    assert '    hold: 30s  # "30 seconds" (line 16)' in text
    assert '    hold: 45s  # "45 seconds" (line 20)' in text
    assert '    # left out (line 19): "Our founder swore by this one."' in text
    assert "    setup: Sit tall with the soles of your feet together.  # line 18" in text


def test_length_works_on_a_draft(tmp_path):
    """A draft's holds and counts are the article's ranges, so a target length is met: the
    fitted plan lasts the length asked, within the 2 % `--length` promises."""
    from routinecast.fitting import TOLERANCE, estimate_speech, fit_length, reachable
    from routinecast.overrides import command_line, customise
    from routinecast.plan import make_plan

    path = tmp_path / "draft.yaml"
    path.write_text(draft(seed("002")).text, encoding="utf-8")
    routine = load_routine(path)
    speech = estimate_speech(lambda text: None)
    shortest, longest = reachable(routine, speech)
    assert longest > 1.5 * shortest  # the article's ranges leave room to choose
    for target in (shortest + 30_000, (shortest + longest) // 2, longest - 30_000):
        wanted = customise(routine, [command_line(length=f"{target}ms")]).routine
        fitted, changes = fit_length(wanted, speech)
        got = make_plan(fitted, speech).duration_ms
        assert abs(got - target) <= TOLERANCE * target, (target, got)
        assert changes


def test_drafted_ranges_follow_level(tmp_path):
    from routinecast.overrides import command_line, customise

    result = draft(ARTICLES / "ranges.md")
    path = tmp_path / "ranges.yaml"
    path.write_text(result.text, encoding="utf-8")
    routine = load_routine(path)
    holds = {level: [ex.phases[0].hold_ms for ex in customise(
        routine, [command_line(level=level)]).routine.exercises]
        for level in ("gentle", "standard", "strong")}
    assert holds["gentle"] == [10_000, 10_000, 60_000]
    assert holds["standard"] == [20_000, 15_000, 90_000]
    assert holds["strong"] == [30_000, 20_000, 120_000]
