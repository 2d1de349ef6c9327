"""The `gloss` console script, run as a subprocess against the test LLM server.

Real parts only: the installed console script, a temp workspace on disk, the
SQLite store it writes, HTTP to the test server on 127.0.0.1. Every run has a
generous `timeout=` so a hang fails the test instead of the CI job.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench.support.llm_server import LLMServer
from tests.conftest import LARGE, SAMPLE, SMALL, gloss_toml, write_files
from tests.jsonrpc import response_to, send

GLOSS = Path(sys.executable).parent / "gloss"
RUN_TIMEOUT_S = 60.0
CLOSED_URL = "http://127.0.0.1:9"  # the discard port: nothing listens there
OLLAMA_DEFAULT_URL = "http://127.0.0.1:11434"
SHAPES = "pkg/shapes.py"
LOAD_CONFIG_LINE = 14  # 1-based, as `gloss hover` and compilers count
SAMPLE_SPANS = 5
SAMPLE_FILES = 2  # pkg/__init__.py and pkg/shapes.py


def glossed(count: int) -> str:
    """`gloss status`'s summary line's start for the sample with `count` spans glossed."""
    return f"{SAMPLE_SPANS} spans in {SAMPLE_FILES} files: {count} glossed, "


def gloss(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(GLOSS), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        check=False,
    )


def explain(result: subprocess.CompletedProcess[str]) -> str:
    return f"exit {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"


def make_workspace(root: Path, toml: str | None, files: dict[str, str] | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    write_files(root, SAMPLE if files is None else files)
    if toml is not None:
        (root / "gloss.toml").write_text(toml)
    return root


def indexed(ws: Path) -> None:
    result = gloss("index", str(ws), cwd=ws)
    assert result.returncode == 0, explain(result)


def port_is_open(url: str) -> bool:
    host, port = url.removeprefix("http://").split(":")
    with contextlib.suppress(OSError), socket.create_connection((host, int(port)), timeout=1):
        return True
    return False


@pytest.fixture
def ws(tmp_path: Path, llm: LLMServer) -> Path:
    return make_workspace(tmp_path / "ws", gloss_toml(llm.url))


# --- gloss index --------------------------------------------------------------


def test_index_glosses_everything_exits_0_and_a_rerun_makes_no_llm_call(
    ws: Path, llm: LLMServer
) -> None:
    first = gloss("index", str(ws), cwd=ws)
    assert first.returncode == 0, explain(first)
    assert f"{SAMPLE_SPANS}/{SAMPLE_SPANS} spans glossed" in first.stdout
    assert "0 pending" in first.stdout and "0 failed" in first.stdout
    assert len(llm.requests) == SAMPLE_SPANS
    assert (ws / ".gloss" / "index.db").is_file()

    again = gloss("index", str(ws), cwd=ws)
    assert again.returncode == 0, explain(again)
    assert f"{SAMPLE_SPANS}/{SAMPLE_SPANS} spans glossed" in again.stdout
    assert len(llm.requests) == SAMPLE_SPANS  # zero new LLM requests


def test_index_defaults_to_the_current_directory(ws: Path, llm: LLMServer) -> None:
    result = gloss("index", cwd=ws)
    assert result.returncode == 0, explain(result)
    assert len(llm.requests) == SAMPLE_SPANS


def test_index_with_the_backend_unreachable_exits_3_and_says_what_to_do(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws", gloss_toml(CLOSED_URL))
    result = gloss("index", str(ws), cwd=ws)
    assert result.returncode == 3, explain(result)
    out = result.stdout
    assert f"0/{SAMPLE_SPANS} spans glossed" in out
    assert "'test'" in out  # the backend's name
    assert CLOSED_URL in out
    assert "unreachable" in out or "did not answer" in out
    assert "ollama serve" in out
    assert f"ollama pull {SMALL}" in out and f"ollama pull {LARGE}" in out


def test_index_with_an_openai_backend_unreachable_gives_a_non_ollama_hint(
    tmp_path: Path,
) -> None:
    ws = make_workspace(tmp_path / "ws", gloss_toml(CLOSED_URL, kind="openai"))
    result = gloss("index", str(ws), cwd=ws)
    assert result.returncode == 3, explain(result)
    assert f"{CLOSED_URL}/v1" in result.stdout
    assert "OpenAI-compatible" in result.stdout
    assert "ollama pull" not in result.stdout


def test_index_with_the_default_config_and_no_ollama_exits_3_naming_its_url(
    tmp_path: Path,
) -> None:
    if port_is_open(OLLAMA_DEFAULT_URL):
        pytest.skip("something listens on the default Ollama port on this machine")
    ws = make_workspace(tmp_path / "ws", None, {"m.py": "def f(x):\n    return x\n"})
    result = gloss("index", str(ws), cwd=ws)
    assert result.returncode == 3, explain(result)
    assert OLLAMA_DEFAULT_URL in result.stdout
    assert "ollama pull qwen2.5-coder:7b-instruct" in result.stdout
    assert "ollama serve" in result.stdout


def test_index_with_models_missing_exits_3_then_a_rerun_after_the_pull_exits_0(
    ws: Path, llm: LLMServer
) -> None:
    llm.models = set()  # the server runs, but no model is pulled
    first = gloss("index", str(ws), cwd=ws)
    assert first.returncode == 3, explain(first)
    assert f"0/{SAMPLE_SPANS} spans glossed" in first.stdout
    assert "model missing" in first.stdout
    assert SMALL in first.stdout and LARGE in first.stdout
    assert "ollama pull" in first.stdout

    llm.models = {SMALL, LARGE}  # pulled
    again = gloss("index", str(ws), cwd=ws)
    assert again.returncode == 0, explain(again)
    status = status_json(ws)
    # A span that failed once and was then glossed counts as enriched, not failed.
    assert status["enriched"] == status["spans"] == SAMPLE_SPANS
    assert status["failed"] == 0 and status["failure_reasons"] == []


@pytest.mark.parametrize(
    ("toml", "key"),
    [
        ("[index]\nmax_file_byte = 3\n", "index.max_file_byte"),
        ("[index]\nmax_file_bytes = 'big'\n", "index.max_file_bytes"),
        ("[index]\nmax_file_bytes = 0\n", "index.max_file_bytes"),
        ("[index]\nexclude = 'build'\n", "index.exclude"),
        ("colour = 'blue'\n", "colour"),
        (
            gloss_toml(CLOSED_URL).replace("max_concurrency = 2", "max_concurrency = 'two'"),
            "backends[0].max_concurrency",
        ),
        (
            gloss_toml(CLOSED_URL).replace('name = "large"', 'name = "large"\nmodle = "x"'),
            "tiers[1].modle",
        ),
    ],
    ids=["unknown-key", "wrong-type", "too-small", "not-a-list", "top-level", "backend", "tier"],
)
@pytest.mark.parametrize("command", ["index", "status", "doctor"])
def test_bad_configuration_exits_2_naming_the_key(
    tmp_path: Path, toml: str, key: str, command: str
) -> None:
    ws = make_workspace(tmp_path / "ws", toml)
    result = gloss(command, str(ws), cwd=ws)
    assert result.returncode == 2, explain(result)
    assert key in result.stderr
    assert "gloss.toml" in result.stderr  # and where it came from
    assert "Traceback" not in result.stderr
    assert not (ws / ".gloss").exists()  # nothing was opened or written


def test_bad_usage_exits_2(ws: Path) -> None:
    missing = gloss("index", str(ws / "nowhere"), cwd=ws)
    assert missing.returncode == 2, explain(missing)
    assert "not a directory" in missing.stderr
    unknown = gloss("frobnicate", cwd=ws)
    assert unknown.returncode == 2, explain(unknown)


# --- gloss status -------------------------------------------------------------

STATUS_KEYS = {
    "spans",
    "enriched",
    "pending",
    "failed",
    "stale",
    "llm_calls",
    "tokens_in",
    "tokens_out",
    "by_tier",
    "backends",
    "gpu",
    "skipped_files",
}


def status_json(ws: Path) -> dict[str, Any]:
    result = gloss("status", str(ws), "--json", cwd=ws)
    assert result.returncode == 0, explain(result)
    data = json.loads(result.stdout)
    assert isinstance(data, dict)
    return data


def test_status_json_has_the_contracted_keys_and_consistent_counts(
    tmp_path: Path, llm: LLMServer
) -> None:
    ws = make_workspace(
        tmp_path / "ws", gloss_toml(llm.url, extra="\n[index]\nmax_file_bytes = 2000\n")
    )
    (ws / "big.py").write_text("def huge():\n" + "    x = 1\n" * 400)  # > 2000 bytes

    before = status_json(ws)
    assert STATUS_KEYS <= set(before)
    assert before["spans"] == before["pending"] == SAMPLE_SPANS
    assert before["enriched"] == before["failed"] == before["stale"] == 0
    assert before["llm_calls"] == 0 and before["by_tier"] == {}
    assert len(llm.requests) == 0  # status reads; it never glosses

    indexed(ws)
    status = status_json(ws)
    assert STATUS_KEYS <= set(status)
    assert status["spans"] == status["enriched"] == SAMPLE_SPANS
    assert status["pending"] == status["failed"] == status["stale"] == 0
    assert status["llm_calls"] == len(llm.requests) == SAMPLE_SPANS
    assert status["tokens_in"] > 0 and status["tokens_out"] > 0
    assert status["by_tier"] == {"small": SAMPLE_SPANS}
    assert sum(status["by_tier"].values()) == status["enriched"]

    assert set(status["backends"]) == {"test"}
    backend = status["backends"]["test"]
    assert {"healthy", "in_flight", "errors"} <= set(backend)
    assert backend["in_flight"] == 0 and backend["errors"] == 0

    assert status["gpu"]["available"] is False
    assert isinstance(status["gpu"]["reason"], str) and status["gpu"]["reason"]

    assert list(status["skipped_files"]) == ["big.py"]
    assert "max_file_bytes" in status["skipped_files"]["big.py"]
    assert "huge" not in llm.symbols()


def test_status_text_names_skipped_files_and_the_gpu(ws: Path) -> None:
    (ws / "gloss.toml").write_text(
        (ws / "gloss.toml").read_text() + "\n[index]\nmax_file_bytes = 2000\n"
    )
    (ws / "big.py").write_text("x = 1\n" * 1000)
    indexed(ws)
    result = gloss("status", str(ws), cwd=ws)
    assert result.returncode == 0, explain(result)
    assert glossed(SAMPLE_SPANS) in result.stdout
    assert "skipped big.py" in result.stdout
    assert "gpu: " in result.stdout


def test_status_after_a_backend_is_renamed_lists_only_configured_ones(
    tmp_path: Path, llm: LLMServer
) -> None:
    ws = make_workspace(tmp_path / "ws", gloss_toml(llm.url))
    indexed(ws)
    toml = (ws / "gloss.toml").read_text()
    (ws / "gloss.toml").write_text(
        toml.replace('name = "test"', 'name = "renamed"').replace('["test"]', '["renamed"]')
    )
    status = status_json(ws)
    assert set(status["backends"]) == {"renamed"}
    assert {"healthy", "in_flight", "errors"} <= set(status["backends"]["renamed"])
    assert status["former_backends"]["test"]["requests_ok"] == SAMPLE_SPANS
    text = gloss("status", str(ws), cwd=ws)  # used to fail: the old name had no URL
    assert text.returncode == 0, explain(text)


def test_status_counts_failures_with_their_reason(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws", gloss_toml(CLOSED_URL))
    assert gloss("index", str(ws), cwd=ws).returncode == 3
    status = status_json(ws)
    assert status["spans"] == status["failed"] == SAMPLE_SPANS
    assert status["enriched"] == status["pending"] == 0
    reasons = " ".join(item["reason"] for item in status["failure_reasons"])
    assert CLOSED_URL in reasons


# --- gloss search -------------------------------------------------------------


def search(ws: Path, query: str) -> list[dict[str, Any]]:
    result = gloss("search", query, "--path", str(ws), "--json", cwd=ws)
    assert result.returncode == 0, explain(result)
    hits = json.loads(result.stdout)
    assert isinstance(hits, list)
    return hits


@pytest.mark.parametrize("query", ["LOAD_c", "load", "CONFIG", "d_Con", "ldcfg", "lod_config"])
def test_search_finds_a_function_by_name_in_any_case_loosely_typed(ws: Path, query: str) -> None:
    indexed(ws)
    hits = search(ws, query)
    assert hits, f"no hit for {query!r}"
    top = hits[0]
    assert (top["name"], top["qualname"], top["kind"]) == ("load_config", "load_config", "function")
    assert top["matched"] in ("name", "both")
    assert top["location"] == {
        "uri": (ws / SHAPES).as_uri(),
        "range": {
            "start": {"line": LOAD_CONFIG_LINE - 1, "character": 4},
            "end": {"line": LOAD_CONFIG_LINE - 1, "character": 15},
        },
    }
    assert "load_config" in (top["summary"] or "")
    assert isinstance(top["score"], float)
    assert set(top) == {"name", "qualname", "kind", "location", "summary", "score", "matched"}
    scores = [hit["score"] for hit in hits]
    assert scores == sorted(scores, reverse=True)


def test_search_text_output_and_a_miss(ws: Path) -> None:
    indexed(ws)
    result = gloss("search", "circ", "--path", str(ws), cwd=ws)
    assert result.returncode == 0, explain(result)
    assert result.stdout.splitlines()[0].startswith(f"{SHAPES}:4: class Circle")
    miss = gloss("search", "zzzz_nothing_like_this", "--path", str(ws), "--json", cwd=ws)
    assert miss.returncode == 1, explain(miss)  # nothing here
    assert json.loads(miss.stdout) == []


def test_search_refuses_a_query_past_its_bounds_saying_why(ws: Path) -> None:
    result = gloss("search", "word " * 5000, "--path", str(ws), cwd=ws)
    assert result.returncode == 2, explain(result)
    assert "the query is 24999 characters long; Gloss searches for at most 256" in result.stderr
    assert result.stdout == ""


def test_search_json_line_of_a_decorated_function_is_its_def_line(
    tmp_path: Path, llm: LLMServer
) -> None:
    source = "import functools\n\n\n@functools.lru_cache\ndef cached_thing(x):\n    return x\n"
    ws = make_workspace(tmp_path / "ws", gloss_toml(llm.url), {"m.py": source})
    indexed(ws)
    text = gloss("search", "cached", "--path", str(ws), cwd=ws)
    assert text.stdout.startswith("m.py:5: function cached_thing")
    (hit,) = search(ws, "cached")
    assert hit["location"]["range"]["start"] == {"line": 4, "character": 4}


# --- gloss hover --------------------------------------------------------------


def test_hover_prints_the_gloss_markdown_with_its_footer(ws: Path) -> None:
    indexed(ws)
    result = gloss("hover", f"{ws / SHAPES}:{LOAD_CONFIG_LINE}", cwd=ws)
    assert result.returncode == 0, explain(result)
    text = result.stdout
    assert text.startswith("load\\_config (test model small-model)")  # summary first, escaped
    assert "**Inputs**\n- path" in text
    assert text.rstrip().endswith("*gloss by small-model · tier small · fresh*")


def test_hover_json_gives_the_state_and_the_gloss_fields(ws: Path) -> None:
    indexed(ws)
    result = gloss("hover", f"{ws / SHAPES}:{LOAD_CONFIG_LINE}", "--json", cwd=ws)
    assert result.returncode == 0, explain(result)
    info = json.loads(result.stdout)
    assert info["state"] == "fresh" and info["stale"] is False and info["failure"] is None
    assert info["symbol"] == "load_config" and info["path"] == SHAPES
    assert info["line"] == LOAD_CONFIG_LINE
    assert info["signature"] == "def load_config(path: str) -> dict"
    assert info["docstring_first_line"] == "Read the YAML settings file."
    g = info["gloss"]
    assert g["summary"].startswith("load_config (test model small-model)")
    assert g["inputs"] == ["path"] and g["outputs"] == ["returns dict"]
    assert g["usage_snippet"] == "load_config(path)"
    assert (g["model"], g["tier"], g["backend"]) == ("small-model", "small", "test")
    assert g["tokens_in"] > 0 and g["tokens_out"] > 0 and g["attempts"] == 1
    assert "gloss by small-model · tier small · fresh" in info["markdown"]


def test_hover_with_a_relative_path_and_line_col(ws: Path) -> None:
    indexed(ws)
    result = gloss("hover", f"{SHAPES}:{LOAD_CONFIG_LINE}:5", "--json", cwd=ws)
    assert result.returncode == 0, explain(result)
    assert json.loads(result.stdout)["symbol"] == "load_config"
    method = gloss("hover", f"{SHAPES}:10:9", cwd=ws)  # `def area` in class Circle
    assert method.returncode == 0, explain(method)
    assert method.stdout.startswith("Circle.area (test model small-model)")


def test_hover_off_a_definition_header_says_so(ws: Path) -> None:
    indexed(ws)
    cases = {
        2: "no definition at or around line 2",  # a blank line
        LOAD_CONFIG_LINE + 2: "is inside function `load_config`",  # inside a body
        9999: "no definition at or around line 9999",  # past the end
    }
    for line, message in cases.items():
        result = gloss("hover", f"{ws / SHAPES}:{line}", cwd=ws)
        assert result.returncode == 1, explain(result)  # nothing here
        assert result.stdout == ""
        assert message in result.stderr
        assert "Traceback" not in result.stderr
        as_json = gloss("hover", f"{ws / SHAPES}:{line}", "--json", cwd=ws)
        assert as_json.returncode == 1, explain(as_json)
        assert json.loads(as_json.stdout) is None


def test_hover_before_any_gloss_shows_facts_and_pending_without_calling_a_model(
    ws: Path, llm: LLMServer
) -> None:
    result = gloss("hover", f"{ws / SHAPES}:{LOAD_CONFIG_LINE}", cwd=ws)
    assert result.returncode == 0, explain(result)
    assert "def load_config(path: str) -> dict" in result.stdout
    assert "Read the YAML settings file." in result.stdout
    assert "gloss pending" in result.stdout
    assert "gloss by" not in result.stdout
    as_json = json.loads(gloss("hover", f"{SHAPES}:{LOAD_CONFIG_LINE}", "--json", cwd=ws).stdout)
    assert as_json["state"] == "pending" and as_json["gloss"] is None
    assert llm.requests == []


@pytest.mark.parametrize(
    ("location", "message"),
    [
        ("foo.py:abc", "FILE:LINE"),
        (f"{SHAPES}:abc", "FILE:LINE"),
        (SHAPES, "FILE:LINE"),
        (f"{SHAPES}:0", "1-based"),
        (f"{SHAPES}:3:0", "1-based"),
        ("pkg/missing.py:3", "no such file"),
    ],
)
def test_hover_with_a_bad_location_exits_2(ws: Path, location: str, message: str) -> None:
    result = gloss("hover", location, cwd=ws)
    assert result.returncode == 2, explain(result)
    assert message in result.stderr
    assert "Traceback" not in result.stderr


# --- gloss doctor: tests/test_doctor.py -------------------------------------


# --- gloss serve / python -m server -------------------------------------------


@pytest.mark.parametrize(
    "command",
    [[str(GLOSS), "serve", "--stdio"], [sys.executable, "-m", "server", "--stdio"]],
    ids=["gloss-serve", "python-m-server"],
)
async def test_serve_answers_initialize_and_exits_on_shutdown_exit(
    ws: Path, command: list[str]
) -> None:
    proc = await asyncio.create_subprocess_exec(
        *command,
        cwd=ws,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        async with asyncio.timeout(RUN_TIMEOUT_S):
            await send(
                proc,
                {
                    "id": 1,
                    "method": "initialize",
                    "params": {
                        "processId": None,
                        "rootUri": ws.as_uri(),
                        "capabilities": {},
                        "workspaceFolders": [{"uri": ws.as_uri(), "name": ws.name}],
                    },
                },
            )
            init = await response_to(proc, 1)
            assert "error" not in init, init
            capabilities = init["result"]["capabilities"]
            assert capabilities.get("hoverProvider")
            assert capabilities.get("workspaceSymbolProvider")

            await send(proc, {"method": "initialized", "params": {}})
            await send(proc, {"id": 2, "method": "shutdown", "params": None})
            shutdown = await response_to(proc, 2)
            assert "error" not in shutdown and shutdown.get("result") is None
            await send(proc, {"method": "exit", "params": None})
            assert proc.stdin is not None
            proc.stdin.close()
            code = await proc.wait()
        assert code == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
