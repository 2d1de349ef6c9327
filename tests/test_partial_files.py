"""A file read only in part says so: which lines a syntax error kept from being parsed.

The definitions after an unclosed `(` are recovered (tests/test_spans.py); what
could not be read is stored per file and shown by `gloss status` (text and
`partial_files` in JSON) until the file is fixed, skipped or deleted.
"""

from __future__ import annotations

import json
from pathlib import Path

from bench.support.llm_server import LLMServer
from tests.conftest import OpenEngine, gloss_toml
from tests.test_cli import explain, gloss
from tests.test_spans import UNCLOSED_PAREN

NOTE = (
    "lines 9–10 could not be parsed (a syntax error in the statement at 9:5); "
    "definitions there may be missing"
)


def workspace(root: Path, llm: LLMServer) -> Path:
    (root / "gloss.toml").write_text(gloss_toml(llm.url))
    (root / "m.py").write_text(UNCLOSED_PAREN)
    (root / "ok.py").write_text("def fine():\n    return 1\n")
    return root


async def test_status_names_the_lines_a_syntax_error_hid_until_the_file_is_fixed(
    tmp_path: Path, llm: LLMServer, open_engine: OpenEngine
) -> None:
    engine = await open_engine(workspace(tmp_path, llm))
    await engine.scan()
    await engine.wait_idle()
    status = await engine.status()
    assert status.partial_files == {"m.py": NOTE}
    assert status.to_json()["partial_files"] == {"m.py": NOTE}
    names = {s.qualname for s in await engine._store().spans_in_file("m.py")}
    assert names == {"first", "after_one", "After", "After.method", "after_two"}
    assert status.counts.pending == 0 and status.counts.failed == 0

    (tmp_path / "m.py").write_text(UNCLOSED_PAREN.replace("foo(x,", "foo(x)"))
    await engine.files_changed(["m.py"])
    await engine.wait_idle()
    assert (await engine.status()).partial_files == {}

    (tmp_path / "m.py").write_text(UNCLOSED_PAREN)
    await engine.files_changed(["m.py"])
    await engine.wait_idle()
    assert (await engine.status()).partial_files == {"m.py": NOTE}
    (tmp_path / "m.py").unlink()
    await engine.files_changed(["m.py"])
    await engine.wait_idle()
    assert (await engine.status()).partial_files == {}


def test_index_and_status_tell_the_user(tmp_path: Path, llm: LLMServer) -> None:
    ws = workspace(tmp_path, llm)
    index = gloss("index", str(ws), cwd=ws)
    assert index.returncode == 0, explain(index)
    assert "1 file with lines that could not be parsed (see `gloss status`)" in index.stdout
    status = gloss("status", str(ws), cwd=ws)
    assert f"partly read m.py: {NOTE}" in status.stdout, explain(status)
    data = json.loads(gloss("status", str(ws), "--json", cwd=ws).stdout)
    assert data["partial_files"] == {"m.py": NOTE}
    assert data["spans"] == data["enriched"] == 6
