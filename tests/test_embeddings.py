"""Meaning, not only words: `[search] embeddings`, over real HTTP to the test LLM server.

The test server's embedding is a hashed bag of word stems with a tiny documented
synonym table (bench/support/hashed_embedding.py): it stands in for a model that
places "delete" near "remove". So a query that shares no word with a gloss can
still be near it, and the tests below show the whole path: each gloss embedded
once (batched, after the backlog, through the backend's shared client), vectors
stored in the store, a query embedded and fused into the search, and the search
answering by names and words when the embeddings backend fails or rests.
"""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path

import pytest

from bench.support.llm_server import Behavior, LLMServer
from enrich_core.config import Config, ConfigError, EmbeddingsConfig, load_config, parse_config
from enrich_core.llm.backend import BackendError, ErrorKind
from enrich_core.llm.breaker import Breaker, BreakerState
from enrich_core.llm.embeddings import EmbeddingClient
from enrich_core.llm.factory import make_backend
from enrich_core.records.status import WorkspaceStatus
from enrich_core.run.embed_jobs import embedding_text
from enrich_core.run.engine import Engine
from enrich_core.store.search import NEAR_TOP, SearchHit
from tests.conftest import OpenEngine, StartLsp, as_dict, gloss_toml, write_files

EMBED_MODEL = "embed-model"
SETTLE_LIMIT_S = 30.0
GLOSS = Path(sys.executable).parent / "gloss"  # the console script

CODE = {
    "tools/cleanup.py": """\
        def prune_downloads(folder: str) -> int:
            return 0


        def load_config(path: str) -> dict:
            return {}


        def render_page(template: str) -> str:
            return ""
        """,
}
# What the test model writes as each function's summary (LLMServer.set_descriptions).
DESCRIPTIONS = {
    "prune_downloads": "Removes outdated files from the download folder.",
    "load_config": "Reads the YAML configuration file and returns its values.",
    "render_page": "Fills an HTML template with values and returns the page text.",
}
# No word of this is in any gloss or name above; by meaning it is prune_downloads.
BEHAVIOUR_QUERY = "delete stale documents"


def embeddings_toml(url: str, kind: str, extra: str = "") -> str:
    table = f'embeddings = {{backend = "test", model = "{EMBED_MODEL}"{extra}}}'
    return gloss_toml(url, kind=kind, extra=f"\n[search]\n{table}\n")


@pytest.fixture(params=["ollama", "openai"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def described(tmp_path: Path, llm: LLMServer, kind: str) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    write_files(root, CODE)
    (root / "gloss.toml").write_text(embeddings_toml(llm.url, kind))
    llm.set_descriptions(DESCRIPTIONS)
    return root


async def indexed(engine: Engine) -> WorkspaceStatus:
    """Scan, gloss the backlog, and wait until the embedding job has nothing left."""
    await engine.scan()
    await engine.wait_idle()
    assert engine.meaning is not None
    await asyncio.wait_for(engine.meaning.settled.wait(), SETTLE_LIMIT_S)
    await engine.writer.flush()
    return await engine.status()


def names(hits: Sequence[SearchHit]) -> list[str]:
    return [h.span.name for h in hits]


# --- configuration -------------------------------------------------------------


def test_absent_means_no_vectors() -> None:
    assert parse_config({}).search.embeddings is None
    assert parse_config({"search": {}}).search.embeddings is None


def test_the_table_names_a_backend_and_a_model(tmp_path: Path) -> None:
    (tmp_path / "gloss.toml").write_text(embeddings_toml("http://127.0.0.1:9", "ollama"))
    embeddings = load_config(tmp_path).search.embeddings
    assert embeddings == EmbeddingsConfig(backend="test", model=EMBED_MODEL)


@pytest.mark.parametrize(
    ("search", "key", "problem"),
    [
        ({"embeddings": "local"}, "search.embeddings", "expected a table"),
        ({"embeddings": {"model": "m"}}, "search.embeddings.backend", "is required"),
        ({"embeddings": {"backend": "local"}}, "search.embeddings.model", "is required"),
        ({"embeddings": {"backend": "local", "model": " "}}, "search.embeddings.model", "empty"),
        (
            {"embeddings": {"backend": "elsewhere", "model": "m"}},
            "search.embeddings.backend",
            "no backend named 'elsewhere' (defined: local)",
        ),
        (
            {"embeddings": {"backend": "local", "model": "m", "batch_size": 0}},
            "search.embeddings.batch_size",
            "at least 1",
        ),
        (
            {"embeddings": {"backend": "local", "model": "m", "dims": 256}},
            "search.embeddings.dims",
            "unknown key",
        ),
        ({"embedding": {}}, "search.embedding", "unknown key"),
    ],
)
def test_bad_values_name_the_key(search: dict[str, object], key: str, problem: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config({"search": search}, "gloss.toml")
    assert caught.value.key == key
    assert problem in caught.value.problem
    assert str(caught.value).startswith(f"gloss.toml: {key}: ")


def test_an_embedded_backend_has_no_embeddings_api() -> None:
    data = {
        "backends": [{"name": "cpu", "kind": "embedded"}],
        "tiers": [{"name": "t", "model": "m", "backends": ["cpu"]}],
        "search": {"embeddings": {"backend": "cpu", "model": "m"}},
    }
    with pytest.raises(ConfigError, match=r"search\.embeddings\.backend: .*'embedded'"):
        parse_config(data)


# --- the client, both APIs -----------------------------------------------------


def client_for(llm: LLMServer, kind: str, breaker: Breaker | None = None) -> EmbeddingClient:
    config = load_config_for(llm, kind)
    embeddings = config.search.embeddings
    assert embeddings is not None
    return EmbeddingClient(make_backend(config.backend("test")), breaker, embeddings)


def load_config_for(llm: LLMServer, kind: str) -> Config:
    return parse_config(
        {
            "backends": [
                {
                    "name": "test",
                    "kind": kind,
                    "url": llm.url if kind == "ollama" else llm.openai_url,
                    "timeout_s": 20,
                }
            ],
            "tiers": [{"name": "t", "model": "m", "backends": ["test"]}],
            "search": {"embeddings": {"backend": "test", "model": EMBED_MODEL}},
        }
    )


async def test_a_batch_is_one_request_with_a_vector_per_text_in_order(
    llm: LLMServer, kind: str
) -> None:
    client = client_for(llm, kind)
    try:
        texts = ["Removes outdated files", "Reads the YAML configuration", "Removes files"]
        vectors = await client.embed(texts)
    finally:
        await client.backend.aclose()
    assert len(llm.embed_requests) == 1 and llm.embedded_texts() == texts
    assert [len(v) for v in vectors] == [256, 256, 256]
    cos = [[sum(a * b for a, b in zip(u, v, strict=True)) for v in vectors] for u in vectors]
    assert cos[0][2] > cos[0][1]  # the two about removing files are the nearer pair
    path = llm.embed_requests[0].path
    assert path == ("/api/embed" if kind == "ollama" else "/v1/embeddings")


async def test_an_unknown_model_is_the_error_chat_gives(tmp_path: Path, kind: str) -> None:
    with LLMServer(models={"some-chat-model"}) as server:
        client = client_for(server, kind)
        try:
            with pytest.raises(BackendError) as caught:
                await client.embed(["text"])
        finally:
            await client.backend.aclose()
    assert caught.value.kind is ErrorKind.MODEL_MISSING
    assert EMBED_MODEL in caught.value.detail


@pytest.mark.parametrize(
    ("behavior", "error"),
    [
        (Behavior(mode="status", status=503), ErrorKind.SERVER_ERROR),
        (Behavior(mode="garbage"), ErrorKind.BAD_RESPONSE),
        (Behavior(mode="invalid_schema"), ErrorKind.BAD_RESPONSE),
        (Behavior(mode="truncated"), ErrorKind.BAD_RESPONSE),
    ],
)
async def test_a_failing_host_is_a_named_error_and_the_breaker_hears_of_it(
    llm: LLMServer, kind: str, behavior: Behavior, error: ErrorKind
) -> None:
    llm.set_behavior(behavior, model=EMBED_MODEL)
    breaker = Breaker(threshold=1, cooldown_s=60)
    client = client_for(llm, kind, breaker)
    try:
        with pytest.raises(BackendError) as caught:
            await client.embed(["text"])
    finally:
        await client.backend.aclose()
    assert caught.value.kind is error
    assert "'test'" in str(caught.value) and llm.url in str(caught.value)
    # A 5xx is the host's failure (it rests); an answer, however bad, is not.
    rests = error is ErrorKind.SERVER_ERROR
    assert (breaker.state is BreakerState.OPEN) is rests
    assert client.available() is not rests


async def test_a_secret_in_a_query_does_not_leave_the_process(llm: LLMServer, kind: str) -> None:
    client = client_for(llm, kind)
    token = "ghp_" + "A1b2C3d4E5" * 4
    try:
        await client.embed([f"find where {token} is used"])
    finally:
        await client.backend.aclose()
    (sent,) = llm.embedded_texts()
    assert token not in sent and "[REDACTED:github_token]" in sent


# --- the engine: jobs, storage, search ------------------------------------------


async def test_each_gloss_is_embedded_once_batched_and_counted_in_status(
    described: Path, llm: LLMServer, open_engine: OpenEngine
) -> None:
    engine = await open_engine(described)
    status = await indexed(engine)
    assert status.counts.enriched == 3
    assert status.embeddings is not None
    assert (status.embeddings.glosses, status.embeddings.vectors) == (3, 3)
    assert status.embeddings.model == EMBED_MODEL and status.embeddings.backend == "test"
    assert status.to_json()["embeddings"]["vectors"] == 3
    assert len(llm.embed_requests) == 1  # one batch for the three glosses
    texts = llm.embedded_texts()
    assert [sum(d in t for t in texts) for d in DESCRIPTIONS.values()] == [1, 1, 1]
    assert len(texts) == 3
    await engine.stop()

    again = await open_engine(described)
    status = await indexed(again)
    assert status.embeddings is not None and status.embeddings.vectors == 3
    assert len(llm.embed_requests) == 1  # a re-index embeds nothing again
    assert len(llm.requests) == 3  # nor glosses anything again


async def test_a_behaviour_query_is_found_by_meaning_where_words_miss_it(
    described: Path, llm: LLMServer, open_engine: OpenEngine
) -> None:
    engine = await open_engine(described)
    await indexed(engine)
    store = await engine._reads()
    words_only = await store.search(BEHAVIOUR_QUERY, 10)
    assert "prune_downloads" not in names(words_only)  # no word of it in any gloss

    hits = await engine.search(BEHAVIOUR_QUERY, 10)
    assert names(hits)[0] == "prune_downloads"
    assert hits[0].matched == "gloss" and hits[0].summary == DESCRIPTIONS["prune_downloads"]
    (asked,) = llm.embedded_texts()[3:]  # the query, after the three glosses
    assert asked == BEHAVIOUR_QUERY

    # Names and words still rank as before beside the vectors.
    assert names(await engine.search("load_config", 10))[0] == "load_config"
    assert names(await engine.search("yaml", 10))[0] == "load_config"


async def test_without_the_embeddings_backend_search_answers_by_name_and_words(
    described: Path, llm: LLMServer, open_engine: OpenEngine
) -> None:
    engine = await open_engine(described)
    await indexed(engine)
    llm.set_behavior(Behavior(mode="status", status=503), model=EMBED_MODEL)
    for _ in range(3):  # the breaker's threshold: the host rests
        assert names(await engine.search("load_config", 10))[0] == "load_config"
    asked = len(llm.embed_requests)
    assert names(await engine.search("yaml", 10))[0] == "load_config"
    assert "prune_downloads" not in names(await engine.search(BEHAVIOUR_QUERY, 10))
    assert len(llm.embed_requests) == asked  # a resting host is not asked: () at once


async def test_a_slow_embeddings_backend_does_not_hold_up_a_search(
    tmp_path: Path, llm: LLMServer, open_engine: OpenEngine
) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    write_files(root, CODE)
    (root / "gloss.toml").write_text(
        embeddings_toml(llm.url, "ollama", extra=", query_timeout_ms = 200")
    )
    llm.set_descriptions(DESCRIPTIONS)
    engine = await open_engine(root)
    await indexed(engine)
    llm.set_behavior(Behavior(delay_s=60), model=EMBED_MODEL)
    hits = await asyncio.wait_for(engine.search("render_page", 10), 20)
    assert names(hits)[0] == "render_page"


async def test_a_replaced_gloss_leaves_no_orphan_vector_and_is_embedded_anew(
    described: Path, llm: LLMServer, open_engine: OpenEngine
) -> None:
    engine = await open_engine(described)
    await indexed(engine)
    queued, _ = await engine.gloss_again("tools/cleanup.py", 0)
    assert queued == 1
    status = await indexed(engine)
    assert status.embeddings is not None and status.embeddings.vectors == 3
    assert len(llm.embedded_texts()) == 4  # the new gloss of prune_downloads, once
    with sqlite3.connect(engine.store_file) as conn:
        orphans = conn.execute(
            "SELECT count(*) FROM gloss_vectors v LEFT JOIN glosses g ON g.id = v.gloss_id "
            "WHERE g.id IS NULL"
        ).fetchone()[0]
        rows = conn.execute("SELECT count(*) FROM gloss_vectors").fetchone()[0]
    assert orphans == 0 and rows == 3
    assert names(await engine.search(BEHAVIOUR_QUERY, 10))[0] == "prune_downloads"


async def test_glossing_and_embedding_share_the_host_cap(
    tmp_path: Path, open_engine: OpenEngine
) -> None:
    with LLMServer(capacity=8) as server:
        root = tmp_path / "ws"
        root.mkdir()
        many = "".join(f"def f{i}(x):\n    return x + {i}\n\n\n" for i in range(40))
        write_files(root, {"many.py": many})
        (root / "gloss.toml").write_text(
            embeddings_toml(server.url, "ollama", extra=", batch_size = 4")
        )
        engine = await open_engine(root)
        status = await indexed(engine)
        assert status.embeddings is not None and status.embeddings.vectors == 40
        assert len(server.embed_requests) == 10  # batches of 4
        assert server.max_serving <= 2  # the backend's max_concurrency, over both kinds


def test_the_embedded_text_is_the_gloss_not_its_code() -> None:
    body = (
        '{"summary": "Reads it.", "inputs": ["path: where"], "outputs": ["a dict"], '
        '"side_effects": [], "pitfalls": ["slow"], "usage_snippet": "f(x)", "tags": ["io"]}'
    )
    assert embedding_text(body) == textwrap.dedent(
        """\
        Reads it.
        path: where
        a dict
        io"""
    )


def test_gloss_index_embeds_every_gloss_and_says_so(described: Path, llm: LLMServer) -> None:
    done = subprocess.run(
        [str(GLOSS), "index", str(described)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert f"3/3 glosses embedded by {EMBED_MODEL} on test" in done.stdout
    assert len(llm.embedded_texts()) == 3


def test_gloss_index_does_not_wait_out_a_failing_embeddings_backend(
    described: Path, llm: LLMServer
) -> None:
    llm.set_behavior(Behavior(mode="status", status=400), model=EMBED_MODEL)
    done = subprocess.run(
        [str(GLOSS), "index", str(described)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr  # every span has its gloss
    assert "0/3 glosses embedded" in done.stdout and "HTTP 400" in done.stdout


async def test_gloss_search_over_lsp_fuses_vectors_and_workspace_symbol_does_not_embed(
    described: Path, llm: LLMServer, start_lsp: StartLsp
) -> None:
    session = await start_lsp(described)
    await session.progress.wait_idle()
    protocol = session.client.protocol

    async def embedded() -> None:
        while True:  # each turn is a round trip to the server; bounded by the wait_for
            folder = as_dict(await protocol.send_request_async("gloss/status", {}))["folders"][0]
            if folder["embeddings"] and folder["embeddings"]["vectors"] == 3:
                return

    await asyncio.wait_for(embedded(), SETTLE_LIMIT_S)
    asked, texts = len(llm.embed_requests), len(llm.embedded_texts())
    symbols = await session.symbols(BEHAVIOUR_QUERY)
    assert "prune_downloads" not in [s.name for s in symbols]
    assert len(llm.embed_requests) == asked  # names first, and no request per keystroke
    hits = as_dict(await protocol.send_request_async("gloss/search", {"query": BEHAVIOUR_QUERY}))
    assert [h["name"] for h in hits][:1] == ["prune_downloads"]  # type: ignore[index]
    assert llm.embedded_texts()[texts:] == [BEHAVIOUR_QUERY]


async def test_a_search_does_not_queue_behind_glossing_for_a_slot(
    tmp_path: Path, llm: LLMServer, open_engine: OpenEngine
) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    write_files(root, CODE)
    # A deadline past the bounded wait below: only not queueing for the slot passes.
    toml = embeddings_toml(llm.url, "ollama", extra=", query_timeout_ms = 120000")
    (root / "gloss.toml").write_text(toml.replace("max_concurrency = 2", "max_concurrency = 1"))
    llm.set_descriptions(DESCRIPTIONS)
    engine = await open_engine(root)
    await indexed(engine)
    llm.set_behavior(Behavior(delay_s=90), symbol="render_page")  # a gloss that takes long
    await engine.gloss_again("tools/cleanup.py", 8)
    assert await asyncio.to_thread(llm.wait_for, lambda s: s._in_flight == 1, SETTLE_LIMIT_S)
    asked = len(llm.embed_requests)
    hits = await asyncio.wait_for(engine.search("render_page", 10), SETTLE_LIMIT_S)
    assert names(hits)[0] == "render_page"
    assert len(llm.embed_requests) == asked  # the only slot is glossing: no vectors this time


async def test_only_the_nearest_few_by_meaning_are_fused(
    tmp_path: Path, llm: LLMServer, open_engine: OpenEngine
) -> None:
    # A nearest-neighbour list ranks every gloss, related or not: only its head
    # (NEAR_TOP) is fused, so a query no name or word matches lists a few hits, not
    # every function up to the limit.
    root = tmp_path / "ws"
    root.mkdir()
    functions = [f"task_{i}" for i in range(NEAR_TOP + 4)]
    write_files(
        root,
        {"jobs.py": "".join(f"def {f}():\n    return {i}\n\n\n" for i, f in enumerate(functions))},
    )
    (root / "gloss.toml").write_text(embeddings_toml(llm.url, "ollama"))
    colours = ["red", "green", "blue", "amber", "violet", "olive", "teal", "ochre", "coral"]
    llm.set_descriptions(
        {f: f"Paints the {c} fence." for f, c in zip(functions, colours, strict=True)}
    )
    engine = await open_engine(root)
    status = await indexed(engine)
    assert status.embeddings is not None and status.embeddings.vectors == len(functions)

    hits = await engine.search("crimson barn", 50)
    assert len(llm.embedded_texts()) == len(functions) + 1  # the query was embedded
    assert len(hits) == NEAR_TOP  # fused whole, all nine would be listed
    assert {h.matched for h in hits} == {"gloss"}
    # A word match is still found beyond the meaning list's head.
    assert names(await engine.search("ochre", 50))[0] == "task_7"
