"""The batch figure for `scripts/bench`: how many routines a minute a batch builds with
`--jobs 1` and `--jobs 2`, speech cache warm.

    python -m routinecast.batch.bench [--listeners 20] [--jobs 1 2] [--rounds 1]

The manifest is made here: `listeners` listeners (each with their own hold scale, so every
output differs) × every routine in `content/`. The speech is synthesised once before the
timing starts (a batch's common case: the sentences are everyone's), so the figure is
mixing and encoding, which is what `--jobs` spreads over the cores.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from ..builder import BuildSettings, load_all, prepare
from . import BUILT, batch
from .manifest import read_manifest

CONTENT = Path(__file__).resolve().parents[3] / "content"


@dataclass(frozen=True)
class Figure:
    jobs: int
    builds: int
    seconds: float

    @property
    def per_minute(self) -> float:
        return self.builds * 60 / self.seconds


def write_manifest(folder: Path, listeners: int, routines: Sequence[Path]) -> Path:
    lines = ["routines:", *(f"  - {Path(r).resolve()}" for r in routines), "listeners:"]
    for number in range(listeners):
        lines += [f"  - name: listener-{number + 1:03d}",
                  f"    hold-scale: {1 + number / 100:g}"]
    path = folder / "manifest.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def warm(manifest: Path, settings: BuildSettings) -> None:
    """Synthesise everything the manifest's builds will say into the speech cache."""
    for listener in read_manifest(manifest).listeners:
        for customised in load_all(listener.routines, [listener.inline]):
            prepare(customised.routine, settings)


def throughput(jobs: int, listeners: int = 20, routines: Sequence[Path] = (),
               settings: BuildSettings = BuildSettings(), warmed: bool = False) -> Figure:
    """Time one batch of `listeners` × `routines` (default: every content routine) with
    `jobs` builds at once, into a fresh folder, the speech cache warmed first."""
    routines = list(routines) or sorted(CONTENT.glob("*.yaml"))
    with tempfile.TemporaryDirectory(prefix="routinecast-bench-") as folder:
        manifest = write_manifest(Path(folder), listeners, routines)
        if not warmed:
            warm(manifest, settings)
        started = time.perf_counter()
        done = batch(manifest, Path(folder) / "out", jobs=jobs, settings=settings)
        seconds = time.perf_counter() - started
    built = sum(result.result == BUILT for result in done.results)
    if built != len(done.results):
        raise RuntimeError(f"the bench batch failed: {done.results}")
    return Figure(jobs, built, seconds)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--listeners", type=int, default=20)
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--rounds", type=int, default=1,
                        help="Alternate the job counts this many times (on a shared machine, "
                             "so that a change in its load weighs on each alike).")
    options = parser.parse_args(argv)
    totals: dict[int, list[Figure]] = {jobs: [] for jobs in options.jobs}
    for round_number in range(options.rounds):
        for jobs in options.jobs:
            figure = throughput(jobs, options.listeners, warmed=bool(round_number or
                                                                     totals[options.jobs[0]]))
            totals[jobs].append(figure)
            print(f"batch --jobs {jobs}: {figure.builds} routines in {figure.seconds:.1f} s, "
                  f"{figure.per_minute:.1f} routines/min", flush=True)
    if len(options.jobs) > 1:
        rate = {jobs: sum(f.builds for f in figures) * 60 / sum(f.seconds for f in figures)
                for jobs, figures in totals.items()}
        first, last = options.jobs[0], options.jobs[-1]
        print(f"batch --jobs {last} vs --jobs {first}: {rate[last] / rate[first]:.2f}x the "
              f"throughput ({rate[first]:.1f} and {rate[last]:.1f} routines/min over "
              f"{options.rounds} round{'s' if options.rounds > 1 else ''})")


if __name__ == "__main__":
    main()
