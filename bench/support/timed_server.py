"""The test LLM server, also noting when each chat request leaves flight.

The pipeline bench measures how busy Gloss keeps a backend from these two
clocks; the bench runs it in a process of its own (`server_process`), its
tests in process.
"""

from __future__ import annotations

import threading
import time

from bench.support.llm_server import LLMServer


class TimedLLMServer(LLMServer):
    """The test server, also noting when each chat request leaves flight (is answered).

    `LLMServer` records arrivals (`RecordedRequest.received_at`); the moment an
    answer is about to be written is `_leave_flight`, which it calls exactly once
    per chat request, before writing the answer. Both clocks are `time.monotonic()`.
    """

    def __init__(self, capacity: int, latency_s: float) -> None:
        super().__init__(capacity=capacity, latency_s=latency_s)
        self._left: list[float] = []
        self._left_lock = threading.Lock()

    def start(self) -> TimedLLMServer:
        super().start()
        return self

    def __enter__(self) -> TimedLLMServer:
        return self.start()

    def _leave_flight(self) -> None:
        now = time.monotonic()
        with self._left_lock:
            self._left.append(now)
        super()._leave_flight()

    def reset(self) -> None:
        super().reset()
        with self._left_lock:
            self._left.clear()

    @property
    def answered_at(self) -> list[float]:
        with self._left_lock:
            return list(self._left)
