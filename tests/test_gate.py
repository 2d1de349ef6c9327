"""The quality gate: schema-valid but useless answers are rejected with a named reason."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from bench.support.llm_server import ok_gloss
from enrich_core.llm.gate import (
    check_about_the_span,
    check_not_echoed,
    check_quality,
    parameter_names,
)
from enrich_core.records.gloss import Gloss, GlossRejected, parse_gloss
from enrich_core.records.span import Span
from enrich_core.source.spans import extract_spans

SOURCE = '''\
def fetch(url, *, timeout=5.0, **headers):
    """Download a page."""
    response = session.get(url, timeout=timeout, headers=headers)
    return response.content


class Box:
    pass
'''
FETCH, BOX = extract_spans("m.py", SOURCE)


def gloss(**changes: object) -> Gloss:
    fields: dict[str, object] = {
        "summary": "Downloads the page at a URL and returns its body as bytes.",
        "inputs": ("url: the page address", "timeout: seconds to wait"),
        "outputs": ("the response body",),
        "side_effects": ("network request",),
        "pitfalls": ("raises on connection errors",),
        "usage_snippet": "fetch('http://x')",
        "tags": ("http",),
    }
    fields.update(changes)
    return Gloss(**fields)  # type: ignore[arg-type]


def test_a_good_answer_passes() -> None:
    check_quality(gloss(), FETCH)
    # Inputs that are not parameters but plainly described reads are fine.
    check_quality(gloss(inputs=("url: address", "the HTTP session (module global)")), FETCH)
    check_quality(gloss(inputs=("**headers: extra headers",)), FETCH)


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"summary": "N/A"}, "filler"),
        ({"summary": "Summary of the function."}, "filler"),
        ({"summary": "Fetches."}, "too_short"),
        ({"summary": "This is a summary of the code. It calls fetch in many ways."}, "filler"),
        ({"side_effects": ("pitfalls:",)}, "filler"),
        ({"pitfalls": ("}",)}, "filler"),
        ({"pitfalls": ("none",)}, "filler"),
        ({"tags": ("",)}, "filler"),
        (
            {"summary": "response = session.get(url, timeout=timeout, headers=headers)"},
            "copied_code",
        ),
        ({"summary": "def fetch(url, *, timeout=5.0, **headers)"}, "copied_code"),
        ({"inputs": ("path: a file", "mode: open mode")}, "invented_inputs"),
        (
            {"summary": "What the code does and why one would call it, in plain words"},
            "copied_prompt",
        ),
    ],
)
def test_useless_answers_are_rejected_by_name(changes: dict[str, object], reason: str) -> None:
    with pytest.raises(GlossRejected) as info:
        check_quality(gloss(**changes), FETCH)
    assert info.value.reason == reason


def test_parameters_come_from_the_real_signature() -> None:
    assert parameter_names(FETCH) == frozenset({"url", "timeout", "headers"})
    assert parameter_names(BOX) is None  # a class: its inputs cannot be checked this way
    check_quality(gloss(inputs=("anything: goes",), usage_snippet="Box()"), BOX)


def test_a_parameter_named_like_a_schema_field_is_an_input_not_an_echo() -> None:
    (tagged,) = extract_spans("t.py", "def label(item, tags):\n    return item, tags\n")
    # (No side effect claimed: `label` calls nothing, and the gate knows it.)
    answer = gloss(inputs=("item: the thing", "tags"), usage_snippet="label(x, [])")
    check_quality(dataclasses.replace(answer, side_effects=()), tagged)
    with pytest.raises(GlossRejected) as info:
        check_quality(gloss(inputs=("url: address", "tags")), FETCH)  # fetch has no `tags`
    assert info.value.reason == "filler"


# --- answers about another symbol, and answers that echo the request -------------------

SAMPLES = Path(__file__).parent / "samples"
STOCK = '''\
class StockLedger:
    """Tracks units on hand per SKU."""

    def __init__(self) -> None:
        self._on_hand: dict[str, int] = {}

    def receive(self, sku: str, quantity: int) -> int:
        self._on_hand[sku] = self._on_hand.get(sku, 0) + quantity
        return self._on_hand[sku]

    async def reserve(self, sku: str, quantity: int) -> int:
        """Hold `quantity` units; raises OutOfStock, see parse_order_line."""
        left = self._on_hand.get(sku, 0)
        if left < quantity:
            raise OutOfStock(sku)
        self._on_hand[sku] = left - quantity
        return self._on_hand[sku]


def parse_order_line(line: str) -> tuple[str, int]:
    sku, _, qty = line.partition(" x ")
    return sku.strip(), int(qty)
'''


def sample_spans(name: str) -> dict[str, Span]:
    path = SAMPLES / name if name in SAMPLE_FILES else None
    source = path.read_text() if path else STOCK
    return {s.qualname: s for s in extract_spans(name, source)}


SAMPLE_FILES = frozenset(p.name for p in SAMPLES.iterdir())


def answer(summary: str, usage: str = "", **changes: object) -> Gloss:
    fields: dict[str, object] = {
        "summary": summary,
        "inputs": (),
        "outputs": (),
        "side_effects": (),
        "pitfalls": (),
        "usage_snippet": usage,
        "tags": (),
    }
    fields.update(changes)
    return Gloss(**fields)  # type: ignore[arg-type]


# What a capable model writes: names the span, its class, builtins, helpers it
# calls, words that merely look like code, and other names beside the span's own.
GOOD_ANSWERS = [
    (
        "stock.py",
        "StockLedger.receive",
        answer(
            "Adds `quantity` units of `sku` to the ledger's on-hand count and returns the "
            "new total; unlike `reserve()`, it never raises.",
            "ledger = StockLedger()\nledger.receive('ABC-1', 5)",
        ),
    ),
    (
        "stock.py",
        "StockLedger.__init__",
        answer("Creates an empty StockLedger with nothing on hand.", "ledger = StockLedger()"),
    ),
    (
        "stock.py",
        "StockLedger.reserve",
        answer(
            "Holds units for an order under asyncio, raising OutOfStock when too few are "
            "on hand; pair it with parse_order_line() to reserve from an order file.",
            'sku, qty = parse_order_line("ABC x 2")\nleft = asyncio.run(ledger.reserve(sku, qty))',
        ),
    ),
    (
        "stock.py",
        "parse_order_line",
        answer(
            "Splits a line such as 'ABC x 3' with str.partition() and converts the count "
            "with int(), e.g. for CSV or UTF-8 text read from a JavaScript front end.",
            'print(parse_order_line("ABC x 3"))',
        ),
    ),
    (
        "stock.py",
        "parse_order_line",
        # Says what it does without naming itself, and calls nothing foreign.
        answer("Reads the SKU and the quantity from one order line.", 'sku, n = line.split(" x ")'),
    ),
    (
        "store.go",
        "Store.Put",
        answer(
            "Stores value under key until ttl has passed, holding the write lock; a zero "
            "ttl keeps it until replaced. Use New to make the store and Get to read back.",
            's := store.New[string, int]()\ns.Put("a", 1, time.Minute)\nv, err := s.Get(ctx, "a")\n'
            "if err != nil {\n\tlog.Fatal(err)\n}\nfmt.Println(v)",
        ),
    ),
    (
        "store.go",
        "New",
        answer("Returns an empty Store whose map is ready for Put.", "s := New[string, int]()"),
    ),
    (
        "counter.rs",
        "Counter::new",
        answer(
            "Makes a Counter at zero that saturates or wraps at `limit`.",
            "let mut c = Counter::new(10, Overflow::Wrap);\nassert_eq!(c.bump(3), 3);",
        ),
    ),
    (
        "counter.rs",
        "Counter::bump",
        answer(
            "Adds `by` with saturating_add, then saturates or wraps at the limit and "
            "returns the new value.",
            'let mut c = Counter::new(5, Overflow::Saturate);\nprintln!("{}", c.bump(7));',
        ),
    ),
    (
        "scheduler.ts",
        "Scheduler.submit",
        answer(
            "Queues a job and starts it when fewer than `limit` jobs run, emitting events "
            "through EventEmitter.",
            "const s = new ConsoleScheduler(2);\ns.submit(new SleepJob(100));",
        ),
    ),
    (
        "cart.js",
        "Cart.constructor",
        answer("Creates an empty cart owned by `owner`.", "const cart = new Cart('ann');"),
    ),
    (
        "Ledger.java",
        "Ledger.Ledger",
        answer(
            "Creates a Ledger that allows balances down to minus `overdraft` cents.",
            'Ledger ledger = new Ledger(500);\nSystem.out.println(ledger.balance("cash"));',
        ),
    ),
    (
        "Ledger.cs",
        "Ledger.SaveAsync",
        answer(
            "Writes every posting to the store asynchronously; await it before disposing "
            "the store.",
            'await ledger.SaveAsync(new FileStore("ledger.json"));',
        ),
    ),
    (
        "hashmap.c",
        "hashmap_put",
        answer(
            "Stores value under key, growing the table when it is full; returns 0 on "
            "success and -1 when malloc fails.",
            'hashmap *m = hashmap_new(16);\nif (hashmap_put(m, "a", 1) != 0) {\n'
            '    fprintf(stderr, "out of memory\\n");\n}',
        ),
    ),
    (
        "inventory.rb",
        "Shop.Inventory.initialize",
        answer("Creates an empty Inventory, recording changes in `audit`.", "inv = Inventory.new"),
    ),
    (
        "Cart.php",
        "Cart.add",
        answer(
            "Adds `quantity` units of a catalogue SKU and returns the cart for chaining.",
            '$cart = Cart::fromRows($catalogue, []);\n$cart->add("A1", 2)->add("B2");',
        ),
    ),
    (
        "matrix.cpp",
        "linalg::Matrix::transpose",
        answer("Returns a new Matrix with rows and columns swapped.", "auto t = m.transpose();"),
    ),
]


@pytest.mark.parametrize(("file", "qualname", "good"), GOOD_ANSWERS)
def test_good_answers_are_about_the_span(file: str, qualname: str, good: Gloss) -> None:
    span = sample_spans(file)[qualname]
    check_not_echoed(good, span)
    check_about_the_span(good, span)


# The gloss of one span given for another (issue 11: all 24 of a workspace accepted).
WRONG_ANSWERS = [
    (
        "stock.py",
        "StockLedger.receive",
        answer(
            "Holds units for an order, raising OutOfStock when too few are on hand.",
            'asyncio.run(ledger.reserve_units("ABC", 2))',
        ),
    ),
    (
        "stock.py",
        "parse_order_line",
        answer(
            "StockLedger.receive (test model m) does what its name says, deterministically.",
            "receive(sku, quantity)",
        ),
    ),
    (
        "stock.py",
        "StockLedger.receive",
        answer("Reads settings from a TOML file with load_config() and returns them."),
    ),
    (
        "store.go",
        "Store.Put",
        answer("Describe returns a phrase for n items.", "fmt.Println(Describe(3))"),
    ),
    (
        "counter.rs",
        "Counter::bump",
        answer("Writes every counter to `sink` and flushes it.", "registry.flush(sink).await?;"),
    ),
    (
        "scheduler.ts",
        "parsePriority",
        answer("Waits `ms` milliseconds unless aborted.", "await new SleepJob(50).run(signal);"),
    ),
    (
        "Ledger.java",
        "Ledger.balance",
        answer("Registers a listener told of rejected entries.", "ledger.listen(myListener);"),
    ),
    (
        "hashmap.c",
        "hashmap_get",
        answer("Frees the table and every key it holds.", "hashmap_free(m);"),
    ),
    (
        "inventory.rb",
        "Shop.Inventory.add",
        answer("Yields each SKU with its count.", "inventory.each_pair { |sku, n| puts n }"),
    ),
]


@pytest.mark.parametrize(("file", "qualname", "wrong"), WRONG_ANSWERS)
def test_an_answer_about_another_symbol_is_rejected(file: str, qualname: str, wrong: Gloss) -> None:
    span = sample_spans(file)[qualname]
    with pytest.raises(GlossRejected) as info:
        check_quality(wrong, span)
    assert info.value.reason == "wrong_symbol"


def test_a_name_the_code_calls_is_no_other_symbol() -> None:
    reserve = sample_spans("stock.py")["StockLedger.reserve"]
    # OutOfStock is raised in its code, parse_order_line named in its docstring.
    check_about_the_span(answer("Raises OutOfStock(sku); see parse_order_line()."), reserve)
    with pytest.raises(GlossRejected):
        check_about_the_span(answer("Raises OutOfStock; see load_config()."), reserve)


def test_the_test_server_s_answers_pass_for_every_span_of_every_language() -> None:
    checked = 0
    for path in sorted(SAMPLES.iterdir()):
        for span in extract_spans(path.name, path.read_text()):
            fake = ok_gloss("test-model", span.qualname, span.signature)
            good = parse_gloss(json.dumps(fake))
            check_not_echoed(good, span)
            check_about_the_span(good, span)
            checked += 1
    assert checked > 150


def test_a_decoy_s_answer_from_the_test_server_is_wrong_symbol() -> None:
    spans = sample_spans("stock.py")
    decoy = spans["parse_order_line"]
    fake = ok_gloss("test-model", decoy.qualname, decoy.signature)
    for qualname in ("StockLedger.__init__", "StockLedger.receive"):
        with pytest.raises(GlossRejected) as info:
            check_quality(parse_gloss(json.dumps(fake)), spans[qualname])
        assert info.value.reason == "wrong_symbol"
        assert "parse_order_line" in info.value.detail


ADD = extract_spans("calc/m.py", 'def add(a, b):\n    """Sum."""\n    return a + b\n')[0]


@pytest.mark.parametrize(
    "echo",
    [
        # The request's header lines as the summary (the fault suite's echo).
        answer("Path: calc/m.py Symbol: add Kind: function Signature: def add(a, b)"),
        answer("The answer for Symbol: add is below, as asked."),
        answer("Adds two numbers.", "Code:\n```python\ndef add(a, b):\n    return a + b\n```"),
        answer('{"role": "user", "content": "Path: calc/m.py"} adds a and b'),
        answer('Adds a and b: {"summary": "...", "inputs": []}'),
    ],
)
def test_an_answer_that_echoes_the_request_is_rejected(echo: Gloss) -> None:
    with pytest.raises(GlossRejected) as info:
        check_quality(echo, ADD)
    assert info.value.reason == "echoed_prompt"


# The instructions' wording in any field was `echoed_prompt` until issue 14 named it
# `copied_prompt` in every field, as in the summary (tests/test_gate_voice.py).
@pytest.mark.parametrize(
    "copy",
    [
        answer("Adds a and b.", usage="add(1, 2)", inputs=("name: meaning",)),
        answer("Adds a and b.", outputs=("what it returns or yields, and exceptions it raises.",)),
        answer("Adds a and b.", pitfalls=("edge cases, surprising behaviour, misuse that bites",)),
        answer("Adds a and b.", side_effects=("mutation of arguments or globals",)),
        answer("Adds a and b, documenting code for a developer who hovers over a symbol."),
    ],
)
def test_an_answer_that_copies_the_instructions_is_rejected(copy: Gloss) -> None:
    with pytest.raises(GlossRejected) as info:
        check_quality(copy, ADD)
    assert info.value.reason == "copied_prompt"


@pytest.mark.parametrize(
    "good",
    [
        # Parameters that share a header line's word are inputs, not echoes.
        answer("Loads the settings file.", inputs=("Path: the TOML file", "kind: what to load")),
        answer("Returns what it reads from the file, or None when the file is missing."),
        answer("Adds a and b.", side_effects=("network, files and logging: none",)),
        answer("Adds a and b.", outputs=("the sum, or TypeError for mixed types",)),
        answer("Adds two numbers; the code does what one would expect of +."),
    ],
)
def test_answers_sharing_words_with_the_instructions_are_not_echoes(good: Gloss) -> None:
    check_not_echoed(good, ADD)


def test_the_summary_copying_the_instructions_keeps_its_reason() -> None:
    with pytest.raises(GlossRejected) as info:
        check_quality(answer("You document code for a developer who hovers over a symbol"), ADD)
    assert info.value.reason == "copied_prompt"


def test_a_gloss_of_the_code_that_builds_requests_may_quote_it() -> None:
    # Gloss glossing itself: the labels, instructions and keys are the code's own text.
    outbound = Path(__file__).parents[1] / "enrich_core" / "llm" / "outbound.py"
    spans = {s.qualname: s for s in extract_spans("llm/outbound.py", outbound.read_text())}
    build = spans["build_prompt"]
    check_not_echoed(
        answer(
            "Builds the user message: Path:, Language:, Symbol:, Kind: and Signature: lines, "
            "then Code: and the code in a fence.",
            "prompt = build_prompt(outbound_span(span))",
        ),
        build,
    )
    client = extract_spans(
        "chat.py",
        "def ask(client, text):\n"
        '    """Send one user message."""\n'
        '    messages = [{"role": "user", "content": text}]\n'
        "    return client.chat(messages)\n",
    )[0]
    check_not_echoed(
        answer("Sends one user message.", 'ask(c, "hi")  # [{"role": "user", ...}]'), client
    )
    maker = extract_spans(
        "g.py", 'def blank():\n    return {"summary": "", "inputs": [], "tags": []}\n'
    )[0]
    check_not_echoed(answer('Returns {"summary": "", "inputs": []}.', "blank()"), maker)


def test_a_piece_of_an_identifier_in_the_code_is_known() -> None:
    (dealloc,) = extract_spans(
        "reader.c",
        "static void reader_dealloc(Reader *self) {\n"
        "    free(self->buffer);\n"
        "    PyObject_Del(self);\n"
        "}\n",
    )
    check_about_the_span(answer("Frees the buffer, then the PyObject itself."), dealloc)
    with pytest.raises(GlossRejected):
        check_about_the_span(answer("Frees the buffer, then calls PyTdctxSize()."), dealloc)
