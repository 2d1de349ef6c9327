"""Pipeline metrics from the store: per tier, per backend, escalations, cost;
and each configured backend's live health, as status reports show them.

Everything is computed from what the writer committed (glosses, the per-request
log, counters), so `gloss status` in a fresh process and the running server
report the same numbers. Cost uses each tier's configured prices per 1,000
tokens; tokens marked estimated (a backend that reports no usage) are counted
and the share that is estimated is reported beside them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from enrich_core.config import Config
from enrich_core.llm.backend import Backend
from enrich_core.llm.breaker import Breaker
from enrich_core.store.reads import Store

QUANTILES = (0.5, 0.95)


async def pipeline_metrics(store: Store, config: Config) -> dict[str, Any]:
    prices = {t.name: (t.cost_per_1k_input, t.cost_per_1k_output) for t in config.tiers}
    by_tier_glosses = await store.by_tier()
    tiers: dict[str, dict[str, Any]] = {
        t.name: {
            "glosses": by_tier_glosses.get(t.name, 0),
            "requests": 0,
            "tokens_in": 0,
            "tokens_out": 0,
            "cost": 0.0,
        }
        for t in config.tiers
    }
    backends: dict[str, dict[str, Any]] = {}
    for backend, tier, ok, failed, tokens_in, tokens_out in await store.request_totals():
        t = tiers.setdefault(
            tier, {"glosses": 0, "requests": 0, "tokens_in": 0, "tokens_out": 0, "cost": 0.0}
        )
        t["requests"] += ok + failed
        t["tokens_in"] += tokens_in
        t["tokens_out"] += tokens_out
        b = backends.setdefault(backend, {"requests_ok": 0, "requests_failed": 0})
        b["requests_ok"] += ok
        b["requests_failed"] += failed
    for name, t in tiers.items():
        price_in, price_out = prices.get(name, (0.0, 0.0))
        t["cost"] = round(t["tokens_in"] / 1000 * price_in + t["tokens_out"] / 1000 * price_out, 6)
    for name, b in backends.items():
        p50, p95 = await store.latency_percentiles(name, QUANTILES)
        b["p50_ms"] = round(p50, 1)
        b["p95_ms"] = round(p95, 1)
    written, escalated = await store.escalation_counts()
    return {
        "tiers": tiers,
        "backend_requests": backends,
        "escalation": {
            "glosses": written,
            "escalated": escalated,
            "rate": round(escalated / written, 4) if written else 0.0,
            "rejections": await store.counters_with_prefix("rejected:"),
            "request_errors": await store.request_errors(),
        },
        "cost": round(sum(t["cost"] for t in tiers.values()), 6),
    }


def backend_health(config: Config, breakers: Mapping[str, Breaker]) -> dict[str, dict[str, Any]]:
    """Each configured backend's circuit breaker: cheap, for a status bar after every gloss."""
    out: dict[str, dict[str, Any]] = {}
    for b in config.backends:
        breaker = breakers.get(b.name)
        out[b.name] = {
            "url": b.url,
            "healthy": breaker.state.value == "closed" if breaker else None,
            "state": breaker.state.value if breaker else "not started",
            "last_error": breaker.last_error if breaker else None,
        }
    return out


def backend_report(
    config: Config,
    breakers: Mapping[str, Breaker],
    live: Mapping[str, Backend],
    request_totals: Mapping[str, dict[str, Any]],
) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """(configured backends with health, load and request totals; request totals of
    backends no longer configured). Renamed or removed backends are kept apart so
    `backends` holds exactly the configured ones, each with its health."""
    backends = backend_health(config, breakers)
    for b in config.backends:
        running = live.get(b.name)
        backends[b.name].update(
            kind=b.kind,
            in_flight=running.in_flight if running else 0,
            errors=running.errors if running else 0,
            max_concurrency=b.max_concurrency,
        )
    former: dict[str, dict[str, Any]] = {}
    for name, numbers in request_totals.items():
        (backends[name] if name in backends else former.setdefault(name, {})).update(numbers)
    return backends, former
