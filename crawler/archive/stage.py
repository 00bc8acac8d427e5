"""The archive stage: lookups and captures alongside the checker, on the same event loop.

``submit`` is called as each link gets its verdict and never blocks; a pool
of workers does the lookups, paced per archive and endpoint family, while
the checker goes on. ``drain`` waits for what is left, up to a deadline, and
marks the rest. The archives are tried in order (the Wayback Machine, then
each configured Memento archive); the first validated capture wins. An
archive that did not answer makes the result "error", never "none": "the
archive did not answer" is not "there is no copy".
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as _dt
import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from crawler import __version__
from crawler.archive.base import Archive, Excluded
from crawler.archive.credentials import Credentials
from crawler.archive.memento import MementoArchive
from crawler.archive.net import (ArchiveHttp, ArchiveResolver, ArchiveUnavailable, Breaker, Clock, Family,
                                 HttpSettings, Pace, endpoint_origins)
from crawler.archive.plan import Action, ArchiveJob, relation
from crawler.archive.save import NEEDS_KEYS, SavePageNow
from crawler.archive.settings import WAYBACK, ArchiveSettings
from crawler.archive.validate import Checked, check_capture
from crawler.archive.wayback import WaybackArchive
from crawler.check.resolve import ConnectTo
from crawler.model import ArchiveResult, ArchiveStatus

log = logging.getLogger("crawler.archive")

DEFAULT_USER_AGENT = f"crawler/{__version__} (link checker for reference lists; archive lookups)"
OFF = "archive lookups are turned off"


@dataclass(frozen=True)
class ArchiveProgress:
    submitted: int
    done: int
    by_status: dict[str, int] = field(default_factory=dict)

    def line(self) -> str:
        """For a progress line: "archive 12/40 found 8 none 2 error 1"."""
        counts = " ".join(f"{name} {n}" for name, n in sorted(self.by_status.items()) if n)
        return f"archive {self.done}/{self.submitted}" + (f" {counts}" if counts else "")


@dataclass(frozen=True, slots=True)
class _JobKey:
    """Jobs that must give the same answer: scheme and "www." do not matter to the archives."""

    match: str
    target: str | None
    action: Action
    prefix: bool
    known: str | None


def match_key(url: str) -> str:
    rest = url.split("://", 1)[-1]
    host, slash, path = rest.partition("/")
    host = host.lower().rsplit("@", 1)[-1]
    for default in (":80", ":443"):
        host = host.removesuffix(default)
    if host.startswith("www") and "." in host:
        head, _, tail = host.partition(".")
        if head[3:].isdigit() or head == "www":
            host = tail
    return host + slash + path


class ArchiveStage:
    """Finds archived copies (and, with ``save``, requests captures) for checked links."""

    def __init__(self, settings: ArchiveSettings, *, credentials: Credentials | None = None, save: bool = False,
                 connect_to: Sequence[ConnectTo] = (), ca_bundle: str | None = None,
                 user_agent: str = DEFAULT_USER_AGENT,
                 on_result: Callable[[str, ArchiveResult], None] | None = None,
                 resolver: Any = None, clock: Clock | None = None,
                 now: Callable[[], _dt.datetime] = lambda: _dt.datetime.now(_dt.timezone.utc)) -> None:
        settings.validate()
        self.settings = settings
        self.credentials = credentials
        self.save = save
        self.connect_to = tuple(connect_to)
        self.ca_bundle = ca_bundle
        self.user_agent = user_agent
        self.on_result = on_result or (lambda key, result: None)
        self.clock = clock or Clock()
        self.now = now
        self._base_resolver = resolver
        # Messages for the person running crawler (the command line prints them, the report keeps them).
        self.notices: list[str] = []
        if save and credentials is None and settings.enabled:
            self.notices.append(NEEDS_KEYS)
        self.submitted = 0
        self.done = 0
        self.by_status: Counter[str] = Counter()
        self.results: dict[str, ArchiveResult] = {}
        self._keys: dict[str, _JobKey] = {}  # submitted and not yet finished
        self._jobs: dict[_JobKey, asyncio.Future[ArchiveResult]] = {}
        self._started: set[_JobKey] = set()
        self._requested: dict[_JobKey, str] = {}  # Save Page Now job ids
        self._awaiting_capture: dict[_JobKey, ArchiveResult] = {}  # looked up, none found, capture queued
        self._submitting: set[_JobKey] = set()  # capture requested, no job id yet
        self._queue: asyncio.Queue[tuple[_JobKey, ArchiveJob]] = asyncio.Queue()
        self._captures: asyncio.Queue[tuple[_JobKey, ArchiveJob, ArchiveResult]] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self._idle = asyncio.Event()
        self._idle.set()
        self._drained = False
        self._http: ArchiveHttp | None = None
        self.archives: list[Archive] = []
        self._saver: SavePageNow | None = None

    def __repr__(self) -> str:
        return f"ArchiveStage(submitted={self.submitted}, done={self.done}, save={self.save})"

    # --- life cycle

    async def __aenter__(self) -> ArchiveStage:
        if not self.settings.enabled:
            return self
        s = self.settings
        redact = self.credentials.redact if self.credentials else (lambda text: text)
        resolver = ArchiveResolver(endpoint_origins(s.endpoints()), connect_to=self.connect_to,
                                   base=self._base_resolver)
        self._http = ArchiveHttp(
            HttpSettings(timeout=s.timeout, connect_timeout=s.connect_timeout, retries=s.retries,
                         backoff_initial=s.backoff_initial, backoff_max=s.backoff_max,
                         pause_after_429=s.pause_after_429, retry_after_cap=s.retry_after_cap),
            resolver, clock=self.clock, user_agent=self.user_agent, ca_bundle=self.ca_bundle, redact=redact)
        await self._http.open()
        self.archives = self._build_archives()
        if self.save and self.credentials is not None:
            breaker = self._breaker("Save Page Now")
            self._saver = SavePageNow(
                s, self._http, self.credentials, clock=self.clock, on_notice=self._notice,
                submit=Family("Save Page Now", Pace("save", s.save_per_minute, self.clock), breaker),
                status=Family("Save Page Now status",
                              Pace("save status", s.save_status_per_minute, self.clock, in_flight=2), breaker))
        self._tasks = [asyncio.ensure_future(self._lookup_worker()) for _ in range(s.max_concurrency)]
        if self._saver is not None:
            self._tasks += [asyncio.ensure_future(self._capture_worker()) for _ in range(s.save_concurrency)]
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._stop()
        if self._http is not None:
            await self._http.close()

    async def _stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    def _breaker(self, name: str) -> Breaker:
        s = self.settings
        return Breaker(name, failures=s.breaker_failures, throttles=s.breaker_throttles, cooldown=s.breaker_cooldown,
                       clock=self.clock, on_open=lambda _name, reason: self._notice(reason))

    def _build_archives(self) -> list[Archive]:
        """The archives in the order they are tried. A new kind of archive is one module and one line here."""
        s = self.settings
        assert self._http is not None
        breaker = self._breaker("the Wayback Machine")
        archives: list[Archive] = [WaybackArchive(
            s, self._http, now=self.now,
            lookup=Family("Wayback CDX", Pace("cdx", s.lookup_per_minute, self.clock), breaker),
            availability=Family("Wayback Availability API",
                                Pace("availability", s.availability_per_minute, self.clock), breaker),
            replay=Family("Wayback replay", Pace("replay", s.replay_per_minute, self.clock, in_flight=4), breaker),
        )]
        for memento in s.memento:
            breaker = self._breaker(memento.name)
            archives.append(MementoArchive(
                memento.name, memento.timemap, self._http, max_index_bytes=s.max_index_bytes,
                lookup=Family(f"{memento.name} TimeMap", Pace("timemap", s.lookup_per_minute, self.clock), breaker),
                replay=Family(f"{memento.name} replay", Pace("replay", s.replay_per_minute, self.clock, in_flight=4),
                              breaker),
            ))
        return archives

    def _notice(self, text: str) -> None:
        if text not in self.notices:
            self.notices.append(text)

    # --- the interface the command line uses

    def submit(self, key: str, job: ArchiveJob) -> None:
        """Queue ``job`` under ``key`` (a link's URL). Never blocks; a key already submitted is ignored."""
        if self._drained:
            raise RuntimeError("the archive stage has been drained")
        if key in self._keys or key in self.results:
            return
        self.submitted += 1
        if not self.settings.enabled:
            self._finish(key, ArchiveResult(ArchiveStatus.SKIPPED, detail=OFF))
            return
        job_key = _JobKey(match_key(job.url), job.target, job.action, job.prefix,
                          job.known_snapshot.timestamp if job.known_snapshot else None)
        self._keys[key] = job_key
        self._idle.clear()
        known = self._jobs.get(job_key)
        if known is not None:  # the same lookup for another key: one answer for both
            known.add_done_callback(lambda done, key=key: self._follower_done(key, done))
            return
        self._jobs[job_key] = asyncio.get_running_loop().create_future()
        self._jobs[job_key].add_done_callback(lambda done, key=key: self._follower_done(key, done))
        self._queue.put_nowait((job_key, job))

    @property
    def progress(self) -> ArchiveProgress:
        return ArchiveProgress(self.submitted, self.done, dict(self.by_status))

    async def drain(self, deadline: float | None = None) -> dict[str, ArchiveResult]:
        """Wait for every submitted job; at ``deadline`` (a time.monotonic() value) mark what is left.

        A job not started by then is "skipped"; one the archive had not
        answered is "error"; a capture requested but unfinished is "requested".
        """
        self._drained = True
        if self.settings.drain_timeout:
            limit = time.monotonic() + self.settings.drain_timeout
            deadline = limit if deadline is None else min(deadline, limit)
        if self._keys:
            timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                await asyncio.wait_for(self._idle.wait(), timeout)
            except TimeoutError:
                await self._stop()
                self._mark_unfinished()
        return dict(self.results)

    # --- work

    def _finish(self, key: str, result: ArchiveResult) -> None:
        if key in self.results:
            return
        self._keys.pop(key, None)
        self.results[key] = result
        self.done += 1
        self.by_status[result.status.value] += 1
        if not self._keys:
            self._idle.set()
        try:
            self.on_result(key, result)
        except Exception:  # a broken callback must not lose the other results
            log.exception("archive on_result callback failed for %s", key)

    def _follower_done(self, key: str, done: asyncio.Future[ArchiveResult]) -> None:
        if not done.cancelled() and key in self._keys:
            self._finish(key, done.result())

    def _resolve(self, job_key: _JobKey, result: ArchiveResult) -> None:
        future = self._jobs.get(job_key)
        if future is not None and not future.done():
            future.set_result(result)

    def _mark_unfinished(self) -> None:
        for key, job_key in list(self._keys.items()):
            if job_key in self._requested:
                result = ArchiveResult(ArchiveStatus.REQUESTED, archive=WAYBACK,
                                       detail=f"Save Page Now job {self._requested[job_key]} had not finished "
                                              "by the deadline")
            elif job_key in self._submitting:
                result = ArchiveResult(ArchiveStatus.ERROR, archive=WAYBACK,
                                       detail="Save Page Now had not answered the capture request by the deadline")
            elif job_key in self._awaiting_capture:
                looked_up = self._awaiting_capture[job_key]
                result = ArchiveResult(ArchiveStatus.SKIPPED, archive=WAYBACK,
                                       detail=f"{looked_up.detail}; no capture requested before the deadline")
            elif job_key in self._started:
                result = ArchiveResult(ArchiveStatus.ERROR,
                                       detail="the archive had not answered by the deadline")
            else:
                result = ArchiveResult(ArchiveStatus.SKIPPED, detail="not looked up before the deadline")
            self._finish(key, result)

    async def _lookup_worker(self) -> None:
        while True:
            job_key, job = await self._queue.get()
            self._started.add(job_key)
            try:
                result = await self._work(job_key, job)
            except Exception as exc:  # a bug must cost one link, not the stage
                log.exception("archive lookup failed for %s", job.url)
                result = ArchiveResult(ArchiveStatus.ERROR, detail=f"internal error ({type(exc).__name__})")
            if result is not None:
                self._resolve(job_key, result)

    async def _capture_worker(self) -> None:
        assert self._saver is not None
        while True:
            job_key, job, found = await self._captures.get()
            self._submitting.add(job_key)
            try:
                result = await self._saver.capture(job.url, on_job=lambda job_id: self._requested.__setitem__(
                    job_key, job_id))
            except Exception as exc:
                log.exception("capture request failed for %s", job.url)
                result = ArchiveResult(ArchiveStatus.ERROR, detail=f"internal error ({type(exc).__name__})")
            if found.detail and result.status is not ArchiveStatus.SAVED:
                result = _with_detail(result, found.detail)
            self._resolve(job_key, result)

    async def _work(self, job_key: _JobKey, job: ArchiveJob) -> ArchiveResult | None:
        if job.action is Action.SAVE:
            return await self._save_job(job_key, job)
        return await self._lookup(job)

    async def _lookup(self, job: ArchiveJob) -> ArchiveResult:
        errors: list[tuple[str, str]] = []
        nones: list[ArchiveResult] = []
        for archive in self.archives:
            if job.prefix and not archive.supports_prefix:
                continue
            try:
                result = await self._lookup_in(archive, job)
            except ArchiveUnavailable as exc:
                errors.append((archive.name, exc.detail))
                continue
            except Excluded as exc:
                result = ArchiveResult(ArchiveStatus.NONE, archive=archive.name, detail=exc.detail)
            if result.status is ArchiveStatus.FOUND:
                if errors:
                    result = _with_detail(result, "; ".join(f"{name}: {why}" for name, why in errors))
                return result
            if result.status is ArchiveStatus.ERROR:
                errors.append((archive.name, result.detail))
            else:
                nones.append(result)
        if errors:
            detail = "; ".join([f"{name}: {why}" for name, why in errors] + [f"{r.archive}: {r.detail}" for r in nones])
            return ArchiveResult(ArchiveStatus.ERROR, archive=errors[0][0], detail=detail)
        if len(nones) == 1:
            return nones[0]
        return ArchiveResult(ArchiveStatus.NONE, detail="; ".join(f"{r.archive}: {r.detail}" for r in nones))

    async def _lookup_in(self, archive: Archive, job: ArchiveJob) -> ArchiveResult:
        """The first good capture ``archive`` has for ``job``, or why there is none."""
        s = self.settings
        checked = 0
        passed_over: list[str] = []
        bad_digests: dict[str, str] = {}
        inconclusive = False
        async with contextlib.aclosing(archive.captures(job)) as captures:
            async for capture in captures:
                if capture.digest and capture.digest in bad_digests:
                    continue  # the same page as one already rejected
                checked += 1
                page_url = capture.original if job.prefix else job.url
                verdict = await check_capture(archive, capture, page_url, max_bytes=s.max_body_bytes)
                if verdict.ok and _crossed(capture.timestamp, verdict.timestamp, job.target):
                    # The archive replayed another capture (its nearest) on the other side of the
                    # access date: offering it would skip the listed ones closer to what the author saw.
                    verdict = Checked(False, f"the archive replayed the capture of {_when(verdict.timestamp)} "
                                             "instead, on the other side of the access date")
                if verdict.ok:
                    detail = _found_detail(capture.note, verdict.timestamp, job, passed_over)
                    return ArchiveResult(ArchiveStatus.FOUND, archive=archive.name,
                                         snapshot_url=verdict.snapshot_url, timestamp=verdict.timestamp,
                                         relation=relation(verdict.timestamp, job.target), detail=detail)
                passed_over.append(f"{_when(capture.timestamp)}: {verdict.reason}")
                if capture.digest:
                    bad_digests[capture.digest] = verdict.reason
                if not capture.conclusive:
                    inconclusive = True
                if checked >= s.max_candidates:
                    break  # before asking the index for more
        if inconclusive:
            return ArchiveResult(ArchiveStatus.ERROR, archive=archive.name,
                                 detail="no good capture found while the archive's index was not answering ("
                                        + "; ".join(passed_over) + ")")
        if not passed_over:
            return ArchiveResult(ArchiveStatus.NONE, archive=archive.name, detail=archive.nothing_found)
        checked_note = "the only one was checked" if checked == 1 else f"the {checked} closest were checked"
        return ArchiveResult(ArchiveStatus.NONE, archive=archive.name,
                             detail=f"no usable capture ({checked_note}: {'; '.join(passed_over)})")

    async def _save_job(self, job_key: _JobKey, job: ArchiveJob) -> ArchiveResult | None:
        """A live link: any good Wayback capture will do; without one, ask for a capture."""
        wayback = self.archives[0]
        try:
            found = await self._lookup_in(wayback, job)
        except ArchiveUnavailable as exc:
            return ArchiveResult(ArchiveStatus.ERROR, archive=WAYBACK,
                                 detail=f"could not tell whether a capture exists, so none was requested: {exc.detail}")
        except Excluded as exc:
            return ArchiveResult(ArchiveStatus.NONE, archive=WAYBACK, detail=f"{exc.detail}; no capture requested")
        if found.status is not ArchiveStatus.NONE:
            return found
        if self._saver is None:
            reason = NEEDS_KEYS.split(";")[0] if self.credentials is None else "saving is off"
            return _with_detail(found, f"no capture requested: {reason}")
        if self.settings.max_age_days:
            found = _with_detail(found, f"none newer than {self.settings.max_age_days} days")
        self._awaiting_capture[job_key] = found
        self._captures.put_nowait((job_key, job, found))
        return None  # a capture worker finishes it


def _with_detail(result: ArchiveResult, more: str) -> ArchiveResult:
    detail = f"{result.detail}; {more}" if result.detail else more
    return ArchiveResult(result.status, result.archive, result.snapshot_url, result.timestamp, result.relation,
                         detail)


def _crossed(listed: str, replayed: str, target: str | None) -> bool:
    if target is None or len(listed) != 14 or not listed.isdigit():
        return False  # no access date, or a cited copy given only to the day: any side will do
    return relation(listed, target) != relation(replayed, target)


def _when(timestamp: str) -> str:
    t = timestamp
    if len(t) >= 14:
        return f"{t[:4]}-{t[4:6]}-{t[6:8]} {t[8:10]}:{t[10:12]}:{t[12:14]}"
    return t


def _found_detail(note: str, timestamp: str, job: ArchiveJob, passed_over: list[str]) -> str:
    where = relation(timestamp, job.target)
    if where == "latest":
        text = f"captured {_when(timestamp)} UTC, the latest good copy"
    elif where == "before_access":
        text = f"captured {_when(timestamp)} UTC, before the access date ({job.accessed})"
    else:
        text = f"captured {_when(timestamp)} UTC, after the access date ({job.accessed})"
    if note:
        text += f"; {note}"
    if passed_over:
        text += f"; passed over: {'; '.join(passed_over)}"
    return text
