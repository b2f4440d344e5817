"""An article's text (plain, Markdown, or what extract.py made of a page) to blocks of
sentences: headings, list items, paragraphs, each sentence with its line.

This module knows the shape of text, not its meaning: what a sentence says for the routine
is read through the rules table (rules.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from . import rules

LIST_ITEM = re.compile(r"^(?:[-*+•·●▪◦‣]|\d{1,2}\s*(?:\.\)|[.)])|\(\d{1,2}\)|[a-h][.)])\s+(?P<text>.+)$")
MD_HEADING = re.compile(r"^#{1,6}\s+(?P<text>.+?)\s*#*$")
TERMINAL = tuple(".!?…:;")
JOINERS = re.compile(r"(?:\b(?:of|for|to|and|the|with|&)|[-–—:,])$", re.IGNORECASE)

MAX_SENTENCE = 1000
"""Characters in the longest sentence read; it also bounds the work of every rule."""
SENTENCE_END = re.compile(r"(?<=[.!?…])[\"”’)]*\s+(?=[\"“(‘']?[A-Z0-9])")


@dataclass
class Sentence:
    text: str
    line: int
    item: bool = False
    """From a list item (a step), rather than prose."""
    para: int = 0


@dataclass
class Block:
    heading: str | None
    line: int | None
    sentences: list[Sentence] = field(default_factory=list)
    has_list: bool = False
    listed: bool = False
    """The heading was a short list item ("1. Cat Stretch")."""


@dataclass
class Parsed:
    title: str | None
    title_line: int | None
    blocks: list[Block]
    tail: list[Sentence] = field(default_factory=list)
    """Sentences after the article's end ("Related posts", "Sources"), read for cautions only."""


def _words(text: str) -> int:
    return len(text.split())


def short_heading(text: str) -> bool:
    """A line that reads as a title: short, no sentence ending, starts with a capital."""
    text = text.strip()
    if not text or _words(text) > 9 or len(text) > 70:
        return False
    if text.endswith((".", ",", ";", "!", "?", "…", "\"", "”")) and not text.endswith("..."):
        return False
    if not (text[0].isupper() or text[0].isdigit() or text[0] in "#\"“"):
        return False
    if rules.matches("not-a-title", text):
        return False  # said to someone, or by someone: a sentence, not a title
    if rules.find("hold", text) or rules.find("reps", text):
        return False
    return bool(re.search(r"[A-Za-z]", text))


def parse(text: str) -> Parsed:
    """Lines → title, and blocks of sentences under headings."""
    text = re.sub(r"(\*\*|__)(.+?)\1", r"\2", text)  # Markdown emphasis is not said
    raw = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    lines = [(i + 1, re.sub(r"[\u00a0\u2000-\u200b\u202f\ufeff]", " ", line).strip())
             for i, line in enumerate(raw)]
    title, title_line = None, None
    blocks: list[Block] = [Block(None, None)]
    para = 0
    first = True
    pending: list[tuple[int, str]] = []  # a paragraph being joined: (line, text)

    def flush() -> None:
        nonlocal pending, para
        if pending:
            _add_paragraph(blocks[-1], pending, para, item=False)
            para += 1
            pending = []

    def start_block(heading: str, line: int, listed: bool = False) -> None:
        flush()
        last = blocks[-1]
        if last.heading is not None and not last.sentences:
            # a run of headings: join "Self-Assessment Of" + "Lower Back Pain Stretches",
            # otherwise the last one names the block ("The Cat Stretch" said three times)
            if JOINERS.search(last.heading):
                last.heading = f"{last.heading.rstrip(' -–—:')} {heading}"
                return
            last.heading, last.line, last.listed = heading, line, listed
            return
        blocks.append(Block(heading, line, listed=listed))

    for index, (number, line) in enumerate(lines):
        if not line:
            flush()
            continue
        if rules.matches("skip", line) and _words(line) <= 14:
            flush()
            continue
        if rules.matches("end", line) and (MD_HEADING.match(line) or short_heading(line)):
            tail = Block(None, None)
            _add_paragraph(tail, [(n, t) for n, t in lines[index + 1:] if t], 0, item=False)
            flush()
            return Parsed(title, title_line, [b for b in blocks if b.heading or b.sentences],
                          tail.sentences)
        md = MD_HEADING.match(line)
        if first and _words(line) <= 16 and not line.endswith((".", "!")):
            first = False
            title, title_line = (md["text"] if md else line).strip(), number
            continue
        first = False
        if md:
            heading = md["text"].strip()
            if rules.matches("end", heading):
                tail = Block(None, None)
                _add_paragraph(tail, [(n, t) for n, t in lines[index + 1:] if t], 0, item=False)
                flush()
                return Parsed(title, title_line, [b for b in blocks if b.heading or b.sentences],
                              tail.sentences)
            start_block(heading, number)
            continue
        item = LIST_ITEM.match(line)
        if item:
            flush()
            body = item["text"].strip()
            named = rules.first("heading", body) if _words(body) > 2 else None
            if named is not None and named.rule.id == "heading-name-colon" \
                    and _looks_named(named.value):
                start_block(named.value, number, listed=True)
                _add_paragraph(blocks[-1], [(number, named.match["body"])], para, item=True)
                para += 1
                blocks[-1].has_list = True
                continue
            if short_heading(body) and _words(body) <= 7 and not _continues(lines, index):
                start_block(body, number, listed=True)
                continue
            blocks[-1].has_list = True
            _add_paragraph(blocks[-1], [(number, body)], para, item=True)
            para += 1
            continue
        generic = rules.first("heading", line)
        if generic is not None and generic.rule.id == "heading-generic" and _words(line) <= 14 \
                and not line.endswith("."):
            start_block(line, number)
            continue
        if generic is not None and generic.rule.id == "heading-lettered" and short_heading(
                generic.value) and not pending:
            start_block(generic.value, number)
            continue
        if short_heading(line) and not pending and not _continues(lines, index):
            start_block(line, number)
            continue
        if generic is not None and generic.rule.id == "heading-name-colon" and not pending \
                and _words(generic.value) <= 5 and _looks_named(generic.value):
            start_block(generic.value, number)
            _add_paragraph(blocks[-1], [(number, generic.match["body"])], para, item=False)
            para += 1
            continue
        pending.append((number, line))
        if line.endswith(TERMINAL) and not line.endswith(":"):
            pass  # a paragraph may go on over several lines; a blank line ends it
    flush()
    return Parsed(title, title_line, [b for b in blocks if b.heading or b.sentences])


def _looks_named(text: str) -> bool:
    """"Knee hug" or "Cat Stretch" (a name before a colon), not "Important" or "Note"."""
    if text.split()[0].lower() in rules.VERBS - {"stretch", "twist", "hug", "roll", "rock"}:
        return False
    return not rules.matches("not-a-name", text)


def _continues(lines: list[tuple[int, str]], index: int) -> bool:
    """Whether the line at `index` is cut mid-sentence (the next line goes on in lowercase)."""
    for _, line in lines[index + 1:]:
        if line:
            return line[0].islower()
        return False
    return False


def _add_paragraph(block: Block, parts: list[tuple[int, str]], para: int, item: bool) -> None:
    if not parts:
        return
    text, starts = "", []
    for number, part in parts:
        if text:
            text += " "
        starts.append((len(text), number))
        text += part
    text = re.sub(r"…+|\.{3,}", "… ", text)
    position = 0
    for piece in SENTENCE_END.split(text):
        if not piece.strip():
            position += len(piece) + 1
            continue
        offset = text.find(piece, position)
        offset = position if offset < 0 else offset
        line = [n for start, n in starts if start <= offset][-1]
        if len(piece) <= MAX_SENTENCE:  # longer is no instruction: a wall of text, left out
            block.sentences.append(Sentence(piece.strip(), line, item, para))
        position = offset + len(piece)
