"""Is the installed llama-cpp-python the build Gloss needs? Checked before the first model load.

pip caches a wheel it built from an sdist under the sdist's URL, not under the
CMAKE_ARGS it was built with, and from pip 23.1 `--no-binary` no longer skips
that cache. So a build made earlier without the README's flags (llama.cpp's
default `-march=native`) is reinstalled silently by the README's command; on a
CPU that advertises AMX and AVX-512 its code faults on the first inference
(shared/LOCAL_LLM.md) — a SIGSEGV, with no word on why. The check turns that
into an error naming the build's flags and the command that rebuilds it.

What is checked is what llama.cpp reports about itself:
`llama_print_system_info()` lists the CPU features ggml was compiled for (each
one is an `#if defined(__AVX512F__)`-style test in ggml-cpu.c, so it says how
the library was built, not what the CPU has). The README's CMAKE_ARGS give
exactly SSE3, SSSE3, AVX, AVX2, F16C, FMA and BMI2 on x86. A native build
reports what the compiler sees in the CPU: on this project's machines
(`gcc -march=native -dM -E` defines __AVX512F__, __AVX512VBMI__, __AVX512VNNI__
and __AVX512BF16__) AVX512, AVX512_VBMI, AVX512_VNNI and AVX512_BF16 as well,
and AMX_INT8 on a CPU with AMX.
"""

from __future__ import annotations

import re
import shlex
import sys

LLAMA_CPP_VERSION = "0.3.36"
# The same string as in the README's two commands and .ci/run (tests/test_packaging.py
# holds them together).
CMAKE_ARGS = (
    "-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON "
    "-DGGML_BMI2=ON -DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF "
    "-DGGML_AMX_BF16=OFF -DLLAVA_BUILD=OFF"
)
# Every x86 feature ggml's CPU backend reports (ggml-cpu.cpp's feature list), and
# the ones CMAKE_ARGS turns on. A build reporting none of them is not for x86
# (ARM, say), where these flags do nothing and nothing is checked.
X86_FEATURES = frozenset(
    {
        "SSE3", "SSSE3", "AVX", "AVX_VNNI", "AVX2", "F16C", "FMA", "BMI2",
        "AVX512", "AVX512_VBMI", "AVX512_VNNI", "AVX512_BF16", "AMX_INT8",
    }
)  # fmt: skip
EXPECTED_X86 = frozenset({"SSE3", "SSSE3", "AVX", "AVX2", "F16C", "FMA", "BMI2"})

_FEATURE_ON = re.compile(r"\b([A-Z][A-Z0-9_]*) = 1\b")


def reinstall_command(python: str | None = None) -> str:
    """The command that rebuilds llama-cpp-python with the flags, bypassing pip's cache."""
    pip = f"{shlex.quote(python or sys.executable)} -m pip"
    return (
        f'CMAKE_ARGS="{CMAKE_ARGS}" CMAKE_BUILD_PARALLEL_LEVEL=2 {pip} install '
        f"--no-cache-dir --force-reinstall --no-deps llama-cpp-python=={LLAMA_CPP_VERSION}"
    )


def features_on(system_info: str) -> frozenset[str]:
    """The features `llama_print_system_info()` marks `= 1`."""
    return frozenset(_FEATURE_ON.findall(system_info))


def build_problem(version: str, system_info: str) -> str | None:
    """What is wrong with a llama-cpp-python of this version and system info, or None."""
    if version != LLAMA_CPP_VERSION:
        return (
            f"llama-cpp-python {version} is installed, but Gloss is tested with "
            f"{LLAMA_CPP_VERSION} (the `embedded` extra's pin)"
        )
    x86 = features_on(system_info) & X86_FEATURES
    if not x86:
        return None
    extra, missing = sorted(x86 - EXPECTED_X86), sorted(EXPECTED_X86 - x86)
    if not extra and not missing:
        return None
    parts = []
    if extra:
        parts.append(
            f"was built with {', '.join(extra)}, which the README's CMAKE_ARGS turn off "
            f"(a -march=native build: its AMX/AVX-512 code faults on CPUs that advertise "
            f"AMX; pip's wheel cache hands back an old build whatever CMAKE_ARGS say)"
        )
    if missing:
        parts.append(
            f"was built without {', '.join(missing)}, which the README's CMAKE_ARGS turn on"
        )
    return f"llama-cpp-python {version} " + " and ".join(parts)


def check_build(llama_cpp: object) -> str | None:
    """`build_problem` for the imported `llama_cpp` module, with the command that fixes it."""
    version = str(getattr(llama_cpp, "__version__", "unknown"))
    info = llama_cpp.llama_print_system_info()  # type: ignore[attr-defined]
    text = info.decode("utf-8", "replace") if isinstance(info, bytes) else str(info)
    problem = build_problem(version, text)
    if problem is None:
        return None
    return f"{problem}; rebuild it with: {reinstall_command()}"
