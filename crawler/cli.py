"""The ``crawler`` command: parses arguments, wires the stages, prints and exits.

Commands: ``extract`` (read the lists), ``audit`` (a one-off check),
``run`` (the scheduled job, with history), ``fix`` (the list back, repaired).
Exit codes: 0 nothing needs attention; 1 something --fail-on names was
found (extract: problems or an unreadable input); 2 usage, configuration,
output or input error; 3 nothing could be judged (the network is down, or
no link could be verified); 130/143 interrupted by SIGINT/SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime as _dt
import os
import re
import shutil
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from crawler import __version__
from crawler.check.dns import dns_server
from crawler.config import ConfigError, Settings, find_config, load_settings
from crawler.extract import Extraction, extract_all
from crawler.model import ProblemKind
from crawler.progress import Progress
from crawler.report import (
    FORMAT_NAMES,
    Confirmation,
    OutputError,
    Report,
    check_output,
    format_for,
    replace_atomically,
    write_report,
    write_report_file,
)
from crawler.text import visible

EXIT_OK = 0
EXIT_ATTENTION = 1
EXIT_USAGE = 2
EXIT_UNJUDGED = 3
EXIT_SIGNAL = {"SIGINT": 130, "SIGTERM": 143}
COMMANDS = ("extract", "audit", "run", "fix")
# What --fail-on can name; the default is in [report] fail_on.
FAIL_ON = ("dead", "new-dead", "truncated", "moved", "unverified", "problems", "none")


class Interrupted(BaseException):
    """A signal outside the event loop: unwinds like Ctrl-C, so temporary files are removed."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, not {text}")
    return value


def _statuses(text: str) -> list[int]:
    """"403,429" or "200..299" (lychee's syntax)."""
    statuses: list[int] = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        m = re.fullmatch(r"(\d{3})(?:\.\.=?(\d{3}))?", part)
        if not m:
            raise argparse.ArgumentTypeError(f"“{part}” is not a status or a range like 200..299")
        low, high = int(m.group(1)), int(m.group(2) or m.group(1))
        statuses.extend(range(low, high + 1))
    return statuses


def _regex(text: str) -> str:
    try:
        re.compile(text)
    except re.error as exc:
        raise argparse.ArgumentTypeError(f"“{text}” is not a regular expression ({exc})") from None
    return text


def _parser(command: str | None = None) -> argparse.ArgumentParser:
    """The command line's parser; given ``command``, with that command's part alone.

    Everything after a command's name is that command's to parse, so the
    others cannot change what it gets; main() builds only the one named
    (three quarters of the parser's 1.3 ms at every start).
    """
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("inputs", nargs="*", metavar="INPUT",
                        help="reference list files or directories, or - for stdin "
                             "(default: the [inputs] paths of the config)")
    common.add_argument("--config", metavar="FILE", help="settings file (default: config/crawler.toml "
                                                          "if present, or $CRAWLER_CONFIG)")
    common.add_argument("--encoding", help="text encoding of the inputs (default: [inputs] encoding)")
    common.add_argument("--quiet", "-q", action="store_true", help="print nothing but errors")
    report = argparse.ArgumentParser(add_help=False)
    report.add_argument("--format", choices=FORMAT_NAMES, help="report format (default: [report] format)")
    report.add_argument("--output", "-o", metavar="FILE",
                        help="write the report to FILE (- for stdout, the default); its extension (.json, .md) "
                             "gives the format when --format is not given")
    checking = _checking_options()

    parser = _Parser(prog="crawler", description="Check the links of reference lists and find archived copies.")
    parser.add_argument("--version", action="version", version=f"crawler {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)
    if command in (None, "extract"):
        commands.add_parser(
            "extract", parents=[common, report],
            help="list the URLs, access dates and problems of reference lists, without checking them",
            description="List every URL or DOI the references cite, with access dates, and flag "
                        "truncated URLs, missing URLs and impossible access dates.",
        )
    if command in (None, "audit"):
        commands.add_parser(
            "audit", parents=[common, report, checking],
            help="extract the links of reference lists and check them all, once",
            description="Extract every cited URL and check each one: alive, moved, dead, unreachable, "
                        "blocked or skipped. Only evidence that a page is gone makes it dead. Dead, "
                        "unreachable and blocked links get their archived copy closest to the access date.",
        )
    if command in (None, "run"):
        run = commands.add_parser(
            "run", parents=[common, checking],
            help="the scheduled job: audit with history, dated reports, and dead confirmed across days",
            description="Audit the configured lists, keep every check in the store, and write "
                        "reports/YYYY-MM-DD.md and .json (and latest.*). A link is reported dead only after "
                        "[history] confirm_failures failed checks spaced confirm_spacing_days apart. An "
                        "interrupted run is resumed by the next one.",
        )
        run.add_argument("--state", metavar="FILE", help="the history database (default: [store] path)")
        run.add_argument("--reports", metavar="DIR", help="where the reports go (default: [run] reports)")
        run.add_argument("--recheck-all", action="store_true",
                         help="check every link now, whatever the recheck interval says")
    if command in (None, "fix"):
        fix = commands.add_parser(
            "fix", parents=[checking],
            help="write a reference list back with archived copies after its dead links and moved URLs updated",
            description="Audit one reference list (plain text, Markdown or BibTeX) and write it back byte for "
                        "byte, except that each dead link gets its archived copy added after it and each moved "
                        "link its new URL. Running it again changes nothing.",
        )
        fix.add_argument("input", metavar="INPUT", help="the reference list to repair")
        fix.add_argument("--output", "-o", metavar="FILE", help="write the repaired list to FILE (default: stdout)")
        fix.add_argument("--config", metavar="FILE", help="settings file")
        fix.add_argument("--encoding", help="text encoding of the input")
        fix.add_argument("--quiet", "-q", action="store_true", help="print nothing but errors")
    return parser


def _checking_options() -> argparse.ArgumentParser:
    """What every command that checks links accepts (audit, run, fix)."""
    checking = argparse.ArgumentParser(add_help=False)
    net = checking.add_argument_group("network")
    net.add_argument("--connect-to", action="append", default=[], metavar="HOST:PORT:ADDR:PORT",
                     help="like curl: connect to ADDR:PORT when the URL says HOST:PORT; the Host header, "
                          "TLS server name and reported URL stay the original (repeatable)")
    net.add_argument("--dns-server", action="append", type=dns_server, metavar="ADDR[:PORT]",
                     help="look names up with this DNS server, not the system's; [::1]:5353 for IPv6 (repeatable)")
    net.add_argument("--ca-bundle", metavar="FILE", help="trust the CA certificates in this PEM file")
    net.add_argument("--timeout", type=_positive_float, metavar="SECONDS", help="seconds per request")
    net.add_argument("--max-time", type=_positive_float, metavar="SECONDS",
                     help="seconds for the whole run; links not checked by then are skipped")
    net.add_argument("--allow-private", action="store_true",
                     help="allow connections to loopback, private and link-local addresses")
    net.add_argument("--max-concurrency", type=_positive_int, metavar="N", help="requests in flight at once")
    net.add_argument("--max-per-host", type=_positive_int, metavar="N", help="requests in flight per host")
    net.add_argument("--user-agent", metavar="TEXT", help="the User-Agent header")
    which = checking.add_argument_group("which links")
    which.add_argument("--include", action="append", type=_regex, default=[], metavar="REGEX",
                       help="check only URLs matching (repeatable)")
    which.add_argument("--exclude", action="append", type=_regex, default=[], metavar="REGEX",
                       help="do not check URLs matching (repeatable)")
    which.add_argument("--accept", type=_statuses, action="append", default=[], metavar="STATUSES",
                       help="statuses counted as alive, e.g. 403 or 200..299,403 (repeatable)")
    archive = checking.add_argument_group("archived copies")
    archive.add_argument("--no-archive", action="store_true", help="do not look up or request archived copies")
    archive.add_argument("--save", action="store_true",
                         help="ask the Wayback Machine to capture live links that have no capture "
                              "(needs IA_ACCESS_KEY_ID and IA_SECRET_ACCESS_KEY)")
    archive.add_argument("--wayback-url", metavar="BASE",
                         help="a Wayback Machine of your own (pywb, OpenWayback): every endpoint under BASE")
    checking.add_argument("--fail-on", type=_fail_on, metavar="WHAT",
                          help="exit 1 when any of these is found: " + ", ".join(FAIL_ON) +
                               " (comma-separated; default: [report] fail_on, or [run] fail_on)")
    return checking


def _fail_on(text: str) -> tuple[str, ...]:
    names = tuple(filter(None, (part.strip() for part in text.split(","))))
    unknown = [name for name in names if name not in FAIL_ON]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"“{text}”: choose from {', '.join(FAIL_ON)}")
    return names


def main(argv: Sequence[str] | None = None) -> int:
    given = list(sys.argv[1:] if argv is None else argv)
    args = _parser(given[0] if given and given[0] in COMMANDS else None).parse_args(given)
    try:
        settings = load_settings(find_config(args.config))
    except ConfigError as exc:
        return _fail(f"config: {exc}")
    previous = _trap_sigterm()
    try:
        command = {"audit": _audit, "run": _run, "fix": _fix}.get(args.command, _extract)
        return command(args, settings)
    except (KeyboardInterrupt, Interrupted) as exc:
        name = exc.name if isinstance(exc, Interrupted) else "SIGINT"
        if sys.stderr.isatty():
            print(file=sys.stderr)  # past the terminal's "^C"
        say(f"crawler: interrupted ({name}): no report written")
        return EXIT_SIGNAL[name]
    except BrokenPipeError:
        # stdout closed early (crawler … | head): not an error of ours.
        sys.stderr.close()
        return EXIT_OK
    finally:
        _restore_sigterm(previous)


def _trap_sigterm() -> object:
    """SIGTERM unwinds like Ctrl-C (cleaning up), instead of killing mid-write."""
    def raise_interrupted(signum: int, frame: object) -> None:
        raise Interrupted("SIGTERM")
    try:
        return signal.signal(signal.SIGTERM, raise_interrupted)
    except ValueError:  # not the main thread (crawler called from a library's worker)
        return None


def _restore_sigterm(previous: object) -> None:
    if previous is not None:
        signal.signal(signal.SIGTERM, previous)  # type: ignore[arg-type]


def say(message: str) -> None:
    """One line on stderr; text from outside (file names, servers) cannot steer the terminal."""
    print(visible(message), file=sys.stderr)


def _fail(message: str) -> int:
    say(f"crawler: error: {message}")
    return EXIT_USAGE


def _inputs(args: argparse.Namespace, settings: Settings) -> tuple[list[str], dict[str, object]]:
    encoding = args.encoding or settings.inputs.encoding
    options: dict[str, object] = {
        "extensions": settings.inputs.extensions,
        "max_file_bytes": settings.inputs.max_file_bytes,
        "encoding": None if encoding == "auto" else encoding,
    }
    return list(getattr(args, "inputs", ())) or settings.default_inputs(), options


def _read(args: argparse.Namespace, settings: Settings) -> Extraction | int:
    inputs, options = _inputs(args, settings)
    if not inputs:
        return _fail("no INPUT given and no [inputs] paths configured")
    extraction = extract_all(inputs, **options)
    return _after_reading(extraction)


def _after_reading(extraction: Extraction) -> Extraction | int:
    for error in extraction.errors:
        say(f"crawler: error: {error}")
    if extraction.nothing_read:
        return _fail("nothing could be read") if not extraction.errors else EXIT_USAGE
    return extraction


@dataclasses.dataclass(frozen=True)
class _Output:
    """Where a command's report goes, and in which format."""

    format: str
    path: Path | None  # None: stdout


def _output(args: argparse.Namespace, settings: Settings, inputs: Sequence[str]) -> _Output | int:
    """Where the report goes, checked before any work: a run must not fail at its very end."""
    try:
        fmt = format_for(args.output, args.format, settings.report.format)
        if fmt not in FORMAT_NAMES:
            return _fail(f"config: [report] format must be one of {', '.join(FORMAT_NAMES)}")
        if not args.output or args.output == "-":
            return _Output(fmt, None)
        return _Output(fmt, check_output(args.output, inputs, settings.inputs.extensions))
    except OutputError as exc:
        return _fail(str(exc))


def _write(output: _Output, report: Report) -> None:
    if output.path is not None:
        write_report_file(report, output.format, output.path)
        return
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(errors="backslashreplace")  # a terminal that is not UTF-8 still gets a report
    write_report(report, output.format, sys.stdout)
    sys.stdout.flush()


def _extract(args: argparse.Namespace, settings: Settings) -> int:
    inputs, _ = _inputs(args, settings)
    output = _output(args, settings, inputs)
    if isinstance(output, int):
        return output
    extraction = _read(args, settings)
    if isinstance(extraction, int):
        return extraction
    report = Report(links=extraction.links, problems=extraction.problems,
                    references=extraction.references, errors=extraction.errors, command="extract")
    _write(output, report)
    if not args.quiet:
        s = report.summary
        say(f"crawler: {s['links']} links in {s['references']} references, {s['problems']['total']} problems")
    return EXIT_ATTENTION if extraction.problems or extraction.errors else EXIT_OK


def _connect_to(rule: str):  # noqa: ANN202 - a ConnectTo, imported late with aiohttp
    from crawler.check.resolve import ConnectTo

    return ConnectTo.parse(rule)


def _check_settings(args: argparse.Namespace, settings: Settings):  # noqa: ANN202 - CheckSettings
    changes: dict[str, object] = {}
    for option, key in (("timeout", "timeout"), ("max_time", "run_timeout"), ("max_concurrency", "max_concurrency"),
                        ("max_per_host", "max_per_host"), ("user_agent", "user_agent"), ("ca_bundle", "ca_bundle")):
        if getattr(args, option) is not None:
            changes[key] = getattr(args, option)
    if args.allow_private:
        changes["allow_private"] = True
    if args.dns_server:
        changes["dns_servers"] = tuple(args.dns_server)
    check = settings.check
    if args.include:
        changes["include"] = check.include + tuple(args.include)
    if args.exclude:
        changes["exclude"] = check.exclude + tuple(args.exclude)
    if args.accept:
        changes["accept"] = check.accept + tuple(s for group in args.accept for s in group)
    return dataclasses.replace(check, **changes)


@dataclasses.dataclass
class _Checking:
    """What the checking commands (audit, run, fix) share, validated before anything starts."""

    check: Any  # CheckSettings
    connect_to: list[Any]
    inputs: list[str]
    options: dict[str, object]
    archive: Any = None  # pipeline.ArchiveOptions, or None with --no-archive
    deadline: float | None = None


def _checking(args: argparse.Namespace, settings: Settings, inputs: list[str] | None = None) -> _Checking | int:
    try:
        connect_to = [_connect_to(rule) for rule in args.connect_to]
    except ValueError as exc:
        return _fail(f"--connect-to: {exc}")
    check = _check_settings(args, settings)
    if check.ca_bundle and not Path(check.ca_bundle).is_file():
        return _fail(f"--ca-bundle: {check.ca_bundle}: no such file")
    try:
        for pattern in check.include + check.exclude:
            re.compile(pattern)
    except re.error as exc:
        return _fail(f"config: [check] include/exclude: {exc}")
    given, options = _inputs(args, settings)
    inputs = inputs if inputs is not None else given
    if not inputs:
        return _fail("no INPUT given and no [inputs] paths configured")
    archive = _archive_options(args, settings)
    if isinstance(archive, int):
        return archive
    deadline = time.monotonic() + check.run_timeout if check.run_timeout else None
    return _Checking(check, connect_to, inputs, options, archive, deadline)


def _archive_options(args: argparse.Namespace, settings: Settings):  # noqa: ANN202 - ArchiveOptions | None | int
    if args.no_archive or not settings.archive.enabled:
        if args.save:
            say("crawler: warning: --save does nothing with the archive stage turned off")
        return None
    from crawler.archive import Credentials, CredentialsError
    from crawler.pipeline import ArchiveOptions

    archive = settings.archive.with_base(args.wayback_url) if args.wayback_url else settings.archive
    try:
        archive.validate()
    except ValueError as exc:
        return _fail(f"{'--wayback-url' if args.wayback_url else 'config: [archive]'}: {exc}")
    try:
        credentials = Credentials.from_env()
    except CredentialsError as exc:
        return _fail(str(exc))
    return ArchiveOptions(archive, save=args.save, credentials=credentials)


def _pipeline(checking: _Checking, progress: Progress, tracking: Any = None):  # noqa: ANN202 - a Pipeline
    from crawler.pipeline import Pipeline

    pipeline = Pipeline(checking.inputs, checking.options, checking.check, connect_to=checking.connect_to,
                        archive=checking.archive, tracking=tracking, deadline=checking.deadline,
                        on_result=progress.update, on_tick=progress.refresh)
    progress.total = lambda: len(pipeline.extraction.links)
    progress.extra = lambda: pipeline.stage.progress.line() if pipeline.stage is not None else ""
    return pipeline


def _execute(pipeline: Any, progress: Progress):  # noqa: ANN202 - the Audit
    try:
        return asyncio.run(_run_with_signals(pipeline))
    finally:
        progress.close()
        pipeline.close()


def _report_audit(audit: Any, *, command: str, **fields: Any) -> tuple[Report, list[Any]]:
    extraction = audit.extraction
    errors = [*extraction.errors, *audit.errors]
    for error in audit.errors:
        say(f"crawler: error: {error}")
    for notice in audit.notices:
        say(f"crawler: {notice}")
    report = Report(links=extraction.links, problems=extraction.problems, references=extraction.references,
                    errors=errors, command=command, started=audit.started, finished=audit.finished,
                    network=audit.network, results=audit.results, archives=audit.archives,
                    interrupted=audit.interrupted, notes=tuple(audit.notices), **fields)
    return report, errors


def _conclusion(args: argparse.Namespace, report: Report, errors: Sequence[Any], fail_on: Sequence[str],
                where: str = "") -> int:
    """The last line and the exit code of a run that wrote its report."""
    if report.interrupted:
        say(f"crawler: interrupted ({report.interrupted}): partial report written{where}")
        return EXIT_SIGNAL.get(report.interrupted, EXIT_USAGE)
    counts = report.verdict_counts()
    if not args.quiet:
        if report.network == "down":
            say("crawler: the network is down: no link was judged")
        else:
            summary = ", ".join(f"{n} {name}" for name, n in counts.items() if n)
            archived = ""
            if report.archives is not None:
                a = report.archive_counts()
                archived = f"; archived copies: {a['found']} found, {a['lost']} lost, {a['errors']} errors"
            saved = report.summary.get("saved_from_false_dead", 0)
            rescued = f"; {saved} saved from a false 'dead' (read another way, or possibly cut)" if saved else ""
            say(f"crawler: {len(report.links)} links: {summary or 'none'}{archived}{rescued}")
    if report.network == "down":
        return EXIT_UNJUDGED
    if errors:
        return EXIT_USAGE
    return _exit_code(report, fail_on, quiet=args.quiet)


def _audit_once(args: argparse.Namespace, checking: _Checking) -> tuple[Report, list[Any], Any] | int:
    """A one-off audit's report (single checks), its errors and the Audit; or an exit code."""
    progress = Progress(lambda: 0, sys.stderr, quiet=args.quiet)
    audit = _execute(_pipeline(checking, progress), progress)
    read = _after_reading(audit.extraction)
    if isinstance(read, int):
        return read
    report, errors = _report_audit(audit, command="audit")
    return report, errors, audit


def _audit(args: argparse.Namespace, settings: Settings) -> int:
    checking = _checking(args, settings)
    if isinstance(checking, int):
        return checking
    output = _output(args, settings, checking.inputs)
    if isinstance(output, int):
        return output
    checked = _audit_once(args, checking)
    if isinstance(checked, int):
        return checked
    report, errors, _ = checked
    _write(output, report)
    return _conclusion(args, report, errors, args.fail_on or settings.report.fail_on,
                       f" to {output.path}" if output.path else "")


def _run(args: argparse.Namespace, settings: Settings) -> int:
    """The scheduled job: the audit, with the store deciding what is due and what is dead."""
    checking = _checking(args, settings)
    if isinstance(checking, int):
        return checking
    reports = Path(args.reports) if args.reports else settings.reports_dir()
    clock = _clock()
    if isinstance(clock, int):
        return clock
    today = clock().date()
    try:
        reports.mkdir(parents=True, exist_ok=True)
        for name in (f"{today.isoformat()}.md", f"{today.isoformat()}.json", "latest.md", "latest.json"):
            check_output(str(reports / name), checking.inputs, settings.inputs.extensions)
    except OutputError as exc:
        return _fail(str(exc))
    except OSError as exc:
        return _fail(f"cannot write reports to {reports}: {exc.strerror or exc}")
    from crawler.tracking import Tracking, standing
    from crawler.store import StoreError, open_store

    state = Path(args.state) if args.state else settings.store_path()
    try:
        store = open_store(state, settings.history)
    except StoreError as exc:
        return _fail(str(exc))
    failure: StoreError | None = None
    try:
        run = store.begin_run(clock())
        schedule = store.schedule(run, clock(), recheck_all=args.recheck_all)
        if run.resumed and not args.quiet:
            say(f"crawler: resuming the run of {run.started:%Y-%m-%d %H:%M} UTC "
                f"({len(run.done)} links already checked)")
        progress = Progress(lambda: 0, sys.stderr, quiet=args.quiet)
        audit = _execute(_pipeline(checking, progress, Tracking(store, run, schedule, clock)), progress)
        read = _after_reading(audit.extraction)
        if isinstance(read, int):
            return read
        store.flush()
        known = standing(store, run, audit.extraction.links, audit.results, audit.histories)
        audit.results = {**known.results, **audit.results}
        if audit.archives is not None:
            audit.archives = {**known.snapshots, **audit.archives}
        history = settings.history
        report, errors = _report_audit(audit, command="run", histories=known.histories, changes=known.changes,
                                       confirmation=Confirmation(history.confirm_failures,
                                                                 history.confirm_spacing_days))
        if audit.network != "down" and not audit.interrupted:
            # An interrupted run stays open: the next one resumes it and checks nothing twice.
            store.finish_run(run, {"trend": report.trend_counts(), "summary": report.summary}, clock())
    except StoreError as exc:
        # A write that failed (a lock another program held past the busy timeout, a full disk)
        # is the store's error, named, with the usage exit code: not a traceback and exit 1,
        # which would read as "dead links found".
        failure = exc
    finally:
        try:
            store.close()
        except StoreError as exc:
            failure = failure or exc
    if failure is not None:
        return _fail(str(failure))
    for name, fmt in ((f"{today.isoformat()}.md", "markdown"), (f"{today.isoformat()}.json", "json")):
        write_report_file(report, fmt, reports / name)
    for suffix in ("md", "json"):
        _copy_atomically(reports / f"{today.isoformat()}.{suffix}", reports / f"latest.{suffix}")
    from crawler.store.retention import prune_reports

    prune_reports(reports, settings.store.keep_reports_days, today)
    return _conclusion(args, report, errors, args.fail_on or settings.run.fail_on, f" to {reports}")


def _clock():  # noqa: ANN202 - a () -> datetime, or an exit code
    """Now; or the time in CRAWLER_NOW (ISO 8601), which tests use to live through several nights."""
    fixed = os.environ.get("CRAWLER_NOW")
    if not fixed:
        return lambda: _dt.datetime.now(_dt.timezone.utc)
    try:
        when = _dt.datetime.fromisoformat(fixed)
    except ValueError:
        return _fail(f"CRAWLER_NOW: “{fixed}” is not an ISO 8601 time")
    when = when if when.tzinfo else when.replace(tzinfo=_dt.timezone.utc)
    return lambda: when


def _copy_atomically(source: Path, target: Path) -> None:
    with source.open("rb") as original:
        replace_atomically(target, lambda stream: shutil.copyfileobj(original, stream))


def _fix(args: argparse.Namespace, settings: Settings) -> int:
    """The reference list back, byte for byte, with archived copies after dead links and moved URLs updated."""
    from crawler.report.fix import FORMATS, FixError, edits_for, fix, format_of

    source = Path(args.input)
    if args.input == "-" or not source.is_file():
        return _fail(f"{args.input}: fix needs a reference list file")
    try:
        content = source.read_bytes()
        fmt = format_of(source, content)
    except (OSError, FixError) as exc:
        return _fail(f"{args.input}: {getattr(exc, 'strerror', None) or exc}")
    if fmt not in FORMATS:  # refused before any link is checked
        return _fail(f"{args.input}: fix writes back plain text, Markdown and BibTeX, not {fmt}")
    target = None
    if args.output and args.output != "-":
        try:
            target = check_output(args.output, [args.input])
        except OutputError as exc:
            return _fail(str(exc))
    checking = _checking(args, settings, inputs=[args.input])
    if isinstance(checking, int):
        return checking
    checked = _audit_once(args, checking)
    if isinstance(checked, int):
        return checked
    report, errors, audit = checked
    if audit.interrupted:
        say(f"crawler: interrupted ({audit.interrupted}): the list was not changed")
        return EXIT_SIGNAL.get(audit.interrupted, EXIT_USAGE)
    if audit.network == "down":
        say("crawler: the network is down: nothing was judged, the list was not changed")
        return EXIT_UNJUDGED
    edits = edits_for(args.input, audit.extraction.links, audit.results, audit.archives or {})
    try:
        fixed = fix(content, fmt, edits, encoding=checking.options.get("encoding"))  # type: ignore[arg-type]
    except FixError as exc:
        return _fail(f"{args.input}: {exc}")
    if target is not None:
        replace_atomically(target, lambda stream: stream.write(fixed.content))
    else:
        sys.stdout.buffer.write(fixed.content)
        sys.stdout.flush()
    if not args.quiet:
        say(f"crawler: fix: {_fix_summary(report, fixed)}")
        for edit, why in fixed.skipped:
            say(f"crawler: fix: {edit.cited_as} (line {edit.line}) not changed: {why}")
    if errors:
        return EXIT_USAGE
    return _exit_code(report, args.fail_on or settings.report.fail_on, quiet=True)


def _fix_summary(report: Report, fixed: Any) -> str:
    from crawler.model import ArchiveStatus
    from crawler.report import archive_key
    from crawler.report.fix import ArchiveEdit

    archived = sum(isinstance(e, ArchiveEdit) for e in fixed.applied)
    moved = len(fixed.applied) - archived
    parts = [f"{archived} archived cop{'y' if archived == 1 else 'ies'} added",
             f"{moved} moved URL{'' if moved == 1 else 's'} updated"]
    if fixed.already:
        parts.append(f"{len(fixed.already)} already done")
    lost = sum(1 for link in report.links if report.is_dead(link) and (
        (found := report.archive(archive_key(link))) is None
        or found.status not in (ArchiveStatus.FOUND, ArchiveStatus.SAVED)))
    if lost:
        parts.append(f"{lost} dead link{'' if lost == 1 else 's'} without an archived copy")
    return ", ".join(parts)


def _exit_code(report: Report, fail_on: Sequence[str], *, quiet: bool = False) -> int:
    """1 when something named by --fail-on was found; 3 when links were cited but none could be verified."""
    counts = report.verdict_counts()
    verified = counts["alive"] + counts["moved"] + counts["dead"]
    if report.links and not verified:
        if not quiet:
            say("crawler: no link could be verified (all blocked, unreachable or skipped)")
        return EXIT_UNJUDGED
    changes = report.changes
    found = {
        "dead": any(report.is_dead(link) for link in report.links),
        "new-dead": bool(changes and changes.newly_dead),
        "truncated": counts["truncated"] > 0 or any(p.kind is ProblemKind.TRUNCATED_URL for p in report.problems),
        "moved": counts["moved"] > 0,
        "unverified": counts["blocked"] + counts["unreachable"] + counts["skipped"] > 0,
        "problems": bool(report.problems),
        "none": False,
    }
    return EXIT_ATTENTION if any(found.get(name, False) for name in fail_on) else EXIT_OK


async def _run_with_signals(pipeline):  # noqa: ANN001, ANN202 - a Pipeline and its Audit
    """Run the pipeline; SIGINT or SIGTERM stop it cleanly, and a second one ends it at once."""
    loop = asyncio.get_running_loop()
    installed: list[signal.Signals] = []

    def restore() -> None:
        for sig in installed:
            loop.remove_signal_handler(sig)
        if installed:
            signal.signal(signal.SIGINT, signal.default_int_handler)
            _trap_sigterm()  # remove_signal_handler leaves the default (a kill) behind
        installed.clear()

    def on_signal(name: str) -> None:
        pipeline.stop(name)
        restore()  # a second signal is not waited on: it unwinds at once

    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, on_signal, sig.name)
            installed.append(sig)
        except (NotImplementedError, RuntimeError, ValueError):
            pass  # not the main thread, or a platform without them
    try:
        return await pipeline.run()
    finally:
        restore()
