"""The built-in cue tones: a designed set of short bell-like sounds, each with its own pitch
and pattern so that the ear tells them apart without thinking.

start: a rising pair (D5, F#5), "go"; end: one A5 bell, "done"; switch: a wider rising pair
(E5, B5), "other side"; count: a short high tick (E6); halfway: two strikes of G5.
"""

from __future__ import annotations

from functools import lru_cache

from .plan import TONE_MS
from .lazy import lazy_module

np = lazy_module("numpy")  # see lazy.py: loaded when first used

# (frequency Hz, start within the tone in ms, relative amplitude) per note
_NOTES = {
    "start": [(587.33, 0, 0.9), (739.99, 120, 1.0)],
    "end": [(880.0, 0, 1.0)],
    "switch": [(659.26, 0, 0.9), (987.77, 220, 1.0)],
    "count": [(1318.5, 0, 1.0)],
    "halfway": [(783.99, 0, 1.0), (783.99, 180, 0.8)],
}


@lru_cache(maxsize=None)
def tone(name: str, sample_rate: int) -> np.ndarray:
    """Cue `name` as float samples peaking at 1.0, exactly `TONE_MS[name]` long at
    `sample_rate`; sound/levelling.py sets its level and softens its edges."""
    length = TONE_MS[name] * sample_rate // 1000
    t = np.arange(length) / sample_rate
    wave = np.zeros(length)
    for frequency, start_ms, amplitude in _NOTES[name]:
        local = t[t >= start_ms / 1000] - start_ms / 1000
        # a struck bell: the fundamental and two inharmonic partials, the higher ones
        # fainter and dying faster
        wave[len(t) - len(local):] += amplitude * np.exp(-local * 9.0) * (
            np.sin(2 * np.pi * frequency * local)
            + 0.35 * np.exp(-local * 10.0) * np.sin(2 * np.pi * frequency * 2.76 * local)
            + 0.15 * np.exp(-local * 20.0) * np.sin(2 * np.pi * frequency * 5.40 * local))
    wave /= max(float(np.max(np.abs(wave))), 1e-9)
    wave.flags.writeable = False  # shared by every caller through the cache
    return wave
