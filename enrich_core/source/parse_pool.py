"""A scan's parsing on every core: worker processes that read and cut files.

tree-sitter holds the GIL while it parses (a second thread parsing gains
nothing, measured), and cutting a file is Python work under the GIL too, so a
first scan of a large workspace would keep one core busy and leave the others
idle. `ParsePool` shares that work between worker processes, one per core,
each `python -m enrich_core.source.parse_pool`: it is sent batches of walked
files and answers with their `ParsedFile`s (or why each is skipped), as
length-prefixed pickles over its stdin and stdout. Workers cost CPU of their
own (a Python start each, the pickles: ~0.5 s for Django's 885 files), so
unless `[index] parse_workers` says how many, they start only when the cores
are mostly idle (`cores_are_free`); on a busy machine the scan's thread parses.
`gloss serve` starts them before it loads the LSP layer (`start_spares`), so
their start overlaps the server's own; the first scan's pool takes them.

The scan decides everything else: which files are wanted (a worker reads only
the paths it is sent, through the same `read_source` checks), in what order
(answers are taken in the order asked), and what is written (a worker never
opens the store). A worker that dies or answers nonsense costs nothing but
time: its batch, and every later one, is parsed in the scan's own thread.
Workers exit when their stdin closes, so none outlives the process that
started it; `close()` tells them to end and `wait_closed()` waits for that
(killing any that does not end within a few seconds).
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import struct
import subprocess
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import IO, Final

from enrich_core.source.discovery import SkippedFile, SourceFile
from enrich_core.source.parsed_file import ParsedFile, parse_source_file

logger = logging.getLogger(__name__)

__all__ = ["ParsePool", "cores_are_free", "end_spares", "start_spares", "usable_cores"]

# A pool pays for itself only with many files to parse: a chunk of the scan with
# fewer changed files than this (an ordinary rescan, a few edits) never starts it.
MIN_FILES_TO_START: Final = 32
# Chunks handed to the workers ahead of the one the scan waits for: enough that a
# worker always has the next batch queued when it finishes one.
CHUNKS_AHEAD: Final = 3
CLOSE_WAIT_S: Final = 5.0
# Spares (start_spares) no scan took within this long are ended: a first scan starts
# within a second of the editor's `initialized`.
SPARES_WAIT_S: Final = 30.0
_HEADER = struct.Struct("<Q")
# A worker's answer pipe: room for a batch's answer or two (see _widen_pipe).
PIPE_BYTES: Final = 2**20
# A worker's answer for a batch of files is bounded by the files' size (max_file_bytes
# each) several times over; anything claiming more is not an answer.
_ANSWER_LIMIT_PER_FILE: Final = 64


def cores_are_free(cores: int) -> bool:
    """Whether a machine of `cores` cores has most of them idle (the 1-minute load
    average below cores - 1/2): workers cost ~0.5 s of CPU more than parsing here
    (their start, the pickles), which pays only when they run beside this process,
    not when they take turns with other work for the same cores. One core never is."""
    if cores < 2:
        return False
    try:
        return os.getloadavg()[0] < cores - 0.5
    except OSError:
        return True


def usable_cores() -> int:
    """The cores this process may run on (its affinity, where the OS tells it)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


@dataclass(slots=True)
class _Worker:
    process: subprocess.Popen[bytes]
    alive: bool = True


# Workers started before any scan asked for them (`start_spares`), taken by the
# first pool that starts; whatever is left is ended with the first pool that closes.
_spares: list[_Worker] = []


def start_spares() -> None:
    """Start one parse worker per core now, if the cores are mostly idle, for the first
    scan to take: `gloss serve` calls this before it imports the LSP layer, so the
    workers' own start (a Python start each, ~0.1 s of CPU) runs on the idle cores
    while the server loads, not beside the scan. A scan with little to parse, or
    `[index] parse_workers` set, leaves them unused: they end with its pool, or after
    SPARES_WAIT_S if no scan ever runs (a store another Gloss writes, a bad config)."""
    if _spares or not cores_are_free(usable_cores()):
        return
    for _ in range(usable_cores()):
        worker = _spawn()
        if worker is None:
            break
        _spares.append(worker)
    timer = threading.Timer(SPARES_WAIT_S, end_spares)
    timer.daemon = True
    timer.start()


def end_spares() -> None:
    """End the spares no pool has taken, and wait for them (a thread's work)."""
    taken, dead = _take_spares(len(_spares))
    for worker in taken + dead:
        _end(worker)
        _reap(worker)


def _take_spares(count: int) -> tuple[list[_Worker], list[_Worker]]:
    """Up to `count` live spares, and the dead ones met on the way (to be reaped)."""
    taken: list[_Worker] = []
    dead: list[_Worker] = []
    while len(taken) < count:
        try:
            worker = _spares.pop(0)
        except IndexError:  # none left (another folder's scan took the last)
            break
        if worker.process.poll() is None:
            taken.append(worker)
        else:
            _end(worker)
            dead.append(worker)
    return taken, dead


def _spawn() -> _Worker | None:
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "enrich_core.source.parse_pool"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            # A worker's own complaints (an extractor bug) go where ours go.
            stderr=None,
            close_fds=True,
        )
    except OSError as exc:
        logger.warning("cannot start a parse worker (%s); parsing in this process", exc)
        return None
    if process.stdout is not None:
        _widen_pipe(process.stdout.fileno())
    return _Worker(process)


def _reap(worker: _Worker) -> None:
    """After `_end`: the worker has exited (killed if it did not in time), its pipe closed."""
    try:
        worker.process.wait(timeout=CLOSE_WAIT_S)
    except subprocess.TimeoutExpired:
        worker.process.kill()
        worker.process.wait()
    with contextlib.suppress(OSError):
        if worker.process.stdout is not None:
            worker.process.stdout.close()


def _end(worker: _Worker) -> None:
    """Close a worker's stdin (it exits at the end of its input); no wait."""
    worker.alive = False
    with contextlib.suppress(OSError):
        if worker.process.stdin is not None:
            worker.process.stdin.close()


@dataclass(frozen=True, slots=True)
class Job:
    """One batch handed out: its files, split in order over the workers."""

    parts: tuple[tuple[_Worker | None, tuple[SourceFile, ...]], ...]


class ParsePool:
    """Worker processes for one scan, started only once the scan finds enough to parse.

    Used from the one thread that runs the scan's chunks (`Indexer.scan_chunks`);
    `close()` may come from another thread (the scan was cancelled): the scan's
    thread then meets closed pipes and parses the rest itself.
    """

    def __init__(
        self,
        max_file_bytes: int,
        workers: int | None = None,
        *,
        min_files: int = MIN_FILES_TO_START,
        depth: int = CHUNKS_AHEAD,
    ) -> None:
        self.max_file_bytes = max_file_bytes
        # None: one per core, if the cores are free when the workers would start.
        self.chosen = workers
        self.size = workers if workers is not None else usable_cores()
        self.min_files = min_files
        self.depth = depth
        self.started = False
        self.broken = False  # a worker failed: the rest is parsed in the scan's thread
        self.warm = False  # every worker was started before (start_spares): none is loading
        self._workers: list[_Worker] = []
        self._closed = False
        self._unused_spares: list[_Worker] = []  # ended by this pool's close

    def wants(self, changed_files: int) -> bool:
        """Whether a chunk with this many files to parse is worth starting the workers."""
        return (
            not self.started
            and not self._closed
            and self.size > 0
            and changed_files >= self.min_files
            and (self.chosen is not None or cores_are_free(self.size))
        )

    def start(self) -> None:
        """Start the workers; they load Python and the grammars while the scan goes on."""
        if self.started or self._closed:
            return
        self.started = True
        self._workers, dead = _take_spares(self.size)
        self._unused_spares += dead
        self.warm = len(self._workers) == self.size
        while len(self._workers) < self.size:
            worker = _spawn()
            if worker is None:
                break
            self._workers.append(worker)
        if not self._workers:
            self.broken = True

    def submit(self, files: Sequence[SourceFile]) -> Job:
        """Hand `files` to the workers, split in order; answers are read by `results`."""
        live = [w for w in self._workers if w.alive] if not self.broken else []
        if not files or not live:
            return Job(((None, tuple(files)),))
        parts: list[tuple[_Worker | None, tuple[SourceFile, ...]]] = []
        for worker, part in zip(live, split_by_size(files, len(live)), strict=False):
            parts.append((worker if self._send(worker, part) else None, part))
        return Job(tuple(parts))

    def results(self, job: Job) -> list[ParsedFile | SkippedFile]:
        """The job's files parsed, in the order handed out (waits for the workers)."""
        out: list[ParsedFile | SkippedFile] = []
        for worker, part in job.parts:
            answer = self._receive(worker, part) if worker is not None else None
            if answer is None:
                answer = [parse_source_file(f, self.max_file_bytes) for f in part]
            out.extend(answer)
        return out

    def close(self) -> None:
        """Tell the workers to end (their stdin closes) without waiting: safe on the
        event loop. `wait_closed` then waits for them."""
        self._closed = True
        # Spares no pool took: the first scan is done without them.
        taken, dead = _take_spares(len(_spares))
        self._unused_spares += taken + dead
        for worker in self._workers + self._unused_spares:
            _end(worker)

    def wait_closed(self) -> None:
        """After `close`: each worker has exited (killed if it did not in time)."""
        self.close()
        workers, self._workers = self._workers + self._unused_spares, []
        self._unused_spares = []
        for worker in workers:
            _reap(worker)

    def _send(self, worker: _Worker, part: tuple[SourceFile, ...]) -> bool:
        stdin = worker.process.stdin
        if not worker.alive or stdin is None:
            return False
        try:
            _write_frame(stdin, pickle.dumps((part, self.max_file_bytes), pickle.HIGHEST_PROTOCOL))
        except (OSError, ValueError) as exc:  # a closed pipe: it died, or close() came
            self._lost(worker, f"could not be sent files: {exc}")
            return False
        return True

    def _receive(
        self, worker: _Worker, part: tuple[SourceFile, ...]
    ) -> list[ParsedFile | SkippedFile] | None:
        stdout = worker.process.stdout
        if not worker.alive or stdout is None:
            return None
        limit = (self.max_file_bytes + 4096) * _ANSWER_LIMIT_PER_FILE * len(part)
        try:
            blob = _read_frame(stdout, limit)
            answer = pickle.loads(blob) if blob is not None else None
        except (OSError, ValueError, pickle.UnpicklingError, EOFError) as exc:
            self._lost(worker, f"answered nonsense: {exc}")
            return None
        if answer is None:
            self._lost(worker, f"exited ({worker.process.poll()})")
            return None
        if not _answers(answer, part):
            self._lost(worker, "answered for other files than it was sent")
            return None
        return list(answer)

    def _lost(self, worker: _Worker, why: str) -> None:
        if not self._closed:
            logger.warning("a parse worker %s; the scan parses the rest itself", why)
        worker.alive = False
        self.broken = True


def _widen_pipe(fd: int) -> None:
    """Let a worker's answers wait in the pipe, not in the worker: a batch's answer is
    several hundred KB (the spans' texts), far past a pipe's default 64 KB, so a worker
    that finished its batch sat blocked in `write` until the scan's thread, busy
    handing on an earlier chunk, read it, and parsed nothing meanwhile. Linux only
    (F_SETPIPE_SZ); elsewhere, or past the system's limit (pipe-max-size), the pipe
    stays as it is."""
    try:
        import fcntl
    except ImportError:
        return
    set_size = getattr(fcntl, "F_SETPIPE_SZ", None)
    if set_size is not None:
        with contextlib.suppress(OSError):
            fcntl.fcntl(fd, set_size, PIPE_BYTES)


def split_by_size(files: Sequence[SourceFile], count: int) -> list[tuple[SourceFile, ...]]:
    """`files` in up to `count` runs, in order, of about equal bytes: a file's parse
    costs about its size, and the answers are taken in order, so runs of equal counts
    (Django's db/models beside its small __init__ files) left one worker idle while
    the other parsed twice as long."""
    total = sum(max(f.size, 1) for f in files)
    runs: list[tuple[SourceFile, ...]] = []
    start = 0
    done = 0  # bytes of the files before `files[i]`
    for i, f in enumerate(files):
        size = max(f.size, 1)
        target = total * (len(runs) + 1) / count
        if len(runs) < count - 1 and done + size >= target:
            # The run ends before or after this file, whichever is nearer its share.
            end = i if i > start and target - done < done + size - target else i + 1
            runs.append(tuple(files[start:end]))
            start = end
        done += size
    if start < len(files):
        runs.append(tuple(files[start:]))
    return runs


def _answers(answer: object, part: tuple[SourceFile, ...]) -> bool:
    """Whether an answer is one result per file sent, in order."""
    if not isinstance(answer, list) or len(answer) != len(part):
        return False
    return all(
        isinstance(r, ParsedFile | SkippedFile) and r.path == f.path
        for r, f in zip(answer, part, strict=True)
    )


def _write_frame(stream: IO[bytes], blob: bytes) -> None:
    stream.write(_HEADER.pack(len(blob)))
    stream.write(blob)
    stream.flush()


def _read_frame(stream: IO[bytes], limit: int) -> bytes | None:
    """One frame's body; None at a clean end of input."""
    header = stream.read(_HEADER.size)
    if not header:
        return None
    if len(header) != _HEADER.size:
        raise ValueError("a frame header cut short")
    (length,) = _HEADER.unpack(header)
    if length > limit:
        raise ValueError(f"a frame of {length:,} bytes, more than {limit:,}")
    body = stream.read(length)
    if len(body) != length:
        raise ValueError(f"a frame cut short: {len(body):,} of {length:,} bytes")
    return body


def serve(requests: IO[bytes], answers: IO[bytes]) -> None:
    """The worker: parse each batch sent, answer in order, until the input ends."""
    while True:
        blob = _read_frame(requests, sys.maxsize)
        if blob is None:
            return
        files, max_file_bytes = pickle.loads(blob)
        parsed = [parse_source_file(f, max_file_bytes) for f in files]
        _write_frame(answers, pickle.dumps(parsed, pickle.HIGHEST_PROTOCOL))


if __name__ == "__main__":
    with contextlib.suppress(BrokenPipeError, KeyboardInterrupt):
        serve(sys.stdin.buffer, sys.stdout.buffer)
