"""The sound of the track, one job to a module:

- `cues.py`: the cue sounds, built-in tones or the routine's own files, checked;
- `levelling.py`: every clip and cue sound brought to its loudness, with soft edges and
  under the true-peak ceiling, from figures measured once per clip;
- `music.py`: the music bed, looped, faded and ducked under everything spoken or sounded;
- `mixing.py`: the mix of voice, cue sounds and bed, held under the ceiling;
- `track.py`: the settings, and the track calibrated as a whole to the loudness target and
  checked against the meter as it streams to the encoder.

What the rest of routinecast uses is named here.
"""

from .cues import cue_sounds, sound_files, sound_lengths
from .levelling import Effect, clip_figures
from .music import check_music, playlist
from .track import LOUDNESS_RANGE, Calibrated, Measured, Metered, SoundSettings, Track

__all__ = ["LOUDNESS_RANGE", "Calibrated", "Effect", "Measured", "Metered", "SoundSettings",
           "Track", "check_music", "clip_figures", "cue_sounds", "playlist", "sound_files",
           "sound_lengths"]
