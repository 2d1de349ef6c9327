"""The index-rate benchmark at a tiny size: its report's shape and that every span was glossed.

Nothing here asserts on timing or rates; the benchmark itself reports them.
"""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path

import pytest

from bench.index_rate import format_report, gloss_toml, main, measure_index_rate, process_cpu_s
from enrich_core.config import parse_config

SPANS = 12


def test_gloss_toml_names_one_backend_of_each_api_at_the_server() -> None:
    for api, path in (("ollama", ""), ("openai", "/v1")):
        data = tomllib.loads(gloss_toml(api, "http://127.0.0.1:9", 3))  # type: ignore[arg-type]
        config = parse_config(data, source="test")
        (backend,) = config.backends
        assert backend.kind == api and backend.url == f"http://127.0.0.1:9{path}"
        assert backend.max_concurrency == 3 and backend.max_retries == 0
        assert [t.backends for t in config.tiers] == [("instant",)]


def test_process_cpu_reads_a_running_process() -> None:
    assert process_cpu_s(os.getpid()) > 0


def test_a_tiny_run_glosses_every_span_with_both_apis(tmp_path: Path) -> None:
    report = measure_index_rate(
        SPANS, per_file=5, concurrency=2, apis=("ollama", "openai"), workdir=tmp_path
    )
    assert set(report["apis"]) == {"ollama", "openai"}
    assert report["config"]["files"] == 3
    for api, result in report["apis"].items():
        assert result["api"] == api
        assert result["all_glossed"], result["gloss_runs"]
        assert result["bare_all_ok"], result["bare_runs"]
        (run,) = result["gloss_runs"]
        assert run["exit_code"] == 0 and run["answers"] == SPANS
        assert run["cpu_s"] > 0 and run["wall_s"] > 0
        (bare,) = result["bare_runs"]
        assert bare["requests"] == SPANS and bare["ok"] == SPANS
        assert result["max_in_flight"] <= 2  # the cap held
        (raw,) = result["raw_runs"]
        assert raw["client"] == "raw" and raw["requests"] == SPANS and raw["ok"] == SPANS
        for key in (
            "spans_per_s",
            "cpu_ms_per_span",
            "glossing_per_s",
            "glossing_cpu_ms_per_span",
            "before_s",
            "after_s",
            "bare_per_s",
            "raw_per_s",
            "ratio",
            "ratio_raw",
        ):
            assert isinstance(result[key], float), key
        assert run["before_s"] >= 0 and run["after_s"] >= 0
    assert isinstance(report["passed"], bool)
    assert list(tmp_path.iterdir()) == []  # the workspace is gone
    text = format_report(report)
    assert "ollama" in text and "openai" in text
    assert ("PASS" in text) != ("FAIL" in text)


def test_main_writes_json_and_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "rate.json"
    code = main(
        [
            "--spans",
            "4",
            "--per-file",
            "2",
            "--concurrency",
            "1",
            "--api",
            "ollama",
            "--json",
            str(out),
        ]
    )
    assert code == 0
    data = json.loads(out.read_text())
    assert set(data["apis"]) == {"ollama"} and data["config"]["spans"] == 4
    assert data["apis"]["ollama"]["all_glossed"]
    assert "budget spans/s >= 1000" in capsys.readouterr().out
