"""The test LLM server's embedding: deterministic, meaning-free, and honest about it.

`hashed_embedding(text)` is a hashed bag of word stems, not a model: each
lower-cased word is cut to a crude stem, a stop word is dropped, and each stem
adds its own fixed pseudo-random ±1 direction (the 256 bits of the stem's
SHA-256) to the sum, which is L2-normalised. Texts sharing stems point the
same way; texts sharing none are near-orthogonal (cosine ~ 0 ± 1/16).

A real embedding model also places words of like meaning near each other.
`TEST_SYNONYMS` is a tiny fixed table standing in for that, as a test device
only: each pair's first word is embedded as its second, so a test can show a
query found by meaning that shares no word with the gloss it finds (e.g.
"delete stale documents" and "Removes outdated files"), which gloss-word
search cannot find. It says nothing about how well any real model ranks.
"""

from __future__ import annotations

import functools
import hashlib
import math
import re

EMBEDDING_DIMS = 256

# Test device (see the module docstring): word -> the word it is embedded as.
TEST_SYNONYMS: tuple[tuple[str, str], ...] = (
    ("delete", "remove"),
    ("erase", "remove"),
    ("purge", "remove"),
    ("stale", "outdated"),
    ("expired", "outdated"),
    ("old", "outdated"),
    ("documents", "files"),
    ("fetch", "download"),
    ("retrieve", "download"),
    ("settings", "configuration"),
    ("config", "configuration"),
    ("options", "configuration"),
    ("parse", "read"),
    ("load", "read"),
)

_STOP_WORDS = frozenset(
    "a an and are as at be by for from in into is it its of on or that the this to with".split()
)
_WORD = re.compile(r"[a-z0-9]+")


def _stem(word: str) -> str:
    """A crude suffix cut (removes, removed, removing -> remov): enough for a test."""
    for suffix in ("ing", "ed", "es", "s", "e"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


_SYNONYM_STEMS = {_stem(a): _stem(b) for a, b in TEST_SYNONYMS}


@functools.lru_cache(maxsize=65536)
def _direction(stem: str) -> tuple[int, ...]:
    digest = hashlib.sha256(stem.encode()).digest()
    return tuple(1 if digest[i >> 3] >> (i & 7) & 1 else -1 for i in range(EMBEDDING_DIMS))


def stems(text: str) -> list[str]:
    """The stems a text is embedded from, synonyms mapped, stop words dropped."""
    out = []
    for word in _WORD.findall(text.lower()):
        if word in _STOP_WORDS:
            continue
        stem = _stem(word)
        out.append(_SYNONYM_STEMS.get(stem, stem))
    return out


def hashed_embedding(text: str) -> list[float]:
    """The deterministic unit vector for `text` (all zeros for a text with no word)."""
    total = [0] * EMBEDDING_DIMS
    for stem in stems(text):
        total = [a + b for a, b in zip(total, _direction(stem), strict=True)]
    norm = math.sqrt(sum(v * v for v in total))
    if norm == 0:
        return [0.0] * EMBEDDING_DIMS
    return [v / norm for v in total]
