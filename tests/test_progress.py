"""The index progress bar: drawn on a terminal, silent on a pipe."""

from __future__ import annotations

import io

from server.cli.progress_bar import ProgressBar


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_draws_on_a_terminal_and_counts_failures() -> None:
    out = Terminal()
    bar = ProgressBar(total=3, stream=out)
    bar.advance(ok=True)
    bar.advance(ok=False)
    bar.advance(ok=True)
    bar.finish()
    text = out.getvalue()
    assert "3/3 glossed, 1 failed" in text
    assert "[" + "#" * 30 + "]" in text
    assert text.endswith("\n")


def test_silent_on_a_pipe() -> None:
    out = io.StringIO()
    bar = ProgressBar(total=2, stream=out)
    bar.advance(ok=True)
    bar.finish()
    assert out.getvalue() == ""


def test_glosses_counted_before_the_total_was_known_are_carried_over() -> None:
    out = Terminal()
    early = ProgressBar(total=0, stream=out)  # the scan still runs: no total yet
    early.advance(ok=True)
    early.advance(ok=False)
    early.drop(1)
    assert out.getvalue() == ""  # nothing drawn without a total
    bar = ProgressBar(total=5, stream=out)
    bar.carry_over(early)
    bar.advance(ok=True)
    bar.advance(ok=True)
    bar.finish()
    assert "4/4 glossed, 1 failed, 1 dropped" in out.getvalue()
