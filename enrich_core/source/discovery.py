"""Which files of a workspace Gloss reads, and in what order.

A file is read only if its suffix is one of a language Gloss cuts
(`source.languages`), is not ignored (git's
.gitignore files at every level, .git/info/exclude, the configured exclude
patterns, VCS and Gloss directories, virtual environments), does not look
like a secret store, and is the workspace's own code: dependencies, build
output, minified and generated files are skipped with the reason listed
(`source.not_authored`). The walk is a sorted depth-first traversal, so the
backlog is in file order, the same order on every run.

This module must never open a file that looks like a secret store (the name is
checked before anything touches the file), never follow a symbolic link (a link
can lead out of the workspace, or round in a loop), and never descend into an
ignored directory.
"""

from __future__ import annotations

import fnmatch
import logging
import os
import stat
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import pathspec

from enrich_core.source.languages import SOURCE_SUFFIXES
from enrich_core.source.not_authored import (
    generated_reason,
    minified_name_reason,
    skip_dir_reason,
)

__all__ = [
    "SOURCE_SUFFIXES",
    "SkippedFile",
    "SourceFile",
    "WorkspaceFilter",
    "read_source",
    "scan_workspace",
]

logger = logging.getLogger(__name__)

# Repository metadata and Gloss's own store: never source, whatever the rules say.
ALWAYS_IGNORED_NAMES: frozenset[str] = frozenset({".git", ".hg", ".svn", ".gloss"})

# Matched against the lower-cased file name, so `ID_RSA` or `Secrets.PY` on a
# case-insensitive file system are caught too; a false positive only costs a
# skipped file, a false negative can leak a key.
SECRET_NAME_PATTERNS: tuple[str, ...] = (
    ".env",
    ".env.*",
    "*.env",
    "*.pem",
    "*.key",
    "*.p12",
    "*.pfx",
    "*.jks",
    "*.keystore",
    "*.kdbx",
    "id_rsa*",
    "id_dsa*",
    "id_ecdsa*",
    "id_ed25519*",
    "credentials",
    "credentials.json",
    ".netrc",
    "_netrc",
    ".pgpass",
    ".htpasswd",
    ".pypirc",
    ".npmrc",
    "secrets.*",
)
# Directories that hold keys rather than code.
SECRET_DIR_NAMES: frozenset[str] = frozenset({".ssh", ".gnupg"})

BINARY_SNIFF_BYTES = 8 * 1024
_UTF8_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True, slots=True)
class SourceFile:
    path: str
    abs_path: Path
    size: int
    mtime_ns: int


@dataclass(frozen=True, slots=True)
class SkippedFile:
    path: str
    reason: str


class _Unreadable:
    """Marks a .gitignore that exists but could not be read."""


_UNREADABLE = _Unreadable()


class WorkspaceFilter:
    """Decides, by path alone, whether a workspace file is wanted.

    Each directory's .gitignore is read, and each directory is checked for a
    virtual environment, once, the first time a path under it is asked about:
    the filter is a snapshot. Build a new one when a .gitignore or
    .git/info/exclude changes.
    """

    def __init__(self, root: Path, exclude: Sequence[str], skip_dirs: Sequence[str] = ()) -> None:
        self.root = Path(root).absolute()
        self._skip_dirs = frozenset(skip_dirs)
        self._skip_reasons: dict[str, str | None] = {}
        try:
            self._exclude = pathspec.GitIgnoreSpec.from_lines(list(exclude))
        except ValueError as error:
            raise ValueError(f"index.exclude: {error}") from error
        self._info_exclude = self._load_info_exclude()
        self._rules: dict[str, pathspec.GitIgnoreSpec | _Unreadable | None] = {}
        self._dir_matches: dict[str, bool] = {}

    def is_secret(self, rel_path: str) -> bool:
        return _secret_pattern(rel_path) is not None

    def is_ignored(self, rel_path: str, is_dir: bool = False) -> bool:
        parts = _parts(rel_path)
        if not parts:
            return False
        # As in git, nothing inside an ignored directory can be re-included.
        for depth in range(1, len(parts)):
            if self._dir_is_ignored(parts[:depth]):
                return True
        if is_dir:
            return self._dir_is_ignored(parts)
        return self._matches(parts, is_dir=False)

    def wants(self, rel_path: str) -> bool:
        """Whether the file is one Gloss reads: any event or buffer for another is dropped."""
        return self.is_candidate(rel_path) and minified_name_reason(rel_path) is None

    def is_candidate(self, rel_path: str) -> bool:
        """Source of a known language, not secret-looking, not ignored, not in a
        skipped directory: read unless its name or first lines say it is not code of
        the workspace's own (a skip that is listed, unlike these)."""
        return (
            PurePosixPath(rel_path).suffix in SOURCE_SUFFIXES
            and not self.is_secret(rel_path)
            and not self.is_ignored(rel_path)
            and self.skipped_dir(rel_path) is None
        )

    def skip_reason(self, rel_dir: str) -> str | None:
        """Why this directory (not ignored) holds no code of the workspace's own, if so."""
        if rel_dir not in self._skip_reasons:
            self._skip_reasons[rel_dir] = skip_dir_reason(self.root, rel_dir, self._skip_dirs)
        return self._skip_reasons[rel_dir]

    def skipped_dir(self, rel_path: str) -> str | None:
        """The skipped directory a file is under, if any."""
        parts = _parts(rel_path)
        for depth in range(1, len(parts)):
            if parts[depth - 1] in self._skip_dirs:
                rel_dir = "/".join(parts[:depth])
                if self.skip_reason(rel_dir) is not None:
                    return rel_dir
        return None

    def _dir_is_ignored(self, parts: Sequence[str]) -> bool:
        """Whether this directory itself matches a rule (its ancestors are not checked)."""
        key = "/".join(parts)
        cached = self._dir_matches.get(key)
        if cached is None:
            cached = self._dir_matches[key] = self._matches(parts, is_dir=True)
        return cached

    def _matches(self, parts: Sequence[str], *, is_dir: bool) -> bool:
        if parts[-1] in ALWAYS_IGNORED_NAMES:
            return True
        rel = "/".join(parts)
        # A trailing slash is how pathspec tells a directory from a file, which
        # directory-only rules such as `build/` depend on.
        probe = f"{rel}/" if is_dir else rel
        if self._exclude.match_file(probe):
            return True
        if is_dir and self._is_virtualenv(rel):
            return True
        # The nearest .gitignore that has an opinion wins, as in git; rules are
        # relative to the directory that holds them.
        for depth in range(len(parts) - 1, -1, -1):
            rules = self._rules_for("/".join(parts[:depth]))
            if rules is None:
                continue
            if isinstance(rules, _Unreadable):
                # Rules that cannot be read might have excluded anything below:
                # skipping is the only way not to send an ignored file.
                return True
            sub = "/".join(parts[depth:])
            verdict = rules.check_file(f"{sub}/" if is_dir else sub).include
            if verdict is not None:
                return verdict
        if self._info_exclude is not None:
            verdict = self._info_exclude.check_file(probe).include
            if verdict is not None:
                return verdict
        return False

    def _is_virtualenv(self, rel_dir: str) -> bool:
        try:
            return (self.root / rel_dir / "pyvenv.cfg").is_file()
        except OSError:
            return False

    def _rules_for(self, rel_dir: str) -> pathspec.GitIgnoreSpec | _Unreadable | None:
        if rel_dir in self._rules:
            return self._rules[rel_dir]
        gitignore = self.root / rel_dir / ".gitignore"
        rules: pathspec.GitIgnoreSpec | _Unreadable | None
        try:
            mode = gitignore.lstat().st_mode
        except (FileNotFoundError, NotADirectoryError):
            rules = None
        except OSError as error:
            logger.warning("cannot read %s (%s); skipping everything under it", gitignore, error)
            rules = _UNREADABLE
        else:
            # git (since 2.32) does not read a .gitignore through a symbolic link.
            rules = None
            if stat.S_ISREG(mode):
                try:
                    rules = _load_rules(gitignore)
                except OSError as error:
                    logger.warning(
                        "cannot read %s (%s); skipping everything under it", gitignore, error
                    )
                    rules = _UNREADABLE
        self._rules[rel_dir] = rules
        return rules

    def _load_info_exclude(self) -> pathspec.GitIgnoreSpec | None:
        git_dir = _git_dir(self.root)
        if git_dir is None:
            return None
        exclude = git_dir / "info" / "exclude"
        if not exclude.is_file():
            return None
        try:
            return _load_rules(exclude)
        except OSError as error:
            # Unlike a .gitignore, this file covers the whole tree: failing to
            # read it is reported, but cannot reasonably hide the workspace.
            logger.warning("cannot read %s (%s); its rules are not applied", exclude, error)
            return None


def _load_rules(path: Path) -> pathspec.GitIgnoreSpec:
    lines = path.read_bytes().decode("utf-8", "replace").splitlines()
    try:
        return pathspec.GitIgnoreSpec.from_lines(lines)
    except ValueError:
        # git skips a malformed line and keeps the others; so do we.
        valid = [line for line in lines if _is_valid_rule(line)]
        return pathspec.GitIgnoreSpec.from_lines(valid)


def _is_valid_rule(line: str) -> bool:
    try:
        pathspec.GitIgnoreSpec.from_lines([line])
    except ValueError:
        return False
    return True


def _git_dir(root: Path) -> Path | None:
    """The repository directory of ``root``: `.git`, or where a `.git` file points.

    Worktrees and submodules have a `.git` file (`gitdir: ...`), and a worktree
    keeps info/exclude in the common directory named by its `commondir` file.
    """
    dot_git = root / ".git"
    if dot_git.is_dir():
        return dot_git
    try:
        first_line = dot_git.read_text("utf-8").splitlines()[0]
    except (OSError, UnicodeDecodeError, IndexError):
        return None
    if not first_line.startswith("gitdir:"):
        return None
    git_dir = (root / first_line.removeprefix("gitdir:").strip()).resolve()
    try:
        common = (git_dir / "commondir").read_text("utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return git_dir
    return (git_dir / common).resolve()


def _parts(rel_path: str) -> list[str]:
    return [part for part in rel_path.split("/") if part not in ("", ".")]


def _secret_pattern(rel_path: str) -> str | None:
    """The pattern that makes ``rel_path`` look like a secret store, if any."""
    parts = [part.lower() for part in _parts(rel_path)]
    if not parts:
        return None
    for part in parts[:-1]:
        if part in SECRET_DIR_NAMES:
            return f"{part}/"
    name = parts[-1]
    return next((p for p in SECRET_NAME_PATTERNS if fnmatch.fnmatchcase(name, p)), None)


def scan_workspace(root: Path, flt: WorkspaceFilter) -> Iterator[SourceFile | SkippedFile]:
    """Yield the wanted files under ``root`` in sorted depth-first order.

    Entries of a directory are taken in name order, files and subdirectories
    interleaved, so `a.py`, `b/x.py`, `c.py` come out in that order. Ignored
    directories are not entered; nor are dependency and build directories,
    each yielded once as a SkippedFile whose path ends in `/`, and a minified
    file is yielded as a SkippedFile unread. Symbolic links are not followed: a link
    either points inside the workspace, whose target is found under its own
    path, or outside it, which is not the workspace's to send.
    """
    root = Path(root).absolute()
    if root != flt.root:
        raise ValueError(f"the filter was built for {flt.root}, not for {root}")
    # One iterator per open directory level, rather than recursion: deep trees
    # cannot exhaust the stack, and each directory handle is closed as soon as
    # its (sorted) listing is taken.
    pending: list[Iterator[os.DirEntry[str]]] = [iter(_sorted_entries(root))]
    prefixes = [""]
    while pending:
        entry = next(pending[-1], None)
        if entry is None:
            pending.pop()
            prefixes.pop()
            continue
        rel = prefixes[-1] + entry.name
        try:
            if entry.is_symlink():
                continue
            if entry.is_dir(follow_symlinks=False):
                if flt.is_ignored(rel, is_dir=True):
                    continue
                reason = flt.skip_reason(rel)
                if reason is not None:
                    yield SkippedFile(rel + "/", reason)
                    continue
                pending.append(iter(_sorted_entries(Path(entry.path))))
                prefixes.append(rel + "/")
                continue
            if not entry.is_file(follow_symlinks=False) or not flt.is_candidate(rel):
                continue
            minified = minified_name_reason(rel)
            if minified is not None:
                yield SkippedFile(rel, minified)
                continue
            info = entry.stat(follow_symlinks=False)
        except OSError as error:
            # Gone or inaccessible since the listing: not a file we can index.
            logger.debug("skipping %s: %s", rel, error)
            continue
        yield SourceFile(
            path=rel, abs_path=Path(entry.path), size=info.st_size, mtime_ns=info.st_mtime_ns
        )


def _sorted_entries(directory: Path) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(directory) as listing:
            return sorted(listing, key=lambda entry: entry.name)
    except OSError as error:
        logger.warning("cannot list %s (%s); its files are not indexed", directory, error)
        return []


def read_source(f: SourceFile, max_file_bytes: int) -> str | SkippedFile:
    """The text of ``f``, or why it is skipped.

    The size is checked before a byte is read, and the secret-name check is
    repeated here so that no caller can make this read a key file.
    """
    secret = _secret_pattern(f.path)
    if secret is not None:
        return SkippedFile(f.path, f"looks like a secret store (matches {secret!r}); never read")
    try:
        if stat.S_ISLNK(os.lstat(f.abs_path).st_mode):
            return SkippedFile(f.path, "a symbolic link; links are not followed")
        # O_NOFOLLOW closes the gap between the check above and the open;
        # O_NONBLOCK keeps a FIFO that replaced the file from hanging the open.
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
        fd = os.open(f.abs_path, flags)
        with os.fdopen(fd, "rb") as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode):
                return SkippedFile(f.path, "not a regular file")
            if info.st_size > max_file_bytes:
                return _too_large(f.path, max_file_bytes, f"{info.st_size:,} bytes")
            # One byte more than allowed tells a file that grew since the stat.
            data = handle.read(max_file_bytes + 1)
    except OSError as error:
        return SkippedFile(f.path, f"unreadable: {type(error).__name__}: {error.strerror or error}")
    if len(data) > max_file_bytes:
        return _too_large(f.path, max_file_bytes, f"more than {max_file_bytes:,} bytes")
    if b"\0" in data[:BINARY_SNIFF_BYTES]:
        return SkippedFile(f.path, "binary file (NUL byte in the first 8 KiB)")
    bom = len(_UTF8_BOM) if data.startswith(_UTF8_BOM) else 0
    try:
        text = data[bom:].decode("utf-8")
    except UnicodeDecodeError as error:
        return SkippedFile(f.path, f"not UTF-8 text: {error.reason} at offset {error.start + bom}")
    generated = generated_reason(text)
    if generated is not None:
        return SkippedFile(f.path, generated)
    return text


def _too_large(path: str, max_file_bytes: int, actual: str) -> SkippedFile:
    return SkippedFile(path, f"larger than max_file_bytes ({max_file_bytes:,}): {actual}")
