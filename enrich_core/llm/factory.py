"""The backend a configuration names: an HTTP client, or llama.cpp in process.

Apart from the kinds so that neither imports the other: llama-cpp-python is an
optional extra, imported only when an `embedded` backend is configured.
"""

from __future__ import annotations

from enrich_core.config import BackendConfig
from enrich_core.llm.backend import Backend
from enrich_core.llm.http import OllamaBackend, OpenAIBackend


def make_backend(config: BackendConfig) -> Backend:
    if config.kind == "embedded":
        from enrich_core.llm.embedded import EmbeddedBackend

        return EmbeddedBackend(config)
    if config.kind == "ollama":
        return OllamaBackend(config)
    return OpenAIBackend(config)
