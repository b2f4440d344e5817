"""The manifest's state file: what makes a batch incremental, resumable and its private
addresses stable.

It lives beside the manifest (`.NAME.state.json`, hidden, readable by its owner only) and
holds each listener's private token, and for each output written the digest of the inputs it
was built from (its *key*) with the file's size and time, so that an output whose inputs are
unchanged is not built again, and a batch interrupted half way picks up where it stopped. It
is written atomically after every output.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from dataclasses import replace
from pathlib import Path
from typing import Any, Iterable

from .. import __version__
from ..builder import BuildSettings
from ..files import cannot_write, replacing
from ..errors import RoutinecastError
from ..overrides import Customised

STATE_VERSION = 1
TOKEN_BYTES = 16
"""128 bits: a private folder's name cannot be guessed."""


class StateError(RoutinecastError):
    """The state file is damaged."""


def state_path(manifest: Path) -> Path:
    return manifest.parent / f".{manifest.name}.state.json"


class State:
    """The state file's contents, saved after each change."""

    def __init__(self, path: Path):
        self.path = path
        self.data: dict[str, Any] = {"version": STATE_VERSION, "tokens": {}, "outputs": {},
                                     "sites": {}}
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return
        except OSError as exc:
            raise StateError(f"cannot be read ({exc.strerror})", path) from None
        try:
            data = json.loads(text)
            if not isinstance(data, dict) or data.get("version") != STATE_VERSION or \
                    not all(isinstance(data.get(key), dict)
                            for key in ("tokens", "outputs", "sites")):
                raise ValueError("not a batch state file")
        except ValueError as exc:
            raise StateError(f"is damaged ({exc}); move it away to start afresh (every output "
                             "is built again, and private folders get new addresses)",
                             path) from None
        self.data = data

    def token(self, listener: str) -> str:
        """`listener`'s private token, made (and kept) the first time it is asked for."""
        tokens = self.data["tokens"]
        if listener not in tokens:
            tokens[listener] = secrets.token_hex(TOKEN_BYTES)
            self.save()
        return tokens[listener]

    def up_to_date(self, target: Path, key: str) -> bool:
        """Whether `target` is as built from inputs whose key is `key`."""
        record = self.data["outputs"].get(str(target.resolve()))
        if not record or record.get("key") != key:
            return False
        try:
            info = target.stat()
        except OSError:
            return False
        return record.get("size") == info.st_size and record.get("mtime_ns") == info.st_mtime_ns

    def record(self, target: Path, key: str, duration_ms: int | None = None) -> None:
        """`target` was just written from inputs whose key is `key`."""
        info = target.stat()
        self.data["outputs"][str(target.resolve())] = {
            "key": key, "size": info.st_size, "mtime_ns": info.st_mtime_ns,
            "duration_ms": duration_ms}
        self.save()

    def forget(self, target: Path) -> None:
        if self.data["outputs"].pop(str(target.resolve()), None) is not None:
            self.save()

    def site_key(self, folder: Path) -> str | None:
        return self.data["sites"].get(str(folder.resolve()))

    def record_site(self, folder: Path, key: str | None) -> None:
        if key is None:
            self.data["sites"].pop(str(folder.resolve()), None)
        else:
            self.data["sites"][str(folder.resolve())] = key
        self.save()

    def save(self) -> None:
        text = json.dumps(self.data, indent=1, sort_keys=True)
        try:
            with replacing(self.path) as temp:
                temp.write_text(text, encoding="utf-8")
                os.chmod(temp, 0o600)  # the tokens are what keeps private feeds private
        except OSError as exc:
            raise cannot_write(self.path, exc, into=False) from None


def digest(*parts: Any) -> str:
    """A hex digest of `parts`' reprs."""
    hasher = hashlib.sha256()
    for part in parts:
        data = part if isinstance(part, bytes) else repr(part).encode("utf-8")
        hasher.update(len(data).to_bytes(8, "big"))
        hasher.update(data)
    return hasher.hexdigest()


def build_key(customised: Customised, settings: BuildSettings, cover: bytes,
              name: str) -> str:
    """The key of one output: every input that shapes its bytes. The routine as customised
    (every value spelt out, its voice included), the build settings (but not where the
    speech cache is), the cover (its bytes, or what it is drawn from), the file name,
    routinecast's version, and the size and time of every music file."""
    music = settings.sound.music
    return digest("routinecast", __version__, customised, replace(settings, cache_dir=None),
                  hashlib.sha256(cover).hexdigest(), name, list(_stamps(music)))


def _stamps(paths: Iterable[Path]) -> Iterable[tuple[str, int, int]]:
    for path in paths:
        path = Path(path)
        files = sorted(path.iterdir()) if path.is_dir() else [path]
        for file in files:
            try:
                info = file.stat()
            except OSError:
                continue
            yield str(file), info.st_size, info.st_mtime_ns
