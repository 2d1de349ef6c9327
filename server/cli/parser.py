"""The `gloss` command line: its commands, flags, help texts and exit codes.

Every flag and argument has a help line; `gloss --help` ends with the exit
codes (EXIT_CODES), and each command's help says which of them it uses.
"""

from __future__ import annotations

import argparse
import importlib.metadata

EXIT_OK = 0
EXIT_NOTHING = 1
EXIT_USAGE = 2
EXIT_INCOMPLETE = 3
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report a Ctrl-C

EXIT_CODES = (
    (EXIT_OK, "done, or found"),
    (EXIT_NOTHING, "nothing here: no definition at that line (hover), no match (search)"),
    (EXIT_USAGE, "bad usage or bad configuration (the key is named)"),
    (EXIT_INCOMPLETE, "incomplete: spans pending or failed (index), a backend problem (doctor)"),
    (EXIT_INTERRUPTED, "interrupted (Ctrl-C); what was glossed is kept"),
)


def _version() -> str:
    """The installed distribution's version: one number, kept in pyproject.toml."""
    try:
        return importlib.metadata.version("gloss")
    except importlib.metadata.PackageNotFoundError:
        return "(version unknown: run from a source tree that is not installed)"


def _exit_codes_epilog() -> str:
    return "exit codes:\n" + "\n".join(f"  {code:<4} {what}" for code, what in EXIT_CODES)


def build_parser() -> argparse.ArgumentParser:
    # -v works before the command and after it: the subcommands' copy leaves the
    # value alone when not given (SUPPRESS), so `gloss -v index` stays verbose.
    verbose = argparse.ArgumentParser(add_help=False)
    verbose.add_argument(
        "-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
        help="log what Gloss does (INFO and up) to stderr",
    )  # fmt: skip
    parser = argparse.ArgumentParser(
        prog="gloss",
        description="LLM glosses of every function, method and class, as hovers and search.",
        epilog=_exit_codes_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true",
        help="log what Gloss does (INFO and up) to stderr; also accepted after COMMAND",
    )  # fmt: skip
    parser.add_argument("--version", action="version", version=f"gloss {_version()}")
    sub = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND",
        help="one of these; `gloss COMMAND --help` says more",
    )  # fmt: skip

    def command(name: str, summary: str, epilog: str | None = None) -> argparse.ArgumentParser:
        return sub.add_parser(
            name, help=summary, description=summary, epilog=epilog, parents=[verbose],
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )  # fmt: skip

    workspace = "workspace root, whose gloss.toml is read if it has one (default: .)"
    serve = command("serve", "run the language server on stdio (an editor starts this)")
    serve.add_argument("--stdio", action="store_true", help="accepted; stdio is the only transport")

    index = command(
        "index",
        "index and gloss a workspace, then exit",
        "exit 0 when every span has a gloss, 3 when some are still pending or failed (the\n"
        "reasons and next steps are printed); Ctrl-C keeps what was glossed: run it again.",
    )
    index.add_argument("path", nargs="?", default=".", help=workspace)

    status = command("status", "counts and health of a workspace's index")
    status.add_argument("path", nargs="?", default=".", help=workspace)
    status.add_argument(
        "--json", action="store_true",
        help="print the status as JSON (the keys are in DESIGN.md's `gloss status --json`)",
    )  # fmt: skip

    search = command(
        "search",
        "find symbols by name or by what their gloss says",
        "exit 0 with hits, 1 when nothing matches (`--json` then prints []).",
    )
    search.add_argument("query", help="a name, part of one, or words from a gloss; plain text")
    search.add_argument("--path", default=".", help=workspace)
    search.add_argument(
        "--json", action="store_true",
        help="print the hits as a JSON list, best first (the items gloss/search answers)",
    )  # fmt: skip
    search.add_argument(
        "--limit", type=int, default=50, metavar="N", help="show at most N hits (default: 50)"
    )

    hover = command(
        "hover",
        "what a hover at FILE:LINE[:COL] shows (1-based)",
        "exit 0 with a hover, 1 when no definition starts at LINE: it then says which one\n"
        "LINE is inside and on which line that one's gloss is (`--json` prints null).",
    )
    hover.add_argument(
        "location", metavar="FILE:LINE[:COL]",
        help="a file in the workspace and a line of a definition's header, 1-based; COL is "
        "accepted and ignored",
    )  # fmt: skip
    hover.add_argument(
        "--json", action="store_true",
        help="print the hover as JSON: its state, the code's facts and the gloss's fields",
    )  # fmt: skip

    doctor = command(
        "doctor",
        "check every backend: reachable, models, latency",
        "exit 0 when every backend answers with its models, 3 when one has a problem.",
    )
    doctor.add_argument("path", nargs="?", default=".", help=workspace)
    return parser
