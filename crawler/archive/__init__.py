"""Archived copies: find the page as the author saw it, and capture live pages (with --save).

``plan`` decides which links need what (pure functions), ``stage`` runs the
lookups alongside the checker, ``wayback`` and ``memento`` are the archives
(one module each behind ``base.Archive``), ``validate`` applies the
checker's tests to a capture's replay, ``save`` is Save Page Now 2, and
``net`` keeps the archive's rate limits, pauses and circuit breaker.

Names are imported on first use: reading the settings must not cost the
import of aiohttp.
"""

from __future__ import annotations

import logging

from crawler.lazy import exports

# A library logs, it does not print: without a handler of the application's, nothing shows.
logging.getLogger("crawler.archive").addHandler(logging.NullHandler())

_EXPORTS = {
    "ArchiveSettings": "crawler.archive.settings", "MementoSettings": "crawler.archive.settings",
    "ArchiveJob": "crawler.archive.plan", "Action": "crawler.archive.plan",
    "plan": "crawler.archive.plan", "plan_truncated": "crawler.archive.plan",
    "Credentials": "crawler.archive.credentials", "CredentialsError": "crawler.archive.credentials",
    "ArchiveStage": "crawler.archive.stage", "ArchiveProgress": "crawler.archive.stage",
}
__all__ = sorted(_EXPORTS)


__getattr__ = exports(__name__, _EXPORTS)
