"""The gate's `wrong_symbol` check: an answer about another function or class than the span.

A backend that mixes up requests (or a model that drifts) can return a good
gloss of a different symbol; shown on this span it would be a confident lie.
Part of the quality gate (`gate.py` runs the checks in order).
"""

from __future__ import annotations

import builtins
import keyword
import re
from collections.abc import Iterable, Iterator

from enrich_core.llm.gate_echo import answer_fields
from enrich_core.records.gloss import Gloss, GlossRejected
from enrich_core.records.span import Span

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
    for _field, text in answer_fields(gloss):
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
