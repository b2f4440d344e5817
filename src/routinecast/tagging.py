"""The only module that uses mutagen: ID3v2.3 text tags, the chapter table of contents, the
cover (APIC), the routine the MP3 was built from (a GEOB frame) and its build key (a TXXX
frame; in an M4B, a freeform atom), by which an unchanged rebuild is skipped.

Chapters are CHAP frames (the plan's leaf chapters, contiguous from 0 to the end) under one
top-level, ordered CTOC; a section is a child CTOC holding its chapters. mutagen orders
frames by size when it saves (mutagen issue 506), but players and ffprobe read CHAP frames
in file order, so the chapter frames are written last, in start-time order, by us.
"""

from __future__ import annotations

import itertools

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from mutagen import MutagenError
from mutagen.id3 import (APIC, CHAP, COMM, CTOC, GEOB, ID3, TALB, TIT2, TPE1, TRCK, TSSE, TXXX,
                         CTOCFlags, ID3NoHeaderError, PictureType)
from mutagen.id3._tags import save_frame

from .errors import TaggingError
from .files import DISK_FULL, cannot_write
from .models import Chapter, Plan, Routine

TOP_TOC = "toc"
ROUTINE_FRAME = "routinecast routine"
"""Description of the GEOB frame holding the routine file, which tells it from others."""
ROUTINE_MIME = "application/yaml"
BUILD_FRAME = "routinecast build"
"""Description of the TXXX frame holding the build key (see `builder.build_key`)."""
BUILD_ATOM = "----:org.routinecast:build"
"""The M4B's freeform atom holding the build key."""
NO_OFFSET = 0xFFFFFFFF


class _ChapterOrderedID3(ID3):
    """ID3 that writes CTOC and CHAP frames after the others, in the order they were added."""

    def __init__(self, *args, **kwargs):
        self.chapter_frames: list[CTOC | CHAP] = []
        super().__init__(*args, **kwargs)

    def _write(self, config):
        other = super()._write(config)
        return other + b"".join(save_frame(f, config=config) for f in self.chapter_frames)


@dataclass(frozen=True)
class TagInfo:
    """What routinecast writes into an MP3, as read back from it."""

    version: tuple[int, int, int]
    """ID3 version, (2, 3, 0) for files routinecast wrote."""
    title: str | None
    """TIT2."""
    chapters: list[tuple[str, int, int, str]]
    """CHAP frames in file order: (element id, start ms, end ms, title)."""
    toc: dict[str, tuple[bool, bool, list[str], str | None]]
    """CTOC frames by id: (top-level, ordered, child ids, title)."""
    cover: bytes | None
    """The front cover picture (PNG), if there is one."""
    routine_text: str | None
    """The routine file the MP3 was built from, if it carries one."""


def write_tags(path: Path, routine: Routine, plan: Plan | None, software: str,
               routine_text: str | None = None, cover: bytes | None = None,
               title: str | None = None, track: tuple[int, int] | None = None,
               build: str | None = None) -> None:
    """Replace the ID3 tag of `path` with the routine's text tags, the plan's chapters (if
    a plan is given), the routine file `routine_text`, the PNG `cover` and the `build` key.

    `title` and `track` (number, of how many) are for one part of a split routine: the
    routine's title then becomes the album.
    """
    tags = _ChapterOrderedID3()
    tags.add(TIT2(encoding=1, text=[title or routine.title]))
    if title:
        tags.add(TALB(encoding=1, text=[routine.title]))
    if track:
        tags.add(TRCK(encoding=1, text=[f"{track[0]}/{track[1]}"]))
    if routine.author:
        tags.add(TPE1(encoding=1, text=[routine.author]))
    comment = "\n".join(part for part in (
        routine.description, f"Source: {routine.source}" if routine.source else None) if part)
    if comment:
        tags.add(COMM(encoding=1, lang="eng", desc="", text=[comment]))
    tags.add(TSSE(encoding=1, text=[software]))
    if cover:
        tags.add(APIC(encoding=1, mime="image/png", type=PictureType.COVER_FRONT, desc="cover",
                      data=cover))
    if routine_text is not None:
        tags.add(GEOB(encoding=1, mime=ROUTINE_MIME, filename=f"{Path(routine.path).stem}.yaml",
                      desc=ROUTINE_FRAME, data=routine_text.encode("utf-8")))
    if build is not None:
        tags.add(TXXX(encoding=1, desc=BUILD_FRAME, text=[build]))
    if plan is not None:
        tags.chapter_frames = _chapter_frames(plan)
    tags.update_to_v23()
    try:
        tags.save(str(path), v2_version=3)
    except (MutagenError, OSError) as exc:
        cause = exc if isinstance(exc, OSError) else exc.__cause__ or exc.__context__
        if isinstance(cause, OSError) and cause.errno in DISK_FULL:
            raise cannot_write(path.parent, cause) from None
        raise TaggingError(f"cannot write tags to {path}: {exc}") from None
    if plan is not None:
        _check_chapters(path, tags.chapter_frames)


def _chapters(frames: Iterable) -> tuple[list[tuple[str, int, int, str]],
                                         dict[str, tuple[bool, bool, list[str], str | None]]]:
    """`TagInfo.chapters` and `TagInfo.toc` of `frames`, in their order."""
    frames = list(frames)
    chapters = [(f.element_id, f.start_time, f.end_time, _title(f) or "")
                for f in frames if isinstance(f, CHAP)]
    toc = {f.element_id: (bool(f.flags & CTOCFlags.TOP_LEVEL), bool(f.flags & CTOCFlags.ORDERED),
                          list(f.child_element_ids), _title(f))
           for f in frames if isinstance(f, CTOC)}
    return chapters, toc


def _title(frame: CTOC | CHAP) -> str | None:
    """A chapter frame's title (its TIT2 sub-frame), if it has one."""
    sub = frame.sub_frames.get("TIT2")
    return str(sub.text[0]) if sub else None


def _check_chapters(path: Path, frames: list[CTOC | CHAP]) -> None:
    """Read the chapters back and fail when they are not what was written: their order
    rests on overriding mutagen's private `ID3._write`, and a mutagen that stopped calling it
    would drop or reorder them without a word."""
    chapters, toc = _chapters(frames)
    found = read_tags(path)
    problem = ("CHAP frames are missing or out of order" if found.chapters != chapters
               else "the tables of contents differ" if found.toc != toc else None)
    if problem:
        import mutagen
        raise TaggingError(f"{path}: the chapters read back are not those written ({problem}); "
                           f"mutagen {mutagen.version_string} no longer writes them as "
                           "routinecast orders them (tagging._ChapterOrderedID3 overrides its "
                           "ID3._write): install a mutagen that does (see pyproject.toml)")


def _chapter_frames(plan: Plan) -> list[CTOC | CHAP]:
    """One top CTOC, a child CTOC per section, then every CHAP in start-time order."""
    tocs: list[CTOC] = []
    chaps: list[CHAP] = []
    counter = itertools.count(1)

    def chap(chapter: Chapter) -> str:
        element_id = f"ch{next(counter)}"
        chaps.append(CHAP(element_id=element_id, start_time=chapter.start_ms,
                          end_time=chapter.end_ms, start_offset=NO_OFFSET, end_offset=NO_OFFSET,
                          sub_frames=[TIT2(encoding=1, text=[chapter.title])]))
        return element_id

    def entry(chapter: Chapter) -> str:
        if not chapter.children:
            return chap(chapter)
        toc_id = f"toc{len(tocs) + 1}"
        toc = CTOC(element_id=toc_id, flags=CTOCFlags.ORDERED, child_element_ids=[],
                   sub_frames=[TIT2(encoding=1, text=[chapter.title])])
        tocs.append(toc)
        first = chapter.children[0].start_ms
        if first > chapter.start_ms:  # the section's own lead-in, where its title is spoken
            toc.child_element_ids.append(chap(Chapter(chapter.id, chapter.title,
                                                      chapter.start_ms, first)))
        toc.child_element_ids.extend(entry(child) for child in chapter.children)
        return toc_id

    top = CTOC(element_id=TOP_TOC, flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED,
               child_element_ids=[entry(chapter) for chapter in plan.chapters],
               sub_frames=[TIT2(encoding=1, text=[plan.title])])
    return [top, *tocs, *chaps]


def read_tags(path: Path) -> TagInfo:
    """The tags routinecast cares about, as stored in `path`."""
    try:
        tags = ID3(str(path))
    except ID3NoHeaderError:
        raise TaggingError(f"{path} has no ID3 tag") from None
    except (MutagenError, OSError) as exc:
        raise TaggingError(f"cannot read tags of {path}: {exc}") from None

    chapters, toc = _chapters(tags.values())
    covers = [f.data for f in tags.getall("APIC") if f.type == PictureType.COVER_FRONT]
    routines = [f.data for f in tags.getall("GEOB") if f.desc == ROUTINE_FRAME]
    try:
        routine_text = routines[0].decode("utf-8") if routines else None
    except UnicodeDecodeError:
        raise TaggingError(f"{path}: the routine it carries is not UTF-8 text") from None
    return TagInfo(tags.version, str(tags["TIT2"].text[0]) if "TIT2" in tags else None,
                   chapters, toc, covers[0] if covers else None, routine_text)


def read_build(path: Path) -> str | None:
    """The build key an MP3 or M4B routinecast wrote carries; None for a file that is
    missing, unreadable or carries none."""
    try:
        if Path(path).suffix.lower() == ".m4b":
            from mutagen.mp4 import MP4

            values = (MP4(str(path)).tags or {}).get(BUILD_ATOM)
            return bytes(values[0]).decode("ascii") if values else None
        frames = ID3(str(path)).getall(f"TXXX:{BUILD_FRAME}")
        return str(frames[0].text[0]) if frames else None
    except (MutagenError, OSError, UnicodeDecodeError, ValueError):
        return None


def write_m4b_build(path: Path, build: str) -> None:
    """Add the `build` key to the M4B at `path` (ffmpeg writes its other tags)."""
    from mutagen.mp4 import MP4, MP4FreeForm

    try:
        book = MP4(str(path))
        if book.tags is None:
            book.add_tags()
        book.tags[BUILD_ATOM] = [MP4FreeForm(build.encode("ascii"))]
        book.save()
    except (MutagenError, OSError) as exc:
        cause = exc if isinstance(exc, OSError) else exc.__cause__ or exc.__context__
        if isinstance(cause, OSError) and cause.errno in DISK_FULL:
            raise cannot_write(path.parent, cause) from None
        raise TaggingError(f"cannot write tags to {path}: {exc}") from None
