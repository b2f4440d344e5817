"""The share folder's HTTP server: files, byte ranges, refusals, the feed transform, errors."""

from __future__ import annotations

import errno
import http.client
import os
import re
import select
import socket
import struct
import subprocess
import sys
import threading
import time
from contextlib import ExitStack
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest

from routinecast.errors import InputError, OutputError
from routinecast.share import serve
from routinecast.share.serve import lan_address, make_server, qr_text

from conftest import serving

SECRET = b"the secret outside the share"
AUDIO = bytes(range(256)) * 4  # 1024 bytes, every slice distinct enough to check
FEED = b"<rss><channel><item><enclosure url='episode.mp3'/></item></channel></rss>"
MTIME = 1_700_000_000


@pytest.fixture
def root(tmp_path) -> Path:
    """A share folder, with a secret beside it that must never be served."""
    (tmp_path / "secret.txt").write_bytes(SECRET)
    root = tmp_path / "share"
    (root / "sub").mkdir(parents=True)
    (root / "empty").mkdir()
    (root / "my show").mkdir()
    (root / ".cache").mkdir()
    (root / "index.html").write_text("<audio src='episode.mp3'></audio>")
    (root / "episode.mp3").write_bytes(AUDIO)
    os.utime(root / "episode.mp3", (MTIME, MTIME))
    (root / "feed.xml").write_bytes(FEED)
    (root / "other.xml").write_bytes(FEED)
    (root / "sub" / "index.html").write_text("sub page")
    (root / "sub" / "feed.xml").write_bytes(FEED)
    (root / "my show" / "feed.xml").write_bytes(FEED)
    (root / ".x.part.mp3").write_bytes(SECRET)
    (root / ".cache" / "a.mp3").write_bytes(SECRET)
    (root / "leak.mp3").symlink_to(tmp_path / "secret.txt")
    (root / "latest.mp3").symlink_to(root / "episode.mp3")
    return root


@pytest.fixture
def start(root):
    """Start a server on a free port of 127.0.0.1 in a thread; returns its port."""
    with ExitStack() as running:
        yield lambda **options: running.enter_context(
            serving(root, **{"transform": None, **options}))


def get(port: int, path: str, headers: dict[str, str] | None = None, method: str = "GET"):
    """(status, headers, body) of one request made with http.client."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request(method, path, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


def raw(port: int, target: str, host: str | None = "x") -> bytes:
    """The whole response to a GET of `target` sent verbatim, bypassing any client-side
    normalisation of the path."""
    request = f"GET {target} HTTP/1.0\r\n" + (f"Host: {host}\r\n" if host else "") + "\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
        connection.sendall(request.encode("latin-1"))
        response = b""
        while chunk := connection.recv(65536):
            response += chunk
    return response


def status_of(response: bytes) -> int:
    return int(response.split(b" ", 2)[1])


def body_of(response: bytes) -> bytes:
    return response.split(b"\r\n\r\n", 1)[1]


def test_get_serves_the_whole_file_with_its_headers(start):
    status, headers, body = get(start(), "/episode.mp3")
    assert status == 200
    assert body == AUDIO
    assert headers["Content-Length"] == str(len(AUDIO))
    assert headers["Content-Type"] == "audio/mpeg"
    assert headers["Accept-Ranges"] == "bytes"
    assert headers["Cache-Control"] == "no-cache"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert parsedate_to_datetime(headers["Last-Modified"]).timestamp() == MTIME


def test_head_sends_the_headers_without_the_body(start):
    port = start()
    status, headers, body = get(port, "/episode.mp3", method="HEAD")
    assert (status, body) == (200, b"")
    assert headers["Content-Length"] == str(len(AUDIO))
    status, headers, body = get(port, "/episode.mp3", {"Range": "bytes=10-19"}, method="HEAD")
    assert (status, body) == (206, b"")
    assert headers["Content-Range"] == "bytes 10-19/1024"


@pytest.mark.parametrize("spec, start_, end", [
    ("bytes=10-19", 10, 20),
    ("bytes=-5", 1019, 1024),
    ("bytes=100-", 100, 1024),
    ("bytes=1000-5000", 1000, 1024),  # an end past the file is clipped
    ("bytes=-5000", 0, 1024),  # so is a suffix longer than the file
    ("bytes=1023-1023", 1023, 1024),
    ("bytes=0-" + "9" * 40, 0, 1024),  # an end too long for int() is clipped like any other
    ("bytes=-" + "9" * 40, 0, 1024),
    ("bytes=" + "0" * 40 + "10-19", 10, 20),  # leading zeros are still digits
    ("Bytes=10-19", 10, 20),  # the unit's name is case-insensitive
])
def test_a_range_answers_206_with_exactly_those_bytes(start, spec, start_, end):
    status, headers, body = get(start(), "/episode.mp3", {"Range": spec})
    assert status == 206
    assert body == AUDIO[start_:end]
    assert headers["Content-Range"] == f"bytes {start_}-{end - 1}/1024"
    assert headers["Content-Length"] == str(end - start_)
    assert headers["Content-Type"] == "audio/mpeg"


@pytest.mark.parametrize("spec", [
    "bytes=1024-", "bytes=5000-6000",  # starts at or past the end
    "bytes=abc", "items=1-2", "bytes=5-2", "bytes=1-2,4-5", "bytes=-", "bytes=-0", "bytes 1-2",
    "bytes=" + "9" * 5000 + "-", "bytes=" + "9" * 40 + "-", "",
])
def test_an_unsatisfiable_or_malformed_range_answers_416(start, spec):
    status, headers, body = get(start(), "/episode.mp3", {"Range": spec})
    assert status == 416
    assert headers["Content-Range"] == "bytes */1024"
    assert body == b""


def test_one_connection_serves_several_requests(start):
    # every response must frame its body exactly, or the second request reads garbage
    connection = http.client.HTTPConnection("127.0.0.1", start(), timeout=5)
    try:
        for headers, status, body in [({}, 200, AUDIO), ({"Range": "bytes=3-6"}, 206, AUDIO[3:7]),
                                      ({"Range": "bytes=9999-"}, 416, b""), ({}, 200, AUDIO)]:
            connection.request("GET", "/episode.mp3", headers=headers)
            response = connection.getresponse()
            assert (response.status, response.read()) == (status, body)
    finally:
        connection.close()


@pytest.mark.parametrize("target", [
    "/../secret.txt", "/%2e%2e/secret.txt", "/%2E%2E/secret.txt", "/..%2fsecret.txt",
    "/%2e%2e%2fsecret.txt", "/sub/../../secret.txt", "/..\\secret.txt", "/..%5csecret.txt",
    "//etc/passwd", "/%2fetc%2fpasswd", "http://x/../secret.txt", "../secret.txt",
    "/leak.mp3",  # a symlink inside the share to the secret outside it
    "/.x.part.mp3", "/.cache/a.mp3", "/%2ex.part.mp3", "/episode.mp3%00", "/%ff.mp3",
])
def test_nothing_outside_the_share_or_hidden_is_served(start, target):
    response = raw(start(), target)
    assert status_of(response) == 404
    assert SECRET not in response
    assert b"root:" not in response


@pytest.mark.parametrize("target", [
    "/episode.mp3/", "/episode.mp3//", "/episode.mp3%2f", "/episode.mp3%5C", "/episode.mp3\\",
    "/latest.mp3/", "/sub/index.html/", "/episode.mp3/?x=1",
])
def test_a_file_spelt_as_a_folder_is_not_served(start, target):
    response = raw(start(), target)
    assert status_of(response) == 404
    assert AUDIO not in response and b"sub page" not in response


def test_a_symlink_within_the_share_is_served(start):
    status, _, body = get(start(), "/latest.mp3")
    assert (status, body) == (200, AUDIO)


def test_the_query_and_fragment_are_ignored(start):
    assert status_of(raw(start(), "/episode.mp3?t=30#start")) == 200


def test_a_folder_serves_its_index_and_never_a_listing(start):
    port = start()
    status, headers, body = get(port, "/")
    assert (status, body) == (200, b"<audio src='episode.mp3'></audio>")
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert get(port, "/sub/")[::2] == (200, b"sub page")
    status, headers, _ = get(port, "/sub?x=1")
    assert (status, headers["Location"]) == (301, "/sub/")
    status, _, body = get(port, "/empty/")
    assert status == 404
    assert b"episode" not in body


@pytest.mark.parametrize("name, expected", [
    ("a.m4b", "audio/mp4"), ("a.m3u8", "application/vnd.apple.mpegurl"),
    ("a.vtt", "text/vtt; charset=utf-8"), ("a.chapters.json", "application/json"),
    ("a.yaml", "text/yaml; charset=utf-8"), ("a.png", "image/png"), ("A.SVG", "image/svg+xml"),
    ("feed.xml", "application/rss+xml; charset=utf-8"), ("a.bin", "application/octet-stream"),
    ("other.xml", "application/octet-stream"),
])
def test_content_types(root, start, name, expected):
    if not (root / name).exists():
        (root / name).write_bytes(b"x")
    status, headers, _ = get(start(), "/" + name)
    assert (status, headers["Content-Type"]) == (200, expected)


def test_the_transform_rewrites_each_feed_for_the_address_it_was_fetched_from(start):
    calls = []

    def transform(path: str, data: bytes, base_url: str) -> bytes:
        calls.append((path, data, base_url))
        return data.replace(b"url='", b"url='" + base_url.encode())

    port = start(transform=transform)
    status, headers, body = get(port, "/feed.xml", {"Host": "192.168.1.5:8123"})
    expected = FEED.replace(b"url='", b"url='http://192.168.1.5:8123/")
    assert (status, body) == (200, expected)
    assert headers["Content-Length"] == str(len(expected))
    assert headers["Content-Type"] == "application/rss+xml; charset=utf-8"
    assert calls == [("feed.xml", FEED, "http://192.168.1.5:8123/")]

    status, headers, body = get(port, "/feed.xml", {"Host": "h", "Range": "bytes=-9"})
    rewritten = FEED.replace(b"url='", b"url='http://h/")
    assert (status, body) == (206, rewritten[-9:])
    size = len(rewritten)
    assert headers["Content-Range"] == f"bytes {size - 9}-{size - 1}/{size}"

    get(port, "/sub/feed.xml", {"Host": "h:1"})
    get(port, "/my%20show/feed.xml", {"Host": "h:1"})
    assert calls[-2:] == [("sub/feed.xml", FEED, "http://h:1/sub/"),
                          ("my show/feed.xml", FEED, "http://h:1/my%20show/")]
    # without a usable Host header: the address the request arrived on
    raw(port, "/feed.xml", host=None)
    raw(port, "/feed.xml", host="x'><script>")
    assert [call[2] for call in calls[-2:]] == [f"http://127.0.0.1:{port}/"] * 2

    count = len(calls)
    assert get(port, "/other.xml")[2] == FEED
    assert get(port, "/episode.mp3")[2] == AUDIO
    assert len(calls) == count


def test_a_transform_returning_none_leaves_the_feed_as_it_is(start):
    status, _, body = get(start(transform=lambda path, data, base: None), "/feed.xml")
    assert (status, body) == (200, FEED)


def test_a_transform_returning_empty_bytes_serves_them(start):
    status, headers, body = get(start(transform=lambda path, data, base: b""), "/feed.xml")
    assert (status, headers["Content-Length"], body) == (200, "0", b"")


def test_a_file_that_shrinks_while_served_ends_the_connection(root, start, monkeypatch):
    real_fstat = os.fstat

    class Shrunk:
        """os, but every file seems 100 bytes longer than it is when served."""

        @staticmethod
        def fstat(descriptor):
            info = real_fstat(descriptor)
            return os.stat_result((*info[:6], info.st_size + 100, *info[7:]),
                                  {"st_mtime_ns": info.st_mtime_ns})

    monkeypatch.setattr(serve, "os", Shrunk)
    with socket.create_connection(("127.0.0.1", start()), timeout=5) as connection:
        # HTTP/1.1 keeps the connection open unless the server hangs up
        connection.sendall(b"GET /episode.mp3 HTTP/1.1\r\nHost: x\r\n\r\n")
        response = b""
        while chunk := connection.recv(65536):
            response += chunk
    assert b"Content-Length: 1124" in response
    assert body_of(response) == AUDIO


def test_an_ipv6_address_is_served(root):
    try:
        server = make_server(root, host="::1", port=0, transform=lambda p, d, base: base.encode())
    except InputError:
        pytest.skip("this machine has no IPv6 loopback")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.005})
    thread.start()
    try:
        port = server.server_address[1]
        request = b"GET /feed.xml HTTP/1.0\r\n\r\n"
        with socket.create_connection(("::1", port), timeout=5) as connection:
            connection.sendall(request)
            response = b""
            while chunk := connection.recv(65536):
                response += chunk
        assert body_of(response) == f"http://[::1]:{port}/".encode()
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture(scope="module")
def lan_address_here(tmp_path_factory) -> str | None:
    """This machine's non-loopback IPv4 address, which a server listening on every interface
    is reached at, or None if there is none. Found by `lan_address` in a child process, for
    the tests' network block here defeats its routing probe (which sends nothing)."""
    found = subprocess.run(
        [sys.executable, "-c", "from routinecast.share.serve import lan_address as a; print(a())"],
        capture_output=True, text=True, timeout=60, check=True).stdout.strip()
    if found.startswith("127."):
        return None
    server = make_server(tmp_path_factory.mktemp("any"), host="0.0.0.0", port=0)
    try:  # so that a refusal below means "not listening there", not "unreachable anyway"
        return None if refused(found, server.server_address[1]) else found
    finally:
        server.server_close()


def refused(address: str, port: int) -> bool:
    """Whether a TCP connection to address:port is refused. connect_ex, because the tests'
    network block wraps connect; the connection never leaves this machine."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as connection:
        connection.settimeout(5)
        return connection.connect_ex((address, port)) != 0


def test_make_server_listens_on_loopback_only_by_default(root, lan_address_here):
    server = make_server(root, port=0)
    try:
        address, port = server.server_address
        assert address == "127.0.0.1"
        assert not refused("127.0.0.1", port)
        if lan_address_here is None:
            pytest.skip("this machine has no non-loopback IPv4 address to try")
        assert refused(lan_address_here, port)
    finally:
        server.server_close()


def test_the_serve_command_listens_on_loopback_only_without_lan(root, lan_address_here):
    process = subprocess.Popen(
        [sys.executable, "-m", "routinecast", "serve", str(root), "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"})  # else the address stays in a buffer
    try:
        ready, _, _ = select.select([process.stdout], [], [], 60)
        assert ready, "routinecast serve printed nothing in 60 s"
        line = process.stdout.readline()
        printed = re.fullmatch(rf"serving {re.escape(str(root))} at http://([^/:]+):(\d+)/\n",
                               line)
        assert printed, line
        host, port = printed[1], int(printed[2])
        assert host == "127.0.0.1"
        assert get(port, "/episode.mp3")[::2] == (200, AUDIO)
        if lan_address_here is None:
            pytest.skip("this machine has no non-loopback IPv4 address to try")
        assert refused(lan_address_here, port)
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stdout.close()


def test_a_port_in_use_is_our_error_naming_it(root, start):
    port = start()
    with pytest.raises(OutputError, match=f"port {port} is in use on 127.0.0.1; .*`port`"):
        make_server(root, port=port)
    assert get(port, "/episode.mp3")[0] == 200  # and the first server is untouched


def test_an_address_not_of_this_machine_is_our_error(root):
    with pytest.raises(InputError, match="203.0.113.7 .*use an address of this machine"):
        make_server(root, host="203.0.113.7", port=0)
    with pytest.raises(InputError, match="port 70000 .*`port`"):
        make_server(root, port=70000)


@pytest.mark.parametrize("failure, error, message", [
    (PermissionError(errno.EACCES, "Permission denied"), OutputError,
     "no permission to listen on port 80 of 127.0.0.1; choose one above 1023 with `port`"),
    (socket.gaierror(-2, "Name or service not known"), InputError,
     "cannot listen on 127.0.0.1 (Name or service not known); use an address of this machine"),
])
def test_other_failures_to_listen_are_our_errors(root, monkeypatch, failure, error, message):
    def bind(server):
        raise failure

    monkeypatch.setattr(serve.socketserver.TCPServer, "server_bind", bind)
    with pytest.raises(error) as raised:
        make_server(root, port=80)
    assert str(raised.value) == message


def test_a_root_that_is_not_a_folder_is_our_error(tmp_path):
    with pytest.raises(InputError, match=re.escape(str(tmp_path / "missing"))):
        make_server(tmp_path / "missing", port=0)
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError, match="is not a folder"):
        make_server(tmp_path / "file", port=0)


def wait_for_handlers() -> None:
    """Wait (briefly) until no request-handling thread is left."""
    deadline = time.monotonic() + 5
    while any("process_request" in thread.name for thread in threading.enumerate()):
        assert time.monotonic() < deadline, "a request handler did not finish"
        time.sleep(0.002)


def test_quiet_by_default_and_a_client_hanging_up_is_no_error(root, start, capsys):
    (root / "long.mp3").write_bytes(bytes(32 * 1024 * 1024))
    port = start()
    assert get(port, "/missing.mp3")[0] == 404
    with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
        connection.sendall(b"GET /long.mp3 HTTP/1.0\r\n\r\n")
        assert connection.recv(100).startswith(b"HTTP/1.1 200")
        # hang up with a reset, as a phone seeking elsewhere does
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    wait_for_handlers()
    assert capsys.readouterr().err == ""
    assert get(port, "/episode.mp3")[2] == AUDIO


def test_the_log_gets_one_line_per_request(start):
    lines = []
    port = start(log=lines.append)
    get(port, "/episode.mp3")
    get(port, "/episode.mp3", {"Range": "bytes=0-1"})
    get(port, "/nope.mp3")
    raw(port, "/\x1b[2J.mp3")
    assert lines[:3] == ["GET /episode.mp3 200", "GET /episode.mp3 206", "GET /nope.mp3 404"]
    assert len(lines) == 4
    assert "\x1b" not in lines[3] and lines[3].endswith(" 404")


def test_lan_address_is_the_routed_address(monkeypatch):
    class Probe:
        def __init__(self, *args):
            pass

        def __enter__(self):
            return self

        def __exit__(self, *args):
            pass

        def connect(self, address):
            assert address[0].startswith("10.")

        def getsockname(self):
            return ("192.168.1.23", 40000)

    monkeypatch.setattr(serve.socket, "socket", Probe)
    assert lan_address() == "192.168.1.23"


def test_lan_address_offline(monkeypatch):
    # the tests' network block makes the routing probe fail: the host name's address, or
    # the loopback one, whatever this machine has
    assert re.fullmatch(r"\d{1,3}(\.\d{1,3}){3}", lan_address())

    def fail(name):
        raise socket.gaierror("no name")

    monkeypatch.setattr(serve.socket, "gethostbyname", fail)
    assert lan_address() == "127.0.0.1"
    monkeypatch.setattr(serve.socket, "gethostbyname", lambda name: "127.0.1.1")
    assert lan_address() == "127.0.0.1"


def test_qr_text_is_a_full_qr_code():
    text = qr_text("http://192.168.1.23:8000/")
    lines = text.splitlines()
    # a full QR code is at least 21 modules and a 4-module border: 29 rows, two per line;
    # a Micro QR code, which phones ignore, would be smaller
    assert len(lines) >= 15
    assert len({len(line) for line in lines}) == 1
    assert set(text) <= set(" \u2580\u2584\u2588\n")
    assert qr_text("http://192.168.1.24:8000/") != text
    # short enough for a Micro QR code, which would be 15 modules and 8 of border
    assert len(qr_text("http://a/").splitlines()) >= 15


# Resuming across a rebuild: `share` replaces a file (a rename of a new one over it) while a
# phone holds part of the old one. Every response names its version with a strong ETag, and
# the conditional requests of RFC 9110 say whether the client's bytes are still the file's.

NEW_AUDIO = bytes(reversed(range(256))) * 4  # as long as AUDIO, every byte different


def replace_file(path: Path, content: bytes, mtime: float = MTIME + 60) -> None:
    """Put `content` at `path` as `share` does: a new file renamed over the old one."""
    temp = path.with_name(f".{path.name}.part")
    temp.write_bytes(content)
    os.utime(temp, (mtime, mtime))
    os.replace(temp, path)


def test_every_response_names_the_files_version_with_a_strong_etag(root, start):
    port = start()
    _, headers, _ = get(port, "/episode.mp3")
    tag = headers["ETag"]
    assert re.fullmatch(r'"[0-9a-f-]+"', tag)  # quoted, and not W/: strong
    assert get(port, "/episode.mp3", method="HEAD")[1]["ETag"] == tag
    assert get(port, "/episode.mp3", {"Range": "bytes=0-9"})[1]["ETag"] == tag
    # the same bytes, the same date, but another file: another version
    replace_file(root / "episode.mp3", AUDIO, MTIME)
    assert get(port, "/episode.mp3")[1]["ETag"] not in (tag, None)


def test_if_range_with_the_current_etag_answers_the_range(start):
    port = start()
    tag = get(port, "/episode.mp3", {"Range": "bytes=0-511"})[1]["ETag"]
    status, headers, body = get(port, "/episode.mp3", {"Range": "bytes=512-", "If-Range": tag})
    assert status == 206
    assert headers["Content-Range"] == "bytes 512-1023/1024"
    assert body == AUDIO[512:]


def test_resuming_a_replaced_file_gets_the_whole_new_file_never_old_and_new_spliced(
        root, start):
    port = start()
    status, headers, first_half = get(port, "/episode.mp3", {"Range": "bytes=0-511"})
    assert (status, first_half) == (206, AUDIO[:512])
    old_tag = headers["ETag"]
    replace_file(root / "episode.mp3", NEW_AUDIO)  # share rebuilt it meanwhile
    status, headers, body = get(port, "/episode.mp3", {"Range": "bytes=512-",
                                                        "If-Range": old_tag})
    assert status == 200
    assert "Content-Range" not in headers
    assert headers["Content-Length"] == "1024"
    assert body == NEW_AUDIO
    assert headers["ETag"] != old_tag
    # and the new version's tag resumes the new version
    status, _, body = get(port, "/episode.mp3", {"Range": "bytes=512-",
                                                  "If-Range": headers["ETag"]})
    assert (status, body) == (206, NEW_AUDIO[512:])


@pytest.mark.parametrize("condition", ["weak", "date", "other", "garbage"])
def test_if_range_without_this_versions_strong_tag_sends_the_whole_file(start, condition):
    """RFC 9110 13.1.5: a weak tag never matches; a date only if it is a strong validator,
    which a modification time is not here (see `_same_version`); clients holding our ETag
    send that."""
    port = start()
    headers = get(port, "/episode.mp3")[1]
    value = {"weak": f"W/{headers['ETag']}", "date": headers["Last-Modified"],
             "other": '"0-400-0"', "garbage": "not a validator"}[condition]
    status, headers, body = get(port, "/episode.mp3", {"Range": "bytes=512-",
                                                        "If-Range": value})
    assert (status, body) == (200, AUDIO)
    assert "Content-Range" not in headers


def test_if_range_without_a_range_is_ignored(start):
    status, _, body = get(start(), "/episode.mp3", {"If-Range": '"stale"'})
    assert (status, body) == (200, AUDIO)


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_if_none_match_answers_304_until_the_file_is_replaced(root, start, method):
    port = start()
    tag = get(port, "/episode.mp3")[1]["ETag"]
    for wanted in (tag, f"W/{tag}", f'"other", {tag}', f'W/"x",{tag} ', "*"):
        status, headers, body = get(port, "/episode.mp3", {"If-None-Match": wanted},
                                    method=method)
        assert (status, body) == (304, b""), wanted
        assert headers["ETag"] == tag
        assert parsedate_to_datetime(headers["Last-Modified"]).timestamp() == MTIME
        assert "Content-Range" not in headers
    replace_file(root / "episode.mp3", NEW_AUDIO + b"more")
    status, headers, body = get(port, "/episode.mp3", {"If-None-Match": tag}, method=method)
    assert status == 200
    assert headers["Content-Length"] == str(len(NEW_AUDIO) + 4)
    assert body == (NEW_AUDIO + b"more" if method == "GET" else b"")
    assert headers["ETag"] != tag


@pytest.mark.parametrize("wanted", ['"other"', 'W/"other"', "unquoted", '"a" "b"', ""])
def test_if_none_match_naming_no_current_tag_sends_the_file(start, wanted):
    status, _, body = get(start(), "/episode.mp3", {"If-None-Match": wanted})
    assert (status, body) == (200, AUDIO)


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_if_modified_since_answers_304_until_the_file_is_replaced(root, start, method):
    port = start()
    modified = get(port, "/episode.mp3")[1]["Last-Modified"]
    for since in (modified, "Tue, 14 Nov 2023 22:14:00 GMT", "Tuesday, 14-Nov-23 22:14:00 GMT"):
        status, headers, body = get(port, "/episode.mp3", {"If-Modified-Since": since},
                                    method=method)
        assert (status, body) == (304, b""), since
        assert "ETag" in headers
    for since in ("Tue, 14 Nov 2023 22:12:00 GMT", "yesterday", ""):  # earlier, or no date
        status, _, body = get(port, "/episode.mp3", {"If-Modified-Since": since},
                              method=method)
        assert status == 200, since
    replace_file(root / "episode.mp3", NEW_AUDIO)  # a minute newer
    status, headers, body = get(port, "/episode.mp3", {"If-Modified-Since": modified},
                                method=method)
    assert status == 200
    assert parsedate_to_datetime(headers["Last-Modified"]).timestamp() == MTIME + 60
    assert body == (NEW_AUDIO if method == "GET" else b"")


def test_if_none_match_takes_precedence_over_if_modified_since(root, start):
    port = start()
    headers = get(port, "/episode.mp3")[1]
    status, _, body = get(port, "/episode.mp3", {"If-None-Match": '"other"',
                                                  "If-Modified-Since": headers["Last-Modified"]})
    assert (status, body) == (200, AUDIO)
    # a file replaced within the same second: its date says unchanged, its tag does not
    replace_file(root / "episode.mp3", NEW_AUDIO, MTIME)
    status, _, body = get(port, "/episode.mp3", {"If-None-Match": headers["ETag"],
                                                  "If-Modified-Since": headers["Last-Modified"]})
    assert (status, body) == (200, NEW_AUDIO)


def test_head_of_a_replaced_file_gives_the_new_files_headers(root, start):
    port = start()
    before = get(port, "/episode.mp3", method="HEAD")[1]
    replace_file(root / "episode.mp3", NEW_AUDIO * 3)
    status, headers, body = get(port, "/episode.mp3", method="HEAD")
    assert (status, body) == (200, b"")
    assert headers["Content-Length"] == str(3 * len(NEW_AUDIO))
    assert headers["ETag"] != before["ETag"]
    assert parsedate_to_datetime(headers["Last-Modified"]).timestamp() == MTIME + 60
    assert get(port, "/episode.mp3", {"If-None-Match": headers["ETag"]},
               method="HEAD")[0] == 304


def test_a_304_keeps_the_connection_usable(start):
    """A 304 has no body and says no length; the next request on the connection still
    gets its answer."""
    connection = http.client.HTTPConnection("127.0.0.1", start(), timeout=5)
    try:
        connection.request("GET", "/episode.mp3")
        first = connection.getresponse()
        assert first.read() == AUDIO
        connection.request("GET", "/episode.mp3", headers={"If-None-Match": first.headers["ETag"]})
        second = connection.getresponse()
        assert (second.status, second.read()) == (304, b"")
        assert "Content-Length" not in second.headers
        connection.request("GET", "/episode.mp3", headers={"Range": "bytes=0-3"})
        third = connection.getresponse()
        assert (third.status, third.read()) == (206, AUDIO[:4])
    finally:
        connection.close()


def test_a_rewritten_feeds_tag_is_that_of_the_bytes_served(root, start):
    """The feed's links depend on the address asked; so does its tag."""
    port = start(transform=lambda path, data, base: data.replace(b"episode", base.encode()))
    a = get(port, "/feed.xml", {"Host": "a.example:8000"})
    b = get(port, "/feed.xml", {"Host": "b.example:8000"})
    assert a[2] != b[2] and a[1]["ETag"] != b[1]["ETag"]
    assert get(port, "/feed.xml", {"Host": "a.example:8000",
                                   "If-None-Match": a[1]["ETag"]})[0] == 304
    status, _, body = get(port, "/feed.xml", {"Host": "b.example:8000",
                                              "If-None-Match": a[1]["ETag"]})
    assert (status, body) == (200, b[2])
    replace_file(root / "feed.xml", FEED.replace(b"<item>", b"<item><title>new</title>"))
    status, _, body = get(port, "/feed.xml", {"Host": "a.example:8000",
                                              "If-None-Match": a[1]["ETag"]})
    assert status == 200 and b"new" in body
