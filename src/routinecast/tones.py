"""Cue tones, generated: short bell-like sounds with soft edges, so that joins never click."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from .plan import TONE_MS

LEVEL = 0.35
"""Peak level of a tone, about 9 dB under full scale: clearly heard, under the speech."""
FADE_MS = 5
"""Fade at each edge of a tone."""

# (frequency Hz, start within the tone in ms, relative amplitude) per note
_NOTES = {
    "end": [(880.0, 0, 1.0)],
    "switch": [(660.0, 0, 0.9), (990.0, 220, 1.0)],
    "count": [(1320.0, 0, 1.0)],
    "halfway": [(784.0, 0, 1.0), (784.0, 180, 0.8)],
}


@lru_cache(maxsize=None)
def tone(name: str, sample_rate: int) -> np.ndarray:
    """The int16 samples of cue `name`, exactly `TONE_MS[name]` long at `sample_rate`."""
    length = TONE_MS[name] * sample_rate // 1000
    t = np.arange(length) / sample_rate
    wave = np.zeros(length)
    for frequency, start_ms, amplitude in _NOTES[name]:
        local = t - start_ms / 1000
        on = local >= 0
        # a struck bell: fundamental plus a fainter, faster-decaying upper partial
        decay = np.exp(-local[on] * 9.0)
        wave[on] += amplitude * decay * (np.sin(2 * np.pi * frequency * local[on])
                                         + 0.3 * np.exp(-local[on] * 12.0)
                                         * np.sin(2 * np.pi * frequency * 2.76 * local[on]))
    wave *= LEVEL / max(np.max(np.abs(wave)), 1e-9)
    fade = min(FADE_MS * sample_rate // 1000, length // 2)
    ramp = np.linspace(0.0, 1.0, fade, endpoint=False)
    wave[:fade] *= ramp
    wave[length - fade:] *= ramp[::-1]
    return np.round(wave * 32767).astype(np.int16)
