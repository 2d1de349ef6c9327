"""Freshness end to end: what a save, an undo and a branch switch cost, seen from outside.

`gloss serve` over stdio (pytest-lsp), real HTTP to the test LLM server on
127.0.0.1, a real SQLite store, real file-system events from real `git`
commands. What is measured is what the backend was asked: the test server
records every chat request, so "glossed next" is a count of requests between a
save and the request for the saved span (never a wall-clock duration), and "no
LLM call" is an empty slice of that log.

Nothing sleeps to wait. A wait is on a `gloss/progress` notification, on the
test server's request log (a Condition it notifies on every change), or, where
the server sends nothing (a change that costs no call), on a sentinel: a new
file `zz_*.py` written after the change, whose gloss proves that every change
made before it has been processed (see `settle`). Every wait is bounded.
"""

from __future__ import annotations

import asyncio
import subprocess
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types

from bench.support.llm_server import LLMServer, RecordedRequest
from tests.conftest import SAMPLE, Session, StartLsp, gloss_toml, write_files

WAIT_S = 60.0  # an upper bound for waits that normally take well under a second or two

# A backend that cannot drain the backlog during a test: 2 slots, 0.3 s per answer
# (about 7 glosses a second against 2,400 queued spans: over five minutes of work).
CAPACITY = 2
LATENCY_S = 0.3
BACKLOG_FILES = 48
PER_FILE = 50
BACKLOG = BACKLOG_FILES * PER_FILE
THOUSANDS = 2000  # "still thousands queued" when the saved span's gloss arrives


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------


def code_of(request: RecordedRequest) -> str:
    """The user message of a chat request: path, symbol, signature and the code."""
    return str(request.body["messages"][-1]["content"])


def asked(llm: LLMServer, since: int) -> list[str]:
    """The symbols the backend was asked about since request number `since`, in order."""
    return [r.symbol or "<no Symbol: line>" for r in llm.requests[since:]]


def markdown(hover: types.Hover | None) -> str:
    assert hover is not None
    assert isinstance(hover.contents, types.MarkupContent)
    return hover.contents.value


def line_of(text: str, needle: str) -> int:
    """The 0-based line of the first line of `text` that contains `needle`."""
    for number, line in enumerate(text.splitlines()):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in the text")


def result_for(symbol: str, since: int) -> Callable[[list[dict[str, Any]]], bool]:
    """A progress predicate: a result for `symbol` arrived after event number `since`."""

    def arrived(events: list[dict[str, Any]]) -> bool:
        return any((e.get("last") or {}).get("symbol") == symbol for e in events[since:])

    return arrived


def last_result(session: Session, symbol: str) -> dict[str, Any]:
    """The latest gloss/progress notification that reported `symbol`'s result."""
    for event in reversed(session.progress.events):
        if (event.get("last") or {}).get("symbol") == symbol:
            return dict(event)
    raise AssertionError(f"no result for {symbol}")


async def wait_llm(llm: LLMServer, predicate: Callable[[LLMServer], bool]) -> None:
    """Until `predicate` holds on the test server (re-checked on every request it records)."""
    ok = await asyncio.to_thread(llm.wait_for, predicate, WAIT_S)
    assert ok, f"the test server never saw it; asked so far: {llm.symbols()[-20:]}"


async def asked_before(llm: LLMServer, since: int, symbol: str, limit: int) -> list[str]:
    """What the backend was asked since request `since`, before `symbol`.

    Waits until `symbol` was asked for, or more than `limit` other requests were
    (then returns them all): a few answers either way, never the whole backlog.
    """

    def decided(s: LLMServer) -> bool:
        later = [r.symbol for r in s._requests[since:]]
        return symbol in later or len(later) > limit

    await wait_llm(llm, decided)
    later = asked(llm, since)
    return later[: later.index(symbol)] if symbol in later else later


class Editor:
    """What an editor sends: didOpen once, then a full-text didChange and a didSave
    (with the text: the server asks for includeText) per save."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.versions: dict[str, int] = {}

    def open(self, rel: str, text: str) -> None:
        self.versions[rel] = 1
        self.session.client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(
                    uri=self.session.uri(rel), language_id="python", version=1, text=text
                )
            )
        )

    def save(self, rel: str, text: str) -> None:
        """Save `text`; a document not open yet is opened with it (a new file)."""
        client, uri = self.session.client, self.session.uri(rel)
        version = self.versions.get(rel)
        if version is None:
            self.open(rel, text)
        else:
            self.versions[rel] = version + 1
            client.text_document_did_change(
                types.DidChangeTextDocumentParams(
                    text_document=types.VersionedTextDocumentIdentifier(
                        uri=uri, version=version + 1
                    ),
                    content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
                )
            )
        client.text_document_did_save(
            types.DidSaveTextDocumentParams(
                text_document=types.TextDocumentIdentifier(uri=uri), text=text
            )
        )


async def write(root: Path, files: dict[str, str]) -> None:
    await asyncio.to_thread(write_files, root, files)


async def settle(session: Session, name: str) -> None:
    """Every file change made so far has been processed, and nothing is queued or in flight.

    Writes a sentinel file with one new function (`name`) and waits for its gloss,
    then for a notification that says idle. The watcher hands batches over in
    order, and within a batch the engine takes the least recently modified file
    first (ties by path): the sentinel, written after every change it vouches for,
    comes last, so whatever those changes queued was queued before it. The
    sentinel costs exactly one LLM call.
    """
    since = len(session.progress.events)
    await write(session.root, {f"zz_{name}.py": f"def {name}():\n    return {name!r}\n"})
    await session.progress.wait_for(result_for(name, since), WAIT_S)
    await session.progress.wait_idle(WAIT_S)


# --------------------------------------------------------------------------
# 1. A save behind a backlog of thousands
# --------------------------------------------------------------------------


@pytest.fixture
def slow_llm() -> Iterator[LLMServer]:
    # Requested before start_lsp, so it is stopped after the language server is.
    with LLMServer(capacity=CAPACITY, latency_s=LATENCY_S) as server:
        yield server


EDITING = "app/editing.py"
EDITING_TEXT = """\
def first_a(x):
    return x + 1


def first_b(x):
    return x + 2
"""


def backlog_workspace(root: Path, llm: LLMServer) -> None:
    """`app/editing.py` (two functions, first in the backlog), then 2,400 distinct
    functions in `lib/`, and the backend config (concurrency = the server's capacity)."""
    files = {EDITING: EDITING_TEXT}
    for i in range(BACKLOG_FILES):
        files[f"lib/mod_{i:02d}.py"] = "".join(
            f"def f_{i:02d}_{j:02d}(x):\n    return x * {i} + {j}\n\n\n" for j in range(PER_FILE)
        )
    write_files(root, files)
    (root / "gloss.toml").write_text(gloss_toml(llm.url, concurrency=CAPACITY))


async def start_with_backlog(tmp_path: Path, llm: LLMServer, start_lsp: StartLsp) -> Session:
    """The server started on the backlog workspace; returns once the scan has queued
    the backlog and the first file's two spans (first in file order) are glossed."""
    root = tmp_path / "ws"
    root.mkdir()
    await asyncio.to_thread(backlog_workspace, root, llm)
    session: Session = await start_lsp(root)

    def backlog_queued(events: list[dict[str, Any]]) -> bool:
        return any(e["scanned"] and e["queued"] >= BACKLOG for e in events)

    await session.progress.wait_for(backlog_queued, WAIT_S)
    await session.progress.wait_for(result_for("first_b", 0), WAIT_S)
    assert set(llm.symbols()[:2]) == {"first_a", "first_b"}
    return session


async def test_a_save_is_glossed_next_while_thousands_wait(
    tmp_path: Path, slow_llm: LLMServer, start_lsp: StartLsp
) -> None:
    llm = slow_llm
    session = await start_with_backlog(tmp_path, llm, start_lsp)

    # The editor saves a new function in a file that is already glossed. The disk
    # is written only once the backend was asked for it: the file-system event
    # would queue it too (at the lower, disk-change priority), and it must not be
    # what makes this pass.
    saved = EDITING_TEXT + "\n\ndef fresh_from_editor(a, b):\n    return a - b\n"
    mark, events = len(llm.requests), len(session.progress.events)
    Editor(session).save(EDITING, saved)
    ahead = await asked_before(llm, mark, "fresh_from_editor", CAPACITY + 1)
    # The requests already in flight, and perhaps one that a worker took before the
    # save reached the server: never the backlog's turn.
    assert len(ahead) <= CAPACITY + 1, ahead
    assert all(s.startswith("f_") for s in ahead), ahead

    await session.progress.wait_for(result_for("fresh_from_editor", events), WAIT_S)
    assert last_result(session, "fresh_from_editor")["queued"] >= THOUSANDS
    text = markdown(await session.hover(EDITING, line_of(saved, "def fresh_from_editor")))
    assert text.startswith("fresh\\_from\\_editor (test model small-model) does what")
    assert "- a\n- b" in text  # the inputs: the model was sent the saved signature
    assert text.endswith("tier small · fresh*")

    # The editor's write reaches the disk, and another tool changes another file.
    # Only the latter costs a call, and it too goes before the backlog.
    mark, events = len(llm.requests), len(session.progress.events)
    await write(
        session.root,
        {EDITING: saved, "lib/zz_generated.py": "def changed_on_disk(y):\n    return -y\n"},
    )
    limit = 4 * CAPACITY + 2
    ahead = await asked_before(llm, mark, "changed_on_disk", limit)
    # The file-system event arrives after watchfiles' debounce (tens of ms), a
    # latency or so; with two slots that is a handful of answers, not 2,400.
    assert len(ahead) <= limit, ahead
    assert all(s.startswith("f_") for s in ahead), ahead
    # app/editing.py was written first, so its event was processed first; had the
    # editor's (already glossed) text been queued again, at the disk class, a pick
    # right after changed_on_disk's would have taken it.
    after = mark + len(ahead) + CAPACITY
    await wait_llm(llm, lambda s: len(s._requests) > after)
    assert asked(llm, 0).count("fresh_from_editor") == 1
    await session.progress.wait_for(result_for("changed_on_disk", events), WAIT_S)
    assert last_result(session, "changed_on_disk")["queued"] >= THOUSANDS


@pytest.mark.parametrize("via", ["editor", "disk"])
async def test_a_change_in_a_file_still_in_the_backlog_is_glossed_next(
    via: str, tmp_path: Path, slow_llm: LLMServer, start_lsp: StartLsp
) -> None:
    llm = slow_llm
    session = await start_with_backlog(tmp_path, llm, start_lsp)
    rel = "lib/mod_40.py"  # 2,000 spans into the backlog: none of its functions is glossed
    new = "def fresh_in_backlog_file(z):\n    return z\n\n\n"
    text = (session.root / rel).read_text().replace("def f_40_25(", new + "def f_40_25(")
    mark = len(llm.requests)
    if via == "editor":
        Editor(session).save(rel, text)  # the disk is left alone, as in the test above
        limit = CAPACITY + 1
    else:
        await write(session.root, {rel: text})
        limit = 4 * CAPACITY + 2  # the bound the disk change above meets
    ahead = await asked_before(llm, mark, "fresh_in_backlog_file", limit)
    assert len(ahead) <= limit, ahead


# --------------------------------------------------------------------------
# 2. A branch switch and back
# --------------------------------------------------------------------------


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, timeout=60)


ALPHA = """\
def changed_fn(items):
    return sorted(items)


def mover(a, b):
    return a * b


def stays_a():
    return "a"
"""

ALPHA_ON_OTHER = """\
def changed_fn(items, reverse=False):
    return sorted(items, reverse=reverse)


def stays_a():
    return "a"
"""

BETA = """\
def stays_b():
    return "b"
"""

BETA_ON_OTHER = """\
def stays_b():
    return "b"


def added_fn(path, mode="r"):
    return open(path, mode)


def mover(a, b):
    return a * b
"""

GAMMA = """\
class Gamma:
    def method(self, n):
        return n + 1


def gamma_one():
    return 1
"""

MAIN_SPANS = {"changed_fn", "mover", "stays_a", "stays_b", "Gamma", "Gamma.method", "gamma_one"}


async def test_a_branch_switch_and_back_costs_no_llm_call(
    tmp_path: Path, llm: LLMServer, start_lsp: StartLsp
) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    write_files(
        root,
        {"pkg/__init__.py": "", "pkg/alpha.py": ALPHA, "pkg/beta.py": BETA, "pkg/gamma.py": GAMMA},
    )
    (root / "gloss.toml").write_text(gloss_toml(llm.url))
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", "Gloss Test")
    git(root, "config", "user.email", "gloss-test@example.invalid")
    git(root, "config", "commit.gpgsign", "false")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "main")

    session = await start_lsp(root)
    await session.progress.wait_idle(WAIT_S)
    assert sorted(asked(llm, 0)) == sorted(MAIN_SPANS)  # each span once, nothing else
    on_main = {
        "changed_fn": markdown(await session.hover("pkg/alpha.py", 0)),
        "mover": markdown(await session.hover("pkg/alpha.py", 4)),
        "Gamma.method": markdown(await session.hover("pkg/gamma.py", 1)),
    }
    assert all(t.endswith("· fresh*") for t in on_main.values())

    # On a new branch: one function edited, one added, one moved to another file,
    # one file renamed. Only the edited and the added text are new to the model.
    mark = len(llm.requests)
    await asyncio.to_thread(git, root, "checkout", "-q", "-b", "other")
    await write(root, {"pkg/alpha.py": ALPHA_ON_OTHER, "pkg/beta.py": BETA_ON_OTHER})
    await asyncio.to_thread(git, root, "mv", "pkg/gamma.py", "pkg/delta.py")
    await settle(session, "sentinel_other")
    assert sorted(asked(llm, mark)) == ["added_fn", "changed_fn", "sentinel_other"]
    (changed,) = [r for r in llm.requests[mark:] if r.symbol == "changed_fn"]
    assert "Signature: def changed_fn(items, reverse=False)" in code_of(changed)
    await asyncio.to_thread(git, root, "commit", "-q", "-am", "other")
    on_other = markdown(await session.hover("pkg/alpha.py", 0))
    assert "- reverse" in on_other and on_other.endswith("· fresh*")
    # The moved function and the renamed file's spans kept their glosses.
    moved = await session.hover("pkg/beta.py", line_of(BETA_ON_OTHER, "def mover"))
    assert markdown(moved) == on_main["mover"]
    assert markdown(await session.hover("pkg/delta.py", 1)) == on_main["Gamma.method"]
    assert await session.hover("pkg/gamma.py", 1) is None

    # Back, forth and back again: every text has a gloss already. The sentinel that
    # proves the watcher is done is the only call each time.
    for branch, step in (("main", 1), ("other", 2), ("main", 3)):
        mark = len(llm.requests)
        await asyncio.to_thread(git, root, "checkout", "-q", branch)
        await settle(session, f"sentinel_{step}")
        assert asked(llm, mark) == [f"sentinel_{step}"], branch
        first = markdown(await session.hover("pkg/alpha.py", 0))
        if branch == "main":
            assert first == on_main["changed_fn"]  # the original text's gloss, fresh
            assert markdown(await session.hover("pkg/alpha.py", 4)) == on_main["mover"]
            assert markdown(await session.hover("pkg/gamma.py", 1)) == on_main["Gamma.method"]
            assert await session.hover("pkg/delta.py", 1) is None
        else:
            assert first == on_other
            assert markdown(await session.hover("pkg/delta.py", 1)) == on_main["Gamma.method"]

    # The hovers above found every gloss fresh, so none of them queued a request.
    await settle(session, "sentinel_end")
    assert asked(llm, mark) == ["sentinel_3", "sentinel_end"]
    # Over the whole run, each distinct text was asked for exactly once.
    symbols = asked(llm, 0)
    assert len(symbols) == len(MAIN_SPANS) + 2 + 5
    assert symbols.count("changed_fn") == 2  # the text on main, and the text on other
    assert all(symbols.count(s) == 1 for s in MAIN_SPANS - {"changed_fn"})


# --------------------------------------------------------------------------
# 3. An undo
# --------------------------------------------------------------------------

SHAPES = "pkg/shapes.py"
ORIGINAL_SIG = "def load_config(path: str) -> dict:"
EDITED_SIG = "def load_config(path: str, strict: bool = False) -> dict:"


async def test_saving_the_original_text_again_costs_no_call(
    tmp_path: Path, llm: LLMServer, start_lsp: StartLsp
) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    write_files(root, SAMPLE)
    (root / "gloss.toml").write_text(gloss_toml(llm.url))
    original = textwrap.dedent(SAMPLE[SHAPES])
    edited = original.replace(ORIGINAL_SIG, EDITED_SIG)
    assert edited != original
    line = line_of(original, ORIGINAL_SIG)

    session = await start_lsp(root)
    await session.progress.wait_idle(WAIT_S)
    before = markdown(await session.hover(SHAPES, line))
    assert before.endswith("· fresh*") and "- strict" not in before
    editor = Editor(session)
    editor.open(SHAPES, original)

    # The edit: saved in the editor and written to disk. Its new text is glossed
    # once (the editor's save and the file-system event do not both ask).
    mark = len(llm.requests)
    await write(root, {SHAPES: edited})
    editor.save(SHAPES, edited)
    await settle(session, "sentinel_edit")
    assert asked(llm, mark) == ["load_config", "sentinel_edit"]
    assert f"Signature: {EDITED_SIG[:-1]}" in code_of(llm.requests[mark])
    after_edit = markdown(await session.hover(SHAPES, line))
    assert "- strict" in after_edit and after_edit.endswith("· fresh*")

    # The undo: the original text, saved and written again. Its gloss is still in
    # the store (keyed by content hash): no call, and the hover shows it as fresh.
    mark = len(llm.requests)
    await write(root, {SHAPES: original})
    editor.save(SHAPES, original)
    await settle(session, "sentinel_undo")
    assert asked(llm, mark) == ["sentinel_undo"]
    assert markdown(await session.hover(SHAPES, line)) == before
