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

import shutil
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable, Sequence

from ..builder import Built, BuildSettings, Progress, build_loaded, load_all, output_path
from ..cover import make_cover
from ..errors import InputError, setting
from ..files import cannot_write, move_into, temp_folder
from ..overrides import Customised, Overrides
from .chapters import chapters_json, chapters_vtt
from .feed import FEED_NAME, Channel, Episode, make_feed
from .page import Card, make_page

PAGE_NAME, COVER_NAME = "index.html", "cover.png"


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


def share(paths: Sequence[str | Path], output: str | Path,
          settings: BuildSettings = BuildSettings(), layers: Sequence[Overrides] = (),
          title: str | None = None, description: str | None = None,
          base_url: str | None = None,
          progress: Progress | None = None, on_built: Callable[[Built], None] | None = None,
          on_note: Callable[[str], None] | None = None) -> Shared:
    """Build `paths` (customised by `layers`) into the folder `output` with everything a
    listener needs: see the module's docstring. `title` and `description` name the session
    (default: the routine's own for one routine). Links in the feed are relative unless
    `base_url`, the folder's address on the web, is given.

    Everything is made in a hidden folder inside `output` first, flushed to the disk, and
    moved into place at the end, the page and the feed last, so a failed share (or a power
    cut) leaves the previous one as it was, or the new one whole."""
    folder = Path(output)
    if folder.suffix.lower() in (".mp3", ".html", ".xml"):
        raise InputError(f"{folder} looks like a file; give share a folder")
    if base_url is not None and not base_url.startswith(("http://", "https://")):
        raise InputError(f"{setting('base_url')} {base_url}: give the folder's full address, "
                         "starting with http:// or https://")
    settings = replace(settings, format="mp3", split=False)  # the page and feed play MP3s
    loaded = load_all(paths, layers, settings.fallback)
    for customised in loaded:
        _check_names(customised, folder)
    routines = [customised.routine for customised in loaded]
    if title is None:
        title = routines[0].title if len(routines) == 1 else f"{len(routines)} routines"
    if description is None:
        description = (routines[0].description or "" if len(routines) == 1
                       else "; ".join(routine.title for routine in routines))
    cover = make_cover(title, description if len(description) < 80 else "")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        staging = temp_folder(folder, "share")
    except OSError as exc:
        raise cannot_write(folder, exc) from None
    try:
        report = (lambda built: on_built(replace(built, path=folder / built.path.name))) \
            if on_built else None
        built = build_loaded(loaded, staging, settings, progress, report, on_note, cover)
        publish(staging, folder, built, title, description, cover, base_url,
                published=max(Path(path).stat().st_mtime for path in paths))
    except OSError as exc:
        raise cannot_write(folder, exc) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return Shared(folder, folder / PAGE_NAME, folder / FEED_NAME,
                  tuple(replace(b, path=folder / b.path.name) for b in built))


def publish(staging: Path, folder: Path, built: list[Built], title: str, description: str,
            cover: Path, base_url: str | None, published: float) -> None:
    """Write the session's page, feed and chapter files into `staging`, then move what is
    there into `folder`: the page and the feed, which list the rest, last, so that after a
    crash or a power cut they never list a file that is not there yet."""
    names = _write_session(staging, built, title, description, cover, base_url, published)
    names = [name for name in names if (staging / name).exists()]  # MP3s may be in already
    move_into(staging, folder, names[:-2])
    move_into(staging, folder, names[-2:])


def _write_session(staging: Path, built: list[Built], title: str, description: str,
                   cover: bytes, base_url: str | None, published: float) -> list[str]:
    """Write the cover, each routine's chapter and routine files, the feed and the page into
    `staging`, beside the MP3s; returns every file's name, the page and feed last."""
    (staging / COVER_NAME).write_bytes(cover)
    names = [COVER_NAME]
    cards, episodes = [], []
    # the order the routines were given in is the order to follow: episode numbers, and dates
    # a minute apart so that apps listing newest first still keep them together
    newest = datetime.fromtimestamp(published // 60 * 60, tz=timezone.utc)
    for number, result in enumerate(built, start=1):
        stem = result.path.stem
        files = {"audio": result.path.name, "chapters": f"{stem}.chapters.json",
                 "vtt": f"{stem}.vtt", "routine": f"{stem}.yaml"}
        (staging / files["chapters"]).write_text(
            chapters_json(result.plan, result.routine, files["audio"]), encoding="utf-8")
        (staging / files["vtt"]).write_text(chapters_vtt(result.plan), encoding="utf-8")
        (staging / files["routine"]).write_text(result.routine_text, encoding="utf-8")
        names.extend(files.values())
        cards.append(Card(result.routine, result.plan, files["audio"], files["routine"],
                          files["chapters"], files["vtt"]))
        episodes.append(Episode(
            title=result.routine.title,
            description=result.routine.description or _summary(result),
            audio_name=files["audio"], audio_bytes=result.path.stat().st_size,
            duration_ms=result.plan.duration_ms, chapters_name=files["chapters"],
            published=newest - timedelta(minutes=number - 1), number=number))
    authors = list(dict.fromkeys(r.routine.author for r in built if r.routine.author))
    channel = Channel(title=title, description=description or title,
                      language=built[0].routine.language, author=", ".join(authors) or title,
                      cover_name=COVER_NAME, page_name=PAGE_NAME)
    (staging / FEED_NAME).write_bytes(make_feed(channel, episodes, base_url))
    (staging / PAGE_NAME).write_text(make_page(title, description, cards, FEED_NAME,
                                               COVER_NAME), encoding="utf-8")
    return [*names, FEED_NAME, PAGE_NAME]


def _summary(built: Built) -> str:
    """An episode's description when the routine has none: its chapters."""
    return "Chapters: " + ", ".join(chapter.title for chapter in built.plan.leaf_chapters())


def _check_names(customised: Customised, folder: Path) -> None:
    """Refuse replacing a routine file routinecast did not write (such as the routine being
    shared, when sharing into its own folder)."""
    stem = output_path(customised, folder).stem
    copy = folder / f"{stem}.yaml"
    if copy.exists() and not written_by_us(copy):
        raise InputError(f"sharing into {folder} would overwrite {copy}, which routinecast "
                         "did not write; give another folder")


def written_by_us(path: Path) -> bool:
    try:
        with path.open(encoding="utf-8") as file:
            return "as built by routinecast" in file.readline()
    except (OSError, UnicodeDecodeError):
        return False
