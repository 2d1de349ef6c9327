"""`gloss doctor`: is each backend reachable, does it have the models, how fast is it.

For every backend: list its models (`/api/tags` or `/v1/models`), check each
model a tier expects from it, and time one tiny schema-constrained request.
An embedded backend (llama.cpp in process) is reachable when its model file
exists and loads; a tier's model name is only a label there, so it is not
looked up. Prints plain sentences; returns 0 when everything works, 3 otherwise.
Backend answers (model names, error bodies) go out as written: the CLI hands
in a stream that escapes control and bidi characters (present/terminal.py).
"""

from __future__ import annotations

import time
from typing import Protocol

from enrich_core.config import Config
from enrich_core.llm.backend import BackendError, CompletionRequest
from enrich_core.llm.embedded import model_path_of
from enrich_core.llm.factory import make_backend
from enrich_core.records.gloss import GLOSS_SCHEMA, GlossRejected, parse_gloss

_PING = [
    {"role": "system", "content": "Answer with one JSON object describing the code."},
    {
        "role": "user",
        "content": "Symbol: add\nSignature: def add(a, b)\nCode:\n```python\n"
        "def add(a, b):\n    return a + b\n```",
    },
]


class Output(Protocol):
    def write(self, text: str, /) -> object: ...


async def run_doctor(config: Config, out: Output) -> int:
    problems = 0
    out.write(f"configuration: {config.source}\n")
    for b in config.backends:
        backend = make_backend(b)
        try:
            out.write(f"backend {b.name!r} ({b.kind}, {b.url}):\n")
            try:
                models = await backend.list_models()
            except BackendError as exc:
                out.write(f"  NOT REACHABLE: {exc}\n")
                problems += 1
                continue
            embedded = b.kind == "embedded"
            if embedded:
                out.write(f"  reachable; model file {model_path_of(b)} loads\n")
            else:
                out.write(f"  reachable; {len(models)} models served\n")
            for tier in config.tiers:
                if b.name not in tier.backends:
                    continue
                if embedded:
                    out.write(
                        f"  tier {tier.name!r} model {tier.model}: served by the model file\n"
                    )
                else:
                    present = _has_model(models, tier.model)
                    out.write(
                        f"  tier {tier.name!r} model {tier.model}: "
                        f"{'present' if present else 'MISSING'}\n"
                    )
                    if not present:
                        problems += 1
                        continue
                request = CompletionRequest(
                    tier.model,
                    _PING,
                    GLOSS_SCHEMA,
                    tier.max_tokens,
                    tier.temperature,
                    tier.context_tokens,
                )
                started = time.monotonic()
                try:
                    completion = await backend.complete(request)
                    parse_gloss(completion.text, completion.finish_reason)
                except BackendError as exc:
                    out.write(f"    test request FAILED: {exc}\n")
                    problems += 1
                    continue
                except GlossRejected as exc:
                    out.write(f"    test request answered, but not a valid gloss: {exc}\n")
                    problems += 1
                    continue
                elapsed = time.monotonic() - started
                out.write(f"    test request: valid gloss in {elapsed:.2f} s\n")
        finally:
            await backend.aclose()
    out.write("all backends work\n" if problems == 0 else f"{problems} problem(s) found\n")
    return 0 if problems == 0 else 3


def _has_model(models: list[str], wanted: str) -> bool:
    # Ollama lists "name:tag"; a tier may omit ":latest".
    names = set(models)
    return wanted in names or f"{wanted}:latest" in names or wanted.removesuffix(":latest") in names
