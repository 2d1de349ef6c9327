"""gloss/progress: a notification with the queue's state, for status bars and tests.

Sent after a folder's scan and after every committed gloss result (so a client
waits on it instead of polling). Params: root, scanned, queued, in_flight,
by_priority, and the span just finished (`last`: path, symbol, ok, tier, reason).
"""

from __future__ import annotations

from typing import Any

from enrich_core.records.result import GlossResult
from enrich_core.run.engine import Engine
from enrich_core.run.scheduler import SpanRef
from server.lsp import GlossServer

PROGRESS_METHOD = "gloss/progress"


def attach(ls: GlossServer, engine: Engine) -> None:
    def on_result(ref: SpanRef, result: GlossResult) -> None:
        last = {
            "path": ref.path,
            "symbol": ref.qualname,
            "ok": result.gloss is not None,
            "tier": result.tier,
            "reason": result.failure,
        }
        notify(ls, engine, last=last)

    engine.add_listener(on_result)


def notify(ls: GlossServer, engine: Engine, *, last: dict[str, Any] | None = None) -> None:
    scheduler = engine.scheduler
    ls.protocol.notify(
        PROGRESS_METHOD,
        {
            "root": str(engine.root),
            "scanned": engine.scanned.is_set(),
            "queued": scheduler.queued,
            "in_flight": scheduler.in_flight,
            "by_priority": scheduler.queued_by_priority(),
            "last": last,
            "backends": engine.backend_health(),
        },
    )
