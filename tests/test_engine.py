"""The engine with real parts: the test LLM server over HTTP, a SQLite file, real files."""

from __future__ import annotations

import asyncio
import os
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from bench.support.llm_server import Behavior, LLMServer
from enrich_core.config import load_config, parse_config
from enrich_core.records.status import WorkspaceStatus
from enrich_core.run.engine import Engine
from tests.conftest import OpenEngine, gloss_toml


async def index(engine: Engine) -> WorkspaceStatus:
    await engine.scan()
    await engine.wait_idle()
    return await engine.status()


async def test_index_glosses_every_span_and_a_rerun_costs_nothing(
    workspace: Path, llm: LLMServer, open_engine: OpenEngine
) -> None:
    engine = await open_engine(workspace)
    status = await index(engine)
    assert status.counts.spans == status.counts.enriched == 5
    assert status.counts.pending == status.counts.failed == 0
    assert status.by_tier == {"small": 5}
    assert status.counts.llm_calls == 5
    assert status.counts.tokens_in > 0 and status.counts.tokens_out > 0
    await engine.stop()

    again = await open_engine(workspace)
    report = await again.scan()
    await again.wait_idle()
    assert report.unchanged == 2 and report.parsed == 0 and report.queued == 0
    assert len(llm.requests) == 5  # zero new LLM calls


async def test_a_store_from_an_older_span_cutter_re_parses_every_file_once(
    workspace: Path, llm: LLMServer, open_engine: OpenEngine
) -> None:
    engine = await open_engine(workspace)
    await index(engine)
    db_path = engine.config.store_path(workspace)
    await engine.stop()
    # A store written when classes were hashed differently: Circle's recorded
    # hash is one no parse of today's file yields, and it has no gloss yet.
    with sqlite3.connect(db_path) as conn:
        conn.execute("UPDATE meta SET value = '1' WHERE key = 'spans_version'")
        conn.execute("UPDATE spans SET content_hash = 'cut-the-old-way' WHERE name = 'Circle'")

    again = await open_engine(workspace)
    report = await again.scan()
    status = await index(again)
    assert report.parsed == 2  # every file once, though none changed on disk
    assert status.counts.enriched == status.counts.spans == 5  # Circle is not stuck pending
    assert len(llm.requests) == 5  # its text is the one glossed before: no model call
    assert (await again.scan()).parsed == 0  # once only


async def test_a_moved_file_costs_no_llm_call(
    workspace: Path, llm: LLMServer, open_engine: OpenEngine
) -> None:
    engine = await open_engine(workspace)
    await index(engine)
    (workspace / "pkg/shapes.py").rename(workspace / "pkg/geometry.py")
    status = await index(engine)
    assert status.counts.enriched == status.counts.spans == 5
    assert len(llm.requests) == 5
    hover = await engine.hover("pkg/geometry.py", 13)
    assert hover is not None and hover.gloss is not None
    assert await engine.hover("pkg/shapes.py", 13) is None


async def test_prompt_carries_code_path_scope_signature_and_redacts_secrets(
    tmp_path: Path, llm: LLMServer, open_engine: OpenEngine
) -> None:
    (tmp_path / "gloss.toml").write_text(gloss_toml(llm.url))
    key = "AKIA" + "IOSFODNN7EXAMPLE"
    (tmp_path / "svc.py").write_text(
        "class Client:\n"
        "    def connect(self, host: str) -> None:\n"
        f"        self.key = '{key}'\n"
        "        return None\n"
    )
    engine = await open_engine(tmp_path)
    await index(engine)
    bodies = {r.symbol: r.body for r in llm.requests}
    user = bodies["Client.connect"]["messages"][1]["content"]
    assert "Path: svc.py" in user
    assert "Enclosing scope: Client" in user
    assert "Signature: def connect(self, host: str) -> None" in user
    assert "return None" in user  # the whole span, not a stub
    assert key not in user and "[REDACTED:" in user
    assert bodies["Client.connect"]["format"]["required"]  # the JSON schema is asked for
    assert bodies["Client.connect"]["stream"] is False


async def test_retries_then_fails_over_to_the_next_backend(
    tmp_path: Path, open_engine: OpenEngine
) -> None:
    with LLMServer() as down, LLMServer() as up:
        down.set_behavior(Behavior(mode="status", status=503))
        config = parse_config(
            {
                "backends": [
                    {"name": "a", "url": down.url, "max_retries": 2, "retry_base_s": 0.01},
                    {"name": "b", "url": up.url, "max_retries": 0},
                ],
                "tiers": [{"name": "t", "model": "m", "backends": ["a", "b"]}],
            }
        )
        (tmp_path / "one.py").write_text("def f(x):\n    return x\n")
        engine = await open_engine(tmp_path, config)
        status = await index(engine)
        assert status.counts.enriched == 1
        assert len(down.requests) == 3  # first try + 2 retries
        assert len(up.requests) == 1
        info = await engine.hover("one.py", 0)
        assert info is not None and info.gloss is not None and info.gloss.backend == "b"
        assert status.backends["a"].errors == 3


async def test_rate_limit_is_retried_after_the_server_says(
    tmp_path: Path, llm: LLMServer, open_engine: OpenEngine
) -> None:
    llm.set_behavior(Behavior(mode="status", status=429, retry_after=0.05, fail_times=1))
    (tmp_path / "gloss.toml").write_text(gloss_toml(llm.url))
    (tmp_path / "one.py").write_text("def f(x):\n    return x\n")
    engine = await open_engine(tmp_path)
    status = await index(engine)
    assert status.counts.enriched == 1
    assert len(llm.requests) == 2


@pytest.mark.parametrize("mode", ["garbage", "invalid_schema", "truncated"])
async def test_bad_answers_escalate_and_never_become_a_gloss(
    workspace: Path, llm: LLMServer, open_engine: OpenEngine, mode: str
) -> None:
    llm.set_behavior(Behavior(mode=mode))  # both tiers answer badly
    engine = await open_engine(workspace)
    status = await index(engine)
    assert status.counts.enriched == 0 and status.counts.failed == 5
    info = await engine.hover("pkg/shapes.py", 13)
    assert info is not None and info.gloss is None
    assert info.failure is not None and "small" in info.failure and "large" in info.failure
    assert "model answer rejected" in info.failure
    assert {r.model for r in llm.requests} == {"small-model", "large-model"}


async def test_an_unreachable_backend_fails_fast_and_names_its_url(
    workspace: Path, open_engine: OpenEngine
) -> None:
    config = parse_config(
        {
            "backends": [{"name": "gone", "url": "http://127.0.0.1:9", "retry_base_s": 0.01}],
            "tiers": [{"name": "t", "model": "m", "backends": ["gone"]}],
        }
    )
    engine = await open_engine(workspace, config)
    status = await index(engine)
    assert status.counts.failed == 5
    reasons = " ".join(r.reason for r in status.failure_reasons)
    assert "'gone' (http://127.0.0.1:9)" in reasons and "unreachable" in reasons
    assert status.backends["gone"].health.healthy is False


async def test_failed_spans_wait_out_a_backoff_that_survives_restarts(
    workspace: Path, llm: LLMServer, open_engine: OpenEngine
) -> None:
    llm.set_behavior(Behavior(mode="status", status=500))
    slow_retry = load_config(workspace, {"retry": {"base_s": 3600}})
    engine = await open_engine(workspace, slow_retry)
    assert (await index(engine)).counts.failed == 5
    assert engine.retries.waiting == 5
    await engine.stop()
    llm.reset()
    # A restart within the backoff does not try again: the count and the time of
    # the last try came back from the store.
    engine = await open_engine(workspace, slow_retry)
    report = await engine.scan()
    assert report.queued == 0 and engine.retries.waiting == 5
    assert not llm.requests
    info = await engine.hover("pkg/shapes.py", 13)
    assert info is not None and info.failure is not None
    due = engine.retries.due_in(info.span.content_hash)
    assert due is not None and 3000 < due <= 3600
    from enrich_core.present.render import render_hover

    text = render_hover(info, None, due)
    assert "gloss failed" in text and "next try in" in text and " min" in text
    await engine.stop()
    # Once the backoff has passed (zero here), the next start retries them.
    engine = await open_engine(workspace, load_config(workspace, {"retry": {"base_s": 0}}))
    status = await index(engine)
    assert status.counts.enriched == 5 and status.counts.failed == 0


async def test_a_failed_span_is_retried_by_the_timer_without_a_restart(
    tmp_path: Path, llm: LLMServer, open_engine: OpenEngine
) -> None:
    (tmp_path / "gloss.toml").write_text(gloss_toml(llm.url) + "\n[retry]\nbase_s = 0.05\n")
    (tmp_path / "one.py").write_text("def f(x):\n    return x\n")
    llm.set_behavior(Behavior(mode="status", status=500, fail_times=2))  # both tiers fail once
    engine = await open_engine(tmp_path)
    glossed = asyncio.Event()
    engine.add_listener(lambda ref, result: glossed.set() if result.gloss is not None else None)
    await engine.scan()
    async with asyncio.timeout(20):
        await glossed.wait()
    await engine.wait_idle()
    status = await engine.status()
    assert status.counts.enriched == 1 and status.counts.failed == 0


async def test_edit_shows_old_gloss_as_stale_until_the_new_one_lands(
    workspace: Path, llm: LLMServer, open_engine: OpenEngine
) -> None:
    engine = await open_engine(workspace)
    await index(engine)
    path = workspace / "pkg/shapes.py"
    gate = asyncio.Event()
    llm.set_behavior(Behavior(mode="status", status=500))  # the new text cannot be glossed
    text = path.read_text().replace("return {}", "return {'a': 1}")
    path.write_text(text)
    await engine.document_changed("pkg/shapes.py", text)
    await engine.wait_idle()
    gate.set()
    info = await engine.hover("pkg/shapes.py", 13)
    assert info is not None and info.stale and info.gloss is not None
    assert info.failure is not None
    status = await engine.status()
    assert status.counts.stale == 1


async def test_search_by_name_and_by_gloss_text(
    workspace: Path, llm: LLMServer, open_engine: OpenEngine
) -> None:
    engine = await open_engine(workspace)
    await index(engine)
    circle = await engine.search("circle")
    # The name match first (its gloss names it too); then spans whose gloss text
    # mentions circles.
    assert (circle[0].span.qualname, circle[0].matched) == ("Circle", "both")
    assert {h.matched for h in circle[1:]} <= {"gloss"}
    assert circle[0].summary is not None and "Circle" in circle[0].summary
    hits = await engine.search("conf")
    # "conf" is also read as a word being typed, which the gloss of load_config holds.
    assert hits[0].span.name == "load_config" and hits[0].matched in ("name", "both")
    assert [h.span.qualname for h in await engine.search("circle.ar")][:1] == ["Circle.area"]
    # The test model's summaries say "test model"; a word search finds every gloss.
    by_text = await engine.search("test model")
    assert {h.matched for h in by_text} == {"gloss"} and len(by_text) == 5


async def test_skipped_files_are_listed_with_a_reason(
    workspace: Path, open_engine: OpenEngine
) -> None:
    (workspace / "big.py").write_text("x = 1\n" * 10)
    (workspace / "bin.py").write_bytes(b"\x00\x01def f(): pass\n")
    (workspace / "latin.py").write_bytes("s = 'caf\xe9'\n".encode("latin-1"))
    (workspace / ".env").write_text("SECRET=1\n")
    config = load_config(workspace, {"index": {"max_file_bytes": 40}})
    engine = await open_engine(workspace, config)
    await engine.scan()
    skipped = (await engine.status()).skipped_files
    assert "max_file_bytes" in skipped["big.py"]
    assert "binary" in skipped["bin.py"]
    assert "UTF-8" in skipped["latin.py"]
    assert ".env" not in skipped


async def test_ignored_files_are_never_sent(
    workspace: Path, llm: LLMServer, open_engine: OpenEngine
) -> None:
    (workspace / ".gitignore").write_text("generated/\n")
    (workspace / "generated").mkdir()
    (workspace / "generated/out.py").write_text("def generated_thing():\n    pass\n")
    (workspace / "vendor").mkdir()
    (workspace / "vendor/lib.py").write_text("def vendored():\n    pass\n")
    config = load_config(workspace, {"index": {"exclude": ["vendor/**"]}})
    engine = await open_engine(workspace, config)
    await index(engine)
    sent = set(llm.symbols())
    assert "generated_thing" not in sent and "vendored" not in sent
    assert "load_config" in sent


async def test_store_is_wal_and_has_a_gitignore(workspace: Path, open_engine: OpenEngine) -> None:
    engine = await open_engine(workspace)
    await engine.scan()
    db = workspace / ".gloss" / "index.db"
    assert db.exists()
    assert (workspace / ".gloss" / ".gitignore").read_text().strip().endswith("*")
    import sqlite3

    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        conn.close()
    assert os.access(db, os.R_OK)


async def test_openai_kind_sends_the_bearer_key_and_the_json_schema(
    tmp_path: Path, llm: LLMServer, open_engine: OpenEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GLOSS_TEST_KEY", "sk-test-123")
    config = parse_config(
        {
            "backends": [
                {
                    "name": "o",
                    "kind": "openai",
                    "url": llm.openai_url,
                    "api_key_env": "GLOSS_TEST_KEY",
                }
            ],
            "tiers": [{"name": "t", "model": "m", "backends": ["o"]}],
        }
    )
    (tmp_path / "one.py").write_text("def f(x):\n    return x\n")
    engine = await open_engine(tmp_path, config)
    assert (await index(engine)).counts.enriched == 1
    request = llm.requests[0]
    assert request.headers["Authorization"] == "Bearer sk-test-123"
    assert request.body["response_format"]["type"] == "json_schema"
    assert request.body["response_format"]["json_schema"]["schema"]["required"]


async def test_a_server_refusing_json_schema_gets_json_object_once_learned(
    tmp_path: Path, open_engine: OpenEngine
) -> None:
    with LLMServer(reject_json_schema=True) as llm:
        config = parse_config(
            {
                "backends": [{"name": "o", "kind": "openai", "url": llm.openai_url}],
                "tiers": [{"name": "t", "model": "m", "backends": ["o"]}],
            }
        )
        (tmp_path / "two.py").write_text("def f(x):\n    return x\n\n\ndef g():\n    pass\n")
        engine = await open_engine(tmp_path, config)
        status = await index(engine)
        assert status.counts.enriched == 2
        kinds = [r.body["response_format"]["type"] for r in llm.requests]
        # Refused (once per request already in flight, at most max_concurrency = 2),
        # then json_object for everything after.
        assert 1 <= kinds.count("json_schema") <= 2 and kinds.count("json_object") == 2


async def test_a_missing_api_key_is_named(
    tmp_path: Path, llm: LLMServer, open_engine: OpenEngine
) -> None:
    config = parse_config(
        {
            "backends": [
                {"name": "o", "kind": "openai", "url": llm.openai_url, "api_key_env": "NOPE_UNSET"}
            ],
            "tiers": [{"name": "t", "model": "m", "backends": ["o"]}],
        }
    )
    (tmp_path / "one.py").write_text("def f(x):\n    return x\n")
    engine = await open_engine(tmp_path, config)
    status = await index(engine)
    assert status.counts.failed == 1 and not llm.requests
    assert "NOPE_UNSET" in status.failure_reasons[0].reason


async def test_an_edit_goes_ahead_of_the_backlog_and_the_cap_holds(
    tmp_path: Path, open_engine: OpenEngine
) -> None:
    with LLMServer(latency_s=0.02) as llm:
        (tmp_path / "gloss.toml").write_text(gloss_toml(llm.url, concurrency=1))
        body = "".join(f"def backlog_{i:03d}(x):\n    return x + {i}\n\n\n" for i in range(40))
        (tmp_path / "a_backlog.py").write_text(body)
        engine = await open_engine(tmp_path)
        await engine.scan()
        assert await asyncio.to_thread(llm.wait_for_requests, 1)
        edited = "def edited_now(y):\n    return y * 2\n"
        (tmp_path / "b_edit.py").write_text(edited)
        await engine.document_changed("b_edit.py", edited)
        await engine.wait_idle()
        order = llm.symbols()
        # One request was in flight when the edit came; the edit is next (or, if the
        # worker had already taken another span, the one after).
        assert order.index("edited_now") <= 2
        assert len(order) == 41
        assert llm.max_in_flight == 1  # never more than the backend's max_concurrency


async def test_status_reports_metrics_per_tier_and_backend_with_cost(
    workspace: Path, llm: LLMServer, open_engine: OpenEngine
) -> None:
    llm.set_behavior(Behavior(mode="filler"), model="small-model")  # the gate escalates these
    config = load_config(workspace)
    priced = [replace(t, cost_per_1k_input=1.0, cost_per_1k_output=2.0) for t in config.tiers]
    engine = await open_engine(workspace, replace(config, tiers=tuple(priced)))
    status = await index(engine)
    assert status.counts.enriched == 5 and status.by_tier == {"large": 5}
    tiers = status.tiers
    assert tiers["small"].glosses == 0 and tiers["small"].requests == 5
    assert tiers["large"].glosses == 5 and tiers["large"].tokens_in > 0
    expected = sum(t.tokens_in / 1000 * 1.0 + t.tokens_out / 1000 * 2.0 for t in tiers.values())
    assert status.cost == pytest.approx(expected, rel=1e-4) and status.cost > 0
    escalation = status.escalation
    assert escalation.rate == 1.0 and escalation.escalated == 5
    assert escalation.rejections == {"filler": 5}
    requests = status.backends["test"].requests
    assert requests is not None
    assert requests.requests_ok == 10 and requests.requests_failed == 0
    assert 0 < requests.p50_ms <= requests.p95_ms
    info = await engine.hover("pkg/shapes.py", 13)
    assert info is not None and info.gloss is not None
    assert info.gloss.escalations and "filler" in info.gloss.escalations[0]


async def test_two_hosts_of_one_tier_both_stay_busy(
    tmp_path: Path, open_engine: OpenEngine
) -> None:
    with (
        LLMServer(capacity=2, latency_s=0.02) as fast,
        LLMServer(capacity=2, latency_s=0.06) as slow,
    ):
        config = parse_config(
            {
                "backends": [
                    {"name": "slow", "url": slow.url, "max_concurrency": 2},
                    {"name": "fast", "url": fast.url, "max_concurrency": 2},
                ],
                "tiers": [{"name": "t", "model": "m", "backends": ["slow", "fast"]}],
            }
        )
        body = "".join(f"def f_{i:03d}(x):\n    return x + {i}\n\n\n" for i in range(40))
        (tmp_path / "many.py").write_text(body)
        engine = await open_engine(tmp_path, config)
        status = await index(engine)
        assert status.counts.enriched == 40
        # Not failover: both hosts served, each within its cap, and the faster more.
        assert slow.requests and fast.requests
        assert len(fast.requests) >= len(slow.requests)
        assert slow.max_in_flight <= 2 and fast.max_in_flight <= 2


async def test_a_span_too_big_for_the_context_is_glossed_from_a_marked_trimmed_view(
    tmp_path: Path, llm: LLMServer, open_engine: OpenEngine
) -> None:
    config = parse_config(
        {
            "backends": [{"name": "b", "url": llm.url}],
            "tiers": [{"name": "t", "model": "m", "backends": ["b"], "context_tokens": 1024,
                       "max_tokens": 200}],
        }
    )  # fmt: skip
    body = "".join(f"    v{i} = x * {i}  # step {i} of the long computation\n" for i in range(400))
    (tmp_path / "big.py").write_text(f"def long_one(x):\n{body}    return x\n")
    engine = await open_engine(tmp_path, config)
    status = await index(engine)
    assert status.counts.enriched == 1
    sent = llm.requests[0].body["messages"][1]["content"]
    assert "lines omitted by Gloss" in sent and "return x" in sent
    info = await engine.hover("big.py", 0)
    assert info is not None and info.gloss is not None
    assert info.gloss.trimmed is not None and info.gloss.trimmed.endswith("of 402 lines")
    from enrich_core.present.render import render_hover

    assert "from a trimmed view (kept" in render_hover(info)


async def test_a_host_that_comes_back_is_used_again_without_a_restart(
    tmp_path: Path, llm: LLMServer, open_engine: OpenEngine
) -> None:
    config = parse_config(
        {
            "backends": [
                {"name": "b", "url": llm.url, "max_retries": 0, "max_concurrency": 1,
                 "breaker_threshold": 1, "breaker_cooldown_s": 0.0}
            ],
            "tiers": [{"name": "t", "model": "m", "backends": ["b"]}],
        }
    )  # fmt: skip
    llm.set_behavior(Behavior(mode="status", status=503))
    (tmp_path / "one.py").write_text("def f(x):\n    return x\n")
    engine = await open_engine(tmp_path, config)
    assert (await index(engine)).counts.failed == 1
    assert (await engine.status()).backends["b"].health.healthy is False
    llm.reset()  # the host recovers
    (tmp_path / "two.py").write_text("def g(y):\n    return y\n")
    queued = await engine.files_changed(["two.py"])
    assert queued == 1
    await engine.wait_idle()
    status = await engine.status()
    # After the cooldown (zero here) one probe went through and closed the breaker.
    assert status.backends["b"].health.healthy is True
    info = await engine.hover("two.py", 0)
    assert info is not None and info.gloss is not None
