#!/usr/bin/env python3
"""Fail when the last `crawler run` found links newly dead: the one alarm a nightly job should raise.

    python deploy/new_dead_links.py reports/latest.json [--since 2026-11-22T03:17:00Z]

Reads the JSON report `crawler run` writes: ``summary.history.newly_dead`` (how many
links the confirmation rule called dead in this run and not in the last), and
the links whose ``history.change`` is ``"newly_dead"``, to name them.

Exit 0: none (prints nothing, so cron sends no mail). Exit 1: some, listed
on stdout (as GitHub annotations and a step summary when run in GitHub
Actions). Exit 2: the report is missing, unreadable, lacks the field, or
finished before --since (this run did not write it: reading an old report
would raise an old alarm).

Standard library only: it runs before or without crawler's installation.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import sys
from pathlib import Path
from typing import Any


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("report", type=Path, help="the JSON report, e.g. reports/latest.json")
    parser.add_argument("--since", help="ISO time this run started: a report finished earlier is an error")
    args = parser.parse_args(argv)
    try:
        report = json.loads(args.report.read_text(encoding="utf-8"))
        newly_dead = report["summary"]["history"]["newly_dead"]
    except FileNotFoundError:
        return _fail(f"{args.report}: no report (did crawler run write one?)")
    except (OSError, ValueError) as exc:
        return _fail(f"{args.report}: cannot be read ({exc})")
    except (KeyError, TypeError):
        return _fail(f"{args.report}: no summary.history.newly_dead (is it a `crawler run` report?)")
    if args.since:
        # "finished", not "started": a run that resumes an interrupted one may
        # report the interrupted run's start.
        finished = _time(report.get("finished"))
        since = _time(args.since)
        if since is None:
            return _fail(f"--since {args.since}: not an ISO 8601 time")
        if finished is None or finished < since:
            return _fail(f"{args.report}: written by an earlier run (finished {report.get('finished')}), "
                         f"not this one (since {args.since})")
    if not isinstance(newly_dead, int) or newly_dead == 0:
        return 0
    links = [link for link in report.get("links", []) if (link.get("history") or {}).get("change") == "newly_dead"]
    _announce(newly_dead, links)
    return 1


def _announce(count: int, links: list[dict[str, Any]]) -> None:
    github = os.environ.get("GITHUB_ACTIONS") == "true"
    print(f"{count} link{'s' if count != 1 else ''} newly dead (confirmed by repeated checks):")
    rows = []
    for link in links:
        where = ", ".join(f"{r.get('source')}:{r.get('line')}" for r in link.get("references", []))
        reason = link.get("detail") or link.get("reason") or ""
        if github:
            print(f"::error title=Newly dead link::{_escape(link.get('url', ''))} ({_escape(where)}): {_escape(reason)}")
        else:
            print(f"  {link.get('url')}  ({where})  {reason}")
        rows.append(f"- `{link.get('url')}` ({where}): {reason}")
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if github and summary:
        with open(summary, "a", encoding="utf-8") as out:
            out.write(f"### {count} newly dead link{'s' if count != 1 else ''}\n\n" + "\n".join(rows) +
                      "\n\nSee `reports/latest.md` for the archived copies to replace them with.\n")


def _escape(text: str) -> str:
    # GitHub's workflow-command syntax: these would end or break the annotation.
    return str(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _time(text: object) -> _dt.datetime | None:
    if not isinstance(text, str):
        return None
    try:
        value = _dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=_dt.timezone.utc)


def _fail(message: str) -> int:
    print(f"new_dead_links: {message}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
