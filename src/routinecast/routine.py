"""Routine files (YAML or JSON) → `Routine`, strictly validated.

Every mistake becomes one `RoutineError` naming the file, the line and the key
(`content/x.yaml:14: exercises[2].hold: "-5s" is not a positive duration`), with the
nearest valid key suggested for unknown keys. Reading the file and checking single values
is `checks.py`'s; the settings that cascade are read from the table in `settings.py`.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from pathlib import Path
from typing import Any

from .checks import (MAX_COUNT, MAX_HOLD_MS, MAX_TEXT_CHARS, SPEED_RANGE, Checker, Map, Seq,
                     join, kind, read_mapping)
from .errors import RoutineError
from .models import (DEFAULT_SIDES, SOUND_NAMES, Cues, Defaults, Exercise, Move, Phase, Routine,
                     Section, Sounds, Voice)
from .settings import CUE_SETTINGS, MAX_COUNTDOWN, keys_in, read_settings, read_top_settings

__all__ = ["load_routine", "slugify", "read_mapping", "MAX_COUNT", "MAX_HOLD_MS",
           "MAX_TEXT_CHARS", "MAX_COUNTDOWN", "SPEED_RANGE"]

MAX_TOC_ENTRIES = 255
"""Chapters in one table of contents: ID3 counts a CTOC frame's entries in one byte. The top
one also holds the introduction and closing chapters, a section's its spoken title."""
MAX_BREATH_MS = 60_000
MAX_OPTIONAL = 9

TOP_KEYS = ("title", "description", "author", "source", "language", "equipment", "voice",
            "defaults", "intro", "outro", "pronounce", *keys_in("routine"), "exercises",
            "sections")
CUE_KEYS = tuple(setting.key for setting in CUE_SETTINGS)
DEFAULTS_KEYS = ("hold", "rest", "breath", "rep_rest", "sounds", *keys_in("defaults"))
VOICE_KEYS = ("engine", "name", "speed")
SECTION_KEYS = ("title", "intro", "exercises")
EXERCISE_KEYS = ("name", "id", "about", "equipment", "optional", "setup", "setup_each_side",
                 "hold", "phases", "flow", "during", "reps", "sides", "sets", "rest",
                 "rep_rest", "breath", *keys_in("exercise"), "notes")
PHASE_KEYS = ("say", "cue", "hold", "during", "move", *keys_in("phase"))
MOVE_KEYS = ("say", "cue", "breaths")
SPOKEN_KEYS = ("say", "cue")
SIDE_PLACEHOLDERS = ("{side}", "{other side}")
"""Filled per side in an exercise's spoken texts: the side's name, and the other side's."""

_BRACED = re.compile(r"\{[A-Za-z][A-Za-z _-]*\}")
"""A placeholder as written: words in braces (`{side}`, a mistyped `{sid}` or `{Side}`);
braces around anything else (`{"json": 1}`) are text like any other."""
_ID = re.compile(r"[a-z0-9]+(?:[-_][a-z0-9]+)*")
_LANGUAGE = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*")


def slugify(text: str) -> str:
    """`Child's Pose` → `childs-pose`: lowercase ASCII words joined by hyphens."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    ascii_text = re.sub(r"['’`]", "", ascii_text.lower())
    return re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")


def load_routine(path: str | Path) -> Routine:
    """Read and validate a routine file; raise `RoutineError` on the first mistake."""
    path = Path(path)
    data = read_mapping(path, "routine", "title, exercises, …", RoutineError)
    return _RoutineReader(str(path)).routine(data)


class _RoutineReader(Checker):
    """Turns the converted file into a `Routine`, one field at a time."""

    # -- the routine ------------------------------------------------------------------

    def routine(self, data: Map) -> Routine:
        self.mapping(data, "", data.line, TOP_KEYS, required=("title",))
        self.short_forms: dict[str, str] = {}
        lines = data.key_lines
        has_exercises, has_sections = "exercises" in data, "sections" in data
        if has_exercises == has_sections:
            message = ("has both `exercises` and `sections`; use one of them" if has_exercises
                       else "needs `exercises` (a list) or `sections`")
            raise self.error(message, self.path,
                             lines.get("sections") if has_exercises else data.line)
        title = self.text(data["title"], "title", lines["title"], spoken=True)
        header = dict(
            description=self.optional_text(data, "description", ""),
            author=self.optional_text(data, "author", ""),
            source=self.optional_text(data, "source", ""),
            language=self.language(data),
            equipment=(self.texts(data["equipment"], "equipment", lines["equipment"])
                       if data.get("equipment") is not None else ()),
            voice=self.voice(data),
            intro=self.optional_text(data, "intro", "", spoken=True),
            outro=self.optional_text(data, "outro", "", spoken=True),
            pronounce=self.pronounce(data),
            **read_top_settings(self, data),
        )
        defaults = self.defaults(data)
        self.seen_ids: dict[str, int | None] = {}
        if has_exercises:
            self.fits_toc(data["exercises"], "exercises", lines["exercises"],
                          MAX_TOC_ENTRIES - 2, "group them into sections")
            exercises = self.exercises(data["exercises"], "exercises", lines["exercises"],
                                       defaults)
            sections = (Section(id="", title="", exercises=exercises),)
        else:
            sections = self.sections(data["sections"], lines["sections"], defaults)
        return Routine(title=title, sections=sections, flat=has_exercises, defaults=defaults,
                       path=self.path, short_forms=tuple(self.short_forms.items()), **header)

    def language(self, data: Map) -> str:
        if data.get("language") is None:
            return "en"
        language = self.text(data["language"], "language", data.key_lines["language"])
        if not _LANGUAGE.fullmatch(language):
            raise self.fail(data.key_lines["language"], "language",
                            f'"{language}" is not a language tag (e.g. en, en-GB, de)')
        return language

    def pronounce(self, data: Map) -> tuple[tuple[str, str], ...]:
        """`pronounce: {sacroiliac: sacro-iliac}`: words the voice gets wrong, and how to
        spell them so that it says them right."""
        if data.get("pronounce") is None:
            return ()
        table = data["pronounce"]
        if not isinstance(table, Map):
            raise self.fail(data.key_lines["pronounce"], "pronounce", "must be a mapping of "
                            "words to how they are said, e.g. pronounce: "
                            "{sacroiliac: sacro-iliac}")
        return tuple((self.text(word, "pronounce", table.key_lines[word], spoken=True),
                      self.text(said, join("pronounce", word), table.key_lines[word],
                                spoken=True))
                     for word, said in table.items())

    def voice(self, data: Map) -> Voice:
        if data.get("voice") is None:
            return Voice()
        if isinstance(data["voice"], str):
            return Voice(name=self.text(data["voice"], "voice", data.key_lines["voice"]))
        voice = self.mapping(data["voice"], "voice", data.key_lines["voice"], VOICE_KEYS)
        speed = 1.0
        if voice.get("speed") is not None:
            speed = self.speed(voice["speed"], "voice.speed", voice.key_lines["speed"])
        return Voice(engine=self.optional_text(voice, "engine", "voice") or "piper",
                     name=self.optional_text(voice, "name", "voice"), speed=speed)

    def defaults(self, data: Map) -> Defaults:
        if data.get("defaults") is None:
            return Defaults()
        values = self.mapping(data["defaults"], "defaults", data.key_lines["defaults"],
                              DEFAULTS_KEYS)
        lines = values.key_lines
        base = Defaults()
        breath_ms = base.breath_ms
        if values.get("breath") is not None:
            breath_ms = self.duration(values["breath"], "defaults.breath", lines["breath"], None,
                                      high=MAX_BREATH_MS)

        def get(key: str, fallback: int) -> int:
            if values.get(key) is None:
                return fallback
            return self.duration(values[key], f"defaults.{key}", lines[key], breath_ms,
                                 allow_zero=True)

        hold_ms, hold_range = base.hold_ms, None
        if values.get("hold") is not None:
            hold_ms, hold_range, _ = self.duration_range(values["hold"], "defaults.hold",
                                                         lines["hold"], breath_ms)
        return Defaults(hold_ms=hold_ms, hold_range=hold_range,
                        rest_ms=get("rest", base.rest_ms),
                        breath_ms=breath_ms,
                        rep_rest_ms=get("rep_rest", base.rep_rest_ms),
                        cues=read_settings(self, values, "defaults", base.cues, "defaults",
                                           breath_ms),
                        sounds=self.sounds(values))

    def sounds(self, values: Map) -> Sounds:
        """`defaults.sounds`: each cue's sound `on`, `off`, or a file beside the routine."""
        if values.get("sounds") is None:
            return Sounds()
        table = self.mapping(values["sounds"], "defaults.sounds", values.key_lines["sounds"],
                             SOUND_NAMES)
        chosen = {}
        for name, value in table.items():
            where, line = f"defaults.sounds.{name}", table.key_lines[name]
            if value is None:
                continue
            if isinstance(value, bool) or value in ("on", "off"):
                chosen[name] = "on" if value in (True, "on") else "off"
                continue
            file = Path(self.text(value, where, line)).expanduser()
            if not file.is_absolute():
                file = Path(self.path).parent / file
            if not file.is_file():
                raise self.fail(line, where, f'"{value}" is not a file (looked for {file}); '
                                "give on, off, or an audio file's path")
            chosen[name] = str(file.resolve())  # the routine may be dumped somewhere else
        return Sounds(**chosen)

    def sections(self, value: Any, line: int | None, defaults: Defaults) -> tuple[Section, ...]:
        items = self.sequence(value, "sections", line)
        self.fits_toc(items, "sections", line, MAX_TOC_ENTRIES - 2,
                      "split the routine into several files")
        seen: dict[str, int | None] = {}
        sections = []
        for i, (item, item_line) in enumerate(zip(items, items.item_lines)):
            where = f"sections[{i}]"
            section = self.mapping(item, where, item_line, SECTION_KEYS,
                                   required=("title", "exercises"))
            title = self.text(section["title"], f"{where}.title", section.key_lines["title"],
                              spoken=True)
            section_id = slugify(title) or f"section-{i + 1}"
            if section_id in seen:
                raise self.fail(section.key_lines["title"], f"{where}.title",
                                f'"{title}" is already the title of the section at line '
                                f"{seen[section_id]}")
            seen[section_id] = section.key_lines["title"]
            self.fits_toc(section["exercises"], f"{where}.exercises",
                          section.key_lines["exercises"], MAX_TOC_ENTRIES - 1,
                          "split the section in two")
            exercises = self.exercises(section["exercises"], f"{where}.exercises",
                                       section.key_lines["exercises"], defaults)
            sections.append(Section(id=section_id, title=title, exercises=exercises,
                                    intro=self.optional_text(section, "intro", where, spoken=True)))
        return tuple(sections)

    def fits_toc(self, value: Any, where: str, line: int | None, room: int, fix: str) -> None:
        """Refuse more chapters than one table of contents can list (see MAX_TOC_ENTRIES)."""
        if isinstance(value, Seq) and len(value) > room:
            raise self.fail(line, where, f"has {len(value)} entries; one chapter list holds at "
                            f"most {room} (ID3 tables of contents hold {MAX_TOC_ENTRIES} "
                            f"chapters); {fix}")

    def exercises(self, value: Any, where: str, line: int | None,
                  defaults: Defaults) -> tuple[Exercise, ...]:
        items = self.sequence(value, where, line)
        return tuple(self.exercise(item, join(where, i), item_line, defaults)
                     for i, (item, item_line) in enumerate(zip(items, items.item_lines)))

    # -- spoken texts -----------------------------------------------------------------

    def spoken(self, value: Any, where: str, line: int | None, sided: bool) -> str:
        """A spoken text, written as text or as `{say: TEXT, cue: SHORT}`; the short form is
        remembered for `Routine.short_forms`. `{side}` needs an exercise with sides."""
        short = None
        texts = []  # (text, where, line) of each text written
        if isinstance(value, Map):
            self.mapping(value, where, line, SPOKEN_KEYS, required=("say",))
            text = self.text(value["say"], join(where, "say"), value.key_lines["say"], True)
            texts.append((text, join(where, "say"), value.key_lines["say"]))
            if value.get("cue") is not None:
                short = self.text(value["cue"], join(where, "cue"), value.key_lines["cue"],
                                  True)
                texts.append((short, join(where, "cue"), value.key_lines["cue"]))
        else:
            text = self.text(value, where, line, spoken=True)
            texts.append((text, where, line))
        for said, said_where, said_line in texts:
            for written in _BRACED.findall(said):
                if written not in SIDE_PLACEHOLDERS:
                    near = difflib.get_close_matches(written.lower(), SIDE_PLACEHOLDERS, n=1,
                                                     cutoff=0.5)
                    raise self.fail(said_line, said_where, f"{written} is not a placeholder; "
                                    + (f"did you mean {near[0]}? " if near else "")
                                    + "the placeholders are {side} and {other side}")
            placeholder = next((p for p in SIDE_PLACEHOLDERS if p in said), None)
            if placeholder and not sided:
                raise self.fail(said_line, said_where, f"uses {placeholder}, but the exercise "
                                "has no sides; give it `sides`, or write the side out")
        if short:
            self.short_forms[text] = short
        return text

    def spoken_list(self, value: Any, where: str, line: int | None,
                    sided: bool) -> tuple[str, ...]:
        """A spoken text or a list of them."""
        if isinstance(value, Seq):
            items = self.sequence(value, where, line)
            return tuple(self.spoken(item, join(where, i), item_line, sided)
                         for i, (item, item_line) in enumerate(zip(items, items.item_lines)))
        return (self.spoken(value, where, line, sided),)

    def optional_spoken(self, data: Map, key: str, where: str, sided: bool) -> str | None:
        if data.get(key) is None:
            return None
        return self.spoken(data[key], join(where, key), data.key_lines[key], sided)

    # -- exercises --------------------------------------------------------------------

    def exercise(self, value: Any, where: str, line: int | None, defaults: Defaults) -> Exercise:
        data = self.mapping(value, where, line, EXERCISE_KEYS, required=("name",))
        lines = data.key_lines
        name = self.text(data["name"], f"{where}.name", lines["name"], spoken=True)
        exercise_id = self.exercise_id(data, where, name)
        breath = defaults.breath_ms
        if data.get("breath") is not None:
            breath = self.duration(data["breath"], f"{where}.breath", lines["breath"], None,
                                   high=MAX_BREATH_MS)
        sides = self.sides(data, where)
        sided = bool(sides)
        cues = read_settings(self, data, where, defaults.cues, "exercise", breath)

        def duration(key: str, fallback: int) -> int:
            if data.get(key) is None:
                return fallback
            return self.duration(data[key], f"{where}.{key}", lines[key], breath,
                                 allow_zero=True)

        hold = (defaults.hold_ms, defaults.hold_range,
                None)  # a default hold is in seconds even when `defaults.hold` says breaths
        if data.get("hold") is not None:
            hold = self.duration_range(data["hold"], f"{where}.hold", lines["hold"], breath)
        during = self.optional_spoken(data, "during", where, sided)
        flow: tuple[Move, ...] = ()
        if data.get("flow") is not None:
            clash = next((key for key in ("phases", "hold", "during") if key in data), None)
            if clash:
                raise self.fail(lines[clash], f"{where}.{clash}", "a flow's moves are paced "
                                "by the breath; give `flow` or `" + clash + "`, not both")
            flow = self.flow(data["flow"], f"{where}.flow", lines["flow"], sided)
            phases = (Phase(hold_ms=sum(move.breaths for move in flow) * breath, move=True),)
        elif data.get("phases") is not None:
            phases = self.phases(data["phases"], f"{where}.phases", lines["phases"], hold,
                                 during, breath, cues, sided)
        else:
            phases = (Phase(hold_ms=hold[0], hold_range=hold[1], breath_ms=hold[2],
                            during=during),)
        setup = self.spoken_list(data["setup"], f"{where}.setup", lines["setup"], sided) \
            if data.get("setup") is not None else ()
        reps, reps_range = self.optional_count(data, "reps", where)
        sets, sets_range = self.optional_count(data, "sets", where)
        return Exercise(
            id=exercise_id, name=name, phases=phases, setup=setup,
            reps=reps, reps_range=reps_range, sides=sides, sets=sets, sets_range=sets_range,
            rest_ms=duration("rest", defaults.rest_ms),
            rep_rest_ms=duration("rep_rest", defaults.rep_rest_ms),
            cues=cues,
            notes=self.optional_text(data, "notes", where),
            about=self.optional_text(data, "about", where),
            optional=self.optional(data, where),
            equipment=(self.texts(data["equipment"], f"{where}.equipment", lines["equipment"])
                       if data.get("equipment") is not None else ()),
            flow=flow, breath_ms=breath,
            setup_each_side=(self.flag(data["setup_each_side"], f"{where}.setup_each_side",
                                       lines["setup_each_side"])
                             if data.get("setup_each_side") is not None else False),
        )

    def optional(self, data: Map, where: str) -> int:
        """`optional: true` (1) or a rank from 1 (left out first) to `MAX_OPTIONAL`."""
        value = data.get("optional")
        if value is None or value is False:
            return 0
        if value is True:
            return 1
        return self.count(value, f"{where}.optional", data.key_lines["optional"], 1,
                          MAX_OPTIONAL)

    def exercise_id(self, data: Map, where: str, name: str) -> str:
        if data.get("id") is not None:
            line = data.key_lines["id"]
            exercise_id = self.text(data["id"], f"{where}.id", line)
            if not _ID.fullmatch(exercise_id):
                raise self.fail(line, f"{where}.id", f'"{exercise_id}" is not a valid id: use '
                                "lowercase letters, digits, - and _ (e.g. "
                                f"{slugify(exercise_id) or 'cat-stretch'})")
            if exercise_id in self.seen_ids:
                raise self.fail(line, f"{where}.id", f'duplicate id "{exercise_id}" '
                                f"(also used by the exercise at line {self.seen_ids[exercise_id]})")
        else:
            line = data.key_lines["name"]
            exercise_id = slugify(name) or f"exercise-{len(self.seen_ids) + 1}"
            if exercise_id in self.seen_ids:
                raise self.fail(line, f"{where}.name", f'its id "{exercise_id}" is already used '
                                f"by the exercise at line {self.seen_ids[exercise_id]}; "
                                "give one of them an `id`")
        self.seen_ids[exercise_id] = line
        return exercise_id

    def optional_count(self, data: Map, key: str,
                       where: str) -> tuple[int, tuple[int, int] | None]:
        if data.get(key) is None:
            return 1, None
        return self.count_range(data[key], f"{where}.{key}", data.key_lines[key], 1, MAX_COUNT)

    def sides(self, data: Map, where: str) -> tuple[str, ...]:
        value = data.get("sides")
        if value is None or value is False:
            return ()
        if value is True:
            return DEFAULT_SIDES
        line = data.key_lines["sides"]
        if not isinstance(value, Seq):
            raise self.fail(line, f"{where}.sides", f"must be true or a list of side names "
                            f"like [left, right], not {kind(value)}")
        names = self.texts(value, f"{where}.sides", line)
        for i, name in enumerate(names):
            if name in names[:i]:
                raise self.fail(value.item_lines[i], f"{where}.sides[{i}]",
                                f'"{name}" is listed twice')
        return names

    def flow(self, value: Any, where: str, line: int | None, sided: bool) -> tuple[Move, ...]:
        items = self.sequence(value, where, line)
        moves = []
        for i, (item, item_line) in enumerate(zip(items, items.item_lines)):
            at = join(where, i)
            breaths = 1
            if isinstance(item, Map):
                self.mapping(item, at, item_line, MOVE_KEYS, required=("say",))
                if item.get("breaths") is not None:
                    breaths = self.count(item["breaths"], f"{at}.breaths",
                                         item.key_lines["breaths"], 1, 20)
                spoken = Map({key: item[key] for key in SPOKEN_KEYS if key in item})
                spoken.line, spoken.key_lines = item.line, item.key_lines
                item = spoken
            moves.append(Move(say=self.spoken(item, at, item_line, sided), breaths=breaths))
        return tuple(moves)

    def phases(self, value: Any, where: str, line: int | None,
               hold: tuple[int, tuple[int, int] | None, int | None], during: str | None,
               breath_ms: int, cues: Cues, sided: bool) -> tuple[Phase, ...]:
        items = self.sequence(value, where, line)
        phases = []
        for i, (item, item_line) in enumerate(zip(items, items.item_lines)):
            phase_where = f"{where}[{i}]"
            data = self.mapping(item, phase_where, item_line, PHASE_KEYS)
            if not data:
                raise self.fail(item_line, phase_where, "is empty; give it `say` and `hold`")
            if data.get("cue") is not None and data.get("say") is None:
                raise self.fail(data.key_lines["cue"], f"{phase_where}.cue",
                                "is the short form of `say`; give the phase a `say` too")
            phase_hold = hold
            if data.get("hold") is not None:
                phase_hold = self.duration_range(data["hold"], f"{phase_where}.hold",
                                                 data.key_lines["hold"], breath_ms)
            say = None
            if data.get("say") is not None:
                spoken, spoken_where = data["say"], f"{phase_where}.say"
                if data.get("cue") is not None and not isinstance(spoken, Map):
                    spoken = Map(say=spoken, cue=data["cue"])  # as the phase's own keys
                    spoken.line, spoken.key_lines = data.key_lines["say"], {
                        "say": data.key_lines["say"], "cue": data.key_lines["cue"]}
                    spoken_where = phase_where
                say = self.spoken(spoken, spoken_where, data.key_lines["say"], sided)
            own = read_settings(self, data, phase_where, cues, "phase", breath_ms)
            phases.append(Phase(
                hold_ms=phase_hold[0], hold_range=phase_hold[1], breath_ms=phase_hold[2],
                say=say,
                during=self.optional_spoken(data, "during", phase_where, sided) or during,
                move=(self.flag(data["move"], f"{phase_where}.move", data.key_lines["move"])
                      if data.get("move") is not None else False),
                cues=own if own != cues else None))
        return tuple(phases)
