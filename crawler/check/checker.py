"""Checking every link of a run on one event loop: canary, dispatch, verdicts.

The network being down is not the links being dead. A canary (a few
well-known sites) runs first; if it fails, the first links checked are on
probation, and if they fail the same way the run stops and judges nothing.
A missing host name counts as dead only when DNS was seen answering for
the canary, and a run where most names are "missing" is taken for a broken
resolver, not a graveyard.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import re
import ssl
import time
from collections.abc import AsyncIterable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace

from aiohttp.abc import AbstractResolver
from yarl import URL

from crawler.check.dns import make_resolver
from crawler.check.evidence import Evidence, split_url
from crawler.check.hosts import HostPolicy, HostScheduler
from crawler.check.http import Fetcher, HttpSettings
from crawler.check.probe import ProbeCache
from crawler.check.resolve import ConnectTo, GuardedResolver, PrivateAddressError, is_ip_literal
from crawler.check.settings import CheckSettings, HostSettings
from crawler.check.transport import Transport
from crawler.check.verdict import NXDOMAIN_DEAD, decide, is_root, needs_front_page
from crawler.model import CheckResult, Link, Verdict

NETWORK_UP = "up"
NETWORK_DOWN = "down"
# Links checked before a failed canary is believed: if all of them fail at the
# network level too, the network is down.
PROBATION = 8
# A host that gives these, link after link, is not answering at all: the rest of
# its links are not asked (give_up_after). TLS and DNS failures fail fast anyway.
_SILENT = frozenset({"timeout", "connection_refused", "connection_error", "connection_reset"})
_NETWORK_ERRORS = frozenset({"dns_nxdomain", "dns_error", "timeout", "connection_refused", "connection_error",
                             "connection_reset", "tls_error"})


@dataclass(repr=False)
class CheckRun:
    """The results of a run, and what is known of the network it ran on."""

    network: str | None = NETWORK_UP  # None when nothing was checked
    results: dict[str, CheckResult] = field(default_factory=dict)
    dns_trusted: bool = False
    interrupted: str | None = None  # why the run was stopped early (a signal's name), if it was
    # Why the stream of links ended early (the extraction process was lost):
    # the links that arrived are still checked and reported.
    stream_error: str | None = None
    callback_error: str | None = None  # the first exception the on_result callback raised

    def __repr__(self) -> str:
        # Short on purpose: asyncio formats the main task's repr (result
        # included) when asyncio.run() ends, and 100,000 results took seconds.
        return f"CheckRun(network={self.network!r}, results=<{len(self.results)}>, dns_trusted={self.dns_trusted})"


@dataclass
class _Probation:
    """Whether the first results must show the network is up, and how they went."""

    on: bool
    failures: int = 0
    scheduled: int = 0


@dataclass(frozen=True)
class Canary:
    """What the canary sites showed: the network up, DNS seen answering."""

    up: bool
    dns_trusted: bool


class Checker:
    """Checks links; knows nothing of the command line."""

    def __init__(self, settings: CheckSettings, *, connect_to: Sequence[ConnectTo] = (),
                 resolver: AbstractResolver | None = None,
                 on_result: Callable[[Link, CheckResult], None] | None = None) -> None:
        self.settings = settings
        self.connect_to = tuple(connect_to)
        self.base_resolver = resolver
        self.on_result = on_result or (lambda link, result: None)
        self._stop: Callable[[str], None] | None = None
        self._stopped: str | None = None
        self._network_known = False
        self._global_accept = frozenset(settings.accept)
        self._include = [re.compile(p) for p in settings.include]
        self._exclude = [re.compile(p) for p in settings.exclude]
        s = settings
        self.http = HttpSettings(
            timeout=s.timeout, connect_timeout=s.connect_timeout, max_redirects=s.max_redirects,
            max_body_bytes=s.max_body_bytes, retries=s.retries, backoff_initial=s.backoff_initial,
            backoff_max=s.backoff_max, retry_after_cap=s.retry_after_cap, link_budget=s.link_budget,
        )

    def _headers(self) -> dict[str, str]:
        return {
            "User-Agent": self.settings.user_agent,
            "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
            "Accept-Language": "en-US,en;q=0.9",
        }

    def _ssl(self) -> ssl.SSLContext | None:
        if not self.settings.ca_bundle:
            return None  # aiohttp's verified default context, made once at import: no second one
        return ssl.create_default_context(cafile=self.settings.ca_bundle)

    def _override(self, host: str) -> HostSettings | None:
        return self.settings.hosts.get(_hostname(host)) if self.settings.hosts else None

    def policy(self, host: str) -> HostPolicy:
        override = self._override(host)
        return HostPolicy(
            max_connections=(override.max_per_host if override and override.max_per_host else
                             self.settings.max_per_host),
            delay=override.delay if override and override.delay is not None else self.settings.delay,
        )

    def _accept(self, host: str) -> frozenset[int]:
        override = self._override(host)
        return self._global_accept | frozenset(override.accept) if override else self._global_accept

    def _timeout(self, host: str) -> float | None:
        override = self._override(host)
        return override.timeout if override and override.timeout else None

    @property
    def network_known(self) -> bool:
        """Whether the network has been seen up in this run (the canary or a link answered).

        Until then a failure may be the network's, not the link's: a caller that
        keeps results (a store, an archive lookup) waits for this.
        """
        return self._network_known

    def stop(self, reason: str = "interrupted") -> None:
        """End the run soon (a signal): links not yet checked are reported as skipped."""
        self._stopped = self._stopped or reason
        if self._stop is not None:
            self._stop(reason)

    async def check(self, links: Iterable[Link] | AsyncIterable[Link]) -> CheckRun:
        """Check every link; ``links`` may be an async stream, checked as it arrives."""
        # --dns-server: a resolver of our own, made in the running loop and closed after it.
        chosen = make_resolver(self.settings.dns_servers) if self.settings.dns_servers and not self.base_resolver \
            else None
        resolver = GuardedResolver(connect_to=self.connect_to, allow_private=self.settings.allow_private,
                                   base=self.base_resolver or chosen)
        try:
            with _fewer_collections():
                return await self._check(links, resolver)
        finally:
            if chosen is not None:
                await chosen.close()

    async def _check(self, links: Iterable[Link] | AsyncIterable[Link], resolver: GuardedResolver) -> CheckRun:
        run = CheckRun()
        every: list[Link] = []
        probation = _Probation(on=False)
        # No proxy from the environment, no cookie jar (Fetcher keeps a link's own cookies).
        transport = Transport(resolver, headers=self._headers(), ssl=self._ssl(), max_field_size=16384,
                              dns_ttl=300, max_idle=self.settings.max_concurrency + 8)
        try:
            scheduler: HostScheduler[Link, tuple[Link, CheckResult]] = HostScheduler(
                self.settings.max_concurrency, self.policy)
            fetcher = Fetcher(transport, self.http, pause_host=scheduler.pause)
            # A probe's answer is evidence for every link of its directory, and
            # on a kept-alive connection a server's late second answer to the
            # request before (a copy of the page just checked) would pass for
            # it: the page then looks like the site's answer for a made-up page,
            # a false soft 404. Probes are asked on new connections.
            probes = ProbeCache(functools.partial(fetcher.fetch, fresh=True))
            something_to_check = asyncio.Event()

            def take(link: Link) -> None:
                every.append(link)
                netloc, early = self._before_request(link, resolver)
                if early is not None:
                    self._record(run, link, early)
                else:
                    probation.scheduled += 1
                    scheduler.add(netloc, link)
                    something_to_check.set()

            async def produce() -> None:
                try:
                    # Not through one async generator for both kinds: a layer per link.
                    if isinstance(links, AsyncIterable):
                        async for link in links:
                            take(link)
                    else:
                        for link in links:
                            take(link)
                except Exception as exc:  # noqa: BLE001 - a lost source must not lose the run
                    run.stream_error = str(exc) or type(exc).__name__
                finally:
                    scheduler.close()
                    something_to_check.set()

            producer = asyncio.ensure_future(produce())

            def stop(reason: str) -> None:
                run.interrupted = reason
                producer.cancel()  # links not read yet are not waited for
                scheduler.stop()
                something_to_check.set()

            self._stop = stop
            try:
                if self._stopped:
                    stop(self._stopped)
                await something_to_check.wait()
                if run.interrupted:
                    run.network = None  # stopped before the canary: nothing is known of it
                elif not probation.scheduled and producer.done():
                    run.network = None  # nothing needed the network: say nothing about it
                else:
                    await self._dispatch(run, scheduler, transport, resolver, fetcher, probes, probation)
                # Every link must be known, checked or not (unless interrupted).
                await asyncio.gather(producer, return_exceptions=True)
            finally:
                self._stop = None
                producer.cancel()
                await asyncio.gather(producer, return_exceptions=True)
                await probes.close()
        finally:
            await transport.close()
        self._conclude(run, every, resolver, probation)
        return run

    async def _dispatch(self, run: CheckRun, scheduler: HostScheduler[Link, tuple[Link, CheckResult]],
                        transport: Transport, resolver: GuardedResolver, fetcher: Fetcher,
                        probes: ProbeCache, probation: _Probation) -> None:
        canary = await self._canary(transport, resolver)
        run.dns_trusted = canary.dns_trusted
        probation.on = not canary.up
        self._network_known = canary.up

        dns_trusted = canary.dns_trusted
        give_up_after = max(0, self.settings.give_up_after)
        silent: dict[str, int] = {}  # by host: links in a row that got no answer at all
        link_budget = self.http.link_budget

        async def work(host: str, link: Link) -> tuple[Link, CheckResult]:
            if give_up_after and silent.get(host, 0) >= give_up_after:
                return link, _unresponsive(silent[host])
            # The one boundary of a link's check: whatever a server or a bug
            # makes it raise is that link's result, and the run goes on.
            try:
                # One budget for all the link may take: its requests, the wait
                # for its probe and the front page, its other readings.
                deadline = time.monotonic() + link_budget
                result = await self._check_url(link.url, host, fetcher, probes, dns_trusted, deadline)
                if result.verdict is Verdict.DEAD and (link.alternatives or link.uncertain):
                    result = await self._other_readings(link, host, fetcher, probes, dns_trusted, result, deadline)
            except Exception as exc:  # noqa: BLE001 - the point of a boundary
                return link, check_error(exc)
            if result.status is not None:
                if silent:
                    silent.pop(host, None)  # it answered: whatever it said, it is there
            elif result.reason in _SILENT:
                silent[host] = silent.get(host, 0) + 1
            return link, result

        def on_result(done: tuple[Link, CheckResult]) -> None:
            link, result = done
            if probation.on:
                if result.status is not None:
                    probation.on = False  # something answered: the network is up
                    self._network_known = True
                elif result.reason in _NETWORK_ERRORS:
                    probation.failures += 1
                    if probation.failures >= PROBATION:
                        run.network = NETWORK_DOWN
                        scheduler.stop()
            self._record(run, link, result)

        if run.interrupted:
            return
        try:
            async with asyncio.timeout(self.settings.run_timeout or None):
                await scheduler.run(work, on_result)
        except TimeoutError:
            pass  # the run's deadline: what is left is reported as not checked

    def _conclude(self, run: CheckRun, every: list[Link], resolver: GuardedResolver, probation: _Probation) -> None:
        if probation.on and probation.failures and probation.failures == probation.scheduled:
            run.network = NETWORK_DOWN  # fewer links than the probation, and all failed alike
        if run.network == NETWORK_DOWN:
            run.results = {link.url: CheckResult(None, "network_down",
                                                 "not checked: the network is down") for link in every}
            return
        if run.network is None and not run.interrupted:
            return  # nothing needed a request
        left = (CheckResult(Verdict.SKIPPED, "interrupted", f"not checked: the run was interrupted ({run.interrupted})")
                if run.interrupted else
                CheckResult(Verdict.SKIPPED, "deadline", "not checked before the run's deadline"))
        for link in every:
            if link.url not in run.results:
                self._record(run, link, left)
        if run.network is None:
            return
        if not run.dns_trusted and resolver.answered:
            # DNS answered real lookups during the run: the names it said do
            # not exist were not a failing resolver's doing.
            run.dns_trusted = True
            _trust_nxdomain(run)
        _distrust_mass_nxdomain(run, self.settings.dns_outage_share)

    def _record(self, run: CheckRun, link: Link, result: CheckResult) -> None:
        run.results[link.url] = result
        try:
            self.on_result(link, result)
        except Exception as exc:  # noqa: BLE001 - the caller's bug must not end the run
            run.callback_error = run.callback_error or f"{type(exc).__name__}: {exc}"

    def _before_request(self, link: Link, resolver: GuardedResolver) -> tuple[str, CheckResult | None]:
        """The link's host, and its result if it needs no request at all."""
        url = link.url
        # Uncached: a link's first look comes long before its check, when the
        # cache would have dropped it again, evicting entries still needed.
        scheme, netloc, _, _ = split_url.__wrapped__(url)
        if (self._exclude and any(p.search(url) for p in self._exclude)) or (
                self._include and not any(p.search(url) for p in self._include)):
            return netloc, CheckResult(Verdict.SKIPPED, "excluded", "excluded by an include or exclude pattern")
        if scheme not in ("http", "https"):
            return netloc, CheckResult(Verdict.SKIPPED, "unsupported_scheme", f"{scheme}: URLs are not checked")
        host = _hostname(netloc)
        if is_ip_literal(host):
            try:
                resolver.check_literal(host, 0)
            except PrivateAddressError as exc:
                return netloc, CheckResult(Verdict.SKIPPED, "private_address", f"{exc} (use --allow-private)")
        return netloc, None

    async def _other_readings(self, link: Link, host: str, fetcher: Fetcher, probes: ProbeCache,
                              dns_trusted: bool, result: CheckResult, deadline: float | None = None) -> CheckResult:
        """``result``, the link as cited is dead, unless another reading of the citation is alive
        or could not be judged."""
        # A citation that could be read more than one way (a hyphen or a join
        # at a PDF line break, a DOI that may be cut): every reading is tried
        # before anything is called dead.
        unjudged: tuple[str, CheckResult] | None = None
        for alternative in link.alternatives:
            other = await self._check_url(alternative, host, fetcher, probes, dns_trusted, deadline)
            if other.verdict in (Verdict.ALIVE, Verdict.MOVED):
                return replace(other, reason="alternative_reading", final_url=other.final_url or alternative,
                               detail=f"the citation read as {alternative} is alive ({other.detail})")
            if other.verdict in (Verdict.BLOCKED, Verdict.UNREACHABLE) and unjudged is None:
                unjudged = alternative, other
        if link.uncertain:
            # A reading that may be cut is not evidence: the page may be alive
            # under the URL the author really wrote.
            return replace(result, verdict=Verdict.TRUNCATED, reason="possibly_cut",
                           detail=f"every reading of a citation that may be cut failed ({result.detail}); "
                                  "check the reference by hand")
        if unjudged is not None:
            # The author may have meant the reading that timed out or was
            # refused: the citation is not shown dead until every reading is.
            alternative, other = unjudged
            return replace(other, detail=f"as cited, {result.detail}; the citation read as {alternative}: "
                                         f"{other.detail}")
        return result

    async def _check_url(self, url: str, host: str, fetcher: Fetcher, probes: ProbeCache,
                         dns_trusted: bool, deadline: float | None = None) -> CheckResult:
        evidence = await fetcher.fetch(url, timeout=self._timeout(host), deadline=deadline)
        result = await self._judge(url, evidence, host, probes, dns_trusted, deadline)
        if result.verdict is Verdict.DEAD and evidence.reused:
            # On a kept-alive connection, a server's late second answer to the
            # request before (a 301 to its front page, a "not found" page) reads
            # as this one's. Dead is said only from new connections; the
            # transport does the same for a 404 or 410 itself.
            again = await fetcher.fetch(url, timeout=self._timeout(host), deadline=deadline, fresh=True)
            result = await self._judge(url, again, host, probes, dns_trusted, deadline)
            if result.verdict is not Verdict.DEAD and result.status is not None:
                # It answered otherwise: strays, from the host of any hop (a
                # site's new name, where the cited one redirects), not only the cited one.
                for where in {url, *(hop.url for hop in evidence.redirects)}:
                    fetcher.transport.distrust(URL(where, encoded=True))
        return result

    async def _judge(self, url: str, evidence: Evidence, host: str, probes: ProbeCache, dns_trusted: bool,
                     deadline: float | None) -> CheckResult:
        probe = None
        if self.settings.soft_404 and _probe_worthy(evidence):
            probe = probes.known(url) or await probes.probe(url, deadline)
        result = decide(evidence, probe, dns_trusted=dns_trusted, accept=self._accept(host))
        if needs_front_page(result, probe):
            # Dead only if the site's front page is not answered alike too
            # (a site down for maintenance sends every URL to one page).
            result = decide(evidence, probe, dns_trusted=dns_trusted, accept=self._accept(host),
                            front=await probes.front(url, deadline))
        return result

    async def _canary(self, transport: Transport, resolver: GuardedResolver) -> Canary:
        if not self.settings.canary_urls:
            # Nothing vouches for the network: the first links are on probation,
            # and DNS is trusted only once it has answered for one of them.
            return Canary(up=False, dns_trusted=False)
        quick = replace(self.http, retries=0, timeout=self.settings.canary_timeout)
        fetcher = Fetcher(transport, quick)
        # return_exceptions: the canary is outside the per-link boundary, and a
        # captive portal may answer it with anything; one that raised says nothing.
        answers = await asyncio.gather(*(fetcher.fetch(url, head_first=True) for url in self.settings.canary_urls),
                                       return_exceptions=True)
        up = [e for e in answers if isinstance(e, Evidence) and e.status is not None]
        dns = any(_hostname(split_url(e.url)[1]) in resolver.answered for e in up)
        return Canary(up=bool(up), dns_trusted=dns)


def _unresponsive(count: int) -> CheckResult:
    """A link not asked: its host gave no answer to ``count`` links in a row. Never dead."""
    return CheckResult(Verdict.UNREACHABLE, "host_unresponsive",
                       f"not asked: the host gave no answer to {count} links in a row "
                       "(timeouts, refused or reset connections)")


def check_error(exc: BaseException) -> CheckResult:
    """A check that raised: inconclusive, never dead, with the exception's type for the bug report."""
    return CheckResult(Verdict.UNREACHABLE, "error",
                       f"the check failed unexpectedly ({type(exc).__name__}: {_short_text(str(exc))})")


def _short_text(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


# Allocations between two young-generation collections during a run (Python's
# default is 700): every request makes short-lived containers by the hundred.
RUN_GC_THRESHOLD = 50_000


@contextlib.contextmanager
def _fewer_collections() -> Iterator[None]:
    """Let the collector skip what lives as long as the run.

    Links and results stay to the end and the modules forever, yet each full
    collection walked them all again (6 per 100,000 links, mostly while the
    extraction child's batches were unpickled). Freezing what exists at the
    start takes the modules out of those walks, and a higher first threshold
    makes all collections rarer; reference counting still frees almost all
    garbage at once. Both are restored when the run ends.
    """
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(max(thresholds[0], RUN_GC_THRESHOLD), *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


def _probe_worthy(evidence: Evidence) -> bool:
    return evidence.ok and evidence.method == "GET" and evidence.is_html and not is_root(evidence.url)


@functools.lru_cache(maxsize=4096)  # per link, of a few hundred netlocs at most
def _hostname(netloc: str) -> str:
    netloc = netloc.rsplit("@", 1)[-1]
    if netloc.startswith("["):
        return netloc[1:].split("]", 1)[0]
    return netloc.split(":", 1)[0].lower()


def _trust_nxdomain(run: CheckRun) -> None:
    for url, result in run.results.items():
        if result.reason == "dns_nxdomain" and result.verdict is Verdict.UNREACHABLE:
            run.results[url] = replace(result, verdict=Verdict.DEAD, detail=NXDOMAIN_DEAD)


def _distrust_mass_nxdomain(run: CheckRun, share: float) -> None:
    """Many "missing" names in one run means a broken resolver, not dead sites."""
    by_host: dict[str, list[str]] = {}
    for url, result in run.results.items():
        if result.reason == "dns_nxdomain" and result.verdict is Verdict.DEAD:
            by_host.setdefault(_hostname(split_url(url)[1]), []).append(url)
    if len(by_host) < 3:
        return  # the common case: every host of the run need not be counted
    hosts = {_hostname(split_url(url)[1]) for url in run.results}
    if len(by_host) > share * len(hosts):
        for urls in by_host.values():
            for url in urls:
                run.results[url] = replace(run.results[url], verdict=Verdict.UNREACHABLE,
                                           detail=f"{len(by_host)} of {len(hosts)} host names were not found: "
                                                  "DNS may be failing, so none is called dead")
