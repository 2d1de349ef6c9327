"""The test LLM server (bench/support/llm_server.py) as a process, for the VS Code end-to-end test.

Prints one JSON line, {"url": "http://127.0.0.1:PORT"}, then serves on
127.0.0.1 until its standard input closes: the test closes it when done, and
the OS closes it if the test dies, so the server never outlives the test.
Run with the Gloss venv's Python; the repository root is put on sys.path.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.support.llm_server import LLMServer


def main() -> None:
    with LLMServer() as server:
        print(json.dumps({"url": server.url}), flush=True)
        sys.stdin.read()
        print(f"test LLM server: {len(server.requests)} chat requests served", file=sys.stderr)


if __name__ == "__main__":
    main()
