"""The gate's issue-14 rules: an answer that talks to the asker, copies the instructions'
wording into any field, or names a module the code never mentions is rejected with a
named reason (`talks_to_user`, `copied_prompt`, `unknown_module`); good answers pass.

The rejected cases are the answers a newcomer quoted in issue 14 (SmolLM2-135M on
examples/sample and on `requests`), and kin; the good ones include real SmolLM2
answers that passed the gate before and are true of their code.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from bench.real_model import (
    VoiceCase,
    format_docstring_audit,
    format_voice,
    judge_voice,
    run_docstring_audit,
    voice_cases,
)
from bench.support.llm_server import LLMServer
from enrich_core.config import BackendConfig, TierConfig
from enrich_core.llm.gate import check_quality
from enrich_core.llm.http import OllamaBackend
from enrich_core.llm.router import Router
from enrich_core.records.context import MAX_IMPORT_LINES, SpanContext
from enrich_core.records.gloss import Gloss, GlossRejected, parse_gloss
from enrich_core.records.span import Span
from enrich_core.source.spans import cut_spans

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "examples" / "sample"

# A function of the shape of requests' `hooks.dispatch_hook` (requests/hooks.py).
HOOKS_SOURCE = '''\
"""Hooks: callables run on events of a request's life."""

HOOKS = ["response"]


def dispatch_hook(key, hooks, hook_data, **kwargs):
    """Dispatches a hook dictionary on a given piece of data."""
    hooks = hooks or {}
    hooks = hooks.get(key)
    if hooks:
        if hasattr(hooks, "__call__"):
            hooks = [hooks]
        for hook in hooks:
            _hook_data = hook(hook_data, **kwargs)
            if _hook_data is not None:
                hook_data = _hook_data
    return hook_data
'''

ASK_SOURCE = '''\
import sys


def ask_name(stream=sys.stdin):
    """Read a name; an empty line is asked again."""
    name = stream.readline().strip()
    while not name:
        print("Please provide a name")
        name = stream.readline().strip()
    return name
'''


def _file(rel: str, source: str) -> tuple[dict[str, Span], tuple[str, ...]]:
    cut = cut_spans(rel, source)
    return {s.qualname: s for s in cut.spans}, cut.imports


CONFIG, CONFIG_IMPORTS = _file(
    "inventory/config.py", (SAMPLE / "inventory" / "config.py").read_text()
)
STOCK, STOCK_IMPORTS = _file("inventory/stock.py", (SAMPLE / "inventory" / "stock.py").read_text())
REPORT, REPORT_IMPORTS = _file(
    "inventory/report.py", (SAMPLE / "inventory" / "report.py").read_text()
)
HOOKS, HOOKS_IMPORTS = _file("requests/hooks.py", HOOKS_SOURCE)
ASK, ASK_IMPORTS = _file("cli/ask.py", ASK_SOURCE)
SPANS = {**CONFIG, **STOCK, **REPORT, **HOOKS, **ASK}
IMPORTS = {
    **dict.fromkeys(REPORT, REPORT_IMPORTS),
    **dict.fromkeys(CONFIG, CONFIG_IMPORTS),
    **dict.fromkeys(STOCK, STOCK_IMPORTS),
    **dict.fromkeys(HOOKS, HOOKS_IMPORTS),
    **dict.fromkeys(ASK, ASK_IMPORTS),
}


# Two glosses SmolLM2-135M wrote for examples/sample that the gate stored before issue
# 14 (read from the store of a `gloss index examples/sample`, verbatim but for the
# second's usage snippet, cut short): the issue's first two quotes.
STORED_OUT_OF_STOCK = parse_gloss(
    '{"summary":"The code is incomplete. Please provide a complete description of the error '
    'message.","inputs":["name: meaning","type: typeofError","value: valueOfError"],'
    '"outputs":[],"side_effects":[],"pitfalls":["error-1024x365","TypeError",'
    '"UnboundLocalRedefinitionError","AttributeError","ValueError","RecursionError",'
    '"SyntaxError","NameError"],"usage_snippet":"","tags":[]}'
)
STORED_LEDGER_INIT = parse_gloss(
    '{"summary":"The stock ledger is a blockchain-based data storage system that allows for '
    "the recording and verification of financial transactions. It uses a decentralized, "
    'permissioned network to ensure transparency and security.","inputs":[],"outputs":[],'
    '"side_effects":["the creation of new accounts with no prior authorization"],"pitfalls":['
    '"The stock ledger is not only secure but also allows for the recording and verification '
    "of financial transactions. It uses a decentralized, permissioned network to ensure "
    'transparency and security.","This is a very good idea. I will make it more interesting by '
    'adding some fun stuff."],"usage_snippet":"You can use this function to create new accounts '
    'with no prior authorization.","tags":[]}'
)
# One it stored that is true of its code (the dots pad each line to the width).
STORED_FORMAT_TABLE = parse_gloss(
    '{"summary":"The format_table function takes a list of rows and returns a string with the '
    "specified width. The function uses a nested loop to iterate over each row in the input "
    'list, adding dots at the end of each line to create a table-style output.","inputs":['
    '"rows","width"],"outputs":["lines"],"side_effects":[],"pitfalls":[],"usage_snippet":"",'
    '"tags":[]}'
)


def answer(summary: str, **fields: object) -> Gloss:
    values: dict[str, object] = {
        "inputs": (),
        "outputs": (),
        "side_effects": (),
        "pitfalls": (),
        "usage_snippet": "",
        "tags": (),
    }
    values.update(fields)
    return Gloss(summary=summary, **values)  # type: ignore[arg-type]


def rejection(gloss: Gloss, qualname: str) -> str | None:
    """The reason the whole gate (given the span's file's imports) rejects `gloss`."""
    try:
        check_quality(gloss, SPANS[qualname], None, IMPORTS[qualname])
    except GlossRejected as rejected:
        return rejected.reason
    return None


@pytest.mark.parametrize(
    ("qualname", "gloss", "reason"),
    [
        # --- issue 14's quoted answers -------------------------------------------------
        ("OutOfStock", STORED_OUT_OF_STOCK, "talks_to_user"),
        ("StockLedger.__init__", STORED_LEDGER_INIT, "talks_to_user"),
        (
            "OutOfStock",
            answer(
                "The code is incomplete. Please provide a complete description of the "
                "OutOfStock exception so that I can document it."
            ),
            "talks_to_user",
        ),
        (
            "StockLedger.__init__",
            answer(
                "A blockchain-based data storage system for the stock ledger. I will make "
                "it more interesting by adding some fun stuff.",
                usage_snippet="ledger = StockLedger()",
            ),
            "talks_to_user",
        ),
        (
            "load_config",
            answer(
                "A wrapper around the configuration loader of the `pydex` module that "
                "reads the settings for the environment.",
                inputs=("path: the settings file", "environ: the environment"),
                usage_snippet="load_config(Path('settings.json'))",
            ),
            "unknown_module",
        ),
        (
            "dispatch_hook",
            answer(
                "Calls each hook registered for a key on the hook data.",
                inputs=("key: the event name", "hooks: the hooks by event"),
                tags=("a few lowercase topic words",),
            ),
            "copied_prompt",
        ),
        # --- kin: talking to the asker ---------------------------------------------------
        (
            "OutOfStock",
            answer("Sure! Here is the JSON for the OutOfStock exception."),
            "talks_to_user",
        ),
        (
            "parse_order_line",
            answer("Let me explain: parse_order_line splits a line at its comma."),
            "talks_to_user",
        ),
        (
            "parse_order_line",
            answer("As an AI language model, I cannot run parse_order_line, but it splits a line."),
            "talks_to_user",
        ),
        (
            "StockLedger.low_stock",
            answer(
                "Lists the SKUs whose level is under the threshold.",
                pitfalls=("Please share the rest of the StockLedger class.",),
            ),
            "talks_to_user",
        ),
        (
            "StockLedger.receive",
            answer(
                "Adds received stock to a SKU's level; the code you provided logs it.",
            ),
            "talks_to_user",
        ),
        (
            "Settings",
            answer("Settings of the service; without more context its use is unclear."),
            "talks_to_user",
        ),
        (
            "Settings",
            answer("Settings of the service. There is not enough information provided."),
            "talks_to_user",
        ),
        (
            "Settings",
            answer("Settings of the service; not enough context to determine their use."),
            "talks_to_user",
        ),
        # --- kin: the instructions' wording in any field ---------------------------------
        (
            "dispatch_hook",
            answer(
                "Calls each hook registered for a key on the hook data.",
                tags=("a", "few", "lowercase", "topic", "words"),
            ),
            "copied_prompt",
        ),
        (
            "dispatch_hook",
            answer(
                "Calls each hook registered for a key on the hook data.",
                tags=("lowercase topic words",),
            ),
            "copied_prompt",
        ),
        (
            "load_config",
            answer(
                "Reads settings from a JSON file; environment variables override it.",
                inputs=("path: meaning", "environ: meaning"),
            ),
            "copied_prompt",
        ),
        (
            "load_config",
            answer(
                "Reads settings from a JSON file; environment variables override it.",
                inputs=("name: meaning",),
            ),
            "copied_prompt",
        ),
        (
            "load_config",
            answer(
                "Reads settings from a JSON file.",
                outputs=("what it returns or yields, and exceptions it raises.",),
            ),
            "copied_prompt",
        ),
        (
            "load_config",
            answer(
                "Reads settings from a JSON file.",
                pitfalls=("edge cases, surprising behaviour, misuse that bites",),
            ),
            "copied_prompt",
        ),
        (
            "load_config",
            answer(
                "Reads settings from a JSON file; the reader has read the docstring, so "
                "add what it does not say."
            ),
            "copied_prompt",
        ),
        (
            "load_config",
            answer(
                "Reads settings from a JSON file.",
                side_effects=("I/O, mutation of arguments or globals, network",),
            ),
            "copied_prompt",
        ),
        # --- kin: a module the code never mentions -------------------------------------
        (
            "load_config",
            answer(
                "Reads settings with the ruamel.yaml library and returns them.",
                inputs=("path: the settings file",),
            ),
            "unknown_module",
        ),
        (
            "load_config",
            answer(
                "Reads settings from a JSON file.",
                usage_snippet="import pydex\nload_config(Path('settings.json'))",
            ),
            "unknown_module",
        ),
        (
            "load_config",
            answer("Reads settings with the pickle module, not JSON."),
            "unknown_module",
        ),
        (
            "parse_order_line",
            answer(
                "Splits an order line into a SKU and a quantity.",
                usage_snippet="from inventory.parsing import csvtools\nparse_order_line('a,2')",
                pitfalls=("Parsing uses `csvtools.reader` from the `csvtools` package.",),
            ),
            "unknown_module",
        ),
    ],
)
def test_the_issues_answers_and_their_kin_are_rejected_with_a_named_reason(
    qualname: str, gloss: Gloss, reason: str
) -> None:
    assert rejection(gloss, qualname) == reason


@pytest.mark.parametrize(
    ("qualname", "gloss"),
    [
        # Real SmolLM2-135M answers that passed the gate before and are true of their code
        # (a store's, and examples/sample's seeded ones: `bench.real_model --only voice`).
        ("format_table", STORED_FORMAT_TABLE),
        (
            "load_config",
            answer(
                "Reads settings from a JSON file and overrides them with environment variables.",
                inputs=("path: the JSON file", "environ: the environment variables"),
                outputs=("Settings",),
                usage_snippet="load_config(Path('settings.json'))",
                tags=("config", "json"),
            ),
        ),
        # Modules named as they are: in the code, in the file's imports, the span's own
        # package, or plain words that name no module.
        (
            "load_config",
            answer(
                "Uses the standard json module to read a settings file; the `os` module's "
                "environ overrides it.",
                usage_snippet="from inventory.config import load_config\n"
                "load_config(Path('s.json'))",
            ),
        ),
        (
            "load_config",
            answer(
                "Builds Settings from a file read with the `pathlib` module's Path and the "
                "`json` module.",
            ),
        ),
        (
            "StockLedger.reserve",
            answer(
                "Takes stock for an order under the ledger's lock (the asyncio library's "
                "Lock), raising OutOfStock when the level is too low.",
                usage_snippet="import asyncio\nasyncio.run(ledger.reserve('sku', 2))",
            ),
        ),
        (
            "StockLedger.receive",
            answer(
                "Adds received stock to a SKU's level and logs it through the logging "
                "module; a Python module-level logger, not the standard library's print.",
            ),
        ),
        (
            "dispatch_hook",
            answer(
                "Runs the hooks the `requests` package registered for an event; part of "
                "the `requests.hooks` module (the hook module). Use it when you need every "
                "hook's result; a thin wrapper library would do less.",
                inputs=("key: the event name", "hooks: the hooks by event"),
                tags=("hooks", "events"),
            ),
        ),
        (
            "format_table",
            answer(
                "Pads each row's name and count with dots to the width; in a loop over "
                "the rows, i will be the index of the row being formatted.",
            ),
        ),
        # Human docstrings' first paragraphs that named a module in plain words
        # (Django's auth backends and module_loading) or said "your request" (requests').
        (
            "load_config",
            answer(
                "Used with the loader found in the middleware module of this package; "
                "import a dotted module path first.",
            ),
        ),
        (
            "load_config",
            answer("There was an ambiguous exception while handling your request."),
        ),
        # A pitfall about the code's data, not the request (SmolLM2's, for requests'
        # InvalidHeader).
        (
            "parse_order_line",
            answer(
                "Splits an order line into a SKU and a quantity.",
                pitfalls=("not enough information to handle a line without a comma",),
            ),
        ),
        # "you" as documentation says it, and a chat phrase the code itself prints.
        (
            "ask_name",
            answer(
                "Reads a name from a stream, printing 'Please provide a name' until the "
                "line you type is not empty.",
                inputs=("stream: where the name is read from",),
            ),
        ),
        (
            "StockLedger.low_stock",
            answer(
                "Lists the SKUs under a threshold, for when you need to restock; "
                "the list you get is sorted.",
                inputs=("threshold: the level below which a SKU is low",),
                outputs=("the low SKUs, sorted",),
                tags=("inventory", "lowercase"),
            ),
        ),
        (
            "parse_order_line",
            answer(
                "Splits an order line at its first comma into an upper-case SKU and a "
                "quantity, one when none is given.",
                pitfalls=("A non-numeric quantity raises ValueError from int().",),
                outputs=("one JSON object",),
            ),
        ),
    ],
)
def test_good_answers_pass(qualname: str, gloss: Gloss) -> None:
    assert rejection(gloss, qualname) is None


def test_a_module_the_file_imports_is_grounded_only_with_the_imports() -> None:
    # `reserve` never says asyncio; its file imports it. Given the imports, the claim
    # is true; with the file said to import nothing, it is unknown; not knowing the
    # imports (None), the rule is not run.
    claim = answer("Reserves stock for an order under an `asyncio` module lock.")
    reserve = SPANS["StockLedger.reserve"]
    check_quality(claim, reserve, None, STOCK_IMPORTS)
    check_quality(claim, reserve)
    with pytest.raises(GlossRejected) as info:
        check_quality(claim, reserve, None, ())
    assert info.value.reason == "unknown_module"
    assert "`asyncio`" in str(info.value) and "imports nothing" in str(info.value)


def test_a_javascript_import_in_a_usage_snippet_claims_no_module() -> None:
    # `import Cart from "./cart"` binds a name: it is no claim that a module `Cart` exists.
    (cart, *_) = cut_spans("web/cart.ts", (SAMPLE / "web" / "cart.ts").read_text()).spans
    snippet = 'import Basket from "./basket";\nconst cart = new Cart();'
    check_quality(answer("A shopping cart of items.", usage_snippet=snippet), cart, None, ())


def test_a_module_is_not_judged_where_the_files_imports_were_cut() -> None:
    # A file with more than MAX_IMPORT_LINES import lines: a module named
    # past the cut may well be imported, so no claim is judged there.
    claim = answer("Reserves stock under the lock of the `pydex` module.")
    reserve = SPANS["StockLedger.reserve"]
    cut = tuple(f"from .part{n} import thing{n}" for n in range(MAX_IMPORT_LINES))
    check_quality(claim, reserve, None, cut)
    with pytest.raises(GlossRejected):
        check_quality(claim, reserve, None, cut[:-1])


def test_each_reason_names_the_field_and_the_words() -> None:
    with pytest.raises(GlossRejected) as info:
        check_quality(
            answer("Lists low SKUs.", pitfalls=("I think the threshold is inclusive.",)),
            SPANS["StockLedger.low_stock"],
            None,
            STOCK_IMPORTS,
        )
    assert info.value.reason == "talks_to_user"
    assert "pitfalls[0]" in str(info.value) and "'I think'" in str(info.value)


async def test_the_router_gives_the_gate_the_imports_the_prompt_leaves_out(
    llm: LLMServer,
) -> None:
    """`[prompt] context` without imports (the default): the request does not carry
    them, yet the gate judges a module claim against them."""
    reserve = SPANS["StockLedger.reserve"]
    context = SpanContext(imports=STOCK_IMPORTS)
    tier = TierConfig("small", "small-model", ("test",), max_tokens=200, context_tokens=4096)
    backend = OllamaBackend(BackendConfig(name="test", kind="ollama", url=llm.url))
    router = Router((tier,), {"test": backend}, context_parts=("callees", "docstring"))
    try:
        llm.set_descriptions(
            {reserve.qualname: "Reserves stock under the `asyncio` module's lock."}
        )
        grounded = await router.gloss(reserve, context=context)
        llm.set_descriptions({reserve.qualname: "Reserves stock under the `pydex` module's lock."})
        invented = await router.gloss(reserve, context=context)
    finally:
        await backend.aclose()
    for request in llm.requests:
        assert "Imports:" not in json.dumps(request.body)
    assert grounded.gloss is not None, grounded.failure
    assert invented.gloss is None
    assert invented.rejections == ("unknown_module",)
    assert invented.failure is not None and "unknown_module" in invented.failure


def test_the_voice_bench_counts_each_rule_and_prints_each_rejected_answer_whole() -> None:
    """`bench.real_model --only voice --rejudge`: kept answers judged without the model."""
    cases = [
        VoiceCase("sample", SPANS[name], IMPORTS[name])
        for name in ("Settings", "OutOfStock", "format_table", "load_config")
    ]
    texts = {
        # SmolLM2-135M's seeded answer for `Settings` (t = 0.1, seed 14), kept verbatim.
        "Settings": '{ "summary": "This is a summary of the code.", "inputs": ["name: meaning", '
        '"type_1.0"], "outputs": [],"side_effects":[], "pitfalls":[], "usage_snippet":"The '
        'user can customize this settings to their liking.", "tags":["thisisa"]}',
        "OutOfStock": STORED_OUT_OF_STOCK.to_json(),
        "format_table": STORED_FORMAT_TABLE.to_json(),
        "load_config": '{"summary": "cut off',
    }
    kept = [
        {
            "path": c.span.path,
            "content_hash": c.span.content_hash,
            "text": texts[c.span.qualname],
            "finish_reason": "length" if c.span.qualname == "load_config" else "stop",
        }
        for c in cases
    ]
    audit = judge_voice(cases, kept).as_dict()
    assert (audit["answers"], audit["schema_valid"], audit["accepted"]) == (4, 3, 1)
    assert audit["rejected_by"] == {"talks_to_user": 1, "copied_prompt": 2, "unknown_module": 0}
    shown = format_voice(audit)
    assert "3 schema-valid; rejected by talks_to_user 1, copied_prompt 2, unknown_module 0" in shown
    assert "the whole gate accepted 1" in shown
    assert "inventory/config.py:Settings: copied_prompt: inputs[0]" in shown
    assert "(also filler)" in shown  # another check rejects it too
    assert "Please provide a complete description of the error message." in shown


@pytest.mark.timeout(300)
def test_human_docstrings_of_requests_and_django_pass_the_voice_rules() -> None:
    """3,888 first paragraphs people wrote (`bench.real_model --only voice-docs`): as a
    summary of their span with the docstring taken out, none is rejected."""
    from bench.support.real_code import DJANGO, FETCH_COMMAND, REQUESTS, corpus_files

    absent = [c.name for c in (REQUESTS, DJANGO) if not corpus_files(c)]
    if absent:
        message = f"{', '.join(absent)} not fetched: run {FETCH_COMMAND}"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run this test, but {message}")
        pytest.skip(message)
    audit = run_docstring_audit()
    assert audit["judged"] > 3000
    assert audit["rejected"] == [], format_docstring_audit(audit)


def test_smollm2s_kept_answers_are_rejected_only_where_they_are_bad() -> None:
    """The answers SmolLM2-135M gave (bench/data/voice/), judged again: the rules reject
    exactly the five read by eye as bad, and nothing else."""
    kept = json.loads((ROOT / "bench" / "data" / "voice" / "smollm2-answers.json").read_text())
    try:
        cases = voice_cases(20)
    except SystemExit as absent:  # requests not fetched: judge the sample's answers
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run this test, but {absent}")
        cases = voice_cases(0)
    audit = judge_voice(cases, kept).as_dict()
    rejected = sorted((where, reason.split(":")[0]) for where, reason, _, _ in audit["rejections"])
    expected = [
        ("requests requests/cookies.py:RequestsCookieJar", "copied_prompt"),
        ("requests requests/cookies.py:RequestsCookieJar.__delitem__", "copied_prompt"),
        # Its pitfall is the request's docstring marker, "(docstring given in its own
        # section)"; its usage snippet is prose; a tag "the code that does what it does".
        ("requests requests/models.py:RequestEncodingMixin._encode_params", "copied_prompt"),
        ("requests requests/models.py:RequestEncodingMixin._encode_params", "talks_to_user"),
        ("sample inventory/config.py:Settings", "copied_prompt"),
        ("sample web/cart.ts:Cart", "talks_to_user"),
    ]
    assert rejected == [e for e in expected if e[0].split()[0] in {c.where for c in cases}]
    assert audit["answers"] == len(cases)


# What SmolLM2 wrote on requests' api.py and sessions.py in a first `gloss index`
# (2026-12-06) that the gate let through before these cases were added.
REQUESTS_RUN_ANSWERS = {
    "the request's docstring marker copied into a pitfall": (
        "pitfalls",
        "usage_snippet: The usage snippet for this function is as follows: def head(url, "
        "**kwargs): # (docstring given in its own section)",
        "talks_to_user",  # about the request's layout; copied_prompt would reject it too
    ),
    "the request's layout described": (
        "summary",
        "The get_adapter method returns the appropriate connection adapter for a given URL. "
        "The docstring is in its own section, and it's not repeating itself.",
        "talks_to_user",
    ),
    "the code called the above code": (
        "summary",
        "The above code is a mix of multiple functions that can be used to create a custom "
        "response.",
        "talks_to_user",
    ),
    "tags written as inputs": ("tags", "url: url", "copied_prompt"),
    "a tag that names no topic": ("tags", "the above", "filler"),
    "a self-description behind a comma": ("summary", ", this is a summary of the code.", "filler"),
}


GET_ADAPTER = """\
def get_adapter(self, url):
    for prefix, adapter in self.adapters.items():
        if url.lower().startswith(prefix.lower()):
            return adapter
"""


@pytest.mark.parametrize("case", sorted(REQUESTS_RUN_ANSWERS))
def test_what_a_first_index_of_requests_let_through_is_now_rejected(case: str) -> None:
    field, text, reason = REQUESTS_RUN_ANSWERS[case]
    fields = {
        "summary": "Return the connection adapter that serves the given URL.",
        "inputs": ("url: the URL to send",),
        "outputs": ("the adapter",),
        "side_effects": (),
        "pitfalls": (),
        "usage_snippet": "session.get_adapter('https://example.org')",
        "tags": ("http", "adapters"),
    }
    fields[field] = text if field in ("summary", "usage_snippet") else (text,)
    (span,) = _file("requests/sessions.py", GET_ADAPTER)[0].values()
    with pytest.raises(GlossRejected) as rejected:
        check_quality(Gloss(**fields), span)  # type: ignore[arg-type]
    assert rejected.value.reason == reason, rejected.value
