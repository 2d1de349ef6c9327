"""The fault host does each fault at the HTTP level, as an HTTP client sees it.

The suite's verdicts are only as good as its instrument: each action is checked
here with a plain httpx client (bounded timeouts), so a case that passes is not
passing because the fault never happened."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest

from bench.faults import decoy
from bench.support.fault_server import (
    OK,
    Action,
    FaultServer,
    Plan,
    always,
    closed_port_url,
    during_outage,
    flapping,
    once_per_symbol,
    random_share,
)
from enrich_core.llm.outbound import SYSTEM_PROMPT

PROMPT: dict[str, Any] = {
    "model": "m",
    "stream": False,
    "messages": [
        {"role": "system", "content": SYSTEM_PROMPT},
        {
            "role": "user",
            "content": "Path: src/a.py\nSymbol: scaled_total_00003\nKind: function\n"
            "Signature: def scaled_total_00003(values, scale)\nCode:\n```python\n"
            "def scaled_total_00003(values, scale):\n    return 1\n```",
        },
    ],
}
TIMEOUT = httpx.Timeout(2.0)


def post(server: FaultServer) -> httpx.Response:
    return httpx.post(server.url + "/api/chat", json=PROMPT, timeout=TIMEOUT)


def content(response: httpx.Response) -> dict[str, Any]:
    answer: dict[str, Any] = json.loads(response.json()["message"]["content"])
    return answer


def serve(action: Action) -> FaultServer:
    return FaultServer(Plan(always(action), decoy=decoy))


def test_ok_is_a_gloss_of_the_prompted_symbol_on_both_apis() -> None:
    with serve(OK) as server:
        gloss = content(post(server))
        openai = httpx.post(server.openai_url + "/chat/completions", json=PROMPT, timeout=TIMEOUT)
    assert gloss["summary"].startswith("scaled_total_00003 ")
    assert gloss["inputs"] == ["values", "scale"]
    text = openai.json()["choices"][0]["message"]["content"]
    assert json.loads(text)["usage_snippet"] == "scaled_total_00003(values, scale)"
    assert [r.action for r in server.requests] == ["ok", "ok"]


def test_refused_black_hole_and_long_length_end_only_by_the_client() -> None:
    with pytest.raises(httpx.ConnectError):
        httpx.post(closed_port_url() + "/api/chat", json=PROMPT, timeout=TIMEOUT)
    for action in (Action("black_hole"), Action("long_length")):
        with serve(action) as server, pytest.raises(httpx.ReadTimeout):
            post(server)


def test_slow_loris_sends_headers_then_dribbles() -> None:
    with serve(Action("slow_loris", drip_s=0.2)) as server:
        with httpx.stream(
            "POST", server.url + "/api/chat", json=PROMPT, timeout=TIMEOUT
        ) as response:
            assert response.status_code == 200  # the headers came at once
            pieces: list[bytes] = []
            for piece in response.iter_raw():
                pieces.append(piece)
                if len(pieces) == 3:
                    break
        assert [len(p) for p in pieces] == [1, 1, 1]  # one byte at a time


def test_statuses_html_and_retry_after() -> None:
    with serve(Action("status", status=502, html=True)) as server:
        response = post(server)
    assert response.status_code == 502 and "<html>" in response.text
    with serve(Action("status", status=429, retry_after=2)) as server:
        response = post(server)
    assert response.status_code == 429 and response.headers["retry-after"] == "2"


@pytest.mark.parametrize("kind", ["cut_body", "stream_cut"])
def test_cut_answers_end_early(kind: str) -> None:
    with serve(Action(kind)) as server, pytest.raises(httpx.RemoteProtocolError):
        post(server)


def test_truncated_json_and_short_length_are_cut_json() -> None:
    for kind in ("truncated_json", "short_length"):
        with serve(Action(kind)) as server:
            response = post(server)
        assert response.status_code == 200
        with pytest.raises(ValueError):
            response.json()


@pytest.mark.parametrize("kind", ["huge_item", "huge_snippet", "huge_body"])
def test_huge_answers_are_five_megabytes(kind: str) -> None:
    with serve(Action(kind)) as server:
        response = post(server)
    assert len(response.content) > 5_000_000
    gloss = content(response)
    assert gloss["summary"].startswith("scaled_total_00003 ")


def test_wrong_function_and_echoes() -> None:
    with serve(Action("wrong_function")) as server:
        wrong = content(post(server))
    assert wrong["summary"].startswith("scaled_total_00004 ")
    assert "scaled_total_00003" not in json.dumps(wrong)
    with serve(Action("echo_prompt")) as server:
        echo = content(post(server))
    assert "Symbol: scaled_total_00003" in echo["summary"]
    assert echo["outputs"][0].startswith("what it returns or yields")  # the instruction
    with serve(Action("echo_instructions")) as server:
        instructions = content(post(server))
    assert instructions["summary"].startswith("scaled_total_00003: what the code does and why")
    assert "Do not repeat the code." in instructions["summary"]


def test_plans_count_and_decide_by_request() -> None:
    bad = Action("status", status=500)
    with FaultServer(Plan(flapping(bad, 3, 3))) as server:
        codes = [post(server).status_code for _ in range(7)]
    assert codes == [200, 200, 200, 500, 500, 500, 200]
    assert server.count_by_symbol() == {"scaled_total_00003": 7}
    with FaultServer(Plan(once_per_symbol(bad))) as server:
        assert [post(server).status_code for _ in range(2)] == [500, 200]
    with FaultServer(Plan(random_share(bad, 0.3, seed=11))) as a:
        first = [post(a).status_code for _ in range(20)]
    with FaultServer(Plan(random_share(bad, 0.3, seed=11))) as b:
        assert [post(b).status_code for _ in range(20)] == first  # seeded
    assert 0 < first.count(500) < 20
    with FaultServer(Plan(random_share(bad, 1.0, seed=1, max_in_a_row=2))) as capped:
        assert [post(capped).status_code for _ in range(6)] == [500, 500, 200] * 2
    with FaultServer(Plan(random_share(bad, 1.0, seed=1, max_run=3))) as bounded:
        assert [post(bounded).status_code for _ in range(8)] == [500, 500, 500, 200] * 2
    with FaultServer(Plan(during_outage((bad,), 0.3))) as server:
        assert post(server).status_code == 500
        time.sleep(0.4)  # the outage is timed by design: past it the host is back
        assert post(server).status_code == 200
