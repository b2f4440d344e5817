"""A small HTTP server for a share folder, so that a phone on the same network can open its
web page, subscribe to its podcast feed and play (and seek in) its MP3s.

It serves files and nothing else: no directory listings, nothing hidden (the atomic
writer's `.name.part.mp3` temp files among them), nothing outside the folder however the
path is spelt or wherever a symlink points. Players seek with byte ranges, so those are
answered exactly, and large files are streamed rather than read whole. A `transform` may
rewrite each `feed.xml` as it is served, because a feed's links must be absolute and only
the request says which address the phone used to reach us.

`share` may rebuild a file while a phone is part-way through it, so every response names
the file's version with a strong ETag (and a Last-Modified date), and the conditional
requests of RFC 9110 are answered: a range under `If-Range` is sent only from the version
the client already has (the whole new file otherwise, never old and new bytes spliced),
and `If-None-Match` or `If-Modified-Since` get `304` while the file is unchanged.
"""

from __future__ import annotations

import errno
import hashlib
import io
import os
import re
import socket
import socketserver
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from datetime import timezone
from email.utils import parsedate_to_datetime
from typing import BinaryIO, Callable
from urllib.parse import quote, unquote

import segno

from ..errors import InputError, OutputError, printable, setting
from .feed import FEED_NAME

Transform = Callable[[str, bytes, str], bytes | None]
Log = Callable[[str], None]

_CHUNK = 64 * 1024
_TYPES = {
    ".mp3": "audio/mpeg",
    ".m4b": "audio/mp4",
    ".m3u8": "application/vnd.apple.mpegurl",
    ".vtt": "text/vtt; charset=utf-8",
    ".json": "application/json",
    ".html": "text/html; charset=utf-8",
    ".yaml": "text/yaml; charset=utf-8",
    ".png": "image/png",
    ".svg": "image/svg+xml",
}
# [0-9], not \d, which takes other scripts' digits too; positions of any length, see _number;
# the unit's name is case-insensitive (RFC 9110)
_RANGE = re.compile(r"(?i:bytes)=([0-9]*)-([0-9]*)")
_PAST_EVERY_END = 10 ** 18
# a Host header fit to be pasted into a feed's links; anything else is ignored
_HOST = re.compile(r"([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(:\d{1,5})?")
# one entity tag of a list (RFC 9110 8.8.3): an optional weakness mark and a quoted string
_ETAG = re.compile(r'\s*(W/)?("[\x21\x23-\x7e\x80-\xff]*")\s*(?:,|$)')


def make_server(root: str | Path, host: str = "127.0.0.1", port: int = 8000,
                transform: Transform | None = None,
                log: Log | None = None) -> ThreadingHTTPServer:
    """A server for the files in `root`, bound to `host`:`port` (port 0: any free port; read
    the one chosen from `server.server_address`) but not yet serving: call `serve_forever()`,
    and `shutdown()` then `server_close()` to stop. Each `feed.xml` served is passed through
    `transform(path relative to root, bytes, base URL)` when given, and its result, unless
    None, is served instead. `log`, when given, receives one line per request. Both are
    called on the requests' threads, so possibly several at once."""
    root = Path(root)
    if not root.is_dir():
        raise InputError(f"{root} is not a folder; serve the folder a share was written to")
    try:
        return _ShareServer((host, port), root.resolve(), transform, log)
    except OverflowError:
        raise InputError(f"port {port} is out of range; choose one from 0 to 65535 "
                         f"with {setting('port')}") from None
    except socket.gaierror as exc:
        raise InputError(f"cannot listen on {host} ({exc.strerror}); use an address of "
                         "this machine") from None
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise OutputError(f"port {port} is in use on {host}; choose another with {setting('port')}"
                              ) from None
        if exc.errno == errno.EACCES:
            raise OutputError(f"no permission to listen on port {port} of {host}; choose one "
                              f"above 1023 with {setting('port')}") from None
        raise InputError(f"cannot listen on {host} port {port} ({exc.strerror}); use an "
                         "address of this machine") from None


def lan_address() -> str:
    """This machine's IPv4 address as a phone on the same network would reach it, found
    without sending anything; "127.0.0.1" when there is no network."""
    for find in (_routed_address, lambda: socket.gethostbyname(socket.gethostname())):
        try:
            address = find()
        except OSError:
            continue
        # loopback (Debian maps the host name to 127.0.1.1) is useless to a phone
        if not address.startswith("127.") and address != "0.0.0.0":
            return address
    return "127.0.0.1"


def qr_text(url: str) -> str:
    """`url` as a QR code drawn with Unicode half blocks, for printing to a terminal."""
    buffer = io.StringIO()
    # micro=False: segno picks a Micro QR code for short URLs, which phone cameras ignore
    segno.make(url, error="m", micro=False).terminal(out=buffer, compact=True)
    return buffer.getvalue()


def _routed_address() -> str:
    """The address of the interface that leads to the private networks."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        # connecting a UDP socket sends no packet; it only makes the system choose a route
        probe.connect(("10.255.255.255", 1))
        return probe.getsockname()[0]


class _ShareServer(ThreadingHTTPServer):
    """A threading HTTP server that carries the share's settings for its handlers."""

    daemon_threads = True  # a phone that keeps its connection open must not block exit
    allow_reuse_address = True  # restart at once on the same port; a live server still wins

    def __init__(self, address: tuple[str, int], root: Path, transform: Transform | None,
                 log: Log | None):
        self.root, self.transform, self.log = root, transform, log
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        """Bind without HTTPServer's reverse DNS lookup of the host, which can stall offline
        and whose answer nothing here uses."""
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]


class _Handler(BaseHTTPRequestHandler):
    """Answers GET and HEAD for files in the server's root (other methods get 501)."""

    server: _ShareServer
    protocol_version = "HTTP/1.1"  # keep-alive: a seeking player asks for many ranges
    timeout = 60  # a phone that stalls or vanishes gives its thread back

    def version_string(self) -> str:
        return "routinecast"

    def handle(self) -> None:
        """Handle the connection's requests; a client that hangs up or stalls mid-transfer
        (a player seeking elsewhere does so all the time) is not an error."""
        try:
            super().handle()
        except (ConnectionError, TimeoutError):
            self.close_connection = True

    def do_GET(self) -> None:
        """Answer a GET."""
        self._serve(send_body=True)

    def do_HEAD(self) -> None:
        """Answer a HEAD: a GET's status and headers."""
        self._serve(send_body=False)

    def _serve(self, send_body: bool) -> None:
        """Answer with the file the path names, a folder's index.html, or 404."""
        path = self.path.split("?", 1)[0].split("#", 1)[0]
        parts = _names(path)
        found = None if parts is None else _inside(self.server.root,
                                                   self.server.root.joinpath(*parts))
        if found is not None and found.is_dir():
            if not path.endswith("/"):
                # the page's relative links need the slash, so send the browser there
                location = "".join("/" + quote(name) for name in parts) + "/"
                return self._head(301, 0, {"Location": location})
            found = _inside(self.server.root, found / "index.html")
            parts.append("index.html")
        elif re.search(r"[/\\]$", unquote(path)):
            # `/a.mp3/` names a folder a.mp3, which is not there (as other web servers say);
            # serving the file there would give it a second address, and break its links
            return self.send_error(404)
        if found is None or not found.is_file() or parts == [PRIVATE_NAME]:
            return self.send_error(404)
        try:
            file = open(found, "rb")
        except OSError:
            return self.send_error(404)
        with file:
            self._send(file, parts, send_body)

    def _send(self, file: BinaryIO, parts: list[str], send_body: bool) -> None:
        """Send `file` (or the part of it the Range header asks for) with its headers, or
        304 when the client's conditions say it has this version already."""
        info = os.fstat(file.fileno())
        source, size, tag = file, info.st_size, _etag(info)
        if parts[-1] == FEED_NAME and self.server.transform is not None:
            data = file.read()
            changed = self.server.transform("/".join(parts), data, self._base_url(parts[:-1]))
            body = data if changed is None else changed
            # what is served depends on the address asked, so the tag is the bytes' own
            tag = f'"{hashlib.sha256(body).hexdigest()[:32]}"'
            source, size = io.BytesIO(body), len(body)
        validators = {"ETag": tag, "Last-Modified": self.date_time_string(info.st_mtime)}
        if self._not_modified(tag, info.st_mtime):
            return self._head(304, None, validators)
        start, end, status = 0, size, 200
        if "Range" in self.headers and self._same_version(tag):
            span = _byte_range(self.headers["Range"], size)
            if span is None:
                return self._head(416, 0, {"Content-Range": f"bytes */{size}",
                                           "Accept-Ranges": "bytes"})
            (start, end), status = span, 206
        headers = {"Content-Type": _content_type(parts[-1]), "Accept-Ranges": "bytes",
                   **validators}
        if status == 206:
            headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
        self._head(status, end - start, headers)
        if send_body:
            self._copy(source, start, end - start)

    def _not_modified(self, tag: str, mtime: float) -> bool:
        """Whether the client's copy is current (RFC 9110 13.2.2): If-None-Match, which
        compares tags weakly, when given, and If-Modified-Since only without it."""
        if "If-None-Match" in self.headers:
            wanted = self.headers["If-None-Match"].strip()
            return wanted == "*" or _opaque(tag) in {_opaque(t) for t in _tags(wanted)}
        since = _http_date(self.headers.get("If-Modified-Since"))
        return since is not None and int(mtime) <= since

    def _same_version(self, tag: str) -> bool:
        """Whether a Range may be answered (RFC 9110 13.1.5): always without If-Range, and
        with it only if it names this very version by its strong tag; otherwise the whole
        file is sent. A date in If-Range is never taken for a match: a file's modification
        time is a weak validator here, for `share` writes each file in a staging folder
        and renames it in later, so two versions can carry the same second (and a client
        that has our ETag must send that, not a date)."""
        condition = self.headers.get("If-Range")
        if condition is None:
            return True
        return condition.strip() == tag

    def _head(self, status: int, length: int | None, headers: dict[str, str]) -> None:
        """Send the status line and headers of a response whose body is `length` bytes
        (None: a 304, which has none, and says nothing of its length)."""
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if length is not None:
            self.send_header("Content-Length", str(length))
        self.send_header("Cache-Control", "no-cache")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()

    def _copy(self, source: BinaryIO, start: int, length: int) -> None:
        """Send `length` bytes of `source` from `start`, a chunk at a time."""
        source.seek(start)
        while length > 0:
            chunk = source.read(min(_CHUNK, length))
            if not chunk:
                # the file shrank while being sent: hang up, so the client sees a short body
                # rather than waiting for bytes that will never come
                self.close_connection = True
                return
            self.wfile.write(chunk)
            length -= len(chunk)

    def _base_url(self, folder: list[str]) -> str:
        """The URL of `folder` (names under root) as this client reached the server."""
        host = self.headers.get("Host", "")
        if not _HOST.fullmatch(host):
            # the address the client's connection arrived on, right even when bound to 0.0.0.0
            address, port = self.connection.getsockname()[:2]
            host = f"[{address}]:{port}" if ":" in address else f"{address}:{port}"
        return f"http://{host}/" + "".join(quote(name) + "/" for name in folder)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Log the request's method, path and status."""
        self.log_message("%s %s", " ".join(self.requestline.split()[:2]), int(code))

    def log_error(self, format: str, *args: object) -> None:
        """Log nothing: every response, errors included, is logged by log_request."""

    def log_message(self, format: str, *args: object) -> None:
        """Pass the line to the server's `log`, if any, instead of printing to stderr."""
        if self.server.log is not None:
            text = format % args
            # the path comes from the network: no escape sequences into the user's terminal
            self.server.log(printable(text))


PRIVATE_NAME = "batch.json"
"""A batch's results at the top of its output folder: it names every listener's private
folder, so it is never served."""


def _names(path: str) -> list[str] | None:
    """The names in a request's URL path, or None if it must not be served: not absolute,
    not UTF-8, with a NUL, or with `..` or a hidden name (encoded slashes count as
    slashes, and backslashes too, for they are separators to Windows)."""
    if not path.startswith("/"):
        return None
    try:
        text = unquote(path, errors="strict")
    except UnicodeDecodeError:
        return None
    names = [name for name in re.split(r"[/\\]", text) if name]
    if "\0" in text or any(name.startswith(".") for name in names):
        return None
    return names


def _inside(root: Path, path: Path) -> Path | None:
    """`path` with every symlink resolved, if it exists and lies within `root` (resolved)."""
    try:
        real = path.resolve(strict=True)
    except (OSError, RuntimeError):  # missing, unreadable, or a symlink loop
        return None
    return real if real.is_relative_to(root) else None


def _byte_range(header: str, size: int) -> tuple[int, int] | None:
    """The span (start, end exclusive) that a Range header asks for, clipped to `size`; None
    when it cannot be satisfied, which is answered 416. Besides a start at or past the end,
    we refuse (rather than guess at, or ignore and send the whole file) a malformed header
    and one asking for several ranges: players ask for one, and a 416 shows a bug at once."""
    match = _RANGE.fullmatch(header.strip())
    if match is None or match.groups() == ("", ""):
        return None
    first, last = match.groups()
    if first:
        start, end = _number(first), _number(last) + 1 if last else size
        if end <= start:
            return None
    else:  # a suffix: the last `last` bytes
        start, end = size - min(_number(last), size), size
    if start >= size:
        return None
    return start, min(end, size)


def _number(digits: str) -> int:
    """A position in a Range header. One too long for int() (which refuses over 4,300 digits)
    lies past the end of every file all the same: a start there is refused, an end clipped,
    as for any other large number."""
    digits = digits.lstrip("0") or "0"
    return int(digits) if len(digits) <= 18 else _PAST_EVERY_END


def _etag(info: os.stat_result) -> str:
    """A strong entity tag for the file `info` describes: its inode, size and modification
    time to the nanosecond. Outputs are replaced by renaming a new file over the old one,
    never rewritten in place, so a new version is a new inode, and a new tag."""
    return f'"{info.st_ino:x}-{info.st_size:x}-{info.st_mtime_ns:x}"'


def _tags(header: str) -> list[str]:
    """The entity tags (`"x"` or `W/"x"`) of an If-None-Match list; none if malformed."""
    tags, position = [], 0
    while position < len(header):
        match = _ETAG.match(header, position)
        if match is None:
            return []
        tags.append((match.group(1) or "") + match.group(2))
        position = match.end()
    return tags


def _opaque(tag: str) -> str:
    """A tag without its weakness mark, for the weak comparison."""
    return tag[2:] if tag.startswith("W/") else tag


def _http_date(value: str | None) -> int | None:
    """An HTTP date in whole seconds since the epoch; None if absent or not a date."""
    if value is None:
        return None
    try:
        date = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if date.tzinfo is None:
        date = date.replace(tzinfo=timezone.utc)
    return int(date.timestamp())


def _content_type(name: str) -> str:
    """The Content-Type for a file called `name`."""
    if name == FEED_NAME:
        return "application/rss+xml; charset=utf-8"
    return _TYPES.get(Path(name).suffix.lower(), "application/octet-stream")
