"""What a span's prompt carries beside its code, gathered by the engine: the module's
imports, the enclosing type's outline, and the summaries of the glossed functions it
calls; and the backlog order that glosses a file's callees before their callers.

Real files in a temp workspace, the real engine and store, the test LLM server over
HTTP: each prompt asserted on is one the server received."""

from __future__ import annotations

import json
import sqlite3
import textwrap
from pathlib import Path

from bench.support.llm_server import LLMServer, RecordedRequest
from enrich_core.config import load_config
from enrich_core.llm.outbound import CALLEES_HEADER, IMPORTS_HEADER
from enrich_core.present.render import hover_json
from enrich_core.records.context import MAX_IMPORT_LINES
from enrich_core.records.span import Span
from enrich_core.run.engine import Engine
from enrich_core.source.call_order import gloss_order
from enrich_core.source.spans import cut_spans
from tests.conftest import OpenEngine, gloss_toml, write_files

SHAPES = '''\
    """Shapes and their areas."""

    import math
    from collections import OrderedDict


    class Circle:
        """A circle with a radius."""

        def __init__(self, radius: float) -> None:
            self.radius = radius

        def area(self) -> float:
            return math.pi * self._squared()

        def _squared(self) -> float:
            return self.radius * self.radius


    def total_area(circles: list[Circle]) -> float:
        return sum(rounded(c.area()) for c in circles)


    def rounded(value: float) -> float:
        return round(value, 2)
    '''

# What the test model writes as the summary of each of these (LLMServer.set_descriptions).
ROUNDED = "Rounds a float to two decimal places. It never raises."
SQUARED = "Squares the circle's radius without touching any state."
SCALE = "Multiplies a length by the configured drawing scale."
NEGATE = "Flips the sign of a length."


def _prompt(request: RecordedRequest) -> str:
    return "\n".join(str(m.get("content", "")) for m in request.body["messages"])


def _prompts_of(llm: LLMServer, symbol: str) -> list[str]:
    return [_prompt(r) for r in llm.requests if r.symbol == symbol]


async def _index(engine: Engine) -> None:
    await engine.scan()
    await engine.wait_idle()


def _workspace(root: Path, llm: LLMServer, files: dict[str, str]) -> Path:
    root.mkdir()
    write_files(root, files)
    # One request at a time: the order the backlog gives is the order glossed. Every
    # part is sent (the default leaves the outline and imports to the user's choice).
    every = '\n[prompt]\ncontext = ["imports", "callees", "outline", "docstring"]\n'
    (root / "gloss.toml").write_text(gloss_toml(llm.url, concurrency=1, extra=every))
    return root


async def test_a_method_s_prompt_carries_its_class_outline_and_its_module_s_imports(
    tmp_path: Path, llm: LLMServer, open_engine: OpenEngine
) -> None:
    root = _workspace(tmp_path / "ws", llm, {"shapes.py": SHAPES})
    engine = await open_engine(root)
    await _index(engine)
    (prompt,) = _prompts_of(llm, "Circle.area")
    imports = prompt.split(IMPORTS_HEADER, 1)[1]
    assert "import math" in imports and "from collections import OrderedDict" in imports
    # The outline: the class and its other members, their bodies cut.
    assert "class Circle:" in prompt and "def _squared(self) -> float:" in prompt
    assert "self.radius * self.radius" not in prompt  # _squared's body is not the outline's
    # A top-level function has imports but no enclosing outline.
    (top,) = _prompts_of(llm, "rounded")
    assert IMPORTS_HEADER in top and "class Circle:" not in top
    # What the prompt carried is stored with the gloss and shown by `gloss hover --json`.
    info = await engine.hover("shapes.py", 12)
    assert info is not None and info.span.qualname == "Circle.area"
    context = hover_json(info)["gloss"]["context"]
    assert isinstance(context, str) and "outline" in context and "imports 2" in context


async def test_a_caller_glossed_after_its_callee_carries_the_callee_s_summary(
    tmp_path: Path, llm: LLMServer, open_engine: OpenEngine
) -> None:
    root = _workspace(tmp_path / "ws", llm, {"shapes.py": SHAPES})
    llm.set_descriptions({"rounded": ROUNDED, "Circle._squared": SQUARED})
    engine = await open_engine(root)
    await _index(engine)
    order = [r.symbol for r in llm.requests]
    # Callees first within the file, though `rounded` is written last and `_squared`
    # after `area`; everything else keeps its source order.
    assert order.index("rounded") < order.index("total_area")
    assert order.index("Circle._squared") < order.index("Circle.area")
    (caller,) = _prompts_of(llm, "total_area")
    callees = caller.split(CALLEES_HEADER, 1)[1]
    # The first sentence of the callee's gloss, under the name the caller calls it by.
    assert "rounded: Rounds a float to two decimal places." in callees
    assert "It never raises" not in caller
    (method,) = _prompts_of(llm, "Circle.area")
    assert f"self._squared: {SQUARED}" in method
    # A function that calls nothing glossed is told of no callee: nothing is made up.
    (leaf,) = _prompts_of(llm, "rounded")
    assert CALLEES_HEADER not in leaf


async def test_a_function_of_an_imported_module_is_resolved_through_the_store(
    tmp_path: Path, llm: LLMServer, open_engine: OpenEngine
) -> None:
    # A namesake in a module the caller does not import (first in path order, and its
    # module bears the imported name): never its callee.
    root = _workspace(
        tmp_path / "ws",
        llm,
        {"aaa/scale.py": "def scale(length: float) -> float:\n    return -length\n"},
    )
    llm.set_descriptions({"scale": NEGATE})
    engine = await open_engine(root)
    await _index(engine)
    write_files(
        root,
        {
            "draw/units.py": """\
                def scale(length: float) -> float:
                    return length * 2.5
                """
        },
    )
    llm.set_descriptions({"scale": SCALE})
    await engine.files_changed(["draw/units.py"])
    await engine.wait_idle()
    write_files(
        root,
        {
            "draw/canvas.py": """\
                from draw.units import scale


                def ruler(length: float) -> float:
                    return scale(length) + len(str(length))
                """
        },
    )
    llm.set_descriptions({})
    await engine.files_changed(["draw/canvas.py"])
    await engine.wait_idle()
    (prompt,) = _prompts_of(llm, "ruler")
    callees = prompt.split(CALLEES_HEADER, 1)[1]
    assert f"scale: {SCALE}" in callees and NEGATE not in callees
    assert "len:" not in callees and "str:" not in callees  # builtins: nothing to say


async def test_a_file_changed_on_disk_has_its_callees_glossed_before_their_callers(
    tmp_path: Path, llm: LLMServer, open_engine: OpenEngine
) -> None:
    root = _workspace(tmp_path / "ws", llm, {"calc.py": "def seed() -> int:\n    return 1\n"})
    engine = await open_engine(root)
    await _index(engine)
    write_files(
        root,
        {
            "calc.py": """\
                def report(n: int) -> str:
                    return str(doubled(n))


                def doubled(n: int) -> int:
                    return halved(n) * 4


                def halved(n: int) -> int:
                    return n // 2
                """
        },
    )
    llm.set_descriptions({"halved": "Halves an integer, rounding down."})
    await engine.files_changed(["calc.py"])
    await engine.wait_idle()
    order = [r.symbol for r in llm.requests][1:]
    # The disk class takes the latest submitted first: the file's order survives it.
    assert order == ["halved", "doubled", "report"]
    (doubled,) = _prompts_of(llm, "doubled")
    assert "halved: Halves an integer, rounding down." in doubled


async def test_a_go_method_calling_through_its_receiver_is_told_of_the_method_called(
    tmp_path: Path, llm: LLMServer, open_engine: OpenEngine
) -> None:
    store = """\
        package store

        import "strings"

        type Store struct{ name string }

        func (s *Store) Save(extra string) string {
            return s.label() + strings.TrimSpace(extra)
        }

        func (s *Store) label() string {
            return s.name
        }
        """
    root = _workspace(tmp_path / "ws", llm, {"store.go": store})
    llm.set_descriptions({"Store.label": "Gives the store's name as its label."})
    engine = await open_engine(root)
    await _index(engine)
    (save,) = _prompts_of(llm, "Store.Save")
    assert "s.label: Gives the store's name as its label." in save
    assert 'import "strings"' in save.split(IMPORTS_HEADER, 1)[1]
    assert "type Store struct" in save  # the outline of the type it belongs to


def _spans(text: str, path: str = "m.py") -> list[Span]:
    return cut_spans(path, textwrap.dedent(text)).spans


def test_callees_come_first_within_a_file_and_a_cycle_keeps_source_order() -> None:
    spans = _spans(
        """\
        def main():
            return parse(read())

        def parse(text):
            return tokens(text)

        def read():
            return "x"

        def tokens(text):
            return text.split()

        def ping(n):
            return pong(n - 1)

        def pong(n):
            return ping(n - 1)
        """
    )
    order = gloss_order(spans)
    assert order is not None
    assert [spans[i].name for i in order] == ["tokens", "parse", "read", "main", "ping", "pong"]
    assert gloss_order(spans[:1]) is None  # source order
    assert gloss_order(spans[2:4]) is None  # read, tokens: no call between them


def test_each_language_s_imports_are_read_by_its_table_row() -> None:
    samples = {
        "a.py": (
            "import os\nfrom x.y import z\nif TYPE_CHECKING:\n    from t import T\n"
            "\ndef f():\n    import json\n"
        ),
        "a.go": 'package m\n\nimport (\n\t"fmt"\n)\n\nfunc F() {}\n',
        "a.rs": "use std::io;\n\nfn f() {}\n",
        "a.java": "import java.util.List;\n\nclass A {}\n",
        "a.c": "#include <stdio.h>\n\nint f(void) { return 0; }\n",
        "a.cs": "using System;\n\nclass A {}\n",
        "a.ts": "import { a } from './b';\n\nfunction f() {}\n",
        "a.rb": "require 'json'\nputs 'x'\n\ndef f; end\n",
        "a.php": "<?php\nuse A\\B;\nrequire_once 'c.php';\necho 1;\nfunction f() {}\n",
    }
    expected = {
        "a.py": ("import os", "from x.y import z", "from t import T"),  # not f's own
        "a.go": ("import (", '\t"fmt"', ")"),
        "a.rs": ("use std::io;",),
        "a.java": ("import java.util.List;",),
        "a.c": ("#include <stdio.h>",),
        "a.cs": ("using System;",),
        "a.ts": ("import { a } from './b';",),
        "a.rb": ("require 'json'",),
        "a.php": ("use A\\B;", "require_once 'c.php';"),
    }
    for path, text in samples.items():
        assert cut_spans(path, text).imports == expected[path], path


def test_a_file_s_imports_are_bounded() -> None:
    text = "".join(f"import m{i}\n" for i in range(3 * MAX_IMPORT_LINES)) + "def f(): pass\n"
    imports = cut_spans("many.py", text).imports
    assert len(imports) == MAX_IMPORT_LINES and imports[0] == "import m0"


async def test_a_store_from_before_the_context_column_gains_it_and_keeps_its_glosses(
    tmp_path: Path, llm: LLMServer, open_engine: OpenEngine
) -> None:
    root = _workspace(tmp_path / "ws", llm, {"shapes.py": SHAPES})
    engine = await open_engine(root)
    await _index(engine)
    db = load_config(root).store_path(root)
    await engine.stop()
    with sqlite3.connect(db) as conn:
        conn.execute("ALTER TABLE glosses DROP COLUMN context")
        before = conn.execute("SELECT count(*) FROM glosses").fetchone()[0]
    again = await open_engine(root)
    await _index(again)
    info = await again.hover("shapes.py", 12)
    assert info is not None and info.gloss is not None and info.gloss.context is None
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM glosses").fetchone()[0] == before
    assert json.loads(json.dumps(hover_json(info)))["gloss"]["context"] is None
