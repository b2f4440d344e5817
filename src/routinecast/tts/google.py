"""The gTTS engine: Google Translate's voices, online. The only module that uses gTTS.

Each text is one set of HTTP requests to Google. They time out, are retried with backoff
when Google answers 429 (too many requests) or 5xx, and fail with one clear line when the
service cannot be reached. A failure never becomes silence. The cache makes a rebuild
need no network at all.
"""

from __future__ import annotations

import io
import random
import threading
import urllib.request

from ..errors import EngineUnavailable, InputError, LanguageError, VoiceError, setting
from ..ffmpeg import decode_bytes
from . import language_family
from ..lazy import lazy_module

np = lazy_module("numpy")  # see lazy.py: loaded when first used

OFFLINE = "gTTS needs internet access; use --engine piper for the offline voice"
TIMEOUT_S = (5.0, 20.0)
"""(connect, read) seconds for each request; gTTS itself would wait for ever."""
RETRIES = 4
"""Further tries after a 429 or 5xx answer, waiting BACKOFF_S, then twice as long each time."""
BACKOFF_S = 1.0
"""The first wait before trying again."""
MAX_WAIT_S = 30.0
"""The longest wait a Retry-After header is obeyed for; Google asking for longer ends the
build rather than stalling it."""
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
_ALIASES = {"he": "iw", "nb": "no", "jv": "jw", "fil": "tl"}
"""Language codes gTTS knows under older names."""
PROBE_URL = "https://translate.google.com/"
"""Asked by `reachable`, to tell whether gTTS can be used right now."""


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
        known = {code.lower(): code for code in languages()}
        tag = language.replace("_", "-").lower()
        family = _ALIASES.get(language_family(tag), language_family(tag))
        code = known.get(tag) or known.get(family)
        if code is None:
            raise LanguageError(f"gTTS cannot speak the routine's language `{language}`")
        self.language = code
        words = (voice or "").split()
        self.slow = "slow" in words
        tlds = [word for word in words if word != "slow"]
        if len(tlds) > 1 or (tlds and tlds[0] != "com" and tlds[0] not in ACCENTS):
            raise InputError(f"unknown gTTS voice `{voice}`: give an accent's Google domain "
                             f"(com, {', '.join(ACCENTS)}) and/or `slow`, e.g. `co.uk slow`")
        self.tld = tlds[0] if tlds else _REGION_ACCENTS.get(tag, "com")
        self.speed = speed
        self.voice_id = f"{self.language}|{self.tld}|{'slow' if self.slow else 'normal'}"
        self._stop = threading.Event()

    def cancel(self) -> None:
        """Stop waiting to retry: another text failed, or the user interrupted."""
        self._stop.set()

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
                if status != 429 and status < 500:
                    raise VoiceError(f"gTTS failed to speak {text[:40]!r} ({status}); Google "
                                     "may have changed its service: update routinecast, or "
                                     f"use {setting('engine')} piper") from None
                wait = _wait(attempt, response.headers.get("Retry-After"))
                if attempt == RETRIES or wait > MAX_WAIT_S:
                    raise EngineUnavailable(
                        f"gTTS is refusing requests ({status} {response.reason}) after "
                        f"{attempt + 1} tries; try again in a few minutes, or use "
                        f"{setting('engine')} piper") from None
                if self._stop.wait(wait):
                    raise VoiceError("gTTS was stopped") from None
                attempt += 1
                continue
            except AssertionError:  # gTTS asserts there are words to speak
                raise VoiceError(f"gTTS cannot speak {text[:40]!r}: write the text as words") \
                    from None
            if not buffer.getvalue():
                raise VoiceError(f"gTTS returned no audio for {text[:40]!r} (Google may have "
                                 f"changed its service; try again later or use "
                                 f"{setting('engine')} piper)")
            return buffer.getvalue()


def reachable() -> str:
    """`yes` if Google's speech service answers at all (through the proxies gTTS would
    use), else why not."""
    import requests

    try:
        requests.head(PROBE_URL, timeout=3, proxies=urllib.request.getproxies())
        return "yes"
    except requests.RequestException:
        return "no: no network (gTTS needs internet access)"


def _unanswered(exc: Exception) -> str:
    """Why a request got no answer, as one line; gTTS keeps the cause on `__context__`."""
    from requests.exceptions import ConnectTimeout, Timeout

    cause = exc.__context__
    if isinstance(cause, Timeout) and not isinstance(cause, ConnectTimeout):
        return (f"gTTS did not answer within {TIMEOUT_S[1]:g} s; try again later, or use "
                "--engine piper for the offline voice")
    return OFFLINE


def _wait(attempt: int, retry_after: str | None) -> float:
    """Seconds before try `attempt + 2`: what the server asks, else exponential backoff
    with jitter, so that parallel requests do not retry in step."""
    if retry_after and retry_after.strip().isdigit():
        return float(retry_after)
    return BACKOFF_S * 2 ** attempt * random.uniform(0.75, 1.25)
