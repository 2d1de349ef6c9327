"""Configuration: file precedence, defaults, editor overrides, and errors that name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from enrich_core.config import ConfigError, load_config, parse_config


def test_defaults_are_a_stock_local_ollama_with_two_tiers(tmp_path: Path) -> None:
    config = load_config(tmp_path)
    assert config.source == "defaults"
    assert [(b.name, b.kind, b.url) for b in config.backends] == [
        ("local", "ollama", "http://127.0.0.1:11434")
    ]
    assert [t.name for t in config.tiers] == ["7b", "14b"]
    assert config.tiers[0].model == "qwen2.5-coder:7b-instruct"
    assert config.store.path == ".gloss/index.db"
    assert config.index.max_file_bytes == 1_000_000
    assert config.backends[0].max_concurrency == 2


def test_gloss_toml_wins_over_pyproject(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.gloss.index]\nmax_file_bytes = 10\n")
    (tmp_path / "gloss.toml").write_text("[index]\nmax_file_bytes = 20\n")
    assert load_config(tmp_path).index.max_file_bytes == 20
    (tmp_path / "gloss.toml").unlink()
    config = load_config(tmp_path)
    assert config.index.max_file_bytes == 10
    assert "[tool.gloss]" in config.source


def test_full_file(tmp_path: Path) -> None:
    (tmp_path / "gloss.toml").write_text(
        """
[store]
path = "cache/g.db"
[index]
exclude = ["build/**"]
[[backends]]
name = "a"
kind = "openai"
url = "http://127.0.0.1:9000/v1/"
max_concurrency = 4
timeout_s = 30
api_key_env = "KEY"
[[tiers]]
name = "small"
model = "m1"
backends = ["a"]
cost_per_1k_input = 0.5
"""
    )
    config = load_config(tmp_path)
    b = config.backends[0]
    assert (b.kind, b.url, b.max_concurrency, b.timeout_s, b.api_key_env) == (
        "openai", "http://127.0.0.1:9000/v1", 4, 30.0, "KEY"
    )  # fmt: skip
    assert config.tiers[0].cost_per_1k_input == 0.5
    assert config.index.exclude == ("build/**",)
    assert config.store_path(tmp_path) == tmp_path / "cache/g.db"


def test_editor_overrides_win_per_key(tmp_path: Path) -> None:
    (tmp_path / "gloss.toml").write_text('[index]\nmax_file_bytes = 20\nexclude = ["a/**"]\n')
    config = load_config(tmp_path, {"index": {"max_file_bytes": 99}})
    assert config.index.max_file_bytes == 99
    assert config.index.exclude == ("a/**",)
    assert "editor settings" in config.source


@pytest.mark.parametrize(
    ("data", "key", "words"),
    [
        ({"indx": {}}, "indx", "unknown key"),
        ({"index": {"max_file_bytes": "big"}}, "index.max_file_bytes", "expected an integer"),
        ({"index": {"max_file_bytes": 0}}, "index.max_file_bytes", "at least 1"),
        ({"index": {"exclude": "x"}}, "index.exclude", "list of strings"),
        ({"store": {"path": 3}}, "store.path", "expected a string"),
        ({"hover": {"links": "yes"}}, "hover.links", "expected true or false"),
        ({"hover": {"link": True}}, "hover.link", "unknown key"),
        (
            {"prompt": {"context": ["docstring", "examples"]}},
            "prompt.context[1]",
            "unknown context part 'examples'; expected any of imports, callees, outline, docstring",
        ),
        ({"prompt": {"context": "docstring"}}, "prompt.context", "list of strings"),
        ({"prompt": {"contexts": []}}, "prompt.contexts", "unknown key"),
        ({"prompt": ["docstring"]}, "prompt", "expected a table"),
        (
            {"backends": [{"name": "a", "url": "http://x", "max_concurrency": "2"}]},
            "backends[0].max_concurrency",
            "expected an integer",
        ),
        ({"backends": [{"name": "a", "kind": "vllm"}]}, "backends[0].kind", "unknown kind"),
        ({"backends": [{"name": "a", "url": "localhost:1"}]}, "backends[0].url", "http(s) URL"),
        ({"backends": [{"name": "a", "colour": 1}]}, "backends[0].colour", "unknown key"),
        ({"backends": [{"url": "http://x"}]}, "backends[0].name", "is required"),
        (
            {"tiers": [{"name": "t", "model": "m", "backends": ["nope"]}]},
            "tiers[0].backends[0]",
            "no backend named 'nope'",
        ),
        ({"tiers": [{"name": "t", "model": "m", "backends": []}]}, "tiers[0].backends", "at least"),
        ({"tiers": []}, "tiers", "at least one tier"),
        ({"backends": {"name": "a"}}, "backends", "array of tables"),
        (
            {"backends": [{"name": "a"}, {"name": "a"}]},
            "backends[1].name",
            "duplicate backend name",
        ),
    ],
)
def test_errors_name_the_key(data: dict[str, object], key: str, words: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(data, "gloss.toml")
    assert info.value.key == key
    assert words in info.value.problem
    assert str(info.value).startswith(f"gloss.toml: {key}: ")


def test_hover_links_are_off_unless_the_user_allows_them() -> None:
    assert parse_config({}).hover.links is False
    assert parse_config({"hover": {"links": True}}).hover.links is True


def test_prompt_context_sends_the_measured_parts_unless_the_user_names_others(
    tmp_path: Path,
) -> None:
    assert parse_config({}).prompt.context == ("callees", "docstring")
    every = {"prompt": {"context": ["imports", "callees", "outline", "docstring"]}}
    assert parse_config(every).prompt.context == ("imports", "callees", "outline", "docstring")
    (tmp_path / "gloss.toml").write_text('[prompt]\ncontext = ["docstring", "outline"]\n')
    assert load_config(tmp_path).prompt.context == ("docstring", "outline")
    assert parse_config({"prompt": {"context": []}}).prompt.context == ()
    # A part named twice is sent once.
    twice = {"prompt": {"context": ["outline", "outline"]}}
    assert parse_config(twice).prompt.context == ("outline",)
    # Editor settings replace the list whole, as every list.
    config = load_config(tmp_path, {"prompt": {"context": ["imports"]}})
    assert config.prompt.context == ("imports",)


def test_invalid_toml_is_reported_with_the_file(tmp_path: Path) -> None:
    (tmp_path / "gloss.toml").write_text("[index\n")
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path)
    assert "gloss.toml" in str(info.value)
    assert "not valid TOML" in str(info.value)
