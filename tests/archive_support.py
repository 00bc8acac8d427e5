"""Shared helpers for the archive tests: a fake clock and a stage run against the fakes."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager

from crawler.archive.credentials import Credentials
from crawler.archive.net import Clock
from crawler.archive.settings import ArchiveSettings, MementoSettings
from crawler.archive.stage import ArchiveStage
from crawler.model import ArchiveResult
from sites import FakeWeb
from wayback_fake import FakeMementoArchive, FakeWayback

KEYS = Credentials("test-access", "test-secret")


class FakeClock(Clock):
    """Time that passes only when someone sleeps: pauses of a minute take no time in tests."""

    def __init__(self) -> None:
        self.t = 1000.0
        self.slept: list[float] = []

    def now(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.t += max(0.0, seconds)
        await asyncio.sleep(0)


@dataclasses.dataclass
class Archives:
    wayback: FakeWayback
    memento: FakeMementoArchive
    web: FakeWeb

    def settings(self, *, memento: bool = False, **changes: object) -> ArchiveSettings:
        settings = ArchiveSettings(retries=1, backoff_initial=0.01, backoff_max=0.02, timeout=5.0,
                                   max_concurrency=4).with_base(self.wayback.base)
        if memento:
            changes["memento"] = (MementoSettings("arquivo", f"http://{self.memento.host}/wayback/timemap/link/{{url}}"),)
        return dataclasses.replace(settings, **changes)

    def connect_to(self) -> list:
        from crawler.check.resolve import ConnectTo

        return [ConnectTo.parse(rule) for rule in self.web.connect_to(self.memento.host)]


@contextmanager
def archives() -> Iterator[Archives]:
    wayback = FakeWayback()
    memento = FakeMementoArchive("arquivo.test")
    with FakeWeb() as web:
        web.fallback("127.0.0.1", wayback.handle)
        web.fallback(memento.host, memento.handle)
        wayback.base = f"http://127.0.0.1:{web.http_port}"
        yield Archives(wayback, memento, web)


def run_stage(fakes: Archives, jobs: dict, settings: ArchiveSettings | None = None, *, clock: Clock | None = None,
              stage_out: list | None = None, deadline_in: float | None = None,
              **options: object) -> dict[str, ArchiveResult]:
    settings = settings or fakes.settings()
    options.setdefault("connect_to", fakes.connect_to())

    async def main() -> dict[str, ArchiveResult]:
        import time

        async with ArchiveStage(settings, clock=clock or FakeClock(), **options) as stage:  # type: ignore[arg-type]
            if stage_out is not None:
                stage_out.append(stage)
            for key, job in jobs.items():
                stage.submit(key, job)
            deadline = None if deadline_in is None else time.monotonic() + deadline_in
            return await stage.drain(deadline)

    return asyncio.run(main())
