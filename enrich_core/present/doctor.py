"""`gloss doctor`: is each backend reachable, does it have the models, how fast is it.

For every backend: list its models by name (`/api/tags` or `/models`), check
each model a tier expects from it (when one is missing: the closest names the
server has and how to get it), and time one small request per tier. The
request is the real kind of request (the gloss schema, the tier's model and
context), but its prompt is tiny and its answer is capped at
`TEST_MAX_TOKENS`, so it takes seconds even on a CPU: what it reports is the
time and the speed, not a judged gloss. It fails when the backend errors,
answers no text, or answers text that is not JSON.

A URL that does not answer with a model list is probed once more at the URL a
common mistake would have meant (a missing or extra `/v1`, Ollama's API for
OpenAI's or the reverse), and when that answers, the fix is named.

An embedded backend (llama.cpp in process) is reachable when its model file
exists and loads; a tier's model name is only a label there, so it is not
looked up. Every problem found ends with what to do (`present.advice`, the
same sentences `gloss index` prints). Returns 0 when everything works, 3
otherwise. Backend answers (model names, error bodies) go out as written: the
CLI hands in a stream that escapes control and bidi characters
(present/terminal.py); each `write` is one line.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import re
import time
from typing import Protocol

from enrich_core.config import BackendConfig, BackendKind, Config, TierConfig
from enrich_core.llm.backend import Backend, BackendError, CompletionRequest, ErrorKind
from enrich_core.llm.embedded import model_path_of
from enrich_core.llm.factory import make_backend
from enrich_core.present.advice import BackendProblem, ProblemKind, advice
from enrich_core.present.words import plural
from enrich_core.records.gloss import GLOSS_SCHEMA, GlossRejected, parse_gloss

# The test request's answer cap: enough to show the model writes JSON and how
# fast, a few seconds even for SmolLM2 on two cores.
TEST_MAX_TOKENS = 32
# Doctor's own deadlines, well under a backend's timeout_s (120 s by default):
# a model list is instant on a working server; a small request may wait for a
# model to load.
LIST_TIMEOUT_S = 10.0
REQUEST_TIMEOUT_S = 45.0
MODELS_SHOWN = 20
CLOSEST_SHOWN = 3

_PING = [
    {"role": "system", "content": "Answer with one JSON object describing the code."},
    {
        "role": "user",
        "content": "Symbol: add\nSignature: def add(a, b)\nCode:\n```python\n"
        "def add(a, b):\n    return a + b\n```",
    },
]

_ERROR_PROBLEMS = {
    ErrorKind.REFUSED: ProblemKind.UNREACHABLE,
    ErrorKind.TIMEOUT: ProblemKind.TIMED_OUT,
    ErrorKind.MODEL_MISSING: ProblemKind.MODEL_MISSING,
    ErrorKind.CLIENT_ERROR: ProblemKind.REJECTED,
    ErrorKind.RATE_LIMITED: ProblemKind.SERVER_FAILED,
    ErrorKind.SERVER_ERROR: ProblemKind.SERVER_FAILED,
    ErrorKind.BAD_RESPONSE: ProblemKind.SERVER_FAILED,
}


_NO_ANSWER = (ErrorKind.REFUSED, ErrorKind.TIMEOUT)


class Output(Protocol):
    def write(self, text: str, /) -> object: ...


class _Report:
    """The lines doctor writes, and the problems it has found so far."""

    def __init__(self, config: Config, out: Output) -> None:
        self.config = config
        self.out = out
        self.problems = 0

    def line(self, text: str) -> None:
        self.out.write(text + "\n")

    def problem(self, found: BackendProblem, indent: str) -> None:
        self.problems += 1
        self.line(f"{indent}what to do: {advice(found, self.config)}")


async def run_doctor(config: Config, out: Output) -> int:
    report = _Report(config, out)
    report.line(f"configuration: {config.source}")
    for b in config.backends:
        report.line(f"backend {b.name!r} ({b.kind}, {b.url}):")
        await _check_backend(b, report)
    n = report.problems
    report.line("all backends work" if n == 0 else f"{plural(n, 'problem')} found")
    return 0 if n == 0 else 3


async def _check_backend(b: BackendConfig, report: _Report) -> None:
    tiers = [t for t in report.config.tiers if b.name in t.backends]
    if b.api_key_env and not os.environ.get(b.api_key_env):
        report.line(f"  NOT CHECKED: api_key_env names {b.api_key_env}, which is not set")
        report.problem(BackendProblem(ProblemKind.KEY_NOT_SET, b), "  ")
        return
    lister = make_backend(_bounded(b, LIST_TIMEOUT_S))
    try:
        started = time.monotonic()
        try:
            models = await lister.list_models()
        except BackendError as exc:
            # A server that answered with an error is reachable, at a wrong URL perhaps.
            answered = b.kind != "embedded" and exc.kind not in _NO_ANSWER
            report.line(f"  {'NO MODEL LIST' if answered else 'NOT REACHABLE'}: {exc}")
            report.problem(await _diagnose_unreachable(b, exc), "  ")
            return
        if b.kind == "embedded":
            loaded = time.monotonic() - started
            report.line(f"  reachable; model file {model_path_of(b)} loads (in {_seconds(loaded)})")
            for tier in tiers:
                report.line(f"  tier {tier.name!r} model {tier.model}: served by the model file")
                await _test_request(lister, b, tier, report)
            return
        _list_models(models, b, report)
    finally:
        await lister.aclose()
    requester = make_backend(_bounded(b, REQUEST_TIMEOUT_S))
    try:
        for tier in tiers:
            label = f"tier {tier.name!r} model {tier.model}"
            if _served(label, tier.model, models, b, report, "[[tiers]] model"):
                await _test_request(requester, b, tier, report)
    finally:
        await requester.aclose()
    embeddings = report.config.search.embeddings
    if embeddings is not None and embeddings.backend == b.name:
        # Not timed: an embedding is not a gloss, and `gloss status` reports its errors.
        label = f"[search] embeddings model {embeddings.model}"
        _served(label, embeddings.model, models, b, report, "[search] embeddings' model")


def _served(
    label: str, model: str, models: list[str], b: BackendConfig, report: _Report, setting: str
) -> bool:
    """Whether `model` is among `models`, said on `label`'s line; when it is not,
    the closest names there and what to do."""
    if _has_model(models, model):
        report.line(f"  {label}: present")
        return True
    near = _closest(model, models)
    has = f"closest it has: {', '.join(near)}" if near else "it has nothing close"
    report.line(f"  {label}: MISSING; {has}")
    missing = BackendProblem(ProblemKind.MODEL_MISSING, b, (model,), setting=setting)
    report.problem(missing, "    ")
    return False


def _list_models(models: list[str], b: BackendConfig, report: _Report) -> None:
    names = sorted(models, key=_natural)
    served = "pulled" if b.kind == "ollama" else "served"
    if not names:
        report.line(f"  reachable; no models {served}")
        return
    report.line(f"  reachable; {plural(len(names), 'model')} {served}:")
    more = len(names) - MODELS_SHOWN
    tail = f", and {more} more" if more > 0 else ""
    report.line(f"    {', '.join(names[:MODELS_SHOWN])}{tail}")


async def _test_request(backend: Backend, b: BackendConfig, tier: TierConfig, r: _Report) -> None:
    cap = min(tier.max_tokens, TEST_MAX_TOKENS)
    request = CompletionRequest(
        tier.model, _PING, GLOSS_SCHEMA, cap, tier.temperature, tier.context_tokens
    )
    started = time.monotonic()
    try:
        completion = await backend.complete(request)
    except BackendError as exc:
        limit = ""
        if exc.kind is ErrorKind.TIMEOUT and REQUEST_TIMEOUT_S < b.timeout_s:
            limit = f" (doctor's limit; `gloss index` waits up to timeout_s = {b.timeout_s:g} s)"
        r.line(f"    test request FAILED: {exc}{limit}")
        r.problem(BackendProblem(_ERROR_PROBLEMS[exc.kind], b, (tier.model,)), "    ")
        return
    elapsed = time.monotonic() - started
    text = completion.text.strip()
    if not text:
        r.line(
            f"    test request FAILED: no text in the answer after {_seconds(elapsed)} "
            f"(finish reason {completion.finish_reason!r})"
        )
        r.problem(BackendProblem(ProblemKind.NO_ANSWER, b, (tier.model,)), "    ")
        return
    if not text.startswith("{"):
        r.line(f"    test request FAILED: the answer is not JSON: {text[:80]!r}")
        r.problem(BackendProblem(ProblemKind.NOT_JSON, b, (tier.model,)), "    ")
        return
    r.line(f"    test request: {_measured(completion.tokens_out, elapsed, cap)}")
    if completion.finish_reason != "length":
        r.line(f"    the answer is complete: {_judged(completion.text, completion.finish_reason)}")
    if completion.tokens_out:
        full_s = elapsed / completion.tokens_out * tier.max_tokens
        r.line(
            f"    at that speed an answer of up to {plural(tier.max_tokens, 'token')} "
            f"(the tier's max_tokens) takes up to about {_seconds(full_s)}"
        )
        busy = _busy_cpu()
        if b.kind == "embedded" and busy:
            r.line(f"    note: {busy}: llama.cpp waited for the CPU, a quieter machine is faster")
            if b.threads > 1:
                # Measured on 2 busy cores (load ~11): 32 tokens took 1.4-7 s with one
                # thread, 6-34 s with two (each token waits for its slowest thread).
                r.line(
                    f"    with threads = {b.threads}, each token waits for every thread: on a "
                    f"busy machine threads = 1 in [[backends]] {b.name!r} is often faster"
                )
        if b.kind != "embedded" and full_s > b.timeout_s:
            r.line(
                f"    note: more than this backend's timeout_s ({b.timeout_s:g} s): long "
                f"answers may time out; raise timeout_s in [[backends]] {b.name!r}"
            )


def _measured(tokens: int | None, elapsed: float, cap: int) -> str:
    if tokens is None:
        return f"answered in {_seconds(elapsed)} (the server reported no token count)"
    per_s = tokens / elapsed if elapsed > 0 else 0.0
    rate = f"{per_s:.0f} tokens/s" if per_s >= 10 else f"{per_s:.1f} tokens/s"
    return (
        f"{plural(tokens, 'token')} in {_seconds(elapsed)} ({rate}, prompt included; "
        f"doctor caps the answer at {cap})"
    )


def _busy_cpu() -> str:
    """Why an in-process model may have been slow ("" when the CPU was not busy)."""
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):  # not on every platform
        return ""
    cores = os.cpu_count() or 1
    return (
        f"this machine is busy (load average {load:.1f} on {cores} cores)" if load > cores else ""
    )


def _seconds(s: float) -> str:
    return f"{s:.0f} s" if s >= 10 else f"{s:.1f} s" if s >= 1 else f"{s:.2f} s"


def _judged(text: str, finish_reason: str | None) -> str:
    try:
        parse_gloss(text, finish_reason)
    except GlossRejected as exc:
        return f"the gate would reject it ({exc})"
    return "a valid gloss"


async def _diagnose_unreachable(b: BackendConfig, exc: BackendError) -> BackendProblem:
    """The problem behind a model list that failed: when something answered but not
    with a model list, the URL or kind a common mistake would have meant."""
    if b.kind != "embedded" and exc.kind not in _NO_ANSWER:
        for url, kind in _likely_meant(b):
            probe = make_backend(
                _bounded(dataclasses.replace(b, url=url, kind=kind), LIST_TIMEOUT_S)
            )
            try:
                await probe.list_models()
            except BackendError:
                continue
            finally:
                await probe.aclose()
            return BackendProblem(ProblemKind.WRONG_URL, b, fixed_url=url, fixed_kind=kind)
    if b.kind == "embedded":
        return BackendProblem(ProblemKind.MODEL_FILE, b)
    return BackendProblem(_ERROR_PROBLEMS[exc.kind], b)


def _likely_meant(b: BackendConfig) -> list[tuple[str, BackendKind]]:
    """(url, kind) guesses, most likely first: at most two probes."""
    url = b.url.rstrip("/")
    stem = url.removesuffix("/v1")
    if b.kind == "openai":
        guesses: list[tuple[str, BackendKind]] = (
            [] if url.endswith("/v1") else [(url + "/v1", "openai")]
        )
        return [*guesses, (stem, "ollama")]
    guesses = [(stem, "ollama")] if url.endswith("/v1") else []
    return [*guesses, (stem + "/v1", "openai")]


def _bounded(b: BackendConfig, seconds: float) -> BackendConfig:
    return dataclasses.replace(b, timeout_s=min(b.timeout_s, seconds))


def _natural(name: str) -> list[str | int]:
    """A sort key that puts "qwen:7b" before "qwen:14b": digit runs compare as numbers."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def _has_model(models: list[str], wanted: str) -> bool:
    # Ollama lists "name:tag"; a tier may omit ":latest".
    names = set(models)
    return wanted in names or f"{wanted}:latest" in names or wanted.removesuffix(":latest") in names


def _closest(wanted: str, models: list[str]) -> list[str]:
    """The names most like `wanted`: the same model with another tag first (a tag
    that extends the wanted one before the others), then names that differ by a
    few characters."""
    base = wanted.split(":", 1)[0]
    same_base = sorted(
        (m for m in models if m.split(":", 1)[0] == base),
        # "7b" is nearer "7b-instruct" (the same model, a longer tag) than "14b".
        key=lambda m: (not m.startswith(wanted), -difflib.SequenceMatcher(None, wanted, m).ratio()),
    )
    similar = difflib.get_close_matches(wanted, models, n=CLOSEST_SHOWN, cutoff=0.75)
    return list(dict.fromkeys(same_base + similar))[:CLOSEST_SHOWN]
