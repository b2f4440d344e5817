"""`share`: the folder, its page in a real headless chromium, its feed through a real feed
parser, its chapter files against the MP3's ID3 chapters, and the routine the MP3 carries."""

from __future__ import annotations

import io
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import feedparser
import pytest
from PIL import Image

from routinecast.builder import BuildSettings
from routinecast.errors import OutputError
from routinecast.ffmpeg import probe_chapters
from routinecast.overrides import command_line
from routinecast.share import share
from routinecast.share.feed import ITUNES, PODCAST
from routinecast.tagging import read_tags

from browser import Browser
from conftest import FIXTURES, serving

ROUTINES = [FIXTURES / "sections.yaml", FIXTURES / "small.yaml"]


@pytest.fixture(scope="module")
def shared(tmp_path_factory, speech_cache):
    folder = tmp_path_factory.mktemp("share") / "site"
    return share(ROUTINES, folder, BuildSettings(cache_dir=speech_cache), title="Test session",
                 description="Two small routines.")


@pytest.fixture(scope="module")
def served(shared):
    """The share folder served on a free port, as `routinecast serve` serves it."""
    with serving(shared.folder) as port:
        yield f"http://127.0.0.1:{port}/"


def id3_chapters(path: Path) -> list[tuple[int, int, str]]:
    return [(start, end, title) for _id, start, end, title in read_tags(path).chapters]


def test_the_folder_holds_everything_a_listener_needs(shared):
    names = sorted(p.name for p in shared.folder.iterdir())
    assert names == sorted([
        "index.html", "feed.xml", "cover.png",
        "sections.mp3", "sections.chapters.json", "sections.vtt", "sections.yaml",
        "small.mp3", "small.chapters.json", "small.vtt", "small.yaml"])


@pytest.mark.parametrize("name", ["sections", "small"])
def test_json_chapters_equal_the_id3_chapters(shared, name):
    data = json.loads((shared.folder / f"{name}.chapters.json").read_text(encoding="utf-8"))
    assert data["version"] == "1.2.0"
    assert data["fileName"] == f"{name}.mp3"
    chapters = [(round(c["startTime"] * 1000), round(c["endTime"] * 1000), c["title"])
                for c in data["chapters"]]
    assert chapters == id3_chapters(shared.folder / f"{name}.mp3")
    # and ffmpeg, reading the MP3 on its own, agrees
    probed = probe_chapters(shared.folder / f"{name}.mp3")
    assert [c.title for c in probed] == [c[2] for c in chapters]
    assert all(abs(p.start_ms - c[0]) <= 1 for p, c in zip(probed, chapters))


def parse_vtt(text: str) -> list[tuple[int, int, str]]:
    assert text.startswith("WEBVTT\n\n")

    def ms(stamp: str) -> int:
        hours, minutes, seconds = stamp.split(":")
        return round((int(hours) * 3600 + int(minutes) * 60 + float(seconds)) * 1000)

    cues = []
    for block in text.split("\n\n")[1:]:
        lines = block.strip().splitlines()
        start, end = re.fullmatch(r"(\S+) --> (\S+)", lines[1]).groups()
        cues.append((ms(start), ms(end), lines[2]))
    return cues


@pytest.mark.parametrize("name", ["sections", "small"])
def test_vtt_chapters_equal_the_id3_chapters(shared, name):
    text = (shared.folder / f"{name}.vtt").read_text(encoding="utf-8")
    assert parse_vtt(text) == id3_chapters(shared.folder / f"{name}.mp3")


def test_feed_read_by_a_real_feed_parser(shared):
    feed = feedparser.parse((shared.folder / "feed.xml").read_bytes())
    assert not feed.bozo, feed.get("bozo_exception")
    channel = feed.feed
    assert channel.title == "Test session"
    assert channel.language == "en"
    assert channel.image.href == "cover.png"
    assert channel.tags[0].term == "Health & Fitness"
    assert not channel.itunes_explicit  # feedparser knows yes/clean; Apple's spec says false
    assert [e.title for e in feed.entries] == ["Sectioned Stretches", "Test Stretches"]
    guids = set()
    for entry, built in zip(feed.entries, shared.built):
        enclosure = entry.enclosures[0]
        assert enclosure.type == "audio/mpeg"
        assert int(enclosure.length) == (shared.folder / enclosure.href).stat().st_size
        assert entry.itunes_duration == str(round(built.plan.duration_ms / 1000))
        guids.add(entry.id)
    assert len(guids) == 2
    root = ET.parse(shared.folder / "feed.xml").getroot()
    assert root.find(f"channel/{{{ITUNES}}}explicit").text == "false"
    assert [i.find(f"{{{PODCAST}}}chapters").get("url") for i in root.iter("item")] == [
        "sections.chapters.json", "small.chapters.json"]


def test_cover_is_square_in_range_and_in_every_mp3(shared):
    cover = (shared.folder / "cover.png").read_bytes()
    width, height = Image.open(io.BytesIO(cover)).size
    assert width == height and 1400 <= width <= 3000
    for built in shared.built:
        assert read_tags(built.path).cover == cover


def test_guids_are_stable_and_base_url_makes_links_absolute(shared, tmp_path, speech_cache):
    again = share(ROUTINES, tmp_path / "again", BuildSettings(cache_dir=speech_cache),
                  title="Test session", base_url="https://example.org/back/")
    first = feedparser.parse((shared.folder / "feed.xml").read_bytes())
    second = feedparser.parse((again.folder / "feed.xml").read_bytes())
    assert [e.id for e in first.entries] == [e.id for e in second.entries]
    assert second.entries[0].enclosures[0].href == "https://example.org/back/sections.mp3"
    assert second.feed.image.href == "https://example.org/back/cover.png"


def test_served_feed_links_point_at_the_server(served):
    feed = feedparser.parse(served + "feed.xml")
    assert not feed.bozo, feed.get("bozo_exception")
    href = feed.entries[1].enclosures[0].href
    assert href == served + "small.mp3"
    assert int(feed.entries[1].enclosures[0].length) > 0


@pytest.mark.parametrize("name", ["sections", "small"])
def test_shared_routine_file_is_what_the_mp3_carries(shared, name):
    carried = read_tags(shared.folder / f"{name}.mp3").routine_text
    assert carried == (shared.folder / f"{name}.yaml").read_text(encoding="utf-8")


# -- the page in a real browser ----------------------------------------------------------


def leaf_chapters_on_page(browser: Browser, card: str) -> list[tuple[int, str]]:
    return [tuple(item) for item in browser.evaluate(
        f"[...document.getElementById({json.dumps(card)})"
        ".querySelectorAll('.chapters [data-leaf]')]"
        ".map(b => [Number(b.dataset.startMs), b.querySelector('.title').textContent])")]


@pytest.mark.parametrize("where", ["file", "http"])
def test_page_plays_lists_the_chapters_and_seeks(shared, served, browser, where):
    url = shared.page.as_uri() if where == "file" else served
    browser.open(url)
    for built in shared.built:
        card = built.path.name
        select = f"document.getElementById({json.dumps(card)})"
        duration = browser.wait_for(
            f"{select}.querySelector('audio').readyState >= 1 && "
            f"{select}.querySelector('audio').duration")
        assert abs(duration * 1000 - built.plan.duration_ms) < 100
        chapters = id3_chapters(built.path)
        assert leaf_chapters_on_page(browser, card) == [(c[0], c[2]) for c in chapters]
        target = chapters[2]
        # a click seeks and plays; playing is stubbed so that the position stays put to check
        browser.evaluate("HTMLMediaElement.prototype.play = () => Promise.resolve()")
        browser.click(f"[id={json.dumps(card)}] .chapters [data-start-ms='{target[0]}']")
        position = browser.wait_for(
            f"(a => !a.seeking && Math.abs(a.currentTime * 1000 - {target[0]}) < 50"
            f" && a.currentTime)({select}.querySelector('audio'))")
        assert abs(position * 1000 - target[0]) < 50
        playhead = float(browser.evaluate(
            f"{select}.querySelector('.playhead').getAttribute('x1')"))
        assert playhead == pytest.approx(target[0] / built.plan.duration_ms * 1000, abs=15)
        current = browser.evaluate(
            f"{select}.querySelector('.chapters [aria-current=true] .title').textContent")
        assert current == target[2]
    local = ("file:", served, "data:", "blob:")
    assert [u for u in browser.requested_urls if not u.startswith(local)] == []
    assert browser.failed_requests == []
    assert not [line for line in browser.console if "error" in line.lower()]


def test_page_shows_equipment_source_notes_and_transcript(shared, browser):
    browser.open(shared.page.as_uri())
    text = browser.evaluate("document.body.innerText")
    small = next(b for b in shared.built if b.path.stem == "small")
    for line in (small.routine.description, "Equipment", *small.routine.equipment):
        assert line in text
    transcript = browser.evaluate(
        "[...document.getElementById('small.mp3').querySelectorAll('.transcript li')]"
        ".map(li => li.textContent)")
    said = [s.text for s in small.plan.segments if s.kind == "speech"]
    assert said and all(any(t in line for line in transcript) for t in said)
    # the timeline draws every hold, to scale
    holds = browser.evaluate(
        "[...document.getElementById('small.mp3').querySelectorAll('.hold')]"
        ".map(r => Number(r.getAttribute('width')))")
    assert len(holds) == len(small.plan.holds)
    for width, hold in zip(holds, small.plan.holds):
        assert width == pytest.approx((hold.end_ms - hold.start_ms)
                                      / small.plan.duration_ms * 1000, abs=0.01)


def test_a_hostile_title_shows_as_text(write_routine, tmp_path, speech_cache, browser):
    routine = write_routine("title: '<script>document.title=\"owned\"</script> & more'\n"
                            "exercises:\n  - {name: '<b>Reach</b>', hold: 2s}\n")
    shared = share([routine], tmp_path / "site", BuildSettings(cache_dir=speech_cache))
    browser.open(shared.page.as_uri())
    assert browser.evaluate("document.title") == \
        '<script>document.title="owned"</script> & more'
    assert browser.evaluate("document.querySelectorAll('script').length") == 1
    assert "<b>Reach</b>" in browser.evaluate("document.body.innerText")
    assert not feedparser.parse((shared.folder / "feed.xml").read_bytes()).bozo


def test_share_refuses_to_overwrite_its_own_source(tmp_path, write_routine, run):
    routine = write_routine("title: T\nexercises:\n  - {name: Reach, hold: 2s}\n")
    before = routine.read_text()
    result = run("share", routine, "-o", tmp_path)
    assert result.exit_code == 2
    assert "would overwrite" in result.stderr and "routinecast did not write" in result.stderr
    assert routine.read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["routine.yaml"]


def test_a_failed_share_leaves_the_previous_one_as_it_was(shared, tmp_path, speech_cache,
                                                           monkeypatch):
    folder = tmp_path / "site"
    share([FIXTURES / "small.yaml"], folder, BuildSettings(cache_dir=speech_cache))
    before = {p.name: p.read_bytes() for p in folder.iterdir()}

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    import routinecast.share as sharing

    monkeypatch.setattr(sharing, "make_page", broken)
    with pytest.raises(OutputError, match="No space left on device"):
        share([FIXTURES / "small.yaml", FIXTURES / "sections.yaml"], folder,
              BuildSettings(cache_dir=speech_cache))
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


def test_share_cli_with_overrides(tmp_path, run):
    result = run("share", FIXTURES / "small.yaml", "-o", tmp_path / "site", "--hold-scale", "2",
                 "--base-url", "https://example.org/s/", "-q")
    assert result.exit_code == 0, result.output
    site = tmp_path / "site"
    assert (site / "small-x2.mp3").is_file() and (site / "small-x2.yaml").is_file()
    assert "--hold-scale 2 (command line)" in (site / "small-x2.yaml").read_text()
    bad = run("share", FIXTURES / "small.yaml", "-o", tmp_path / "x", "--base-url", "example.org")
    assert bad.exit_code == 2 and "http://" in bad.output
    assert not (tmp_path / "x").exists()


def test_layers_reach_share(tmp_path, speech_cache):
    layers = [command_line(skip=("reach",))]
    result = share([FIXTURES / "small.yaml"], tmp_path, BuildSettings(cache_dir=speech_cache),
                   layers)
    titles = [c[2] for c in id3_chapters(result.built[0].path)]
    assert "Reach" not in titles and "Side Bend" in titles


def test_serve_cli_refuses_a_missing_folder_and_a_busy_port(tmp_path, run, served):
    missing = run("serve", tmp_path / "nothing")
    assert missing.exit_code == 2 and "nothing" in missing.output
    assert missing.output.count("\n") == 1
    busy = run("serve", tmp_path, "--port", served.rsplit(":", 1)[1].strip("/"))
    assert busy.exit_code == 1 and "--port" in busy.output
