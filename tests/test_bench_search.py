"""The search benchmark at its quick size, and the workspace and queries it generates.

The quick run starts the real server over stdio on a generated, glossed store
and checks the report's shape and that every number is there and sane. Nothing
here asserts on time: the benchmark itself judges the budgets.
"""

from __future__ import annotations

import asyncio
import json
import math
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from bench.search import QUICK, Floor, Latency, main
from bench.support.search_workspace import (
    QUERY_KINDS,
    file_text,
    glossed_workspace,
    make_queries,
    name_words,
    plan_workspace,
    store_counts,
)
from enrich_core.source.spans import extract_spans


def test_the_plan_holds_exactly_the_spans_asked_for_and_the_parser_finds_them() -> None:
    files = plan_workspace(137, seed=5)
    assert sum(len(f.spans) for f in files) == 137
    found = [s for f in files for s in extract_spans(f.path, file_text(f))]
    assert len(found) == 137
    assert len({s.content_hash for s in found}) == 137  # every span's text is its own
    names = {s.name for s in found}
    assert "__init__" in names  # the names codebases repeat are there
    assert any(n[:1].isupper() for n in names) and any("_" in n for n in names)


def test_two_builds_give_the_same_spans_and_glosses(tmp_path: Path) -> None:
    first = asyncio.run(glossed_workspace(60, tmp_path / "a"))
    second = asyncio.run(glossed_workspace(60, tmp_path / "b"))
    read = (
        "SELECT s.path, s.qualname, s.content_hash, g.body FROM spans s "
        "JOIN glosses g USING (content_hash) ORDER BY s.path, s.start_line"
    )
    with closing(sqlite3.connect(first.store)) as a, closing(sqlite3.connect(second.store)) as b:
        rows = a.execute(read).fetchall()
        assert len(rows) == 60
        assert rows == b.execute(read).fetchall()


def test_queries_are_fixed_by_their_seed_and_share_the_kinds_equally() -> None:
    names = ["load_user_config", "CachedSessionStore", "get", "__init__", "parse_yaml"]
    first, again = make_queries(names, 60, seed=3), make_queries(names, 60, seed=3)
    assert first == again
    assert first != make_queries(names, 60, seed=4)
    assert {q.kind for q in first} == set(QUERY_KINDS)
    assert all(sum(q.kind == k for q in first) == 10 for k in QUERY_KINDS)
    assert all(q.text for q in first)
    assert all((q.source is None) == (q.kind == "behaviour") for q in first)


def test_name_words_split_snake_and_camel_case() -> None:
    assert name_words("load_user_config") == ["load", "user", "config"]
    assert name_words("CachedHTTPSessionStore") == ["cached", "http", "session", "store"]
    assert name_words("__init__") == ["init"]


def test_latency_percentiles_are_nearest_rank_in_milliseconds() -> None:
    lat = Latency.of([i / 1000 for i in range(1, 101)])  # 1..100 ms
    assert (lat.n, lat.p50, lat.p95, lat.p99, lat.max) == (100, 50, 95, 99, 100)
    assert math.isnan(Latency.of([]).p50)


def test_the_floor_reads_syntax_characters_as_plain_text(tmp_path: Path) -> None:
    workspace = asyncio.run(glossed_workspace(40, tmp_path))
    assert store_counts(workspace.store) == (40, workspace.files, 40)
    floor = Floor(workspace.store)
    try:
        for text in ['"', "load*", "(config", "a NEAR b", "it's", "100%", "-x", "x AND"]:
            assert min(floor.search(text)) >= 0
    finally:
        floor.close()


@pytest.mark.timeout(600)
def test_the_quick_run_reports_every_figure(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "search.json"
    assert main(["--quick", "--cache", str(tmp_path / "cache"), "--json", str(out)]) == 0
    text = capsys.readouterr().out
    report = json.loads(out.read_text())

    assert report["judged"] is False and report["passed"] is None
    assert "not judged" in text
    (size,) = report["sizes"]
    assert size["spans"] == QUICK.sizes[0] == size["glossed"]
    assert size["queued_at_ready"] == 0  # every span glossed: the server asked no model
    assert size["ready_s"] > 0

    def sane(lat: dict[str, float], n: int) -> None:
        assert lat["n"] == n
        assert 0 < lat["p50"] <= lat["p95"] <= lat["p99"] <= lat["max"]

    sane(size["round_trip"], QUICK.hovers * QUICK.rounds)
    sane(size["hover"]["latency"], QUICK.hovers * QUICK.rounds)
    assert size["hovers_empty"] == 0  # every hover on a glossed span's name shows it
    sane(size["hover"]["floor"], QUICK.hovers * QUICK.rounds)
    sane(size["symbol"]["latency"], QUICK.queries * QUICK.rounds)
    sane(size["symbol"]["floor"], QUICK.queries * QUICK.rounds)
    assert set(size["symbol"]["by_kind"]) == set(QUERY_KINDS)
    exact = size["symbol"]["by_kind"]["exact"]
    assert exact["source_found"] == exact["queries"]  # an exact name finds itself
    if size["search"] is None:
        assert size["search_unavailable"]
    else:
        sane(size["search"]["latency"], QUICK.queries * QUICK.rounds)
        assert size["search_ok"] in (True, False)
    assert size["symbol"]["p50_ratio"] > 0

    assert 10 < size["rss_ready_mb"] <= size["rss_peak_mb"]
    assert size["rss_after_mb"] <= size["rss_peak_mb"]
    assert size["server_cpu_ms_per_request"] >= 0
    assert set(size["server_cpu_ms"]) == {"round_trip", "hover", "symbol", "search"}
    assert all(ms >= 0 for ms in size["server_cpu_ms"].values())
    assert size["requests"] > 0
    for verdict in ("hover_ok", "symbol_ok", "rss_ok"):
        assert size[verdict] in (True, False)
        assert ("PASS" in text) or ("FAIL" in text)

    rate = report["index_rate"]
    assert rate is not None
    (api,) = rate["apis"].values()
    assert api["spans_per_s"] > 0 and api["cpu_ms_per_span"] > 0
    assert "spans/s" in text
