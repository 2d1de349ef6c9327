"""Facts read from the code of the languages beyond Python and Go: for each one, a
small real-looking file whose functions and methods (fragments once cut from their
class) each show one kind of fact, and a pure one that shows none."""

from __future__ import annotations

import pytest

from enrich_core.records.facts import CodeFacts
from enrich_core.records.span import OUTLINED_KINDS, Span
from enrich_core.source.code_facts import facts_of
from enrich_core.source.languages import LANGUAGES
from enrich_core.source.languages.effects import FACTS
from enrich_core.source.spans import extract_spans

JAVASCRIPT = r"""
const fs = require("fs");

class Store {
  constructor(path) {
    this.path = path;
    this.items = [];
  }

  save(extra) {
    const data = JSON.stringify(this.items.concat(extra));
    fs.writeFileSync(this.path, data);
    console.log("saved", this.path);
  }

  add(list, item) {
    list.push(item);
    this.count += 1;
  }

  static fromEnv() {
    const home = process.env.HOME;
    if (!home) {
      throw new Error("HOME is not set");
    }
    return new Store(home + "/store.json");
  }
}

async function fetchUser(id) {
  const response = await fetch(`https://api.example.com/users/${id}`);
  return JSON.parse(await response.text());
}

function runGit(args) {
  return execSync("git " + args.join(" "));
}

function total(prices) {
  let sum = 0;
  for (const p of prices) sum += p;
  return sum;
}

function register(name) {
  window.registry = name;
}

function Point(x, y) {
  this.x = x;
  this.y = y;
}
"""

TYPESCRIPT = r"""
import { readFileSync } from "fs";

export class Scheduler {
  private queue: string[] = [];

  constructor(private readonly name: string) {
    this.queue = [];
  }

  protected log(message: string): void {
    console.error(`[${this.name}] ${message}`);
  }

  submit(jobs: string[], job: string): number {
    jobs.push(job);
    return jobs.length;
  }

  load(path: string): string[] {
    return JSON.parse(readFileSync(path, "utf8")) as string[];
  }

  async post(url: string, body: unknown): Promise<Response> {
    return fetch(url, { method: "POST", body: JSON.stringify(body) });
  }

  check(limit: number): void {
    if (limit < 0) throw new RangeError(`bad limit ${limit}`);
  }
}

export const double = (n: number): number => n * 2;

export function runTests(pattern: string): void {
  const child = spawn("npx", ["vitest", pattern], { env: { ...process.env, CI: "1" } });
  globalThis.lastRun = child;
}
"""

JAVA = r"""
package shop;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

public class Ledger {
    private final Map<String, Long> balances;
    private long total;

    public Ledger(Map<String, Long> balances) {
        this.balances = balances;
        this.total = 0;
    }

    public void save(Path path) throws IOException {
        Files.writeString(path, balances.toString());
        System.out.println("saved " + path);
    }

    public void record(List<String> log, String entry) {
        log.add(entry);
        this.total += 1;
    }

    public long parse(String text) {
        if (text.isEmpty()) {
            throw new IllegalArgumentException("empty amount");
        }
        return Long.parseLong(text.trim());
    }

    public String home() {
        return System.getenv("HOME");
    }

    public Process open(String url) throws IOException {
        return new ProcessBuilder("xdg-open", url).start();
    }

    public String fetch(String url) throws Exception {
        HttpClient client = HttpClient.newHttpClient();
        HttpRequest request = HttpRequest.newBuilder(URI.create(url)).build();
        return client.send(request, HttpResponse.BodyHandlers.ofString()).body();
    }

    public static long sum(long[] values) {
        long s = 0;
        for (long v : values) {
            s += v;
        }
        return s;
    }

    public void register() {
        OPEN_LEDGERS.add(this);
    }
}
"""

C = r"""
#include <stdio.h>
#include <stdlib.h>

struct cache {
    int hits;
    char *path;
};

int cache_load(struct cache *c, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        perror("fopen");
        return -1;
    }
    c->hits = 0;
    fclose(f);
    return 0;
}

const char *cache_dir(void)
{
    const char *dir = getenv("CACHE_DIR");
    return dir ? dir : "/tmp";
}

int next_id(void)
{
    static int counter = 0;
    counter++;
    return counter;
}

int backup(const char *dir)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "tar czf /tmp/backup.tgz %s", dir);
    return system(cmd);
}

int dial(const struct sockaddr *addr, socklen_t len)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(fd, addr, len) < 0)
        return -1;
    return fd;
}

int clamp(int v, int lo, int hi)
{
    if (v < lo)
        return lo;
    return v > hi ? hi : v;
}

void reset(struct cache copy, int *out)
{
    copy.hits = 0;
    *out = 1;
}
"""

CPP = r"""
#include <fstream>
#include <iostream>
#include <stdexcept>
#include <vector>

namespace linalg {

class Matrix {
public:
    Matrix(std::size_t rows, std::size_t cols) : rows_(rows), cols_(cols), data_(rows * cols) {
        this->count_ = 0;
    }

    double &at(std::size_t r, std::size_t c) {
        if (r >= rows_ || c >= cols_) {
            throw std::out_of_range("Matrix::at");
        }
        return data_[r * cols_ + c];
    }

    void save(const std::string &path) const {
        std::ofstream out(path);
        out << rows_ << " " << cols_;
        std::cout << "saved " << path << std::endl;
    }

    void append_to(std::vector<double> &sink) const {
        sink.push_back(data_[0]);
    }

    void bump() { this->count_ += 1; }

private:
    std::size_t rows_, cols_, count_;
    std::vector<double> data_;
};

int parse_size(const std::string &text) {
    return std::stoi(text);
}

const char *home() { return std::getenv("HOME"); }

int run(const std::string &cmd) { return std::system(cmd.c_str()); }

int next_id() {
    static int last = 0;
    return ++last;
}

int dial(int fd, const sockaddr *addr, socklen_t len) { return ::connect(fd, addr, len); }

int square(int x) { return x * x; }

}  // namespace linalg
"""

CSHARP = r"""
using System;
using System.Collections.Generic;
using System.IO;
using System.Net.Http;

namespace Shop
{
    public class Ledger
    {
        private readonly HttpClient _client;
        private int _count;

        public Ledger(HttpClient client)
        {
            this._client = client;
        }

        public void Save(string path, IEnumerable<string> lines)
        {
            File.WriteAllLines(path, lines);
            Console.WriteLine($"saved {path}");
        }

        public void Record(List<string> entries, string entry)
        {
            entries.Add(entry);
            _count++;
        }

        public int Parse(string text)
        {
            if (string.IsNullOrEmpty(text))
                throw new ArgumentException("empty", nameof(text));
            return int.Parse(text);
        }

        public async Task<string> Fetch(string url)
        {
            var response = await _client.GetAsync(url);
            return await response.Content.ReadAsStringAsync();
        }

        public string Home() => Environment.GetEnvironmentVariable("HOME");

        public void Open(string file)
        {
            Process.Start("xdg-open", file);
        }

        public static int Add(int a, int b)
        {
            return a + b;
        }
    }
}
"""

RUBY = r"""
require "json"

module Shop
  class Inventory
    class OutOfStock < StandardError; end

    @@instances = 0

    def initialize(path)
      @path = path
      @counts = {}
    end

    def load
      data = JSON.parse(File.read(@path))
      puts "loaded #{data.size} items"
      data
    end

    def remove(sku, count = 1)
      raise OutOfStock, "only #{@counts[sku]} of #{sku}" if @counts[sku] < count

      @counts[sku] -= count
    end

    def restock(order, sku)
      order << sku
      order.sort!
    end

    def self.fetch_prices(uri)
      Net::HTTP.get(URI(uri))
    end

    def self.home
      ENV["HOME"]
    end

    def deploy(target)
      system("rsync", "-a", ".", target)
    end

    def self.track
      @@instances += 1
      $last_tracked = Time.now
    end

    def total(prices)
      sum = 0
      prices.each { |p| sum += p }
      sum
    end

    def checkout
      validate!
      persist
      notify if changed?
      self
    end
  end
end
"""

PHP = r"""
<?php

namespace Shop;

class Cart
{
    private static int $created = 0;
    private array $lines = [];

    public function __construct(private string $owner)
    {
        $this->lines = [];
        self::$created++;
    }

    public function add(string $sku, int $count): void
    {
        $this->lines[$sku] = ($this->lines[$sku] ?? 0) + $count;
    }

    public function save(string $path): void
    {
        file_put_contents($path, json_encode($this->lines));
        error_log("cart saved to " . $path);
    }

    public function fill(array &$into, Cart $other): void
    {
        $into[] = $this->owner;
        $other->lines = [];
    }

    public function price(string $sku): int
    {
        if (!isset($this->lines[$sku])) {
            throw new \InvalidArgumentException("unknown sku $sku");
        }
        return $this->lines[$sku];
    }
}

function format_price(int $cents): string
{
    return sprintf("%d.%02d", intdiv($cents, 100), $cents % 100);
}

function app_env(): string
{
    global $config;
    $config = getenv("APP_ENV") ?: "dev";
    return $config;
}

function fetch_rates(string $url): string
{
    $ch = curl_init($url);
    return curl_exec($ch);
}

function git_head(): string
{
    return shell_exec("git rev-parse HEAD");
}

function local_only(array $items): int
{
    $items[] = 1;
    return count($items);
}
"""

RUST = r"""
use std::collections::HashMap;
use std::fs;
use std::process::Command;

static mut TOTAL: u64 = 0;

pub struct Counter {
    counts: HashMap<String, u64>,
    limit: u64,
}

impl Counter {
    pub fn new(limit: u64) -> Self {
        Counter { counts: HashMap::new(), limit }
    }

    pub fn bump(&mut self, name: &str) -> u64 {
        let n = self.counts.entry(name.to_owned()).or_insert(0);
        *n += 1;
        *n
    }

    pub fn save(&self, path: &str) -> std::io::Result<()> {
        fs::write(path, format!("{:?}", self.counts))?;
        println!("saved {}", path);
        Ok(())
    }

    pub fn drain_into(&mut self, sink: &mut Vec<String>) {
        for key in self.counts.keys() {
            sink.push(key.clone());
        }
        self.counts.clear();
    }

    pub fn limit_or_panic(&self, value: u64) -> u64 {
        if value > self.limit {
            panic!("value {} over limit {}", value, self.limit);
        }
        value
    }
}

pub fn home() -> String {
    std::env::var("HOME").unwrap()
}

pub fn git_status() -> std::io::Result<std::process::Output> {
    Command::new("git").arg("status").output()
}

pub fn ping(addr: &str) -> std::io::Result<()> {
    let mut stream = TcpStream::connect(addr)?;
    stream.write_all(b"ping")
}

pub fn record() {
    unsafe {
        TOTAL += 1;
    }
}

pub fn scaled(values: Vec<u64>, factor: u64) -> Vec<u64> {
    let mut out = values;
    for v in out.iter_mut() {
        *v *= factor;
    }
    out
}
"""

SAMPLES: dict[str, tuple[str, str]] = {
    "javascript": ("web/store.js", JAVASCRIPT),
    "typescript": ("web/scheduler.ts", TYPESCRIPT),
    "java": ("src/shop/Ledger.java", JAVA),
    "c": ("src/cache.c", C),
    "cpp": ("src/matrix.cpp", CPP),
    "csharp": ("src/Ledger.cs", CSHARP),
    "ruby": ("lib/inventory.rb", RUBY),
    "php": ("src/Cart.php", PHP),
    "rust": ("src/counter.rs", RUST),
}

Effects = set[tuple[str, str]]
Raises = set[tuple[str, str, bool]]

# language -> qualname -> (effects as (kind, evidence), raises as (exception, evidence,
# direct)): exactly these, nothing more.
EXPECTED: dict[str, dict[str, tuple[Effects, Raises]]] = {
    "javascript": {
        "Store.constructor": (set(), set()),
        "Store.save": (
            {("file", "fs.writeFileSync("), ("logging", "console.log(")},
            {("Error", "fs.writeFileSync(", False)},
        ),
        "Store.add": ({("argument", "list.push("), ("argument", "this.count +=")}, set()),
        "Store.fromEnv": (
            {("environment", "process.env.HOME")},
            {("Error", "throw", True)},
        ),
        "fetchUser": ({("network", "fetch(")}, {("SyntaxError", "JSON.parse(", False)}),
        "runGit": ({("subprocess", "execSync(")}, set()),
        "total": (set(), set()),
        "register": ({("global", "window.registry =")}, set()),
        # A function's `this` may be the object `new Point()` builds: no receiver of a call.
        "Point": (set(), set()),
    },
    "typescript": {
        "Scheduler.constructor": (set(), set()),
        "Scheduler.log": ({("logging", "console.error(")}, set()),
        "Scheduler.submit": ({("argument", "jobs.push(")}, set()),
        "Scheduler.load": (
            {("file", "readFileSync(")},
            {("SyntaxError", "JSON.parse(", False)},
        ),
        "Scheduler.post": ({("network", "fetch(")}, set()),
        "Scheduler.check": (set(), {("RangeError", "throw", True)}),
        "double": (set(), set()),
        "runTests": (
            {
                ("subprocess", "spawn("),
                ("environment", "process.env"),
                ("global", "globalThis.lastRun ="),
            },
            set(),
        ),
    },
    "java": {
        "Ledger.Ledger": (set(), set()),
        "Ledger.save": (
            {("file", "Files.writeString("), ("logging", "System.out.println(")},
            {("IOException", "Files.writeString(", False)},
        ),
        "Ledger.record": ({("argument", "log.add("), ("argument", "this.total +=")}, set()),
        "Ledger.parse": (
            set(),
            {
                ("IllegalArgumentException", "throw", True),
                ("NumberFormatException", "Long.parseLong(", False),
            },
        ),
        "Ledger.home": ({("environment", "System.getenv(")}, set()),
        "Ledger.open": ({("subprocess", "ProcessBuilder(")}, set()),
        "Ledger.fetch": (
            {("network", "HttpClient.newHttpClient("), ("network", "client.send(")},
            {("IllegalArgumentException", "URI.create(", False)},
        ),
        "Ledger.sum": (set(), set()),
        # A constant's object changed: static state.
        "Ledger.register": ({("global", "OPEN_LEDGERS.add(")}, set()),
    },
    "c": {
        "cache_load": (
            {
                ("file", "fopen("),
                ("file", "fclose("),
                ("logging", "perror("),
                ("argument", "c->hits ="),
            },
            set(),
        ),
        "cache_dir": ({("environment", "getenv(")}, set()),
        "next_id": ({("global", "counter++")}, set()),
        "backup": ({("subprocess", "system(")}, set()),
        "dial": ({("network", "socket("), ("network", "connect(")}, set()),
        "clamp": (set(), set()),
        # A struct passed by value is a copy; only the pointer writes the caller's memory.
        "reset": ({("argument", "*out =")}, set()),
    },
    "cpp": {
        "linalg::Matrix::Matrix": (set(), set()),
        "linalg::Matrix::at": (set(), {("std::out_of_range", "throw", True)}),
        "linalg::Matrix::save": ({("file", "std::ofstream("), ("logging", "std::cout")}, set()),
        "linalg::Matrix::append_to": ({("argument", "sink.push_back(")}, set()),
        "linalg::Matrix::bump": ({("argument", "this->count_ +=")}, set()),
        "linalg::parse_size": (set(), {("std::invalid_argument", "std::stoi(", False)}),
        "linalg::home": ({("environment", "std::getenv(")}, set()),
        "linalg::run": ({("subprocess", "std::system(")}, set()),
        "linalg::next_id": ({("global", "++last")}, set()),
        "linalg::dial": ({("network", "::connect(")}, set()),
        "linalg::square": (set(), set()),
    },
    "csharp": {
        "Ledger.Ledger": (set(), set()),
        "Ledger.Save": (
            {("file", "File.WriteAllLines("), ("logging", "Console.WriteLine(")},
            {("IOException", "File.WriteAllLines(", False)},
        ),
        "Ledger.Record": ({("argument", "entries.Add(")}, set()),
        "Ledger.Parse": (
            set(),
            {("ArgumentException", "throw", True), ("FormatException", "int.Parse(", False)},
        ),
        "Ledger.Fetch": ({("network", "_client.GetAsync(")}, set()),
        "Ledger.Home": ({("environment", "Environment.GetEnvironmentVariable(")}, set()),
        "Ledger.Open": ({("subprocess", "Process.Start(")}, set()),
        "Ledger.Add": (set(), set()),
    },
    "ruby": {
        "Shop.Inventory.initialize": (set(), set()),
        "Shop.Inventory.load": (
            {("file", "File.read("), ("logging", "puts(")},
            {("JSON::ParserError", "JSON.parse(", False), ("SystemCallError", "File.read(", False)},
        ),
        "Shop.Inventory.remove": (
            {("argument", "@counts[sku] -=")},
            {("OutOfStock", "raise", True)},
        ),
        "Shop.Inventory.restock": (
            {("argument", "order <<"), ("argument", "order.sort!(")},
            set(),
        ),
        "Shop.Inventory.fetch_prices": ({("network", "Net::HTTP.get(")}, set()),
        "Shop.Inventory.home": ({("environment", "ENV")}, set()),
        "Shop.Inventory.deploy": ({("subprocess", "system(")}, set()),
        "Shop.Inventory.track": (
            {("global", "@@instances +="), ("global", "$last_tracked =")},
            set(),
        ),
        "Shop.Inventory.total": (set(), set()),
        "Shop.Inventory.checkout": (set(), set()),
    },
    "php": {
        "Cart.__construct": ({("global", "self::$created++")}, set()),
        "Cart.add": ({("argument", "$this->lines[$sku] =")}, set()),
        "Cart.save": ({("file", "file_put_contents("), ("logging", "error_log(")}, set()),
        "Cart.fill": ({("argument", "$into[] ="), ("argument", "$other->lines =")}, set()),
        "Cart.price": (set(), {("\\InvalidArgumentException", "throw", True)}),
        "format_price": (set(), {("DivisionByZeroError", "intdiv(", False)}),
        "app_env": ({("environment", "getenv("), ("global", "config =")}, set()),
        "fetch_rates": ({("network", "curl_init("), ("network", "curl_exec(")}, set()),
        "git_head": ({("subprocess", "shell_exec(")}, set()),
        # An untyped array parameter is the function's own copy.
        "local_only": (set(), set()),
    },
    "rust": {
        "Counter::new": (set(), set()),
        # `*n += 1` writes through a reference `self.counts.entry(..)` handed back: listed
        # among the writes, no effect (the facts do not follow values).
        "Counter::bump": (set(), set()),
        "Counter::save": ({("file", "fs::write("), ("logging", "println!(")}, set()),
        "Counter::drain_into": (
            {("argument", "sink.push("), ("argument", "self.counts.clear(")},
            set(),
        ),
        "Counter::limit_or_panic": (set(), {("panic", "panic", True)}),
        "home": (
            {("environment", "std::env::var(")},
            {("panic", "std::env::var().unwrap(", False)},
        ),
        "git_status": ({("subprocess", "Command::new(")}, set()),
        "ping": ({("network", "TcpStream::connect(")}, set()),
        "record": ({("global", "TOTAL +=")}, set()),
        # `values` is moved in: writing through it changes nothing of the caller's.
        "scaled": (set(), set()),
    },
}


def spans_of(language: str) -> dict[str, Span]:
    path, source = SAMPLES[language]
    spans = extract_spans(path, source.lstrip("\n"))
    assert {s.language for s in spans} == {language}
    return {s.qualname: s for s in spans if s.kind not in OUTLINED_KINDS}


def effects(facts: CodeFacts) -> Effects:
    return {(e.kind.value, e.evidence) for e in facts.effects}


def raises(facts: CodeFacts) -> Raises:
    return {(r.exception, r.evidence, r.direct) for r in facts.raises}


CASES = [
    pytest.param(language, qualname, id=f"{language}-{qualname}")
    for language, functions in EXPECTED.items()
    for qualname in functions
]


@pytest.mark.parametrize(("language", "qualname"), CASES)
def test_facts_found(language: str, qualname: str) -> None:
    span = spans_of(language)[qualname]
    facts = facts_of(span)
    expected_effects, expected_raises = EXPECTED[language][qualname]
    assert effects(facts) == expected_effects
    assert raises(facts) == expected_raises
    # Methods are fragments cut from their class: each still parses whole.
    assert facts.complete, span.text


@pytest.mark.parametrize("language", sorted(EXPECTED))
def test_every_function_of_a_sample_is_expected(language: str) -> None:
    assert set(spans_of(language)) == set(EXPECTED[language])


@pytest.mark.parametrize("language", sorted(EXPECTED))
def test_each_sample_shows_every_kind_its_language_can(language: str) -> None:
    """Every effect kind appears somewhere in each sample, but the global state C#
    keeps in static fields, which a method's text cannot tell from its own."""
    kinds = {kind for functions in EXPECTED[language].values() for kind, _evidence in functions[0]}
    missing = {"file", "network", "subprocess", "environment", "logging", "global", "argument"}
    missing -= kinds
    assert missing == ({"global"} if language == "csharp" else set())
    raised = [r for functions in EXPECTED[language].values() for r in functions[1]]
    if language != "c":  # C has no exceptions
        assert any(direct for _x, _e, direct in raised)
        assert any(not direct for _x, _e, direct in raised)


@pytest.mark.parametrize(
    ("language", "qualname", "evidence", "line"),
    [
        ("javascript", "Store.fromEnv", "process.env.HOME", 21),
        ("java", "Ledger.record", "this.total +=", 29),
        ("cpp", "linalg::Matrix::save", "std::cout", 24),
        ("ruby", "Shop.Inventory.restock", "order.sort!(", 28),
        ("php", "Cart.fill", "$other->lines =", 30),
        ("rust", "record", "TOTAL +=", 59),
    ],
)
def test_lines_are_the_files(language: str, qualname: str, evidence: str, line: int) -> None:
    """A method parsed inside a wrapper (`class _ {`, `<?php`) keeps its file's lines."""
    facts = facts_of(spans_of(language)[qualname])
    assert {e.evidence: e.line for e in facts.effects}[evidence] == line
    _path, source = SAMPLES[language]
    assert evidence.rstrip("(=+- ") in source.lstrip("\n").splitlines()[line - 1]


@pytest.mark.parametrize(
    ("language", "qualname", "callees"),
    [
        ("java", "Ledger.record", ("log.add",)),
        ("ruby", "Shop.Inventory.load", ("JSON.parse", "File.read", "puts", "data.size")),
        ("php", "Cart.save", ("file_put_contents", "json_encode", "error_log")),
        ("rust", "Counter::save", ("fs::write", "format!", "println!", "Ok")),
        ("csharp", "Ledger.Parse", ("string.IsNullOrEmpty", "ArgumentException", "int.Parse")),
        # A bare name as a statement before another, or under a modifier, is a call.
        ("ruby", "Shop.Inventory.checkout", ("validate!", "persist", "notify", "changed?")),
    ],
)
def test_callees_as_written(language: str, qualname: str, callees: tuple[str, ...]) -> None:
    """A call the grammar gives no callee node (Java's method_invocation, Ruby's call
    without parentheses, a Rust macro) is named up to its method, arguments left out."""
    assert facts_of(spans_of(language)[qualname]).calls == callees


def test_constructor_writes_are_no_effect_but_are_writes() -> None:
    for language, qualname in [
        ("javascript", "Store.constructor"),
        ("java", "Ledger.Ledger"),
        ("cpp", "linalg::Matrix::Matrix"),
        ("csharp", "Ledger.Ledger"),
        ("ruby", "Shop.Inventory.initialize"),
    ]:
        facts = facts_of(spans_of(language)[qualname])
        assert not facts.effects, (language, qualname)
        assert facts.writes, (language, qualname)


def test_a_pure_function_has_no_facts_and_calls_nothing() -> None:
    for language, qualname in [
        ("javascript", "total"),
        ("typescript", "double"),
        ("java", "Ledger.sum"),
        ("c", "clamp"),
        ("cpp", "linalg::square"),
        ("csharp", "Ledger.Add"),
        ("php", "local_only"),
    ]:
        facts = facts_of(spans_of(language)[qualname])
        assert facts.empty and facts.complete, (language, qualname)
        assert not [c for c in facts.calls if c != "count"], (language, qualname)


TSX = r"""
import { useEffect, useState } from "react";

export function Clock({ zone }: { zone: string }) {
  const [now, setNow] = useState(new Date());
  useEffect(() => {
    const id = setInterval(() => setNow(new Date()), 1000);
    console.debug("clock started", zone);
    return () => clearInterval(id);
  }, [zone]);
  return <time>{now.toLocaleTimeString("en", { timeZone: zone })}</time>;
}

export class Board extends React.Component<{ rows: string[] }> {
  clear(rows: string[]): void {
    rows.splice(0, rows.length);
  }
}
"""


def test_tsx_reads_with_the_typescript_row() -> None:
    spans = {s.qualname: s for s in extract_spans("ui/clock.tsx", TSX.lstrip("\n"))}
    clock = facts_of(spans["Clock"])
    assert effects(clock) == {("logging", "console.debug(")}
    assert clock.complete
    board = facts_of(spans["Board.clear"])
    assert effects(board) == {("argument", "rows.splice(")}
    assert board.complete


def test_every_language_has_a_row() -> None:
    assert {spec.name for spec in LANGUAGES} <= set(FACTS)


@pytest.mark.parametrize(
    ("path", "source", "expected"),
    [
        (
            "src/Sync.cs",
            """\
class Sync {
    void Run() {
        try { Pull(); }
        catch (IOException e) { Log(e); throw; }
    }
}
""",
            {("IOException", "throw", True)},
        ),
        (
            "src/sync.cpp",
            """\
void run() {
    try { pull(); } catch (const std::runtime_error &e) { log(e); throw; }
}
""",
            {("std::runtime_error", "throw", True)},
        ),
        (
            "lib/sync.rb",
            """\
class Sync
  def run
    pull
  rescue IOError => e
    log(e)
    raise
  end
end
""",
            {("IOError", "raise", True)},
        ),
        # A message raised in a rescue is a new error (Ruby's RuntimeError), not what was caught.
        (
            "lib/wrap.rb",
            """\
class Sync
  def run
    pull
  rescue KeyError => e
    raise "no such key: #{e.message}"
  end
end
""",
            {("", "raise", True)},
        ),
    ],
)
def test_a_bare_rethrow_names_what_was_caught(path: str, source: str, expected: Raises) -> None:
    (span,) = [s for s in extract_spans(path, source) if s.kind not in OUTLINED_KINDS]
    assert raises(facts_of(span)) == expected


@pytest.mark.parametrize(
    ("path", "source", "expected"),
    [
        # Writing into a stream passed in is an operator, not a call.
        (
            "src/money.cpp",
            """\
struct Money {
    void print(std::ostream &os) const { os << units_ << "." << cents_; }
    long units_, cents_;
};
""",
            {("argument", 'os << units_ << "." <<')},
        ),
        # A standard stream is output, another stream a file's.
        (
            "src/report.c",
            """\
int report(FILE *log, const char *msg)
{
    fprintf(stderr, "error: %s\\n", msg);
    fputs(msg, stdout);
    fprintf(log, "%s\\n", msg);
    return 0;
}
""",
            {("logging", "stderr"), ("logging", "stdout"), ("file", "fprintf(")},
        ),
        # Code read from another file and run.
        (
            "src/boot.php",
            """\
<?php
function boot(): array {
    return require __DIR__ . '/config.php';
}
""",
            {("file", "require(")},
        ),
    ],
)
def test_effects_of_operators_and_statements(path: str, source: str, expected: Effects) -> None:
    (span,) = [s for s in extract_spans(path, source) if s.kind not in OUTLINED_KINDS]
    assert effects(facts_of(span)) == expected


@pytest.mark.parametrize(
    ("path", "source", "expected"),
    [
        (
            "web/handlers.js",
            """\
function on(name, handler) {
  HANDLERS[name] = handler;
  JSON.stringify(name);
}
""",
            {("global", "HANDLERS[name] =")},
        ),
        (
            "lib/registry.rb",
            """\
class Registry
  def self.track(id)
    SEEN << id
    File.delete(id)
  end
end
""",
            {("global", "SEEN <<"), ("file", "File.delete(")},
        ),
        (
            "src/Registry.java",
            """\
class Registry {
    void install() {
        Registry.current = this;
        Collections.sort(names);
    }
}
""",
            {("global", "Registry.current =")},
        ),
    ],
)
def test_module_and_static_state_by_its_name(path: str, source: str, expected: Effects) -> None:
    """Constants (`HANDLERS`, Ruby's `SEEN`) and a class's own fields are module or static
    state; a library class called (`Collections.sort`, `File.delete`) is not written."""
    (span,) = [s for s in extract_spans(path, source) if s.kind not in OUTLINED_KINDS]
    assert effects(facts_of(span)) == expected


def test_php_parameters_in_the_order_written() -> None:
    assert facts_of(spans_of("php")["Cart.add"]).parameters == ("sku", "count")
