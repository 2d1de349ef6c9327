"""The test LLM server (bench/support/llm_server.py) as a process, for the VS Code end-to-end test.

Prints one JSON line, {"url": "http://127.0.0.1:PORT"}, then serves on
127.0.0.1 until its standard input closes: the test closes it when done, and
the OS closes it if the test dies, so the server never outlives the test.
Run with the Gloss venv's Python; the repository root is put on sys.path.

The sample's `to_reorder` gets a gloss saying what it does in words its name
does not hold (DESCRIBED), so the test's search by behaviour can only find it
through the gloss; `Settings` one that the server ranks, for the query "to",
above `to_reorder`, whose name holds "to" (the picker must keep that order).
Every other symbol gets the test server's usual answer.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import bench.support.llm_server as llm_server
from bench.support.llm_server import LLMServer

# Symbol -> the summary its gloss carries. The words must not occur in the
# symbol's name or path (the e2e test checks that too).
DESCRIBED = {
    "to_reorder": (
        "Lists the items whose quantity has fallen below the threshold, sorted alphabetically."
    ),
    "Settings": "Where the stock file lives and the level to reorder at, together.",
}

_usual_gloss = llm_server.ok_gloss


def _described_gloss(model: str, symbol: str | None, signature: str | None) -> dict[str, Any]:
    gloss = _usual_gloss(model, symbol, signature)
    if symbol in DESCRIBED:
        gloss["summary"] = DESCRIBED[symbol]
    return gloss


def main() -> None:
    # The test server builds each "ok" answer with the module's ok_gloss.
    llm_server.ok_gloss = _described_gloss
    with LLMServer() as server:
        print(json.dumps({"url": server.url}), flush=True)
        sys.stdin.read()
        print(f"test LLM server: {len(server.requests)} chat requests served", file=sys.stderr)


if __name__ == "__main__":
    main()
