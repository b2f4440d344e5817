"""The share folder's `index.html`: one card per routine with a player, its chapters (a click
seeks), a timeline drawn to scale with the playing position, and the transcript.

Everything is inline (style, script, the timeline's SVG), so the page works opened from
disk as well as served, and asks nothing of the network. Every text from a routine goes
through `html.escape`.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from urllib.parse import quote

from ..durations import format_ms
from ..models import Chapter, Plan, Routine, Segment
from ..plan import routine_equipment

TIMELINE_WIDTH = 1000
"""Width of the timeline's SVG coordinates; the track's length maps onto it."""
_MERGED_LABELS = ("countdown",)
"""Speech cues whose consecutive segments are one line of the transcript ("Three. Two. One.")."""


@dataclass(frozen=True)
class Card:
    """One routine on the page."""

    routine: Routine
    """The routine as built."""
    plan: Plan
    """Its timeline, which the MP3 follows."""
    audio_name: str
    """The MP3's file name in the folder."""
    routine_name: str
    """The routine file's name in the folder."""
    chapters_name: str
    """The JSON chapters file's name."""
    vtt_name: str
    """The WebVTT chapters file's name."""


def make_page(title: str, description: str, cards: list[Card], feed_name: str,
              cover_name: str) -> str:
    """The whole page as HTML text."""
    body = "\n".join(_card(card, number) for number, card in enumerate(cards, start=1))
    intro = f"<p>{escape(description)}</p>" if description else ""
    return f"""<!doctype html>
<html lang="{escape(cards[0].routine.language if cards else 'en')}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="routinecast">
<title>{escape(title)}</title>
<link rel="alternate" type="application/rss+xml" title="{escape(title)}" href="{quote(feed_name)}">
<style>{_STYLE}</style>
</head>
<body>
<header>
<img class="cover" src="{quote(cover_name)}" alt="" width="96" height="96">
<div>
<h1>{escape(title)}</h1>
{intro}
<p class="subscribe"><a href="{quote(feed_name)}" class="feed">Podcast feed</a>
<span>add its address to a podcast app to get every routine on your phone, with chapters</span></p>
</div>
</header>
<main>
{body}
</main>
<footer>Made with routinecast. Everything on this page works offline.</footer>
<script>{_SCRIPT}</script>
</body>
</html>
"""


def _card(card: Card, number: int) -> str:
    routine, plan = card.routine, card.plan
    facts = [_clock(plan.duration_ms),
             f"{len(plan.leaf_chapters())} chapters"]
    if routine.author:
        facts.append(f"by {escape(routine.author)}")
    details = []
    equipment = routine_equipment(routine)
    if equipment:
        details.append(("Equipment", ", ".join(escape(item) for item in equipment)))
    if routine.source:
        details.append(("Source", _link_or_text(routine.source)))
    details_html = "".join(f"<dt>{name}</dt><dd>{value}</dd>" for name, value in details)
    description = f"<p>{escape(routine.description)}</p>" if routine.description else ""
    # what listeners read under each chapter: the exercise's `about` and what it needs, never
    # `notes`, which are written for the routine's authors
    notes = {ex.id: " ".join(filter(None, (ex.about, ex.equipment and
                                            f"Needs: {', '.join(ex.equipment)}.")))
             for ex in routine.exercises if ex.about or ex.equipment}
    anchor = escape(quote(card.audio_name))
    return f"""<article class="card" id="{anchor}" data-duration="{plan.duration_ms}">
<h2><span class="number">{number}</span> {escape(routine.title)}</h2>
<p class="facts">{" · ".join(facts)}</p>
{description}
<audio controls preload="metadata" src="{quote(card.audio_name)}"
 data-chapters="{quote(card.vtt_name)}" data-language="{escape(routine.language)}">
<a href="{quote(card.audio_name)}">Download the MP3</a>
</audio>
{_timeline(plan)}
<h3>Chapters</h3>
<ol class="chapters">
{"".join(_chapter(chapter, notes) for chapter in plan.chapters)}
</ol>
{f'<dl>{details_html}</dl>' if details_html else ''}
<details class="transcript">
<summary>Transcript</summary>
<ol>
{"".join(_line(start, text) for start, text in _transcript(plan))}
</ol>
</details>
<p class="files"><a href="{quote(card.audio_name)}" download>MP3</a>
<a href="{quote(card.routine_name)}" download>Routine file</a>
<a href="{quote(card.chapters_name)}">Chapters (JSON)</a>
<a href="{quote(card.vtt_name)}">Chapters (WebVTT)</a></p>
</article>"""


def _chapter(chapter: Chapter, notes: dict[str, str]) -> str:
    """A chapter as a list item; a section's lead-in is a chapter of its own (`data-leaf`),
    as in the MP3."""
    if not chapter.children:
        note = notes.get(chapter.id)
        return (f'<li>{_seek(chapter.start_ms, chapter.title, leaf=True)}'
                f'{f"<p class=about>{escape(note)}</p>" if note else ""}</li>\n')
    lead_in = chapter.children[0].start_ms > chapter.start_ms
    children = "".join(_chapter(child, notes) for child in chapter.children)
    return (f'<li class="section">{_seek(chapter.start_ms, chapter.title, leaf=lead_in)}'
            f"<ol>{children}</ol></li>\n")


def _seek(start_ms: int, title: str, leaf: bool) -> str:
    leaf_attribute = " data-leaf" if leaf else ""
    return (f'<button type="button" class="seek" data-start-ms="{start_ms}"{leaf_attribute}>'
            f'<span class="time">{_clock(start_ms)}</span> '
            f'<span class="title">{escape(title)}</span></button>')


def _timeline(plan: Plan) -> str:
    """Chapters as alternating bands, holds as bars within them, all to scale, and a
    playhead the script moves."""
    total = max(plan.duration_ms, 1)

    def x(ms: int) -> str:
        return f"{ms * TIMELINE_WIDTH / total:.2f}"

    def width(start: int, end: int) -> str:
        return f"{max((end - start) * TIMELINE_WIDTH / total, 0.5):.2f}"

    bands = "".join(
        f'<rect class="band{i % 2}" x="{x(c.start_ms)}" y="0" width="{width(c.start_ms, c.end_ms)}"'
        f' height="40"><title>{escape(c.title)}</title></rect>'
        for i, c in enumerate(plan.leaf_chapters()))
    holds = "".join(
        f'<rect class="hold" x="{x(h.start_ms)}" y="14" width="{width(h.start_ms, h.end_ms)}"'
        f' height="12"/>' for h in plan.holds)
    return (f'<svg class="timeline" viewBox="0 0 {TIMELINE_WIDTH} 40" preserveAspectRatio="none"'
            f' role="img" aria-label="Timeline: chapters, and holds as bars">{bands}{holds}'
            f'<line class="playhead" x1="0" x2="0" y1="0" y2="40"/></svg>')


def _transcript(plan: Plan) -> list[tuple[int, str]]:
    """Everything said, in order, with when it starts; a countdown is one line."""
    lines: list[tuple[int, str]] = []
    previous: Segment | None = None
    for segment in plan.segments:
        if segment.kind != "speech" or not segment.text:
            if segment.kind != "silence" or segment.label != "hold":
                previous = None
            continue
        merge = (previous is not None and segment.label in _MERGED_LABELS
                 and previous.label == segment.label)
        if merge:
            lines[-1] = (lines[-1][0], f"{lines[-1][1]} {segment.text}")
        else:
            lines.append((segment.start_ms, segment.text))
        previous = segment
    return lines


def _line(start_ms: int, text: str) -> str:
    return (f'<li><button type="button" class="seek" data-start-ms="{start_ms}">'
            f'<span class="time">{_clock(start_ms)}</span></button> '
            f"{escape(text)}</li>\n")


def _clock(ms: int) -> str:
    """`83500` → `1:23`: times as a player shows them."""
    return format_ms(ms).rsplit(".", 1)[0]


def _link_or_text(text: str) -> str:
    if text.startswith(("https://", "http://")) and " " not in text:
        return f'<a href="{escape(text)}" rel="noopener noreferrer">{escape(text)}</a>'
    return escape(text)


_STYLE = """
:root { color-scheme: light dark; --fg: #1d1d1f; --bg: #f4f1ec; --card: #fff; --muted: #6b6b70;
  --accent: #3f6e5a; --band0: #dfe8e2; --band1: #eef2ef; --hold: #3f6e5a; --line: #c0392b; }
@media (prefers-color-scheme: dark) { :root { --fg: #ececef; --bg: #16181a; --card: #222528;
  --muted: #a0a3a8; --accent: #8cc4a8; --band0: #2f3a34; --band1: #262d29; --hold: #8cc4a8;
  --line: #ff7b6b; } }
* { box-sizing: border-box; }
body { margin: 0; font: 17px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: var(--fg); background: var(--bg); }
header, main, footer { max-width: 760px; margin: 0 auto; padding: 16px; }
header { display: flex; gap: 16px; align-items: flex-start; }
header h1 { margin: 0 0 4px; font-size: 1.6em; line-height: 1.2; }
.cover { border-radius: 12px; flex: none; }
.subscribe span { display: block; color: var(--muted); font-size: .85em; }
a { color: var(--accent); }
.card { background: var(--card); border-radius: 16px; padding: 16px; margin: 0 0 20px;
  box-shadow: 0 1px 3px rgba(0,0,0,.12); }
.card h2 { margin: 0; font-size: 1.3em; line-height: 1.25; }
.number { color: var(--muted); font-weight: normal; }
.facts { color: var(--muted); margin: 4px 0 8px; }
audio { width: 100%; margin: 8px 0; }
.timeline { width: 100%; height: 40px; display: block; border-radius: 6px; cursor: pointer; }
.band0 { fill: var(--band0); } .band1 { fill: var(--band1); }
.hold { fill: var(--hold); opacity: .75; }
.playhead { stroke: var(--line); stroke-width: 3; vector-effect: non-scaling-stroke; }
h3 { margin: 16px 0 4px; font-size: 1em; }
ol { padding-left: 0; list-style: none; margin: 0; }
.section > ol { padding-left: 18px; }
.seek { font: inherit; color: inherit; background: none; border: 0; padding: 8px 4px;
  text-align: left; cursor: pointer; width: 100%; display: flex; gap: 10px; border-radius: 8px; }
.seek:hover, .seek:focus-visible { background: var(--band1); }
.seek[aria-current="true"] { background: var(--band0); font-weight: 600; }
.time { color: var(--muted); font-variant-numeric: tabular-nums; min-width: 3.2em; }
.section > .seek { font-weight: 600; }
.about { margin: 0 0 6px 4.2em; color: var(--muted); font-size: .9em; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 4px 12px; margin: 12px 0; }
dt { color: var(--muted); } dd { margin: 0; overflow-wrap: anywhere; }
.transcript summary { cursor: pointer; font-weight: 600; padding: 8px 0; }
.transcript li { display: flex; gap: 6px; align-items: baseline; }
.transcript .seek { width: auto; padding: 2px 4px; }
.files { display: flex; flex-wrap: wrap; gap: 8px 16px; margin: 12px 0 0; font-size: .9em; }
footer { color: var(--muted); font-size: .85em; }
"""

_SCRIPT = """
for (const card of document.querySelectorAll(".card")) {
  const audio = card.querySelector("audio");
  const duration = Number(card.dataset.duration) / 1000;
  const playhead = card.querySelector(".playhead");
  const chapters = [...card.querySelectorAll(".chapters .seek")];
  const seek = (seconds) => {
    audio.currentTime = Math.max(0, Math.min(seconds, duration));
    audio.play().catch(() => {});
  };
  card.addEventListener("click", (event) => {
    const button = event.target.closest(".seek");
    if (button) seek(Number(button.dataset.startMs) / 1000);
  });
  card.querySelector(".timeline").addEventListener("click", (event) => {
    const box = event.currentTarget.getBoundingClientRect();
    seek((event.clientX - box.left) / box.width * duration);
  });
  const show = () => {
    const x = Math.min(audio.currentTime / duration, 1) * %(width)d;
    playhead.setAttribute("x1", x);
    playhead.setAttribute("x2", x);
    const now = audio.currentTime * 1000;
    let current = null;
    for (const button of chapters) if (Number(button.dataset.startMs) <= now) current = button;
    for (const button of chapters) button.setAttribute("aria-current", String(button === current));
  };
  const follow = () => { show(); if (!audio.paused) requestAnimationFrame(follow); };
  audio.addEventListener("play", follow);
  audio.addEventListener("seeked", show);
  audio.addEventListener("timeupdate", show);
  // browsers refuse <track> files next to a page opened from disk, so the chapters track
  // is attached only when the page is served; the list above works either way
  if (location.protocol !== "file:") {
    const track = document.createElement("track");
    Object.assign(track, {kind: "chapters", label: "Chapters", src: audio.dataset.chapters,
                          srclang: audio.dataset.language, default: true});
    audio.append(track);
    track.track.mode = "hidden";
  }
}
""" % {"width": TIMELINE_WIDTH}
