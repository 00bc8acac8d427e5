"""The ``crawler`` command: parses arguments, wires the stages, prints and exits.

Exit codes: 0 nothing needs attention; 1 something does (problems found, an
input unreadable); 2 usage, configuration or input error (nothing could be
read); 3 the links could not be judged (network down).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from crawler import __version__
from crawler.config import ConfigError, Settings, find_config, load_settings
from crawler.extract import extract_all
from crawler.report import FORMAT_NAMES, Report, write_report, write_report_file

EXIT_OK = 0
EXIT_ATTENTION = 1
EXIT_USAGE = 2
EXIT_UNJUDGED = 3


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings(find_config(args.config))
    except ConfigError as exc:
        return _fail(f"config: {exc}")
    try:
        return _extract(args, settings)
    except KeyboardInterrupt:
        print("crawler: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # stdout closed early (crawler … | head): not an error of ours.
        sys.stderr.close()
        return EXIT_OK


def _fail(message: str) -> int:
    print(f"crawler: error: {message}", file=sys.stderr)
    return EXIT_USAGE


def _inputs(args: argparse.Namespace, settings: Settings) -> list[str] | None:
    return list(args.inputs) or settings.default_inputs() or None


def _extract(args: argparse.Namespace, settings: Settings) -> int:
    inputs = _inputs(args, settings)
    if not inputs:
        return _fail("no INPUT given and no [inputs] paths configured")
    encoding = args.encoding or settings.inputs.encoding
    extraction = extract_all(
        inputs,
        extensions=settings.inputs.extensions,
        max_file_bytes=settings.inputs.max_file_bytes,
        encoding=None if encoding == "auto" else encoding,
    )
    for error in extraction.errors:
        print(f"crawler: error: {error}", file=sys.stderr)
    report = Report(links=extraction.links, problems=extraction.problems,
                    references=extraction.references, errors=extraction.errors)
    if extraction.nothing_read:
        return _fail("nothing could be read") if not extraction.errors else EXIT_USAGE
    fmt = args.format or settings.report.format
    if fmt not in FORMAT_NAMES:
        return _fail(f"config: [report] format must be one of {', '.join(FORMAT_NAMES)}")
    if args.output:
        write_report_file(report, fmt, Path(args.output))
    else:
        write_report(report, fmt, sys.stdout)
        sys.stdout.flush()
    if not args.quiet:
        s = report.summary
        print(f"crawler: {s['links']} links in {s['references']} references, {s['problems']} problems",
              file=sys.stderr)
    return EXIT_ATTENTION if extraction.problems or extraction.errors else EXIT_OK
