"""A model's claims against the facts read from the code: a gate check, and a judge.

`check_grounded` is part of the quality gate (`gate.check_quality` runs it
after the other checks, given the facts the engine read with
`source.code_facts.facts_of`: a stage does not import another). It rejects
only a claim the code plainly contradicts, and only where the facts are
complete (the language has facts data and the span parsed without error):
- `ungrounded_side_effect`: a side effect of a kind the judge below names
  (file, network, subprocess, environment, logging, global state, or changing
  something) claimed for a function that calls nothing and writes nothing
  outside its locals (no call, no effect, no write through a parameter,
  attribute, item or global; in Go, no assignment at all, since a bare name
  may be a package variable: `facts.writes` lists them). An item that negates
  ("no side effects", "does not modify") claims nothing.
- `ungrounded_raise`: an exception named in the outputs or pitfalls of a
  function with no raise and no call, unless the language's operators may raise
  it without either (Python's KeyError from `d[k]`: `implicit_raises` in the
  language's facts data) or the span's own text or docstring names it. A
  language whose data has no `implicit_raises` (Go: any index may panic) is
  never checked.
Neither rule judges a language whose calls may look like no call (`bare_calls`:
Ruby's `log`, a C macro `LOCK;`).

`judge_claims(gloss, facts)` is the quality bench's measure, counting rather
than rejecting:
- side effects: each item of `side_effects` that negates nothing is given a
  kind by its words (first match, in this order: file/disk/directory -> file;
  http/url/socket/request to -> network; subprocess/shell/command ->
  subprocess; environment variable -> environment; log/print/stdout/warn ->
  logging; global/module-level -> global; modify/update/set/append/remove/
  store... -> argument). Supported when the facts hold an effect of that kind;
  a changing claim (argument or global) is supported by either kind or by any
  write outside the locals (`facts.writes`: a constructor setting its fields).
  An item of no kind ("Returns the total") is not judged.
- exceptions: each exception class named (its raise not denied: "never
  raises X", "instead of raising X") in the outputs,
  pitfalls or side effects is supported when the facts raise it, a subclass or
  a base of it (Python's builtin hierarchy), unsupported otherwise; with the
  span's language given, one its operators raise implicitly is not judged.
- inputs: an item written "name: meaning" is supported when the name is a
  parameter, unsupported otherwise; other items are not judged.
- missed: each effect kind, raised exception and parameter (but the receiver
  `self`/`cls`) of the facts that no claim names.
"""

from __future__ import annotations

import builtins
import re
from dataclasses import dataclass

from enrich_core.records.facts import CodeFacts, Effect, EffectKind
from enrich_core.records.gloss import Gloss, GlossRejected
from enrich_core.records.span import OUTLINED_KINDS, Span
from enrich_core.source.languages.effects import facts_data

__all__ = ["Claim", "ClaimTally", "check_grounded", "claimed_kind", "judge_claims"]

# Words that say what kind of side effect an item claims; first match wins, so the
# specific kinds come before the general "changes something".
_KIND_WORDS: tuple[tuple[EffectKind, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(pattern, re.IGNORECASE))
    for kind, pattern in (
        (EffectKind.FILE, r"\b(files?|disk|director(y|ies)|folders?|file ?system)\b"),
        (
            EffectKind.NETWORK,
            r"\b(https?|network|sockets?|urls?|downloads?|uploads?|internet|web (request|service"
            r"|server)s?|remote (server|host|service|api)s?|(sends?|makes?|issues?) (an? )?"
            r"(http |network |web |api )?requests?)\b",
        ),
        (
            EffectKind.SUBPROCESS,
            r"\b(subprocess(es)?|child process(es)?|external (program|command|process)s?"
            r"|shell commands?|spawns?|(runs?|executes?) (an? |the )?(external |shell )?"
            r"(command|program)s?)\b",
        ),
        (EffectKind.ENVIRONMENT, r"\b(environment variables?|env(ironment)? vars?|environ)\b"),
        (
            EffectKind.LOGGING,
            r"\b(logs?|logging|logger|logged|prints?|printed|printing|stdout|stderr"
            r"|standard (output|error)|console|warns?|warnings?)\b",
        ),
        (EffectKind.GLOBAL, r"\b(globals?|module[- ]level|class[- ]level|shared state)\b"),
        (
            EffectKind.ARGUMENT,
            r"\b(modif(y|ies|ied|ying)|mutat\w*|updat(e|es|ed|ing)|chang(e|es|ed|ing)|sets?"
            r"|setting|assign(s|ed|ing)?|append\w*|adds?|added|adding|insert\w*"
            r"|remov(e|es|ed|ing)|delet(e|es|ed|ing)|clear(s|ed|ing)?|stor(e|es|ed|ing)"
            r"|increment\w*|decrement\w*|in[- ]place|pops?|popped|resets?|writes?|writing"
            r"|written|records?|caches?|cached|registers?)\b",
        ),
    )
)
# An item that denies rather than claims: "None", "No side effects", "does not
# modify its input", "Pure function".
_NEGATION = re.compile(
    r"^\W*(none|no|nothing|n/?a|pure|not applicable)\b"
    r"|\b(no side[- ]?effects?|not|never|without|instead of|rather than|no)\b|n't\b",
    re.IGNORECASE,
)
# An item that denies a raise: "never raises", "does not throw", "instead of raising
# KeyError", "no exception"; a condition ("if the file does not exist") denies nothing.
_DENIED_RAISE = re.compile(
    r"\b(never|not|no|without|instead of)\s+(\w+\s+){0,2}?(rais|throw|exception|error|panic)"
    r"|n't\s+(\w+\s+){0,2}?(rais|throw|panic)",
    re.IGNORECASE,
)
# Exception classes as written: `ValueError`, `json.JSONDecodeError`, `StopIteration`.
_EXCEPTION = re.compile(
    r"(?<![\w.])((?:[a-z_][\w]*\.)*[A-Z]\w*(?:Error|Exception|Iteration|Exit|Interrupt))\b"
)
_PANIC = re.compile(r"\bpanic(s|ked|king)?\b", re.IGNORECASE)
# Qualifies a class name: `json.JSONDecodeError`, Ruby's `JSON::ParserError`, PHP's `\Foo\Error`.
_QUALIFIER = re.compile(r"\.|::|\\")
_NAMED_INPUT = re.compile(r"^\W*([A-Za-z_]\w*)`?\s*(?:\([^)]*\))?\s*[:—–-]")
_RECEIVERS = frozenset({"self", "cls", "this"})
_MUTATIONS = frozenset({EffectKind.ARGUMENT, EffectKind.GLOBAL})


def claimed_kind(item: str) -> EffectKind | None:
    """The kind of side effect a side_effects item claims, or None (a denial, or
    words of no kind)."""
    if _NEGATION.search(item):
        return None
    for kind, words in _KIND_WORDS:
        if words.search(item):
            return kind
    return None


def check_grounded(gloss: Gloss, span: Span, facts: CodeFacts) -> None:
    """Raise GlossRejected: ungrounded_side_effect or ungrounded_raise (module doc).
    `facts` are the span's (`source.code_facts.facts_of`, read by the engine)."""
    if span.kind in OUTLINED_KINDS or not facts.complete:
        return
    data = facts_data(span.language)
    if data is None or facts.calls or data.bare_calls:
        return  # a call may do anything the facts do not know of
    if not facts.effects and not facts.writes:
        for item in gloss.side_effects:
            kind = claimed_kind(item)
            if kind is not None:
                raise GlossRejected(
                    "ungrounded_side_effect",
                    f"claims {item!r} ({kind.value}), but {span.name} calls nothing and "
                    "writes nothing outside its locals",
                )
    if facts.raises or data.implicit_raises is None:
        return
    named_in_code = set(_EXCEPTION.findall(f"{span.text}\n{span.docstring or ''}"))
    for field in ("outputs", "pitfalls"):
        for item in getattr(gloss, field):
            if _DENIED_RAISE.search(item):
                continue
            for exception in _EXCEPTION.findall(item):
                short = exception.rsplit(".", 1)[-1]
                if short in data.implicit_raises or exception in named_in_code:
                    continue
                raise GlossRejected(
                    "ungrounded_raise",
                    f"{field} claims {exception}, but {span.name} has no raise and no call",
                )


@dataclass(frozen=True, slots=True)
class Claim:
    """One claim of an answer, judged: its field, its words, and what it is about."""

    field: str  # side_effects, outputs, pitfalls or inputs
    text: str
    topic: str  # an effect kind (`file`), an exception (`ValueError`) or a parameter


@dataclass(frozen=True, slots=True)
class ClaimTally:
    supported_claims: tuple[Claim, ...]
    unsupported_claims: tuple[Claim, ...]
    # Facts no claim names: "effect file: open(", "raises OSError", "input key".
    missed_facts: tuple[str, ...]

    @property
    def supported(self) -> int:
        return len(self.supported_claims)

    @property
    def unsupported(self) -> int:
        return len(self.unsupported_claims)

    @property
    def missed(self) -> int:
        return len(self.missed_facts)


def judge_claims(gloss: Gloss, facts: CodeFacts, language: str | None = None) -> ClaimTally:
    """Each claim of `gloss` supported or not by `facts`, and the facts it missed
    (rules in the module doc). `language` (the span's) leaves claims of exceptions its
    operators raise implicitly unjudged."""
    data = facts_data(language) if language else None
    implicit = (data.implicit_raises if data else None) or frozenset()
    supported: list[Claim] = []
    unsupported: list[Claim] = []
    kinds = {e.kind for e in facts.effects}
    named_kinds: set[EffectKind] = set()
    for item in gloss.side_effects:
        kind = claimed_kind(item)
        if kind is None:
            continue
        named_kinds.add(kind)
        claim = Claim("side_effects", item, kind.value)
        if kind in kinds or (kind in _MUTATIONS and (kinds & _MUTATIONS or facts.writes)):
            supported.append(claim)
        else:
            unsupported.append(claim)
    named_raises: set[str] = set()
    for field in ("outputs", "pitfalls", "side_effects"):
        for item in getattr(gloss, field):
            if _DENIED_RAISE.search(item):
                continue
            claimed = list(dict.fromkeys(_EXCEPTION.findall(item)))
            if _PANIC.search(item):
                claimed.append("panic")
            for exception in claimed:
                raised = [
                    r.exception for r in facts.raises if _same_exception(exception, r.exception)
                ]
                named_raises.update(raised)
                claim = Claim(field, item, exception)
                if raised:
                    supported.append(claim)
                elif exception.rsplit(".", 1)[-1] not in implicit:
                    unsupported.append(claim)
    parameters = set(facts.parameters or ())
    named_inputs: set[str] = set()
    if facts.parameters is not None:
        for item in gloss.inputs:
            m = _NAMED_INPUT.match(item.strip().lstrip("`*"))
            if m is None or m.group(1).lower() in {"returns", "return", "raises", "yields"}:
                continue
            name = m.group(1)
            named_inputs.add(name)
            (supported if name in parameters else unsupported).append(Claim("inputs", item, name))
    missed = [
        f"effect {e.kind.value}: {e.evidence}"
        for e in _first_per_kind(facts)
        if e.kind not in named_kinds and not (e.kind in _MUTATIONS and named_kinds & _MUTATIONS)
    ]
    missed += [
        f"raises {name}"
        for name in dict.fromkeys(r.exception for r in facts.raises)
        if name and name not in named_raises
    ]
    missed += [
        f"input {p}"
        for p in facts.parameters or ()
        if p not in named_inputs and p not in _RECEIVERS
    ]
    return ClaimTally(tuple(supported), tuple(unsupported), tuple(missed))


def _first_per_kind(facts: CodeFacts) -> list[Effect]:
    seen: dict[EffectKind, Effect] = {}
    for effect in facts.effects:
        seen.setdefault(effect.kind, effect)
    return list(seen.values())


def _same_exception(claimed: str, raised: str) -> bool:
    """Whether a claimed exception is one the code raises: the same class (by its last
    name), or for Python's builtins a subclass or base of it (FileNotFoundError and
    OSError). `raised` may list several (`KeyError, OSError` of a bare re-raise)."""
    mine = _QUALIFIER.split(claimed)[-1].lower()
    for one in raised.split(","):
        theirs = _QUALIFIER.split(one.strip())[-1]
        if theirs.lower() == mine:
            return True
        a = getattr(builtins, claimed.rsplit(".", 1)[-1], None)
        b = getattr(builtins, theirs, None)
        if (
            isinstance(a, type)
            and isinstance(b, type)
            and issubclass(a, BaseException)
            and issubclass(b, BaseException)
            and b is not BaseException
            and b is not Exception
            and (issubclass(a, b) or issubclass(b, a))
        ):
            return True
    return False
