"""Modules imported when first used rather than when named.

numpy takes 70 ms or more to import, which the command line's start, `validate`, and an
unchanged rebuild (which decides "up to date" from the routine file and the output's tag
alone) need not pay; the audio modules name it at the top as usual and get it on first use.
"""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType


def lazy_module(name: str) -> ModuleType:
    """The module `name`, loaded at its first attribute access (the standard library's
    `LazyLoader`); the module itself if it is loaded already."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ImportError(f"no module named {name!r}")
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    return module
