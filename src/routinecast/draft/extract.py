"""An HTML page to its article's text, with headings and lists: the only user of the HTML
libraries (trafilatura, and lxml under it).

trafilatura keeps the main text and drops navigation, adverts, asides, footers, scripts and
styles; with `output_format="markdown"` headings come out as `#` lines and list items as
`-` / `1.` lines, which is what the drafter reads in plain-text and Markdown articles too.
Nothing is executed: lxml parses, it does not run scripts, and no network is used here.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from ..errors import InputError


@dataclass(frozen=True)
class Page:
    text: str
    """The article as Markdown-like text: `#` headings, `-`/`1.` list items, paragraphs."""
    title: str | None
    language: str | None
    site: str | None
    url: str | None


def html_to_text(html: str, name: str) -> Page:
    """The article in `html`; an `InputError` when the page holds none."""
    import trafilatura  # imported here: plain-text drafts do not pay for lxml
    from lxml import html as lxml_html

    try:
        text = trafilatura.extract(
            html, output_format="markdown", include_formatting=True, include_links=False,
            include_images=False, include_tables=True, include_comments=False,
            favor_recall=True, deduplicate=False)
        metadata = trafilatura.extract_metadata(html)
    except Exception as exc:  # lxml and trafilatura raise many kinds on broken pages
        raise InputError(f"{name}: the page cannot be read ({type(exc).__name__})") from None
    if not text or not text.strip():
        raise InputError(f"{name}: no article found in the page")
    language = None
    try:
        root = lxml_html.document_fromstring(html.encode("utf-8", "replace"))
        language = root.get("lang") or root.get("{http://www.w3.org/XML/1998/namespace}lang")
        if language is None:
            meta = root.xpath("//meta[@http-equiv='content-language']/@content")
            language = meta[0] if meta else None
    except Exception:
        language = None
    if language:
        language = language.strip().split(",")[0].strip()
        if not re.fullmatch(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*", language):
            language = None
    title = metadata.title if metadata is not None else None
    site = metadata.sitename if metadata is not None else None
    url = metadata.url if metadata is not None else None
    return Page(_clean_markdown(text), title, language, site, url)


def _clean_markdown(text: str) -> str:
    """trafilatura's Markdown with emphasis marks removed (they are not spoken)."""
    text = re.sub(r"(\*\*|__)(.+?)\1", r"\2", text)
    text = re.sub(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?!\w)", r"\1", text)
    return text


def html_line_of(html: str, words: str) -> int | None:
    """The line of the saved page that holds `words` (the first few of them), if any."""
    probe = re.escape(words[:32].strip()).replace(r"\ ", r"\s+")
    if not probe:
        return None
    m = re.search(probe, html, re.IGNORECASE)
    return html.count("\n", 0, m.start()) + 1 if m else None


class PageLines:
    """Where the extracted text stands in the saved page: each line of the text is found in
    the page by its first words, in order (a line not found stays where the one before it
    was), and words quoted from it are looked for from there, so that a comment names the
    page's line of "30 seconds", not only of the paragraph it is in."""

    REACH = 4000
    """Characters of the page after a line's start in which its words are looked for."""

    def __init__(self, text: str, html: str):
        import html as html_module
        self.page = html_module.unescape(re.sub(r"<[^>]*>", lambda m: "\n" * m[0].count("\n"),
                                                html))
        self.breaks = [m.start() for m in re.finditer("\n", self.page)]
        self.starts: dict[int, int] = {}
        position = 0
        for number, line in enumerate(text.split("\n"), 1):
            words = re.sub(r"^(?:#+|[-*+]|\d+[.)])\s+", "", line.strip())[:40].strip()
            m = _probe(words).search(self.page, position) if words else None
            if m:
                position = m.start()
            self.starts[number] = position

    def line(self, text_line: int, words: str | None = None) -> int:
        """The page's line of `words` (or of the start of `text_line`, where they are not
        found) of the text's line `text_line`."""
        start = self.starts.get(text_line, 0)
        m = _probe(words).search(self.page, start, start + self.REACH) if words else None
        return bisect.bisect_left(self.breaks, m.start() if m else start) + 1


def _probe(words: str) -> re.Pattern:
    """The first words of `words` as a pattern that lets the page break lines between them."""
    return re.compile(re.escape(words[:40].strip()).replace(r"\ ", r"\s+"), re.IGNORECASE)
