"""$/progress for the backlog, when the client says it can show it.

The client's `window.workDoneProgress` capability is checked, never assumed;
without it nothing is sent (the `gloss/progress` notification still is). One
progress bar per workspace folder's backlog: begun when a scan leaves spans
queued, reported as glosses are committed (at most a few times a second), and
ended when the queue is empty.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass, field

from lsprotocol import types

from enrich_core.records.result import GlossResult
from enrich_core.run.engine import Engine
from enrich_core.run.scheduler import SpanRef
from server.lsp import GlossServer

log = logging.getLogger(__name__)

REPORT_EVERY_S = 0.25


def client_shows_progress(ls: GlossServer) -> bool:
    window = ls.client_capabilities.window
    return bool(window and window.work_done_progress)


@dataclass
class BacklogProgress:
    ls: GlossServer
    engine: Engine
    token: str | None = None
    total: int = 0
    done: int = 0
    last_report: float = field(default=0.0)

    async def start(self, queued: int) -> None:
        if queued == 0 or self.token is not None or not client_shows_progress(self.ls):
            return
        token = f"gloss-backlog-{uuid.uuid4().hex[:8]}"
        try:
            await self.ls.work_done_progress.create_async(token)
        except Exception:
            log.info("the client declined a progress token; no progress bar")
            return
        self.token, self.total, self.done = token, queued, 0
        self.ls.work_done_progress.begin(
            token,
            types.WorkDoneProgressBegin(
                title="Gloss", message=f"0/{queued} spans", percentage=0, cancellable=False
            ),
        )
        if self.engine.outstanding() == 0:  # all done while we asked
            self.ls.work_done_progress.end(token, types.WorkDoneProgressEnd(message="done"))
            self.token = None

    def on_result(self, ref: SpanRef, result: GlossResult) -> None:
        if self.token is None:
            return
        self.done += 1
        outstanding = self.engine.outstanding()
        if outstanding == 0:
            self.ls.work_done_progress.end(
                self.token, types.WorkDoneProgressEnd(message=f"{self.done} spans done")
            )
            self.token = None
            return
        now = time.monotonic()
        if now - self.last_report < REPORT_EVERY_S:
            return
        self.last_report = now
        total = max(self.total, self.done + outstanding)
        self.ls.work_done_progress.report(
            self.token,
            types.WorkDoneProgressReport(
                message=f"{self.done}/{total} spans", percentage=int(100 * self.done / total)
            ),
        )


def attach(ls: GlossServer, engine: Engine) -> BacklogProgress:
    progress = BacklogProgress(ls, engine)
    engine.add_listener(progress.on_result)
    return progress
