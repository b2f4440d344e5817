"""More voices: gTTS through its real library code (answered locally), espeak-ng for real,
a second piper voice given by path, languages, `--fallback`, and `routinecast voices`."""

from __future__ import annotations

import shutil
import threading
import time

import numpy as np
import pytest

from routinecast.builder import BuildSettings
from routinecast.errors import EngineUnavailable, InputError, LanguageError, VoiceError
from routinecast.models import Voice
from routinecast.plan import spoken_texts
from routinecast.routine import load_routine
from routinecast.tagging import read_tags
from routinecast.tts import google, open_engine
from routinecast.tts.piper import PiperEngine

from conftest import FIXTURES
from fake_gtts import FakeGoogle, google_answered_by

OFFLINE_LINE = "gTTS needs internet access; use --engine piper for the offline voice\n"
needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None,
                                  reason="espeak-ng is not installed (scripts/test installs it)")


@pytest.fixture
def fake_google(monkeypatch):
    monkeypatch.setattr(google, "BACKOFF_S", 0.01)  # the schedule, not its length, is tested
    fake = FakeGoogle()
    with google_answered_by(fake):
        yield fake
    fake.close()


@pytest.fixture
def no_network():
    with google_answered_by(None):
        yield


def texts_of(path) -> set[str]:
    return set(spoken_texts(load_routine(path)))


# -- gTTS -------------------------------------------------------------------------------


def test_gtts_build_through_the_real_library(fake_google, tmp_path, run):
    result = run("build", FIXTURES / "small.yaml", "-o", tmp_path / "g.mp3", "--engine", "gtts",
                 "--voice", "co.uk slow")
    assert result.exit_code == 0, result.output
    assert {r.host for r in fake_google.seen} == {"translate.google.co.uk"}
    assert all(r.lang == "en" and r.slow for r in fake_google.seen)
    assert {r.text for r in fake_google.seen} == texts_of(FIXTURES / "small.yaml")
    carried = read_tags(tmp_path / "g.mp3").routine_text
    assert "engine: gtts" in carried and "name: co.uk slow" in carried

    # the cache holds every text: a rebuild needs no network at all
    with google_answered_by(None):
        again = run("build", FIXTURES / "small.yaml", "-o", tmp_path / "again.mp3", "--engine",
                    "gtts", "--voice", "co.uk slow")
    assert again.exit_code == 0, again.output


def test_gtts_waits_and_retries_after_429_and_5xx(fake_google, tmp_path, speech_cache):
    fake_google.script = [429, 503, 429]
    engine = open_engine(Voice(engine="gtts"), "en-GB")
    samples = engine.synthesize("Breathe out.")
    assert len(samples) > 0.5 * google.SAMPLE_RATE
    assert [r.text for r in fake_google.seen] == ["Breathe out."] * 4
    assert fake_google.seen[0].host == "translate.google.co.uk"  # en-GB's accent


def test_gtts_gives_up_on_endless_429_with_a_clear_error(fake_google):
    fake_google.script = [429] * (google.RETRIES + 1)
    engine = open_engine(Voice(engine="gtts"), "en")
    with pytest.raises(EngineUnavailable, match="429 Too Many Requests.* after 5 tries"):
        engine.synthesize("Breathe out.")
    assert len(fake_google.seen) == google.RETRIES + 1


def test_gtts_requests_time_out(fake_google, monkeypatch):
    monkeypatch.setattr(google, "TIMEOUT_S", (0.2, 0.2))
    fake_google.delay_s = 3.0  # Google accepts, then never answers in time
    engine = open_engine(Voice(engine="gtts"), "en")
    started = time.monotonic()
    with pytest.raises(EngineUnavailable, match="gTTS did not answer within 0.2 s"):
        engine.synthesize("Breathe out.")
    assert time.monotonic() - started < 2.0


def test_gtts_gives_up_on_5xx_and_on_long_retry_after(fake_google):
    fake_google.script = [503] * (google.RETRIES + 1)
    engine = open_engine(Voice(engine="gtts"), "en")
    with pytest.raises(EngineUnavailable, match=r"refusing requests \(503 .*after 5 tries"):
        engine.synthesize("Breathe out.")
    fake_google.script, fake_google.retry_after = [429], "3600"
    started = time.monotonic()
    with pytest.raises(EngineUnavailable, match=r"\(429 .*after 1 tries"):
        engine.synthesize("Breathe out.")
    assert time.monotonic() - started < 5


def test_a_cancelled_gtts_engine_stops_waiting_to_retry(fake_google, monkeypatch):
    monkeypatch.setattr(google, "BACKOFF_S", 20.0)
    fake_google.script = [503]
    engine = open_engine(Voice(engine="gtts"), "en")
    failure = []

    def speak():
        try:
            engine.synthesize("Breathe out.")
        except VoiceError as exc:
            failure.append(exc)

    worker = threading.Thread(target=speak)
    worker.start()
    time.sleep(0.3)
    engine.cancel()
    worker.join(timeout=3)
    assert not worker.is_alive() and failure


def test_gtts_never_turns_a_failure_into_silence(fake_google):
    fake_google.script = [404]
    with pytest.raises(VoiceError, match="gTTS failed to speak 'Breathe out.'"):
        open_engine(Voice(engine="gtts"), "en").synthesize("Breathe out.")


def test_gtts_requests_are_bounded(fake_google, tmp_path, speech_cache):
    fake_google.delay_s = 0.2
    settings = BuildSettings(cache_dir=tmp_path / "cache")
    routine = load_routine(FIXTURES / "small.yaml")
    from routinecast.tts import synthesize_all

    clips = synthesize_all(spoken_texts(routine), open_engine(Voice(engine="gtts"), "en"),
                           settings.cache(), 44_100)
    assert len(clips) == len(texts_of(FIXTURES / "small.yaml"))
    assert 1 < fake_google.most_at_once <= google.CONCURRENCY


def test_gtts_speed_stretches_time_not_pitch(fake_google):
    normal = open_engine(Voice(engine="gtts"), "en").synthesize("Hold.")
    fast = open_engine(Voice(engine="gtts", speed=1.5), "en").synthesize("Hold.")
    assert len(fast) / len(normal) == pytest.approx(1 / 1.5, rel=0.08)

    def pitch(samples):
        spectrum = np.abs(np.fft.rfft(samples.astype(float)))
        return np.argmax(spectrum) * google.SAMPLE_RATE / len(samples)

    assert pitch(fast) == pytest.approx(330, abs=10) and pitch(normal) == pytest.approx(330, abs=10)


def test_gtts_without_network_fails_fast_with_one_line_and_writes_nothing(no_network, tmp_path,
                                                                          run):
    started = time.monotonic()
    result = run("build", FIXTURES / "small.yaml", "-o", tmp_path / "out", "--engine", "gtts")
    assert time.monotonic() - started < 30
    assert result.exit_code == 1
    assert result.stderr == OFFLINE_LINE
    assert not (tmp_path / "out").exists()


def test_fallback_continues_with_another_engine_and_says_so(no_network, tmp_path, run):
    result = run("build", FIXTURES / "small.yaml", "-o", tmp_path / "f.mp3", "--engine", "gtts",
                 "--fallback", "piper")
    assert result.exit_code == 0, result.output
    assert result.stderr == ("note: gTTS needs internet access; speaking small.yaml with piper "
                             "instead (--fallback)\n")
    carried = read_tags(tmp_path / "f.mp3").routine_text
    assert "engine: piper" in carried
    assert "# spoken by piper (--fallback): gtts could not be used" in carried


def test_fallback_also_covers_google_refusing(fake_google, tmp_path, run):
    fake_google.script = [429] * 50
    result = run("plan", FIXTURES / "small.yaml", "--engine", "gtts", "--fallback", "piper",
                 "--json")
    assert result.exit_code == 0, result.output
    assert "429 Too Many Requests" in result.stderr and "with piper instead" in result.stderr


def test_gtts_languages_and_voices_are_checked_before_any_request(fake_google):
    with pytest.raises(InputError, match="gTTS cannot speak the routine's language `xx`"):
        open_engine(Voice(engine="gtts"), "xx")
    with pytest.raises(InputError, match="unknown gTTS voice `uk`"):
        open_engine(Voice(engine="gtts", name="uk"), "en")
    assert open_engine(Voice(engine="gtts"), "he").voice_id == "iw|com|normal"
    assert open_engine(Voice(engine="gtts"), "pt-BR").voice_id == "pt|com.br|normal"
    assert open_engine(Voice(engine="gtts"), "fr-CA").voice_id == "fr-CA|ca|normal"
    assert fake_google.seen == []


# -- languages --------------------------------------------------------------------------


def test_an_engine_that_cannot_speak_the_language_names_those_that_can(write_routine, run):
    routine = write_routine("title: Dehnen\nlanguage: de\n"
                            "exercises:\n  - {name: Katze, hold: 2s}\n")
    result = run("validate", routine)
    assert result.exit_code == 2
    assert "speaks en_US" in result.stderr
    assert "gtts, espeak can speak it (--engine gtts)" in result.stderr
    assert result.stderr.count("\n") == 1
    # a voice chosen by name is told the same
    with pytest.raises(LanguageError, match="gtts, espeak can speak it"):
        open_engine(Voice(name=str(PiperEngine().model_path)), "de")
    assert open_engine(Voice(engine="gtts", name="co.uk"), "de").voice_id == "de|co.uk|normal"


# -- espeak-ng --------------------------------------------------------------------------


@needs_espeak
def test_espeak_builds_for_real_in_another_language(write_routine, tmp_path, run):
    routine = write_routine("title: Dehnen\nlanguage: de\n"
                            "exercises:\n  - {name: Katze und Kamel, hold: 2s, during: Atmen.}\n")
    result = run("build", routine, "-o", tmp_path / "de.mp3", "--engine", "espeak")
    assert result.exit_code == 0, result.output
    engine = open_engine(Voice(engine="espeak"), "de")
    assert engine.voice == "de"
    samples = engine.synthesize("Atmen Sie ruhig weiter.")
    assert samples.dtype == np.int16 and len(samples) > engine.sample_rate // 2
    assert np.abs(samples.astype(int)).max() > 1000


@needs_espeak
def test_espeak_speed_and_voice_names(write_routine):
    slow = open_engine(Voice(engine="espeak", speed=0.7), "en").synthesize("Stretch slowly now.")
    fast = open_engine(Voice(engine="espeak", speed=1.4), "en").synthesize("Stretch slowly now.")
    assert len(fast) < 0.7 * len(slow)
    assert open_engine(Voice(engine="espeak", name="en-gb"), "en").voice == "en-gb"
    with pytest.raises(InputError, match="unknown espeak-ng voice `klingon`"):
        open_engine(Voice(engine="espeak", name="klingon"), "en")
    with pytest.raises(InputError, match="does not speak the routine's language `en`"):
        open_engine(Voice(engine="espeak", name="de"), "en")


def test_missing_espeak_says_how_to_install_it(monkeypatch, tmp_path, run):
    monkeypatch.setenv("PATH", str(tmp_path))  # no espeak-ng anywhere
    result = run("build", FIXTURES / "small.yaml", "-o", tmp_path / "x.mp3", "--engine", "espeak")
    assert result.exit_code == 1
    assert "apt-get install espeak-ng" in result.stderr and result.stderr.count("\n") == 1
    assert not (tmp_path / "x.mp3").exists()
    fallback = run("build", FIXTURES / "small.yaml", "-o", tmp_path / "x.mp3", "--engine",
                   "espeak", "--fallback", "piper")
    assert fallback.exit_code == 0, fallback.output


# -- piper, a second voice by path -------------------------------------------------------


def test_a_second_piper_voice_by_path_builds(tmp_path, write_routine, run):
    bundled = PiperEngine()
    voice = tmp_path / "voices" / "copy.onnx"
    voice.parent.mkdir()
    shutil.copy(bundled.model_path, voice)
    shutil.copy(bundled.config_path, f"{voice}.json")
    routine = write_routine(f"title: T\nvoice: {{name: '{voice}'}}\n"
                            "exercises:\n  - {name: Reach, hold: 2s}\n")
    result = run("build", routine, "-o", tmp_path / "copy.mp3")
    assert result.exit_code == 0, result.output
    assert f"name: {voice}" in read_tags(tmp_path / "copy.mp3").routine_text


# -- routinecast voices -----------------------------------------------------------------


def test_voices_lists_what_can_be_used_here(run, monkeypatch):
    monkeypatch.setattr(google, "PROBE_URL", "http://127.0.0.1:9/")  # nothing listens there
    result = run("voices")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    joe = next(line for line in lines if line.startswith("piper   joe"))
    assert "en_US" in joe and "usable: yes" in joe
    gtts = [line for line in lines if line.startswith("gtts")]
    assert len(gtts) == 1 + len(google.ACCENTS)
    assert all("usable: no: no network" in line for line in gtts)
    espeak = [line for line in lines if line.startswith("espeak")]
    if shutil.which("espeak-ng"):
        assert any(line.split()[1] == "de" and "usable: yes" in line for line in espeak)
    else:
        assert "apt-get install espeak-ng" in espeak[0]
    german = run("voices", "--language", "de", "--offline").stdout
    assert "piper   joe" not in german and "gtts    com" in german
    assert "usable: not checked" in german


def test_voices_sees_google_when_it_answers(run, fake_google, monkeypatch):
    monkeypatch.setattr(google, "PROBE_URL", fake_google.base_url + "/")
    gtts = [line for line in run("voices", "--engine", "gtts").stdout.splitlines()
            if line.startswith("gtts")]
    assert gtts and all(line.endswith("usable: yes") for line in gtts)
