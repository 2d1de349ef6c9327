"""The gate's rules on who an answer speaks to and what it claims beyond the code (issue 14).

A small model asked to document code sometimes answers the person who asked
instead ("The code is incomplete. Please provide a complete description…",
"I will make it more interesting…"), copies the instructions' wording into a
field (tags `["a few lowercase topic words"]`), or invents where the code comes
from ("a wrapper around … the `pydex` module"). Shown in a hover, each reads as
a fact about the code. Part of the quality gate (`gate.py` runs the checks in
order); each rejection has a stable reason name:

- `talks_to_user`: a field speaks as a chat assistant: in the first person ("I
  will", "Let me", "As an AI"), to the asker ("Please provide…", "the code you
  provided", "Let me know…", "Sure! Here is…"), or about the request rather
  than the code ("The code is incomplete", "without more context"). Words the
  span's own code or docstring holds are quotes of it (a function that prints
  "Please provide a name").
- `copied_prompt`: a field (any field; `gate.check_not_copied` covers the
  summary that is wholly a piece of the instructions) holds the instructions'
  wording: six words in a row of them, a whole field of four words or more that
  is a piece of them (three for a tag), a list whose items together are one
  (tags `a`, `few`, `lowercase`, `topic`, `words`), or the inputs' template
  ("name: meaning", "path: meaning"). The instructions are the system prompt and
  the section headers the request adds (docstring, callees).
- `unknown_module`: the answer names, as a module, package, library or crate, or
  in a Python import statement, a name the code never mentions: not in the span's
  text, signature or docstring, not in its file's import lines, not a part of
  its own path (`requests/sessions.py`: `requests`, `sessions`). Only names
  written as such claims are judged: in backticks ("the `pydex` module"), in an
  import statement ("import pydex"), or a plain name shaped like code or a
  standard module's ("the py_escape module", "the pickle module"); a plain word
  ("the standard library", "a Python module", "the middleware module of this
  package", "a dotted module path") claims nothing. A Python usage snippet may
  import the standard library (`import asyncio` to run a coroutine). Run only where the
  caller knows the file's imports (the router passes the span's gathered
  context's, which it has whatever parts the prompt carries), and not where the
  file's import lines were cut at `records.context.MAX_IMPORT_LINES` (200; requests'
  `sessions.py` has 56): a module named past the cut is not known to be invented.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Sequence
from pathlib import PurePosixPath

from enrich_core.llm.gate_echo import SpanCode, answer_fields
from enrich_core.llm.outbound import (
    CALLEES_HEADER,
    DOCSTRING_HEADER,
    DOCSTRING_MARKER,
    SYSTEM_PROMPT,
)
from enrich_core.records.context import MAX_IMPORT_LINES
from enrich_core.records.gloss import Gloss, GlossRejected
from enrich_core.records.span import Span

__all__ = [
    "check_modules_grounded",
    "check_not_talking_to_user",
    "check_prompt_not_copied",
    "grounded_module_words",
]

# --- talks_to_user ---------------------------------------------------------------

# Each is a chat assistant's turn of phrase; none is how documentation reads.
_TALK = re.compile(
    "|".join(
        (
            # The first person: "I will", "I'm not sure", "my answer". A capital I only: a
            # loop's `i` "will" hold the last index.
            r"(?-i:\bI(?:'ll|'m|'ve|'d| will| would| am| have| can| cannot| could| think"
            r"| hope| need| don't| do not| added| made| assume| believe| apologi[sz]e)\b)",
            r"\bmy (?:answer|response|summary|understanding|best guess|apologies)\b",
            r"\blet me\b",
            r"\blet's\b",
            r"\bas an? (?:ai|language model|assistant)\b",
            # The asker addressed: "Please provide", "the code you provided". (Not every
            # "you": documentation says "the callback you pass".)
            r"\bplease (?:provide|share|give|send|paste|clarify|tell|upload|let)\b",
            r"\b(?:code|snippet|information|details|description)(?: that)? you(?:'ve| have)?"
            r" (?:provided|gave|given|shared|sent|pasted|posted)\b",
            r"\byour question\b",  # not "your request": an HTTP library's docs say it
            r"\b(?:could|can|would) you\b",
            r"\bfeel free\b",
            r"\bhope (?:this|that|it) helps\b",
            r"\bhappy coding\b",
            r"^\W*(?:sure|certainly|of course|okay|absolutely|great question)\b\W",
            r"^\W*here(?: is|'s| are)\b",
            # The request's own layout, not the code: "the above code", "The docstring
            # is in its own section" (the request's docstring marker, outbound.py).
            r"\bthe above (?:code|snippet|function|method|class)\b",
            r"\b(?:code|snippet) (?:shown |given )?above\b",
            r"\bin its own section\b",
            # The request judged, not the code: "The code is incomplete".
            r"\b(?:code|snippet|request|prompt|question)(?: you provided)?"
            r" (?:is|seems|appears|looks)(?: to be)?"
            r" (?:incomplete|truncated|cut off|not complete|unclear|not provided|missing)\b",
            r"\b(?:without|need|needs|provide|with) (?:more|further|additional) "
            r"(?:information|context|details)\b",
            # ...about the request, not the code's data ("not enough information to
            # handle" is a pitfall of some code).
            r"\bnot enough (?:information|context|details)(?: (?:is |was )?(?:provided|given))?"
            r"(?= to (?:determine|tell|say|know|document|describe|understand)\b|\W*$)",
        )
    ),
    re.IGNORECASE,
)
# A word each phrase above holds (lower case), and the capital I of the first person:
# an answer with none of them, most answers, cannot match, and is passed after a few
# substring tests instead of the phrases' search (0.1 ms an answer, profiled).
_TALK_WORDS = (
    "my ", "let", "as a", "please", "you", "feel free", "hope", "happy coding", "sure",
    "certainly", "of course", "okay", "absolutely", "great question", "here", "above",
    "own section", "incomplete", "truncated", "cut off", "not complete", "unclear",
    "not provided", "missing", "information", "context", "details", "not enough",
)  # fmt: skip
_CAPITAL_I = re.compile(r"\bI\b")


def check_not_talking_to_user(gloss: Gloss, span: Span) -> None:
    """Raise GlossRejected("talks_to_user") for a field that speaks as a chat assistant
    (module doc), unless the words are the span's own."""
    everything = "\n".join(text for _, text in answer_fields(gloss))
    low = everything.lower()
    if not any(word in low for word in _TALK_WORDS) and not _CAPITAL_I.search(everything):
        return
    code: SpanCode | None = None
    for field, text in answer_fields(gloss):
        for match in _TALK.finditer(text):
            if code is None:
                code = SpanCode(span)
            if match.group(0).lower().strip() in code.text.lower():
                continue
            raise GlossRejected(
                "talks_to_user", f"{field} speaks to the reader as a chat: {match.group(0)!r}"
            )


# --- copied_prompt ---------------------------------------------------------------

_WORDS = re.compile(r"[a-z0-9]+")
# The instructions as a model reads them: the system prompt, then the section headers
# the request adds, each a run of its own (no run spans two of them).
_INSTRUCTION_PIECES = tuple(
    _WORDS.findall(text.lower())
    for text in (SYSTEM_PROMPT, DOCSTRING_HEADER, CALLEES_HEADER, DOCSTRING_MARKER)
)
_INSTRUCTION_VOCABULARY = frozenset(word for piece in _INSTRUCTION_PIECES for word in piece)
_INSTRUCTION_TEXT = "".join(f" {' '.join(piece)} |" for piece in _INSTRUCTION_PIECES)
# Any run of this many words of the instructions is a copy, not a coincidence:
# no sentence of a gloss needs six words in a row of "what the code does and
# why one would call it" (measured on real answers: tests/test_real_model.py).
_COPY_RUN_WORDS = 6
# A whole field of at least this many words that is a piece of the instructions
# ("what it returns or yields") is the instruction, not an answer to it.
_COPY_FIELD_WORDS = 4
# A tag is a word or two: three words of the instructions are the instruction.
_COPY_TAG_WORDS = 3
_ALL_INSTRUCTION_WORDS = "1" * _COPY_RUN_WORDS
_INSTRUCTION_NGRAMS = frozenset(
    tuple(piece[i : i + _COPY_RUN_WORDS])
    for piece in _INSTRUCTION_PIECES
    for i in range(len(piece) - _COPY_RUN_WORDS + 1)
)
# The instructions' template for an input, whole or with a name put in:
# "name: meaning", "path: meaning".
_TEMPLATE_ITEM = re.compile(r"^\W*[\w*]+\W*:\W*meaning\W*$", re.IGNORECASE)
# A tag is "a few lowercase topic words"; "url: url", "Method: request" follow the
# inputs' "name: meaning" form instead.
_INPUT_SHAPED_TAG = re.compile(r"^\W*[\w.*]+\s*:\s+\S")


def check_prompt_not_copied(gloss: Gloss, span: Span) -> None:
    """Raise GlossRejected("copied_prompt") for the instructions' wording in any field
    (module doc). What the span's own code holds is a quote of the code: a gloss of
    the code that builds these requests may say what they say."""
    code = SpanCode(span)
    for field, text in answer_fields(gloss):
        if field.startswith("inputs") and _TEMPLATE_ITEM.match(text):
            raise GlossRejected("copied_prompt", f"{field} is the instructions' template {text!r}")
        if field.startswith("tags") and _INPUT_SHAPED_TAG.match(text):
            raise GlossRejected(
                "copied_prompt", f"{field} is written as an input ('name: meaning'): {text!r}"
            )
        words = _WORDS.findall(text.lower())
        least = _COPY_TAG_WORDS if field.startswith("tags") else _COPY_FIELD_WORDS
        if _is_instruction_piece(words, least, code):
            raise GlossRejected("copied_prompt", f"{field} is a piece of the instructions")
        run = _instruction_run(words, code)
        if run is not None:
            raise GlossRejected("copied_prompt", f"{field} repeats the instructions ({run!r})")
    for field in ("inputs", "outputs", "side_effects", "pitfalls", "tags"):
        items: tuple[str, ...] = getattr(gloss, field)
        if len(items) < 2:
            continue
        words = [word for item in items for word in _WORDS.findall(item.lower())]
        least = _COPY_TAG_WORDS if field == "tags" else _COPY_FIELD_WORDS
        if _is_instruction_piece(words, least, code):
            raise GlossRejected(
                "copied_prompt", f"the items of {field} together are a piece of the instructions"
            )


def _is_instruction_piece(words: list[str], least: int, code: SpanCode) -> bool:
    if len(words) < least:
        return False
    whole = f" {' '.join(words)} "
    return whole in _INSTRUCTION_TEXT and whole not in code.words


def _instruction_run(words: list[str], code: SpanCode) -> str | None:
    """The first run of `_COPY_RUN_WORDS` words of the instructions in `words` that the
    span's code does not hold, or None."""
    if len(words) < _COPY_RUN_WORDS:
        return None
    # Every word of such a run is a word of the instructions: most answers have no
    # six such words in a row, and need no window looked up.
    marks = "".join(["1" if word in _INSTRUCTION_VOCABULARY else "0" for word in words])
    start = marks.find(_ALL_INSTRUCTION_WORDS)
    while start >= 0:
        run = words[start : start + _COPY_RUN_WORDS]
        if tuple(run) in _INSTRUCTION_NGRAMS and f" {' '.join(run)} " not in code.words:
            return " ".join(run)
        start = marks.find(_ALL_INSTRUCTION_WORDS, start + 1)
    return None


# --- unknown_module ----------------------------------------------------------------

_KIND = r"(?:module|package|library|crate)"
_NAME = r"[A-Za-z_][\w.]*[A-Za-z0-9_]|[A-Za-z_]"
# "the `pydex` module", "`pydex` library", "module `pydex`", "package called `pydex`".
_BACKTICKED_BEFORE = re.compile(rf"`({_NAME})`\s+(?:python\s+)?{_KIND}s?\b", re.IGNORECASE)
_BACKTICKED_AFTER = re.compile(rf"\b{_KIND}s?\s+(?:named\s+|called\s+)?`({_NAME})`", re.IGNORECASE)
# "the json module", "a pydex.loader package", "the py_escape module": lower case, as
# modules are written, and (below) shaped like code or a standard module's name: "the
# middleware module of this package", "a dotted module path" name no module.
_PLAIN_BEFORE = re.compile(rf"\b(?i:the|a|an|its|their)\s+([a-z_][a-z0-9_.]*)\s+{_KIND}\b")
# An import statement (Python's two forms): a line of the usage snippet, or code
# quoted in backticks in another field ("`import pydex`").
_IMPORT = re.compile(rf"(?:^|;)\s*(?:from\s+({_NAME})\s+import\b|import\s+({_NAME}))", re.MULTILINE)
_QUOTED = re.compile(r"`([^`\n]+)`")
# Words that precede "module" or "library" in prose without naming one.
_NOT_NAMES = frozenset(
    """
    standard current same main given other external internal builtin core base parent
    helper utility utilities whole entire imported calling caller enclosing containing
    top own new third separate specified target default local global root relevant
    appropriate corresponding required necessary underlying original specific particular
    this that python java go golang rust javascript typescript ruby php node npm pip
    http https web code software client server test testing config configuration
    runtime system os-level native compiled dynamic optional public private
    wrapper support compatibility networking parsing serialization validation
    """.split()
)
_PYTHON_STDLIB = frozenset(sys.stdlib_module_names)
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def grounded_module_words(span: Span, imports: Iterable[str]) -> frozenset[str]:
    """What a module the answer names may be, lower case: every identifier of the span's
    text, signature, docstring, name and scope, every word of its file's import lines,
    and each part of its own path."""
    texts = (
        span.text, span.signature, span.docstring or "", span.qualname, span.container or "",
        *imports,
    )  # fmt: skip
    words = {ident.lower() for text in texts for ident in _IDENT.findall(text)}
    path = PurePosixPath(span.path)
    words.update(part.lower() for part in (*path.parent.parts, path.stem))
    return frozenset(words)


def check_modules_grounded(gloss: Gloss, span: Span, imports: Sequence[str]) -> None:
    """Raise GlossRejected("unknown_module") for a module the code never mentions
    (module doc). `imports`: the span's file's import lines (`SpanContext.imports`)."""
    if len(imports) >= MAX_IMPORT_LINES:
        return  # the lines were cut: the file may import what is named
    claimed = list(_claimed_modules(gloss, span))
    if not claimed:
        return
    grounded = grounded_module_words(span, imports)
    for field, name in claimed:
        head = re.split(r"[./]", name)[0].lower()
        # "the cookie module" of requests/cookies.py: a plural or singular is the same name.
        spellings = {head, head + "s", head.removesuffix("s")}
        if head and not spellings & grounded:
            where = "its file imports nothing" if not imports else "nor does its file import it"
            raise GlossRejected(
                "unknown_module",
                f"{field} names the module `{name}`, which {span.name} never mentions ({where})",
            )


def _module_shaped(name: str) -> bool:
    """A plain word that can only be a module's name: `_`, `.` or a digit in it, or a
    standard Python module's name (`json`, `pickle`)."""
    return any(c in name for c in "_.0123456789") or name in _PYTHON_STDLIB


def _claimed_modules(gloss: Gloss, span: Span) -> Iterable[tuple[str, str]]:
    """(field, name) of each module the answer names as one."""
    for field, text in answer_fields(gloss):
        for pattern in (_BACKTICKED_BEFORE, _BACKTICKED_AFTER):
            for name in pattern.findall(text):
                if name.lower() not in _NOT_NAMES:
                    yield field, name
        for name in _PLAIN_BEFORE.findall(text):
            if name not in _NOT_NAMES and not name.endswith(".") and _module_shaped(name):
                yield field, name
        if span.language != "python":
            continue  # the import statements read are Python's (JavaScript's binds a name)
        code = text if field == "usage_snippet" else "\n".join(_QUOTED.findall(text))
        for from_name, import_name in _IMPORT.findall(code):
            name = from_name or import_name
            if field == "usage_snippet" and name.split(".")[0] in _PYTHON_STDLIB:
                continue  # a snippet may import what it needs to make the call
            yield field, name
