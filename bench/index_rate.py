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
import bisect
import gc
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
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


def _server_times(server: ServerProcess) -> tuple[int, float | None, float | None]:
    """(answers, first chat request received, last answer sent): time.monotonic() at the server."""
    received = [r.received_at for r in server.requests]
    answered = server.answered_at
    return len(answered), min(received, default=None), max(answered, default=None)


class CpuSampler:
    """(time.monotonic(), CPU seconds) of a running process every `every_s`, from /proc:
    how much of its CPU went to which phase (startup and scan, glossing, the end)."""

    def __init__(self, pid: int, every_s: float = 0.01) -> None:
        self.pid = pid
        self.every_s = every_s
        self.samples: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cpu-sampler", daemon=True)

    def __enter__(self) -> CpuSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.samples.append((time.monotonic(), process_cpu_s(self.pid)))
            except (OSError, ValueError, IndexError):
                return  # the process has gone
            self._stop.wait(self.every_s)

    def cpu_at(self, when: float) -> float:
        """The CPU seconds of the last sample at or before `when` (0 before any)."""
        index = bisect.bisect_right(self.samples, (when, float("inf")))
        return self.samples[index - 1][1] if index else 0.0


def run_gloss_index(root: Path, server: ServerProcess, spans: int) -> dict[str, Any]:
    """One `gloss index ROOT` subprocess on a fresh store: wall, CPU, the server's window.

    The phases, by the server's clock and the process's CPU sampled from /proc:
    `before_s` from the process's start to the first chat request (startup, the
    scan until the first span is queued), the glossing window, `after_s` from the
    last answer to the process's exit (the last commit, the summary)."""
    shutil.rmtree(root / ".gloss", ignore_errors=True)
    server.reset()
    gc.collect()
    cpu_before = _children_cpu_s()
    server_cpu_before = process_cpu_s(server.pid)
    started = time.monotonic()
    child = subprocess.Popen(
        _gloss_argv("index", str(root)),
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    with CpuSampler(child.pid) as sampler:
        try:
            out, err = child.communicate(timeout=RUN_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            child.kill()
            out, err = child.communicate()
    ended = time.monotonic()
    wall = ended - started
    cpu = _children_cpu_s() - cpu_before
    server_cpu = process_cpu_s(server.pid) - server_cpu_before
    answers, first, last = _server_times(server)
    window = max(0.0, last - first) if first is not None and last is not None else 0.0
    glossing_cpu = (
        sampler.cpu_at(last) - sampler.cpu_at(first)
        if first is not None and last is not None
        else 0.0
    )
    return {
        "exit_code": child.returncode,
        "stdout_tail": out.strip().splitlines()[-3:],
        "stderr_tail": err.strip().splitlines()[-3:] if child.returncode else [],
        "wall_s": wall,
        "spans_per_s": spans / wall if wall > 0 else 0.0,
        "cpu_s": cpu,
        "cpu_ms_per_span": 1000.0 * cpu / spans,
        "server_cpu_ms_per_request": 1000.0 * server_cpu / max(1, answers),
        "answers": answers,
        "before_s": (first - started) if first is not None else None,
        "before_cpu_s": sampler.cpu_at(first) if first is not None else None,
        "window_s": window,
        "glossing_per_s": answers / window if window > 0 else 0.0,
        "glossing_cpu_ms_per_span": 1000.0 * glossing_cpu / max(1, answers),
        "after_s": (ended - last) if last is not None else None,
    }


BareClient = Literal["httpx", "raw"]


async def run_bare(
    server: ServerProcess,
    path: str,
    bodies: Sequence[dict[str, Any]],
    concurrency: int,
    client: BareClient = "httpx",
) -> dict[str, Any]:
    """POST every body with `concurrency` workers: C requests in flight.

    `httpx`: one `httpx.AsyncClient`, the body sent with `json=`, the answer decoded.
    `raw`: a keep-alive socket per worker (asyncio streams), each request's bytes
    made before the clock starts, the answer read by its Content-Length and
    decoded: about the least a client can do per request, so its rate is the
    ceiling this server allows on this machine."""
    server.reset()
    gc.collect()
    next_index = ok = failed = 0

    def take() -> dict[str, Any] | None:
        nonlocal next_index
        if next_index >= len(bodies):
            return None
        next_index += 1
        return bodies[next_index - 1]

    async def httpx_worker(http: httpx.AsyncClient) -> None:
        nonlocal ok, failed
        while (body := take()) is not None:
            try:
                response = await http.post(path, json=body)
                response.json()
                if response.status_code == 200:
                    ok += 1
                else:
                    failed += 1
            except (httpx.HTTPError, ValueError):
                failed += 1

    host, port = server.url.removeprefix("http://").rsplit(":", 1)
    encoded = [_raw_request(host, port, path, body) for body in bodies]
    raw_next = 0

    async def raw_worker() -> None:
        nonlocal ok, failed, raw_next
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            while raw_next < len(encoded):
                request = encoded[raw_next]
                raw_next += 1
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                length = int(head.lower().split(b"content-length:", 1)[1].split(b"\r\n", 1)[0])
                json.loads(await reader.readexactly(length))
                if head.startswith(b"HTTP/1.1 200"):
                    ok += 1
                else:
                    failed += 1
        finally:
            writer.close()

    cpu_before = time.process_time()
    server_cpu_before = process_cpu_s(server.pid)
    start = time.perf_counter()
    if client == "raw":
        async with asyncio.TaskGroup() as group:
            for _ in range(concurrency):
                group.create_task(raw_worker())
    else:
        async with httpx.AsyncClient(
            base_url=server.url,
            timeout=httpx.Timeout(REQUEST_TIMEOUT_S, connect=10.0),
            limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency),
        ) as http:
            async with asyncio.TaskGroup() as group:
                for _ in range(concurrency):
                    group.create_task(httpx_worker(http))
    wall = time.perf_counter() - start
    cpu = time.process_time() - cpu_before
    server_cpu = process_cpu_s(server.pid) - server_cpu_before
    answers, first, last = _server_times(server)
    window = max(0.0, last - first) if first is not None and last is not None else 0.0
    return {
        "client": client,
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


def _raw_request(host: str, port: str, path: str, body: dict[str, Any]) -> bytes:
    data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(data)}\r\n\r\n"
    )
    return head.encode() + data


def _median(runs: Sequence[dict[str, Any]], key: str) -> float:
    return float(statistics.median(r[key] for r in runs))


async def measure_api(
    api: Api, root: Path, spans: int, concurrency: int, repeats: int
) -> dict[str, Any]:
    """Gloss, the bare httpx client and the raw client, `repeats` rounds against one
    server: medians and runs. The bare clients send the bodies Gloss sent."""
    gloss_runs: list[dict[str, Any]] = []
    bare_runs: list[dict[str, Any]] = []
    raw_runs: list[dict[str, Any]] = []
    with ServerProcess(concurrency, 0.0) as server:
        (root / "gloss.toml").write_text(gloss_toml(api, server.url, concurrency))
        for _ in range(repeats):
            gloss = run_gloss_index(root, server, spans)
            gloss_runs.append(gloss)
            bodies = [r.body for r in server.requests]
            bare_runs.append(await run_bare(server, CHAT_PATH[api], bodies, concurrency))
            raw_runs.append(await run_bare(server, CHAT_PATH[api], bodies, concurrency, "raw"))
        peak = server.max_in_flight
    shutil.rmtree(root / ".gloss", ignore_errors=True)
    bare_per_s = _median(bare_runs, "per_s")
    raw_per_s = _median(raw_runs, "per_s")
    glossing = _median(gloss_runs, "glossing_per_s")
    return {
        "api": api,
        "spans_per_s": _median(gloss_runs, "spans_per_s"),
        "cpu_ms_per_span": _median(gloss_runs, "cpu_ms_per_span"),
        "glossing_cpu_ms_per_span": _median(gloss_runs, "glossing_cpu_ms_per_span"),
        "wall_s": _median(gloss_runs, "wall_s"),
        "before_s": _median(gloss_runs, "before_s"),
        "after_s": _median(gloss_runs, "after_s"),
        "glossing_per_s": glossing,
        "bare_per_s": bare_per_s,
        "bare_cpu_ms_per_request": _median(bare_runs, "cpu_ms_per_request"),
        "raw_per_s": raw_per_s,
        "raw_cpu_ms_per_request": _median(raw_runs, "cpu_ms_per_request"),
        "server_cpu_ms_per_request": _median(raw_runs, "server_cpu_ms_per_request"),
        "ratio": glossing / bare_per_s if bare_per_s > 0 else 0.0,
        "ratio_raw": glossing / raw_per_s if raw_per_s > 0 else 0.0,
        "all_glossed": all(r["exit_code"] == 0 and r["answers"] == spans for r in gloss_runs),
        "bare_all_ok": all(
            r["ok"] == r["requests"] and r["failed"] == 0 for r in bare_runs + raw_runs
        ),
        "max_in_flight": peak,
        "gloss_runs": gloss_runs,
        "bare_runs": bare_runs,
        "raw_runs": raw_runs,
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
        f"{'api':<7} {'spans/s':>8} {'CPU ms/span':>11} {'wall s':>7} {'to 1st req s':>12} "
        f"{'glossing/s':>10} {'its CPU ms/span':>15} {'after s':>7} {'peak':>5} {'all':>4}"
    )
    lines += ["Gloss (`gloss index`, whole process):", header, "-" * len(header)]
    for r in report["apis"].values():
        lines.append(
            f"{r['api']:<7} {r['spans_per_s']:>8.0f} {r['cpu_ms_per_span']:>11.3f} "
            f"{r['wall_s']:>7.2f} {r['before_s']:>12.2f} {r['glossing_per_s']:>10.0f} "
            f"{r['glossing_cpu_ms_per_span']:>15.3f} {r['after_s']:>7.2f} "
            f"{r['max_in_flight']:>5} {'yes' if r['all_glossed'] else 'NO':>4}"
        )
    header = (
        f"{'api':<7} {'httpx/s':>8} {'its CPU ms/req':>14} {'raw/s':>7} {'its CPU ms/req':>14} "
        f"{'server CPU ms/req':>17} {'glossing/httpx':>14} {'glossing/raw':>12}"
    )
    lines += ["", "Bare clients, same bodies, same server, C in flight:", header, "-" * len(header)]
    for r in report["apis"].values():
        lines.append(
            f"{r['api']:<7} {r['bare_per_s']:>8.0f} {r['bare_cpu_ms_per_request']:>14.3f} "
            f"{r['raw_per_s']:>7.0f} {r['raw_cpu_ms_per_request']:>14.3f} "
            f"{r['server_cpu_ms_per_request']:>17.3f} {r['ratio']:>14.3f} {r['ratio_raw']:>12.3f}"
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
        "spans/s, CPU ms/span: the whole process, start to exit; to 1st req: startup and scan "
        "until the server's first chat request; glossing/s: answers / the server's busy "
        "window, its CPU: Gloss's CPU in that window per answer (sampled from /proc); "
        "raw: asyncio streams, requests made beforehand (the server's ceiling here)",
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
