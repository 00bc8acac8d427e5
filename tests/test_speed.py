"""What the speed work must not cost: bounded bodies, the collector's settings restored."""

from __future__ import annotations

import asyncio
import gc
import gzip

import pytest
from aiohttp import web

from crawler.check import Checker, CheckSettings, ConnectTo
from crawler.check.http import Fetcher, HttpSettings
from crawler.check.resolve import GuardedResolver
from crawler.check.transport import Transport
from crawler.model import Link
from sites import FakeWeb, page

LIMIT = 4096


@pytest.fixture
def fake(tmp_path):
    with FakeWeb(tmp=tmp_path) as site:
        yield site


async def fetch_body(fake: FakeWeb, url: str) -> bytes:
    resolver = GuardedResolver(connect_to=tuple(ConnectTo.parse(rule) for rule in fake.connect_to()))
    transport = Transport(resolver, headers={})
    try:
        evidence = await Fetcher(transport, HttpSettings(max_body_bytes=LIMIT)).fetch(url)
    finally:
        await transport.close()
    assert evidence.status == 200, evidence
    return evidence.body


def body(data: bytes, **headers: str):
    async def handler(request: web.Request) -> web.Response:
        return web.Response(body=data, content_type="text/html", headers=headers)
    return handler


async def test_a_small_page_is_read_whole(fake):
    fake.route("www.mofa.go.jp", "/small.html", body(b"<title>Small</title>" + b"a" * 1000))
    assert len(await fetch_body(fake, "http://www.mofa.go.jp/small.html")) == 1020


async def test_a_large_page_is_read_only_up_to_the_limit(fake):
    fake.route("www.mofa.go.jp", "/large.html", body(b"a" * (LIMIT * 50)))
    assert len(await fetch_body(fake, "http://www.mofa.go.jp/large.html")) == LIMIT


async def test_a_small_compressed_page_that_inflates_is_still_cut_at_the_limit(fake):
    bomb = gzip.compress(b"a" * (LIMIT * 1000))
    assert len(bomb) < LIMIT  # its Content-Length alone would let it through
    fake.route("www.mofa.go.jp", "/bomb.html", body(bomb, **{"Content-Encoding": "gzip"}))
    assert len(await fetch_body(fake, "http://www.mofa.go.jp/bomb.html")) == LIMIT


def test_a_run_restores_the_collectors_settings(fake):
    fake.route("www.mofa.go.jp", "/page.html", page("A page"))
    before = gc.get_threshold()
    during: list[tuple[int, int, int]] = []
    checker = Checker(CheckSettings(canary_urls=(), soft_404=False),
                      connect_to=[ConnectTo.parse(rule) for rule in fake.connect_to()],
                      on_result=lambda link, result: during.append(gc.get_threshold()))
    asyncio.run(checker.check([Link(url="http://www.mofa.go.jp/page.html", cited_as="www.mofa.go.jp/page.html")]))
    assert during and during[0][0] > before[0]  # collections were rarer while it ran
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
