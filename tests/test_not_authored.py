"""Code the workspace did not write is skipped with its reason listed: dependency and
build directories, minified files, generated files. Real directories, a real
store, the real engine and the test LLM server on 127.0.0.1."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bench.support.llm_server import LLMServer
from enrich_core.config import ConfigError, load_config, parse_config
from enrich_core.records.span import Span
from enrich_core.run.engine import Engine
from enrich_core.source import indexer
from enrich_core.source.discovery import (
    SkippedFile,
    SourceFile,
    WorkspaceFilter,
    read_source,
    scan_workspace,
)
from enrich_core.source.not_authored import generated_reason
from enrich_core.source.spans import extract_spans
from tests.conftest import write_files

DEFAULT_SKIP_DIRS = parse_config({}).index.skip_dirs

# One file per suffix of every language in the table, beside files of none.
EVERY_LANGUAGE = [
    "a.py",
    "b.pyi",
    "c.js",
    "d.mjs",
    "e.cjs",
    "f.jsx",
    "g.ts",
    "h.mts",
    "i.cts",
    "j.tsx",
    "k.go",
    "l.rs",
    "m.java",
    "n.c",
    "o.h",
    "p.cpp",
    "q.cc",
    "r.hpp",
    "s.cs",
    "t.rb",
    "u.php",
]
NOT_SOURCE = ["notes.md", "data.json", "Makefile", "style.css", "x.C"]


def walk(
    root: Path, skip_dirs: tuple[str, ...] = DEFAULT_SKIP_DIRS
) -> list[SourceFile | SkippedFile]:
    return list(scan_workspace(root, WorkspaceFilter(root, [], skip_dirs)))


def touch(root: Path, rels: list[str]) -> None:
    write_files(root, {rel: "x\n" for rel in rels})


def test_every_language_in_the_table_is_read_and_nothing_else(tmp_path: Path) -> None:
    touch(tmp_path, EVERY_LANGUAGE + NOT_SOURCE)
    found = walk(tmp_path)
    assert all(isinstance(f, SourceFile) for f in found)
    assert [f.path for f in found] == sorted(EVERY_LANGUAGE)


def test_dependency_and_build_directories_are_listed_once_and_not_entered(tmp_path: Path) -> None:
    touch(
        tmp_path,
        [
            "node_modules/left-pad/index.js",
            "web/node_modules/react/index.js",
            "svc/vendor/github.com/pkg/errors/errors.go",
            "crate/target/debug/build/out.rs",
            "web/dist/app.js",
            "build/lib/pkg/mod.py",
            "src/app.ts",
            # A Python package named `build` is the workspace's own code.
            "src/build/__init__.py",
            "src/build/steps.py",
        ],
    )
    found = walk(tmp_path)
    skipped = {f.path: f.reason for f in found if isinstance(f, SkippedFile)}
    read = [f.path for f in found if isinstance(f, SourceFile)]
    assert read == ["src/app.ts", "src/build/__init__.py", "src/build/steps.py"]
    assert sorted(skipped) == [
        "build/",
        "crate/target/",
        "node_modules/",
        "svc/vendor/",
        "web/dist/",
        "web/node_modules/",
    ]
    assert skipped["node_modules/"].startswith("installed npm packages")
    assert skipped["svc/vendor/"].startswith("vendored dependencies")
    assert all("index.skip_dirs" in reason for reason in skipped.values())

    # Events and editor buffers under them are dropped the same way.
    flt = WorkspaceFilter(tmp_path, [], DEFAULT_SKIP_DIRS)
    assert not flt.wants("web/node_modules/react/index.js")
    assert not flt.wants("svc/vendor/github.com/pkg/errors/errors.go")
    assert flt.wants("src/build/steps.py")
    assert flt.wants("src/app.ts")


def test_skip_dirs_is_the_user_s_to_change(tmp_path: Path) -> None:
    touch(tmp_path, ["vendor/lib.go", "build/gen.py", "generated_api/client.ts", "main.go"])
    kept = walk(tmp_path, skip_dirs=("generated_api",))
    assert [f.path for f in kept if isinstance(f, SourceFile)] == [
        "build/gen.py",
        "main.go",
        "vendor/lib.go",
    ]
    (skipped,) = [f for f in kept if isinstance(f, SkippedFile)]
    assert skipped.path == "generated_api/"
    assert skipped.reason.startswith("a directory named 'generated_api'")


def test_an_ignored_dependency_directory_stays_silent(tmp_path: Path) -> None:
    write_files(tmp_path, {".gitignore": "node_modules/\n", "node_modules/x/index.js": "x\n"})
    touch(tmp_path, ["app.js"])
    assert [(type(f).__name__, f.path) for f in walk(tmp_path)] == [("SourceFile", "app.js")]


def test_a_minified_file_is_listed_unread(tmp_path: Path) -> None:
    touch(tmp_path, ["static/jquery.min.js", "static/app-min.mjs", "static/admin.js"])
    found = walk(tmp_path)
    assert [(type(f).__name__, f.path) for f in found] == [
        ("SourceFile", "static/admin.js"),
        ("SkippedFile", "static/app-min.mjs"),
        ("SkippedFile", "static/jquery.min.js"),
    ]
    minified = found[2]
    assert isinstance(minified, SkippedFile)
    assert minified.reason == "minified JavaScript (jquery.min.js)"
    assert not WorkspaceFilter(tmp_path, []).wants("static/jquery.min.js")


@pytest.mark.parametrize(
    ("text", "line"),
    [
        (
            "// Code generated by protoc-gen-go. DO NOT EDIT.\n// source: api.proto\npackage api\n",
            1,
        ),
        (
            "# -*- coding: utf-8 -*-\n# Generated by the protocol buffer compiler.  DO NOT EDIT!\n",
            2,
        ),
        ("//------\n// <auto-generated>\n//     This code was generated by a tool.\n", 2),
        ("/*\n * @generated by codegen\n */\nexport const x = 1;\n", 2),
        ("/* automatically generated by rust-bindgen 0.69.4 */\n\npub const A: u32 = 1;\n", 1),
        ("#\n# Autogenerated by Thrift Compiler (0.19.0)\n", 2),
    ],
)
def test_generated_files_are_known_by_their_banner(text: str, line: int) -> None:
    reason = generated_reason(text)
    assert reason is not None and reason.startswith(f"generated: line {line} says ")


@pytest.mark.parametrize(
    "text",
    [
        '"""Helpers for the autogenerated API client."""\n\ndef call(): ...\n',
        "'''Tools for auto-generated clients.'''\n",
        "# Generated by Django 4.2 on 2023-04-01 10:00\n\nfrom django.db import migrations\n",
        "def generate():\n    # do not edit the list below by hand\n    return []\n",
        "\n" * 10 + "// Code generated by hand-waving. DO NOT EDIT.\n",  # past the banner lines
    ],
)
def test_the_workspace_s_own_code_is_not_taken_for_generated(text: str) -> None:
    assert generated_reason(text) is None


def test_a_generated_file_is_skipped_when_read_with_a_printable_reason(tmp_path: Path) -> None:
    path = tmp_path / "api.pb.go"
    path.write_text("// Code generated by evil\x1b[2J\u202e. DO NOT EDIT.\npackage api\n")
    info = path.stat()
    result = read_source(SourceFile("api.pb.go", path, info.st_size, info.st_mtime_ns), 1000)
    assert isinstance(result, SkippedFile)
    assert "\x1b" not in result.reason and "\u202e" not in result.reason
    assert result.reason.startswith("generated: line 1 says '// Code generated by evil[2J")


def test_a_bad_skip_dirs_entry_names_its_key() -> None:
    with pytest.raises(ConfigError) as error:
        parse_config({"index": {"skip_dirs": ["vendor", "web/dist"]}}, "gloss.toml")
    assert error.value.key == "index.skip_dirs[1]"
    assert "directory name" in error.value.problem
    with pytest.raises(ConfigError) as error:
        parse_config({"index": {"skip_dirs": "vendor"}}, "gloss.toml")
    assert error.value.key == "index.skip_dirs"


async def test_status_lists_each_skip_and_forgets_it_when_it_no_longer_holds(
    workspace: Path, llm: LLMServer
) -> None:
    write_files(
        workspace,
        {
            "web/node_modules/dep/index.js": "function dep() {}\n",
            "web/app.min.js": "function a(){return 1}\n",
            "api/api.pb.go": "// Code generated by protoc-gen-go. DO NOT EDIT.\npackage api\n"
            "func Get() int { return 1 }\n",
            "web/app.js": "/** Starts the app. */\nfunction start() {}\n",
        },
    )
    engine = Engine(workspace, load_config(workspace))
    await engine.start()
    try:
        await engine.scan()
        await engine.wait_idle()
        skipped = (await engine.status()).skipped_files
        assert sorted(skipped) == ["api/api.pb.go", "web/app.min.js", "web/node_modules/"]
        assert skipped["api/api.pb.go"].startswith("generated: line 1 says")
        # Nothing under them reached the model; the app's own code did.
        assert "start" in llm.symbols()
        assert not {"dep", "a", "Get"} & {s or "" for s in llm.symbols()}

        # Gone or no longer generated: the reasons leave with the next scan.
        shutil.rmtree(workspace / "web" / "node_modules")
        (workspace / "web" / "app.min.js").unlink()
        (workspace / "api" / "api.pb.go").write_text("package api\n\nfunc Get() int { return 1 }\n")
        await engine.scan()
        await engine.wait_idle()
        assert (await engine.status()).skipped_files == {}
        assert "Get" in llm.symbols()
    finally:
        await engine.stop()


async def test_a_generated_editor_buffer_is_skipped_like_the_file(
    workspace: Path, llm: LLMServer
) -> None:
    engine = Engine(workspace, load_config(workspace))
    await engine.start()
    try:
        await engine.scan()
        await engine.wait_idle()
        before = len(llm.requests)
        banner = "// Code generated by mockgen. DO NOT EDIT.\npackage mocks\n"
        queued = await engine.document_changed("mocks/store.go", banner + "func New() {}\n")
        await engine.wait_idle()
        assert queued == 0 and len(llm.requests) == before
        skipped = (await engine.status()).skipped_files
        assert skipped["mocks/store.go"].startswith("generated: line 1 says")
    finally:
        await engine.stop()


async def test_a_file_the_extractor_fails_on_is_skipped_not_the_end_of_the_scan(
    workspace: Path, llm: LLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The extractor is the seam: no real input is known to break it (each one
    found was fixed), so one is made to fail here."""
    real = extract_spans

    def failing(path: str, source: str) -> list[Span]:
        if path.endswith("broken.go"):
            raise IndexError("list index out of range")
        return real(path, source)

    monkeypatch.setattr(indexer, "extract_spans", failing)
    write_files(workspace, {"svc/broken.go": "package svc\n\nfunc Broken() {}\n"})
    engine = Engine(workspace, load_config(workspace))
    await engine.start()
    try:
        report = await engine.scan()
        await engine.wait_idle()
        status = await engine.status()
    finally:
        await engine.stop()
    assert report.skipped == 1
    assert status.skipped_files["svc/broken.go"] == (
        "could not be cut into spans: IndexError: list index out of range (a Gloss bug)"
    )
    assert (status.counts.spans, status.counts.enriched) == (5, 5)  # the sample, all glossed
