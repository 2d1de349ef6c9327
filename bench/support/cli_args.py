"""Argument types, the command line and the report output the benchmarks share.

Each bench's flags set fields of its frozen `BenchConfig` dataclass; an `Option`
names the flag and the field, so a bench lists its flags once and the parsed
config comes back as `dataclasses.replace(defaults, ...)`: a field no flag sets
keeps its default, as it would in `BenchConfig(...)`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

ConfigT = TypeVar("ConfigT", bound="DataclassInstance")
ReportT = TypeVar("ReportT")


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {value}")
    return value


def int_list(minimum: int, example: str) -> Callable[[str], tuple[int, ...]]:
    """An argument type for comma-separated counts (`1000,10000`; `_` allowed), each
    at least `minimum`; `example` shows the form in the error."""

    def parse(text: str) -> tuple[int, ...]:
        try:
            values = tuple(int(v.replace("_", "")) for v in text.split(",") if v.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected sizes like {example}, got {text!r}"
            ) from None
        if not values or min(values) < minimum:
            raise argparse.ArgumentTypeError(f"sizes must be at least {minimum}, got {text!r}")
        return values

    return parse


@dataclass(frozen=True, slots=True)
class Option:
    """One flag that sets one field of a bench's config; its default is that field's.

    `scale` is for a flag in other units than its field (`--latency-ms` over
    `latency_s`: 1000): the flag's default is the field's times `scale`, and the
    parsed value is divided by it. `help` is passed as it is, so it says how its
    default reads (`%(default)s` or `%(default)g`).
    """

    flag: str
    field: str
    help: str
    type: Callable[[str], Any] | None = None
    scale: int = 1
    metavar: str | None = None
    action: Literal["store", "store_true", "store_false"] = "store"


class BenchArgs(Generic[ConfigT]):
    """A bench's parser, each flag bound to its field of `defaults`' dataclass."""

    def __init__(self, prog: str, description: str, defaults: ConfigT) -> None:
        self.parser = argparse.ArgumentParser(prog=prog, description=description)
        self.defaults = defaults
        self._bound: list[tuple[str, Option]] = []  # (argparse dest, option)

    @classmethod
    def with_options(
        cls, prog: str, description: str, defaults: ConfigT, options: Sequence[Option]
    ) -> BenchArgs[ConfigT]:
        """The usual bench command line: these flags, then `--json PATH`."""
        cli = cls(prog, description, defaults)
        cli.add(*options)
        cli.add_json()
        return cli

    def run(
        self,
        argv: Sequence[str] | None,
        benchmark: Callable[[ConfigT], Coroutine[Any, Any, ReportT]],
        format_report: Callable[[ReportT], str],
        report_json: Callable[[ReportT], Any],
    ) -> int:
        """Parse `argv`, run the bench on the config it describes, report: exit status."""
        config, json_path = self.parse(argv)
        return run_bench(benchmark(config), format_report, report_json, json_path)

    def add(self, *options: Option, exclusive: bool = False) -> None:
        """Add the flags in this order (the order --help lists them); `exclusive`:
        as one mutually exclusive group, at most one of them given."""
        container = self.parser.add_mutually_exclusive_group() if exclusive else self.parser
        for option in options:
            default = getattr(self.defaults, option.field)
            if option.scale != 1:
                default = default * option.scale
            kwargs: dict[str, Any] = {"default": default, "help": option.help}
            if option.action == "store":
                kwargs.update(type=option.type, metavar=option.metavar)
            action = container.add_argument(option.flag, action=option.action, **kwargs)
            self._bound.append((action.dest, option))

    def add_json(self) -> None:
        """The `--json PATH` flag every bench has (not a config field: where to write)."""
        self.parser.add_argument(
            "--json", type=Path, metavar="PATH", help="also write results as JSON"
        )

    def parse(self, argv: Sequence[str] | None) -> tuple[ConfigT, Path | None]:
        """(the config the flags describe, the --json path or None)."""
        args = self.parser.parse_args(argv)
        changes: dict[str, Any] = {}
        for dest, option in self._bound:
            value = getattr(args, dest)
            # An unscaled value passes through untouched: `/ 1` would make an int a float.
            changes[option.field] = value / option.scale if option.scale != 1 else value
        json_path: Path | None = getattr(args, "json", None)
        return replace(self.defaults, **changes), json_path


def run_bench(
    benchmark: Coroutine[Any, Any, ReportT],
    format_report: Callable[[ReportT], str],
    report_json: Callable[[ReportT], Any],
    json_path: Path | None,
) -> int:
    """Run the bench, print its report (and write its JSON): exit status 0.

    A benchmark reports; it does not judge by its exit status, so PASS and FAIL
    both return 0.
    """
    report = asyncio.run(benchmark)
    write_report(format_report(report), report_json(report), json_path)
    return 0


def write_report(text: str, data: Any, json_path: Path | None) -> None:
    """Print the human report; with --json also write the raw numbers there."""
    print(text)
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(data, indent=2) + "\n")
        print(f"wrote {json_path}")
