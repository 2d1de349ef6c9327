"""What a language's calls and writes mean, as plain data: read by `source.code_facts`.

The facts query of a language (`queries/<query>-facts.scm`, captures in
`queries/README.md`) finds the calls, raises and assignments of a span; the row
here says which of them are side effects or known to raise. A row is keyed by
the language table's name (`LanguageSpec.name`); a language with a facts query
and no row here reports calls and direct raises only, never a guessed effect.

Patterns are regular expressions matched whole (`re.fullmatch`) against the
callee as written, whitespace removed and every call's arguments dropped:
`Path(p).read_text()` is matched as `Path().read_text`, `self.log.info(...)`
as `self.log.info`. Kinds are EffectKind values as strings ("file",
"network", "subprocess", "environment", "logging"); "argument" and "global"
come from writes, not from names. Like the language table this module is data
every stage may read, so it imports nothing of the project.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["FACTS", "FactsData", "facts_data"]


@dataclass(frozen=True, slots=True)
class FactsData:
    """One language's knowledge of what calls and writes do."""

    # (callee pattern, effect kind): a call whose callee matches has that effect.
    calls: tuple[tuple[str, str], ...] = ()
    # (pattern, effect kind) over `@access` captures: a name whose mere use is an
    # effect (Python's `os.environ[...]`), matched like callees.
    accesses: tuple[tuple[str, str], ...] = ()
    # (callee pattern, exception as written): calls known to raise (`int` -> ValueError).
    raisers: tuple[tuple[str, str], ...] = ()
    # Methods that change the object they are called on (`items.append(x)`): called
    # on a parameter, an argument mutation.
    mutators: frozenset[str] = frozenset()
    # True where every parameter refers to the caller's object (Python, JavaScript,
    # Ruby); False where parameters are copies unless the query captures them as
    # `@parameter.shared` (Go's pointers, slices, maps and channels).
    shared_by_default: bool = True
    # Methods whose writes to their own receiver are no side effect a reader wants
    # listed: a constructor setting its fields. The receiver is the first parameter.
    constructors: frozenset[str] = frozenset()
    # The exception of a raise whose type is not written and not caught around it
    # (Go's `panic(...)`): "" leaves it unnamed.
    untyped_raise: str = ""
    # True where assigning a bare name makes it local (Python, unless declared
    # `global`/`nonlocal`); False where it may be module state (Go's package vars).
    bare_names_local: bool = False
    # Node types whose code does not run when the span runs (Python's decorators run
    # once, at definition): their captures are left out.
    outside: frozenset[str] = frozenset()
    # Text put before and after a method's own text so that it parses as a member,
    # not as broken top-level code (`("class _ {\n", "\n}")` for Java or TypeScript);
    # the prefix must end with a line break. Empty: a method parses on its own
    # (Python once dedented, Go).
    member_wrapper: tuple[str, str] = ("", "")
    # Exceptions the language's operators and statements raise with no call and no
    # raise in sight (Python's `d[k]` KeyError, `a / b` ZeroDivisionError): a model
    # may rightly claim them where the facts show nothing. None: any exception may
    # (a claimed raise cannot be checked against the facts).
    implicit_raises: frozenset[str] | None = None


_PY_LOG_LEVELS = r"(debug|info|warning|warn|error|exception|critical|fatal|log)"

PYTHON = FactsData(
    calls=(
        # file
        (r"(io\.|codecs\.|os\.|gzip\.|bz2\.|lzma\.|tarfile\.|zipfile\.ZipFile|aiofiles\.)?"
         r"open", "file"),
        (r"os\.(remove|unlink|rename|renames|replace|mkdir|makedirs|rmdir|removedirs|listdir"
         r"|scandir|walk|stat|lstat|chmod|chown|truncate|symlink|link|utime|fsync|write|read)",
         "file"),
        (r"os\.path\.(exists|lexists|isfile|isdir|islink|getsize|getmtime|getatime"
         r"|getctime)", "file"),
        (r"(shutil|tempfile|glob|fileinput|filecmp)\.\w+", "file"),
        (r"(pathlib\.)?Path\(\)\.(open|read_text|write_text|read_bytes|write_bytes|unlink|mkdir"
         r"|rmdir|touch|exists|is_file|is_dir|iterdir|glob|rglob|stat|rename|replace|resolve"
         r"|symlink_to|chmod)", "file"),
        (r".+\.(read_text|write_text|read_bytes|write_bytes|iterdir|rglob|mkdir|rmdir|unlink"
         r"|touch|symlink_to)", "file"),
        # network
        (r"(socket|ssl|urllib\.request|urllib3|http\.client|aiohttp|smtplib|ftplib|poplib"
         r"|imaplib|telnetlib|xmlrpc\.client|websockets|websocket)\.[\w.]+", "network"),
        (r"(requests|httpx)\.(get|post|put|patch|delete|head|options|request|stream|Client"
         r"|AsyncClient|Session|session)", "network"),
        (r"urlopen|asyncio\.(open_connection|start_server|open_unix_connection)", "network"),
        # subprocess
        (r"subprocess\.\w+|asyncio\.create_subprocess_(exec|shell)", "subprocess"),
        (r"os\.(system|popen|exec\w*|spawn\w*|fork|forkpty|posix_spawn\w*)", "subprocess"),
        # environment
        (r"os\.(getenv|putenv|unsetenv|getenvb)|os\.environ(\.\w+)?", "environment"),
        # logging
        (r"print|pprint\.pprint|pprint|warnings\.warn(_explicit)?", "logging"),
        (r"sys\.(stdout|stderr)\.(write|writelines|flush)", "logging"),
        (r"logging\." + _PY_LOG_LEVELS + r"|logging\.basicConfig", "logging"),
        (r"(?i)([\w().]+\.)?_*(log|logger|logging|_log|_logger)\." + _PY_LOG_LEVELS, "logging"),
    ),
    accesses=((r"os\.environ(b)?", "environment"),),
    raisers=(
        (r"(io\.)?open", "OSError"),
        (r"os\.(remove|unlink|rename|replace|mkdir|makedirs|rmdir|removedirs|listdir|scandir"
         r"|stat|chmod|chown)", "OSError"),
        (r".+\.(read_text|write_text|read_bytes|write_bytes|iterdir|mkdir|rmdir|unlink)",
         "OSError"),
        (r"int|float", "ValueError"),
        (r"(datetime\.)?(datetime|date|time)\.(strptime|fromisoformat)", "ValueError"),
        (r"json\.loads?", "json.JSONDecodeError"),
        (r"next", "StopIteration"),
        (r"subprocess\.(check_call|check_output)", "subprocess.CalledProcessError"),
        (r"(urllib\.request\.)?urlopen", "urllib.error.URLError"),
        (r".+\.raise_for_status", "HTTPError"),
        (r"(importlib\.)?import_module|__import__", "ImportError"),
    ),
    mutators=frozenset(
        "append extend insert pop popitem remove clear update setdefault add discard sort "
        "reverse appendleft extendleft popleft rotate difference_update intersection_update "
        "symmetric_difference_update".split()
    ),
    constructors=frozenset({"__init__", "__new__", "__post_init__", "__init_subclass__"}),
    bare_names_local=True,
    outside=frozenset({"decorator"}),
    # Operators, subscripts, attribute reads, unpacking, iteration, asserts, and
    # the generic names a careful reader may use for any of them.
    implicit_raises=frozenset(
        "KeyError IndexError LookupError ZeroDivisionError ArithmeticError OverflowError "
        "FloatingPointError TypeError AttributeError ValueError NameError UnboundLocalError "
        "StopIteration StopAsyncIteration RecursionError MemoryError AssertionError "
        "RuntimeError NotImplementedError UnicodeError UnicodeDecodeError UnicodeEncodeError "
        "Exception BaseException".split()
    ),
)  # fmt: skip

GO = FactsData(
    calls=(
        # file
        (r"os\.(Open|OpenFile|Create|CreateTemp|ReadFile|WriteFile|ReadDir|Remove|RemoveAll"
         r"|Rename|Mkdir|MkdirAll|MkdirTemp|Stat|Lstat|Chmod|Chown|Chtimes|Truncate|Symlink"
         r"|Link|Readlink|DirFS)", "file"),
        (r"(ioutil|afero)\.\w+", "file"),
        (r"filepath\.(Walk|WalkDir|Glob|EvalSymlinks)|fs\.(ReadFile|ReadDir|WalkDir|Glob"
         r"|Stat)", "file"),
        # network
        (r"http\.(Get|Post|PostForm|Head|ListenAndServe|ListenAndServeTLS|Serve|ServeTLS)",
         "network"),
        (r"net\.(Dial|DialTCP|DialUDP|DialIP|DialUnix|DialTimeout|Listen|ListenTCP|ListenUDP"
         r"|ListenIP|ListenUnix|ListenPacket|Lookup\w+|ResolveTCPAddr|ResolveUDPAddr)", "network"),
        (r"(rpc|smtp|grpc)\.(Dial\w*|SendMail|NewClient)", "network"),
        (r"([\w.]*[cC]lient)\.(Do|Get|Post|PostForm|Head)", "network"),
        # subprocess
        (r"exec\.(Command|CommandContext|LookPath)|syscall\.(Exec|ForkExec)"
         r"|os\.StartProcess", "subprocess"),
        # environment
        (r"os\.(Getenv|Setenv|Unsetenv|LookupEnv|Environ|ExpandEnv|Clearenv)", "environment"),
        # logging
        (r"log\.(Print|Printf|Println|Fatal|Fatalf|Fatalln|Panic|Panicf|Panicln|Output)",
         "logging"),
        (r"fmt\.(Print|Printf|Println)|println|print", "logging"),
        (r"slog\.(Debug|Info|Warn|Error|Log|DebugContext|InfoContext|WarnContext|ErrorContext"
         r"|LogAttrs)", "logging"),
        (r"(?i)([\w().]+\.)?_*(log|logger|slog)\.(debug|info|warn|warning|error|fatal|panic"
         r"|print)(f|ln|w|context)?", "logging"),
    ),
    raisers=(
        (r"log\.(Panic|Panicf|Panicln)", "panic"),
        (r"regexp\.(MustCompile|MustCompilePOSIX)|template\.Must|\w+\.Must\w*", "panic"),
    ),
    shared_by_default=False,
    untyped_raise="panic",
)  # fmt: skip

# Keyed by LanguageSpec.name; TypeScript's rows serve TSX too (same query files).
FACTS: dict[str, FactsData] = {
    "python": PYTHON,
    "go": GO,
}


def facts_data(language: str) -> FactsData | None:
    return FACTS.get(language)
