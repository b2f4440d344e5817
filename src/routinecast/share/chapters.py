"""A plan's chapters as files players and pages read: Podcasting 2.0 JSON chapters and
WebVTT chapters. Both list the chapters a player shows (`Plan.leaf_chapters`), the same
ones the MP3's CHAP frames hold."""

from __future__ import annotations

import json

from ..models import Plan, Routine

JSON_CHAPTERS_VERSION = "1.2.0"
JSON_CHAPTERS_TYPE = "application/json+chapters"


def chapters_json(plan: Plan, routine: Routine, audio_name: str) -> str:
    """Podcasting 2.0 JSON chapters (version 1.2.0): times in seconds, to the millisecond."""
    data = {
        "version": JSON_CHAPTERS_VERSION,
        "title": routine.title,
        "fileName": audio_name,
        "chapters": [{"startTime": chapter.start_ms / 1000, "endTime": chapter.end_ms / 1000,
                      "title": chapter.title}
                     for chapter in plan.leaf_chapters()],
    }
    if routine.author:
        data["author"] = routine.author
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def chapters_vtt(plan: Plan) -> str:
    """WebVTT chapters: one numbered cue per chapter."""
    cues = [f"{number}\n{vtt_time(chapter.start_ms)} --> {vtt_time(chapter.end_ms)}\n"
            f"{vtt_text(chapter.title)}\n"
            for number, chapter in enumerate(plan.leaf_chapters(), start=1)]
    return "WEBVTT\n\n" + "\n".join(cues)


def vtt_time(ms: int) -> str:
    """`83500` → `00:01:23.500`."""
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}"


def vtt_text(text: str) -> str:
    """Cue text as WebVTT requires: `&` and `<` escaped (which also rules out `-->`), on
    one line."""
    text = " ".join(text.split())
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
