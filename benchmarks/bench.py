"""Build speed and memory: the five demo routines cold and warm, and a generated 3-hour routine
with and without a music bed.

Each build runs as its own `routinecast build` process; peak RSS is that process's own
(with the ffmpeg it runs), read from wait4. Prints figures; asserts nothing.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

import numpy as np
from mutagen.mp3 import MP3

ROOT = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-m", "routinecast", "build", "-q"]
TARGETS = {"cold": 30, "warm": 120}
RSS_TARGET_MB = 250


def run_build(routine: Path, out: Path, cache: Path,
              *extra: str) -> tuple[float, float, float]:
    """(wall seconds, audio seconds, peak RSS MB) of one build in a fresh process."""
    start = time.perf_counter()
    process = subprocess.Popen([*CLI, str(routine), "-o", str(out), "--cache-dir", str(cache),
                                *extra])
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"build of {routine} failed")
    audio = MP3(out / f"{routine.stem}.mp3").info.length
    return wall, audio, usage.ru_maxrss / 1024


def report(label: str, rows: list[tuple[str, float, float, float]], target: float | None) -> None:
    print(f"\n{label}")
    print(f"  {'routine':<45} {'wall s':>8} {'audio s':>9} {'x real':>8} {'peak MB':>8}")
    for name, wall, audio, rss in rows:
        print(f"  {name:<45} {wall:8.2f} {audio:9.1f} {audio / wall:8.1f} {rss:8.1f}")
    wall = sum(r[1] for r in rows)
    audio = sum(r[2] for r in rows)
    verdict = f"  (target >= {target}x: {'met' if audio / wall >= target else 'MISSED'})" \
        if target else ""
    print(f"  {'total':<45} {wall:8.2f} {audio:9.1f} {audio / wall:8.1f} "
          f"{max(r[3] for r in rows):8.1f}{verdict}")


def three_hour_routine(path: Path) -> None:
    """About three hours: 45 exercises of two sides x 2 sets x 55 s, with phases and cues."""
    lines = ["title: Three Hour Mobility", "defaults: {rest: 10s, countdown: 3}",
             "intro: A long generated routine for the benchmark.", "exercises:"]
    for n in range(1, 46):
        lines += [f"  - name: Stretch number {n}", f"    setup: Get ready for stretch {n}.",
                  "    sides: true", "    sets: 2", "    hold: 55s",
                  f"    during: Breathe slowly into stretch {n}."]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def music_file(path: Path, seconds: int = 180, rate: int = 44_100) -> None:
    """A three-minute stereo chord, written as WAV, to stand in for a song.

    Written a second at a time: a child's peak RSS, as the kernel reports it, can include
    what this process held when it started the child, so this process must stay small."""
    with wave.open(str(path), "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(rate)
        for second in range(seconds):
            t = np.arange(second * rate, (second + 1) * rate) / rate
            left, right = (sum(np.sin(2 * np.pi * f * (t - lag)) for f in (220, 277, 330))
                           for lag in (0, 500 / rate))
            out.writeframes((np.stack([left, right], axis=1) * 0.2 * 32767)
                            .astype("<i2").tobytes())


def main() -> None:
    routines = sorted((ROOT / "content").glob("*.yaml"))
    with tempfile.TemporaryDirectory(prefix="routinecast-bench-") as temp:
        temp = Path(temp)
        cache, out = temp / "cache", temp / "out"
        for phase in ("cold", "warm"):
            rows = [(r.name, *run_build(r, out, cache)) for r in routines]
            report(f"{phase} builds of content/ ({'empty' if phase == 'cold' else 'full'} "
                   "speech cache)", rows, TARGETS[phase])
        long_routine = temp / "three-hours.yaml"
        three_hour_routine(long_routine)
        cold = run_build(long_routine, out, cache)
        warm = run_build(long_routine, out, cache)
        music_file(temp / "song.wav")
        music = run_build(long_routine, out, cache, "--music", str(temp / "song.wav"))
        report("generated 3-hour routine", [("three-hours.yaml (cold)", *cold),
                                            ("three-hours.yaml (warm)", *warm),
                                            ("three-hours.yaml (warm, music bed)", *music)],
               None)
        for label, figures in (("warm", warm), ("warm with music", music)):
            print(f"  {label} peak RSS {figures[2]:.1f} MB (target <= {RSS_TARGET_MB} MB: "
                  f"{'met' if figures[2] <= RSS_TARGET_MB else 'MISSED'})")


if __name__ == "__main__":
    main()
