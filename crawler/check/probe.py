"""The soft-404 probe: what does a site answer for a page that cannot exist?

For a URL that answered 2xx, a made-up sibling is requested: the same
directory and extension with a long random name, or for a query URL the same
path with random parameter values. A site that answers it with a real 404
serves real pages; one that answers 2xx needs its pages compared with that
answer. Probes are cached per (host, directory) for the run, and concurrent
links of one directory share a single probe.
"""

from __future__ import annotations

import asyncio
import random
import string
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from crawler.check.evidence import Evidence, split_url, tokens
from crawler.check.verdict import Probe

_ALPHABET = string.ascii_lowercase + string.digits
# What secrets.choice() is, without importing secrets (and hmac) at every start.
_RANDOM = random.SystemRandom()


def _random_name(length: int = 24) -> str:
    return "".join(_RANDOM.choice(_ALPHABET) for _ in range(length))


def _split(path: str) -> tuple[str, str, bool]:
    """(directory, extension, trailing slash) of a URL path."""
    trailing = path.endswith("/") and path != "/"
    path = path.rstrip("/") if trailing else path
    directory, name = path.rsplit("/", 1) if "/" in path else ("", path)
    return directory, "" if trailing else extension(name), trailing


def extension(name: str) -> str:
    """posixpath.splitext(name)[1] for a name without "/", at a third of its cost:
    from the last dot, unless only dots come before it (".htaccess")."""
    dot = name.rfind(".")
    return name[dot:] if dot > 0 and name[:dot].strip(".") else ""


def probe_key(url: str) -> tuple[str, ...]:
    scheme, netloc, path, query = split_url(url)
    if query:
        names = sorted(name for name, _ in parse_qsl(query, keep_blank_values=True))
        return (scheme, netloc, path, "?", *names)
    if path.endswith("/") and path != "/":
        return (scheme, netloc, _split(path)[0], "", "/")
    cut = path.rfind("/")  # _split() in short, for the usual path: no trailing slash
    return (scheme, netloc, path[:cut], extension(path[cut + 1:]).lower(), "")


def probe_url(url: str) -> str:
    """A sibling of ``url`` that no site has."""
    parts = urlsplit(url)
    if parts.query:
        params = parse_qsl(parts.query, keep_blank_values=True)
        query = urlencode([(name, _random_name(12)) for name, _ in params])
        return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))
    directory, extension, trailing = _split(parts.path)
    path = f"{directory}/{_random_name()}{extension}{'/' if trailing else ''}"
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


# What a host that answered made-up pages with real 404s is taken to answer; one
# object for all (a frozen dataclass costs microseconds to make, per link).
_ASSUMED_404 = Probe(status=404, final_url="", tokens=frozenset(), assumed=True)
# What a link that could wait no longer for its probe knows: nothing, so no
# soft-404 test applies to it.
_NOT_IN_TIME = Probe(status=None, final_url="", tokens=frozenset(), error="timeout")


class ProbeCache:
    """Probes of the run, by (host, directory), bounded in number."""

    def __init__(self, fetch: Callable[[str], Awaitable[Evidence]], *, max_entries: int = 20000,
                 trust_after: int = 3) -> None:
        self._fetch = fetch
        self._probes: OrderedDict[tuple[str, ...], asyncio.Future[Probe]] = OrderedDict()
        self._max_entries = max_entries
        # After this many directories of a host answered made-up pages with a
        # real 404, the host is taken to do so everywhere: fewer requests to it.
        self._trust_after = trust_after
        self._hard_404s: dict[str, int] = {}

    def known(self, url: str) -> Probe | None:
        """The probe for ``url`` if one is already in hand, without a coroutine: most links' case."""
        if self._hard_404s.get(split_url(url)[1], 0) >= self._trust_after:
            return _ASSUMED_404
        future = self._probes.get(probe_key(url))
        if future is None or not future.done() or future.cancelled():
            return None
        return future.result()

    async def probe(self, url: str, deadline: float | None = None) -> Probe:
        """``deadline`` (time.monotonic()): the asking link's own end; a probe
        not answered by then is no evidence for it (the probe goes on for the
        links after it)."""
        known = self.known(url)
        if known is not None:
            return known
        return await self._ask(probe_key(url), probe_url(url), url, deadline)

    async def front(self, url: str, deadline: float | None = None) -> Probe:
        """What the site of ``url`` answers for its front page, asked once per site.

        Asked only for a page that looks like the site's answer for a made-up
        page: if the front page gets that answer too, the site answers
        everything alike (maintenance, a wall) and the likeness proves nothing.
        """
        scheme, netloc, _, _ = split_url(url)
        return await self._ask((scheme, netloc, "front page"), f"{scheme}://{netloc}/", None, deadline)

    async def _ask(self, key: tuple[str, ...], target: str, url: str | None, deadline: float | None) -> Probe:
        future = self._probes.get(key)
        if future is None:
            # A task of its own, not the asking link's: the probe has its own
            # budget and outlives a link that stops waiting for it.
            future = self._probes[key] = asyncio.ensure_future(self._run(key, target, url))
            future.add_done_callback(_retrieve)
            self._evict()
        if deadline is None:
            return await asyncio.shield(future)
        try:
            async with asyncio.timeout(max(0.0, deadline - time.monotonic())):
                return await asyncio.shield(future)
        except TimeoutError:
            if future.done() and not future.cancelled() and future.exception() is not None:
                raise future.exception() from None  # the probe's own failure, not our wait's end
            return _NOT_IN_TIME

    async def _run(self, key: tuple[str, ...], target: str, url: str | None) -> Probe:
        try:
            evidence = await self._fetch(target)
        except BaseException:
            # Not kept: the links waiting on it fail as this one does, each its
            # own result, and the next link of the directory asks again.
            self._probes.pop(key, None)
            raise
        result = Probe(status=evidence.status, final_url=evidence.final_url,
                       tokens=tokens(evidence.text()) if evidence.ok else frozenset(), error=evidence.error)
        if result.hard_404 and url is not None:
            host = split_url(url)[1]
            self._hard_404s[host] = self._hard_404s.get(host, 0) + 1
        return result

    async def close(self) -> None:
        """Stop the probes still asking: the run is over."""
        pending = [future for future in self._probes.values() if not future.done()]
        for future in pending:
            future.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    def _evict(self) -> None:
        while len(self._probes) > self._max_entries:
            key, oldest = next(iter(self._probes.items()))
            if not oldest.done():
                break
            del self._probes[key]


def _retrieve(task: asyncio.Future[Probe]) -> None:
    # A probe whose waiters all stopped waiting: its failure was still seen.
    if not task.cancelled():
        task.exception()
