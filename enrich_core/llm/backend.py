"""What every LLM backend kind shares: the protocol the router calls, the request and
completion records, the error classes and their retry policy, and the parse of an
OpenAI-shaped completion (HTTP servers and llama-cpp-python answer alike).

No I/O here: the kinds are `http` (Ollama, OpenAI-compatible) and `embedded`
(llama.cpp in process); `factory` picks one from the configuration.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from enrich_core.config import BackendConfig


class ErrorKind(StrEnum):
    REFUSED = "unreachable"
    TIMEOUT = "timed out"
    RATE_LIMITED = "rate limited"
    SERVER_ERROR = "server error"
    BAD_RESPONSE = "malformed response"
    MODEL_MISSING = "model missing"
    CLIENT_ERROR = "request rejected"


RETRYABLE = frozenset(
    {ErrorKind.REFUSED, ErrorKind.TIMEOUT, ErrorKind.RATE_LIMITED, ErrorKind.SERVER_ERROR}
)


class BackendError(Exception):
    def __init__(
        self,
        backend: BackendConfig,
        kind: ErrorKind,
        detail: str,
        retry_after: float | None = None,
    ) -> None:
        self.backend = backend.name
        self.url = backend.url
        self.kind = kind
        self.detail = detail
        self.retry_after = retry_after
        super().__init__(f"backend {backend.name!r} ({backend.url}) {kind.value}: {detail}")

    @property
    def retryable(self) -> bool:
        return self.kind in RETRYABLE


@dataclass(frozen=True, slots=True)
class CompletionRequest:
    model: str
    messages: list[dict[str, str]]
    schema: dict[str, Any]
    max_tokens: int
    temperature: float
    # The tier's context window. Ollama's default (2048 or 4096) would silently
    # cut the front of a long prompt, so it is always sent.
    context_tokens: int = 8192
    # The span's own sampling seed (from its text's hash), for a backend that samples
    # in process: a request then gets the same answer whatever was generated before
    # it, so two runs differing in one prompt part compare span by span, and a run
    # can be reproduced. None: the backend's own.
    seed: int | None = None


@dataclass(frozen=True, slots=True)
class Completion:
    text: str
    finish_reason: str | None
    tokens_in: int | None  # None when the backend reported no usage
    tokens_out: int | None


class Backend(Protocol):
    """The seam between the router and one LLM host."""

    config: BackendConfig
    in_flight: int
    errors: int

    async def complete(self, request: CompletionRequest) -> Completion: ...

    async def list_models(self) -> list[str]: ...

    async def aclose(self) -> None: ...


# A small model asked for JSON repeats list items without a penalty (LOCAL_LLM.md).
REPEAT_PENALTY = 1.1


def parse_chat_completion(data: Any, error: Callable[[ErrorKind, str], BackendError]) -> Completion:
    """An OpenAI-shaped chat completion (HTTP servers and llama-cpp-python alike)."""
    try:
        choice = data["choices"][0]
        text = choice["message"]["content"]
        if not isinstance(text, str):
            raise TypeError("content is not a string")
    except (KeyError, IndexError, TypeError) as exc:
        raise error(ErrorKind.BAD_RESPONSE, f"no choices[0].message.content ({exc})") from None
    usage = data.get("usage") or {}
    return Completion(
        text=text,
        finish_reason=choice.get("finish_reason"),
        tokens_in=token_count(usage.get("prompt_tokens")),
        tokens_out=token_count(usage.get("completion_tokens")),
    )


def token_count(value: Any) -> int | None:
    """A usage count as reported, or None: a bool or a string is not a count."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None
