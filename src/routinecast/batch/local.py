"""Running a batch's tasks on this machine: in this process for one job, else in worker
processes (started with `spawn`: builds are CPU-bound numpy, an ffmpeg process and the
voice, so processes, not threads, use every core). The workers share the speech cache
folder, whose writes are atomic."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Callable, Sequence

from ..fitting import estimate_speech
from ..plan import make_plan
from .work import Outcome, Task, failed, run_task

OnOutcome = Callable[[Task, Outcome], None]


def run_local(tasks: Sequence[Task], jobs: int, on_outcome: OnOutcome) -> None:
    """Run `tasks` on `jobs` cores, calling `on_outcome` in this thread as each finishes
    (in the order given when `jobs` is 1; those that only plan first)."""
    # planning an MP3 that is up to date takes its speech from the cache: not worth a process
    for task in [task for task in tasks if not task.encode]:
        on_outcome(task, run_task(task))
    tasks = [task for task in tasks if task.encode]
    if jobs <= 1 or len(tasks) <= 1:
        for task in tasks:
            on_outcome(task, run_task(task))
        return
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(max_workers=min(jobs, len(tasks)), mp_context=context)
    try:
        # the longest first: the last builds to start are short ones, so no core is left
        # idle while one long build finishes alone
        pending = {pool.submit(run_task, task): task
                   for task in sorted(tasks, key=_expected_ms, reverse=True)}
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                task = pending.pop(future)
                try:
                    outcome = future.result()
                except BrokenProcessPool:
                    outcome = failed("a worker process died (out of memory, or killed); "
                                     "run the batch again to build what is left")
                except Exception as exc:  # could not send the task or its result
                    outcome = failed(f"internal error: {type(exc).__name__}: {exc}")
                on_outcome(task, outcome)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _expected_ms(task: Task) -> int:
    """About how long `task`'s track lasts, which is about how long it takes to build: its
    plan with every text's length estimated from its characters."""
    return make_plan(task.customised.routine, estimate_speech(lambda text: None)).duration_ms
