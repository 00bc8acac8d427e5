"""Runs the ``crawler`` command with its CPU time split by stage, for bench/check_speed.py.

    python bench/stages.py OUT.json audit LIST ... (crawler's own arguments)

It is crawler's command line with light accounting around it, and it writes
what each stage cost to OUT.json (CPU seconds of the parent process, and of
the extraction child):

- ``imports``: the interpreter start and crawler's imports (aiohttp included);
- ``extraction``: the child (its whole life) plus the parent's side of it:
  receiving the child's batches and deduplicating the links;
- ``checker``: the checker's own synchronous logic: verdicts, the host
  scheduler, the checks before a request, recording results and progress,
  the soft-404 probe's bookkeeping, redirect targets;
- ``requests``: the rest of the event loop's time while checking: aiohttp,
  the event loop itself, and the fetcher's glue between them;
- ``report``: building and writing the report;
- ``gc``: garbage collection, wherever it ran (already counted in the others).

The wrappers cost a little themselves (well under a microsecond a call), so
the checker's share is slightly overstated here; the timed rounds of
check_speed.py run the real command without them.
"""

from __future__ import annotations

import time

_STARTED = time.process_time()  # noqa: E402 - what the interpreter start cost so far

import asyncio  # noqa: E402
import functools  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402
from collections import defaultdict  # noqa: E402
from collections.abc import Callable  # noqa: E402
from typing import Any  # noqa: E402

_spent: defaultdict[str, float] = defaultdict(float)
_inside = threading.local()


def _timed(stage: str, function: Callable[..., Any]) -> Callable[..., Any]:
    """``function`` with its thread CPU time added to ``stage``; nested calls count once."""
    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if getattr(_inside, "on", False):
            return function(*args, **kwargs)
        _inside.on = True
        started = time.thread_time()
        try:
            return function(*args, **kwargs)
        finally:
            _spent[stage] += time.thread_time() - started
            _inside.on = False
    return wrapper


def _patch(owner: Any, name: str, stage: str) -> None:
    setattr(owner, name, _timed(stage, getattr(owner, name)))


def _count_gc() -> None:
    started: dict[int, float] = {}

    def callback(phase: str, info: dict[str, int]) -> None:
        key = threading.get_ident()
        if phase == "start":
            started[key] = time.thread_time()
        elif key in started:
            _spent["gc"] += time.thread_time() - started.pop(key)
            _spent["gc_runs"] += 1
    gc.callbacks.append(callback)


def main() -> int:
    out, argv = sys.argv[1], sys.argv[2:]
    from crawler import cli
    import crawler.check.checker as checker
    import crawler.check.http as http
    import crawler.check.probe as probe
    import crawler.extract.background as background
    from crawler.check.hosts import HostScheduler
    from crawler.extract.collect import Extraction
    from crawler.progress import Progress

    imported = time.process_time()
    for owner, name in ((checker, "decide"), (checker, "_probe_worthy"), (checker.Checker, "_before_request"),
                        (checker.Checker, "_record"), (HostScheduler, "add"), (HostScheduler, "_next"),
                        (HostScheduler, "_done"), (Progress, "update"), (probe, "probe_key"),
                        (probe, "probe_url"), (probe, "tokens"), (http, "_redirect_target")):
        _patch(owner, name, "checker")
    _patch(background.BackgroundExtraction, "_decode", "extraction_parent")
    _patch(Extraction, "add", "extraction_parent")
    _patch(cli, "_write", "report")
    run = asyncio.run

    def timed_run(main: Any, **kwargs: Any) -> Any:
        started = time.process_time()
        try:
            return run(main, **kwargs)
        finally:
            _spent["check_span"] += time.process_time() - started
    asyncio.run = timed_run  # type: ignore[assignment]
    _count_gc()

    code = cli.main(argv)
    parent = resource.getrusage(resource.RUSAGE_SELF)
    child = resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(out, "w", encoding="utf-8") as f:
        json.dump({"interpreter": _STARTED, "imported": imported, **_spent,
                   "parent": parent.ru_utime + parent.ru_stime,
                   "child": child.ru_utime + child.ru_stime}, f)
    return code


if __name__ == "__main__":
    sys.exit(main())
