"""The builder: routine files → narrated, chaptered MP3s, written atomically.

routine file → Routine → speech clips → Plan → PCM stream → MP3 (temp file) → tags → rename.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np

from . import __version__
from .errors import InputError, OutputError, OverrideError, RoutineError
from .files import replacing
from .ffmpeg import encode_mp3, exact_length_ms
from .models import Plan, Routine
from .overrides import Customised, Overrides, customise
from .plan import lengthen, make_plan, spoken_texts
from .render import total_samples
from .sound import (Measured, SoundSettings, Track, check_music, cue_sounds, playlist,
                    sound_lengths)
from .routine import load_routine
from .tagging import write_tags
from .tts import open_engine, synthesize_all
from .tts.cache import ClipCache, default_cache_dir

Progress = Callable[[str, int, int], None]
"""Called as progress(stage, done, total) while a long step runs; stage names the step."""

MIN_BITRATE, MAX_BITRATE = 32, 320
SAMPLE_RATES = (22_050, 24_000, 32_000, 44_100, 48_000)
CHECK_RATE = 44_100
"""Rate at which cue sound files are decoded to check them before building: the usual
track rate, so that a very short sound is judged as it will be heard."""


@dataclass(frozen=True)
class BuildSettings:
    """How routines are turned into audio (not what they contain)."""

    sample_rate: int = 44_100
    """Sample rate of the whole track, in Hz."""
    bitrate_kbps: int | None = None
    """Constant bitrate of the MP3, in kbit/s; None: 96 for mono, 128 for stereo."""
    sound: SoundSettings = SoundSettings()
    """Loudness, music bed and channels."""
    cache_dir: Path | None = None
    """Speech cache folder; None means `$ROUTINECAST_CACHE` or the user's cache directory."""

    def cache(self) -> ClipCache:
        return ClipCache(self.cache_dir or default_cache_dir())

    @property
    def bitrate(self) -> int:
        return self.bitrate_kbps or (96 if self.sound.channels == 1 else 128)


@dataclass(frozen=True)
class Prepared:
    """A routine with its speech synthesised and its plan made: everything but the audio."""

    routine: Routine
    """The validated routine."""
    plan: Plan
    """Its timeline, made from the real clip lengths."""
    clips: dict[str, np.ndarray]
    """Each spoken text's samples at the settings' sample rate, as the voice made them."""
    sounds: dict[str, np.ndarray]
    """Each cue sound in use, as float samples at the settings' sample rate."""


@dataclass(frozen=True)
class Built:
    """One MP3 written."""

    path: Path
    """Where the MP3 now is."""
    plan: Plan
    """The plan it was built from, which its audio and chapters match."""
    measured: Measured
    """Its loudness and true peak as mixed."""


def prepare(routine: Routine, settings: BuildSettings = BuildSettings(),
            progress: Progress | None = None) -> Prepared:
    """Synthesise (or take from the cache) everything `routine` says, then plan it."""
    engine = open_engine(routine.voice, routine.language)
    report = (lambda done, total: progress("synthesising", done, total)) if progress else None
    clips = synthesize_all(spoken_texts(routine), engine, settings.cache(), settings.sample_rate,
                           report)
    rate = settings.sample_rate
    sounds = cue_sounds(routine, rate)
    plan = make_plan(routine, lambda text: -(-len(clips[text]) * 1000 // rate),
                     sound_lengths(sounds, rate))
    return Prepared(routine, lengthen(plan, exact_length_ms(plan.duration_ms, rate)), clips,
                    sounds)


def output_path(customised: Customised, output: str | Path) -> Path:
    """`content/low-back.yaml` → `OUTPUT/low-back.mp3`, or `OUTPUT/low-back-me-x1.5.mp3` for
    a variant; `output` itself when it names an `.mp3` file."""
    output = Path(output)
    if output.suffix.lower() == ".mp3":
        return output
    stem = Path(customised.routine.path).stem
    return output / (f"{stem}-{customised.variant}.mp3" if customised.variant else f"{stem}.mp3")


def write_mp3(prepared: Prepared, path: Path, settings: BuildSettings = BuildSettings(),
              progress: Progress | None = None) -> Built:
    """Encode, tag and move the MP3 into place at `path`; on any failure `path` is untouched."""
    path = Path(path)
    rate = settings.sample_rate
    total = total_samples(prepared.plan, rate)
    report = (lambda done: progress("encoding", done, total)) if progress else None

    track = Track(prepared.plan, prepared.clips, prepared.sounds, rate, settings.sound)
    track.calibrate(settings.bitrate)
    with replacing(path) as temp:
        encode_mp3(track.blocks(), temp, rate, settings.bitrate, total, report,
                   name=path.name, channels=track.channels)
        write_tags(temp, prepared.routine, prepared.plan, f"routinecast {__version__}")
    return Built(path, prepared.plan, track.measured)


def load_all(paths: Iterable[str | Path], layers: Sequence[Overrides] = ()) -> list[Customised]:
    """Load and validate every routine, apply the overrides and check the voice, before
    anything is built, so that a mistake in any of them writes nothing."""
    loaded = []
    for path in paths:
        customised = customise(load_routine(path), layers)
        routine = customised.routine
        cue_sounds(routine, CHECK_RATE)  # a sound file that cannot be used fails here
        try:
            open_engine(routine.voice, routine.language)
        except InputError as exc:
            # blame the override that chose the voice, if one did, else the routine file
            for layer in reversed(layers):
                key = next((key for key in ("voice", "engine") if getattr(layer, key)), None)
                if key:
                    name, where, line = layer.blame(key)
                    raise OverrideError(f"{name} {getattr(layer, key)}: {exc.message}", where,
                                        line) from None
            raise RoutineError(exc.message, routine.path) from None
        loaded.append(customised)
    return loaded


def build(paths: Sequence[str | Path], output: str | Path = "output",
          settings: BuildSettings = BuildSettings(), layers: Sequence[Overrides] = (),
          progress: Progress | None = None,
          on_built: Callable[[Built], None] | None = None,
          on_note: Callable[[str], None] | None = None) -> list[Built]:
    """Build each routine file, customised by `layers`, into `output` (a folder, or an `.mp3`
    file name for a single routine); see `output_path`. Notes about profile settings that do
    not apply go to `on_note`."""
    loaded = load_all(paths, layers)
    if settings.sound.music:
        check_music(playlist(settings.sound.music), settings.sample_rate)
    if Path(output).suffix.lower() == ".mp3" and len(loaded) > 1:
        raise InputError(f"{output} names one file, but {len(loaded)} routines were given; "
                         "give a folder instead")
    targets: dict[Path, str] = {}
    for customised in loaded:
        target = output_path(customised, output)
        if target in targets:
            raise OutputError(f"{customised.routine.path} and {targets[target]} would both be "
                              f"written to {target.name}; rename one of them")
        targets[target] = customised.routine.path
        for note in customised.notes:
            if on_note:
                on_note(note)
    built = []
    for customised, target in zip(loaded, targets):
        result = write_mp3(prepare(customised.routine, settings, progress), target, settings,
                           progress)
        if on_built:
            on_built(result)
        built.append(result)
    return built
