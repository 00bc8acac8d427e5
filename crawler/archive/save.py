"""Save Page Now 2: ask the Wayback Machine to capture a live page, and follow the job.

An authenticated ``POST /save`` (keys as ``Authorization: LOW key:secret``)
returns a job id, and ``/save/status/ID`` is polled until the job succeeds
or fails. Errors come with HTTP 200 at both stages, as JSON with a
``status_ext`` code, so the JSON is read at both; the codes are sorted into
transient (try again later), quota (wait for the limit to reset) and
permanent (the page cannot be captured), unknown codes counting as transient.
The legacy anonymous ``GET /save/URL`` is not used: the archive refuses it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from enum import StrEnum
from typing import Any
from urllib.parse import quote

from crawler.archive.credentials import Credentials
from crawler.archive.net import ArchiveHttp, ArchiveUnavailable, Clock, Family
from crawler.archive.plan import parse_timestamp
from crawler.archive.settings import WAYBACK, ArchiveSettings
from crawler.archive.validate import page_key
from crawler.model import ArchiveResult, ArchiveStatus


class SaveErrorKind(StrEnum):
    TRANSIENT = "transient"
    QUOTA = "quota"
    PERMANENT = "permanent"


# From the SPN2 documentation's status_ext table (revision of 2025-10-22).
_QUOTA = frozenset({
    "error:too-many-daily-captures", "error:user-session-limit", "error:max-daily-bandwidth",
    "error:max-daily-bandwidth-from-ip", "error:max-daily-bandwidth-host",
})
_PERMANENT = frozenset({
    "error:bad-request", "error:blocked", "error:blocked-client-ip", "error:blocked-url", "error:filesize-limit",
    "error:ftp-access-denied", "error:http-version-not-supported", "error:invalid-url-syntax",
    "error:method-not-allowed", "error:not-implemented", "error:network-authentication-required",
    "error:no-access", "error:not-found", "error:too-many-redirects", "error:unauthorized",
})
# Quotas of the account or address, not of one URL: no further capture can succeed this run.
_ACCOUNT_QUOTA = frozenset({"error:max-daily-bandwidth", "error:max-daily-bandwidth-from-ip"})


def classify(status_ext: str) -> SaveErrorKind:
    """Transient, quota or permanent; a code the table does not know is transient."""
    if status_ext in _QUOTA:
        return SaveErrorKind.QUOTA
    if status_ext in _PERMANENT:
        return SaveErrorKind.PERMANENT
    return SaveErrorKind.TRANSIENT


def describe_error(data: dict[str, Any]) -> str:
    code = str(data.get("status_ext") or "error:unknown")
    message = " ".join(str(data.get("message") or data.get("exception") or "").split())[:300]
    return f"Save Page Now: {code} ({classify(code).value}){': ' + message if message else ''}"


NEEDS_KEYS = ("--save needs Internet Archive keys in IA_ACCESS_KEY_ID and IA_SECRET_ACCESS_KEY "
              "(https://archive.org/account/s3.php); no capture will be requested, lookups still run")


class SavePageNow:
    def __init__(self, settings: ArchiveSettings, http: ArchiveHttp, credentials: Credentials, *,
                 submit: Family, status: Family, clock: Clock,
                 on_notice: Callable[[str], None] = lambda text: None) -> None:
        self.settings = settings
        self.http = http
        self.credentials = credentials
        self.submit_family = submit
        self.status_family = status
        self.clock = clock
        self.on_notice = on_notice
        self.refused: str | None = None  # why no capture can be requested any more this run

    def _headers(self) -> dict[str, str]:
        return {"Authorization": self.credentials.authorization(), "Accept": "application/json"}

    def _error(self, detail: str) -> ArchiveResult:
        return ArchiveResult(ArchiveStatus.ERROR, archive=WAYBACK, detail=self.credentials.redact(detail))

    def _refuse(self, why: str) -> None:
        if self.refused is None:
            self.refused = why
            self.on_notice(why)

    async def capture(self, url: str, on_job: Callable[[str], None] = lambda job_id: None) -> ArchiveResult:
        """Request a capture of ``url`` and follow it: saved, requested (still running) or error."""
        if self.refused:
            return self._error(f"no capture requested: {self.refused}")
        data = {"url": url, "if_not_archived_within": self.settings.save_if_not_archived_within,
                "skip_first_archive": "1"}
        for _ in range(self.settings.retries + 1):
            try:
                answer = await self.http.request(self.submit_family, self.settings.save, method="POST", data=data,
                                                 headers=self._headers(), follow=False)
            except ArchiveUnavailable as exc:
                return self._error(f"Save Page Now did not take the request: {exc.detail}")
            if answer.status in (401, 403):
                self._refuse(f"Save Page Now refused the keys (HTTP {answer.status}): check IA_ACCESS_KEY_ID "
                             "and IA_SECRET_ACCESS_KEY")
                return self._error(f"no capture requested: {self.refused}")
            reply = _json(answer.status, answer.content_type, answer.body)
            if reply is None:
                return self._error(f"Save Page Now gave an unexpected answer (HTTP {answer.status}, "
                                   f"{answer.content_type or 'no content type'})")
            job_id = reply.get("job_id")
            if job_id and reply.get("status") != "error":
                # The id is the archive's text, shown in results and logged with the poll URL: a
                # broken server may have quoted the Authorization header back in it.
                return await self._follow(self.credentials.redact(str(job_id)), url, on_job)
            code = str(reply.get("status_ext") or "")
            if code == "error:user-session-limit":
                # Our own captures fill the allowance: wait for one to finish, then ask again.
                self.submit_family.pace.pause(self.settings.save_poll_interval * 2)
                continue
            if code in _ACCOUNT_QUOTA:
                self._refuse(describe_error(reply))
            return self._error(describe_error(reply))
        return self._error(describe_error({"status_ext": "error:user-session-limit",
                                           "message": "still at the limit of captures at once"}))

    async def _follow(self, job_id: str, url: str, on_job: Callable[[str], None]) -> ArchiveResult:
        on_job(job_id)
        give_up = self.clock.now() + self.settings.save_timeout
        last = ""
        status_url = self.settings.save_status + quote(job_id, safe="")
        while self.clock.now() < give_up:
            await self.clock.sleep(self.settings.save_poll_interval)
            try:
                answer = await self.http.request(self.status_family, status_url, headers=self._headers(),
                                                 follow=False)
            except ArchiveUnavailable as exc:
                last = exc.detail
                if self.status_family.breaker.is_open:
                    break
                continue
            reply = _json(answer.status, answer.content_type, answer.body)
            if answer.status == 404:
                return self._error(f"Save Page Now lost job {job_id} (HTTP 404); the capture may still exist")
            if reply is None:
                last = f"HTTP {answer.status}"
                continue
            state = reply.get("status")
            if state == "success":
                stamp = str(reply.get("timestamp") or "")
                original = str(reply.get("original_url") or url)
                if len(stamp) != 14 or parse_timestamp(stamp) is None:
                    return self._error(f"Save Page Now reported success without a timestamp (job {job_id})")
                if page_key(original) != page_key(url):
                    # original_url is the address as submitted: another one is not this page's copy.
                    return self._error(f"Save Page Now reported a capture of another address ({original}, "
                                       f"job {job_id}); the capture of this one may still exist")
                return ArchiveResult(ArchiveStatus.SAVED, archive=WAYBACK,
                                     snapshot_url=f"{self.settings.replay}{stamp}/{original}", timestamp=stamp,
                                     detail=f"captured now by Save Page Now (job {job_id})")
            if state == "error":
                return self._error(describe_error(reply))
        waited = f"{self.settings.save_timeout:g} s"
        return ArchiveResult(ArchiveStatus.REQUESTED, archive=WAYBACK,
                             detail=self.credentials.redact(
                                 f"Save Page Now job {job_id} had not finished after {waited}"
                                 + (f" (last poll: {last})" if last else "")))


def _json(status: int, content_type: str, body: bytes) -> dict[str, Any] | None:
    if "json" not in content_type.lower() and not body.lstrip().startswith(b"{"):
        return None
    try:
        data = json.loads(body.decode("utf-8", "replace"))
    except (ValueError, RecursionError):  # RecursionError: nested deeper than the parser goes
        return None
    return data if isinstance(data, dict) else None
