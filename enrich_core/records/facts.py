"""Facts read from a span's code, not written by any model: what it touches and raises.

`source/code_facts.py` finds them statically (calls, assignments, `raise` and
`throw` statements, from the span's syntax tree and the language table's data).
They are shown in the hover apart from the model's words, marked as read from
the code; the gate checks a model's claims against them; the quality bench
counts claims supported and unsupported by them. A fact names its evidence, so
a reader can check it in the code.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from enum import StrEnum

__all__ = ["CodeFacts", "Effect", "EffectKind", "Raise"]


class EffectKind(StrEnum):
    FILE = "file"  # opens, reads, writes, deletes files or directories
    NETWORK = "network"  # sockets, HTTP, URLs
    SUBPROCESS = "subprocess"  # runs another program
    ENVIRONMENT = "environment"  # reads or writes environment variables
    LOGGING = "logging"  # a logger, or printing to stdout/stderr
    GLOBAL = "global"  # assigns a module-level or static name
    ARGUMENT = "argument"  # mutates an object passed in (an attribute, item or method)


@dataclass(frozen=True, slots=True)
class Effect:
    kind: EffectKind
    evidence: str  # what in the code says so, as written: `open(`, `os.environ[...] =`
    line: int  # 1-based, within the file


@dataclass(frozen=True, slots=True)
class Raise:
    exception: str  # the class name as written: `ValueError`, `errors.New`
    evidence: str  # `raise` / `throw`, or the call known to raise it: `int(`
    line: int  # 1-based, within the file
    direct: bool  # a raise/throw statement in the span, not a call known to raise


@dataclass(frozen=True, slots=True)
class CodeFacts:
    effects: tuple[Effect, ...]
    raises: tuple[Raise, ...]
    # Every callee name as written (`os.path.join`, `self._load`, `helper`), in order of
    # first call; empty means the span calls nothing at all.
    calls: tuple[str, ...]
    # The parameters, when the language's query names them (see Span.parameters).
    parameters: tuple[str, ...] | None
    # Every write that may be seen outside the span's locals, as written (`self.n +=`,
    # `arg[...] =`, `counter =` after `global counter`), whether or not it is an effect
    # above (a constructor's writes to its own fields are not).
    writes: tuple[str, ...] = ()
    # The language has facts data and the span's text parsed without an error: an
    # absence (no call, no raise, no write) is known, not merely unseen. The gate
    # judges a claim against an absence only then.
    complete: bool = False

    @property
    def empty(self) -> bool:
        return not self.effects and not self.raises

    def moved(self, lines: int) -> CodeFacts:
        """The same facts with every line moved by `lines`. A span that moves in its
        file keeps its content hash (and its gloss): facts kept by content hash are
        kept relative to the span's first line and moved back where it is now."""
        if not lines:
            return self
        return replace(
            self,
            effects=tuple(replace(e, line=e.line + lines) for e in self.effects),
            raises=tuple(replace(r, line=r.line + lines) for r in self.raises),
        )

    def to_json(self) -> str:
        return json.dumps(
            {
                "effects": [[e.kind.value, e.evidence, e.line] for e in self.effects],
                "raises": [[r.exception, r.evidence, r.line, r.direct] for r in self.raises],
                "calls": list(self.calls),
                "parameters": None if self.parameters is None else list(self.parameters),
                "writes": list(self.writes),
                "complete": self.complete,
            },
            ensure_ascii=False,
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str) -> CodeFacts:
        data = json.loads(text)
        params = data.get("parameters")
        return cls(
            effects=tuple(Effect(EffectKind(k), ev, ln) for k, ev, ln in data["effects"]),
            raises=tuple(Raise(x, ev, ln, bool(d)) for x, ev, ln, d in data["raises"]),
            calls=tuple(data["calls"]),
            parameters=None if params is None else tuple(params),
            writes=tuple(data.get("writes", ())),
            complete=bool(data.get("complete", False)),
        )
