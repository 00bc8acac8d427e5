"""The ``crawler`` command: parses arguments, wires the stages, prints and exits.

Exit codes: 0 nothing needs attention; 1 something does (extract: problems
or an unreadable input; audit: dead links or truncated URLs); 2 usage,
configuration or input error; 3 the links could not be judged (network down).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import re
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from crawler import __version__
from crawler.check.dns import dns_server
from crawler.config import ConfigError, Settings, find_config, load_settings
from crawler.extract import Extraction, extract_all
from crawler.model import ProblemKind, Verdict
from crawler.progress import Progress
from crawler.report import (
    FORMAT_NAMES,
    OutputError,
    Report,
    check_output,
    format_for,
    write_report,
    write_report_file,
)
from crawler.text import visible

EXIT_OK = 0
EXIT_ATTENTION = 1
EXIT_USAGE = 2
EXIT_UNJUDGED = 3
EXIT_SIGNAL = {"SIGINT": 130, "SIGTERM": 143}
# What --fail-on can name; the default is in [report] fail_on.
FAIL_ON = ("dead", "truncated", "moved", "unverified", "problems", "none")


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


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("inputs", nargs="*", metavar="INPUT",
                        help="reference list files or directories, or - for stdin "
                             "(default: the [inputs] paths of the config)")
    common.add_argument("--format", choices=FORMAT_NAMES, help="report format (default: [report] format)")
    common.add_argument("--output", "-o", metavar="FILE",
                        help="write the report to FILE (- for stdout, the default); its extension (.json, .md) "
                             "gives the format when --format is not given")
    common.add_argument("--config", metavar="FILE", help="settings file (default: config/crawler.toml "
                                                          "if present, or $CRAWLER_CONFIG)")
    common.add_argument("--encoding", help="text encoding of the inputs (default: [inputs] encoding)")
    common.add_argument("--quiet", "-q", action="store_true", help="print nothing but errors")

    parser = _Parser(prog="crawler", description="Check the links of reference lists and find archived copies.")
    parser.add_argument("--version", action="version", version=f"crawler {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)
    commands.add_parser(
        "extract", parents=[common],
        help="list the URLs, access dates and problems of reference lists, without checking them",
        description="List every URL or DOI the references cite, with access dates, and flag "
                    "truncated URLs, missing URLs and impossible access dates.",
    )
    audit = commands.add_parser(
        "audit", parents=[common],
        help="extract the links of reference lists and check them all",
        description="Extract every cited URL and check each one: alive, moved, dead, unreachable, "
                    "blocked or skipped. Only evidence that a page is gone makes it dead.",
    )
    net = audit.add_argument_group("network")
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
    which = audit.add_argument_group("which links")
    which.add_argument("--include", action="append", type=_regex, default=[], metavar="REGEX",
                       help="check only URLs matching (repeatable)")
    which.add_argument("--exclude", action="append", type=_regex, default=[], metavar="REGEX",
                       help="do not check URLs matching (repeatable)")
    which.add_argument("--accept", type=_statuses, action="append", default=[], metavar="STATUSES",
                       help="statuses counted as alive, e.g. 403 or 200..299,403 (repeatable)")
    audit.add_argument("--no-archive", action="store_true", help="do not look up or request archived copies")
    audit.add_argument("--fail-on", type=_fail_on, metavar="WHAT",
                       help="exit 1 when any of these is found: " + ", ".join(FAIL_ON) +
                            " (comma-separated; default: [report] fail_on)")
    return parser


def _fail_on(text: str) -> tuple[str, ...]:
    names = tuple(filter(None, (part.strip() for part in text.split(","))))
    unknown = [name for name in names if name not in FAIL_ON]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"“{text}”: choose from {', '.join(FAIL_ON)}")
    return names


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings(find_config(args.config))
    except ConfigError as exc:
        return _fail(f"config: {exc}")
    previous = _trap_sigterm()
    try:
        if args.command == "audit":
            return _audit(args, settings)
        return _extract(args, settings)
    except (KeyboardInterrupt, Interrupted) as exc:
        name = exc.name if isinstance(exc, Interrupted) else "SIGINT"
        print(f"\ncrawler: interrupted ({name}): no report written", file=sys.stderr)
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
    return list(args.inputs) or settings.default_inputs(), options


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


def _audit(args: argparse.Namespace, settings: Settings) -> int:
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
    inputs, options = _inputs(args, settings)
    if not inputs:
        return _fail("no INPUT given and no [inputs] paths configured")
    output = _output(args, settings, inputs)
    if isinstance(output, int):
        return output
    from crawler.pipeline import Pipeline

    progress = Progress(lambda: len(pipeline.extraction.links), sys.stderr, quiet=args.quiet)
    pipeline = Pipeline(inputs, options, check, connect_to=connect_to, on_result=progress.update)
    try:
        audit = asyncio.run(_run_with_signals(pipeline))
    finally:
        progress.close()
        pipeline.close()
    extraction = audit.extraction
    errors = [*extraction.errors, *audit.errors]
    for error in audit.errors:
        say(f"crawler: error: {error}")
    read = _after_reading(extraction)
    if isinstance(read, int):
        return read
    report = Report(links=extraction.links, problems=extraction.problems, references=extraction.references,
                    errors=errors, command="audit", started=audit.started, finished=audit.finished,
                    network=audit.network, results=audit.results, interrupted=audit.interrupted)
    _write(output, report)
    if audit.interrupted:
        where = f" to {output.path}" if output.path else ""
        say(f"crawler: interrupted ({audit.interrupted}): partial report written{where}")
        return EXIT_SIGNAL.get(audit.interrupted, EXIT_USAGE)
    counts = report.verdict_counts()
    if not args.quiet:
        if audit.network == "down":
            say("crawler: the network is down: no link was judged")
        else:
            summary = ", ".join(f"{n} {name}" for name, n in counts.items() if n)
            say(f"crawler: {len(extraction.links)} links: {summary or 'none'}")
    if audit.network == "down":
        return EXIT_UNJUDGED
    if errors:
        return EXIT_USAGE
    return _exit_code(report, args.fail_on or settings.report.fail_on, quiet=args.quiet)


def _exit_code(report: Report, fail_on: Sequence[str], *, quiet: bool = False) -> int:
    """1 when something named by --fail-on was found; 3 when links were cited but none could be verified."""
    counts = report.verdict_counts()
    verified = counts["alive"] + counts["moved"] + counts["dead"]
    if report.links and not verified:
        if not quiet:
            say("crawler: no link could be verified (all blocked, unreachable or skipped)")
        return EXIT_UNJUDGED
    found = {
        "dead": any(report.is_dead(link) for link in report.links),
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
