"""Drive a real headless chromium through the Chrome DevTools Protocol (websocket-client only).

    with Browser() as browser:
        browser.open(path.as_uri())
        browser.click("button.play")
        browser.wait_for("document.querySelector('audio').currentTime > 0")
        assert browser.console == [] and browser.failed_requests == []
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import websocket

FLAGS = ("--headless=new", "--remote-debugging-port=0", "--no-sandbox", "--disable-gpu",
         "--no-first-run", "--no-default-browser-check", "--mute-audio",
         "--autoplay-policy=no-user-gesture-required", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-extensions",
         "--hide-scrollbars", "--no-proxy-server",
         # Offline like the rest of the tests: only this machine resolves.
         "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1")

# Scroll the element to the middle of the screen, check that a click at its centre would hit
# it (not an overlay), and return that centre in CSS pixels of the layout viewport: what
# Input.dispatchMouseEvent takes, even when a mobile page is zoomed out (no <meta viewport>).
_LOCATE = """(selector) => {
  const el = document.querySelector(selector);
  if (!el) return {error: `no element matches ${selector}`};
  el.scrollIntoView({block: 'center', inline: 'center'});
  const r = el.getBoundingClientRect(), x = r.left + r.width / 2, y = r.top + r.height / 2;
  if (!r.width || !r.height) return {error: `${selector} has no size (hidden?)`};
  const hit = document.elementFromPoint(x, y);
  if (!hit || !el.contains(hit))
    return {error: `${selector} is covered by ${hit ? hit.outerHTML.slice(0, 120) : 'nothing'}`};
  return {x, y};
}"""


def chromium_path() -> str:
    """The chromium executable on PATH, or a RuntimeError that says how to install it."""
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        raise RuntimeError("chromium is not installed; scripts/test installs it "
                           "(apt-get install chromium)")
    return path


class Browser:
    """One headless chromium showing one phone-sized page, driven over CDP; a context manager.

    console, failed_requests and requested_urls collect what the page did, for assertions.
    """

    def __init__(self, width: int = 412, height: int = 915, timeout: float = 30.0,
                 device_scale_factor: float = 1, extra_args: tuple[str, ...] = ()):
        self.width, self.height, self.timeout = width, height, timeout
        self.device_scale_factor, self.extra_args = device_scale_factor, tuple(extra_args)
        self.console: list[str] = []  # console calls, uncaught exceptions, chromium's errors
        self.failed_requests: list[str] = []  # URLs whose loading failed
        self.requested_urls: list[str] = []  # every URL the page asked for, data: included
        self._urls: dict[str, str] = {}  # requestId -> URL
        self._process: subprocess.Popen | None = None
        self._ws: websocket.WebSocket | None = None
        self._dir: Path | None = None
        self._session, self._last_id, self._loaded = "", 0, False

    def __enter__(self) -> "Browser":
        try:
            self._launch()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def _launch(self) -> None:
        """Start chromium, connect to it, open a page and attach to it."""
        executable = chromium_path()
        self._dir = Path(tempfile.mkdtemp(prefix="routinecast-chromium-"))
        profile = self._dir / "profile"
        with open(self._dir / "stderr.log", "wb") as stderr:
            self._process = subprocess.Popen(
                [executable, f"--user-data-dir={profile}", *FLAGS, *self.extra_args,
                 f"--window-size={self.width},{self.height}", "about:blank"],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr,
                start_new_session=True)  # its own process group, so close() kills every child
        port_file, deadline = profile / "DevToolsActivePort", time.monotonic() + self.timeout
        while not (port_file.exists() and len(port_file.read_text().splitlines()) >= 2):
            if self._process.poll() is not None or time.monotonic() > deadline:
                state = (f"exited with status {self._process.returncode}" if self._process.poll()
                         is not None else f"opened no DevTools port in {self.timeout:.0f} s")
                raise RuntimeError(f"chromium ({executable}) {state}; stderr:\n{self._stderr()}")
            time.sleep(0.05)
        port = int(port_file.read_text().splitlines()[0])
        direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with direct.open(f"http://127.0.0.1:{port}/json/version", timeout=self.timeout) as r:
            url = json.load(r)["webSocketDebuggerUrl"]
        # No Origin header: chromium refuses websocket origins it was not told to allow.
        self._ws = websocket.create_connection(url, timeout=self.timeout, suppress_origin=True,
                                               http_no_proxy=["127.0.0.1"])
        target = self._call("Target.createTarget", url="about:blank")["targetId"]
        self._session = self._call("Target.attachToTarget", targetId=target,
                                   flatten=True)["sessionId"]
        for domain in ("Page", "Runtime", "Network", "Log"):
            self._call(f"{domain}.enable")
        self._call("Emulation.setDeviceMetricsOverride", width=self.width, height=self.height,
                   deviceScaleFactor=self.device_scale_factor, mobile=True)

    def close(self) -> None:
        """Kill chromium's whole process group and remove its profile; safe to call twice."""
        if self._ws is not None:
            with contextlib.suppress(Exception):
                self._ws.close()
        if self._process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._process.pid, signal.SIGKILL)
            self._process.wait()
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
        self._ws = self._process = self._dir = None

    def _stderr(self) -> str:
        """The end of chromium's stderr, for error messages; without its harmless D-Bus noise
        (there is no bus in a container)."""
        log = self._dir / "stderr.log" if self._dir else None
        lines = log.read_text(errors="replace").splitlines() if log and log.exists() else []
        return "\n".join([line for line in lines if ":ERROR:dbus/" not in line][-30:])

    def _call(self, method: str, **params: Any) -> dict:
        """Send a command (to the page once attached) and return its result; the events that
        arrive meanwhile are dispatched."""
        if self._ws is None:
            raise RuntimeError("the browser is not running: use `with Browser() as browser:`")
        self._last_id += 1
        message = {"id": self._last_id, "method": method, "params": params}
        if self._session:
            message["sessionId"] = self._session
        try:
            self._ws.send(json.dumps(message))
        except (websocket.WebSocketException, OSError) as error:
            raise self._gone(error, method) from None
        deadline = time.monotonic() + self.timeout
        while (reply := self._receive(deadline, method)).get("id") != self._last_id:
            pass
        if "error" in reply:
            raise AssertionError(f"{method} failed: {reply['error'].get('message')}")
        return reply.get("result", {})

    def _receive(self, deadline: float, waiting_for: str) -> dict:
        """Read one message before the deadline; an event of our page is dispatched."""
        self._ws.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            message = json.loads(self._ws.recv())
        except websocket.WebSocketTimeoutException:
            raise AssertionError(f"chromium did not answer {waiting_for} in time") from None
        except (websocket.WebSocketException, OSError) as error:
            raise self._gone(error, waiting_for) from None
        if "method" in message and message.get("sessionId", "") == self._session:
            self._on_event(message["method"], message.get("params", {}))
        return message

    def _gone(self, error: Exception, waiting_for: str) -> AssertionError:
        return AssertionError(f"chromium went away ({error!r}) during {waiting_for}; "
                              f"its stderr:\n{self._stderr()}")

    def _on_event(self, method: str, params: dict) -> None:
        if method == "Page.loadEventFired":
            self._loaded = True
        elif method == "Inspector.targetCrashed":
            raise AssertionError("the page crashed")
        elif method == "Runtime.consoleAPICalled":
            text = " ".join(str(arg.get("value", arg.get("description", arg.get("type"))))
                            for arg in params.get("args", []))
            self.console.append(f"{params.get('type')}: {text}")
        elif method == "Runtime.exceptionThrown":
            self.console.append(f"uncaught: {_exception_text(params['exceptionDetails'])}")
        elif method == "Log.entryAdded":  # chromium's own: CORS, blocked file:// loads, 404s
            entry = params["entry"]
            if entry["level"] == "error" and not entry.get("url", "").endswith("/favicon.ico"):
                where = f" [{entry['url']}]" if entry.get("url") else ""
                self.console.append(f"{entry['source']} error: {entry['text'].strip()}{where}")
        elif method == "Network.requestWillBeSent":
            self._urls[params["requestId"]] = params["request"]["url"]
            self.requested_urls.append(params["request"]["url"])
        elif method == "Network.loadingFailed" and not params.get("canceled"):
            # a media element cancels its own range requests when it seeks: not a failure
            self.failed_requests.append(f'{self._urls.get(params["requestId"], "?")} '
                                        f'({params.get("errorText", "")})')

    @property
    def external_requests(self) -> list[str]:
        """The requested URLs that would leave this machine (not file:, data:, 127.x…)."""
        parts = [(url, urllib.parse.urlsplit(url)) for url in self.requested_urls]
        return [url for url, p in parts if p.scheme in ("http", "https", "ws", "wss") and not (
            p.hostname in ("localhost", "::1") or (p.hostname or "").startswith("127."))]

    def open(self, url: str) -> None:
        """Navigate to a file:// or http:// URL and wait for its load event."""
        self._loaded = False
        result = self._call("Page.navigate", url=url)
        if result.get("errorText"):
            raise AssertionError(f"could not open {url}: {result['errorText']}")
        if not result.get("loaderId"):
            return  # same-document navigation (only the #fragment changed): no load event
        deadline = time.monotonic() + self.timeout
        while not self._loaded:
            self._receive(deadline, f"the load event of {url}")

    def evaluate(self, expression: str, await_promise: bool = True) -> Any:
        """The JSON value of a JS expression in the page; AssertionError if it throws."""
        reply = self._call("Runtime.evaluate", expression=expression, returnByValue=True,
                           awaitPromise=await_promise)
        if "exceptionDetails" in reply:
            raise AssertionError(f"JavaScript error in {expression!r}: "
                                 f"{_exception_text(reply['exceptionDetails'])}")
        return reply["result"].get("value")  # None for undefined, and for NaN and Infinity

    def wait_for(self, expression: str, timeout: float | None = None) -> Any:
        """Poll a JS expression until it is truthy and return its value (an exception counts
        as not yet); AssertionError naming the expression and its last value on timeout."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            try:
                if value := self.evaluate(expression):
                    return value
                last = repr(value)
            except AssertionError as error:
                if not str(error).startswith("JavaScript error"):
                    raise  # chromium itself failed: no use waiting
                last = str(error)
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {expression!r}; last value: {last}")
            time.sleep(0.05)

    def click(self, selector: str) -> None:
        """Click the element's centre with real (trusted) mouse events, as a user would."""
        at = self.evaluate(f"({_LOCATE})({json.dumps(selector)})")
        if "error" in at:
            raise AssertionError(f"cannot click: {at['error']}")
        self._call("Input.dispatchMouseEvent", type="mouseMoved", x=at["x"], y=at["y"])
        for kind, buttons in (("mousePressed", 1), ("mouseReleased", 0)):
            self._call("Input.dispatchMouseEvent", type=kind, x=at["x"], y=at["y"],
                       button="left", buttons=buttons, clickCount=1)

    def screenshot(self, path: Path, full_page: bool = True) -> None:
        """Save a PNG of the viewport, or of the whole page, at the device scale factor."""
        params: dict[str, Any] = {"format": "png"}
        if full_page:
            size = self._call("Page.getLayoutMetrics")["cssContentSize"]
            params.update(captureBeyondViewport=True, clip={
                "x": 0, "y": 0, "scale": 1,
                "width": max(size["width"], self.width), "height": max(size["height"], 1)})
        data = self._call("Page.captureScreenshot", **params)["data"]
        Path(path).write_bytes(base64.b64decode(data))


def _exception_text(details: dict) -> str:
    """The most useful text of a CDP ExceptionDetails: the error's stack, else its message."""
    exception = details.get("exception") or {}
    return exception.get("description") or str(exception.get("value", details.get("text")))
