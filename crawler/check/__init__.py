"""Checking: links in, verdicts out, concurrently on one event loop.

``http`` gathers evidence, ``verdict`` decides on it (a pure function),
``probe`` asks sites about made-up pages for soft-404 detection, ``hosts``
keeps per-host politeness, ``resolve`` maps names (--connect-to) and guards
against private addresses, and ``checker`` runs it all.

Names are imported on first use: reading the settings must not cost the
import of aiohttp (the command line starts extraction meanwhile).
"""

from __future__ import annotations


from crawler.lazy import exports

_EXPORTS = {
    "NETWORK_DOWN": "crawler.check.checker", "NETWORK_UP": "crawler.check.checker",
    "Checker": "crawler.check.checker", "CheckRun": "crawler.check.checker",
    "ConnectTo": "crawler.check.resolve", "StaticResolver": "crawler.check.resolve",
    "CheckSettings": "crawler.check.settings", "HostSettings": "crawler.check.settings",
}
__all__ = sorted(_EXPORTS)


__getattr__ = exports(__name__, _EXPORTS)
