"""End to end: what a span's code does, read from it, shows in the hover apart from the model's
words, over stdio from `gloss serve` (pytest-lsp), glossed by the test LLM server."""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types

from bench.support.llm_server import Behavior, LLMServer
from tests.conftest import StartLsp, gloss_toml, write_files

SETTINGS = "pkg/settings.py"
SOURCE = '''\
import logging
import os

log = logging.getLogger(__name__)


def save_settings(path: str, settings: dict) -> None:
    """Write the settings file."""
    if not settings:
        raise ValueError("no settings to save")
    with open(path, "w") as f:
        f.write(repr(settings))
    log.info("saved %s", path)


def area(radius: float) -> float:
    return 3.14159 * radius**2
'''
LINE_SAVE, LINE_AREA = 6, 15  # 0-based, as LSP counts
FACTS_BLOCK = (
    "**From the code** *(read from the source by Gloss, not written by a model)*\n"
    "- Side effects: file (`open(`, line 11), logging (`log.info(`, line 13)\n"
    "- Raises: ValueError (line 10), OSError (via `open(`, line 11)"
)


def markdown(hover: types.Hover | None) -> str:
    assert hover is not None
    assert isinstance(hover.contents, types.MarkupContent)
    return hover.contents.value


def settings_workspace(tmp_path: Path, llm: LLMServer) -> Path:
    root = tmp_path / "ws"
    write_files(root, {"pkg/__init__.py": "", SETTINGS: SOURCE})
    (root / "gloss.toml").write_text(gloss_toml(llm.url))
    return root


async def test_the_hover_shows_the_facts_from_the_code_apart_from_the_gloss(
    tmp_path: Path, start_lsp: StartLsp, llm: LLMServer
) -> None:
    session = await start_lsp(settings_workspace(tmp_path, llm))
    await session.progress.wait_idle()
    text = markdown(await session.hover(SETTINGS, LINE_SAVE))
    model_part, _, rest = text.partition(f"\n\n{FACTS_BLOCK}\n\n")
    assert rest.startswith("---\n*gloss by small-model · tier small · fresh"), text
    assert model_part.startswith("save\\_settings (test model small-model)")
    assert "open(" not in model_part and "ValueError" not in model_part
    # A function that touches nothing and raises nothing has no block at all.
    assert "From the code" not in markdown(await session.hover(SETTINGS, LINE_AREA))


async def test_a_span_whose_gloss_failed_still_shows_the_facts(
    tmp_path: Path, start_lsp: StartLsp, llm: LLMServer
) -> None:
    # Every tier answers filler for this function: the gate rejects both answers.
    llm.set_behavior(Behavior(mode="filler"), symbol="save_settings")
    session = await start_lsp(settings_workspace(tmp_path, llm))
    await session.progress.wait_idle()
    text = markdown(await session.hover(SETTINGS, LINE_SAVE))
    assert text.startswith("```python\ndef save_settings(path: str, settings: dict) -> None")
    assert f"\n\nWrite the settings file.\n\n{FACTS_BLOCK}\n\n*gloss failed" in text, text
    assert "filler" in text.rpartition("*gloss failed")[2]
