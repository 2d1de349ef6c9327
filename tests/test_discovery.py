"""Discovery on real directories: ignore rules, secrets, order, and read failures."""

from __future__ import annotations

import functools
import os
import pickle
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pytest

from enrich_core.source.discovery import (
    SkippedFile,
    SourceFile,
    WorkspaceFilter,
    read_source,
    scan_workspace,
)

T = TypeVar("T")
NOBODY = 65534  # uid and gid of Debian's `nobody`


@dataclass(frozen=True, slots=True)
class Unprivileged:
    """A directory any user can reach, and a way to run code there as a user whom
    file modes bind. As root (CI runs as root) that is `nobody` in a forked child:
    root reads mode-000 files, so the real denial can only be seen without root."""

    root: Path

    def run(self, job: Callable[[], T]) -> T:
        if os.geteuid() != 0:
            return job()
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: drop root for good, run the job, send back its result
            code = 0
            try:
                os.close(read_end)
                os.setgroups([])
                os.setgid(NOBODY)
                os.setuid(NOBODY)
                answer: tuple[str, object] = ("ok", job())
            except BaseException as exc:
                answer, code = ("error", f"{type(exc).__name__}: {exc}"), 1
            with os.fdopen(write_end, "wb") as out:
                out.write(pickle.dumps(answer))
            os._exit(code)
        os.close(write_end)
        with os.fdopen(read_end, "rb") as answers:
            data = answers.read()
        os.waitpid(pid, 0)
        kind, value = pickle.loads(data)
        assert kind == "ok", f"the unprivileged child failed: {value}"
        return value  # type: ignore[no-any-return]


@pytest.fixture
def unprivileged() -> Iterator[Unprivileged]:
    # pytest's tmp_path sits under a 0700 directory of root's: nobody cannot enter it.
    root = Path(tempfile.mkdtemp(prefix="gloss-unprivileged-"))
    root.chmod(0o755)
    try:
        yield Unprivileged(root)
    finally:
        shutil.rmtree(root)


def write(root: Path, rel: str, content: str | bytes = "x = 1\n") -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def scanned(root: Path, exclude: tuple[str, ...] = ()) -> list[str]:
    """The files the walk yields to be read (not those it reports skipped)."""
    flt = WorkspaceFilter(root, exclude)
    return [f.path for f in scan_workspace(root, flt) if isinstance(f, SourceFile)]


def source_file(path: Path, rel: str) -> SourceFile:
    info = path.stat()
    return SourceFile(path=rel, abs_path=path, size=info.st_size, mtime_ns=info.st_mtime_ns)


def source_file_unstat(path: Path, rel: str) -> SourceFile:
    return SourceFile(path=rel, abs_path=path, size=0, mtime_ns=0)


def test_order_is_sorted_depth_first_and_deterministic(tmp_path: Path) -> None:
    for rel in ["c.py", "a.py", "b/z.py", "b/a.py", "b/sub/m.pyi", "B.py", "aa/x.py", "a.txt"]:
        write(tmp_path, rel)
    expected = ["B.py", "a.py", "aa/x.py", "b/a.py", "b/sub/m.pyi", "b/z.py", "c.py"]
    assert scanned(tmp_path) == expected
    assert scanned(tmp_path) == expected


def test_source_file_fields(tmp_path: Path) -> None:
    path = write(tmp_path, "pkg/mod.py", "print('hi')\n")
    (found,) = scan_workspace(tmp_path, WorkspaceFilter(tmp_path, []))
    assert isinstance(found, SourceFile)
    assert found.path == "pkg/mod.py"
    assert found.abs_path == path
    assert found.abs_path.is_absolute()
    assert found.size == len("print('hi')\n")
    assert found.mtime_ns == path.stat().st_mtime_ns


def test_root_gitignore_with_negation_and_directory_rules(tmp_path: Path) -> None:
    write(tmp_path, ".gitignore", "build/\n*_pb2.py\n!keep_pb2.py\n/top_only.py\ngen\n")
    for rel in [
        "main.py",
        "build/out.py",
        "src/build/out.py",
        "api_pb2.py",
        "keep_pb2.py",
        "top_only.py",
        "src/top_only.py",
        "gen/a.py",
        "src/gen/b.py",
        "build.py",
    ]:
        write(tmp_path, rel)
    assert scanned(tmp_path) == ["build.py", "keep_pb2.py", "main.py", "src/top_only.py"]


def test_directory_only_rule_does_not_match_a_file(tmp_path: Path) -> None:
    write(tmp_path, ".gitignore", "tools/\n")
    write(tmp_path, "tools/a.py")
    flt = WorkspaceFilter(tmp_path, [])
    assert flt.is_ignored("tools", is_dir=True)
    assert not flt.is_ignored("tools", is_dir=False)
    assert flt.is_ignored("tools/a.py")


def test_nested_gitignore_is_relative_to_its_directory(tmp_path: Path) -> None:
    write(tmp_path, ".gitignore", "*.gen.py\n")
    write(tmp_path, "pkg/.gitignore", "/local.py\nfixtures/\n!special.gen.py\n")
    for rel in [
        "local.py",
        "pkg/local.py",
        "pkg/deeper/local.py",
        "pkg/fixtures/f.py",
        "fixtures/f.py",
        "pkg/special.gen.py",
        "other.gen.py",
        "pkg/other.gen.py",
    ]:
        write(tmp_path, rel)
    assert scanned(tmp_path) == [
        "fixtures/f.py",
        "local.py",
        "pkg/deeper/local.py",
        "pkg/special.gen.py",
    ]


def test_ignored_directory_cannot_be_reincluded_and_is_not_entered(tmp_path: Path) -> None:
    write(tmp_path, ".gitignore", "vendor/\n!vendor/keep.py\n")
    write(tmp_path, "vendor/keep.py")
    write(tmp_path, "vendor/.gitignore", "!keep.py\n")
    flt = WorkspaceFilter(tmp_path, [])
    assert list(scan_workspace(tmp_path, flt)) == []
    assert flt.is_ignored("vendor/keep.py")
    # The pruned directory's own .gitignore was never needed.
    assert "vendor" not in flt._rules


def test_git_info_exclude_has_lowest_precedence(tmp_path: Path) -> None:
    write(tmp_path, ".git/info/exclude", "scratch*.py\n")
    write(tmp_path, "sub/.gitignore", "!scratch_keep.py\n")
    for rel in ["scratch1.py", "sub/scratch2.py", "sub/scratch_keep.py", "real.py"]:
        write(tmp_path, rel)
    write(tmp_path, ".git/hooks/pre-commit.py")
    assert scanned(tmp_path) == ["real.py", "sub/scratch_keep.py"]


def test_git_file_pointing_to_worktree_gitdir(tmp_path: Path) -> None:
    common = tmp_path / "repo.git"
    write(common, "info/exclude", "private.py\n")
    worktree_dir = common / "worktrees" / "wt"
    write(worktree_dir, "commondir", "../..\n")
    root = tmp_path / "wt"
    write(root, ".git", f"gitdir: {worktree_dir}\n")
    write(root, "private.py")
    write(root, "public.py")
    assert scanned(root) == ["public.py"]


def test_exclude_patterns_are_always_honoured(tmp_path: Path) -> None:
    write(tmp_path, ".gitignore", "!**/node_modules/**\n")
    for rel in [
        "node_modules/pkg/setup.py",
        "web/node_modules/x.py",
        "tests/fixtures/data.py",
        "tests/test_a.py",
        "app.py",
    ]:
        write(tmp_path, rel)
    flt = WorkspaceFilter(tmp_path, ["**/node_modules/**", "tests/fixtures/"])
    assert [f.path for f in scan_workspace(tmp_path, flt)] == ["app.py", "tests/test_a.py"]
    assert flt.is_ignored("node_modules", is_dir=True)


def test_invalid_exclude_pattern_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"index\.exclude"):
        WorkspaceFilter(tmp_path, ["\\"])


def test_malformed_gitignore_line_does_not_void_the_file(tmp_path: Path) -> None:
    write(tmp_path, ".gitignore", "\\\nsecret_stuff.py\n")
    write(tmp_path, "secret_stuff.py")
    write(tmp_path, "ok.py")
    assert scanned(tmp_path) == ["ok.py"]


def test_vcs_gloss_and_virtualenv_directories_are_pruned(tmp_path: Path) -> None:
    for rel in [
        ".git/x.py",
        ".hg/x.py",
        ".svn/x.py",
        ".gloss/x.py",
        "env/lib/python3.11/site-packages/mod.py",
        "nested/.venv/lib/mod.py",
        "venv_like/mod.py",
        "app.py",
    ]:
        write(tmp_path, rel)
    write(tmp_path, "env/pyvenv.cfg", "home = /usr/bin\n")
    write(tmp_path, "nested/.venv/pyvenv.cfg", "home = /usr/bin\n")
    flt = WorkspaceFilter(tmp_path, [])
    assert [f.path for f in scan_workspace(tmp_path, flt)] == ["app.py", "venv_like/mod.py"]
    assert flt.is_ignored("env", is_dir=True)
    assert flt.is_ignored("env/lib/python3.11/site-packages/mod.py")
    assert flt.is_ignored(".git/config")


@pytest.mark.parametrize(
    "rel",
    [
        ".env",
        ".env.local",
        "config/.env.production",
        "prod.env",
        "certs/server.pem",
        "tls.key",
        "store.p12",
        "store.pfx",
        "app.keystore",
        "id_rsa",
        "id_rsa.pub",
        "home/id_ed25519",
        "id_ecdsa",
        "id_dsa",
        "credentials",
        "credentials.json",
        ".netrc",
        ".pgpass",
        "secrets.py",
        "settings/secrets.yaml",
        "ID_RSA",
        "Secrets.PY",
        ".ssh/config.py",
    ],
)
def test_secret_names(tmp_path: Path, rel: str) -> None:
    flt = WorkspaceFilter(tmp_path, [])
    assert flt.is_secret(rel)
    assert not flt.wants(rel)


@pytest.mark.parametrize(
    "rel", ["app.py", "keys.py", "tokenizer.py", "environment.py", "env/x.py", "my_secrets_test.py"]
)
def test_ordinary_names_are_not_secret(tmp_path: Path, rel: str) -> None:
    flt = WorkspaceFilter(tmp_path, [])
    assert not flt.is_secret(rel)
    assert flt.wants(rel)


def test_secret_source_files_are_never_yielded_or_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, "secrets.py", "API_KEY = 'x'\n")
    write(tmp_path, "settings/secrets.pyi", "API_KEY: str\n")
    write(tmp_path, "app.py")
    assert scanned(tmp_path) == ["app.py"]

    # Even handed a secret file directly, read_source refuses before touching it.
    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"secret file touched: {args}")

    monkeypatch.setattr(os, "open", forbidden)
    monkeypatch.setattr(os, "lstat", forbidden)
    monkeypatch.setattr(os, "stat", forbidden)
    path = tmp_path / "secrets.py"
    skipped = read_source(source_file_unstat(path, "secrets.py"), 1_000_000)
    assert skipped == SkippedFile(
        "secrets.py", "looks like a secret store (matches 'secrets.*'); never read"
    )


def test_wants_needs_a_source_suffix(tmp_path: Path) -> None:
    flt = WorkspaceFilter(tmp_path, [])
    assert flt.wants("a/b.py")
    assert flt.wants("a/b.pyi")
    assert not flt.wants("a/b.pyc")
    assert not flt.wants("README.md")
    assert not flt.wants(".py")


def test_symlinks_are_not_followed_and_loops_do_not_hang(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    outside = tmp_path / "outside"
    write(outside, "leak.py")
    write(root, "pkg/real.py")
    (root / "pkg" / "loop").symlink_to(root, target_is_directory=True)
    (root / "pkg" / "self").symlink_to(root / "pkg", target_is_directory=True)
    (root / "out").symlink_to(outside, target_is_directory=True)
    (root / "alias.py").symlink_to(outside / "leak.py")
    (root / "dangling.py").symlink_to(root / "missing.py")
    assert scanned(root) == ["pkg/real.py"]


def test_read_source_text_and_bom(tmp_path: Path) -> None:
    plain = write(tmp_path, "a.py", "name = 'é😀'\r\nx = 1\n")
    bom = write(tmp_path, "b.py", b"\xef\xbb\xbfx = 1\n")
    # Line endings are kept as they are: positions must match the editor's text.
    assert read_source(source_file(plain, "a.py"), 1000) == "name = 'é😀'\r\nx = 1\n"
    assert read_source(source_file(bom, "b.py"), 1000) == "x = 1\n"


def test_read_source_size_limit_reason(tmp_path: Path) -> None:
    path = write(tmp_path, "big.py", "x" * 2_345_678)
    result = read_source(source_file(path, "big.py"), 1_000_000)
    assert result == SkippedFile(
        "big.py", "larger than max_file_bytes (1,000,000): 2,345,678 bytes"
    )
    exact = write(tmp_path, "exact.py", "x" * 100)
    assert read_source(source_file(exact, "exact.py"), 100) == "x" * 100


def test_read_source_binary(tmp_path: Path) -> None:
    path = write(tmp_path, "data.py", b"x = 1\n\x00\x01\x02")
    assert read_source(source_file(path, "data.py"), 1000) == SkippedFile(
        "data.py", "binary file (NUL byte in the first 8 KiB)"
    )


def test_read_source_nul_after_sniff_window_is_a_decode_matter(tmp_path: Path) -> None:
    content = b"#" * 9000 + b"\x00"
    path = write(tmp_path, "late.py", content)
    assert read_source(source_file(path, "late.py"), 100_000) == content.decode()


def test_read_source_not_utf8(tmp_path: Path) -> None:
    path = write(tmp_path, "latin.py", b"# caf\xe9\n" + b"x = 1\n" + b"\xff\n")
    assert read_source(source_file(path, "latin.py"), 1000) == SkippedFile(
        "latin.py", "not UTF-8 text: invalid continuation byte at offset 5"
    )
    bad_start = write(tmp_path, "start.py", b"x = 1  # \x80\n")
    assert read_source(source_file(bad_start, "start.py"), 1000) == SkippedFile(
        "start.py", "not UTF-8 text: invalid start byte at offset 9"
    )
    with_bom = write(tmp_path, "bom.py", b"\xef\xbb\xbf\x80")
    assert read_source(source_file(with_bom, "bom.py"), 1000) == SkippedFile(
        "bom.py", "not UTF-8 text: invalid start byte at offset 3"
    )


def test_read_source_unreadable(unprivileged: Unprivileged) -> None:
    path = write(unprivileged.root, "locked.py")
    path.chmod(0)
    f = source_file(path, "locked.py")
    assert unprivileged.run(functools.partial(read_source, f, 1000)) == SkippedFile(
        "locked.py", "unreadable: PermissionError: Permission denied"
    )


def test_read_source_vanished_file(tmp_path: Path) -> None:
    path = write(tmp_path, "gone.py")
    f = source_file(path, "gone.py")
    path.unlink()
    assert read_source(f, 1000) == SkippedFile(
        "gone.py", "unreadable: FileNotFoundError: No such file or directory"
    )


def test_read_source_refuses_a_symlink(tmp_path: Path) -> None:
    target = write(tmp_path, "target.py")
    link = tmp_path / "link.py"
    link.symlink_to(target)
    f = SourceFile(path="link.py", abs_path=link, size=0, mtime_ns=0)
    assert read_source(f, 1000) == SkippedFile("link.py", "a symbolic link; links are not followed")


def test_read_source_refuses_a_fifo(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.py"
    os.mkfifo(fifo)
    f = SourceFile(path="pipe.py", abs_path=fifo, size=0, mtime_ns=0)
    assert read_source(f, 1000) == SkippedFile("pipe.py", "not a regular file")


def test_unreadable_directory_is_skipped(unprivileged: Unprivileged) -> None:
    root = unprivileged.root
    write(root, "locked/a.py")
    write(root, "open.py")
    (root / "locked").chmod(0)
    try:
        assert unprivileged.run(functools.partial(scanned, root)) == ["open.py"]
    finally:
        (root / "locked").chmod(0o755)  # so the fixture can remove it


def test_filter_must_match_the_scanned_root(tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    with pytest.raises(ValueError, match="filter was built for"):
        list(scan_workspace(tmp_path, WorkspaceFilter(other, [])))


def test_read_source_permission_error_reason_even_as_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Root reads mode-000 files, so the denial is simulated where the OS raises it.
    path = write(tmp_path, "locked.py")
    f = source_file(path, "locked.py")

    def denied(*args: object, **kwargs: object) -> int:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(os, "open", denied)
    assert read_source(f, 1000) == SkippedFile(
        "locked.py", "unreadable: PermissionError: Permission denied"
    )


def test_unlistable_directory_is_skipped_even_as_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, "locked/a.py")
    write(tmp_path, "open.py")
    real_scandir = os.scandir

    def scandir(path: Path) -> object:
        if Path(path).name == "locked":
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    assert scanned(tmp_path) == ["open.py"]
