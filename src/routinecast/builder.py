"""The builder: routine files → narrated, chaptered MP3s, written atomically.

routine file → Routine → speech clips → Plan → PCM stream → MP3 (temp file) → tags → rename.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

from . import __version__
from .cachefolder import mark_used, read_entry
from .cover import kept_cover, make_cover
from .dump import dump_routine
from .errors import (EngineUnavailable, InputError, OutputError, OverrideError, RoutineError,
                     TaggingError, setting)
from .files import (ensure_space, keep, remove_stale, replacing, replacing_folder,
                    unsafe_name, write_text_atomic)
from .ffmpeg import BookChapter, decode_stream, encode_m4b, encode_mp3, exact_length_ms
from .fitting import estimate_speech, fit_length
from .loudness import Figures, stream_true_peak_db
from .models import Change, Plan, Routine, Voice
from .saying import spoken_form
from .overrides import Customised, Overrides, customise
from .plan import lengthen, make_plan, spoken_texts
from .render import sample_index, total_samples
from .sound import (Calibrated, Effect, Measured, SoundSettings, Track, check_music,
                    clip_figures, cue_sounds, playlist, sound_files, sound_lengths)
from .routine import load_routine, slugify
from .tagging import read_build, read_tags, write_m4b_build, write_tags
from .tts import open_engine, synthesize_all, voice_files
from .tts.cache import ClipCache, default_cache_dir
from .lazy import lazy_module

np = lazy_module("numpy")  # see lazy.py: loaded when first used

Progress = Callable[[str, int, int], None]
"""Called as progress(stage, done, total) while a long step runs; stage names the step."""

MIN_BITRATE, MAX_BITRATE = 32, 320
SAMPLE_RATES = (22_050, 24_000, 32_000, 44_100, 48_000)
CHECK_RATE = 44_100
"""Rate at which cue sound files are decoded to check them before building: the usual
track rate, so that a very short sound is judged as it will be heard."""


@dataclass(frozen=True)
class BuildSettings:
    """How routines are turned into audio (not what they contain)."""

    sample_rate: int = 44_100
    """Sample rate of the whole track, in Hz."""
    bitrate_kbps: int | None = None
    """Constant bitrate of the MP3, in kbit/s; None: 96 for mono, 128 for stereo."""
    sound: SoundSettings = SoundSettings()
    """Loudness, music bed and channels."""
    cache_dir: Path | None = None
    """Speech cache folder; None means `$ROUTINECAST_CACHE` or the user's cache directory."""
    format: str = "mp3"
    """`mp3`, or `m4b`: an AAC audiobook with chapters, for audiobook players."""
    split: bool = False
    """One MP3 per chapter in a folder, with an `.m3u8` playlist beside it, instead of one
    MP3."""
    fallback: str | None = None
    """Engine to speak with when the routine's cannot be used here (no network, not
    installed); None: such a build fails."""
    force: bool = False
    """Build even an output that is up to date (see `build_key`)."""

    def cache(self) -> ClipCache:
        return ClipCache(self.cache_dir or default_cache_dir())

    @property
    def bitrate(self) -> int:
        return self.bitrate_kbps or (96 if self.sound.channels == 1 else 128)


@dataclass(frozen=True)
class Prepared:
    """A routine with its speech synthesised and its plan made: everything but the audio."""

    routine: Routine
    """The validated routine."""
    plan: Plan
    """Its timeline, made from the real clip lengths."""
    clips: dict[str, np.ndarray]
    """Each spoken text's samples at the settings' sample rate, as the voice made them."""
    sounds: dict[str, np.ndarray]
    """Each cue sound in use, as float samples at the settings' sample rate."""
    changes: tuple[Change, ...] = ()
    """The values a target length (`Routine.length_ms`) chose, for the overrides table."""
    figures: dict[str, Figures] = field(default_factory=dict)
    """Each clip's loudness figures, as kept in the speech cache (a clip without them is
    measured when the track is levelled)."""
    sound_figures: dict[str, Figures] = field(default_factory=dict)
    """Each cue sound's loudness figures, likewise."""


@dataclass(frozen=True)
class Built:
    """One MP3 written."""

    path: Path
    """Where the MP3 now is."""
    plan: Plan
    """The plan it was built from, which its audio and chapters match."""
    measured: Measured
    """Its loudness and true peak as mixed."""
    routine: Routine
    """The routine as built (overrides applied)."""
    routine_text: str
    """That routine as a routine file, as an MP3 carries it."""


def prepare(routine: Routine, settings: BuildSettings = BuildSettings(),
            progress: Progress | None = None,
            on_note: Callable[[str], None] | None = None) -> Prepared:
    """Synthesise (or take from the cache) everything `routine` says, then plan it.

    When the routine's engine cannot be used here and `settings.fallback` names another,
    the whole routine is spoken by that one (said through `on_note`), and the prepared
    routine names it."""
    report = (lambda done, total: progress("synthesising", done, total)) if progress else None
    figures: dict[str, Figures] = {}

    def speak(routine: Routine, cached_only: bool = False) -> dict[str, np.ndarray]:
        # the voice says each text as a person reads it; the plan keeps the written text
        said = {text: spoken_form(text, dict(routine.pronounce), routine.language)
                for text in spoken_texts(routine)}
        measured: dict[str, Figures] = {}
        clips = synthesize_all(said.values(), open_engine(routine.voice, routine.language),
                               settings.cache(), settings.sample_rate, report, measured,
                               cached_only)
        figures.update({text: measured[form] for text, form in said.items()
                        if form in measured})
        return {text: clips[form] for text, form in said.items() if form in clips}

    rate = settings.sample_rate
    # the cue sounds, made once: a fallback voice or a target length does not change them
    sounds = cue_sounds(routine, rate)

    def fitted(routine: Routine) -> tuple[Routine, dict[str, np.ndarray], tuple[Change, ...]]:
        """The routine with values for its target length (if it has one), and its clips."""
        if not routine.length_ms:
            return routine, speak(routine), ()
        lengths = sound_lengths(sounds, rate)
        # only what the fit keeps is synthesised (a 15-minute version of a 30-minute
        # routine says half its texts): fitted on the clips the cache holds and the
        # others' estimated lengths, then again on the clips of what it kept, until what
        # it keeps is all spoken; else everything is, and the fit is made on real clips
        def fit(clips: dict[str, np.ndarray]) -> tuple[Routine, tuple[Change, ...]]:
            return fit_length(routine, estimate_speech(
                lambda text: -(-len(clips[text]) * 1000 // rate) if text in clips else None),
                lengths)

        clips = speak(routine, cached_only=True)
        for _ in range(FIT_ROUNDS):
            chosen_routine, chosen = fit(clips)
            if all(text in clips for text in spoken_texts(chosen_routine)):
                return chosen_routine, clips, chosen
            clips.update(speak(chosen_routine))
        clips.update(speak(routine))  # every text: the fit is made on real clips
        chosen_routine, chosen = fit(clips)
        clips.update(speak(chosen_routine))  # a count it chose ("Set 3 of 4.")
        return chosen_routine, clips, chosen

    try:
        routine, clips, chosen = fitted(routine)
    except EngineUnavailable as exc:
        if not settings.fallback or settings.fallback == routine.voice.engine:
            raise
        if on_note:  # the reason without its advice: the advice is being followed
            on_note(f"{exc.message.split(';')[0]}; speaking {Path(routine.path).name} with "
                    f"{settings.fallback} instead (--fallback)")
        routine, clips, chosen = fitted(
            replace(routine, voice=_fallback_voice(routine, settings.fallback)))
    cache = settings.cache()
    sound_figures = {name: cache.sound_figures(samples, rate,
                                               lambda samples: clip_figures(samples, rate))
                     for name, samples in sounds.items()}
    plan = make_plan(routine, lambda text: -(-len(clips[text]) * 1000 // rate),
                     sound_lengths(sounds, rate))
    return Prepared(routine, lengthen(plan, exact_length_ms(plan.duration_ms, rate)), clips,
                    sounds, chosen, figures, sound_figures)


FORMATS = ("mp3", "m4b")
GENRE = "Health & Fitness"
"""The genre of what routinecast makes, for audiobook tags and podcast feeds."""
PLAYLIST_SUFFIX = ".m3u8"


def output_suffix(settings: BuildSettings) -> str:
    """What the file `build` writes for a routine ends in."""
    return PLAYLIST_SUFFIX if settings.split else f".{settings.format}"


def output_path(customised: Customised, output: str | Path, suffix: str = ".mp3") -> Path:
    """`content/low-back.yaml` → `OUTPUT/low-back.mp3`, or `OUTPUT/low-back-me-x1.5.mp3` for
    a variant; `output` itself when it names a file ending in `suffix`. A name made from
    file names that is not safe to write everywhere (see `unsafe_name`) is refused."""
    output = Path(output)
    if output.suffix.lower() == suffix:
        return output
    stem = Path(customised.routine.path).stem
    name = f"{stem}-{customised.variant}" if customised.variant else stem
    reason = unsafe_name(name)
    if reason:
        raise InputError(f"the output name {name!r}, made from the file name, {reason}; "
                         f"rename the file (or, building one routine, name the output: "
                         f"{setting('output')} FILE{suffix})", customised.routine.path)
    return output / f"{name}{suffix}"


def resolved_text(customised: Customised, spoken: Routine | None = None) -> str:
    """The routine as it is built, as a routine file headed by where it came from and which
    overrides made it: what the MP3 carries and `extract` gives back. `spoken` is the
    routine as it was spoken, when a fallback engine took over."""
    routine = spoken or customised.routine
    origins = list(dict.fromkeys(change.origin for change in customised.changes))
    comment = [f"{Path(routine.path).name}, as built by routinecast {__version__}"]
    if origins:
        comment.append("with " + "; ".join(origins))
    if routine.voice != customised.routine.voice:
        comment.append(f"spoken by {routine.voice.engine} (--fallback): "
                       f"{customised.routine.voice.engine} could not be used")
    comment.append("Change anything, then: routinecast build THIS-FILE")
    return dump_routine(routine, "\n".join(comment))


def cover_for(plan: Plan, settings: BuildSettings | None = None) -> bytes:
    """The cover an MP3 gets unless one is given: its title, and its length in minutes;
    kept beside the speech cache of `settings` (when given) and drawn only once."""
    chapters = len(plan.leaf_chapters())
    subtitle = f"{chapters} chapters · {round(plan.duration_ms / 60_000)} min"
    if settings is None:
        return make_cover(plan.title, subtitle)
    return kept_cover(settings.cache().directory / "covers", plan.title, subtitle)


COVER_ROOM = 256 * 1024
"""Bytes set aside for a cover still being drawn when the space an MP3 needs is checked (the
drawn ones take about a hundred kilobytes)."""


class _Drawing:
    """The cover, drawn in a thread while the track encodes: Pillow takes a while to start
    and to compress the picture, and the build only waits on the encoder then."""

    def __init__(self, cover: bytes | None, plan: Plan, settings: BuildSettings):
        self.cover = cover
        self.failed: BaseException | None = None
        self.thread = None
        if cover is None:
            self.thread = threading.Thread(target=self._draw, args=(plan, settings),
                                           daemon=True)
            self.thread.start()

    def _draw(self, plan: Plan, settings: BuildSettings) -> None:
        try:
            self.cover = cover_for(plan, settings)
        except BaseException as exc:  # handed to the build, which raises it
            self.failed = exc

    def result(self) -> bytes:
        if self.thread is not None:
            self.thread.join()
        if self.failed is not None:
            raise self.failed
        return self.cover


MAX_QUIETER = 2
"""Encodes of a track made quieter for its true peak (`Calibrated.quieter`): a coded peak
does not always come down with a small gain, and a second, from what the first read,
takes it under."""

FIT_ROUNDS = 3
"""Fits of a target length on the clips of what the last one kept, before every text is
synthesised and the fit made on real clips (see `prepare`)."""

LEVELS_FORMAT = "levels-2"
"""Bumped whenever what goes into a kept calibration's key, or what is kept, changes."""


def _calibrated(prepared: Prepared, settings: BuildSettings
                ) -> tuple[Calibrated, int, Callable[[float], None]]:
    """The track levelled to the settings' target, its length in samples, and what to call
    once it is encoded, with what the meter read of its first stream.

    What a calibration found is kept beside the speech cache under a digest of all it
    depends on (the plan, the clips' and cue sounds' figures, the sound settings and the
    rate): the level it ended on, what the meter read of the track streamed at that level,
    and what levelling does at each level used. The same track built again starts its
    search there and ends it in one round, makes at once the correction that reading led
    to (if any) without working out the levelling again, and is encoded once, at the level
    the first build ended on, so that its audio is the same."""
    total = total_samples(prepared.plan, settings.sample_rate)
    # a clip is told from another take of its text by its length and measured energy
    # (the figures whole are megabytes to hash)
    clips = [(name, len(samples), repr(figures.get(name) and figures[name].square_sum))
             for sounds, figures in ((prepared.clips, prepared.figures),
                                     (prepared.sounds, prepared.sound_figures))
             for name, samples in sorted(sounds.items())]
    # the music by size and time too, as the build key has it: a file changed in place
    music = [_stamp(path) for path in
             (playlist(settings.sound.music) if settings.sound.music else ())]
    digest = hashlib.sha256("\0".join(
        [LEVELS_FORMAT, __version__, repr(prepared.plan), repr(settings.sound),
         str(settings.sample_rate), repr(clips), repr(music)]).encode("utf-8"))
    path = settings.cache().directory / "levels" / f"{digest.hexdigest()}.json"
    kept = _read_kept(path)
    track = Track(prepared.plan, prepared.clips, prepared.sounds, settings.sample_rate,
                  settings.sound, prepared.figures, prepared.sound_figures,
                  effects=kept[2] if kept else ())
    calibrated = track.calibrate(kept[0] if kept else None)
    if kept and calibrated.speech_lufs == kept[0]:
        return calibrated.corrected(kept[1]) or calibrated, total, lambda _: None

    def remember(first_heard: float) -> None:
        if math.isfinite(first_heard):
            keep(path, json.dumps({"level": calibrated.speech_lufs, "heard": first_heard,
                                   "effects": [e.as_json() for e in track.effects]}
                                  ).encode("utf-8"))

    return calibrated, total, remember


def _read_kept(path: Path) -> tuple[float, float, tuple[Effect, ...]] | None:
    """The level, the meter's reading and the effects an earlier calibration kept at
    `path`; None if there are none (or they are torn: they are worked out again)."""
    found = read_entry(path)
    if found is None:
        return None
    try:
        data = json.loads(found[0])
        level, heard = float(data["level"]), float(data["heard"])
        effects = tuple(Effect.from_json(effect) for effect in data["effects"])
    except (ValueError, KeyError, TypeError):
        return None
    if not (math.isfinite(level) and math.isfinite(heard)):
        return None
    mark_used(path, found[1])
    return level, heard, effects


def _until_on_target(track: Calibrated, encode: Callable[[Iterator[np.ndarray]], None],
                     done: Callable[[float], None],
                     peak_of: Callable[[], float] | None = None) -> Measured:
    """Run `encode` on `track.blocks()` (streaming them to the encoder), and again on the
    track corrected, in the rare case that the meter running over the stream read it off the
    level its figures predicted (see `Calibrated.corrected`), or that the file, as
    `peak_of` reads its true peak, is over the target (`Calibrated.peak_corrected`, and
    `Calibrated.quieter` where limiting further cannot bring it under); what the file
    measures (with `peak_of`, the true peak it read, if higher). `done` is told, once the
    file is on target, what the meter read of the first stream."""
    best: tuple[float, Calibrated] | None = None  # the lowest peak read, and its track
    quieted, first = 0, None  # how often the track was made quieter (then nothing else)
    while True:
        stream = track.blocks()
        encode(stream)
        heard = stream.heard
        first = heard if first is None else first
        if quieted:
            peak = peak_of()
            quieter = track.quieter(peak) if quieted < MAX_QUIETER else None
            if quieter is None:
                measured = _peaked(track.read(heard), peak)
                break
            track, quieted = quieter, quieted + 1
            continue
        corrected = track.corrected(heard)
        if corrected is None and peak_of is not None:
            peak = peak_of()
            if best is not None and peak >= best[0]:
                # limited further, it read higher still (the limiter's flat tops coded
                # worse): the track that read lower is made quieter by what it read over
                track, quieted = best[1].quieter(best[0]) or best[1], 1
                continue
            best = (peak, track)
            corrected = track.peak_corrected(peak, heard)
            if corrected is None:
                quieter = track.quieter(peak)  # over, and limited further all it may be
                if quieter is None:
                    measured = _peaked(track.read(heard), peak)
                    break
                track, quieted = quieter, 1
                continue
        if corrected is None:
            measured = track.read(heard)
            break
        track = corrected
    done(first)
    return measured


def _peaked(measured: Measured, peak_db: float) -> Measured:
    """`measured` with the true peak read back from the file, where that is higher."""
    return replace(measured, true_peak_db=round(max(measured.true_peak_db, peak_db), 2))


def _encoded_peak(paths: Sequence[Path], settings: BuildSettings, channels: int
                  ) -> Callable[[], float] | None:
    """What reads the true peak of the files at `paths` once encoded (an MP3, an audiobook,
    or the parts of a split track: the highest of theirs), for a track with music, whose
    sharp hits an encoder can turn into peaks over the target under the speech. Without
    music the clips' own margin holds (the tests check it), and nothing is read (None)."""
    if not settings.sound.music:
        return None
    limit = settings.sound.true_peak_db

    def peak() -> float:
        return max(stream_true_peak_db(decode_stream(path, settings.sample_rate, channels),
                                       limit - 1.0) for path in paths)

    return peak


def write_mp3(prepared: Prepared, path: Path, settings: BuildSettings = BuildSettings(),
              progress: Progress | None = None, routine_text: str | None = None,
              cover: bytes | None = None, key: str | None = None) -> Built:
    """Encode, tag and move the MP3 into place at `path`; on any failure `path` is untouched.

    The MP3 carries `routine_text` (default: the routine as a file, without comment), the
    PNG `cover` (default: `cover_for` its plan) and the build `key`, if given."""
    path = Path(path)
    routine_text = routine_text or dump_routine(prepared.routine)
    track, total, heard = _calibrated(prepared, settings)
    report = (lambda done: progress("encoding", done, total)) if progress else None
    drawing = _Drawing(cover, prepared.plan, settings)
    with replacing(path) as temp:
        ensure_space(temp.parent, _mp3_size(total, settings, (len(cover) if cover else COVER_ROOM)
                                            + len(routine_text)), path)
        measured = _until_on_target(track, lambda blocks: encode_mp3(
            blocks, temp, settings.sample_rate, settings.bitrate, total, report,
            name=path.name, channels=track.channels), heard,
            _encoded_peak([temp], settings, track.channels))
        write_tags(temp, prepared.routine, prepared.plan, f"routinecast {__version__}",
                   routine_text, drawing.result(), build=key)
    return Built(path, prepared.plan, measured, prepared.routine, routine_text)


def write_m4b(prepared: Prepared, path: Path, settings: BuildSettings = BuildSettings(),
              progress: Progress | None = None, routine_text: str | None = None,
              cover: bytes | None = None, key: str | None = None) -> Built:
    """Like `write_mp3`, as an AAC audiobook whose chapters are the plan's (flat, as players
    list them). An audiobook has no place for the routine: it does not carry `routine_text`."""
    path = Path(path)
    plan, routine = prepared.plan, prepared.routine
    track, total, heard = _calibrated(prepared, settings)
    report = (lambda done: progress("encoding", done, total)) if progress else None
    chapters = [BookChapter(c.start_ms, c.end_ms, c.title) for c in plan.leaf_chapters()]
    tags = {"title": routine.title, "album": routine.title, "genre": GENRE}
    if routine.author:
        tags["artist"] = routine.author
    if routine.description:
        tags["comment"] = routine.description
    cover = cover or cover_for(plan, settings)  # ffmpeg takes it as an input: drawn first
    with replacing(path) as temp:
        measured = _until_on_target(track, lambda blocks: encode_m4b(
            blocks, temp, settings.sample_rate, settings.bitrate, total, chapters,
            tags, cover, report, path.name, track.channels), heard,
            _encoded_peak([temp], settings, track.channels))
        if key is not None:
            write_m4b_build(temp, key)
    return Built(path, plan, measured, routine, routine_text or dump_routine(routine))


def split_folder(playlist: Path) -> Path:
    """Where the parts of `OUTPUT/NAME.m3u8` go: `OUTPUT/NAME/`, the name made safe to
    write in a playlist as it is."""
    return playlist.parent / (slugify(playlist.stem) or "parts")


_PART = re.compile(r"\d{2,}-[a-z0-9-]*\.mp3")


def write_split(prepared: Prepared, path: Path, settings: BuildSettings = BuildSettings(),
                progress: Progress | None = None, routine_text: str | None = None,
                cover: bytes | None = None, key: str | None = None) -> Built:
    """One MP3 per chapter in `split_folder(path)`, each tagged with its chapter's title,
    track number, the cover and the routine, listed by relative path in the playlist `path`.
    The folder is replaced whole, once complete; a folder holding anything but parts is
    refused rather than replaced."""
    path = Path(path)
    plan, routine, rate = prepared.plan, prepared.routine, settings.sample_rate
    folder = split_folder(path)
    if folder.is_dir() and any(not _PART.fullmatch(p.name) for p in folder.iterdir()):
        raise InputError(f"{folder} holds files routinecast did not write; move them away "
                         f"or give another {setting('output')}")
    routine_text = routine_text or dump_routine(routine)
    drawing = _Drawing(cover, plan, settings)
    track, total, heard = _calibrated(prepared, settings)
    chapters = plan.leaf_chapters()
    names = [f"{number:02d}-{slugify(chapter.title) or 'chapter'}.mp3"
             for number, chapter in enumerate(chapters, start=1)]
    lines = ["#EXTM3U", f"#PLAYLIST:{_one_line(routine.title)}"]
    for chapter, name in zip(chapters, names):
        lines += [f"#EXTINF:{round((chapter.end_ms - chapter.start_ms) / 1000)},"
                  f"{_one_line(chapter.title)}", f"{folder.name}/{name}"]
    with replacing_folder(folder) as temp_folder:
        ensure_space(temp_folder, _mp3_size(total, settings, len(chapters) * (
            (len(cover) if cover else COVER_ROOM) + len(routine_text))), folder)

        def encode_parts(stream: Iterator[np.ndarray]) -> None:
            blocks, done = _Cutter(stream), 0
            for number, (chapter, name) in enumerate(zip(chapters, names), start=1):
                length = (sample_index(chapter.end_ms, rate)
                          - sample_index(chapter.start_ms, rate))
                report = (lambda part, base=done: progress("encoding", base + part, total)) \
                    if progress else None
                encode_mp3(blocks.take(length), temp_folder / name, rate, settings.bitrate,
                           length, report, name, track.channels)
                write_tags(temp_folder / name, routine, None, f"routinecast {__version__}",
                           routine_text, drawing.result(), title=chapter.title,
                           track=(number, len(chapters)), build=key)
                done += length
            blocks.finish()  # the meter must have heard the whole track

        measured = _until_on_target(track, encode_parts, heard, _encoded_peak(
            [temp_folder / name for name in names], settings, track.channels))
    write_text_atomic(path, "\n".join(lines) + "\n")
    return Built(path, plan, measured, routine, routine_text)


def _mp3_size(samples: int, settings: BuildSettings, tags: int) -> int:
    """About how many bytes a CBR MP3 of `samples` takes, with `tags` bytes of tags (and a
    little room for the rest of them). An AAC file's size is less certain: it is left to
    the write itself to find out whether it fits."""
    # under 32 kHz (MPEG-2) LAME encodes at most 160 kbit/s whatever it is asked for
    bitrate = min(settings.bitrate, 160) if settings.sample_rate < 32_000 else settings.bitrate
    return samples * bitrate * 125 // settings.sample_rate + tags + 16 * 1024


def _one_line(text: str) -> str:
    return " ".join(text.split())


class _Cutter:
    """Hands out a stream of sample blocks in consecutive runs of given lengths."""

    def __init__(self, blocks: Iterable[np.ndarray]):
        self.blocks = iter(blocks)
        self.left: np.ndarray | None = None

    def take(self, count: int) -> Iterator[np.ndarray]:
        """The next `count` samples, in blocks."""
        while count > 0:
            if self.left is None or len(self.left) == 0:
                self.left = next(self.blocks, None)
                if self.left is None:
                    return
            piece, self.left = self.left[:count], self.left[count:]
            count -= len(piece)
            yield piece

    def finish(self) -> None:
        """Run the stream to its end (there is nothing left but for rounding)."""
        for _ in self.blocks:
            pass


def _fallback_voice(routine: Routine, engine: str) -> Voice:
    return Voice(engine=engine, speed=routine.voice.speed)


def load_all(paths: Iterable[str | Path], layers: Sequence[Overrides] = (),
             fallback: str | None = None, check: bool = True) -> list[Customised]:
    """Load and validate every routine, apply the overrides and check the voice (or the
    `fallback` engine, when the voice's cannot be used here), before anything is built, so
    that a mistake in any of them writes nothing. With `check` false the routines are only
    loaded and customised: `check_loaded` does the rest."""
    loaded = []
    for path in paths:
        customised = customise(load_routine(path), layers)
        if check:
            check_loaded(customised, layers, fallback)
        loaded.append(customised)
    return loaded


def check_loaded(customised: Customised, layers: Sequence[Overrides] = (),
                 fallback: str | None = None) -> None:
    """What `load_all` checks beyond the routine file: its sound files, its length and its
    voice (or the `fallback` engine's)."""
    routine = customised.routine
    cue_sounds(routine, CHECK_RATE)  # a sound file that cannot be used fails here
    make_plan(routine, lambda text: 0)  # so does a track over the limit even unspoken
    try:
        try:
            open_engine(routine.voice, routine.language)
        except EngineUnavailable:
            if not fallback or fallback == routine.voice.engine:
                raise
            open_engine(_fallback_voice(routine, fallback), routine.language)
    except InputError as exc:
        # blame the override that chose the voice, if one did, else the routine file
        for layer in reversed(layers):
            key = next((key for key in ("voice", "engine") if getattr(layer, key)), None)
            if key:
                name, where, line = layer.blame(key)
                raise OverrideError(f"{name} {getattr(layer, key)}: {exc.message}", where,
                                    line) from None
        raise RoutineError(exc.message, routine.path) from None


BUILD_KEY_FORMAT = "1"
"""Bumped whenever what goes into `build_key` changes."""


def build_key(customised: Customised, settings: BuildSettings,
              cover: bytes | None = None) -> str:
    """What an output is made from, as a digest, kept in the output (see `read_build`): the
    routine as built (overrides applied, as a routine file), the routine file itself, the
    settings, the cover given, the routinecast version, and the size and time of every file
    that shapes the sound (the voice model or program, cue sound files, music files). An
    output carrying the key of a build about to be made is up to date."""
    routine = customised.routine
    parts = [BUILD_KEY_FORMAT, __version__, resolved_text(customised),
             repr(replace(settings, cache_dir=None, force=False)),
             hashlib.sha256(cover).hexdigest() if cover else "-"]
    try:
        parts.append(hashlib.sha256(Path(routine.path).read_bytes()).hexdigest())
    except OSError:
        parts.append("-")
    music = playlist(settings.sound.music) if settings.sound.music else ()
    parts.extend(_stamp(path) for path in (*voice_files(routine.voice), *sound_files(routine),
                                          *music))
    return hashlib.sha256("\0".join(parts).encode("utf-8")).hexdigest()[:40]


def _stamp(path: Path) -> str:
    """A file as a key sees it: where it is, its size and its time (or that it is missing)."""
    try:
        info = path.stat()
        return f"{path.resolve()}\0{info.st_size}\0{info.st_mtime_ns}"
    except OSError:
        return f"{path}\0missing"


def up_to_date(target: Path, key: str, settings: BuildSettings) -> bool:
    """Whether the output at `target` (a split's playlist: each part it lists, and nothing
    else in its folder) carries `key`, and so would be built again as it is."""
    if settings.split:
        try:
            lines = target.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError):
            return False
        parts = [target.parent / line for line in lines if line and not line.startswith("#")]
        folder = split_folder(target)
        # a part left over from another build would be removed by this one: not up to date
        return (bool(parts) and folder.is_dir() and set(folder.iterdir()) == set(parts)
                and all(read_build(part) == key for part in parts))
    return read_build(target) == key


def build(paths: Sequence[str | Path], output: str | Path = "output",
          settings: BuildSettings = BuildSettings(), layers: Sequence[Overrides] = (),
          progress: Progress | None = None,
          on_built: Callable[[Built], None] | None = None,
          on_note: Callable[[str], None] | None = None,
          cover: bytes | None = None,
          on_up_to_date: Callable[[Path], None] | None = None) -> list[Built]:
    """Build each routine file, customised by `layers`, into `output` (a folder, or an `.mp3`
    file name for a single routine); see `output_path`. Notes about profile settings that do
    not apply go to `on_note`. Each MP3 gets `cover`, or by default a cover of its own.

    An output that is up to date (see `build_key`) is left as it is, unless
    `settings.force`: it is given to `on_up_to_date` and is not in the list returned."""
    loaded = load_all(paths, layers, settings.fallback, check=False)
    targets = _targets(loaded, output, settings)
    stale, keys = [], []
    for customised, target in zip(loaded, targets):
        key = build_key(customised, settings, cover)
        if not settings.force and up_to_date(target, key, settings):
            try:  # what builds killed since left beside it goes, as a build would remove it
                remove_stale(target.parent, f".{target.stem}.", f".part{target.suffix}")
            except OSError:
                pass
            if on_up_to_date:
                on_up_to_date(target)
            continue
        check_loaded(customised, layers, settings.fallback)
        stale.append(customised)
        keys.append(key)
    if not stale:
        return []
    return build_loaded(stale, output, settings, progress, on_built, on_note, cover, keys)


def _targets(loaded: Sequence[Customised], output: str | Path,
             settings: BuildSettings) -> list[Path]:
    """Where each routine is written; refuses an output that does not fit the settings and
    two routines written to one file."""
    if settings.split and settings.format != "mp3":
        raise InputError(f"{setting('split')} makes MP3s; an M4B keeps its chapters in one "
                         "file")
    suffix = output_suffix(settings)
    given = Path(output).suffix.lower()
    if given in (PLAYLIST_SUFFIX, *(f".{f}" for f in FORMATS)) and given != suffix:
        raise InputError(f"{output} ends in {given}, but this build writes {suffix} files; "
                         f"name a {suffix} file or a folder")
    if given == suffix and len(loaded) > 1:
        raise InputError(f"{output} names one file, but {len(loaded)} routines were given; "
                         "give a folder instead")
    targets: dict[Path, str] = {}
    for customised in loaded:
        target = output_path(customised, output, suffix)
        if target in targets:
            raise OutputError(f"{customised.routine.path} and {targets[target]} would both be "
                              f"written to {target.name}; rename one of them")
        targets[target] = customised.routine.path
    return list(targets)


def build_loaded(loaded: Sequence[Customised], output: str | Path = "output",
                 settings: BuildSettings = BuildSettings(), progress: Progress | None = None,
                 on_built: Callable[[Built], None] | None = None,
                 on_note: Callable[[str], None] | None = None,
                 cover: bytes | None = None,
                 keys: Sequence[str] | None = None) -> list[Built]:
    """`build`, for routines `load_all` has loaded and checked already: builds every one,
    up to date or not, each output carrying its `build_key` (`keys`, if the caller has
    them already)."""
    if settings.sound.music:
        check_music(playlist(settings.sound.music), settings.sample_rate)
    targets = _targets(loaded, output, settings)
    for customised in loaded:
        for note in customised.notes:
            if on_note:
                on_note(note)
    built = []
    keys = keys or [build_key(customised, settings, cover) for customised in loaded]
    for customised, target, key in zip(loaded, targets, keys):
        write = write_split if settings.split else write_m4b if settings.format == "m4b" \
            else write_mp3
        prepared = prepare(customised.routine, settings, progress, on_note)
        result = write(prepared, target, settings, progress,
                       resolved_text(customised, prepared.routine), cover, key)
        if on_built:
            on_built(result)
        built.append(result)
    return built


def extract_routine(path: str | Path) -> str:
    """The routine file an MP3 built by routinecast carries (see `resolved_text`)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    try:
        text = read_tags(path).routine_text
    except TaggingError as exc:
        raise InputError(f"{exc.message}; give an MP3 built by routinecast") from None
    if text is None:
        raise InputError(f"{path} carries no routine: it was not built by routinecast "
                         f"0.2 or later")
    return text
