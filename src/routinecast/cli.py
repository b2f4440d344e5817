"""Command line: parse, call the library, print. The only module that imports click."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from . import __version__
from .builder import MAX_BITRATE, MIN_BITRATE, SAMPLE_RATES, Built, BuildSettings, build, \
    load_all, prepare
from .durations import format_ms
from .errors import InputError, RoutinecastError
from .plan import format_table, plan_to_json

EXIT_INPUT, EXIT_FAILURE, EXIT_INTERRUPTED = 2, 1, 130


class _Group(click.Group):
    """Turns our errors into one line on stderr and an exit status, never a traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except RoutinecastError as exc:
            click.echo(str(exc), err=True)
            ctx.exit(EXIT_INPUT if isinstance(exc, InputError) else EXIT_FAILURE)
        except KeyboardInterrupt:
            click.echo("interrupted; nothing was overwritten", err=True)
            ctx.exit(EXIT_INTERRUPTED)


class _Progress:
    """A click progress bar per stage, on a terminal only, unless quiet."""

    def __init__(self, quiet: bool):
        self.enabled = not quiet and sys.stderr.isatty()
        self.bar = None
        self.stage: str | None = None
        self.done = 0

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.enabled:
            return
        if stage != self.stage or self.bar is None:
            self.close()
            self.stage, self.done = stage, 0
            self.bar = click.progressbar(length=total, label=f"{stage:<13}", file=sys.stderr,
                                         show_eta=True, width=30)
            self.bar.__enter__()
        self.bar.update(done - self.done)
        self.done = done
        if done >= total:
            self.close()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None
            self.stage = None


def _settings(cache_dir: Path | None, bitrate: int = 96, sample_rate: int = 44_100):
    return BuildSettings(sample_rate=sample_rate, bitrate_kbps=bitrate, cache_dir=cache_dir)


cache_option = click.option(
    "--cache-dir", type=click.Path(file_okay=False, path_type=Path),
    help="Speech cache folder (default: $ROUTINECAST_CACHE or the user cache directory).")
quiet_option = click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors.")
routines_argument = click.argument("routines", nargs=-1, required=True,
                                   type=click.Path(path_type=Path))


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="routinecast")
def cli() -> None:
    """Turn routine files (stretching, physio, yoga) into narrated, chaptered MP3s."""


@cli.command("build")
@routines_argument
@click.option("-o", "--output-dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("output"), show_default=True, help="Folder for the MP3s.")
@click.option("--bitrate", type=click.IntRange(MIN_BITRATE, MAX_BITRATE), default=96,
              show_default=True, help="Constant MP3 bitrate in kbit/s.")
@click.option("--sample-rate", type=click.Choice([str(r) for r in SAMPLE_RATES]),
              default="44100", show_default=True, help="Sample rate of the track in Hz.")
@cache_option
@quiet_option
def build_command(routines, output_dir, bitrate, sample_rate, cache_dir, quiet) -> None:
    """Build each ROUTINE file into OUTPUT_DIR/<name>.mp3."""
    progress = _Progress(quiet)

    def done(built: Built) -> None:
        progress.close()
        if not quiet:
            click.echo(f"wrote {built.path} ({format_ms(built.plan.duration_ms)}, "
                       f"{len(built.plan.leaf_chapters())} chapters)")

    try:
        build(routines, output_dir, _settings(cache_dir, bitrate, int(sample_rate)),
              progress, done)
    finally:
        progress.close()


@cli.command("plan")
@click.argument("routine", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the timeline as JSON.")
@cache_option
@quiet_option
def plan_command(routine, as_json, cache_dir, quiet) -> None:
    """Print ROUTINE's timeline (speech lengths from the real voice) without encoding."""
    progress = _Progress(quiet)
    try:
        prepared = prepare(load_all([routine])[0], _settings(cache_dir), progress)
    finally:
        progress.close()
    click.echo(plan_to_json(prepared.plan) if as_json else format_table(prepared.plan))


@cli.command("validate")
@routines_argument
@quiet_option
def validate_command(routines, quiet) -> None:
    """Check ROUTINE files without building anything."""
    for routine in load_all(routines):
        if not quiet:
            click.echo(f"{routine.path}: ok ({len(routine.exercises)} exercises)")
