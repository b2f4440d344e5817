"""End to end with the real piper voice, real ffmpeg and real tags, read back independently."""

from __future__ import annotations

import io
import json
import os

import numpy as np
import pytest
from mutagen.id3 import ID3, CTOCFlags

from routinecast.builder import BuildSettings, build, prepare, write_mp3
from routinecast.errors import AudioError, RoutineError
from routinecast.ffmpeg import decode_pcm, probe_chapters
from routinecast.plan import plan_to_dict
from routinecast.render import sample_index
from routinecast.routine import load_routine
from routinecast.tagging import read_tags

from audio import LOUD, RATE, TOLERANCE_MS, onset_ms
from conftest import FIXTURES

@pytest.fixture(scope="module")
def built(tmp_path_factory, speech_cache):
    """small.yaml and sections.yaml built once for the module."""
    out = tmp_path_factory.mktemp("out")
    settings = BuildSettings(cache_dir=speech_cache)
    results = build([FIXTURES / "small.yaml", FIXTURES / "sections.yaml"], out, settings)
    return {r.path.stem: r for r in results}


@pytest.mark.parametrize("name", ["small", "sections"])
def test_chapters_read_back_by_ffmpeg_match_the_plan(built, name):
    result = built[name]
    leaves = result.plan.leaf_chapters()
    probed = probe_chapters(result.path)
    assert [c.title for c in probed] == [c.title for c in leaves]
    for chapter, leaf in zip(probed, leaves):
        assert abs(chapter.start_ms - leaf.start_ms) <= 1
        assert abs(chapter.end_ms - leaf.end_ms) <= 1
    assert probed[0].start_ms == 0


@pytest.mark.parametrize("name", ["small", "sections"])
def test_id3_is_v23_with_ordered_chapters_and_toc(built, name):
    result = built[name]
    tags = ID3(result.path)
    assert tags.version == (2, 3, 0)
    chaps = tags.getall("CHAP")
    starts = [c.start_time for c in chaps]
    assert starts == sorted(starts) and starts[0] == 0
    assert len({c.element_id for c in chaps}) == len(chaps)
    for before, after in zip(chaps, chaps[1:]):
        assert before.end_time == after.start_time
    decoded_ms = len(decode_pcm(result.path, RATE)) * 1000 / RATE
    assert abs(chaps[-1].end_time - decoded_ms) <= 1
    tops = [t for t in tags.getall("CTOC") if t.flags & CTOCFlags.TOP_LEVEL]
    assert len(tops) == 1 and tops[0].flags & CTOCFlags.ORDERED
    info = read_tags(result.path)
    assert [(c[1], c[2], c[3]) for c in info.chapters] == [
        (c.start_ms, c.end_ms, c.title) for c in result.plan.leaf_chapters()]


def test_sections_are_child_tocs(built):
    info = read_tags(built["sections"].path)
    top = next(v for v in info.toc.values() if v[0])
    children = top[2]
    assert len(children) == 4  # intro, two section tocs, outro
    section_tocs = [info.toc[c] for c in children if c in info.toc]
    assert [t[3] for t in section_tocs] == ["The Hips", "The Back"]
    titles = {c[0]: c[3] for c in info.chapters}
    assert [titles[c] for c in section_tocs[0][2]] == ["The Hips", "Hip Opener", "Hip Hinge"]


def test_mp3_carries_a_cover_and_its_routine(built):
    from PIL import Image

    info = read_tags(built["small"].path)
    with Image.open(io.BytesIO(info.cover)) as cover:
        assert cover.format == "PNG" and cover.size == (1400, 1400)
    carried = info.routine_text
    assert carried.startswith("# small.yaml, as built by routinecast")
    assert "Reach" in carried


def test_text_tags(built):
    tags = ID3(built["small"].path)
    assert str(tags["TIT2"]) == "Test Stretches"
    assert str(tags["TPE1"]) == "routinecast tests"
    comment = str(tags.getall("COMM")[0])
    assert "A tiny routine" in comment and "Source: routinecast test suite" in comment


def test_decoded_audio_matches_the_plan(built):
    """Length to the sample, every hold silent, each hold's edges where the plan puts them."""
    result = built["small"]
    plan = result.plan
    pcm = decode_pcm(result.path, RATE)
    assert len(pcm) == sample_index(plan.duration_ms, RATE)
    level = np.abs(pcm.astype(np.int32))
    for segment in plan.segments:
        if segment.kind == "silence" and segment.duration_ms > 2 * TOLERANCE_MS:
            span = level[sample_index(segment.start_ms + TOLERANCE_MS, RATE):
                         sample_index(segment.end_ms - TOLERANCE_MS, RATE)]
            assert span.max() <= LOUD, f"sound inside planned silence {segment}"
    for hold in plan.holds:
        # the end-of-hold tone starts where the hold ends
        assert abs(onset_ms(pcm, hold.end_ms - TOLERANCE_MS) - hold.end_ms) <= TOLERANCE_MS
        # every hold in this fixture begins with its `during` cue, said as the hold begins
        assert abs(onset_ms(pcm, hold.start_ms - TOLERANCE_MS) - hold.start_ms) <= TOLERANCE_MS


@pytest.mark.parametrize("rate", [44_100, 24_000])
def test_every_track_length_decodes_exactly(tmp_path, rate):
    """Lengths ending just past an MP3 frame boundary would decode long; they are avoided."""
    from routinecast.ffmpeg import encode_mp3, exact_length_ms

    frame = 1152 if rate >= 32_000 else 576
    for ms in range(2000, 2000 + 3 * frame * 1000 // rate):
        samples = sample_index(exact_length_ms(ms, rate), rate)
        assert not 1 <= samples % frame <= 46
    for ms in (1000 * frame * 40 // rate + 1, 2001, 2013):  # one just past a frame edge
        length = exact_length_ms(ms, rate)
        assert ms <= length <= ms + 2
        n = sample_index(length, rate)
        pcm = (np.sin(np.arange(n) / 20) * 3000).astype("<i2")
        encode_mp3([pcm], tmp_path / "x.mp3", rate, 64, n)
        assert len(decode_pcm(tmp_path / "x.mp3", rate)) == n


def test_the_mp3_is_readable_by_others_as_the_umask_allows(built):
    umask = os.umask(0)
    os.umask(umask)
    assert os.stat(built["small"].path).st_mode & 0o777 == 0o666 & ~umask


def test_the_mp3_is_cbr_with_an_info_header(built):
    data = built["small"].path.read_bytes()
    assert data[:3] == b"ID3"
    tag_size = 10 + sum(byte << (7 * (3 - i)) for i, byte in enumerate(data[6:10]))  # syncsafe
    audio = data[tag_size:]
    assert audio[:2] in (b"\xff\xfb", b"\xff\xfa")  # the first MPEG frame, right after the tag
    assert b"Info" in audio[:1024] and b"Xing" not in audio[:1024]
    size = len(audio)
    duration_s = built["small"].plan.duration_ms / 1000
    assert abs(size * 8 / duration_s / 1000 - 96) < 4


def test_rebuild_uses_the_cache_only(built, tmp_path, speech_cache, monkeypatch):
    from routinecast.tts import piper

    def refuse(self, text):
        raise AssertionError(f"synthesised {text!r} again")

    monkeypatch.setattr(piper.PiperEngine, "synthesize", refuse)
    routine = load_routine(FIXTURES / "small.yaml")
    prepared = prepare(routine, BuildSettings(cache_dir=speech_cache))
    assert plan_to_dict(prepared.plan) == plan_to_dict(built["small"].plan)


def test_failed_build_keeps_the_good_file_and_leaves_no_temp(built, tmp_path, speech_cache,
                                                            monkeypatch):
    import routinecast.sound.mixing as sound_module

    target = tmp_path / "small.mp3"
    target.write_bytes(built["small"].path.read_bytes())
    before = target.read_bytes()
    real_render = sound_module.render

    def failing_render(*args):
        for n, chunk in enumerate(real_render(*args)):
            if n == 50:
                raise KeyboardInterrupt
            yield chunk

    monkeypatch.setattr(sound_module, "render", failing_render)
    settings = BuildSettings(cache_dir=speech_cache)
    prepared = prepare(load_routine(FIXTURES / "small.yaml"), settings)
    with pytest.raises(KeyboardInterrupt):
        write_mp3(prepared, target, settings)
    assert target.read_bytes() == before
    assert os.listdir(tmp_path) == ["small.mp3"]


def test_encoder_failure_is_our_error_and_writes_nothing(tmp_path, speech_cache, monkeypatch):
    import routinecast.ffmpeg as ffmpeg_module

    monkeypatch.setattr(ffmpeg_module, "LAME_QUALITY", "not-a-number")
    settings = BuildSettings(cache_dir=speech_cache)
    with pytest.raises(AudioError, match="ffmpeg failed to encode "):
        build([FIXTURES / "small.yaml"], tmp_path, settings)
    assert os.listdir(tmp_path) == []


def test_one_bad_routine_means_nothing_is_built(tmp_path, speech_cache):
    with pytest.raises(RoutineError, match="bad-negative-hold.yaml:6"):
        build([FIXTURES / "small.yaml", FIXTURES / "bad-negative-hold.yaml"], tmp_path / "out",
              BuildSettings(cache_dir=speech_cache))
    assert not (tmp_path / "out").exists()


def test_plan_json_is_what_the_mp3_contains(built):
    """The JSON printed by `plan --json` is the plan the MP3 was built from."""
    data = json.loads(json.dumps(plan_to_dict(built["small"].plan)))
    probed = probe_chapters(built["small"].path)
    flat = [(c["title"], c["start_ms"]) for c in data["chapters"]]
    assert [(c.title, c.start_ms) for c in probed] == flat


@pytest.mark.slow
@pytest.mark.parametrize("broken", ["dropped", "reordered"])
def test_chapters_that_do_not_read_back_fail_the_build_and_keep_the_old_mp3(
        tmp_path, run, monkeypatch, broken):
    """The chapter order rests on overriding mutagen's private ID3._write: if mutagen stops
    calling it (chapters dropped) or orders frames itself (mutagen#506), the build fails."""
    from mutagen.id3 import ID3
    from routinecast import tagging
    out = tmp_path / "small.mp3"
    assert run("build", FIXTURES / "small.yaml", "-o", out, "-q").exit_code == 0
    before = out.read_bytes()
    if broken == "dropped":
        monkeypatch.setattr(tagging._ChapterOrderedID3, "_write", ID3._write)
    else:
        def reordered(self, config):  # as mutagen orders frames itself (mutagen#506)
            return ID3._write(self, config) + b"".join(
                tagging.save_frame(f, config=config) for f in reversed(self.chapter_frames))
        monkeypatch.setattr(tagging._ChapterOrderedID3, "_write", reordered)
    again = run("build", FIXTURES / "small.yaml", "-o", out, "--force", "--hold-scale", "2", "-q")
    assert again.exit_code == 1
    assert "the chapters read back are not those written" in again.stderr
    assert out.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["small.mp3"]
