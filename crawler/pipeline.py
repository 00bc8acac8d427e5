"""The data's path, wired once: extract → check (→ archive → store), for every command that audits.

``Pipeline`` starts reading the references in a child process as soon as it
is made, before aiohttp is even imported, and checks each link as soon as it
is first cited. It knows nothing of the command line: it never prints and
never exits. ``stop()`` (from a signal handler) ends the run within seconds,
and what was finished is kept: links not checked are reported as skipped.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from crawler.check.settings import CheckSettings
from crawler.extract import Extraction
from crawler.extract.background import BackgroundExtraction
from crawler.model import CheckResult, InputError, Link


@dataclass
class Audit:
    """What a pipeline run found: every stage's results, for the report."""

    extraction: Extraction
    started: _dt.datetime
    finished: _dt.datetime | None = None
    network: str | None = None
    results: dict[str, CheckResult] = field(default_factory=dict)
    interrupted: str | None = None
    errors: list[InputError] = field(default_factory=list)  # the run's own (a lost extraction process)


def now() -> _dt.datetime:
    return _dt.datetime.now(_dt.timezone.utc)


class Pipeline:
    def __init__(self, inputs: Sequence[str], extract_options: dict[str, Any], check: CheckSettings, *,
                 connect_to: Sequence[Any] = (), resolver: Any = None,
                 on_result: Callable[[Link, CheckResult], None] | None = None) -> None:
        self.started = now()
        # Start reading the references now; the checker's imports happen meanwhile.
        self.source = BackgroundExtraction(list(inputs), **extract_options)
        self.extraction = Extraction()
        self.check_settings = check
        self.connect_to = tuple(connect_to)
        self.resolver = resolver
        self.on_result = on_result
        self._checker: Any = None
        self._stopped: str | None = None

    def stop(self, reason: str) -> None:
        """End the run soon; safe to call from a signal handler on the loop."""
        self._stopped = self._stopped or reason
        if self._checker is not None:
            self._checker.stop(reason)

    async def links(self) -> AsyncIterator[Link]:
        # A link is checked as soon as it is first cited, while later
        # references are still being read.
        index: dict[str, Link] = {}
        async for item in self.source:
            for link in self.extraction.add(item, index):
                yield link

    async def run(self) -> Audit:
        from crawler.check import Checker

        audit = Audit(self.extraction, self.started)
        self._checker = Checker(self.check_settings, connect_to=self.connect_to, resolver=self.resolver,
                                on_result=self.on_result)
        if self._stopped:
            self._checker.stop(self._stopped)
        try:
            run = await self._checker.check(self.links())
        finally:
            self.source.close()
        audit.network, audit.results, audit.interrupted = run.network, run.results, run.interrupted
        if run.stream_error:
            audit.errors.append(InputError("<extraction>", f"reading the references stopped: {run.stream_error}"))
        audit.finished = now()
        return audit

    def close(self) -> None:
        self.source.close()
