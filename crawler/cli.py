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
import sys
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

from crawler import __version__
from crawler.check.dns import dns_server
from crawler.config import ConfigError, Settings, find_config, load_settings
from crawler.extract import Extraction, extract_all
from crawler.extract.background import BackgroundExtraction
from crawler.model import Link, ProblemKind, Verdict
from crawler.progress import Progress
from crawler.report import FORMAT_NAMES, Report, write_report, write_report_file

EXIT_OK = 0
EXIT_ATTENTION = 1
EXIT_USAGE = 2
EXIT_UNJUDGED = 3


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
    common.add_argument("--output", "-o", metavar="FILE", help="write the report to FILE instead of stdout")
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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings(find_config(args.config))
    except ConfigError as exc:
        return _fail(f"config: {exc}")
    try:
        if args.command == "audit":
            return _audit(args, settings)
        return _extract(args, settings)
    except KeyboardInterrupt:
        print("\ncrawler: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # stdout closed early (crawler … | head): not an error of ours.
        sys.stderr.close()
        return EXIT_OK


def _fail(message: str) -> int:
    print(f"crawler: error: {message}", file=sys.stderr)
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
        print(f"crawler: error: {error}", file=sys.stderr)
    if extraction.nothing_read:
        return _fail("nothing could be read") if not extraction.errors else EXIT_USAGE
    return extraction


def _write(args: argparse.Namespace, settings: Settings, report: Report) -> int | None:
    fmt = args.format or settings.report.format
    if fmt not in FORMAT_NAMES:
        return _fail(f"config: [report] format must be one of {', '.join(FORMAT_NAMES)}")
    if args.output:
        write_report_file(report, fmt, Path(args.output))
    else:
        write_report(report, fmt, sys.stdout)
        sys.stdout.flush()
    return None


def _extract(args: argparse.Namespace, settings: Settings) -> int:
    extraction = _read(args, settings)
    if isinstance(extraction, int):
        return extraction
    report = Report(links=extraction.links, problems=extraction.problems,
                    references=extraction.references, errors=extraction.errors)
    failed = _write(args, settings, report)
    if failed is not None:
        return failed
    if not args.quiet:
        s = report.summary
        print(f"crawler: {s['links']} links in {s['references']} references, {s['problems']} problems",
              file=sys.stderr)
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
    # Start reading the references now; the checker's imports happen meanwhile.
    source = BackgroundExtraction(inputs, **options)
    from crawler.check import Checker

    extraction = Extraction()
    progress = Progress(lambda: len(extraction.links), sys.stderr, quiet=args.quiet)
    checker = Checker(check, connect_to=connect_to, on_result=progress.update)

    async def links() -> AsyncIterator[Link]:
        # A link is checked as soon as it is first cited, while later
        # references are still being read.
        index: dict[str, Link] = {}
        async for item in source:
            for link in extraction.add(item, index):
                yield link

    try:
        run = asyncio.run(checker.check(links()))
    finally:
        progress.close()
        source.close()
    read = _after_reading(extraction)
    if isinstance(read, int):
        return read
    report = Report(links=extraction.links, problems=extraction.problems, references=extraction.references,
                    errors=extraction.errors, network=run.network, results=run.results)
    failed = _write(args, settings, report)
    if failed is not None:
        return failed
    counts = report.verdict_counts()
    if not args.quiet:
        if run.network == "down":
            print("crawler: the network is down: no link was judged", file=sys.stderr)
        else:
            summary = ", ".join(f"{n} {name}" for name, n in counts.items() if n)
            print(f"crawler: {len(extraction.links)} links: {summary or 'none'}", file=sys.stderr)
    if run.network == "down":
        return EXIT_UNJUDGED
    if extraction.errors:
        return EXIT_USAGE
    dead = counts[Verdict.DEAD.value]
    truncated = any(p.kind is ProblemKind.TRUNCATED_URL for p in extraction.problems)
    return EXIT_ATTENTION if dead or truncated else EXIT_OK
