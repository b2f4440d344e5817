"""How the track sounds: the meter, the limiter, cue tones, clean joins, and the music bed.

Built tracks are measured with ffmpeg's own meter (`ebur128`), never only with ours.
"""

from __future__ import annotations

import re
from dataclasses import FrozenInstanceError, replace
from pathlib import Path

import numpy as np
import pytest

from routinecast.builder import BuildSettings, build, prepare
from routinecast.ffmpeg import decode_pcm, probe_chapters
from routinecast.loudness import SILENT, Peaks, gated, integrated, limiter_gain, true_peak_db
from routinecast.plan import TONE_MS, plan_to_dict
from routinecast.render import sample_index
from routinecast.routine import load_routine
from routinecast.sound import SoundSettings, Track
from routinecast.sound.levelling import voice_steps
from routinecast.sound.mixing import mix
from routinecast.sound.music import DUCK_RAMP_MS, MusicBed, duck_gains
from routinecast.sound.track import CHECK_LU, PEAK_SLACK_DB, QUIETER_SLACK_DB
from routinecast.tones import tone

from audio import RATE, ebur128, largest_joins, write_wav
from conftest import FIXTURES


def chord(seconds: float, rate: int = RATE) -> np.ndarray:
    """Stand-in music: a soft stereo chord progression, a little different in each ear."""
    t = np.arange(int(seconds * rate)) / rate
    left, right = np.zeros_like(t), np.zeros_like(t)
    for bar, notes in enumerate([(220, 277, 330), (196, 247, 294), (175, 220, 262)]):
        now = (t >= bar * seconds / 3) & (t < (bar + 1) * seconds / 3)
        for k, frequency in enumerate(notes):
            left[now] += (0.3 if k else 0.15) * np.sin(2 * np.pi * frequency * t[now])
            right[now] += (0.15 if k else 0.3) * np.sin(2 * np.pi * frequency * 1.003 * t[now])
    return 0.5 * np.stack([left, right], axis=1)


# -- the meter and the limiter, against ffmpeg ---------------------------------------------


def test_meter_reads_what_ffmpeg_reads(tmp_path):
    rng = np.random.default_rng(7)
    t = np.arange(6 * RATE) / RATE
    signal = 0.3 * np.sin(2 * np.pi * 440 * t) * (t > 1) + 0.05 * rng.standard_normal(len(t))
    signal[int(3.2 * RATE): int(4.1 * RATE)] = 0
    write_wav(tmp_path / "x.wav", signal)
    theirs, their_peak = ebur128(tmp_path / "x.wav")
    quantised = np.round(signal * 32767) / 32767
    assert integrated(quantised, RATE) == pytest.approx(theirs, abs=0.1)
    assert true_peak_db(quantised) == pytest.approx(their_peak, abs=0.15)
    stereo = np.stack([quantised, 0.5 * quantised], axis=1)
    write_wav(tmp_path / "s.wav", stereo)
    assert integrated(stereo, RATE) == pytest.approx(ebur128(tmp_path / "s.wav")[0], abs=0.1)


def test_limiter_holds_the_ceiling_and_leaves_quiet_parts_alone():
    t = np.arange(RATE) / RATE
    loud = np.sin(2 * np.pi * 3000 * t) * np.where(t < 0.5, 0.2, 1.4)
    gain = limiter_gain(Peaks.of(loud), 1.0, RATE, -2.0)
    limited = loud * gain
    assert true_peak_db(limited) <= -2.0 + 0.05
    assert np.all(gain[: int(0.49 * RATE)] == 1.0)  # untouched until 5 ms before the peaks
    assert limiter_gain(Peaks.of(loud), 0.1, RATE, -2.0) is None
    assert true_peak_db(loud * 2 * limiter_gain(Peaks.of(loud), 2.0, RATE, -2.0)) <= -1.95


# -- cue tones -----------------------------------------------------------------------------


def test_builtin_tones_are_a_distinct_set_of_bells():
    names = list(TONE_MS)
    sounds = {name: tone(name, RATE) for name in names}
    for name, wave in sounds.items():
        assert len(wave) == TONE_MS[name] * RATE // 1000
        quarter = len(wave) // 4
        # a struck bell dies away: the last quarter is much quieter than the loudest
        energy = [float(np.mean(wave[i * quarter:(i + 1) * quarter] ** 2)) for i in range(4)]
        assert energy[3] < max(energy) / 4, name
        # more than one partial: the strongest frequency holds well under all the energy
        spectrum = np.abs(np.fft.rfft(wave)) ** 2
        peak = int(np.argmax(spectrum))
        assert spectrum[max(peak - 20, 0): peak + 20].sum() < 0.97 * spectrum.sum(), name
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            x, y = sounds[a], sounds[b]
            n = min(len(x), len(y))
            correlation = np.max(np.abs(np.correlate(x[:n], y[:n], mode="full")))
            assert correlation / np.sqrt(np.sum(x[:n] ** 2) * np.sum(y[:n] ** 2)) < 0.5, (a, b)


def test_a_sound_turned_off_leaves_the_plan(write_routine):
    text = ("title: T\ndefaults:\n  sounds: {end: off, switch: off, start: on}\n"
            "exercises:\n  - name: A\n    sides: true\n    hold: 5s\n")
    prepared = prepare(load_routine(write_routine(text)))
    labels = [s.label for s in prepared.plan.segments if s.kind == "tone"]
    assert labels == ["start", "start"]
    for hold in prepared.plan.holds:  # the start sound ends as the hold begins
        tone_segment = next(s for s in prepared.plan.segments if s.end_ms == hold.start_ms)
        assert tone_segment.label == "start"


def test_own_sound_file_replaces_a_tone_and_joins_without_a_click(write_routine, tmp_path,
                                                                  speech_cache):
    # a harsh sound that starts and stops at full level: a click unless its edges are faded
    t = np.arange(int(0.25 * RATE)) / RATE
    write_wav(tmp_path / "clack.wav", 0.9 * np.sign(np.sin(2 * np.pi * 300 * t + 0.3)))
    path = write_routine("title: T\ndefaults:\n  sounds: {end: clack.wav}\nexercises:\n"
                         "  - name: A\n    hold: 3s\n  - name: B\n    hold: 2s\n")
    [built] = build([path], tmp_path / "out", BuildSettings(cache_dir=speech_cache))
    ends = [s for s in built.plan.segments if s.label == "end"]
    assert [s.duration_ms for s in ends] == [250, 250]
    pcm = decode_pcm(built.path, RATE)
    for segment, at_join, inside in largest_joins(pcm, built.plan):
        assert at_join <= inside, (segment, at_join, inside)
    # it is the file's sound that plays: a square wave's odd harmonics at 300 Hz steps
    start = sample_index(ends[0].start_ms, RATE)
    spectrum = np.abs(np.fft.rfft(pcm[start + 500: start + 500 + 8192].astype(float)))
    frequencies = np.fft.rfftfreq(8192, 1 / RATE)
    assert abs(frequencies[np.argmax(spectrum)] - 300) < 10


@pytest.mark.parametrize("sound, message", [
    ("missing.wav", 'defaults.sounds.end: "missing.wav" is not a file'),
    ("notes.txt", "defaults.sounds.end: notes.txt is not audio ffmpeg can read"),
    ("long.wav", "defaults.sounds.end: long.wav lasts 4.0s; the end sound must last at most 3s"),
])
def test_bad_sound_files(run, write_routine, tmp_path, sound, message):
    (tmp_path / "notes.txt").write_text("not audio")
    write_wav(tmp_path / "long.wav", 0.1 * np.ones(4 * RATE))
    path = write_routine(f"title: T\ndefaults:\n  sounds: {{end: {sound}}}\n"
                         "exercises:\n  - name: A\n")
    result = run("build", path, "-o", tmp_path / "out")
    assert result.exit_code == 2
    assert message in result.stderr and result.stderr.count("\n") == 1
    assert not (tmp_path / "out").exists()


# -- loudness targets ----------------------------------------------------------------------


def test_loudness_option_and_stereo(run, tmp_path):
    result = run("build", FIXTURES / "small.yaml", "-o", tmp_path / "quiet.mp3",
                 "--loudness", "-20")
    assert result.exit_code == 0, result.output
    loudness, peak = ebur128(tmp_path / "quiet.mp3", dualmono=True)
    assert loudness == pytest.approx(-20, abs=1) and peak <= -1
    assert "-20." in result.stdout or "-19." in result.stdout  # the loudness it reports
    result = run("build", FIXTURES / "small.yaml", "-o", tmp_path / "wide.mp3", "--stereo")
    assert result.exit_code == 0, result.output
    pcm = decode_pcm(tmp_path / "wide.mp3", RATE, channels=2)
    assert np.array_equal(pcm[:, 0], pcm[:, 1])  # the voice in the centre
    loudness, peak = ebur128(tmp_path / "wide.mp3")
    assert loudness == pytest.approx(-16, abs=1) and peak <= -1


def test_voice_loudness_without_rendering_matches_the_meter(speech_cache):
    prepared = prepare(load_routine(FIXTURES / "small.yaml"),
                       BuildSettings(cache_dir=speech_cache))
    track = Track(prepared.plan, prepared.clips, prepared.sounds, RATE, SoundSettings())
    levels = track.levels.at(-19.0)
    rendered = np.concatenate(list(mix(prepared.plan, levels, RATE, 1, None)))
    steps = voice_steps(prepared.plan, levels.speech, levels.sounds, RATE)
    total = sample_index(prepared.plan.duration_ms, RATE)
    assert gated(steps, RATE // 10, total) == pytest.approx(
        integrated(rendered.astype(float) / 32768, RATE), abs=0.05)


def test_calibration_returns_the_track_at_its_level_and_a_correction_a_new_one(speech_cache):
    """Only a calibrated track can be streamed; what the meter reads of a stream either
    leaves it standing or gives a new track at the corrected level (once at most), and the
    first one is left as it was."""
    prepared = prepare(load_routine(FIXTURES / "small.yaml"),
                       BuildSettings(cache_dir=speech_cache))
    track = Track(prepared.plan, prepared.clips, prepared.sounds, RATE,
                  SoundSettings()).calibrate()
    assert track.corrections == 0 and track.channels == 1
    assert track.read(track.predicted) == track.measured == track.read(SILENT)
    assert track.corrected(track.predicted + CHECK_LU / 2) is None  # on target: it stands
    assert track.corrected(SILENT) is None  # the meter read nothing
    corrected = track.corrected(track.predicted - 0.5)  # read half an LU quiet
    assert corrected.speech_lufs == track.speech_lufs + 0.5 and corrected.corrections == 1
    assert corrected.predicted > track.predicted and corrected.measured != track.measured
    assert corrected.corrected(corrected.predicted - 0.5) is None  # one correction at most
    assert track.corrections == 0 and track.corrected(track.predicted - 0.5) == corrected
    with pytest.raises(FrozenInstanceError):
        track.speech_lufs = 0.0


def test_a_file_read_over_the_true_peak_target_is_limited_further(speech_cache):
    """Read back over the target, the track is calibrated again with its clips and mix
    limited further under it by as much as it read over, and a margin (twice at most),
    at the level the stream's meter showed to meet the loudness target."""
    prepared = prepare(load_routine(FIXTURES / "small.yaml"),
                       BuildSettings(cache_dir=speech_cache))
    track = Track(prepared.plan, prepared.clips, prepared.sounds, RATE,
                  SoundSettings()).calibrate()
    on_target = track.predicted
    assert track.peak_corrected(-1.2, on_target) is None
    assert track.peak_corrected(-1.0, on_target) is None
    lower = track.peak_corrected(-0.4, on_target)  # 0.6 dB over
    assert lower.track.ceiling == pytest.approx(track.track.ceiling - 0.6 - PEAK_SLACK_DB)
    assert lower.measured.true_peak_db <= lower.track.ceiling + 1e-9
    assert abs(lower.measured.loudness_lufs - track.measured.loudness_lufs) < 0.2
    # the stream read half an LU quiet: the track limited further is set that much louder
    quiet = track.peak_corrected(-0.4, on_target - 0.5)
    assert quiet.speech_lufs == pytest.approx(lower.speech_lufs + 0.5)
    assert quiet.corrections == track.corrections  # loudness corrections are not reset
    lowest = lower.peak_corrected(-0.9, lower.predicted)  # a little over still: once more
    assert lowest.track.ceiling == pytest.approx(lower.track.ceiling - 0.1 - PEAK_SLACK_DB)
    assert lowest.peak_corrected(-0.4, lowest.predicted) is None  # twice at most


def test_a_file_limiting_cannot_bring_under_is_made_quieter_as_a_whole(speech_cache):
    """Where limiting further makes the coded peaks higher (a hard-clipped hit codes worse
    the flatter its top), the track is made quieter by as much as it read over and a
    margin: its level and its limiter's ceiling go down together, so its samples are the
    same mix scaled, and the coded peaks come down with them."""
    prepared = prepare(load_routine(FIXTURES / "small.yaml"),
                       BuildSettings(cache_dir=speech_cache))
    track = Track(prepared.plan, prepared.clips, prepared.sounds, RATE,
                  SoundSettings()).calibrate()
    assert track.quieter(-1.0) is None and track.quieter(-1.5) is None  # under the target
    quieter = track.quieter(-0.7)  # 0.3 dB over
    down = 0.3 + QUIETER_SLACK_DB
    assert quieter.speech_lufs == pytest.approx(track.speech_lufs - down)
    assert quieter.track.ceiling == pytest.approx(track.track.ceiling - down)
    loud, soft = (np.concatenate(list(t.blocks())).astype(np.float64) for t in (track, quieter))
    gain = 10 ** (-down / 20)
    assert np.abs(soft - loud * gain).max() <= 2  # the same mix, scaled (int16 rounding)
    assert quieter.measured.loudness_lufs == pytest.approx(
        track.measured.loudness_lufs - down, abs=0.05)


def test_music_that_limiting_makes_worse_keeps_the_lower_peak(run, tmp_path):
    """A hard-clipped bass loop under the speech, loud and barely ducked: limited further it
    can read higher, and with some takes of the voice its loudness cannot reach the target
    under the true-peak limit at all. The build still writes the file it found best, and
    says what it is: the loudness it prints is the file's, and a peak over the target is
    noted."""
    t = np.arange(4 * RATE) / RATE
    bass = np.clip(3 * np.sin(2 * np.pi * 55 * t), -1, 1)
    write_wav(tmp_path / "bass.wav", np.stack([bass, bass], axis=1) * 0.99)
    result = run("build", FIXTURES / "small.yaml", "-o", tmp_path / "x.mp3", "--music",
                 tmp_path / "bass.wav", "--music-level", "-10", "--duck", "6")
    assert result.exit_code == 0, result.output
    loudness, peak = ebur128(tmp_path / "x.mp3")
    said = float(re.search(r"(-?\d+\.\d) LUFS\)", result.output).group(1))
    assert said == pytest.approx(loudness, abs=0.3)
    # -16.6 to -17.2 LUFS in the takes tried: the limiter takes what the target would need
    assert loudness == pytest.approx(-16, abs=1.5)
    # over the target, the file says so (ffmpeg's meter rounds to a tenth)
    assert ("reads a true peak of" in result.output) == (peak > -1.0) or peak == -1.0


# -- the music bed -------------------------------------------------------------------------


def test_duck_gains_ramp_under_each_cue():
    rate = 1000  # one sample a millisecond
    gains = duck_gains([(1000, 1500)], 0, 3000, rate, 12.0)
    floor = 10 ** (-12 / 20)
    assert gains[0] == 1.0 and gains[2999] == 1.0
    assert np.allclose(gains[1000:1501], floor)
    ramp = gains[1000 - DUCK_RAMP_MS: 1001]
    assert np.all(np.diff(ramp) <= 0) and gains[1000 - DUCK_RAMP_MS - 1] == 1.0


@pytest.fixture(scope="module")
def with_music(tmp_path_factory, speech_cache):
    """small.yaml built with an 8-second music file (so it must loop), and its stems."""
    folder = tmp_path_factory.mktemp("music")
    write_wav(folder / "chords.wav", chord(8.0))
    settings = BuildSettings(cache_dir=speech_cache,
                             sound=SoundSettings(music=(folder / "chords.wav",)))
    [built] = build([FIXTURES / "small.yaml"], folder / "out", settings)
    prepared = prepare(load_routine(FIXTURES / "small.yaml"), settings)
    track = Track(prepared.plan, prepared.clips, prepared.sounds, RATE, settings.sound)
    levels = track.levels.at(track.calibrate().speech_lufs)
    voice = np.concatenate(list(mix(prepared.plan, levels, RATE, 2, None)))
    silent = replace(levels, speech={text: np.zeros_like(c) for text, c in levels.speech.items()},
                     sounds={name: np.zeros_like(c) for name, c in levels.sounds.items()})
    bed = MusicBed(track.music_files, prepared.plan, RATE,
                   levels.speech_lufs + settings.sound.music_level_lu, settings.sound.duck_db)
    music = np.concatenate(list(mix(prepared.plan, silent, RATE, 2, bed)))
    return built, voice, music, folder


def test_music_bed_track_meets_the_targets_and_keeps_the_plan(with_music, speech_cache):
    built, _, _, _ = with_music
    pcm = decode_pcm(built.path, RATE, channels=2)
    assert not np.array_equal(pcm[:, 0], pcm[:, 1])  # the music is in stereo
    loudness, peak = ebur128(built.path)
    assert loudness == pytest.approx(-16, abs=1) and peak <= -1
    plain = prepare(load_routine(FIXTURES / "small.yaml"), BuildSettings(cache_dir=speech_cache))
    assert plan_to_dict(built.plan) == plan_to_dict(plain.plan)
    assert len(pcm) == sample_index(built.plan.duration_ms, RATE)
    probed = probe_chapters(built.path)
    assert [(c.title, c.start_ms) for c in probed] == [
        (c.title, pytest.approx(c.start_ms, abs=1)) for c in built.plan.leaf_chapters()]


def test_music_is_at_least_10_db_under_speech_while_speech_plays(with_music, tmp_path):
    built, voice, music, _ = with_music
    spans = [(sample_index(s.start_ms, RATE), sample_index(s.end_ms, RATE))
             for s in built.plan.segments if s.kind == "speech"]
    during = np.concatenate([np.arange(a, b) for a, b in spans])
    write_wav(tmp_path / "voice.wav", voice[during] / 32768)
    write_wav(tmp_path / "music.wav", music[during] / 32768)
    speech_level, _ = ebur128(tmp_path / "voice.wav")
    music_level, _ = ebur128(tmp_path / "music.wav")
    assert speech_level - music_level >= 10
    # between cues the bed comes back up by the duck depth
    holds = np.concatenate([np.arange(sample_index(h.start_ms + 500, RATE),
                                      sample_index(h.end_ms - 500, RATE))
                            for h in built.plan.holds])
    write_wav(tmp_path / "bed.wav", music[holds] / 32768)
    bed_level, _ = ebur128(tmp_path / "bed.wav")
    assert bed_level - music_level == pytest.approx(12, abs=2.5)


def test_music_loops_and_fades(with_music):
    built, _, music, _ = with_music
    level = np.abs(music.astype(float)).max(axis=1)
    total = len(level)
    assert total > 2 * 8 * RATE  # longer than the music: it looped
    assert level[: RATE // 10].max() < level[3 * RATE: 4 * RATE].max() / 4  # fades in
    assert level[-RATE // 10:].max() < level[total - 8 * RATE: total - 6 * RATE].max() / 4
    late_hold = built.plan.holds[-1]
    middle = sample_index((late_hold.start_ms + late_hold.end_ms) // 2, RATE)
    assert level[middle - 1000: middle + 1000].max() > 100  # still playing after a loop


@pytest.mark.parametrize("level, output", [("-6", "mp3"), ("-12", "mp3"), ("-12", "m4b"),
                                           ("-12", "split")])
def test_loud_percussive_music_keeps_true_peak_under_the_limit(run, tmp_path, level, output):
    """Peaks that only the music makes are limited too (the clips are limited on their own),
    over tens of milliseconds: a gain changed within the cycles of a hit flat-tops it, and
    the encoder rebuilds such peaks over the ceiling (at -12, up to -0.5 dBTP); read back
    over the target, the file is limited further, or made quieter, until it is under."""
    hits = np.zeros((6 * RATE, 2))
    for start in range(0, len(hits), RATE // 2):  # a hard transient every half second
        n = np.arange(2000)
        hits[start: start + 2000] = (np.sign(np.sin(2 * np.pi * 180 * n / RATE))
                                     * np.exp(-n / 300))[:, None]
    write_wav(tmp_path / "hits.wav", hits)
    form = {"mp3": [], "m4b": ["--format", "m4b"], "split": ["--split"]}[output]
    name = "x.m3u8" if output == "split" else f"x.{output}"
    result = run("build", FIXTURES / "small.yaml", "-o", tmp_path / name, "--music",
                 tmp_path / "hits.wav", "--music-level", level, "-q", *form)
    assert result.exit_code == 0, result.output
    if output == "split":  # each part is read back (the whole is louder than any part)
        parts = sorted((tmp_path / "x").glob("*.mp3"))
        assert len(parts) > 2
        assert max(ebur128(part)[1] for part in parts) <= -1
        return
    loudness, peak = ebur128(tmp_path / name)
    # the true peak comes first: a take whose hits still code over the target once limited
    # further is made quieter as a whole (40 fresh builds: -15.8 to -17.06 LUFS)
    assert peak <= -1 and loudness == pytest.approx(-16, abs=1.5)


@pytest.mark.parametrize("output", ["mp3", "m4b", "split"])
def test_every_file_of_a_music_build_is_read_back_for_its_true_peak(run, tmp_path,
                                                                    monkeypatch, output):
    """An audiobook's encoder and each part of a split track can code peaks over the target
    as the MP3's does: each file written is decoded once and its true peak read."""
    import routinecast.builder as builder

    read = []
    real = builder.decode_stream
    monkeypatch.setattr(builder, "decode_stream",
                        lambda path, *args, **kw: read.append(Path(path)) or real(path, *args, **kw))
    write_wav(tmp_path / "m.wav", chord(3.0))
    form = {"mp3": [], "m4b": ["--format", "m4b"], "split": ["--split"]}[output]
    result = run("build", FIXTURES / "small.yaml", "-o", tmp_path / "out", "--music",
                 tmp_path / "m.wav", "-q", *form)
    assert result.exit_code == 0, result.output
    suffix = ".m4b" if output == "m4b" else ".mp3"
    written = sorted(p.name for p in (tmp_path / "out").rglob(f"*{suffix}"))
    assert len(written) >= (3 if output == "split" else 1)
    # each read once (a correction, rare with a steady chord, would read them again)
    assert len(read) % len(written) == 0 and len(read) >= len(written)
    assert all(path.suffix == suffix for path in read)
    if output == "split":  # the parts are read in their temporary folder, by their names
        assert {path.name for path in read} == set(written)


def test_music_loops_without_a_gap():
    """Each file fades out as the next (or the loop's start) fades in: no hole at the join."""
    from routinecast.sound.music import _faded

    steady = [np.full((1000, 2), 0.5) for _ in range(10)]
    out = np.concatenate(list(_faded(iter(steady), 441)))
    assert len(out) == 10_000 - 441 and out[0, 0] == 0.0 and out[-1, 0] == 0.5
    tail = _faded(iter([np.full((100, 2), 0.5)]), 441)
    assert list(tail) == []  # shorter than its two fades: nothing to play


def test_music_level_must_stay_10_db_under_speech(run, tmp_path):
    write_wav(tmp_path / "m.wav", chord(3.0))
    result = run("build", FIXTURES / "small.yaml", "-o", tmp_path / "x.mp3", "--music",
                 tmp_path / "m.wav", "--music-level", "-4", "--duck", "5")
    assert result.exit_code == 2
    assert result.stderr == ("--music-level -4 with --duck 5 would leave the music 9 dB under "
                             "the speech; keep it at least 10 dB under (the defaults, -18 and "
                             "12, leave 30)\n")
    assert not (tmp_path / "x.mp3").exists()


def test_music_folder_playlist_and_mono(run, tmp_path):
    folder = tmp_path / "playlist"
    folder.mkdir()
    write_wav(folder / "b.wav", chord(3.0))
    write_wav(folder / "a.wav", 0.5 * chord(3.0))
    (folder / "cover.jpg").write_bytes(b"not music")
    result = run("build", FIXTURES / "small.yaml", "-o", tmp_path / "m.mp3", "--music", folder,
                 "--mono", "-q")
    assert result.exit_code == 0, result.output
    assert decode_pcm(tmp_path / "m.mp3", RATE, channels=2).shape[1] == 2
    pcm = decode_pcm(tmp_path / "m.mp3", RATE, channels=2)
    assert np.array_equal(pcm[:, 0], pcm[:, 1])  # --mono: one channel, played on both
    loudness, peak = ebur128(tmp_path / "m.mp3", dualmono=True)
    assert loudness == pytest.approx(-16, abs=1) and peak <= -1


@pytest.mark.parametrize("make, message", [
    (lambda d: d / "nope.mp3", "no such file or folder"),
    (lambda d: (d / "empty").mkdir() or d / "empty", "the folder has no audio files"),
    (lambda d: (d / "x.mp3").write_text("no") and d / "x.mp3", "not audio ffmpeg can read"),
    (lambda d: write_wav(d / "tiny.wav", np.ones((1000, 2)) * 0.1) or d / "tiny.wav",
     "too short to play under a routine"),
    (lambda d: "/dev/null", "not an audio file or a folder"),
])
def test_bad_music_is_one_line_exit_2(run, tmp_path, make, message):
    music = make(tmp_path)
    result = run("build", FIXTURES / "small.yaml", "-o", tmp_path / "out", "--music", music)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"--music {music}: {message}")
    assert result.stderr.count("\n") == 1 and not (tmp_path / "out").exists()



@pytest.mark.parametrize("channels", [2, 1])
def test_the_bed_estimated_from_its_files_reads_as_the_bed_played(with_music, speech_cache,
                                                                   channels):
    """Calibration takes the music's loudness from each file's own, measured once, and the
    bed's envelope, without playing the bed: it reads as the bed played does."""
    _, _, _, folder = with_music
    plan = prepare(load_routine(FIXTURES / "small.yaml"),
                   BuildSettings(cache_dir=speech_cache)).plan
    bed = MusicBed((folder / "chords.wav",), plan, RATE, -30.0, 12.0, -2.5)
    total = sample_index(plan.duration_ms, RATE)
    assert gated(bed.estimated_steps(channels), RATE // 10, total) == pytest.approx(
        gated(bed.steps(channels), RATE // 10, total), abs=0.05)


def test_a_stream_s_true_peak_is_read_where_it_can_reach_the_floor_alone():
    """The encoded track's check reads its true peak block by block, upsampling only
    around samples loud enough to reach the floor: the same figure as reading it whole,
    wherever the loud samples fall against the blocks' edges."""
    from routinecast.loudness import stream_true_peak_db, true_peak_db

    rng = np.random.default_rng(7)
    for at in (31_000, 32_766, 32_767, 32_768, 40_955, 49_990):
        signal = (rng.standard_normal((50_000, 2)) * 0.05).clip(-1, 1)
        signal[at, 1], signal[at + 1, 1] = 0.9, -0.9  # a click, in the second channel
        pcm = np.round(signal * 32767).astype(np.int16)
        whole = max(true_peak_db(pcm[:, c] / 32768) for c in range(2))
        for size in (4096, 1 << 15):
            blocks = [pcm[i: i + size] for i in range(0, len(pcm), size)] + [pcm[:0]]
            assert stream_true_peak_db(iter(blocks), -6.0) == pytest.approx(whole, abs=1e-9)
        assert whole > -1.0  # the click's true peak is over its samples
        assert stream_true_peak_db(iter([pcm]), 6.0) == 6.0  # under the floor: the floor
    # a low tone near full scale, faded: no block edge may read as a peak
    t = np.arange(3 * RATE) / RATE
    tone = 0.85 * np.sin(2 * np.pi * 30 * t) * np.minimum(1, np.minimum(t, t[::-1]) * 4)
    pcm = np.round(tone * 32767).astype(np.int16)
    blocks = [pcm[i: i + 4096] for i in range(0, len(pcm), 4096)]
    assert stream_true_peak_db(iter(blocks), -6.0) == pytest.approx(
        true_peak_db(pcm / 32768), abs=1e-9)
