"""The quality gate: a schema-valid answer can still be useless. This decides escalation.

After `schema.parse_gloss` (valid JSON, the right fields, every field
bounded, a non-empty summary of at most 120 words, not cut off), the gate
rejects what a small model typically produces instead of a gloss: filler ("N/A",
"summary of the function"), an answer that echoes the request or copies its
instructions' wording into any field, one that talks to the asker instead of
documenting the code ("The code is incomplete. Please provide…", "I will…";
`gate_voice`), an answer about another symbol than the span's, a summary that
copies the code, inputs that name parameters the function does not have, a
module named that the code never mentions nor its file imports (`gate_voice`:
"the `pydex` module"; run when the caller passes the file's imports, as the
router does with the span's gathered context), and a side effect or raised
exception that the facts read from the code contradict (`gate_facts`: a file
write claimed for a function that calls nothing; run when the caller passes
the facts, as the router does with the engine's reader).
Each rejection is a `GlossRejected` with a stable reason name, so the reasons
can be counted. The gate never edits an answer: it passes it whole or rejects it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from enrich_core.llm.documented_inputs import documented_parameters
from enrich_core.llm.gate_echo import check_not_echoed
from enrich_core.llm.gate_facts import check_grounded
from enrich_core.llm.gate_symbol import check_about_the_span
from enrich_core.llm.gate_voice import (
    check_modules_grounded,
    check_not_talking_to_user,
    check_prompt_not_copied,
)
from enrich_core.llm.outbound import SYSTEM_PROMPT
from enrich_core.records.facts import CodeFacts
from enrich_core.records.gloss import Gloss, GlossRejected
from enrich_core.records.span import OUTLINED_KINDS, Span

__all__ = [
    "CHECKS",
    "FACT_CHECKS",
    "IMPORT_CHECKS",
    "check_about_the_span",
    "check_grounded",
    "check_inputs",
    "check_modules_grounded",
    "check_not_copied",
    "check_not_echoed",
    "check_not_filler",
    "check_not_talking_to_user",
    "check_prompt_not_copied",
    "check_quality",
    "check_tags_name_topics",
    "parameter_names",
]

FILLER = frozenset(
    {
        "", "-", "--", "n/a", "na", "none", "null", "nil", "nothing", "no", "empty",
        "not applicable", "unknown", "tbd", "todo", "...", "see code", "see above",
    }
)  # fmt: skip
# Summaries that describe the request instead of the code (seen from small models).
_GENERIC_SUMMARY = re.compile(
    r"^(this (is )?(a |the )?)?(summary|description|gloss|documentation) (of|for) "
    r"(the |this )?(function|method|class|code|symbol)\W*$|^(a |the )?(function|method|class)\W*$",
    re.IGNORECASE,
)
# ...or that open by describing themselves ("This is a summary of the code. ...").
_SELF_DESCRIBING = re.compile(
    r"^(this|here) is (a |the |an )?(short |brief )?(summary|description|gloss|overview) "
    r"(of|for) (the |this )?(code|function|method|class|snippet|symbol)",
    re.IGNORECASE,
)
# A list item that is only punctuation, or a schema key echoed ("pitfalls:").
_JUNK_ITEM = re.compile(
    r"^[\W_]*$|^(summary|inputs|outputs|side_effects|side effects|pitfalls|usage_snippet|tags)"
    r"\s*:?\s*$",
    re.IGNORECASE,
)
MIN_SUMMARY_WORDS = 3
# Words that name no topic: a tag made only of them ("this", "the above", "is")
# is the start of a sentence cut into tags, not a topic.
_FUNCTION_WORDS = frozenset(
    "a an the this that these those is are was were be been it its of to in on for with "
    "as by and or not no above below here there".split()
)
_FLAT_SYSTEM_PROMPT = " ".join(SYSTEM_PROMPT.split()).lower()
# A code line this long found verbatim in the summary means it was copied.
_COPIED_LINE_CHARS = 30
_NAME_LIKE_ITEM = re.compile(r"^\W*([A-Za-z_]\w*)`?\s*(?:\([^)]*\))?\s*[:—–-]")
_WORD = re.compile(r"[A-Za-z_]\w*")
_NOT_PARAMETERS = frozenset({"self", "cls", "returns", "return", "raises", "yields"})


def check_quality(
    gloss: Gloss,
    span: Span,
    facts: CodeFacts | None = None,
    imports: Sequence[str] | None = None,
) -> None:
    """Raise GlossRejected: filler, too_short, copied_code, copied_prompt,
    talks_to_user, echoed_prompt, wrong_symbol, invented_inputs, then, given the
    span's file's import lines (`SpanContext.imports`, whether the prompt carried
    them or not), unknown_module, then, given the facts read from the span's code,
    ungrounded_side_effect or ungrounded_raise (the first check that fails)."""
    for check in CHECKS:
        check(gloss, span)
    if imports is not None:
        for import_check in IMPORT_CHECKS:
            import_check(gloss, span, imports)
    if facts is not None:
        for fact_check in FACT_CHECKS:
            fact_check(gloss, span, facts)


def check_not_filler(gloss: Gloss, span: Span) -> None:
    """filler (the summary or a list item says nothing) and too_short."""
    summary = " ".join(gloss.summary.split())
    # ", this is a summary of the code.": leading punctuation hides no meaning.
    opening = summary.lstrip(" ,;:.-–—*")
    if (
        summary.lower().strip(" .") in FILLER
        or _GENERIC_SUMMARY.match(opening)
        or _SELF_DESCRIBING.match(opening)
    ):
        raise GlossRejected("filler", f"summary is filler: {summary!r}")
    if len(summary.split()) < MIN_SUMMARY_WORDS:
        words = len(summary.split())
        raise GlossRejected("too_short", f"summary has {words} word{'' if words == 1 else 's'}")
    # A parameter may well be named `tags` or `summary`: as an input, that is no echo.
    params = {p.lower() for p in parameter_names(span) or ()}
    for field in ("inputs", "outputs", "side_effects", "pitfalls", "tags"):
        for item in getattr(gloss, field):
            if field == "inputs" and item.strip(" :`").lower() in params:
                continue
            if item.lower().strip(" .") in FILLER or _JUNK_ITEM.match(item.strip()):
                raise GlossRejected("filler", f"{field} holds {item!r}")


def check_tags_name_topics(gloss: Gloss, span: Span) -> None:
    """filler: a tag made only of words that name no topic ("this", "the above").
    Run after the prompt checks: tags that copy the instructions ("a", "few",
    ...) are named for that."""
    for item in gloss.tags:
        if set(_WORD.findall(item.lower())) <= _FUNCTION_WORDS:
            raise GlossRejected("filler", f"tags holds {item!r}, which names no topic")


def check_not_copied(gloss: Gloss, span: Span) -> None:
    """copied_code (the summary is the code or its signature) and copied_prompt
    (the summary is a piece of the instructions)."""
    summary = " ".join(gloss.summary.split())
    flat_code = " ".join(span.text.split())
    if len(summary) >= 20 and summary in flat_code:
        raise GlossRejected("copied_code", "the summary is a piece of the code")
    if len(summary) >= 20 and summary.lower() in _FLAT_SYSTEM_PROMPT:
        raise GlossRejected("copied_prompt", "the summary repeats the instructions")
    if " ".join(span.signature.split()) in summary and len(summary) < len(span.signature) + 20:
        raise GlossRejected("copied_code", "the summary restates the signature")
    docstring = " ".join((span.docstring or "").split())
    for line in span.text.splitlines():
        code = " ".join(line.split())
        if len(code) >= _COPIED_LINE_CHARS and code in summary and code not in docstring:
            raise GlossRejected("copied_code", f"the summary contains the code line {code!r}")


def check_inputs(gloss: Gloss, span: Span) -> None:
    """invented_inputs: most "name: meaning" inputs name no parameter of the span (nor a
    name its docstring documents as one: the keys `**kwargs` takes)."""
    known = _signature_words(span) | documented_parameters(span.docstring)
    _check_inputs(gloss.inputs, parameter_names(span), known)


def parameter_names(span: Span) -> frozenset[str] | None:
    """The parameters of a function span, or None when they cannot be known.

    They are what the span's language query captured in the header (see
    source/languages/queries): None for types and their kin, whose inputs are
    not one parameter list, and for a language whose query names no
    parameters, so the check is skipped rather than guessed."""
    if span.kind in OUTLINED_KINDS:
        return None
    return span.parameters


def _signature_words(span: Span) -> frozenset[str]:
    """Words of the signature a claimed input may name without being invented.

    Empty for Python, whose query captures every form a parameter can take; the
    other languages' queries capture the common forms; a destructured JavaScript
    parameter (`{ id, name }`) or a C function pointer's name is in the signature
    but not captured, and a true claim about it must not read as invented."""
    if span.language == "python":
        return frozenset()
    return frozenset(_WORD.findall(span.signature))


def _check_inputs(
    inputs: tuple[str, ...], params: frozenset[str] | None, signature_words: frozenset[str]
) -> None:
    if params is None:
        return
    known_words = params | signature_words
    named = []
    for item in inputs:
        m = _NAME_LIKE_ITEM.match(item.strip().lstrip("`*"))
        if m and m.group(1).lower() not in _NOT_PARAMETERS:
            named.append(m.group(1))
    # Inputs may also be things the code reads (a file, os.environ); only items
    # written as "name: meaning" claim to be parameters. Reject when most of
    # those claims are false, so one loose item does not cost an escalation.
    invented = [n for n in named if n not in known_words and n.lstrip("*") not in known_words]
    if invented and len(invented) * 2 >= len(named):
        known = ", ".join(sorted(params)) or "none"
        raise GlossRejected(
            "invented_inputs", f"{', '.join(invented)} not among the parameters ({known})"
        )


# In order: the first that fails names the rejection. Issue 11 added
# check_not_echoed and check_about_the_span (tests/test_real_model.py counts
# what they reject that the others pass); issue 14 check_not_talking_to_user and
# check_prompt_not_copied (the instructions' wording in any field, which
# check_not_echoed rejected as echoed_prompt before).
CHECKS: tuple[Callable[[Gloss, Span], None], ...] = (
    check_not_filler,
    check_not_copied,
    check_not_talking_to_user,
    check_prompt_not_copied,
    check_tags_name_topics,
    check_not_echoed,
    check_about_the_span,
    check_inputs,
)
# Checks against the file's import lines, run after CHECKS when the caller has them.
# Issue 14 added check_modules_grounded with check_not_talking_to_user and
# check_prompt_not_copied (`bench.real_model --only voice` counts what they reject).
IMPORT_CHECKS: tuple[Callable[[Gloss, Span, Sequence[str]], None], ...] = (check_modules_grounded,)
# Checks against the facts read from the code (`records.facts`), run after CHECKS
# when the caller has them. Issue 13 added check_grounded; tests/test_real_model.py
# counts what it rejects that CHECKS pass.
FACT_CHECKS: tuple[Callable[[Gloss, Span, CodeFacts], None], ...] = (check_grounded,)
