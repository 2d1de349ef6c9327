"""gloss/search: a custom request finding symbols by name and by what their gloss says.

Editors re-filter workspace/symbol by name (VS Code drops every result whose
name does not fuzzy-match the query), so a function found by its gloss never
reaches the screen there; a client asks `gloss/search` and shows what it
answers. Params `{"query": str, "limit": int}` (limit defaults to 50);
result: a list of `{"name", "qualname", "kind", "location", "summary",
"score", "matched"}` best first across every workspace folder
(docs/client-protocol.md). An empty query answers `[]`; a query past the
bounds, or params of the wrong shape, get InvalidParams saying why.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from pygls.exceptions import JsonRpcInvalidParams
from pygls.uris import from_fs_path

from enrich_core.store.search import SearchHit, query_refusal
from server.lsp import GlossServer
from server.positions import Converter, NameRange, convert_all

SEARCH_METHOD = "gloss/search"
DEFAULT_LIMIT = 50
MAX_LIMIT = 500


def setup(server: GlossServer) -> None:
    server.feature(SEARCH_METHOD)(search)


async def search(ls: GlossServer, params: Any) -> list[dict[str, Any]]:
    query, limit = _read_params(params)
    if not query.strip():
        return []
    if not await ls.wait_ready():
        return []
    engines = ls.engines()
    results = await asyncio.gather(*(e.search(query, limit) for e in engines))
    # Folders ranked apart are merged by score; a folder's own order decides its ties.
    merged = sorted(
        (
            (hit.score, rank, hit, engine.root)
            for engine, hits in zip(engines, results, strict=True)
            for rank, hit in enumerate(hits)
        ),
        key=lambda t: (-t[0], t[1]),
    )[:limit]
    ranges = [name_range(hit, root) for _, _, hit, root in merged]
    columns = await convert_all(ls, ranges)
    return [
        hit_json(hit, uri, start, end)
        for (_, _, hit, _), (uri, *_), (start, end) in zip(merged, ranges, columns, strict=True)
    ]


def _read_params(params: Any) -> tuple[str, int]:
    """(query, limit) from the params, or InvalidParams naming what is wrong."""
    fields = _as_mapping(params)
    if fields is None:
        raise JsonRpcInvalidParams(
            f'{SEARCH_METHOD}: expected params {{"query": str, "limit": int}}'
        )
    query = fields.get("query")
    if not isinstance(query, str):
        raise JsonRpcInvalidParams(f"{SEARCH_METHOD}: query must be a string, got {query!r}")
    limit = fields.get("limit", DEFAULT_LIMIT)
    if limit is None:
        limit = DEFAULT_LIMIT
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_LIMIT:
        raise JsonRpcInvalidParams(
            f"{SEARCH_METHOD}: limit must be an integer from 1 to {MAX_LIMIT}, got {limit!r}"
        )
    refusal = query_refusal(query)
    if refusal is not None:
        raise JsonRpcInvalidParams(f"{SEARCH_METHOD}: {refusal}")
    return query, limit


def _as_mapping(params: Any) -> Mapping[str, Any] | None:
    # pygls hands a custom request's params over as a namedtuple-like object.
    if isinstance(params, Mapping):
        return params
    as_dict = getattr(params, "_asdict", None)
    if callable(as_dict):
        fields = as_dict()
        return fields if isinstance(fields, Mapping) else None
    return None


@lru_cache(maxsize=16384)
def file_uri(fs_path: str) -> str:
    return from_fs_path(fs_path) or fs_path


def name_range(hit: SearchHit, root: Path) -> NameRange:
    """Where the hit's name is: (uri, path, line, start, end), columns in UTF-16 units."""
    span = hit.span
    fs_path = f"{root}{os.sep}{span.path}"  # a stored path is relative, normalised
    return (file_uri(fs_path), fs_path, span.name_line, span.name_col, span.name_end_col)


def hit_json(hit: SearchHit, uri: str, start: int, end: int) -> dict[str, Any]:
    """One result as the client gets it: the location points at the symbol's name."""
    span = hit.span
    return {
        "name": span.name,
        "qualname": span.qualname,
        "kind": str(span.kind),
        "location": location_json(uri, span.name_line, start, end),
        "summary": hit.summary,
        "score": hit.score,
        "matched": hit.matched,
    }


async def hit_item(hit: SearchHit, fs_path: str, convert: Converter) -> dict[str, Any]:
    """One result with its columns converted by `convert` (the CLI's: UTF-16 as stored)."""
    span = hit.span
    uri = file_uri(fs_path)
    start, end = await convert(uri, fs_path, span.name_line, span.name_col, span.name_end_col)
    return hit_json(hit, uri, start, end)


def location_json(uri: str, line: int, start: int, end: int) -> dict[str, Any]:
    return {
        "uri": uri,
        "range": {
            "start": {"line": line, "character": start},
            "end": {"line": line, "character": end},
        },
    }
