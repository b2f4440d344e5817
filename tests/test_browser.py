"""The headless-chromium harness (tests/browser.py) itself: it launches, drives and reports."""

from __future__ import annotations

import struct
import subprocess
from pathlib import Path

import imageio_ffmpeg
import pytest

import browser as browser_module
from browser import Browser, chromium_path

SCALE = 2


@pytest.fixture(scope="module")
def shared_browser():
    with Browser(device_scale_factor=SCALE) as browser:
        yield browser


@pytest.fixture
def browser(shared_browser):
    """The module's browser, with what earlier tests collected forgotten."""
    for collected in (shared_browser.console, shared_browser.failed_requests,
                      shared_browser.requested_urls):
        collected.clear()
    return shared_browser


@pytest.fixture
def page(browser, tmp_path):
    """Write an HTML body to a file, open it via file:// and return the browser."""

    def open_page(body: str, name: str = "page.html") -> Browser:
        path = tmp_path / name
        path.write_text('<!doctype html><meta charset="utf-8">'
                        '<meta name="viewport" content="width=device-width">' + body,
                        encoding="utf-8")
        browser.open(path.as_uri())
        return browser

    return open_page


def test_chromium_path_names_the_fix_when_missing(monkeypatch):
    assert Path(chromium_path()).exists()
    monkeypatch.setattr(browser_module.shutil, "which", lambda name: None)
    with pytest.raises(RuntimeError, match=r"chromium is not installed; scripts/test installs"):
        chromium_path()


def test_exit_kills_chromium_and_removes_its_profile():
    with Browser() as browser:
        process, profile = browser._process, browser._dir
        assert profile.is_dir() and process.poll() is None
    assert process.poll() is not None and not profile.exists()


def test_evaluate_returns_json_values(page):
    browser = page("<title>values</title>")
    assert browser.evaluate("document.title") == "values"
    assert browser.evaluate("6 * 7") == 42
    assert browser.evaluate("0.5 + 0.25") == 0.75
    assert browser.evaluate("[1, 'two', [3]]") == [1, "two", [3]]
    assert browser.evaluate("({a: 1, b: {c: null}})") == {"a": 1, "b": {"c": None}}
    assert browser.evaluate("undefined") is None
    assert browser.evaluate("Promise.resolve('later')") == "later"
    assert browser.evaluate("innerWidth") == 412


def test_a_javascript_exception_is_an_assertion_error(page):
    browser = page("")
    with pytest.raises(AssertionError, match=r"JavaScript error in .*Error: boom"):
        browser.evaluate("throw new Error('boom')")
    with pytest.raises(AssertionError, match="rejected"):
        browser.evaluate("Promise.reject(new Error('rejected'))")


def test_wait_for_returns_the_value_or_times_out_clearly(page):
    browser = page("<script>setTimeout(() => { window.ready = 'yes'; }, 100)</script>")
    assert browser.wait_for("window.ready", timeout=5) == "yes"
    with pytest.raises(AssertionError,
                       match=r"timed out waiting for 'document.title.length > 99'; "
                             r"last value: False"):
        browser.wait_for("document.title.length > 99", timeout=0.3)
    with pytest.raises(AssertionError, match=r"last value: JavaScript error .*TypeError"):
        browser.wait_for("document.querySelector('#missing').textContent", timeout=0.2)


def test_click_is_a_real_trusted_mouse_click(page):
    browser = page('<div style="height: 2000px"></div>'
                   '<button onclick="document.title = `clicked ${event.isTrusted}`">Go</button>')
    browser.click("button")
    assert browser.wait_for("document.title", timeout=5) == "clicked true"
    with pytest.raises(AssertionError, match="no element matches #missing"):
        browser.click("#missing")
    browser.evaluate("document.body.insertAdjacentHTML('beforeend', '<div id=\"veil\" style="
                     "\"position: fixed; inset: 0\"></div>')")
    with pytest.raises(AssertionError, match='button is covered by <div id="veil"'):
        browser.click("button")


def test_console_messages_and_uncaught_exceptions_are_collected(page):
    browser = page("<script>console.log('hello', 42); setTimeout(() => { throw new "
                   "Error('oops'); })</script>")
    browser.evaluate("new Promise(resolve => setTimeout(resolve, 50))")  # after the throw
    assert browser.console[0] == "log: hello 42"
    assert any(line.startswith("uncaught: Error: oops") for line in browser.console)


def test_external_requests_are_recorded_and_fail_offline(page):
    browser = page('<img src="http://example.invalid/x.png">')
    url = "http://example.invalid/x.png"
    assert browser.requested_urls[0].startswith("file://")
    assert url in browser.requested_urls
    assert any(line.startswith(url + " (") for line in browser.failed_requests)
    assert browser.external_requests == [url]


def test_screenshot_is_a_png_at_the_device_scale(page, tmp_path):
    browser = page('<h1 style="background: teal">Hello</h1><div style="height: 3000px"></div>')
    path = tmp_path / "shot.png"
    browser.screenshot(path)
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    assert width == 412 * SCALE
    assert height > 3000 * SCALE  # the whole page, not only the 915 px viewport
    browser.screenshot(path, full_page=False)
    assert struct.unpack(">II", path.read_bytes()[16:24]) == (412 * SCALE, 915 * SCALE)


def test_an_mp3_from_file_url_loads_and_seeks(page, tmp_path):
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-f", "lavfi",
                    "-i", "sine=frequency=440:duration=2", "-c:a", "libmp3lame", "-b:a", "96k",
                    str(tmp_path / "x.mp3")], check=True)
    browser = page('<audio src="x.mp3" preload="metadata"></audio>')
    browser.wait_for("document.querySelector('audio').readyState >= 1", timeout=10)
    assert browser.evaluate("document.querySelector('audio').duration") == pytest.approx(2, abs=0.1)
    position = browser.evaluate("""new Promise(resolve => {
        const audio = document.querySelector('audio');
        audio.addEventListener('seeked', () => resolve(audio.currentTime), {once: true});
        audio.currentTime = 1.0;
    })""")
    assert position == pytest.approx(1.0, abs=0.05)
    assert browser.console == [] and browser.failed_requests == []
