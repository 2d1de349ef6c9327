"""The README's quoted outputs: blocks between marker comments, found and rewritten.

A quoted output in README.md is a fenced block between two comments:

    <!-- output: gloss hover FILE:LINE · model: M · regenerate: python -m bench.readme_outputs -->
    ~~~text
    ... what the command printed ...
    ~~~
    <!-- /output -->

The first field is the command, run from the repository's root (a copy of it:
`examples/sample` is copied elsewhere first); `model` says who wrote the model
text in it: the suite's test LLM server (deterministic, so tests/test_readme_outputs.py
runs the command and compares) or a real model (then `python -m bench.readme_outputs`
regenerates the block and rewrites the label with the versions it ran).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

OPEN = re.compile(r"^<!-- output: (?P<fields>.+?) -->$")
CLOSE = "<!-- /output -->"
# A made-up example of a format (say, a progress bar mid-run), not any run's output:
# its lead-in must say its figures are made up.
ILLUSTRATION_OPEN = re.compile(r"^<!-- illustration: (?P<what>.+?) -->$")
ILLUSTRATION_CLOSE = "<!-- /illustration -->"
FIELD_SEPARATOR = " · "
REGENERATE = "python -m bench.readme_outputs"
# Who wrote a block's model text when it was the suite's test server, not a model.
TEST_SERVER = "test LLM server (bench/support/llm_server.py)"
FENCE = re.compile(r"^(?P<fence>```+|~~~+)(?P<lang>[\w-]*)$")


# A block is its command and whether the test server or a model wrote it: the same
# command may be quoted once for each.
BlockKey = tuple[bool, str]


class MarkerError(ValueError):
    """A marker comment or the block between two of them is not as this module reads it."""


@dataclass(frozen=True)
class OutputBlock:
    command: str
    model: str
    body: str  # the fenced text, without the fences; no trailing newline
    line: int  # 1-based line of the opening marker
    lead_in: str  # the paragraph right above the marker

    @property
    def by_test_server(self) -> bool:
        return self.model == TEST_SERVER

    @property
    def key(self) -> BlockKey:
        return (self.by_test_server, self.command)


def _fields(text: str, line: int) -> tuple[str, dict[str, str]]:
    command, *rest = text.split(FIELD_SEPARATOR)
    named: dict[str, str] = {}
    for field in rest:
        key, sep, value = field.partition(": ")
        if not sep or not value:
            raise MarkerError(f"README.md:{line}: marker field {field!r} is not `key: value`")
        named[key] = value
    if not command.startswith("gloss "):
        raise MarkerError(f"README.md:{line}: marker command {command!r} is not a `gloss` command")
    for key in ("model", "regenerate"):
        if key not in named:
            raise MarkerError(f"README.md:{line}: marker has no `{key}:` field")
    if named["regenerate"] != REGENERATE:
        raise MarkerError(
            f"README.md:{line}: marker says `regenerate: {named['regenerate']}`, "
            f"expected `{REGENERATE}`"
        )
    return command, named


def _lead_in(lines: list[str], marker_index: int) -> str:
    """The paragraph that ends right above the marker (one blank line allowed between)."""
    i = marker_index - 1
    while i >= 0 and not lines[i].strip():
        i -= 1
    end = i + 1
    while i >= 0 and lines[i].strip():
        i -= 1
    return " ".join(line.strip() for line in lines[i + 1 : end])


def read_blocks(text: str) -> list[OutputBlock]:
    lines = text.split("\n")
    blocks: list[OutputBlock] = []
    i = 0
    while i < len(lines):
        opened = OPEN.match(lines[i])
        if opened is None:
            if lines[i].startswith("<!-- /output"):
                raise MarkerError(f"README.md:{i + 1}: a closing marker with no opening one")
            i += 1
            continue
        command, named = _fields(opened["fields"], i + 1)
        fence = FENCE.match(lines[i + 1]) if i + 1 < len(lines) else None
        if fence is None:
            raise MarkerError(f"README.md:{i + 2}: expected a code fence right below the marker")
        try:
            close = lines.index(fence["fence"], i + 2)
        except ValueError:
            raise MarkerError(f"README.md:{i + 2}: the fence is never closed") from None
        if close + 1 >= len(lines) or lines[close + 1] != CLOSE:
            raise MarkerError(f"README.md:{close + 2}: expected `{CLOSE}` right below the fence")
        blocks.append(
            OutputBlock(
                command=command,
                model=named["model"],
                body="\n".join(lines[i + 2 : close]),
                line=i + 1,
                lead_in=_lead_in(lines, i),
            )
        )
        i = close + 2
    return blocks


def fenced(body: str) -> str:
    """The body in a `text` fence that none of its lines can close early."""
    fence = "~~~" if "```" in body else "```"
    while any(line.startswith(fence) for line in body.split("\n")):
        fence += fence[0]
    return f"{fence}text\n{body}\n{fence}"


def rewrite(text: str, outputs: dict[BlockKey, str], models: dict[BlockKey, str]) -> str:
    """`text` with the body of each block whose key is in `outputs` replaced, and its
    marker's `model:` set to `models[key]`; every other line as it was."""
    lines = text.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        opened = OPEN.match(lines[i])
        if opened is None:
            out.append(lines[i])
            i += 1
            continue
        command, named = _fields(opened["fields"], i + 1)
        close = lines.index(CLOSE, i + 1)
        key = (named["model"] == TEST_SERVER, command)
        if key not in outputs:
            out.extend(lines[i : close + 1])
        else:
            named["model"] = models[key]
            fields = FIELD_SEPARATOR.join([command, *(f"{k}: {v}" for k, v in named.items())])
            out.append(f"<!-- output: {fields} -->")
            out.extend(fenced(outputs[key]).split("\n"))
            out.append(CLOSE)
        i = close + 1
    return "\n".join(out)


def illustrations(text: str) -> list[tuple[int, str]]:
    """Each illustration marker's 1-based line and the paragraph right above it."""
    lines = text.split("\n")
    return [
        (i + 1, _lead_in(lines, i)) for i, line in enumerate(lines) if ILLUSTRATION_OPEN.match(line)
    ]


def unmarked_text_fences(text: str) -> list[int]:
    """1-based lines of ```text / ~~~text fences (the README's way of quoting output)
    that no output or illustration marker encloses."""
    lines = text.split("\n")
    found: list[int] = []
    inside_marker = False
    open_fence: str | None = None
    for n, line in enumerate(lines, 1):
        if OPEN.match(line) or ILLUSTRATION_OPEN.match(line):
            inside_marker = True
        elif line in (CLOSE, ILLUSTRATION_CLOSE):
            inside_marker = False
        stripped = line.strip()
        fence = FENCE.match(stripped)
        if open_fence is None:
            if fence is not None:
                open_fence = fence["fence"]
                if fence["lang"] == "text" and not inside_marker:
                    found.append(n)
        elif stripped == open_fence:
            open_fence = None
    return found
