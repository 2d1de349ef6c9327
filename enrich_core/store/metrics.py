"""Pipeline metrics from the store: per tier, per backend, escalations, cost.

Everything is computed from what the writer committed (glosses, the per-request
log, counters), so `gloss status` in a fresh process and the running server
report the same numbers. Cost uses each tier's configured prices per 1,000
tokens; tokens marked estimated (a backend that reports no usage) are counted
and the share that is estimated is reported beside them. Live health (breakers,
requests in flight) is the run stage's, not the store's: see run/status.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from enrich_core.config import Config
from enrich_core.records.status import (
    Escalation,
    GateTally,
    PipelineMetrics,
    RequestTotals,
    TierTotals,
)
from enrich_core.store.reads import Store
from enrich_core.store.write_ops import GATE_JUDGED, GATE_REJECTED

QUANTILES = (0.5, 0.95)


@dataclass
class _TierSums:
    glosses: int = 0
    requests: int = 0
    tokens_in: int = 0
    tokens_out: int = 0


async def pipeline_metrics(store: Store, config: Config) -> PipelineMetrics:
    prices = {t.name: (t.cost_per_1k_input, t.cost_per_1k_output) for t in config.tiers}
    by_tier_glosses = await store.by_tier()
    sums = {t.name: _TierSums(glosses=by_tier_glosses.get(t.name, 0)) for t in config.tiers}
    answered: dict[str, list[int]] = {}  # backend -> [ok, failed]
    for backend, tier, ok, failed, tokens_in, tokens_out in await store.request_totals():
        t = sums.setdefault(tier, _TierSums())
        t.requests += ok + failed
        t.tokens_in += tokens_in
        t.tokens_out += tokens_out
        counts = answered.setdefault(backend, [0, 0])
        counts[0] += ok
        counts[1] += failed
    gates = await gate_tallies(store)
    for tier in gates:
        sums.setdefault(tier, _TierSums())
    tiers: dict[str, TierTotals] = {}
    for name, t in sums.items():
        price_in, price_out = prices.get(name, (0.0, 0.0))
        cost = round(t.tokens_in / 1000 * price_in + t.tokens_out / 1000 * price_out, 6)
        gate = gates.get(name, GateTally(0, 0, None, {}))
        tiers[name] = TierTotals(t.glosses, t.requests, t.tokens_in, t.tokens_out, cost, gate)
    backends: dict[str, RequestTotals] = {}
    for name, (ok, failed) in answered.items():
        p50, p95 = await store.latency_percentiles(name, QUANTILES)
        backends[name] = RequestTotals(ok, failed, round(p50, 1), round(p95, 1))
    written, escalated = await store.escalation_counts()
    escalation = Escalation(
        glosses=written,
        escalated=escalated,
        rate=round(escalated / written, 4) if written else 0.0,
        rejections=await store.counters_with_prefix("rejected:"),
        request_errors=await store.request_errors(),
    )
    cost = round(sum(t.cost for t in tiers.values()), 6)
    return PipelineMetrics(tiers, backends, escalation, cost)


async def gate_tallies(store: Store) -> dict[str, GateTally]:
    """Per tier, the answers the schema and the gate judged and rejected, from the
    counters the writer keeps with each result (write_ops.gate_verdicts)."""
    judged = await store.counters_with_prefix(GATE_JUDGED)
    reasons: dict[str, dict[str, int]] = {}
    for key, n in (await store.counters_with_prefix(GATE_REJECTED)).items():
        reason, _, tier = key.partition(":")
        reasons.setdefault(tier, {})[reason] = n
    out: dict[str, GateTally] = {}
    for tier in sorted(judged.keys() | reasons.keys()):
        by_reason = dict(sorted(reasons.get(tier, {}).items(), key=lambda kv: (-kv[1], kv[0])))
        rejected = sum(by_reason.values())
        answers = judged.get(tier, 0)
        share = round(rejected / answers, 4) if answers else None
        out[tier] = GateTally(answers, rejected, share, by_reason)
    return out
