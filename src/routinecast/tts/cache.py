"""Disk cache of synthesised speech, keyed by engine, voice, speed, sample rate and text.

An entry is a small file of its own: a magic line, the sample rate, the SHA-256 of its key
and samples, then the samples (16-bit mono, little-endian). Entries are written atomically, so
builds running at once share the cache safely; one that is truncated, bit-flipped or of
another format is treated as missing, synthesised again and replaced.

An entry also keeps the clip's loudness figures (`loudness.Figures`), measured once when it
was made, after the samples and with a checksum of their own: a warm build levels every clip
without measuring it again. An entry without them (written before figures were kept) is
still good: its figures are measured and the entry is written again with them, the samples
as they were. Cue sounds' figures are kept in entries without samples, under a checksum of
the sound and its rate.
"""

from __future__ import annotations

import hashlib
import os
import struct
from pathlib import Path

from typing import TYPE_CHECKING, Callable

from ..cachefolder import mark_used, read_entry
from ..errors import InputError, OutputError, setting
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
_MAGIC_FIGURES = b"routinecast clip and figures\n"
_HEADER_FIGURES = struct.Struct("<I32sQ32s")
"""After that magic line: the sample rate, the digest of the key and the sample bytes, how
many bytes of samples follow, and the SHA-256 of the digest and the figures' bytes, which
follow the samples (figures that do not match are measured again; the clip stays good)."""


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
        entry = self.entry(key, sample_rate)
        return entry[0] if entry else None

    def entry(self, key: str, sample_rate: int) -> tuple[np.ndarray, Figures | None] | None:
        """The clip stored under `key` and its loudness figures (None if the entry has none,
        as entries written before figures were kept, or if they are damaged); None if there
        is no clip or it is damaged."""
        import numpy as np

        path = self._path(key)
        found = read_entry(path)
        if found is None:
            return None
        data, modified = found
        # views, not slices: a long routine's clips are tens of megabytes, copied for nothing
        view = memoryview(data)
        figures = None
        if data.startswith(_MAGIC):  # samples only
            start = len(_MAGIC) + _HEADER.size
            if len(data) <= start or (len(data) - start) % 2:
                return None
            rate, digest = _HEADER.unpack_from(data, len(_MAGIC))
            samples = view[start:]
        elif data.startswith(_MAGIC_FIGURES):
            start = len(_MAGIC_FIGURES) + _HEADER_FIGURES.size
            if len(data) < start:
                return None
            rate, digest, length, check = _HEADER_FIGURES.unpack_from(data, len(_MAGIC_FIGURES))
            if length % 2 or len(data) < start + length:
                return None
            samples, kept = view[start: start + length], view[start + length:]
            if _checksum(digest, kept) == check:
                from ..loudness import Figures

                figures = Figures.from_bytes(bytes(kept))  # not holding on to the samples
        else:
            return None
        if rate != sample_rate or _digest(key, samples) != digest:
            return None
        mark_used(path, modified)
        return np.frombuffer(samples, dtype="<i2").copy(), figures

    def put(self, key: str, samples: np.ndarray, sample_rate: int,
            figures: Figures | None = None) -> None:
        """Store `samples` under `key`, with their loudness `figures` if given, replacing any
        entry there."""
        self._write(self._path(key), self._entry_bytes(key, samples, sample_rate, figures))

    def add(self, key: str, samples: np.ndarray, sample_rate: int,
            figures: Figures) -> tuple[np.ndarray, Figures]:
        """Store a clip just made under `key`, unless another build stored one there since
        this one looked: the first clip stored wins and is returned (with its figures), so
        that every build asking for a text hears the same clip — piper does not say a text
        the same way twice, and builds running side by side (batch) share the cache."""
        data = self._entry_bytes(key, samples, sample_rate, figures)
        if self._write(self._path(key), data, overwrite=False):
            return samples, figures
        entry = self.entry(key, sample_rate)
        if entry is not None and entry[1] is not None:
            return entry  # type: ignore[return-value]
        self._write(self._path(key), data)  # what was there is damaged: ours replaces it
        return samples, figures

    @staticmethod
    def _entry_bytes(key: str, samples: np.ndarray, sample_rate: int,
                     figures: Figures | None) -> bytes:
        data = samples.astype("<i2").tobytes()
        digest = _digest(key, data)
        if figures is None:
            return _MAGIC + _HEADER.pack(sample_rate, digest) + data
        kept = figures.to_bytes()
        return _MAGIC_FIGURES + _HEADER_FIGURES.pack(
            sample_rate, digest, len(data), _checksum(digest, kept)) + data + kept

    def sound_figures(self, samples: np.ndarray, sample_rate: int,
                      measure: Callable[[np.ndarray], Figures]) -> Figures:
        """The figures of a cue sound (a tone, a decoded file) at `sample_rate`, kept in an
        entry without samples under a checksum of its own: measured once per sound and rate."""
        import numpy as np

        key = hashlib.sha256(f"{CLIP_FORMAT}\0sound\0{samples.dtype.str}\0{sample_rate}\0"
                             .encode("ascii") + samples.tobytes()).hexdigest()
        entry = self.entry(key, sample_rate)
        if entry is not None and entry[1] is not None:
            return entry[1]
        figures = measure(samples)
        self.put(key, np.zeros(0, dtype=np.int16), sample_rate, figures)
        return figures

    def _write(self, path: Path, data: bytes, overwrite: bool = True) -> bool:
        """Write `data` as `path`; False if `overwrite` is false and `path` exists (kept)."""
        try:
            # the entry's checksum finds a torn write, and a rename lost in a power cut only
            # means the clip is made again: the folder need not be flushed
            with replacing(path, overwrite=overwrite, sync_folder=False) as temp:
                temp.write_bytes(data)
            return True
        except InputError:  # only raised when `path` exists and is not to be replaced
            return False
        except OutputError as exc:  # its advice is for outputs: this is the cache
            raise OutputError(f"{exc.message.split('; ')[0]}, in the speech cache; set "
                              f"{setting('cache_dir')} or {ENV_VAR} to a writable folder") from None


def _digest(key: str, samples: bytes | memoryview) -> bytes:
    return _checksum(key.encode("ascii"), samples)


def _checksum(head: bytes, body: bytes | memoryview) -> bytes:
    """SHA-256 of `head` and `body` one after the other (not joined: a copy)."""
    digest = hashlib.sha256(head)
    digest.update(body)
    return digest.digest()
