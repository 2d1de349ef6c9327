"""One version number, pyproject.toml's, everywhere the server reports one."""

from __future__ import annotations

import tomllib
from importlib.metadata import version
from pathlib import Path

import enrich_core
import server.lsp

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


def test_the_server_reports_the_installed_version_which_is_pyprojects() -> None:
    declared = tomllib.loads(PYPROJECT.read_text())["project"]["version"]
    assert version("gloss") == declared
    assert enrich_core.__version__ == declared
    assert server.lsp.VERSION == declared
    assert server.lsp.GlossServer().version == declared  # serverInfo in `initialize`
