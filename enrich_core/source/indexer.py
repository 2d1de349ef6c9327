"""From files to spans: the incremental scan, and finding a queued span's text again.

Everything here is synchronous and does file I/O and parsing: the engine runs
it in a worker thread (`asyncio.to_thread`), never on the event loop. A file
whose size and mtime match the store is not read again. Ignored and
secret-looking files are never opened (discovery decides before any read).
"""

from __future__ import annotations

import logging
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from enrich_core.records.span import Span
from enrich_core.source.discovery import (
    SkippedFile,
    SourceFile,
    WorkspaceFilter,
    scan_workspace,
)
from enrich_core.source.file_context import FileContext
from enrich_core.source.not_authored import generated_reason
from enrich_core.source.parse_pool import Job, ParsePool
from enrich_core.source.parsed_file import (
    ParsedFile,
    cut_text,
    parse_source_file,
    parsed_file,
)

if TYPE_CHECKING:
    from enrich_core.config import IndexConfig

logger = logging.getLogger(__name__)


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
                    # here while the workers start, unless they were started before.
                    pool.start()
                    if pool.warm:
                        job = pool.submit(changed)
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
        cut = cut_text(rel, text)
        if isinstance(cut, SkippedFile):
            return cut
        mtime_ns, size = 0, -1
        if saved:
            try:
                st = (self.root / rel).stat()
                mtime_ns, size = st.st_mtime_ns, st.st_size
            except OSError:
                pass
        return parsed_file(rel, mtime_ns, size, cut)


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


# What the cache holds for a span besides its text, signature and docstring
# (its record's fields, measured with tracemalloc: ~1.6 KB for a small function).
SPAN_OVERHEAD_BYTES = 1600
# Enough for a first index of ~8,000 small spans, with no second parse of any
# file; a bigger backlog parses the files past it once more when their turn
# comes. Spans leave as they are glossed, so the cache is empty after a backlog.
SPAN_TEXTS_BUDGET_BYTES = 16 * 1024 * 1024


FileStamp = tuple[int, int]  # (mtime_ns, size), as the store's files table keeps them


def _span_bytes(span: Span) -> int:
    return SPAN_OVERHEAD_BYTES + len(span.text) + len(span.signature) + len(span.docstring or "")


class SpanTexts:
    """Finds a queued span's text when its turn comes, by path and content hash.

    The content hash identifies the text exactly, so a cached span whose hash
    matches is the right text whatever happened to the file since: no stat, no
    read. The scan keeps the spans it parses, up to a budget of bytes, so the
    backlog after a first scan needs no second parse (which cost more CPU than
    everything else Gloss does for a span); a miss parses the file once more and
    keeps its spans. A span leaves when it is taken to be glossed. Editor buffers
    win over the disk. Touched only from the event loop; a miss is parsed in a
    thread by `Indexer.parse_path` and handed back through `remember`.
    """

    def __init__(self, budget_bytes: int = SPAN_TEXTS_BUDGET_BYTES) -> None:
        self._budget = budget_bytes
        self._cache: OrderedDict[str, dict[str, Span]] = OrderedDict()
        self._sizes: dict[str, int] = {}
        self._stamps: dict[str, FileStamp] = {}
        self._bytes = 0
        self._buffers: dict[str, dict[str, Span]] = {}
        # What each file held in either tells a reader of its spans (imports,
        # outlines): kept while any of its spans waits, for the prompt's context.
        self._contexts: dict[str, FileContext] = {}
        self._buffer_contexts: dict[str, FileContext] = {}

    def set_buffer(self, parsed: ParsedFile) -> None:
        self._buffers[parsed.path] = {s.content_hash: s for s in parsed.spans}
        self._buffer_contexts[parsed.path] = FileContext.of(parsed)

    def drop_buffer(self, rel: str) -> None:
        self._buffers.pop(rel, None)
        self._buffer_contexts.pop(rel, None)

    def context(self, rel: str, content_hash: str) -> FileContext | None:
        """The file context of the parse `take` would give this span from, if at hand:
        ask before taking (the file's context goes with its last span)."""
        buffer = self._buffers.get(rel)
        if buffer is not None and content_hash in buffer:
            return self._buffer_contexts.get(rel)
        table = self._cache.get(rel)
        if table is None or content_hash not in table:
            return None
        return self._contexts.get(rel)

    def take(
        self, rel: str, content_hash: str, stamp_now: Callable[[str], FileStamp | None]
    ) -> Span | None:
        """The span if its file's parse is at hand (the cache lets go of it); None
        means: parse the file. `stamp_now` gives the file's (mtime_ns, size) on disk,
        None if it is gone: a file changed or deleted since it was parsed is parsed
        again, so what became of it is stored and told."""
        buffer = self._buffers.get(rel)
        if buffer is not None and content_hash in buffer:
            return buffer[content_hash]
        table = self._cache.get(rel)
        if table is None or content_hash not in table:
            return None
        if stamp_now(rel) != self._stamps[rel]:
            self._forget(rel)
            return None
        span = table.pop(content_hash)
        size = _span_bytes(span)
        self._bytes -= size
        self._sizes[rel] -= size
        if table:
            self._cache.move_to_end(rel)
        else:
            self._forget(rel)
        return span

    def remember(self, parsed: ParsedFile) -> None:
        self._forget(parsed.path)
        self._cache[parsed.path] = {s.content_hash: s for s in parsed.spans}
        self._stamps[parsed.path] = (parsed.mtime_ns, parsed.size)
        context = self._contexts[parsed.path] = FileContext.of(parsed)
        size = sum(_span_bytes(s) for s in self._cache[parsed.path].values())
        size += context.size_bytes
        self._sizes[parsed.path] = size
        self._bytes += size
        while self._bytes > self._budget and len(self._cache) > 1:
            self._forget(next(iter(self._cache)))  # the least recently used file

    def _forget(self, rel: str) -> None:
        if self._cache.pop(rel, None) is not None:
            self._bytes -= self._sizes.pop(rel)
            del self._stamps[rel]
            del self._contexts[rel]

    def has_room(self) -> bool:
        return self._bytes < self._budget
