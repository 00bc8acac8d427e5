"""The scheduler and the resolver, without HTTP."""

from __future__ import annotations

import asyncio
import socket

import pytest

from crawler.check.hosts import HostPolicy, HostScheduler
from crawler.check.resolve import ConnectTo, GuardedResolver, NameNotFoundError, PrivateAddressError, StaticResolver, is_public


async def test_scheduler_bounds_work_globally_and_per_host():
    active = {"all": 0, "max_all": 0}
    per_host: dict[str, int] = {}
    peak: dict[str, int] = {}

    async def work(host: str, item: int) -> int:
        active["all"] += 1
        per_host[host] = per_host.get(host, 0) + 1
        active["max_all"] = max(active["max_all"], active["all"])
        peak[host] = max(peak.get(host, 0), per_host[host])
        await asyncio.sleep(0.01)
        active["all"] -= 1
        per_host[host] -= 1
        return item

    scheduler: HostScheduler[int, int] = HostScheduler(5, lambda host: HostPolicy(max_connections=2))
    for n in range(40):
        scheduler.add(f"host{n % 4}", n)
    scheduler.close()
    done: list[int] = []
    await scheduler.run(work, done.append)
    assert sorted(done) == list(range(40))
    assert active["max_all"] <= 5
    assert max(peak.values()) == 2


async def test_one_slow_host_does_not_hold_up_the_others():
    order: list[str] = []

    async def work(host: str, item: int) -> str:
        await asyncio.sleep(0.05 if host == "slow" else 0.001)
        order.append(host)
        return host

    scheduler: HostScheduler[int, str] = HostScheduler(4, lambda host: HostPolicy(max_connections=1))
    for n in range(10):
        scheduler.add("slow", n)
    for n in range(10):
        scheduler.add("fast", n)
    scheduler.close()
    await scheduler.run(work, lambda result: None)
    assert order.index("slow") > order.count("fast") // 2  # the fast host finished while slow waited


async def test_host_delay_spaces_requests():
    starts: list[float] = []
    loop = asyncio.get_running_loop()

    async def work(host: str, item: int) -> None:
        starts.append(loop.time())

    scheduler: HostScheduler[int, None] = HostScheduler(8, lambda host: HostPolicy(max_connections=4, delay=0.05))
    for n in range(4):
        scheduler.add("www.kantei.go.jp", n)
    scheduler.close()
    await scheduler.run(work, lambda result: None)
    gaps = [b - a for a, b in zip(starts, starts[1:])]
    assert all(gap >= 0.045 for gap in gaps), gaps


async def test_items_added_while_running_are_done_before_close_ends_the_run():
    scheduler: HostScheduler[int, int] = HostScheduler(4, lambda host: HostPolicy(max_connections=2))

    async def work(host: str, item: int) -> int:
        await asyncio.sleep(0.001)
        return item

    async def feed() -> None:
        for n in range(20):
            scheduler.add(f"host{n % 3}", n)
            await asyncio.sleep(0.002)
        scheduler.close()

    feeder = asyncio.ensure_future(feed())
    done: list[int] = []
    await scheduler.run(work, done.append)
    await feeder
    assert sorted(done) == list(range(20))


async def test_pause_holds_a_host_back():
    starts: list[float] = []
    loop = asyncio.get_running_loop()
    scheduler: HostScheduler[int, None] = HostScheduler(8, lambda host: HostPolicy(max_connections=1))

    async def work(host: str, item: int) -> None:
        starts.append(loop.time())
        if item == 0:
            scheduler.pause(host, 0.1)

    scheduler.add("www.brookings.edu", 0)
    scheduler.add("www.brookings.edu", 1)
    scheduler.close()
    await scheduler.run(work, lambda result: None)
    assert starts[1] - starts[0] >= 0.09


def test_connect_to_parses_like_curl():
    rule = ConnectTo.parse("www.mofa.go.jp:443:127.0.0.1:8443")
    assert (rule.host, rule.port, rule.to_host, rule.to_port) == ("www.mofa.go.jp", 443, "127.0.0.1", 8443)
    anything = ConnectTo.parse("::[::1]:8080")
    assert anything.matches("www.kantei.go.jp", 80) and anything.to_host == "::1"
    with pytest.raises(ValueError):
        ConnectTo.parse("www.mofa.go.jp:443")


@pytest.mark.parametrize(("address", "public"), [
    ("8.8.8.8", True), ("127.0.0.1", False), ("10.0.0.1", False), ("192.168.1.1", False),
    ("169.254.169.254", False), ("100.64.0.1", False), ("::1", False), ("::ffff:127.0.0.1", False),
    ("fe80::1", False), ("2001:4860:4860::8888", True), ("0.0.0.0", False), ("224.0.0.1", False),
])
def test_private_and_reserved_addresses(address, public):
    assert is_public(address) is public


async def test_resolver_refuses_private_answers_and_allows_connect_to_targets():
    resolver = GuardedResolver(connect_to=(ConnectTo.parse("www.mofa.go.jp:80:127.0.0.1:8080"),),
                               base=StaticResolver({"intranet.example": "10.0.0.5", "www.example.org": "93.184.216.34"}))
    [mapped] = await resolver.resolve("www.mofa.go.jp", 80)
    assert (mapped["host"], mapped["port"], mapped["hostname"]) == ("127.0.0.1", 8080, "www.mofa.go.jp")
    with pytest.raises(PrivateAddressError):
        await resolver.resolve("intranet.example", 80)
    await resolver.resolve("www.example.org", 80)
    assert resolver.answered == {"www.example.org"}
    with pytest.raises(NameNotFoundError):
        await resolver.resolve("nowhere.example", 80)


async def test_getaddrinfo_nxdomain_is_told_apart_from_a_failed_lookup():
    class Failing(StaticResolver):
        def __init__(self, errno: int) -> None:
            super().__init__({})
            self.errno = errno

        async def resolve(self, host, port=0, family=socket.AF_INET):
            raise OSError(self.errno, "lookup failed")

    with pytest.raises(NameNotFoundError):
        await GuardedResolver(base=Failing(socket.EAI_NONAME)).resolve("gone.example", 80)
    with pytest.raises(OSError) as info:
        await GuardedResolver(base=Failing(socket.EAI_AGAIN)).resolve("flaky.example", 80)
    assert not isinstance(info.value, NameNotFoundError)


async def test_a_ready_host_wakes_one_idle_worker_not_all_of_them():
    scheduler: HostScheduler[int, int] = HostScheduler(64, lambda host: HostPolicy(max_connections=1))
    looked = {"empty": 0, "taken": 0}
    next_item = scheduler._next

    def counting_next():
        found = next_item()
        looked["taken" if found else "empty"] += 1
        return found

    scheduler._next = counting_next  # type: ignore[method-assign]

    async def work(host: str, item: int) -> int:
        await asyncio.sleep(0)
        return item

    async def produce() -> None:
        for n in range(200):
            scheduler.add("only-host", n)
            await asyncio.sleep(0)
        scheduler.close()

    done: list[int] = []
    await asyncio.gather(scheduler.run(work, done.append), produce())
    assert sorted(done) == list(range(200))
    # One host, one slot, 63 idle workers: an event for all woke every one of
    # them for every item (some 12,000 empty looks); now a few per item at most.
    assert looked["empty"] < 3 * 200 + 64


async def test_a_paused_host_is_resumed_by_a_timer_while_every_worker_idles():
    scheduler: HostScheduler[int, int] = HostScheduler(4, lambda host: HostPolicy(max_connections=1))
    loop = asyncio.get_running_loop()
    starts: list[float] = []

    async def work(host: str, item: int) -> int:
        starts.append(loop.time())
        if item == 0:
            scheduler.pause(host, 0.2)
        return item

    for n in range(2):
        scheduler.add("paused", n)
    scheduler.close()
    await asyncio.wait_for(scheduler.run(work, lambda result: None), 5)
    assert len(starts) == 2 and starts[1] - starts[0] >= 0.19
