"""The manifest's state file: what keeps private addresses stable across rebuilds.

It lives beside the manifest (`.NAME.state.json`, hidden, readable by its owner only) and
holds each listener's private token: the one thing a batch cannot find again in its outputs
(a token is random, and a folder's name cannot say which listener it was made for once they
are renamed or the output moved). Whether an MP3 is up to date is the builder's build key,
which travels in the MP3 itself, and whether a site is, a record in the site's folder (see
`batch`): so an output folder copied elsewhere stays up to date, and deleting the state file
costs nothing but new private addresses.

Two batches may run on one manifest at once (into two outputs, say): each change is a
read-modify-write of the file under an exclusive lock (`fcntl.flock` on `.NAME.state.lock`
beside it), so that neither loses the tokens the other made, and both give a listener the
same token. Where there is no `fcntl` (Windows) there is no lock: run one batch at a time
per manifest there.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any, Iterable, Iterator

from ..errors import RoutinecastError
from ..files import NoLocks, cannot_write, locked, replacing

STATE_VERSION = 2
"""Version 1 also kept each output's key and each site's: those are now in the outputs."""
TOKEN_BYTES = 16
"""128 bits: a private folder's name cannot be guessed."""


class StateError(RoutinecastError):
    """The state file is damaged, or cannot be locked."""


def state_path(manifest: Path) -> Path:
    return manifest.parent / f".{manifest.name}.state.json"


def lock_path(manifest: Path) -> Path:
    """The lock file beside the state file. It is never removed: a batch that removed it
    while another waited on it would let a third lock a new file of the same name."""
    return manifest.parent / f".{manifest.name}.state.lock"


class State:
    """The state file of the manifest at `manifest`: each listener's private token."""

    def __init__(self, manifest: Path):
        self.path = state_path(manifest)
        self.lock = lock_path(manifest)
        self.tokens: dict[str, str] = self._read()

    def _read(self) -> dict[str, str]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise StateError(f"cannot be read ({exc.strerror})", self.path) from None
        try:
            data = json.loads(text)
            # version 1 is read too: its tokens are the addresses listeners subscribed to
            if not isinstance(data, dict) or data.get("version") not in (1, STATE_VERSION) \
                    or not isinstance(data.get("tokens"), dict) \
                    or not all(isinstance(token, str) for token in data["tokens"].values()):
                raise ValueError("not a batch state file")
        except ValueError as exc:
            raise StateError(f"is damaged ({exc}); move it away to start afresh (private "
                             "folders then get new addresses)", self.path) from None
        return dict(data["tokens"])

    def token(self, listener: str) -> str:
        """`listener`'s private token, made (and kept) the first time it is asked for."""
        return self.tokens_for([listener])[listener]

    def tokens_for(self, listeners: Iterable[str]) -> dict[str, str]:
        """Each of `listeners`' private tokens, those not made yet made and saved at once
        (one write for a thousand new listeners, not a thousand)."""
        listeners = list(listeners)
        if any(listener not in self.tokens for listener in listeners):
            with self._locked():
                # another batch may have saved tokens since this one read the file: theirs
                # are kept, and a listener they made one for gets the same
                self.tokens = self._read()
                missing = [listener for listener in listeners if listener not in self.tokens]
                for listener in missing:
                    self.tokens[listener] = secrets.token_hex(TOKEN_BYTES)
                if missing:
                    self._save()
        return {listener: self.tokens[listener] for listener in listeners}

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """Hold the exclusive lock on the state file (waiting for another batch's)."""
        with ExitStack() as held:
            try:
                held.enter_context(locked(self.lock))
            except NoLocks as exc:
                raise StateError(f"cannot be locked ({exc.strerror}); keep the manifest on a "
                                 "local disk", self.path) from None
            except OSError as exc:
                raise cannot_write(self.lock, exc, into=False) from None
            yield

    def _save(self) -> None:
        text = json.dumps({"version": STATE_VERSION, "tokens": self.tokens}, indent=1,
                          sort_keys=True)
        try:
            with replacing(self.path) as temp:
                temp.write_text(text, encoding="utf-8")
                os.chmod(temp, 0o600)  # the tokens are what keeps private feeds private
        except OSError as exc:
            raise cannot_write(self.path, exc, into=False) from None


def digest(*parts: Any) -> str:
    """A hex digest of `parts`' reprs (bytes as they are)."""
    hasher = hashlib.sha256()
    for part in parts:
        data = part if isinstance(part, bytes) else repr(part).encode("utf-8")
        hasher.update(len(data).to_bytes(8, "big"))
        hasher.update(data)
    return hasher.hexdigest()
