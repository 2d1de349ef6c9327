"""From files to spans: the incremental scan, and finding a queued span's text again.

Everything here is synchronous and does file I/O and parsing: the engine runs
it in a worker thread (`asyncio.to_thread`), never on the event loop. A file
whose size and mtime match the store is not read again. Ignored and
secret-looking files are never opened (discovery decides before any read).
"""

from __future__ import annotations

import logging
from collections import OrderedDict, deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from enrich_core.records.span import Span
from enrich_core.source.discovery import (
    SkippedFile,
    SourceFile,
    WorkspaceFilter,
    read_source,
    scan_workspace,
)
from enrich_core.source.not_authored import generated_reason
from enrich_core.source.spans import Cut, cut_spans

if TYPE_CHECKING:
    # A type only: the parse workers import this module, and need no configuration.
    from enrich_core.config import IndexConfig
    from enrich_core.source.parse_pool import Job, ParsePool

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ParsedFile:
    path: str
    mtime_ns: int
    size: int
    spans: list[Span]
    # For people: the lines a syntax error kept from being parsed, if any.
    unparsed: str | None = None


@dataclass(slots=True)
class ScanChunk:
    parsed: list[ParsedFile] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)
    seen: list[str] = field(default_factory=list)  # every wanted path, changed or not
    unchanged: int = 0


class Indexer:
    def __init__(self, root: Path, config: IndexConfig) -> None:
        self.root = root
        self.config = config
        self.filter = self._new_filter()

    def _new_filter(self) -> WorkspaceFilter:
        return WorkspaceFilter(self.root, self.config.exclude, self.config.skip_dirs)

    def reload_filter(self) -> None:
        """After a .gitignore changed."""
        self.filter = self._new_filter()

    def walk(self) -> Iterator[SourceFile | SkippedFile]:
        """The wanted files in file order, and what is skipped unread on the way."""
        return scan_workspace(self.root, self.filter)

    def scan_chunks(
        self,
        files: Iterator[SourceFile | SkippedFile],
        stamps: Mapping[str, tuple[int, int]],
        size: int,
        pool: ParsePool | None = None,
    ) -> Iterator[ScanChunk]:
        """The walk in chunks of up to `size` files, in file order, each file parsed
        unless its size and mtime match `stamps`. With a `pool`, once a chunk holds
        enough changed files (a first scan, a branch switch) the pool's workers start,
        and later chunks are parsed by them while this thread hands on the ones done:
        a few chunks are planned ahead so the workers never wait for the walk. The
        first such chunk is parsed here while the workers start."""
        ahead: deque[tuple[ScanChunk, list[SourceFile], Job | None]] = deque()
        done = False
        while True:
            while not done and len(ahead) < (pool.depth if pool and pool.started else 1):
                planned = _plan_chunk(files, stamps, size)
                if planned is None:
                    done = True
                    break
                chunk, changed = planned
                job: Job | None = None
                if pool is not None and pool.started:
                    job = pool.submit(changed)
                elif pool is not None and len(chunk.seen) == size and pool.wants(len(changed)):
                    # A full chunk: the walk likely goes on. This one is parsed
                    # here while the workers start.
                    pool.start()
                ahead.append((chunk, changed, job))
            if not ahead:
                return
            chunk, changed, job = ahead.popleft()
            if job is not None and pool is not None:
                results = pool.results(job)
            else:
                results = [self.parse_file(f) for f in changed]
            _add_results(chunk, results)
            yield chunk

    def parse_file(self, f: SourceFile) -> ParsedFile | SkippedFile:
        return parse_source_file(f, self.config.max_file_bytes)

    def parse_path(self, rel: str) -> ParsedFile | SkippedFile | None:
        """A changed path: parsed, skipped with a reason, or None if gone or not wanted."""
        if not self.filter.wants(rel):
            return None
        abs_path = self.root / rel
        try:
            st = abs_path.stat()
        except FileNotFoundError:
            return None
        except OSError as exc:
            return SkippedFile(rel, f"unreadable: {type(exc).__name__}: {exc.strerror or exc}")
        if not abs_path.is_file():
            return None
        return self.parse_file(SourceFile(rel, abs_path, st.st_size, st.st_mtime_ns))

    def gone_reason(self, rel: str) -> str:
        """Why a path `parse_path` found nothing at is no longer indexed, for the user."""
        abs_path = self.root / rel
        if not abs_path.exists():
            return "was deleted"
        if not abs_path.is_file():
            return "is no longer a file"
        return "is no longer indexed (ignored or excluded)"

    def parse_paths(self, rels: list[str]) -> list[ParsedFile | SkippedFile | None]:
        return [self.parse_path(rel) for rel in rels]

    def oldest_first(self, rels: Iterable[str]) -> list[str]:
        """Changed paths by modification time (a deleted one counts as oldest)."""

        def mtime(rel: str) -> int:
            try:
                return (self.root / rel).stat().st_mtime_ns
            except OSError:
                return 0

        return sorted(rels, key=mtime)

    def parse_text(self, rel: str, text: str, saved: bool = True) -> ParsedFile | SkippedFile:
        """An editor buffer: its text wins over the disk's. Unsaved (or a file not on
        disk yet), it gets no stamp, so the next scan reads the disk again. A buffer
        whose first lines say it is generated is skipped, as the scan skips the file."""
        generated = generated_reason(text)
        if generated is not None:
            return SkippedFile(rel, generated)
        cut = _cut(rel, text)
        if isinstance(cut, SkippedFile):
            return cut
        mtime_ns, size = 0, -1
        if saved:
            try:
                st = (self.root / rel).stat()
                mtime_ns, size = st.st_mtime_ns, st.st_size
            except OSError:
                pass
        return ParsedFile(rel, mtime_ns, size, cut.spans, _unparsed_note(cut))


def parse_source_file(f: SourceFile, max_file_bytes: int) -> ParsedFile | SkippedFile:
    """A walked file read and cut: its spans, or why it is skipped. Pure of any
    workspace state, so a parse worker process runs it as the scan's thread does."""
    text = read_source(f, max_file_bytes)
    if isinstance(text, SkippedFile):
        return text
    cut = _cut(f.path, text)
    if isinstance(cut, SkippedFile):
        return cut
    return ParsedFile(f.path, f.mtime_ns, f.size, cut.spans, _unparsed_note(cut))


def _plan_chunk(
    files: Iterator[SourceFile | SkippedFile],
    stamps: Mapping[str, tuple[int, int]],
    size: int,
) -> tuple[ScanChunk, list[SourceFile]] | None:
    """Up to `size` wanted files from the walk: the chunk (skips and unchanged files
    counted) and the files in it to parse; None when the walk is done."""
    chunk = ScanChunk()
    changed: list[SourceFile] = []
    for f in files:
        if isinstance(f, SkippedFile):
            chunk.skipped.append(f)
            continue
        chunk.seen.append(f.path)
        if stamps.get(f.path) == (f.mtime_ns, f.size):
            chunk.unchanged += 1
        else:
            changed.append(f)
        if len(chunk.seen) >= size:
            break
    if not chunk.seen and not chunk.skipped:
        return None
    return chunk, changed


def _add_results(chunk: ScanChunk, results: Iterable[ParsedFile | SkippedFile]) -> None:
    for result in results:
        if isinstance(result, SkippedFile):
            chunk.skipped.append(result)
        else:
            chunk.parsed.append(result)


def _unparsed_note(cut: Cut) -> str | None:
    if not cut.unparsed:
        return None
    return "; ".join(u.describe() for u in cut.unparsed) + "; definitions there may be missing"


def _cut(rel: str, text: str) -> Cut | SkippedFile:
    """The file's spans; a file the extractor fails on is skipped with the reason,
    never the end of the scan (one odd file in twelve languages must not stop the
    other ten thousand)."""
    try:
        return cut_spans(rel, text)
    except Exception as error:  # a bug in a grammar, a query or the extractor
        logger.exception("cutting %s into spans failed", rel)
        return SkippedFile(
            rel, f"could not be cut into spans: {type(error).__name__}: {error} (a Gloss bug)"
        )


class SpanTexts:
    """Finds a queued span's text when its turn comes, by path and content hash.

    The content hash identifies the text exactly, so a cached span whose hash
    matches is the right text whatever happened to the file since: no stat, no
    read. The backlog is glossed in file order, so consecutive spans come from
    the same file, and a small cache of parsed files (filled by the scan as it
    parses, then on a miss) costs one parse per file. Editor buffers win over
    the disk. Touched only from the event loop; a miss is parsed in a thread by
    `Indexer.parse_path` and handed back through `remember`.
    """

    def __init__(self, capacity: int = 8) -> None:
        self._capacity = capacity
        self._cache: OrderedDict[str, dict[str, Span]] = OrderedDict()
        self._buffers: dict[str, dict[str, Span]] = {}

    def set_buffer(self, parsed: ParsedFile) -> None:
        self._buffers[parsed.path] = {s.content_hash: s for s in parsed.spans}

    def drop_buffer(self, rel: str) -> None:
        self._buffers.pop(rel, None)

    def cached(self, rel: str, content_hash: str) -> Span | None:
        """The span if its file's parse is at hand; None means: parse the file."""
        for table in (self._buffers.get(rel), self._cache.get(rel)):
            if table is not None and content_hash in table:
                if table is self._cache.get(rel):
                    self._cache.move_to_end(rel)
                return table[content_hash]
        return None

    def remember(self, parsed: ParsedFile) -> None:
        self._cache[parsed.path] = {s.content_hash: s for s in parsed.spans}
        self._cache.move_to_end(parsed.path)
        while len(self._cache) > self._capacity:
            self._cache.popitem(last=False)

    def has_room(self) -> bool:
        return len(self._cache) < self._capacity
