"""Disk cache of synthesised speech, keyed by engine, voice, speed, sample rate and text.

An entry is a small file of its own: a magic line, the sample rate, the SHA-256 of its key
and samples, then the samples (16-bit mono, little-endian). Entries are written atomically, so
builds running at once share the cache safely; one that is truncated, bit-flipped or of
another format is treated as missing, synthesised again and replaced.
"""

from __future__ import annotations

import hashlib
import os
import struct
from pathlib import Path

import numpy as np

from ..errors import OutputError
from ..files import replacing

ENV_VAR = "ROUTINECAST_CACHE"
CLIP_FORMAT = "2"
"""Bumped whenever the processing of clips before caching changes, so old entries are not used."""
_MAGIC = b"routinecast clip\n"
_HEADER = struct.Struct("<I32s")
"""After the magic line: the sample rate, and the SHA-256 digest of the key and the sample
bytes (so that an entry copied under another key is not taken for that key's)."""


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
        return self.directory / key[:2] / f"{key}.clip"

    def get(self, key: str, sample_rate: int) -> np.ndarray | None:
        """The clip stored under `key`, or None if there is none or it is damaged."""
        path = self._path(key)
        try:
            if not path.is_file():  # reading a pipe put there would never end
                return None
            data = path.read_bytes()
        except OSError:
            return None
        start = len(_MAGIC) + _HEADER.size
        if not data.startswith(_MAGIC) or len(data) <= start or (len(data) - start) % 2:
            return None
        rate, digest = _HEADER.unpack_from(data, len(_MAGIC))
        samples = data[start:]
        if rate != sample_rate or _digest(key, samples) != digest:
            return None
        return np.frombuffer(samples, dtype="<i2").copy()

    def put(self, key: str, samples: np.ndarray, sample_rate: int) -> None:
        """Store `samples` under `key`, replacing any entry there."""
        data = samples.astype("<i2").tobytes()
        try:
            with replacing(self._path(key)) as temp:
                temp.write_bytes(_MAGIC + _HEADER.pack(sample_rate, _digest(key, data)) + data)
        except OutputError as exc:  # its advice is for outputs: this is the cache
            raise OutputError(f"{exc.message.split('; ')[0]}, in the speech cache; set "
                              f"--cache-dir or {ENV_VAR} to a writable folder") from None


def _digest(key: str, samples: bytes) -> bytes:
    return hashlib.sha256(key.encode("ascii") + samples).digest()
