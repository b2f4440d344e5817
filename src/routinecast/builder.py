"""The builder: routine files → narrated, chaptered MP3s, written atomically.

routine file → Routine → speech clips → Plan → PCM stream → MP3 (temp file) → tags → rename.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np

from . import __version__
from .errors import InputError, OutputError, RoutineError
from .ffmpeg import encode_mp3, exact_length_ms
from .models import Plan, Routine
from .plan import lengthen, make_plan, spoken_texts
from .render import render, total_samples
from .routine import load_routine
from .tagging import write_tags
from .tts import open_engine, synthesize_all
from .tts.cache import ClipCache, default_cache_dir

Progress = Callable[[str, int, int], None]
"""Called as progress(stage, done, total) while a long step runs; stage names the step."""

MIN_BITRATE, MAX_BITRATE = 32, 320
SAMPLE_RATES = (22_050, 24_000, 32_000, 44_100, 48_000)


@dataclass(frozen=True)
class BuildSettings:
    """How routines are turned into audio (not what they contain)."""

    sample_rate: int = 44_100
    """Sample rate of the whole track, in Hz."""
    bitrate_kbps: int = 96
    """Constant bitrate of the MP3, in kbit/s."""
    cache_dir: Path | None = None
    """Speech cache folder; None means `$ROUTINECAST_CACHE` or the user's cache directory."""

    def cache(self) -> ClipCache:
        return ClipCache(self.cache_dir or default_cache_dir())


@dataclass(frozen=True)
class Prepared:
    """A routine with its speech synthesised and its plan made: everything but the audio."""

    routine: Routine
    """The validated routine."""
    plan: Plan
    """Its timeline, made from the real clip lengths."""
    clips: dict[str, np.ndarray]
    """Each spoken text's samples at the settings' sample rate."""


@dataclass(frozen=True)
class Built:
    """One MP3 written."""

    path: Path
    """Where the MP3 now is."""
    plan: Plan
    """The plan it was built from, which its audio and chapters match."""


def prepare(routine: Routine, settings: BuildSettings = BuildSettings(),
            progress: Progress | None = None) -> Prepared:
    """Synthesise (or take from the cache) everything `routine` says, then plan it."""
    engine = open_engine(routine.voice, routine.language)
    report = (lambda done, total: progress("synthesising", done, total)) if progress else None
    clips = synthesize_all(spoken_texts(routine), engine, settings.cache(), settings.sample_rate,
                           report)
    rate = settings.sample_rate
    plan = make_plan(routine, lambda text: -(-len(clips[text]) * 1000 // rate))
    return Prepared(routine, lengthen(plan, exact_length_ms(plan.duration_ms, rate)), clips)


def output_path(routine: Routine, output_dir: Path) -> Path:
    """`content/low-back.yaml` → `OUTPUT_DIR/low-back.mp3`."""
    return Path(output_dir) / f"{Path(routine.path).stem}.mp3"


def write_mp3(prepared: Prepared, path: Path, settings: BuildSettings = BuildSettings(),
              progress: Progress | None = None) -> Built:
    """Encode, tag and move the MP3 into place at `path`; on any failure `path` is untouched."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.",
                                             suffix=".part.mp3")
        # mkstemp makes the file private; the MP3 is for sharing, so honour the umask
        os.fchmod(handle, 0o666 & ~_umask())
        os.close(handle)
    except OSError as exc:
        raise OutputError(f"cannot write to {path.parent} ({exc.strerror})") from None
    temp = Path(temp_name)
    try:
        rate = settings.sample_rate
        total = total_samples(prepared.plan, rate)
        report = (lambda done: progress("encoding", done, total)) if progress else None
        encode_mp3(render(prepared.plan, prepared.clips, rate), temp, rate,
                   settings.bitrate_kbps, total, report, name=path.name)
        write_tags(temp, prepared.routine, prepared.plan, f"routinecast {__version__}")
        os.replace(temp, path)
    except OSError as exc:
        raise OutputError(f"cannot write {path} ({exc.strerror})") from None
    finally:
        temp.unlink(missing_ok=True)
    return Built(path, prepared.plan)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def load_all(paths: Iterable[str | Path]) -> list[Routine]:
    """Load and validate every routine, and check its voice, before anything is built, so
    that a mistake in any of them writes nothing."""
    routines = []
    for path in paths:
        routine = load_routine(path)
        try:
            open_engine(routine.voice, routine.language)
        except InputError as exc:
            raise RoutineError(exc.message, routine.path) from None
        routines.append(routine)
    return routines


def build(paths: Sequence[str | Path], output_dir: str | Path = "output",
          settings: BuildSettings = BuildSettings(),
          progress: Progress | None = None,
          on_built: Callable[[Built], None] | None = None) -> list[Built]:
    """Build each routine file into `output_dir/<file stem>.mp3`."""
    routines = load_all(paths)
    stems: dict[str, str] = {}
    for routine in routines:
        stem = Path(routine.path).stem
        if stem in stems:
            raise OutputError(f"{routine.path} and {stems[stem]} would both be written to "
                              f"{stem}.mp3; rename one of them")
        stems[stem] = routine.path
    built = []
    for routine in routines:
        result = write_mp3(prepare(routine, settings, progress),
                           output_path(routine, Path(output_dir)), settings, progress)
        if on_built:
            on_built(result)
        built.append(result)
    return built
