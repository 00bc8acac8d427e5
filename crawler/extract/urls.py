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

from crawler.extract.dates import _trie, looks_like_date
from crawler.extract.tlds import is_tld
from crawler.model import MAX_ALTERNATIVES, Snapshot

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
      (?P<scheme>(?<![^\W_])(?:https?|ftp)(?::[ ]?/{{1,3}}|//)(?=\S|[ \t]*\n?[ \t]*\S))
    | (?P<www>(?<![\w@/%-])(?<![\w%-]\.)www\d{{0,3}}\.(?=[^\W_]))
    | (?P<doi>(?<![^\W_])doi\s*:?\s*(?=10\.\d{{4,9}}/(?:\S|[ \t]*\n?[ \t]*\S)))
    | (?P<bare_doi>(?<![\w./:%-])(?=10\.\d{{4,9}}/(?:[^\s,;]|[ \t]*\n?[ \t]*\S)))
    | (?P<domain>(?<![\w@/:%-])(?<![\w%-]\.)(?=[\w.-]*+/)(?-i:(?:{_LABEL}\.){{1,126}}(?:{_GTLDS}))(?=/))
    | (?P<fragment>(?<![\w/.%:-])(?=[\w.-]*+\?)(?:
            [\w-]*\.?(?:php\d?|aspx?|jspx?|cgi|cfm|s?html?|pl|do)\?[\w.%\[\]-]+=
          | [\w-]+\?[\w.%-]+=[^\s&]*&[\w.%-]+=))
    """,
    re.IGNORECASE | re.VERBOSE,
)
# The look-aheads after the look-behinds of "domain" and "fragment" change no
# match: a host is [\w.-] up to a "/", a fragment [\w.-] up to a "?". They
# only spare the engine trying the labels and the top-level domains at every
# word, which made searching this pattern a fifth of extraction's time.


def may_start_url(text: str) -> bool:
    """False when ``_START_RE.search(text)`` cannot match: a cheap test first.

    Every branch needs a "/" (a scheme, a DOI, a host) or a "?" (a fragment),
    or else "www" (any case; only "w" and "W" match "w" ignoring case).
    """
    return "/" in text or "?" in text or "www" in text.lower()


def _may_start_after(text: str, pos: int) -> bool:
    """may_start_url(text[pos:]), without copying when there is a "/" or "?"."""
    return text.find("/", pos) >= 0 or text.find("?", pos) >= 0 or "www" in text[pos:].lower()


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
      | dostupn[éýá]\s+(?:z|na|online)
    )(?![^\W\d_])\s*:?""",
    re.IGNORECASE | re.VERBOSE,
)

# The first two letters of every ASCII opening of LABEL_RE: an ASCII line that
# opens otherwise opens with no label (no letter of the pattern outside ASCII
# matches an ASCII one, ignoring case or not).
_ASCII_LABEL_OPENINGS = frozenset("ab av di do en ex li ob on re ur ve [e [o".split())


def starts_with_label(line: str) -> bool:
    """Whether ``line`` opens with "Available at:", "URL:"… (``LABEL_RE.match``)."""
    if line.isascii() and line[:2].lower() not in _ASCII_LABEL_OPENINGS:
        return False
    return LABEL_RE.match(line) is not None


# Every LABEL_RE alternative contains one of these; a cheap test before the regex.
_LABEL_STEMS = ("available", "retrieved", "url", "режим", "доступно", "disponible", "disponível", "verfügbar",
                "abrufbar", "online", "ligne", "link", "recuperado", "obtenido", "extraído", "dostupn")


_LABEL_STEMS_RE = re.compile(_trie(_LABEL_STEMS))
# In ASCII text only the labels written in ASCII can be there ("dostupné",
# "extraído" and "verfügbar" cannot): without the others' first letters ("e"
# above all) the search stops at a quarter fewer places.
_ASCII_LABEL_STEMS_RE = re.compile(_trie(
    stem for stem in _LABEL_STEMS if stem.isascii() and stem != "dostupn"))  # "dostupn[éýá]"


def find_labels(text: str) -> list[re.Match[str]]:
    stems = _ASCII_LABEL_STEMS_RE if text.isascii() else _LABEL_STEMS_RE
    if stems.search(text.lower()) is None:
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


def _has_extension(text: str) -> bool:
    """``_EXTENSION_RE.search(text)``, tried only at the last ".": no extension holds one."""
    dot = text.rfind(".")
    return dot >= 0 and _EXTENSION_RE.match(text, dot) is not None


# Tokens that are prose even though they contain a slash: and/or, he/she.
_WORD_SLASH_RE = re.compile(r"[^\W\d_]+/[^\W\d_]+")
_ELLIPSIS_RE = re.compile(r"\.{3}|…")


# Not frozen: a frozen dataclass's __init__ sets every field through
# object.__setattr__, which showed in profiles (one Found per URL read).
@dataclass(slots=True)
class Found:
    """A URL-shaped piece of text; never changed once made."""

    start: int
    end: int
    text: str  # as written, with line breaks and inserted spaces bridged
    kind: Kind
    truncated: bool = False  # cut with an ellipsis
    alternatives: tuple[str, ...] = ()  # other readings, best first
    # The reading rests on a guess (a join at a break, a hyphen that may be the
    # typesetter's): if every reading fails, that proves nothing.
    uncertain: bool = False
    # The reading to check when ``text`` (as written) has typeset hyphens
    # ("planovani‑v‑oblasti"): the same with ASCII ones. None when it is ``text``.
    reading: str | None = None

    @property
    def url_text(self) -> str:
        """What to normalise and check: the reading, best first."""
        return self.reading if self.reading is not None else self.text


# A run of URL characters; LaTeX escapes ("\\&", "\\_", "\\~{}") from .tex and
# .bbl sources belong to it and are unescaped in what is read.
_RUN_RE = re.compile(r"(?:[^\s" + re.escape("".join(_STOP)) + r"]++|\\[&_%#$]|\\~(?:\{\})?)*+")
_LATEX_ESCAPE_RE = re.compile(r"\\([&_%#$])|\\~(?:\{\})?")


def _unescape_latex(text: str) -> str:
    return _LATEX_ESCAPE_RE.sub(lambda m: m.group(1) or "~", text) if "\\" in text else text


# Hyphens from typesetting (U+2010 hyphen, U+2011 non-breaking hyphen, U+2012
# figure dash, U+2013 en dash) are read as the ASCII "-" the URL has; the
# literal reading is kept as an alternative for the rare URL that has one.
_TYPESET_HYPHENS = "\u2010\u2011\u2012\u2013"
_TO_ASCII_HYPHEN = str.maketrans(_TYPESET_HYPHENS, "----")


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
# Joined over a space that may be the URL's own (a file name with spaces):
# the alternative keeps it.
SPACED = "spaced"
# "IUCN.UK.2015 2.RLTS…": the space may stand for a hyphen the copy lost; the
# alternative puts it back.
LOST_HYPHEN = "lost_hyphen"


def continues(url: str, gap: str, token: str, *, doi: bool = False, after: str = "") -> str | None:
    """Whether ``token``, after whitespace ``gap``, is the rest of ``url``: SURE, a guess kind, or None.

    PDF copy-paste breaks URLs at line ends and sometimes inserts a space
    (``…&Ite mid=29…``). Bridging a gap is only safe when the next token cannot
    be a word of the sentence: a space is bridged only before query or path
    syntax, inside a host that cannot end there, or inside a DOI before more
    DOI; a line break also before a slug ("ur-pub-61767"), which is a guess
    because a URL may also simply end at the line's end. ``doi`` says the
    URL is a DOI (also when it does not say "doi.org" itself); ``after`` is
    the text right after ``token`` (a few characters; "" at the end).
    """
    if not url or not token or token[0] in _NEVER_CONTINUES:
        # A token that opens a bracket or a quotation is prose ("URL (accessed …)"):
        # every rule of _continues_at_all() needs a letter, a digit or "." to
        # start it (tests/test_properties.py checks it says None).
        return None
    return _continues_at_all(url, gap, token, doi=doi, after=after)


def _continues_at_all(url: str, gap: str, token: str, *, doi: bool = False, after: str = "") -> str | None:
    """continues() for any token."""
    line_end = after.lstrip(" \t")[:1] in ("\n", "")
    if not url or not token:
        return None
    newline = "\n" in gap
    if not newline and gap.count(" ") + gap.count("\t") > 1:
        return None
    if url[-1] == "?" and newline and "=" in token and token[0].isalnum():
        return SURE  # "…/NY.GDP.MKTP.CD?" + "locations=KZ-UZ-KG": the query is on the next line
    if newline and len(token) > 1 and token[0] == "." and token[1].isalnum() and url[-1].isalnum():
        return SURE  # "…/asp.2017" + ".0028": no line of prose starts with a full stop
    if doi or _DOI_RESOLVER_RE.match(url):
        join = _doi_continues(url, newline, token, line_end)
        if join is not None:
            return join
    if url[-1] in ",;:!?)]'\"":
        return None
    if url.endswith(("://", ":/", "//")) and token[0].isalnum() and (newline or _host_shaped(token)):
        return SURE  # "https://" at a line end (or before a space): the host comes next
    host = _host_so_far(url)
    if host is not None and token[0].isalnum():
        joined = host + _HOST_PART_RE.match(token).group()
        if host.endswith(("-", ".")) and (newline or _valid_host(joined)):
            # "https://virginia-" + "eubanks.com/…", "www.state- archive.eu/…": a
            # host cannot end there. The hyphen may be the typesetter's.
            return GUESS if host.endswith("-") else SURE
        if newline and "." not in host:
            return SURE  # "https://nyu" + "press.org/…"
        if "." in host and not is_tld(host.rsplit(".", 1)[1]) and _valid_host(joined):
            return GUESS  # "www.bookse llers.com/…": "www.bookse" is no host, "www.booksellers.com" is
    if newline and url[-1] == "/" and _CAPITALISED_SEGMENT_RE.fullmatch(_strip_trailing(token)) and (
            line_end or after.startswith((" (", " ["))) and token.lower() not in _PROSE_WORDS:
        return GUESS  # "…/compound/" + "Aspirin (accessed …)": a path segment may be capitalised
    join = _continues(url, newline, gap, token)
    # "annual-\nreport.pdf": the hyphen may be the typesetter's.
    return GUESS if join == SURE and newline and url.endswith("-") else join


_NEVER_CONTINUES = "([<\"“«'"


def _continues(url: str, newline: bool, gap: str, token: str) -> str | None:
    start = _START_RE.match(token)
    if token[0] in "([<\"“«'" or start and not start.group("fragment"):
        return None
    rest = _strip_trailing(token)
    if not rest or looks_like_date(rest):
        return None
    if not newline and _SPACED_SLUG_RE.fullmatch(rest) and url[-1].isalnum() and "-" in url[url.rfind("/") + 1:]:
        return GUESS  # "…/data-use-and -educational-improvement": a space before the slug's hyphen
    if re.search(r"[=&/?#%]", rest):
        return SURE if not _WORD_SLASH_RE.fullmatch(rest) else None
    if _EXTENSION_RE.search(rest):
        # "…/annual\nreport.pdf" lost nothing; "…/WOLA Report.pdf" may have its own space.
        return SURE if newline else SPACED
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


_CAPITALISED_SEGMENT_RE = re.compile(r"[A-Z][A-Za-z0-9_-]+")
_PROSE_WORDS = frozenset("""a an and the in on at for of to from by with see also accessed retrieved available
    online url last viewed visited cited consulted downloaded checked accessed: retrieved: available: note notes
    pdf html web website internet""".split())
_SPACED_SLUG_RE = re.compile(r"-[^\W_]+(?:[-_][^\W_]+)++(?:\.[A-Za-z0-9]{1,5})?/?")
_DOI_RESOLVER_RE = re.compile(r"(?i)(?:https?://)?(?:dx\.|www\.)?doi\.org/")
_DOI_PREFIX_RE = re.compile(r"(?i)(?:doi\s*:?\s*|(?:https?://)?(?:dx\.|www\.)?doi\.org/)?(10\.\d{4,9}/)?")
_DOI_TOKEN_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._;()/:<>\[\]+-]*")
_LOST_HYPHEN_RE = re.compile(r"\d[A-Za-z0-9]*\.[A-Za-z0-9._()-]*[A-Za-z][A-Za-z0-9._()-]*")


def _doi_continues(url: str, newline: bool, token: str, line_end: bool) -> str | None:
    """The DOI rules: a DOI never ends in "-", "/" or ":", and its suffix is never empty."""
    prefix = _DOI_PREFIX_RE.match(url)
    rest = _strip_trailing(token)
    if not rest or not _DOI_TOKEN_RE.fullmatch(rest) or not any(c.isdigit() for c in rest):
        return None
    bare_doi = bool(re.match(r"10\.\d{4,9}/", rest))
    if prefix.end() == len(url):
        # "http://dx.doi.org/ 10.1061/…", "doi:10.1080/ 02634937.2019": nothing read yet.
        if prefix.group(1) is None:
            return SURE if bare_doi else None
        return SURE if not bare_doi and not looks_like_date(rest) else None
    if prefix.group(1) is None or bare_doi or _START_RE.match(token):
        return None
    last = url[-1]
    if last in "-/:(":
        # "…/S0301- 4215(03)00123-4", "…125: 3(212)", "…s12913-018-\n3267-1": a DOI
        # does not end there; at a line end the hyphen may be the typesetter's.
        return GUESS if newline and last == "-" else SURE
    if looks_like_date(rest) or _YEAR_RE.fullmatch(rest):
        return None  # "doi:10.1000/182. 2019.": the year of the reference
    if rest.isdigit() and len(rest) < 5 and not (newline and line_end):
        return None  # "…/2010RG000345." + "21 James Hansen…": the next footnote's number
    if last == ".":
        # "…/j. envsci.2011.04.007", "…PESGM40551. 2019.8973456", "…TPWRS.2020.\n2971234"
        return GUESS
    if last.isalnum() and newline:
        return GUESS  # "…/jacs.9b1" + "1234.": PDFs break DOIs anywhere
    if last.isalnum() and _LOST_HYPHEN_RE.fullmatch(rest):
        return LOST_HYPHEN  # "IUCN.UK.2015 2.RLTS.T22689999A93869999.en"
    return None


_YEAR_RE = re.compile(r"(?:1[89]|20)\d\d[a-z]?")


_HOST_PART_RE = re.compile(r"[^\W_](?:[\w.-]{0,251}[^\W_])?")


def _host_shaped(token: str) -> bool:
    """"www.example.org/…": a token that begins with a host name with a real top-level domain."""
    part = _HOST_PART_RE.match(token)
    return bool(part) and "." in part.group() and _valid_host(part.group())


def _valid_host(host: str) -> bool:
    host = host.lower()
    if len(host) > 253 or "." not in host:
        return False
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            return False
    return bool(_HOST_RE.fullmatch(host)) and is_tld(host.rsplit(".", 1)[1])


def _host_so_far(url: str) -> str | None:
    """The host of ``url`` when nothing after the host has been read yet, else None."""
    m = _SCHEME_PREFIX_RE.match(url)
    at = m.end() if m else 0
    if not m and not url[:3].lower() == "www":
        return None
    # Only the end of the URL so far is looked at (a host is at most 253
    # characters), so a URL wrapped over thousands of lines costs each line once.
    if len(url) - at > 253:
        return None
    host = url[at:]
    if not host or any(c in host for c in "/?#:@"):
        return None
    return host


_SCHEME_PREFIX_RE = re.compile(r"(?i)(?:https?|ftp):/{1,3}")
_BARE_WWW_RE = re.compile(r"(?i)www\d{0,3}\.?$")


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


_SPACED_SCHEME_RE = re.compile(r"(?i)(?:https?|ftp): $")
_START_HINTS = ("/", "www", "WWW", "doi", "DOI", "Doi", "10.", "?")
_START_HINTS_RE = re.compile("|".join(re.escape(hint) for hint in _START_HINTS))


_BRANCH_KINDS = {"scheme": Kind.URL, "www": Kind.URL, "doi": Kind.DOI, "bare_doi": Kind.DOI, "domain": Kind.URL,
                 "fragment": Kind.FRAGMENT}


def find_urls(text: str, labels: list[int] | None = None) -> list[Found]:
    """Every URL, DOI or URL fragment in ``text``, in order.

    ``labels`` are the ends of the LABEL_RE matches in ``text``, when the
    caller has them already.
    """
    found: list[Found] = []
    if labels is None:
        labels = [m.end() for m in find_labels(text)]
    literal = None
    if not text.isascii() and any(h in text for h in _TYPESET_HYPHENS):
        # Scanned with ASCII hyphens (one character for one, so offsets hold).
        literal, text = text, text.translate(_TO_ASCII_HYPHEN)
    candidates = _Candidates(text, labels)
    pos = 0
    while True:
        if not labels and not _may_start_after(text, pos):
            break  # no URL starts in the rest (see below), and no label fragment can be there
        pos = candidates.next(pos)
        if pos < 0:
            break
        # What is left often holds no URL at all (an access date, the end of a
        # sentence): searching it cost as much as reading the URL before it.
        m = _START_RE.search(text, pos) if _may_start_after(text, pos) else None
        if labels:
            label_fragment = _fragment_after_label(text, labels, pos, m.start() if m else len(text))
            if label_fragment is not None:
                found.append(label_fragment)
                pos = label_fragment.end
                continue
        if m is None:
            break
        branch = m.lastgroup  # each branch is one named group, with none inside it
        if branch == "domain" and not is_tld(m.group().rsplit(".", 1)[1]):
            pos = m.end()  # "report.pdf/…", "a.b/…": no top-level domain, so no host
            continue
        kind = _BRANCH_KINDS[branch]
        item = _extend(text, m.start(), m.end(), kind, literal)
        if item is None:
            pos = max(m.end(), m.start() + 1)  # a bare DOI's start matches nothing: move on
            continue
        found.append(item)
        pos = item.end
    return found


_BARE_HOST_RE = re.compile(rf"(?<![\w@/:%.-])((?:{_LABEL}\.){{1,126}}([^\W\d_]{{2,63}}))(?![\w@/-]|\.\w)")
_BEFORE_ACCESS_RE = re.compile(r"[\s,;.:]*[(\[]?\s*")


def find_bare_hosts(text: str, labels: list[int], access_starts: list[int], found: list[Found]) -> list[Found]:
    """Host names cited alone, when an access phrase or "Available at:" marks them as the source.

    "leaderu.com, accessed 23 April 2000" cites a site; "see leaderu.com" in a
    sentence does not, so only those two marks make a bare host a citation.
    """
    taken = [(item.start, item.end) for item in found]
    hosts: list[Found] = []

    def add(m: re.Match[str]) -> None:
        start, end = m.span(1)
        if not is_tld(m.group(2)) or any(a < end and start < b for a, b in taken):
            return
        if any(h.start == start for h in hosts):
            return
        hosts.append(Found(start, end, m.group(1), Kind.URL))

    for label in labels:
        gap = _GAP_RE.match(text, label)
        m = _BARE_HOST_RE.match(text, gap.end())
        if m:
            add(m)
    for access in access_starts:
        # The host is the last token before the phrase: "…leaderu.com, accessed …"
        window = text[max(0, access - 260):access]
        for m in _BARE_HOST_RE.finditer(window):
            if _BEFORE_ACCESS_RE.fullmatch(window, m.end()):
                offset = access - len(window)
                add(_BARE_HOST_RE.match(text, offset + m.start()) or m)
    return hosts


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
        self._hint = -2  # where the next hint is; -2: not looked for yet, -1: none is left
        self._spaces_only = "\n" not in text and "\t" not in text  # most entries: one rfind, not three

    def next(self, pos: int) -> int:
        text = self.text
        first = self._hint
        if first != -1 and first < pos:
            # One search for whichever hint comes first, not one find per hint.
            m = _START_HINTS_RE.search(text, pos)
            first = self._hint = m.start() if m else -1
        while self._label < len(self.labels) and self.labels[self._label] < pos:
            self._label += 1
        label = self.labels[self._label] if self._label < len(self.labels) else -1
        if first < 0:
            return label
        if self._spaces_only:
            start = text.rfind(" ", pos, first) + 1
        else:
            start = max(text.rfind(" ", pos, first), text.rfind("\n", pos, first), text.rfind("\t", pos, first)) + 1
        # The pattern ends in ": " (before "$", which also matches before a last "\n").
        if ":" in text[max(0, start - 3):start]:
            spaced = _SPACED_SCHEME_RE.search(text, max(0, start - 7), start)
            if spaced:
                start = spaced.start()  # "http: //…": the scheme is before the space
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
        glue = i
        while glue < len(text) and text[glue] in ".,;:":
            glue += 1  # "[online].www.example.fr/…": punctuation glued to the URL
        if i >= limit or _START_RE.match(text, i) or glue > i and _START_RE.match(text, glue):
            continue
        end = _body_end(text, i)
        token = _strip_trailing(text[i:end])
        if token and not looks_like_date(token) and (
            token.startswith("/") or re.search(r"[/?=&]", token) or _EXTENSION_RE.search(token)
        ) and not _WORD_SLASH_RE.fullmatch(token):
            return _extend(text, i, i, Kind.FRAGMENT)
    return None


_SCHEME_SPACE_RE = re.compile(r"(?i)^((?:https?|ftp):) (?=/)")
_CUT_SEGMENT_RE = re.compile(r"/(?:\.{3}|…)(?:/|$)")
_DOI_SUFFIX_RE = re.compile(r"(?i)^(?:doi\s*:?\s*|(?:https?://)?(?:dx\.|www\.)?doi\.org/)?10\.\d{4,9}/(.*)$", re.DOTALL)


def _extend(text: str, start: int, body_start: int, kind: Kind, literal: str | None = None) -> Found | None:
    """The URL that starts at ``start``, followed across the gaps it spans.

    ``literal`` is the text as written when ``text`` is its copy with ASCII
    hyphens; the literal reading then becomes an alternative.
    """
    first_end = _body_end(text, body_start)
    raw = text[start:first_end]
    end = first_end
    spans = [(start, first_end)]
    doi = kind is Kind.DOI or bool(_DOI_RESOLVER_RE.match(raw))
    readings: list[tuple[int, str]] = []  # (where a guessed join was made, which guess)
    while True:
        gap = _GAP_RE.match(text, end)
        assert gap is not None
        token_start = gap.end()
        if token_start == end or token_start >= len(text) or text[token_start] in _NEVER_CONTINUES:
            break  # the last: what continues() says of a token that starts so
        token_end = _body_end(text, token_start)
        join = continues(raw, gap.group(), text[token_start:token_end], doi=doi,
                         after=text[token_end:token_end + 3])
        if join is None:
            break
        if join == GUESS:
            readings.append((len(raw), "hyphen" if raw.endswith("-") else "cut"))
        elif join in (SPACED, LOST_HYPHEN):
            readings.append((len(raw), join))
        raw += text[token_start:token_end]
        spans.append((token_start, token_end))
        end = token_end
    written = "".join(literal[a:b] for a, b in spans) if literal is not None else raw
    # "http: //people.example.cn/…": the space is the copy's.
    if kind is Kind.URL and " " in raw and _SCHEME_SPACE_RE.match(raw):
        raw, written = _SCHEME_SPACE_RE.sub(r"\1", raw, count=1), _SCHEME_SPACE_RE.sub(r"\1", written, count=1)
        readings = [(at - 1, how) for at, how in readings]
    cited = _strip_trailing(_cut_unclosed(raw))
    # ``cited`` is a prefix of ``raw``: without an ellipsis in ``raw`` neither search can match.
    truncated = ("..." in raw or "…" in raw) and (bool(_ELLIPSIS_RE.search(raw[max(len(cited) - 1, 0):])) or bool(
        _CUT_SEGMENT_RE.search(cited)))
    if truncated and not _ELLIPSIS_RE.search(cited):
        # Keep the "..." of a cut URL in what we show, so a reader sees why.
        cited = raw.rstrip(",;:!?'\"*’‘`»”")
    if not cited or kind is not Kind.FRAGMENT and len(cited.rstrip("/")) <= body_start - start:
        return None  # a scheme or "www." with nothing after it
    uncertain = bool(readings)
    if doi and not truncated:
        suffix = _DOI_SUFFIX_RE.match(cited)
        if suffix is not None:
            if not suffix.group(1).strip("/"):
                return None  # "doi:10.1016/" with nothing after it is no DOI
            # A DOI that ends where it cannot ("…/S0301-") was cut: failing is no evidence.
            uncertain = uncertain or raw[len(cited) - 1:len(cited)] in ("-", "/", ":", "(") or (
                len(raw) > len(cited) and raw[len(cited)] == "." and _next_is_doi_like(text, end))
    alternatives = list(_guessed_readings(cited, readings)) if readings else []
    if kind is not Kind.DOI and not truncated:
        spaced = _spaced_file_name(text, end, cited)
        if spaced is not None:
            alternatives.insert(0, spaced)  # "…/files/WOLA" + " Report_Increased … 2015.pdf"
            uncertain = True
    written_cited = written[:len(cited)] if written != raw else cited
    cited, written_cited = _unescape_latex(cited), _unescape_latex(written_cited)
    if alternatives:
        alternatives = [_unescape_latex(a) for a in alternatives]
    if written_cited != cited:
        alternatives = alternatives[:MAX_ALTERNATIVES - 1] + [written_cited]  # the typeset hyphens, as written
    if not alternatives:
        return Found(start, end, cited, kind, truncated, (), uncertain, None)
    alternatives = list(dict.fromkeys(a for a in alternatives if a and a != cited))[:MAX_ALTERNATIVES]
    return Found(start, end, written_cited if written_cited != cited else cited, kind, truncated,
                 tuple(alternatives), uncertain, cited if written_cited != cited else None)


def _next_is_doi_like(text: str, end: int) -> bool:
    gap = _GAP_RE.match(text, end)
    token = text[gap.end():_body_end(text, gap.end())]
    return bool(token) and bool(_DOI_TOKEN_RE.fullmatch(_strip_trailing(token))) and any(c.isdigit() for c in token)


_SPACED_TOKEN_RE = re.compile(r"[\w.,&'()+~%-]+")
_FILE_NAME_GAP_RE = re.compile(r" (?=\S)|[ \t]*\n[ \t]*(?=\S)(?!\(?\d{1,5}[.)]\s|\[\d{1,5}\])")
_MAX_SPACED_TOKENS = 6


def _spaced_file_name(text: str, end: int, cited: str) -> str | None:
    """"…/files/WOLA Report_Increased Enforcement_Nov 2015.pdf": the reading with the file name's spaces.

    Taken when the URL's last path segment has no extension and, within a few
    space-separated words, one ends in a file extension.
    """
    # Most cited URLs end in a file name or a query: those tests first, the path's after.
    if "?" in cited or "=" in cited or _has_extension(cited):
        return None  # a last segment that is a query or a file already
    scheme = cited.find("//")
    path = cited.find("/", scheme + 2 if scheme >= 0 else 0)
    if path < 0 or cited.rfind("/") == len(cited) - 1:
        return None  # no path, or a last segment that is a directory
    words: list[str] = []
    pos = end
    for _ in range(_MAX_SPACED_TOKENS):
        # One space, or a line break where the PDF wrapped the file name (not
        # before a numbered reference: "9. Smith J. …" is the next one).
        gap = _FILE_NAME_GAP_RE.match(text, pos)
        if gap is None:
            return None
        token_end = _body_end(text, gap.end())
        token = text[gap.end():token_end]
        if not token or not _SPACED_TOKEN_RE.fullmatch(_strip_trailing(token)) or _START_RE.match(token):
            return None
        words.append(_strip_trailing(token))
        if _has_extension(words[-1]):
            return cited + " " + " ".join(words)
        if token != words[-1]:
            return None  # "WOLA Report, 2015": a sentence went on
        pos = token_end
    return None


# A checker tries each alternative before it calls a link dead: a few, not one
# per wrapped line (a URL wrapped over 300 lines sent 301 requests to a host).


def _guessed_readings(cited: str, readings: list[tuple[int, str]]) -> tuple[str, ...]:
    """The other readings of guessed joins, best first, at most MAX_ALTERNATIVES.

    A hyphen at a line break may be the typesetter's ("annual-\nreport.pdf"
    may be "annualreport.pdf"): without it is one character away, so those
    come first, all of them dropped at once first when there are several (a
    typesetter who hyphenates a URL does it at every break). A space may be
    the URL's own ("WOLA Report.pdf") or stand for a lost hyphen ("2015
    2.RLTS"). A join before a slug-like line may be wrong ("…-to\nur-pub" may
    end at "-to"): the last such join is the likeliest mistake, since each
    earlier one would have needed the prose after it to look like a URL too.
    """
    readings = [(at, how) for at, how in readings if 0 < at < len(cited)]
    if not readings:
        return ()
    hyphens = [at for at, how in readings if how == "hyphen" and cited[at - 1] == "-"]
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
    found.extend(without([at]) for at in reversed(hyphens[-MAX_ALTERNATIVES:]))
    for at, how in readings:
        if how == SPACED:
            found.append(cited[:at] + " " + cited[at:])
        elif how == LOST_HYPHEN:
            found.append(cited[:at] + "-" + cited[at:])
    found.extend(_strip_trailing(cited[:at]) for at, how in reversed(readings[-MAX_ALTERNATIVES:]) if how == "cut")
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


@dataclass(slots=True)  # not frozen, for speed (see Found); never changed once made
class Normalised:
    url: str
    known_snapshot: Snapshot | None = None


_SCHEME_FIX_RE = re.compile(r"^(https?|ftp)(?: ?: ?/{1,3}|//)", re.IGNORECASE)
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


def _pct(text: str, safe: str, stray_percent: bool = True) -> str:
    """Percent-encode once: keep existing %XX escapes, encode non-ASCII, and a
    stray "%" too unless ``stray_percent`` is False."""
    if _PLAIN_RE.fullmatch(text) and ("?" not in text or "?" in safe) and ("[" not in text or "[" in safe):
        return text  # nothing to encode: the common case, without quote()'s work
    if stray_percent:
        text = re.sub(r"%(?![0-9A-Fa-f]{2})", "%25", text)
    return quote(text, safe=safe)


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
        doi = re.sub(r"(?i)^doi\s*:?\s*", "", text)
        if not re.fullmatch(r"10\.\d{4,9}/.*[^\W_].*", doi, re.DOTALL):
            raise UrlError("truncated_url", f"“{shorten(text)}” is a DOI prefix with nothing after it")
        return Normalised(doi_url(doi))
    # Ignoring case, only ASCII letters match ASCII text: "archive" must be in it.
    wayback = _WAYBACK_RE.match(text) if not text.isascii() or "archive" in text.lower() else None
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
    if text.startswith(("http://", "https://")) and text[7 if text[4] == ":" else 8:][:1] != "/":
        pass  # what the fix below would give back unchanged: the usual case
    elif scheme := _SCHEME_FIX_RE.match(text):  # the pattern is anchored: the same as sub(..., count=1)
        text = scheme.group(1).lower() + "://" + text[scheme.end():]
    elif "://" not in text:
        # Schemeless citations are as old as the web; plain http is what every
        # site still answers, with a redirect where it wants https.
        text = "http://" + text
    url = canonical_url(text)
    if "doi.org" not in url:  # the common case: no second split of the URL
        return Normalised(url)
    parts = urlsplit(url)
    if parts.hostname in _DOI_RESOLVERS and parts.path.startswith("/10."):
        return normalise(unquote(parts.path[1:]) + ("?" + parts.query if parts.query else ""), Kind.DOI)
    if parts.hostname in _DOI_RESOLVERS and parts.path in ("", "/") and not parts.query:
        raise UrlError("truncated_url", f"“{shorten(text)}” names the DOI resolver but no DOI")
    return Normalised(url)


# A URL that urlsplit() would take apart into exactly these groups, with a
# path and query that need no percent-encoding and (without "/.") no dot
# segments: most cited URLs. The characters are those _pct() keeps as they are.
# The host is one character class, not labels: a pattern that repeats a group
# needs memory for each repetition it may backtrack into (see _host()).
_SIMPLE_URL_RE = re.compile(
    r"(https?|ftp)://([A-Za-z0-9.-]+)(?::([0-9]{1,5}))?"
    r"(/[A-Za-z0-9/:@!$&'()*+,;=._~-]*)?(?:\?([A-Za-z0-9/:@!$&'()*+,;=._~?-]*))?")


def canonical_url(text: str, *, location: bool = False) -> str:
    """An absolute URL in the one form crawler requests and compares.

    Scheme and host lower-cased, IDNA host, default port and fragment dropped,
    dot segments removed, path and query percent-encoded exactly once. Raises
    UrlError for what cannot be requested.

    A "%" that starts no escape is a percent sign an author typed ("100%_sure",
    "%25" to the server) in cited text; in a server's ``location`` it is left as
    it is, as browsers leave it (WHATWG URL): the server made that URL, and
    "/%zz" asked as "/%25zz" is another page, perhaps a 404.
    """
    simple = _SIMPLE_URL_RE.fullmatch(text)
    if simple is not None:
        # The same as below without urlsplit() and the encoders: a tenth of
        # extraction's time went there (tests/test_properties.py compares the two).
        scheme, host, port, path, query = simple.groups()
        if path is None or "/." not in path:
            number = int(port) if port is not None else None
            if number is None or number <= 65535:
                netloc = _host(host.lower(), text)
                if number is not None and number != _DEFAULT_PORTS[scheme]:
                    netloc += f":{number}"
                url = f"{scheme}://{netloc}{path or '/'}"
                return url + "?" + query if query else url
    return _canonical_url(text, not location)


def _canonical_url(text: str, stray_percent: bool = True) -> str:
    """canonical_url() for any text."""
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
    path = _remove_dot_segments(_pct(parts.path, _PATH_SAFE, stray_percent)) or "/"
    url = f"{scheme}://{netloc}{path}"
    if parts.query:
        url += "?" + _pct(parts.query, _QUERY_SAFE, stray_percent)
    return url


_SINGLE_DOT = frozenset({".", "%2e"})
_DOUBLE_DOT = frozenset({"..", ".%2e", "%2e.", "%2e%2e"})


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 5.2.4, as browsers apply it: "/a/./b/../c" is "/a/c", and so is
    "/a/%2e/b/%2E%2e/c" (WHATWG URL reads an encoded dot in a segment as a dot)."""
    if "." not in path and "%2" not in path:
        return path
    output: list[str] = []
    segments = path.split("/")
    for i, segment in enumerate(segments):
        last = i == len(segments) - 1
        dots = segment.lower() if "%" in segment else segment
        if dots in _SINGLE_DOT:
            if last:
                output.append("")
        elif dots in _DOUBLE_DOT:
            if len(output) > 1:
                output.pop()
            if last:
                output.append("")
        else:
            output.append(segment)
    return "/".join(output)


# Hosts already found valid, and what they became: a list cites the same
# sites again and again. Only valid ones (an error names its citation), only
# short ones (the key is the host as cited), and a bounded number.
_VALID_HOSTS: dict[str, str] = {}
_VALID_HOSTS_MAX = 4096


def _host(host: str, text: str) -> str:
    known = _VALID_HOSTS.get(host)
    if known is not None:
        return known
    valid = _checked_host(host, text)
    if len(host) <= 256:
        if len(_VALID_HOSTS) >= _VALID_HOSTS_MAX:
            _VALID_HOSTS.clear()
        _VALID_HOSTS[host] = valid
    return valid


def _checked_host(host: str, text: str) -> str:
    """The host to request, or UrlError."""
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
    if len(host) > 253 or max(map(len, host.split("."))) > 63:
        # Checked before the pattern, which needs memory in proportion to the
        # labels it backtracks over: a 16 MB "www.www.…" took 1.5 GB.
        raise UrlError("malformed_url", f"“{shorten(text)}”: the host name is longer than a host can be")
    if host == "localhost" or _IPV4_RE.fullmatch(host):
        return host
    if _HOST_RE.fullmatch(host):
        if is_tld(host.rsplit(".", 1)[1]):
            return host
        # "www.bookse" of "www.bookse llers.com": a host without a real
        # top-level domain does not exist, and checking it would call it dead.
        raise UrlError("malformed_url", f"“{shorten(text)}”: “{host}” has no valid top-level domain")
    if "." not in host:
        raise UrlError("truncated_url", f"“{shorten(text)}”: host “{host}” is incomplete")
    raise UrlError("malformed_url", f"“{shorten(text)}”: “{shorten(host)}” is not a valid host name")
