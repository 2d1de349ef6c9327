"""The HTTP plumbing the test model servers share (llm_server, fault_server).

A threading HTTP server on loopback that never asks DNS and takes clients hanging up
quietly, a handler whose connections its owner tracks (so stop() can close idle
keep-alive connections instead of waiting out their timeout), and the thread it
serves from.
"""

from __future__ import annotations

import socket
import socketserver
import sys
import threading
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar, Protocol

__all__ = [
    "ConnectionOwner",
    "LoopbackHTTPServer",
    "LoopbackServer",
    "TrackedHandler",
    "hang_up",
    "serve_in_thread",
]


class ConnectionOwner(Protocol):
    """The server object a handler reports its connection to while it is open."""

    def _register_connection(self, conn: socket.socket) -> None: ...

    def _unregister_connection(self, conn: socket.socket) -> None: ...


class LoopbackHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    owner: ConnectionOwner

    def server_bind(self) -> None:
        # HTTPServer.server_bind calls socket.getfqdn(), which can stall on DNS.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients hanging up mid-answer (or stop() closing sockets, or a fault
        # provoking it) is normal here.
        if isinstance(sys.exc_info()[1], OSError):
            return
        super().handle_error(request, client_address)


class TrackedHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: LoopbackHTTPServer

    def setup(self) -> None:
        super().setup()
        self.server.owner._register_connection(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.owner._unregister_connection(self.connection)

    def log_message(self, format: str, *args: Any) -> None:
        return


def serve_in_thread(
    httpd: ThreadingHTTPServer, poll_interval: float, name: str
) -> threading.Thread:
    """`httpd` serving from a started daemon thread named `name`."""
    thread = threading.Thread(
        target=httpd.serve_forever,
        kwargs={"poll_interval": poll_interval},
        name=name,
        daemon=True,
    )
    thread.start()
    return thread


def hang_up(conns: Iterable[socket.socket]) -> None:
    """Shut the open connections down, waking handlers blocked reading or idle on them."""
    for conn in conns:
        try:
            conn.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


class LoopbackServer:
    """What the test model servers share: their addresses on 127.0.0.1, and the open
    connections (with their handler threads) that stop() must hang up."""

    _what: ClassVar[str]  # the server's name in messages
    _httpd: LoopbackHTTPServer | None
    _lock: threading.Lock
    _connections: set[socket.socket]
    _handler_threads: set[threading.Thread]

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError(f"{self._what} not started")
        return self._httpd.server_port

    @property
    def url(self) -> str:
        """Ollama base URL, e.g. http://127.0.0.1:PORT."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def openai_url(self) -> str:
        """OpenAI base URL, e.g. http://127.0.0.1:PORT/v1."""
        return f"{self.url}/v1"

    def _register_connection(self, conn: socket.socket) -> None:
        with self._lock:
            self._connections.add(conn)
            self._handler_threads.add(threading.current_thread())

    def _unregister_connection(self, conn: socket.socket) -> None:
        with self._lock:
            self._connections.discard(conn)
            self._handler_threads.discard(threading.current_thread())
