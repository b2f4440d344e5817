"""Shared fixtures: network blocked, one speech cache per test session, fixture paths."""

from __future__ import annotations

import socket
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest
from click.testing import CliRunner

from routinecast.cli import cli
from routinecast.share.feed import served_feed
from routinecast.share.serve import make_server

from browser import Browser

FIXTURES = Path(__file__).parent / "fixtures"
SEEDS = Path(__file__).resolve().parent.parent.parent / "shared" / "seeds"
"""The five source articles, in shared/ beside the checkout (where CI lays it too)."""
CONTENT = Path(__file__).parent.parent / "content"


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Tests run offline: any connection that is not to this machine fails."""
    real_connect = socket.socket.connect

    def connect(self, address):
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and (host.startswith("127.") or host in ("::1", "localhost")
                                      or host.startswith("/")):
            return real_connect(self, address)
        raise OSError(f"tests are offline: connection to {address!r} refused")

    monkeypatch.setattr(socket.socket, "connect", connect)


@pytest.fixture(scope="session")
def speech_cache(tmp_path_factory) -> Path:
    """One speech cache for the session: each text is synthesised by piper once."""
    return tmp_path_factory.mktemp("speech-cache")


@pytest.fixture(autouse=True)
def cache_env(monkeypatch, speech_cache):
    monkeypatch.setenv("ROUTINECAST_CACHE", str(speech_cache))


@pytest.fixture
def write_routine(tmp_path):
    """Write a routine text to a file and return its path."""

    def write(text: str, name: str = "routine.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write


@dataclass(frozen=True)
class Ran:
    """What a command printed and how it ended."""

    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        """Everything printed: standard output, then standard error."""
        return self.stdout + self.stderr


@pytest.fixture
def run():
    """Run the command line in-process, as `routinecast ARGS…`; never a traceback."""

    def invoke(*args):
        try:
            runner = CliRunner(mix_stderr=False)  # click 8.1 (gTTS pins click below 8.2)
        except TypeError:
            runner = CliRunner()  # click 8.2 and later keep the two apart anyway
        result = runner.invoke(cli, [str(a) for a in args], prog_name="routinecast")
        ran = Ran(result.exit_code, result.stdout, result.stderr)
        assert "Traceback" not in ran.output
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return ran

    return invoke


@contextmanager
def serving(folder: Path, **options) -> Iterator[int]:
    """`folder` served on a free port of 127.0.0.1 in a thread, rewriting feeds as `routinecast
    serve` does unless `options` (of `make_server`) say otherwise; yields the port."""
    server = make_server(folder, **{"port": 0, "transform": served_feed, **options})
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.005},
                              daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture(scope="module")
def browser():
    """A headless chromium, shared by a module's tests."""
    with Browser() as chromium:
        yield chromium
