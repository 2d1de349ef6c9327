"""The stored glosses of functions a span calls: what a prompt may say of its callees.

Run/span_context.py resolves a span's calls by name and import; this reads, in one
go, the glosses of the texts it found in the span's own file (by content hash) and
the glossed functions of other files that bear a called name. Only what a model
wrote is read: the summary of a stored gloss, never anything made up for a callee
without one. A gloss written by an older prompt still describes the same text, so
it counts; the current prompt's wins when both exist.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection
from dataclasses import dataclass, field

__all__ = ["CALLEE_ROWS", "CalleeGlosses", "GlossedCallable", "read_callee_glosses"]

# Rows read for the called names at most: a common name (`get`, `save`) can have
# hundreds of glossed namesakes, and only those an import names are kept.
CALLEE_ROWS = 200
_CALLABLE_KINDS = ("function", "async_function", "method", "async_method")


@dataclass(frozen=True, slots=True)
class GlossedCallable:
    """A glossed function or method of the workspace, as a callee candidate."""

    path: str
    name: str
    qualname: str
    container: str | None
    content_hash: str
    summary: str | None  # its gloss's summary as the model wrote it; None: not glossed


@dataclass(frozen=True, slots=True)
class CalleeGlosses:
    by_hash: dict[str, str] = field(default_factory=dict)  # content hash -> summary
    named: tuple[GlossedCallable, ...] = ()  # namesakes in other files, in path order


def read_callee_glosses(
    conn: sqlite3.Connection,
    hashes: Collection[str],
    names: Collection[str],
    outside: str,
    prompt_version: str,
) -> CalleeGlosses:
    """Summaries of the glosses of `hashes`, and the functions and methods named one
    of `names` (exactly) in files other than `outside`, with their glosses' summaries
    (None for one not glossed yet: the engine may hold its gloss, not yet committed)."""
    by_hash: dict[str, str] = {}
    if hashes:
        listed = list(hashes)
        marks = ",".join("?" * len(listed))
        # Ordered so the current prompt's newest gloss is the last one kept.
        for content_hash, summary in conn.execute(
            "SELECT content_hash, json_extract(body, '$.summary') FROM glosses "
            f"WHERE content_hash IN ({marks}) ORDER BY prompt_version = ?, created_at",
            (*listed, prompt_version),
        ):
            if isinstance(summary, str) and summary.strip():
                by_hash[content_hash] = summary
    named: dict[tuple[str, str], GlossedCallable] = {}
    wanted = set(names)
    if wanted:
        lowered = sorted({n.lower() for n in wanted})
        marks = ",".join("?" * len(lowered))
        kinds = ",".join("?" * len(_CALLABLE_KINDS))
        rows = conn.execute(
            "SELECT s.path, s.name, s.qualname, s.container, s.content_hash, "
            "json_extract(g.body, '$.summary') FROM spans s "
            "LEFT JOIN glosses g ON g.content_hash = s.content_hash "
            f"WHERE s.name_lower IN ({marks}) AND s.kind IN ({kinds}) AND s.path != ? "
            "ORDER BY s.path, s.start_line, g.prompt_version = ?, g.created_at LIMIT ?",
            (*lowered, *_CALLABLE_KINDS, outside, prompt_version, CALLEE_ROWS),
        )
        for path, name, qualname, container, content_hash, summary in rows:
            if name not in wanted:
                continue
            if not (isinstance(summary, str) and summary.strip()):
                summary = None
                if (path, qualname) in named:
                    continue  # the namesake's gloss read before stands
            named[(path, qualname)] = GlossedCallable(
                path, name, qualname, container, content_hash, summary
            )
    return CalleeGlosses(by_hash, tuple(named.values()))
