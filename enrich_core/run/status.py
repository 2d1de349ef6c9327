"""A workspace's status report: what the store committed joined with what runs now.

The store knows what was committed (counts, request totals, latencies); only
the run stage knows what is happening now (each breaker's state, each
backend's requests in flight, the queue, the GPU). This joins the two per
configured backend and builds the whole `WorkspaceStatus`. Renamed or removed
backends keep their totals, apart, so `backends` holds exactly the configured
ones.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path

from enrich_core.config import Config
from enrich_core.llm.backend import Backend
from enrich_core.llm.breaker import Breaker, BreakerState
from enrich_core.llm.outbound import PROMPT_VERSION
from enrich_core.records.status import (
    BackendHealth,
    BackendStatus,
    BreakerTransition,
    FailureReason,
    GpuStatus,
    QueueStatus,
    RequestTotals,
    WorkspaceStatus,
)
from enrich_core.store.metrics import pipeline_metrics
from enrich_core.store.reads import Store


async def workspace_status(
    store: Store,
    config: Config,
    *,
    root: Path,
    breakers: Mapping[str, Breaker],
    live: Mapping[str, Backend],
    queue: QueueStatus | None,
    gpu: Callable[[], GpuStatus],
) -> WorkspaceStatus:
    """The report for one folder. `gpu` reads NVML, which blocks: it runs in a thread."""
    metrics = await pipeline_metrics(store, config)
    backends, former = backend_report(config, breakers, live, metrics.backend_requests)
    return WorkspaceStatus(
        counts=await store.status_counts(),
        root=str(root),
        prompt_version=PROMPT_VERSION,
        config_source=config.source,
        by_tier=await store.by_tier(),
        by_language=await store.by_language(),
        queue=queue,
        backends=backends,
        former_backends=former,
        tiers=metrics.tiers,
        escalation=metrics.escalation,
        cost=metrics.cost,
        gpu=await asyncio.to_thread(gpu),
        skipped_files=await store.skipped_files(),
        partial_files=await store.partial_files(),
        failure_reasons=tuple(
            FailureReason(reason, n) for reason, n in await store.failure_reasons()
        ),
    )


def backend_health(config: Config, breakers: Mapping[str, Breaker]) -> dict[str, BackendHealth]:
    """Each configured backend's circuit breaker: cheap, for a status bar after every gloss."""
    out: dict[str, BackendHealth] = {}
    for b in config.backends:
        breaker = breakers.get(b.name)
        if breaker is None:
            out[b.name] = BackendHealth(b.url, healthy=None, state="not started", last_error=None)
        else:
            state = breaker.state
            out[b.name] = BackendHealth(
                b.url,
                state is BreakerState.CLOSED,
                state.value,
                breaker.last_error,
                next_probe_s=None if state is BreakerState.CLOSED else round(breaker.retry_in(), 1),
                down_reason=breaker.down_reason,
            )
    return out


def breaker_history(breaker: Breaker | None) -> tuple[BreakerTransition, ...]:
    if breaker is None:
        return ()
    return tuple(
        BreakerTransition(
            datetime.fromtimestamp(t.at, UTC).isoformat(timespec="seconds"), t.state.value, t.error
        )
        for t in breaker.history
    )


def backend_report(
    config: Config,
    breakers: Mapping[str, Breaker],
    live: Mapping[str, Backend],
    request_totals: Mapping[str, RequestTotals],
) -> tuple[dict[str, BackendStatus], dict[str, RequestTotals]]:
    """(configured backends with health, load and request totals; request totals of
    backends no longer configured)."""
    health = backend_health(config, breakers)
    backends: dict[str, BackendStatus] = {}
    for b in config.backends:
        running = live.get(b.name)
        backends[b.name] = BackendStatus(
            health=health[b.name],
            kind=b.kind,
            in_flight=running.in_flight if running else 0,
            errors=running.errors if running else 0,
            max_concurrency=b.max_concurrency,
            requests=request_totals.get(b.name),
            history=breaker_history(breakers.get(b.name)),
        )
    former = {name: t for name, t in request_totals.items() if name not in backends}
    return backends, former
