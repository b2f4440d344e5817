"""Sharing built routines: a static folder with a web page, a podcast feed, chapter files,
and the routine files, which `serve` (or any web server, or a file manager) hands out.

    DIR/index.html                 the page: a card per routine
    DIR/feed.xml                   the podcast feed
    DIR/cover.png                  the session's cover, also in every MP3
    DIR/NAME.mp3                   each routine, built as `build` builds it
    DIR/NAME.chapters.json, .vtt   its chapters, for podcast apps and the page
    DIR/NAME.yaml                  the routine as built, ready to change and rebuild
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable, Sequence

from ..builder import Built, BuildSettings, Progress, build
from ..cover import make_cover
from ..errors import InputError, OutputError
from ..files import write_text_atomic, replacing
from ..overrides import Overrides
from ..routine import load_routine
from .chapters import chapters_json, chapters_vtt
from .feed import Channel, Episode, make_feed
from .page import Card, make_page

PAGE_NAME, FEED_NAME, COVER_NAME = "index.html", "feed.xml", "cover.png"


@dataclass(frozen=True)
class Shared:
    """A share folder written."""

    folder: Path
    """Where it is."""
    page: Path
    """Its index.html."""
    feed: Path
    """Its feed.xml."""
    built: tuple[Built, ...]
    """The routines built into it, in order."""


def share(paths: Sequence[str | Path], output: str | Path, settings: BuildSettings = BuildSettings(),
          layers: Sequence[Overrides] = (), title: str | None = None,
          description: str | None = None, base_url: str | None = None,
          progress: Progress | None = None, on_built: Callable[[Built], None] | None = None,
          on_note: Callable[[str], None] | None = None) -> Shared:
    """Build `paths` (customised by `layers`) into the folder `output` with everything a
    listener needs: see the module's docstring. `title` and `description` name the session
    (default: the routine's own for one routine). Links in the feed are relative unless
    `base_url`, the folder's address on the web, is given."""
    folder = Path(output)
    if folder.suffix.lower() in (".mp3", ".html", ".xml"):
        raise InputError(f"{folder} looks like a file; give share a folder")
    if base_url is not None and not base_url.startswith(("http://", "https://")):
        raise InputError(f"--base-url {base_url}: give the folder's full address, "
                         "starting with http:// or https://")
    routines = [load_routine(path) for path in paths]
    _refuse_overwriting_sources(paths, folder, routines)
    if title is None:
        title = routines[0].title if len(routines) == 1 else f"{len(routines)} routines"
    if description is None:
        description = (routines[0].description or "" if len(routines) == 1
                       else "; ".join(routine.title for routine in routines))
    cover = make_cover(title, description if len(description) < 80 else "")
    built = build(paths, folder, settings, layers, progress, on_built, on_note, cover)

    with replacing(folder / COVER_NAME) as temp:
        temp.write_bytes(cover)
    cards, episodes = [], []
    newest = max(Path(path).stat().st_mtime for path in paths)
    # the order the routines were given in is the order to follow: episode numbers, and dates
    # a minute apart so that apps listing newest first still keep them together
    published = datetime.fromtimestamp(newest // 60 * 60, tz=timezone.utc)
    for number, result in enumerate(built, start=1):
        stem = result.path.stem
        names = {"audio": result.path.name, "chapters": f"{stem}.chapters.json",
                 "vtt": f"{stem}.vtt", "routine": f"{stem}.yaml"}
        write_text_atomic(folder / names["chapters"],
                          chapters_json(result.plan, result.routine, names["audio"]))
        write_text_atomic(folder / names["vtt"], chapters_vtt(result.plan))
        write_text_atomic(folder / names["routine"], result.routine_text)
        cards.append(Card(result.routine, result.plan, names["audio"], names["routine"],
                          names["chapters"], names["vtt"]))
        episodes.append(Episode(
            title=result.routine.title,
            description=result.routine.description or _summary(result),
            audio_name=names["audio"], audio_bytes=result.path.stat().st_size,
            duration_ms=result.plan.duration_ms, chapters_name=names["chapters"],
            published=published - timedelta(minutes=number - 1), number=number))
    authors = list(dict.fromkeys(r.routine.author for r in built if r.routine.author))
    channel = Channel(title=title, description=description or title,
                      language=built[0].routine.language, author=", ".join(authors) or title,
                      cover_name=COVER_NAME, page_name=PAGE_NAME)
    with replacing(folder / FEED_NAME) as temp:
        temp.write_bytes(make_feed(channel, episodes, base_url))
    write_text_atomic(folder / PAGE_NAME, make_page(title, description, cards, FEED_NAME,
                                                    COVER_NAME))
    return Shared(folder, folder / PAGE_NAME, folder / FEED_NAME, tuple(built))


def _summary(built: Built) -> str:
    """An episode's description when the routine has none: its chapters."""
    return "Chapters: " + ", ".join(chapter.title for chapter in built.plan.leaf_chapters())


def _refuse_overwriting_sources(paths: Sequence[str | Path], folder: Path, routines) -> None:
    """Sharing into the folder a routine lives in would replace it with its resolved copy."""
    for path, routine in zip(paths, routines):
        copy = folder / f"{Path(path).stem}.yaml"
        if copy.exists() and copy.resolve() == Path(path).resolve():
            raise OutputError(f"sharing into {folder} would overwrite the routine {path}; "
                              "give another folder")
