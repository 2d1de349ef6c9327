"""Whether the store file can be used, and what to tell the user when it cannot.

The store is never a reason to crash. Before the writer opens it, `inspect`
looks at the file (a directory? a SQLite header? a schema this Gloss reads?
truncated?) without writing, in 1-5 ms; `full_check` adds SQLite's
`quick_check`, which reads every page: 0.2-0.7 s with a warm page cache and
3.4 s from a cold one on a 200 MB, 100,000-span store (`python -m
bench.store_open [--cold]`), so only `gloss index`, which is about to work for
minutes, runs it; a server opens in ~14 ms and answers hovers at once. Errors
met later (a full disk, a read-only mount, a page found damaged) are named by
`classify`; damage met while running leaves `index.db.needs-check`, so the
next open checks every page (a server that writes the store replaces it at
once: `StoreAccess.rebuild`).

A damaged file or one that is not a database is moved aside, never deleted
(`move_aside`), so nothing the user might want is destroyed. A directory in
the store's place and a store written by a newer Gloss are refused: the first
is the user's data, the second is the newer Gloss's paid-for glosses.
"""

from __future__ import annotations

import enum
import errno
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

SQLITE_HEADER = b"SQLite format 3\x00"
HEADER_BYTES = 100
# The files SQLite keeps beside a WAL database; they travel with it when it is moved.
COMPANION_SUFFIXES = ("-wal", "-shm", "-journal")


class StoreProblemKind(enum.Enum):
    NOT_A_DATABASE = "not a database"
    FOREIGN = "another program's database"
    DAMAGED = "damaged"
    NEWER = "written by a newer Gloss"
    DIRECTORY = "a directory"
    READ_ONLY = "read-only"
    FULL = "on a full disk"
    IO = "failing with I/O errors"

    @property
    def repairable(self) -> bool:
        """Whether a fresh store may replace the file (after it is moved aside)."""
        return self in (
            StoreProblemKind.NOT_A_DATABASE,
            StoreProblemKind.FOREIGN,
            StoreProblemKind.DAMAGED,
        )

    @property
    def passing(self) -> bool:
        """Whether the condition may end by itself (space freed, the disk back)."""
        return self in (StoreProblemKind.FULL, StoreProblemKind.IO)


class StoreError(Exception):
    """The store at `path` cannot be used as it is: `kind`, and SQLite's or the OS's words."""

    def __init__(self, path: Path, kind: StoreProblemKind, detail: str) -> None:
        super().__init__(f"{path}: {kind.value} ({detail})")
        self.path = path
        self.kind = kind
        self.detail = detail

    @property
    def summary(self) -> str:
        """The file and what is wrong with it, in one clause."""
        if self.kind is StoreProblemKind.NOT_A_DATABASE:
            return f"{self.path} is not a Gloss store: not a SQLite database ({self.detail})"
        return f"{self.path} is {self.kind.value} ({self.detail})"

    @property
    def message(self) -> str:
        """One paragraph for the user: the file, what is wrong, what to do."""
        return f"{self.summary}. {ADVICE[self.kind]}"


ADVICE = {
    StoreProblemKind.NOT_A_DATABASE: "Run `gloss index` or start the server to move it aside "
    "and build a fresh store.",
    StoreProblemKind.DAMAGED: "Run `gloss index` or start the server to move it aside and "
    "build a fresh store.",
    StoreProblemKind.FOREIGN: "Run `gloss index` or start the server to move it aside (it "
    "is kept) and build a fresh store, or set [store] path in gloss.toml to another file.",
    StoreProblemKind.NEWER: "Use that newer Gloss, or move the file away to start a fresh "
    "store with this one (its glosses would be asked of the models again).",
    StoreProblemKind.DIRECTORY: "Gloss does not touch it: move it, or set [store] path in "
    "gloss.toml to a file.",
    StoreProblemKind.READ_ONLY: "Gloss shows what is stored, which may be out of date, and "
    "writes nothing.",
    StoreProblemKind.FULL: "Gloss stopped writing and keeps showing what is stored; it "
    "writes again once space is freed, and loses nothing already written.",
    StoreProblemKind.IO: "Gloss stopped writing and keeps showing what is stored; it tries "
    "again later.",
}


@dataclass(frozen=True, slots=True)
class MovedAside:
    """A store that could not be used, moved out of the way, and why."""

    problem: StoreError
    to: Path

    @property
    def message(self) -> str:
        return (
            f"{self.problem.path} was {self.problem.kind.value} ({self.problem.detail}); "
            f"moved it to {self.to.name} and started a fresh store. Glosses of code that "
            "has not changed will be asked of the models again."
        )


def inspect(db_path: Path, schema_version: int) -> StoreError | None:
    """What makes the store unusable, found without writing and in about a millisecond.

    None for a usable store, and for none at all (the writer creates it)."""
    if db_path.is_dir():
        return StoreError(db_path, StoreProblemKind.DIRECTORY, "not a file")
    try:
        with db_path.open("rb") as f:
            header = f.read(HEADER_BYTES)
        size = db_path.stat().st_size
    except FileNotFoundError:
        return None
    except OSError as exc:
        return StoreError(db_path, StoreProblemKind.IO, exc.strerror or str(exc))
    if not header:
        return None  # SQLite reads an empty file as an empty database
    if len(header) < HEADER_BYTES or not header.startswith(SQLITE_HEADER):
        return StoreError(db_path, StoreProblemKind.NOT_A_DATABASE, "no SQLite header")
    truncated = _truncated(db_path, header, size)
    if truncated:
        return StoreError(db_path, StoreProblemKind.DAMAGED, truncated)
    try:
        conn = connect_readonly(db_path)
    except sqlite3.Error as exc:
        return classify(exc, db_path)
    try:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name"
            )
        ]
        row = None
        if "meta" in tables:
            row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        if tables and row is None:
            # Tables, but not Gloss's: another tool's database. Writing Gloss's
            # tables into it would damage the other tool's data.
            named = ", ".join(tables[:3]) + (", ..." if len(tables) > 3 else "")
            return StoreError(db_path, StoreProblemKind.FOREIGN, f"tables {named}; no Gloss schema")
        if row is not None:
            if _int(row[0]) > schema_version:
                return StoreError(
                    db_path,
                    StoreProblemKind.NEWER,
                    f"schema version {row[0]}; this Gloss reads up to {schema_version}",
                )
    except sqlite3.Error as exc:
        return classify(exc, db_path)
    finally:
        conn.close()
    return None


def full_check(db_path: Path, schema_version: int) -> StoreError | None:
    """`inspect`'s findings, else SQLite's quick_check of every page (see the module doc)."""
    found = inspect(db_path, schema_version)
    if found is not None or not db_path.is_file() or db_path.stat().st_size == 0:
        return found
    try:
        conn = connect_readonly(db_path)
        try:
            rows = conn.execute("PRAGMA quick_check(5)").fetchall()
        finally:
            conn.close()
    except sqlite3.Error as exc:
        return classify(exc, db_path)
    if rows and rows[0][0] == "ok":
        return None
    first = "; ".join(str(r[0]) for r in rows[:2])
    return StoreError(db_path, StoreProblemKind.DAMAGED, f"quick_check: {first}")


def connect_readonly(db_path: Path) -> sqlite3.Connection:
    """A connection that never writes the file (see `readonly_uri`)."""
    return sqlite3.connect(readonly_uri(db_path), uri=True)


def readonly_uri(db_path: Path) -> str:
    """A read-only URI for the store; on a read-only mount or a full disk, where SQLite
    cannot make the WAL's shared-memory file (and so no one can be writing it), one
    that reads the file as it stands (immutable)."""
    uri = db_path.resolve().as_uri()
    try:
        conn = sqlite3.connect(f"{uri}?mode=ro", uri=True)
        try:
            conn.execute("SELECT count(*) FROM sqlite_schema").fetchone()
        finally:
            conn.close()
    except sqlite3.OperationalError as exc:
        if exc.sqlite_errorcode & 0xFF not in (sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_IOERR):
            raise
        return f"{uri}?mode=ro&immutable=1"
    return f"{uri}?mode=ro"


def classify(exc: BaseException, db_path: Path) -> StoreError:
    """A SQLite or OS error met while using the store, as a problem the user can act on."""
    if isinstance(exc, StoreError):
        return exc
    code = getattr(exc, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    detail = str(exc) or type(exc).__name__
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return StoreError(db_path, StoreProblemKind.FULL, exc.strerror or detail)
    if primary == sqlite3.SQLITE_FULL:
        return StoreError(db_path, StoreProblemKind.FULL, detail)
    if primary == sqlite3.SQLITE_IOERR and _no_space(db_path):
        # Growing the WAL's shared memory on a full disk is an I/O error to SQLite.
        return StoreError(db_path, StoreProblemKind.FULL, f"{detail}; no space left")
    if primary == sqlite3.SQLITE_NOTADB:
        return StoreError(db_path, StoreProblemKind.NOT_A_DATABASE, detail)
    if primary == sqlite3.SQLITE_CORRUPT:
        return StoreError(db_path, StoreProblemKind.DAMAGED, detail)
    read_only = _read_only_reason(db_path)
    if read_only is not None and (
        primary in (sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_PERM)
        or isinstance(exc, PermissionError)
        or (isinstance(exc, OSError) and exc.errno == errno.EROFS)
    ):
        return StoreError(db_path, StoreProblemKind.READ_ONLY, read_only)
    if isinstance(exc, OSError) and exc.errno == errno.EROFS:
        return StoreError(db_path, StoreProblemKind.READ_ONLY, "read-only file system")
    if primary == sqlite3.SQLITE_READONLY:
        return StoreError(db_path, StoreProblemKind.READ_ONLY, detail)
    return StoreError(db_path, StoreProblemKind.IO, detail)


# What a use of the store can raise about the store itself, for callers that do not
# import SQLite (only `store` does).
STORE_ERRORS: tuple[type[Exception], ...] = (sqlite3.Error, StoreError)


def is_store_error(exc: BaseException) -> bool:
    """Whether `exc` is about the store's file or disk rather than a bug in a query."""
    if isinstance(exc, StoreError | OSError):
        return True
    code = getattr(exc, "sqlite_errorcode", None)
    if not isinstance(code, int):
        return False
    return code & 0xFF in (
        sqlite3.SQLITE_FULL,
        sqlite3.SQLITE_NOTADB,
        sqlite3.SQLITE_CORRUPT,
        sqlite3.SQLITE_READONLY,
        sqlite3.SQLITE_CANTOPEN,
        sqlite3.SQLITE_IOERR,
        sqlite3.SQLITE_PERM,
    )


def move_aside(problem: StoreError, now: float | None = None) -> MovedAside:
    """Rename the store and its WAL files to `<name>.damaged-<time>`; nothing is deleted."""
    db_path = problem.path
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now if now is not None else time.time()))
    target = db_path.with_name(f"{db_path.name}.damaged-{stamp}")
    n = 1
    while target.exists():
        n += 1
        target = db_path.with_name(f"{db_path.name}.damaged-{stamp}-{n}")
    try:
        for suffix in COMPANION_SUFFIXES:
            companion = Path(str(db_path) + suffix)
            if companion.exists():
                companion.rename(Path(str(target) + suffix))
        db_path.rename(target)
    except OSError as exc:
        raise classify(exc, db_path) from exc
    return MovedAside(problem, target)


def writable_reason(directory: Path) -> str | None:
    """Why files cannot be made in `directory` (or the nearest existing parent), or None."""
    here = directory
    while not here.exists() and here != here.parent:
        here = here.parent
    return _read_only_reason(here / "probe")


def _read_only_reason(db_path: Path) -> str | None:
    directory = db_path.parent
    while not directory.exists() and directory != directory.parent:
        directory = directory.parent
    try:
        if os.statvfs(directory).f_flag & os.ST_RDONLY:
            return f"read-only file system at {directory}"
    except OSError:
        return None
    # Root passes access(2) on any mode but a read-only mount; others may not.
    if not os.access(directory, os.W_OK):
        return f"no permission to write in {directory}"
    if db_path.exists() and not os.access(db_path, os.W_OK):
        return f"no permission to write {db_path.name}"
    return None


def _no_space(db_path: Path) -> bool:
    directory = db_path.parent
    try:
        return os.statvfs(directory).f_bavail == 0
    except OSError:
        return False


def _truncated(db_path: Path, header: bytes, size: int) -> str | None:
    """The file is shorter than its header says, and no WAL holds the rest."""
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    # The in-header size is valid only when the change counters agree (SQLite's rule).
    valid = header[24:28] == header[92:96] and pages > 0
    wal = Path(str(db_path) + "-wal")
    if not valid or (wal.exists() and wal.stat().st_size > 0):
        return None
    if page_size < 512 or size >= pages * page_size:
        return None
    return f"truncated: {size} bytes of {pages * page_size}"


def _int(text: object) -> int:
    try:
        return int(str(text))
    except ValueError:
        return 0
