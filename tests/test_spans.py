"""Spans: kinds, names, ranges in UTF-16 columns, docstrings, hashes, recovery."""

from __future__ import annotations

import inspect
import random
import textwrap
from pathlib import Path
from typing import Any

import pytest

from enrich_core.records.span import Span, SpanKind
from enrich_core.source.spans import cut_spans, extract_spans
from enrich_core.source.tree_text import dedent


def spans_of(source: str, path: str = "pkg/mod.py") -> dict[str, Span]:
    spans = extract_spans(path, textwrap.dedent(source))
    by_name = {span.qualname: span for span in spans}
    assert len(by_name) == len(spans), "test sources use unique qualnames"
    return by_name


def utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def test_kinds_qualnames_and_containers() -> None:
    spans = spans_of(
        """
        def top(): pass

        async def atop(): pass

        class Outer:
            def method(self): pass

            async def amethod(self): pass

            class Inner:
                def deep(self):
                    def helper(): pass

                    class Local:
                        def local_method(self): pass

        def factory():
            class Made:
                pass

            async def worker(): pass
        """
    )
    expected = {
        "top": (SpanKind.FUNCTION, None),
        "atop": (SpanKind.ASYNC_FUNCTION, None),
        "Outer": (SpanKind.CLASS, None),
        "Outer.method": (SpanKind.METHOD, "Outer"),
        "Outer.amethod": (SpanKind.ASYNC_METHOD, "Outer"),
        "Outer.Inner": (SpanKind.CLASS, "Outer"),
        "Outer.Inner.deep": (SpanKind.METHOD, "Outer.Inner"),
        "Outer.Inner.deep.helper": (SpanKind.FUNCTION, "Outer.Inner.deep"),
        "Outer.Inner.deep.Local": (SpanKind.CLASS, "Outer.Inner.deep"),
        "Outer.Inner.deep.Local.local_method": (SpanKind.METHOD, "Outer.Inner.deep.Local"),
        "factory": (SpanKind.FUNCTION, None),
        "factory.Made": (SpanKind.CLASS, "factory"),
        "factory.worker": (SpanKind.ASYNC_FUNCTION, "factory"),
    }
    assert {q: (s.kind, s.container) for q, s in spans.items()} == expected
    assert spans["Outer.Inner.deep.helper"].name == "helper"
    assert all(s.path == "pkg/mod.py" for s in spans.values())


def test_source_order_is_pre_order() -> None:
    source = textwrap.dedent(
        """
        class A:
            def a1(self): pass
            class B:
                def b1(self): pass
            def a2(self): pass
        def f(): pass
        """
    )
    assert [s.qualname for s in extract_spans("m.py", source)] == [
        "A",
        "A.a1",
        "A.B",
        "A.B.b1",
        "A.a2",
        "f",
    ]


def test_definitions_inside_blocks_are_found() -> None:
    spans = spans_of(
        """
        import sys

        if sys.version_info >= (3, 12):
            def new(): pass
        else:
            def old(): pass

        try:
            class Fast: pass
        except ImportError:
            class Slow: pass
        finally:
            def cleanup(): pass

        with open("x") as f:
            def inside_with(): pass

        for _ in range(1):
            def inside_for(): pass

        class Compat:
            if sys.platform == "win32":
                def path(self): pass
            try:
                async def fetch(self): pass
            except Exception:
                pass

        def outer():
            if True:
                def nested_in_if(): pass

        while False:
            pass
        else:
            def while_else(): pass

        match sys.argv:
            case [_, "x"]:
                def in_case(): pass

        try:
            pass
        except* ValueError:
            def in_except_star(): pass
        """
    )
    assert set(spans) == {
        "new",
        "old",
        "Fast",
        "Slow",
        "cleanup",
        "inside_with",
        "inside_for",
        "Compat",
        "Compat.path",
        "Compat.fetch",
        "outer",
        "outer.nested_in_if",
        "while_else",
        "in_case",
        "in_except_star",
    }
    # Blocks are not scopes: a def under `if` in a class body is still a method.
    assert spans["Compat.path"].kind is SpanKind.METHOD
    assert spans["Compat.fetch"].kind is SpanKind.ASYNC_METHOD
    assert spans["outer.nested_in_if"].kind is SpanKind.FUNCTION


def test_decorated_definition_starts_at_first_decorator() -> None:
    source = textwrap.dedent(
        """\
        import functools

        class Service:
            @property
            @functools.cache
            def name(self) -> str:
                return "x"

        @functools.lru_cache(maxsize=None)
        async def cached(key: str) -> int:
            return 1

        @dataclass(frozen=True)
        class Record:
            id: int
        """
    )
    spans = {s.qualname: s for s in extract_spans("m.py", source)}

    name = spans["Service.name"]
    assert (name.start_line, name.start_col) == (3, 4)
    assert (name.name_line, name.name_col, name.name_end_col) == (5, 8, 12)
    assert name.header_end_line == 5
    assert name.text.startswith("@property\n    @functools.cache\n    def name(self)")
    assert name.signature == "def name(self) -> str"
    assert name.kind is SpanKind.METHOD

    cached = spans["cached"]
    assert (cached.start_line, cached.start_col) == (8, 0)
    assert cached.kind is SpanKind.ASYNC_FUNCTION
    assert cached.signature == "async def cached(key: str) -> int"

    record = spans["Record"]
    assert record.start_line == 12
    assert record.name_line == 13
    assert record.signature == "class Record"
    assert record.text == "@dataclass(frozen=True)\nclass Record:\n    id: int"


def test_ranges_and_text() -> None:
    source = "x = 1\n\n\ndef f(a,\n      b):\n    return a + b\n"
    (span,) = extract_spans("m.py", source)
    assert (span.start_line, span.start_col) == (3, 0)
    assert (span.end_line, span.end_col) == (5, len("    return a + b"))
    assert span.header_end_line == 4
    assert span.text == "def f(a,\n      b):\n    return a + b"
    assert span.signature == "def f(a, b)"


def test_a_class_s_text_is_its_outline_without_method_bodies() -> None:
    source = textwrap.dedent(
        """\
        class Service(Base):
            \"\"\"Talks to the API.\"\"\"

            retries: int = 3

            def __init__(self, url: str) -> None:
                \"\"\"Keep the URL.\"\"\"
                self.url = url
                # a comment inside the body

            def short(self): return 1

            def stub(self): ...

            class Inner:
                def g(self):
                    return 4
        """
    )
    spans = {s.qualname: s for s in extract_spans("m.py", source)}
    service = spans["Service"]
    assert service.text == textwrap.dedent(
        """\
        class Service(Base):
            \"\"\"Talks to the API.\"\"\"

            retries: int = 3

            def __init__(self, url: str) -> None:
                \"\"\"Keep the URL.\"\"\"
                ...

            def short(self): ...

            def stub(self): ...

            class Inner:
                def g(self):
                    ..."""
    )
    # The range is still the whole class; the methods keep their whole text.
    assert (service.start_line, service.end_line) == (0, 16)
    assert spans["Service.__init__"].text.endswith("self.url = url")
    assert spans["Service.Inner"].text == "class Inner:\n        def g(self):\n            ..."


def test_a_class_s_hash_ignores_method_bodies_but_not_their_signatures() -> None:
    base = "class C:\n    x = 1\n\n    def m(self, a):\n        return a\n"

    def class_hash(source: str) -> str:
        return next(s.content_hash for s in extract_spans("m.py", source) if s.name == "C")

    assert class_hash(base.replace("return a", "return a * 2")) == class_hash(base)
    assert class_hash(base.replace("(self, a)", "(self, a, b)")) != class_hash(base)
    assert class_hash(base.replace("x = 1", "x = 2")) != class_hash(base)


def test_trailing_comments_are_not_part_of_the_span() -> None:
    source = "def f():\n    return 1\n    # old code\n    # more\n\n# about g\ndef g(): pass\n"
    f, _g = extract_spans("m.py", source)
    assert f.text == "def f():\n    return 1"
    assert (f.end_line, f.end_col) == (1, 12)


def test_signature_is_one_normalised_line() -> None:
    spans = spans_of(
        '''
        async def fetch(
            url: str,   # where
            *,
            timeout: float = 5,
        ) -> bytes:
            pass

        def spaced(sep: str = "  ,  ", doc: str = """a
        b""") -> None: pass

        def generic[T](items: list[T],) -> T: pass

        def cont(a, \\
                 b): pass

        class Parser(
            Base,
            metaclass=Meta,
        ):
            pass

        class Bare: pass
        '''
    )
    assert spans["fetch"].signature == "async def fetch(url: str, *, timeout: float = 5) -> bytes"
    # String values keep their inner spacing; only a newline inside one is folded.
    assert (
        spans["spaced"].signature == 'def spaced(sep: str = "  ,  ", doc: str = """a b""") -> None'
    )
    assert spans["generic"].signature == "def generic[T](items: list[T]) -> T"
    assert spans["cont"].signature == "def cont(a, b)"
    assert spans["Parser"].signature == "class Parser(Base, metaclass=Meta)"
    assert spans["Bare"].signature == "class Bare"


DOCSTRING_SOURCE = '''
def triple():
    """Summary line.

        Indented detail.
    Back to margin.
    """

def single():
    'Single quoted.'

def raw():
    r"""Raw \\d+ and \\n stay."""

def escaped():
    "Tab\\tnewline\\nunicode \\u00e9 \\N{SNOWMAN} octal \\101 unknown \\d"

def concatenated():
    ("Part one, "
     "part two.")

def unicode_prefix():
    u"""Unicode prefix."""

def after_comment():
    # a comment is not a statement
    """Still the docstring."""

def fstring():
    f"""Not a docstring {1}."""

def fstring_plain():
    f"Not a docstring either."

def bytes_literal():
    b"Not a docstring."

def not_first():
    x = 1
    """Not a docstring."""

def no_doc():
    return 1

def empty_doc():
    ""

class Documented:
    """Class doc with emoji 😀."""
'''


# The reference compile of the sample warns about its deliberate unknown escape.
@pytest.mark.filterwarnings("ignore:invalid escape sequence:DeprecationWarning")
@pytest.mark.filterwarnings("ignore:invalid escape sequence:SyntaxWarning")
def test_docstrings_match_python() -> None:
    spans = {s.qualname: s for s in extract_spans("m.py", DOCSTRING_SOURCE)}
    namespace: dict[str, Any] = {}
    exec(compile(DOCSTRING_SOURCE, "m.py", "exec"), namespace)
    for qualname, span in spans.items():
        doc = namespace[qualname].__doc__
        expected = inspect.cleandoc(doc) if doc is not None else None
        assert span.docstring == expected, qualname

    assert spans["triple"].docstring == "Summary line.\n\n    Indented detail.\nBack to margin."
    assert spans["triple"].docstring_first_line == "Summary line."
    assert spans["raw"].docstring == "Raw \\d+ and \\n stay."
    assert spans["fstring"].docstring is None
    assert spans["fstring_plain"].docstring is None
    assert spans["bytes_literal"].docstring is None
    assert spans["no_doc"].docstring_first_line is None
    assert spans["empty_doc"].docstring == ""
    assert spans["empty_doc"].docstring_first_line is None


def test_utf16_columns_with_non_ascii_text() -> None:
    source = (
        'class Émoji:\n    """Docs with 😀 and é."""\n'
        "ƒoo = 1; def après(): pass\n"
        'def 名前(ü: str = "😀") -> None: pass\n'
    )
    spans = {s.qualname: s for s in extract_spans("m.py", source)}
    lines = source.split("\n")

    cls = spans["Émoji"]
    assert (cls.name_line, cls.name_col, cls.name_end_col) == (0, 6, 11)
    # The class ends on the docstring line: the emoji counts two UTF-16 units.
    assert (cls.end_line, cls.end_col) == (1, utf16(lines[1]))
    assert cls.end_col == len(lines[1]) + 1

    after = spans["après"]
    prefix = "ƒoo = 1; "
    assert (after.start_line, after.start_col) == (2, len(prefix))
    assert after.name_col == len(prefix) + len("def ")
    assert after.name_end_col == after.name_col + len("après")
    assert (after.end_line, after.end_col) == (2, len(lines[2]))

    named = spans["名前"]
    assert (named.name_col, named.name_end_col) == (4, 6)
    assert (named.end_line, named.end_col) == (3, utf16(lines[3]))
    assert named.end_col == len(lines[3]) + 1
    assert named.signature == 'def 名前(ü: str = "😀") -> None'


def test_crlf_and_lone_cr_line_breaks_count_as_lines() -> None:
    crlf = "def a():\r\n    return 1\r\n\r\ndef b():\r\n    return 2\r\n"
    a, b = extract_spans("m.py", crlf)
    assert (a.start_line, a.end_line, a.end_col) == (0, 1, 12)
    assert (b.start_line, b.name_line, b.name_col) == (3, 3, 4)
    assert a.text == "def a():\r\n    return 1"
    lf = crlf.replace("\r\n", "\n")
    assert [s.content_hash for s in extract_spans("m.py", lf)] == [a.content_hash, b.content_hash]


def test_hash_is_stable_under_reindentation() -> None:
    method = (
        "class C:\n    def run(self, x):\n        if x:\n            return 1\n        return 2\n"
    )
    function = "def run(self, x):\n    if x:\n        return 1\n    return 2\n"
    tabbed_deeper = (
        "class C:\n    class D:\n        def run(self, x):\n"
        "            if x:\n                return 1\n            return 2\n"
    )
    in_method = extract_spans("a.py", method)[1]
    at_module = extract_spans("b.py", function)[0]
    deeper = extract_spans("c.py", tabbed_deeper)[2]
    assert in_method.content_hash == at_module.content_hash == deeper.content_hash
    assert len(at_module.content_hash) == 64


def test_hash_matches_documented_recipe() -> None:
    import hashlib

    (span,) = extract_spans("m.py", "class C:\n    def f(self):\n        pass\n")[1:]
    expected = hashlib.sha256(b"python\0def f(self):\n    pass").hexdigest()
    assert span.content_hash == expected


@pytest.mark.parametrize(
    "changed",
    [
        "def run(self, x):\n    if x:\n        return 1\n    return 3\n",
        "def run(self, x):\n    if x:\n            return 1\n    return 2\n",
        "def run(self, y):\n    if x:\n        return 1\n    return 2\n",
        "@cache\ndef run(self, x):\n    if x:\n        return 1\n    return 2\n",
    ],
)
def test_hash_changes_when_code_changes(changed: str) -> None:
    original = "def run(self, x):\n    if x:\n        return 1\n    return 2\n"
    before = extract_spans("m.py", original)[0].content_hash
    assert extract_spans("m.py", changed)[0].content_hash != before


def test_hash_ignores_surroundings() -> None:
    body = "def f():\n    return 1\n"
    alone = extract_spans("m.py", body)[0]
    surrounded = extract_spans("m.py", "import os\n\n\n" + body + "\n# tail\nX = 2\n")[0]
    assert alone.content_hash == surrounded.content_hash


def test_syntax_error_keeps_recoverable_spans() -> None:
    source = textwrap.dedent(
        """\
        def before():
            return 1

        def broken(:
            return = = 2

        class Middle:
            def ok(self):
                x = (
            def also_ok(self):
                return 3

        def after():
            return 4
        """
    )
    qualnames = [s.qualname for s in extract_spans("m.py", source)]
    assert qualnames[0] == "before"
    assert qualnames[-1] == "after"
    assert {"Middle", "Middle.also_ok"} <= set(qualnames)
    after = extract_spans("m.py", source)[-1]
    assert after.text == "def after():\n    return 4"
    assert after.start_line == source.split("\n").index("def after():")


# The case: an unclosed `(` made tree-sitter read the rest of the file as
# the inside of the broken call, and every later definition went missing, unsaid.
UNCLOSED_PAREN = """\
import os


def first(a):
    return a


def broken(x):
    y = foo(x,
    return y


def after_one(z):
    return z


class After:
    def method(self):
        return 1


async def after_two():
    pass
"""


def test_definitions_after_an_unclosed_paren_are_recovered_and_the_gap_is_named() -> None:
    cut = cut_spans("m.py", UNCLOSED_PAREN)
    found = [(s.qualname, s.kind.value, s.start_line, s.end_line) for s in cut.spans]
    # `broken` is not a span: its whole body was unreadable (a header alone
    # would be a gloss of nothing); the lines are named instead.
    assert found == [
        ("first", "function", 3, 4),
        ("after_one", "function", 12, 13),
        ("After", "class", 16, 18),
        ("After.method", "method", 17, 18),
        ("after_two", "async_function", 21, 22),
    ]
    assert [u.describe() for u in cut.unparsed] == [
        "lines 9–10 could not be parsed (a syntax error in the statement at 9:5)"
    ]
    # Spans are cut from the real text, with their real ranges and hashes.
    alone = extract_spans("m.py", "class After:\n    def method(self):\n        return 1\n")
    recovered = {s.qualname: s for s in cut.spans}
    assert recovered["After.method"].text == "def method(self):\n        return 1"
    assert recovered["After.method"].content_hash == alone[1].content_hash


def test_a_broken_method_loses_only_itself_and_its_class_keeps_the_rest() -> None:
    source = textwrap.dedent(
        """\
        class K:
            def a(self):
                x = foo(1,
                return x

            def b(self):
                return 2


        def d():
            return 4
        """
    )
    cut = cut_spans("m.py", source)
    assert [(s.qualname, s.start_line, s.end_line) for s in cut.spans] == [
        ("K", 0, 6),
        ("K.b", 5, 6),
        ("d", 9, 10),
    ]
    assert [(u.first_line, u.last_line) for u in cut.unparsed] == [(2, 3)]


def test_a_clean_file_and_a_local_error_report_nothing_unparsed() -> None:
    assert cut_spans("m.py", "def f():\n    return 1\n").unparsed == ()
    # An error the parser recovers from in place hides nothing: no re-parse.
    local = "def f():\n    return 1 +\n\n\ndef g():\n    return 2\n"
    cut = cut_spans("m.py", local)
    assert [s.qualname for s in cut.spans] == ["f", "g"]
    assert cut.unparsed == ()


def test_unterminated_string_does_not_raise() -> None:
    source = 'def a():\n    """never closed\n\ndef b():\n    pass\n'
    spans = extract_spans("m.py", source)
    assert spans[0].name == "a"


@pytest.mark.parametrize(
    "source",
    [
        "",
        "\n\n",
        "# just a comment\n# and another\n",
        "#!/usr/bin/env python\n# -*- coding: utf-8 -*-\n",
    ],
)
def test_files_without_definitions(source: str) -> None:
    assert extract_spans("m.py", source) == []


def test_lambdas_and_assignments_are_not_spans() -> None:
    source = "f = lambda x: x\nclass_ = 1\nasync_ = def_ = 2\n"
    assert extract_spans("m.py", source) == []


def test_deep_nesting_does_not_hit_recursion_limit() -> None:
    depth = 150
    lines = [" " * (4 * level) + f"def f{level}():" for level in range(depth)]
    lines.append(" " * (4 * depth) + "pass")
    spans = extract_spans("m.py", "\n".join(lines) + "\n")
    assert len(spans) == depth
    assert spans[-1].qualname == ".".join(f"f{level}" for level in range(depth))


def test_span_is_frozen() -> None:
    (span,) = extract_spans("m.py", "def f(): pass\n")
    with pytest.raises(AttributeError):
        span.name = "g"  # type: ignore[misc]


def test_dedent_is_textwrap_s_exactly() -> None:
    """Every stored gloss is keyed by a hash over the dedented text: the faster
    dedent must give textwrap's result for any text, byte for byte."""
    pieces = [" ", "  ", "\t", "\n", "\n\n", "a", "b c", "\f", "\v", "# x", "\u00a0", "é"]
    rng = random.Random(20261205)
    texts = ["".join(rng.choices(pieces, k=rng.randint(0, 24))) for _ in range(20_000)]
    repo = Path(__file__).resolve().parent.parent
    texts += [
        s.text
        for p in sorted((repo / "enrich_core").rglob("*.py"))
        for s in extract_spans(p.name, p.read_text("utf-8"))
    ]
    texts += ["    " + t for t in texts[-500:]]
    for text in texts:
        assert dedent(text) == textwrap.dedent(text), repr(text)
