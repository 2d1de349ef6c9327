"""Redact secret-looking strings in span text before it leaves the process.

Every request to an LLM backend carries code, and code sometimes carries a key:
a pasted token, a test fixture with a real password, a PEM block in a string.
This module replaces each such string with ``[REDACTED:<kind>]`` and says how
many it replaced and of which kinds, so the caller can record it.

It must never send, log or store what it redacts, and never rewrite ordinary
code: only the secret itself is replaced, the names and quotes around it stay,
so the model still sees what the code does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import pairwise

__all__ = ["Redaction", "might_hold_secret", "redact_every_rule", "redact_secrets"]


@dataclass(frozen=True, slots=True)
class Redaction:
    text: str
    count: int
    # Distinct kinds found, sorted, so equal inputs give equal records.
    kinds: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Rule:
    kind: str
    pattern: re.Pattern[str]
    # The group holding the secret; 0 replaces the whole match.
    group: int | str = 0
    # Lower wins when two matches overlap: a key recognised by its shape says
    # more than "a password-like assignment" around it.
    priority: int = 1


_B64URL = r"[A-Za-z0-9_-]"
# Keys sit inside identifiers and file names (`KEY_AKIA..._backup`, `prod_ghp_...`):
# `\b` fails between a key and a `_` or a digit beside it, so the edges of a key
# are "no letter or digit here" instead. A key's own alphabet may hold `_`/`-`.
_NO_ALNUM_BEFORE = r"(?<![A-Za-z0-9])"

_RULES: tuple[_Rule, ...] = (
    _Rule(
        "private_key_block",
        # A span may end inside the block (or the END line may be mangled):
        # without an END, everything from BEGIN on is redacted.
        re.compile(
            r"-----BEGIN[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----"
            r"[\s\S]*?(?:-----END[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----|\Z)"
        ),
        priority=0,
    ),
    _Rule(
        "aws_access_key_id",
        re.compile(rf"{_NO_ALNUM_BEFORE}(?:AKIA|ASIA)[A-Z0-9]{{16}}(?![A-Z0-9])"),
    ),
    _Rule(
        "aws_secret_access_key",
        re.compile(
            r"(?i:aws_?secret_?(?:access_?)?key|secret_?access_?key)"
            r"[\"'\]]*\s*(?:=|:)\s*[\"']?"
            r"(?P<secret>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])"
        ),
        group="secret",
    ),
    _Rule(
        "github_token", re.compile(rf"{_NO_ALNUM_BEFORE}(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{{36,}}")
    ),
    _Rule("github_token", re.compile(rf"{_NO_ALNUM_BEFORE}github_pat_[A-Za-z0-9_]{{22,}}")),
    _Rule("gitlab_token", re.compile(rf"{_NO_ALNUM_BEFORE}glpat-[A-Za-z0-9_-]{{20,}}")),
    _Rule("slack_token", re.compile(rf"{_NO_ALNUM_BEFORE}xox[baprs]-[A-Za-z0-9-]{{10,}}")),
    # Real keys are random base62: requiring a digit keeps long slugs such as
    # "sk-learn-pipeline-example" from looking like keys.
    _Rule(
        "anthropic_api_key",
        re.compile(rf"{_NO_ALNUM_BEFORE}sk-ant-(?={_B64URL}*\d){_B64URL}{{20,}}"),
    ),
    _Rule(
        "openai_api_key",
        re.compile(rf"{_NO_ALNUM_BEFORE}sk-(?!ant-)(?={_B64URL}*\d){_B64URL}{{20,}}"),
    ),
    _Rule("google_api_key", re.compile(rf"{_NO_ALNUM_BEFORE}AIza[0-9A-Za-z_-]{{35}}")),
    _Rule("stripe_key", re.compile(rf"{_NO_ALNUM_BEFORE}(?:sk|rk)_live_[0-9A-Za-z]{{16,}}")),
    _Rule(
        "jwt",
        re.compile(rf"{_NO_ALNUM_BEFORE}eyJ{_B64URL}{{10,}}\.{_B64URL}{{10,}}\.{_B64URL}{{10,}}"),
    ),
    _Rule(
        "bearer_token",
        re.compile(
            r"(?i:authorization)[\"'\]]*\s*[:=]\s*[\"']?(?i:bearer)\s+"
            r"(?P<secret>[A-Za-z0-9._~+/_-]{8,}=*)"
        ),
        group="secret",
        priority=2,
    ),
    _Rule(
        "url_password",
        # The look-behind anchors the scheme at the start of a word, which also
        # keeps a long run of letters from being rescanned at every position.
        # Passwords that are template slots ({pw}, %s, $PW) are not secrets,
        # nor is an earlier redaction (redacting twice changes nothing).
        re.compile(
            r"(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]*://[^\s/:@'\"]*:"
            r"(?!\{[^}\s]*\}@|%(?:\(\w+\))?s@|\$\{?\w+\}?@|\[REDACTED:)"
            r"(?P<secret>[^\s/@'\"]+)@"
        ),
        group="secret",
        priority=2,
    ),
)

# `name = "literal"`, `name: str = "literal"`, `"name": "literal"`,
# `name="literal"` (a keyword argument), `env["NAME"] = "literal"`,
# `name == "literal"`. The name is checked in code (see _is_secret_name).
# The bounded repeats keep a long minified line with many `x: y` pairs from
# being rescanned to its end at every colon.
_ASSIGNMENT = re.compile(
    r"(?<![\w.-])(?P<name>[A-Za-z_][\w.-]*)[\"']?\]?"
    r"(?:\s*:\s*[A-Za-z_][\w\[\]., |]{0,200}?\s*=(?!=)|\s*==?|\s*:)"
    r"\s*(?P<prefix>[A-Za-z]{0,2})(?P<quote>[\"'])(?P<value>[^\n]{0,1000}?)(?P=quote)"
)
_SECRET_WORDS = ("password", "passwd", "secret", "token", "apikey")
_NAME_WORD = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")
_MIN_GENERIC_LENGTH = 8
_GENERIC_KIND = "generic_secret"
_MARKER = re.compile(r"\[REDACTED:\w+\]")


# Each rule above matches only text holding one of these literals (its key
# prefix, its name word, `://`), and the generic rule needs a secret word in
# the name. Most code holds none, so one search stands in for fifteen scans:
# ~10 us instead of ~150 us for a short function (bench/redaction.py), and
# every span's signature, path, names and docstring are redacted too.
_TRIGGER = re.compile(
    r"-----BEGIN|AKIA|ASIA|gh[pousr]_|github_pat_|glpat-|xox|sk-|AIza|_live_|eyJ|://"
    r"|(?i:secret|authorization|token|passw(?:or)?d|api[\W_\d]*key)"
)


def redact_secrets(text: str) -> Redaction:
    """Replace every secret in ``text`` with ``[REDACTED:<kind>]``.

    Generic rule, kept simple on purpose: a quoted str literal (not an
    f-string or bytes) of at least 8 characters, with no whitespace and not
    one repeated character, assigned or compared to, or keyed by, a name one
    of whose words ends in password, passwd, secret, token or api key
    (`db_password`, `mytoken`, `apiKey`, `X-API-KEY`, `client_secrets`;
    not `tokenizer`, `secretary`). Its content is replaced; the quotes stay.
    """
    if not might_hold_secret(text):
        return Redaction(text=text, count=0, kinds=())
    return redact_every_rule(text)


# `_TRIGGER` in two halves for ASCII text, which is nearly all code: the keys'
# literals as they are, the words matched in the lowered text. A scoped `(?i:)`
# group costs the whole pattern its fast scan (~19 us a short function; ~4 so).
_TRIGGER_CASED = re.compile(
    r"-----BEGIN|AKIA|ASIA|gh[pousr]_|github_pat_|glpat-|xox|sk-|AIza|_live_|eyJ|://"
)
_TRIGGER_LOWERED = re.compile(r"secret|authorization|token|passw(?:or)?d|api[\W_\d]*key")


def might_hold_secret(text: str) -> bool:
    """Whether `text` holds a literal some rule needs; False means no rule can match."""
    if not text.isascii():
        # Unicode case folding matches more than lower() does (`ſ` for `s`).
        return _TRIGGER.search(text) is not None
    return (
        _TRIGGER_CASED.search(text) is not None or _TRIGGER_LOWERED.search(text.lower()) is not None
    )


def redact_every_rule(text: str) -> Redaction:
    """`redact_secrets` without the trigger pre-check: every rule scans the text.

    The reference the pre-check is tested and measured against; callers use
    `redact_secrets`.
    """
    candidates: list[tuple[int, int, int, str]] = []
    for rule in _RULES:
        for match in rule.pattern.finditer(text):
            start, end = match.span(rule.group)
            if end > start:
                candidates.append((rule.priority, start, end, rule.kind))
    for match in _ASSIGNMENT.finditer(text):
        if _is_generic_secret(match):
            start, end = match.span("value")
            candidates.append((3, start, end, _GENERIC_KIND))

    chosen: list[tuple[int, int, str]] = []
    for _priority, start, end, kind in sorted(candidates):
        if all(end <= other_start or start >= other_end for other_start, other_end, _ in chosen):
            chosen.append((start, end, kind))
    if not chosen:
        return Redaction(text=text, count=0, kinds=())

    chosen.sort()
    pieces: list[str] = []
    position = 0
    for start, end, kind in chosen:
        pieces.append(text[position:start])
        pieces.append(f"[REDACTED:{kind}]")
        position = end
    pieces.append(text[position:])
    return Redaction(
        text="".join(pieces),
        count=len(chosen),
        kinds=tuple(sorted({kind for _, _, kind in chosen})),
    )


def _is_generic_secret(match: re.Match[str]) -> bool:
    prefix = match.group("prefix").lower()
    if prefix and (set(prefix) - {"r", "u"}):
        # f-strings are built from other values, bytes are not text; anything
        # else before the quote means the regex caught an identifier, not a prefix.
        return False
    value = match.group("value")
    if _MARKER.fullmatch(value):
        # Already redacted: a second pass must change nothing.
        return False
    return (
        len(value) >= _MIN_GENERIC_LENGTH
        and len(set(value)) > 1
        and not any(char.isspace() for char in value)
        and _is_secret_name(match.group("name"))
    )


def _is_secret_name(name: str) -> bool:
    """Whether a word of ``name`` ends in a secret word (or its plural).

    Words split at punctuation and at camelCase humps, trailing digits
    dropped; a word followed by `key` is joined to it, so `api_key`, `apiKey`
    and `API-KEY` all match.
    """
    words = [word.lower().rstrip("0123456789") for word in _NAME_WORD.findall(name)]
    joined = [a + b for a, b in pairwise(words) if b.startswith("key")]
    for word in (*words, *joined):
        stem = word[:-1] if word.endswith("s") else word
        if any(word.endswith(secret) or stem.endswith(secret) for secret in _SECRET_WORDS):
            return True
    return False
