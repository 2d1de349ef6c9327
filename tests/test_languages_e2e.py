"""End to end in a workspace of several languages: `gloss serve` over stdio (pytest-lsp),
the test LLM server on 127.0.0.1, a real SQLite file.

A Go service, a Rust crate and a TypeScript front end beside a Python script, as
an ordinary repository has them: every file is glossed, the hover on a Go
method, a Rust impl function and a TypeScript method shows its gloss (its usage
fenced in its own language), workspace/symbol finds them by name with the
right kinds, and an edit inside one TypeScript method re-glosses that method
only (the class's outline, with member bodies cut, is unchanged).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types

from bench.support.llm_server import LLMServer
from enrich_core.config import load_config
from enrich_core.run.engine import Engine
from tests.conftest import OpenEngine, StartLsp, as_dict, gloss_toml, write_files

STORE_GO = """\
// Package store keeps values by key.
package store

// Store holds values in memory, by key.
type Store struct {
\titems map[string]string
}

// Put stores value under key, replacing any older value.
func (s *Store) Put(key, value string) {
\ts.items[key] = value
}
"""
LINE_PUT, COL_PUT = 9, 16

COUNTER_RS = """\
/// Counts events.
pub struct Counter {
    count: u64,
}

impl Counter {
    /// Adds one to the count and returns the new value.
    pub fn bump(&mut self) -> u64 {
        self.count += 1;
        self.count
    }
}
"""
LINE_BUMP, COL_BUMP = 7, 11

CART_TS = """\
/** A shopping cart. */
export class Cart {
  private items: string[] = [];

  /** Adds an item and returns how many the cart holds. */
  addItem(item: string): number {
    this.items.push(item);
    return this.items.length;
  }

  /** Empties the cart. */
  clear(): void {
    this.items = [];
  }
}
"""
LINE_ADD_ITEM, COL_ADD_ITEM = 5, 2
LINE_CLEAR = 11

FILES = {
    "svc/store.go": STORE_GO,
    "crate/src/counter.rs": COUNTER_RS,
    "web/cart.ts": CART_TS,
    "scripts/tidy.py": "def tidy(path):\n    return path.strip()\n",
}
GLOSSED = [
    "Store",
    "Store.Put",
    "Counter",
    "Counter::bump",
    "Cart",
    "Cart.addItem",
    "Cart.clear",
    "tidy",
]


@pytest.fixture
def polyglot(tmp_path: Path, llm: LLMServer) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    write_files(root, FILES)
    (root / "gloss.toml").write_text(gloss_toml(llm.url, extra="[index]\nidle_pause_ms = 300\n"))
    return root


def markdown(hover: types.Hover | None) -> str:
    assert hover is not None
    assert isinstance(hover.contents, types.MarkupContent)
    return hover.contents.value


async def test_every_language_is_glossed_and_shown_in_its_own_fence(
    polyglot: Path, start_lsp: StartLsp, llm: LLMServer
) -> None:
    session = await start_lsp(polyglot)
    await session.progress.wait_idle()
    assert sorted(s or "" for s in llm.symbols()) == sorted(GLOSSED)
    # The request names the language in words and fences the code with its tag.
    go_request = next(r for r in llm.requests if r.symbol == "Store.Put")
    go_prompt = "\n".join(m["content"] for m in go_request.body["messages"])
    assert "Language: Go" in go_prompt and "```go\n" in go_prompt

    cases = [
        ("svc/store.go", LINE_PUT, COL_PUT, "Store.Put", "```go\n"),
        ("crate/src/counter.rs", LINE_BUMP, COL_BUMP, "Counter::bump", "```rust\n"),
        ("web/cart.ts", LINE_ADD_ITEM, COL_ADD_ITEM, "Cart.addItem", "```typescript\n"),
    ]
    for rel, line, col, qualname, fence in cases:
        text = markdown(await session.hover(rel, line, col))
        assert text.startswith(f"{qualname} (test model small-model)".replace("_", "\\_")), text
        assert fence in text, text  # the usage snippet, fenced in the file's language
        assert "gloss by small-model · tier small · fresh" in text, text

    # `gloss status` counts spans per language.
    status = as_dict(await session.client.protocol.send_request_async("gloss/status", {}))
    by_language = status["folders"][0]["by_language"]
    assert {name: c["spans"] for name, c in by_language.items()} == {
        "go": 2,
        "rust": 2,
        "typescript": 3,
        "python": 1,
    }
    assert all(c["enriched"] == c["spans"] for c in by_language.values())


async def test_workspace_symbol_finds_definitions_of_every_language_with_their_kinds(
    polyglot: Path, start_lsp: StartLsp
) -> None:
    session = await start_lsp(polyglot)
    await session.progress.wait_idle()

    def only(found: list[types.SymbolInformation], name: str) -> types.SymbolInformation:
        hits = [s for s in found if s.name == name]
        assert len(hits) == 1, found
        return hits[0]

    put = only(await session.symbols("put"), "Put")
    assert (put.kind, put.container_name) == (types.SymbolKind.Method, "Store")
    assert put.location.uri == session.uri("svc/store.go")
    start = put.location.range.start
    assert (start.line, start.character) == (LINE_PUT, COL_PUT)

    store = only(await session.symbols("Store"), "Store")
    assert store.kind == types.SymbolKind.Struct

    bump = only(await session.symbols("bump"), "bump")
    assert (bump.kind, bump.container_name) == (types.SymbolKind.Method, "Counter")
    assert bump.location.uri == session.uri("crate/src/counter.rs")

    counter = only(await session.symbols("counter"), "Counter")
    assert counter.kind == types.SymbolKind.Struct

    add_item = only(await session.symbols("additem"), "addItem")
    assert (add_item.kind, add_item.container_name) == (types.SymbolKind.Method, "Cart")
    cart = only(await session.symbols("cart"), "Cart")
    assert cart.kind == types.SymbolKind.Class


async def test_an_edit_in_a_typescript_buffer_reglosses_only_the_edited_method(
    polyglot: Path, start_lsp: StartLsp, llm: LLMServer
) -> None:
    session = await start_lsp(polyglot)
    await session.progress.wait_idle()
    before = len(llm.requests)
    since = len(session.progress.events)
    uri = session.uri("web/cart.ts")
    session.client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id="typescript", version=1, text=CART_TS
            )
        )
    )
    edited = CART_TS.replace("this.items = [];", "this.items.length = 0;")
    session.client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=edited)],
        )
    )

    def clear_reglossed(events: list[dict[str, Any]]) -> bool:
        return any((e.get("last") or {}).get("symbol") == "Cart.clear" for e in events[since:])

    await session.progress.wait_for(clear_reglossed)
    await session.progress.wait_idle()
    # The method's body changed; the class's outline (member bodies cut) did not.
    assert [r.symbol for r in llm.requests[before:]] == ["Cart.clear"]
    assert "fresh" in markdown(await session.hover("web/cart.ts", LINE_CLEAR, 2))
    assert "fresh" in markdown(await session.hover("web/cart.ts", 1, 13))
    assert "this.items = [];" in (polyglot / "web/cart.ts").read_text()  # never saved

    # The store says which language each span is.
    db = sqlite3.connect(polyglot / ".gloss" / "index.db")
    try:
        languages = dict(db.execute("SELECT qualname, language FROM spans"))
    finally:
        db.close()
    assert languages["Cart.clear"] == "typescript"
    assert languages["Counter::bump"] == "rust"
    assert languages["tidy"] == "python"


async def test_a_store_from_before_languages_upgrades_without_reglossing_python(
    workspace: Path, llm: LLMServer, open_engine: OpenEngine
) -> None:
    """A store written before spans had a language: its Python glosses stay as they
    are, and the Go file beside them is glossed on the next scan."""
    engine = Engine(workspace, load_config(workspace))
    await engine.start()
    try:
        await engine.scan()
        await engine.wait_idle()
    finally:
        await engine.stop()
    db_path = workspace / ".gloss" / "index.db"
    db = sqlite3.connect(db_path)
    try:
        # The spans table exactly as the Gloss before languages made it.
        db.execute("ALTER TABLE spans DROP COLUMN language")
        db.commit()
        glosses_before = db.execute("SELECT * FROM glosses ORDER BY id").fetchall()
        spans_before = db.execute("SELECT content_hash FROM spans ORDER BY id").fetchall()
    finally:
        db.close()
    python_requests = len(llm.requests)

    write_files(workspace, {"svc/store.go": STORE_GO})
    engine = await open_engine(workspace)
    report = await engine.scan()
    await engine.wait_idle()
    status = await engine.status()
    assert report.parsed == 1  # only the new file: unchanged Python is not re-read
    assert sorted(r.symbol or "" for r in llm.requests[python_requests:]) == [
        "Store",
        "Store.Put",
    ]
    assert {k: v.spans for k, v in status.by_language.items()} == {"python": 5, "go": 2}
    db = sqlite3.connect(db_path)
    try:
        assert (
            db.execute("SELECT * FROM glosses ORDER BY id").fetchall()[: len(glosses_before)]
            == glosses_before
        )
        python = db.execute(
            "SELECT content_hash FROM spans WHERE language = 'python' ORDER BY id"
        ).fetchall()
        assert python == spans_before
    finally:
        db.close()
