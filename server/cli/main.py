"""The `gloss` command: serve, index, status, search, hover, doctor.

Exit codes (EXIT_CODES, also in `gloss --help`): 0 done or found; 1 nothing
here (`hover` off every definition header, `search` without a hit), saying
what is there instead; 2 bad usage or bad configuration, naming the key; 3
incomplete: some spans still lack a gloss (or a backend has a problem, for
doctor), with the reason printed; 130 interrupted (Ctrl-C), saying how to go
on. A reader that closes the pipe early (`gloss status | head`) ends no
command: the rest goes to /dev/null quietly, and the exit code is the work's
(server/cli/closed_pipe.py). Output for people goes to
stdout; progress and logs go to stderr. `serve` hands over to the LSP layer in
`server/`.

The store (enrich_core/store/access.py): a damaged store is moved aside by
`gloss index` (said on stderr) and a fresh one built; one Gloss must not touch
(a directory in its place, a newer Gloss's) or cannot write (read-only) ends
`gloss index` with 2, naming the file. One process writes a store at a time:
`gloss index` waits for another `gloss index`, but a `gloss serve` holds the
store as long as the editor is open (and glosses the same spans), so `gloss
index` then exits 3 naming its pid. A full disk ends `gloss index` with 3,
nothing written lost. `status`, `search` and `hover` bring the store up to
date only when they can write it at once; otherwise they read what is stored
and say it may be out of date.

Text from outside (model answers, backend errors, file names, qualified names,
skip reasons, configuration keys) is printed through `say` (server/cli/status_text.py), which shows
control and bidi characters as escapes (`present.terminal`). `--json` output
is `json.dumps` with `ensure_ascii` (its default): every such character is a
`\\u` escape there already, and a program reading it gets the exact text back.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Awaitable, Sequence
from pathlib import Path
from typing import TypeVar

from enrich_core.config import Config, ConfigError, load_config
from enrich_core.present.advice import next_steps
from enrich_core.present.doctor import run_doctor
from enrich_core.present.render import hover_json, render_hover
from enrich_core.present.terminal import TerminalLines, terminal_safe
from enrich_core.present.words import plural
from enrich_core.records.span import SpanRecord
from enrich_core.run.engine import Engine, ScanReport
from enrich_core.source.parse_pool import start_spares
from enrich_core.store.access import StoreRole
from enrich_core.store.health import StoreError
from enrich_core.store.search import query_refusal
from server.cli.closed_pipe import pipe_proof_output
from server.cli.index_plan import gather_plan, plan_lines, retry_line, summary_lines
from server.cli.parser import (
    EXIT_CODES,
    EXIT_INCOMPLETE,
    EXIT_INTERRUPTED,
    EXIT_NOTHING,
    EXIT_OK,
    EXIT_USAGE,
    build_parser,
)
from server.cli.progress_bar import ProgressBar
from server.cli.run_tally import RunTally
from server.cli.status_text import (
    print_status,
    say,
    say_breakers,
    say_dropped,
    say_failures,
)

T = TypeVar("T")

# The parser and the exit codes live in server/cli/parser.py; tests and scripts
# read them from here, beside `main`.
__all__ = ["EXIT_CODES", "build_parser", "find_root", "main"]

ROOT_MARKERS = ("gloss.toml", ".gloss", "pyproject.toml", ".git")


def find_root(start: Path) -> Path:
    """The nearest directory at or above `start` that looks like a workspace root."""
    start = start.resolve()
    here = start if start.is_dir() else start.parent
    for candidate in (here, *here.parents):
        if any((candidate / marker).exists() for marker in ROOT_MARKERS):
            return candidate
    return here


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        _log_to_stderr(args.verbose)
        # Before the LSP layer loads (~0.3 s on one core): a first scan's parse
        # workers start on the other cores meanwhile.
        start_spares()
        from server.main import serve  # the LSP layer is imported only to serve

        serve()
        return EXIT_OK
    # A reader that stops early (`gloss status | head`) ends no command: the rest
    # goes to /dev/null, quietly, and the exit code is the one the work earned.
    with pipe_proof_output():
        _log_to_stderr(args.verbose)
        return _run(args)


def _log_to_stderr(verbose: bool) -> None:
    log_handler = logging.StreamHandler(sys.stderr)
    # Log lines name files and quote backends too: escaped like everything printed.
    log_handler.setFormatter(_TerminalSafeFormatter("%(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, handlers=[log_handler])


def _run(args: argparse.Namespace) -> int:
    try:
        return asyncio.run(_dispatch(args))
    except ConfigError as exc:
        say(f"gloss: bad configuration: {exc}", stderr=True)
        return EXIT_USAGE
    except UsageError as exc:
        say(f"gloss: {exc}", stderr=True)
        return EXIT_USAGE
    except StoreError as exc:  # a store Gloss must not touch: a directory, a newer Gloss's
        say(f"gloss: {exc.message}", stderr=True)
        return EXIT_USAGE
    except KeyboardInterrupt:
        say(f"gloss: interrupted — {_AFTER_INTERRUPT[args.command]}", stderr=True)
        return EXIT_INTERRUPTED


# What a Ctrl-C leaves, per command: each writes only whole results to the store.
_AFTER_INTERRUPT = {
    "index": "run `gloss index` again to resume; what was glossed is kept",
    "status": "run `gloss status` again; nothing stored is lost",
    "search": "run the search again; nothing stored is lost",
    "hover": "run `gloss hover` again; nothing stored is lost",
    "doctor": "the backends were not all checked; run `gloss doctor` again",
}


class UsageError(Exception):
    pass


class _TerminalSafeFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return terminal_safe(super().format(record), multiline=True)


async def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "index":
        return await cmd_index(_workspace(args.path))
    if args.command == "status":
        return await cmd_status(_workspace(args.path), args.json)
    if args.command == "search":
        return await cmd_search(_workspace(args.path), args.query, args.json, args.limit)
    if args.command == "hover":
        return await cmd_hover(args.location, args.json)
    if args.command == "doctor":
        root = _workspace(args.path)
        return await run_doctor(load_config(root), TerminalLines(sys.stdout))
    raise UsageError(f"unknown command {args.command!r}")


def _workspace(path: str) -> Path:
    root = Path(path)
    if not root.is_dir():
        raise UsageError(f"{path}: not a directory")
    return root.resolve()


async def _open(
    root: Path, config: Config, *, glossing: bool, role: StoreRole = StoreRole.READ
) -> Engine:
    engine = Engine(root, config)
    await engine.start(glossing=glossing, role=role)
    for notice in engine.store_notices:  # e.g. a damaged store moved aside
        say(f"gloss: {notice}", stderr=True)
    return engine


async def _unless_stalled(engine: Engine, work: Awaitable[T]) -> T | StoreError:
    """`work`, or the problem that stopped the store taking writes (a full disk) if one
    does first: a command then ends, rather than wait for space to be freed."""
    stalled = asyncio.Event()
    engine.add_write_problem_listener(lambda problem: stalled.set() if problem else None)
    job = asyncio.ensure_future(work)
    stall = asyncio.ensure_future(stalled.wait())
    try:
        await asyncio.wait({job, stall}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stall.cancel()
        if not job.done():
            job.cancel()
        await asyncio.gather(job, stall, return_exceptions=True)
    if not job.cancelled() and job.exception() is None:
        return job.result()
    problem = engine.store_problem
    if problem is None:
        return job.result()  # raises what the work raised
    return problem


async def _scan_for_reading(engine: Engine) -> None:
    """Bring the store up to date if this process can write it; else say what is shown."""
    report = await _unless_stalled(engine, engine.scan())
    if isinstance(report, ScanReport) and report.fresh:
        return
    problem = engine.store_problem
    if problem is not None and problem.kind.repairable:
        raise problem  # damaged past the quick look at open: nothing to read here
    if isinstance(report, StoreError):
        why = report.summary
    else:
        why = engine.why_not_writing() or "the store could not be brought up to date"
    say(f"gloss: {why}; showing what is stored, which may be out of date", stderr=True)


async def _become_writer(engine: Engine) -> int | None:
    """For `gloss index`: write the store, waiting for another `gloss index` to finish.
    An exit code if this run cannot write it."""
    holder = engine.store_holder
    problem = engine.store_problem
    if holder is None and problem is not None and problem.kind.passing:
        return _stalled(problem)  # a full disk: nothing can be written until space is freed
    if holder is None:
        say(f"gloss: cannot index: {engine.why_not_writing()}", stderr=True)
        return EXIT_USAGE
    if holder.role == "serve":
        # A server holds the store for as long as the editor is open, and glosses
        # exactly what this run would: waiting would look like a hang.
        say(
            f"gloss: {holder.describe()} is indexing this workspace and writes "
            f"{engine.store_file}; it glosses what `gloss index` would. `gloss status` "
            "shows its progress; run `gloss index` again after it stops.",
            stderr=True,
        )
        return EXIT_INCOMPLETE
    say(f"gloss: waiting for {holder.describe()} to finish with {engine.store_file}", stderr=True)
    if not await engine.take_over():
        say(f"gloss: cannot index: {engine.why_not_writing()}", stderr=True)
        return EXIT_USAGE
    return None


async def cmd_index(root: Path) -> int:
    config = load_config(root)
    engine = await _open(root, config, glossing=True, role=StoreRole.INDEX)
    # The scan queues spans as it parses them, so glosses (and drops) may come
    # before it ends: counted from the start, drawn once the plan is printed.
    tally = RunTally()
    bar = ProgressBar(tally, sys.stderr, tiers=engine.tier_names, outstanding=engine.outstanding)
    try:
        if not engine.writing:
            code = await _become_writer(engine)
            if code is not None:
                return code
        engine.add_listener(tally.result)
        engine.add_drop_listener(lambda _path, dropped: tally.drop(dropped.spans))
        engine.add_attempt_listener(tally.attempt)
        # An explicit run retries what failed before at once: the user may just
        # have started the server or pulled the model. (The language server
        # waits out each span's backoff instead.)
        scanned = await _unless_stalled(engine, engine.scan(retry_failed_now=True))
        if isinstance(scanned, StoreError):
            return _stalled(scanned)
        plan = await gather_plan(engine, config, scanned)
        for line in plan_lines(plan):
            say(line, stderr=True)
        bar.start(plan.to_gloss)
        stalled = await _unless_stalled(engine, engine.wait_idle())
        bar.finish()
        if isinstance(stalled, StoreError):
            return _stalled(stalled)
        await engine.wait_embedded()  # [search] embeddings: each new gloss's vector
        status = await engine.status()
    finally:
        bar.close()  # interrupted mid-bar: what follows starts on a line of its own
        await engine.stop()
    for line in summary_lines(tally, status.counts):
        print(line)
    if status.embeddings is not None:
        e = status.embeddings
        failed = f"; last error: {e.last_error}" if e.last_error else ""
        print(f"{e.vectors}/{e.glosses} glosses embedded by {e.model} on {e.backend}{failed}")
    say_dropped(status)
    if status.skipped_files:
        print(f"{plural(len(status.skipped_files), 'file')} skipped (see `gloss status`)")
    if status.partial_files:
        print(
            f"{plural(len(status.partial_files), 'file')} with lines that could not be parsed "
            "(see `gloss status`)"
        )
    if status.counts.enriched == status.counts.spans:
        return EXIT_OK
    say_breakers(status)
    say_failures(status)
    if status.counts.failed:
        say(retry_line(config))
    for line in next_steps([item.reason for item in status.failure_reasons], config):
        say(line)
    return EXIT_INCOMPLETE


def _stalled(problem: StoreError) -> int:
    say(f"gloss: {problem.message}", stderr=True)
    say(
        "gloss: stopped: what was glossed and not yet written stays pending (nothing "
        "is marked failed); run `gloss index` again once the store can be written.",
        stderr=True,
    )
    return EXIT_INCOMPLETE


async def cmd_status(root: Path, as_json: bool) -> int:
    engine = await _open(root, load_config(root), glossing=False)
    try:
        await _scan_for_reading(engine)
        status = await engine.status(live_queue=False)  # a headless read has no live queue
    finally:
        await engine.stop()
    if as_json:
        print(json.dumps(status.to_json(), indent=2, sort_keys=True))
        return EXIT_OK
    print_status(status)
    return EXIT_OK


async def utf16_columns(uri: str, fs_path: str, line: int, start: int, end: int) -> tuple[int, int]:
    """Columns as the store keeps them: UTF-16 code units, LSP's default encoding."""
    return start, end


async def cmd_search(root: Path, query: str, as_json: bool, limit: int) -> int:
    refusal = query_refusal(query)
    if refusal is not None:
        raise UsageError(refusal)
    if limit < 1:
        raise UsageError(f"--limit must be at least 1, got {limit}")
    engine = await _open(root, load_config(root), glossing=False)
    try:
        await _scan_for_reading(engine)
        hits = await engine.search(query, limit)
    finally:
        await engine.stop()
    if not hits:
        if as_json:
            print("[]")
        say(f"gloss: no symbol matches {query!r} by name or by its gloss", stderr=True)
        return EXIT_NOTHING
    if as_json:
        # Imported here: the LSP layer (lsprotocol) takes longer to import than
        # `gloss index` takes to start otherwise.
        from server.features.search import hit_item

        # The same items gloss/search answers; columns in UTF-16 code units, LSP's default.
        items = [await hit_item(h, str(root / h.span.path), utf16_columns) for h in hits]
        print(json.dumps(items, indent=2))
    else:
        for h in hits:
            summary = f"  {h.summary}" if h.summary else ""
            say(f"{h.span.path}:{h.span.name_line + 1}: {h.span.kind} {h.span.qualname}{summary}")
    return EXIT_OK


def parse_location(location: str) -> tuple[Path, int, int | None]:
    parts = location.rsplit(":", 2)
    try:
        if len(parts) == 3 and parts[1].isdigit() and parts[2].isdigit():
            return Path(parts[0]), int(parts[1]), int(parts[2])
        head, line = location.rsplit(":", 1)
        return Path(head), int(line), None
    except ValueError:
        raise UsageError(f"expected FILE:LINE[:COL] (1-based), got {location!r}") from None


def _what_is_there(path: Path, line: int, around: SpanRecord | None) -> str:
    """For a line where no definition's header is: the definition it is inside, and the
    line that shows its gloss; or that none is there."""
    if around is None:
        return f"no definition at or around line {line}"
    header = around.name_line + 1
    return (
        f"line {line} is inside {around.kind} `{around.qualname}` "
        f"(lines {around.start_line + 1}-{around.end_line + 1}): its gloss is on line "
        f"{header} (`gloss hover {path}:{header}`)"
    )


async def cmd_hover(location: str, as_json: bool) -> int:
    path, line, col = parse_location(location)
    if line < 1 or (col is not None and col < 1):
        raise UsageError("LINE and COL are 1-based")
    if not path.is_file():
        raise UsageError(f"{path}: no such file")
    root = find_root(path)
    config = load_config(root)
    engine = await _open(root, config, glossing=False)
    try:
        rel = engine.relative(path)
        if rel is None:
            raise UsageError(f"{path} is outside the workspace {root}")
        await _scan_for_reading(engine)
        # A gloss belongs to a whole definition header, so the column (accepted
        # for compiler-style locations) does not change the answer.
        info = await engine.hover(rel, line - 1)
        around = None if info is not None else await engine.span_around(rel, line - 1)
    finally:
        await engine.stop()
    if info is None:
        if as_json:
            print("null")
        say(f"gloss: {path}:{line}: {_what_is_there(path, line, around)}", stderr=True)
        return EXIT_NOTHING
    links = config.hover.links
    if as_json:
        print(json.dumps(hover_json(info, links=links), indent=2))
    else:
        # The Markdown's own line breaks are its layout; model text in it is one
        # line per field already, its controls escaped by the renderer.
        print(terminal_safe(render_hover(info, links=links), multiline=True))
    return EXIT_OK
