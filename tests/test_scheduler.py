"""The scheduler: priority classes, file order, dedupe by text, promotion, idle."""

from __future__ import annotations

import asyncio

from enrich_core.run.scheduler import SHARE_EVERY, Priority, Scheduler, SpanRef


def ref(name: str, h: str | None = None, path: str = "a.py") -> SpanRef:
    return SpanRef(path, name, h or f"h-{name}", 0)


def drain(s: Scheduler) -> list[str]:
    out = []
    while (popped := s.pop()) is not None:
        _, r = popped
        out.append(r.qualname)
        s.done(r.content_hash)
    assert s.queued == 0
    return out


def take(s: Scheduler) -> tuple[Priority, SpanRef]:
    popped = s.pop()
    assert popped is not None
    return popped


async def test_classes_in_order_backlog_fifo_disk_newest_first() -> None:
    s = Scheduler()
    for name in ("b1", "b2", "b3"):
        s.submit(ref(name), Priority.BACKLOG)
    s.submit(ref("d1"), Priority.DISK)
    s.submit(ref("d2"), Priority.DISK)
    s.submit(ref("e1"), Priority.EDITED)
    s.submit(ref("h1"), Priority.HOVER)
    assert drain(s) == ["h1", "e1", "d2", "d1", "b1", "b2", "b3"]


async def test_same_text_is_queued_once_and_promoted() -> None:
    s = Scheduler()
    assert s.submit(ref("x", "same"), Priority.BACKLOG)
    assert not s.submit(ref("y", "same"), Priority.BACKLOG)
    s.submit(ref("other"), Priority.BACKLOG)
    assert s.position("same") == 0
    assert s.submit(ref("x", "same"), Priority.EDITED)  # promotion
    assert s.queued == 2
    assert s.queued_by_priority()["edited"] == 1
    assert drain(s) == ["x", "other"]


async def test_in_flight_text_is_not_queued_again_until_done() -> None:
    s = Scheduler()
    s.submit(ref("x"), Priority.BACKLOG)
    _, r = take(s)
    assert not s.submit(ref("x"), Priority.EDITED)
    s.done(r.content_hash)
    assert s.submit(ref("x"), Priority.EDITED)


async def test_submit_tells_the_pool_and_wait_idle_ends_when_all_done() -> None:
    s = Scheduler()
    told: list[int] = []
    s.on_work = lambda: told.append(s.queued)
    assert s.pop() is None
    s.submit(ref("x"), Priority.BACKLOG)
    assert told == [1]
    prio, r = take(s)
    assert prio is Priority.BACKLOG
    idle = asyncio.create_task(s.wait_idle())
    await asyncio.sleep(0)
    assert not idle.done()
    s.done(r.content_hash)
    await idle


async def test_priority_work_overtakes_a_long_backlog() -> None:
    s = Scheduler()
    for i in range(1000):
        s.submit(ref(f"b{i}"), Priority.BACKLOG)
    s.submit(ref("edit"), Priority.EDITED)
    assert s.position("h-edit") == 0
    _, r = take(s)
    assert r.qualname == "edit"
    assert s.position("h-b5") == 5


def test_a_steady_stream_of_edits_leaves_the_backlog_its_share() -> None:
    s = Scheduler()
    for i in range(3):
        s.submit(ref(f"b{i}"), Priority.BACKLOG)
    taken: list[Priority] = []
    for i in range(3 * (SHARE_EVERY + 1)):
        # One new edit arrives before every pick: strict priority would never
        # reach the backlog.
        s.submit(ref(f"e{i}"), Priority.EDITED)
        prio, r = take(s)
        taken.append(prio)
        s.done(r.content_hash)
    assert taken.count(Priority.BACKLOG) == 3
    first = taken.index(Priority.BACKLOG)
    assert first == SHARE_EVERY  # after exactly SHARE_EVERY picks passed it over
    assert taken[first + 1 : first + 1 + SHARE_EVERY] == [Priority.EDITED] * SHARE_EVERY


def test_a_hover_is_never_passed_over_for_the_share() -> None:
    s = Scheduler()
    s.submit(ref("b"), Priority.BACKLOG)
    for i in range(SHARE_EVERY):
        s.submit(ref(f"e{i}"), Priority.EDITED)
        s.done(take(s)[1].content_hash)
    # The backlog is due its share now, but a person is waiting on this one.
    s.submit(ref("h"), Priority.HOVER)
    assert take(s)[1].qualname == "h"
    assert take(s)[1].qualname == "b"


def test_refresh_comes_after_the_backlog() -> None:
    s = Scheduler()
    s.submit(ref("old"), Priority.REFRESH)
    s.submit(ref("new"), Priority.BACKLOG)
    assert drain(s) == ["new", "old"]
