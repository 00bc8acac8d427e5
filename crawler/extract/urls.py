"""Finding URLs in reference text as people (and PDF copy-paste) write them, and normalising them.

A URL read wrong becomes a false "dead" later, so the scanner is careful about
what it joins: a line break or a space inside a URL is bridged only when what
follows cannot be ordinary prose.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from urllib.parse import quote, unquote, urlsplit

from crawler.extract.dates import looks_like_date
from crawler.model import Snapshot

try:  # IDNA 2008 with UTS #46 mapping, as browsers do; yarl already depends on it.
    import idna as _idna
except ImportError:  # pragma: no cover - the stdlib codec (IDNA 2003) is close enough
    _idna = None


# Invisible characters that PDF copy-paste leaves inside words and URLs.
_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff"), None)
_SPACES = dict.fromkeys(map(ord, "\u00a0\u2007\u202f"), " ")


_SURROGATE_RE = re.compile("[\ud800-\udfff]")


def valid_unicode(text: str) -> str:
    """``text`` with every lone surrogate replaced by U+FFFD, so that it encodes as UTF-8.

    Some decoders (UTF-7, unicode_escape, a file name read with
    surrogateescape) produce lone surrogates; a report holding one cannot be
    written. A pair that happens to be split in two code points is joined.
    """
    if text.isascii() or not _SURROGATE_RE.search(text):
        return text
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def clean_text(text: str) -> str:
    """Drop soft hyphens and zero-width characters; turn no-break spaces into spaces.

    The result is valid Unicode (see valid_unicode).
    """
    if text.isascii():
        return text
    return valid_unicode(text.translate(_INVISIBLE).translate(_SPACES))


class Kind(Enum):
    URL = "url"
    DOI = "doi"
    FRAGMENT = "fragment"  # a piece of a URL with no host: never checkable


# Country-code TLDs are any two letters; generic ones are listed. A schemeless
# host is only taken when a path follows, and only in lower case, so "Vol.II/III"
# or "U.S./Japan" are not read as hosts.
_GTLDS = (
    "com|net|org|edu|gov|mil|int|info|biz|name|pro|mobi|asia|tel|travel|jobs|museum|aero|coop|"
    "app|dev|io|ai|tv|news|online|site|website|blog|tech|store|shop|club|xyz|top|global|world|"
    "today|press|media|center|institute|international|foundation|agency|network|academy|"
    "university|school|studio|eu|[a-z]{2}|рф|укр|бел|срб|қаз|мкд|мон|中国|中國|香港|台灣|台湾|한국"
)
_LABEL = r"[^\W_](?:[\w-]{0,61}[^\W_])?"
_START_RE = re.compile(
    rf"""
      (?P<scheme>(?<![^\W_])(?:https?|ftp)(?::/{{1,3}}|//)(?=\S|[ \t]*\n[ \t]*\S))
    | (?P<www>(?<![\w@./:%-])www\d{{0,3}}\.(?=[^\W_]))
    | (?P<doi>(?<![^\W_])doi\s*:?\s*(?=10\.\d{{4,9}}/(?:\S|[ \t]*\n[ \t]*\S)))
    | (?P<bare_doi>(?<![\w./:%-])(?=10\.\d{{4,9}}/(?:[^\s,;]|[ \t]*\n[ \t]*\S)))
    | (?P<domain>(?<![\w@./:%-])(?-i:(?:{_LABEL}\.){{1,126}}(?:{_GTLDS}))(?=/))
    | (?P<fragment>(?<![\w/.%:-])(?:
            [\w-]*\.?(?:php\d?|aspx?|jspx?|cgi|cfm|s?html?|pl|do)\?[\w.%\[\]-]+=
          | [\w-]+\?[\w.%-]+=[^\s&]*&[\w.%-]+=))
    """,
    re.IGNORECASE | re.VERBOSE,
)
# Words that announce a URL. After one of them, anything URL-shaped is a URL
# or the remains of one.
LABEL_RE = re.compile(
    r"""(?<![^\W\d_])(?:
        available\s+(?:at|from|online(?:\s+at)?|on\s+line)
      | available\s*:
      | retrieved\s+from
      | url\s*:
      | режим\s+доступа
      | доступно\s+по\s+ссылке
      | disponible\s+(?:sur|en|à|a|en\s+ligne)
      | disponível\s+em
      | (?:recuperado|obtenido|extraído)\s+de
      | (?:verfügbar|abrufbar)\s+unter
      | online\s+verfügbar
      | \[online\]
      | \[en\s+ligne\]
      | en\s+ligne\s*:
      | link\s*:
    )(?![^\W\d_])\s*:?""",
    re.IGNORECASE | re.VERBOSE,
)

# Every LABEL_RE alternative contains one of these; a cheap test before the regex.
_LABEL_STEMS = ("available", "retrieved", "url", "режим", "доступно", "disponible", "disponível", "verfügbar",
                "abrufbar", "online", "ligne", "link", "recuperado", "obtenido", "extraído")


def find_labels(text: str) -> list[re.Match[str]]:
    lowered = text.lower()
    if not any(stem in lowered for stem in _LABEL_STEMS):
        return []
    return list(LABEL_RE.finditer(text))


# Characters that end a URL wherever they appear.
_STOP = set("<>\"“”«»‘’{}|\\^`，。、；：（）【】《》「」．！？［］〔〕‹›")
# Control characters and bidirectional overrides are never part of a URL; one
# inside a token (an escape sequence, U+202E) ends it.
_STOP |= {chr(c) for c in (*range(0x00, 0x20), *range(0x7F, 0xA0))} - set("\t\n\r")
_STOP |= set("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_OPENERS = {")": "(", "]": "["}
# Characters that end a sentence rather than a URL.
_TRAILING = ".,;:!?'\"*’‘`»”…#"
_EXTENSION_RE = re.compile(
    r"\.(?:s?html?|php\d?|aspx?|jspx?|cfm|cgi|pdf|xml|json|docx?|xlsx?|pptx?|txt|csv|zip|epub)$",
    re.IGNORECASE,
)
# Tokens that are prose even though they contain a slash: and/or, he/she.
_WORD_SLASH_RE = re.compile(r"[^\W\d_]+/[^\W\d_]+")
_ELLIPSIS_RE = re.compile(r"\.{3}|…")


@dataclass(frozen=True)
class Found:
    """A URL-shaped piece of text."""

    start: int
    end: int
    text: str  # as written, with line breaks and inserted spaces bridged
    kind: Kind
    truncated: bool = False  # cut with an ellipsis
    alternatives: tuple[str, ...] = ()  # other readings, best first
    # The reading rests on a guess (a join at a break, a hyphen that may be the
    # typesetter's): if every reading fails, that proves nothing.
    uncertain: bool = False


_RUN_RE = re.compile(r"[^\s" + re.escape("".join(_STOP)) + r"]*")


def _body_end(text: str, i: int) -> int:
    """Where a run of URL characters starting at ``i`` ends.

    A closing bracket ends the URL unless the URL opened it, which keeps
    /wiki/Central_Asia_(region) whole and leaves out the ")" of "(see https://…)".
    """
    run = _RUN_RE.match(text, i)
    assert run is not None
    end = run.end()
    if ")" not in run.group() and "]" not in run.group():
        return end
    depth = {"(": 0, "[": 0}
    while i < end:
        c = text[i]
        if c in depth:
            depth[c] += 1
        elif c in _OPENERS:
            opener = _OPENERS[c]
            if not depth[opener]:
                return i
            depth[opener] -= 1
        i += 1
    return end


_GAP_RE = re.compile(r"[ \t]*(?:\n[ \t]*)?")


SURE = "sure"
GUESS = "guess"  # the other reading is kept as an alternative for the checker


def continues(url: str, gap: str, token: str) -> str | None:
    """Whether ``token``, after whitespace ``gap``, is the rest of ``url``: SURE, GUESS or None.

    PDF copy-paste breaks URLs at line ends and sometimes inserts a space
    (``…&Ite mid=29…``). Bridging a gap is only safe when the next token cannot
    be a word of the sentence: a space is bridged only before query or path
    syntax; a line break also before a slug ("ur-pub-61767"), which is a guess
    because a URL may also simply end at the line's end.
    """
    if not url or not token:
        return None
    newline = "\n" in gap
    if url[-1] == "?" and newline and "=" in token and token[0].isalnum():
        return SURE  # "…/NY.GDP.MKTP.CD?" + "locations=KZ-UZ-KG": the query is on the next line
    if newline and len(token) > 1 and token[0] == "." and token[1].isalnum() and url[-1].isalnum():
        return SURE  # "…/asp.2017" + ".0028": no line of prose starts with a full stop
    if url[-1] in ",;:!?)]'\"":
        return None
    if newline and url.endswith(("://", ":/", "//")) and token[0].isalnum():
        return SURE  # "https://" at a line end: the host is on the next line
    if newline and _unfinished_host(url) and token[0].isalnum():
        # "https://nyu" + "press.org/…", "https://virginia-" + "eubanks.com/…":
        # a host cannot end there, so a wrapped line carries it on.
        return GUESS if url.endswith("-") else SURE
    join = _continues(url, newline, gap, token)
    # "annual-\nreport.pdf": the hyphen may be the typesetter's.
    return GUESS if join and newline and url.endswith("-") else join


def _continues(url: str, newline: bool, gap: str, token: str) -> str | None:
    start = _START_RE.match(token)
    if token[0] in "([<\"“«'" or start and not start.group("fragment"):
        return None
    rest = _strip_trailing(token)
    if not rest or looks_like_date(rest):
        return None
    if not newline and gap.count(" ") + gap.count("\t") > 1:
        return None
    if re.search(r"[=&/?#%]", rest) or _EXTENSION_RE.search(rest):
        return SURE if not _WORD_SLASH_RE.fullmatch(rest) else None
    if not newline:
        return None
    if _ends_in_bare_www(url):
        return SURE  # nothing of the host yet
    # A slug starts in lower case or with a digit ("ur-pub-61767", "екты_России").
    if not (rest[0].islower() or rest[0].isdigit()):
        return None
    if url[-1] in "-_=&":
        return GUESS if url[-1] == "-" else SURE  # a URL does not end in "=" or "&"
    if url[-1] in "/.~%+" or url[-1].isalnum():
        # "…central-asia-to" + "ur-pub-61767", "…/49/" + "5697463". A lone word
        # ("and") or a year ("2019") is prose.
        if rest.isdigit():
            # Long digit runs are identifiers; a short number at the start of
            # a line is a footnote, page or year, and so is any number after a
            # sentence's full stop.
            return GUESS if len(rest) >= 5 and url[-1] != "." else None
        if re.search(r"[\d_.~-]", rest):
            return GUESS
    return None


_SCHEME_PREFIX_RE = re.compile(r"(?i)(?:https?|ftp):/{1,3}")
_BARE_WWW_RE = re.compile(r"(?i)www\d{0,3}\.?$")


def _unfinished_host(url: str) -> bool:
    m = _SCHEME_PREFIX_RE.match(url)
    # Only the end of the URL so far is looked at (a host is at most 253
    # characters), so a URL wrapped over thousands of lines costs each line once.
    if not m or len(url) - m.end() > 253:
        return False
    host = url[m.end():]
    if any(c in host for c in "/?#"):
        return False
    return host.endswith(("-", ".")) or "." not in host


def _ends_in_bare_www(url: str) -> bool:
    """"…/www." or "www": a line break right after it leaves the host on the next line."""
    tail = url[-9:]
    m = _BARE_WWW_RE.search(tail)
    if not m:
        return False
    at = len(url) - len(tail) + m.start()
    return at == 0 or url[at - 1] == "/"


def _cut_unclosed(text: str) -> str:
    """Cut at a bracket the URL never closes: "…/a.html(accessed 3 March 2021)" lost its space."""
    if "(" not in text and "[" not in text:
        return text
    stack: list[int] = []
    for i, c in enumerate(text):
        if c in "([":
            stack.append(i)
        elif c in ")]" and stack:
            stack.pop()
    return text[: stack[0]] if stack else text


def _strip_trailing(text: str) -> str:
    end = len(text)
    while end and text[end - 1] in _TRAILING:
        end -= 1
    return text[:end]


_START_HINTS = ("/", "www", "WWW", "doi", "DOI", "Doi", "10.", "?")


def find_urls(text: str, labels: list[int] | None = None) -> list[Found]:
    """Every URL, DOI or URL fragment in ``text``, in order.

    ``labels`` are the ends of the LABEL_RE matches in ``text``, when the
    caller has them already.
    """
    found: list[Found] = []
    if labels is None:
        labels = [m.end() for m in find_labels(text)]
    candidates = _Candidates(text, labels)
    pos = 0
    while True:
        pos = candidates.next(pos)
        if pos < 0:
            break
        m = _START_RE.search(text, pos)
        label_fragment = _fragment_after_label(text, labels, pos, m.start() if m else len(text))
        if label_fragment is not None:
            found.append(label_fragment)
            pos = label_fragment.end
            continue
        if m is None:
            break
        kind = Kind.DOI if (m.group("doi") is not None or m.group("bare_doi") is not None) else (
            Kind.FRAGMENT if m.group("fragment") is not None else Kind.URL
        )
        item = _extend(text, m.start(), m.end(), kind)
        if item is None:
            pos = m.end() or m.start() + 1
            continue
        found.append(item)
        pos = item.end
    return found


class _Candidates:
    """Where the next URL can start: the regex need not scan prose before it.

    Every URL start contains one of _START_HINTS and a URL holds no
    whitespace, so the next one begins no earlier than the whitespace before
    the next hint (or at the next label). Each hint's next position is
    remembered, so a long text is searched once per hint, not once per URL.
    """

    def __init__(self, text: str, labels: list[int]) -> None:
        self.text = text
        self.labels = sorted(labels)
        self._label = 0
        self._next = {hint: -2 for hint in _START_HINTS}  # -2: not looked for yet

    def next(self, pos: int) -> int:
        text = self.text
        first = -1
        for hint, at in self._next.items():
            if at == -1:
                continue  # does not occur again
            if at < pos:
                at = self._next[hint] = text.find(hint, pos)
                if at < 0:
                    continue
            if first < 0 or at < first:
                first = at
        while self._label < len(self.labels) and self.labels[self._label] < pos:
            self._label += 1
        label = self.labels[self._label] if self._label < len(self.labels) else -1
        if first < 0:
            return label
        start = max(text.rfind(" ", pos, first), text.rfind("\n", pos, first), text.rfind("\t", pos, first)) + 1
        start = max(start, pos)
        return min(start, label) if label >= 0 else start


def _fragment_after_label(text: str, labels: list[int], pos: int, limit: int) -> Found | None:
    """The remains of a URL right after "Available at:" that has no host."""
    for start in labels:
        if not pos <= start < limit:
            continue
        i = start
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= limit or _START_RE.match(text, i):
            continue
        end = _body_end(text, i)
        token = _strip_trailing(text[i:end])
        if token and not looks_like_date(token) and (
            token.startswith("/") or re.search(r"[/?=&]", token) or _EXTENSION_RE.search(token)
        ) and not _WORD_SLASH_RE.fullmatch(token):
            return _extend(text, i, i, Kind.FRAGMENT)
    return None


def _extend(text: str, start: int, body_start: int, kind: Kind) -> Found | None:
    raw = text[start:_body_end(text, body_start)]
    end = start + len(raw)
    readings: list[tuple[int, int]] = []  # (where a guessed join was made, hyphen or not)
    while True:
        gap = _GAP_RE.match(text, end)
        assert gap is not None
        token_start = gap.end()
        if token_start == end or token_start >= len(text):
            break
        token_end = _body_end(text, token_start)
        join = continues(raw, gap.group(), text[token_start:token_end])
        if join is None:
            break
        if join == GUESS:
            readings.append((len(raw), raw.endswith("-")))
        raw += text[token_start:token_end]
        end = token_end
    cited = _strip_trailing(_cut_unclosed(raw))
    truncated = bool(_ELLIPSIS_RE.search(raw[max(len(cited) - 1, 0):])) or bool(
        re.search(r"/(?:\.{3}|…)(?:/|$)", cited)
    )
    if truncated and not _ELLIPSIS_RE.search(cited):
        # Keep the "..." of a cut URL in what we show, so a reader sees why.
        cited = raw.rstrip(",;:!?'\"*’‘`»”")
    if not cited or kind is not Kind.FRAGMENT and len(cited.rstrip("/")) <= body_start - start:
        return None  # a scheme or "www." with nothing after it
    return Found(start, end, cited, kind, truncated, _guessed_readings(cited, readings), bool(readings))


# A checker tries each alternative before it calls a link dead: a few, not one
# per wrapped line (a URL wrapped over 300 lines sent 301 requests to a host).
MAX_ALTERNATIVES = 4


def _guessed_readings(cited: str, readings: list[tuple[int, bool]]) -> tuple[str, ...]:
    """The other readings of guessed joins, best first, at most MAX_ALTERNATIVES.

    A hyphen at a line break may be the typesetter's ("annual-\nreport.pdf"
    may be "annualreport.pdf"): without it is one character away, so those
    come first, all of them dropped at once first when there are several (a
    typesetter who hyphenates a URL does it at every break). A join before a
    slug-like line may be wrong ("…-to\nur-pub" may end at "-to"): the last
    such join is the likeliest mistake, since each earlier one would have
    needed the prose after it to look like a URL too.
    """
    readings = [(at, hyphen) for at, hyphen in readings if 0 < at < len(cited)]
    if not readings:
        return ()
    hyphens = [at for at, hyphen in readings if hyphen and cited[at - 1] == "-"]
    cuts = [at for at, hyphen in readings if not hyphen]
    found: list[str] = []

    def without(positions: list[int]) -> str:
        pieces, done = [], 0
        for at in positions:
            pieces.append(cited[done:at - 1])
            done = at
        pieces.append(cited[done:])
        return "".join(pieces)

    if len(hyphens) > 1:
        found.append(without(hyphens))
    for at in reversed(hyphens):
        if len(found) >= MAX_ALTERNATIVES:
            break
        found.append(without([at]))
    for at in reversed(cuts):
        if len(found) >= MAX_ALTERNATIVES:
            break
        found.append(_strip_trailing(cited[:at]))
    return tuple(dict.fromkeys(a for a in found if a and a != cited))[:MAX_ALTERNATIVES]


def shorten(text: str, limit: int = 200) -> str:
    """A cited text cut for a message: a problem's detail stays one readable line."""
    return text if len(text) <= limit else text[:limit - 1] + "…"


class UrlError(ValueError):
    """A cited URL that cannot be checked as written."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(detail)
        self.kind = kind  # a ProblemKind value
        self.detail = detail


@dataclass(frozen=True)
class Normalised:
    url: str
    known_snapshot: Snapshot | None = None


_SCHEME_FIX_RE = re.compile(r"^(https?|ftp)(?::/{1,3}|//)", re.IGNORECASE)
_WAYBACK_RE = re.compile(
    r"^(?:https?://)?(?:web|wayback)\.archive\.org/web/(\d{4,14})(?:[a-z]{2}_|\*)?/(.+)$",
    re.IGNORECASE,
)
_DOI_RESOLVERS = {"doi.org", "dx.doi.org", "www.doi.org"}
_PATH_SAFE = "/:@!$&'()*+,;=-._~%"
_QUERY_SAFE = _PATH_SAFE + "?[]"
_DOI_SAFE = "/:@!$&'()*+,;=-._~%[]"
_HOST_RE = re.compile(r"(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?\.)+(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})")
_IPV4_RE = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")
_DEFAULT_PORTS = {"http": 80, "https": 443, "ftp": 21}


_PLAIN_RE = re.compile(r"[A-Za-z0-9/:@!$&'()*+,;=._~?\[\]-]*")


def _pct(text: str, safe: str) -> str:
    """Percent-encode once: keep existing %XX escapes, encode a stray "%" and non-ASCII."""
    if _PLAIN_RE.fullmatch(text) and ("?" not in text or "?" in safe) and ("[" not in text or "[" in safe):
        return text  # nothing to encode: the common case, without quote()'s work
    return quote(re.sub(r"%(?![0-9A-Fa-f]{2})", "%25", text), safe=safe)


def known_prefix(text: str, kind: Kind = Kind.URL) -> str | None:
    """For a URL cut with an ellipsis, the normalised URL before the cut, when its host is whole.

    "https://example.org/long-art..." gives "https://example.org/long-art",
    which an archive can be searched by as a prefix; a cut inside the host
    ("https://www.brook…") gives None.
    """
    cut = _ELLIPSIS_RE.search(text)
    before = _strip_trailing(text[:cut.start()] if cut else text)
    if kind is Kind.FRAGMENT or not before:
        return None
    if kind is Kind.DOI:
        doi = re.sub(r"(?i)^doi\s*:?\s*", "", before)
        return doi_url(doi) if re.fullmatch(r"10\.\d{4,9}/\S+", doi) else None
    rest = re.sub(r"(?i)^(?:https?|ftp)(?::/{1,3}|//)", "", before)
    if not re.search(r"[/?]", rest):
        return None  # the cut is in the host, or right after it
    try:
        return normalise(before, kind).url
    except UrlError:
        return None


def doi_url(doi: str) -> str:
    return "https://doi.org/" + _pct(doi, _DOI_SAFE)


def normalise(text: str, kind: Kind = Kind.URL) -> Normalised:
    """The absolute URL to request for a cited URL or DOI.

    Raises UrlError when the citation cannot be checked as written.
    """
    if kind is Kind.FRAGMENT:
        raise UrlError("truncated_url", f"“{shorten(text)}” is part of a URL: it has no host")
    if kind is Kind.DOI:
        return Normalised(doi_url(re.sub(r"(?i)^doi\s*:?\s*", "", text)))
    wayback = _WAYBACK_RE.match(text)
    if wayback:
        timestamp, original = wayback.groups()
        try:
            inner = normalise(original)
        except UrlError:
            pass  # not a capture of a page we can name; check the archive URL itself
        else:
            if inner.known_snapshot is None:
                snapshot_url = f"https://web.archive.org/web/{timestamp}/{inner.url}"
                return Normalised(inner.url, Snapshot(url=snapshot_url, timestamp=timestamp))
    if _SCHEME_FIX_RE.match(text):
        text = _SCHEME_FIX_RE.sub(lambda m: m.group(1).lower() + "://", text, count=1)
    elif "://" not in text:
        # Schemeless citations are as old as the web; plain http is what every
        # site still answers, with a redirect where it wants https.
        text = "http://" + text
    url = canonical_url(text)
    parts = urlsplit(url)
    if parts.hostname in _DOI_RESOLVERS and parts.path.startswith("/10."):
        return Normalised(doi_url(unquote(parts.path[1:]) + ("?" + parts.query if parts.query else "")))
    return Normalised(url)


def canonical_url(text: str) -> str:
    """An absolute URL in the one form crawler requests and compares.

    Scheme and host lower-cased, IDNA host, default port and fragment dropped,
    dot segments removed, path and query percent-encoded exactly once. Raises
    UrlError for what cannot be requested.
    """
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise UrlError("malformed_url", f"“{shorten(text)}” is not a valid URL ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise UrlError("malformed_url", f"“{shorten(text)}”: scheme {scheme}: is not checked")
    host = _host(parts.hostname or "", text)
    netloc = host
    if parts.username is not None:
        netloc = parts.netloc.rsplit("@", 1)[0] + "@" + netloc
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        netloc += f":{port}"
    path = _remove_dot_segments(_pct(parts.path, _PATH_SAFE)) or "/"
    url = f"{scheme}://{netloc}{path}"
    if parts.query:
        url += "?" + _pct(parts.query, _QUERY_SAFE)
    return url


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 5.2.4, as browsers apply it: "/a/./b/../c" is "/a/c"."""
    if "." not in path:
        return path
    output: list[str] = []
    segments = path.split("/")
    for i, segment in enumerate(segments):
        last = i == len(segments) - 1
        if segment == ".":
            if last:
                output.append("")
        elif segment == "..":
            if len(output) > 1:
                output.pop()
            if last:
                output.append("")
        else:
            output.append(segment)
    return "/".join(output)


def _host(host: str, text: str) -> str:
    host = host.rstrip(".")
    if not host:
        raise UrlError("truncated_url", f"“{shorten(text)}” has no host")
    if host.startswith("[") or ":" in host:
        return f"[{host.strip('[]')}]"  # IPv6, validated by urlsplit
    if not host.isascii():
        try:
            if _idna is not None:
                host = _idna.encode(host, uts46=True).decode("ascii")
            else:  # pragma: no cover
                host = host.encode("idna").decode("ascii")
        except (UnicodeError, ValueError) as exc:
            raise UrlError("malformed_url", f"“{shorten(text)}”: host is not a valid name ({exc})") from None
    host = host.lower()
    if len(host) > 253 or any(len(label) > 63 for label in host.split(".")):
        # Checked before the pattern, which needs memory in proportion to the
        # labels it backtracks over: a 16 MB "www.www.…" took 1.5 GB.
        raise UrlError("malformed_url", f"“{shorten(text)}”: the host name is longer than a host can be")
    if host == "localhost" or _IPV4_RE.fullmatch(host) or _HOST_RE.fullmatch(host):
        return host
    if "." not in host:
        raise UrlError("truncated_url", f"“{shorten(text)}”: host “{host}” is incomplete")
    raise UrlError("malformed_url", f"“{shorten(text)}”: “{shorten(host)}” is not a valid host name")
