"""The engine's side of edits: buffers saved or paused in, files changed or gone on disk.

A changed file's spans replace its old ones in the store, and only the spans
whose text changed are queued, at the edit's priority; a file that went takes
its queued spans with it, and the user is told why. `Engine` inherits this;
what it uses of the engine is declared below.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from enrich_core.records.span import SpanRecord
from enrich_core.records.status import DroppedSpans
from enrich_core.run.scheduler import Priority, Scheduler, SpanRef
from enrich_core.source.discovery import SkippedFile
from enrich_core.source.indexer import Indexer, SpanTexts
from enrich_core.source.parsed_file import ParsedFile
from enrich_core.store.access import StoreAccess
from enrich_core.store.health import STORE_ERRORS
from enrich_core.store.reads import Store
from enrich_core.store.write_ops import RemoveFiles, ReplaceFile, SkipFile
from enrich_core.store.writer import Writer

log = logging.getLogger(__name__)

SCAN_CHUNK_FILES = 64
DropListener = Callable[[str, DroppedSpans], None]
# Files whose queued spans were dropped, remembered for status: the newest this many.
DROPPED_FILES_KEPT = 100


def span_ref(record: SpanRecord) -> SpanRef:
    return SpanRef(record.path, record.qualname, record.content_hash, record.start_line)


class EditHandling:
    access: StoreAccess
    writer: Writer
    indexer: Indexer
    texts: SpanTexts
    scheduler: Scheduler
    dropped: dict[str, DroppedSpans]
    _drop_listeners: list[DropListener]
    _unsaved: set[str]
    _scan_lock: asyncio.Lock

    if TYPE_CHECKING:  # the engine's own, used here

        @property
        def writing(self) -> bool: ...

        def link_outside(self, rel: str) -> Path | None: ...

        def _store(self) -> Store: ...

    async def document_changed(self, rel: str, text: str, *, saved: bool = True) -> int:
        """The user saved, or paused typing in, an editor buffer: its changed spans go first.

        An unsaved buffer's spans are stored with no disk stamp, so the next scan
        or a close without saving reads the disk's text again."""
        if not self.writing:
            return 0  # the Gloss that writes the store reads the file when it is saved
        try:
            return await self._document_changed(rel, text, saved)
        except STORE_ERRORS as exc:
            self.access.read_failed(exc)  # told; the edit is read again after a rebuild
            return 0

    async def _document_changed(self, rel: str, text: str, saved: bool) -> int:
        if await asyncio.to_thread(self.link_outside, rel) is not None:
            return 0  # the scan never follows such a link; an editor opening one changes nothing
        parsed = await asyncio.to_thread(self.indexer.parse_text, rel, text, saved)
        if isinstance(parsed, SkippedFile):
            self.writer.submit(SkipFile(parsed.path, parsed.reason))
            return 0
        self.texts.set_buffer(parsed)
        if saved:
            self._unsaved.discard(rel)
        else:
            self._unsaved.add(rel)
        return await self._replace(parsed, Priority.EDITED)

    async def document_closed(self, rel: str) -> None:
        self.texts.drop_buffer(rel)
        if not self.writing:
            return
        if rel in self._unsaved:
            self._unsaved.discard(rel)
            await self.files_changed([rel])  # closed without saving: the disk is the truth

    async def files_changed(self, rels: Iterable[str]) -> int:
        """Files changed on disk (watcher): re-parse each, queue what lost its gloss.

        Waits for a scan in progress: the scan may have read a file before it
        changed, and the read made here, after it, must be the one that lands."""
        if not self.writing:
            return 0
        try:
            async with self._scan_lock:
                return await self._files_changed(rels)
        except STORE_ERRORS as exc:
            self.access.read_failed(exc)
            return 0

    async def _files_changed(self, rels: Iterable[str], in_flight: SpanRef | None = None) -> int:
        # A burst (a branch switch) can name thousands of files: they are parsed
        # a chunk per thread hop, and only a chunk's parses are held at once.
        # Oldest change first, so the most recent sorts first in the disk class.
        ordered = await asyncio.to_thread(self.indexer.oldest_first, rels)
        queued = 0
        gone: list[str] = []
        for i in range(0, len(ordered), SCAN_CHUNK_FILES):
            chunk = ordered[i : i + SCAN_CHUNK_FILES]
            results = await asyncio.to_thread(self.indexer.parse_paths, chunk)
            for rel, result in zip(chunk, results, strict=True):
                if result is None:
                    gone.append(rel)
                elif isinstance(result, SkippedFile):
                    self.writer.submit(SkipFile(result.path, result.reason))
                    await self._drop_file(rel, f"is skipped now: {result.reason}", in_flight)
                else:
                    queued += await self._replace(result, Priority.DISK)
        if gone:
            self.writer.submit(RemoveFiles(gone))
            await self._drop_queued_of(gone, in_flight)
        return queued

    async def _drop_queued_of(self, gone: list[str], in_flight: SpanRef | None = None) -> None:
        if gone:
            reasons = await asyncio.to_thread(lambda: [self.indexer.gone_reason(r) for r in gone])
            for rel, reason in zip(gone, reasons, strict=True):
                await self._drop_file(rel, reason, in_flight)

    async def _drop_file(self, rel: str, reason: str, in_flight: SpanRef | None) -> None:
        """A file went (or is skipped now): its queued spans leave the queue and the
        user is told why. Text it shared with another file is queued for that one."""
        hashes = self.scheduler.forget_file(rel)
        held = in_flight if in_flight is not None and in_flight.path == rel else None
        if held is not None:
            hashes.add(held.content_hash)
        if not hashes:
            return
        elsewhere = await self._store().hashes_elsewhere(hashes, rel)
        if elsewhere:
            for item in await self._store().unglossed_spans():
                h = item.span.content_hash
                if h in elsewhere and item.span.path != rel:
                    ref = span_ref(item.span)
                    if held is not None and h == held.content_hash:
                        self.scheduler.hand_over(ref, Priority.BACKLOG)
                    else:
                        self.scheduler.submit(ref, Priority.BACKLOG)
        count = len(hashes - elsewhere)
        if not count:
            return
        before = self.dropped.pop(rel, None)
        self.dropped[rel] = DroppedSpans(count + (before.spans if before else 0), reason)
        while len(self.dropped) > DROPPED_FILES_KEPT:
            del self.dropped[next(iter(self.dropped))]
        log.info("%d spans dropped: %s %s", count, rel, reason)
        for listener in self._drop_listeners:
            try:
                listener(rel, DroppedSpans(count, reason))
            except Exception:
                log.exception("a drop listener failed")

    async def _replace(self, parsed: ParsedFile, priority: Priority) -> int:
        """Store a file's new spans; queue, at `priority`, only those whose text changed.

        A span whose text the file already had keeps its place: in the backlog,
        or waiting out a failure's backoff. Promoting a whole file still in the
        backlog would put its unchanged functions ahead of the one just edited."""
        store = self._store()
        self.dropped.pop(parsed.path, None)  # the file is back: what it holds now counts
        # Read before the replace is submitted: the writer may commit it any time after.
        had = {record.content_hash for record in await store.spans_in_file(parsed.path)}
        self.writer.submit(
            ReplaceFile(parsed.path, parsed.mtime_ns, parsed.size, parsed.spans, parsed.unparsed)
        )
        self.texts.remember(parsed)  # its changed spans are glossed next: no second parse
        hashes = [s.content_hash for s in parsed.spans]
        glossed = await store.glossed_hashes(hashes)
        gone = self.scheduler.queued_in(parsed.path) - set(hashes)
        if gone:
            # Text that was edited away: the backends' time goes to the newer
            # text. Identical text in another file keeps its place.
            elsewhere = await store.hashes_elsewhere(gone, parsed.path)
            self.scheduler.forget(parsed.path, gone - elsewhere)
        queued = 0
        ordered = [
            s
            for s in parsed.in_gloss_order()
            if s.content_hash not in glossed and s.content_hash not in had
        ]
        if priority is Priority.DISK:
            ordered.reverse()  # the disk class takes the latest submitted first
        for s in ordered:
            ref = SpanRef(s.path, s.qualname, s.content_hash, s.start_line)
            queued += self.scheduler.submit(ref, priority)
        return queued
