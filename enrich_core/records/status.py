"""The status report: what `gloss status --json`, `gloss/status` and `gloss/progress` carry.

One typed record from the store's counts up to the drivers, so renaming a field
is a type error in every producer and reader rather than a key that silently
goes missing in an editor's status bar. `to_json` is the only place the record
becomes JSON; the key names are the contract in DESIGN.md and are read again by
vscode-client/src/statusReport.ts and editors/nvim/lua/gloss.lua.

Two field markers shape the JSON: `FLATTEN` merges a nested record's keys into
its parent's (a backend's request totals sit beside its health), and
`OMIT_IF_NONE` leaves a key out instead of writing null (a headless
`gloss status` has no live queue; a backend never asked has no totals).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any

FLATTEN = {"flatten": True}
OMIT_IF_NONE = {"omit_if_none": True}
FLATTEN_IF_ANY = {"flatten": True, "omit_if_none": True}

JsonObject = dict[str, Any]


def to_json(value: Any) -> Any:
    """A record (or a mapping or sequence of them) as plain JSON values."""
    if is_dataclass(value) and not isinstance(value, type):
        out: JsonObject = {}
        for f in fields(value):
            item = getattr(value, f.name)
            if item is None and f.metadata.get("omit_if_none"):
                continue
            converted = to_json(item)
            if f.metadata.get("flatten"):
                out.update(converted)
            else:
                out[f.name] = converted
        return out
    if isinstance(value, Mapping):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [to_json(v) for v in value]
    return value


class JsonRecord:
    """A record that is sent as JSON: a status report or one of its parts."""

    __slots__ = ()

    def to_json(self) -> JsonObject:
        result: JsonObject = to_json(self)
        return result


@dataclass(frozen=True, slots=True)
class SpanCounts:
    """Spans in their current state; a span failed once and then glossed is enriched."""

    files: int
    spans: int
    enriched: int
    pending: int
    failed: int
    stale: int
    # Glossed only by an older prompt version: shown, and re-glossed lazily.
    outdated: int
    llm_calls: int
    tokens_in: int
    tokens_out: int


@dataclass(frozen=True, slots=True)
class LanguageCounts:
    """One language's spans, and how many of them have a current gloss."""

    spans: int
    enriched: int


@dataclass(frozen=True, slots=True)
class QueueStatus:
    waiting_to_retry: int
    queued: int
    in_flight: int
    by_priority: Mapping[str, int]


@dataclass(frozen=True, slots=True)
class GateTally:
    """A tier's answers judged by the schema and the quality gate over the store's history
    (every answer a host gave), how many were rejected and why: a high `rejected_share`
    says the tier's model is too weak for this code. `rejected_share` is None (JSON null)
    before the tier's first answer; `reasons`: reason name -> answers, most first."""

    judged: int
    rejected: int
    rejected_share: float | None
    reasons: Mapping[str, int]


@dataclass(frozen=True, slots=True)
class TierTotals:
    glosses: int
    requests: int
    tokens_in: int
    tokens_out: int
    cost: float
    gate: GateTally


@dataclass(frozen=True, slots=True)
class RequestTotals:
    """One backend's requests as the per-request log has them."""

    requests_ok: int
    requests_failed: int
    p50_ms: float
    p95_ms: float


@dataclass(frozen=True, slots=True)
class Escalation:
    glosses: int
    escalated: int
    rate: float
    rejections: Mapping[str, int]
    request_errors: Mapping[str, int]


@dataclass(frozen=True, slots=True)
class PipelineMetrics:
    """Everything computed from the store's request log and counters."""

    tiers: Mapping[str, TierTotals]
    backend_requests: Mapping[str, RequestTotals]
    escalation: Escalation
    cost: float


@dataclass(frozen=True, slots=True)
class BackendHealth(JsonRecord):
    """A configured backend's circuit breaker; `healthy` is None before it started.

    `state`: closed, open (resting), half-open (probe due or out), down (probes
    failed; spans fail at once), or "not started". `next_probe_s`: seconds until
    a resting or down host is probed again. `down_reason`: what spans are told."""

    url: str
    healthy: bool | None
    state: str
    last_error: str | None
    next_probe_s: float | None = None
    down_reason: str | None = None


@dataclass(frozen=True, slots=True)
class BreakerTransition:
    """One change of a backend's breaker: when (ISO 8601, UTC), to what, and why."""

    at: str
    state: str
    error: str | None


@dataclass(frozen=True, slots=True)
class BackendStatus:
    health: BackendHealth = field(metadata=FLATTEN)
    kind: str
    in_flight: int
    errors: int
    max_concurrency: int
    requests: RequestTotals | None = field(default=None, metadata=FLATTEN_IF_ANY)
    # The breaker's recent transitions, oldest first (bounded; empty when never opened).
    history: tuple[BreakerTransition, ...] = ()


@dataclass(frozen=True, slots=True)
class GpuDevice:
    index: int
    name: str
    memory_used_mb: float
    memory_total_mb: float
    utilization_pct: float | None
    temperature_c: float | None
    power_w: float | None


@dataclass(frozen=True, slots=True)
class GpuThrottle:
    """What the GPU watch did about a hot or full device, when it is running."""

    throttled: str | None
    local_backend_limits: Mapping[str, int]


@dataclass(frozen=True, slots=True)
class GpuStatus(JsonRecord):
    """Devices, or `available: false` with the reason in plain words."""

    available: bool
    reason: str | None = field(default=None, metadata=OMIT_IF_NONE)
    devices: tuple[GpuDevice, ...] | None = field(default=None, metadata=OMIT_IF_NONE)
    watch: GpuThrottle | None = field(default=None, metadata=FLATTEN_IF_ANY)

    @classmethod
    def unavailable(cls, reason: str) -> GpuStatus:
        return cls(available=False, reason=reason)


@dataclass(frozen=True, slots=True)
class FailureReason:
    reason: str
    spans: int


@dataclass(frozen=True, slots=True)
class StoreStatus:
    """The store file and who writes it: this process, another Gloss, or no one and why.

    `mode`: "writing" (this process), "reading" (another Gloss, `writer_pid`,
    writes it; this one shows what it writes), "read-only" (it cannot be
    written: `problem` says why), "stalled" (writing failed for now, e.g. a
    full disk: retried, reads go on), "unavailable" (no store could be read)."""

    path: str
    mode: str
    writer_pid: int | None = field(default=None, metadata=OMIT_IF_NONE)
    problem: str | None = field(default=None, metadata=OMIT_IF_NONE)
    # What happened to the store at start-up (a damaged file moved aside, ...).
    notices: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class DroppedSpans:
    """Spans that left the queue without a gloss because their file went, and why
    (`reason` reads after the path: "was deleted", "is skipped now: ...")."""

    spans: int
    reason: str


@dataclass(frozen=True, slots=True)
class EmbeddingsStatus:
    """`[search] embeddings`: the current glosses of the workspace's spans, how many of
    them have a vector of the configured model, and why the last request failed."""

    backend: str
    model: str
    glosses: int
    vectors: int
    last_error: str | None = None


@dataclass(frozen=True, slots=True)
class WorkspaceStatus(JsonRecord):
    """One workspace folder's report, as `gloss status --json` prints it."""

    counts: SpanCounts = field(metadata=FLATTEN)
    root: str
    prompt_version: str
    config_source: str
    by_tier: Mapping[str, int]
    # Language row name (`python`, `go`, `tsx`, ...) -> its spans, most first.
    by_language: Mapping[str, LanguageCounts]
    # None for a headless read (`gloss status`), which has no live queue.
    queue: QueueStatus | None = field(metadata=OMIT_IF_NONE)
    backends: Mapping[str, BackendStatus]
    # Request totals of backends no longer configured, kept apart from `backends`.
    former_backends: Mapping[str, RequestTotals]
    tiers: Mapping[str, TierTotals]
    escalation: Escalation
    cost: float
    gpu: GpuStatus
    skipped_files: Mapping[str, str]
    failure_reasons: tuple[FailureReason, ...]
    # Path -> spans of that file dropped from the queue while this process ran
    # (a headless `gloss status` has none); their spans are gone from the store.
    dropped_spans: Mapping[str, DroppedSpans] = field(default_factory=dict)
    # Path -> which lines a syntax error kept from being parsed: the file's other
    # definitions are indexed, those lines' may be missing.
    partial_files: Mapping[str, str] = field(default_factory=dict)
    # Set by the engine, which alone knows who writes the store.
    store: StoreStatus | None = field(default=None, metadata=OMIT_IF_NONE)
    # null unless `[search] embeddings` is configured.
    embeddings: EmbeddingsStatus | None = None


@dataclass(frozen=True, slots=True)
class LastResult:
    """The span a `gloss/progress` notification was sent for."""

    path: str
    symbol: str
    ok: bool
    tier: str | None
    reason: str | None


@dataclass(frozen=True, slots=True)
class Progress(JsonRecord):
    """The `gloss/progress` notification's params: the live queue, cheap to build."""

    root: str
    scanned: bool
    queued: int
    in_flight: int
    by_priority: Mapping[str, int]
    last: LastResult | None
    backends: Mapping[str, BackendHealth]
