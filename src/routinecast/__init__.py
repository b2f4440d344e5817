"""routinecast: routine files (stretching, physio, yoga, mobility) → narrated, chaptered MP3s.

The names below are imported when first used, so that `import routinecast` (and with it
the command line, before it can handle a Ctrl-C) starts at once.
"""

from importlib import import_module as _import_module

__version__ = "0.2.0"

_MODULES = {
    "builder": ["BuildSettings", "Built", "Prepared", "build", "extract_routine", "prepare",
                "write_mp3"],
    "errors": ["InputError", "RoutinecastError", "RoutineError"],
    "models": ["Chapter", "Exercise", "Hold", "Phase", "Plan", "Routine", "Section", "Segment"],
    "overrides": ["Customised", "Overrides", "command_line", "customise", "load_profile"],
    "plan": ["make_plan", "plan_to_dict", "spoken_texts"],
    "routine": ["load_routine"],
}
_HOME = {name: module for module, names in _MODULES.items() for name in names}

__all__ = ["__version__", *sorted(_HOME)]


def __getattr__(name: str):
    if name not in _HOME:
        raise AttributeError(f"module 'routinecast' has no attribute {name!r}")
    value = getattr(_import_module(f".{_HOME[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOME})
