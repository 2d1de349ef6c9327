"""Faults: `gloss index` against misbehaving hosts and damaged stores, one row per case.

Run:  .venv/bin/python -m bench.faults [--case NAME ...] [--limit-s S] [--json PATH]

Each case builds a fresh 24-span workspace, starts the fault hosts it needs
(`bench.support.fault_server`, real HTTP on 127.0.0.1), runs `gloss index` as
a subprocess bounded by `--limit-s` (killed past it), then `gloss status
--json` and SQLite's `PRAGMA integrity_check` on the store. It prints

    case | spans glossed | failed honestly | requests sent | wall time | outcome

where "failed honestly" counts failed spans that carry a reason, "requests
sent" the chat requests the fault hosts received, and the outcome is what the
case expects ("glossed", "failed honestly, bounded, named", "rejected by the
gate") or, when the run fell short, "NO: " and the first thing that went wrong.
The same runners and judges (`problems`, `store_problems`) are what tests/faults
asserts on, so the table and the suite cannot disagree.

Store cases (`store_*`) index the workspace once, damage the store (garbage,
cut, garbage header or pages, another tool's database, a newer schema, a
directory in its place), and index again: the user must be told which file and
what is wrong, a damaged file kept beside as `index.db.damaged-<time>` and the
store rebuilt; never a traceback. (Read-only and full file systems, kill -9
and two servers need mounts or an LSP client: they are in tests/faults only.)

The configuration keeps every case short: `timeout_s` 2, one retry 0.05 s
after a failure, a breaker that opens after 3 failures and rests 0.5 s; keys
the transport may grow (`max_response_bytes`, `breaker_probes`) are set when
this checkout's configuration knows them. A benchmark reports: it exits 0.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

from bench.support.cli_args import BenchArgs, Option, positive_float, run_bench
from bench.support.fault_server import (
    OK,
    Action,
    Decide,
    FaultServer,
    Plan,
    always,
    closed_port_url,
    during_outage,
    flapping,
    once_per_symbol,
    per_model,
    random_share,
)
from bench.support.gloss_cli import gloss_command
from bench.support.report import finish_report, loaded_machine_facts, machine_summary
from bench.support.workspace import function_source, source_commit, write_workspace
from enrich_core.config import BackendConfig

SPANS: Final = 24
PER_FILE: Final = 6
SMALL: Final = "fault-small"
LARGE: Final = "fault-large"
TIERS: Final = ("small", "large")
TIMEOUT_S: Final = 2.0
MAX_RETRIES: Final = 1
BREAKER_THRESHOLD: Final = 3
BREAKER_COOLDOWN_S: Final = 0.5
# Bounds the transport helper's new keys, when this checkout has them.
MAX_RESPONSE_BYTES: Final = 256 * 1024
BREAKER_PROBES: Final = 3
LIMIT_S: Final = 60.0  # one `gloss index` run; past it the run is killed and reported
STATUS_LIMIT_S: Final = 60.0
STORE_REL: Final = ".gloss/index.db"
# A store of 24 small glosses is some hundred KB; a 5 MB answer kept would show.
STORE_MAX_BYTES: Final = 2 * 1024 * 1024

Expect = Literal["glossed", "failed", "rejected", "glossed_by_large"]

EXPECTED_OUTCOME: Final[dict[str, str]] = {
    "glossed": "glossed",
    "failed": "failed honestly, bounded, named",
    "rejected": "rejected by the gate, named",
    "glossed_by_large": "rejected by the gate, glossed by the next tier",
}


# --- the cases ------------------------------------------------------------------------


def decoy(symbol: str) -> tuple[str, str]:
    """The function next to `symbol` in the workspace: a wrong-function answer glosses it."""
    number = int(symbol.rsplit("_", 1)[-1])
    other = (number + 1) % SPANS
    signature = function_source(other).splitlines()[0].rstrip(":")
    return f"scaled_total_{other:05d}", signature


HostPlan = Callable[[], Decide] | None  # None: a closed port (refused)


@dataclass(frozen=True, slots=True)
class BackendCase:
    """A fault of the hosts; `hosts` are the backends of both tiers, in failover order."""

    name: str
    fault: str
    hosts: tuple[HostPlan, ...]
    expect: Expect
    # A failed span's reason must hold one of these (besides naming the host).
    reason_words: tuple[str, ...] = ()
    kind: Literal["ollama", "openai"] = "ollama"
    # The store must stay small (a 5 MB answer kept would show): the huge answers.
    bounded_store: bool = False


def _fixed(action: Action) -> Callable[[], Decide]:
    return lambda: always(action)


def _once(action: Action) -> Callable[[], Decide]:
    return lambda: once_per_symbol(action)


S500 = Action("status", status=500)
S502_HTML = Action("status", status=502, html=True)
S429_RETRY = Action("status", status=429, retry_after=2)
S429 = Action("status", status=429)
# Identifiers: pygls turns JSON objects into named tuples, renaming keys that are not.
HOST_NAMES: Final = ("host_a", "host_b")

BACKEND_CASES: Final[tuple[BackendCase, ...]] = (
    BackendCase(
        "refused", "connection refused (nothing listens)", (None,), "failed",
        ("unreachable", "refused"),
    ),
    BackendCase(
        "black_hole", "accepts, never answers", (_fixed(Action("black_hole")),), "failed",
        ("timed out",),
    ),
    BackendCase(
        "slow_loris", "headers, then one byte a second", (_fixed(Action("slow_loris")),),
        "failed", ("timed out",),
    ),
    BackendCase(
        "http_429_retry_after", "every answer 429, Retry-After: 2", (_fixed(S429_RETRY),),
        "failed", ("rate limited",),
    ),
    BackendCase(
        "http_429_retry_after_hour", "every answer 429, Retry-After: 3600 (must be capped)",
        (_fixed(Action("status", status=429, retry_after=3600)),), "failed", ("rate limited",),
    ),
    BackendCase(
        "http_429", "every answer 429, no Retry-After", (_fixed(S429),), "failed",
        ("rate limited",),
    ),
    BackendCase(
        "http_429_once", "first answer per span 429, Retry-After: 1",
        (_once(Action("status", status=429, retry_after=1)),), "glossed",
    ),
    BackendCase("http_500", "every answer HTTP 500", (_fixed(S500),), "failed", ("500",)),
    BackendCase(
        "http_502_html", "every answer 502 with an HTML body", (_fixed(S502_HTML),), "failed",
        ("502",),
    ),
    BackendCase(
        "cut_mid_body", "connection cut mid-body, every answer", (_fixed(Action("cut_body")),),
        "failed",
    ),
    BackendCase(
        "truncated_json_once", "first answer per span: JSON cut in half",
        (_once(Action("truncated_json")),), "glossed",
    ),
    BackendCase(
        "truncated_json", "every answer's JSON cut in half", (_fixed(Action("truncated_json")),),
        "failed",
    ),
    BackendCase(
        "content_length_short", "Content-Length half the body sent",
        (_fixed(Action("short_length")),), "failed",
    ),
    BackendCase(
        "content_length_long", "Content-Length longer than the body sent",
        (_fixed(Action("long_length")),), "failed",
    ),
    BackendCase(
        "huge_list_item", "5 MB answer, the bulk in one list item",
        (_fixed(Action("huge_item")),), "failed", bounded_store=True,
    ),
    BackendCase(
        "huge_usage_snippet", "5 MB answer, the bulk in the usage snippet",
        (_fixed(Action("huge_snippet")),), "failed", bounded_store=True,
    ),
    BackendCase(
        "huge_body", "5 MB body (whitespace, then a valid answer)",
        (_fixed(Action("huge_body")),), "failed", bounded_store=True,
    ),
    BackendCase(
        "ndjson_stream_cut_once", "first answer per span a cut NDJSON stream",
        (_once(Action("stream_cut")),), "glossed",
    ),
    BackendCase(
        "ndjson_stream_cut", "every answer a cut NDJSON stream",
        (_fixed(Action("stream_cut")),), "failed",
    ),
    BackendCase(
        "sse_stream_cut_once", "first answer per span a cut SSE stream (OpenAI kind)",
        (_once(Action("stream_cut")),), "glossed", kind="openai",
    ),
    BackendCase(
        "http_500_30pct", "30% of answers HTTP 500 (seeded; <= 2 in a row per span, 3 in all)",
        (lambda: random_share(S500, 0.3, 42, max_in_a_row=MAX_RETRIES + 1, max_run=3),),
        "glossed",
    ),
    BackendCase(
        "flapping", "3 good answers, 3 HTTP 500, and so on", (lambda: flapping(S500, 3, 3),),
        "glossed",
    ),
    BackendCase(
        "brief_outage", "0.8 s of 500 / 502 HTML / cut, then back",
        (lambda: during_outage((S500, S502_HTML, Action("cut_body")), 0.8),), "glossed",
    ),
    BackendCase(
        "one_of_two_refused", "two hosts in each tier, the first refuses",
        (None, _fixed(OK)), "glossed",
    ),
    BackendCase(
        "one_of_two_hanging", "two hosts in each tier, the first never answers",
        (_fixed(Action("black_hole")), _fixed(OK)), "glossed",
    ),
    BackendCase(
        "wrong_function", "every answer the gloss of a different function",
        (_fixed(Action("wrong_function")),), "rejected",
    ),
    BackendCase(
        "wrong_function_small_tier", "the small tier glosses a different function",
        (lambda: per_model({SMALL: always(Action("wrong_function"))}, always(OK)),),
        "glossed_by_large",
    ),
    BackendCase(
        "echo_prompt", "every answer the prompt's lines as a gloss",
        (_fixed(Action("echo_prompt")),), "rejected",
    ),
    BackendCase(
        "echo_instructions", "every summary the system prompt's instructions",
        (_fixed(Action("echo_instructions")),), "rejected",
    ),
)  # fmt: skip

CASES_BY_NAME: Final = {c.name: c for c in BACKEND_CASES}
# The cases the suite also runs over `gloss serve` (tests/faults/test_serve_faults.py).
SERVE_CASES: Final = (
    "refused",
    "http_500_30pct",
    "flapping",
    "brief_outage",
    "slow_loris",
    "black_hole",
    "http_429_retry_after",
    "one_of_two_hanging",
    "huge_list_item",
    "wrong_function",
    "echo_prompt",
)


# --- the configuration -----------------------------------------------------------------


def _known_backend_keys() -> set[str]:
    return {f.name for f in dataclasses.fields(BackendConfig)}


def backend_table(name: str, url: str, kind: str) -> str:
    keys = _known_backend_keys()
    lines = [
        "[[backends]]",
        f'name = "{name}"',
        f'kind = "{kind}"',
        f'url = "{url + "/v1" if kind == "openai" else url}"',
        "max_concurrency = 2",
        f"timeout_s = {TIMEOUT_S}",
        f"max_retries = {MAX_RETRIES}",
        "retry_base_s = 0.05",
        f"breaker_threshold = {BREAKER_THRESHOLD}",
        f"breaker_cooldown_s = {BREAKER_COOLDOWN_S}",
    ]
    if "max_response_bytes" in keys:
        lines.append(f"max_response_bytes = {MAX_RESPONSE_BYTES}")
    if "breaker_probes" in keys:
        lines.append(f"breaker_probes = {BREAKER_PROBES}")
    return "\n".join(lines) + "\n"


def fault_toml(urls: Sequence[str], kind: str = "ollama", store: str = STORE_REL) -> str:
    """Every host in both tiers (failover in this order), the short limits of the module doc."""
    names = [HOST_NAMES[i] for i in range(len(urls))]
    parts = [f'[store]\npath = "{store}"\n']
    parts += [backend_table(n, u, kind) for n, u in zip(names, urls, strict=True)]
    listed = ", ".join(f'"{n}"' for n in names)
    for tier, model in zip(TIERS, (SMALL, LARGE), strict=True):
        parts.append(f'[[tiers]]\nname = "{tier}"\nmodel = "{model}"\nbackends = [{listed}]\n')
    return "\n".join(parts)


def make_workspace(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    write_workspace(root, SPANS, per_file=PER_FILE)
    return root


# --- running gloss ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Run:
    """One bounded `gloss` subprocess."""

    args: list[str]
    exit_code: int | None  # None: killed at the limit
    stdout: str
    stderr: str
    seconds: float
    limit_s: float

    @property
    def timed_out(self) -> bool:
        return self.exit_code is None

    @property
    def traceback(self) -> bool:
        return "Traceback (most recent call last)" in self.stdout + self.stderr


def run_gloss(args: Sequence[str], limit_s: float = LIMIT_S, cwd: Path | None = None) -> Run:
    command = [*gloss_command(), *args]
    started = time.monotonic()
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=limit_s, cwd=cwd, check=False
        )
    except subprocess.TimeoutExpired as exc:
        return Run(
            list(args), None, _text(exc.stdout), _text(exc.stderr), time.monotonic() - started,
            limit_s,
        )  # fmt: skip
    return Run(
        list(args), done.returncode, done.stdout, done.stderr, time.monotonic() - started, limit_s
    )


def _text(data: bytes | str | None) -> str:
    if data is None:
        return ""
    return data if isinstance(data, str) else data.decode(errors="replace")


def read_status(root: Path) -> tuple[dict[str, Any] | None, Run]:
    run = run_gloss(["status", str(root), "--json"], STATUS_LIMIT_S)
    if run.exit_code != 0:
        return None, run
    try:
        data = json.loads(run.stdout)
    except ValueError:
        return None, run
    return (data if isinstance(data, dict) else None), run


def integrity(db: Path) -> str:
    """`PRAGMA integrity_check`'s first line ("ok" when sound), or why it could not run."""
    if not db.is_file():
        return f"no store file at {db}"
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
        try:
            row = conn.execute("PRAGMA integrity_check").fetchone()
        finally:
            conn.close()
    except sqlite3.Error as exc:
        return f"{type(exc).__name__}: {exc}"
    return str(row[0]) if row else "no answer"


def stored_glosses(db: Path) -> dict[str, dict[str, Any]] | str:
    """qualname -> the stored gloss of each glossed span (its body as JSON), or why not."""
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
        try:
            rows = conn.execute(
                "SELECT s.qualname, g.body, g.tier FROM spans s "
                "JOIN glosses g ON g.content_hash = s.content_hash"
            ).fetchall()
        finally:
            conn.close()
    except sqlite3.Error as exc:
        return f"{type(exc).__name__}: {exc}"
    found: dict[str, dict[str, Any]] = {}
    for qualname, body, tier in rows:
        try:
            gloss = json.loads(body)
        except ValueError:
            gloss = {"summary": body}
        found[str(qualname)] = {"gloss": gloss, "tier": tier}
    return found


def stored_failures(db: Path) -> dict[str, str] | str:
    """qualname -> the recorded reason, for each span without a gloss; or why not readable.

    Read from the store rather than `gloss status`, whose list keeps the commonest
    five reasons: every failed span's own reason is judged."""
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
        try:
            rows = conn.execute(
                "SELECT s.qualname, max(f.reason) FROM spans s "
                "JOIN failures f ON f.content_hash = s.content_hash "
                "WHERE NOT EXISTS (SELECT 1 FROM glosses g WHERE g.content_hash = s.content_hash) "
                "GROUP BY s.qualname"
            ).fetchall()
        finally:
            conn.close()
    except sqlite3.Error as exc:
        return f"{type(exc).__name__}: {exc}"
    return {str(q): str(r) for q, r in rows}


def _tables(db: Path) -> set[str]:
    """The tables of the SQLite file at `db` (empty when it is none)."""
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
        try:
            rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
        finally:
            conn.close()
    except sqlite3.Error:
        return set()
    return {str(r[0]) for r in rows}


def store_bytes(db: Path) -> int:
    return sum(p.stat().st_size for p in (db, Path(f"{db}-wal"), Path(f"{db}-shm")) if p.is_file())


# --- one backend case --------------------------------------------------------------------


class GlossCounts:
    """What a case run counts from its status and its stored failures (not dataclass fields:
    CaseRun and StoreRun each declare their own)."""

    status: dict[str, Any] | None
    failures: dict[str, str] | str

    @property
    def glossed(self) -> int:
        return int(self.status["enriched"]) if self.status else 0

    @property
    def failed_with_reason(self) -> int:
        if isinstance(self.failures, str):
            return 0
        return sum(bool(reason.strip()) for reason in self.failures.values())


def status_error_of(status: dict[str, Any] | None, status_run: Run) -> str:
    """Why `gloss status` gave no status, in its last lines (empty when it did)."""
    return "" if status else _tail(status_run.stderr or status_run.stdout)


@dataclass
class CaseRun(GlossCounts):
    """Everything observed of one case: the judge reads it, the table shows it."""

    case: str
    fault: str
    expect: str
    index: Run
    status: dict[str, Any] | None
    status_error: str
    integrity: str
    requests: int
    requests_by_symbol: dict[str, int]
    host_urls: list[str]
    glosses: dict[str, dict[str, Any]] | str
    failures: dict[str, str] | str
    store_bytes: int
    problems: list[str] = field(default_factory=list)

    @property
    def outcome(self) -> str:
        if not self.problems:
            return EXPECTED_OUTCOME[self.expect]
        return f"NO: {self.problems[0]}"


@contextmanager
def fault_hosts(plans: Sequence[HostPlan]) -> Iterator[tuple[list[FaultServer], list[str]]]:
    """The case's hosts started (a closed port for None); stopped after."""
    with ExitStack() as stack:
        servers: list[FaultServer] = []
        urls: list[str] = []
        for make in plans:
            if make is None:
                urls.append(closed_port_url())
                continue
            server = stack.enter_context(FaultServer(Plan(make(), decoy=decoy)))
            servers.append(server)
            urls.append(server.url)
        yield servers, urls


def run_backend_case(case: BackendCase, workdir: Path, limit_s: float = LIMIT_S) -> CaseRun:
    """The case over `gloss index`: a fresh workspace, its hosts, then status and integrity."""
    root = make_workspace(workdir / case.name)
    with fault_hosts(case.hosts) as (servers, urls):
        (root / "gloss.toml").write_text(fault_toml(urls, case.kind))
        index = run_gloss(["index", str(root)], limit_s)
        requests = sum(len(s.requests) for s in servers)
        by_symbol: dict[str, int] = {}
        for server in servers:
            for symbol, n in server.count_by_symbol().items():
                by_symbol[str(symbol)] = by_symbol.get(str(symbol), 0) + n
    status, status_run = read_status(root)
    db = root / STORE_REL
    run = CaseRun(
        case=case.name,
        fault=case.fault,
        expect=case.expect,
        index=index,
        status=status,
        status_error=status_error_of(status, status_run),
        integrity=integrity(db),
        requests=requests,
        requests_by_symbol=by_symbol,
        host_urls=urls,
        glosses=stored_glosses(db),
        failures=stored_failures(db),
        store_bytes=store_bytes(db),
    )
    run.problems = problems(case, run)
    return run


def _tail(text: str, lines: int = 3) -> str:
    return " | ".join(text.strip().splitlines()[-lines:])


def request_bound(hosts: int) -> int:
    """Most chat requests an honest run may send: every attempt of every tier on every
    host for every span, and a probe per span on top."""
    return SPANS * len(TIERS) * hosts * (MAX_RETRIES + 1) + SPANS


# --- the judge ---------------------------------------------------------------------------


def run_problems(index: Run, what: str = "gloss index") -> list[str]:
    """What any run must never do: hang, or print a traceback."""
    found: list[str] = []
    if index.timed_out:
        found.append(
            f"`{what}` still running after {index.limit_s:g} s (killed); "
            f"last output: {_tail(index.stderr or index.stdout) or 'none'}"
        )
    if index.traceback:
        found.append(f"`{what}` printed a traceback: {_tail(index.stderr, 2)}")
    return found


def status_problems(status: dict[str, Any] | None, status_error: str) -> list[str]:
    """Every span ended: glossed, or failed with a reason."""
    if status is None:
        return [f"`gloss status --json` gave no report: {status_error or 'no output'}"]
    found: list[str] = []
    spans, enriched = int(status["spans"]), int(status["enriched"])
    failed, pending = int(status["failed"]), int(status["pending"])
    if spans != SPANS:
        found.append(f"the store lists {spans} spans, the workspace has {SPANS}")
    if pending:
        found.append(f"{pending} spans still pending when the run ended")
    if spans != enriched + failed:
        found.append(f"spans {spans} != enriched {enriched} + failed {failed}")
    reasons = status.get("failure_reasons", [])
    with_reason = sum(int(r["spans"]) for r in reasons)
    if failed and len(reasons) < 5 and with_reason != failed:
        found.append(f"{failed} spans failed but only {with_reason} carry a reason")
    if any(not str(r["reason"]).strip() for r in reasons):
        found.append("a failure reason is empty")
    return found


def shows_gloss_of(text: str, name: str) -> bool:
    """Whether rendered text (Markdown escapes `_`) shows the fault host's gloss of `name`."""
    return f"{name} (test model" in text.replace("\\_", "_")


def _about_own_span(qualname: str, gloss: dict[str, Any]) -> bool:
    name = qualname.rsplit(".", 1)[-1]
    return name in str(gloss.get("summary", "")) or name in str(gloss.get("usage_snippet", ""))


def problems(
    case: BackendCase, run: CaseRun, *, what: str = "gloss index", check_exit: bool = True
) -> list[str]:
    """Everything that falls short of the case's expectation, each said plainly.

    `what` names the run in messages; `check_exit`: its exit code is `gloss index`'s."""
    found = run_problems(run.index, what)
    found += status_problems(run.status, run.status_error)
    if run.integrity != "ok":
        found.append(f"store integrity_check: {run.integrity}")
    hosts = len(case.hosts)
    if run.requests > request_bound(hosts):
        found.append(
            f"{run.requests} requests for {SPANS} spans (at most {request_bound(hosts)}: "
            f"{len(TIERS)} tiers x {hosts} hosts x {MAX_RETRIES + 1} attempts, + a probe each)"
        )
    status = run.status
    if isinstance(run.glosses, str):
        found.append(f"stored glosses unreadable: {run.glosses}")
    else:
        for qualname, stored in sorted(run.glosses.items()):
            if not _about_own_span(qualname, stored["gloss"]):
                summary = str(stored["gloss"].get("summary", ""))[:80]
                found.append(f"{qualname} shows a gloss not about it: {summary!r}")
                break
    if case.bounded_store and run.store_bytes > STORE_MAX_BYTES:
        found.append(
            f"the store grew to {run.store_bytes / 1e6:.1f} MB: a 5 MB answer was kept "
            "(no response size bound)"
        )
    if status is None or run.index.timed_out:
        return found
    enriched, failed = int(status["enriched"]), int(status["failed"])
    reasons = [str(r["reason"]) for r in status.get("failure_reasons", [])]
    if isinstance(run.failures, str):
        found.append(f"failure reasons unreadable in the store: {run.failures}")
    elif len(run.failures) != failed or any(not r.strip() for r in run.failures.values()):
        honest = sum(bool(r.strip()) for r in run.failures.values())
        found.append(f"{failed} spans failed, {honest} of them with a recorded reason")
    if case.expect in ("glossed", "glossed_by_large"):
        if enriched != SPANS:
            why = "; ".join(reasons[:2]) or "no reason given"
            found.append(f"only {enriched} of {SPANS} spans glossed, {failed} failed: {why}")
        if check_exit and run.index.exit_code != 0:
            found.append(f"`gloss index` exited {run.index.exit_code}, expected 0")
        if case.expect == "glossed_by_large" and not isinstance(run.glosses, str):
            small = sorted(q for q, g in run.glosses.items() if g["tier"] != TIERS[-1])
            if small:
                found.append(
                    f"{len(small)} spans show the small tier's answer about another function "
                    f"(e.g. {small[0]}): the gate let a wrong-function gloss through"
                )
        return found
    # failed / rejected: every span fails, with a reason a user can act on.
    if enriched:
        what = "answers" if case.expect == "rejected" else "glosses"
        found.append(f"{enriched} of {SPANS} spans glossed from bad {what}: shown to the user")
    if check_exit:
        if run.index.exit_code != 3:
            found.append(f"`gloss index` exited {run.index.exit_code}, expected 3")
        told = run.index.stdout + run.index.stderr
        if case.expect == "rejected" and "rejected" not in told:
            found.append("`gloss index` did not tell the user the answers were rejected")
        if case.expect == "failed" and not any(n in told for n in (*run.host_urls, *HOST_NAMES)):
            found.append("`gloss index` did not name the failing host in its output")
    by_span = run.failures if isinstance(run.failures, dict) else {}
    for qualname, reason in sorted(by_span.items()):
        if case.expect == "rejected":
            if "rejected" not in reason:
                found.append(f"{qualname}'s failure names no gate rejection: {reason[:160]!r}")
                break
            continue
        names_host = any(u in reason for u in run.host_urls) or any(n in reason for n in HOST_NAMES)
        if not names_host:
            found.append(f"{qualname}'s failure reason names no host: {reason[:160]!r}")
            break
        if case.reason_words and not any(w in reason for w in case.reason_words):
            words = " or ".join(repr(w) for w in case.reason_words)
            found.append(f"{qualname}'s failure reason does not say {words}: {reason[:160]!r}")
            break
    return found


# --- store cases ---------------------------------------------------------------------------

OK_SLOW: Final = Action("ok", delay_s=0.05)  # time for a kill -9 to land mid-run
ASIDE_GLOB: Final = "index.db.damaged-*"


def checkpoint(db: Path) -> None:
    """Fold the WAL into the file, so damage to the file is damage to the store."""
    conn = sqlite3.connect(db, timeout=10)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    for suffix in ("-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)


def garbage(db: Path) -> None:
    db.write_bytes(random.Random(7).randbytes(64 * 1024))


def truncated(db: Path) -> None:
    data = db.read_bytes()
    db.write_bytes(data[: len(data) // 3])


def garbage_header(db: Path) -> None:
    with db.open("r+b") as fh:
        fh.write(random.Random(8).randbytes(100))


def corrupt_pages(db: Path) -> None:
    """Garbage over pages in the middle of a sound file: it opens, integrity_check fails."""
    conn = sqlite3.connect(db)
    try:
        page_size = int(conn.execute("PRAGMA page_size").fetchone()[0])
        pages = int(conn.execute("PRAGMA page_count").fetchone()[0])
    finally:
        conn.close()
    rng = random.Random(9)
    with db.open("r+b") as fh:
        for page in range(max(2, pages // 3), max(3, pages // 3 + 4)):
            fh.seek(page * page_size + 8)
            fh.write(rng.randbytes(page_size - 16))


def newer_store(db: Path) -> None:
    """The store as a later Gloss would leave it: a schema version this one does not know."""
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        conn.execute("UPDATE meta SET value = '999' WHERE key = 'schema_version'")
        conn.execute("PRAGMA user_version = 999")
    finally:
        conn.close()


def foreign_database(db: Path) -> None:
    """A sound SQLite database that is not Gloss's: another tool's file at the store's path."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        conn.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
        conn.execute("INSERT INTO customers (name) VALUES ('Ada'), ('Grace')")
    finally:
        conn.close()


def directory_in_place(db: Path) -> None:
    db.unlink()
    db.mkdir()
    (db / "notes.txt").write_text("a directory where the store should be\n")


@dataclass(frozen=True, slots=True)
class StoreCase:
    name: str
    fault: str
    damage: Callable[[Path], None]
    moved_aside: bool  # the damaged file must be kept beside as index.db.damaged-<time>


STORE_CASES: Final[tuple[StoreCase, ...]] = (
    StoreCase("store_garbage", "the store file overwritten with garbage", garbage, True),
    StoreCase("store_truncated", "the store file cut to a third", truncated, True),
    StoreCase("store_garbage_header", "garbage over the file's header", garbage_header, True),
    StoreCase(
        "store_corrupt_pages", "garbage over pages (integrity_check fails)", corrupt_pages, True
    ),
    StoreCase(
        "store_foreign", "another tool's SQLite database in its place", foreign_database, True
    ),
    # A newer Gloss's store is sound and someone's: told and left alone is honest too.
    StoreCase("store_newer", "a store from a newer Gloss (schema 999)", newer_store, False),
    StoreCase("store_directory", "a directory where the store file was", directory_in_place, False),
)
STORE_CASES_BY_NAME: Final = {c.name: c for c in STORE_CASES}


@dataclass
class StoreRun(GlossCounts):
    case: str
    fault: str
    first: Run
    damaged_check: str  # integrity_check of the damaged file, before the run
    index: Run
    status: dict[str, Any] | None
    status_error: str
    integrity: str
    aside: list[str]
    requests: int
    failures: dict[str, str] | str
    problems: list[str] = field(default_factory=list)

    @property
    def outcome(self) -> str:
        if self.problems:
            return f"NO: {self.problems[0]}"
        return "told, moved aside, rebuilt" if self.aside else "told, no crash"


def run_store_case(case: StoreCase, workdir: Path, limit_s: float = LIMIT_S) -> StoreRun:
    """Index once, damage the store, index again: told which file and what, never a crash."""
    root = make_workspace(workdir / case.name)
    db = root / STORE_REL
    with FaultServer(Plan(always(OK), decoy=decoy)) as server:
        (root / "gloss.toml").write_text(fault_toml([server.url]))
        first = run_gloss(["index", str(root)], limit_s)
        before = len(server.requests)
        if db.is_file():
            checkpoint(db)
            case.damage(db)
        damaged_check = integrity(db) if db.is_file() else "not a file"
        index = run_gloss(["index", str(root)], limit_s)
        requests = len(server.requests) - before
    status, status_run = read_status(root)
    run = StoreRun(
        case=case.name,
        fault=case.fault,
        first=first,
        damaged_check=damaged_check,
        index=index,
        status=status,
        status_error=status_error_of(status, status_run),
        integrity=integrity(db),
        aside=sorted(p.name for p in db.parent.glob(ASIDE_GLOB)),
        requests=requests,
        failures=stored_failures(db) if db.is_file() else "no store file",
    )
    run.problems = store_problems(case, run, db)
    return run


def store_problems(case: StoreCase, run: StoreRun, db: Path) -> list[str]:
    if run.first.exit_code != 0:
        return [f"setup: the first `gloss index` exited {run.first.exit_code}: "
                f"{_tail(run.first.stderr or run.first.stdout)}"]  # fmt: skip
    sound_by_design = (directory_in_place, newer_store, foreign_database)
    if case.damage not in sound_by_design and run.damaged_check == "ok":
        return [f"setup: the damage ({case.fault}) left a sound store: nothing was tested"]
    found = run_problems(run.index)
    if case.damage is foreign_database and "customers" in _tables(db):
        found.append(
            "Gloss wrote its tables into another tool's database (its table `customers` is "
            "still in the store) instead of moving the file aside"
        )
    said = run.index.stdout + run.index.stderr
    if str(db) not in said and db.name not in said:
        found.append(
            f"`gloss index` did not name the store file {db}: {_tail(said) or 'no output'}"
        )
    if case.moved_aside and not run.aside:
        found.append(f"no {ASIDE_GLOB} kept beside the store (damaged file not moved aside)")
    if run.aside and not any(name in said for name in run.aside):
        found.append(f"the user was not told where the old store went ({run.aside[0]})")
    if case.moved_aside or run.index.exit_code == 0:
        # Rebuilt: a sound store with every span glossed again.
        found += status_problems(run.status, run.status_error)
        if run.integrity != "ok":
            found.append(f"store integrity_check after the run: {run.integrity}")
        if run.status and int(run.status["enriched"]) != SPANS:
            found.append(f"{run.status['enriched']} of {SPANS} spans glossed after the rebuild")
        if run.index.exit_code != 0:
            found.append(f"`gloss index` exited {run.index.exit_code} after rebuilding, expected 0")
    elif run.index.exit_code not in (2, 3):
        found.append(f"`gloss index` exited {run.index.exit_code}, expected 0, 2 or 3")
    return found


# --- the bench ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BenchConfig:
    cases: tuple[str, ...] = ()  # empty: every case
    limit_s: float = LIMIT_S


@dataclass(frozen=True, slots=True)
class Row:
    case: str
    fault: str
    spans_glossed: int
    failed_honestly: int
    requests_sent: int
    wall_s: float
    outcome: str
    problems: list[str]
    exit_code: int | None


@dataclass(frozen=True, slots=True)
class BenchReport:
    machine: dict[str, Any]
    config: dict[str, Any]
    spans: int
    rows: list[Row]
    held: int
    wall_seconds: float
    notes: list[str] = field(default_factory=list)


def row_of(run: CaseRun | StoreRun) -> Row:
    return Row(
        case=run.case,
        fault=run.fault,
        spans_glossed=run.glossed,
        failed_honestly=run.failed_with_reason,
        requests_sent=run.requests,
        wall_s=run.index.seconds,
        outcome=run.outcome,
        problems=run.problems,
        exit_code=run.index.exit_code,
    )


def selected_cases(names: Sequence[str]) -> list[BackendCase | StoreCase]:
    """The named cases (backend or store), or all of them, backend cases first."""
    every: dict[str, BackendCase | StoreCase] = {**CASES_BY_NAME, **STORE_CASES_BY_NAME}
    if not names:
        return list(every.values())
    unknown = [n for n in names if n not in every]
    if unknown:
        raise ValueError(f"unknown case {unknown[0]!r}; known: {', '.join(every)}")
    return [every[n] for n in names]


def run_case(case: BackendCase | StoreCase, workdir: Path, limit_s: float) -> Row:
    if isinstance(case, StoreCase):
        return row_of(run_store_case(case, workdir, limit_s))
    return row_of(run_backend_case(case, workdir, limit_s))


async def run_benchmark(config: BenchConfig) -> BenchReport:
    wall = time.perf_counter()
    load_start, commit = os.getloadavg()[0], source_commit()
    rows: list[Row] = []
    tmp = Path(tempfile.mkdtemp(prefix="faults-"))
    try:
        for case in selected_cases(config.cases):
            rows.append(await asyncio.to_thread(run_case, case, tmp, config.limit_s))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    held = sum(not r.problems for r in rows)
    notes = []
    if held < len(rows):
        notes.append(f"{len(rows) - held} of {len(rows)} cases fell short (outcome starts 'NO:')")
    return BenchReport(
        machine=loaded_machine_facts(load_start, commit),
        config={"cases": list(config.cases), "limit_s": config.limit_s, "timeout_s": TIMEOUT_S},
        spans=SPANS,
        rows=rows,
        held=held,
        wall_seconds=time.perf_counter() - wall,
        notes=notes,
    )


def format_table(rows: Sequence[Row]) -> list[str]:
    header = "| case | spans glossed | failed honestly | requests sent | wall time | outcome |"
    lines = [header, "|---|---:|---:|---:|---:|---|"]
    for r in rows:
        outcome = r.outcome.replace("|", "/")
        lines.append(
            f"| {r.case} | {r.spans_glossed}/{SPANS} | {r.failed_honestly} | {r.requests_sent} "
            f"| {r.wall_s:.1f} s | {outcome[:140]} |"
        )
    return lines


def format_report(report: BenchReport) -> str:
    lines = [
        f"Faults: `gloss index` of a {report.spans}-span workspace against misbehaving hosts "
        f"({machine_summary(report.machine)})",
        f"every run bounded at {report.config['limit_s']:g} s; backend timeout_s "
        f"{TIMEOUT_S:g}, {MAX_RETRIES} retry, breaker {BREAKER_THRESHOLD} failures / "
        f"{BREAKER_COOLDOWN_S:g} s rest",
        "",
        *format_table(report.rows),
        "",
        f"held: {report.held} of {len(report.rows)} cases",
    ]
    return finish_report(lines, report.notes, report.wall_seconds)


def report_json(report: BenchReport) -> dict[str, Any]:
    return asdict(report)


def main(argv: Sequence[str] | None = None) -> int:
    cli = BenchArgs(
        "python -m bench.faults",
        "gloss index against fault-injecting hosts: one table row per case.",
        BenchConfig(),
    )
    cli.parser.add_argument(
        "--case", action="append", default=[], metavar="NAME",
        help="run only this case (repeatable); cases: "
        + ", ".join([*CASES_BY_NAME, *STORE_CASES_BY_NAME]),
    )  # fmt: skip
    cli.add(
        Option("--limit-s", "limit_s", "bound on each run (default %(default)g)", positive_float)
    )
    cli.add_json()
    config, json_path = cli.parse(argv)
    names = tuple(cli.parser.parse_args(argv).case)
    try:
        selected_cases(names)
    except ValueError as exc:
        cli.parser.error(str(exc))
    config = dataclasses.replace(config, cases=names)
    return run_bench(run_benchmark(config), format_report, report_json, json_path)


if __name__ == "__main__":
    sys.exit(main())
