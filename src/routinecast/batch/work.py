"""One unit of a batch: one routine for one listener, built where a worker runs it (this
process, a local worker process, or a Dask worker on another machine).

A task carries everything it needs (the routine loaded and customised, the build settings,
the cover, the build key), so that a worker needs routinecast and a speech cache but none of
the coordinator's files; it writes only into a temp folder of its own and hands back the
MP3's bytes, which the coordinator writes atomically into place. A worker killed mid-task
leaves nothing anywhere but its own temp folder.
"""

from __future__ import annotations

import tempfile
import time
import traceback
from dataclasses import dataclass, replace
from pathlib import Path

from ..builder import Built, BuildSettings, prepare, resolved_text, write_mp3
from ..errors import InputError, RoutinecastError
from ..overrides import Customised
from ..sound import check_music, playlist


@dataclass(frozen=True)
class Task:
    """Build (or, with `encode` false, only plan) one routine for one listener."""

    id: int
    """Its number in the batch."""
    listener: str
    """The listener's name, for messages."""
    name: str
    """The MP3's file name in the listener's folder (`low-back-stretches.mp3`)."""
    customised: Customised
    """The routine with the listener's overrides applied, checked."""
    settings: BuildSettings
    """How to build it (the speech cache: the worker's own when `cache_dir` is None)."""
    cover: bytes
    """The PNG cover the MP3 carries."""
    key: str
    """The build key the MP3 carries, as the coordinator computed it (`builder.build_key`):
    a worker on another machine would compute another from its own voice files and without
    the routine file, and the coordinator's next run would build the MP3 again."""
    encode: bool = True
    """False: only synthesise and plan (for the page of an MP3 that is up to date)."""


@dataclass(frozen=True)
class Outcome:
    """What a task gave back."""

    built: Built | None
    """The MP3 as built (its `path` is just its name), or the plan of one up to date; None
    when it failed."""
    data: bytes | None
    """The MP3's bytes; None when it failed or only planned."""
    seconds: float
    """How long the work took on the worker."""
    notes: tuple[str, ...] = ()
    """Notes the build made (profile settings that did not apply, a fallback voice)."""
    error: str | None = None
    """Why it failed: one line."""
    input_error: bool = False
    """The failure is the user's to fix (a routine, a profile), not the machine's."""


def run_task(task: Task) -> Outcome:
    """Do `task`; every failure is returned, never raised, so that one listener's failure
    cannot stop the others (and errors cross process and machine boundaries as text)."""
    started = time.perf_counter()
    notes: list[str] = []
    try:
        if not task.encode:
            prepared = prepare(task.customised.routine, task.settings, None, notes.append)
            built = Built(Path(task.name), prepared.plan, None, prepared.routine,
                          resolved_text(task.customised, prepared.routine))
            return Outcome(built, None, time.perf_counter() - started, tuple(notes))
        settings = task.settings
        if settings.sound.music:  # this machine's copies of the music, at the same paths
            check_music(playlist(settings.sound.music), settings.sample_rate)
        with tempfile.TemporaryDirectory(prefix="routinecast-batch-") as folder:
            # as `build_loaded` builds one MP3, but stamped with the coordinator's key
            prepared = prepare(task.customised.routine, settings, None, notes.append)
            target = Path(folder) / task.name
            built = write_mp3(prepared, target, settings, None,
                              resolved_text(task.customised, prepared.routine), task.cover,
                              task.key)
            data = target.read_bytes()
        return Outcome(replace(built, path=Path(task.name)), data,
                       time.perf_counter() - started, tuple(notes))
    except RoutinecastError as exc:
        return Outcome(None, None, time.perf_counter() - started, tuple(notes), str(exc),
                       isinstance(exc, InputError))
    except Exception as exc:  # a bug: reported in the table, the others still built
        where = traceback.extract_tb(exc.__traceback__)[-1]
        return Outcome(None, None, time.perf_counter() - started, tuple(notes),
                       f"internal error: {type(exc).__name__}: {exc} "
                       f"({Path(where.filename).name}:{where.lineno})")


def failed(message: str) -> Outcome:
    """The outcome of a task that could not run at all (its worker process died)."""
    return Outcome(None, None, 0.0, (), message)
