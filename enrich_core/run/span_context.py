"""What a reader of a span has beside its code, gathered for its prompt (`SpanContext`).

- The module's imports: read with the file's parse (source/imports.py) and kept
  beside its spans (`FileContext`).
- For a member, the enclosing type's outline: the type's own span text, whose
  member bodies are cut to `...` already.
- The one-line summaries of the functions it calls that have a gloss, resolved
  within the workspace by name and import: a function or method of the same file
  first (`self.x` in a method: the same type's `x`), then a function of another
  file that an import line of this one names. Only what a model wrote is used
  (the first sentence of a stored gloss, or of one written and not yet committed);
  a callee without a gloss is left out, never described by Gloss.

Resolution is by words, the same for every language: what differs between
languages is which statements import (the language table) and how a callee is
written, which `_split_call` reads for the usual separators (`.`, `::`, `->`).
One store read per span, on the reads' thread, never on the event loop.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping, Sequence
from pathlib import PurePosixPath

from enrich_core.records.context import CalleeSummary, SpanContext
from enrich_core.records.result import GlossResult
from enrich_core.records.span import Span
from enrich_core.source.code_facts import facts_of
from enrich_core.source.file_context import FileContext
from enrich_core.source.languages import language_named
from enrich_core.store.callees import CalleeGlosses, GlossedCallable
from enrich_core.store.health import STORE_ERRORS
from enrich_core.store.search import first_sentence

__all__ = ["MAX_CALLEES", "MAX_CALLS_READ", "ContextGatherer", "gather_context"]

log = logging.getLogger(__name__)

# Callee summaries a prompt carries at most; a tier's budget may drop them all.
MAX_CALLEES = 8
# Distinct calls of a span looked at, in the order they are written.
MAX_CALLS_READ = 32
# A span this short has its calls read on the loop: its parse takes about 0.1 ms,
# less than a hop to a thread and back; a longer one's can take milliseconds.
INLINE_CALLS_CHARS = 1000
# Receivers that mean "this object": a call on one is a method of the span's own type.
SELF_RECEIVERS = frozenset({"self", "this", "$this", "Self", "cls", "static", "@"})

_CALL_SEPARATORS = re.compile(r"\.|::|->")
_IDENTIFIER = re.compile(r"^[$@]?[A-Za-z_][\w]*$")

CalleeReads = Callable[[Collection[str], Collection[str], str], Awaitable[CalleeGlosses]]


def calls_written(span: Span) -> tuple[str, ...]:
    """The callees of a span as written in it (`helper`, `self._load`, `os.path.join`)."""
    return facts_of(span).calls


class ContextGatherer:
    """Gathers each span's context for the engine, and remembers the summaries of
    glosses written but not yet committed, so a caller glossed right after its
    callee (the backlog puts callees first) is told what the callee does."""

    def __init__(
        self,
        reads: Callable[[], CalleeReads | None],
        calls_of: Callable[[Span], Sequence[str]] = calls_written,
    ) -> None:
        self._reads = reads
        self._calls_of = calls_of
        self._written: dict[str, str] = {}  # content hash -> summary, until committed

    async def gather(self, span: Span, file: FileContext | None) -> SpanContext:
        # The span's calls are read by parsing it (cached by its text: the router's
        # facts are the same read), a long span's off the loop.
        try:
            if len(span.text) <= INLINE_CALLS_CHARS:
                calls = self._calls_of(span)  # ~0.1 ms: less than a thread's round trip
            else:
                calls = await asyncio.to_thread(self._calls_of, span)
        except Exception:  # a bug reading one span's calls must not keep it unglossed
            log.exception("%s %s: its calls could not be read", span.path, span.qualname)
            calls = ()
        read = self._reads()
        try:
            return await gather_context(span, file, calls, read, self._written)
        except STORE_ERRORS as exc:
            # The store failed under the read (told by the engine's other reads): the
            # span is glossed with what its file says, without callee summaries.
            log.info("%s: callee summaries not read: %s", span.qualname, exc)
            return await gather_context(span, file, calls, None, self._written)

    def written(self, result: GlossResult) -> None:
        if result.gloss is not None and result.gloss.summary.strip():
            self._written[result.content_hash] = result.gloss.summary

    def committed(self, content_hash: str) -> None:
        self._written.pop(content_hash, None)


async def gather_context(
    span: Span,
    file: FileContext | None,
    calls: Iterable[str],
    read: CalleeReads | None,
    written: Mapping[str, str],
) -> SpanContext:
    """The span's context; `file` is its file's parse, when at hand; `read` reads the
    store (None: callees are told from `written` only); `written` holds summaries of
    glosses written and not yet committed, by content hash."""
    imports = file.imports if file is not None else ()
    outline = None
    if file is not None and span.container is not None:
        outline = file.outlines.get(span.container)
    resolved = _resolve(span, file, calls)
    if not resolved:
        return SpanContext(imports, outline)
    hashes = {r.content_hash for r in resolved if r.content_hash is not None}
    names = {r.name for r in resolved if r.content_hash is None}
    glosses = CalleeGlosses()
    if read is not None and (hashes - written.keys() or names):
        glosses = await read(hashes - written.keys(), names, span.path)
    callees: list[CalleeSummary] = []
    for call in resolved:
        found = _summary(call, glosses, written)
        if found is None:
            continue
        qualname, summary = found
        callees.append(CalleeSummary(call.written, qualname, summary))
        if len(callees) >= MAX_CALLEES:
            break
    return SpanContext(imports, outline, tuple(callees))


class _Call:
    """One call of the span: resolved in its own file (a content hash), or a name to
    look for in the files its imports name (`import_words`: the words of those lines)."""

    __slots__ = ("content_hash", "import_words", "name", "parts", "qualname", "written")

    def __init__(
        self,
        written: str,
        parts: list[str],
        qualname: str | None = None,
        content_hash: str | None = None,
        import_words: tuple[frozenset[str], ...] = (),
    ) -> None:
        self.written = written
        self.parts = parts
        self.name = parts[-1]
        self.qualname = qualname
        self.content_hash = content_hash
        self.import_words = import_words


def _resolve(span: Span, file: FileContext | None, calls: Iterable[str]) -> list[_Call]:
    spec = language_named(span.language)
    separator = spec.separator if spec is not None else "."
    import_words = file.import_words if file is not None else ()
    resolved: list[_Call] = []
    seen: set[str] = set()
    for written in calls:
        if written in seen:
            continue
        seen.add(written)
        if len(seen) > MAX_CALLS_READ:
            break
        parts = _split_call(written)
        if parts is None:
            continue
        in_file = _in_file(span, file, parts, separator)
        if in_file is not None:
            qualname, content_hash = in_file
            if content_hash != span.content_hash:  # a recursive call says nothing new
                resolved.append(_Call(written, parts, qualname, content_hash))
            continue
        if parts[0] in SELF_RECEIVERS or _is_receiver(span, parts[0]):
            continue  # a method of a base type elsewhere: not resolved by name alone
        naming = tuple(words for words in import_words if parts[0] in words)
        if naming:
            resolved.append(_Call(written, parts, import_words=naming))
    return resolved


def _split_call(written: str) -> list[str] | None:
    """`os.path.join` -> [os, path, join]; None for a callee that is not a dotted name
    (`super().save`, `handlers[kind]`): what it names is not known by its words."""
    parts = [p.strip() for p in _CALL_SEPARATORS.split(written.strip())]
    if not parts or not all(_IDENTIFIER.match(p) for p in parts):
        return None
    return parts


def _in_file(
    span: Span, file: FileContext | None, parts: list[str], separator: str
) -> tuple[str, str] | None:
    """(qualname, content hash) of the function of the span's file a call names."""
    if file is None:
        return None
    container = span.container
    if parts[0] in SELF_RECEIVERS or _is_receiver(span, parts[0]):
        if len(parts) != 2 or container is None:
            return None
        candidates = [f"{container}{separator}{parts[1]}"]
    elif len(parts) == 1:
        # A module's function, else one of the span's own scope (a Java or C++ method
        # calling another of its class by its bare name, a nested function's sibling).
        candidates = [parts[0]]
        if container is not None:
            candidates.append(f"{container}{separator}{parts[0]}")
    else:
        candidates = [separator.join(parts)]  # `Circle.area`, `Store::open`
    for qualname in candidates:
        content_hash = file.callables.get(qualname)
        if content_hash is not None:
            return qualname, content_hash
    return None


def _is_receiver(span: Span, word: str) -> bool:
    """Whether `word` names the span's receiver: a parameter written before the
    method's name (Go's `func (s *Store) Save()`), so `s.load()` is `Store.load`."""
    if span.container is None or not span.parameters or word not in span.parameters:
        return False
    head = span.signature.split(f"{span.name}(", 1)[0] if span.name else ""
    return (
        head != span.signature
        and re.search(rf"(?<![\w$]){re.escape(word)}(?![\w$])", head) is not None
    )


def _summary(
    call: _Call, glosses: CalleeGlosses, written: Mapping[str, str]
) -> tuple[str, str] | None:
    """(what the call resolved to, the first sentence of its gloss), if it has one."""
    if call.content_hash is not None:
        text = written.get(call.content_hash) or glosses.by_hash.get(call.content_hash)
        sentence = first_sentence(text)
        return (call.qualname or call.name, sentence) if sentence else None
    # A method of the type the call names (`Store.open`) before a module's function
    # of that name (`util.helper`, `helper`).
    owner = call.parts[-2] if len(call.parts) >= 2 else None
    for wanted_owner in (owner, None) if owner is not None else (None,):
        for candidate in glosses.named:
            if _owner(candidate) == wanted_owner and _imported(call, candidate):
                sentence = first_sentence(written.get(candidate.content_hash) or candidate.summary)
                if sentence:
                    return f"{candidate.path}: {candidate.qualname}", sentence
    return None


def _owner(candidate: GlossedCallable) -> str | None:
    """The innermost type or scope a candidate is defined in, by its last name."""
    if candidate.container is None:
        return None
    return _CALL_SEPARATORS.split(candidate.container)[-1]


def _imported(call: _Call, candidate: GlossedCallable) -> bool:
    """Whether an import line that names the call's first word also names the
    candidate's module (its file's stem or its folder: `from pkg.util import helper`,
    `import "example.com/app/store"`, `import { load } from './config.js'`)."""
    if candidate.name != call.name:
        return False
    path = PurePosixPath(candidate.path)
    module = {path.stem, path.parent.name} - {""}
    # Not by the imported name itself: `from draw.units import scale` does not name
    # a module `scale.py`.
    return any(module & (words - {call.name}) for words in call.import_words)
