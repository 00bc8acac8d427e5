"""Checking: links in, verdicts out, concurrently on one event loop.

``http`` gathers evidence, ``verdict`` decides on it (a pure function),
``probe`` asks sites about made-up pages for soft-404 detection, ``hosts``
keeps per-host politeness, ``resolve`` maps names (--connect-to) and guards
against private addresses, and ``checker`` runs it all.
"""

from crawler.check.checker import NETWORK_DOWN, NETWORK_UP, Checker, CheckRun
from crawler.check.resolve import ConnectTo, StaticResolver
from crawler.check.settings import CheckSettings, HostSettings

__all__ = ["NETWORK_DOWN", "NETWORK_UP", "CheckRun", "CheckSettings", "Checker", "ConnectTo", "HostSettings",
           "StaticResolver"]
