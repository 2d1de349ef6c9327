"""`gloss doctor`, run as the console script against the test LLM server.

Real parts only: the installed `gloss` command in a subprocess, a temp
workspace's gloss.toml, HTTP on 127.0.0.1 to bench/support/llm_server.py
(which speaks Ollama's and OpenAI's APIs, or one of them). Each case checks
what a user reads: the models by name, what is missing and the closest names,
the same next steps as `gloss index`, a URL that needs /v1, and a test request
capped on the wire.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from bench.support.llm_server import Behavior, LLMServer
from enrich_core.config import parse_config
from enrich_core.present.advice import next_steps, rejected_answer_advice
from enrich_core.present.doctor import MODELS_SHOWN, TEST_MAX_TOKENS
from tests.conftest import LARGE, SMALL, gloss_toml
from tests.test_cli import (
    CLOSED_URL,
    OLLAMA_DEFAULT_URL,
    explain,
    gloss,
    make_workspace,
    port_is_open,
)

PROBLEM_MARKERS = ("MISSING", "FAILED", "NOT REACHABLE", "NO MODEL LIST", "NOT CHECKED")


def doctor(ws: Path) -> subprocess.CompletedProcess[str]:
    return gloss("doctor", str(ws), cwd=ws)


def assert_every_problem_says_what_to_do(result: subprocess.CompletedProcess[str]) -> None:
    """Each problem line is followed by the sentence of what to do, and the summary
    counts them, in the right plural."""
    lines = result.stdout.splitlines()
    problems = [i for i, line in enumerate(lines) if any(m in line for m in PROBLEM_MARKERS)]
    assert problems, explain(result)
    for i in problems:
        assert "what to do: " in lines[i + 1], explain(result)
    n = len(problems)
    assert lines[-1] == ("1 problem found" if n == 1 else f"{n} problems found"), explain(result)
    assert result.returncode == 3, explain(result)


@pytest.fixture
def ws(tmp_path: Path, llm: LLMServer) -> Path:
    return make_workspace(tmp_path / "ws", gloss_toml(llm.url))


def test_lists_the_models_by_name_and_each_tier_model_present(ws: Path, llm: LLMServer) -> None:
    llm.models = {SMALL, LARGE, "nomic-embed-text:latest"}
    result = doctor(ws)
    assert result.returncode == 0, explain(result)
    assert "reachable; 3 models pulled:" in result.stdout
    assert f"{LARGE}, nomic-embed-text:latest, {SMALL}" in result.stdout
    assert f"tier 'small' model {SMALL}: present" in result.stdout
    assert f"tier 'large' model {LARGE}: present" in result.stdout
    assert result.stdout.splitlines()[-1] == "all backends work"


def test_a_long_model_list_is_cut_with_how_many_more(ws: Path, llm: LLMServer) -> None:
    extra = {f"model-{i:02d}" for i in range(MODELS_SHOWN + 5)}
    llm.models = {SMALL, LARGE} | extra
    result = doctor(ws)
    assert result.returncode == 0, explain(result)
    assert f"{plural_models(MODELS_SHOWN + 7)} pulled:" in result.stdout
    listed = next(line for line in result.stdout.splitlines() if "model-00" in line)
    assert listed.strip().startswith(f"{LARGE}, model-00, model-01")
    assert listed.endswith(", and 7 more")
    assert listed.count(",") == MODELS_SHOWN  # 20 names, then "and 7 more"


def plural_models(n: int) -> str:
    return f"{n} models"


def test_a_missing_model_names_the_closest_and_the_command_to_get_it(
    tmp_path: Path, llm: LLMServer
) -> None:
    toml = gloss_toml(llm.url).replace(f'model = "{LARGE}"', 'model = "qwen2.5-coder:7b"')
    ws = make_workspace(tmp_path / "ws", toml)
    llm.models = {SMALL, "qwen2.5-coder:7b-instruct", "qwen2.5-coder:14b", "llama3:8b"}
    result = doctor(ws)
    assert_every_problem_says_what_to_do(result)
    assert (
        "tier 'large' model qwen2.5-coder:7b: MISSING; closest it has: "
        "qwen2.5-coder:7b-instruct, qwen2.5-coder:14b" in result.stdout
    )
    assert "llama3:8b" not in result.stdout.split("MISSING")[1]  # not close
    assert "`ollama pull qwen2.5-coder:7b`" in result.stdout
    assert f"tier 'small' model {SMALL}: present" in result.stdout


def test_a_model_missing_on_an_openai_server_is_not_told_to_ollama_pull(
    tmp_path: Path, llm: LLMServer
) -> None:
    ws = make_workspace(tmp_path / "ws", gloss_toml(llm.url, kind="openai"))
    llm.models = {SMALL}
    result = doctor(ws)
    assert_every_problem_says_what_to_do(result)
    assert "reachable; 1 model served:" in result.stdout
    # "small-model" is not offered for "large-model": the names differ in what matters.
    assert f"tier 'large' model {LARGE}: MISSING; it has nothing close" in result.stdout
    assert "ollama pull" not in result.stdout
    assert "load it on that server, or set [[tiers]] model" in result.stdout


def test_the_embeddings_model_is_checked_on_its_backend(tmp_path: Path, llm: LLMServer) -> None:
    search = '\n[search]\nembeddings = { backend = "test", model = "nomic-embed-text" }\n'
    ws = make_workspace(tmp_path / "ws", gloss_toml(llm.url, extra=search))
    llm.models = {SMALL, LARGE, "nomic-embed-text:v1.5"}
    result = doctor(ws)
    assert_every_problem_says_what_to_do(result)
    assert (
        "[search] embeddings model nomic-embed-text: MISSING; closest it has: "
        "nomic-embed-text:v1.5" in result.stdout
    )
    assert "`ollama pull nomic-embed-text`" in result.stdout
    assert "or set [search] embeddings' model in gloss.toml" in result.stdout

    llm.models = {SMALL, LARGE, "nomic-embed-text:latest"}
    result = doctor(ws)
    assert result.returncode == 0, explain(result)
    assert "[search] embeddings model nomic-embed-text: present" in result.stdout


def test_an_api_key_not_set_is_named_by_doctor_and_index_alike(
    tmp_path: Path, llm: LLMServer
) -> None:
    env = "GLOSS_TEST_KEY_NOT_SET"
    toml = gloss_toml(llm.url, kind="openai").replace(
        "max_concurrency", f'api_key_env = "{env}"\nmax_concurrency'
    )
    ws = make_workspace(tmp_path / "ws", toml)
    index = gloss("index", str(ws), cwd=ws)
    assert index.returncode == 3, explain(index)
    advice = [line for line in index.stdout.splitlines() if line.startswith("Backend 'test'")]
    assert len(advice) == 1 and f"set {env} in the environment" in advice[0], explain(index)
    result = doctor(ws)
    assert_every_problem_says_what_to_do(result)
    assert f"what to do: {advice[0]}" in result.stdout
    assert not llm.requests and not llm.probes  # nothing was sent without the key


@pytest.mark.parametrize("kind", ["ollama", "openai"])
def test_no_server_gives_the_same_next_steps_as_index(tmp_path: Path, kind: str) -> None:
    ws = make_workspace(tmp_path / "ws", gloss_toml(CLOSED_URL, kind=kind))
    index = gloss("index", str(ws), cwd=ws)
    assert index.returncode == 3, explain(index)
    advice = [line for line in index.stdout.splitlines() if line.startswith("Backend 'test'")]
    assert len(advice) == 1, explain(index)
    result = doctor(ws)
    assert_every_problem_says_what_to_do(result)
    assert f"what to do: {advice[0]}" in result.stdout
    if kind == "ollama":
        assert "ollama serve" in advice[0]
        assert f"`ollama pull {SMALL}`, `ollama pull {LARGE}`" in advice[0]


def test_models_missing_give_the_same_next_steps_as_index(ws: Path, llm: LLMServer) -> None:
    llm.models = {"unrelated:1b"}  # the server runs; neither tier's model is pulled
    index = gloss("index", str(ws), cwd=ws)
    assert index.returncode == 3, explain(index)
    advice = [line for line in index.stdout.splitlines() if line.startswith("Backend 'test'")]
    assert len(advice) == 2, explain(index)  # one per missing model
    result = doctor(ws)
    assert_every_problem_says_what_to_do(result)
    for line in advice:
        assert f"what to do: {line}" in result.stdout
    assert f"`ollama pull {SMALL}`" in result.stdout and f"`ollama pull {LARGE}`" in result.stdout


def test_the_default_config_without_ollama_says_start_it_and_pull_the_models(
    tmp_path: Path,
) -> None:
    if port_is_open(OLLAMA_DEFAULT_URL):
        pytest.skip("something listens on the default Ollama port on this machine")
    ws = make_workspace(tmp_path / "ws", None, {"m.py": "def f(x):\n    return x\n"})
    result = doctor(ws)
    assert_every_problem_says_what_to_do(result)
    assert "configuration: defaults" in result.stdout
    assert f"NOT REACHABLE: backend 'local' ({OLLAMA_DEFAULT_URL}) unreachable" in result.stdout
    assert "Start Ollama (`ollama serve`) and pull the models (" in result.stdout
    assert "`ollama pull qwen2.5-coder:7b-instruct`" in result.stdout
    assert "`ollama pull qwen2.5-coder:14b-instruct`" in result.stdout


def test_an_openai_url_without_v1_is_detected(tmp_path: Path, llm: LLMServer) -> None:
    toml = gloss_toml(llm.url, kind="openai").replace(f'"{llm.url}/v1"', f'"{llm.url}"')
    ws = make_workspace(tmp_path / "ws", toml)
    result = doctor(ws)
    assert_every_problem_says_what_to_do(result)
    assert f"NO MODEL LIST: backend 'test' ({llm.url}) request rejected: HTTP 404" in result.stdout
    assert (
        f'what to do: The URL should end in /v1: set url = "{llm.url}/v1" in [[backends]] '
        f"'test' of gloss.toml." in result.stdout
    )
    assert [p.path for p in llm.probes] == ["/v1/models"]  # the one retry, and nothing else


def test_an_ollama_kind_pointed_at_an_openai_only_server_is_told_the_kind(
    ws: Path, llm: LLMServer
) -> None:
    llm.apis = {"openai"}
    result = doctor(ws)
    assert_every_problem_says_what_to_do(result)
    assert (
        f'{llm.url} is an OpenAI-compatible server: set kind = "openai" and '
        f'url = "{llm.url}/v1"' in result.stdout
    )


def test_an_ollama_url_ending_in_v1_is_told_to_drop_it(tmp_path: Path, llm: LLMServer) -> None:
    toml = gloss_toml(llm.url).replace(f'url = "{llm.url}"', f'url = "{llm.url}/v1"')
    ws = make_workspace(tmp_path / "ws", toml)
    llm.apis = {"ollama"}  # an older Ollama, without the OpenAI API
    result = doctor(ws)
    assert_every_problem_says_what_to_do(result)
    assert f'should not end in /v1 for kind "ollama": set url = "{llm.url}"' in result.stdout


@pytest.mark.parametrize("kind", ["ollama", "openai"])
def test_the_test_request_is_capped_and_says_what_it_measured(
    tmp_path: Path, llm: LLMServer, kind: str
) -> None:
    ws = make_workspace(tmp_path / "ws", gloss_toml(llm.url, kind=kind))
    llm.models = {SMALL, LARGE}
    result = doctor(ws)
    assert result.returncode == 0, explain(result)
    assert len(llm.requests) == 2  # one per tier
    for request in llm.requests:
        if kind == "ollama":
            cap = request.body["options"]["num_predict"]
        else:
            cap = request.body["max_tokens"]
        assert cap == TEST_MAX_TOKENS <= 64
    # The test server's gloss is longer than the cap: cut, as asked, and timed.
    measured = [line for line in result.stdout.splitlines() if "test request:" in line]
    assert len(measured) == 2, explain(result)
    for line in measured:
        assert f"{TEST_MAX_TOKENS} tokens in " in line and " tokens/s" in line
        assert f"doctor caps the answer at {TEST_MAX_TOKENS}" in line
    assert "an answer of up to 768 tokens (the tier's max_tokens) takes up to about" in (
        result.stdout
    )


@pytest.mark.parametrize(
    ("behavior", "said"),
    [
        (Behavior(mode="status", status=500), "test request FAILED: backend 'test'"),
        (Behavior(mode="garbage"), "test request FAILED: the answer is not JSON"),
        (Behavior(delay_s=5.0), "test request FAILED: backend 'test'"),
    ],
    ids=["server-error", "not-json", "timeout"],
)
def test_a_test_request_that_fails_is_a_problem_with_what_to_do(
    tmp_path: Path, llm: LLMServer, behavior: Behavior, said: str
) -> None:
    toml = gloss_toml(llm.url).replace("timeout_s = 20", "timeout_s = 1")
    ws = make_workspace(tmp_path / "ws", toml)
    llm.models = {SMALL, LARGE}
    llm.set_behavior(behavior)
    result = doctor(ws)
    assert_every_problem_says_what_to_do(result)
    assert result.stdout.count(said) == 2, explain(result)
    assert "2 problems found" in result.stdout


# --- next_steps: index's stored reasons read back into problems ----------------


def test_next_steps_reads_the_backend_errors_that_reasons_carry() -> None:
    config = parse_config(
        {
            "backends": [
                {"name": "gpu", "kind": "ollama", "url": "http://127.0.0.1:11434"},
                {"name": "gpu2", "kind": "openai", "url": "http://127.0.0.1:8000/v1"},
            ],
            "tiers": [
                {"name": "7b", "model": "qwen:7b", "backends": ["gpu", "gpu2"]},
                {"name": "14b", "model": "qwen:14b", "backends": ["gpu"]},
            ],
        },
        "test",
    )
    reasons = [
        "7b: backend 'gpu2' (http://127.0.0.1:8000/v1) is down: unreachable: connection refused",
        "14b: backend 'gpu' (http://127.0.0.1:11434) model missing: HTTP 404: model \"qwen:14b\"",
        "7b: model answer rejected: too_many_items",
    ]
    steps = next_steps(reasons, config)
    assert steps == [
        "Backend 'gpu' at http://127.0.0.1:11434 lacks model qwen:14b: pull it "
        "(`ollama pull qwen:14b`), or set [[tiers]] model in gloss.toml to a model it has "
        "(`gloss doctor` lists them).",
        "Backend 'gpu2' at http://127.0.0.1:8000/v1 did not answer. Start that "
        "OpenAI-compatible server, or fix [[backends]] url in gloss.toml.",
        rejected_answer_advice(config),  # the rejected answer: a larger model, last
    ]
    assert next_steps("\n".join(reasons), config) == steps  # one string reads the same
    # A rejected answer names no backend problem: only the advice about the model.
    assert next_steps(["7b: model answer rejected: too_many_items"], config) == [
        rejected_answer_advice(config)
    ]


def test_a_rejected_answer_gets_advice_naming_the_last_tier_and_no_backend_advice() -> None:
    config = parse_config(
        {
            "backends": [{"name": "b", "kind": "ollama", "url": "http://127.0.0.1:9"}],
            "tiers": [{"name": "small", "model": "tiny:1b", "backends": ["b"]}],
        }
    )
    steps = next_steps(["small: model answer rejected: copied_code: the summary is code"], config)
    assert len(steps) == 1
    assert "Add a larger model as a later [[tiers]] entry after tier 'small' (tiny:1b)" in steps[0]
    assert next_steps(["small: model answer rejected: filler: N/A"] * 2, config) == steps
    assert next_steps(["a file that went"], config) == []
