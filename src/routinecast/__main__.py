"""The `routinecast` command (and `python -m routinecast`)."""

import sys

from .errors import EXIT_INTERRUPTED


def main() -> None:
    try:
        from .cli import cli
    except KeyboardInterrupt:  # a Ctrl-C while numpy and the rest load: nothing began
        sys.stderr.write("interrupted\n")
        sys.exit(EXIT_INTERRUPTED)
    cli()


if __name__ == "__main__":
    main()
