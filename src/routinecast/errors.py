"""One error hierarchy: every message names the thing that is wrong and, where there is one, the fix.

`InputError` and its subclasses are the user's to fix (the CLI exits 2); everything else
derived from `RoutinecastError` is a failure of the environment or a tool (exit 1).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Callable


EXIT_INPUT, EXIT_FAILURE, EXIT_INTERRUPTED = 2, 1, 130
"""The command's exit status for an `InputError`, any other of ours, and a Ctrl-C."""


_SETTING = re.compile("\x1e([a-z_]+)\x1f")


def setting(name: str) -> str:
    """A setting named in a message (`music`, `overwrite`, `hold_scale`): a library caller
    reads `name`, the command line its option (`--music`, `--force`); see `render`."""
    return f"\x1e{name}\x1f"


def library_name(name: str) -> str:
    """How a message names a setting to a library caller: the argument's name."""
    return f"`{name}`"


class RoutinecastError(Exception):
    """Base of every error routinecast raises on purpose.

    Messages speak library: a setting is named through `setting()`, so that a Python
    caller reads the argument it passed and only the command line turns it into advice about
    an option (`render(cli_option)`)."""

    def __init__(self, message: str, path: str | Path | None = None, line: int | None = None):
        super().__init__(message)
        self.message = message
        self.path = str(path) if path is not None else None
        self.line = line

    @property
    def settings(self) -> tuple[str, ...]:
        """The settings the message names, in order."""
        return tuple(_SETTING.findall(self.message))

    def render(self, spell: Callable[[str], str] = library_name) -> str:
        """The message on one line, each setting it names spelt by `spell`."""
        where = self.path or ""
        if where and self.line is not None:
            where = f"{where}:{self.line}"
        message = _SETTING.sub(lambda match: spell(match[1]), self.message)
        # a file name or a quoted value may hold a newline or an escape sequence
        return printable(f"{where}: {message}" if where else message)

    def __str__(self) -> str:
        return self.render()


def printable(text: str) -> str:
    """`text` for a terminal, on one line: characters that would break the line, drive the
    terminal or reorder what it shows (U+202E) written as escapes."""
    return "".join(c if c.isprintable() or c == " " else repr(c)[1:-1] for c in text)


class InputError(RoutinecastError):
    """Something the user wrote (a routine, an option) is wrong."""


class RoutineError(InputError):
    """A routine file is malformed or breaks the format's rules."""


class ProfileError(InputError):
    """A profile file is malformed."""


class OverrideError(InputError):
    """An override (an option, or a profile's setting) does not fit the routine."""


class LanguageError(InputError):
    """A voice cannot speak the routine's language."""


class VoiceError(RoutinecastError):
    """A text-to-speech engine or voice cannot be used or failed."""


class EngineUnavailable(VoiceError):
    """An engine cannot be used on this machine right now (not installed, no network), so a
    `--fallback` engine may take over."""


class AudioError(RoutinecastError):
    """ffmpeg is missing or failed to encode or decode."""


class TaggingError(RoutinecastError):
    """The MP3's ID3 tags could not be written or read."""


class OutputError(RoutinecastError):
    """An output file or folder cannot be written."""
