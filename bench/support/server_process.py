"""The pipeline bench's test LLM server in a process of its own, as a real backend is.

In the bench's process the server's threads share the GIL with the client
under test, so any Python work the client does also slows the server down;
Ollama, llama.cpp and vLLM run in processes of their own. `ServerProcess`
starts `python -m bench.support.server_process CAPACITY LATENCY_S` (a
`TimedLLMServer` on 127.0.0.1) and offers the parts of `TimedLLMServer` the
bench reads. Commands go over the child's stdin and stdout as JSON lines, only
between runs, never while one is being timed. Both processes read the same
`time.monotonic()` clock (CLOCK_MONOTONIC is system-wide on Linux), so arrival
and answer times compare with the parent's.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from bench.support.timed_server import TimedLLMServer


@dataclass(frozen=True, slots=True)
class RemoteRequest:
    """What the bench reads of one recorded chat request."""

    received_at: float
    body: dict[str, Any]


class ServerProcess:
    def __init__(self, capacity: int, latency_s: float) -> None:
        self.capacity = capacity
        self.latency_s = latency_s
        self.url = ""
        self._child: subprocess.Popen[str] | None = None

    def start(self) -> ServerProcess:
        root = Path(__file__).resolve().parents[2]
        self._child = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bench.support.server_process",
                str(self.capacity),
                str(self.latency_s),
            ],
            cwd=root,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.url = self._read()["url"]
        return self

    def stop(self) -> None:
        child, self._child = self._child, None
        if child is None:
            return
        assert child.stdin is not None
        child.stdin.close()  # the child stops its server at end of input
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def pid(self) -> int:
        """The server process's id (e.g. to read its CPU time from /proc)."""
        assert self._child is not None, "not started"
        return self._child.pid

    def reset(self) -> None:
        self._call("reset")

    @property
    def requests(self) -> list[RemoteRequest]:
        return [RemoteRequest(at, body) for at, body in self._call("requests")["requests"]]

    @property
    def answered_at(self) -> list[float]:
        return list(self._call("answered_at")["answered_at"])

    @property
    def max_in_flight(self) -> int:
        return int(self._call("peaks")["max_in_flight"])

    @property
    def max_serving(self) -> int:
        return int(self._call("peaks")["max_serving"])

    def _call(self, command: str) -> dict[str, Any]:
        assert self._child is not None and self._child.stdin is not None, "not started"
        self._child.stdin.write(command + "\n")
        self._child.stdin.flush()
        return self._read()

    def _read(self) -> dict[str, Any]:
        assert self._child is not None and self._child.stdout is not None
        line = self._child.stdout.readline()
        if not line:
            raise RuntimeError(f"the test server process exited ({self._child.poll()})")
        answer: dict[str, Any] = json.loads(line)
        return answer


def serve(capacity: int, latency_s: float, commands: IO[str], answers: IO[str]) -> None:
    """The child: one TimedLLMServer, answering commands until its input ends."""

    def send(message: dict[str, Any]) -> None:
        answers.write(json.dumps(message) + "\n")
        answers.flush()

    with TimedLLMServer(capacity, latency_s) as server:
        send({"url": server.url})
        for line in commands:
            command = line.strip()
            if command == "reset":
                server.reset()
                send({})
            elif command == "requests":
                send({"requests": [[r.received_at, r.body] for r in server.requests]})
            elif command == "answered_at":
                send({"answered_at": server.answered_at})
            elif command == "peaks":
                send({"max_in_flight": server.max_in_flight, "max_serving": server.max_serving})
            else:
                send({"error": f"unknown command {command!r}"})


if __name__ == "__main__":
    serve(int(sys.argv[1]), float(sys.argv[2]), sys.stdin, sys.stdout)
