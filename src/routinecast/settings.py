"""The settings table: every setting that cascades (`defaults` → exercise → phase) or that a
profile and the command line may give, declared once.

Each `Setting` row says how the setting is spelt, parsed and shown, where it may be written
and what it does. Everything else is derived from the table: the keys the loader accepts and
how it reads them (`read_settings`), the profile's keys and example, the command-line options
(`cli.py`), what `dump` writes back, and the key tables of docs/format.md (`docs_table`, which
a test compares with the document). A new setting is one row here, a field of `Cues` (or of
`Overrides`, and of `Routine` for one a routine file writes at its top level), and what the
planner does with it.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any, Iterable

from .checks import MAX_HOLD_MS, Checker, Map, join
from .durations import describe_ms
from .models import COUNTDOWN_STYLES, GUIDANCE, HALFWAY_STYLES, LEVELS, REMIND_SAYS, Cues, \
    Routine

MAX_COUNTDOWN = 10
MIN_REMIND_MS = 10_000
MAX_SETTLE_MS = 60_000
MAX_LENGTH_MS = 12 * 3_600_000

SCOPES = ("routine", "defaults", "exercise", "phase")
"""Where a routine file may write a setting: at its top level (`routine`: the whole track),
in `defaults` (every exercise), on an exercise, or on one phase of an exercise."""
CASCADE = SCOPES[1:]
"""The scopes of the settings that cascade (`defaults` → exercise → phase): fields of `Cues`."""
SCOPE_NAMES = {"routine": "top level"}
"""How the docs name a scope, where it is not its own name."""


@dataclass(frozen=True)
class Setting:
    """One setting: its spelling, values, default, where it may be written, and its help."""

    key: str
    """As routine files write it (`remind_every`); profiles and options use dashes."""
    field: str
    """The `Cues` field it sets (`remind_every_ms`), or the `Overrides` field for a setting
    that does not cascade (`level`; `length_ms`, also the `Routine` field)."""
    kind: str
    """How it is read: `count`, `duration`, `choice`, `flag`, or `auto` (true, false or
    auto)."""
    scopes: tuple[str, ...]
    """Where a routine file may write it (see `SCOPES`); empty: profiles and the command
    line only. A setting of scope `routine` is a field of `Routine` too, which profiles and
    the command line override."""
    values: str
    """Its values as the docs list them."""
    help: str
    """What it does, for the docs and `--help`."""
    choices: tuple[str, ...] = ()
    """The values of a `choice`."""
    when_true: str | None = None
    """What `true` means for a `choice` (`false` then means `off`); None: neither is a
    value."""
    low: int = 0
    """Smallest value of a `count`, or (ms) of a `duration`."""
    high: int = MAX_HOLD_MS
    """Largest value of a `count`, or (ms) of a `duration`."""
    metavar: str = ""
    """How `--help` names the option's value."""
    since: int = 1
    """The format version that added it (2: this round), for the docs' list of changes."""

    @property
    def option(self) -> str:
        """The command-line option: `--remind-every`."""
        return "--" + self.name

    @property
    def name(self) -> str:
        """The profile key: `remind-every`."""
        return self.key.replace("_", "-")

    @property
    def cascades(self) -> bool:
        """Written in `defaults`, on exercises or on phases: a field of `Cues`."""
        return any(scope in CASCADE for scope in self.scopes)

    @property
    def default(self) -> Any:
        """The value used when nothing sets it (None: nothing)."""
        return getattr(Cues(), self.field) if self.cascades else None

    def parse(self, check: Checker, value: Any, where: str, line: int | None,
              breath_ms: int | None = None) -> Any:
        """`value` as written → the field's value; a mistake is `check`'s error."""
        if self.kind == "count":
            if isinstance(value, str) and value.strip().isdigit():
                value = int(value)
            return check.count(value, where, line, self.low, self.high)
        if self.kind == "flag":
            return check.flag(value, where, line)
        if self.kind == "auto":
            if value == "auto":
                return "auto"
            if value in ("on", "off"):
                return value == "on"
            if not isinstance(value, bool):
                raise check.fail(line, where, f"must be true, false or auto, not "
                                 f"{value!r}")
            return value
        if self.kind == "choice":
            if self.when_true is None and isinstance(value, bool):
                raise check.fail(line, where, f"must be one of {', '.join(self.choices)}, "
                                 f"not {str(value).lower()}")
            return check.choice(value, where, line, self.choices, self.when_true or "")
        # duration
        if value is False and self.low == 0:
            return 0
        ms = check.duration(value, where, line, breath_ms, allow_zero=self.low == 0,
                            high=self.high)
        if self.key == "remind_every" and 0 < ms < MIN_REMIND_MS:
            raise check.fail(line, where, f"reminders more often than every "
                             f"{describe_ms(MIN_REMIND_MS)} would leave no quiet; give a "
                             "longer interval, or 0 for none")
        if self.low and ms < self.low:
            raise check.fail(line, where, f"must be at least {describe_ms(self.low)}")
        return ms

    def show(self, value: Any) -> Any:
        """The value as a routine file writes it (durations as `1m30s`)."""
        if self.kind == "duration" and isinstance(value, int):
            return describe_ms(value)
        return value


def _duration(key: str, field: str, scopes: tuple[str, ...], values: str, help: str,
              high: int = MAX_HOLD_MS, since: int = 1, low: int = 0) -> Setting:
    return Setting(key, field, "duration", scopes, values, help, low=low, high=high,
                   metavar="DURATION", since=since)


ALL = CASCADE
EXERCISE = ("defaults", "exercise")

SETTINGS: tuple[Setting, ...] = (
    Setting("countdown", "countdown", "count", ALL, "0 to 10",
            "seconds counted down at the end of each hold (0 = none)",
            low=0, high=MAX_COUNTDOWN, metavar="N"),
    _duration("countdown_min", "countdown_min_ms", ALL, "a duration",
              "holds shorter than this get no countdown", since=2),
    Setting("countdown_style", "countdown_style", "choice", ALL, "`voice`, `beeps`, `off`",
            'spoken numbers ("Three. Two. One."), a short beep on each of those seconds, '
            "or nothing", choices=COUNTDOWN_STYLES, when_true="voice"),
    _duration("settle", "settle_ms", ALL, "a duration, at most 1m",
              "silence between an instruction and the start of its hold (also after a side "
              "switch): the hold's timer, cues and start chime begin once the listener is in "
              "position", high=MAX_SETTLE_MS, since=2),
    Setting("end_tone", "end_tone", "flag", ALL, "`true`, `false`",
            "the tone as each hold ends", since=2),
    Setting("halfway", "halfway", "choice", ALL, "`off`, `voice` (or `true`), `tone`",
            '"Halfway." or a two-note tone at the exact middle of holds of 20 s or more',
            choices=HALFWAY_STYLES, when_true="voice"),
    _duration("remind_every", "remind_every_ms", ALL, "a duration (at least 10s), or 0",
              "a reminder every so often from the start of long holds (0 = none)"),
    Setting("remind_say", "remind_say", "choice", ALL, "`time-left`, `during`",
            'what a reminder says: "Two minutes left." (to the second), or the hold\'s '
            "`during` text again (its short form, `cue`, unless guidance is `full`)",
            choices=REMIND_SAYS, when_true="time-left"),
    Setting("count_breaths", "count_breaths", "flag", ALL, "`true`, `false`",
            'holds written in breaths count them aloud ("Breathe in." … "And out." … "Two.") '
            "instead of a countdown", since=2),
    Setting("guidance", "guidance", "choice", EXERCISE, "`full`, `brief`, `minimal`",
            "how much is said again on repeats within an exercise: every text in full; the "
            "short form (`cue`), or the first sentence of a long text; or only names, side "
            "switches and tones (a tone where an instruction is left out)", choices=GUIDANCE,
            since=2),
    Setting("announce_next", "announce_next", "auto", EXERCISE, "`auto`, `true`, `false`",
            '"Next: Butterfly." and what it needs ("You\'ll need the strap.") as the rest '
            "before it begins: `auto` when it fits in the rest, `true` always, `false` never",
            metavar=""),
    _duration("side_rest", "side_rest_ms", EXERCISE, "a duration",
              "a pause between the sides of an exercise, before the switch tone"),
    _duration("set_rest", "set_rest_ms", EXERCISE, "a duration",
              "silence between the sets of an exercise without sides", since=2),
    Setting("counts", "counts", "flag", EXERCISE, "`true`, `false`",
            '"Rep 3 of 5." as each rep begins (when there are several), instead of "Again."'),
    Setting("level", "level", "choice", (), "`gentle`, `standard`, `strong`",
            "which value of every range: the low end, the middle (rounded to whole seconds, "
            "breaths and reps) or the high end", choices=LEVELS, since=2),
    _duration("length", "length_ms", ("routine",), "a duration from 1m to 12h",
              "a target length: values inside the ranges (and leaving out `optional` "
              "exercises) so that the track lands within 2 % of it; a routine file's own "
              "is the standard level's (another level scales it) and is used unless a "
              "profile or the command line gives one", high=MAX_LENGTH_MS,
              since=2, low=60_000),
)
"""Every setting, in the order the docs, the profile example and `--help` list them."""

BY_KEY: dict[str, Setting] = {setting.key: setting for setting in SETTINGS}
CUE_SETTINGS = tuple(setting for setting in SETTINGS if setting.cascades)
"""The settings that are fields of `Cues`."""
BUILD_SETTINGS = tuple(setting for setting in SETTINGS if not setting.cascades)
"""The settings that do not cascade (fields of `Overrides`): profiles and the command line
give them, and a routine file at its top level those of scope `routine`."""
FILE_SETTINGS = tuple(setting for setting in SETTINGS if setting.scopes)
"""The settings a routine file may write: what the docs' table lists."""
TOP_SETTINGS = tuple(setting for setting in SETTINGS if "routine" in setting.scopes)
"""The settings a routine file writes at its top level: fields of `Routine` too."""

assert {s.field for s in CUE_SETTINGS} == {f.name for f in fields(Cues)}, \
    "every field of Cues is one row of SETTINGS"
assert {s.field for s in TOP_SETTINGS} <= {f.name for f in fields(Routine)}, \
    "every setting of scope routine is a field of Routine"


def keys_in(scope: str) -> tuple[str, ...]:
    """The setting keys a routine file may write in `scope`."""
    return tuple(setting.key for setting in SETTINGS if scope in setting.scopes)


def read_settings(check: Checker, data: Map, where: str, base: Cues, scope: str | None,
                  breath_ms: int | None, spell=lambda key: key) -> Cues:
    """`base` with the settings `data` gives for `scope` (None: every cue setting, as a
    profile gives them); `spell` names each key as `data` writes it."""
    changes: dict[str, Any] = {}
    for setting in CUE_SETTINGS:
        if scope is not None and scope not in setting.scopes:
            continue
        name = spell(setting.key)
        if data.get(name) is None:
            continue
        changes[setting.field] = setting.parse(check, data[name], join(where, name),
                                               data.key_lines.get(name), breath_ms)
    return replace(base, **changes) if changes else base


def read_top_settings(check: Checker, data: Map) -> dict[str, Any]:
    """The `Routine` fields that the settings of scope `routine` written at the top level of
    `data` (a routine file) set, and `setting_lines`: (key, line) of each, for messages."""
    found: dict[str, Any] = {}
    lines = []
    for setting in TOP_SETTINGS:
        if data.get(setting.key) is not None:
            line = data.key_lines.get(setting.key)
            found[setting.field] = setting.parse(check, data[setting.key], setting.key, line)
            lines.append((setting.key, line))
    return {**found, "setting_lines": tuple(lines)}


def top_settings(routine: Routine) -> dict[str, Any]:
    """The settings of scope `routine` that `routine` gives, as a routine file writes them."""
    return {setting.key: setting.show(getattr(routine, setting.field))
            for setting in TOP_SETTINGS if getattr(routine, setting.field) is not None}


def changed_settings(cues: Cues, base: Cues | None, scope: str) -> dict[str, Any]:
    """The settings of `cues` that a routine file writes in `scope`, as it spells them:
    all of them, or those that differ from `base`."""
    return {setting.key: setting.show(getattr(cues, setting.field))
            for setting in CUE_SETTINGS if scope in setting.scopes
            and (base is None or getattr(cues, setting.field) != getattr(base, setting.field))}


def docs_table(settings: Iterable[Setting] = FILE_SETTINGS) -> str:
    """The Markdown table docs/format.md shows (a test checks the two agree)."""
    def default(setting: Setting) -> str:
        value = setting.default
        if value is None:
            return "none"
        if setting.kind == "duration":
            return describe_ms(value) if value else "0 (none)"
        if isinstance(value, bool):
            return f"`{str(value).lower()}`"
        return f"`{value}`"

    rows = ["| key | values | default | where | what it does |",
            "| --- | --- | --- | --- | --- |"]
    for setting in settings:
        rows.append(f"| `{setting.key}` | {setting.values} | {default(setting)} | "
                    f"{', '.join(SCOPE_NAMES.get(s, s) for s in setting.scopes)} | "
                    f"{setting.help} |")
    return "\n".join(rows)
