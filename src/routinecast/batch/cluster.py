"""Running a batch's tasks on a Dask distributed cluster: the only module that imports dask.

Each task (one routine for one listener) is submitted as it is; a worker builds it in a temp
folder of its own and returns the MP3's bytes, which the coordinator writes into place, so
the outputs never depend on a disk the workers share. When a worker dies, the scheduler
gives its task to another (up to `distributed.scheduler.allowed-failures` times, 3 by
default); a task whose worker died wrote nothing the coordinator sees.

Workers need routinecast (and its voice) installed; each uses its own speech cache, which
`ROUTINECAST_CACHE` in the worker's environment may point at a shared folder.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from pathlib import Path
from typing import Sequence

from ..errors import InputError, RoutinecastError, setting
from .local import OnOutcome
from .work import Task, failed, run_task

CONNECT_TIMEOUT_S = 30


class ClusterError(RoutinecastError):
    """The Dask scheduler cannot be reached, or the cluster failed."""


def run_cluster(tasks: Sequence[Task], scheduler: str, on_outcome: OnOutcome,
                timeout: float = CONNECT_TIMEOUT_S) -> None:
    """Run `tasks` on the cluster whose scheduler is at `scheduler` (`tcp://HOST:PORT`, or a
    scheduler file), calling `on_outcome` in this thread as each finishes."""
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise InputError(f"{setting('scheduler')} needs Dask's distributed package; install it with: "
                         "pip install 'routinecast[cluster]'") from None
    if not tasks:
        return
    where = {"scheduler_file": scheduler} if Path(scheduler).is_file() else \
        {"address": scheduler}
    try:
        client = Client(**where, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise ClusterError(f"cannot reach the Dask scheduler at {scheduler} ({exc}); start "
                           "it with `dask scheduler`, or check the address") from None
    batch_id = uuid.uuid4().hex[:12]
    try:
        # the coordinator's cache folder means nothing on another machine: each worker uses
        # its own (ROUTINECAST_CACHE, or its user cache directory)
        futures = {client.submit(run_task, replace(task, settings=replace(
                       task.settings, cache_dir=None)),
                                 key=f"routinecast-{batch_id}-{task.id}", pure=False): task
                   for task in tasks}
        for future in as_completed(list(futures), loop=client.loop):
            task = futures[future]
            try:
                outcome = future.result()
            except Exception as exc:  # the task's workers kept dying, or it could not run
                outcome = failed(f"the cluster could not build it ({type(exc).__name__}: "
                                 f"{exc}); run the batch again to build what is left")
            on_outcome(task, outcome)
            future.release()
    finally:
        client.close()
