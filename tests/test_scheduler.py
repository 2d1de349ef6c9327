"""The scheduler: priority classes, file order, dedupe by text, promotion, idle."""

from __future__ import annotations

import asyncio

from enrich_core.scheduler import Priority, Scheduler, SpanRef


def ref(name: str, h: str | None = None, path: str = "a.py") -> SpanRef:
    return SpanRef(path, name, h or f"h-{name}", 0)


async def drain(s: Scheduler) -> list[str]:
    out = []
    while s.queued:
        _, r = await s.get()
        out.append(r.qualname)
        s.done(r.content_hash)
    return out


async def test_classes_in_order_backlog_fifo_disk_newest_first() -> None:
    s = Scheduler()
    for name in ("b1", "b2", "b3"):
        s.submit(ref(name), Priority.BACKLOG)
    s.submit(ref("d1"), Priority.DISK)
    s.submit(ref("d2"), Priority.DISK)
    s.submit(ref("e1"), Priority.EDITED)
    s.submit(ref("h1"), Priority.HOVER)
    assert await drain(s) == ["h1", "e1", "d2", "d1", "b1", "b2", "b3"]


async def test_same_text_is_queued_once_and_promoted() -> None:
    s = Scheduler()
    assert s.submit(ref("x", "same"), Priority.BACKLOG)
    assert not s.submit(ref("y", "same"), Priority.BACKLOG)
    s.submit(ref("other"), Priority.BACKLOG)
    assert s.position("same") == 0
    assert s.submit(ref("x", "same"), Priority.EDITED)  # promotion
    assert s.queued == 2
    assert s.queued_by_priority()["edited"] == 1
    assert await drain(s) == ["x", "other"]


async def test_in_flight_text_is_not_queued_again_until_done() -> None:
    s = Scheduler()
    s.submit(ref("x"), Priority.BACKLOG)
    _, r = await s.get()
    assert not s.submit(ref("x"), Priority.EDITED)
    s.done(r.content_hash)
    assert s.submit(ref("x"), Priority.EDITED)


async def test_get_waits_for_work_and_wait_idle_ends_when_all_done() -> None:
    s = Scheduler()
    getter = asyncio.create_task(s.get())
    await asyncio.sleep(0)
    assert not getter.done()
    s.submit(ref("x"), Priority.BACKLOG)
    prio, r = await getter
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
    _, r = await s.get()
    assert r.qualname == "edit"
    assert s.position("h-b5") == 5
