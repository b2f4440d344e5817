"""The gTTS engine: Google Translate's voices, online. The only module that uses gTTS.

Each text is one set of HTTP requests to Google. They time out, are retried with backoff
when Google answers 429 (too many requests) or 5xx, and fail with one clear line when the
service cannot be reached. A failure never becomes silence. The cache makes a rebuild
need no network at all.
"""

from __future__ import annotations

import io
import random
import re
import time

import numpy as np

from ..errors import EngineUnavailable, InputError, VoiceError
from ..ffmpeg import decode_bytes

OFFLINE = "gTTS needs internet access; use --engine piper for the offline voice"
TIMEOUT_S = (5.0, 20.0)
"""(connect, read) seconds for each request; gTTS itself would wait for ever."""
RETRIES = 4
"""Further tries after a 429 or 5xx answer, waiting BACKOFF_S, then twice as long each time."""
BACKOFF_S = 1.0
MAX_WAIT_S = 30.0
"""The longest wait a Retry-After header is obeyed for."""
CONCURRENCY = 4
"""Texts requested at once: fast enough, and gentle enough to avoid Google's rate limit."""
SAMPLE_RATE = 24_000
"""Google's MP3s are 24 kHz mono."""
ACCENTS = {"co.uk": ("United Kingdom", "en"), "com.au": ("Australia", "en"),
           "ca": ("Canada", "en fr"), "co.in": ("India", "en"), "ie": ("Ireland", "en"),
           "co.za": ("South Africa", "en"), "com.ng": ("Nigeria", "en"),
           "fr": ("France", "fr"), "com.br": ("Brazil", "pt"), "pt": ("Portugal", "pt"),
           "com.mx": ("Mexico", "es"), "es": ("Spain", "es")}
"""Google domains (`tld`) that give languages a regional accent, as gTTS documents; `com`
(the default) speaks every language."""
_REGION_ACCENTS = {"en-gb": "co.uk", "en-au": "com.au", "en-ca": "ca", "en-in": "co.in",
                   "en-ie": "ie", "en-za": "co.za", "en-ng": "com.ng", "fr-ca": "ca",
                   "pt-br": "com.br", "pt-pt": "pt", "es-mx": "com.mx", "es-es": "es"}
_TLD = re.compile(r"[a-z]{2,3}(?:\.[a-z]{2,3})?")


def languages() -> dict[str, str]:
    """Language codes gTTS speaks, with their names (known without the network)."""
    from gtts.lang import tts_langs

    return dict(tts_langs())


class GttsEngine:
    """Speaks through gTTS. The voice name is the accent's Google domain (`co.uk`), and/or
    `slow` for gTTS's slow reading; `speed` stretches the audio without changing pitch."""

    name = "gtts"
    concurrency = CONCURRENCY
    sample_rate = SAMPLE_RATE

    def __init__(self, voice: str | None = None, speed: float = 1.0, language: str = "en"):
        known = languages()
        tag = language.replace("_", "-")
        self.language = next((code for code in (tag, tag.split("-")[0])
                              if code.lower() in {k.lower() for k in known}), None)
        if self.language is None:
            raise InputError(f"gTTS cannot speak the routine's language `{language}` "
                             f"(it speaks {', '.join(sorted(known))})")
        self.language = next(k for k in known if k.lower() == self.language.lower())
        words = (voice or "").split()
        self.slow = "slow" in words
        tlds = [word for word in words if word != "slow"]
        if len(tlds) > 1 or (tlds and not _TLD.fullmatch(tlds[0])):
            raise InputError(f"unknown gTTS voice `{voice}`: give an accent's Google domain "
                             f"(com, {', '.join(ACCENTS)}) and/or `slow`, e.g. `co.uk slow`")
        self.tld = tlds[0] if tlds else _REGION_ACCENTS.get(tag.lower(), "com")
        self.speed = speed
        self.voice_id = f"{self.language}|{self.tld}|{'slow' if self.slow else 'normal'}"

    def synthesize(self, text: str) -> np.ndarray:
        """`text` as mono int16 samples at `SAMPLE_RATE`, fetched from Google."""
        return decode_bytes(self._fetch(text), SAMPLE_RATE, self.speed,
                            f"decode gTTS's audio for {text[:40]!r}")

    def _fetch(self, text: str) -> bytes:
        from gtts import gTTS, gTTSError

        attempt = 0
        while True:
            buffer = io.BytesIO()  # a failure halfway leaves nothing behind
            try:
                gTTS(text, lang=self.language, tld=self.tld, slow=self.slow, lang_check=False,
                     timeout=TIMEOUT_S).write_to_fp(buffer)
            except gTTSError as exc:
                response = getattr(exc, "rsp", None)
                if response is None:  # no answer at all: no network, DNS, refused, timeout
                    raise EngineUnavailable(_unanswered(exc)) from None
                status = response.status_code
                if (status == 429 or status >= 500) and attempt < RETRIES:
                    time.sleep(_wait(attempt, response.headers.get("Retry-After")))
                    attempt += 1
                    continue
                if status == 429:
                    raise EngineUnavailable(
                        f"gTTS is refusing requests (429 Too Many Requests) after "
                        f"{RETRIES + 1} tries; wait a few minutes, or use --engine piper") \
                        from None
                raise VoiceError(f"gTTS failed to speak {text[:40]!r}: {exc}") from None
            except AssertionError:  # gTTS asserts there are words to speak
                raise VoiceError(f"gTTS cannot speak {text[:40]!r}: write the text as words") \
                    from None
            if not buffer.getvalue():
                raise VoiceError(f"gTTS returned no audio for {text[:40]!r} (Google may have "
                                 "changed its service; try again later or use --engine piper)")
            return buffer.getvalue()


def _unanswered(exc: Exception) -> str:
    """Why a request got no answer, as one line; gTTS keeps the cause on `__context__`."""
    from requests.exceptions import Timeout

    if isinstance(exc.__context__, Timeout):
        return (f"gTTS did not answer within {TIMEOUT_S[1]:g} s; try again later, or use "
                "--engine piper for the offline voice")
    return OFFLINE


def _wait(attempt: int, retry_after: str | None) -> float:
    """Seconds before try `attempt + 2`: what the server asks if reasonable, else
    exponential backoff with jitter, so parallel requests do not retry in step."""
    if retry_after and retry_after.strip().isdigit() and int(retry_after) <= MAX_WAIT_S:
        return float(retry_after)
    return BACKOFF_S * 2 ** attempt * random.uniform(0.75, 1.25)
