"""The `routinecast` command (and `python -m routinecast`)."""

import sys

# Nothing else is imported before `main` can catch a Ctrl-C: a signal that comes while a
# module loads ends Python with a traceback unless some code of ours is there to catch it.
EXIT_INTERRUPTED = 130
"""errors.EXIT_INTERRUPTED, known before anything is imported (tests/test_cli.py checks)."""


def main() -> None:
    try:
        from .cli import cli
    except KeyboardInterrupt:  # a Ctrl-C while numpy and the rest load: nothing began
        sys.stderr.write("interrupted\n")
        sys.exit(EXIT_INTERRUPTED)
    try:
        cli()
    except SystemExit as done:
        _exit(done.code)


def _exit(code: object) -> None:
    """End the command with `code` without the interpreter's teardown, which frees every
    module and array one by one: about 30 ms of a one-second build, after all its work is
    done and written. What exit handlers would do (temp folders' finalizers among them) is
    done first and the standard streams are flushed; when anything else may still run (a
    thread), or the exit is not a plain number, Python exits the usual way.

    `atexit._run_exitfuncs` is CPython's own (private, there since Python 3.0): should it go,
    this falls back to the usual exit, and tests/test_cli.py says so the day it happens."""
    import atexit
    import os
    import threading

    run_handlers = getattr(atexit, "_run_exitfuncs", None)
    if not (code is None or isinstance(code, int)) or run_handlers is None \
            or threading.active_count() > 1:
        raise SystemExit(code)
    run_handlers()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):  # a closed pipe: Python's exit reports it as it does
        raise SystemExit(code) from None
    os._exit(code or 0)


if __name__ == "__main__":
    main()
