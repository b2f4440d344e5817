"""routinecast: routine files (stretching, physio, yoga, mobility) → narrated, chaptered MP3s."""

__version__ = "0.2.0"

from .builder import (BuildSettings, Built, Prepared, build, extract_routine, prepare,  # noqa: E402
                      write_mp3)
from .errors import InputError, RoutinecastError, RoutineError  # noqa: E402
from .models import Chapter, Exercise, Hold, Phase, Plan, Routine, Section, Segment  # noqa: E402
from .overrides import Customised, Overrides, command_line, customise, load_profile  # noqa: E402
from .plan import make_plan, plan_to_dict, spoken_texts  # noqa: E402
from .routine import load_routine  # noqa: E402

__all__ = [
    "__version__", "BuildSettings", "Built", "Chapter", "Customised", "Exercise", "Hold",
    "InputError", "Overrides", "Phase", "Plan", "Prepared", "Routine", "RoutineError",
    "RoutinecastError", "Section", "Segment", "build", "command_line", "customise",
    "extract_routine",
    "load_profile", "load_routine", "make_plan", "plan_to_dict", "prepare", "spoken_texts",
    "write_mp3",
]
