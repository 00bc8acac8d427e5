"""A measuring stick, not a client: the least an asyncio HTTP/1.1 GET loop can cost in Python.

    python bench/http_floor.py LIST --concurrency 256 --per-host 16
    python bench/http_floor.py LIST --parser aiohttp   # aiohttp's protocol and parser, not its client

The same shape as check_speed.py's bare loop (one queue, N workers, at most
``--per-host`` kept-alive connections a host, the body read), with aiohttp's
client replaced by a Protocol that writes a request and reads a
Content-Length body. It does only what bench/farm.py needs: no TLS, no
chunked or compressed bodies, no redirects, no timeouts, no errors handled.
It imports aiohttp anyway, so that its start costs what the others' do.

With ``--parser aiohttp`` the connections are aiohttp's own protocol
(``aiohttp.client_proto.ResponseHandler``, with its C parser: chunked and
compressed bodies, header limits, payload errors) driven by hand, without
``ClientSession``, ``ClientRequest``, ``ClientResponse`` or the connector:
what a lean transport on aiohttp's parser would cost. That class is
aiohttp's internal API, used here only to measure.

bench/instructions.py counts it beside crawler and the bare loop, to show
how much of a link's cost is aiohttp's client rather than Python's event
loop (see the README's Benchmarks section).
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit


class _Connection(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.waiter: asyncio.Future[int] | None = None
        self.body_start = -1
        self.end = 0
        self.status = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if self.body_start < 0:
            at = self.buffer.find(b"\r\n\r\n")
            if at < 0:
                return
            self.body_start = at + 4
            lines = bytes(self.buffer[:at]).decode("latin-1").split("\r\n")
            self.status = int(lines[0].split(" ", 2)[1])
            length = 0
            for line in lines[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            self.end = self.body_start + length
        if len(self.buffer) >= self.end and self.waiter is not None:
            del self.buffer[:self.end]
            self.body_start = -1
            waiter, self.waiter = self.waiter, None
            waiter.set_result(self.status)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError("connection lost"))

    async def get(self, request: bytes) -> int:
        self.waiter = asyncio.get_running_loop().create_future()
        assert self.transport is not None
        self.transport.write(request)
        return await self.waiter


@functools.cache
def _aiohttp_connection() -> type:
    from aiohttp.client_proto import ResponseHandler

    class Connection(ResponseHandler):  # type: ignore[misc]
        async def get(self, request: bytes) -> int:
            self.set_response_params(read_until_eof=False, auto_decompress=True, read_timeout=None,
                                     read_bufsize=2**16, timeout_ceil_threshold=5,
                                     max_line_size=8190, max_field_size=8190)
            self.transport.write(request)
            message, payload = await self.read()
            await payload.read()
            return message.code

    return Connection


async def floor_loop(urls: list[str], concurrency: int, per_host: int, parser: str = "bare") -> dict[int, int]:
    loop = asyncio.get_running_loop()
    factory = _Connection if parser == "bare" else functools.partial(_aiohttp_connection(), loop)
    queue: asyncio.Queue[str] = asyncio.Queue()
    for url in urls:
        queue.put_nowait(url)
    statuses: Counter[int] = Counter()
    idle: dict[tuple[str, int], asyncio.Queue[Any]] = {}
    opened: Counter[tuple[str, int]] = Counter()

    async def connection(host: str, port: int) -> Any:
        pool = idle.setdefault((host, port), asyncio.Queue())
        if pool.empty() and opened[(host, port)] < per_host:
            opened[(host, port)] += 1
            _, protocol = await loop.create_connection(factory, host, port)
            return protocol
        return await pool.get()

    async def worker() -> None:
        while not queue.empty():
            parts = urlsplit(queue.get_nowait())
            host, port = parts.hostname or "", parts.port or 80
            conn = await connection(host, port)
            request = (f"GET {parts.path or '/'} HTTP/1.1\r\nHost: {host}:{port}\r\n"
                       "User-Agent: http-floor\r\nAccept: */*\r\n\r\n").encode()
            statuses[await conn.get(request)] += 1
            idle[(host, port)].put_nowait(conn)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    for pool in idle.values():
        while not pool.empty():
            transport = pool.get_nowait().transport
            if transport is not None:
                transport.close()
    return dict(statuses)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("list", type=Path, help="a list as check_speed.py writes it")
    parser.add_argument("--concurrency", type=int, default=256)
    parser.add_argument("--per-host", type=int, default=16)
    parser.add_argument("--parser", choices=("bare", "aiohttp"), default="bare")
    args = parser.parse_args()
    import aiohttp  # noqa: F401 - the same start as the other clients

    urls = [line.rsplit(" - ", 1)[1].split(" ")[0] for line in args.list.read_text().splitlines()]
    statuses = asyncio.run(floor_loop(urls, args.concurrency, args.per_host, args.parser))
    assert sum(statuses.values()) == len(urls), statuses
    print(json.dumps({"statuses": statuses}))


if __name__ == "__main__":
    main()
