"""The parts of a bench's report that every bench writes the same way."""

from __future__ import annotations

import os
import platform
from collections.abc import Sequence
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from _typeshed import DataclassInstance


def machine_facts(**versions: str) -> dict[str, Any]:
    """CPUs, Python, the given library versions (e.g. `sqlite=...`), then the platform.

    The keys keep this order in the JSON, as the benches have always written them.
    """
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        **versions,
        "platform": platform.platform(),
    }


def loaded_machine_facts(load_start: float, commit: str | None) -> dict[str, Any]:
    """`machine_facts()`, the 1-minute load average at the run's start and now, the commit.

    Other processes on the machine slow the CPU-bound parts (scans): the load
    averages say how busy it was; `commit` is the engine under test.
    """
    return {
        **machine_facts(),
        "load_avg_1min_start": load_start,
        "load_avg_1min_end": os.getloadavg()[0],
        "commit": commit,
    }


def machine_summary(machine: dict[str, Any]) -> str:
    """The report's words for `loaded_machine_facts`: CPUs, Python, load, commit."""
    m = machine
    return (
        f"{m['cpus']} CPUs, Python {m['python']}; load average {m['load_avg_1min_start']:.2f} "
        f"at start, {m['load_avg_1min_end']:.2f} at end; engine at {m['commit']}"
    )


def finish_report(lines: Sequence[str], notes: Sequence[str], wall_seconds: float) -> str:
    """The report's lines, then its notes and wall time: every report ends so."""
    ending = [f"note: {n}" for n in notes] + [f"wall time {wall_seconds:.1f} s"]
    return "\n".join([*lines, *ending])


def report_json(report: DataclassInstance) -> dict[str, Any]:
    """A report's JSON: its dataclass fields, nested dataclasses as dicts."""
    return asdict(report)
