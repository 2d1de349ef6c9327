"""The database file: its schema, additions to older stores, and connections to it.

One SQLite file per workspace (`.gloss/index.db` by default) in WAL mode, so
readers never wait on the writer. The writer opens it with `open_for_writing`
(which also creates the schema); readers use `connect`, which never writes
the file, so reads work from a read-only mount or a full disk. This module
knows the tables; `store` reads them and `writer` writes them; `health` says
whether the file can be used at all.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import aiosqlite

from enrich_core.records.gloss import Gloss
from enrich_core.records.span import SPANS_VERSION
from enrich_core.store.health import StoreError, StoreProblemKind, readonly_uri

# 3: no spans_fts (the trigram index of span names): names are matched in memory
# (store/names.py) since issue 12, and keeping it cost a first scan ~30% of its
# writes. A store of 2 loses it on open; a Gloss of 2 refuses a store of 3 (its
# writer would feed an index it no longer has).
SCHEMA_VERSION = 3
# Tables a store of an older schema has and this one does not: dropped on open.
DROPPED_TABLES = ("spans_fts",)
# Columns added since a table was first created: a store written by an older
# Gloss gains them on open (ALTER TABLE ADD COLUMN), and nothing is re-glossed.
ADDED_COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    "glosses": (
        ("first_tier", "TEXT"),
        ("route", "TEXT"),
        ("trimmed", "TEXT"),
        # What the prompt carried beside the code (GlossResult.context).
        ("context", "TEXT"),
    ),
    # Every span before there were other languages was Python's.
    "spans": (("language", "TEXT NOT NULL DEFAULT 'python'"),),
}

# The FTS5 index of gloss text is an external-content table kept in step by the
# writer (see write_ops.py), not by triggers: a trigger writing FTS5 is ~4x slower.
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY,
    mtime_ns INTEGER NOT NULL,
    size INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS skipped_files (path TEXT PRIMARY KEY, reason TEXT NOT NULL);
-- A file read only in part: which lines a syntax error kept from being parsed.
CREATE TABLE IF NOT EXISTS partial_files (path TEXT PRIMARY KEY, note TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS spans (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL,
    name TEXT NOT NULL,
    qualname TEXT NOT NULL,
    kind TEXT NOT NULL,
    container TEXT,
    start_line INTEGER NOT NULL,
    start_col INTEGER NOT NULL,
    end_line INTEGER NOT NULL,
    end_col INTEGER NOT NULL,
    name_line INTEGER NOT NULL,
    name_col INTEGER NOT NULL,
    name_end_col INTEGER NOT NULL,
    header_end_line INTEGER NOT NULL,
    signature TEXT NOT NULL,
    docstring TEXT,
    content_hash TEXT NOT NULL,
    prev_hash TEXT,
    name_lower TEXT NOT NULL,
    language TEXT NOT NULL DEFAULT 'python'
);
CREATE INDEX IF NOT EXISTS spans_by_path ON spans (path, start_line);
CREATE INDEX IF NOT EXISTS spans_by_name ON spans (name_lower);
CREATE INDEX IF NOT EXISTS spans_by_hash ON spans (content_hash);
CREATE TABLE IF NOT EXISTS glosses (
    id INTEGER PRIMARY KEY,
    content_hash TEXT NOT NULL,
    prompt_version TEXT NOT NULL,
    body TEXT NOT NULL,
    search_text TEXT NOT NULL,
    model TEXT NOT NULL,
    tier TEXT NOT NULL,
    backend TEXT NOT NULL,
    tokens_in INTEGER NOT NULL,
    tokens_out INTEGER NOT NULL,
    tokens_estimated INTEGER NOT NULL,
    duration_ms REAL NOT NULL,
    attempts INTEGER NOT NULL,
    escalations TEXT NOT NULL,
    gpu_peak_vram_mb REAL,
    created_at REAL NOT NULL,
    first_tier TEXT,
    route TEXT,
    trimmed TEXT,
    context TEXT,
    UNIQUE (content_hash, prompt_version)
);
CREATE VIRTUAL TABLE IF NOT EXISTS glosses_fts USING fts5 (
    search_text, content='glosses', content_rowid='id', tokenize='porter unicode61',
    detail='none'
);
-- A gloss's embedding (store/vectors.py): float32 bytes and their sign bits. The
-- AUTOINCREMENT id only grows, so readers load new rows by id; the trigger takes a
-- gloss's vector with it, so no vector outlives its gloss.
CREATE TABLE IF NOT EXISTS gloss_vectors (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    gloss_id INTEGER NOT NULL UNIQUE,
    model TEXT NOT NULL,
    code BLOB NOT NULL,
    vector BLOB NOT NULL
);
CREATE TRIGGER IF NOT EXISTS gloss_vectors_go_with_their_gloss AFTER DELETE ON glosses
BEGIN
    DELETE FROM gloss_vectors WHERE gloss_id = old.id;
END;
CREATE TABLE IF NOT EXISTS failures (
    content_hash TEXT NOT NULL,
    prompt_version TEXT NOT NULL,
    reason TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    last_at REAL NOT NULL,
    PRIMARY KEY (content_hash, prompt_version)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
-- What a span's code does, read from it (records/facts.py: CodeFacts.to_json), written
-- with each result for that text. Kept like glosses when the text goes: a text that
-- comes back is served its gloss from the store, with no model call to read them again.
CREATE TABLE IF NOT EXISTS code_facts (content_hash TEXT PRIMARY KEY, facts TEXT NOT NULL)
    WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS llm_requests (
    id INTEGER PRIMARY KEY,
    backend TEXT NOT NULL,
    tier TEXT NOT NULL,
    model TEXT NOT NULL,
    ok INTEGER NOT NULL,
    error TEXT,
    ms REAL NOT NULL,
    tokens_in INTEGER NOT NULL,
    tokens_out INTEGER NOT NULL,
    estimated INTEGER NOT NULL,
    at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS llm_requests_by_backend ON llm_requests (backend, ok, ms);
"""


def open_for_writing(db_path: Path) -> sqlite3.Connection:
    """The write connection: creates the directory, its .gitignore and the schema.

    Returned in autocommit mode (transactions are explicit) and usable only on
    the thread that opened it, which is the writer's.
    """
    db_path.parent.mkdir(parents=True, exist_ok=True)
    ignore = db_path.parent / ".gitignore"
    if db_path.parent.name == ".gloss" and not ignore.exists():
        ignore.write_text("# Gloss's index: generated, never commit it.\n*\n")
    conn = sqlite3.connect(db_path, isolation_level=None)
    try:
        _prepare(conn, db_path)
    except BaseException:
        conn.close()
        raise
    return conn


def _prepare(conn: sqlite3.Connection, db_path: Path) -> None:
    conn.execute("PRAGMA busy_timeout = 5000")
    newer = _newer_schema(conn)
    if newer is not None:
        # Its glosses are a newer Gloss's paid-for work: never written over.
        raise StoreError(
            db_path,
            StoreProblemKind.NEWER,
            f"schema version {newer}; this Gloss reads up to {SCHEMA_VERSION}",
        )
    conn.execute("PRAGMA journal_mode = WAL")
    # WAL + NORMAL: a commit is durable against a process crash; only an OS
    # crash can lose the last commits, never corrupt the file.
    conn.execute("PRAGMA synchronous = NORMAL")
    # The tables and the schema version appear together: a reader looking at a store
    # being made never sees tables without Gloss's mark (which means another
    # program's database, health.inspect).
    try:
        conn.executescript(
            f"BEGIN IMMEDIATE;\n{SCHEMA}\nINSERT OR IGNORE INTO meta (key, value) "
            f"VALUES ('schema_version', '{SCHEMA_VERSION}');\nCOMMIT;"
        )
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    for table in DROPPED_TABLES:
        if conn.execute("SELECT 1 FROM sqlite_schema WHERE name = ?", (table,)).fetchone():
            conn.execute(f"DROP TABLE {table}")
    for table, columns in ADDED_COLUMNS.items():
        have = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
        for name, decl in columns:
            if name not in have:
                conn.execute(f"ALTER TABLE {table} ADD COLUMN {name} {decl}")
    # Written only when it changes: opening a store on a full disk writes nothing.
    row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    if row is None or row[0] != str(SCHEMA_VERSION):
        _set_meta(conn, "schema_version", str(SCHEMA_VERSION))
    row = conn.execute("SELECT value FROM meta WHERE key = 'spans_version'").fetchone()
    if row is None or row[0] != SPANS_VERSION:
        # Spans are cut differently now: the next scan re-parses every file (one
        # parse each, no model call for any span whose text is unchanged).
        conn.execute("UPDATE files SET mtime_ns = -1")
        _set_meta(conn, "spans_version", SPANS_VERSION)
    _refresh_search_text(conn)


def _newer_schema(conn: sqlite3.Connection) -> int | None:
    if conn.execute("SELECT 1 FROM sqlite_schema WHERE name = 'meta'").fetchone() is None:
        return None
    row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    if row is None or not str(row[0]).isdigit():
        return None
    return int(row[0]) if int(row[0]) > SCHEMA_VERSION else None


def _set_meta(conn: sqlite3.Connection, key: str, value: str) -> None:
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (key, value),
    )


async def connect(db_path: Path, *, readonly: bool = False) -> aiosqlite.Connection:
    """An aiosqlite connection; unless `readonly`, the schema is created first.

    A `readonly` one never writes the file (SQLite's mode=ro, immutable on a
    read-only mount)."""
    if not readonly:
        await asyncio.to_thread(lambda: open_for_writing(db_path).close())
        conn = await aiosqlite.connect(db_path, isolation_level=None)
    else:
        uri = await asyncio.to_thread(readonly_uri, db_path)
        conn = await aiosqlite.connect(uri, isolation_level=None, uri=True)
    await conn.execute("PRAGMA busy_timeout = 5000")
    if not readonly:
        await conn.execute("PRAGMA journal_mode = WAL")
        await conn.execute("PRAGMA synchronous = NORMAL")
    return conn


async def connect_empty() -> aiosqlite.Connection:
    """An empty store in memory, with the schema: reads of it answer nothing."""
    conn = await aiosqlite.connect(":memory:", isolation_level=None)
    await conn.executescript(SCHEMA)
    return conn


# What gloss-text search indexes (`search_text`). Bump it when that changes: a store
# written before then has its glosses' text rewritten and its index rebuilt on open.
# 2: inputs and outputs too (1 was the summary and the tags).
SEARCH_TEXT_VERSION = "2"
# `search_text`, in SQL, from a stored gloss body.
_SEARCH_TEXT_SQL = (
    "json_extract(body, '$.summary') || char(10) || "
    "coalesce((SELECT group_concat(value, ' ') FROM json_each(body, '$.tags')), '') || "
    "char(10) || "
    "coalesce((SELECT group_concat(value, ' ') FROM json_each(body, '$.inputs')), '') || "
    "char(10) || "
    "coalesce((SELECT group_concat(value, ' ') FROM json_each(body, '$.outputs')), '')"
)


def search_text(gloss: Gloss) -> str:
    """What gloss-text search indexes: the summary, the tags, the inputs and the outputs."""
    return "\n".join(
        (gloss.summary, " ".join(gloss.tags), " ".join(gloss.inputs), " ".join(gloss.outputs))
    )


def _refresh_search_text(conn: sqlite3.Connection) -> None:
    """Glosses stored under an older SEARCH_TEXT_VERSION get today's search text, and
    the index is rebuilt from it (in SQLite, a few seconds at 100,000 glosses). On a
    full or read-only disk it is left for a later open: search works on the old text."""
    row = conn.execute("SELECT value FROM meta WHERE key = 'search_text_version'").fetchone()
    if row is not None and row[0] == SEARCH_TEXT_VERSION:
        return
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(f"UPDATE glosses SET search_text = {_SEARCH_TEXT_SQL}")
        conn.execute("INSERT INTO glosses_fts (glosses_fts) VALUES ('rebuild')")
        _set_meta(conn, "search_text_version", SEARCH_TEXT_VERSION)
        conn.execute("COMMIT")
    except sqlite3.OperationalError as exc:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        if exc.sqlite_errorcode & 0xFF not in _WAITED_OUT_CODES:
            raise


# A disk that is full, read-only or failing: the writer waits these out (writer.py).
_WAITED_OUT_CODES = (sqlite3.SQLITE_FULL, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_IOERR)
