"""What `gloss status` (and the end of `gloss index`) prints for people.

Text from outside (backend errors, file names, reasons) goes through `say`,
which shows control and bidi characters as escapes (`present.terminal`).
"""

from __future__ import annotations

import logging
import sys

from enrich_core.present.terminal import terminal_safe
from enrich_core.present.words import plural
from enrich_core.records.status import SpanCounts, WorkspaceStatus


def say(line: str, *, stderr: bool = False) -> None:
    """Print one line that may hold text from outside, its controls escaped."""
    print(terminal_safe(line), file=sys.stderr if stderr else sys.stdout)


def say_breakers(status: WorkspaceStatus, history: int = 5) -> None:
    """Each backend whose circuit breaker is not closed: its state, next probe and
    latest transitions. (A headless `gloss status` has no live breaker: nothing.)"""
    for name, b in status.backends.items():
        health = b.health
        if health.healthy is not False:
            continue
        wait = health.next_probe_s
        probe = "" if wait is None else f", next probe {f'in {wait:g} s' if wait else 'due now'}"
        say(f"backend {name} ({health.url}) is {health.state}{probe}")
        if health.last_error:
            say(f"  last error: {health.last_error}")
        for t in b.history[-history:]:
            say(f"  {t.at} {t.state}" + (f": {t.error}" if t.error else ""))


def say_store(status: WorkspaceStatus) -> None:
    """The store's line, when there is something to say: who writes it, what is wrong."""
    store = status.store
    if store is None or (store.mode == "writing" and not store.problem and not store.notices):
        return
    writer = f" (written by pid {store.writer_pid})" if store.writer_pid else ""
    say(f"store {store.path}: {store.mode}{writer}")
    for line in (store.problem, *store.notices):
        if line:
            say(f"  {line}")


def say_dropped(status: WorkspaceStatus) -> None:
    for path, dropped in status.dropped_spans.items():
        say(f"{plural(dropped.spans, 'span')} dropped: {path} {dropped.reason}")


def say_failures(status: WorkspaceStatus) -> None:
    """Each reason spans failed for, with how many spans it stopped: the commonest
    few (the store's `failure_reasons`), then how many failed spans they leave out."""
    for item in status.failure_reasons:
        say(f"  {plural(item.spans, 'span')} failed: {item.reason}")
    unsaid = status.counts.failed - sum(item.spans for item in status.failure_reasons)
    if status.failure_reasons and unsaid > 0:
        say(
            f"  and {plural(unsaid, 'more span')} failed for other reasons "
            "(a hover on each, or `gloss hover FILE:LINE`, says why)"
        )


def summary_line(c: SpanCounts) -> str:
    """The spans in their current state, and what glossing them cost over the store's life."""
    return (
        f"{plural(c.spans, 'span')} in {plural(c.files, 'file')}: {c.enriched} glossed, "
        f"{c.pending} pending, {c.failed} failed; {plural(c.llm_calls, 'model call')} in all, "
        f"{c.tokens_in} tokens sent, {c.tokens_out} received"
    )


def print_status(status: WorkspaceStatus) -> None:
    """`gloss status` for people: each line says what its figures count."""
    counts = status.counts
    say(f"workspace {status.root} ({status.config_source})")
    say_store(status)
    say(summary_line(counts))
    # Stale and outdated spans are among those without a current gloss: the
    # older gloss is what their hover shows until the new one is written.
    outdated = (
        f", {plural(counts.outdated, 'span')} glossed only by an older prompt"
        if counts.outdated
        else ""
    )
    say(f"{plural(counts.stale, 'span')} stale (code edited since its gloss){outdated}")
    if status.by_language:
        say(
            "glossed by language: "
            + ", ".join(
                f"{name} {c.enriched} of {plural(c.spans, 'span')}"
                for name, c in status.by_language.items()
            )
        )
    for name, t in status.tiers.items():
        say(
            f"tier {name}: {plural(t.glosses, 'gloss', 'glosses')} written from "
            f"{plural(t.requests, 'request')} ({t.tokens_in} tokens in, {t.tokens_out} out), "
            f"cost {t.cost:g} at the configured rates"
        )
        if t.gate.judged and t.gate.rejected_share is not None:
            why = ", ".join(f"{k} {v}" for k, v in t.gate.reasons.items())
            say(
                f"  gate: {t.gate.rejected} of {t.gate.judged} answers rejected "
                f"({t.gate.rejected_share:.0%})" + (f": {why}" if why else "")
            )
    esc = status.escalation
    if esc.glosses:
        reasons = ", ".join(f"{k} {v}" for k, v in esc.rejections.items()) or "none"
        say(
            f"escalated: {esc.escalated} of {plural(esc.glosses, 'gloss', 'glosses')} written "
            f"by a later tier than their first ({esc.rate:.0%}); answers rejected by reason: "
            f"{reasons}"
        )
    for name, b in status.backends.items():
        r = b.requests
        if r and (r.requests_ok or r.requests_failed):
            say(
                f"backend {name} ({b.health.url}): {plural(r.requests_ok, 'request')} "
                f"answered, {r.requests_failed} failed; time per request p50 {r.p50_ms:.0f} ms, "
                f"p95 {r.p95_ms:.0f} ms"
            )
    say_breakers(status)
    say_failures(status)
    say_dropped(status)
    for path, reason in status.skipped_files.items():
        say(f"skipped {path}: {reason}")
    for path, note in status.partial_files.items():
        say(f"partly read {path}: {note}")
    gpu = status.gpu
    if gpu.available:
        say(f"gpu: {plural(len(gpu.devices or ()), 'device')}")
    else:
        # No NVIDIA GPU is the usual case, not a fault: one quiet line; why is
        # in --json's gpu.reason and, with -v, on stderr.
        say("gpu: none")
        logging.getLogger(__name__).info("gpu: none: %s", gpu.reason)
