"""Spans of a real sample file in every language but Python (tests/test_spans.py).

Each sample under tests/samples/ is realistic code in its language: doc comments
in the language's own style, nested types, methods, constructors, the
language's interfaces/traits/impl blocks and namespaces, and one syntax error
in the middle. The expectations below were written by reading the samples: the
exact list of spans (qualified name, kind, container, range, name position,
one-line signature, doc comment), the outline of types, the parameters the
quality gate reads, and which hashes an edit of one method body changes.

Positions are LSP's: 0-based lines, UTF-16 columns. Each sample has a line with
non-ASCII text before or inside a definition, where UTF-16 columns differ
from bytes and from code points (`🍮` is two UTF-16 units, `é` one).
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from enrich_core.records.span import OUTLINED_KINDS, Span
from enrich_core.source import signatures
from enrich_core.source.languages import language_for_source
from enrich_core.source.spans import cut_spans, extract_spans

SAMPLES = Path(__file__).parent / "samples"

# (qualname, kind, container, "start_line:start_col-end_line:end_col",
#  "name_line:name_col-name_end_col", signature, docstring)
Row = tuple[str, str, str | None, str, str, str, str | None]


@dataclass(frozen=True)
class Sample:
    file: str
    spans: list[Row]
    # Types' text, member bodies cut; written dedented as a reader sees the block.
    outlines: dict[str, str]
    parameters: dict[str, set[str]]
    # (method, text in its body, replacement): only that method's hash may change.
    edit: tuple[str, str, str]
    # Spans whose type holds the edited method: their hashes must not change.
    edit_keeps: tuple[str, ...] = field(default=())

    @property
    def source(self) -> str:
        return (SAMPLES / self.file).read_text("utf-8")


def spans_of(sample: Sample, source: str | None = None) -> list[Span]:
    return extract_spans(f"src/{sample.file}", sample.source if source is None else source)


def row(span: Span) -> Row:
    return (
        span.qualname,
        span.kind.value,
        span.container,
        f"{span.start_line}:{span.start_col}-{span.end_line}:{span.end_col}",
        f"{span.name_line}:{span.name_col}-{span.name_end_col}",
        span.signature,
        span.docstring,
    )


def outline(span: Span, source: str) -> str:
    """The span's text as a block: its first line gets back the indentation it
    has in the file, then the block is dedented."""
    line = source.splitlines()[span.start_line]
    indent = re.match(r"[ \t]*", line)
    assert indent is not None
    return textwrap.dedent(indent.group()[: span.start_col] + span.text)


def block(text: str) -> str:
    return textwrap.dedent(text).strip("\n")


# The tables keep one span to a few lines, as a reader scans them.
# fmt: off
JAVASCRIPT = Sample(
    "cart.js",
    spans=[
        ("roundCents", "function", None, "10:0-12:1", "10:9-19",
         "function roundCents(amount)",
         "Rounds an amount of money to whole cents.\n"
         "@param {number} amount - the amount, in euros\n@returns {number}"),
        ("parseLine", "function", None, "15:0-18:2", "15:6-15",
         "const parseLine = (text, unit = 1) =>",
         'Parses "2x apple" into a line item.'),
        ("Cart", "class", None, "23:0-67:1", "23:6-10",
         "class Cart extends EventEmitter",
         'A cart of line items that emits "change" on every edit.'),
        ("Cart.constructor", "method", "Cart", "25:2-29:3", "25:2-13",
         "constructor(owner)", "@param {string} owner"),
        ("Cart.size", "method", "Cart", "32:2-34:3", "32:6-10",
         "get size()", "How many distinct items the cart holds."),
        ("Cart.add", "method", "Cart", "39:2-42:3", "39:2-5",
         "add(sku, count = 1)", "Adds `count` of `sku`."),
        # The syntax error, `this.items.delete(sku;`: recovery keeps the method whole.
        ("Cart.remove", "method", "Cart", "45:2-48:3", "45:2-8",
         "remove(sku)", "Removes every unit of `sku`."),
        ("Cart.total", "async_method", "Cart", "51:2-57:3", "51:8-13",
         "async total(prices, ...discounts)",
         "Total price, with the discounts applied in order."),
        # A `//` comment is not JSDoc.
        ("Cart.onClear", "method", "Cart", "60:2-62:3", "60:2-9",
         "onClear = (event) =>", None),
        ("Cart.skus", "method", "Cart", "64:2-66:3", "64:10-14",
         "static *skus(cart)", None),
        ("priceList", "function", None, "70:0-82:1", "70:9-18",
         "function priceList(table)",
         "A price list backed by a plain object of prices by SKU."),
        ("priceList.Lookup", "class", "priceList", "72:2-80:3", "72:8-14",
         "class Lookup", "One SKU's price, looked up on demand."),
        ("priceList.Lookup.constructor", "method", "priceList.Lookup", "73:4-75:5", "73:4-15",
         "constructor(sku)", None),
        ("priceList.Lookup.price", "method", "priceList.Lookup", "77:4-79:5", "77:4-9",
         "price()", None),
        # After `const label = 'Crème brûlée 🍮'; `: 33 UTF-16 units, 38 bytes.
        ("describe", "function", None, "84:33-84:88", "84:42-50",
         "function describe(item)", None),
        ("checkout", "async_function", None, "87:0-89:2", "87:15-23",
         "module.exports.checkout = async function (cart, payment)",
         "Charges the cart's total to `payment`."),
    ],
    outlines={
        "Cart": """
            class Cart extends EventEmitter {
              /** @param {string} owner */
              constructor(owner) { ... }

              /** How many distinct items the cart holds. */
              get size() { ... }

              /**
               * Adds `count` of `sku`.
               */
              add(sku, count = 1) { ... }

              /** Removes every unit of `sku`. */
              remove(sku) { ... }

              /** Total price, with the discounts applied in order. */
              async total(prices, ...discounts) { ... }

              // Handlers bound to the instance.
              onClear = (event) => { ... };

              static *skus(cart) { ... }
            }
            """,
        "priceList.Lookup": """
            class Lookup {
              constructor(sku) { ... }

              price() { ... }
            }
            """,
    },
    parameters={
        "parseLine": {"text", "unit"},
        "Cart.total": {"prices", "discounts"},
        "Cart.size": set(),
        "checkout": {"cart", "payment"},
    },
    edit=("Cart.add", "(this.items.get(sku) || 0) + count", "(this.items.get(sku) ?? 0) + count"),
    edit_keeps=("Cart",),
)

JSX = Sample(
    "badge.jsx",
    spans=[
        ("Badge", "function", None, "6:0-13:1", "6:24-29",
         "export default function Badge({label, start = 0})",
         "A badge showing a count; clicking it resets the count.\n"
         "@param {{label: string, start?: number}} props"),
        ("BadgeRow", "function", None, "16:0-20:2", "16:13-21",
         "export const BadgeRow = ({items}) =>", "One row of the badge list."),
        ("useUnread", "function", None, "25:0-35:1", "25:16-25",
         "export function useUnread(userId, everyMs = 30000)",
         "The unread count for a user, polled every `everyMs` milliseconds."),
        ("BadgeList", "class", None, "38:0-49:1", "38:6-15",
         "class BadgeList extends React.Component",
         "Keeps the list of badges and its selection."),
        # The syntax error, `{ selected: id )`, is in select's body.
        ("BadgeList.select", "method", "BadgeList", "42:2-44:3", "42:2-8",
         "select(id)", "Selects the badge with this id."),
        ("BadgeList.render", "method", "BadgeList", "46:2-48:3", "46:2-8", "render()", None),
        ("formatCount", "function", None, "52:0-54:1", "52:9-20",
         "function formatCount(n)", 'Formats a count for the badge: "99+" past 99.'),
        # Ends after `Aucun résultat — 🔕</p>;`: 78 UTF-16 units, 83 bytes.
        ("Empty", "function", None, "56:0-56:78", "56:13-18", "export const Empty = () =>", None),
    ],
    outlines={
        "BadgeList": """
            class BadgeList extends React.Component {
              state = { selected: null };

              /** Selects the badge with this id. */
              select(id) { ... }

              render() { ... }
            }
            """,
    },
    parameters={
        "Badge": {"label", "start"},
        "BadgeRow": {"items"},
        "useUnread": {"userId", "everyMs"},
    },
    edit=("BadgeList.render", 'className="badges"', 'className="badge-list"'),
    edit_keeps=("BadgeList",),
)

TYPESCRIPT = Sample(
    "scheduler.ts",
    spans=[
        ("Priority", "enum", None, "3:0-7:1", "3:12-20",
         "export enum Priority", "How urgent a job is; lower runs first."),
        # `run(signal)` has no body: it shows in the interface's outline, not as a span.
        ("Job", "interface", None, "12:0-17:1", "12:17-20",
         "export interface Job<T = unknown>", "Something the scheduler can run."),
        # A namespace is no span; it prefixes what it holds.
        ("Backoff.Policy", "interface", "Backoff", "21:2-24:3", "21:19-25",
         "export interface Policy", "How retries are spaced out."),
        ("Backoff.delay", "function", "Backoff", "27:2-29:3", "27:18-23",
         "export function delay(attempt: number, policy: Policy = {baseMs: 100, maxMs: 30_000})"
         ": number",
         "Delay before retry number `attempt`, in milliseconds."),
        # An overload signature is a definition of its own (as in a .d.ts file),
        # and the doc comment is written above it, not above the implementation.
        ("parsePriority", "function", None, "33:0-33:54", "33:16-29",
         "export function parsePriority(name: string): Priority",
         "Parses a priority name; unknown names are Normal."),
        ("parsePriority", "function", None, "34:0-36:1", "34:16-29",
         "export function parsePriority(name: string | undefined): Priority", None),
        ("Scheduler", "class", None, "41:0-70:1", "41:22-31",
         "export abstract class Scheduler<T> extends EventEmitter",
         "Runs jobs by priority, a few at a time."),
        ("Scheduler.constructor", "method", "Scheduler", "44:2-46:3", "44:2-13",
         "constructor(private readonly limit: number)", None),
        ("Scheduler.submit", "method", "Scheduler", "49:2-52:3", "49:2-8",
         "submit(job: Job<T>): void", "Queues a job and starts it when a slot frees up."),
        ("Scheduler.drain", "async_method", "Scheduler", "55:2-62:3", "55:8-13",
         "async drain({signal}: {signal: AbortSignal}): Promise<T[]>",
         "Runs every queued job; resolves when all are done."),
        # `protected abstract log(...)` has no body: outline only.
        ("Scheduler.onFailure", "method", "Scheduler", "67:2-69:3", "67:2-11",
         "onFailure = (job: Job<T>, error: Error): void =>",
         "Called when a job fails for good."),
        ("ConsoleScheduler", "class", None, "72:0-76:1", "72:13-29",
         "export class ConsoleScheduler extends Scheduler<string>", None),
        # The syntax error, `console.log(message;`: what follows is still found.
        ("ConsoleScheduler.log", "method", "ConsoleScheduler", "73:2-75:3", "73:12-15",
         "protected log(message: string): void", None),
        ("SleepJob", "class", None, "79:0-91:1", "79:13-21",
         "export class SleepJob implements Job<number>", "A job that only waits, for tests."),
        ("SleepJob.constructor", "method", "SleepJob", "83:2-83:45", "83:2-13",
         "constructor(private readonly ms: number)", None),
        ("SleepJob.run", "async_method", "SleepJob", "86:2-90:3", "86:8-11",
         "async run(signal: AbortSignal): Promise<number>",
         "Resolves with the time slept, or rejects when aborted."),
        # After `const étiquette = "file d'attente 🚦"; `: 39 UTF-16 units, 43 bytes.
        ("label", "function", None, "93:39-93:92", "93:55-60",
         "export function label(): string", None),
    ],
    outlines={
        "Job": """
            export interface Job<T = unknown> {
              readonly id: string;
              priority: Priority;
              /** Does the work; may be retried. */
              run(signal: AbortSignal): Promise<T>;
            }
            """,
        "Scheduler": """
            export abstract class Scheduler<T> extends EventEmitter {
              private queue: Job<T>[] = [];

              constructor(private readonly limit: number) { ... }

              /** Queues a job and starts it when a slot frees up. */
              submit(job: Job<T>): void { ... }

              /** Runs every queued job; resolves when all are done. */
              async drain({ signal }: { signal: AbortSignal }): Promise<T[]> { ... }

              protected abstract log(message: string): void;

              /** Called when a job fails for good. */
              onFailure = (job: Job<T>, error: Error): void => { ... };
            }
            """,
        "Priority": """
            export enum Priority {
              High = 0,
              Normal = 1,
              Low = 2,
            }
            """,
    },
    parameters={
        "Backoff.delay": {"attempt", "policy"},
        "Scheduler.constructor": {"limit"},
        "Scheduler.drain": {"signal"},
        "Scheduler.onFailure": {"job", "error"},
    },
    edit=("SleepJob.run", "return this.ms;", "return this.ms * 2;"),
    edit_keeps=("SleepJob",),
)

TSX = Sample(
    "panel.tsx",
    spans=[
        ("PanelProps", "interface", None, "3:0-8:1", "3:17-27",
         "export interface PanelProps",
         "What a panel shows and how it reports being toggled."),
        ("Dock", "enum", None, "11:0-14:1", "11:12-16",
         "export enum Dock", "Where a panel sits in the layout."),
        ("Panel", "function", None, "20:0-32:1", "20:16-21",
         "export function Panel({title, collapsed = false, onToggle, children}: "
         "React.PropsWithChildren<PanelProps>)",
         "A titled panel that folds its children away.\n"
         "@param props the panel's title and starting state"),
        # A named closure is a span of its own, inside the function that holds it.
        ("Panel.toggle", "function", "Panel", "22:2-25:4", "22:8-14",
         "const toggle = () =>", None),
        ("loadPanels", "async_function", None, "35:0-38:1", "35:22-32",
         "export async function loadPanels(url: string, signal?: AbortSignal)"
         ": Promise<PanelProps[]>",
         "Fetches the panels a user has saved."),
        # The syntax error, `.then(setPanels;`, is in this hook's effect.
        ("usePanels", "function", None, "41:0-49:2", "41:13-22",
         "export const usePanels = (url: string): PanelProps[] =>",
         "The saved panels, loaded once per URL."),
        ("PanelBoundary", "class", None, "52:0-65:1", "52:13-26",
         "export class PanelBoundary extends React.Component<React.PropsWithChildren, "
         "{error?: Error}>",
         "Shows a message instead of a panel that failed to render."),
        ("PanelBoundary.getDerivedStateFromError", "method", "PanelBoundary",
         "55:2-57:3", "55:9-33", "static getDerivedStateFromError(error: Error)", None),
        ("PanelBoundary.render", "method", "PanelBoundary", "59:2-64:3", "59:2-8",
         "render()", None),
        ("Sidebar", "function", None, "68:0-79:1", "68:16-23",
         "export function Sidebar({dock, url}: {dock: Dock; url: string})",
         "The panels docked on one side."),
        # After `const heading = "Übersicht 🗂"; `: 32 UTF-16 units, 35 bytes.
        ("App", "function", None, "81:32-81:116", "81:56-59",
         "export default function App()", None),
    ],
    outlines={
        "PanelProps": """
            export interface PanelProps {
              title: string;
              collapsed?: boolean;
              /** Told the new state after each toggle. */
              onToggle?(open: boolean): void;
            }
            """,
        "PanelBoundary": """
            export class PanelBoundary extends React.Component<React.PropsWithChildren, { error?: Error }> {
              state: { error?: Error } = {};

              static getDerivedStateFromError(error: Error) { ... }

              render() { ... }
            }
            """,  # noqa: E501 (the class's header line as written)
    },
    parameters={
        "Panel": {"title", "collapsed", "onToggle", "children"},
        "loadPanels": {"url", "signal"},
        "Sidebar": {"dock", "url"},
        "App": set(),
    },
    edit=("PanelBoundary.render", 'role="alert"', 'role="status"'),
    edit_keeps=("PanelBoundary",),
)

GO = Sample(
    "store.go",
    spans=[
        ("Entry", "struct", None, "15:0-18:1", "15:5-10",
         "type Entry[V any] struct", "Entry is one stored value and the time it expires."),
        # The anonymous `stats struct {...}` field is no span of its own.
        ("Store", "struct", None, "21:0-28:1", "21:5-10",
         "type Store[K comparable, V any] struct",
         "Store holds values by key. The zero value is not usable: call New."),
        ("Getter", "interface", None, "31:0-33:1", "31:5-11",
         "type Getter[K comparable, V any] interface",
         "Getter reads values by key; *Store implements it."),
        ("New", "function", None, "36:0-38:1", "36:5-8",
         "func New[K comparable, V any]() *Store[K, V]", "New returns an empty store."),
        # Methods are top level; the receiver's type is their container.
        ("Store.Put", "method", "Store", "42:0-50:1", "42:22-25",
         "func (s *Store[K, V]) Put(key K, value V, ttl time.Duration)",
         "Put stores value under key until ttl has passed.\n"
         "A zero ttl keeps the value until it is replaced."),
        ("Store.Get", "method", "Store", "53:0-67:1", "53:22-25",
         "func (s *Store[K, V]) Get(ctx context.Context, key K) (V, error)",
         "Get returns the value under key, or ErrNotFound once it has expired."),
        ("Store.Len", "method", "Store", "70:0-70:54", "70:21-24",
         "func (s Store[K, V]) Len() int", "Len counts the entries, expired ones included."),
        # The syntax error, `make([]K, 0, len(s.items)`: recovery keeps the method whole.
        ("Store.Keys", "method", "Store", "73:0-79:1", "73:22-26",
         "func (s *Store[K, V]) Keys() []K", "Keys lists the keys in no particular order."),
        ("Store.Sweep", "method", "Store", "82:0-92:1", "82:22-27",
         "func (s *Store[K, V]) Sweep(now time.Time) (removed int)",
         "Sweep removes the entries that expired before now and says how many."),
        ("Store.Soonest", "method", "Store", "95:0-110:1", "95:22-29",
         "func (s *Store[K, V]) Soonest(n int) []K",
         "Soonest lists up to n keys, the ones that expire first."),
        ("Store.Soonest.pending", "struct", "Store.Soonest", "96:1-99:2", "96:6-13",
         "type pending struct", None),
        # Ends after `"Größe 📦: " + ...String() }`: 79 UTF-16 units, 83 bytes.
        ("Describe", "function", None, "113:0-113:79", "113:5-13",
         "func Describe(n int) string",
         'Describe names a store for logs: "Größe" is German for size.'),
    ],
    outlines={
        "Store": """
            type Store[K comparable, V any] struct {
            \tmu    sync.RWMutex
            \titems map[K]Entry[V]
            \t// stats counts lookups since the store was made.
            \tstats struct {
            \t\thits, misses int
            \t}
            }
            """,
        "Getter": """
            type Getter[K comparable, V any] interface {
            \tGet(ctx context.Context, key K) (V, error)
            }
            """,
        "Store.Soonest.pending": """
            type pending struct {
            \tkey     K
            \texpires time.Time
            }
            """,
    },
    parameters={
        # The receiver is an input; a named result (`removed`) is an output.
        "Store.Sweep": {"s", "now"},
        "Store.Put": {"s", "key", "value", "ttl"},
        "New": set(),
        "Describe": {"n"},
    },
    edit=("Store.Len", "return len(s.items)", "return len(s.items) + 0"),
    edit_keeps=("Store",),
)

RUST = Sample(
    "counter.rs",
    spans=[
        # Attributes belong to the item: its span starts at `#[derive(...)]`, above
        # which the doc comment sits; the signature starts at the item.
        ("Overflow", "enum", None, "5:0-11:1", "6:9-17",
         "pub enum Overflow", "What a counter does when it reaches its limit."),
        # A trait's bodiless `fn reset(&mut self);` shows in its outline only.
        ("Reset", "trait", None, "14:0-23:1", "14:10-15",
         "pub trait Reset", "Something that can go back to its initial state."),
        ("Reset::reset_changed", "method", "Reset", "19:4-22:5", "19:7-20",
         "fn reset_changed(&mut self) -> bool",
         "Resets, and says whether the value was not initial already."),
        ("Counter", "struct", None, "28:0-33:1", "29:11-18",
         "pub struct Counter",
         "A counter that never passes `limit`.\n\n"
         "See [`Overflow`] for what happens at the limit."),
        # An impl block is no span: it names the type its functions belong to.
        ("Counter::new", "method", "Counter", "37:4-39:5", "37:11-14",
         "pub fn new(limit: u64, overflow: Overflow) -> Self", "A counter at zero."),
        ("Counter::bump", "method", "Counter", "42:4-49:5", "42:11-15",
         "pub fn bump(&mut self, by: u64) -> u64",
         "Adds `by`, then saturates or wraps at the limit; returns the new value."),
        ("Counter::value", "method", "Counter", "51:4-51:45", "51:11-16",
         "pub fn value(&self) -> u64", None),
        # `impl Reset for Counter`: the type, not the trait, contains it.
        ("Counter::reset", "method", "Counter", "55:4-57:5", "55:7-12",
         "fn reset(&mut self)", None),
        ("Counter::fmt", "method", "Counter", "62:4-64:5", "62:7-10",
         "fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result", "Shows `value/limit`."),
        # A module prefixes what it holds.
        ("registry::Registry", "struct", "registry", "72:4-75:5", "73:15-23",
         "pub struct Registry", "Counters by name, made on first use."),
        # The syntax error, an unclosed `or_insert_with(`: what follows is still found.
        ("registry::Registry::bump", "method", "registry::Registry", "79:8-83:9", "79:15-19",
         "pub fn bump(&mut self, name: &str) -> u64", "Bumps the counter called `name` by one."),
        ("registry::Registry::flush", "async_method", "registry::Registry",
         "86:8-91:9", "86:21-26",
         "pub async fn flush<W: Sink>(&self, mut sink: W) -> std::io::Result<usize>",
         "Writes every counter to `sink`, one line each."),
        ("Sink", "trait", None, "96:0-98:1", "96:10-14",
         "pub trait Sink", "Where flushed lines go."),
        # Ends after `{ "Zähler ⏱" }`: 44 UTF-16 units, 47 bytes.
        ("unit", "function", None, "101:0-101:44", "101:7-11",
         "pub fn unit() -> &'static str",
         'The unit shown after counts: "Zähler" is German for counter.'),
    ],
    outlines={
        "Reset": """
            pub trait Reset {
                /// Puts the value back where it started.
                fn reset(&mut self);

                /// Resets, and says whether the value was not initial already.
                fn reset_changed(&mut self) -> bool { ... }
            }
            """,
        "Counter": """
            #[derive(Debug)]
            pub struct Counter {
                value: u64,
                limit: u64,
                overflow: Overflow,
            }
            """,
        "registry::Registry": """
            #[derive(Default)]
            pub struct Registry {
                counters: HashMap<String, Counter>,
            }
            """,
    },
    parameters={
        "Counter::bump": {"self", "by"},
        "Counter::new": {"limit", "overflow"},
        "registry::Registry::flush": {"self", "sink"},
        "unit": set(),
    },
    edit=("Reset::reset_changed", "true", "false"),
    edit_keeps=("Reset",),
)

JAVA = Sample(
    "Ledger.java",
    spans=[
        ("Ledger", "class", None, "13:0-103:1", "13:13-19",
         "public class Ledger",
         "A ledger of account balances, changed only by applying entries.\n\n"
         "<p>Not thread-safe: callers serialise access."),
        ("Ledger.Kind", "enum", "Ledger", "15:4-22:5", "15:16-20",
         "public enum Kind", "Which way an entry moves money."),
        ("Ledger.Kind.sign", "method", "Ledger.Kind", "19:8-21:9", "19:12-16",
         "int sign()", "+1 for a credit, -1 for a debit."),
        ("Ledger.Entry", "class", "Ledger", "25:4-32:5", "25:18-23",
         "public record Entry(String account, long cents, Kind kind)",
         "One movement of money on one account, in cents."),
        # A record's compact constructor.
        ("Ledger.Entry.Entry", "method", "Ledger.Entry", "27:8-31:9", "27:15-20",
         "public Entry", "Rejects negative amounts: the kind carries the sign."),
        # `void applied(...);` has no body: outline only. A default method has one.
        ("Ledger.Listener", "interface", "Ledger", "35:4-40:5", "35:21-29",
         "public interface Listener", "Told about every entry the ledger applies or rejects."),
        ("Ledger.Listener.rejected", "method", "Ledger.Listener", "39:8-39:60", "39:21-29",
         "default void rejected(Entry entry, String reason)", "Does nothing unless overridden."),
        ("Ledger.Ledger", "method", "Ledger", "51:4-53:5", "51:11-17",
         "public Ledger(long overdraft)",
         "An empty ledger.\n\n@param overdraft how far below zero a balance may go, in cents"),
        ("Ledger.apply", "method", "Ledger", "62:4-71:5", "62:16-21",
         "public long apply(Entry entry)",
         "Applies an entry to its account.\n\n@param entry the entry to apply\n"
         "@return the account's new balance\n"
         "@throws IllegalStateException when the overdraft would be exceeded"),
        # The syntax error, `getOrDefault(account, 0L;`: what follows is still found.
        ("Ledger.balance", "method", "Ledger", "74:4-76:5", "74:16-23",
         "public long balance(String account)",
         "The balance of an account; zero when it has none."),
        ("Ledger.listen", "method", "Ledger", "79:4-81:5", "79:16-22",
         "public void listen(Listener listener)",
         "Adds a listener; listeners are told in the order they were added."),
        ("Ledger.applyAllAsync", "method", "Ledger", "84:4-86:5", "84:35-48",
         "public CompletableFuture<Long> applyAllAsync(List<Entry> entries)",
         "Applies entries one by one off the caller's thread."),
        ("Ledger.Snapshot", "class", "Ledger", "89:4-99:5", "89:23-31",
         "static final class Snapshot", "A copy of the balances at one moment."),
        ("Ledger.Snapshot.Snapshot", "method", "Ledger.Snapshot", "92:8-94:9", "92:8-16",
         "Snapshot(Ledger ledger)", None),
        ("Ledger.Snapshot.total", "method", "Ledger.Snapshot", "96:8-98:9", "96:13-18",
         "long total()", None),
        # Annotations are modifiers, part of the method and of its header. Ends
        # after `"Ledger « " + ... + " comptes »"; }`: 85 UTF-16 units, 87 bytes.
        ("Ledger.toString", "method", "Ledger", "101:4-102:85", "102:18-26",
         "@Override public String toString()", None),
    ],
    outlines={
        "Ledger.Listener": """
            public interface Listener {
                void applied(Entry entry, long balance);

                /** Does nothing unless overridden. */
                default void rejected(Entry entry, String reason) {}
            }
            """,
        "Ledger.Snapshot": """
            static final class Snapshot {
                private final Map<String, Long> balances;

                Snapshot(Ledger ledger) { ... }

                long total() { ... }
            }
            """,
        "Ledger.Entry": """
            public record Entry(String account, long cents, Kind kind) {
                /** Rejects negative amounts: the kind carries the sign. */
                public Entry { ... }
            }
            """,
    },
    parameters={
        "Ledger.apply": {"entry"},
        "Ledger.Ledger": {"overdraft"},
        "Ledger.Listener.rejected": {"entry", "reason"},
        "Ledger.Snapshot.total": set(),
    },
    edit=("Ledger.Snapshot.total", "Long::longValue", "v -> v"),
    edit_keeps=("Ledger", "Ledger.Snapshot"),
)

C = Sample(
    "hashmap.c",
    spans=[
        ("slot", "struct", None, "5:0-8:1", "5:7-11",
         "struct slot", "One slot of the table; a NULL key is an empty slot."),
        # A typedef of an anonymous enum is named after its body.
        ("grow_policy", "enum", None, "11:0-11:52", "11:40-51",
         "typedef enum { ... } grow_policy",
         "How the table grows when it is three quarters full."),
        # `typedef struct hashmap {...} hashmap;`: the typedef is the definition, so
        # its doc comment is the one above `typedef`, and it ends with its name.
        ("hashmap", "struct", None, "17:0-24:10", "17:15-22",
         "typedef struct hashmap",
         "The map: a table of slots probed linearly.\n"
         "Create with hashmap_new, release with hashmap_free."),
        ("hashmap.stats", "struct", "hashmap", "20:4-22:5", "20:11-16", "struct stats", None),
        ("hash", "function", None, "27:0-33:1", "27:21-25",
         "static unsigned long hash(const char *s)", "FNV-1a hash of a NUL-terminated string."),
        ("hashmap_new", "function", None, "39:0-47:1", "39:9-20",
         "hashmap *hashmap_new(size_t cap)",
         "Creates a map with room for cap entries.\nReturns NULL when out of memory."),
        # The prototype of hashmap_put is no span, and the comment above it is its
        # own: a blank line and the prototype stand between it and find.
        ("find", "function", None, "52:0-59:1", "52:20-24",
         "static struct slot *find(const hashmap *m, const char *key)", None),
        ("hashmap_put", "function", None, "62:0-73:1", "62:4-15",
         "int hashmap_put(hashmap *m, const char *key, int value)",
         "Stores value under key; returns 0, or -1 when the table is full."),
        # The syntax error, `find(m, key;`: what follows is still found.
        ("hashmap_get", "function", None, "76:0-83:1", "76:4-15",
         "int hashmap_get(const hashmap *m, const char *key, int *out)",
         "Copies the value under key into *out; returns 1 if found."),
        ("hashmap_free", "function", None, "86:0-90:1", "86:5-17",
         "void hashmap_free(hashmap *m)", "Frees the map and its table (not the keys)."),
        # Ends after `"table de hachage ⌗"; }`: 63 UTF-16 units, 65 bytes.
        ("hashmap_name", "function", None, "92:0-92:63", "92:12-24",
         "const char *hashmap_name(void)", None),
    ],
    outlines={
        "hashmap": """
            typedef struct hashmap {
                struct slot *slots;
                size_t cap, len;
                struct stats {
                    size_t probes, resizes;
                } stats;
                grow_policy policy;
            } hashmap;
            """,
        "grow_policy": "typedef enum { GROW_DOUBLE, GROW_HALF } grow_policy;",
    },
    parameters={
        "hashmap_get": {"m", "key", "out"},
        "hashmap_new": {"cap"},
        "hashmap_name": set(),
    },
    edit=("hashmap_free", "free(m->slots);", "free(m->slots); m->slots = NULL;"),
)

CPP = Sample(
    "matrix.cpp",
    spans=[
        ("linalg::Matrix", "class", "linalg", "8:0-35:1", "8:6-12",
         "class Matrix", "A dense row-major matrix of doubles."),
        # The declarations in the class (`Matrix(...);`) are no spans: their
        # definitions below are.
        ("linalg::Matrix::rows", "method", "linalg::Matrix", "16:4-16:46", "16:16-20",
         "std::size_t rows() const", None),
        ("linalg::Matrix::Row", "struct", "linalg::Matrix", "19:4-25:5", "19:11-14",
         "struct Row", "A read-only view of one row."),
        ("linalg::Matrix::Row::operator[]", "method", "linalg::Matrix::Row",
         "24:8-24:97", "24:15-25",
         "double operator[](std::size_t c) const", "The element in column c."),
        # Out of the class, `Matrix::Matrix` names its class; the member
        # initializer list on the next line is code, not signature.
        ("linalg::Matrix::Matrix", "method", "linalg::Matrix", "37:0-38:58", "37:8-14",
         "Matrix::Matrix(std::size_t rows, std::size_t cols)", None),
        ("linalg::Matrix::at", "method", "linalg::Matrix", "41:0-46:1", "41:16-18",
         "double &Matrix::at(std::size_t r, std::size_t c)",
         "Throws std::out_of_range outside the matrix."),
        # The syntax error, `std::invalid_argument("shapes differ";`.
        ("linalg::Matrix::operator*", "method", "linalg::Matrix", "48:0-58:1", "48:15-24",
         "Matrix Matrix::operator*(const Matrix &other) const", None),
        # `template <...>` belongs to the definition, and to its signature.
        ("linalg::clamp", "function", "linalg", "61:0-64:1", "62:2-7",
         "template <typename T> T clamp(T value, T lo, T hi)", "Clamps value into [lo, hi]."),
        ("linalg::detail::near", "function", "linalg::detail", "68:0-68:94", "68:12-16",
         "inline bool near(double a, double b, double eps = 1e-9)",
         "Whether two doubles differ by less than eps."),
        # Outside the namespace, `linalg::Matrix::transpose` names both.
        ("linalg::Matrix::transpose", "method", "linalg::Matrix", "74:0-80:1", "74:31-40",
         "linalg::Matrix linalg::Matrix::transpose() const", "Swaps rows and columns."),
        # Ends after `"Grüße ✓"; return ...; }`: 83 UTF-16 units, 87 bytes.
        ("main", "function", None, "82:0-82:83", "82:4-8", "int main()", None),
    ],
    outlines={
        "linalg::Matrix": """
            class Matrix {
            public:
                /// A rows x cols matrix of zeros.
                Matrix(std::size_t rows, std::size_t cols);

                /// Element access, bounds-checked.
                double &at(std::size_t r, std::size_t c);

                std::size_t rows() const { ... }

                /// A read-only view of one row.
                struct Row {
                    const Matrix *owner;
                    std::size_t index;

                    /// The element in column c.
                    double operator[](std::size_t c) const { ... }
                };

                /// The matrix product; throws when the shapes do not fit.
                Matrix operator*(const Matrix &other) const;

                Matrix transpose() const;

            private:
                std::size_t rows_, cols_;
                std::vector<double> data_;
            }
            """,
    },
    parameters={
        "linalg::Matrix::Matrix": {"rows", "cols"},
        "linalg::Matrix::operator*": {"other"},
        "linalg::detail::near": {"a", "b", "eps"},
        "linalg::clamp": {"value", "lo", "hi"},
    },
    edit=("linalg::Matrix::Row::operator[]",
          "index * owner->cols_ + c", "c + index * owner->cols_"),
    edit_keeps=("linalg::Matrix", "linalg::Matrix::Row"),
)

CSHARP = Sample(
    "Ledger.cs",
    spans=[
        # Namespaces are left out of qualified names (see queries/csharp.scm).
        ("ILedger", "interface", None, "9:4-13:5", "9:21-28",
         "public interface ILedger", "What a ledger offers to the rest of the application."),
        ("Ledger", "class", None, "19:4-81:5", "19:24-30",
         "public sealed class Ledger : ILedger",
         "Balances per account, changed only by Apply.\nNot thread-safe."),
        ("Ledger.Side", "enum", "Ledger", "22:8-22:42", "22:20-24",
         "public enum Side", "Which side of the account a posting goes to."),
        ("Ledger.Posting", "class", "Ledger", "25:8-25:89", "25:38-45",
         "public readonly record struct Posting(string Account, decimal Amount, Side Side)",
         "One posting: an amount on one side of one account."),
        ("Ledger.Ledger", "method", "Ledger", "32:8-35:9", "32:15-21",
         "public Ledger(decimal overdraft = 0m)",
         "Creates an empty ledger.\noverdraft: How far below zero a balance may go."),
        ("Ledger.Count", "method", "Ledger", "38:8-38:60", "38:19-24",
         "public int Count", "The number of accounts with a balance."),
        ("Ledger.Apply", "method", "Ledger", "46:8-57:9", "46:23-28",
         "public decimal Apply(Posting posting)",
         "Applies posting to its account.\nposting: The posting to apply.\n"
         "Returns: The account's new balance.\n"
         "Throws InvalidOperationException: The overdraft would be exceeded."),
        # The syntax error, `WriteAsync(account, balance;`: what follows is still found.
        ("Ledger.SaveAsync", "async_method", "Ledger", "60:8-66:9", "60:26-35",
         "public async Task SaveAsync(IStore store)", "Saves every balance to store."),
        ("Ledger.Balance", "method", "Ledger", "69:8-69:87", "69:23-30",
         "public decimal Balance(string account)",
         "The balance of account, zero if it has none."),
        ("Ledger.Audit", "class", "Ledger", "72:8-80:9", "72:29-34",
         "private sealed class Audit", "A total of all balances, kept for audits."),
        # `Total { get; private set; }` is an auto-property: no code to gloss, no span.
        ("Ledger.Audit.Audit", "method", "Ledger.Audit", "76:12-79:13", "76:19-24",
         "public Audit(Ledger ledger)", None),
        ("IStore", "interface", None, "84:4-87:5", "84:21-27",
         "public interface IStore", "Where balances are saved."),
        ("Money", "struct", None, "90:4-96:5", "90:18-23",
         "public struct Money", "An amount with its currency & nothing else."),
        # Ends after `— « montant »";`: 82 UTF-16 units, 86 bytes.
        ("Money.ToString", "method", "Money", "95:8-95:82", "95:31-39",
         "public override string ToString()", None),
    ],
    outlines={
        "Ledger.Audit": """
            private sealed class Audit
            {
                public decimal Total { get; private set; }

                public Audit(Ledger ledger)
                { ... }
            }
            """,
        # An expression body keeps its arrow.
        "Money": """
            public struct Money
            {
                public decimal Amount;
                public string Currency;

                public override string ToString() => ...;
            }
            """,
        "ILedger": """
            public interface ILedger
            {
                /// <summary>Applies a posting and returns the new balance.</summary>
                decimal Apply(Ledger.Posting posting);
            }
            """,
    },
    parameters={
        "Ledger.Apply": {"posting"},
        "Ledger.Ledger": {"overdraft"},
        "Ledger.Balance": {"account"},
        "Ledger.Count": set(),
    },
    edit=("Ledger.Apply", "return next;", "return next + 0m;"),
    edit_keeps=("Ledger",),
)

RUBY = Sample(
    "inventory.rb",
    spans=[
        ("Shop", "module", None, "5:0-69:3", "5:7-11",
         "module Shop", "Stock keeping for a small shop."),
        ("Shop.OutOfStock", "class", "Shop", "7:2-7:39", "7:8-18",
         "class OutOfStock < StandardError", "Raised when stock would go below zero."),
        ("Shop.Inventory", "class", "Shop", "12:2-65:5", "12:8-17",
         "class Inventory",
         "Items in stock, counted by SKU.\n\nEvery change is logged to the audit trail."),
        ("Shop.Inventory.from_rows", "method", "Shop.Inventory", "19:4-21:7", "19:13-22",
         "def self.from_rows(rows)", "Builds an inventory from rows of [sku, count]."),
        ("Shop.Inventory.initialize", "method", "Shop.Inventory", "23:4-26:7", "23:8-18",
         "def initialize(audit: [])", None),
        ("Shop.Inventory.add", "method", "Shop.Inventory", "29:4-33:7", "29:8-11",
         "def add(sku, count = 1)", "Adds count of sku; returns self so calls chain."),
        # The syntax error, `count]]`: recovery keeps the method and what follows.
        ("Shop.Inventory.remove", "method", "Shop.Inventory", "37:4-42:7", "37:8-14",
         "def remove(sku, count = 1)",
         "Takes count of sku out of stock.\nRaises OutOfStock when there are not enough."),
        ("Shop.Inventory.each", "method", "Shop.Inventory", "45:4-47:7", "45:8-12",
         "def each(&block)", "Yields each line, in SKU order."),
        # `class << self` is no span: its methods are the class's.
        ("Shop.Inventory.empty", "method", "Shop.Inventory", "51:6-53:9", "51:10-15",
         "def empty", "An inventory with nothing in it."),
        ("Shop.Inventory.low_stock", "method", "Shop.Inventory", "57:4-59:7", "57:8-17",
         "def low_stock(threshold = 2, *skus, only: nil, **options)",
         "Lists the SKUs whose stock is at or below threshold."),
        # An endless method: its `=` is not signature.
        ("Shop.Inventory.history", "method", "Shop.Inventory", "64:4-64:32", "64:8-15",
         "def history", "The audit trail, newest first."),
        # Ends after `"#{count} Stück ✓"`: 44 UTF-16 units, 47 bytes.
        ("Shop.label", "method", "Shop", "68:2-68:44", "68:11-16",
         "def self.label(count)", 'Formats a count for a label: "Stück" is German for piece.'),
    ],
    outlines={
        "Shop.Inventory": """
            class Inventory
              include Enumerable

              # One line of the inventory.
              Line = Struct.new(:sku, :count)

              # Builds an inventory from rows of [sku, count].
              def self.from_rows(rows)
                ...
              end

              def initialize(audit: [])
                ...
              end

              # Adds count of sku; returns self so calls chain.
              def add(sku, count = 1)
                ...
              end

              # Takes count of sku out of stock.
              # Raises OutOfStock when there are not enough.
              def remove(sku, count = 1)
                ...
              end

              # Yields each line, in SKU order.
              def each(&block)
                ...
              end

              class << self
                # An inventory with nothing in it.
                def empty
                  ...
                end
              end

              # Lists the SKUs whose stock is at or below threshold.
              def low_stock(threshold = 2, *skus, only: nil, **options)
                ...
              end

              private

              # The audit trail, newest first.
              def history = ...
            end
            """,
        "Shop.OutOfStock": "class OutOfStock < StandardError; end",
    },
    parameters={
        "Shop.Inventory.low_stock": {"threshold", "skus", "only", "options"},
        "Shop.Inventory.each": {"block"},
        "Shop.Inventory.initialize": {"audit"},
        "Shop.Inventory.history": set(),
    },
    edit=("Shop.Inventory.add", "@counts[sku] += count", "@counts[sku] = @counts[sku] + count"),
    edit_keeps=("Shop", "Shop.Inventory"),
)

PHP = Sample(
    "Cart.php",
    spans=[
        # `public function price(): int;` has no body: outline only.
        ("Priced", "interface", None, "11:0-15:1", "11:10-16",
         "interface Priced", "Something with a price."),
        ("Discountable", "trait", None, "20:0-38:1", "20:6-18",
         "trait Discountable", "Gives a percentage off to anything priced."),
        ("Discountable.discount", "method", "Discountable", "30:4-37:5", "30:20-28",
         "public function discount(int $percent): static",
         "Sets the discount.\n\n@param int $percent from 0 to 100\n"
         "@throws InvalidArgumentException outside that range"),
        ("Currency", "enum", None, "41:0-54:1", "41:5-13",
         "enum Currency: string", "The currencies a cart can be priced in."),
        ("Currency.symbol", "method", "Currency", "47:4-53:5", "47:20-26",
         "public function symbol(): string", "The symbol shown before amounts."),
        ("Cart", "class", None, "59:0-106:1", "59:12-16",
         "final class Cart implements Priced, \\Countable",
         "A shopping cart: SKUs and quantities, priced from a catalogue."),
        # A header wrapped over lines reads as one, without the trailing comma.
        ("Cart.__construct", "method", "Cart", "66:4-69:8", "66:20-31",
         "public function __construct(private readonly array $catalogue, "
         "private readonly Currency $currency = Currency::Euro)", None),
        ("Cart.add", "method", "Cart", "76:4-80:5", "76:20-23",
         "public function add(string $sku, int $quantity = 1): self",
         "Adds a quantity of one SKU.\n\n@param string $sku a SKU of the catalogue"),
        # The syntax error, `array_sum($this->lines;`: what follows is still found.
        ("Cart.count", "method", "Cart", "82:4-85:5", "82:20-25",
         "public function count(): int", None),
        ("Cart.price", "method", "Cart", "88:4-95:5", "88:20-25",
         "public function price(): int", "The total in cents, with the discount applied."),
        ("Cart.fromRows", "method", "Cart", "98:4-105:5", "98:27-35",
         "public static function fromRows(array $catalogue, array $rows): self",
         "A cart filled from rows of [sku, quantity]."),
        # Ends after `" — TTC"; }`: 143 UTF-16 units, 145 bytes.
        ("format_price", "function", None, "108:0-108:143", "108:9-21",
         "function format_price(int $cents, Currency $currency): string", None),
    ],
    outlines={
        "Priced": """
            interface Priced
            {
                /** The price in cents. */
                public function price(): int;
            }
            """,
        "Currency": """
            enum Currency: string
            {
                case Euro = 'EUR';
                case Pound = 'GBP';

                /** The symbol shown before amounts. */
                public function symbol(): string
                { ... }
            }
            """,
    },
    parameters={
        "Cart.__construct": {"catalogue", "currency"},
        "Cart.add": {"sku", "quantity"},
        "format_price": {"cents", "currency"},
        "Cart.count": set(),
    },
    edit=("Cart.price", "return intdiv(", "return (int) intdiv("),
    edit_keeps=("Cart",),
)

# fmt: on

ALL = [JAVASCRIPT, JSX, TYPESCRIPT, TSX, GO, RUST, JAVA, C, CPP, CSHARP, RUBY, PHP]
IDS = [s.file for s in ALL]


@pytest.mark.parametrize("sample", ALL, ids=IDS)
def test_spans_of_the_sample(sample: Sample) -> None:
    assert [row(span) for span in spans_of(sample)] == sample.spans


@pytest.mark.parametrize("sample", ALL, ids=IDS)
def test_a_type_s_text_is_its_outline(sample: Sample) -> None:
    by_name = {span.qualname: span for span in spans_of(sample)}
    for qualname, expected in sample.outlines.items():
        span = by_name[qualname]
        assert span.kind in OUTLINED_KINDS
        assert outline(span, sample.source) == block(expected), qualname


@pytest.mark.parametrize("sample", ALL, ids=IDS)
def test_parameters_are_the_inputs_the_header_names(sample: Sample) -> None:
    by_name = {span.qualname: span for span in spans_of(sample)}
    expected = {q: frozenset(names) for q, names in sample.parameters.items()}
    assert {q: by_name[q].parameters for q in sample.parameters} == expected
    # A type has no parameters to check answers against.
    assert all(s.parameters is None for s in by_name.values() if s.kind in OUTLINED_KINDS)


@pytest.mark.parametrize("sample", ALL, ids=IDS)
def test_editing_a_method_body_rehashes_that_method_only(sample: Sample) -> None:
    method, old, new = sample.edit
    before = spans_of(sample)
    (edited,) = [s for s in before if s.qualname == method]
    at = sample.source.index(old)
    assert sample.source.count(old) == 1, old
    assert edited.start_line <= sample.source.count("\n", 0, at) <= edited.end_line, old

    after = spans_of(sample, sample.source.replace(old, new))
    assert [a.qualname for a in after] == [b.qualname for b in before]
    changed = {
        b.qualname for b, a in zip(before, after, strict=True) if b.content_hash != a.content_hash
    }
    assert changed == {method}
    # The types holding the method among them: their outlines cut its body.
    assert set(sample.edit_keeps) <= {b.qualname for b in before} - changed


# Ruby's parser cannot recover from an unclosed `[`: `module Shop` and `class
# Inventory` are lost, and it glues the text from `def low_stock` to `def
# self.label` into one broken definition. What it still parses is kept; the glued
# definition, whose range and signature would be other code's, is not a span.
def test_an_unrecoverable_ruby_error_leaves_no_glued_span() -> None:
    source = RUBY.source.replace("count]]", "count")
    found = [
        (s.qualname, s.kind.value, s.container, f"{s.start_line}-{s.end_line}", s.signature)
        for s in extract_spans("src/inventory.rb", source)
    ]
    assert found == [
        ("OutOfStock", "class", None, "7-7", "class OutOfStock < StandardError"),
        ("from_rows", "method", None, "19-21", "def self.from_rows(rows)"),
        ("initialize", "function", None, "23-26", "def initialize(audit: [])"),
        ("add", "function", None, "29-33", "def add(sku, count = 1)"),
        ("each", "function", None, "45-47", "def each(&block)"),
        ("empty", "function", None, "51-53", "def empty"),
        ("history", "function", None, "64-64", "def history"),
    ]


# `.h` is C's suffix and, as often, C++'s: a header whose text shows C++ (a class
# definition, a namespace, a template, `std::`, `<vector>`) is cut as C++, else as C.
CPP_HEADER = """\
#pragma once
#include <cstddef>

namespace geo {

/// A point on the plane.
class Point {
 public:
  /// Distance from the origin.
  double norm() const { return x * x + y * y; }
  double x = 0, y = 0;
};

}  // namespace geo
"""
C_HEADER = """\
#include <stddef.h>

/* A growable buffer. */
struct buffer {
  char *data;
  size_t len;
};

/* Frees what the buffer holds. */
static inline void buffer_free(struct buffer *b) { b->len = 0; }
"""


def test_a_header_is_cut_as_the_language_its_text_shows() -> None:
    cpp = [(s.qualname, s.kind.value, s.language) for s in extract_spans("geo.h", CPP_HEADER)]
    assert cpp == [("geo::Point", "class", "cpp"), ("geo::Point::norm", "method", "cpp")]
    c = [(s.qualname, s.kind.value, s.language) for s in extract_spans("buffer.h", C_HEADER)]
    assert c == [("buffer", "struct", "c"), ("buffer_free", "function", "c")]


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("#include <vector>\nint f();\n", "cpp"),
        ("template <typename T>\nT twice(T x);\n", "cpp"),
        ("void f(std::string s);\n", "cpp"),
        ("class Widget : public Base\n{\n", "cpp"),
        ("namespace a::b {\n", "cpp"),
        ("class Widget;\nstruct s { int a : 3; };\n", "c"),  # a declaration, a bitfield
        ('#ifdef __cplusplus\nextern "C" {\n#endif\nint f(void);\n', "c"),
        ("/* a class of errors */\n#include <stdio.h>\n", "c"),
    ],
)
def test_what_makes_a_header_cpp(text: str, language: str) -> None:
    spec = language_for_source("x.h", text)
    assert spec is not None and spec.name == language


def _every_span(paths_and_texts: list[tuple[str, str]]) -> list[Span]:
    return [s for path, text in paths_and_texts for s in extract_spans(path, text)]


def test_headers_read_from_text_are_what_their_tokens_say(monkeypatch: pytest.MonkeyPatch) -> None:
    """Most signatures are read from the header's text, not by walking its tokens:
    the two must agree on every sample and on this repository's own code."""
    repo = Path(__file__).resolve().parent.parent
    sources = [(s.file, s.source) for s in ALL] + [
        (p.relative_to(repo).as_posix(), p.read_text("utf-8"))
        for folder in ("enrich_core", "server", "tests", "bench")
        for p in sorted((repo / folder).rglob("*.py"))
    ]
    from_text = _every_span(sources)
    monkeypatch.setattr(signatures, "plain_header_end", lambda *_a, **_k: None)
    from_tokens = _every_span(sources)
    assert len(from_text) > 1000
    assert from_text == from_tokens


@pytest.mark.parametrize(
    ("path", "source"),
    [
        ("a.c", "/***/\nint f(void) { return 0; }\n"),
        ("a.js", "/***/\nfunction f() {}\n"),
        ("a.java", "class A {\n  /***/\n  void f() {}\n}\n"),
    ],
)
def test_an_empty_star_comment_documents_nothing(path: str, source: str) -> None:
    spans = {s.name: s for s in extract_spans(path, source)}
    assert spans["f"].docstring is None


def test_a_cpp_function_without_code_is_no_span() -> None:
    source = (
        "struct Shape {\n"
        "  virtual double area() const = 0;\n"
        "  Shape() = default;\n"
        "  Shape(const Shape&) = delete;\n"
        "  virtual ~Shape() {}\n"
        "};\n"
    )
    assert [s.qualname for s in extract_spans("shape.cpp", source)] == ["Shape", "Shape::~Shape"]


# An unclosed `(` inside a function: where the parser read the rest of the file
# as the broken call's arguments, the lines from the broken statement to where
# the code goes back out are blanked and the file parsed again, so the
# definitions after it are found, and the lines are named. (Go, Java and
# JavaScript recover from this case in place: nothing is blanked there.)
UNCLOSED_PAREN = {
    "src/a.c": (
        "int a(void) {\n    int x = foo(1,\n    return x;\n}\n\n"
        "int b(void) {\n    return 2;\n}\n\nint c(void) {\n    return 3;\n}\n",
        [("a", 0, 3), ("b", 5, 7), ("c", 9, 11)],
        "lines 2–3 could not be parsed (a syntax error in the statement at 2:5)",
    ),
    "src/a.rs": (
        "fn a() -> i32 {\n    let x = foo(1,\n    x\n}\n\nfn b() -> i32 {\n    2\n}\n\n"
        "impl T {\n    fn m(&self) -> i32 { 3 }\n}\n",
        [("a", 0, 3), ("b", 5, 7), ("T::m", 10, 10)],
        "lines 2–3 could not be parsed (a syntax error in the statement at 2:5)",
    ),
    "lib/a.rb": (
        "def a\n  x = foo(1,\n  x\nend\n\ndef b\n  2\nend\n\nclass K\n  def m\n    3\n  end\nend\n",
        [("b", 5, 7), ("K", 9, 13), ("K.m", 10, 12)],
        "lines 1–3 could not be parsed (a syntax error in the statement at 1:1)",
    ),
    "src/A.java": (
        "class A {\n    int a() {\n        int x = foo(1,\n        return x;\n    }\n\n"
        "    int b() {\n        return 2;\n    }\n}\n",
        [("A", 0, 9), ("A.a", 1, 4), ("A.b", 6, 8)],
        None,
    ),
}


@pytest.mark.parametrize("path", sorted(UNCLOSED_PAREN))
def test_definitions_after_an_unclosed_paren_are_found(path: str) -> None:
    source, expected, note = UNCLOSED_PAREN[path]
    cut = cut_spans(path, source)
    assert [(s.qualname, s.start_line, s.end_line) for s in cut.spans] == expected
    assert [u.describe() for u in cut.unparsed] == ([note] if note else [])
    for span in cut.spans:  # cut from the real text, not the blanked one
        lines = source.split("\n")[span.start_line : span.end_line + 1]
        assert span.text.split("\n")[0] in lines[0]


def test_a_function_holding_the_blanked_lines_keeps_its_real_text() -> None:
    source = UNCLOSED_PAREN["src/a.c"][0]
    a = cut_spans("src/a.c", source).spans[0]
    assert a.text == "int a(void) {\n    int x = foo(1,\n    return x;\n}"
