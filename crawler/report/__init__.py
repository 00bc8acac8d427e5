"""Reports: the JSON contract for machines and Markdown for people.

Each format is one module with a ``write(report, stream)`` function, so adding
a format means adding one file and one line to FORMATS.
"""

from __future__ import annotations

import datetime as _dt
import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from crawler.model import CheckResult, InputError, Link, Problem, ProblemKind, Verdict

SCHEMA = "crawler.report/1"


@dataclass(frozen=True)
class Report:
    links: Sequence[Link]
    problems: Sequence[Problem]
    references: int
    errors: Sequence[InputError] = ()
    generated: _dt.datetime = field(default_factory=lambda: _dt.datetime.now(_dt.timezone.utc))
    network: str | None = None  # "up" or "down" once links have been checked
    results: Mapping[str, CheckResult] | None = None  # by link URL, once checked

    def result(self, link: Link) -> CheckResult | None:
        return self.results.get(link.url) if self.results is not None else None

    @property
    def summary(self) -> dict[str, Any]:
        summary: dict[str, Any] = {"references": self.references, "links": len(self.links),
                                   "problems": len(self.problems)}
        if self.results is not None:
            summary["verdicts"] = self.verdict_counts()
        return summary

    def verdict_counts(self) -> dict[str, int]:
        """Links per verdict; "truncated" counts the cited URLs that cannot be checked as written."""
        counts = {verdict.value: 0 for verdict in Verdict}
        counts["unjudged"] = 0
        for link in self.links:
            result = self.result(link)
            key = result.verdict.value if result and result.verdict else "unjudged"
            counts[key] += 1
        counts[Verdict.TRUNCATED.value] += sum(p.kind is ProblemKind.TRUNCATED_URL for p in self.problems)
        return counts


def _formats() -> dict[str, Callable[[Report, TextIO], None]]:
    from crawler.report import json as json_format
    from crawler.report import markdown as markdown_format

    return {"json": json_format.write, "markdown": markdown_format.write}


FORMAT_NAMES = ("markdown", "json")


def write_report(report: Report, format: str, stream: TextIO) -> None:
    _formats()[format](report, stream)


def write_report_file(report: Report, format: str, path: Path) -> None:
    """Write atomically: a reader (or a crash) never sees half a report."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as stream:
            write_report(report, format, stream)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
