"""gloss/progress: a notification with the queue's state, for status bars and tests.

Sent after a folder's scan and after every committed gloss result (so a client
waits on it instead of polling). Params: root, scanned, queued, in_flight,
by_priority, and the span just finished (`last`: path, symbol, ok, tier, reason).
"""

from __future__ import annotations

from enrich_core.records.result import GlossResult
from enrich_core.records.status import LastResult
from enrich_core.run.engine import Engine
from enrich_core.run.scheduler import SpanRef
from server.lsp import GlossServer

PROGRESS_METHOD = "gloss/progress"


def attach(ls: GlossServer, engine: Engine) -> None:
    def on_result(ref: SpanRef, result: GlossResult) -> None:
        ok = result.gloss is not None
        notify(ls, engine, last=LastResult(ref.path, ref.qualname, ok, result.tier, result.failure))

    engine.add_listener(on_result)


def notify(ls: GlossServer, engine: Engine, *, last: LastResult | None = None) -> None:
    ls.protocol.notify(PROGRESS_METHOD, engine.progress(last).to_json())
