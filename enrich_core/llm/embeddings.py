"""Embedding requests: Ollama's `POST /api/embed` and OpenAI-compatible `POST /embeddings`.

Sent through the configured backend's own HTTP client (`HttpBackend`), so an
embedding request shares everything a gloss request has: the host's slot
limit (its `max_concurrency` is one cap over glossing and embedding together),
the one deadline `timeout_s`, the bounded body read, the error classes, and the
host's circuit breaker (a failure here rests the host for glossing too, an
answer here closes it). Several texts go in one request.

Every text is passed through `redact_secrets` before it leaves the process: a
gloss is written from redacted code, but a query is whatever the user typed.
This module never retries or waits for a resting host: a job asks again later,
a search goes on without vectors.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from enrich_core.config import EmbeddingsConfig
from enrich_core.llm.backend import Backend, BackendError, ErrorKind
from enrich_core.llm.breaker import Admission, Breaker, BreakerState
from enrich_core.llm.http import HttpBackend, OllamaBackend
from enrich_core.llm.redact import redact_secrets

# An embedding answer is numbers as JSON text: ~20 characters a dimension, and
# models go up to 3,072 dimensions, so a text's vector can take ~64 KB; the
# bound grows with the batch instead of using a gloss's max_response_bytes.
BYTES_PER_TEXT = 80 * 1024


class EmbeddingsUnavailable(Exception):
    """The host is resting or declared down: no request was sent."""


class EmbeddingClient:
    """Embeds texts with one model on one configured backend."""

    def __init__(self, backend: Backend, breaker: Breaker | None, config: EmbeddingsConfig):
        if not isinstance(backend, HttpBackend):
            # config.py refuses an `embedded` backend here; a test double is not HTTP.
            raise TypeError(f"backend {backend.config.name!r} has no embeddings API")
        self.backend = backend
        self.breaker = breaker
        self.config = config
        self.model = config.model

    @property
    def name(self) -> str:
        return self.backend.config.name

    def slot_free(self) -> bool:
        """Whether the host's cap has room for a request now: a search does not queue
        behind glosses that may take the model many seconds each."""
        slots = self.backend.slots
        return slots.in_use < slots.limit

    def available(self) -> bool:
        """Whether a request would go out now without waiting (the breaker is closed).
        Only looks: asking `admit()` could take a due probe."""
        return self.breaker is None or self.breaker.state is BreakerState.CLOSED

    async def embed(self, texts: Sequence[str], *, probe: bool = True) -> list[list[float]]:
        """One vector per text, in order. Raises `BackendError` (the request failed) or
        `EmbeddingsUnavailable` (the host rests; nothing was sent). Without `probe`, a
        resting host's due probe is left to glossing: a search must not wait on it."""
        if not texts:
            return []
        probing = False
        if self.breaker is not None:
            if not probe and not self.available():
                raise EmbeddingsUnavailable(self._resting())
            admission = self.breaker.admit()
            if admission is Admission.PROBE:
                probing = True
            elif admission is not Admission.SEND:
                raise EmbeddingsUnavailable(self._resting())
        clean = [redact_secrets(t).text for t in texts]
        try:
            data = await self._send(clean)
        except BackendError as exc:
            self._outcome(exc)
            raise
        except BaseException:
            # Cancelled (a search's deadline): says nothing about the host.
            if probing and self.breaker is not None:
                self.breaker.abandon_probe()
            raise
        if self.breaker is not None:
            self.breaker.record_success()
        return self._vectors(data, len(clean))

    async def _send(self, texts: list[str]) -> Any:
        limit = max(self.backend.config.max_response_bytes, BYTES_PER_TEXT * len(texts))
        body: dict[str, Any] = {"model": self.model, "input": texts}
        if isinstance(self.backend, OllamaBackend):
            body["keep_alive"] = self.backend.config.keep_alive
            path = "/api/embed"
        else:
            path = "/embeddings"
        # The backend's own request path: its slot limit, deadline and body bound.
        return await self.backend._request("POST", path, body, limit=limit)

    def _vectors(self, data: Any, count: int) -> list[list[float]]:
        if isinstance(self.backend, OllamaBackend):
            raw = data.get("embeddings") if isinstance(data, dict) else None
        else:
            items = data.get("data") if isinstance(data, dict) else None
            raw = None
            if isinstance(items, list) and all(isinstance(i, dict) for i in items):
                # OpenAI says each vector's index; order by it, not by position.
                ordered = sorted(items, key=lambda i: i.get("index", 0))
                raw = [i.get("embedding") for i in ordered]
        if not isinstance(raw, list) or len(raw) != count:
            got = len(raw) if isinstance(raw, list) else "no"
            raise self._bad(f"asked for {count} vectors, the answer holds {got}")
        vectors: list[list[float]] = []
        for vector in raw:
            if not isinstance(vector, list) or not vector:
                raise self._bad("a vector is not a non-empty list of numbers")
            if not all(
                isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
                for v in vector
            ):
                raise self._bad("a vector holds something other than finite numbers")
            vectors.append([float(v) for v in vector])
        if len({len(v) for v in vectors}) > 1:
            raise self._bad("the vectors differ in length")
        return vectors

    def _bad(self, detail: str) -> BackendError:
        error = self.backend.error(ErrorKind.BAD_RESPONSE, f"embeddings of {self.model}: {detail}")
        if self.breaker is not None:
            self.breaker.record_success()  # the host answered, if badly
        return error

    def _outcome(self, exc: BackendError) -> None:
        if self.breaker is None:
            return
        if exc.retryable:
            self.breaker.record_failure(
                str(exc),
                retry_after=exc.retry_after,
                unreachable=exc.kind is ErrorKind.REFUSED,
            )
        else:
            self.breaker.record_success()  # "model missing" is an answer

    def _resting(self) -> str:
        assert self.breaker is not None
        reason = self.breaker.down_reason or self.breaker.last_error or "resting"
        return f"backend {self.name!r} ({self.backend.config.url}) is resting: {reason}"
