"""Reading an article: a file or an http(s) URL, with a size cap and a timeout, as text.

Nothing here parses HTML; it only decides that the bytes are text of a sane size and
decodes them. A URL is fetched with the standard library (urllib), never a browser: nothing
on the page is executed.
"""

from __future__ import annotations

import codecs
import re
import socket
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError, RoutinecastError

MAX_BYTES = 5 * 1024 * 1024
"""The largest article read: a long saved web page is under 2 MB; anything bigger is
refused before it is parsed."""
TIMEOUT = 20.0
"""Seconds a URL may take to connect, and between two reads of its answer."""


class FetchError(RoutinecastError):
    """A URL could not be fetched (network, server): exit status 1."""


@dataclass(frozen=True)
class Source:
    text: str
    name: str
    """The file's name or the URL, for messages and the routine's `source`."""
    url: str | None = None
    html: bool = False


def is_url(source: str) -> bool:
    return bool(re.match(r"^[a-z][a-z0-9+.-]*://", source, re.IGNORECASE))


def read_source(source: str | Path, timeout: float = TIMEOUT,
                max_bytes: int = MAX_BYTES) -> Source:
    """The article at `source` (a path, or an http/https URL) as text."""
    if isinstance(source, str) and is_url(source):
        data, content_type, final_url = _fetch(source, timeout, max_bytes)
        name = source
    else:
        path = Path(source)
        data, content_type, final_url, name = _read_file(path, max_bytes), "", None, str(path)
    text = decode(data, content_type, name)
    html = "html" in content_type.lower() or looks_like_html(text) \
        or name.lower().endswith((".html", ".htm", ".xhtml"))
    return Source(text, name, final_url, html)


def _read_file(path: Path, max_bytes: int) -> bytes:
    try:
        if path.is_dir():
            raise InputError(f"{path} is a folder; give an article file or a URL")
        size = path.stat().st_size
        if size > max_bytes:
            raise InputError(f"{path} is too large to be an article "
                             f"({_mb(size)}; at most {_mb(max_bytes)})")
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)  # a file that grew, or a device
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if len(data) > max_bytes:
        raise InputError(f"{path} is too large to be an article (over {_mb(max_bytes)})")
    return data


def _fetch(url: str, timeout: float, max_bytes: int) -> tuple[bytes, str, str]:
    if not re.match(r"^https?://", url, re.IGNORECASE):
        raise InputError(f"{url}: only http:// and https:// addresses can be fetched")
    request = urllib.request.Request(url, headers={
        "User-Agent": "routinecast-draft (+offline article reader)",
        "Accept": "text/html, text/plain;q=0.9, text/markdown;q=0.9"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            length = response.headers.get("Content-Length")
            if length and length.isdigit() and int(length) > max_bytes:
                raise InputError(f"{url} is too large to be an article "
                                 f"({_mb(int(length))}; at most {_mb(max_bytes)})")
            content_type = response.headers.get("Content-Type", "")
            data = response.read(max_bytes + 1)
            final = response.geturl()
    except (TimeoutError, socket.timeout):
        raise FetchError(f"{url}: no answer within {timeout:g} s") from None
    except urllib.error.HTTPError as exc:
        raise FetchError(f"{url}: the server answered {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, (TimeoutError, socket.timeout)):
            raise FetchError(f"{url}: no answer within {timeout:g} s") from None
        raise FetchError(f"{url}: cannot be fetched ({getattr(reason, 'strerror', None) or reason})"
                         ) from None
    except (OSError, ValueError) as exc:  # a reset connection, a malformed answer
        raise FetchError(f"{url}: cannot be fetched ({exc})") from None
    if len(data) > max_bytes:
        raise InputError(f"{url} is too large to be an article (over {_mb(max_bytes)})")
    return data, content_type, final


_MAGIC = {b"%PDF": "a PDF", b"PK\x03\x04": "a zip archive (a Word or EPUB file?)",
          b"\x89PNG": "a PNG image", b"\xff\xd8\xff": "a JPEG image", b"GIF8": "a GIF image",
          b"ID3": "an MP3", b"\x1f\x8b": "gzip data", b"\x7fELF": "a program"}


def decode(data: bytes, content_type: str, name: str) -> str:
    """`data` as text, or an `InputError` when it is binary."""
    for magic, what in _MAGIC.items():
        if data.startswith(magic):
            raise InputError(f"{name} is {what}, not an article; save the page as HTML or text")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encodings = ["utf-16"]
    else:
        declared = re.search(rb"charset=[\"']?([\w-]+)", content_type.encode() + b" "
                             + data[:2048], re.IGNORECASE)
        encodings = ["utf-8-sig"]
        if declared:
            encodings.insert(0, declared[1].decode("ascii", "replace"))
        encodings.append("cp1252")
    text = None
    for encoding in encodings:
        try:
            text = data.decode(encoding)
            break
        except (LookupError, UnicodeDecodeError):
            continue
    if text is None or "\x00" in text:
        raise InputError(f"{name} is binary data, not an article")
    sample = text[:65536]
    controls = sum(1 for c in sample if ord(c) < 32 and c not in "\t\n\r\f")
    if sample and controls > len(sample) / 100:
        raise InputError(f"{name} is binary data, not an article")
    if not text.strip():
        raise InputError(f"{name} is empty")
    return text


def looks_like_html(text: str) -> bool:
    head = text[:4096].lstrip().lower()
    return head.startswith(("<!doctype html", "<html", "<?xml")) or bool(
        re.search(r"<(?:html|head|body|article|p|div|h1)\b", head))


def _mb(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB"
