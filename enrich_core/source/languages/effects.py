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
    # Node types that open a scope of their own: a `global`/`nonlocal` declaration
    # holds only in the innermost one around it (a nested function's `nonlocal n`
    # leaves its outer function's `n = 0` a local). Empty: the whole span is one scope.
    scopes: frozenset[str] = frozenset()
    # True where a call may look like no call: Ruby calls a method by its bare name
    # (`log`), C and C++ macros run code without parentheses (`LOCK;`). There a span
    # with no captured call may still call something, and the gate never reads "no
    # call" as proof that a claimed effect or raise is wrong.
    bare_calls: bool = False
    # Text put before and after a method's own text so that it parses as a member,
    # not as broken top-level code (`("class _ {\n", "\n}")` for Java or TypeScript);
    # the prefix must end with a line break. Empty: a method parses on its own
    # (Python once dedented, Go).
    member_wrapper: tuple[str, str] = ("", "")
    # The same for every other span: text a language needs before any code (PHP's
    # `<?php` tag; its member_wrapper carries the tag too).
    wrapper: tuple[str, str] = ("", "")
    # Node types that are names: a bare target of one is a local or a global, and a
    # write's root is the first one in its target (PHP's `name` in `$items[]`,
    # Ruby's `@count` and `$config`, `this`).
    names: frozenset[str] = frozenset({"identifier"})
    # The receiver where it is no parameter (`this`, Ruby's `self` and `@fields`), as
    # a pattern a write's root matches whole: its writes change the caller's object,
    # except in a constructor (named in `constructors`, or as its class).
    receiver: str = ""
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
    scopes=frozenset({"function_definition", "lambda", "class_definition"}),
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

# JavaScript, TypeScript and TSX: one row (their facts queries share ecmascript-facts.scm).
_JS_LOG_LEVELS = r"(debug|info|warn|warning|error|fatal|trace|verbose|silly|log)"

ECMASCRIPT = FactsData(
    calls=(
        # file
        (r"(fs|fsp|fsPromises|fs\.promises|fse|fsExtra)\.\w+", "file"),
        (r"(readFile|writeFile|appendFile|readdir|mkdir|mkdtemp|rmdir|unlink|copyFile"
         r"|createReadStream|createWriteStream)(Sync)?|(existsSync|statSync|lstatSync|openSync"
         r"|renameSync|rmSync|accessSync)", "file"),
        (r"Deno\.(readTextFile|readFile|writeTextFile|writeFile|open|create|remove|mkdir|readDir"
         r"|rename|stat|lstat|copyFile|makeTempFile|makeTempDir|truncate)(Sync)?"
         r"|Bun\.(file|write)", "file"),
        # network
        (r"(window\.|globalThis\.)?fetch|navigator\.sendBeacon", "network"),
        (r"(http|https|http2)\.(request|get|createServer|connect)", "network"),
        (r"axios(\.(get|post|put|patch|delete|head|options|request|create))?", "network"),
        (r"XMLHttpRequest|WebSocket|EventSource", "network"),
        (r"(net|tls)\.(connect|createConnection|createServer)|dgram\.createSocket", "network"),
        (r"\$\.(ajax|getJSON|post)|superagent\.\w+", "network"),
        # subprocess
        (r"(child_process|childProcess)\.(exec|execSync|execFile|execFileSync|spawn|spawnSync"
         r"|fork)", "subprocess"),
        (r"exec|execSync|execFile|execFileSync|spawn|spawnSync|execa(Sync)?|execa\.\w+",
         "subprocess"),
        (r"Deno\.(run|Command)|Bun\.(spawn|spawnSync)", "subprocess"),
        # environment
        (r"Deno\.env\.(get|set|delete|has|toObject)", "environment"),
        # logging
        (r"console\.\w+|process\.(stdout|stderr)\.write", "logging"),
        (r"(?i)([\w().]+\.)?_*(log|logger)\." + _JS_LOG_LEVELS, "logging"),
    ),
    # The outermost name of a chain is matched: `process.env.HOME`, `process.env.HOME.trim`.
    accesses=((r"(process|import\.meta)\.env\b.*", "environment"),),
    raisers=(
        (r"JSON\.parse", "SyntaxError"),
        (r"decodeURI(Component)?|encodeURI(Component)?", "URIError"),
        (r"URL", "TypeError"),
        (r"fs\.(readFileSync|writeFileSync|appendFileSync|readdirSync|mkdirSync|mkdtempSync"
         r"|rmdirSync|rmSync|unlinkSync|renameSync|copyFileSync|openSync|statSync|lstatSync"
         r"|accessSync|realpathSync|readlinkSync)", "Error"),
        (r"assert\.(ok|equal|strictEqual|deepEqual|deepStrictEqual|notEqual|notStrictEqual"
         r"|notDeepEqual|notDeepStrictEqual|throws|match|fail|ifError)", "AssertionError"),
    ),
    mutators=frozenset(
        "push pop shift unshift splice sort reverse fill copyWithin set delete clear add".split()
    ),
    constructors=frozenset({"constructor"}),
    member_wrapper=("class _ {\n", "\n}"),
    names=frozenset({"identifier", "this"}),
    receiver="this",
    # A TypeError from a property of undefined, a RangeError from an array length, a
    # ReferenceError from an undeclared name.
    implicit_raises=frozenset("TypeError RangeError ReferenceError Error".split()),
)  # fmt: skip

JAVA = FactsData(
    calls=(
        # file
        (r"Files\.\w+|(java\.nio\.file\.)?Paths?\.of\(\)\.(toFile|toRealPath)", "file"),
        (r"(FileInputStream|FileOutputStream|FileReader|FileWriter|RandomAccessFile|ZipFile"
         r"|JarFile)", "file"),
        (r".+\.(createNewFile|deleteOnExit|mkdir|mkdirs|renameTo|listFiles|setLastModified"
         r"|setReadOnly|setWritable)", "file"),
        # network
        (r"HttpClient(\.newHttpClient|\.newBuilder)?|.+\.(openConnection|openStream)", "network"),
        (r"Socket|ServerSocket|DatagramSocket", "network"),
        (r"[\w.]*[cC]lient\.(send|sendAsync|execute|get|post|put|delete|exchange)", "network"),
        (r"[\w.]*restTemplate\.\w+|[\w.]*webClient\.\w+", "network"),
        # subprocess
        (r"ProcessBuilder|Runtime\.getRuntime\(\)\.exec|.+\.inheritIO", "subprocess"),
        # environment
        (r"System\.getenv", "environment"),
        # logging
        (r"System\.(out|err)\.(print|println|printf|format|write|flush)", "logging"),
        (r".+\.printStackTrace", "logging"),
        (r"(?i)([\w().]+\.)?_*(log|logger)\.(trace|debug|info|warn|warning|error|fatal|severe"
         r"|fine|finer|finest|config|log)", "logging"),
    ),
    raisers=(
        (r"(Integer|Long|Short|Byte)\.(parse\w+|valueOf|decode)|(Double|Float)\.(parse\w+"
         r"|valueOf)|new(BigInteger|BigDecimal)", "NumberFormatException"),
        (r"(java\.util\.)?Objects\.requireNonNull", "NullPointerException"),
        (r"Files\.(read\w*|write\w*|new\w+|lines|list|walk|find|delete\w*|create\w+|copy|move"
         r"|size|mismatch)", "IOException"),
        (r"FileInputStream|FileReader|FileOutputStream|FileWriter", "FileNotFoundException"),
        (r"Thread\.sleep|[\w.]*[tT]hread\.join", "InterruptedException"),
        (r"Class\.forName", "ClassNotFoundException"),
        (r"UUID\.fromString|Enum\.valueOf|URI\.create", "IllegalArgumentException"),
        (r"(LocalDate|LocalDateTime|LocalTime|Instant|ZonedDateTime|OffsetDateTime|Duration)"
         r"\.parse", "DateTimeParseException"),
        (r".+\.(getFirst|getLast|firstKey|lastKey)|.+\.iterator\(\)\.next",
         "NoSuchElementException"),
    ),
    mutators=frozenset(
        "add addAll addFirst addLast remove removeAll removeIf removeFirst removeLast retainAll "
        "clear put putAll putIfAbsent compute computeIfAbsent computeIfPresent merge replace "
        "replaceAll set sort offer offerFirst offerLast poll pollFirst pollLast push pop "
        "append insert delete deleteCharAt setLength setCharAt reverse".split()
    ),
    member_wrapper=("class _ {\n", "\n}"),
    names=frozenset({"identifier", "this"}),
    receiver="this",
    # What the JVM throws from operators, array access, casts and field access.
    implicit_raises=frozenset(
        "NullPointerException ArithmeticException ArrayIndexOutOfBoundsException "
        "IndexOutOfBoundsException ClassCastException NegativeArraySizeException "
        "ArrayStoreException OutOfMemoryError StackOverflowError RuntimeException Exception "
        "Error Throwable".split()
    ),
)  # fmt: skip

C = FactsData(
    calls=(
        # file
        (r"(fopen|freopen|fdopen|fclose|fread|fwrite|fgets|fgetc|fputs|fputc|fprintf|fscanf|fseek"
         r"|ftell|rewind|fflush|feof|ferror|getline|tmpfile|remove|rename|open|openat|creat|close"
         r"|read|write|pread|pwrite|lseek|unlink|unlinkat|mkdir|rmdir|opendir|readdir|closedir"
         r"|stat|fstat|lstat|chmod|chown|truncate|ftruncate|fsync|link|symlink|readlink"
         r"|access)", "file"),
        # network
        (r"(socket|connect|bind|listen|accept|accept4|send|sendto|sendmsg|recv|recvfrom|recvmsg"
         r"|getaddrinfo|gethostbyname|setsockopt|shutdown)", "network"),
        (r"curl_\w+", "network"),
        # subprocess
        (r"(system|popen|pclose|fork|vfork|execl|execlp|execle|execv|execvp|execvpe|execve"
         r"|posix_spawn|posix_spawnp|waitpid|wait)", "subprocess"),
        # environment
        (r"(getenv|secure_getenv|setenv|putenv|unsetenv|clearenv)", "environment"),
        # logging
        (r"(printf|puts|putchar|perror|vprintf|syslog|vsyslog|err|errx|warn|warnx)", "logging"),
    ),
    # `fprintf(stderr, ...)`: a standard stream given to a stream function.
    accesses=((r"stdout|stderr", "logging"),),
    # The caller's memory is written only through a pointer or an array.
    shared_by_default=False,
    bare_names_local=False,
    # C has no exceptions: a claimed one is never right.
    implicit_raises=frozenset(),
    bare_calls=True,
)  # fmt: skip

CPP = FactsData(
    calls=(
        # file; a POSIX name that is also a member or an algorithm (`close`, `std::remove`)
        # only when written `::close`
        (r"(std::|::)?(fopen|freopen|fdopen|fclose|fread|fwrite|fgets|fgetc|fputs|fputc"
         r"|fprintf|fscanf|fseek|ftell|rewind|fflush|tmpfile|opendir|readdir|closedir|unlink"
         r"|rmdir|mkdir|creat|ftruncate|fsync)|std::rename|::(remove|rename|open|openat|close"
         r"|read|write|pread|pwrite|lseek|stat|fstat|lstat|access|truncate|chmod|chown)",
         "file"),
        (r"(std::)?(ifstream|ofstream|fstream|wifstream|wofstream|filebuf)", "file"),
        (r"(std::)?filesystem::\w+|fs::(create_directories|create_directory|remove|remove_all"
         r"|rename|copy|copy_file|exists|file_size|directory_iterator"
         r"|recursive_directory_iterator|resize_file|last_write_time)", "file"),
        # network
        (r"(std::|::)?(socket|getaddrinfo|gethostbyname|setsockopt|sendto|recvfrom|sendmsg"
         r"|recvmsg)|::(connect|bind|listen|accept|accept4|send|recv|shutdown)|curl_\w+"
         r"|(boost::)?asio::[\w:]+", "network"),
        # subprocess
        (r"(std::|::)?(system|popen|pclose|fork|vfork|execl|execlp|execle|execv|execvp|execvpe"
         r"|execve|posix_spawn|posix_spawnp|waitpid)", "subprocess"),
        # environment
        (r"(std::|::)?(getenv|secure_getenv|setenv|putenv|unsetenv)", "environment"),
        # logging
        (r"(std::|::)?(printf|puts|putchar|perror|vprintf|syslog)|std::(print|println)"
         r"|(spdlog|fmt)::(print|println|info|warn|error|debug|trace|critical)", "logging"),
        (r"(?i)([\w().]+(\.|->))?_*(log|logger)(\.|->)(trace|debug|info|warn|warning|error"
         r"|fatal|critical|log)", "logging"),
    ),
    # `std::cout << x`: the stream left of `<<`; `std::fprintf(stderr, ...)`'s stream.
    accesses=((r"(std::)?(cout|cerr|clog|wcout|wcerr|wclog|stdout|stderr)", "logging"),),
    raisers=(
        (r"(std::)?(stoi|stol|stoll|stoul|stoull|stof|stod|stold)", "std::invalid_argument"),
        (r".+(\.|->)at", "std::out_of_range"),
        (r"(std::)?any_cast", "std::bad_any_cast"),
    ),
    mutators=frozenset(
        "push_back emplace_back pop_back push_front emplace_front pop_front insert emplace "
        "emplace_hint erase clear resize assign append swap push pop merge splice sort "
        "reverse unique remove remove_if insert_or_assign try_emplace".split()
    ),
    # Value parameters are copies: only pointers and references are the caller's.
    shared_by_default=False,
    names=frozenset({"identifier", "this"}),
    receiver="this",
    bare_calls=True,
)  # fmt: skip

CSHARP = FactsData(
    calls=(
        # file
        (r"(System\.IO\.)?(File|Directory|FileInfo|DirectoryInfo)\.\w+", "file"),
        (r"(StreamReader|StreamWriter|FileStream|BinaryReader|BinaryWriter)", "file"),
        (r".+\.(MoveTo|OpenRead|OpenWrite|OpenText|AppendText|CreateText)", "file"),
        # network
        (r"HttpClient|WebClient|TcpClient|UdpClient|Socket|HttpListener|WebRequest\.\w+",
         "network"),
        (r"[\w.]*[cC]lient\.(GetAsync|PostAsync|PutAsync|DeleteAsync|PatchAsync|SendAsync"
         r"|GetStringAsync|GetStreamAsync|GetByteArrayAsync|GetFromJsonAsync"
         r"|PostAsJsonAsync|PutAsJsonAsync|DownloadString|UploadString|Connect"
         r"|ConnectAsync)", "network"),
        # subprocess
        (r"(System\.Diagnostics\.)?Process\.Start|ProcessStartInfo", "subprocess"),
        # environment
        (r"Environment\.(GetEnvironmentVariable|GetEnvironmentVariables"
         r"|SetEnvironmentVariable|ExpandEnvironmentVariables)", "environment"),
        # logging
        (r"Console\.(Write|WriteLine|Error\.Write|Error\.WriteLine|Out\.Write"
         r"|Out\.WriteLine)", "logging"),
        (r"(System\.Diagnostics\.)?(Debug|Trace)\.(Write|WriteLine|Print|TraceInformation"
         r"|TraceWarning|TraceError)", "logging"),
        (r"(?i)([\w().]+\.)?_*(log|logger)\.(log|logtrace|logdebug|loginformation|logwarning"
         r"|logerror|logcritical|trace|debug|info|information|warn|warning|error|fatal"
         r"|verbose)", "logging"),
    ),
    raisers=(
        (r"(int|long|short|byte|uint|ulong|decimal|double|float|Int32|Int64|Int16|Decimal"
         r"|Double|Single|Guid|DateTime|DateTimeOffset|TimeSpan)\.Parse(Exact)?"
         r"|Convert\.To(U?Int\d+|Double|Single|Decimal|S?Byte|Boolean|DateTime)",
         "FormatException"),
        (r"(System\.IO\.)?(File\.(Read\w*|Write\w*|Append\w*|Open\w*|Create\w*|Delete|Copy"
         r"|Move|Replace)|Directory\.(Create\w*|Delete|Move|Get\w+|Enumerate\w+))"
         r"|StreamReader|StreamWriter|FileStream", "IOException"),
        (r"Enum\.Parse", "ArgumentException"),
        (r"ArgumentNullException\.ThrowIfNull", "ArgumentNullException"),
        (r"ArgumentException\.ThrowIfNullOrEmpty", "ArgumentException"),
        (r"(System\.Text\.Json\.)?JsonSerializer\.Deserialize", "JsonException"),
        (r".+\.(First|Last|Single)", "InvalidOperationException"),
    ),
    mutators=frozenset(
        "Add AddRange Remove RemoveAt RemoveAll RemoveRange Clear Insert InsertRange Sort "
        "Reverse Push Pop Enqueue Dequeue TryAdd TryRemove TryDequeue TryPop Append "
        "AppendLine AppendFormat Replace AddOrUpdate GetOrAdd".split()
    ),
    member_wrapper=("class _ {\n", "\n}"),
    # `this` and `base` are unnamed tokens in this grammar, names all the same.
    names=frozenset({"identifier", "this", "base"}),
    receiver="this|base",
)  # fmt: skip

RUBY = FactsData(
    calls=(
        # file
        (r"File\.(open|read|write|readlines|foreach|new|delete|unlink|rename|exist\?|file\?"
         r"|directory\?|size|size\?|mtime|atime|stat|lstat|chmod|chown|symlink|link|truncate"
         r"|binread|binwrite|readlink|utime|zero\?|empty\?)"
         r"|IO\.(read|write|readlines|foreach|binread|binwrite|copy_stream|sysopen|open)"
         r"|Dir\.(glob|entries|children|mkdir|rmdir|delete|unlink|exist\?|each_child|foreach"
         r"|chdir|mktmpdir)|FileUtils\.\w+[!?]?|open|CSV\.(read|open|foreach)"
         r"|YAML\.(load_file|safe_load_file)|Pathname\.new\(\)\.(read|write|open|readlines"
         r"|binread|binwrite|delete|unlink|mkpath|rmtree|exist\?|children|each_child)",
         "file"),
        # network
        (r"Net::(HTTP|FTP|SMTP|POP3|IMAP)(::\w+)?(\.\w+)?|URI\.open|TCPSocket(\.\w+)?"
         r"|UDPSocket(\.\w+)?|Socket\.\w+|(Faraday|HTTParty|RestClient|HTTP|Excon|Typhoeus)"
         r"\.\w+", "network"),
        # subprocess
        (r"`.*`|%x.*|system|spawn|exec|Process\.(spawn|exec|fork|wait|kill)|fork"
         r"|Open3\.\w+|IO\.popen|PTY\.spawn|Kernel\.(system|spawn|exec)", "subprocess"),
        # environment
        (r"ENV\.\w+[!?]?", "environment"),
        # logging
        (r"puts|print|p|pp|printf|putc|warn|(\$stdout|\$stderr|STDOUT|STDERR)\.(puts|print"
         r"|printf|write|syswrite|putc|flush)", "logging"),
        (r"(?i)([\w().@]+\.)?_*(log|logger)\.(debug|info|warn|error|fatal|unknown|add)"
         r"|Rails\.logger\.\w+", "logging"),
    ),
    accesses=((r"ENV", "environment"),),
    raisers=(
        (r"Integer|Float|Rational|Complex", "ArgumentError"),
        (r"JSON\.(parse|parse!|load)", "JSON::ParserError"),
        (r"(File|IO)\.(read|readlines|open|foreach|binread|write|binwrite)|File\.new"
         r"|Dir\.(mkdir|rmdir|entries|children)|FileUtils\.\w+", "SystemCallError"),
        (r"ENV\.fetch", "KeyError"),
        (r"YAML\.(load|safe_load|load_file|safe_load_file)|Psych\.\w+", "Psych::SyntaxError"),
        (r"Date\.(parse|iso8601|strptime)|Time\.(parse|iso8601|strptime)", "ArgumentError"),
    ),
    mutators=frozenset(
        "push append prepend pop shift unshift insert concat clear delete delete_at delete_if "
        "keep_if replace store update fill sort! sort_by! map! collect! select! filter! "
        "reject! uniq! compact! flatten! shuffle! reverse! rotate! slice! merge! "
        "transform_values! transform_keys! gsub! sub! squeeze! strip! lstrip! rstrip! chomp! "
        "chop! downcase! upcase! capitalize! swapcase! add add? subtract".split()
    ),
    constructors=frozenset({"initialize"}),
    # A bare name assigned in a method is its local: methods close over nothing.
    bare_names_local=True,
    # `@total` is the receiver's own field: a write to it changes the caller's object.
    names=frozenset({"identifier", "self", "instance_variable", "global_variable",
                     "class_variable", "constant"}),
    receiver=r"self|@\w+",
    bare_calls=True,
)  # fmt: skip

PHP = FactsData(
    calls=(
        # file
        (r"(include|include_once|require|require_once|fopen|fclose|fread|fwrite|fputs|fgets|fgetc"
         r"|fgetcsv|fputcsv|file|file_get_contents"
         r"|file_put_contents|readfile|unlink|rename|copy|mkdir|rmdir|opendir|readdir|scandir"
         r"|glob|touch|tempnam|tmpfile|is_file|is_dir|file_exists|filesize|filemtime|chmod"
         r"|chown|flock|fflush|ftruncate|fseek|move_uploaded_file|parse_ini_file|realpath)",
         "file"),
        (r"\\?(SplFileObject|SplFileInfo|DirectoryIterator|RecursiveDirectoryIterator"
         r"|FilesystemIterator)", "file"),
        # network
        (r"curl_\w+|fsockopen|pfsockopen|stream_socket_client|stream_socket_server"
         r"|socket_\w+|mail|get_headers|gethostbyname|dns_get_record", "network"),
        (r"(\$\w+->)*\$?\w*[cC]lient->(request|get|post|put|patch|delete|send|sendAsync"
         r"|requestAsync)|\\?GuzzleHttp\\Client|Http::\w+", "network"),
        # subprocess
        (r"exec|shell_exec|system|passthru|proc_open|popen|pcntl_fork|pcntl_exec|`.*`",
         "subprocess"),
        # environment
        (r"getenv|putenv|apache_getenv|apache_setenv", "environment"),
        # logging
        (r"echo|print|printf|vprintf|print_r|var_dump|var_export|error_log|syslog|trigger_error"
         r"|user_error", "logging"),
        (r"(?i)(\$[\w]*->)?\$?_*(log|logger)->(debug|info|notice|warning|error|critical|alert"
         r"|emergency|log)|Log::\w+", "logging"),
    ),
    accesses=((r"\$_(ENV|SERVER)", "environment"),),
    raisers=(
        (r"intdiv", "DivisionByZeroError"),
        (r"\\?(DateTime|DateTimeImmutable|DateTimeZone|DateInterval)", "Exception"),
        (r"random_int|random_bytes", "Exception"),
        (r"\\?SplFileObject", "RuntimeException"),
    ),
    # An untyped parameter may be an array (a copy): only `&$x` and a class type are shared.
    shared_by_default=False,
    constructors=frozenset({"__construct"}),
    member_wrapper=("<?php\nclass _ {\n", "\n}"),
    wrapper=("<?php\n", ""),
    names=frozenset({"name", "relative_scope"}),
    receiver="this",
    bare_names_local=True,
    implicit_raises=frozenset(
        "Error TypeError ArithmeticError DivisionByZeroError ValueError Throwable".split()
    ),
)  # fmt: skip

RUST = FactsData(
    calls=(
        # file
        (r"(std::|tokio::|async_std::)?fs::\w+|(std::fs::|fs::)?(File|OpenOptions|DirBuilder)::\w+",
         "file"),
        # network
        (r"(std::)?(net::)?(TcpStream|TcpListener|UdpSocket)::\w+|reqwest::[\w:]+"
         r"|(hyper|ureq|surf)::[\w:]+|[\w.]*client\.(get|post|put|patch|delete|execute"
         r"|request|send)", "network"),
        # subprocess
        (r"(std::|tokio::)?(process::)?Command::new", "subprocess"),
        # environment
        (r"(std::)?env::(var|var_os|vars|vars_os|set_var|remove_var)", "environment"),
        # logging
        (r"(println|eprintln|print|eprint|dbg)!", "logging"),
        (r"(log|tracing)::(trace|debug|info|warn|error|event)!|(trace|debug|info|warn"
         r"|error)!", "logging"),
        (r"(std::)?io::(stdout|stderr)", "logging"),
    ),
    raisers=(
        (r".+\.(unwrap|expect|unwrap_err|expect_err)", "panic"),
    ),
    mutators=frozenset(
        "push push_str push_back push_front pop pop_back pop_front insert remove swap_remove "
        "clear extend extend_from_slice truncate retain retain_mut sort sort_by sort_by_key "
        "sort_unstable sort_unstable_by dedup drain append reverse resize fill swap".split()
    ),
    # Values are moved or copied in: only `&mut` parameters are the caller's.
    shared_by_default=False,
    names=frozenset({"identifier", "self"}),
    # A bare name is a local: a `static mut` is written only in `unsafe` (captured as global).
    bare_names_local=True,
    untyped_raise="panic",
)  # fmt: skip

# Keyed by LanguageSpec.name; TypeScript's rows serve TSX too (same query files).
FACTS: dict[str, FactsData] = {
    "python": PYTHON,
    "go": GO,
    "javascript": ECMASCRIPT,
    "typescript": ECMASCRIPT,
    "tsx": ECMASCRIPT,
    "java": JAVA,
    "c": C,
    "cpp": CPP,
    "csharp": CSHARP,
    "ruby": RUBY,
    "php": PHP,
    "rust": RUST,
}


def facts_data(language: str) -> FactsData | None:
    return FACTS.get(language)
