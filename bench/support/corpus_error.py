"""The corpus builder's one error: what cannot be built as specified, named."""

from __future__ import annotations

__all__ = ["CorpusError"]


class CorpusError(Exception):
    """The corpus cannot be built as specified; the message names the file or case."""
