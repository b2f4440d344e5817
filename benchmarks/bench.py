"""Build speed and memory: the demo routines cold and warm (piper and espeak-ng), one routine
warm against a bare encode of its PCM, an unchanged rebuild, a batch with one and two
jobs, and a generated 3-hour routine with and without a music bed.

Each build runs as its own `routinecast build` process; peak RSS is that process's own
(with the ffmpeg it runs), read from wait4. Timings that are compared (a build against a
bare encode) are taken in pairs, one right after the other, and the median of the pairs'
ratios is reported: the machine may be busy with other work. Prints figures, and MISSED for
a missed target; asserts nothing.
"""

from __future__ import annotations

import os
import shutil
import statistics
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
TARGETS = {"cold": 60, "warm": 250, "espeak cold": 150}
"""Real time multiples, for all of content/."""
RSS_TARGET_MB = 150
MUSIC_TARGET = 150
"""Real time multiple of the 3-hour warm build with a music bed."""
ENCODE_RATIO_TARGET = 1.3
"""A warm build of one routine against a bare encode of its PCM, same encoder settings."""
NO_OP_TARGET_S = 0.2
BATCH_TARGET = 1.7
"""`batch --jobs 2` against `--jobs 1`: throughput of 20 listeners x content/, cache warm."""
BATCH_LISTENERS = 20
PAIRS = 5
ONE_ROUTINE = "low-back-stretches.yaml"


def run_build(routine: Path, out: Path, cache: Path,
              *extra: str) -> tuple[float, float, float, float]:
    """(wall seconds, audio seconds, peak RSS MB, CPU seconds) of one build of `routine`
    into the file `out` in a fresh process; the output is removed first, so that it is
    built."""
    out.unlink(missing_ok=True)
    wall, rss, cpu = timed([*CLI, str(routine), "-o", str(out), "--cache-dir", str(cache),
                            *extra])
    return wall, MP3(out).info.length, rss, cpu


def timed(command: list[str]) -> tuple[float, float, float]:
    """(wall seconds, peak RSS MB, CPU seconds of it and its children) of a command, which
    must succeed. CPU time says what a build costs even when other work slows the wall
    clock down."""
    start = time.perf_counter()
    process = subprocess.Popen(command)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"failed: {' '.join(command)}")
    return wall, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


def verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def report(label: str, rows: list[tuple[str, float, float, float, float]],
           target: float | None) -> float:
    """Prints the rows and their total; returns the total's real time multiple."""
    print(f"\n{label}")
    print(f"  {'routine':<45} {'wall s':>8} {'audio s':>9} {'x real':>8} {'peak MB':>8} "
          f"{'CPU s':>7}")
    for name, wall, audio, rss, cpu in rows:
        print(f"  {name:<45} {wall:8.2f} {audio:9.1f} {audio / wall:8.1f} {rss:8.1f} "
              f"{cpu:7.2f}")
    wall = sum(r[1] for r in rows)
    audio = sum(r[2] for r in rows)
    note = f"  (target >= {target}x: {verdict(audio / wall >= target)})" if target else ""
    print(f"  {'total':<45} {wall:8.2f} {audio:9.1f} {audio / wall:8.1f} "
          f"{max(r[3] for r in rows):8.1f} {sum(r[4] for r in rows):7.2f}{note}")
    load = os.getloadavg()[0]
    if load > 2.5:
        print(f"  (load average {load:.1f} on {os.cpu_count()} cores: other work is running, "
              "and wall times are longer than the build's own)")
    return audio / wall


def content_builds(label: str, routines: list[Path], out: Path, cache: Path,
                   target: float | None, *extra: str) -> float:
    rows = [(r.name, *run_build(r, out / f"{r.stem}.mp3", cache, *extra)) for r in routines]
    return report(label, rows, target)


PCM_SCRIPT = """\
import sys
from pathlib import Path
import numpy as np
from routinecast.builder import BuildSettings, _calibrated, load_all, prepare
from routinecast.sound import SoundSettings
settings = BuildSettings(cache_dir=Path(sys.argv[2]),
                         sound=SoundSettings(music=tuple(Path(p) for p in sys.argv[4:])))
[customised] = load_all([sys.argv[1]])
track, total, _ = _calibrated(prepare(customised.routine, settings), settings)
with open(sys.argv[3], "wb") as out:
    for block in track.blocks():
        out.write(np.ascontiguousarray(block, dtype="<i2").tobytes())
"""


def against_bare_encode(routine: Path, out: Path, cache: Path, temp: Path,
                        music: Path | None = None) -> float:
    """A warm build of `routine` against ffmpeg encoding its PCM from a file with the
    builder's own encoder settings (`encode_mp3`'s): the floor of any build. With `music`,
    the build has that music bed (stereo, 128 kbit/s); returns the bare encode's speed
    (real time multiple), the floor of a build with a music bed."""
    from routinecast.ffmpeg import LAME_QUALITY, ffmpeg_exe

    pcm = temp / "track.pcm"
    subprocess.run([sys.executable, "-c", PCM_SCRIPT, str(routine), str(cache), str(pcm),
                    *([str(music)] if music else [])], check=True)
    channels, bitrate = (2, "128k") if music else (1, "96k")
    extra = ["--music", str(music)] if music else []
    bare = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-nostats", "-loglevel", "error", "-y",
            "-f", "s16le", "-ar", "44100", "-ac", str(channels), "-i", str(pcm),
            "-map_metadata", "-1", "-c:a", "libmp3lame", "-b:a", bitrate,
            "-compression_level", str(LAME_QUALITY), "-id3v2_version", "0", "-write_xing",
            "1", "-f", "mp3", str(temp / "bare.mp3")]
    builds, encodes, build_cpu, encode_cpu = [], [], [], []
    for _ in range(PAIRS if not music else 3):
        build = run_build(routine, out, cache, *extra)
        encode = timed(bare)
        builds.append(build[0])
        build_cpu.append(build[3])
        encodes.append(encode[0])
        encode_cpu.append(encode[2])
    audio = MP3(out).info.length
    pcm.unlink()
    ratios = [b / e for b, e in zip(builds, encodes)]
    ratio = statistics.median(ratios)
    print(f"\none routine warm{' with a music bed' if music else ''} against a bare encode "
          f"of its PCM ({routine.name}, {len(ratios)} pairs, medians)")
    target = "" if music else (f" (target <= {ENCODE_RATIO_TARGET}: "
                               f"{verdict(ratio <= ENCODE_RATIO_TARGET)})")
    print(f"  build {statistics.median(builds):.2f} s, bare ffmpeg encode "
          f"{statistics.median(encodes):.2f} s, ratio {ratio:.2f} (pairs: "
          f"{', '.join(f'{r:.2f}' for r in ratios)}){target}")
    print(f"  CPU time: build {statistics.median(build_cpu):.2f} s (Python and ffmpeg), bare "
          f"encode {statistics.median(encode_cpu):.2f} s; the bare encode runs at "
          f"{audio / statistics.median(encodes):.0f}x real time")
    return audio / statistics.median(encodes)


def unchanged_rebuild(routine: Path, out: Path, cache: Path) -> None:
    """The same build again, its output present and nothing changed: nothing to do."""
    run_build(routine, out, cache)
    command = [*CLI, str(routine), "-o", str(out), "--cache-dir", str(cache)]
    walls = []
    for _ in range(PAIRS):
        before = out.stat().st_mtime_ns
        walls.append(timed(command)[0])
        if out.stat().st_mtime_ns != before:
            print("  (the unchanged rebuild wrote the MP3 again)")
    python = statistics.median(timed([sys.executable, "-c", "pass"])[0] for _ in range(PAIRS))
    wall = statistics.median(walls)
    print(f"\nunchanged rebuild ({routine.name}, median of {PAIRS}; a bare `python -c pass` "
          f"takes {python:.3f} s here)")
    print(f"  {wall:.3f} s (target <= {NO_OP_TARGET_S} s: {verdict(wall <= NO_OP_TARGET_S)})")


def batch_throughput(cache: Path) -> None:
    """A batch of `BATCH_LISTENERS` listeners (each their own hold scale) x content/ with
    one build at a time and with two: what `--jobs` buys on this machine's cores. Run in
    this process (the batch starts its own workers); the speech is warmed first.

    Also prints how many cores `--jobs 1` keeps busy (its CPU time, with its encoders',
    over its wall time): one build already runs Python and ffmpeg side by side, which
    leaves two jobs less than two cores' worth to gain.

    Run by `main` in a process of its own (`bench.py batch CACHE`): the batch leaves this
    process larger, and a child's peak RSS, as the kernel reports it, can include what its
    parent held when it started the child."""
    import resource

    from routinecast.batch.bench import throughput, warm, write_manifest
    from routinecast.builder import BuildSettings

    def cpu() -> float:
        used = [resource.getrusage(who) for who in (resource.RUSAGE_SELF,
                                                    resource.RUSAGE_CHILDREN)]
        return sum(u.ru_utime + u.ru_stime for u in used)

    settings = BuildSettings(cache_dir=cache)
    # every listener's speech (their holds make counts of their own) synthesised first,
    # outside the timing
    with tempfile.TemporaryDirectory(prefix="routinecast-bench-") as folder:
        warm(write_manifest(Path(folder), BATCH_LISTENERS, sorted((ROOT / "content")
                                                                  .glob("*.yaml"))), settings)
    before = cpu()
    one = throughput(1, BATCH_LISTENERS, settings=settings, warmed=True)
    busy = (cpu() - before) / one.seconds
    two = throughput(2, BATCH_LISTENERS, settings=settings, warmed=True)
    ratio = two.per_minute / one.per_minute
    cores = os.cpu_count() or 1
    print(f"\nbatch of {BATCH_LISTENERS} listeners x content/ ({one.builds} routines, "
          f"speech cache warm)")
    print(f"  --jobs 1: {one.seconds:.1f} s ({one.per_minute:.1f} routines/min), keeping "
          f"{busy:.2f} of {cores} cores busy")
    print(f"  --jobs 2: {two.seconds:.1f} s ({two.per_minute:.1f}/min); {ratio:.2f}x (target "
          f">= {BATCH_TARGET}x: {verdict(ratio >= BATCH_TARGET)})")


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
    espeak = shutil.which("espeak-ng")
    with tempfile.TemporaryDirectory(prefix="routinecast-bench-") as temp:
        temp = Path(temp)
        cache, out = temp / "cache", temp / "out"
        out.mkdir()
        content_builds("cold builds of content/ (empty speech cache)", routines, out, cache,
                       TARGETS["cold"])
        content_builds("warm builds of content/ (full speech cache)", routines, out, cache,
                       TARGETS["warm"])
        one = ROOT / "content" / ONE_ROUTINE
        against_bare_encode(one, out / "one.mp3", cache, temp)
        unchanged_rebuild(one, out / "again.mp3", cache)
        subprocess.run([sys.executable, __file__, "batch", str(cache)], check=True)
        if espeak:
            content_builds("espeak-ng cold builds of content/ (--engine espeak, empty cache)",
                           routines, out, temp / "espeak-cache", TARGETS["espeak cold"],
                           "--engine", "espeak")
            content_builds("espeak-ng warm builds of content/", routines, out,
                           temp / "espeak-cache", None, "--engine", "espeak")
        else:
            print("\nespeak-ng is not installed: no espeak figures")
        long_routine = temp / "three-hours.yaml"
        three_hour_routine(long_routine)
        long_out = out / "three-hours.mp3"
        cold = run_build(long_routine, long_out, cache)
        warm = run_build(long_routine, long_out, cache)
        music_file(temp / "song.wav")
        floor = against_bare_encode(one, out / "one.mp3", cache, temp, temp / "song.wav")
        music = run_build(long_routine, long_out, cache, "--music", str(temp / "song.wav"))
        report("generated 3-hour routine", [("three-hours.yaml (cold)", *cold),
                                            ("three-hours.yaml (warm)", *warm),
                                            ("three-hours.yaml (warm, music bed)", *music)],
               None)
        for label, figures in (("warm", warm), ("warm with music", music)):
            print(f"  {label} peak RSS {figures[2]:.1f} MB (target <= {RSS_TARGET_MB} MB: "
                  f"{verdict(figures[2] <= RSS_TARGET_MB)})")
        speed = music[1] / music[0]
        print(f"  music bed build {speed:.0f}x real time (target >= {MUSIC_TARGET}x: "
              f"{verdict(speed >= MUSIC_TARGET)}); it costs {music[0] / warm[0]:.1f}x the "
              f"build without (target <= 2x: {verdict(music[0] <= 2 * warm[0])})")
        print(f"  (the encoder alone, on a music bed's PCM in stereo, runs at {floor:.0f}x real "
              "time here: see the pairs above)")


if __name__ == "__main__":
    if sys.argv[1:2] == ["batch"]:
        batch_throughput(Path(sys.argv[2]))
    else:
        main()
