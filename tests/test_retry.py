"""The retry backoff: doubling up to a cap, due spans released in order, on a fake clock."""

from __future__ import annotations

from enrich_core.run.retry import RetryPolicy, RetryQueue
from enrich_core.run.scheduler import SpanRef


def test_backoff_doubles_up_to_the_cap() -> None:
    policy = RetryPolicy(base_s=30, max_s=100)
    assert [policy.delay(n) for n in (1, 2, 3, 4)] == [30, 60, 100, 100]


async def test_spans_are_released_when_due_and_not_before() -> None:
    now = [1000.0]
    released: list[str] = []
    queue = RetryQueue(
        RetryPolicy(10, 100), lambda ref: released.append(ref.qualname), lambda: now[0]
    )
    assert queue.defer(SpanRef("a.py", "late", "h1", 0), attempts=2, last_try=1000.0)  # due 1020
    assert queue.defer(SpanRef("a.py", "soon", "h2", 0), attempts=1, last_try=1000.0)  # due 1010
    assert not queue.defer(SpanRef("a.py", "old", "h3", 0), attempts=1, last_try=900.0)  # due
    assert queue.waiting == 2 and queue.due_in("h2") == 10.0
    now[0] = 1015.0
    assert queue.release_due() == 1 and released == ["soon"]
    now[0] = 1020.0
    assert queue.release_due() == 1 and released == ["soon", "late"]
    assert queue.waiting == 0 and queue.due_in("h1") is None
