"""Disk cache of synthesised speech, keyed by engine, voice, speed, sample rate and text.

An entry is a small file of its own: a magic line, the sample rate, the SHA-256 of its key
and samples, then the samples (16-bit mono, little-endian). Entries are written atomically, so
builds running at once share the cache safely; one that is truncated, bit-flipped or of
another format is treated as missing, synthesised again and replaced.

Beside each clip, `KEY.fig` keeps the clip's loudness figures (`loudness.Figures`), measured
once when it was made, with the checksum of the clip they belong to: a warm build levels
every clip without measuring it again. Cue sounds' figures are kept under `sounds/`, by a
checksum of their samples and rate.
"""

from __future__ import annotations

import hashlib
import os
import struct
from pathlib import Path

from typing import TYPE_CHECKING, Callable

from ..errors import OutputError
from ..files import replacing

if TYPE_CHECKING:  # numpy is imported when a clip is read: finding the folder needs none
    import numpy as np

    from ..loudness import Figures

ENV_VAR = "ROUTINECAST_CACHE"
CLIP_FORMAT = "2"
"""Bumped whenever the processing of clips before caching changes, so old entries are not used."""
_MAGIC = b"routinecast clip\n"
_HEADER = struct.Struct("<I32s")
"""After the magic line: the sample rate, and the SHA-256 digest of the key and the sample
bytes (so that an entry copied under another key is not taken for that key's)."""
_FIGURES_MAGIC = b"routinecast figures\n"
_FIGURES_HEADER = struct.Struct("<32s32s")
"""After the magic line: the digest of the clip the figures belong to, and the SHA-256 of
that digest and the figures' bytes."""


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
        folder, _, name = key.rpartition("/")
        return self.directory / folder / name[:2] / f"{name}.clip"

    def get(self, key: str, sample_rate: int) -> np.ndarray | None:
        """The clip stored under `key`, or None if there is none or it is damaged."""
        entry = self.entry(key, sample_rate)
        return entry[0] if entry else None

    def entry(self, key: str, sample_rate: int) -> tuple[np.ndarray, bytes] | None:
        """The clip stored under `key` and its digest (what its figures are filed by), or
        None if there is none or it is damaged."""
        import numpy as np

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
        return np.frombuffer(samples, dtype="<i2").copy(), digest

    def put(self, key: str, samples: np.ndarray, sample_rate: int) -> bytes:
        """Store `samples` under `key`, replacing any entry there; returns its digest."""
        data = samples.astype("<i2").tobytes()
        digest = _digest(key, data)
        self._write(self._path(key), _MAGIC + _HEADER.pack(sample_rate, digest) + data)
        return digest

    def figures(self, key: str, digest: bytes) -> Figures | None:
        """The figures kept for the clip under `key` whose digest is `digest`, or None if
        there are none, they are damaged, or they are of another clip or format."""
        from ..loudness import Figures

        path = self._path(key).with_suffix(".fig")
        try:
            if not path.is_file():
                return None
            data = path.read_bytes()
        except OSError:
            return None
        start = len(_FIGURES_MAGIC) + _FIGURES_HEADER.size
        if not data.startswith(_FIGURES_MAGIC) or len(data) < start:
            return None
        owner, check = _FIGURES_HEADER.unpack_from(data, len(_FIGURES_MAGIC))
        body = data[start:]
        if owner != digest or hashlib.sha256(owner + body).digest() != check:
            return None
        return Figures.from_bytes(body)

    def put_figures(self, key: str, digest: bytes, figures: Figures) -> None:
        """Keep `figures` for the clip under `key` whose digest is `digest`."""
        body = figures.to_bytes()
        self._write(self._path(key).with_suffix(".fig"), _FIGURES_MAGIC + _FIGURES_HEADER.pack(
            digest, hashlib.sha256(digest + body).digest()) + body)

    def clip_figures(self, key: str, digest: bytes, samples: np.ndarray,
                     measure: Callable[[np.ndarray], Figures]) -> Figures:
        """The kept figures of a clip, or `measure(samples)`, kept for the next build."""
        figures = self.figures(key, digest)
        if figures is None:
            figures = measure(samples)
            self.put_figures(key, digest, figures)
        return figures

    def sound_figures(self, samples: np.ndarray, sample_rate: int,
                      measure: Callable[[np.ndarray], Figures]) -> Figures:
        """The figures of a cue sound (a tone, a decoded file) at `sample_rate`, kept by a
        checksum of its samples: measured once per sound and rate."""
        data = samples.tobytes()
        digest = hashlib.sha256(f"{CLIP_FORMAT}\0{samples.dtype.str}\0{sample_rate}\0"
                                .encode("ascii") + data).digest()
        key = "sounds/" + digest.hex()
        return self.clip_figures(key, digest, samples, measure)

    def _write(self, path: Path, data: bytes) -> None:
        try:
            with replacing(path) as temp:
                temp.write_bytes(data)
        except OutputError as exc:  # its advice is for outputs: this is the cache
            raise OutputError(f"{exc.message.split('; ')[0]}, in the speech cache; set "
                              f"--cache-dir or {ENV_VAR} to a writable folder") from None


def _digest(key: str, samples: bytes) -> bytes:
    return hashlib.sha256(key.encode("ascii") + samples).digest()
