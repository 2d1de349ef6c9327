"""initialize / initialized / workspace/didChangeConfiguration / shutdown.

`initialize` keeps the editor's settings (`initializationOptions`, the same
structure as gloss.toml). `initialized` starts one engine per workspace
folder: the store opens first, so hovers answer at once, then the scan and the
file watcher run as owned background tasks. A bad configuration, or a store
Gloss must not touch, is shown to the user with the key's path or the file,
and that folder stays without an engine; the server keeps running. A store
another Gloss writes (a second editor window) is read until it is free.
`shutdown` stops the watchers and drains every writer.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.uris import to_fs_path

from enrich_core.config import ConfigError, load_config
from enrich_core.run.engine import Engine
from enrich_core.run.watch import start_watching
from enrich_core.store.health import classify, is_store_error
from server.features import backlog_progress, progress
from server.lsp import Folder, GlossServer

log = logging.getLogger(__name__)


def setup(server: GlossServer) -> None:
    server.feature(types.INITIALIZE)(initialize)
    server.feature(types.INITIALIZED)(initialized)
    server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)(did_change_configuration)
    server.feature(types.SHUTDOWN)(shutdown)


def initialize(ls: GlossServer, params: types.InitializeParams) -> None:
    try:
        ls.init_options = editor_settings(params.initialization_options)
    except ConfigError as exc:
        ls.settings_error = exc  # reported per folder in `initialized`
    roots: list[Path] = []
    for folder in params.workspace_folders or []:
        fs = to_fs_path(folder.uri)
        if fs:
            roots.append(Path(fs))
    if not roots:
        fs = to_fs_path(params.root_uri) if params.root_uri else params.root_path
        if fs:
            roots.append(Path(fs))
    ls.folders = [Folder(root=r.resolve()) for r in roots]


def editor_settings(options: Any) -> dict[str, Any]:
    """The settings an editor sent, in gloss.toml's structure.

    Clients nest them under "gloss" (VS Code's section); both forms are taken.
    Lua encodes an empty table as `[]`, so an empty list means no settings. Any
    other non-table is passed on for the configuration to report by key."""
    if isinstance(options, dict) and "gloss" in options:
        options = options["gloss"]
    if options is None or options == []:
        return {}
    if isinstance(options, dict):
        return dict(options)
    kind = type(options).__name__
    raise ConfigError("editor settings", "gloss", f"expected a table of settings, got a {kind}")


async def initialized(ls: GlossServer, params: types.InitializedParams) -> None:
    try:
        async with ls.engines_lock:
            for folder in ls.folders:
                if not ls.closing:
                    await _start_folder(ls, folder)
    finally:
        ls.ready.set()


async def _start_folder(ls: GlossServer, folder: Folder) -> None:
    try:
        if ls.settings_error is not None:
            raise ls.settings_error
        config = load_config(folder.root, ls.init_options)
    except ConfigError as exc:
        folder.error = str(exc)
        ls.tell_user(f"Gloss: bad configuration, {exc}")
        return
    engine = Engine(folder.root, config, pool=ls.work_pool())
    try:
        await engine.start()
    except Exception as exc:
        if not is_store_error(exc):
            raise
        # A store Gloss must not touch (a directory, a newer Gloss's) or cannot open:
        # the folder has no engine, the user is told which file and why, and the
        # server and other folders go on.
        problem = classify(exc, engine.store_file)
        folder.error = problem.message
        ls.tell_user(f"Gloss: {problem.message}")
        await engine.stop()
        return
    _tell_store_state(ls, engine)
    progress.attach(ls, engine)
    bar = backlog_progress.attach(ls, engine)
    folder.engine = engine
    folder.stop_watch.clear()
    ls.spawn(_scan_then_watch(ls, engine, folder, bar), name=f"scan+watch {folder.root}")


def _tell_store_state(ls: GlossServer, engine: Engine) -> None:
    """What happened to the store on the way in, and later: a damaged file moved aside,
    another Gloss writing it, a read-only or full disk. Hovers answer from what is stored."""
    for notice in engine.store_notices:
        ls.tell_user(f"Gloss: {notice}", types.MessageType.Warning)
    if not engine.writing:
        why = engine.why_not_writing()
        if engine.store_holder is not None:
            ls.tell_user(
                f"Gloss: {why}; this window shows what it writes, and takes over when it stops.",
                types.MessageType.Info,
            )
        else:
            problem = engine.store_problem
            said = problem.message if problem is not None else why
            ls.tell_user(f"Gloss: {said}", types.MessageType.Warning)

    def on_change(message: str, is_problem: bool) -> None:
        kind = types.MessageType.Warning if is_problem else types.MessageType.Info
        ls.tell_user(f"Gloss: {message}", kind)

    engine.add_store_listener(on_change)


async def _scan_then_watch(
    ls: GlossServer, engine: Engine, folder: Folder, bar: backlog_progress.BacklogProgress
) -> None:
    # Another Gloss writes this store (a second editor window): it scans and
    # glosses; this one reads, and starts once it has taken the store over.
    await engine.wait_writing()
    # Watch first: a file changed while the scan runs is seen (its event waits
    # for the scan to finish, then the newer text wins), never lost.
    watching = await start_watching(engine, folder.stop_watch)
    try:
        report = await engine.scan()
    except BaseException:
        watching.cancel()
        raise
    progress.notify(ls, engine)
    await bar.start(report.queued)
    log.info(
        "%s: %d files, %d parsed, %d skipped, %d spans queued",
        folder.root,
        report.files,
        report.parsed,
        report.skipped,
        report.queued,
    )
    await watching


async def did_change_configuration(
    ls: GlossServer, params: types.DidChangeConfigurationParams
) -> None:
    try:
        settings = editor_settings(params.settings)
    except ConfigError as exc:
        ls.tell_user(f"Gloss: bad configuration, {exc}; the settings in use are kept")
        return
    if not settings:
        return  # a bare "something changed" ping: the options we hold are still current
    await ls.ready.wait()
    async with ls.engines_lock:
        if ls.closing:
            return
        if settings == ls.init_options and ls.settings_error is None:
            # Neovim sends its `settings` right after `initialized`, and clients
            # resend unchanged settings: restarting the engines (a rescan, every
            # in-flight gloss cancelled) would buy nothing.
            return
        ls.init_options = settings
        ls.settings_error = None
        for folder in ls.folders:
            await _stop_folder(folder)
        # New settings may define the backends differently: start from fresh clients.
        await ls.close_pool()
        for folder in ls.folders:
            folder.error = None
            await _start_folder(ls, folder)


async def _stop_folder(folder: Folder) -> None:
    folder.stop_watch.set()
    if folder.engine is not None:
        engine, folder.engine = folder.engine, None
        await engine.stop()


async def shutdown(ls: GlossServer, params: None) -> None:
    await ls.close()
