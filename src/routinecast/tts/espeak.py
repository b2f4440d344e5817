"""The espeak-ng engine: a tiny, robotic but dependable offline voice in about a hundred
languages, from the system's `espeak-ng` program (a Debian package, not a wheel)."""

from __future__ import annotations

import functools
import shutil
import struct
import subprocess

import numpy as np

from ..errors import EngineUnavailable, InputError, VoiceError

INSTALL = ("espeak-ng is not installed; install it with `sudo apt-get install espeak-ng` "
           "(Debian, Ubuntu) or use --engine piper")
WORDS_PER_MINUTE = 175
"""espeak-ng's natural rate; `speed` scales it."""
MIN_WPM = 80
"""espeak-ng speaks no slower than this."""
TIMEOUT_S = 60


def executable() -> str | None:
    return shutil.which("espeak-ng")


@functools.lru_cache(maxsize=1)
def languages() -> dict[str, str]:
    """Voice (language) names espeak-ng has here, with their descriptions; empty when it
    is not installed."""
    exe = executable()
    if not exe:
        return {}
    try:
        listing = subprocess.run([exe, "--voices"], capture_output=True, text=True,
                                 timeout=TIMEOUT_S, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return {}
    voices = {}
    for line in listing.splitlines()[1:]:
        fields = line.split()
        if len(fields) >= 4:
            voices[fields[1]] = fields[3].replace("_", " ")
    return voices


class EspeakEngine:
    """Speaks with `espeak-ng`; the voice is an espeak-ng language name (`en-us`, `de`),
    by default the routine's language."""

    name = "espeak"
    concurrency = 1
    sample_rate = 22_050

    def __init__(self, voice: str | None = None, speed: float = 1.0, language: str = "en"):
        self.exe = executable()
        if not self.exe:
            raise EngineUnavailable(INSTALL)
        known = languages()
        lowered = {name.lower(): name for name in known}
        tag = language.replace("_", "-").lower()
        if voice:
            if voice.lower() not in lowered:
                raise InputError(f"unknown espeak-ng voice `{voice}` (see `routinecast voices "
                                 "--engine espeak`)")
            self.voice = lowered[voice.lower()]
            if self.voice.split("-")[0].lower() != tag.split("-")[0]:
                raise InputError(f"espeak-ng voice `{self.voice}` does not speak the routine's "
                                 f"language `{language}`")
        else:
            # `en` alone means American English, as with the bundled piper voice
            candidates = (tag, "en-us" if tag == "en" else tag, tag.split("-")[0])
            name = next((lowered[c] for c in candidates if c in lowered), None)
            if name is None:
                raise InputError(f"espeak-ng cannot speak the routine's language `{language}` "
                                 "(see `routinecast voices --engine espeak`)")
            self.voice = name
        self.speed = speed
        self.voice_id = self.voice

    def synthesize(self, text: str) -> np.ndarray:
        """`text` as mono int16 samples at `sample_rate`."""
        wpm = max(MIN_WPM, round(WORDS_PER_MINUTE * self.speed))
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
