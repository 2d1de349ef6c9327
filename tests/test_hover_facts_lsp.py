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
HEADING = "**From the code** *(read from the source by Gloss, not written by a model)*"
FACTS_BLOCK = (
    f"{HEADING}\n"
    "```python\ndef save_settings(path: str, settings: dict) -> None\n```\n"
    "Write the settings file.\n"
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
    assert "def save_settings" not in model_part and "Write the" not in model_part
    # A function that touches nothing and raises nothing shows its signature alone there.
    area = markdown(await session.hover(SETTINGS, LINE_AREA))
    assert f"\n\n{HEADING}\n```python\ndef area(radius: float) -> float\n```\n\n---\n" in area
    assert "Side effects:" not in area and "Raises:" not in area


async def test_a_span_whose_gloss_failed_still_shows_the_facts(
    tmp_path: Path, start_lsp: StartLsp, llm: LLMServer
) -> None:
    # Every tier answers filler for this function: the gate rejects both answers.
    llm.set_behavior(Behavior(mode="filler"), symbol="save_settings")
    session = await start_lsp(settings_workspace(tmp_path, llm))
    await session.progress.wait_idle()
    text = markdown(await session.hover(SETTINGS, LINE_SAVE))
    # One layout for every state: the block, then the state; the signature shown once.
    assert text.startswith(f"{FACTS_BLOCK}\n\n---\n*gloss failed"), text
    assert text.count("def save_settings") == 1 and text.count("Write the settings") == 1
    assert "filler" in text.rpartition("*gloss failed")[2]


async def test_a_glossed_hover_keeps_the_signature_and_the_docstring_line(
    tmp_path: Path, start_lsp: StartLsp, llm: LLMServer
) -> None:
    """Issue 14: once a gloss existed, the hover no longer showed the signature or the
    docstring. Now they follow the model's words, under Gloss's own heading."""
    root = tmp_path / "ws"
    write_files(root, {"pkg/__init__.py": "", "pkg/conf.py": CONF})
    (root / "gloss.toml").write_text(gloss_toml(llm.url))
    session = await start_lsp(root)
    await session.progress.wait_idle()
    text = markdown(await session.hover("pkg/conf.py", 3))
    model_part, heading, code_part = text.partition(f"\n\n{HEADING}\n")
    assert heading, text
    assert model_part.startswith("load\\_config (test model small-model)"), text  # summary first
    assert "merge(" not in model_part and "Read the settings" not in model_part
    assert code_part == (
        "```python\ndef load_config(path: str, *, merge: bool = False) -> dict\n```\n"
        "Read the settings \\*file\\* &lt;b&gt;as given&lt;/b&gt;.\n\n"
        "---\n*gloss by small-model · tier small · fresh*"
    ), text


CONF = '''\
import json


def load_config(path: str, *, merge: bool = False) -> dict:
    """Read the settings *file* <b>as given</b>.

    More lines that the hover leaves to the editor's own docstring view.
    """
    return {"path": path, "merge": merge}
'''
