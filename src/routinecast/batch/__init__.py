"""Batch builds: every listener of a manifest gets their own versions of the routines, each
listener a share site of their own (page, podcast feed, chapter files), in
`OUTPUT/<listener>/` (or, `private`, `OUTPUT/<listener>-<token>/`).

    manifest → listeners (profiles checked) → tasks (one routine for one listener, skipped
    when its MP3 carries the build key the builder gives it now) → run here (`local`) or on
    a Dask cluster (`cluster`) → each MP3 written atomically here as it comes back → each
    listener's site once all their routines are in → OUTPUT/batch.json

What makes a batch incremental travels with its outputs, so that an output folder copied
elsewhere is still up to date: each MP3 carries its build key (`builder.build_key`), and each
site folder a record (`SITE_RECORD`) of the key of the site it holds and of its cover. The
manifest's state file keeps only the private tokens (see `state`).

A listener whose profile is broken, or one of whose routines fails, is reported in the
results and the others are built; a mistake in the manifest itself (or a routine file)
is an `InputError` before anything is written. See docs/batch.md.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Callable, Sequence
from urllib.parse import quote

from .. import __version__
from ..builder import Built, BuildSettings, build_key, load_all, up_to_date
from ..cover import make_cover
from ..errors import InputError, OutputError, RoutinecastError, setting
from ..files import (NoLocks, cannot_write, locked, replacing, temp_folder,
                     write_text_atomic)
from ..overrides import Customised, load_profile
from ..routine import load_routine
from ..share import COVER_NAME, PAGE_NAME, publish, written_by_us
from ..share.feed import FEED_NAME
from ..sound import check_music, playlist
from ..tagging import read_tags
from .manifest import Listener, Manifest, ManifestError, read_manifest
from .state import State, digest
from .work import Outcome, Task

__all__ = ["batch", "format_results", "Batch", "Result", "Site", "read_manifest", "ManifestError"]

TABLE_NAME = "batch.json"
QR_NAME = "feed-qr.png"
SITE_RECORD = ".batch-site.json"
"""In each listener's folder: the key of the site written there and what its cover was
drawn from (hidden: `serve` never hands it out)."""
LOCK_NAME = ".batch.lock"
"""In OUTPUT, locked while a batch builds there: a second batch into it stops at once."""
BUILT, UP_TO_DATE, FAILED = "built", "up to date", "failed"


@dataclass(frozen=True)
class Result:
    """One routine for one listener: a row of the table."""

    listener: str
    routine: str
    """The routine file, as the manifest found it."""
    result: str
    """`built`, `up to date` or `failed`."""
    seconds: float
    """How long building it took (0 when it was up to date)."""
    file: Path | None
    """The MP3, when there is one."""
    duration_ms: int | None = None
    """The track's length, when known."""
    error: str | None = None
    """Why it failed, naming the manifest's line."""


@dataclass(frozen=True)
class Site:
    """One listener's share site."""

    listener: str
    folder: Path
    feed: str
    """The feed's address: under `base_url`, or as `routinecast serve OUTPUT` serves it."""
    written: bool
    """Whether its page and feed were (re)written by this run."""
    complete: bool
    """Whether it lists every routine of the listener (False when one failed: the previous
    page and feed were kept)."""
    qr: Path | None = None
    """A PNG QR code of the feed's address (with `lan`)."""


@dataclass(frozen=True)
class Batch:
    """What a batch did."""

    results: tuple[Result, ...]
    sites: tuple[Site, ...]
    table: Path
    """OUTPUT/batch.json: the results and sites as JSON."""

    @property
    def failed(self) -> int:
        return sum(result.result == FAILED for result in self.results)


@dataclass
class _Listener:
    """A listener as the batch works on them."""

    listener: Listener
    folder: Path
    loaded: list[Customised] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    title: str = ""
    description: str = ""
    cover: bytes = b""
    cover_from: str = ""
    site_base: str | None = None
    site_key: str = ""
    pending: int = 0
    built: dict[int, Built] = field(default_factory=dict)
    ok: bool = True
    site: Site | None = None


def batch(manifest: str | Path, output: str | Path, jobs: int | None = None,
          scheduler: str | None = None, settings: BuildSettings = BuildSettings(),
          private: bool = False, base_url: str | None = None, lan: bool = False,
          port: int = 8000, on_result: Callable[[Result], None] | None = None,
          on_note: Callable[[str], None] | None = None) -> Batch:
    """Build every listener's routines of `manifest` into `output`, each listener's into a
    share site of their own; see the module's docstring.

    `jobs` builds run at once here (default: the number of cores); `scheduler`, a Dask
    scheduler's address (`tcp://HOST:8786`) or scheduler file, runs them on that cluster
    instead. `private` puts each site in a folder named with a random token kept in the
    manifest's state file. `base_url` is OUTPUT's address on the web (the feeds' links are
    then absolute); without it, the feed addresses are those `routinecast serve OUTPUT`
    (with `lan`, on this machine's network address; `port`) serves them at, and `lan` also
    writes a QR code of each listener's feed address into their folder. `on_result` is
    called with each result as it is known; `on_note` with notes."""
    read = read_manifest(manifest)
    output = Path(output)
    if output.exists() and not output.is_dir():
        raise InputError(f"{output} exists and is not a folder; give batch a folder ({setting('output')})")
    if base_url is not None:
        if not base_url.startswith(("http://", "https://")):
            raise InputError(f"{setting('base_url')} {base_url}: give the output folder's full address, "
                             "starting with http:// or https://")
        base_url = base_url if base_url.endswith("/") else base_url + "/"
    jobs = max(1, jobs if jobs is not None else os.cpu_count() or 1)
    settings = replace(settings, format="mp3", split=False)  # sites play MP3s
    if settings.sound.music:
        check_music(playlist(settings.sound.music), settings.sample_rate)
    for path in dict.fromkeys(p for listener in read.listeners for p in listener.routines):
        load_routine(path)  # a broken routine file is a mistake in the batch's input
    note = on_note or (lambda text: None)
    # without `private` the state file is not needed, and a damaged one stops nothing
    tokens = State(read.path).tokens_for(l.folder for l in read.listeners) if private else {}
    try:
        output.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise cannot_write(output, exc) from None
    if lan and base_url is None:
        from ..share.serve import lan_address
        address = f"http://{lan_address()}:{port}/"
    else:
        address = base_url or f"http://127.0.0.1:{port}/"

    with ExitStack() as stack:
        lock = output / LOCK_NAME
        try:
            held = stack.enter_context(locked(lock, wait=False))
        except NoLocks:  # a file system without locks: as where there are none (Windows)
            held = True
        except OSError as exc:
            raise cannot_write(lock, exc, into=False) from None
        if not held:
            raise OutputError(f"another batch is building into {output}; wait for it to end, "
                              f"or give another folder ({setting('output')})")
        return _build_all(read, output, settings, jobs, scheduler, private, tokens, address,
                          base_url, lan, on_result, note)


def _build_all(read: Manifest, output: Path, settings: BuildSettings, jobs: int,
               scheduler: str | None, private: bool, tokens: dict[str, str], address: str,
               base_url: str | None, lan: bool, on_result: Callable[[Result], None] | None,
               note: Callable[[str], None]) -> Batch:
    """`batch`'s work, once its inputs are checked and `output` is this batch's alone."""
    rows: dict[tuple[int, int], Result] = {}
    people: list[_Listener] = []
    tasks: list[Task] = []
    owner: dict[int, tuple[int, int]] = {}
    drawn: dict[str, bytes] = {}

    def set_row(index: int, number: int, result: Result) -> None:
        rows[index, number] = result
        if on_result:
            on_result(result)

    for index, listener in enumerate(read.listeners):
        folder_name = f"{listener.folder}-{tokens[listener.folder]}" if private \
            else listener.folder
        person = _Listener(listener, output / folder_name)
        people.append(person)
        try:
            layers = ([load_profile(listener.profile)] if listener.profile else []) \
                + [listener.inline]
            person.loaded = load_all(listener.routines, layers, settings.fallback)
            for customised in person.loaded:
                _check_copy(customised, person.folder)
        except InputError as exc:
            person.ok = False
            for number, path in enumerate(listener.routines):
                set_row(index, number, Result(listener.name, str(path), FAILED, 0.0, None,
                                              error=f"{read.where(listener)}: {listener.name}: "
                                                    f"{exc}"))
            continue
        for customised in person.loaded:
            for text in customised.notes:
                note(f"{listener.name}: {text}")
        person.title = listener.title or read.title or f"Routines for {listener.name}"
        person.description = "; ".join(c.routine.title for c in person.loaded)
        subtitle = person.description if len(person.description) < 80 else ""
        record = _read_record(person.folder)
        person.cover, person.cover_from = _cover(listener, person.title, subtitle,
                                                 person.folder, record, drawn)
        person.site_base = f"{base_url}{quote(folder_name)}/" if base_url else None
        person.names = [f"{Path(c.routine.path).stem}.mp3" for c in person.loaded]
        # the builder's own key, which the MP3 carries: a folder copied elsewhere keeps it
        person.keys = [build_key(c, settings, person.cover) for c in person.loaded]
        published = max(Path(path).stat().st_mtime for path in listener.routines)
        person.site_key = digest(person.title, person.description, person.site_base,
                                 person.cover_from, list(zip(person.names, person.keys)),
                                 published)
        stale = [not up_to_date(person.folder / name, key, settings)
                 for name, key in zip(person.names, person.keys)]
        site_current = record.get("site") == person.site_key and all(
            (person.folder / name).is_file() for name in (PAGE_NAME, FEED_NAME))
        for number, (customised, name) in enumerate(zip(person.loaded, person.names)):
            if not stale[number]:
                set_row(index, number, Result(listener.name, customised.routine.path,
                                              UP_TO_DATE, 0.0, person.folder / name,
                                              _duration_ms(person.folder / name)))
            if stale[number] or any(stale) or not site_current:
                task = Task(len(tasks), listener.name, name, customised, settings,
                            person.cover, person.keys[number], encode=stale[number])
                owner[task.id] = (index, number)
                tasks.append(task)
                person.pending += 1
        if not person.pending:
            person.site = _site(person, address, written=False, complete=True)

    def finish(person: _Listener) -> None:
        """Write a listener's site once all their routines are in."""
        if not person.ok:
            # the site folder's record still names the site it holds, the previous one
            person.site = _site(person, address, written=False, complete=False)
            return
        built = [person.built[number] for number in range(len(person.loaded))]
        published = max(Path(path).stat().st_mtime for path in person.listener.routines)
        _write_site(person.folder, built, person.title, person.description, person.cover,
                    person.site_base, published)
        _write_record(person.folder, person.site_key, person.cover_from, person.cover)
        person.site = _site(person, address, written=True, complete=True)

    def on_outcome(task: Task, outcome: Outcome) -> None:
        index, number = owner[task.id]
        person = people[index]
        listener = person.listener
        target = person.folder / task.name
        for text in outcome.notes:  # the customising notes were given when it was loaded
            if task.encode and text not in task.customised.notes:
                note(f"{listener.name}: {text}")
        if outcome.built is None:
            person.ok = False  # an MP3 left from before carries an older key: built next time
            set_row(index, number, Result(
                listener.name, task.customised.routine.path, FAILED, outcome.seconds,
                target if target.exists() else None,
                error=f"{read.where(listener)}: {listener.name}: {outcome.error}"))
        else:
            if task.encode:
                try:
                    with replacing(target) as temp:
                        temp.write_bytes(outcome.data)
                except OSError as exc:
                    raise cannot_write(target, exc, into=False) from None
                set_row(index, number, Result(listener.name, task.customised.routine.path,
                                              BUILT, outcome.seconds, target,
                                              outcome.built.plan.duration_ms))
            person.built[number] = replace(outcome.built, path=target)
        person.pending -= 1
        if person.pending == 0:
            finish(person)

    if scheduler:
        from .cluster import run_cluster
        run_cluster(tasks, scheduler, on_outcome)
    else:
        from .local import run_local
        run_local(tasks, jobs, on_outcome)

    if lan:
        for person in people:
            if person.site is not None and person.folder.is_dir():
                person.site = replace(person.site, qr=_write_qr(person.folder, person.site.feed))
    results = tuple(rows[key] for key in sorted(rows))
    sites = tuple(person.site for person in people if person.site is not None)
    table = output / TABLE_NAME
    write_text_atomic(table, json.dumps({
        "manifest": str(read.path), "output": str(output),
        "failed": sum(r.result == FAILED for r in results),
        "results": [_json(asdict(result)) for result in results],
        "sites": [_json(asdict(site)) for site in sites],
    }, indent=2, ensure_ascii=False) + "\n")
    return Batch(results, sites, table)


def _site(person: _Listener, address: str, written: bool, complete: bool) -> Site:
    return Site(person.listener.name, person.folder,
                f"{address}{quote(person.folder.name)}/{FEED_NAME}", written, complete)


def _json(values: dict) -> dict:
    return {key: str(value) if isinstance(value, Path) else
            round(value, 3) if isinstance(value, float) else value
            for key, value in values.items()}


def _duration_ms(mp3: Path) -> int | None:
    """The length of an MP3 routinecast wrote: where its last chapter ends (the top-level
    chapters run from 0 to the end of the track); None when it cannot be read."""
    try:
        return max((end for _, _, end, _ in read_tags(mp3).chapters), default=None)
    except RoutinecastError:
        return None


def _read_record(folder: Path) -> dict:
    """The site record in a listener's folder (see `SITE_RECORD`); empty when there is none,
    or none that can be read (the site is then written again)."""
    try:
        record = json.loads((folder / SITE_RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}


def _write_record(folder: Path, site_key: str, cover_from: str, cover: bytes) -> None:
    """Record that `folder` holds the site whose key is `site_key`, and whose cover,
    drawn from `cover_from`, is `cover`. Written after the site's files: a batch stopped
    between the two writes the site again."""
    write_text_atomic(folder / SITE_RECORD, json.dumps({
        "site": site_key, "cover_from": cover_from,
        "cover_sha256": hashlib.sha256(cover).hexdigest()}) + "\n")


def _cover(listener: Listener, title: str, subtitle: str, folder: Path, record: dict,
           drawn: dict[str, bytes]) -> tuple[bytes, str]:
    """The listener's cover and a digest of what it is made from. Every MP3's build key
    needs the cover's bytes, and drawing one takes longer than checking all else a listener
    has: a drawn cover is taken from their site when the record there says it was drawn from
    the same title and subtitle (and by this version), or from another listener this run."""
    if listener.cover:
        return listener.cover, digest("file", listener.cover)
    cover_from = digest("make_cover", __version__, title, subtitle)
    if cover_from not in drawn:
        kept = None
        if record.get("cover_from") == cover_from:
            try:
                kept = (folder / COVER_NAME).read_bytes()
            except OSError:
                pass
        if kept is not None and hashlib.sha256(kept).hexdigest() == record.get("cover_sha256"):
            drawn[cover_from] = kept
        else:
            drawn[cover_from] = make_cover(title, subtitle)
    return drawn[cover_from], cover_from


def _check_copy(customised: Customised, folder: Path) -> None:
    """Refuse replacing a routine file routinecast did not write (as `share` does)."""
    copy = folder / f"{Path(customised.routine.path).stem}.yaml"
    if copy.exists() and not written_by_us(copy):
        raise InputError(f"building into {folder} would overwrite {copy}, which routinecast "
                         "did not write; move it away")


def _write_site(folder: Path, built: Sequence[Built], title: str, description: str,
                cover: bytes, base_url: str | None, published: float) -> None:
    """The page, feed, cover and each routine's chapter and routine files, as `share`
    writes them, beside the MP3s already in `folder`: made in a hidden folder, then moved
    into place one by one, the page and feed last."""
    try:
        staging = temp_folder(folder, "share")
    except OSError as exc:
        raise cannot_write(folder, exc) from None
    try:
        publish(staging, folder, list(built), title, description, cover, base_url, published)
    except OSError as exc:
        raise cannot_write(folder, exc) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _write_qr(folder: Path, url: str) -> Path:
    """A PNG QR code of `url` in `folder` (rewritten only when it changes)."""
    import io

    import segno
    buffer = io.BytesIO()
    segno.make(url, error="m", micro=False).save(buffer, kind="png", scale=8, border=4)
    path = folder / QR_NAME
    data = buffer.getvalue()
    if not path.is_file() or path.read_bytes() != data:
        with replacing(path) as temp:
            temp.write_bytes(data)
    return path


def format_results(done: Batch) -> str:
    """The results as a table for a terminal (listener, routine, result, duration, file),
    each failure's reason on the line below it."""
    from ..durations import format_ms
    rows = [("listener", "routine", "result", "duration", "file")]
    for result in done.results:
        rows.append((result.listener, Path(result.routine).name, result.result,
                     f"{result.seconds:.1f}s" if result.result != UP_TO_DATE else "-",
                     f"{result.file} ({format_ms(result.duration_ms)})"
                     if result.file and result.duration_ms else str(result.file or "-")))
    widths = [max(len(row[column]) for row in rows) for column in range(4)]
    lines = []
    for number, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(width) for cell, width in zip(row, widths))
                     + "  " + row[4])
        if number == 0:
            lines.append("  ".join("-" * width for width in widths) + "  ----")
        elif done.results[number - 1].error:
            lines.append(f"    {done.results[number - 1].error}")
    built = sum(result.result == BUILT for result in done.results)
    current = sum(result.result == UP_TO_DATE for result in done.results)
    lines.append(f"{built} built, {current} up to date, {done.failed} failed; "
                 f"the table is in {done.table}")
    return "\n".join(lines)
