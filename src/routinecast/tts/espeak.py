"""The espeak-ng engine: a tiny, robotic but dependable offline voice in about a hundred
languages, from the system's `espeak-ng` program (a Debian package, not a wheel)."""

from __future__ import annotations

import functools
import re
import shutil
import struct
import subprocess

from dataclasses import dataclass

from ..errors import EngineUnavailable, InputError, LanguageError, VoiceError
from . import cores, language_family
from ..lazy import lazy_module

np = lazy_module("numpy")  # see lazy.py: loaded when first used

INSTALL = ("espeak-ng is not installed; install it with `sudo apt-get install espeak-ng` "
           "(Debian, Ubuntu) or use --engine piper")
WORDS_PER_MINUTE = 175
"""espeak-ng's natural rate; `speed` scales it."""
TIMEOUT_S = 60
"""The longest espeak-ng may take over one text (it takes milliseconds)."""


def executable() -> str | None:
    """The `espeak-ng` program on PATH, if installed."""
    return shutil.which("espeak-ng")


@dataclass(frozen=True)
class EspeakVoice:
    """A voice espeak-ng lists."""

    name: str
    """What `-v` takes (`en-us`, `cmn`)."""
    description: str
    """Its language in words."""
    languages: tuple[str, ...]
    """The language codes it speaks: its own, then those it stands in for (`zh` for `cmn`)."""
    priorities: tuple[int, ...]
    """For each code, how good a choice it is (espeak-ng's priority: lower is better)."""


_OTHER = re.compile(r"\(([^ )]+) (\d+)\)")


@functools.lru_cache(maxsize=1)
def voices() -> tuple[EspeakVoice, ...]:
    """The voices espeak-ng has here (none when it is not installed); MBROLA voices, which
    need further packages, are left out."""
    exe = executable()
    if not exe:
        return ()
    try:
        listing = subprocess.run([exe, "--voices"], capture_output=True, text=True,
                                 timeout=TIMEOUT_S, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return ()
    found = []
    for line in listing.splitlines()[1:]:
        fields = line.split(maxsplit=5)
        if len(fields) < 5 or fields[4].startswith("mb/"):
            continue
        others = _OTHER.findall(fields[5]) if len(fields) > 5 else []
        found.append(EspeakVoice(fields[1], fields[3].replace("_", " "),
                                 (fields[1], *(code for code, _ in others)),
                                 (int(fields[0]), *(int(p) for _, p in others))))
    return tuple(found)


def voice_languages() -> list[str]:
    """Every language code espeak-ng speaks here."""
    return [code for voice in voices() for code in voice.languages]


def _best_voice(codes: tuple[str, ...]) -> str | None:
    """The voice that speaks the first of `codes` it can, preferring espeak-ng's choice."""
    for code in codes:
        ranked = sorted((priority, voice.name) for voice in voices()
                        for spoken, priority in zip(voice.languages, voice.priorities)
                        if spoken.lower() == code)
        if ranked:
            return ranked[0][1]
    return None


class EspeakEngine:
    """Speaks with `espeak-ng`; the voice is an espeak-ng language name (`en-us`, `de`),
    by default the routine's language."""

    name = "espeak"
    # espeak-ng runs as a process per text, one core each: as many at once as there are cores
    concurrency = cores()
    sample_rate = 22_050

    def __init__(self, voice: str | None = None, speed: float = 1.0, language: str = "en"):
        self.exe = executable()
        if not self.exe:
            raise EngineUnavailable(INSTALL)
        tag = language.replace("_", "-").lower()
        family = language_family(tag)
        names = {voice.name.lower(): voice for voice in voices()}
        if voice:
            chosen = names.get(voice.lower())
            if chosen is None:
                raise InputError(f"unknown espeak-ng voice `{voice}` (list_voices() lists "
                                 "them, as does the voices command)")
            if not any(language_family(code) == family for code in chosen.languages):
                raise LanguageError(f"espeak-ng voice `{chosen.name}` does not speak the "
                                    f"routine's language `{language}`")
            self.voice = chosen.name
        else:
            # `en` alone means American English, as with the bundled piper voice
            self.voice = _best_voice(("en-us",) if tag == "en" else (tag, family))
            if self.voice is None:
                raise LanguageError(f"espeak-ng cannot speak the routine's language "
                                    f"`{language}`")
        self.speed = speed
        self.voice_id = self.voice

    def synthesize(self, text: str) -> np.ndarray:
        """`text` as mono int16 samples at `sample_rate`."""
        wpm = round(WORDS_PER_MINUTE * self.speed)
        try:
            # text on stdin: on the command line a text starting with "-" would be an option
            done = subprocess.run([self.exe, "-v", self.voice, "-s", str(wpm), "--stdout",
                                   "--stdin"], input=text.encode("utf-8"), capture_output=True,
                                  timeout=TIMEOUT_S, check=False)
        except (OSError, subprocess.SubprocessError) as exc:
            raise VoiceError(f"cannot run espeak-ng: {exc}") from None
        if done.returncode != 0:
            message = done.stderr.decode("utf-8", "replace").strip() or "no message"
            raise VoiceError(f"espeak-ng failed to speak {text[:40]!r}: {message}")
        rate, samples = _wav_samples(done.stdout)
        if rate != self.sample_rate:
            raise VoiceError(f"espeak-ng spoke at {rate} Hz; expected {self.sample_rate} Hz")
        if len(samples) == 0:
            raise VoiceError(f"espeak-ng produced no audio for {text[:40]!r}; "
                             "write the text as words")
        return samples


def _wav_samples(data: bytes) -> tuple[int, np.ndarray]:
    """The rate and 16-bit mono samples of the WAV espeak-ng writes to a pipe, whose header
    gives a bogus length (it cannot seek back to fill it in): read to the end instead."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise VoiceError("espeak-ng wrote something other than a WAV file")
    pos, rate = 12, None
    while pos + 8 <= len(data):
        chunk, size = data[pos:pos + 4], struct.unpack("<I", data[pos + 4:pos + 8])[0]
        if chunk == b"fmt ":
            channels, rate, _, _, bits = struct.unpack("<HIIHH", data[pos + 10:pos + 24])
            if (channels, bits) != (1, 16):
                raise VoiceError(f"espeak-ng wrote {channels} channels of {bits} bits; "
                                 "expected 16-bit mono")
        elif chunk == b"data" and rate:
            body = data[pos + 8:]
            return rate, np.frombuffer(body[:len(body) // 2 * 2], dtype="<i2").copy()
        pos += 8 + size
    raise VoiceError("espeak-ng wrote a WAV file without audio")
