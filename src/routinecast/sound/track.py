"""The track calibrated as a whole: how it must sound (`SoundSettings`), the speech level that
meets the loudness target, and the check of that level against the meter.

The loudness of the mix at any speech level is computed from each clip's figures and each
music file's energy (no probe, nothing filtered or rendered): `Track.calibrate` moves speech
and music together onto the target and returns a `Calibrated` track, the one thing that
can be streamed. Its `blocks` are metered on the way to the encoder; `corrected` says,
after the stream, whether the meter read the level that was predicted, and if not gives
the track at the level corrected by the difference, to be encoded again.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator, Mapping

from ..errors import InputError, setting
from ..lazy import lazy_module
from ..loudness import DUAL_MONO, SILENT, Figures, StepMeter, gated
from ..models import Plan
from ..render import sample_index
from .levelling import Booking, Effect, Levelled
from .mixing import mix
from .music import MusicBed, MusicFiles, playlist

np = lazy_module("numpy")  # see lazy.py: loaded when first used

LOUDNESS_RANGE = (-30.0, -12.0)
"""Loudness targets accepted, in LUFS."""
ENCODER_MARGIN_DB = 0.5
"""Clips are limited this far under the true-peak target: MP3 encoding adds overshoot."""
MIX_MARGIN_DB = 1.5
"""With music, the mix is limited this far under the true-peak target: percussive music
gains up to about a decibel of overshoot in a 128 kbit/s encoder."""
PEAK_SLACK_DB = 0.5
"""When an encoded track with music reads over the true-peak target (the noise of coding
sharp hits under speech can add 2 dB to the speech's peaks), it is limited again that
much further under than it read over, and encoded again (`Calibrated.peak_corrected`)."""
QUIETER_SLACK_DB = 0.2
"""A track made quieter for its true peak (`Calibrated.quieter`) goes this much further
down than it read over: scaled, its coded peaks mostly come down with it (not so when it
is limited further, hence `PEAK_SLACK_DB` there), and every tenth of a decibel more is
loudness lost; one that still reads over is made quieter once more (`MAX_QUIETER`)."""
MAX_PEAK_CORRECTIONS = 2
"""Encodes redone at most for the true peak: the coding noise does not fall as fast as the
limiter's ceiling, so one correction may leave a track a tenth of a decibel over."""
MIN_MUSIC_DUCK_DB = 10.0
"""The music stays at least this far under the speech while speech plays."""
MAX_MISS_LU = 0.9
"""A track further than this from its loudness target is refused rather than written."""
CALIBRATION_ROUNDS = 8
"""Most corrections of the speech level towards the target (each a cheap computation)."""
ENCODER_DB = -0.44
"""What MP3 encoding changes the loudness of the levelled speech by, in LU: LAME takes a
few tenths of a dB off (measured by encoding and decoding each content routine: -0.433 to
-0.448 at 64, 96 and 160 kbit/s mono and 128 kbit/s stereo), so the mix is made that much
louder than the target."""
CHECK_LU = 0.1
"""The meter over the encoded stream may read this far off the level predicted from the
clips' figures before the level is corrected and the track encoded again."""
MAX_CORRECTIONS = 1
"""Encodes redone at most; one correction by what the meter read lands on the target."""


@dataclass(frozen=True)
class SoundSettings:
    """How the finished track sounds."""

    loudness_lufs: float = -16.0
    """Integrated loudness as a listener on two speakers hears it: for a mono file, measured
    with BS.1770's dual-mono rule (the plain measurement then reads 3 LU lower)."""
    true_peak_db: float = -1.0
    """Highest true peak allowed, in dBTP."""
    music: tuple[Path, ...] = ()
    """Music bed: audio files, played in order and looped; empty for none."""
    music_level_lu: float = -18.0
    """Level of the music bed, between cues, relative to the speech."""
    duck_db: float = 12.0
    """How far the music dips under speech and cue sounds."""
    stereo: bool | None = None
    """Two channels (music in stereo, voice centred) or one; None: stereo with music."""

    @property
    def channels(self) -> int:
        return 2 if self.stereo or (self.stereo is None and self.music) else 1


@dataclass(frozen=True)
class Measured:
    """What the meter read on the mix that was encoded."""

    loudness_lufs: float
    """Integrated loudness, as `SoundSettings.loudness_lufs` defines it, of the mix (computed
    from its clips' and music's energy) with the encoder's measured effect added."""
    true_peak_db: float
    """Highest true peak of the voice and cue sounds, before encoding (with music, the mix
    is limited to the same ceiling)."""


class Track:
    """A plan's sound before its level is set: its clips and cue sounds (levelled to any
    speech level when asked) and its music, and what the meter will read of their mix at a
    given speech level (`loudness`). `calibrate` gives the track at the level that meets
    the target. What is kept between calls only saves work: no call depends on another
    having been made first."""

    def __init__(self, plan: Plan, clips: Mapping[str, np.ndarray],
                 sounds: Mapping[str, np.ndarray], rate: int, settings: SoundSettings,
                 figures: Mapping[str, Figures] | None = None,
                 sound_figures: Mapping[str, Figures] | None = None,
                 margin_db: float | None = None, peak_corrections: int = 0,
                 decoded_music: MusicFiles | None = None, effects: Iterable[Effect] = ()):
        self.plan, self.rate, self.settings = plan, rate, settings
        self.channels = settings.channels
        self._made_of = (plan, clips, sounds, rate, settings, figures, sound_figures)
        self.margin_db = margin_db if margin_db is not None else (
            MIX_MARGIN_DB if settings.music else ENCODER_MARGIN_DB)
        """How far under the true-peak target the clips and the mix are limited."""
        self.ceiling = settings.true_peak_db - self.margin_db
        self.peak_corrections = peak_corrections
        """How often the encoded file read over the true-peak target and this track was
        limited further (`Calibrated.peak_corrected`)."""
        if settings.music and settings.duck_db - settings.music_level_lu < MIN_MUSIC_DUCK_DB:
            raise InputError(
                f"{setting('music_level')} {settings.music_level_lu:g} with {setting('duck')} "
                f"{settings.duck_db:g} "
                f"would leave the music {settings.duck_db - settings.music_level_lu:g} dB under "
                f"the speech; keep it at least {MIN_MUSIC_DUCK_DB:g} dB under (the defaults, "
                "-18 and 12, leave 30)")
        self.levels = Levelled(clips, sounds, rate, self.ceiling, figures, sound_figures)
        # what BS.1770 must read on this file for listeners to hear the target
        self.target = settings.loudness_lufs - (DUAL_MONO if self.channels == 1 else 0.0)
        self.music_files = playlist(settings.music) if settings.music else ()
        self._booking: Booking | None = None
        self._music: MusicFiles | None = decoded_music
        # the bed's energy is estimated once, at the first speech level asked for, and
        # scaled to the others: the music is set against the speech
        self._music_steps: np.ndarray | None = None
        self._music_reference = 0.0
        self._last: tuple[float, float, Effect] | None = None
        # what levelling does at each speech level, worked out once (or by an earlier build
        # of the same track: `effects`, those under this track's ceiling)
        self._effects = {effect.lufs: effect for effect in effects
                         if effect.ceiling_db == self.ceiling}

    def loudness(self, speech_lufs: float) -> tuple[float, Effect]:
        """Loudness as BS.1770 reads this file with the speech levelled to `speech_lufs`,
        from the K-weighted energy of every 100 ms: the voice's from its clips' figures, the
        music's from its files' (`MusicBed.estimated_steps`), added (the two are unrelated);
        and what levelling the speech to `speech_lufs` does."""
        if self._last is not None and self._last[0] == speech_lufs:
            return self._last[1:]  # the level the calibration ended on: not worked out again
        if self._booking is None:
            self._booking = Booking(self.plan, self.levels, self.rate)
        effect = self._effects.get(speech_lufs)
        if effect is None:
            effect = self._effects[speech_lufs] = self.levels.effect(speech_lufs)
        # a centred voice is in both channels of a stereo file
        steps = self._booking.at(effect) * self.channels
        if self.music_files:
            if self._music_steps is None:
                self._music_reference = effect.speech_lufs
                self._music_steps = self._bed(effect.speech_lufs).estimated_steps(self.channels)
            scale = 10 ** ((effect.speech_lufs - self._music_reference) / 10)
            count = min(len(steps), len(self._music_steps))
            steps[:count] += self._music_steps[:count] * scale
        level = gated(steps, self.rate // 10, sample_index(self.plan.duration_ms, self.rate))
        self._last = (speech_lufs, level, effect)
        return level, effect

    @property
    def effects(self) -> tuple[Effect, ...]:
        """What levelling does at each speech level worked out so far: for a later build of
        the same track to be given, and not work out again."""
        return tuple(self._effects.values())

    def calibrate(self, start: float | None = None) -> Calibrated:
        """The track with speech and music moved together onto the loudness target, allowing
        for what MP3 encoding takes off the level (`ENCODER_DB`). A target the limiter
        cannot reach without crushing the speech is an error.

        The search starts at `start` if given: the level an earlier calibration of the same
        track ended on, where it ends at once (each round works out the whole mix)."""
        # the voice is centred: in stereo each channel carries it, so it reads as dual mono
        speech_lufs = self.settings.loudness_lufs - DUAL_MONO if start is None else start
        # the mix is made louder by what the encoder will take off; the limiter makes
        # loudness grow slower than gain: step by the slope seen so far
        wanted = self.target - ENCODER_DB
        slope, last = 1.0, None
        for _ in range(CALIBRATION_ROUNDS):
            level, _ = self.loudness(speech_lufs)
            if level <= SILENT or abs(wanted - level) < 0.05:
                break
            if last is not None and speech_lufs != last[0]:
                slope = min(1.0, max(0.2, (level - last[1]) / (speech_lufs - last[0])))
            last = (speech_lufs, level)
            speech_lufs += (wanted - level) / slope
        return self._at(speech_lufs, 0)

    def _at(self, speech_lufs: float, corrections: int, reach: bool = True) -> Calibrated:
        """The track with the clips levelled at `speech_lufs` and what the meter will read
        of the mix predicted; a target the limiter keeps out of reach is refused (unless
        not `reach`: the level was lowered for the true peak, which comes first)."""
        predicted, effect = self.loudness(speech_lufs)
        measured = self._measured(predicted, effect)
        listened = measured.loudness_lufs
        wanted = self.settings.loudness_lufs
        if reach and predicted > SILENT and abs(listened - wanted) > MAX_MISS_LU:
            raise InputError(f"loudness {wanted:g} LUFS is out of reach: with true peaks under "
                             f"{self.settings.true_peak_db:g} dBTP this track gets to "
                             f"{listened:.1f} LUFS; choose a quieter {setting('loudness')}")
        return Calibrated(speech_lufs, predicted, measured, self.channels, corrections, effect,
                          self)

    def _under(self, further_db: float, peak_corrections: int) -> Track:
        """This track with its clips and mix limited `further_db` further under the
        true-peak target (its music decoded once, for both)."""
        return Track(*self._made_of, margin_db=self.margin_db + further_db,
                     peak_corrections=peak_corrections, decoded_music=self._music)

    def _measured(self, level: float, effect: Effect) -> Measured:
        """What a listener hears of the file if BS.1770 reads `level` on the mix."""
        listened = level + (DUAL_MONO if self.channels == 1 else 0.0) + ENCODER_DB
        return Measured(round(float(listened), 2), round(float(effect.peak_db), 2))

    def _bed(self, speech_lufs: float) -> MusicBed | None:
        """The music under speech whose loudness, as limited, is `speech_lufs`."""
        if not self.music_files:
            return None
        if self._music is None:  # decoded once, for the estimate and every stream
            self._music = MusicFiles(self.rate)
        return MusicBed(self.music_files, self.plan, self.rate,
                        speech_lufs + self.settings.music_level_lu, self.settings.duck_db,
                        self.ceiling, self._music)

    def _mixed(self, calibrated: Calibrated) -> Iterator[np.ndarray]:
        """The mix at `calibrated`'s level, as int16 blocks."""
        levels = self.levels.at(calibrated.speech_lufs, calibrated.effect, self._recurring())
        yield from mix(self.plan, levels, self.rate, self.channels,
                       self._bed(levels.speech_lufs), self.ceiling)

    def _recurring(self) -> set[str]:
        """The texts said more than once: those worth keeping levelled once used."""
        said = Counter(s.text for s in self.plan.segments if s.kind == "speech")
        return {text for text, count in said.items() if count > 1}


@dataclass(frozen=True)
class Calibrated:
    """A track at the speech level that meets the loudness target. Only `Track.calibrate`
    (and `corrected`) make one, so whatever is streamed has been calibrated."""

    speech_lufs: float
    """Loudness the speech clips are levelled to (the limiter may leave them a little under)."""
    predicted: float
    """What the meter should read, by BS.1770 as the file, on the mix `blocks` streams."""
    measured: Measured
    """What the file will measure, as predicted from the figures (`read` gives it from
    what the meter read of a stream)."""
    channels: int
    """Channels of the mix: 2 with the voice centred, or 1."""
    corrections: int
    """How often a stream was read off its prediction and the level corrected."""
    effect: Effect = field(repr=False, compare=False)
    """What levelling the speech to `speech_lufs` does, kept for the stream (which would
    otherwise work it out again)."""
    track: Track = field(repr=False, compare=False)
    """What the mix is made of."""

    def blocks(self) -> Metered:
        """The mix at this level, as int16 blocks, metered as they stream."""
        return Metered(self.track._mixed(self), StepMeter(self.track.rate, self.channels))

    def corrected(self, heard: float) -> Calibrated | None:
        """Once `blocks` has been streamed whole and the meter read `heard` of it: None if
        that is within `CHECK_LU` of `predicted` (or the meter read nothing, or the level was
        corrected `MAX_CORRECTIONS` times already), and the stream stands; otherwise the
        track with its level corrected by the difference, which must be encoded again. A
        corrected level that puts the target out of reach is an error, as in `calibrate`,
        unless the track was limited further for its true peak: the file encoded stands."""
        if heard <= SILENT or abs(heard - self.predicted) <= CHECK_LU \
                or self.corrections >= MAX_CORRECTIONS:
            return None
        try:
            return self.track._at(self.speech_lufs + (self.predicted - heard),
                                  self.corrections + 1)
        except InputError:
            if not self.track.peak_corrections:
                raise
            return None

    def peak_corrected(self, encoded_peak_db: float, heard: float) -> Calibrated | None:
        """Once encoded and read back: the track limited further under the true-peak target
        if the file read `encoded_peak_db` over it, at the level that meets the loudness
        target as this stream's meter (`heard`) showed it, to be encoded again. Its loudness
        is corrected no more often than the track's was: raised again, the speech would
        bring the peaks back (the true peak comes first; a heavy bed may leave the file
        under the loudness target). None if it is under, was limited further
        `MAX_PEAK_CORRECTIONS` times, or would be out of loudness reach limited further:
        the file stands."""
        track = self.track
        over = encoded_peak_db - track.settings.true_peak_db
        if over <= 0 or track.peak_corrections >= MAX_PEAK_CORRECTIONS:
            return None
        lower = track._under(over + PEAK_SLACK_DB, track.peak_corrections + 1)
        # what the meter read off the prediction holds for the track limited further
        missed = self.predicted - heard if heard > SILENT else 0.0
        try:
            found = lower.calibrate(start=self.speech_lufs)
            return lower._at(found.speech_lufs + missed, self.corrections)
        except InputError:
            return None

    def quieter(self, encoded_peak_db: float) -> Calibrated | None:
        """Once encoded and read back over the true-peak target by more than limiting
        further can take off (limited further, a hard-clipped hit reads higher still: the
        flatter its top, the worse it codes): the same mix made quieter as a whole by as
        much as it read over, and `QUIETER_SLACK_DB`, to be encoded again. Its level and its
        limiter's ceiling go down together, so the limiter does what it did and the mix is
        only scaled: the coded peaks come down with it, and the loudness gives way to the
        true peak, however far (the build says what the file measures). None if the file is
        under the target."""
        track = self.track
        over = encoded_peak_db - track.settings.true_peak_db
        if over <= 0:
            return None
        down = over + QUIETER_SLACK_DB
        lower = track._under(down, track.peak_corrections)
        return lower._at(self.speech_lufs - down, self.corrections, reach=False)

    def read(self, heard: float) -> Measured:
        """What the file measures, from what the meter read of its stream (`heard`), or as
        predicted if it read nothing."""
        return self.track._measured(heard if heard > SILENT else self.predicted, self.effect)


class Metered:
    """One stream of a calibrated mix, as int16 blocks, metered on the way: once it has run
    whole, `heard` is what the meter read of it (see `Calibrated.corrected`)."""

    def __init__(self, blocks: Iterator[np.ndarray], meter: StepMeter):
        self._blocks, self._meter = blocks, meter

    def __iter__(self) -> Metered:
        return self

    def __next__(self) -> np.ndarray:
        block = next(self._blocks)
        self._meter.add(block)
        return block

    @property
    def heard(self) -> float:
        """Integrated loudness, by BS.1770 as the file, of what has streamed so far."""
        return self._meter.integrated()
