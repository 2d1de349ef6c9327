"""Search ranking: a real engine over real files, glossed by the test LLM server over HTTP.

What a user would call right: exact > prefix > substring > subsequence >
misspelt names, `execute` above `Execute`, a function found by what its gloss
says when no word of the query is in its name, and every FTS/SQL syntax
character read as plain text.
"""

from __future__ import annotations

import asyncio
import os
import random
import sqlite3
import textwrap
from pathlib import Path

import pytest

from bench.support.llm_server import LLMServer
from enrich_core.records.gloss import Gloss
from enrich_core.records.result import GlossResult
from enrich_core.run.engine import Engine
from enrich_core.store import searcher as searcher_module
from enrich_core.store.db import SEARCH_TEXT_VERSION, open_for_writing
from enrich_core.store.names import NameIndex, edit_distance, subsequence_pattern
from enrich_core.store.search import SearchHit, first_sentence
from enrich_core.store.write_ops import RecordResult
from tests.conftest import OpenEngine, gloss_toml

SOURCE = textwrap.dedent(
    """\
    def load_config(path):
        return {}


    def load_configuration_file(path):
        return {}


    def reload_config():
        return None


    def Execute():
        return 1


    def execute():
        return 2


    def execute_all():
        return 3


    class ConfigLoader:
        def read(self):
            return 4


    def to_reorder(items):
        return sorted(items)


    class TempConfig:
        pass


    class PathCache:
        pass
    """
)
DESCRIPTIONS = {
    # No word of its name: found only through the gloss.
    "to_reorder": "Sorts the given items by priority, highest first. Ties keep their order.",
}

SYNTAX = ['"', "*", "(", ")", "NEAR", "NEAR(", "'", "%", "-", "AND", ":", "^", "a'b",
          '"x" OR', "name:load", "load*", "-load", "^load", "load AND config", "%_%", "\\",
          "\u0000x"]  # fmt: skip


@pytest.fixture
async def engine(tmp_path: Path, llm: LLMServer, open_engine: OpenEngine) -> Engine:
    root = tmp_path / "ws"
    (root / "app").mkdir(parents=True)
    (root / "app" / "config.py").write_text(SOURCE)
    (root / "gloss.toml").write_text(gloss_toml(llm.url))
    llm.set_descriptions(DESCRIPTIONS)
    engine = await open_engine(root)
    await engine.scan()
    await engine.wait_idle()
    return engine


def names(hits: list[SearchHit]) -> list[str]:
    return [h.span.name for h in hits]


async def test_exact_then_prefix_then_substring(engine: Engine) -> None:
    hits = await engine.search("load_config")
    assert names(hits)[:3] == ["load_config", "load_configuration_file", "reload_config"]
    assert hits[0].score > hits[1].score >= hits[2].score
    assert hits[0].matched in ("name", "both")


@pytest.mark.parametrize("query", ["ldcfg", "lod_config", "laod_config", "LOAD_CONIFG"])
async def test_abbreviations_and_misspellings_find_the_name(engine: Engine, query: str) -> None:
    hits = await engine.search(query)
    assert hits, query
    assert hits[0].span.name == "load_config", (query, names(hits))


async def test_the_case_typed_ranks_first_among_exact_names(engine: Engine) -> None:
    assert names(await engine.search("execute"))[:3] == ["execute", "Execute", "execute_all"]
    assert names(await engine.search("Execute"))[:3] == ["Execute", "execute", "execute_all"]


async def test_a_behaviour_query_finds_the_function_by_its_gloss(engine: Engine) -> None:
    hits = await engine.search("sort by priority")
    assert hits and hits[0].span.name == "to_reorder", names(hits)
    assert hits[0].matched == "gloss"
    assert hits[0].summary == "Sorts the given items by priority, highest first."
    # A word still being typed matches as a prefix.
    assert names(await engine.search("priori"))[:1] == ["to_reorder"]


async def test_a_span_found_by_name_and_gloss_is_both(engine: Engine) -> None:
    # The test model's summary names the symbol: "reload_config (test model ...) ...".
    hits = {h.span.name: h for h in await engine.search("reload_config")}
    assert hits["reload_config"].matched == "both"
    assert hits["to_reorder"].matched == "gloss" if "to_reorder" in hits else True


async def test_two_letters_match_word_starts_not_chance_substrings(engine: Engine) -> None:
    # `pc` is inside `TempConfig`, across a word boundary: chance, not a match.
    assert names(await engine.search("pc"))[:1] == ["PathCache"]
    assert "TempConfig" not in names(await engine.search("pc"))


async def test_a_qualified_name_finds_the_member(engine: Engine) -> None:
    hits = await engine.search("ConfigLoader.read")
    assert hits and (hits[0].span.qualname, hits[0].span.kind) == ("ConfigLoader.read", "method")


async def test_syntax_characters_are_plain_text(engine: Engine) -> None:
    for query in SYNTAX:
        assert isinstance(await engine.search(query), list), query
    assert names(await engine.search('"load_config"'))[:1] == ["load_config"]
    assert names(await engine.search("load_config("))[:1] == ["load_config"]


async def test_limit_and_bounds(engine: Engine) -> None:
    assert len(await engine.search("e", limit=2)) == 2
    assert await engine.search("") == []
    assert await engine.search("   ") == []
    assert await engine.search("x" * 300) == []  # past MAX_QUERY_CHARS: refused, not run


async def test_an_edit_is_searchable_at_once(engine: Engine) -> None:
    assert "brand_new_name" not in names(await engine.search("brand_new_name"))
    source = engine.root / "app" / "config.py"
    source.write_text(SOURCE + "\n\ndef brand_new_name():\n    return 5\n")
    await engine.files_changed(["app/config.py"])
    await engine.wait_idle()  # its gloss is written after the new spans (one writer, in order)
    assert names(await engine.search("brand_new_name"))[:1] == ["brand_new_name"]


def test_first_sentence() -> None:
    assert first_sentence("Reads it. Then writes.") == "Reads it."
    assert first_sentence("Uses e.g. a cache. More.") == "Uses e.g. a cache."
    assert first_sentence("No full stop") == "No full stop"
    assert first_sentence("  Spread\n over lines.  Next one.") == "Spread over lines."
    assert first_sentence(None) is None


def _reference_distance(a: str, b: str) -> int:
    d = [[i + j if i * j == 0 else 0 for j in range(len(b) + 1)] for i in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            d[i][j] = min(
                d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] != b[j - 1])
            )
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[-1][-1]


def test_banded_edit_distance_agrees_with_the_full_table() -> None:
    rng = random.Random(7)
    for _ in range(3000):
        a = "".join(rng.choice("ab_c") for _ in range(rng.randint(0, 8)))
        b = "".join(rng.choice("ab_c") for _ in range(rng.randint(0, 8)))
        for bound in (1, 2):
            full = _reference_distance(a, b)
            assert edit_distance(a, b, bound) == min(full, bound + 1), (a, b, bound)


def test_subsequence_starts_at_the_first_letter_and_stays_in_one_name() -> None:
    pattern = subsequence_pattern("ldcfg")
    assert pattern.search("load_config")
    assert pattern.search("x\nload_config")
    assert not pattern.search("reload_config")
    assert not pattern.search("load_c\nfg")
    index = name_index(["__load_config", "load_cfg", "reload_config", "ld_config_fog"])
    found = [index.names[i] for i in index.subsequence("ldcfg", 10)]
    # Tightest first: the letters spread over 8, 9 and 11 characters.
    assert found == ["load_cfg", "ld_config_fog", "__load_config"]


async def test_a_large_index_is_rebuilt_beside_the_searches(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """From INLINE_BUILD_SPANS the index is rebuilt on its own thread: searches meanwhile
    answer from the old one (never fail, never wait), and the new name then appears."""
    monkeypatch.setattr(searcher_module, "INLINE_BUILD_SPANS", 1)
    source = engine.root / "app" / "config.py"
    source.write_text(SOURCE + "\n\ndef rebuilt_beside():\n    return 6\n")
    await engine.files_changed(["app/config.py"])
    await engine.wait_idle()
    for _ in range(200):  # polled, bounded: no event says the rebuild is done
        if names(await engine.search("rebuilt_beside"))[:1] == ["rebuilt_beside"]:
            break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError("the rebuilt index never had the new name")
    assert names(await engine.search("ldcfg"))[:1] == ["load_config"]


async def test_a_scan_s_end_rebuilds_the_index_without_waiting_out_the_gap(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While writes go on, a large index is rebuilt at most every REBUILD_GAP_FACTOR build
    times; once a scan has stored everything it asks for a build at once, so its last
    names are found one build later. (With the gap made endless, only that build can
    bring the new name in.)"""
    monkeypatch.setattr(searcher_module, "INLINE_BUILD_SPANS", 1)
    monkeypatch.setattr(searcher_module, "REBUILD_GAP_FACTOR", 1e9)
    assert names(await engine.search("load_config"))[:1] == ["load_config"]  # built
    (engine.root / "app" / "later.py").write_text("def found_after_the_scan():\n    return 7\n")
    report = await engine.scan()
    assert report.parsed == 1
    for _ in range(200):  # polled, bounded: no event says the build is done
        hits = await engine.search("found_after_the_scan", by_meaning=False)
        by_name = [h.span.name for h in hits if h.matched in ("name", "both")]
        if by_name[:1] == ["found_after_the_scan"]:
            break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError("the scan's last name was never found by name")


async def test_glosses_written_leave_the_name_index_as_it_is(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only a commit that changes spans rebuilds the name index: glossing writes a batch
    every 250 ms, and each batch used to start a rebuild (~0.3 s at 100,000 spans)."""
    monkeypatch.setattr(searcher_module, "INLINE_BUILD_SPANS", 1)
    monkeypatch.setattr(searcher_module, "REBUILD_GAP_FACTOR", 0)
    assert names(await engine.search("load_config"))[:1] == ["load_config"]  # built
    builds: list[int] = []
    real_build = NameIndex.build.__func__  # type: ignore[attr-defined]

    def counted(cls: type[NameIndex], conn: sqlite3.Connection) -> NameIndex:
        builds.append(1)
        return real_build(cls, conn)  # type: ignore[no-any-return]

    monkeypatch.setattr(NameIndex, "build", classmethod(counted))
    gloss = Gloss("Sorts nothing at all.", (), (), (), (), "", ())
    written = GlossResult("not-a-span", gloss, model="m", tier="t", backend="b", attempts=1)
    await engine.writer.submit(RecordResult(written, "1"), urgent=True)
    for _ in range(3):
        await engine.search("load_config")
        await asyncio.sleep(0.05)
    assert builds == [], "a commit of glosses alone rebuilt the name index"
    source = engine.root / "app" / "config.py"
    source.write_text(SOURCE + "\n\ndef after_the_glosses():\n    return 8\n")
    await engine.files_changed(["app/config.py"])
    for _ in range(200):  # polled, bounded: no event says the rebuild is done
        hits = await engine.search("after_the_glosses", by_meaning=False)
        if [h.span.name for h in hits if h.matched in ("name", "both")][:1] == [
            "after_the_glosses"
        ]:
            break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError("the changed spans never reached the name index")
    assert builds


async def test_an_older_store_s_gloss_text_is_widened_to_inputs_and_outputs(
    engine: Engine,
) -> None:
    """A store written when the index held only summary and tags: on the next open for
    writing its glosses' text gains inputs and outputs and the index is rebuilt."""
    db = engine.store_file
    await engine.stop()
    conn = sqlite3.connect(db)
    try:
        conn.execute(
            "UPDATE glosses SET search_text = json_extract(body, '$.summary') || char(10) || "
            "coalesce((SELECT group_concat(value, ' ') FROM json_each(body, '$.tags')), '')"
        )
        conn.execute("INSERT INTO glosses_fts (glosses_fts) VALUES ('rebuild')")
        conn.execute("DELETE FROM meta WHERE key = 'search_text_version'")
        conn.commit()
        # The test model names a function's parameters as its inputs: `path`.
        assert conn.execute(
            "SELECT count(*) FROM glosses_fts WHERE glosses_fts MATCH 'path'"
        ).fetchone() == (0,)
    finally:
        conn.close()
    conn = open_for_writing(db)
    try:
        widened = conn.execute("SELECT count(*) FROM glosses_fts WHERE glosses_fts MATCH 'path'")
        assert widened.fetchone()[0] >= 1
        assert conn.execute(
            "SELECT value FROM meta WHERE key = 'search_text_version'"
        ).fetchone() == (SEARCH_TEXT_VERSION,)
    finally:
        conn.close()


def name_index(names: list[str]) -> NameIndex:
    """An index of these names (one span each, one file) built as from a store."""
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE files (path TEXT, mtime_ns INTEGER)")
    conn.execute(
        "CREATE TABLE spans (id INTEGER PRIMARY KEY, name TEXT, name_lower TEXT, kind TEXT, "
        "path TEXT, start_line INTEGER)"
    )
    conn.execute("INSERT INTO files VALUES ('m.py', 1)")
    conn.executemany(
        "INSERT INTO spans (name, name_lower, kind, path, start_line) "
        "VALUES (?, ?, 'function', 'm.py', ?)",
        [(name, name.lower(), line) for line, name in enumerate(names)],
    )
    return NameIndex.build(conn)


def test_misspelt_names_within_the_bound_closest_first() -> None:
    index = name_index(["load_config", "lead_config", "load_configs", "unload_all", "x"])
    found = [(distance, index.names[i]) for distance, i in index.misspelt("laod_config", 2, 10)]
    assert found == [(1, "load_config"), (2, "lead_config"), (2, "load_configs")]


def test_initials_find_the_words_starts_and_short_substrings_only_at_a_word() -> None:
    index = name_index(["ConnectionWriter", "connection_writer", "cowboy", "TempConfig"])
    assert sorted(index.names[i] for i in index.initials("cw", 10)) == [
        "ConnectionWriter",
        "connection_writer",
    ]


async def test_equal_matches_go_to_the_more_recently_edited_file_then_functions_first(
    tmp_path: Path, llm: LLMServer, open_engine: OpenEngine
) -> None:
    root = tmp_path / "ties"
    root.mkdir()
    (root / "gloss.toml").write_text(gloss_toml(llm.url))
    method_first = (
        "class Box:\n    def handle(self):\n        return 1\n\n\ndef handle():\n    return 2\n"
    )
    (root / "old.py").write_text(method_first)
    (root / "new.py").write_text(method_first)
    os.utime(root / "old.py", ns=(1_000_000_000_000_000_000, 1_000_000_000_000_000_000))
    os.utime(root / "new.py", ns=(1_700_000_000_000_000_000, 1_700_000_000_000_000_000))
    engine = await open_engine(root)
    await engine.scan()
    await engine.wait_idle()
    hits = [(h.span.path, h.span.kind) for h in await engine.search("handle")]
    assert hits[:4] == [
        ("new.py", "function"),
        ("new.py", "method"),
        ("old.py", "function"),
        ("old.py", "method"),
    ]


async def test_names_first_leaves_gloss_text_out_when_names_fill_the_limit(engine: Engine) -> None:
    fused = await engine.search("execute", limit=2)
    assert "both" in [h.matched for h in fused]  # the test model's summary names it
    named = await engine.search("execute", limit=2, names_first=True)
    assert [(h.span.name, h.matched) for h in named] == [("execute", "name"), ("Execute", "name")]
    # Too few names: the gloss text fills in.
    assert (await engine.search("sort by priority", names_first=True))[0].matched == "gloss"
