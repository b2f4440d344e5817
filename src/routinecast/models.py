"""Small immutable values: what a routine says (Routine…) and what the track does (Plan…).

All times are integer milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

DEFAULT_SIDES = ("left", "right")
COUNTDOWN_STYLES = ("voice", "beeps", "off")
HALFWAY_STYLES = ("off", "voice", "tone")
REMIND_SAYS = ("time-left", "during")
GUIDANCE = ("full", "brief", "minimal")
LEVELS = ("gentle", "standard", "strong")
SOUND_NAMES = ("start", "end", "switch", "count", "halfway")


@dataclass(frozen=True)
class Voice:
    """Which text-to-speech voice reads the routine."""

    engine: str = "piper"
    """Engine name: `piper` is the offline default."""
    name: str | None = None
    """Voice of that engine; None means the engine's default voice."""
    speed: float = 1.0
    """Speaking rate: 1.0 is the voice's natural pace, 1.2 is 20 % faster."""


@dataclass(frozen=True)
class Cues:
    """The settings that cascade: set in `defaults`, per exercise and (some) per phase; each
    is one row of `settings.SETTINGS`, which says where it may be written.

    Cues inside a hold never change its length: one that does not fit is left out.
    """

    countdown: int = 3
    """Seconds counted down at the end of each hold long enough for it; 0 turns it off."""
    countdown_style: Literal["voice", "beeps", "off"] = "voice"
    """How the countdown sounds: spoken numbers, a beep a second, or nothing."""
    halfway: Literal["off", "voice", "tone"] = "off"
    """A spoken "Halfway." or a tone at the middle of holds of at least `HALFWAY_MIN_MS`."""
    remind_every_ms: int = 0
    """In holds longer than this, a reminder every so often from the hold's start; 0 is off."""
    remind_say: Literal["time-left", "during"] = "time-left"
    """What a reminder says: the time left ("Two minutes left."), or the hold's `during`
    text (the time left for a hold without one)."""
    announce_next: bool | Literal["auto"] = "auto"
    """Say "Next: NAME." (and what it needs) as the rest after an exercise begins: `auto`
    when it fits inside the rest, True always (before the rest if it does not fit), False
    never."""
    side_rest_ms: int = 0
    """Silence between the sides of an exercise, before the switch tone."""
    counts: bool = False
    """Say "Rep 3 of 5." as each rep begins (when there are several); sets are announced
    whenever there are several."""
    settle_ms: int = 3_000
    """Silence between an instruction and the start of its hold, so that the hold's timer
    starts when the listener is in position."""
    countdown_min_ms: int = 15_000
    """Holds shorter than this get no countdown."""
    end_tone: bool = True
    """The end tone after each hold."""
    guidance: Literal["full", "brief", "minimal"] = "brief"
    """How much is said again on repeats: every text in full; the short form (or the first
    sentence); or only names, side switches and tones (a tone where an instruction is left
    out)."""
    set_rest_ms: int = 10_000
    """Silence between the sets of an exercise without sides."""
    count_breaths: bool = False
    """Holds written in breaths count them aloud ("Breathe in." … "And out." … "Two.")."""


@dataclass(frozen=True)
class Sounds:
    """Which sound each cue makes: `on` (the built-in tone), `off`, or an audio file's path."""

    start: str = "off"
    """Just before each hold begins (ending as the hold starts)."""
    end: str = "on"
    """As each hold ends."""
    switch: str = "on"
    """Before "Switch to the right side."."""
    count: str = "on"
    """Each beep of a `countdown_style: beeps` countdown."""
    halfway: str = "on"
    """The `halfway: tone` cue."""


@dataclass(frozen=True)
class Defaults:
    """Values every exercise takes unless it sets its own."""

    hold_ms: int = 30_000
    """Hold for exercises (and phases) that do not give one."""
    hold_range: tuple[int, int] | None = None
    """(low, high) in ms when the default hold is a range; `hold_ms` is its middle."""
    rest_ms: int = 5_000
    """Silence after an exercise, before the next one begins."""
    breath_ms: int = 5_000
    """What one breath lasts, for holds written in breaths."""
    rep_rest_ms: int = 3_000
    """Silence between two reps, or two sets, of the same exercise."""
    cues: Cues = field(default_factory=Cues)
    """Cues for every exercise that does not set its own."""
    sounds: Sounds = field(default_factory=Sounds)
    """The cue sounds of the whole routine."""


@dataclass(frozen=True)
class Phase:
    """One position held within a rep: say how to get there, then hold it."""

    hold_ms: int
    """How long the position is held, in silence apart from the cues inside it."""
    say: str | None = None
    """Spoken before the hold: how to move into the position. None for a plain hold."""
    during: str | None = None
    """Spoken as the hold begins, inside the hold."""
    hold_range: tuple[int, int] | None = None
    """(low, high) in ms when the hold was written as a range; `hold_ms` is the value
    chosen (the middle unless a level or length chose another)."""
    breath_ms: int | None = None
    """The length of one breath when the hold was written in breaths (the hold is a whole
    number of them); None otherwise."""
    move: bool = False
    """A movement rather than a hold: no settle time, no countdown, no end tone."""
    cues: Cues | None = None
    """The phase's own settings over its exercise's; None: the exercise's."""


@dataclass(frozen=True)
class Move:
    """One move of a breath-paced flow, spoken as its breath begins."""

    say: str
    """What to do on this breath ("Breathe in, lift your head.")."""
    breaths: int = 1
    """How many breaths the move lasts."""


@dataclass(frozen=True)
class Exercise:
    """One exercise; it becomes one chapter."""

    id: str
    """Unique slug naming the exercise in overrides and in the plan."""
    name: str
    """Spoken and shown as the chapter title."""
    phases: tuple[Phase, ...]
    """Done in order once per rep; a plain `hold` is a single phase without `say`."""
    setup: tuple[str, ...] = ()
    """Spoken once, before the first hold."""
    reps: int = 1
    """How many times the phases are done on each side in each set."""
    sides: tuple[str, ...] = ()
    """Side names, done in this order in every set; empty when the exercise has no sides."""
    sets: int = 1
    """How many times the whole exercise (all sides) is gone through."""
    rest_ms: int = 5_000
    """Silence after the exercise, before the next one."""
    rep_rest_ms: int = 3_000
    """Silence between reps, and between sets when there are no sides."""
    cues: Cues = field(default_factory=Cues)
    """The exercise's cues: its own settings over `defaults`."""
    notes: str | None = None
    """Not spoken; for people who write and edit the routine."""
    about: str | None = None
    """Not spoken; a sentence or two for listeners, shown on share pages."""
    reps_range: tuple[int, int] | None = None
    """(low, high) when `reps` was written as a range; `reps` is the value chosen."""
    sets_range: tuple[int, int] | None = None
    """(low, high) when `sets` was written as a range; `sets` is the value chosen."""
    optional: int = 0
    """0 for an exercise every build keeps; from 1 (least important) up, one that a target
    length (`--length`) may leave out, the lowest first."""
    equipment: tuple[str, ...] = ()
    """What the exercise needs ("strap", "two pillows"), said before it begins."""
    flow: tuple[Move, ...] = ()
    """A breath-paced flow done `reps` rounds, instead of the phases; empty for holds."""
    breath_ms: int = 5_000
    """What one breath lasts: the pace of a flow and of holds written in breaths."""
    setup_each_side: bool = False
    """Say the setup again after each side switch."""


@dataclass(frozen=True)
class Section:
    """A titled group of exercises; it becomes a chapter holding them."""

    id: str
    """Slug of the title, unique among sections."""
    title: str
    """Spoken when the section begins, and its chapter title."""
    exercises: tuple[Exercise, ...]
    """The section's exercises, in order."""
    intro: str | None = None
    """Spoken after the title."""


@dataclass(frozen=True)
class Routine:
    """A validated routine file."""

    title: str
    """Title of the routine, spoken first and written to the MP3's title tag."""
    sections: tuple[Section, ...]
    """Sections in order; a routine written as a flat list has one untitled section."""
    flat: bool = True
    """True when the file listed `exercises` directly rather than `sections`."""
    description: str | None = None
    """A sentence or two about the routine, for tags and share pages."""
    author: str | None = None
    """Who wrote the routine: the MP3's artist tag."""
    source: str | None = None
    """Where the routine comes from, for tags and share pages."""
    language: str = "en"
    """Language tag of the spoken texts (`en`, `en-GB`)."""
    equipment: tuple[str, ...] = ()
    """What the listener needs at hand."""
    voice: Voice = field(default_factory=Voice)
    """The routine's preferred voice."""
    defaults: Defaults = field(default_factory=Defaults)
    """Values the exercises take unless they set their own."""
    intro: str | None = None
    """Spoken after the title."""
    outro: str | None = None
    """Spoken at the end."""
    path: str = "<routine>"
    """File the routine was loaded from, for messages."""
    pronounce: tuple[tuple[str, str], ...] = ()
    """(word, how to say it) for words the voice gets wrong; applied before synthesis."""
    short_forms: tuple[tuple[str, str], ...] = ()
    """(text, its short form) for spoken texts that carry one: said on repeats."""
    length_ms: int | None = None
    """A target length for the track (`length:` in the file, or `--length`): the builder
    picks values inside the ranges so that the track lands within 2 % of it; None: the
    values as they are."""
    setting_lines: tuple[tuple[str, int | None], ...] = field(default=(), compare=False)
    """(key, line) of each setting the file writes at its top level (`length`), for
    messages; a setting an override replaced is not listed. Where a value is written is not
    what the routine is: two routines differing only in it are equal."""

    @property
    def exercises(self) -> tuple[Exercise, ...]:
        """Every exercise in order, across sections."""
        return tuple(ex for section in self.sections for ex in section.exercises)


@dataclass(frozen=True)
class Change:
    """A value of the routine that an override changed."""

    exercise_id: str | None
    """The exercise changed; None for a change to the whole routine (voice, cues)."""
    key: str
    """What changed, as the routine format names it: `hold`, `reps`, `sets`, `rest`,
    `voice`, `engine`, `speed`, or a cue (`halfway`, `remind_every`, …)."""
    phase: int | None
    """For a hold: the phase number from 1, or None for a plain hold."""
    before: Any
    """The routine's value (durations in ms)."""
    after: Any
    """The value used (durations in ms)."""
    origin: str
    """The override that made the change, e.g. `--hold-scale 1.5 (command line)`."""


SegmentKind = Literal["speech", "tone", "silence"]


@dataclass(frozen=True)
class Segment:
    """A stretch of the track; segments follow each other with no gap or overlap."""

    kind: SegmentKind
    """`speech`, `tone` or `silence`."""
    start_ms: int
    """Where it begins in the track."""
    end_ms: int
    """Where it ends (exclusive)."""
    text: str | None = None
    """What is said, for speech."""
    label: str | None = None
    """What it is for: the cue sound of a tone (`start`, `end`, `switch`, `count`, `halfway`); `hold`,
    `rest`, `rep-rest`, `set-rest`, `side-rest`, `settle`, `move` or `pause` for a silence; for speech, the cue it is
    (`countdown`, `halfway`, `reminder`, `count`, `next`) or None for instructions."""

    @property
    def duration_ms(self) -> int:
        return self.end_ms - self.start_ms


@dataclass(frozen=True)
class Hold:
    """A timed hold: the silence (and cues inside it) the listener holds a position for."""

    exercise_id: str
    """Exercise the hold belongs to."""
    side: str | None
    """Side name, or None for exercises without sides."""
    set: int
    """Set number, from 1."""
    rep: int
    """Rep number within the set and side, from 1."""
    phase: int | None
    """Phase number from 1; None for a plain hold (a single phase with nothing to `say`)."""
    start_ms: int
    """Where the hold begins."""
    end_ms: int
    """Where the hold ends; the end-of-hold tone follows."""
    move: bool = False
    """A movement (a move of a flow, or a phase marked `move`) rather than a held position:
    no settle before it, no countdown or end tone."""


@dataclass(frozen=True)
class Chapter:
    """A chapter of the track; a section's chapter holds its exercises' chapters."""

    id: str
    """`intro`, `outro`, an exercise id, or `section:` and the section id."""
    title: str
    """Shown by players."""
    start_ms: int
    """Where it begins."""
    end_ms: int
    """Where it ends; the next chapter begins there."""
    children: tuple["Chapter", ...] = ()
    """Sub-chapters (a section's exercises)."""


@dataclass(frozen=True)
class Plan:
    """The whole timeline of a track, decided before any audio exists."""

    title: str
    """The routine's title."""
    duration_ms: int
    """Length of the track."""
    chapters: tuple[Chapter, ...]
    """Top-level chapters in order, contiguous from 0 to `duration_ms`."""
    segments: tuple[Segment, ...]
    """Everything in the track in order, contiguous from 0 to `duration_ms`."""
    holds: tuple[Hold, ...]
    """Every hold, in order."""

    def leaf_chapters(self) -> list[Chapter]:
        """Chapters as a flat player lists them: contiguous, in order, none overlapping.

        A chapter with children contributes its lead-in (from its start to its first
        child, where its title is spoken) under its own title, then its children.
        """
        leaves: list[Chapter] = []

        def walk(chapter: Chapter) -> None:
            if not chapter.children:
                leaves.append(chapter)
                return
            first = chapter.children[0].start_ms
            if first > chapter.start_ms:
                leaves.append(Chapter(chapter.id, chapter.title, chapter.start_ms, first))
            for child in chapter.children:
                walk(child)

        for chapter in self.chapters:
            walk(chapter)
        return leaves
