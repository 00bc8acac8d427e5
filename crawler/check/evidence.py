"""The facts a check gathers, kept apart from the decision made on them."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from crawler.model import Redirect
from crawler.text import valid


@dataclass(slots=True)
class Evidence:
    """What fetching one URL showed: a response (after redirects) or a failure."""

    url: str
    final_url: str
    status: int | None = None
    method: str = "GET"
    redirects: list[Redirect] = field(default_factory=list)
    content_type: str = ""
    headers: dict[str, str] = field(default_factory=dict)  # a few, lower-case names
    body: bytes = b""  # a bounded prefix, only for GET
    error: str | None = None  # a reason code: timeout, dns_nxdomain, tls_error, …
    error_detail: str = ""
    attempts: int = 0
    elapsed: float = 0.0
    # An answer it rests on came over a reused connection, where a server's late
    # second answer to the request before can pass for it (see Checker._check_url).
    # Not set by a 404 or 410, which the transport asked again on a new connection.
    reused: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None and self.status is not None and 200 <= self.status < 300

    @property
    def is_html(self) -> bool:
        ctype = self.content_type.lower()
        return not ctype or "html" in ctype or ctype.startswith("text/plain")

    @property
    def title(self) -> str | None:
        return page_title(self.body, self.content_type)

    def text(self) -> str:
        return decode(self.body, self.content_type)


# Asked of each URL several times while it is checked (its host, HEAD or GET,
# its probe, its verdict), a few hundred other URLs apart at most.
@functools.lru_cache(maxsize=4096)
def split_url(url: str) -> tuple[str, str, str, str]:
    """(scheme, netloc, path, query) of a canonical URL, at a fraction of urlsplit's cost.

    Only for URLs made by crawler.extract.urls.canonical_url: no fragment,
    and a path that always starts with "/".
    """
    scheme, _, rest = url.partition("://")
    netloc, slash, tail = rest.partition("/")
    if not slash:
        netloc, _, query = netloc.partition("?")
        return scheme, netloc, "/", query
    path, _, query = tail.partition("?")
    return scheme, netloc, "/" + path, query


_TITLE_RE = re.compile(rb"<title[^>]*>(.*?)</title\s*>", re.IGNORECASE | re.DOTALL)
_CHARSET_RE = re.compile(r"charset=[\"']?([\w.:-]+)", re.IGNORECASE)
_META_CHARSET_RE = re.compile(rb"<meta[^>]+charset=[\"']?([\w.:-]+)", re.IGNORECASE)


def decode(body: bytes, content_type: str) -> str:
    """The body as text in the charset it declares, always valid Unicode.

    A server names any codec it likes: "undefined" or "idna" raise even with
    errors="replace", and "utf-7" or "unicode_escape" can yield lone
    surrogates. Whatever it names, the answer is text that reports can hold.
    """
    return _decode_as(body, _charset(body, content_type))


def _charset(body: bytes, content_type: str) -> str:
    """The charset the header names, else the page's <meta>, else UTF-8."""
    m = _CHARSET_RE.search(content_type)
    if m:
        return m.group(1)
    meta = _META_CHARSET_RE.search(body[:4096])
    if meta is None:
        return "utf-8"
    charset = meta.group(1).decode("ascii", "replace")
    # A <meta> that could be read at all was not UTF-16: browsers take it as UTF-8 (HTML §13.2.3.3).
    return "utf-8" if charset.lower().startswith(("utf-16", "utf16")) else charset


def _decode_as(data: bytes, charset: str) -> str:
    try:
        text = data.decode(charset, "replace")
    except (LookupError, UnicodeError, ValueError, TypeError):
        text = data.decode("utf-8", "replace")
    return valid(text)


def page_title(body: bytes, content_type: str = "") -> str | None:
    m = _TITLE_RE.search(body)
    if not m:
        return None
    # The page's charset, not the title's own bytes': a Shift_JIS page names
    # it in a <meta> before the title, and read as UTF-8 its "not found"
    # title ("ページが見つかりません") is noise.
    title = _decode_as(m.group(1), _charset(body, content_type))
    if "&" in title:  # html.unescape leaves any other text as it is; its import costs 1 ms a start
        from html import unescape

        title = unescape(title)
    return " ".join(title.split())[:300] or None


_SCRIPT_RE = re.compile(r"<(script|style|noscript|template)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_TAG_RE = re.compile(r"<[^>]*>|&#?\w+;")
_WORD_RE = re.compile(r"\w+")


def tokens(text: str) -> frozenset[str]:
    """The words a reader sees on a page, for comparing two pages."""
    visible = _TAG_RE.sub(" ", _SCRIPT_RE.sub(" ", text))
    return frozenset(w.lower() for w in _WORD_RE.findall(visible))


def similarity(a: frozenset[str], b: frozenset[str]) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)
