"""The demo routines in content/: faithful to their articles, and built for real."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from routinecast.builder import BuildSettings, build
from routinecast.ffmpeg import decode_pcm, probe_chapters
from routinecast.render import sample_index
from routinecast.routine import load_routine

from audio import largest_joins, momentary
from conftest import CONTENT

ROUTINES = sorted(CONTENT.glob("*.yaml"))


def exercise(routine_file: str, exercise_id: str):
    routine = load_routine(CONTENT / routine_file)
    return next(e for e in routine.exercises if e.id == exercise_id)


def test_five_routines_each_naming_its_source():
    assert len(ROUTINES) == 5
    for path in ROUTINES:
        routine = load_routine(path)
        assert routine.source, f"{path.name} has no source"
        assert routine.intro and routine.exercises


def test_timings_follow_the_articles():
    passive = exercise("lower-back-pain-stretches.yaml", "passive-low-back-stretch")
    assert max(p.hold_ms for p in passive.phases) == 5 * 60_000
    hamstring = exercise("lower-back-pain-stretches.yaml", "hamstring-stretch")
    assert (hamstring.sets, hamstring.reps) == (3, 3)
    assert all(5_000 <= p.hold_ms <= 10_000 for p in hamstring.phases)
    seated = exercise("lower-back-pain-stretches.yaml", "seated-hip-stretch")
    assert seated.sides and seated.sets >= 3 and seated.phases[0].hold_ms == 60_000
    cat = exercise("low-back-stretches.yaml", "cat-and-camel")
    assert [p.hold_ms for p in cat.phases] == [10_000, 10_000] and cat.reps > 1
    cat_stretch = exercise("massage-therapist-lower-back-stretches.yaml", "cat-stretch")
    assert 5 <= cat_stretch.reps <= 10 and len(cat_stretch.phases) >= 2
    butterfly = exercise("massage-therapist-lower-back-stretches.yaml", "butterfly")
    assert butterfly.phases[0].hold_ms == 5 * load_routine(
        CONTENT / "massage-therapist-lower-back-stretches.yaml").defaults.breath_ms
    bend = exercise("directed-lower-back-stretching.yaml", "directed-forward-bend")
    assert 7 <= bend.reps <= 10 and 10_000 <= bend.phases[0].hold_ms <= 20_000
    knees = exercise("back-stretching-exercises.yaml", "single-knee-to-chest")
    assert len(knees.sides) == 2 and 15_000 <= knees.phases[0].hold_ms <= 20_000


@pytest.fixture(scope="module")
def demo(tmp_path_factory, speech_cache):
    """Every demo routine built, as `scripts/demo` does."""
    out = tmp_path_factory.mktemp("demo")
    return build(ROUTINES, out, BuildSettings(cache_dir=speech_cache))


@pytest.fixture(scope="module")
def heard(demo):
    """Each demo MP3 decoded, and read by ffmpeg's loudness meter, once."""
    with ThreadPoolExecutor(max_workers=os.cpu_count()) as pool:  # each call is an ffmpeg
        meters = list(pool.map(lambda r: momentary(r.path, dualmono=True), demo))
    return [(result, decode_pcm(result.path, 44_100), meter)
            for result, meter in zip(demo, meters)]


def test_demo_builds_match_their_plans(demo, heard):
    assert [r.path.stem for r in demo] == [p.stem for p in ROUTINES]
    for result, pcm, _ in heard:
        leaves = result.plan.leaf_chapters()
        probed = probe_chapters(result.path)
        assert [c.title for c in probed] == [c.title for c in leaves], result.path.name
        for chapter, leaf in zip(probed, leaves):  # ±1 ms: ffmpeg reports padding-shifted times
            assert abs(chapter.start_ms - leaf.start_ms) <= 1, (result.path.name, chapter)
            assert abs(chapter.end_ms - leaf.end_ms) <= 1, (result.path.name, chapter)
        assert len(pcm) == sample_index(result.plan.duration_ms, 44_100)


def test_demo_loudness_by_ffmpegs_meter(heard):
    """-16 LUFS as heard on two speakers (mono: dual-mono), true peak at most -1 dBTP."""
    for result, _, (loudness, peak, _) in heard:
        assert loudness == pytest.approx(-16, abs=1), result.path.name
        assert peak <= -1, result.path.name
        assert result.measured.loudness_lufs == pytest.approx(loudness, abs=0.5)


def test_demo_speech_clips_are_level_with_each_other(heard):
    """Every clip of a second or more within 2 LU of the median clip, by ffmpeg's meter."""
    for result, _, (_, _, windows) in heard:
        levels = []
        for segment in result.plan.segments:
            if segment.kind == "speech" and segment.duration_ms >= 1_000:
                inside = [value for end, value in windows.items()
                          if end - 400 >= segment.start_ms and end <= segment.end_ms]
                levels.append(10 * np.log10(np.mean(10 ** (np.array(inside) / 10))))
        median = np.median(levels)
        assert len(levels) > 20
        assert max(abs(level - median) for level in levels) <= 2, result.path.name


def test_demo_joins_do_not_click(heard):
    """At every edge of a clip or tone, no sample-to-sample jump larger than inside it."""
    for result, pcm, _ in heard:
        for segment, at_join, inside in largest_joins(pcm, result.plan):
            assert at_join <= inside, (result.path.name, segment)
