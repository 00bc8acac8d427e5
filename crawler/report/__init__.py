"""Reports: the JSON contract for machines and Markdown for people.

Each format is one module with a ``write(report, stream)`` function, so adding
a format means adding one file and one line to FORMATS. ``Report`` holds what
every format needs and the counts they share, so two formats never disagree.
"""

from __future__ import annotations

import datetime as _dt
import functools
import importlib
import io
import os
import tempfile
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, TextIO

from crawler import __version__
from crawler.model import (
    ArchiveResult,
    ArchiveStatus,
    CheckResult,
    History,
    InputError,
    Link,
    Problem,
    ProblemKind,
    Reference,
    Verdict,
)

SCHEMA = "crawler.report/2"
TOOL = {"name": "crawler", "version": __version__}
# Links whose first reading looked dead, but whose citation was read two ways.
SAVED_REASONS = frozenset({"alternative_reading", "possibly_cut"})
# An enum's .value is a Python-level property on 3.11: looked up once here, not once per link.
_VERDICT_NAMES = {verdict: verdict.value for verdict in Verdict}


@dataclass(frozen=True)
class Confirmation:
    """The rule a scheduled run applies before it calls a link dead (after InternetArchiveBot)."""

    failures: int = 3  # K failed checks…
    spacing_days: float = 3.0  # …at least D days apart


@dataclass(frozen=True)
class Changes:
    """What changed since the previous run, by link URL."""

    previous: _dt.datetime | None = None  # when the previous run finished, if there was one
    newly_dead: frozenset[str] = frozenset()  # confirmed dead now, not at the end of the previous run
    recovered: frozenset[str] = frozenset()  # failing or dead then, alive now
    newly_failing: frozenset[str] = frozenset()  # a first counted failure
    previous_counts: Mapping[str, int] = field(default_factory=dict)  # that run's Report.trend_counts()

    def of(self, url: str) -> str | None:
        if url in self.newly_dead:
            return "newly_dead"
        if url in self.recovered:
            return "recovered"
        if url in self.newly_failing:
            return "newly_failing"
        return None


@dataclass(frozen=True)
class Report:
    """What every format shows: the links, problems and references, and what each stage found."""

    links: Sequence[Link]
    problems: Sequence[Problem]
    references: Sequence[Reference]
    errors: Sequence[InputError] = ()
    command: str = "extract"  # extract, audit or run
    started: _dt.datetime = field(default_factory=lambda: _dt.datetime.now(_dt.timezone.utc))
    finished: _dt.datetime | None = None
    network: str | None = None  # "up" or "down" once links have been checked
    results: Mapping[str, CheckResult] | None = None  # by link URL, once checked
    archives: Mapping[str, ArchiveResult] | None = None  # by archive_key(); None: no archive stage
    histories: Mapping[str, History] | None = None  # by link URL, in a scheduled run
    confirmation: Confirmation | None = None  # set when verdicts are confirmed across runs
    changes: Changes | None = None
    interrupted: str | None = None  # the signal that stopped the run early
    notes: Sequence[str] = ()  # things a reader must know about the run (the archive was down…)

    @property
    def generated(self) -> _dt.datetime:
        return self.finished or self.started

    def result(self, link: Link) -> CheckResult | None:
        return self.results.get(link.url) if self.results is not None else None

    def archive(self, key: str | None) -> ArchiveResult | None:
        return self.archives.get(key) if self.archives is not None and key is not None else None

    def history(self, link: Link) -> History | None:
        return self.histories.get(link.url) if self.histories is not None else None

    @functools.cached_property
    def summary(self) -> dict[str, Any]:
        # Counted once: the formats, the closing line and a run's stored summary all read it.
        problems = Counter(p.kind.value for p in self.problems)
        summary: dict[str, Any] = {
            "references": len(self.references),
            "links": len(self.links),
            "problems": {"total": len(self.problems), **{kind.value: problems[kind.value] for kind in ProblemKind}},
            "errors": len(self.errors),
        }
        if self.results is not None:
            summary["verdicts"] = self.verdict_counts()
            summary["saved_from_false_dead"] = self._tally[1]
        if self.archives is not None:
            summary["archive"] = self.archive_counts()
        if self.histories is not None:
            summary["history"] = self.history_counts()
        return summary

    def verdict_counts(self) -> dict[str, int]:
        """Links per verdict: they add up to the number of links (problems are counted apart)."""
        return dict(self._tally[0])

    @functools.cached_property
    def _tally(self) -> tuple[dict[str, int], int]:
        """The verdict counts and the links saved from a false "dead", in one pass over the links.

        Counted once: the summary, the closing line and the exit code all ask.
        """
        counts = dict.fromkeys(_VERDICT_NAMES.values(), 0)
        counts["unjudged"] = 0
        saved = 0
        results = self.results
        if results is None:
            counts["unjudged"] = len(self.links)
            return counts, saved
        get, names = results.get, _VERDICT_NAMES
        for link in self.links:
            result = get(link.url)
            if result is None:
                counts["unjudged"] += 1
                continue
            counts[names[result.verdict] if result.verdict else "unjudged"] += 1
            if result.reason in SAVED_REASONS:
                saved += 1
        return counts, saved

    def archive_counts(self) -> dict[str, int]:
        counts = Counter(r.status for r in self.archives.values()) if self.archives else Counter()
        return {"found": counts[ArchiveStatus.FOUND], "lost": counts[ArchiveStatus.NONE],
                "requested": counts[ArchiveStatus.REQUESTED], "saved": counts[ArchiveStatus.SAVED],
                "errors": counts[ArchiveStatus.ERROR]}

    def history_counts(self) -> dict[str, int]:
        confirmed = failing = 0
        for link in self.links:
            history, result = self.history(link), self.result(link)
            if history is not None and history.confirmed:
                confirmed += 1
            elif result is not None and result.verdict is Verdict.DEAD:
                failing += 1
        changes = self.changes or Changes()
        return {"confirmed_dead": confirmed, "failing": failing, "newly_dead": len(changes.newly_dead),
                "recovered": len(changes.recovered)}

    def trend_counts(self) -> dict[str, int]:
        """The counts the summary compares from run to run (a run keeps them for the next one)."""
        counts = self.verdict_counts()
        trend = {"alive": counts["alive"], "moved": counts["moved"], "dead": counts["dead"], "failing": 0,
                 "unverified": counts["blocked"] + counts["unreachable"] + counts["skipped"],
                 "truncated": counts["truncated"], "unjudged": counts["unjudged"]}
        if self.histories is not None:
            history = self.history_counts()
            trend["dead"], trend["failing"] = history["confirmed_dead"], history["failing"]
        return trend

    def is_dead(self, link: Link) -> bool:
        """Dead as the report's reader should take it: confirmed across runs where a rule applies."""
        result = self.result(link)
        if result is None or result.verdict is not Verdict.DEAD:
            return False
        if self.confirmation is None:
            return True
        history = self.history(link)
        return history is not None and history.confirmed


def archive_key(item: Link | Problem) -> str | None:
    """Where an item's archived copy is kept in Report.archives."""
    if isinstance(item, Link):
        return item.url
    return f"prefix:{item.url}" if item.url else None


# Each format's module is imported when a report is written in it: a JSON run
# does not compile the Markdown writer.
_FORMAT_MODULES = {"json": "crawler.report.json", "markdown": "crawler.report.markdown"}


def _writer(format: str) -> Callable[[Report, TextIO], None]:
    return importlib.import_module(_FORMAT_MODULES[format]).write  # type: ignore[no-any-return]


FORMAT_NAMES = ("markdown", "json")
_EXTENSIONS = {".json": "json", ".md": "markdown", ".markdown": "markdown"}


class OutputError(ValueError):
    """A report cannot be written where asked; found before any work is done."""


def format_for(path: str | None, explicit: str | None, default: str) -> str:
    """The report format: --format, else the output's extension, else the configured default."""
    implied = _EXTENSIONS.get(Path(path).suffix.lower()) if path and path != "-" else None
    if explicit and implied and explicit != implied:
        raise OutputError(f"--format {explicit} does not match the extension of {path} ({implied})")
    return explicit or implied or default


def check_output(path: str, inputs: Sequence[str] = (), read_extensions: Sequence[str] = ()) -> Path:
    """The file a report named ``path`` will replace, after making sure it can be written there.

    Everything that would otherwise fail after a whole run fails here, at
    once: a directory, a missing or unwritable parent, a read-only mount, a
    path under a file, or one of the inputs themselves.
    """
    given = Path(path)
    if given.is_dir():
        raise OutputError(f"cannot write {path}: it is a directory")
    target = Path(os.path.realpath(given))  # through a symlink: replace its target, not the link
    parent = target.parent
    if not parent.exists():
        raise OutputError(f"cannot write {path}: no such directory {parent}")
    if not parent.is_dir():
        raise OutputError(f"cannot write {path}: {parent} is not a directory")
    for given_input in inputs:
        if given_input == "-":
            continue
        source = Path(os.path.realpath(given_input))
        if source == target:
            raise OutputError(f"cannot write {path}: it is one of the inputs")
        if source.is_dir() and source in target.parents and target.suffix.lower() in read_extensions:
            raise OutputError(f"cannot write {path}: it is inside the input directory {given_input}, "
                              "and would be read as a reference list next time")
    try:
        fd, probe = tempfile.mkstemp(prefix=f".{target.name}.", dir=parent)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
    os.close(fd)
    os.unlink(probe)
    return target


def write_report(report: Report, format: str, stream: TextIO) -> None:
    _writer(format)(report, stream)


def write_report_file(report: Report, format: str, path: Path) -> None:
    """Write atomically: a reader (or a crash) never sees half a report."""
    def write(binary: BinaryIO) -> None:
        text = io.TextIOWrapper(binary, encoding="utf-8", newline="\n")
        write_report(report, format, text)
        text.flush()
        text.detach()

    replace_atomically(path, write)


def replace_atomically(path: Path, write: Callable[[BinaryIO], None]) -> None:
    """Replace ``path`` with what ``write`` writes, all at once or not at all.

    The file gets the mode a user's new file gets (the umask), or keeps the
    mode of the file it replaces; a symlink keeps pointing at the file, and
    an interruption (SIGTERM included) leaves no temporary file behind.
    """
    path = Path(os.path.realpath(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, _mode_for(path))
        with os.fdopen(fd, "wb") as stream:
            write(stream)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _mode_for(path: Path) -> int:
    try:
        return path.stat().st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask
