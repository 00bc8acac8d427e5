"""Talking to archives politely: paced endpoint families, a circuit breaker, retries.

Every request to an archive belongs to a family (the Internet Archive's CDX
index and TimeMaps, its replays, Save Page Now…) with its own pace, since
the archive limits them separately. A live 429 (one without
Memento-Datetime: an archived page may well have recorded a 429) pauses the
whole family, because an address that ignores 429s for a minute is blocked
for an hour. Timeouts and 5xx are retried with backoff (tenacity). When an
archive keeps failing or throttling, its circuit breaker opens and every
request fails at once with the reason, so the run ends on time with
"error", never "none".
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl
import time
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import aiohttp
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_after_attempt
from tenacity.wait import wait_exponential, wait_random
from yarl import URL

from crawler.check.http import parse_retry_after
from crawler.check.resolve import ConnectTo, GuardedResolver, PrivateAddressError, is_ip_literal, is_public

log = logging.getLogger("crawler.archive")

REDIRECTS = frozenset({301, 302, 303, 307, 308})
# The archive's own trouble, worth asking again in a moment.
RETRY_STATUSES = frozenset({408, 500, 502, 503, 504, 509, 520, 521, 522, 523, 524, 529, 598, 599})


class ArchiveUnavailable(Exception):
    """The archive did not answer usefully: nothing is known about its copies."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class UnusableCapture(ArchiveUnavailable):
    """This one capture cannot be fetched (an address aiohttp refuses, redirects in circles);
    the archive itself may be fine."""


class _Retryable(Exception):
    def __init__(self, detail: str, *, throttled: bool = False) -> None:
        super().__init__(detail)
        self.detail = detail
        self.throttled = throttled


class Clock:
    """Time for pacing, pauses and deadlines; tests replace it to run without waiting."""

    def now(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class Breaker:
    """Stops asking an archive that keeps failing or throttling, for a cooldown.

    After the cooldown one request is let through as a trial: an answer
    closes the breaker, a failure opens it again.
    """

    def __init__(self, name: str, *, failures: int, throttles: int, cooldown: float, clock: Clock,
                 on_open: Callable[[str, str], None] = lambda name, reason: None) -> None:
        self.name = name
        self.failures_to_open = failures
        self.throttles_to_open = throttles
        self.cooldown = cooldown
        self.clock = clock
        self.on_open = on_open
        self.reason = ""
        self._open_until: float | None = None
        self._failures = 0
        self._throttles = 0
        self._trial = False

    @property
    def is_open(self) -> bool:
        return self._open_until is not None

    def raise_if_open(self) -> None:
        if self._open_until is not None and (self._trial or self.clock.now() < self._open_until):
            raise ArchiveUnavailable(self.reason)

    def begin(self) -> None:
        """Called right before a request: refuses it, or makes it the trial of a half-open breaker."""
        self.raise_if_open()
        if self._open_until is not None:
            self._trial = True

    def release(self) -> None:
        """No request was made after begin() after all (we refused it ourselves)."""
        self._trial = False

    def success(self) -> None:
        self._failures = self._throttles = 0
        self._open_until = None
        self._trial = False

    def failure(self, detail: str, *, throttled: bool = False) -> None:
        self._failures += 1
        self._throttles = self._throttles + 1 if throttled else 0
        if self._open_until is not None and not self._trial:
            return  # an answer to a request sent before it opened
        if self._trial:
            self.trip(f"still failing after a pause ({detail})")
        elif self._throttles >= self.throttles_to_open:
            self.trip(f"{self._throttles} rate-limited answers in a row ({detail})")
        elif self._failures >= self.failures_to_open:
            self.trip(f"{self._failures} failed requests in a row (last: {detail})")

    def trip(self, why: str) -> None:
        was_open = self._open_until is not None
        self._open_until = self.clock.now() + self.cooldown
        self._trial = False
        self.reason = f"{self.name} is not answering: {why}; not asked again for {self.cooldown:g} s"
        if not was_open:
            log.info("%s", self.reason)
            self.on_open(self.name, self.reason)


class Pace:
    """Spaces the requests of one endpoint family, bounds those in flight, and pauses it on request."""

    def __init__(self, name: str, per_minute: float, clock: Clock, *, in_flight: int = 1) -> None:
        self.name = name
        self.interval = 60.0 / per_minute
        self.clock = clock
        self.paused_until = 0.0
        self._next = 0.0
        self._lock = asyncio.Lock()  # first come, first served
        # One request at a time for the index: its answer (a 429 perhaps) is
        # known before the next request goes out, so none is sent into a pause.
        self._in_flight = asyncio.Semaphore(in_flight)

    def pause(self, seconds: float) -> None:
        self.paused_until = max(self.paused_until, self.clock.now() + seconds)

    async def wait(self, gate: Callable[[], None] = lambda: None) -> None:
        """Wait for this family's next slot. ``gate`` may raise to give up (an open breaker).

        The gate is asked again after every sleep, and a refused request does
        not use up a slot, so a queue of waiters drains at once when the
        breaker opens. A pause that starts while one waits is honoured.
        """
        async with self._lock:
            while True:
                gate()
                now = self.clock.now()
                slot = max(self._next, self.paused_until)
                if slot <= now:
                    break
                await self.clock.sleep(slot - now)
            self._next = self.clock.now() + self.interval

    @contextlib.asynccontextmanager
    async def turn(self, gate: Callable[[], None] = lambda: None) -> AsyncIterator[None]:
        """Hold one of the family's places in flight, from its slot until the answer is in."""
        async with self._in_flight:
            await self.wait(gate)
            yield


@dataclass
class Family:
    """One endpoint family of one archive: its pace, and the archive's breaker."""

    name: str
    pace: Pace
    breaker: Breaker


@dataclass(slots=True)
class Answer:
    status: int
    url: str
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names, repeated ones joined
    body: bytes = b""
    cut: bool = False  # the body was longer than the bound
    hops: tuple[str, ...] = ()  # the archive's own redirects followed to get here

    @property
    def memento_datetime(self) -> str | None:
        """Present on archived responses, absent on the archive's own (RFC 7089)."""
        return self.headers.get("memento-datetime")

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")


@dataclass(frozen=True)
class HttpSettings:
    timeout: float = 30.0
    connect_timeout: float = 10.0
    retries: int = 2
    backoff_initial: float = 2.0
    backoff_max: float = 30.0
    pause_after_429: float = 60.0
    retry_after_cap: float = 600.0
    max_redirects: int = 5


class ArchiveResolver(GuardedResolver):
    """The private-address guard, with the configured archive endpoints trusted.

    Endpoints are the user's choice, like --connect-to targets (a test
    archive on 127.0.0.1, an institution's own Wayback on its intranet). A
    redirect from an archive to any other private address is still refused.
    """

    def __init__(self, trusted: Iterable[tuple[str, int]], *, connect_to: tuple[ConnectTo, ...] = (),
                 base: Any = None) -> None:
        super().__init__(connect_to=connect_to, allow_private=False, base=base)
        self.trusted = frozenset((host.lower(), port) for host, port in trusted)

    def is_trusted(self, host: str, port: int) -> bool:
        return (host.lower().strip("[]"), port) in self.trusted

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[dict[str, Any]]:
        if self.is_trusted(host, port) and self.rule_for(host, port) is None:
            return await self._lookup(host, port, family)
        return await super().resolve(host, port, family)


def endpoint_origins(urls: Iterable[str]) -> set[tuple[str, int]]:
    origins = set()
    for url in urls:
        parts = urlsplit(url.replace("{url}", "x"))
        if parts.hostname:
            origins.add((parts.hostname.lower(), parts.port or (443 if parts.scheme == "https" else 80)))
    return origins


class ArchiveHttp:
    """One aiohttp session for every archive, separate from the checker's."""

    def __init__(self, settings: HttpSettings, resolver: ArchiveResolver, *, clock: Clock,
                 user_agent: str, ca_bundle: str | None = None,
                 redact: Callable[[str], str] = lambda text: text) -> None:
        self.settings = settings
        self.resolver = resolver
        self.clock = clock
        self.user_agent = user_agent
        self.ca_bundle = ca_bundle
        self.redact = redact
        self.session: aiohttp.ClientSession | None = None
        self._timeout = aiohttp.ClientTimeout(total=settings.timeout, sock_connect=settings.connect_timeout)
        self._backoff = (wait_exponential(multiplier=settings.backoff_initial, max=settings.backoff_max)
                         + wait_random(0, settings.backoff_initial))

    async def open(self) -> None:
        context = ssl.create_default_context(cafile=self.ca_bundle or None)
        connector = aiohttp.TCPConnector(limit=64, limit_per_host=16, resolver=self.resolver, ssl=context,
                                         ttl_dns_cache=300)
        self.session = aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar(),
                                             headers={"User-Agent": self.user_agent}, trust_env=False,
                                             max_field_size=32768)

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()
            self.session = None

    async def request(self, family: Family, url: str, *, method: str = "GET",
                      params: list[tuple[str, str]] | None = None, data: dict[str, str] | None = None,
                      headers: dict[str, str] | None = None, max_bytes: int = 65536,
                      follow: bool = True, retry: bool = True) -> Answer:
        """The archive's answer, after its own redirects (never an archived one) when ``follow``.

        Raises ArchiveUnavailable when it did not answer usefully: throttled,
        failing, timing out, its breaker open, or a refused redirect.
        """
        hops: list[str] = []
        current = url
        while True:
            answer = await self._with_retries(family, method, current, params, data, headers, max_bytes, retry)
            location = answer.headers.get("location")
            if not follow or answer.status not in REDIRECTS or not location or answer.memento_datetime:
                answer.hops = tuple(hops)
                return answer
            if len(hops) >= self.settings.max_redirects:
                raise UnusableCapture(f"{family.name}: more than {self.settings.max_redirects} redirects")
            current = urljoin(current, location)
            if not current.startswith(("http://", "https://")):
                raise UnusableCapture(f"{family.name}: redirect to an unusable location")
            hops.append(current)
            params = None  # the Location carries its own query
            if answer.status == 303:
                method, data = "GET", None

    async def _with_retries(self, family: Family, method: str, url: str, params: list[tuple[str, str]] | None,
                            data: dict[str, str] | None, headers: dict[str, str] | None, max_bytes: int,
                            retry: bool) -> Answer:
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.settings.retries + 1 if retry else 1),
            wait=self._wait, retry=retry_if_exception_type(_Retryable), sleep=self.clock.sleep, reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    return await self._once(family, method, url, params, data, headers, max_bytes)
        except _Retryable as exc:
            raise ArchiveUnavailable(self.redact(f"{family.name}: {exc.detail}")) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, _Retryable) and exc.throttled:
            return 0.0  # the family's pause does the waiting, for every request alike
        return self._backoff(state)

    async def _once(self, family: Family, method: str, url: str, params: list[tuple[str, str]] | None,
                    data: dict[str, str] | None, headers: dict[str, str] | None, max_bytes: int) -> Answer:
        assert self.session is not None, "ArchiveHttp.open() first"
        try:
            target = URL(url, encoded=True)
            if params:
                target = target.with_query(params)
        except (ValueError, TypeError) as exc:
            raise UnusableCapture(self.redact(f"{family.name}: cannot request {_short(exc)}")) from None
        host = target.raw_host or ""
        if is_ip_literal(host) and not self.resolver.is_trusted(host, target.port or 0) \
                and not is_public(host.strip("[]")):
            raise ArchiveUnavailable(f"{family.name}: refused to connect to {host}, a private or reserved "
                                     "address that is not a configured archive endpoint")
        async with family.pace.turn(gate=family.breaker.raise_if_open):
            family.breaker.begin()
            answer = await self._send(family, method, target, data, headers, max_bytes)
            # Judged before the next request of the family may go out.
            self._judge(family, answer)
        return answer

    def _judge(self, family: Family, answer: Answer) -> None:
        """Pause and count the archive's own refusals (an archived 429 has Memento-Datetime: not ours)."""
        if answer.memento_datetime is None:
            if answer.status == 429:
                delay = parse_retry_after(answer.headers.get("retry-after"))
                if delay is not None and delay > self.settings.retry_after_cap:
                    family.breaker.trip(f"HTTP 429 asking to wait {delay:g} s")
                    raise ArchiveUnavailable(family.breaker.reason)
                family.pace.pause(max(delay or 0.0, self.settings.pause_after_429))
                family.breaker.failure("HTTP 429", throttled=True)
                raise _Retryable("rate limited (HTTP 429)", throttled=True)
            if answer.status in RETRY_STATUSES:
                delay = parse_retry_after(answer.headers.get("retry-after"))
                if delay is not None and delay > self.settings.retry_after_cap:
                    # As for a 429: waiting the capped time and asking again, retry after
                    # retry, held every lookup for the better part of an hour for nothing.
                    family.breaker.trip(f"HTTP {answer.status} asking to wait {delay:g} s")
                    raise ArchiveUnavailable(family.breaker.reason)
                if delay is not None:
                    family.pace.pause(delay)
                family.breaker.failure(f"HTTP {answer.status}")
                raise _Retryable(f"HTTP {answer.status}")
        family.breaker.success()

    async def _send(self, family: Family, method: str, target: URL, data: dict[str, str] | None,
                    headers: dict[str, str] | None, max_bytes: int) -> Answer:
        assert self.session is not None, "ArchiveHttp.open() first"
        try:
            log.debug("%s %s %s", family.name, method, target)
            async with self.session.request(method, target, data=data, headers=headers, allow_redirects=False,
                                            timeout=self._timeout) as response:
                body, cut = await _read_prefix(response, max_bytes)
                return Answer(response.status, str(response.url), _headers(response), body, cut)
        except aiohttp.ClientConnectorDNSError as exc:
            if isinstance(exc.os_error, PrivateAddressError):
                family.breaker.release()  # the refusal is ours, not the archive's failure
                raise ArchiveUnavailable(self.redact(f"{family.name}: refused: {exc.os_error}")) from None
            raise self._failed(family, f"the host name could not be looked up ({_short(exc)})") from None
        except asyncio.TimeoutError:
            raise self._failed(family, f"no answer within {self.settings.timeout:g} s") from None
        except aiohttp.ClientConnectorError as exc:
            refused = isinstance(exc.os_error, ConnectionRefusedError)
            raise self._failed(family, "connection refused" if refused else _short(exc)) from None
        except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError, aiohttp.ClientPayloadError) as exc:
            raise self._failed(family, f"connection broken ({_short(exc)})") from None
        except aiohttp.ClientResponseError as exc:
            raise self._failed(family, f"malformed response ({_short(exc.message)})") from None
        except (aiohttp.InvalidURL, ValueError, UnicodeError) as exc:
            family.breaker.release()
            raise UnusableCapture(self.redact(f"{family.name}: cannot request {_short(exc)}")) from None
        except aiohttp.ClientError as exc:
            raise self._failed(family, _short(exc)) from None

    def _failed(self, family: Family, detail: str) -> _Retryable:
        detail = self.redact(detail)
        family.breaker.failure(detail)
        return _Retryable(detail)


def _headers(response: aiohttp.ClientResponse) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, value in response.headers.items():
        key = name.lower()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return headers


async def _read_prefix(response: aiohttp.ClientResponse, limit: int) -> tuple[bytes, bool]:
    chunks: list[bytes] = []
    size = 0
    while size < limit:
        chunk = await response.content.read(limit - size)
        if not chunk:
            return b"".join(chunks), False
        chunks.append(chunk)
        size += len(chunk)
    more = await response.content.read(1)
    return b"".join(chunks), bool(more)


def _short(exc: BaseException | str) -> str:
    text = " ".join((str(exc) or type(exc).__name__).split())
    return text if len(text) <= 200 else text[:199] + "…"
