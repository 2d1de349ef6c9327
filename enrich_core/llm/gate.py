"""The quality gate: a schema-valid answer can still be useless. This decides escalation.

After `schema.parse_gloss` (valid JSON, the right fields, every field
bounded, a non-empty summary of at most 120 words, not cut off), the gate
rejects what a small model typically produces instead of a gloss: filler ("N/A",
"summary of the function"), an answer that echoes the request or its
instructions, an answer about another symbol than the span's, a summary that
copies the code, and inputs that name parameters the function does not have.
Each rejection is a `GlossRejected` with a stable reason name, so the reasons
can be counted. The gate never edits an answer: it passes it whole or rejects it.
"""

from __future__ import annotations

import builtins
import keyword
import re
from collections.abc import Callable, Iterable, Iterator

from enrich_core.llm.outbound import SYSTEM_PROMPT
from enrich_core.records.gloss import Gloss, GlossRejected
from enrich_core.records.span import OUTLINED_KINDS, Span

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
_FLAT_SYSTEM_PROMPT = " ".join(SYSTEM_PROMPT.split()).lower()
# A code line this long found verbatim in the summary means it was copied.
_COPIED_LINE_CHARS = 30
_NAME_LIKE_ITEM = re.compile(r"^\W*([A-Za-z_]\w*)`?\s*(?:\([^)]*\))?\s*[:—–-]")
_WORD = re.compile(r"[A-Za-z_]\w*")
_NOT_PARAMETERS = frozenset({"self", "cls", "returns", "return", "raises", "yields"})


def check_quality(gloss: Gloss, span: Span) -> None:
    """Raise GlossRejected: filler, too_short, copied_code, copied_prompt,
    echoed_prompt, wrong_symbol or invented_inputs (the first check that fails)."""
    for check in CHECKS:
        check(gloss, span)


def check_not_filler(gloss: Gloss, span: Span) -> None:
    """filler (the summary or a list item says nothing) and too_short."""
    summary = " ".join(gloss.summary.split())
    if (
        summary.lower().strip(" .") in FILLER
        or _GENERIC_SUMMARY.match(summary)
        or _SELF_DESCRIBING.match(summary)
    ):
        raise GlossRejected("filler", f"summary is filler: {summary!r}")
    if len(summary.split()) < MIN_SUMMARY_WORDS:
        raise GlossRejected("too_short", f"summary has {len(summary.split())} words")
    # A parameter may well be named `tags` or `summary`: as an input, that is no echo.
    params = {p.lower() for p in parameter_names(span) or ()}
    for field in ("inputs", "outputs", "side_effects", "pitfalls", "tags"):
        for item in getattr(gloss, field):
            if field == "inputs" and item.strip(" :`").lower() in params:
                continue
            if item.lower().strip(" .") in FILLER or _JUNK_ITEM.match(item.strip()):
                raise GlossRejected("filler", f"{field} holds {item!r}")


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
    """invented_inputs: most "name: meaning" inputs name no parameter of the span."""
    _check_inputs(gloss.inputs, parameter_names(span), _signature_words(span))


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


# --- echoed_prompt: the answer says the request back --------------------------

# The labels of the request's header lines (outbound.build_prompt).
_REQUEST_LABEL = re.compile(
    r"(?<![\w-])(Path|Language|Symbol|Kind|Enclosing scope|Signature|Code):(?=\s|$)"
)
_INSTRUCTION_WORDS = re.findall(r"[a-z0-9]+", SYSTEM_PROMPT.lower())
_INSTRUCTION_TEXT = " " + " ".join(_INSTRUCTION_WORDS) + " "
# Any run of this many words of the instructions is a copy, not a coincidence:
# no sentence of a gloss needs six words in a row of "what the code does and
# why one would call it" (measured on real answers: tests/test_real_model.py).
_ECHO_RUN_WORDS = 6
# A whole field of at least this many words that is a piece of the instructions
# ("what it returns or yields") is the instruction, not an answer to it.
_ECHO_FIELD_WORDS = 4
_INSTRUCTION_NGRAMS = frozenset(
    tuple(_INSTRUCTION_WORDS[i : i + _ECHO_RUN_WORDS])
    for i in range(len(_INSTRUCTION_WORDS) - _ECHO_RUN_WORDS + 1)
)
# The instructions' own template for an input, and the request sent back as
# JSON messages, or the schema's keys quoted inside a field.
_TEMPLATE_ITEM = re.compile(r"^\W*name\W*:\W*meaning\W*$", re.IGNORECASE)
_MESSAGE_JSON = re.compile(r"[\"']role[\"']\s*:\s*[\"'](?:system|user|assistant)[\"']")
_QUOTED_KEY = re.compile(
    r"[\"'](summary|inputs|outputs|side_effects|pitfalls|usage_snippet|tags)[\"']\s*:"
)


def check_not_echoed(gloss: Gloss, span: Span) -> None:
    """Raise GlossRejected when the answer repeats the request instead of answering it.

    `echoed_prompt`: a field holds two of the request's header labels, a label
    with this span's own value (`Symbol: Foo.bar`, `Signature: def ...`), the
    `Code:` line and its fence, six words in a row of the instructions, or is
    wholly a piece of them; or the request's messages or the schema's keys as
    JSON. (A summary that is a piece of the instructions is `copied_prompt`,
    checked before.) What the span's own code holds is a quote of the code, not
    an echo: a gloss of the code that builds these requests may name them."""
    code = "\n".join((span.text, span.signature, span.docstring or ""))
    code_words = " " + " ".join(re.findall(r"[a-z0-9]+", code.lower())) + " "
    own_values = _header_values(span)
    for field, text in _fields(gloss):
        labels = {label for label in _REQUEST_LABEL.findall(text) if f"{label}:" not in code}
        if len(labels) >= 2:
            named = ", ".join(sorted(labels))
            raise GlossRejected("echoed_prompt", f"{field} repeats the request's lines ({named})")
        flat = " ".join(text.split())
        for label, value in own_values:
            if label in labels and f"{label}: {value}" in flat:
                raise GlossRejected("echoed_prompt", f"{field} repeats the request's {label} line")
        if "Code" in labels and "```" in text:
            raise GlossRejected("echoed_prompt", f"{field} repeats the request's code block")
        if _TEMPLATE_ITEM.match(text):
            raise GlossRejected("echoed_prompt", f"{field} is the instructions' template {text!r}")
        if _json_echo(text, code):
            raise GlossRejected("echoed_prompt", f"{field} holds the request as JSON")
        words = re.findall(r"[a-z0-9]+", text.lower())
        whole = f" {' '.join(words)} "
        if (
            len(words) >= _ECHO_FIELD_WORDS
            and whole in _INSTRUCTION_TEXT
            and whole not in code_words
        ):
            raise GlossRejected("echoed_prompt", f"{field} is a piece of the instructions")
        for i in range(len(words) - _ECHO_RUN_WORDS + 1):
            run = words[i : i + _ECHO_RUN_WORDS]
            if tuple(run) in _INSTRUCTION_NGRAMS and f" {' '.join(run)} " not in code_words:
                quoted = " ".join(run)
                raise GlossRejected(
                    "echoed_prompt", f"{field} repeats the instructions ({quoted!r})"
                )


def _json_echo(text: str, code: str) -> bool:
    """The request's messages, or two of the schema's keys, as JSON the code does not hold."""
    if _MESSAGE_JSON.search(text) and not _MESSAGE_JSON.search(code):
        return True
    keys = set(_QUOTED_KEY.findall(text))
    return len(keys) >= 2 and not all(f'"{k}"' in code or f"'{k}'" in code for k in keys)


def _header_values(span: Span) -> list[tuple[str, str]]:
    """The request's header lines whose value only this span's request holds."""
    values = [
        ("Path", span.path),
        ("Symbol", span.qualname),
        ("Signature", " ".join(span.signature.split())),
    ]
    if span.container:
        values.append(("Enclosing scope", span.container))
    return [(label, value) for label, value in values if value]


def _fields(gloss: Gloss) -> Iterator[tuple[str, str]]:
    yield "summary", gloss.summary
    for field in ("inputs", "outputs", "side_effects", "pitfalls", "tags"):
        for index, item in enumerate(getattr(gloss, field)):
            yield f"{field}[{index}]", item
    yield "usage_snippet", gloss.usage_snippet


# --- wrong_symbol: the answer is about another function or class ---------------

_IDENT = re.compile(r"[A-Za-z_$][\w$]*")
# In code (the usage snippet): what is called or constructed. No space before
# the `(`, and `new` only before `(`, `{` or `<`: small models write prose in the
# snippet ("creates a new environment (for tests)"), and prose names nothing.
_CALLED = re.compile(r"(?<![\w$])([A-Za-z_$][\w$]*)(?:<[^<>()\n]*>)?\(")
_CONSTRUCTED = re.compile(r"(?<![\w$])new\s+([A-Za-z_$][\w$]*)(?=\s*[({<])")
_MEMBER = re.compile(r"(?<=[A-Za-z0-9_$)\]])(?:\.|::|->)([A-Za-z_$][\w$]*)")
_STRING_LITERAL = re.compile(r"\"(?:[^\"\\\n]|\\.)*\"|'(?:[^'\\\n]|\\.)*'")
# In prose (the summary): words shaped like code, and only those, since "Reads
# the ledger" names nothing. A call `name(...)` (but not "item(s)"), anything
# in backticks, snake_case, camelCase, and PascalCase of two humps or more.
_PROSE_CALL = re.compile(r"(?<![\w$.])([A-Za-z_$][\w$]*)\((?!e?s\))")
_BACKTICKED = re.compile(r"`([^`\n]{1,200})`")
_CODE_SHAPED = re.compile(
    r"(?<![\w$])(?:[A-Za-z]\w*_\w*[A-Za-z0-9]|[a-z][a-z0-9]*[A-Z]\w*|[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]*)+)(?![\w$])"
)
# `Ledger.apply`, `Counter::new`: a class named with its member is a claim on the class.
_QUALIFIED = re.compile(r"(?<![\w$.])([A-Z][\w$]*)(?:\.|::)[A-Za-z_$][\w$]*")
_NAME_PART = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|[0-9]+")
# Words of prose that look like code: product and format names.
_PROSE_NAMES = frozenset(
    """
    javascript typescript coffeescript actionscript powershell github gitlab bitbucket youtube
    linkedin wordpress numpy scipy pypi pytorch tensorflow postgresql mysql sqlite mongodb
    graphql websocket websockets webassembly nodejs macos iphone ipad ios ebay openai devops
    jetbrains intellij vscode openssl openssh oauth dotnet csharp fsharp xcode cmake makefile
    utf8 utf16 ascii json yaml toml html xml csv
    """.split()
)
# Names every language's code calls without defining them: keywords, builtins,
# the standard output and test helpers a usage snippet wraps its call in.
_COMMON_NAMES = frozenset(
    [word.lower() for word in dir(builtins)]
    + [word.lower() for word in keyword.kwlist]
    + """
    if for while switch catch return function func fn def lambda sizeof typeof instanceof
    alignof decltype assert new delete await async yield defer go match with using await
    print println printf sprintf fprintf puts echo console log warn error info debug
    fmt errorf sprint fatal fatalf panic recover make append cap copy len string
    tostring valueof parseint parsefloat stringify parse json math object array promise
    then resolve reject settimeout require import include main init test expect
    assertequal assertequals assertthat assertraises asserttrue assertfalse eq equal equals
    system out writeline write read readline console some none ok err unwrap expect vec box
    option result to_string into from clone std collect iter map filter reduce foreach
    malloc calloc realloc free memcpy memset strlen strcmp strcpy exit abort
    raise throw throws try except finally run main self this super cls
    split join strip rstrip lstrip lower upper replace startswith endswith encode decode
    append extend insert pop push keys values items get update close sort reverse slice
    splice indexof includes trim substring touppercase tolowercase length size charat
    """.split()
)
_CONSTRUCTORS = frozenset({"__init__", "__new__", "constructor", "new", "init", "initialize"})


def check_about_the_span(gloss: Gloss, span: Span) -> None:
    """Raise GlossRejected("wrong_symbol") for an answer about another symbol.

    It is one when its summary or usage snippet names a function or class that
    this span's code (text, signature, names, docstring, path) never mentions
    and that is no common name (a builtin, a keyword, `print`), while no field
    names the span itself: its name in any spelling (`formatTable` for
    `format_table`, "adds" for `add`), or for a constructor its class. A true
    gloss may name other things (it names the span too); a gloss of a function
    the span calls names what the code holds."""
    own = _own_name_words(span)
    if not own or any(_names_the_span(words, own) for words in _answer_word_sets(gloss)):
        return
    known = _known_names(span)
    foreign = [
        name
        for name in dict.fromkeys(_claimed_names(gloss))
        if _norm(name) not in known and not _is_common(name)
    ]
    if foreign:
        names = ", ".join(foreign[:4])
        raise GlossRejected(
            "wrong_symbol", f"names {names}, not {span.name} nor anything in its code"
        )


def _own_name_words(span: Span) -> list[frozenset[str]]:
    """The spellings that name this span: its name, and a constructor's class."""
    spellings = [span.name]
    if span.name in _CONSTRUCTORS or (
        span.container and span.name == span.container.split(".")[-1]
    ):
        if span.container:
            spellings.append(re.split(r"\.|::", span.container)[-1])
    found = [frozenset(_name_words(s)) for s in spellings]
    return [words for words in found if words]


def _name_words(name: str) -> list[str]:
    return [part.lower() for part in _NAME_PART.findall(name)]


def _answer_word_sets(gloss: Gloss) -> Iterator[set[str]]:
    """Each field's word parts (identifiers split at `_` and humps), lower case."""
    for _field, text in _fields(gloss):
        yield {part.lower() for ident in _IDENT.findall(text) for part in _NAME_PART.findall(ident)}


def _names_the_span(words: set[str], own: Iterable[frozenset[str]]) -> bool:
    return any(all(_said(word, words) for word in name) for name in own)


def _said(word: str, words: set[str]) -> bool:
    """Whether `word` is among `words` as written or inflected (add: adds, added)."""
    if word in words:
        return True
    stem = word[:-1] if word.endswith("e") else word
    forms = [word + "s", word + "es", word + "d", word + "ed", stem + "ing", word + "er"]
    if word.endswith("y"):
        forms += [word[:-1] + "ies", word[:-1] + "ied"]
    return any(form in words for form in forms)


def _known_names(span: Span) -> frozenset[str]:
    """Every identifier the span's own text holds, and each `_`-joined piece of one
    (`PyObject` of `PyObject_Del`), normalised (see `_norm`)."""
    texts = (span.text, span.signature, span.qualname, span.container or "", span.path)
    idents = {ident for text in (*texts, span.docstring or "") for ident in _IDENT.findall(text)}
    known = {_norm(ident) for ident in idents}
    known.update(_norm(piece) for ident in idents if "_" in ident for piece in ident.split("_"))
    return frozenset(known)


def _norm(name: str) -> str:
    return name.replace("_", "").replace("$", "").lower()


def _claimed_names(gloss: Gloss) -> Iterator[str]:
    """Names of functions and classes the summary and usage snippet speak of."""
    usage = _STRING_LITERAL.sub('""', gloss.usage_snippet)  # "report.txt" names nothing
    yield from _CALLED.findall(usage)
    yield from _CONSTRUCTED.findall(usage)
    yield from _MEMBER.findall(usage)  # Ruby and friends call without parentheses
    summary = gloss.summary
    yield from _PROSE_CALL.findall(summary)
    for quoted in _BACKTICKED.findall(summary):
        yield from _CALLED.findall(quoted)
        yield from _CODE_SHAPED.findall(quoted)
    yield from _CODE_SHAPED.findall(_BACKTICKED.sub(" ", summary))
    yield from _QUALIFIED.findall(summary)


def _is_common(name: str) -> bool:
    bare = name.strip("_$")
    lower = name.lower()
    return (
        len(bare) <= 2
        or lower in _COMMON_NAMES
        or _norm(name) in _PROSE_NAMES
        or bare.isupper()  # a constant, not a function or class
        or (name.startswith("__") and name.endswith("__"))  # Python's protocol names
        or lower.endswith("_t")  # C's types
    )


# In order: the first that fails names the rejection. Issue 11 added
# check_not_echoed and check_about_the_span (tests/test_real_model.py counts
# what they reject that the others pass).
CHECKS: tuple[Callable[[Gloss, Span], None], ...] = (
    check_not_filler,
    check_not_copied,
    check_not_echoed,
    check_about_the_span,
    check_inputs,
)
