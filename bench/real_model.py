"""The pipeline with a real model: SmolLM2-135M in process, on this machine's 2 cores.

Run:  .venv/bin/python -m bench.real_model [--json PATH]

Two variants on the same spans (the sample workspace's, `examples/sample`):

- `gloss`: the real Engine with one embedded backend and two tiers on it — the
  sample's tier (temperature 0.1), then a retry tier at temperature 0.6, so the
  quality gate's escalations show. Reported: glosses/s, generated tokens/s,
  escalation rate, valid-on-first-tier rate, rejections by reason.
- `bare`: llama-cpp-python called directly, one request per span with the same
  prompt, schema and sampling as the first tier, no gate, no store. The model's
  own speed: the ceiling for Gloss on one thread.

Needs the `embedded` extra. Bounded: one pass over the sample's spans each.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from enrich_core.config import Config, parse_config
from enrich_core.llm.embedded import default_model_path
from enrich_core.llm.gate import check_quality
from enrich_core.llm.outbound import prompt_for
from enrich_core.records.gloss import GLOSS_SCHEMA, GlossRejected, parse_gloss
from enrich_core.records.span import Span
from enrich_core.run.engine import Engine
from enrich_core.source.spans import extract_spans

SAMPLE = Path(__file__).resolve().parent.parent / "examples" / "sample"
MAX_TOKENS = 400
CONTEXT = 2048


def bench_config() -> Config:
    return parse_config(
        {
            "backends": [
                {"name": "smol", "kind": "embedded", "max_concurrency": 1,
                 "context_tokens": CONTEXT, "threads": 2}
            ],
            "tiers": [
                {"name": "t0.1", "model": "SmolLM2-135M-Instruct", "backends": ["smol"],
                 "max_tokens": MAX_TOKENS, "context_tokens": CONTEXT, "temperature": 0.1},
                {"name": "t0.6", "model": "SmolLM2-135M-Instruct", "backends": ["smol"],
                 "max_tokens": MAX_TOKENS, "context_tokens": CONTEXT, "temperature": 0.6},
            ],
        },
        "bench",
    )  # fmt: skip


def sample_spans() -> list[Span]:
    spans: list[Span] = []
    for path in sorted(SAMPLE.rglob("*.py")):
        rel = path.relative_to(SAMPLE).as_posix()
        spans += extract_spans(rel, path.read_text())
    return spans


async def run_gloss(workdir: Path) -> dict[str, Any]:
    for path in SAMPLE.rglob("*.py"):
        target = workdir / path.relative_to(SAMPLE)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target)
    engine = Engine(workdir, bench_config())
    await engine.start()
    try:
        started = time.perf_counter()
        await engine.scan()
        await engine.wait_idle()
        wall = time.perf_counter() - started
        status = await engine.status()
    finally:
        await engine.stop()
    conn = sqlite3.connect(workdir / ".gloss" / "index.db")
    try:
        first_try = conn.execute(
            "SELECT count(*) FROM glosses WHERE tier = first_tier AND attempts = 1"
        ).fetchone()[0]
        (gen_s,) = conn.execute("SELECT coalesce(sum(ms), 0) / 1000.0 FROM llm_requests").fetchone()
    finally:
        conn.close()
    spans = status.counts.spans
    return {
        "spans": spans,
        "glossed": status.counts.enriched,
        "failed": status.counts.failed,
        "requests": sum(t.requests for t in status.tiers.values()),
        "wall_s": round(wall, 2),
        "glosses_per_s": round(status.counts.enriched / wall, 4),
        "tokens_out": status.counts.tokens_out,
        "generated_tokens_per_s": round(status.counts.tokens_out / gen_s, 1) if gen_s else 0.0,
        "valid_on_first_tier": round(first_try / spans, 3) if spans else 0.0,
        "escalation_rate": status.escalation.rate,
        "rejections": dict(status.escalation.rejections),
    }


def run_bare(spans: list[Span]) -> dict[str, Any]:
    llama_cpp: Any = importlib.import_module("llama_cpp")
    model = llama_cpp.Llama(
        model_path=str(default_model_path()), n_ctx=CONTEXT, n_threads=2, verbose=False
    )
    valid = tokens_out = 0
    started = time.perf_counter()
    for span in spans:
        answer = model.create_chat_completion(
            messages=prompt_for(span).as_list(),
            response_format={"type": "json_object", "schema": GLOSS_SCHEMA},
            max_tokens=MAX_TOKENS,
            temperature=0.1,
            repeat_penalty=1.1,
        )
        tokens_out += answer["usage"]["completion_tokens"]
        choice = answer["choices"][0]
        try:
            check_quality(parse_gloss(choice["message"]["content"], choice["finish_reason"]), span)
            valid += 1
        except GlossRejected:
            pass
    wall = time.perf_counter() - started
    model.close()
    return {
        "spans": len(spans),
        "requests": len(spans),
        "wall_s": round(wall, 2),
        "requests_per_s": round(len(spans) / wall, 4),
        "generated_tokens_per_s": round(tokens_out / wall, 1),
        "valid_on_first_try": round(valid / len(spans), 3),
    }


def run_variant(variant: str) -> dict[str, Any]:
    """One variant in a fresh interpreter: a second llama.cpp instance in the same
    process (measured) runs at about half speed on 2 cores, whatever the order."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "result.json"
        subprocess.run(
            [sys.executable, "-m", "bench.real_model", "--only", variant, "--json", str(out)],
            check=True,
            timeout=1800,
        )
        result: dict[str, Any] = json.loads(out.read_text())
        return result


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.real_model", description=__doc__)
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument("--only", choices=("bare", "gloss"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.only == "bare":
        args.json.write_text(json.dumps(run_bare(sample_spans())))
        return
    if args.only == "gloss":
        with tempfile.TemporaryDirectory() as tmp:
            args.json.write_text(json.dumps(asyncio.run(run_gloss(Path(tmp)))))
        return
    spans = sample_spans()
    bare = run_variant("bare")
    gloss = run_variant("gloss")
    per_request = gloss["requests"] / gloss["wall_s"] if gloss["wall_s"] else 0.0
    print(f"SmolLM2-135M in process, 2 threads; {len(spans)} spans of {SAMPLE.name}")
    print(f"bare llama-cpp : {bare['requests_per_s']:.3f} requests/s, "
          f"{bare['generated_tokens_per_s']} generated tokens/s, "
          f"valid (schema + gate) {bare['valid_on_first_try']:.0%}")  # fmt: skip
    print(f"Gloss          : {per_request:.3f} requests/s, {gloss['glosses_per_s']:.3f} glosses/s, "
          f"{gloss['generated_tokens_per_s']} generated tokens/s, "
          f"valid on first tier {gloss['valid_on_first_tier']:.0%}, "
          f"escalation rate {gloss['escalation_rate']:.0%}, "
          f"glossed {gloss['glossed']}/{gloss['spans']}, "
          f"rejections {gloss['rejections']}")  # fmt: skip
    if bare["requests_per_s"]:
        print(f"Gloss requests/s over bare: {per_request / bare['requests_per_s']:.2f}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"bare": bare, "gloss": gloss}, indent=2))


if __name__ == "__main__":
    main()
