"""The progress line: drawn on a terminal only."""

from __future__ import annotations

import io

from crawler.model import CheckResult, Link, Verdict
from crawler.progress import Progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


LINK = Link(url="https://www.mofa.go.jp/", cited_as="https://www.mofa.go.jp/")


def test_progress_counts_verdicts_on_a_terminal():
    stream = Terminal()
    progress = Progress(lambda: 2, stream, interval=0)
    progress.update(LINK, CheckResult(Verdict.ALIVE, "ok"))
    progress.update(LINK, CheckResult(Verdict.DEAD, "http_404"))
    assert "checked 2/2" in stream.getvalue() and "alive 1" in stream.getvalue() and "dead 1" in stream.getvalue()
    progress.close()
    assert stream.getvalue().endswith("\r")


def test_no_progress_when_not_a_terminal():
    stream = io.StringIO()
    progress = Progress(lambda: 1, stream, interval=0)
    progress.update(LINK, CheckResult(Verdict.ALIVE, "ok"))
    progress.close()
    assert stream.getvalue() == ""


def test_quiet_silences_even_a_terminal():
    stream = Terminal()
    progress = Progress(lambda: 1, stream, quiet=True, interval=0)
    progress.update(LINK, CheckResult(Verdict.ALIVE, "ok"))
    assert stream.getvalue() == ""


def test_progress_shows_the_archive_stage_while_it_works_after_the_checking():
    stream = Terminal()
    progress = Progress(lambda: 1, stream, interval=0)
    progress.extra = lambda: "archive 1/3 found 1"
    progress.update(LINK, CheckResult(Verdict.DEAD, "http_404"))
    progress.extra = lambda: "archive 3/3 found 2 none 1"
    progress.refresh()  # nothing is being checked any more; the archive is still at work
    assert stream.getvalue().rsplit("\r", 1)[-1].rstrip().endswith("| archive 3/3 found 2 none 1")
