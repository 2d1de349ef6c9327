"""What `gloss index` says before and after glossing: the plan, and the run's summary.

The plan (printed once the scan has queued the work): how many spans there are
and which of them this run glosses, the tiers in the order they are tried, how
many model calls that takes at least and at most, and, when the store has
latency figures for the first tier's backend from earlier runs, a rough time.
The summary explains each figure it prints. Pure functions of typed records:
the command gathers them, this only words them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from enrich_core.config import Config
from enrich_core.present.words import plural
from enrich_core.records.status import BackendStatus, SpanCounts
from enrich_core.run.engine import Engine, ScanReport
from server.cli.run_tally import RunTally


@dataclass(frozen=True, slots=True)
class Latency:
    """The first tier's first backend with figures: its median request in earlier runs."""

    backend: str
    median_s: float
    answered: int  # requests the median is of
    at_once: int  # requests the first tier's backends take at once


@dataclass(frozen=True, slots=True)
class IndexPlan:
    report: ScanReport
    spans: int  # every span in the workspace
    texts: int  # different texts among them: spans of one text share one gloss
    tiers: tuple[tuple[str, str], ...]  # (name, model), in the order tried
    latency: Latency | None

    @property
    def to_gloss(self) -> int:
        return self.report.queued

    @property
    def already_glossed(self) -> int:
        return max(0, self.texts - self.to_gloss)

    @property
    def shared(self) -> int:
        """Spans whose text is another span's too: glossed once, for both."""
        return max(0, self.spans - self.texts)

    @property
    def most_calls(self) -> int:
        return self.to_gloss * len(self.tiers)


def plan_of(
    report: ScanReport,
    spans: int,
    texts: int,
    config: Config,
    backends: Mapping[str, BackendStatus],
) -> IndexPlan:
    tiers = tuple((t.name, t.model) for t in config.tiers)
    return IndexPlan(report, spans, texts, tiers, _first_tier_latency(config, backends))


def _first_tier_latency(config: Config, backends: Mapping[str, BackendStatus]) -> Latency | None:
    if not config.tiers:
        return None
    names = config.tiers[0].backends
    at_once = sum(b.max_concurrency for b in config.backends if b.name in names)
    for name in names:
        requests = backends[name].requests if name in backends else None
        if requests is not None and requests.requests_ok > 0:
            return Latency(name, requests.p50_ms / 1000.0, requests.requests_ok, max(1, at_once))
    return None


def plan_lines(plan: IndexPlan) -> list[str]:
    r = plan.report
    lines = [
        f"{plural(r.files, 'file')} ({r.parsed} parsed, {r.unchanged} unchanged, "
        f"{r.skipped} skipped)"
    ]
    shared = (
        f"; {plan.shared} more have the same text as another span and share its gloss"
        if plan.shared
        else ""
    )
    lines.append(
        f"{plural(plan.to_gloss, 'span')} to gloss of {plan.spans} "
        f"({plan.already_glossed} already glossed{shared})"
    )
    if plan.to_gloss == 0:
        return lines
    named = [f"'{name}' ({model})" for name, model in plan.tiers]
    if len(named) == 1:
        lines.append(f"tier: {named[0]}")
        lines.append(
            f"model calls: {plan.to_gloss}, one per span (a request a host fails may be "
            "retried on it; a span no answer is accepted for is tried again by the next run)"
        )
    else:
        lines.append(
            f"tiers in order: {', then '.join(named)}; a span goes on to the next tier "
            "only when its answer is rejected or no backend of its tier answers"
        )
        lines.append(
            f"model calls: at least {plan.to_gloss} (one per span), at most "
            f"{plan.most_calls} (every span through all {len(plan.tiers)} tiers), "
            "plus retries of requests a host fails"
        )
    if plan.latency is not None:
        lines.append(_time_line(plan, plan.latency))
    return lines


def _time_line(plan: IndexPlan, latency: Latency) -> str:
    least = plan.to_gloss * latency.median_s / latency.at_once
    most = plan.most_calls * latency.median_s / latency.at_once
    upto = (
        f"; up to {duration(most)} if every span needs every tier"
        if duration(most) != duration(least)
        else ""
    )
    return (
        f"time: about {duration(least)} ({plural(plan.to_gloss, 'call')} × "
        f"{latency.median_s:.1f} s ÷ {latency.at_once} at a time; {latency.median_s:.1f} s is "
        f"the median of the {plural(latency.answered, 'request')} '{latency.backend}' "
        f"answered before){upto}"
    )


def duration(seconds: float) -> str:
    """A rough duration: "40 s", "12 min", "2 h 5 min"."""
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    minutes = round(seconds / 60)
    if minutes < 90:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60} min"


def summary_lines(tally: RunTally, counts: SpanCounts) -> list[str]:
    """The run's end: the workspace's spans, what this run did, and the totals of all runs."""
    c = counts
    pending = " (not tried yet: run `gloss index` again)" if c.pending else ""
    failed = " (no answer accepted; the next `gloss index` tries them again)" if c.failed else ""
    workspace = (
        f"{c.enriched}/{plural(c.spans, 'span')} glossed, {c.pending} pending{pending}, "
        f"{c.failed} failed{failed}"
    )
    first = tally.calls - tally.escalations - tally.retries
    dropped = f", {tally.dropped} dropped (their file went)" if tally.dropped else ""
    run = (
        f"this run: {plural(tally.resolved, 'span')} tried: {tally.glossed} glossed, "
        f"{tally.failed} failed{dropped}; {plural(tally.calls, 'model call')}: "
        f"{first} first {'request' if first == 1 else 'requests'}, "
        f"{tally.escalations} on a later tier (escalated), "
        f"{plural(tally.retries, 'retry', 'retries')} after a host failed a request"
    )
    totals = (
        f"all runs: {plural(c.llm_calls, 'model call')}, {c.tokens_in} tokens in, "
        f"{c.tokens_out} out"
    )
    return [workspace, run, totals]


def retry_line(config: Config) -> str:
    """How failed spans come back, said after the failure reasons."""
    r = config.retry
    return (
        "Failed spans are tried once per run: the next `gloss index` tries them again at "
        f"once; `gloss serve` retries them after {r.base_s:g} s, doubling up to {r.max_s:g} s."
    )


async def gather_plan(engine: Engine, config: Config, report: ScanReport) -> IndexPlan:
    """The plan of a run whose scan gave `report`: the store's span and text counts and
    its latency figures (raises `StoreError` when the store fails under the reads)."""
    status = await engine.status()
    texts = await engine.text_count()
    return plan_of(report, status.counts.spans, texts, config, status.backends)
