"""The `gloss` command's rough edges a newcomer met (issue 14), each through the real
console script: `--version`, `-v` after the command, help for every flag, exit 1 for
"nothing here" saying what is there, a clean exit on a closed pipe, Ctrl-C, plural
forms, and every figure on the status lines saying what it counts.

Real parts only: the installed console script run as a subprocess, a temp workspace,
the SQLite store it writes, HTTP to the test LLM server on 127.0.0.1. Every wait is
bounded, so a hang fails the test.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import re
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from bench.support.llm_server import Behavior, LLMServer
from server.cli.main import EXIT_CODES, build_parser
from tests.conftest import LARGE, SMALL, gloss_toml
from tests.test_cli import (
    CLOSED_URL,
    GLOSS,
    LOAD_CONFIG_LINE,
    RUN_TIMEOUT_S,
    SAMPLE_SPANS,
    SHAPES,
    explain,
    gloss,
    indexed,
    make_workspace,
    status_json,
)

COMMANDS = ("serve", "index", "status", "search", "hover", "doctor")
WAIT_LIMIT_S = 60.0


@pytest.fixture
def ws(tmp_path: Path, llm: LLMServer) -> Path:
    return make_workspace(tmp_path / "ws", gloss_toml(llm.url))


# --- --version, -v, help ------------------------------------------------------


def test_version_prints_the_installed_version(tmp_path: Path) -> None:
    result = gloss("--version", cwd=tmp_path)
    assert result.returncode == 0, explain(result)
    assert result.stdout == f"gloss {importlib.metadata.version('gloss')}\n"


@pytest.mark.parametrize("where", ["before", "after"])
def test_verbose_is_accepted_before_and_after_the_command(ws: Path, where: str) -> None:
    args = ["-v", "status", str(ws)] if where == "before" else ["status", str(ws), "-v"]
    verbose = gloss(*args, cwd=ws)
    assert verbose.returncode == 0, explain(verbose)
    assert "INFO " in verbose.stderr  # logging at INFO reached stderr
    quiet = gloss("status", str(ws), cwd=ws)
    assert quiet.returncode == 0, explain(quiet)
    assert "INFO " not in quiet.stderr


def test_verbose_after_index_is_accepted(tmp_path: Path) -> None:
    # The backend is closed: the run ends 3, but the flag itself is not rejected (2).
    ws = make_workspace(
        tmp_path / "ws", gloss_toml(CLOSED_URL), {"m.py": "def f(x):\n    return x\n"}
    )
    result = gloss("index", "-v", str(ws), cwd=ws)
    assert result.returncode == 3, explain(result)
    assert "unrecognized arguments" not in result.stderr
    assert "INFO " in result.stderr


def test_help_lists_the_commands_and_the_exit_codes(tmp_path: Path) -> None:
    result = gloss("--help", cwd=tmp_path)
    assert result.returncode == 0, explain(result)
    text = result.stdout
    for name in COMMANDS:
        assert re.search(rf"^\s+{name}\s+\S", text, re.MULTILINE), f"{name} missing:\n{text}"
    epilog = text[text.index("exit codes:") :]
    for code in (0, 1, 2, 3, 130):
        assert re.search(rf"^\s+{code}\s+\S", epilog, re.MULTILINE), f"{code} missing:\n{text}"
    assert [code for code, _ in EXIT_CODES] == [0, 1, 2, 3, 130]


def _actions(parser: argparse.ArgumentParser) -> list[tuple[str, argparse.Action]]:
    """Every flag and argument of the parser and its commands, with where it is."""
    found: list[tuple[str, argparse.Action]] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found += [(f"{name} {where}", a) for where, a in _actions(sub)]
        found.append(("gloss", action))
    return found


def test_every_flag_and_argument_has_help() -> None:
    actions = _actions(build_parser())
    assert len(actions) > 20
    missing = [
        f"{where}: {'/'.join(a.option_strings) or a.dest}"
        for where, a in actions
        if not (a.help and a.help.strip())
    ]
    assert missing == []


@pytest.mark.parametrize("command", COMMANDS)
def test_each_commands_help_gives_every_option_a_sentence(tmp_path: Path, command: str) -> None:
    result = gloss(command, "--help", cwd=tmp_path)
    assert result.returncode == 0, explain(result)
    # Each option line of argparse's listing: the flag, then its help on the same
    # line or the next (indented deeper).
    lines = result.stdout.splitlines()
    for i, line in enumerate(lines):
        if re.match(r"^  -", line):
            rest = re.split(r"\s{2,}", line.strip(), maxsplit=1)
            has_help = len(rest) == 2 or (i + 1 < len(lines) and lines[i + 1].startswith(" " * 6))
            assert has_help, f"no help for {line.strip()!r} in `gloss {command} --help`"
    for flag in {"search": ("--json", "--limit"), "status": ("--json",), "hover": ("--json",)}.get(
        command, ()
    ):
        assert flag in result.stdout


# --- exit 1: nothing here -----------------------------------------------------


def test_hover_inside_a_body_exits_1_and_says_which_definition_holds_it(ws: Path) -> None:
    body = LOAD_CONFIG_LINE + 2  # `return {}` of load_config (lines 14-16)
    result = gloss("hover", f"{SHAPES}:{body}", cwd=ws)
    assert result.returncode == 1, explain(result)
    assert result.stdout == ""
    assert (
        f"line {body} is inside function `load_config` (lines {LOAD_CONFIG_LINE}-{body}): "
        f"its gloss is on line {LOAD_CONFIG_LINE}"
    ) in result.stderr
    # The innermost definition: a method's body names the method, not its class.
    method = gloss("hover", f"{SHAPES}:8", cwd=ws)
    assert method.returncode == 1, explain(method)
    assert "line 8 is inside method `Circle.__init__` (lines 7-8): its gloss is on line 7" in (
        method.stderr
    )
    # The line it names is one the hover answers.
    there = gloss("hover", f"{SHAPES}:{LOAD_CONFIG_LINE}", cwd=ws)
    assert there.returncode == 0, explain(there)
    assert "def load_config(path: str) -> dict" in there.stdout


@pytest.mark.parametrize("line", [2, 9999])  # a blank line between definitions, past the end
def test_hover_where_no_definition_is_exits_1_saying_so(ws: Path, line: int) -> None:
    result = gloss("hover", f"{ws / SHAPES}:{line}", cwd=ws)
    assert result.returncode == 1, explain(result)
    assert result.stdout == ""
    assert f"no definition at or around line {line}" in result.stderr
    assert "Traceback" not in result.stderr
    as_json = gloss("hover", f"{ws / SHAPES}:{line}", "--json", cwd=ws)
    assert as_json.returncode == 1, explain(as_json)
    assert as_json.stdout == "null\n"


def test_search_without_a_hit_exits_1_saying_so_and_json_prints_an_empty_list(ws: Path) -> None:
    text = gloss("search", "zzzz_nothing_like_this", "--path", str(ws), cwd=ws)
    assert text.returncode == 1, explain(text)
    assert text.stdout == ""
    assert "no symbol matches 'zzzz_nothing_like_this'" in text.stderr
    as_json = gloss("search", "zzzz_nothing_like_this", "--path", str(ws), "--json", cwd=ws)
    assert as_json.returncode == 1, explain(as_json)
    assert as_json.stdout == "[]\n"
    found = gloss("search", "load_config", "--path", str(ws), cwd=ws)
    assert found.returncode == 0, explain(found)
    assert found.stdout.startswith(f"{SHAPES}:{LOAD_CONFIG_LINE}: function load_config")


# --- a closed pipe --------------------------------------------------------------

PIPE_BUFFER_BYTES = 65536  # Linux's default pipe capacity


def _many_skipped_files(tmp_path: Path) -> Path:
    """A workspace whose `gloss status` text is larger than a pipe holds: one line per
    skipped file. (No model is needed: files over max_file_bytes are not parsed.)"""
    files = {
        f"pkg/a_module_with_a_rather_long_name_to_fill_the_pipe_{i:04}.py": "x = 1\n" * 4
        for i in range(1200)
    }
    toml = gloss_toml(CLOSED_URL) + "\n[index]\nmax_file_bytes = 8\n"
    return make_workspace(tmp_path / "ws", toml, files)


@pytest.mark.parametrize("read_first", [True, False], ids=["after-one-line", "before-reading"])
def test_status_into_a_pipe_closed_early_exits_quietly(tmp_path: Path, read_first: bool) -> None:
    ws = _many_skipped_files(tmp_path)
    full = gloss("status", str(ws), cwd=ws)
    assert full.returncode == 0, explain(full)
    assert len(full.stdout.encode()) > 2 * PIPE_BUFFER_BYTES  # it cannot all fit the pipe

    with subprocess.Popen(
        [str(GLOSS), "status", str(ws)],
        cwd=ws,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        if read_first:
            assert proc.stdout.readline().startswith(b"workspace ")
        proc.stdout.close()  # as `head -1` does once it has its line
        try:
            err = proc.stderr.read()
            code = proc.wait(timeout=RUN_TIMEOUT_S)
        finally:
            if proc.poll() is None:
                proc.kill()
    text = err.decode()
    assert "Traceback" not in text and "BrokenPipeError" not in text, text
    assert "Exception ignored" not in text, text
    assert text == ""
    assert code == 0


# --- Ctrl-C -------------------------------------------------------------------


def _wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_LIMIT_S
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.1)


def _interrupted(command: str, ws: Path, ready: Callable[[], bool], what: str) -> tuple[int, str]:
    """`gloss COMMAND ws` sent a Ctrl-C once `ready()`: its exit code and stderr."""
    with subprocess.Popen(
        [str(GLOSS), command, str(ws)],
        cwd=ws,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        try:
            _wait_for(ready, what)
            proc.send_signal(signal.SIGINT)
            _, err = proc.communicate(timeout=RUN_TIMEOUT_S)
        finally:
            if proc.poll() is None:
                proc.kill()
    return proc.returncode, err


def test_ctrl_c_during_index_exits_130_saying_how_to_resume_and_keeps_the_glosses(
    tmp_path: Path, llm: LLMServer
) -> None:
    # Every span in flight at once; one answers at once, the rest wait a minute.
    ws = make_workspace(tmp_path / "ws", gloss_toml(llm.url, concurrency=8))
    llm.set_behavior(Behavior(delay_s=WAIT_LIMIT_S))
    llm.set_behavior(Behavior(), symbol="load_config")
    code, err = _interrupted(
        "index", ws,
        lambda: status_json(ws)["enriched"] >= 1 and len(llm.requests) == SAMPLE_SPANS,
        "the first gloss stored while the others wait on the model",
    )  # fmt: skip
    assert code == 130, f"exit {code}\n{err}"
    assert "gloss: interrupted — run `gloss index` again to resume; what was glossed is kept" in err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err

    kept = status_json(ws)
    assert kept["enriched"] == 1 and kept["spans"] == SAMPLE_SPANS
    llm.reset()
    again = gloss("index", str(ws), cwd=ws)
    assert again.returncode == 0, explain(again)
    assert "load_config" not in llm.symbols()  # resumed: what was glossed is not asked again
    assert len(llm.requests) == SAMPLE_SPANS - 1


# --- plural forms and explained figures ---------------------------------------


def test_status_and_index_say_one_span_and_one_failure_in_the_singular(tmp_path: Path) -> None:
    ws = make_workspace(
        tmp_path / "ws", gloss_toml(CLOSED_URL), {"m.py": "def f(x):\n    return x\n"}
    )
    index = gloss("index", str(ws), cwd=ws)
    assert index.returncode == 3, explain(index)
    status = gloss("status", str(ws), cwd=ws)
    assert status.returncode == 0, explain(status)
    assert "1 span in 1 file: 0 glossed, 0 pending, 1 failed;" in status.stdout, status.stdout
    assert re.search(r"^  1 span failed: ", status.stdout, re.MULTILINE), status.stdout
    for text in (index.stdout, status.stdout):
        assert not re.search(r"\b1 (spans|files|requests|glosses|model calls)\b", text), text


def test_every_figure_on_the_status_lines_says_what_it_counts(ws: Path) -> None:
    indexed(ws)
    result = gloss("status", str(ws), cwd=ws)
    assert result.returncode == 0, explain(result)
    lines = result.stdout.splitlines()
    n = SAMPLE_SPANS
    assert lines[1].startswith(
        f"{n} spans in 2 files: {n} glossed, 0 pending, 0 failed; {n} model calls in all, "
    )
    assert re.search(r"\d+ tokens sent, \d+ received$", lines[1]), lines[1]
    assert lines[2] == "0 spans stale (code edited since its gloss)"
    assert f"glossed by language: python {n} of {n} spans" in lines
    assert any(
        re.fullmatch(
            rf"tier small: {n} glosses written from {n} requests \(\d+ tokens in, \d+ out\), "
            r"cost 0 at the configured rates",
            line,
        )
        for line in lines
    ), lines
    assert any(
        re.fullmatch(
            rf"backend test \(http://127\.0\.0\.1:\d+\): {n} requests answered, 0 failed; "
            r"time per request p50 \d+ ms, p95 \d+ ms",
            line,
        )
        for line in lines
    ), lines
    # No bare fraction ("5/5") anywhere: each count is named.
    for line in lines[1:]:
        assert not re.search(r"\b\d+/\d+\b", line), line


def test_ctrl_c_during_doctor_exits_130_saying_what_was_left_unchecked(
    ws: Path, llm: LLMServer
) -> None:
    llm.models = {SMALL, LARGE}  # listed, so doctor goes on to its test request
    llm.set_behavior(Behavior(delay_s=WAIT_LIMIT_S))  # which waits on the model
    code, err = _interrupted("doctor", ws, lambda: len(llm.requests) >= 1, "doctor's test request")
    assert code == 130, f"exit {code}\n{err}"
    assert "gloss: interrupted — the backends were not all checked; run `gloss doctor` again" in err
    assert "Traceback" not in err, err


def test_index_whose_progress_pipe_closes_early_glosses_everything_and_exits_0(
    ws: Path, llm: LLMServer
) -> None:
    # `gloss index 2>&1 | head -1`: the reader leaves after the first line; the run
    # must go on to the end (nothing reads its progress) and exit with its own code.
    llm.set_behavior(Behavior(delay_s=0.2))  # the run outlasts the reader
    with subprocess.Popen(
        [str(GLOSS), "index", str(ws)],
        cwd=ws,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    ) as proc:
        assert proc.stdout is not None
        try:
            proc.stdout.readline()
            proc.stdout.close()
            code = proc.wait(timeout=RUN_TIMEOUT_S)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert code == 0
    status = status_json(ws)
    assert status["enriched"] == status["spans"] == SAMPLE_SPANS


# --- failure reasons: the few shown, the rest counted, what to do -------------

FILLERS = ("N/A", "TODO", "none", "tbd", "nothing", "unknown", "see code")


def test_index_counts_the_failed_spans_its_reasons_leave_out_and_advises_on_rejections(
    tmp_path: Path, llm: LLMServer
) -> None:
    # Seven functions, each answered with another filler summary: seven reasons,
    # of which `gloss index` names the commonest five and counts the other two.
    files = {f"f{i}.py": f"def f{i}(x):\n    return x + {i}\n" for i in range(len(FILLERS))}
    llm.set_descriptions({f"f{i}": word for i, word in enumerate(FILLERS)})
    ws = make_workspace(tmp_path / "ws", gloss_toml(llm.url), files)
    result = gloss("index", str(ws), cwd=ws)
    assert result.returncode == 3, explain(result)
    named = re.findall(r"^  1 span failed: .*filler", result.stdout, re.MULTILINE)
    assert len(named) == 5, explain(result)
    assert "  and 2 more spans failed for other reasons" in result.stdout, explain(result)
    assert "Add a larger model as a later [[tiers]] entry" in result.stdout, explain(result)
