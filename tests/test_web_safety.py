"""Hostile texts in a routine come out of `share` as the same texts, never as markup: in the
WebVTT and JSON chapters, the RSS feed, the page (in a real headless chromium, served as
`serve` serves it) and the routine file beside them.

One routine, the sections fixture with every text replaced by something built to break out
of HTML, XML, CDATA, JSON, YAML or a WebVTT cue, is shared once for the whole module. No
text holds a line break or a control character: loading a routine folds the one into a
space and refuses the other, in every field.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import urllib.request
import xml.etree.ElementTree as ET
from dataclasses import replace

import feedparser
import pytest
import yaml

from routinecast.builder import BuildSettings
from routinecast.routine import load_routine
from routinecast.share import share
from routinecast.share.feed import ITUNES

from conftest import FIXTURES, serving

# each sets window.__pwned if it ever runs as script
SCRIPT = "</script><script>window.__pwned=1</script>"
IMG = '<img src=x onerror="window.__pwned=1">'

TITLE = "</title>" + SCRIPT + ' Tom & "Jerry" <b>bold</b> &lt;3 \U0001f9d8'
DESCRIPTION = IMG + ' ]]><![CDATA[ {"json": "inject"} &amp; \u202eevil\u202c'
AUTHOR = "' onload='window.__pwned=1 & \"x\" <i>"
SOURCE = 'https://example.org/"><script>window.__pwned=1</script>'  # no space: shown as a link
EQUIPMENT = "<svg onload=window.__pwned=1>"
INTRO = "--> 00:00:00.000 --> fake cue"
OUTRO = "]]><![CDATA[ done <!-- comment"
SECTION_INTRO = "<iframe src=javascript:window.__pwned=1>"
SECTIONS = ("--> 00:00:00.000 --> fake cue &lt;", "\u202eevil\u202c \U0001f9d8 ]]><![CDATA[")
EXERCISES = (SCRIPT, 'Tom & "Jerry" <b>bold</b>', "' onload='window.__pwned=1 x",
             '{"json": "inject"} back\\slash \\n &amp; &lt;b&gt;')
SETUP = "' onload='x"
DURING = '{"json": "inject"}'
NOTES = (IMG + ' Tom & "Jerry"', "&amp; &lt;b&gt; already escaped <!-- x -->")

# the chapters a player lists: each section's lead-in, where its title is spoken, is one
LEAF_TITLES = ["Introduction", SECTIONS[0], EXERCISES[0], EXERCISES[1],
               SECTIONS[1], EXERCISES[2], EXERCISES[3], "Closing"]
SPOKEN = (TITLE, INTRO, SECTION_INTRO, SETUP, DURING, OUTRO, *SECTIONS, *EXERCISES)
SHOWN = (TITLE, DESCRIPTION, AUTHOR, SOURCE, EQUIPMENT, *SECTIONS, *EXERCISES, *NOTES,
         *SPOKEN)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """The sections fixture, its timings kept and every text replaced by a hostile one."""
    data = yaml.safe_load((FIXTURES / "sections.yaml").read_text(encoding="utf-8"))
    first, second = data["sections"]
    first["exercises"][0].update(name=EXERCISES[0], id="one", setup=SETUP, during=DURING,
                                 about=NOTES[0])
    first["exercises"][1].update(name=EXERCISES[1], id="two")
    second["exercises"][0].update(name=EXERCISES[2], id="three", about=NOTES[1])
    second["exercises"].append({"name": EXERCISES[3], "id": "four", "hold": "1s"})
    first.update(title=SECTIONS[0], intro=SECTION_INTRO)
    second["title"] = SECTIONS[1]
    data.update(title=TITLE, description=DESCRIPTION, author=AUTHOR, source=SOURCE,
                equipment=[EQUIPMENT], intro=INTRO, outro=OUTRO)
    if shutil.which("espeak-ng"):  # speaks these texts in a quarter of piper's time
        data["voice"] = {"engine": "espeak"}
    path = tmp_path_factory.mktemp("hostile") / "hostile.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False),
                    encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def shared(hostile, tmp_path_factory, speech_cache):
    result = share([hostile], tmp_path_factory.mktemp("share") / "site",
                   BuildSettings(cache_dir=speech_cache))
    # the routine loaded as written, or every check below would test the wrong thing
    assert [c.title for c in result.built[0].plan.leaf_chapters()] == LEAF_TITLES
    return result


@pytest.fixture(scope="module")
def served(shared):
    """The share folder served on a free port, as `routinecast serve` serves it."""
    with serving(shared.folder) as port:
        yield f"http://127.0.0.1:{port}/"


# -- WebVTT --------------------------------------------------------------------------------

_STAMP = r"(\d{2}):([0-5]\d):([0-5]\d)\.(\d{3})"
_TIMING = re.compile(f"{_STAMP} --> {_STAMP}")
_ESCAPES = {"amp": "&", "lt": "<", "gt": ">"}


def strict_vtt(text: str) -> list[tuple[int, int, str]]:
    """(start ms, end ms, title) of each cue of a WebVTT chapters file, read strictly: the
    header, then blocks one blank line apart of a number, a timing line and one line of text
    with no raw `<` or `-->`, whose every `&` starts one of the escapes `&amp; &lt; &gt;`."""
    assert text.startswith("WEBVTT\n\n") and text.endswith("\n") and "\r" not in text
    cues = []
    for block in text[len("WEBVTT\n\n"):-1].split("\n\n"):
        lines = block.split("\n")
        assert len(lines) == 3, block
        number, timing, payload = lines
        assert number == str(len(cues) + 1)
        stamps = _TIMING.fullmatch(timing)
        assert stamps, timing
        hours, minutes, seconds, millis = (int(n) for n in stamps.groups()[:4])
        start = ((hours * 60 + minutes) * 60 + seconds) * 1000 + millis
        hours, minutes, seconds, millis = (int(n) for n in stamps.groups()[4:])
        end = ((hours * 60 + minutes) * 60 + seconds) * 1000 + millis
        assert payload and payload == payload.strip()
        assert "<" not in payload and "-->" not in payload, payload
        assert re.fullmatch(r"(?:[^&]|&(?:amp|lt|gt);)*", payload), payload
        cues.append((start, end, re.sub(r"&(amp|lt|gt);", lambda m: _ESCAPES[m[1]], payload)))
    return cues


def test_vtt_chapters_are_strict_webvtt_giving_back_every_title(shared):
    cues = strict_vtt((shared.folder / "hostile.vtt").read_text(encoding="utf-8"))
    assert [title for _, _, title in cues] == LEAF_TITLES
    plan = shared.built[0].plan
    assert [(start, end) for start, end, _ in cues] == [
        (chapter.start_ms, chapter.end_ms) for chapter in plan.leaf_chapters()]


def test_chromium_reads_the_vtt_track_as_the_titles(shared, served, browser):
    browser.open(served)
    # getCueAsHTML parses the cue text as WebVTT says, escapes and all
    cues = browser.wait_for("""(() => {
        const track = document.querySelector('audio').textTracks[0];
        return track && track.cues && track.cues.length && [...track.cues].map(cue =>
            [Math.round(cue.startTime * 1000), cue.getCueAsHTML().textContent]);
    })()""")
    plan = shared.built[0].plan
    assert cues == [[chapter.start_ms, chapter.title] for chapter in plan.leaf_chapters()]


# -- JSON chapters -------------------------------------------------------------------------


def test_json_chapters_give_back_every_text(shared):
    data = json.loads((shared.folder / "hostile.chapters.json").read_text(encoding="utf-8"))
    assert data["title"] == TITLE
    assert data["author"] == AUTHOR
    assert [chapter["title"] for chapter in data["chapters"]] == LEAF_TITLES


# -- RSS -----------------------------------------------------------------------------------


def as_rendered(text: str) -> str:
    """What an app shows for a feed's HTML text (a description): it must hold no markup."""
    assert "<" not in text, text
    return html.unescape(text)


def shown_by_reader(detail) -> str:
    """What a reader shows for one of feedparser's texts, which it types as plain or HTML."""
    return detail.value if detail.type == "text/plain" else as_rendered(detail.value)


@pytest.mark.parametrize("where", ["file", "served"])
def test_feed_is_well_formed_and_gives_back_every_text(shared, served, where):
    if where == "file":
        data = (shared.folder / "feed.xml").read_bytes()
    else:  # rewritten by serve, with absolute links
        direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with direct.open(served + "feed.xml", timeout=10) as response:
            data = response.read()
    channel = ET.fromstring(data).find("channel")
    item = channel.find("item")
    assert channel.findtext("title") == TITLE
    assert channel.findtext("image/title") == TITLE
    assert channel.findtext(f"{{{ITUNES}}}author") == AUTHOR
    assert item.findtext("title") == TITLE
    # RSS 2.0 and the apps read a description as HTML: it must render as the text
    for parent in (channel, item):
        assert as_rendered(parent.findtext("description")) == DESCRIPTION

    feed = feedparser.parse(data)
    assert feed.bozo == 0, feed.get("bozo_exception")
    assert feed.feed.title == TITLE
    assert feed.feed.author == AUTHOR
    assert shown_by_reader(feed.feed.subtitle_detail) == DESCRIPTION
    [entry] = feed.entries
    assert entry.title == TITLE
    assert shown_by_reader(entry.summary_detail) == DESCRIPTION


# -- the page ------------------------------------------------------------------------------


def test_the_page_runs_no_injected_script_and_shows_every_text(served, browser):
    browser.console.clear()
    browser.open(served)
    # an image's onerror has run by the load event; give anything later a moment too
    assert browser.evaluate(
        "new Promise(done => setTimeout(() => done(typeof window.__pwned), 300))") == "undefined"
    assert browser.evaluate("document.scripts.length") == 1
    # the page's own script ran to its end, unbroken by any text before it
    assert browser.evaluate("document.querySelector('audio track')?.kind") == "chapters"
    assert browser.evaluate(
        "document.querySelectorAll('iframe, b, i, img:not(.cover), svg:not(.timeline),"
        " [href^=javascript]').length") == 0
    assert browser.evaluate(
        "[...document.querySelectorAll('*')].flatMap(e => [...e.attributes])"
        ".map(a => a.name).filter(name => name.startsWith('on'))") == []
    assert [line for line in browser.console if "error" in line.lower()] == []

    page = browser.evaluate("""(() => {
        document.querySelector('details.transcript').open = true;
        const texts = (selector, what = 'innerText') =>
            [...document.querySelectorAll(selector)].map(e => e[what]);
        return {
            title: document.title,
            feedTitle: document.querySelector('link[rel=alternate]').getAttribute('title'),
            h1: texts('h1'), h2: texts('.card h2'), facts: texts('.facts'),
            intro: texts('header p:not(.subscribe)'),
            description: texts('.card > p:not(.facts):not(.files)'),
            chapters: texts('.chapters .title'), notes: texts('.about'),
            details: texts('dd'), link: document.querySelector('dd a').getAttribute('href'),
            bands: texts('.timeline title', 'textContent'),
            transcript: texts('.transcript li').join('\\n'),
            body: document.body.innerText,
        };
    })()""")
    assert page["title"] == page["feedTitle"] == TITLE
    assert page["h1"] == [TITLE]
    assert page["h2"] == [f"1 {TITLE}"]
    assert page["facts"][0].endswith(f" · by {AUTHOR}")
    assert page["intro"] == page["description"] == [DESCRIPTION]
    assert page["chapters"] == LEAF_TITLES
    assert page["notes"] == list(NOTES)
    assert page["details"] == [EQUIPMENT, SOURCE]
    assert page["link"] == SOURCE
    assert page["bands"] == LEAF_TITLES
    for text in SPOKEN:
        assert text in page["transcript"], text
    for text in SHOWN:
        assert text in page["body"], text


# -- the routine file ----------------------------------------------------------------------


def test_the_routine_copy_loads_back_with_every_text(shared, hostile):
    copy = load_routine(shared.folder / "hostile.yaml")
    assert (copy.title, copy.description, copy.author, copy.source, copy.equipment,
            copy.intro, copy.outro) == (TITLE, DESCRIPTION, AUTHOR, SOURCE, (EQUIPMENT,),
                                        INTRO, OUTRO)
    assert tuple(section.title for section in copy.sections) == SECTIONS
    assert copy.sections[0].intro == SECTION_INTRO
    assert tuple(exercise.name for exercise in copy.exercises) == EXERCISES
    assert copy.exercises[0].setup == (SETUP,)
    assert copy.exercises[0].phases[0].during == DURING
    assert tuple(e.about for e in copy.exercises if e.about) == NOTES
    assert replace(copy, path="") == replace(load_routine(hostile), path="")
