"""Reading decoded audio in tests: where sound begins, what counts as silence."""

from __future__ import annotations

import re
import subprocess
import wave

import numpy as np

from routinecast.ffmpeg import ffmpeg_exe
from routinecast.render import sample_index

RATE = 44_100
LOUD = 300
"""Decoded samples above this (about -41 dBFS) are sound; planned silence stays under it."""
ONSET = 40
"""Where a sound is taken to begin: the edge of a clip's first syllable, above MP3 noise."""
TOLERANCE_MS = 10


def onset_ms(pcm: np.ndarray, from_ms: int) -> float:
    """Time of the first sound at or after `from_ms`."""
    start = sample_index(from_ms, RATE)
    loud = np.flatnonzero(np.abs(pcm[start:].astype(np.int32)) > ONSET)
    return (start + loud[0]) * 1000 / RATE


def ebur128(path, dualmono: bool = False) -> tuple[float, float]:
    """(integrated loudness LUFS, true peak dBTP) of an audio file, by ffmpeg's own meter."""
    return _meter(path, dualmono, every_100_ms=False)[:2]


def momentary(path, dualmono: bool = False) -> tuple[float, float, dict[int, float]]:
    """ffmpeg's meter in one pass: integrated loudness, true peak, and the momentary
    loudness (LUFS over 400 ms) every 100 ms as {end of window in ms: loudness}."""
    return _meter(path, dualmono, every_100_ms=True)


def _meter(path, dualmono: bool, every_100_ms: bool):
    meter = f"ebur128=peak=true:dualmono={'true' if dualmono else 'false'}"
    if every_100_ms:
        meter = (f"asetnsamples=n={RATE // 10}:p=0,{meter}:metadata=1,"
                 "ametadata=mode=print:key=lavfi.r128.M")
    done = subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostats", "-loglevel", "repeat+info",
                           "-i", str(path), "-af", meter, "-f", "null", "-"],
                          capture_output=True, text=True, check=True)
    summary = done.stderr[done.stderr.rindex("Summary:"):]
    loudness = float(re.search(r"I:\s+(-?[\d.]+) LUFS", summary).group(1))
    peak = float(re.search(r"Peak:\s+(-?[\d.]+|-inf) dBFS", summary).group(1))
    pairs = re.findall(r"pts_time:([\d.]+)\s*\n.*?lavfi\.r128\.M=(\S+)", done.stderr)
    # the value read at frame k (starting at k·100 ms) covers the window ending with it;
    # silence reads as nan
    windows = {round(float(t) * 1000) + 100: float(m) if m != "nan" else -np.inf
               for t, m in pairs}
    return loudness, peak, windows


def write_wav(path, samples: np.ndarray, rate: int = RATE) -> None:
    """Float samples (mono, or (n, channels)) → a 16-bit WAV file."""
    samples = samples.reshape(len(samples), -1)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(samples.shape[1])
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(np.round(np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())


def largest_joins(pcm: np.ndarray, plan, rate: int = RATE, window_ms: int = 3):
    """For each edge of a sound (speech or tone) in `plan`: the largest sample-to-sample
    jump within `window_ms` of the edge, and the largest inside the sound away from it."""
    mono = pcm.reshape(len(pcm), -1).astype(np.int32).mean(axis=1)
    jumps = np.abs(np.diff(mono))
    window = window_ms * rate // 1000
    found = []
    for segment in plan.segments:
        if segment.kind == "silence" or segment.duration_ms < 40:
            continue
        start, end = sample_index(segment.start_ms, rate), sample_index(segment.end_ms, rate)
        inside = jumps[start + 4 * window: end - 4 * window].max(initial=0)
        for edge in (start, end):
            found.append((segment, float(jumps[max(edge - window, 0): edge + window].max()),
                          float(inside)))
    return found
