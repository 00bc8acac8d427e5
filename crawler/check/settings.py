"""Settings of the check stage; the ``[check]`` table of the config maps onto these."""

from __future__ import annotations

from dataclasses import dataclass, field

DEFAULT_USER_AGENT = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
                      "Chrome/131.0.0.0 Safari/537.36")
DEFAULT_CANARIES = ("https://www.wikipedia.org/", "https://web.archive.org/", "https://www.cloudflare.com/")


@dataclass(frozen=True)
class HostSettings:
    """Overrides for one host; unset values fall back to [check]."""

    max_per_host: int | None = None
    delay: float | None = None
    timeout: float | None = None
    accept: tuple[int, ...] = ()


@dataclass(frozen=True)
class CheckSettings:
    """[check]: how many requests at once, how patient, which links, and how verdicts are read."""

    max_concurrency: int = 64
    max_per_host: int = 4
    delay: float = 0.0
    timeout: float = 20.0
    connect_timeout: float = 10.0
    retries: int = 2
    backoff_initial: float = 1.0
    backoff_max: float = 30.0
    retry_after_cap: float = 60.0
    link_budget: float = 120.0
    run_timeout: float = 0.0
    give_up_after: int = 5  # links of one host in a row without any answer; 0: ask every link
    max_redirects: int = 10
    max_body_bytes: int = 65536
    user_agent: str = DEFAULT_USER_AGENT
    accept: tuple[int, ...] = ()
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    allow_private: bool = False
    ca_bundle: str = ""
    soft_404: bool = True
    canary_urls: tuple[str, ...] = DEFAULT_CANARIES
    canary_timeout: float = 10.0
    dns_outage_share: float = 0.5
    dns_servers: tuple[str, ...] = ()  # ADDR[:PORT] or [IPv6]:PORT; () = the system resolver
    hosts: dict[str, HostSettings] = field(default_factory=dict)

    def __post_init__(self) -> None:
        from crawler.check.dns import DnsServer  # no aiohttp: cheap to import with the settings

        for server in self.dns_servers:
            try:
                DnsServer.parse(server)
            except ValueError as exc:
                raise ValueError(f"dns_servers: {exc}") from None
