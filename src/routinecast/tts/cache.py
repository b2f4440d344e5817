"""Disk cache of synthesised speech, keyed by engine, voice, speed, sample rate and text.

Entries are 16-bit mono WAV files at the track's sample rate, written atomically; an entry
that cannot be read back whole is treated as missing and synthesised again.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import wave
from pathlib import Path

import numpy as np

from ..errors import OutputError

ENV_VAR = "ROUTINECAST_CACHE"
CLIP_FORMAT = "1"
"""Bumped whenever the processing of clips before caching changes, so old entries are not used."""


def default_cache_dir() -> Path:
    """`$ROUTINECAST_CACHE`, else the user's cache directory."""
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR]).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("routinecast")) / "speech"


class ClipCache:
    """Synthesised clips on disk under `directory`."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)

    def key(self, engine: str, voice: str, speed: float, sample_rate: int, text: str) -> str:
        identity = "\0".join([CLIP_FORMAT, engine, voice, f"{speed:.4f}", str(sample_rate), text])
        return hashlib.sha256(identity.encode("utf-8")).hexdigest()

    def _path(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.wav"

    def get(self, key: str, sample_rate: int) -> np.ndarray | None:
        try:
            with wave.open(str(self._path(key)), "rb") as wav:
                if (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) != \
                        (1, 2, sample_rate):
                    return None
                frames = wav.getnframes()
                data = wav.readframes(frames)
        except (OSError, EOFError, wave.Error):
            return None
        if frames == 0 or len(data) != frames * 2:
            return None
        return np.frombuffer(data, dtype="<i2").copy()

    def put(self, key: str, samples: np.ndarray, sample_rate: int) -> None:
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, temp = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
            try:
                with os.fdopen(handle, "wb") as raw, wave.open(raw, "wb") as wav:
                    wav.setnchannels(1)
                    wav.setsampwidth(2)
                    wav.setframerate(sample_rate)
                    wav.writeframes(samples.astype("<i2").tobytes())
                os.replace(temp, path)
            except BaseException:
                Path(temp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise OutputError(f"cannot write to the speech cache {self.directory} "
                              f"({exc.strerror}); set --cache-dir or {ENV_VAR} to a "
                              "writable folder") from None
