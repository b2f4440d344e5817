"""A podcast RSS feed (RSS 2.0 with the iTunes and Podcasting 2.0 namespaces) for a share
folder, so that a phone's podcast app can subscribe to the session.

Links are written relative to the folder unless a base URL is given; `with_base_url`
makes them absolute, which podcast apps need. `serve` applies it with the address the feed
was fetched from, so a feed written without `--base-url` still works when served.

Titles and the author are plain text in RSS, but apps (and RSS 2.0) read a description as
HTML, so descriptions are HTML-escaped before XML escapes them again: `<b>` in a routine's
description shows as `<b>` rather than as bold, and markup in it never reaches an app. There
is no `itunes:summary`, which Apple has retired and apps read sometimes as text, sometimes
as HTML.
"""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from html import escape
from urllib.parse import quote, urljoin

from ..builder import GENRE
from .chapters import JSON_CHAPTERS_TYPE

ITUNES = "http://www.itunes.com/dtds/podcast-1.0.dtd"
PODCAST = "https://podcastindex.org/namespace/1.0"
ATOM = "http://www.w3.org/2005/Atom"
FEED_NAME = "feed.xml"
"""What a share folder's feed is called; `serve` rewrites the links of files so named."""
_NAMESPACES = {"itunes": ITUNES, "podcast": PODCAST, "atom": ATOM}
for _prefix, _uri in _NAMESPACES.items():
    ET.register_namespace(_prefix, _uri)


@dataclass(frozen=True)
class Episode:
    """One routine in the feed."""

    title: str
    """The routine's title."""
    description: str
    """What the episode is: the routine's description, or a summary of its chapters."""
    audio_name: str
    """The MP3's file name in the folder."""
    audio_bytes: int
    """The MP3's exact size, as the enclosure must say."""
    duration_ms: int
    """Its length."""
    chapters_name: str
    """The JSON chapters file's name in the folder."""
    published: datetime
    """Publication date (time zone aware)."""
    number: int
    """Episode number, from 1, in the order the session is meant to be followed."""


@dataclass(frozen=True)
class Channel:
    """The feed itself: the session."""

    title: str
    """Shown as the podcast's name."""
    description: str
    """Shown under it."""
    language: str
    """Language tag of the episodes (`en`)."""
    author: str
    """Who made the routines."""
    cover_name: str
    """The square cover image's file name in the folder."""
    page_name: str = "index.html"
    """The web page of the session, the channel's link."""


def make_feed(channel: Channel, episodes: list[Episode], base_url: str | None = None) -> bytes:
    """The RSS feed as UTF-8 XML; links relative to the feed unless `base_url` is given."""
    rss = ET.Element("rss", {"version": "2.0"})
    feed = ET.SubElement(rss, "channel")
    _text(feed, "title", channel.title)
    _text(feed, "link", channel.page_name)
    _text(feed, "description", _html(channel.description))
    _text(feed, "language", channel.language)
    _text(feed, "generator", "routinecast")
    _text(feed, f"{{{ITUNES}}}author", channel.author)
    _text(feed, f"{{{ITUNES}}}type", "serial")
    ET.SubElement(feed, f"{{{ITUNES}}}image", {"href": channel.cover_name})
    image = ET.SubElement(feed, "image")
    _text(image, "url", channel.cover_name)
    _text(image, "title", channel.title)
    _text(image, "link", channel.page_name)
    ET.SubElement(feed, f"{{{ITUNES}}}category", {"text": GENRE})
    _text(feed, f"{{{ITUNES}}}explicit", "false")
    for episode in episodes:
        item = ET.SubElement(feed, "item")
        _text(item, "title", episode.title)
        _text(item, "description", _html(episode.description))
        ET.SubElement(item, "enclosure", {"url": quote(episode.audio_name),
                                          "length": str(episode.audio_bytes),
                                          "type": "audio/mpeg"})
        _text(item, "guid", episode_guid(channel.title, episode.audio_name),
              {"isPermaLink": "false"})
        _text(item, "link", f"{channel.page_name}#{quote(episode.audio_name)}")
        _text(item, "pubDate", format_datetime(episode.published))
        _text(item, f"{{{ITUNES}}}duration", str(round(episode.duration_ms / 1000)))
        _text(item, f"{{{ITUNES}}}episode", str(episode.number))
        _text(item, f"{{{ITUNES}}}explicit", "false")
        ET.SubElement(item, f"{{{PODCAST}}}chapters", {"url": quote(episode.chapters_name),
                                                       "type": JSON_CHAPTERS_TYPE})
    xml = ET.tostring(rss, encoding="utf-8", xml_declaration=True)
    return with_base_url(xml, base_url) if base_url else xml


def episode_guid(channel_title: str, audio_name: str) -> str:
    """The same for every rebuild of the same routine into the same session, so that apps
    update an episode rather than list it twice."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"routinecast:{channel_title}/{audio_name}"))


# (element path, attribute or None for the text) of every link in the feed
_LINKS = (
    ("channel/link", None), ("channel/image/url", None), ("channel/image/link", None),
    (f"channel/{{{ITUNES}}}image", "href"), ("channel/item/enclosure", "url"),
    ("channel/item/link", None), (f"channel/item/{{{PODCAST}}}chapters", "url"),
)


def with_base_url(xml: bytes, base_url: str) -> bytes:
    """The feed with its relative links made absolute against `base_url` (the folder's
    URL), and an `atom:link rel="self"` to itself."""
    base_url = base_url if base_url.endswith("/") else base_url + "/"
    rss = ET.fromstring(xml)
    for path, attribute in _LINKS:
        for element in rss.iterfind(path):
            if attribute:
                element.set(attribute, urljoin(base_url, element.get(attribute, "")))
            else:
                element.text = urljoin(base_url, element.text or "")
    feed = rss.find("channel")
    if feed is None:
        raise ValueError("the feed has no channel")
    for old in feed.findall(f"{{{ATOM}}}link"):
        feed.remove(old)
    feed.insert(0, ET.Element(f"{{{ATOM}}}link", {"href": urljoin(base_url, FEED_NAME),
                                                  "rel": "self",
                                                  "type": "application/rss+xml"}))
    return ET.tostring(rss, encoding="utf-8", xml_declaration=True)


def served_feed(_path: str, xml: bytes, base_url: str) -> bytes | None:
    """For `serve`: the feed with absolute links for the address it was fetched from; None
    (serve the file as it is) for a `feed.xml` that is not a feed we can read."""
    try:
        return with_base_url(xml, base_url)
    except (ET.ParseError, ValueError):
        return None


def _html(text: str) -> str:
    """Plain `text` as the HTML that apps render back to it; quotes stay, since no attribute
    holds it, and fewer entities read better in the apps that show the text as it is."""
    return escape(text, quote=False)


def _text(parent: ET.Element, tag: str, text: str, attributes: dict | None = None) -> None:
    ET.SubElement(parent, tag, attributes or {}).text = text
