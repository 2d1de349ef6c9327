"""List bounds follow the span (issue 14): a function with 16 inputs gets a gloss listing all
of them. The schema a request asks for, the prompt's "at most N" and the check of the answer
say the same number, seen on the wire by the test LLM server; other lists stay bounded."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bench.support.llm_server import LLMServer
from enrich_core.config import load_config
from enrich_core.llm.documented_inputs import documented_parameters, input_count
from enrich_core.llm.gate import check_quality
from enrich_core.llm.outbound import SYSTEM_PROMPT, build_prompt, outbound_span
from enrich_core.records.gloss import GLOSS_SCHEMA, GlossRejected, parse_gloss
from enrich_core.records.span import Span
from enrich_core.run.engine import Engine
from enrich_core.source.spans import extract_spans
from tests.conftest import OpenEngine, gloss_toml

# `requests.sessions.Session.request`'s header (16 parameters besides self), and
# `requests.api.request`, whose 3 parameters take 15 documented keywords through **kwargs.
SESSIONS = '''\
class Session:
    def request(
        self, method, url, params=None, data=None, headers=None, cookies=None, files=None,
        auth=None, timeout=None, allow_redirects=True, proxies=None, hooks=None,
        stream=None, verify=None, cert=None, json=None,
    ):
        return (method, url, params, data, headers, cookies, files, auth, timeout,
                allow_redirects, proxies, hooks, stream, verify, cert, json)


def request(method, url, **kwargs):
    """Constructs and sends a Request.

    :param method: method for the new Request object.
    :param url: URL for the new Request object.
    :param params: (optional) Dictionary, list of tuples or bytes to send
        in the query string for the Request.
    :param data: (optional) Dictionary, list of tuples, bytes, or file-like
        object to send in the body of the Request.
    :param json: (optional) A JSON serializable Python object to send in the body.
    :param headers: (optional) Dictionary of HTTP Headers to send with the Request.
    :param cookies: (optional) Dict or CookieJar object to send with the Request.
    :param files: (optional) Dictionary of 'name': file-like-objects.
    :param auth: (optional) Auth tuple to enable Basic/Digest/Custom HTTP Auth.
    :param timeout: (optional) How many seconds to wait for the server to send data.
    :type timeout: float or tuple
    :param allow_redirects: (optional) Boolean. Enable/disable redirection.
    :type allow_redirects: bool
    :param proxies: (optional) Dictionary mapping protocol to the URL of the proxy.
    :param verify: (optional) Either a boolean or a path to a CA bundle.
    :param stream: (optional) if False, the response content will be immediately downloaded.
    :param cert: (optional) if String, path to ssl client cert file (.pem).
    :return: Response object
    """
    return (method, url, kwargs)


def add(a, b):
    return a + b
'''
SESSION_PARAMS = (
    "method url params data headers cookies files auth timeout allow_redirects proxies hooks "
    "stream verify cert json"
).split()
DOCUMENTED = (
    "method url params data json headers cookies files auth timeout allow_redirects proxies "
    "verify stream cert"
).split()


def spans() -> dict[str, Span]:
    return {s.qualname: s for s in extract_spans("sessions.py", SESSIONS)}


def complete_answer(inputs: list[str], **changes: Any) -> str:
    data: dict[str, Any] = {
        "summary": "Builds a Request from its arguments, sends it and returns the Response.",
        "inputs": inputs,
        "outputs": ["the Response"],
        "side_effects": [],
        "pitfalls": ["timeout=None waits for ever"],
        "usage_snippet": "request('GET', 'https://example.org')",
        "tags": ["http"],
    }
    data.update(changes)
    return json.dumps(data)


def test_inputs_are_counted_from_the_parameters_and_the_documented_keywords() -> None:
    by_name = spans()
    assert input_count(by_name["Session.request"]) == 16  # self is no input
    assert documented_parameters(by_name["request"].docstring) == frozenset(DOCUMENTED)
    assert input_count(by_name["request"]) == 16  # method, url, kwargs and 13 more keywords
    assert input_count(by_name["add"]) == 2
    assert input_count(by_name["Session"]) is None  # a type: not known


@pytest.mark.parametrize(
    ("docstring", "names"),
    [
        ("Do it.\n\nArgs:\n    path (str): the file.\n    *args: more.\n"
         "    mode: how.\n        continued: not a name.\n\nReturns:\n    x: not one\n",
         {"path", "args", "mode"}),
        ("Do it.\n\nParameters\n----------\nx, y : int\n    coords\nz : str\n\n"
         "Returns\n-------\nw : int\n", {"x", "y", "z"}),
        ("@param {string} name the name\n@param [opts] options\n@param string $id the id\n"
         "@param count how many", {"name", "opts", "id", "count"}),
        (":param str path: the file\n:keyword int retries: tries\n:raises ValueError: bad",
         {"path", "retries"}),
        ("Returns the sum. Pass x: a number.", set()),
    ],
)  # fmt: skip
def test_documented_parameters_read_the_common_conventions_only(
    docstring: str, names: set[str]
) -> None:
    assert documented_parameters(docstring) == frozenset(names)


@pytest.mark.parametrize(
    ("qualname", "inputs"),
    [
        ("Session.request", [f"{p}: what the caller passes" for p in SESSION_PARAMS]),
        ("request", [f"{p}: as documented" for p in DOCUMENTED] + ["kwargs: the keywords"]),
    ],
)
def test_a_complete_answer_for_16_inputs_passes_the_schema_check_and_the_gate(
    qualname: str, inputs: list[str]
) -> None:
    span = spans()[qualname]
    limits = outbound_span(span).limits
    assert len(inputs) == 16 and limits["inputs"] == 20
    gloss = parse_gloss(complete_answer(inputs), "stop", limits)
    assert gloss.inputs == tuple(inputs)
    check_quality(gloss, span)  # documented keywords are not invented inputs
    # Before issue 14 the bound was 8 for every span: still so without the span's limits.
    with pytest.raises(GlossRejected) as info:
        parse_gloss(complete_answer(inputs), "stop")
    assert info.value.reason == "too_many_items"


def test_other_lists_stay_bounded_whatever_the_span_has() -> None:
    limits = outbound_span(spans()["Session.request"]).limits
    with pytest.raises(GlossRejected) as info:
        parse_gloss(complete_answer(["method: the verb"], tags=["http"] * 20), "stop", limits)
    assert (info.value.reason, info.value.detail) == ("too_many_items", "tags has 20 items (max 8)")
    with pytest.raises(GlossRejected) as info:
        parse_gloss(complete_answer(["x"] * 21), "stop", limits)
    assert info.value.detail == "inputs has 21 items (max 20)"


def test_the_prompt_says_the_span_s_bound_and_a_small_span_s_prompt_is_unchanged() -> None:
    by_name = spans()
    big = build_prompt(outbound_span(by_name["Session.request"])).messages[0]["content"]
    assert '"name: meaning" (at most 20).' in big
    small = build_prompt(outbound_span(by_name["add"])).messages[0]["content"]
    assert small is SYSTEM_PROMPT and '"name: meaning" (at most 8).' in small


def system_text(body: dict[str, Any]) -> str:
    (system,) = [m["content"] for m in body["messages"] if m["role"] == "system"]
    assert isinstance(system, str)
    return system


def schema_sent(body: dict[str, Any]) -> dict[str, Any]:
    if "format" in body:  # Ollama
        return body["format"]  # type: ignore[no-any-return]
    return body["response_format"]["json_schema"]["schema"]  # type: ignore[no-any-return]


@pytest.mark.parametrize("kind", ["ollama", "openai"])
async def test_the_wire_carries_the_span_s_bounds_and_16_inputs_are_glossed(
    tmp_path: Path, llm: LLMServer, open_engine: OpenEngine, kind: str
) -> None:
    (tmp_path / "gloss.toml").write_text(gloss_toml(llm.url, kind=kind))
    (tmp_path / "sessions.py").write_text(SESSIONS)
    engine: Engine = await open_engine(tmp_path, load_config(tmp_path))
    await engine.scan()
    await engine.wait_idle()
    status = await engine.status()
    # The test server answers every parameter as an input: 16 for Session.request.
    assert status.counts.enriched == status.counts.spans == 4, status.counts
    assert status.counts.failed == 0
    info = await engine.hover("sessions.py", 1)
    assert info is not None and info.gloss is not None
    assert len(info.gloss.gloss.inputs) == 16
    bodies = {r.symbol: r.body for r in llm.requests}
    assert len(llm.requests) == 4  # each answered at once, no escalation
    for symbol in ("Session.request", "request"):
        schema = schema_sent(bodies[symbol])
        assert schema["properties"]["inputs"]["maxItems"] == 20, symbol
        assert schema["properties"]["tags"]["maxItems"] == 8
        assert all(p["maxItems"] > 0 for p in schema["properties"].values() if p["type"] == "array")
        assert '"name: meaning" (at most 20).' in system_text(bodies[symbol])
    for symbol in ("add", "Session"):
        assert schema_sent(bodies[symbol]) == GLOSS_SCHEMA
        assert system_text(bodies[symbol]) == SYSTEM_PROMPT
