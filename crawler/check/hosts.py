"""Politeness: a global bound on work in flight and a per-host bound and pace.

Work is dispatched from per-host queues in round robin, so a long run of
links to one slow government site never holds up the other hosts, and at
most ``max_concurrency`` tasks exist at any time however many links there
are.
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
    max_connections: int
    delay: float = 0.0  # minimum seconds between the starts of two requests to the host


@dataclass
class _Host(Generic[T]):
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
        self._available = asyncio.Event()  # set when work may have become available
        self._closed = False
        self._stopped = False
        self._workers: list[asyncio.Future[None]] = []

    def add(self, host: str, item: T) -> None:
        state = self._hosts.get(host)
        if state is None:
            state = self._hosts[host] = _Host(self.policy_for(host))
        state.pending.append(item)
        self._enqueue(host, state)
        self._available.set()

    def pause(self, host: str, seconds: float) -> None:
        """No new request to ``host`` for ``seconds`` (it answered 429 or Retry-After)."""
        state = self._hosts.get(host)
        if state is not None:
            state.not_before = max(state.not_before, self.clock() + seconds)

    def _enqueue(self, host: str, state: _Host[T]) -> None:
        if state.queued or not state.pending or state.active >= state.policy.max_connections:
            return
        state.queued = True
        if state.not_before > self.clock():
            heapq.heappush(self._waiting, (state.not_before, host))
        else:
            self._ready.append(host)

    def _next(self) -> tuple[str, T] | None:
        now = self.clock()
        while self._waiting and self._waiting[0][0] <= now:
            self._ready.append(heapq.heappop(self._waiting)[1])
        while self._ready:
            host = self._ready.popleft()
            state = self._hosts[host]
            if state.not_before > now:  # paused after it was queued
                heapq.heappush(self._waiting, (state.not_before, host))
                continue
            state.queued = False
            item = state.pending.popleft()
            state.active += 1
            if state.policy.delay:
                state.not_before = now + state.policy.delay
            self._enqueue(host, state)
            return host, item
        return None

    def _done(self, host: str) -> None:
        state = self._hosts[host]
        state.active -= 1
        if not state.pending and not state.active:
            del self._hosts[host]  # idle hosts are dropped, so state does not grow with the run
            if self._closed and not self._hosts:
                self._available.set()  # let idle workers see that everything is done
        elif not state.queued:
            self._enqueue(host, state)
            if state.queued:
                self._available.set()

    def close(self) -> None:
        """No more items will be added: run() ends when the last one is done."""
        self._closed = True
        self._available.set()

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
        async def worker() -> None:
            while True:
                nxt = self._next()
                if nxt is None:
                    if self._closed and not self._hosts:
                        return
                    self._available.clear()
                    delay = max(0.0, self._waiting[0][0] - self.clock()) if self._waiting else None
                    try:
                        await asyncio.wait_for(self._available.wait(), delay)
                    except TimeoutError:
                        pass  # a paused or delayed host is due
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
            for task in self._workers:
                task.cancel()
            await asyncio.gather(*self._workers, return_exceptions=True)
