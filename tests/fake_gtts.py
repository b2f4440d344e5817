"""A local stand-in for Google Translate's speech endpoint, answering the real gTTS library.

Only `gtts.tts._translate_url` (the one-line URL formatter gTTS imports) is redirected to
this server; gTTS's own text splitting, request packing, HTTP sending with its timeout,
status checks and response parsing all run as they do against Google. Responses follow the
recorded `batchexecute` format: a `)]}'` guard, then length-prefixed JSON chunks, the
first holding the MP3 in base64 under the `jQ1olc` call.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import json
import subprocess
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from unittest import mock

import imageio_ffmpeg

RPC_ID = "jQ1olc"


@functools.lru_cache(maxsize=8)
def make_mp3(seconds: float = 0.6, frequency: int = 330) -> bytes:
    """A real MP3 as Google sends them: mono, 24 kHz, 32 kbit/s, bare MPEG frames."""
    return subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-f", "lavfi",
         "-i", f"sine=frequency={frequency}:duration={seconds}", "-ar", "24000", "-ac", "1",
         "-c:a", "libmp3lame", "-b:a", "32k", "-id3v2_version", "0", "-write_xing", "0",
         "-f", "mp3", "pipe:1"], check=True, capture_output=True).stdout


def batchexecute_body(mp3: bytes) -> bytes:
    """The response body Google sends for one spoken chunk."""
    inner = json.dumps([base64.b64encode(mp3).decode("ascii")]) + "\n"
    rpc = ["wrb.fr", RPC_ID, inner, None, None, None, "generic"]
    chunks = ["[" + json.dumps(rpc, separators=(",", ":")) + "\n]",
              '[["di",37]\n,["af.httprm",36,"-668177807451224424",66]\n]',
              '[["e",4,null,null,5662]\n]']
    return (")]}'\n\n" + "".join(f"{len(c) + 1}\n{c}\n" for c in chunks)).encode("utf-8")


@dataclass
class Request:
    """One request gTTS made."""

    host: str
    """The Google host it was meant for (`translate.google.co.uk`)."""
    text: str
    """What gTTS asked to be said."""
    lang: str
    """In which language."""
    slow: bool
    """Whether gTTS asked for slow reading."""


@dataclass
class FakeGoogle:
    """Answers every request with `mp3`, except that the statuses queued in `script` are
    answered first, one per request (e.g. `[429]`)."""

    script: list[int] = field(default_factory=list)
    seen: list[Request] = field(default_factory=list)
    delay_s: float = 0.0
    """How long each answer takes, so that concurrent requests overlap."""
    retry_after: str | None = None
    """A Retry-After header sent with every error answer."""
    most_at_once: int = 0
    """The most requests that were in flight together."""

    def __post_init__(self):
        self.mp3 = make_mp3()
        self.lock = threading.Lock()
        self.in_flight = 0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                host = self.path.lstrip("/").split("/", 1)[0]
                form = urllib.parse.parse_qs(body.decode("ascii"))
                text, lang, slow, _ = json.loads(json.loads(form["f.req"][0])[0][0][1])
                with fake.lock:
                    fake.seen.append(Request(host, text, lang, slow is True))
                    status = fake.script.pop(0) if fake.script else 200
                    fake.in_flight += 1
                    fake.most_at_once = max(fake.most_at_once, fake.in_flight)
                time.sleep(fake.delay_s)
                with fake.lock:
                    fake.in_flight -= 1
                out = batchexecute_body(fake.mp3) if status == 200 else b"<html>error</html>"
                try:
                    self.answer(status, out)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # gTTS gave up waiting (the timeout tests): nothing to report

            def answer(self, status: int, out: bytes) -> None:
                self.send_response(status)
                if status != 200 and fake.retry_after:
                    self.send_header("Retry-After", fake.retry_after)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        # a traceback printed from the server's thread would land in whatever test is
        # capturing stderr at that moment
        self.server.handle_error = lambda request, address: None
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02},
                         daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@contextlib.contextmanager
def google_answered_by(fake: FakeGoogle | None):
    """gTTS's requests go to `fake`, keeping the real host as the first path segment; with
    None they go to a closed port, as when there is no network."""
    import gtts.tts
    from gtts.utils import _translate_url as real

    base = fake.base_url if fake else "http://127.0.0.1:9"  # discard port: refused

    def redirected(tld="com", path=""):
        return base + "/" + real(tld=tld, path=path).split("://", 1)[1]

    with mock.patch.object(gtts.tts, "_translate_url", redirected):
        yield
