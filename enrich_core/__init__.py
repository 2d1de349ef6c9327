"""Gloss's engine, by stage: what finds and cuts code (`source`), what talks to models
(`llm`), what stores and reads (`store`), what runs them (`run`), and what a user
reads (`present`), over plain records shared by all (`records`, `config`).

Plain asyncio and typed dataclasses; knows nothing of LSP. The CLI and the
language server (both in `server/`) drive `enrich_core.run.engine.Engine`.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    # The one version number: pyproject.toml's, as installed.
    __version__ = version("gloss")
except PackageNotFoundError:  # a source tree on sys.path without `pip install`
    __version__ = "0+unknown"
