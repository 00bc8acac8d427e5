"""The data's path, wired once: extract → check → archive → store, for every command that audits.

``Pipeline`` starts reading the references in a child process as soon as it
is made, before aiohttp is even imported, and checks each link as soon as it
is first cited. As each link gets its verdict, the archive stage looks up
its copy (or asks for a capture) alongside the checking, and the store keeps
the result at once, so a crash loses no finished check. Nothing is kept or
looked up until the network is known to be up: a failure before then may be
the network's, not the link's.

It knows nothing of the command line: it never prints and never exits.
``stop()`` (from a signal handler) ends the run within seconds, and what was
finished is kept: links not checked are reported as skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as _dt
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from crawler.check.settings import CheckSettings
from crawler.extract import Extraction
from crawler.extract.background import BackgroundExtraction
from crawler.lazy import exports
from crawler.model import ArchiveResult, CheckResult, InputError, Link
from crawler.report import archive_key

TYPE_CHECKING = False
if TYPE_CHECKING:
    from crawler.tracking import Tracking

TICK = 0.2  # seconds between progress callbacks while the archive is drained

# Only `crawler run` keeps a history: an audit does not make its classes at start.
__getattr__ = exports(__name__, dict.fromkeys(("Tracking", "Standing", "standing"), "crawler.tracking"))


@dataclass(frozen=True)
class ArchiveOptions:
    """What a run's archive stage needs: its settings, --save, and the keys Save Page Now asks for."""

    settings: Any  # crawler.archive.ArchiveSettings
    save: bool = False
    credentials: Any = None  # crawler.archive.Credentials


@dataclass
class Audit:
    """What a pipeline run found: every stage's results, for the report."""

    extraction: Extraction
    started: _dt.datetime
    finished: _dt.datetime | None = None
    network: str | None = None
    results: dict[str, CheckResult] = field(default_factory=dict)
    archives: dict[str, ArchiveResult] | None = None  # by report.archive_key(); None: no archive stage
    interrupted: str | None = None
    errors: list[InputError] = field(default_factory=list)  # the run's own (a lost extraction process)
    notices: list[str] = field(default_factory=list)  # for the person running it (the archive needs keys…)
    waiting: list[Link] = field(default_factory=list)  # not due for a check (a scheduled run)
    histories: dict[str, Any] | None = None  # the store's LinkHistory per URL, when already read


def now() -> _dt.datetime:
    return _dt.datetime.now(_dt.timezone.utc)


class Pipeline:
    def __init__(self, inputs: Sequence[str], extract_options: dict[str, Any], check: CheckSettings, *,
                 connect_to: Sequence[Any] = (), resolver: Any = None, archive: ArchiveOptions | None = None,
                 tracking: Tracking | None = None, deadline: float | None = None,
                 on_result: Callable[[Link, CheckResult], None] | None = None,
                 on_tick: Callable[[], None] | None = None) -> None:
        self.clock = tracking.now if tracking is not None else now
        self.started = self.clock()
        # Start reading the references now; the checker's imports happen meanwhile.
        self.source = BackgroundExtraction(list(inputs), **extract_options)
        self.extraction = Extraction()
        self.check_settings = check
        self.connect_to = tuple(connect_to)
        self.resolver = resolver
        self.archive = archive
        self.tracking = tracking
        self.deadline = deadline  # a time.monotonic() value for the whole run, archive included
        self.on_result = on_result
        self.on_tick = on_tick
        self.stage: Any = None  # the ArchiveStage, while the run lasts (for a progress line)
        self._checker: Any = None
        self._stopped: str | None = None
        self._waiting: list[Link] = []
        self._archives: dict[str, ArchiveResult] = {}
        self._stopping: asyncio.Event | None = None  # set by stop(), once the loop runs
        self._histories: dict[str, Any] | None = None

    def stop(self, reason: str) -> None:
        """End the run soon; safe to call from a signal handler on the loop."""
        self._stopped = self._stopped or reason
        if self._checker is not None:
            self._checker.stop(reason)
        if self._stopping is not None:
            self._stopping.set()  # the archive stage too, if checking is over

    async def links(self) -> AsyncIterator[Link]:
        # A link is checked as soon as it is first cited, while later
        # references are still being read; one not due waits for the report.
        index: dict[str, Link] = {}
        schedule = self.tracking.schedule if self.tracking is not None else None
        add = self.extraction.add
        async for batch in self.source.batches():  # not item by item: an async step less per link
            for item in batch:
                for link in add(item, index):
                    if schedule is not None and not schedule.is_due(link.url):
                        self._waiting.append(link)
                    else:
                        yield link

    async def run(self) -> Audit:
        from crawler.check import Checker

        audit = Audit(self.extraction, self.started)
        self._stopping = asyncio.Event()
        if self._stopped:
            self._stopping.set()
        pending: list[tuple[Link, CheckResult]] = []  # until the network is known to be up

        def on_result(link: Link, result: CheckResult) -> None:
            if self.on_result is not None:
                self.on_result(link, result)
            if not self._checker.network_known:
                pending.append((link, result))
                return
            if pending:  # the network was just seen up: what waited is kept now, in order
                for waited in pending:
                    self._keep(*waited)
                pending.clear()
            self._keep(link, result)

        self._checker = Checker(self.check_settings, connect_to=self.connect_to, resolver=self.resolver,
                                on_result=on_result)
        if self._stopped:
            self._checker.stop(self._stopped)
        ticker = asyncio.ensure_future(self._tick()) if self.on_tick is not None else None
        try:
            async with self._archive_stage() as stage:
                self.stage = stage
                try:
                    run = await self._checker.check(self.links())
                finally:
                    self.source.close()
                if run.network == "up" and self._checker.network_known:
                    for waited in pending:
                        self._keep(*waited)
                pending.clear()
                audit.network, audit.results, audit.interrupted = run.network, run.results, run.interrupted
                if run.stream_error and not run.interrupted:  # a signal to the group ends the child too
                    audit.errors.append(InputError("<extraction>",
                                                   f"reading the references stopped: {run.stream_error}"))
                if run.callback_error:
                    audit.errors.append(InputError("<run>", f"recording a result failed: {run.callback_error}"))
                if stage is not None:
                    audit.archives = await self._drain(stage, run.network)
                    audit.notices.extend(stage.notices)
                audit.interrupted = audit.interrupted or self._stopped  # a signal while the archive worked
        finally:
            if ticker is not None:
                ticker.cancel()
        audit.waiting = self._waiting
        audit.histories = self._histories
        audit.finished = self.clock()
        return audit

    def _keep(self, link: Link, result: CheckResult) -> None:
        """A finished check: into the store at once, and to the archive if it needs a copy."""
        if self.tracking is not None:
            self.tracking.store.record_check(self.tracking.run, link.url, result, self.tracking.now())
        self._submit(link, result)

    def _submit(self, link: Link, result: CheckResult) -> None:
        if self.stage is None:
            return
        from crawler.archive.plan import Action, plan

        job = plan(link, result, save=self.archive.save)
        if job is None:
            return
        if self.tracking is not None and job.action is Action.LOOKUP:
            known = self.tracking.store.snapshot(link.url)
            if known is not None:  # found and validated once: a capture does not change
                self._archives[link.url] = known
                return
        self.stage.submit(link.url, job)

    @contextlib.asynccontextmanager
    async def _archive_stage(self) -> AsyncIterator[Any]:
        if self.archive is None:
            yield None
            return
        from crawler.archive import ArchiveStage

        def archived(key: str, result: ArchiveResult) -> None:
            if self.tracking is not None and not key.startswith("prefix:"):
                self.tracking.store.record_snapshot(self.tracking.run, key, result, self.tracking.now())

        settings = self.check_settings
        async with ArchiveStage(self.archive.settings, credentials=self.archive.credentials, save=self.archive.save,
                                connect_to=self.connect_to, ca_bundle=settings.ca_bundle or None,
                                on_result=archived) as stage:
            yield stage

    async def _drain(self, stage: Any, network: str | None) -> dict[str, ArchiveResult]:
        from crawler.archive.plan import plan_truncated

        if network == "down":
            await stage.drain(time.monotonic())
            return {}  # nothing was judged, so nothing needed a copy
        for problem in self.extraction.problems:
            key = archive_key(problem)
            job = plan_truncated(problem)
            if key is not None and job is not None:
                stage.submit(key, job)
        if self.tracking is not None:
            # Read once, off the loop (the store may take seconds), and kept for the report.
            self._histories = await asyncio.to_thread(self._read_histories)
            self._submit_waiting(self._histories)
        assert self._stopping is not None
        if self._stopping.is_set():
            results = await stage.drain(time.monotonic())
        else:
            # The archive's pace is slow (24 lookups a minute): a signal must
            # not wait for it. What is left is marked as the stage's deadline does.
            draining = asyncio.ensure_future(stage.drain(self.deadline))
            stopping = asyncio.ensure_future(self._stopping.wait())
            await asyncio.wait((draining, stopping), return_when=asyncio.FIRST_COMPLETED)
            stopping.cancel()
            if draining.done():
                results = draining.result()
            else:
                draining.cancel()
                await asyncio.gather(draining, return_exceptions=True)
                results = await stage.drain(time.monotonic())
        return {**self._archives, **results}

    def _read_histories(self) -> dict[str, Any]:
        store = self.tracking.store
        store.flush()  # tonight's checks are in them too
        return store.histories(link.url for link in self.extraction.links)

    def _submit_waiting(self, histories: dict[str, Any]) -> None:
        """Links not due for a check still need a copy if their last check found them dead."""
        for link in self._waiting:
            known = histories.get(link.url)
            if known is not None and known.latest is not None:
                self._submit(link, known.latest.result)

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(TICK)
            self.on_tick()

    def close(self) -> None:
        self.source.close()

