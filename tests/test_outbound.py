"""No secret in a span leaves the process, whichever field of the request carries it.

The request text is checked as the test LLM server received it over HTTP, after
the real scan, router and backend built and sent it."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from bench.support.llm_server import LLMServer
from enrich_core.config import load_config
from enrich_core.llm.outbound import build_prompt, outbound_span
from enrich_core.run.engine import Engine
from enrich_core.source.spans import extract_spans
from tests.conftest import gloss_toml

# Shapes real keys have; none is a live credential.
GITHUB = "ghp_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
OPENAI = "sk-proj4xT9mQ2vL8nR5wK3jH7bF1cD6"
AWS_ID = "AKIAIOSFODNN7EXAMPLE"
SLACK = "xoxb-1234567890-abcdefghij"
PASSWORD = "hunter2hunter2"
SECRETS = (GITHUB, OPENAI, AWS_ID, SLACK, PASSWORD)

SOURCE = f'''\
import functools


def connect(host: str, token="{GITHUB}", *, password: str = "{PASSWORD}") -> None:
    """Open a session."""
    return None


@functools.lru_cache(maxsize=None, typed=bool("{OPENAI}"))
def cached() -> int:
    return 1


def documented() -> None:
    """Uses the key {AWS_ID} from the team vault."""


class Client:
    """A client."""

    webhook_token = "{SLACK}"

    def call(self) -> None:
        return None
'''


@pytest.mark.parametrize("kind", ["ollama", "openai"])
async def test_secrets_in_signature_default_decorator_docstring_and_attribute_are_not_sent(
    tmp_path: Path, llm: LLMServer, kind: str
) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "keys.py").write_text(SOURCE)
    (root / "gloss.toml").write_text(gloss_toml(llm.url, kind=kind))
    engine = Engine(root, load_config(root))
    await engine.start()
    try:
        await engine.scan()
        await engine.wait_idle()
    finally:
        await engine.stop()

    sent = [r for r in llm.requests if r.api == kind]
    # connect, cached, documented, Client, Client.call: each span asked at least once.
    assert {r.symbol for r in sent} >= {"connect", "cached", "documented", "Client", "Client.call"}
    wire = "\n".join(json.dumps(r.body) for r in sent)
    for secret in SECRETS:
        assert secret not in wire, f"{secret[:6]}... reached the backend"
    user_texts = [r.body["messages"][-1]["content"] for r in sent]
    connect = next(t for t in user_texts if "Symbol: connect" in t)
    signature = next(line for line in connect.splitlines() if line.startswith("Signature:"))
    assert "[REDACTED:github_token]" in signature
    assert '"[REDACTED:generic_secret]"' in signature  # the quotes and the name stay
    assert "host: str" in signature  # ordinary code is not rewritten


def test_the_prompt_counts_what_it_redacted_in_every_field() -> None:
    spans = {s.qualname: s for s in extract_spans("keys.py", textwrap.dedent(SOURCE))}
    prompt = build_prompt(outbound_span(spans["connect"]))
    text = "\n".join(m["content"] for m in prompt.messages)
    assert GITHUB not in text and PASSWORD not in text
    # Two secrets, each in the signature and in the code.
    assert prompt.redactions == 4
    assert prompt.kinds == ("generic_secret", "github_token")


def test_a_view_passed_in_is_redacted_too() -> None:
    span = next(s for s in extract_spans("keys.py", SOURCE) if s.qualname == "Client")
    outbound = outbound_span(span)
    raw = f'webhook_token = "{SLACK}"'
    prompt = build_prompt(outbound, raw)
    assert SLACK not in prompt.messages[-1]["content"]
    assert prompt.redactions == outbound.redactions + 1
