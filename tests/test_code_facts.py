"""Facts read from a span's code: effects of each kind, raises direct and known, calls,
parameters, writes; methods, nested, async and decorated functions, fragments; Python and Go."""

from __future__ import annotations

import dataclasses
import textwrap

import pytest

from enrich_core.records.facts import CodeFacts
from enrich_core.records.span import Span
from enrich_core.source import code_facts
from enrich_core.source.code_facts import facts_of
from enrich_core.source.spans import extract_spans


def spans_of(source: str, path: str = "pkg/mod.py") -> dict[str, Span]:
    return {s.qualname: s for s in extract_spans(path, textwrap.dedent(source))}


def effects(facts: CodeFacts) -> set[tuple[str, str]]:
    return {(e.kind.value, e.evidence) for e in facts.effects}


def raises(facts: CodeFacts) -> set[tuple[str, str, bool]]:
    return {(r.exception, r.evidence, r.direct) for r in facts.raises}


PY = """\
import json, logging, os, shutil, socket, subprocess, sys
from pathlib import Path

log = logging.getLogger(__name__)
COUNT = 0


def files(path, target):
    with open(path) as f:
        text = f.read()
    Path(target).write_text(text)
    shutil.copy(path, target)
    os.remove(path)
    return text


def network(host):
    conn = socket.create_connection((host, 80))
    return requests.get(f"http://{host}/")


def run(cmd):
    subprocess.run(cmd, check=True)
    return os.system("ls")


def env(name):
    os.environ["SEEN"] = name
    return os.getenv(name) or os.environ.get("HOME")


def logs(x):
    print(x)
    log.warning("x is %s", x)
    sys.stdout.write("done")


def bump():
    global COUNT
    COUNT += 1


def mutate(items, table, quiet):
    items.append(1)
    table["k"] = 2
    quiet = True
    local = {}
    local["x"] = 1
    local.update(table)
    return local


def parse(text):
    value = int(text)
    data = json.loads(text)
    first = next(iter(data))
    if value < 0:
        raise ValueError("negative")
    return data[first]


def reraise(path):
    try:
        return path.open()
    except (KeyError, OSError):
        raise


def add(a, b=1, *rest, key: str = "", **extra):
    total = a + b
    return total
"""


@pytest.fixture(scope="module")
def py() -> dict[str, CodeFacts]:
    return {name: facts_of(span) for name, span in spans_of(PY).items()}


def test_each_python_effect_kind_has_its_evidence(py: dict[str, CodeFacts]) -> None:
    assert effects(py["files"]) == {
        ("file", "open("),
        ("file", "Path().write_text("),
        ("file", "shutil.copy("),
        ("file", "os.remove("),
    }
    assert effects(py["network"]) == {
        ("network", "socket.create_connection("),
        ("network", "requests.get("),
    }
    assert effects(py["run"]) == {("subprocess", "subprocess.run("), ("subprocess", "os.system(")}
    assert effects(py["env"]) == {
        ("environment", "os.environ"),
        ("environment", "os.getenv("),
        ("environment", "os.environ.get("),
    }
    assert effects(py["logs"]) == {
        ("logging", "print("),
        ("logging", "log.warning("),
        ("logging", "sys.stdout.write("),
    }
    assert effects(py["bump"]) == {("global", "COUNT +=")}
    # A parameter's object changed; a rebound parameter and a local's writes are no effect.
    assert effects(py["mutate"]) == {("argument", "items.append("), ("argument", 'table["k"] =')}
    assert py["mutate"].writes == ("items.append(", 'table["k"] =')


def test_lines_are_the_files_one_based() -> None:
    span = spans_of(PY)["files"]
    lines = PY.splitlines()
    for effect in facts_of(span).effects:
        assert effect.evidence.rstrip("(").split(".")[-1] in lines[effect.line - 1]


def test_raises_direct_known_and_reraised(py: dict[str, CodeFacts]) -> None:
    assert raises(py["parse"]) == {
        ("ValueError", "int(", False),
        ("json.JSONDecodeError", "json.loads(", False),
        ("StopIteration", "next(", False),
        ("ValueError", "raise", True),
    }
    # A subscript (`data[first]`) may raise KeyError, but no fact is guessed from it.
    assert all(r.exception != "KeyError" for r in py["parse"].raises)
    assert raises(py["reraise"]) == {("KeyError, OSError", "raise", True)}
    assert raises(py["files"]) >= {("OSError", "open(", False), ("OSError", "os.remove(", False)}


def test_calls_in_order_and_parameters_in_signature_order(py: dict[str, CodeFacts]) -> None:
    assert py["parse"].calls == ("int", "json.loads", "next", "iter", "ValueError")
    assert py["add"].calls == ()
    assert py["add"].effects == () and py["add"].raises == () and py["add"].writes == ()
    assert py["add"].complete
    assert py["add"].parameters == ("a", "b", "rest", "key", "extra")


def test_methods_nested_async_and_decorated_functions() -> None:
    spans = spans_of(
        """
        class Ledger:
            def __init__(self, path):
                self.path = path
                self.levels = {}

            @app.route("/put")
            @functools.lru_cache(maxsize=None)
            def put(self, sku, n):
                self.levels[sku] = n
                log.info("put %s", sku)

            async def load(self):
                async with aiofiles.open(self.path) as f:
                    text = await f.read()
                def parse(line):
                    return int(line)
                return [parse(l) for l in text.splitlines()]

            @staticmethod
            def touch(path):
                Path(path).touch()
        """
    )
    init = facts_of(spans["Ledger.__init__"])
    assert init.complete
    # A constructor setting its own fields: written, but no side effect listed.
    assert init.effects == ()
    assert init.writes == ("self.path =", "self.levels =")
    put = facts_of(spans["Ledger.put"])
    # The decorators run at definition, not when put runs: not its calls.
    assert put.calls == ("log.info",)
    assert effects(put) == {("argument", "self.levels[sku] ="), ("logging", "log.info(")}
    load = facts_of(spans["Ledger.load"])
    assert ("file", "aiofiles.open(") in effects(load)
    assert ("ValueError", "int(", False) in raises(load)  # from the nested function
    nested = facts_of(spans["Ledger.load.parse"])
    assert nested.calls == ("int",) and nested.parameters == ("line",)
    assert effects(facts_of(spans["Ledger.touch"])) == {("file", "Path().touch(")}


def test_a_fragment_still_gives_the_facts_it_holds() -> None:
    span = spans_of(PY)["files"]
    # Cut mid-statement, as an editor buffer is while typed: the parser recovers.
    broken = dataclasses.replace(
        span,
        text=span.text.replace("shutil.copy(path, target)", "shutil.copy(path,"),
        content_hash="fragment-1",
    )
    found = facts_of(broken)
    assert not found.complete
    assert ("file", "open(") in effects(found)
    assert ("file", "os.remove(") in effects(found)


def test_indented_method_text_is_dedented_and_a_less_indented_string_kept() -> None:
    source = '''
        class Box:
            def show(self, out):
                doc = """
        a line less indented than the method
        """
                out.write(doc)
                self.shown = True
        '''
    span = spans_of(source)["Box.show"]
    assert span.start_col > 0
    found = facts_of(span)
    assert found.complete
    assert effects(found) == {("argument", "self.shown =")}
    assert found.calls == ("out.write",)


def test_cached_by_content_hash_with_lines_of_the_span_asked_about() -> None:
    span = spans_of(PY)["files"]
    first = facts_of(span)
    moved = dataclasses.replace(span, start_line=span.start_line + 10, end_line=span.end_line + 10)
    again = facts_of(moved)
    assert [e.line + 10 for e in first.effects] == [e.line for e in again.effects]
    assert (span.content_hash, span.language) in code_facts._CACHE
    assert len(code_facts._CACHE) <= code_facts.CACHE_SIZE


def test_facts_round_trip_through_json(py: dict[str, CodeFacts]) -> None:
    for facts in py.values():
        assert CodeFacts.from_json(facts.to_json()) == facts


def test_a_language_without_a_facts_query_reports_nothing_guessed() -> None:
    span = next(iter(spans_of("def f(x):\n    open(x)\n").values()))
    other = dataclasses.replace(span, language="no-such-language", content_hash="other-1")
    assert facts_of(other) == CodeFacts((), (), (), ("x",), complete=False)


GO = """\
package store

import (
	"fmt"
	"log"
	"net/http"
	"os"
	"os/exec"
	"regexp"
)

var hits int

type Store struct{ n int }

func (s *Store) Bump(m map[string]int, v Store, arr [3]int, ch chan int, xs []int) {
	s.n++
	m["a"] = 1
	v.n = 2
	arr[0] = 1
	ch <- 1
	xs[0] = 3
	hits++
}

func (s Store) Copy() int {
	s.n = 3
	return s.n
}

func Load(name string) ([]byte, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		log.Printf("load %s: %v", name, err)
		panic(fmt.Sprintf("no %s", name))
	}
	fmt.Println(os.Getenv("HOME"))
	_ = exec.Command("ls").Run()
	_, _ = http.Get("http://localhost/")
	_ = regexp.MustCompile("x+")
	return data, nil
}

func Add(a, b int) int { return a + b }
"""


@pytest.fixture(scope="module")
def go() -> dict[str, CodeFacts]:
    return {name: facts_of(span) for name, span in spans_of(GO, "store/store.go").items()}


def test_go_effects_by_kind(go: dict[str, CodeFacts]) -> None:
    assert effects(go["Load"]) == {
        ("file", "os.ReadFile("),
        ("logging", "log.Printf("),
        ("logging", "fmt.Println("),
        ("environment", "os.Getenv("),
        ("subprocess", "exec.Command("),
        ("network", "http.Get("),
    }


def test_go_mutation_only_through_what_the_caller_shares(go: dict[str, CodeFacts]) -> None:
    # Pointer receiver, map, channel, slice: shared. A struct or array by value: a copy.
    assert effects(go["Store.Bump"]) == {
        ("argument", "s.n++"),
        ("argument", 'm["a"] ='),
        ("argument", "ch <-"),
        ("argument", "xs[0] ="),
    }
    # `hits++` may be a package variable, but a span cannot tell: no effect, yet a write.
    assert "hits++" in go["Store.Bump"].writes
    assert effects(go["Store.Copy"]) == set() and go["Store.Copy"].writes == ()


def test_go_panics_are_raises(go: dict[str, CodeFacts]) -> None:
    assert raises(go["Load"]) == {
        ("panic", "panic(", True),
        ("panic", "regexp.MustCompile(", False),
    }
    assert go["Add"] == CodeFacts((), (), (), ("a", "b"), complete=True)
    assert go["Store.Bump"].parameters == ("s", "m", "v", "arr", "ch", "xs")


def test_nonlocal_writes_are_global_effects_and_shadowing_locals_are_not() -> None:
    spans = spans_of(
        """
        def counter():
            count = 0
            def bump(step):
                nonlocal count
                count += step
                seen = []
                seen.append(step)
                return count
            return bump
        """
    )
    bump = facts_of(spans["counter.bump"])
    assert effects(bump) == {("global", "count +=")}
    assert bump.writes == ("count +=",)  # `seen.append(` changes a local list
    # The declaration holds in bump only: counter's own `count = 0` is its local.
    outer = facts_of(spans["counter"])
    assert effects(outer) == {("global", "count +=")}  # what its nested bump writes
    assert outer.writes == ("count +=",)
