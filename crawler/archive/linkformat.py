"""Link format (RFC 6690), as Memento TimeMaps and Link headers use it (RFC 7089).

``<URI>; rel="first memento"; datetime="Sat, 21 Dec 1996 03:12:31 GMT", <URI>; …``

Archives differ in the details, so the reader is lenient: attribute values
quoted or not (perma.cc once sent unquoted ones), an unquoted RFC 1123 date
whose own comma is not a separator, any whitespace and line breaks between
entries. Malformed entries are skipped, never fatal.
"""

from __future__ import annotations

import datetime as _dt
import email.utils
import re
from dataclasses import dataclass

_WEEKDAY_RE = re.compile(r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)", re.IGNORECASE)
_NAME_RE = re.compile(r"\s*([A-Za-z0-9!#$&+.^_`|~*-]+)\s*")


@dataclass(frozen=True, slots=True)
class LinkEntry:
    uri: str
    params: dict[str, str]

    @property
    def rels(self) -> frozenset[str]:
        return frozenset(self.params.get("rel", "").lower().split())

    @property
    def datetime(self) -> str | None:
        return self.params.get("datetime")


def parse_links(text: str) -> list[LinkEntry]:
    entries: list[LinkEntry] = []
    i, n = 0, len(text)
    while i < n:
        start = text.find("<", i)
        if start < 0:
            break
        end = text.find(">", start + 1)
        if end < 0:
            break
        uri = text[start + 1:end].strip()
        params, i = _params(text, end + 1)
        if uri:
            entries.append(LinkEntry(uri, params))
    return entries


def _params(text: str, i: int) -> tuple[dict[str, str], int]:
    """The ";name=value" pairs after a <URI>, up to the comma that ends the entry."""
    params: dict[str, str] = {}
    n = len(text)
    while i < n:
        while i < n and text[i] in " \t\r\n":
            i += 1
        if i >= n:
            break
        if text[i] == ",":
            return params, i + 1
        if text[i] == "<":
            return params, i  # a missing comma: the next entry starts here
        if text[i] != ";":
            i += 1  # junk between parameters
            continue
        i += 1
        m = _NAME_RE.match(text, i)
        if not m:
            continue
        name = m.group(1).lower()
        i = m.end()
        if i >= n or text[i] != "=":
            params.setdefault(name, "")
            continue
        i += 1
        while i < n and text[i] in " \t":
            i += 1
        if i < n and text[i] == '"':
            value, i = _quoted(text, i + 1)
        else:
            value, i = _token(text, i, name)
        params.setdefault(name, value)  # the first of a repeated attribute counts (RFC 8288 §3)
    return params, i


def _quoted(text: str, i: int) -> tuple[str, int]:
    out = []
    n = len(text)
    while i < n:
        c = text[i]
        if c == "\\" and i + 1 < n:
            out.append(text[i + 1])
            i += 2
            continue
        if c == '"':
            return "".join(out), i + 1
        out.append(c)
        i += 1
    return "".join(out), i


def _token(text: str, i: int, name: str) -> tuple[str, int]:
    end = _stop(text, i)
    value = text[i:end].strip()
    # An unquoted date: "Sat, 21 Dec 1996 03:12:31 GMT" has a comma of its own.
    if name in ("datetime", "from", "until") and _WEEKDAY_RE.fullmatch(value) and end < len(text) \
            and text[end] == ",":
        end = _stop(text, end + 1)
        value = text[i:end].strip()
    return value, end


def _stop(text: str, i: int) -> int:
    n = len(text)
    while i < n and text[i] not in ";,<":
        i += 1
    return i


def http_date_to_timestamp(value: str) -> str | None:
    """An RFC 1123 date (Memento-Datetime) as a 14-digit UTC Wayback timestamp."""
    try:
        when = email.utils.parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=_dt.timezone.utc)
    return when.astimezone(_dt.timezone.utc).strftime("%Y%m%d%H%M%S")


def timestamp_to_http_date(timestamp: str) -> str:
    when = _dt.datetime.strptime(timestamp[:14], "%Y%m%d%H%M%S").replace(tzinfo=_dt.timezone.utc)
    return email.utils.format_datetime(when, usegmt=True)
