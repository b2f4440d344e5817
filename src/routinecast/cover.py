"""The only module that uses Pillow: a generated square cover (PNG) showing a title.

Podcast apps want square artwork of 1400 to 3000 pixels; phones show it in the player and
the episode list. The colour is derived from the title, so each session keeps its look
from build to build, and the same title always gives the same bytes.
"""

from __future__ import annotations

import colorsys
import hashlib
import io
from pathlib import Path

COVER_PX = 1400
"""The smallest size Apple Podcasts accepts; larger only makes every MP3 heavier."""
_MARGIN = 120
_MAX_LINES = 6


def make_cover(title: str, subtitle: str = "", size: int = COVER_PX) -> bytes:
    """A `size`×`size` PNG with `title` large and `subtitle` small beneath it."""
    # imported here: a build whose MP3 is up to date, or that is given its cover, draws none
    from PIL import Image, ImageDraw, ImageFont

    digest = hashlib.sha256(title.encode("utf-8")).digest()
    hue = digest[0] / 256
    background = _rgb(hue, 0.45, 0.42)
    accent = _rgb(hue, 0.35, 0.55)
    image = Image.new("RGB", (size, size), background)
    draw = ImageDraw.Draw(image)
    # rings in the lower right: a quiet mark that reads as "breath" at thumbnail size
    centre = (size * 0.82, size * 0.86)
    for i in range(5):
        radius = size * (0.12 + 0.09 * i)
        draw.ellipse([centre[0] - radius, centre[1] - radius, centre[0] + radius,
                      centre[1] + radius], outline=accent, width=max(2, size // 120))
    width = size - 2 * _MARGIN
    font_size, lines = size // 9, [title]
    while font_size > size // 40:
        font = ImageFont.load_default(size=font_size)
        lines = _wrap(title, font, width)
        if len(lines) <= _MAX_LINES and all(font.getlength(line) <= width for line in lines):
            break
        font_size = font_size * 9 // 10
    y = _MARGIN
    for line in lines[:_MAX_LINES]:
        draw.text((_MARGIN, y), line, font=font, fill=(255, 255, 255))
        y += font_size * 6 // 5
    if subtitle:
        small = ImageFont.load_default(size=size // 24)
        draw.text((_MARGIN, y + size // 30), _fit(subtitle, small, width), font=small,
                  fill=(235, 235, 235))
    label = ImageFont.load_default(size=size // 28)
    draw.text((_MARGIN, size - _MARGIN - size // 28), "routinecast", font=label,
              fill=(230, 230, 230))
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


COVER_FORMAT = "cover-1"
"""Changes whenever `make_cover` draws differently, so that no kept cover is stale."""
_PNG_START = b"\x89PNG\r\n\x1a\n"
_PNG_END = b"IEND\xaeB`\x82"


def kept_cover(folder: Path, title: str, subtitle: str = "") -> bytes:
    """`make_cover(title, subtitle)`, kept in `folder` so that it is drawn once: a warm build
    then neither starts Pillow nor spends a core compressing a picture while it encodes."""
    from .cachefolder import mark_used, read_entry
    from .files import keep

    key = hashlib.sha256("\0".join((COVER_FORMAT, str(COVER_PX), title, subtitle))
                         .encode("utf-8")).hexdigest()
    path = Path(folder) / f"{key}.png"
    found = read_entry(path)
    # a cut-short file (a write torn by a power cut) lacks the PNG's closing chunk
    if found is not None and found[0].startswith(_PNG_START) and found[0].endswith(_PNG_END):
        mark_used(path, found[1])
        return found[0]
    data = make_cover(title, subtitle)
    keep(path, data)
    return data


def _rgb(hue: float, saturation: float, value: float) -> tuple[int, int, int]:
    red, green, blue = colorsys.hsv_to_rgb(hue, saturation, value)
    return round(red * 255), round(green * 255), round(blue * 255)


def _wrap(text: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    """Greedy word wrap to `width` pixels; a word too long for a line stays whole."""
    lines: list[str] = []
    for word in text.split():
        if lines and font.getlength(f"{lines[-1]} {word}") <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines or [""]


def _fit(text: str, font: ImageFont.FreeTypeFont, width: int) -> str:
    """`text`, cut short with an ellipsis if it is wider than `width` pixels."""
    if font.getlength(text) <= width:
        return text
    while text and font.getlength(text + "…") > width:
        text = text[:-1]
    return text.rstrip() + "…"
