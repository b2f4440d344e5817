"""Reading an article: a file or an http(s) URL, with a size cap and a timeout, as text.

Nothing here parses HTML; it only decides that the bytes are text of a sane size and
decodes them. A URL is fetched with the standard library (urllib), never a browser: nothing
on the page is executed.
"""

from __future__ import annotations

import codecs
import http.client
import io
import re
import select
import socket
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError, RoutinecastError

MAX_BYTES = 5 * 1024 * 1024
"""The largest article read: a long saved web page is under 2 MB; anything bigger is
refused before it is parsed."""
TIMEOUT = 20.0
"""Seconds a URL may take, all of it: connecting, the answer's head and its whole body."""


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
    """The body, content type and final address at `url`, all of it fetched within `timeout`
    seconds (a server that sends a byte now and then is cut off at the deadline too)."""
    if not re.match(r"^https?://", url, re.IGNORECASE):
        raise InputError(f"{url}: only http:// and https:// addresses can be fetched")
    request = urllib.request.Request(url, headers={
        "User-Agent": "routinecast-draft (+offline article reader)",
        "Accept": "text/html, text/plain;q=0.9, text/markdown;q=0.9"})
    deadline = _Deadline(timeout)
    answered = False
    try:
        with _opener(deadline).open(request, timeout=timeout) as response:
            answered = True
            length = response.headers.get("Content-Length")
            if length and length.isdigit() and int(length) > max_bytes:
                raise InputError(f"{url} is too large to be an article "
                                 f"({_mb(int(length))}; at most {_mb(max_bytes)})")
            content_type = response.headers.get("Content-Type", "")
            data = response.read(max_bytes + 1)
            final = response.geturl()
    except (TimeoutError, socket.timeout):
        raise _late(url, timeout, answered) from None
    except urllib.error.HTTPError as exc:
        raise FetchError(f"{url}: the server answered {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, (TimeoutError, socket.timeout)):
            raise _late(url, timeout, answered) from None
        raise FetchError(f"{url}: cannot be fetched ({getattr(reason, 'strerror', None) or reason})"
                         ) from None
    except (OSError, ValueError, http.client.HTTPException) as exc:  # a reset, a bad answer
        if deadline.passed():  # a read cut off at the deadline
            raise _late(url, timeout, answered) from None
        raise FetchError(f"{url}: cannot be fetched ({exc})") from None
    if len(data) > max_bytes:
        raise InputError(f"{url} is too large to be an article (over {_mb(max_bytes)})")
    return data, content_type, final


def _late(url: str, timeout: float, answered: bool) -> FetchError:
    if answered:
        return FetchError(f"{url}: the page did not arrive in full within {timeout:g} s")
    return FetchError(f"{url}: no answer within {timeout:g} s")


# -- one deadline over the whole fetch ------------------------------------------------------------
# urllib's own timeout bounds each wait on the socket, so a server sending a byte every
# second keeps a fetch going for as long as it likes. Here every wait (connecting, the TLS
# handshake, sending the request, each read of the answer, a redirect's new connection) is
# given only what is left of one deadline. The name lookup is the system resolver's
# (`socket.getaddrinfo`), which takes no timeout and cannot be interrupted: it is run in a
# thread of its own, waited for only as long as the deadline leaves (`_resolve`).


class _Deadline:
    def __init__(self, seconds: float):
        self.end = time.monotonic() + seconds

    def passed(self) -> bool:
        return time.monotonic() >= self.end

    def left(self) -> float:
        """Seconds left; a `TimeoutError` when none are."""
        left = self.end - time.monotonic()
        if left <= 0:
            raise TimeoutError("the fetch's deadline has passed")
        return left


class _Reader(io.RawIOBase):
    """A socket's answer read with each read waiting only for the time left."""

    def __init__(self, sock: socket.socket, deadline: _Deadline):
        super().__init__()
        self._sock, self._deadline = sock, deadline
        self._raw = sock.makefile("rb", buffering=0)  # the socket's own count of open files

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int | None:
        self._sock.settimeout(self._deadline.left())
        return self._raw.readinto(buffer)

    def close(self) -> None:
        self._raw.close()
        super().close()


class _Socket:
    """A connected socket as http.client uses it, under the deadline."""

    def __init__(self, sock: socket.socket, deadline: _Deadline):
        self._sock, self._deadline = sock, deadline

    def __getattr__(self, name: str):
        return getattr(self._sock, name)

    def makefile(self, mode: str = "rb", *args, **kwargs):  # how the answer is read
        return io.BufferedReader(_Reader(self._sock, self._deadline))

    def sendall(self, data, *flags) -> None:
        self._sock.settimeout(self._deadline.left())
        self._sock.sendall(data, *flags)


def _resolve(host: str, port: int, deadline: _Deadline) -> list[tuple]:
    """`socket.getaddrinfo(host, port)` for a stream socket, within the deadline.

    The lookup runs in a daemon thread and is waited for with the time left: a resolver that
    hangs (a dead DNS server, a blocked port 53) would otherwise hang the command, as the C
    library call takes no timeout and no signal may cut it short outside the main thread
    (and an alarm in the main thread would be the CLI's to handle, not a library's). A lookup
    still going at the deadline is left to end on its own; being a daemon, it does not keep
    the process alive."""
    found: dict[str, object] = {}

    def lookup() -> None:
        try:
            found["addresses"] = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)
        except Exception as exc:  # gaierror, or a name IDNA cannot encode: raised below
            found["error"] = exc

    thread = threading.Thread(target=lookup, name=f"resolve {host}", daemon=True)
    thread.start()
    thread.join(deadline.left())
    if thread.is_alive():
        raise TimeoutError(f"the name {host} was not resolved by the deadline")
    if "error" in found:
        raise found["error"]
    return found["addresses"]


class _Connection(http.client.HTTPConnection):
    def __init__(self, *args, deadline: _Deadline, **kwargs):
        super().__init__(*args, **kwargs)
        self.deadline = deadline
        self._create_connection = self._open_socket  # http.client's hook for its socket

    def _open_socket(self, address: tuple[str, int], timeout: object = None,
                     source_address: tuple[str, int] | None = None) -> socket.socket:
        """`socket.create_connection` under the deadline: the name resolved within it
        (`_resolve`), then each of its addresses tried in turn with the time left (what
        http.client passes as `timeout` is ignored: the deadline's time left is newer)."""
        self._opened_here = True
        host, port = address
        error: OSError | None = None
        for family, kind, proto, _, sockaddr in _resolve(host, port, self.deadline):
            sock = socket.socket(family, kind, proto)
            try:
                sock.settimeout(self.deadline.left())
                if source_address:
                    sock.bind(source_address)
                sock.connect(sockaddr)
                return sock
            except OSError as exc:
                sock.close()
                error = exc
        raise error or OSError(f"{host} has no address")

    def connect(self) -> None:
        self.timeout = self.deadline.left()
        self._opened_here = False
        http.client.HTTPConnection.connect(self)
        if not self._opened_here:
            # `_create_connection` is http.client's private hook: should it stop using it,
            # the name lookup would go unbounded again, so this fails rather than hangs
            raise RuntimeError("http.client no longer opens its socket through "
                               "_create_connection; routinecast's fetch needs updating")
        self.sock = _Socket(self._secured(self.sock), self.deadline)

    def _secured(self, sock: socket.socket) -> socket.socket:
        return sock


class _SecureConnection(_Connection, http.client.HTTPSConnection):
    def _secured(self, sock: socket.socket) -> socket.socket:
        """`sock` with TLS, its handshake done within the deadline."""
        import ssl
        sock = self._context.wrap_socket(sock, server_hostname=self._tunnel_host or self.host,
                                         do_handshake_on_connect=False)
        sock.setblocking(False)
        while True:
            try:
                sock.do_handshake()
                return sock
            except ssl.SSLWantReadError:
                waiting = ([sock], [])
            except ssl.SSLWantWriteError:
                waiting = ([], [sock])
            ready = select.select(*waiting, [], self.deadline.left())
            if not ready[0] and not ready[1]:
                raise TimeoutError("the TLS handshake did not end by the deadline")


class _HTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, deadline: _Deadline):
        super().__init__()
        self.deadline = deadline

    def http_open(self, req):
        return self.do_open(_Connection, req, deadline=self.deadline)


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, deadline: _Deadline):
        super().__init__()
        self.deadline = deadline

    def https_open(self, req):
        return self.do_open(_SecureConnection, req, context=self._context,
                            deadline=self.deadline)


def _opener(deadline: _Deadline) -> urllib.request.OpenerDirector:
    """urllib's opener for http and https only (a redirect elsewhere is refused), every
    connection under `deadline`."""
    opener = urllib.request.OpenerDirector()
    for handler in (urllib.request.ProxyHandler(), urllib.request.UnknownHandler(),
                    _HTTPHandler(deadline), _HTTPSHandler(deadline),
                    urllib.request.HTTPDefaultErrorHandler(),
                    urllib.request.HTTPRedirectHandler(), urllib.request.HTTPErrorProcessor()):
        opener.add_handler(handler)
    return opener


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
