"""Speech: the real piper voice, the disk cache, and clip trimming."""

from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pytest

from routinecast.errors import InputError, VoiceError
from routinecast.models import Voice
from routinecast.tts import open_engine, synthesize_all, trim_silence
from routinecast.tts.cache import ClipCache, default_cache_dir
from routinecast.tts.piper import BUNDLED_VOICE, PiperEngine

RATE = 44_100


class Counting:
    """Wraps an engine and counts what it is asked to say."""

    def __init__(self, engine):
        self.engine, self.said = engine, []
        self.name, self.voice_id, self.speed = engine.name, engine.voice_id, engine.speed
        self.sample_rate, self.concurrency = engine.sample_rate, engine.concurrency

    def synthesize(self, text):
        self.said.append(text)
        return self.engine.synthesize(text)


@pytest.fixture(scope="module")
def joe():
    return PiperEngine()


def test_bundled_voice_speaks(joe):
    samples = joe.synthesize("Breathe in slowly.")
    assert joe.voice_id == BUNDLED_VOICE and joe.sample_rate == 22_050
    assert samples.dtype == np.int16
    assert 0.5 < len(samples) / joe.sample_rate < 3
    assert np.abs(samples.astype(np.int32)).max() > 5000


def test_the_voice_runs_one_text_per_core_each_on_one_thread(joe, tmp_path):
    """The piper voice is made as `PiperVoice.load` makes it, with a one-thread session
    (`concurrency` texts run at once): should piper change how a voice is made, this says
    so, and texts said side by side still come out whole and in their places."""
    voice = joe._load()
    options = voice.session.get_session_options()
    assert (options.intra_op_num_threads, options.inter_op_num_threads) == (1, 1)
    assert voice.config.sample_rate == joe.sample_rate and joe.concurrency >= 1
    texts = ["Breathe in.", "Let your shoulders drop, and breathe out slowly.", "Rest."]
    clips = synthesize_all(texts, joe, ClipCache(tmp_path), RATE)
    lengths = [len(clips[text]) / RATE for text in texts]
    assert lengths[1] > 2 * lengths[0] and lengths[1] > 2 * lengths[2] and min(lengths) > 0.2


def test_each_text_is_synthesised_once_then_cached(joe, tmp_path):
    engine = Counting(joe)
    cache = ClipCache(tmp_path)
    first = synthesize_all(["One.", "Two.", "One."], engine, cache, RATE)
    assert sorted(engine.said) == ["One.", "Two."]  # said side by side: any order
    again = synthesize_all(["Two.", "One."], engine, cache, RATE)
    assert sorted(engine.said) == ["One.", "Two."]
    assert np.array_equal(first["One."], again["One."])


@pytest.mark.parametrize("damage", [
    lambda data: data[:100],                                   # truncated in the header
    lambda data: data[:-1],                                    # a byte short
    lambda data: data[:-2],                                    # a sample short
    lambda data: data + b"\0\0",                               # a sample too many
    lambda data: _flip(data, len(data) // 2),                  # a bit of a sample
    lambda data: _flip(data, 20),                              # a bit of the sample rate
    lambda data: _flip(data, 3),                               # a bit of the magic line
    lambda data: b"",                                          # emptied
], ids=["truncated", "byte-short", "sample-short", "sample-more", "sample-bit", "rate-bit",
        "magic-bit", "empty"])
def test_a_damaged_cache_entry_is_synthesised_again(joe, tmp_path, damage):
    engine = Counting(joe)
    cache = ClipCache(tmp_path)
    first = synthesize_all(["Relax."], engine, cache, RATE)["Relax."]
    (entry,) = tmp_path.glob("*/*.clip")
    # kept without its loudness figures, which would follow the samples: so the damage
    # falls on the header or the samples (damaged figures are only measured again)
    cache.put(entry.stem, first, RATE)
    good = entry.read_bytes()
    entry.write_bytes(damage(good))
    clips = synthesize_all(["Relax."], engine, cache, RATE, figures={})
    assert engine.said == ["Relax.", "Relax."] and len(clips["Relax."]) > RATE // 4
    samples, figures = cache.entry(entry.stem, RATE)  # replaced whole, figures and all
    assert np.array_equal(samples, clips["Relax."]) and figures is not None


def test_a_clip_another_build_stored_meanwhile_wins(joe, tmp_path):
    """Builds side by side (batch) share the cache; piper says no text the same way twice,
    so the first clip stored is the one every build uses."""
    cache = ClipCache(tmp_path)

    class Racing(Counting):
        def synthesize(self, text):
            # the other build stores its clip while this one is synthesising
            other = synthesize_all([text], Counting(joe), cache, RATE)[text]
            racing.stored = other
            return self.engine.synthesize(text)

    racing = Racing(joe)
    figures = {}
    clips = synthesize_all(["Relax your shoulders."], racing, cache, RATE, figures=figures)
    assert np.array_equal(clips["Relax your shoulders."], racing.stored)
    samples, kept = cache.entry(next(tmp_path.glob("*/*.clip")).stem, RATE)
    assert np.array_equal(samples, racing.stored)
    assert kept.to_bytes() == figures["Relax your shoulders."].to_bytes()


def _flip(data: bytes, index: int) -> bytes:
    return data[:index] + bytes([data[index] ^ 0x10]) + data[index + 1:]


def test_cache_key_separates_engine_voice_speed_rate_and_text(tmp_path):
    cache = ClipCache(tmp_path)
    base = ("piper", "v", 1.0, RATE, "Hi.")
    keys = {cache.key(*base), cache.key("gtts", *base[1:]), cache.key("piper", "w", 1.0, RATE, "Hi."),
            cache.key("piper", "v", 1.1, RATE, "Hi."), cache.key("piper", "v", 1.0, 48_000, "Hi."),
            cache.key("piper", "v", 1.0, RATE, "Hi!")}
    assert len(keys) == 6


def test_cache_dir_comes_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("ROUTINECAST_CACHE", str(tmp_path / "c"))
    assert default_cache_dir() == tmp_path / "c"
    monkeypatch.delenv("ROUTINECAST_CACHE")
    assert default_cache_dir().name == "speech"


def test_speed_changes_the_pace(joe):
    text = "Lean forward slowly and let your arms hang."
    normal = len(joe.synthesize(text))
    fast = len(PiperEngine(speed=1.5).synthesize(text))
    assert fast < normal * 0.8


def test_a_piper_voice_given_by_path(joe, tmp_path):
    shutil.copy(joe.model_path, tmp_path / "mine.onnx")
    shutil.copy(joe.config_path, tmp_path / "mine.onnx.json")
    engine = open_engine(Voice(name=str(tmp_path / "mine.onnx")), "en-GB")
    assert engine.voice_id != BUNDLED_VOICE
    assert len(engine.synthesize("Hello.")) > 0


def test_voice_mistakes_name_the_fix(tmp_path):
    with pytest.raises(InputError, match="unknown piper voice `nosuch` .use `joe`"):
        open_engine(Voice(name="nosuch"), "en")
    (tmp_path / "lonely.onnx").write_bytes(b"")
    with pytest.raises(InputError, match="has no lonely.onnx.json beside it"):
        open_engine(Voice(name=str(tmp_path / "lonely.onnx")), "en")
    with pytest.raises(InputError, match="speaks en_US; use a piper voice for that language"):
        open_engine(Voice(), "fr")


def test_trim_keeps_short_faded_edges():
    clip = np.concatenate([np.zeros(4410), np.full(4410, 8000), np.zeros(4410)]).astype(np.int16)
    trimmed = trim_silence(clip, RATE)
    edge = 5 * RATE // 1000
    assert len(trimmed) == 4410 + 2 * edge
    assert trimmed[0] == 0 and abs(int(trimmed[-1])) < 100 and trimmed[len(trimmed) // 2] == 8000
    silent = np.zeros(1000, dtype=np.int16)
    assert trim_silence(silent, RATE) is silent


def test_a_cache_entry_a_killed_build_was_writing_is_removed(joe, tmp_path):
    cache = ClipCache(tmp_path)
    synthesize_all(["Relax."], joe, cache, RATE)
    (entry,) = tmp_path.glob("*/*.clip")
    dead = entry.parent / f".{entry.stem}.99999999.x1y2z3.part.clip"  # beyond any pid
    live = entry.parent / f".{entry.stem}.{os.getpid()}.a1b2c3.part.clip"
    dead.write_bytes(b"half a clip")
    live.write_bytes(b"half a clip")
    entry.unlink()
    synthesize_all(["Relax."], joe, cache, RATE)
    assert entry.is_file() and not dead.exists() and live.exists()


def test_an_entry_under_the_wrong_key_or_not_a_file_is_not_used(joe, tmp_path):
    cache = ClipCache(tmp_path)
    synthesize_all(["Relax.", "Breathe."], joe, cache, RATE)
    relax, breathe = (cache.key("piper", joe.voice_id, 1.0, RATE, text)
                      for text in ("Relax.", "Breathe."))
    (tmp_path / breathe[:2] / f"{breathe}.clip").write_bytes(
        (tmp_path / relax[:2] / f"{relax}.clip").read_bytes())
    assert cache.get(breathe, RATE) is None and cache.get(relax, RATE) is not None
    (tmp_path / relax[:2] / f"{relax}.clip").unlink()
    os.mkfifo(tmp_path / relax[:2] / f"{relax}.clip")  # read, it would block for ever
    assert cache.get(relax, RATE) is None


def test_a_cache_on_a_file_system_without_hard_links_still_keeps_the_first_clip(tmp_path,
                                                                                 monkeypatch):
    """FAT, exFAT and some network mounts refuse hard links: a new entry is renamed into
    place instead, and an entry already there is still kept rather than replaced."""
    import errno

    def no_links(source, target):
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    cache = ClipCache(tmp_path)
    from routinecast.sound import clip_figures

    first = np.arange(4000, dtype=np.int16)
    kept, _ = cache.add("a" * 64, first, RATE, clip_figures(first, RATE))
    assert np.array_equal(kept, first)
    second = np.arange(3000, dtype=np.int16)
    kept, _ = cache.add("a" * 64, second, RATE, clip_figures(second, RATE))
    assert np.array_equal(kept, first)  # the first stored wins
    assert not list(tmp_path.rglob("*.part*"))


def test_a_piper_voice_without_an_espeak_phonemizer_speaks_one_text_at_a_time(tmp_path):
    """piper locks only its espeak phonemizer: voices with another (pinyin, Japanese, …) or
    Arabic's diacritizer are not run side by side."""
    model, config = tmp_path / "v.onnx", tmp_path / "v.onnx.json"
    model.write_bytes(b"not read until the first text")
    for phonemes, voice, expected in (("espeak", "en-us", PiperEngine.concurrency),
                                      ("pinyin", "cmn", 1), ("espeak", "ar", 1)):
        config.write_text(json.dumps({"audio": {"sample_rate": 22050}, "phoneme_type": phonemes,
                                      "espeak": {"voice": voice}}), encoding="utf-8")
        assert PiperEngine(str(model)).concurrency == expected


def test_a_cancelled_piper_engine_stops_at_its_next_sentence():
    """A Ctrl-C or a failed text cancels the engine: texts being said side by side end at
    their next sentence rather than keeping the build from stopping."""
    engine = PiperEngine()
    engine.cancel()
    with pytest.raises(VoiceError, match="stopped"):
        engine.synthesize("Breathe in. Breathe out. Relax your shoulders.")
