"""The HTTP layer: gathers Evidence for a URL, and decides nothing.

Redirects are followed by hand, so every hop is recorded, loops are caught,
and each hop passes the private-address guard. HEAD is used where the body
is not needed (files such as PDFs); anything HEAD leaves in doubt is asked
again with GET, whose body is read only up to a bounded prefix. Each request
is retried with tenacity on timeouts, connection errors, 5xx and 429, waiting
what Retry-After asks (up to a cap) or an exponential backoff with jitter.
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import email.utils
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urljoin

from aiohttp import ClientError, ClientOSError, ClientPayloadError, ServerDisconnectedError
from aiohttp.http_exceptions import HttpProcessingError
from yarl import URL

from crawler.check.evidence import Evidence, split_url
from crawler.check.resolve import NameNotFoundError, PrivateAddressError
from crawler.check.transport import GONE, ConnectFailure, DnsFailure, Transport
from crawler.extract.urls import UrlError, canonical_url
from crawler.model import Redirect

if TYPE_CHECKING:
    from aiohttp import StreamReader
    from tenacity import RetryCallState

REDIRECTS = frozenset({301, 302, 303, 307, 308})
# Statuses worth asking again: the server may answer differently in a moment.
RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504, 509, 520, 521, 522, 523, 524, 525, 526, 527,
                            529, 530, 598, 599})
# HEAD failures that say more about the server's HEAD than about the page.
_HEAD_DOUBTS = frozenset({"protocol_error", "connection_reset", "timeout"})
_KEPT_HEADERS = ("content-type", "content-length", "server", "cf-mitigated", "retry-after", "location",
                 "x-datadome", "x-amz-cf-id")
# Files whose existence HEAD can prove without a body, by extension (any case).
_FILE_EXTENSIONS = frozenset(
    "pdf doc docx xls xlsx ppt pptx odt ods odp rtf zip gz tgz bz2 xz 7z rar tar epub mobi djvu ps "
    "mp3 mp4 m4a avi mov wmv mkv webm ogg wav flac jpg jpeg png gif tif tiff bmp svg webp csv tsv xml json iso".split()
)


@dataclass(frozen=True)
class HttpSettings:
    """How one URL is asked: timeouts, redirects, body prefix, retries and their waits."""

    timeout: float = 20.0  # seconds for one request, body prefix included
    connect_timeout: float = 10.0
    max_redirects: int = 10
    max_body_bytes: int = 65536
    retries: int = 2
    backoff_initial: float = 1.0
    backoff_max: float = 30.0
    retry_after_cap: float = 60.0
    link_budget: float = 120.0  # seconds for everything one URL may take: hops, retries, waits
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class _Response:
    """An answer to one request, with what the verdict may need of it."""

    status: int
    headers: dict[str, str]
    body: bytes
    cookies: dict[str, str]
    retry_after: float | None = None
    reused: bool = False  # it came over a kept-alive connection

    @property
    def transient(self) -> bool:
        return self.status in RETRY_STATUSES


@dataclass(slots=True)
class _Failure:
    """A request that got no answer, and whether asking again may help."""

    kind: str  # a reason code
    detail: str
    transient: bool
    retry_after: float | None = None


def wants_head(url: str) -> bool:
    """Whether HEAD may be enough: a file, not a page that could be a soft 404."""
    # What follows the path's last dot, unless a "/" does too. A set lookup,
    # where a regex search ending in "$" tried every position of the path.
    path = split_url(url)[2]
    extension = path[path.rfind(".") + 1:]
    return "/" not in extension and extension.lower() in _FILE_EXTENSIONS


def parse_retry_after(value: str | None, *, now: _dt.datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():  # "²".isdigit() is true too
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, OverflowError):  # OverflowError: a year or day beyond a C long
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=_dt.timezone.utc)
    now = now or _dt.datetime.now(_dt.timezone.utc)
    return max(0.0, (when - now).total_seconds())


class Fetcher:
    def __init__(self, transport: Transport, settings: HttpSettings,
                 *, pause_host: Callable[[str, float], None] = lambda host, seconds: None) -> None:
        self.transport = transport
        self.settings = settings
        self.pause_host = pause_host
        self._backoff: Callable[[RetryCallState], float] | None = None  # made at the first retry

    async def fetch(self, url: str, *, head_first: bool | None = None, timeout: float | None = None,
                    deadline: float | None = None, fresh: bool = False) -> Evidence:
        """Follow ``url`` to its final response, or to the failure that stopped it.

        ``deadline`` (a time.monotonic() value) bounds everything: hops,
        retries and their waits. By default it is link_budget from now.
        ``fresh``: every request on a new connection.
        """
        started = time.monotonic()
        if deadline is None:
            deadline = started + self.settings.link_budget
        evidence = Evidence(url, url)  # url, final_url
        method = "HEAD" if (wants_head(url) if head_first is None else head_first) else "GET"
        cookies: dict[str, str] = {}
        seen = {url: 1}
        current = url
        while True:
            if time.monotonic() >= deadline:
                evidence.error = "timeout"
                evidence.error_detail = f"no answer within {self.settings.link_budget:g} s (link_budget)"
                break
            # The common case, an answer at the first try, costs one coroutine
            # less: _request() (tenacity's retries) only for a transient failure.
            outcome = await self._attempt(method, current, cookies, timeout, deadline, fresh)
            attempts = 1
            head_doubt = method == "HEAD" and isinstance(outcome, _Failure) and outcome.kind in _HEAD_DOUBTS
            if outcome.transient and self.settings.retries and not head_doubt:
                outcome, attempts = await self._request(method, current, cookies, timeout, deadline, outcome, fresh)
            evidence.attempts += attempts
            evidence.method = method
            if isinstance(outcome, _Failure):
                if head_doubt:
                    # Some servers mishandle HEAD (a broken answer, a reset, or
                    # none at all): ask properly, with GET and its retries, before
                    # judging, rather than asking HEAD again.
                    method = "GET"
                    continue
                evidence.error, evidence.error_detail = outcome.kind, outcome.detail
                break
            cookies.update(outcome.cookies)
            if outcome.reused and outcome.status not in GONE:
                evidence.reused = True
            location = outcome.headers.get("location")
            if outcome.status in REDIRECTS and location:
                target, problem = _redirect_target(current, location)
                evidence.status = outcome.status
                if target is None:
                    evidence.error, evidence.error_detail = "bad_redirect", problem
                    break
                evidence.redirects.append(Redirect(outcome.status, target))
                # Sites that set a cookie and redirect to the same page are no
                # loop: a second visit with the cookie is allowed, not a third.
                visits = seen.get(target, 0)
                if visits and (not outcome.cookies or visits > 1):
                    evidence.error, evidence.error_detail = "redirect_loop", f"redirects back to {target}"
                    break
                if len(evidence.redirects) > self.settings.max_redirects:
                    evidence.error = "too_many_redirects"
                    evidence.error_detail = f"more than {self.settings.max_redirects} redirects"
                    break
                seen[target] = visits + 1
                current = target
                if outcome.status == 303:
                    method = "GET"
                continue
            if method == "HEAD" and not (200 <= outcome.status < 300 and
                                         "html" not in outcome.headers.get("content-type", "html")):
                # A failed HEAD proves nothing (servers refuse it with 405, 403,
                # 501…), and an HTML page needs its body for the soft-404 test.
                method = "GET"
                continue
            evidence.status = outcome.status
            evidence.headers = outcome.headers
            evidence.content_type = outcome.headers.get("content-type", "")
            evidence.body = outcome.body
            break
        evidence.final_url = current
        evidence.elapsed = time.monotonic() - started
        return evidence

    async def _request(self, method: str, url: str, cookies: dict[str, str], timeout: float | None,
                       deadline: float, first: _Response | _Failure | None = None,
                       fresh: bool = False) -> tuple[_Response | _Failure, int]:
        s = self.settings
        if first is None:
            first = await self._attempt(method, url, cookies, timeout, deadline, fresh)
        if not first.transient or s.retries == 0:
            return first, 1  # the common case skips tenacity's bookkeeping
        # Imported at the first retry: most runs never retry, and every run starts.
        from tenacity import AsyncRetrying, retry_if_result, stop_after_attempt, stop_before_delay

        retrying = AsyncRetrying(
            stop=(stop_after_attempt(s.retries + 1) | stop_before_delay(max(0.0, deadline - time.monotonic()))
                  | _waits_too_long(s)),
            wait=self._wait,
            retry=retry_if_result(lambda outcome: outcome.transient),
            retry_error_callback=lambda state: state.outcome.result(),
            sleep=asyncio.sleep,
        )
        attempts = 1

        async def attempt() -> _Response | _Failure:
            nonlocal attempts, first
            if first is not None:  # let tenacity judge the answer already in hand
                answer, first = first, None
                return answer
            attempts += 1
            return await self._attempt(method, url, cookies, timeout, deadline, fresh)

        return await retrying(attempt), attempts

    def _wait(self, state: RetryCallState) -> float:
        outcome = state.outcome.result() if state.outcome else None
        if outcome is not None and outcome.retry_after is not None:
            return min(outcome.retry_after, self.settings.retry_after_cap)
        if self._backoff is None:
            from tenacity.wait import wait_exponential, wait_random

            # Exponential backoff with full jitter of the first step, so retries from
            # many links do not arrive at a struggling host in lockstep.
            s = self.settings
            self._backoff = (wait_exponential(multiplier=s.backoff_initial, max=s.backoff_max)
                             + wait_random(0, s.backoff_initial))
        return self._backoff(state)

    async def _attempt(self, method: str, url: str, cookies: dict[str, str], timeout: float | None,
                       deadline: float, fresh: bool = False) -> _Response | _Failure:
        s = self.settings
        seconds = timeout or s.timeout
        try:
            target = URL(url, encoded=True)
            host = target.raw_host or ""  # the guard is the transport's, at connect, literals included
            left = deadline - time.monotonic()
            if left < seconds:
                seconds = max(0.001, left)
            # One deadline for the whole request, a slowly dripping body included.
            async with asyncio.timeout(seconds):
                reply = await self.transport.request(method, target, cookies=cookies or None,
                                                     connect_timeout=min(seconds, s.connect_timeout), fresh=fresh)
                try:
                    body = b""
                    got = reply.headers.get
                    if method == "GET":
                        length, limit = reply.content_length, s.max_body_bytes
                        if length is not None and length <= limit and got("Content-Encoding") is None:
                            # The parser stops at Content-Length, so one read is bounded too
                            # (not so for a compressed body, which may inflate far beyond it).
                            content = reply.content
                            # Usually the whole body came with the head: taken without a coroutine.
                            body = content.read_nowait(-1) if content.is_eof() else await content.read()
                        else:
                            body = await _read_prefix(reply.content, limit)
                    headers = {name: value for name in _KEPT_HEADERS if (value := got(name)) is not None}
                    jar = reply.cookies() if got("Set-Cookie") is not None else {}
                    result = _Response(reply.status, headers, body, jar, None, reply.reused)
                finally:
                    reply.release()
        except PrivateAddressError as exc:
            return _Failure("private_address", str(exc), transient=False)
        except DnsFailure as exc:
            return _dns_failure(exc.os_error)
        except ConnectFailure as exc:
            if isinstance(exc.os_error, ssl.SSLError):
                return _Failure("tls_error", _short(exc.os_error), transient=False)
            if isinstance(exc.os_error, TimeoutError):
                return _Failure("timeout", f"no connection within {min(seconds, s.connect_timeout):g} s",
                                transient=True)
            if isinstance(exc.os_error, ConnectionRefusedError):
                return _Failure("connection_refused", "connection refused", transient=True)
            return _Failure("connection_error", _short(exc.os_error), transient=True)
        except TimeoutError:
            return _Failure("timeout", f"no answer within {timeout or s.timeout:g} s", transient=True)
        except (ServerDisconnectedError, ClientOSError) as exc:
            return _Failure("connection_reset", _short(exc), transient=True)
        except ClientPayloadError as exc:
            return _Failure("protocol_error", f"broken response body ({_short(exc)})", transient=True)
        except HttpProcessingError as exc:
            return _Failure("protocol_error", f"malformed response ({exc.message})", transient=False)
        except (ValueError, UnicodeError) as exc:
            return _Failure("malformed_url", _short(exc), transient=False)
        except ClientError as exc:
            return _Failure("connection_error", _short(exc), transient=True)
        if result.status == 429 or (result.status == 503 and "retry-after" in result.headers):
            delay = parse_retry_after(result.headers.get("retry-after"))
            result.retry_after = delay
            # Slow the whole host down, not just this request.
            self.pause_host(host, min(delay if delay is not None else s.backoff_initial, s.retry_after_cap))
        return result


def _waits_too_long(settings: HttpSettings) -> Callable[[RetryCallState], bool]:
    """Stop instead of waiting longer than the cap: a day-long Retry-After is a refusal."""
    def stop(state: RetryCallState) -> bool:
        outcome = state.outcome.result() if state.outcome else None
        return outcome is not None and outcome.retry_after is not None and outcome.retry_after > settings.retry_after_cap
    return stop


async def _read_prefix(content: StreamReader, limit: int) -> bytes:
    """At most ``limit`` bytes of the body: a 30 MB PDF is never downloaded to learn it exists.

    For a body of unknown or larger length, or a compressed one; _attempt()
    reads one that is known to fit in a single call.
    """
    chunks: list[bytes] = []
    size = 0
    while size < limit and not content.at_eof():
        chunk = await content.read(limit - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _redirect_target(current: str, location: str) -> tuple[str | None, str]:
    location = _slashes_as_browsers_read(location.strip())
    try:
        # urljoin itself rejects some hosts ("http://[/", "http://[x]/").
        target = canonical_url(urljoin(current, location.strip()), location=True)
    except UrlError as exc:
        return None, f"redirect to an unusable location: {exc.detail}"
    except ValueError as exc:
        return None, f"redirect to an unusable location ({_short(exc)})"
    if not target.startswith(("http://", "https://")):
        return None, f"redirect to {target.split(':', 1)[0]}: URL"
    return target, ""


def _slashes_as_browsers_read(location: str) -> str:
    """``location`` with "\\" read as "/" before its query, as browsers do (WHATWG URL).

    Servers on Windows send "\\en\\page.html" and browsers go to /en/page.html;
    read literally it is a path of percent-encoded backslashes on the same host
    (a 404, a false "dead"), and "\\\\10.0.0.1\\x" a host the guard must see.
    """
    if "\\" not in location:
        return location
    scheme = location.split(":", 1)[0].lower() if ":" in location.split("/", 1)[0] else ""
    if scheme not in ("", "http", "https"):
        return location
    cut = min((at for at in (location.find("?"), location.find("#")) if at != -1), default=len(location))
    return location[:cut].replace("\\", "/") + location[cut:]


def _dns_failure(os_error: OSError) -> _Failure:
    if isinstance(os_error, PrivateAddressError):
        return _Failure("private_address", str(os_error), transient=False)
    if isinstance(os_error, NameNotFoundError):
        # Retried: one lookup proves nothing, and the verdict also needs DNS to
        # be seen working elsewhere before a missing name counts as dead.
        return _Failure("dns_nxdomain", "the host name does not exist", transient=True)
    return _Failure("dns_error", f"the host name could not be looked up ({_short(os_error)})", transient=True)


def _short(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 200 else text[:199] + "…"
