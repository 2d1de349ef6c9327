"""Index rate: Gloss's own cost per span, `gloss index` against an instant backend.

Run:  .venv/bin/python -m bench.index_rate [--spans N] [--per-file F] [--concurrency C]
      [--api ollama|openai|both] [--repeats R] [--json PATH]

DESIGN.md budget: Gloss's own cost per span <= 1 ms, i.e. `gloss index` >= 1,000
spans/s against an instant backend on 2 cores, so the model host, not Gloss, sets
the pace.

The backend is `bench.support.llm_server.LLMServer` with latency 0 and capacity C,
in a process of its own (`bench.support.server_process`), as a real backend is.
The workspace holds N small, distinct functions in files of F. Each run is a real
`gloss index ROOT` subprocess (a fresh store each time, so every span needs one
LLM call) with a gloss.toml pointing one backend (`max_concurrency = C`, Ollama
`/api/chat` or OpenAI-compatible `/v1/chat/completions`) at the server. Reported:

- `wall_s` and `spans_per_s`: the whole command, start of the process to its exit
  (startup, scan, glossing, the final commit): what a user waits for.
- `cpu_s` and `cpu_ms_per_span`: the `gloss index` process's own user + system CPU
  (`resource.getrusage(RUSAGE_CHILDREN)` around it: the server process is a child
  too, but it is reaped only after the run, so it is not counted).
- `glossing_per_s`: answers / the server's busy window (first chat request received
  to last answer sent): the rate while glossing, without startup and scan.
- `startup_s`: `gloss --help`'s wall time in its own subprocess (interpreter start
  plus importing the CLI), for information.

Beside it, in the same run against the same server, the `bare` baseline: one
`httpx.AsyncClient` with C worker coroutines POSTing the very bodies Gloss sent
(recorded by the server) to the same path, so C requests in flight: the ceiling
this server allows on this machine. `ratio` = Gloss's glossing rate / the bare
rate shows how much of the pace is Gloss's. The budget is judged on the whole
command: spans_per_s >= 1,000 and cpu_ms_per_span <= 1. A benchmark reports: it
prints PASS/FAIL and exits 0 either way.
"""

from __future__ import annotations

import asyncio
import gc
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

import httpx

from bench.support.cli_args import BenchArgs, Option, positive_int
from bench.support.report import finish_report, machine_facts
from bench.support.server_process import ServerProcess
from bench.support.workspace import MODEL, REQUEST_TIMEOUT_S, TIER, write_workspace

Api = Literal["ollama", "openai"]
APIS: Final[tuple[Api, ...]] = ("ollama", "openai")
CHAT_PATH: Final[dict[Api, str]] = {"ollama": "/api/chat", "openai": "/v1/chat/completions"}
BUDGET_SPANS_PER_S: Final = 1000.0
BUDGET_CPU_MS_PER_SPAN: Final = 1.0
REPO: Final = Path(__file__).resolve().parents[1]
# `gloss` as the installed console script runs it: `server.cli.main:main`.
GLOSS_COMMAND: Final = ("import sys; from server.cli.main import main; sys.exit(main())",)
RUN_TIMEOUT_S: Final = 900.0


@dataclass(frozen=True, slots=True)
class BenchConfig:
    spans: int = 5000
    per_file: int = 20
    concurrency: int = 8
    api: str = "both"
    repeats: int = 1


def gloss_toml(api: Api, base_url: str, concurrency: int) -> str:
    """One backend of `api` at the server, one tier; the store in the workspace."""
    url = base_url if api == "ollama" else f"{base_url}/v1"
    return (
        "[[backends]]\n"
        f'name = "instant"\nkind = "{api}"\nurl = "{url}"\n'
        f"max_concurrency = {concurrency}\ntimeout_s = {REQUEST_TIMEOUT_S}\nmax_retries = 0\n\n"
        "[[tiers]]\n"
        f'name = "{TIER}"\nmodel = "{MODEL}"\nbackends = ["instant"]\n'
    )


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


_CLOCK_TICKS: Final = os.sysconf("SC_CLK_TCK")


def process_cpu_s(pid: int) -> float:
    """A running process's user + system CPU seconds, from /proc/PID/stat."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) "
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS  # utime, stime


def _gloss_argv(*args: str) -> list[str]:
    return [sys.executable, "-c", *GLOSS_COMMAND, *args]


def measure_startup() -> float:
    """Wall seconds of `gloss --help`: interpreter start plus importing the CLI."""
    start = time.perf_counter()
    subprocess.run(_gloss_argv("--help"), cwd=REPO, capture_output=True, check=True, timeout=60)
    return time.perf_counter() - start


def _server_window(server: ServerProcess) -> tuple[int, float]:
    """(answers, first request received -> last answer sent) at the server."""
    received = [r.received_at for r in server.requests]
    answered = server.answered_at
    if not received or not answered:
        return len(answered), 0.0
    return len(answered), max(0.0, max(answered) - min(received))


def run_gloss_index(root: Path, server: ServerProcess, spans: int) -> dict[str, Any]:
    """One `gloss index ROOT` subprocess on a fresh store: wall, CPU, the server's window."""
    shutil.rmtree(root / ".gloss", ignore_errors=True)
    server.reset()
    gc.collect()
    cpu_before = _children_cpu_s()
    server_cpu_before = process_cpu_s(server.pid)
    start = time.perf_counter()
    run = subprocess.run(
        _gloss_argv("index", str(root)),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
    )
    wall = time.perf_counter() - start
    cpu = _children_cpu_s() - cpu_before
    server_cpu = process_cpu_s(server.pid) - server_cpu_before
    answers, window = _server_window(server)
    return {
        "exit_code": run.returncode,
        "stdout_tail": run.stdout.strip().splitlines()[-3:],
        "stderr_tail": run.stderr.strip().splitlines()[-3:] if run.returncode else [],
        "wall_s": wall,
        "spans_per_s": spans / wall if wall > 0 else 0.0,
        "cpu_s": cpu,
        "cpu_ms_per_span": 1000.0 * cpu / spans,
        "server_cpu_ms_per_request": 1000.0 * server_cpu / max(1, answers),
        "answers": answers,
        "window_s": window,
        "glossing_per_s": answers / window if window > 0 else 0.0,
    }


async def run_bare(
    server: ServerProcess, path: str, bodies: Sequence[dict[str, Any]], concurrency: int
) -> dict[str, Any]:
    """POST every body with `concurrency` workers on one client: C requests in flight."""
    server.reset()
    gc.collect()
    next_index = ok = failed = 0

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal next_index, ok, failed
        while next_index < len(bodies):
            body = bodies[next_index]
            next_index += 1
            try:
                response = await client.post(path, json=body)
                response.json()
                if response.status_code == 200:
                    ok += 1
                else:
                    failed += 1
            except (httpx.HTTPError, ValueError):
                failed += 1

    cpu_before = time.process_time()
    server_cpu_before = process_cpu_s(server.pid)
    start = time.perf_counter()
    async with httpx.AsyncClient(
        base_url=server.url,
        timeout=httpx.Timeout(REQUEST_TIMEOUT_S, connect=10.0),
        limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency),
    ) as client:
        async with asyncio.TaskGroup() as group:
            for _ in range(concurrency):
                group.create_task(worker(client))
    wall = time.perf_counter() - start
    cpu = time.process_time() - cpu_before
    server_cpu = process_cpu_s(server.pid) - server_cpu_before
    answers, window = _server_window(server)
    return {
        "requests": len(bodies),
        "ok": ok,
        "failed": failed,
        "wall_s": wall,
        "per_s": len(bodies) / wall if wall > 0 else 0.0,
        "cpu_ms_per_request": 1000.0 * cpu / max(1, len(bodies)),
        "server_cpu_ms_per_request": 1000.0 * server_cpu / max(1, answers),
        "window_s": window,
        "window_per_s": answers / window if window > 0 else 0.0,
    }


def _median(runs: Sequence[dict[str, Any]], key: str) -> float:
    return float(statistics.median(r[key] for r in runs))


async def measure_api(
    api: Api, root: Path, spans: int, concurrency: int, repeats: int
) -> dict[str, Any]:
    """Gloss and the bare client, `repeats` pairs against one server: medians and runs."""
    gloss_runs: list[dict[str, Any]] = []
    bare_runs: list[dict[str, Any]] = []
    with ServerProcess(concurrency, 0.0) as server:
        (root / "gloss.toml").write_text(gloss_toml(api, server.url, concurrency))
        for _ in range(repeats):
            gloss = run_gloss_index(root, server, spans)
            gloss_runs.append(gloss)
            bodies = [r.body for r in server.requests]
            bare_runs.append(await run_bare(server, CHAT_PATH[api], bodies, concurrency))
        peak = server.max_in_flight
    shutil.rmtree(root / ".gloss", ignore_errors=True)
    bare_per_s = _median(bare_runs, "per_s")
    glossing = _median(gloss_runs, "glossing_per_s")
    return {
        "api": api,
        "spans_per_s": _median(gloss_runs, "spans_per_s"),
        "cpu_ms_per_span": _median(gloss_runs, "cpu_ms_per_span"),
        "wall_s": _median(gloss_runs, "wall_s"),
        "glossing_per_s": glossing,
        "bare_per_s": bare_per_s,
        "bare_cpu_ms_per_request": _median(bare_runs, "cpu_ms_per_request"),
        "server_cpu_ms_per_request": _median(bare_runs, "server_cpu_ms_per_request"),
        "ratio": glossing / bare_per_s if bare_per_s > 0 else 0.0,
        "all_glossed": all(r["exit_code"] == 0 and r["answers"] == spans for r in gloss_runs),
        "bare_all_ok": all(r["ok"] == r["requests"] and r["failed"] == 0 for r in bare_runs),
        "max_in_flight": peak,
        "gloss_runs": gloss_runs,
        "bare_runs": bare_runs,
    }


def measure_index_rate(
    spans: int = 5000,
    *,
    per_file: int = 20,
    concurrency: int = 8,
    apis: Sequence[Api] = ("ollama",),
    repeats: int = 1,
    workdir: Path | None = None,
) -> dict[str, Any]:
    """`gloss index` spans/s and CPU ms per span against an instant backend, per API,
    beside the bare client's rate; `passed` against the DESIGN.md budget.

    Synchronous (runs its own event loop): bench/search.py calls it as it is.
    """
    wall = time.perf_counter()
    load_start = os.getloadavg()[0]
    tmp = Path(tempfile.mkdtemp(prefix="index-rate-", dir=workdir))
    try:
        root = tmp / "workspace"
        write_workspace(root, spans, per_file=per_file)
        startup = measure_startup()
        results = {
            api: asyncio.run(measure_api(api, root, spans, concurrency, repeats)) for api in apis
        }
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    passed = all(
        r["all_glossed"]
        and r["spans_per_s"] >= BUDGET_SPANS_PER_S
        and r["cpu_ms_per_span"] <= BUDGET_CPU_MS_PER_SPAN
        for r in results.values()
    )
    return {
        "machine": {
            **machine_facts(httpx=httpx.__version__),
            "load_avg_1min_start": load_start,
            "load_avg_1min_end": os.getloadavg()[0],
        },
        "config": {
            "spans": spans,
            "per_file": per_file,
            "files": -(-spans // per_file),
            "concurrency": concurrency,
            "repeats": repeats,
        },
        "startup_s": startup,
        "apis": results,
        "budget": {
            "spans_per_s": BUDGET_SPANS_PER_S,
            "cpu_ms_per_span": BUDGET_CPU_MS_PER_SPAN,
        },
        "passed": passed,
        "wall_seconds": time.perf_counter() - wall,
    }


def format_report(report: dict[str, Any]) -> str:
    m, c = report["machine"], report["config"]
    lines = [
        f"Index rate: `gloss index` against an instant backend ({m['cpus']} CPUs, "
        f"Python {m['python']}, load {m['load_avg_1min_start']:.2f} -> "
        f"{m['load_avg_1min_end']:.2f})",
        f"{c['spans']} functions in {c['files']} files; server capacity = concurrency = "
        f"{c['concurrency']}, latency 0, own process; {c['repeats']} repeat(s), medians",
        f"startup (`gloss --help`): {report['startup_s'] * 1000:.0f} ms",
        "",
    ]
    header = (
        f"{'api':<7} {'spans/s':>8} {'CPU ms/span':>11} {'wall s':>7} {'glossing/s':>10} "
        f"{'bare/s':>8} {'bare CPU ms':>11} {'server CPU ms':>13} {'gloss/bare':>10} "
        f"{'peak':>5} {'all':>4}"
    )
    lines += [header, "-" * len(header)]
    for r in report["apis"].values():
        lines.append(
            f"{r['api']:<7} {r['spans_per_s']:>8.0f} {r['cpu_ms_per_span']:>11.3f} "
            f"{r['wall_s']:>7.2f} {r['glossing_per_s']:>10.0f} {r['bare_per_s']:>8.0f} "
            f"{r['bare_cpu_ms_per_request']:>11.3f} {r['server_cpu_ms_per_request']:>13.3f} "
            f"{r['ratio']:>10.3f} "
            f"{r['max_in_flight']:>5} {'yes' if r['all_glossed'] else 'NO':>4}"
        )
    notes: list[str] = []
    for r in report["apis"].values():
        for run in r["gloss_runs"]:
            if run["exit_code"] != 0 or run["answers"] != c["spans"]:
                said = " | ".join(run["stdout_tail"] + run["stderr_tail"])
                notes.append(
                    f"{r['api']}: gloss index exited {run['exit_code']} after "
                    f"{run['answers']} answers: {said}"
                )
    b = report["budget"]
    lines += [
        "",
        "spans/s and CPU ms/span: the whole `gloss index` process (start to exit); "
        "glossing/s: answers / the server's busy window; bare: httpx, C in flight, Gloss's "
        "bodies; server CPU ms: the test server's own CPU per request (the ceiling it sets)",
        f"budget spans/s >= {b['spans_per_s']:g} and CPU ms/span <= {b['cpu_ms_per_span']:g}: "
        f"{'PASS' if report['passed'] else 'FAIL'}",
    ]
    return finish_report(lines, notes, report["wall_seconds"])


OPTIONS: Final = (
    Option("--spans", "spans", "functions in the workspace (default %(default)s)", positive_int),
    Option("--per-file", "per_file", "functions per file (default %(default)s)", positive_int),
    Option(
        "--concurrency",
        "concurrency",
        "the backend's max_concurrency and the server's capacity (default %(default)s)",
        positive_int,
    ),
    Option("--api", "api", "ollama, openai or both (default %(default)s)"),
    Option("--repeats", "repeats", "default %(default)s", positive_int),
)

DESCRIPTION: Final = "Gloss's own cost per span: `gloss index` against an instant backend."


async def run_benchmark(config: BenchConfig) -> dict[str, Any]:
    apis: tuple[Api, ...] = APIS if config.api == "both" else (config.api,)  # type: ignore[assignment]
    if config.api != "both" and config.api not in APIS:
        raise SystemExit(f"--api: expected ollama, openai or both, got {config.api!r}")
    # measure_index_rate runs its own loops: keep this one free of them.
    return await asyncio.to_thread(
        measure_index_rate,
        config.spans,
        per_file=config.per_file,
        concurrency=config.concurrency,
        apis=apis,
        repeats=config.repeats,
    )


def report_json(report: dict[str, Any]) -> dict[str, Any]:
    return report


def main(argv: Sequence[str] | None = None) -> int:
    cli = BenchArgs.with_options("python -m bench.index_rate", DESCRIPTION, BenchConfig(), OPTIONS)
    return cli.run(argv, run_benchmark, format_report, report_json)


if __name__ == "__main__":
    sys.exit(main())
