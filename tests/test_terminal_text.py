"""Text from outside reaches the terminal with its control and bidi characters escaped.

The hostile strings are the issue's: a screen clear, a window-title set, a
right-to-left override and a line break, in model text, in a backend's error
body and in a file name. The CLI runs as a subprocess against the test LLM
server (real HTTP); the server's answers are scripted by replacing the
functions that build them, in this process, where the server runs.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from bench.support import llm_server
from bench.support.llm_server import Behavior, LLMServer
from enrich_core.present.terminal import terminal_safe
from tests.conftest import gloss_toml, write_files
from tests.test_cli import explain, gloss

CLEAR = "\x1b[2J\x1b[H"
TITLE = "\x1b]0;pwned\x07"
RLO = "\u202e"
HOSTILE = f"Clears{CLEAR} sets{TITLE} flips {RLO}txt.exe\u202c\r\nfake: ok"
# What a terminal must never get raw from Gloss's text output.
RAW_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
)
EVIL_FILE = f"pkg/evil{TITLE}{RLO}.py"


def test_control_and_bidi_characters_become_visible_escapes() -> None:
    assert terminal_safe(HOSTILE) == (
        "Clears\\x1b[2J\\x1b[H sets\\x1b]0;pwned\\x07 flips \\u202etxt.exe\\u202c\\x0d\\x0afake: ok"
    )
    for char, shown in [
        ("\x9b", "\\x9b"),  # a one-character CSI
        ("\x7f", "\\x7f"),
        ("\x00", "\\x00"),
        ("\u2066", "\\u2066"),
        ("\u2069", "\\u2069"),
        ("\u200f", "\\u200f"),
        ("\u061c", "\\u061c"),
        ("\u2028", "\\u2028"),
        ("\udcff", "\\udcff"),  # a file name byte that is not UTF-8
    ]:
        assert terminal_safe(f"a{char}b") == f"a{shown}b"


def test_ordinary_text_is_untouched_and_layout_survives_when_asked() -> None:
    plain = "naïve 中文 emoji 🙂 tab\there `code` \\ back"
    assert terminal_safe(plain) == plain
    assert terminal_safe("one\ntwo\r\n", multiline=True) == "one\ntwo\\x0d\n"


def hostile_gloss(model: str, symbol: str | None, signature: str | None) -> dict[str, Any]:
    name = (symbol or "code").rsplit(".", 1)[-1]
    return {
        "summary": f"{name} {HOSTILE}",
        "inputs": [f"x {CLEAR}"],
        "outputs": [f"the result of {name}{RLO}"],
        "side_effects": [],
        "pitfalls": [f"{TITLE} see https://evil.example/{name}"],
        "usage_snippet": f"{name}(){CLEAR}",
        "tags": ["test"],
    }


@pytest.fixture
def hostile_ws(tmp_path: Path, llm: LLMServer, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(llm_server, "ok_gloss", hostile_gloss)
    ws = tmp_path / "ws"
    ws.mkdir()
    write_files(
        ws,
        {
            "pkg/__init__.py": "",
            "pkg/plain.py": "def plain(x):\n    return x\n",
            EVIL_FILE: "def clear_screen(x):\n    return x\n",
        },
    )
    (ws / "gloss.toml").write_text(gloss_toml(llm.url))
    return ws


def assert_terminal_safe(result: Any) -> None:
    for name, text in (("stdout", result.stdout), ("stderr", result.stderr)):
        found = RAW_UNSAFE.search(text)
        assert found is None, f"raw {found.group()!r} in {name}\n{explain(result)}"


def test_index_status_search_and_hover_print_hostile_text_escaped(hostile_ws: Path) -> None:
    ws = hostile_ws
    index = gloss("index", str(ws), cwd=ws)
    assert index.returncode == 0, explain(index)
    assert_terminal_safe(index)

    status = gloss("status", str(ws), cwd=ws)
    assert status.returncode == 0, explain(status)
    assert_terminal_safe(status)

    search = gloss("search", "clear_screen", "--path", str(ws), cwd=ws)
    assert_terminal_safe(search)
    assert "pkg/evil\\x1b]0;pwned\\x07\\u202e.py:1: function clear_screen" in search.stdout
    assert "clear_screen Clears\\x1b[2J\\x1b[H sets" in search.stdout

    hover = gloss("hover", f"{ws / EVIL_FILE}:1", cwd=ws)
    assert hover.returncode == 0, explain(hover)
    assert_terminal_safe(hover)
    # The Markdown keeps its layout; the model's own line break is gone.
    assert "\n\n**Inputs**\n- x \\\\x1b\\[2J\\\\x1b\\[H" in hover.stdout
    assert "```python\nclear_screen()\\x1b[2J\\x1b[H\n```" in hover.stdout
    # A bare URL in model text is not a link (`[hover] links` is off by default).
    assert "https\\://evil" in hover.stdout


def test_json_output_escapes_controls_and_gives_programs_the_exact_text(hostile_ws: Path) -> None:
    ws = hostile_ws
    index = gloss("index", str(ws), cwd=ws)
    assert index.returncode == 0, explain(index)
    for args in (
        ("status", str(ws), "--json"),
        ("search", "clear_screen", "--path", str(ws), "--json"),
        ("hover", f"{ws / EVIL_FILE}:1", "--json"),
    ):
        result = gloss(*args, cwd=ws)
        assert result.returncode == 0, explain(result)
        assert_terminal_safe(result)
        assert result.stdout.isascii(), "ensure_ascii keeps every control as a \\u escape"
    hits = json.loads(gloss("search", "clear_screen", "--path", str(ws), "--json", cwd=ws).stdout)
    # The file's URI, as gloss/search gives it: the controls percent-encoded.
    assert hits[0]["location"]["uri"] == (ws / EVIL_FILE).as_uri()
    assert hits[0]["summary"].startswith(f"clear_screen Clears{CLEAR}")


def test_links_in_hovers_can_be_allowed_by_configuration(hostile_ws: Path) -> None:
    ws = hostile_ws
    toml = ws / "gloss.toml"
    toml.write_text(toml.read_text() + "\n[hover]\nlinks = true\n")
    index = gloss("index", str(ws), cwd=ws)
    assert index.returncode == 0, explain(index)
    hover = gloss("hover", f"{ws / EVIL_FILE}:1", cwd=ws)
    assert "see https://evil.example/clear\\_screen" in hover.stdout, explain(hover)
    assert_terminal_safe(hover)


def hostile_error_body(api: str, message: str, kind: str, code: Any = None) -> str:
    return f"upstream says: {HOSTILE}"


def test_backend_error_bodies_are_escaped_in_index_and_doctor(
    tmp_path: Path, llm: LLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(llm_server, "_error_body", hostile_error_body)
    llm.set_behavior(Behavior(mode="status", status=400))
    ws = tmp_path / "ws"
    ws.mkdir()
    write_files(ws, {"a.py": "def f(x):\n    return x\n"})
    (ws / "gloss.toml").write_text(gloss_toml(llm.url))

    index = gloss("index", str(ws), cwd=ws)
    assert index.returncode == 3, explain(index)
    assert_terminal_safe(index)
    assert "upstream says: Clears\\x1b[2J\\x1b[H sets\\x1b]0;pwned\\x07" in index.stdout

    status = gloss("status", str(ws), cwd=ws)
    assert_terminal_safe(status)
    assert "upstream says: Clears\\x1b[2J" in status.stdout

    doctor = gloss("doctor", str(ws), cwd=ws)
    assert doctor.returncode == 3, explain(doctor)
    assert_terminal_safe(doctor)
    assert "test request FAILED: " in doctor.stdout
    assert "\\u202etxt.exe\\u202c\\x0d\\x0afake: ok" in doctor.stdout


def test_a_configuration_key_with_escapes_is_reported_escaped(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    # TOML takes no raw controls, but a quoted key may hold escapes and bidi marks.
    (ws / "gloss.toml").write_text(f'[index]\n"max\\u001b[2J{RLO}bytes" = 1\n')
    result = gloss("index", str(ws), cwd=ws)
    assert result.returncode == 2, explain(result)
    assert_terminal_safe(result)
    assert "index.max\\x1b[2J\\u202ebytes: unknown key" in result.stderr


def test_log_lines_are_escaped_but_keep_their_line_breaks() -> None:
    from server.cli.main import _TerminalSafeFormatter

    record = logging.LogRecord(
        "enrich_core.x", logging.WARNING, __file__, 1, "cannot read %s", (EVIL_FILE,), None
    )
    line = _TerminalSafeFormatter("%(levelname)s %(message)s").format(record)
    assert line == "WARNING cannot read pkg/evil\\x1b]0;pwned\\x07\\u202e.py"
    try:
        raise ValueError(f"bad {CLEAR}")
    except ValueError:
        record.exc_info = sys.exc_info()
    with_traceback = _TerminalSafeFormatter("%(message)s").format(record)
    assert "\nTraceback" in with_traceback and "ValueError: bad \\x1b[2J" in with_traceback
    assert RAW_UNSAFE.search(with_traceback) is None
