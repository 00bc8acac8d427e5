"""Politeness: a global bound on work in flight and a per-host bound and pace.

Work is dispatched from per-host queues in round robin, so a long run of
links to one slow government site never holds up the other hosts, and at
most ``max_concurrency`` tasks exist at any time however many links there
are.

Idle workers wait each on a future of their own, and a host that becomes
ready wakes one of them: one asyncio.Event for all would wake every idle
worker for each ready host (tens of thousands of wake-ups per 10,000 links
that found nothing to do). A worker that takes work while more is ready
wakes the next one, so a burst of ready hosts still fans out at once.
"""

from __future__ import annotations

import asyncio
import heapq
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class HostPolicy:
    """How hard one host may be asked."""

    max_connections: int
    delay: float = 0.0  # minimum seconds between the starts of two requests to the host


@dataclass
class _Host(Generic[T]):
    """One host's queue and what it has in flight."""

    policy: HostPolicy
    pending: deque[T] = field(default_factory=deque)
    active: int = 0
    not_before: float = 0.0
    queued: bool = False  # in the ready deque or the waiting heap


class HostScheduler(Generic[T, R]):
    """Runs ``work(item)`` for every item, bounded globally and per host."""

    def __init__(self, max_concurrency: int, policy_for: Callable[[str], HostPolicy],
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.max_concurrency = max_concurrency
        self.policy_for = policy_for
        self.clock = clock
        self._hosts: dict[str, _Host[T]] = {}
        self._ready: deque[str] = deque()
        self._waiting: list[tuple[float, str]] = []
        self._idle: deque[asyncio.Future[None]] = deque()  # one per idle worker
        self._timer: asyncio.TimerHandle | None = None  # wakes a worker when a paused host is due
        self._timer_at = 0.0
        self._closed = False
        self._stopped = False
        self._workers: list[asyncio.Future[None]] = []

    def add(self, host: str, item: T) -> None:
        state = self._hosts.get(host)
        if state is None:
            state = self._hosts[host] = _Host(self.policy_for(host))
        state.pending.append(item)
        self._enqueue(host, state)

    def pause(self, host: str, seconds: float) -> None:
        """No new request to ``host`` for ``seconds`` (it answered 429 or Retry-After)."""
        state = self._hosts.get(host)
        if state is not None:
            state.not_before = max(state.not_before, self.clock() + seconds)

    def _enqueue(self, host: str, state: _Host[T], wake: bool = True) -> None:
        if state.queued or not state.pending or state.active >= state.policy.max_connections:
            return
        state.queued = True
        if state.not_before > self.clock():
            self._wait_until(state.not_before, host)
        else:
            self._ready.append(host)
            if wake:
                self._wake_one()

    def _wait_until(self, when: float, host: str) -> None:
        heapq.heappush(self._waiting, (when, host))
        self._arm()

    def _arm(self) -> None:
        """Have a worker woken when the earliest paused or delayed host is due."""
        if not self._waiting:
            return
        when = self._waiting[0][0]
        if self._timer is not None and self._timer_at <= when:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # added before the run: the first idle worker arms the timer
        if self._timer is not None:
            self._timer.cancel()
        self._timer_at = when
        self._timer = loop.call_later(max(0.0, when - self.clock()), self._due)

    def _due(self) -> None:
        # Not re-armed here: the host is still in the heap until a worker
        # takes it out in _next(), which arms the timer for the next one.
        self._timer = None
        self._wake_one()

    def _wake_one(self) -> None:
        while self._idle:
            waiter = self._idle.popleft()
            if not waiter.done():  # a cancelled worker left its future behind
                waiter.set_result(None)
                return

    def _wake_all(self) -> None:
        while self._idle:
            waiter = self._idle.popleft()
            if not waiter.done():
                waiter.set_result(None)

    def _next(self) -> tuple[str, T] | None:
        now = self.clock()
        if self._waiting and self._waiting[0][0] <= now:
            while self._waiting and self._waiting[0][0] <= now:
                self._ready.append(heapq.heappop(self._waiting)[1])
            self._arm()
        while self._ready:
            host = self._ready.popleft()
            state = self._hosts[host]
            if state.not_before > now:  # paused after it was queued
                self._wait_until(state.not_before, host)
                continue
            state.queued = False
            item = state.pending.popleft()
            state.active += 1
            if state.policy.delay:
                state.not_before = now + state.policy.delay
            self._enqueue(host, state, wake=False)
            if self._ready:
                self._wake_one()  # more is ready than this worker takes: pass it on
            return host, item
        return None

    def _done(self, host: str) -> None:
        state = self._hosts[host]
        state.active -= 1
        if not state.pending and not state.active:
            del self._hosts[host]  # idle hosts are dropped, so state does not grow with the run
            if self._closed and not self._hosts:
                self._wake_all()  # let idle workers see that everything is done
        elif not state.queued:
            # No wake-up: the worker that calls this takes its next item at once.
            self._enqueue(host, state, wake=False)

    def close(self) -> None:
        """No more items will be added: run() ends when the last one is done."""
        self._closed = True
        if not self._hosts:
            self._wake_all()

    def stop(self) -> None:
        """Abandon the run: items in progress are cancelled, pending ones dropped."""
        self._stopped = True
        for worker in self._workers:
            worker.cancel()

    async def run(self, work: Callable[[str, T], Awaitable[R]], on_result: Callable[[R], None]) -> None:
        """Do every item with ``max_concurrency`` workers; items may be added while it runs.

        Long-lived workers, not a task per item: with 100,000 links the
        bookkeeping per link is a dictionary lookup, not a task, a callback and
        a queue round trip.
        """
        loop = asyncio.get_running_loop()

        async def worker() -> None:
            while True:
                nxt = self._next()
                if nxt is None:
                    if self._closed and not self._hosts:
                        return
                    self._arm()
                    waiter = loop.create_future()
                    self._idle.append(waiter)
                    await waiter
                    continue
                host, item = nxt
                try:
                    result = await work(host, item)
                finally:
                    self._done(host)
                on_result(result)

        self._workers = [asyncio.ensure_future(worker()) for _ in range(self.max_concurrency)]
        try:
            await asyncio.gather(*self._workers)
        except asyncio.CancelledError:
            if not self._stopped:
                raise
        finally:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            for task in self._workers:
                task.cancel()
            await asyncio.gather(*self._workers, return_exceptions=True)
