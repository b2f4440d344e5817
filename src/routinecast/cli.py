"""Command line: parse, call the library, print. The only module that imports click."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import click

from . import __version__
from .builder import FORMATS, MAX_BITRATE, MIN_BITRATE, SAMPLE_RATES, Built, BuildSettings, \
    build, extract_routine, load_all, prepare
from .durations import format_ms
from .files import megabytes, write_text_atomic
from .errors import EXIT_FAILURE, EXIT_INPUT, EXIT_INTERRUPTED, InputError, RoutinecastError
from .overrides import command_line, load_profile, write_profile_example
from .plan import format_table, plan_to_json
from .checks import SPEED_RANGE
from .settings import SETTINGS, Setting
from .tts import ENGINES
from .sound import LOUDNESS_RANGE, SoundSettings

_NO_ARGS_IS_HELP = getattr(click.exceptions, "NoArgsIsHelpError", ())
"""Raised for a bare group by click 8.2 and later; click 8.1 prints the help itself."""


_OPTIONS = {"overwrite": "--force", "output": "-o", "hold": "--hold ID=DURATION"}
"""Library settings whose option is not `--` and their name with dashes."""


def cli_option(name: str) -> str:
    """The command-line option of a library setting an error names (`music_level` →
    `--music-level`, `overwrite` → `--force`)."""
    return _OPTIONS.get(name, "--" + name.replace("_", "-"))


class _Group(click.Group):
    """Turns our errors into one line on stderr and an exit status, never a traceback."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True,
             **extra):
        """click's standalone mode ends a Ctrl-C that comes outside a command's own work
        (while click parses the options, or closes the context after) with "Aborted!" and
        exit 1, which reads as a failure; it is an interruption like any other (130). So
        click runs in its other mode and its exits are made here as it would make them."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        try:
            code = super().main(args, prog_name, complete_var, False, **extra)
        except click.ClickException as exc:
            exc.show()
            sys.exit(exc.exit_code)
        except (click.Abort, KeyboardInterrupt) as exc:
            if isinstance(exc, click.Abort) and not isinstance(exc.__cause__,
                                                               KeyboardInterrupt):
                click.echo("Aborted!", err=True)  # a prompt answered with end-of-input
                sys.exit(EXIT_FAILURE)
            click.echo("interrupted", err=True)
            sys.exit(EXIT_INTERRUPTED)
        # a command's return is None; a number is the status of a ctx.exit(N)
        sys.exit(code if isinstance(code, int) else 0)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except _NO_ARGS_IS_HELP as exc:
            click.echo(exc.ctx.get_help())
            ctx.exit(0)
        except click.UsageError as exc:
            # one line, like our own errors, rather than click's usage block
            command = exc.ctx.command_path if exc.ctx else ctx.command_path
            if exc.ctx in (None, ctx) and ctx.invoked_subcommand:  # failed parsing its options
                command = f"{ctx.command_path} {ctx.invoked_subcommand}"
            click.echo(f"{command}: {exc.format_message()} (see {command} --help)", err=True)
            ctx.exit(EXIT_INPUT)
        except RoutinecastError as exc:
            click.echo(exc.render(cli_option), err=True)
            ctx.exit(EXIT_INPUT if isinstance(exc, InputError) else EXIT_FAILURE)
        except KeyboardInterrupt:
            click.echo("interrupted; no file was left half-written", err=True)
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


def _settings(cache_dir: Path | None, bitrate: int | None = None, sample_rate: int = 44_100,
              sound: SoundSettings = SoundSettings(), fallback: str | None = None
              ) -> BuildSettings:
    return BuildSettings(sample_rate=sample_rate, bitrate_kbps=bitrate, cache_dir=cache_dir,
                         sound=sound, fallback=fallback)


cache_option = click.option(
    "--cache-dir", type=click.Path(file_okay=False, path_type=Path),
    help="Speech cache folder (default: $ROUTINECAST_CACHE or the user cache directory).")
quiet_option = click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors.")
routines_argument = click.argument("routines", nargs=-1, required=True,
                                   type=click.Path(path_type=Path))

def _setting_option(setting: Setting):
    """The command-line option of one row of the settings table."""
    if setting.kind == "auto":
        return _auto_option(setting)
    if setting.kind == "flag":
        return click.option(f"{setting.option}/--no-{setting.name}", setting.key, default=None,
                            help=_help(setting) + ".")
    if setting.kind == "choice":
        kind = click.Choice(setting.choices)
    elif setting.kind == "count":
        kind = click.IntRange(setting.low, setting.high)
    else:
        kind = None
    return click.option(setting.option, setting.key, type=kind, metavar=setting.metavar or None,
                        help=_help(setting) + ".")


def _help(setting: Setting) -> str:
    """A setting's help as an option's: a sentence (without its full stop)."""
    return setting.help[0].upper() + setting.help[1:]


_AUTO_VALUES = {"auto": "auto", "true": True, "false": False}


def _auto_option(setting: Setting):
    """`--announce-next [auto|true|false]` (alone: true) and `--no-announce-next` (false),
    both setting one value; the later on the command line wins."""
    def given(ctx, param, value):
        if value is None:  # not given: keep what --no-… set, if it came first
            return ctx.params.get(setting.key)
        return _AUTO_VALUES[value.lower()]

    def negated(ctx, param, value):
        if value:
            ctx.params[setting.key] = False

    option = click.option(setting.option, setting.key, is_flag=False, flag_value="true",
                          default=None, callback=given,
                          type=click.Choice(tuple(_AUTO_VALUES), case_sensitive=False),
                          help=_help(setting) + f" ({setting.option} alone: true).")
    negation = click.option(f"--no-{setting.name}", is_flag=True, expose_value=False,
                            callback=negated, help=f"Same as {setting.option} false.")
    return lambda command: option(negation(command))


_OVERRIDE_OPTIONS = (
    click.option("--profile", type=click.Path(dir_okay=False, path_type=Path),
                 help="A profile of your own overrides (see `routinecast profile init`)."),
    click.option("--hold-scale", metavar="F",
                 help="Multiply every hold not set with --hold by F (1.5 = half as long again)."),
    click.option("--hold", "hold", multiple=True, metavar="ID[.N]=DURATION",
                 help="Set an exercise's holds, or phase N's (repeatable)."),
    click.option("--reps", multiple=True, metavar="ID=N", help="Reps of an exercise."),
    click.option("--sets", multiple=True, metavar="ID=N", help="Sets of an exercise."),
    click.option("--rest", metavar="DURATION", help="Rest after every exercise."),
    *(_setting_option(setting) for setting in SETTINGS),
    click.option("--engine", metavar="NAME", help="Text-to-speech engine."),
    click.option("--voice", metavar="NAME", help="Voice name, or path to a piper .onnx voice."),
    click.option("--speed", type=click.FloatRange(*SPEED_RANGE), help="Speaking rate (1.0 = natural)."),
    click.option("--only", multiple=True, metavar="ID[,ID]",
                 help="Build only these exercises or sections."),
    click.option("--skip", multiple=True, metavar="ID[,ID]",
                 help="Leave these exercises or sections out."),
)


def override_options(command):
    """The customising options, shared by `build` and `plan`; the command receives them
    as one `layers` argument (profile first, then the command line)."""
    for option in reversed(_OVERRIDE_OPTIONS):
        command = option(command)
    return command


def _layers(options: dict) -> list:
    """Pops the override options out of `options` and returns the overrides' layers."""
    names = ("profile", "hold_scale", "hold", "reps", "sets", "rest", "engine", "voice",
             "speed", "only", "skip", *(setting.key for setting in SETTINGS))
    values = {name: options.pop(name) for name in names}
    profile = values.pop("profile")
    return ([load_profile(profile)] if profile else []) + [command_line(**values)]


def _note(text: str) -> None:
    click.echo(f"note: {text}", err=True)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="routinecast")
def cli() -> None:
    """Turn routine files (stretching, physio, yoga) into narrated, chaptered MP3s."""


fallback_option = click.option(
    "--fallback", type=click.Choice(ENGINES), metavar="ENGINE",
    help="Engine to continue with if the routine's cannot be used here (no network, not "
         "installed), e.g. --engine gtts --fallback piper.")

_SOUND_OPTIONS = (
    click.option("--bitrate", type=click.IntRange(MIN_BITRATE, MAX_BITRATE),
                 help="Constant MP3 bitrate in kbit/s [default: 96 mono, 128 stereo]."),
    click.option("--sample-rate", type=click.Choice([str(r) for r in SAMPLE_RATES]),
                 default="44100", show_default=True, help="Sample rate of the track in Hz."),
    click.option("--loudness", type=click.FloatRange(*LOUDNESS_RANGE), default=-16.0,
                 show_default=True, metavar="LUFS",
                 help="Integrated loudness as heard on two speakers (mono: dual-mono)."),
    click.option("--music", multiple=True, type=click.Path(path_type=Path),
                 metavar="FILE|FOLDER",
                 help="Music bed under the whole track, looped (repeatable; a folder is a "
                      "playlist)."),
    click.option("--music-level", type=click.FloatRange(-40, 0), default=-18.0,
                 show_default=True, metavar="LU",
                 help="Music level between cues, relative to the speech."),
    click.option("--duck", type=click.FloatRange(0, 40), default=12.0, show_default=True,
                 metavar="DB", help="How far the music dips under speech and cue sounds."),
    click.option("--stereo/--mono", default=None,
                 help="Channels [default: stereo with --music, else mono]."),
    fallback_option,
)


def sound_options(command):
    """The options that shape the audio (and which engine may stand in for the routine's),
    shared by `build` and `share`; `_build_settings` turns them into one `BuildSettings`."""
    for option in reversed((*_SOUND_OPTIONS, cache_option)):
        command = option(command)
    return command


def _build_settings(options: dict) -> BuildSettings:
    """Pops the sound options (and the cache folder) out of `options`."""
    sound = SoundSettings(loudness_lufs=options.pop("loudness"),
                          music=tuple(options.pop("music")),
                          music_level_lu=options.pop("music_level"),
                          duck_db=options.pop("duck"), stereo=options.pop("stereo"))
    return _settings(options.pop("cache_dir"), options.pop("bitrate"),
                     int(options.pop("sample_rate")), sound, options.pop("fallback"))


def _reporter(progress: "_Progress", quiet: bool, peak_limit_db: float):
    """What `build` and `share` print as each MP3 is written."""

    def done(built: Built) -> None:
        progress.close()
        if not quiet:
            click.echo(f"wrote {built.path} ({format_ms(built.plan.duration_ms)}, "
                       f"{len(built.plan.leaf_chapters())} chapters, "
                       f"{built.measured.loudness_lufs:.1f} LUFS)")
        if built.measured.true_peak_db > peak_limit_db:
            _note(f"{built.path.name} reads a true peak of {built.measured.true_peak_db:.1f} "
                  f"dBTP, over the {peak_limit_db:g} asked: the music's sharp hits code that way "
                  "even limited further; a quieter --music-level or a smoother song avoids it")

    return done


@cli.command("build")
@routines_argument
@click.option("-o", "--output", "--output-dir", "output", type=click.Path(path_type=Path),
              default=Path("output"), show_default=True,
              help="Folder for the MP3s, or the MP3's file name for one routine.")
@click.option("--format", "audio_format", type=click.Choice(FORMATS), default="mp3",
              show_default=True, help="mp3, or m4b: an audiobook with chapters.")
@click.option("--split", is_flag=True,
              help="One MP3 per chapter in OUTPUT/<name>/, listed by OUTPUT/<name>.m3u8.")
@click.option("--force", is_flag=True,
              help="Build even outputs that are up to date (their inputs unchanged).")
@sound_options
@override_options
@quiet_option
def build_command(routines, output, audio_format, split, force, quiet, **options) -> None:
    """Build each ROUTINE file into OUTPUT/<name>.mp3.

    With overrides the name records them unless -o names the file:
    <name>-<profile>.mp3, <name>-gentle-15m.mp3, <name>-espeak.mp3, <name>-x1.5.mp3, and
    <name>-custom-<digest>.mp3 for overrides no shorter name says.
    """
    settings = replace(_build_settings(options), format=audio_format, split=split,
                       force=force)
    layers = _layers(options)
    progress = _Progress(quiet)
    try:
        report = _reporter(progress, quiet, settings.sound.true_peak_db)
        build(routines, output, settings, layers, progress, report, _note,
              on_up_to_date=None if quiet else
              lambda path: click.echo(f"{path} is up to date (--force builds it again)"))
    finally:
        progress.close()


@cli.command("share")
@routines_argument
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path),
              default=Path("share"), show_default=True, help="The folder to write.")
@click.option("--title", help="The session's name [default: the routine's title].")
@click.option("--description", help="A line about the session.")
@click.option("--base-url", metavar="URL",
              help="The folder's address on the web, for absolute links in the feed "
                   "(`serve` fills in its own address when this is not given).")
@sound_options
@override_options
@quiet_option
def share_command(routines, output, title, description, base_url, quiet, **options) -> None:
    """Build ROUTINES into a folder to share: a web page with players, chapters, timelines
    and transcripts; a podcast feed; each MP3 with its chapter files and routine file.

    Open OUTPUT/index.html in a browser, put the folder on any web server, or run
    `routinecast serve OUTPUT --lan` and subscribe to the feed from a phone.
    """
    settings = _build_settings(options)
    layers = _layers(options)
    progress = _Progress(quiet)
    try:
        from .share import share  # here: a build need not load the share site's modules

        shared = share(routines, output, settings, layers, title, description, base_url,
                       progress, _reporter(progress, quiet, settings.sound.true_peak_db), _note)
    finally:
        progress.close()
    if not quiet:
        click.echo(f"wrote {shared.page} and {shared.feed}")
        if base_url is None:
            _note("the feed's links are relative, which podcast apps do not accept; give "
                  "--base-url, or serve the folder with `routinecast serve`, which fills "
                  "them in")
        click.echo(f"open {shared.page} in a browser, or: routinecast serve {shared.folder}")


@cli.command("serve")
@click.argument("folder", type=click.Path(path_type=Path), default=Path("share"))
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True,
              help="Port to listen on (0: any free port).")
@click.option("--lan", is_flag=True,
              help="Listen on every interface so that a phone on this network can connect, "
                   "and print a QR code of the address.")
@quiet_option
def serve_command(folder, port, lan, quiet) -> None:
    """Serve a share FOLDER over HTTP (with byte ranges, so phones can seek).

    Only this machine can connect unless --lan is given. Stop with Ctrl-C.
    """
    from .share.feed import FEED_NAME, served_feed
    from .share.serve import lan_address, make_server, qr_text

    server = make_server(folder, "0.0.0.0" if lan else "127.0.0.1", port, served_feed,
                         None if quiet else lambda line: click.echo(line, err=True))
    host = lan_address() if lan else "127.0.0.1"
    url = f"http://{host}:{server.server_address[1]}/"
    click.echo(f"serving {folder} at {url}")
    click.echo(f"podcast feed: {url}{FEED_NAME}")
    if lan:
        click.echo("scan to open the page on a phone on this network:")
        click.echo(qr_text(url))
    else:
        click.echo("only this machine can connect; add --lan to reach it from a phone")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        click.echo("stopped")
    finally:
        server.server_close()


@cli.command("plan")
@click.argument("routine", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the timeline as JSON.")
@override_options
@fallback_option
@cache_option
@quiet_option
def plan_command(routine, as_json, fallback, cache_dir, quiet, **options) -> None:
    """Print ROUTINE's timeline (speech lengths from the real voice) without encoding.

    Values changed by overrides are listed first and marked in the table.
    """
    customised = load_all([routine], _layers(options), fallback)[0]
    for note in customised.notes:
        _note(note)
    progress = _Progress(quiet)
    try:
        prepared = prepare(customised.routine, _settings(cache_dir, fallback=fallback),
                           progress, _note)
    finally:
        progress.close()
    changes = customised.changes + prepared.changes
    click.echo(plan_to_json(prepared.plan, changes) if as_json
               else format_table(prepared.plan, changes))


@cli.command("validate")
@routines_argument
@quiet_option
def validate_command(routines, quiet) -> None:
    """Check ROUTINE files without building anything."""
    for customised in load_all(routines):
        routine = customised.routine
        if not quiet:
            click.echo(f"{routine.path}: ok ({len(routine.exercises)} exercises)")


@cli.group("profile")
def profile_group() -> None:
    """Profiles: your own overrides, kept in a file and applied to any routine."""


@profile_group.command("init")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path),
                default=Path("profile.yaml"))
@click.option("--force", is_flag=True, help="Overwrite PATH if it exists.")
def profile_init_command(path, force) -> None:
    """Write a commented example profile to PATH (default profile.yaml)."""
    write_profile_example(path, overwrite=force)
    click.echo(f"wrote {path}; edit it, then: routinecast build ROUTINE --profile {path}")


@cli.command("extract")
@click.argument("mp3", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Routine file to write, or - for standard output [default: NAME.yaml].")
@click.option("--force", is_flag=True, help="Overwrite the routine file if it exists.")
def extract_command(mp3, output, force) -> None:
    """Write out the routine an MP3 built by routinecast carries, overrides included.

    Change a hold in it, then build it again.
    """
    text = extract_routine(mp3)
    if str(output) == "-":
        click.echo(text, nl=False)
        return
    output = output or Path(f"{mp3.stem}.yaml")
    write_text_atomic(output, text, overwrite=force, make_folder=False)
    click.echo(f"wrote {output}; edit it, then: routinecast build {output}")


@cli.command("draft")
@click.argument("article")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Routine file to write, or - for standard output [default: the "
                   "headline's slug.yaml].")
@click.option("--force", is_flag=True, help="Overwrite the routine file if it exists.")
@click.option("--plan", "show_plan", is_flag=True,
              help="Also print the draft's timeline (speech lengths from the real voice).")
@click.option("--timeout", type=click.FloatRange(0.1, 600), default=20.0, show_default=True,
              help="Seconds the whole fetch of a URL may take.")
@cache_option
@quiet_option
def draft_command(article, output, force, show_plan, timeout, cache_dir, quiet) -> None:
    """Draft a routine from ARTICLE: a text, Markdown or saved HTML file, or an http(s) URL.

    Every value drafted carries a comment quoting the article's words and line, or saying
    it is the format's default: review them, then build it.
    """
    from .draft import draft
    drafted = draft(article, timeout=timeout)
    if str(output) != "-":
        output = output or Path(f"{drafted.slug}.yaml")
        write_text_atomic(output, drafted.text, overwrite=force, make_folder=False)
    else:
        click.echo(drafted.text, nl=False)
    if not quiet:
        click.echo(drafted.summary, err=True)
    if show_plan:
        progress = _Progress(quiet)
        try:
            prepared = prepare(drafted.routine, _settings(cache_dir), progress, _note)
        finally:
            progress.close()
        click.echo(format_table(prepared.plan, prepared.changes))
    if str(output) != "-" and not quiet:
        click.echo(f"wrote {output}; review it, then: routinecast build {output}")


@cli.command("voices")
@click.option("--engine", type=click.Choice(ENGINES), help="Only this engine's voices.")
@click.option("--language", metavar="CODE", help="Only voices that speak this language.")
@click.option("--offline", is_flag=True, help="Do not check whether Google can be reached.")
def voices_command(engine, language, offline) -> None:
    """List the speech engines, their voices and languages, and whether each can be used
    on this machine right now."""
    from .tts import language_family, list_voices

    family = language_family(language) if language else None
    rows = [voice for voice in list_voices(check_network=not offline)
            if (engine is None or voice.engine == engine)
            and (family is None or not voice.languages
                 or any(language_family(code) == family for code in voice.languages))]
    width = max((len(voice.voice) for voice in rows), default=5)
    for voice in rows:
        codes = " ".join(voice.languages)
        if len(codes) > 40:
            codes = f"{codes[:37].rsplit(' ', 1)[0]} … ({len(voice.languages)} languages)"
        click.echo(f"{voice.engine:<7} {voice.voice:<{width}}  {codes or '-':<44} "
                   f"{voice.note}; usable: {voice.usable}")
    click.echo("use one with: routinecast build ROUTINE --engine ENGINE --voice VOICE")


@cli.command("cache")
@cache_option
@click.option("--prune", "unused_days", type=click.IntRange(0), metavar="DAYS",
              help="Remove what no build has used in the last DAYS days (0: everything).")
def cache_command(cache_dir, unused_days) -> None:
    """Show what the speech cache holds (speech, calibrations, covers) and its size, or
    remove what no build has used for a while. Anything removed is made again when needed."""
    import datetime

    from .cachefolder import prune, survey
    from .tts.cache import default_cache_dir

    folder = cache_dir or default_cache_dir()
    if not folder.is_dir():
        click.echo(f"no cache at {folder}: nothing has been built with it yet")
        return
    removed = None
    if unused_days is not None:
        removed = prune(folder, unused_days)
        when = "" if unused_days == 0 else f" not used in {unused_days} days"
        click.echo(f"removed {_files(removed.files)} ({megabytes(removed.size)}){when} from "
                   f"{folder}" if removed.files else f"nothing to remove from {folder}")
    kinds = survey(folder)
    click.echo(f"cache: {folder}")
    for kind in kinds:
        if kind.files or kind.name != "older":
            last = (datetime.date.fromtimestamp(kind.last_used).isoformat()
                    if kind.last_used else "-")
            click.echo(f"  {kind.name:<7} {kind.files:>7} files  {megabytes(kind.size):>9}  "
                       f"last used {last}  ({kind.description})")
    click.echo(f"  total   {sum(k.files for k in kinds):>7} files  "
               f"{megabytes(sum(k.size for k in kinds)):>9}")
    if removed is not None and removed.failed:
        click.echo(f"could not remove {_files(removed.failed)} ({removed.error}); check the "
                   "folder's permissions", err=True)
        click.get_current_context().exit(EXIT_FAILURE)


def _files(count: int) -> str:
    return f"{count} file" if count == 1 else f"{count} files"


@cli.command("batch")
@click.argument("manifest", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path),
              default=Path("batch"), show_default=True,
              help="The folder to write: a site per listener in OUTPUT/<listener>/.")
@click.option("-j", "--jobs", type=click.IntRange(1, 1024),
              help="Builds to run at once [default: the number of cores].")
@click.option("--scheduler", metavar="tcp://HOST:PORT",
              help="Run the builds on this Dask cluster (its scheduler's address, or a "
                   "scheduler file); needs routinecast[cluster].")
@click.option("--private", is_flag=True,
              help="Put each listener's site in a folder named with a random token, so that "
                   "only they know its address.")
@click.option("--base-url", metavar="URL",
              help="OUTPUT's address on the web, for absolute links in the feeds.")
@click.option("--lan", is_flag=True,
              help="Print the feed addresses `routinecast serve OUTPUT --lan` serves, and "
                   "write a QR code of each into the listener's folder.")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True,
              help="The port `serve` will use, for the printed addresses.")
@sound_options
@quiet_option
def batch_command(manifest, output, jobs, scheduler, private, base_url, lan, port, quiet,
                  **options) -> None:
    """Build every listener's versions of the routines of MANIFEST (YAML, or CSV), each
    listener a share site of their own with a podcast feed.

    Outputs whose inputs are unchanged are skipped; an interrupted batch picks up where it
    stopped. The results are printed as a table and written to OUTPUT/batch.json; the
    exit status is 1 if any build failed.
    """
    from .batch import FAILED, batch, format_results

    def report(result) -> None:
        if not quiet and result.result != "up to date":
            click.echo(f"{result.result} {result.listener}: {Path(result.routine).name}"
                       + (f" ({result.seconds:.1f}s)" if result.result != FAILED else ""),
                       err=True)

    done = batch(manifest, output, jobs, scheduler, _build_settings(options), private,
                 base_url, lan, port, report, None if quiet else _note)
    click.echo(format_results(done))
    for site in done.sites:
        click.echo(f"{site.listener}: {site.feed}"
                   + (f" (QR code: {site.qr})" if site.qr else "")
                   + ("" if site.complete else " (not updated: a routine failed)"))
    if done.sites and not quiet and not base_url:
        click.echo(f"serve them with: routinecast serve {output}" + (" --lan" if lan else "")
                   + (f" --port {port}" if port != 8000 else ""))
    if done.failed:
        click.get_current_context().exit(EXIT_FAILURE)
