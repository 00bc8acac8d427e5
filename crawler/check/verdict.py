"""The verdict: a pure function from gathered facts to (Verdict, reason).

A verdict is a promise. Only evidence that a page is gone gives DEAD: a 404
or 410, a host name that does not exist while DNS demonstrably works, a
redirect to the site's root or to an error page, or a soft 404. Anything
inconclusive (bot walls, rate limits, timeouts, 5xx, TLS trouble) is BLOCKED
or UNREACHABLE, never DEAD.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from crawler.check.evidence import Evidence, similarity, split_url, tokens
from crawler.lazy import LazyPattern
from crawler.model import CheckResult, Verdict

PERMANENT = frozenset({301, 308})
NXDOMAIN_DEAD = "the host name does not exist (DNS works for other names)"

# Titles sites give their "not found" pages, in the languages of the lists we
# read. A title part must be nothing but such a phrase ("Page not found |
# Brookings"), so "Missing plane not found" stays an article.
# Compiled on first use, not at every start (1.8 ms): only a 2xx page with
# a title, on a site that does not answer made-up pages with a real 404,
# is read for "not found".
_NOT_FOUND_PART_RE = LazyPattern(
    r"(?:(?:error|http|fehler|erreur|ошибка)\s*)?(?:404|410)(?:\s*error)?(?:\s*[-:–]?\s*"
    r"(?:(?:the\s+)?(?:page|file|document)\s+)?not\s+found)?"
    r"|(?:(?:error|oops|sorry)[,!:.\s-]*)?(?:(?:this|the)\s+)?(?:(?:page|file|document|article|content|resource)\s+)?"
    r"(?:(?:was|could)\s+not\s+(?:be\s+)?found|cannot\s+be\s+found|not\s+found|(?:does\s+not|doesn['’]t)\s+exist|"
    r"(?:is\s+)?no\s+longer\s+available)"
    r"|(?:seite|datei)\s+nicht\s+gefunden|page\s+(?:introuvable|non\s+trouvée)|cette\s+page\s+n['’]existe\s+pas"
    r"|страница\s+не\s+найдена|(?:ошибка\s+)?404|ページが見つかりません(?:でした)?|お探しのページは見つかりませんでした"
    r"|页面不存在|页面未找到|找不到(?:页面|网页)"
    r"|p[áa]gina\s+no\s+encontrada|pagina\s+non\s+trovata|p[áa]gina\s+n[ãa]o\s+encontrada",
    re.IGNORECASE,
)
_TITLE_SEPARATORS_RE = LazyPattern(r"\s+[|–—·:-]\s+|\s*[|–—·]\s*")


def not_found_title(title: str) -> bool:
    return any(_NOT_FOUND_PART_RE.fullmatch(part.strip(" .!:")) for part in _TITLE_SEPARATORS_RE.split(title))


# A redirect to a page named for "not found" says the page is gone (IABot's rule).
_NOT_FOUND_PAGE_RE = re.compile(
    r"(?:^|[/_.=-])(?:404|notfound|not-found|not_found|pagenotfound|page-not-found|error404|error-404)"
    r"(?:[/_.?&=-]|$)",
    re.IGNORECASE,
)
# A redirect to a generic error page does not say which error: ASP.NET's
# customErrors defaultRedirect ("/Error.aspx?aspxerrorpath=/page") and many
# "/error" pages take a failing page (a 500) where they take a missing one.
_ERROR_PAGE_RE = re.compile(r"aspxerrorpath=|/error(?:\.\w+)?/?$", re.IGNORECASE)
_LOGIN_RE = re.compile(r"(?:^|/)(?:log-?in|sign-?in|signon|sso|auth|cas/login|account/login|users?/login)"
                       r"(?:[/.?]|$)", re.IGNORECASE)
# ISO 639-1: a site's front page may sit under its language ("/en/", "/ja/",
# "/fr-ca/"), but "/ok" or "/tv" is a page like any other.
_LANGUAGES = (
    "aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv cy da de dv dz ee el "
    "en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy hz ia id ie ig ii ik io is it iu "
    "ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na "
    "nb nd ne ng nl nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm sn so "
    "sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi yo za zh zu"
).split()
# Compiled on first use (1.6 ms at every start, for 180 language codes):
# _may_be_root() turns away almost every path before it.
_ROOT_PATH_RE = LazyPattern(
    rf"/(?:(?:{'|'.join(_LANGUAGES)})(?:[-_](?:[a-z]{{2}}|[a-z]{{4}}|\d{{3}}))?/?)?"
    r"(?:(?:index|default|home|homepage|main|start)(?:\.\w+)?)?",
    re.IGNORECASE,
)
# Bot walls and challenges: the page we got is not the site's answer to a
# reader. Looked for in the lower-cased start of every body. The regex tries
# every position of the 16 KiB, which cost 160 us a page, so it runs only
# where one of the words that every marker contains occurs (a substring
# search costs 1-10 us), and challenge titles only where a <title> starts.
CHALLENGE_SCAN_BYTES = 16384
_CHALLENGE_RE = re.compile(
    rb"challenge-platform|cf-chl-|cf_chl_|/cdn-cgi/challenge|px-captcha|captcha-delivery\.com|"
    rb"_incapsula_resource|sgcaptcha"
)
_CHALLENGE_TITLE_RE = re.compile(
    rb"<title>\s*(?:just a moment|attention required|access denied|are you a robot|robot check|security check|"
    rb"checking your browser)"
)


def challenge_page(body: bytes) -> bool:
    """Whether the start of ``body`` is a bot wall or challenge page."""
    window = body[:CHALLENGE_SCAN_BYTES].lower()
    # find(), not "in": bytes.__contains__ first tries its argument as an
    # integer, and the TypeError it makes and drops cost more than the search.
    find = window.find
    if (find(b"challenge") != -1 or find(b"chl") != -1 or find(b"captcha") != -1 or find(b"incapsula") != -1) \
            and _CHALLENGE_RE.search(window):
        return True
    at = window.find(b"<title>")
    while at != -1:
        if _CHALLENGE_TITLE_RE.match(window, at):
            return True
        at = window.find(b"<title>", at + 7)
    return False


# Soft-404 comparisons need a page with real text; a JavaScript shell looks
# the same for every URL of a site and proves nothing.
MIN_TOKENS = 20
SOFT_404_SIMILARITY = 0.95


@dataclass(frozen=True)
class Probe:
    """What the site answered for a made-up sibling of the URL."""

    status: int | None
    final_url: str
    tokens: frozenset[str]
    error: str | None = None
    assumed: bool = False  # not requested: the host answered earlier probes with real 404s

    @property
    def answers_anything(self) -> bool:
        """The site returns 2xx even for a page that cannot exist."""
        return self.error is None and self.status is not None and 200 <= self.status < 300

    @property
    def hard_404(self) -> bool:
        return self.status in (404, 410)


def decide(evidence: Evidence, probe: Probe | None = None, *, dns_trusted: bool = False,
           accept: frozenset[int] = frozenset(), front: Probe | None = None) -> CheckResult:
    """``front``: what the site answered for its front page, asked only when
    the page looks like the site's answer for a made-up page (see _success())."""
    status = evidence.status
    if (not evidence.redirects and evidence.error is None and probe is not None and probe.hard_404
            and status is not None and 200 <= status < 300 and status not in accept and not _is_challenge(evidence)):
        # Most links: a page answered at once, and its site answers made-up
        # pages with a real 404, so no soft-404 test applies (see _success()).
        return CheckResult(Verdict.ALIVE, "ok", f"HTTP {status}", status, None, (), round(evidence.elapsed, 3))
    verdict, reason, detail = _decide(evidence, probe, dns_trusted, accept, front)
    # Positional: verdict, reason, detail, status, final_url, redirects, elapsed.
    return CheckResult(verdict, reason, detail, status, evidence.final_url if evidence.redirects else None,
                       tuple(evidence.redirects), round(evidence.elapsed, 3))


def _decide(e: Evidence, probe: Probe | None, dns_trusted: bool,
            accept: frozenset[int], front: Probe | None = None) -> tuple[Verdict, str, str]:
    if e.error is not None:
        return _failure(e, dns_trusted)
    status = e.status
    assert status is not None
    if status in accept:
        return Verdict.ALIVE, f"http_{status}_accepted", f"HTTP {status}, accepted by configuration"
    if _is_challenge(e):
        return Verdict.BLOCKED, "bot_challenge", f"HTTP {status} with a bot challenge"
    if status in (404, 410):
        where = f" at {e.final_url}" if e.redirects else ""
        return Verdict.DEAD, f"http_{status}", f"HTTP {status}{where}"
    if status == 429:
        return Verdict.BLOCKED, "rate_limited", "HTTP 429 Too Many Requests, still after retries"
    if status in (401, 403, 407, 451):
        return Verdict.BLOCKED, f"http_{status}", f"HTTP {status}: the site refuses to answer us"
    if 500 <= status:
        return Verdict.UNREACHABLE, f"http_{status}", f"HTTP {status}, still after retries"
    if 400 <= status:
        return Verdict.BLOCKED, f"http_{status}", f"HTTP {status}: the site refused the request"
    if 300 <= status:
        return Verdict.UNREACHABLE, f"http_{status}", f"HTTP {status} without a usable Location"
    if status < 200:
        return Verdict.UNREACHABLE, f"http_{status}", f"HTTP {status}"
    return _success(e, probe, front)


def _failure(e: Evidence, dns_trusted: bool) -> tuple[Verdict, str, str]:
    error, detail = e.error or "", e.error_detail
    if error == "dns_nxdomain":
        if dns_trusted:
            return Verdict.DEAD, error, NXDOMAIN_DEAD
        return Verdict.UNREACHABLE, error, "the host name was not found, but DNS was not seen working"
    if error in ("private_address", "malformed_url"):
        return Verdict.SKIPPED, error, detail
    return Verdict.UNREACHABLE, error, detail


def _is_challenge(e: Evidence) -> bool:
    if e.headers.get("cf-mitigated", "").lower() == "challenge":
        return True
    if "x-datadome" in e.headers and e.status in (401, 403, 405):
        return True
    return bool(e.body) and challenge_page(e.body)


_LANGUAGE_CODES = frozenset(_LANGUAGES)
_FRONT_PAGE_STARTS = ("index", "default", "home", "main", "start")


@functools.lru_cache(maxsize=4096)  # asked twice per link: is it worth a probe, and in the verdict
def is_root(url: str) -> bool:
    _, _, path, query = split_url(url)
    return not query and _may_be_root(path) and bool(_ROOT_PATH_RE.fullmatch(path))


def _may_be_root(path: str) -> bool:
    """What _ROOT_PATH_RE needs right after the first "/": nothing, a front-page
    name, or a language code followed by a separator, "/", the end or such a name.

    Checked first because the regex tries all 180 language codes in turn (2.5 us
    a path, twice per link), while almost every path fails this at once.
    """
    head = path[1:8].lower()
    if not head or head.startswith(_FRONT_PAGE_STARTS):
        return True
    return head[:2] in _LANGUAGE_CODES and (len(head) == 2 or head[2] in "/-_idhms")


def same_page(a: str, b: str) -> bool:
    """Whether a redirect from ``a`` to ``b`` only changes scheme, "www.", a trailing slash or case."""
    return _page_key(a) == _page_key(b)


def _page_key(url: str) -> tuple[str, str, str]:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower().removeprefix("www.")
    return host, parts.path.rstrip("/") or "/", parts.query


def _success(e: Evidence, probe: Probe | None, front: Probe | None = None) -> tuple[Verdict, str, str]:
    status = e.status
    redirected = bool(e.redirects) and not same_page(e.url, e.final_url)
    if redirected:
        if _LOGIN_RE.search(urlsplit(e.final_url).path) and not _LOGIN_RE.search(urlsplit(e.url).path):
            return Verdict.BLOCKED, "login_required", f"redirects to a login page ({e.final_url})"
        if is_root(e.final_url) and not is_root(e.url):
            return Verdict.DEAD, "redirect_to_root", f"redirects to the site's front page ({e.final_url})"
        target = urlsplit(e.final_url)
        where, source = target.path + ("?" + target.query if target.query else ""), urlsplit(e.url).path
        # The page's name, not its query: "/article.php?id=404" is article 404.
        if _NOT_FOUND_PAGE_RE.search(target.path) and not _NOT_FOUND_PAGE_RE.search(source):
            return Verdict.DEAD, "redirect_to_error_page", f"redirects to an error page ({e.final_url})"
        if _ERROR_PAGE_RE.search(where) and not _ERROR_PAGE_RE.search(source):
            return _generic_error_page(e, probe, front)
    soft = _soft_404(e, probe)
    if soft and front is not None and front.status is None and not _says_not_found(e):
        # The front page, asked to tell a soft 404 from a site that answers
        # everything alike, did not answer (in the link's budget, or at all):
        # the likeness alone proves nothing.
        return (Verdict.UNREACHABLE, "front_page_unanswered",
                f"the page is like the site's answer for a made-up page, and its front page did not answer "
                f"({front.error or 'no answer'}): nothing to judge by")
    if soft and front is not None and _answers_alike(e, front) and not _says_not_found(e):
        # The site gives its front page the answer it gave this page and a
        # made-up one: it answers everything alike (down for maintenance, a
        # wall), so the likeness says nothing about this page.
        return (Verdict.UNREACHABLE, "site_answers_alike",
                "the site answers every page, its front page too, with the same page: nothing to judge by")
    if soft:
        return Verdict.DEAD, "soft_404", soft
    if redirected and _permanent_move(e):
        return Verdict.MOVED, "moved_permanently", f"moved permanently to {e.final_url}"
    if redirected:
        return Verdict.ALIVE, "redirect", f"HTTP {status} after a temporary redirect to {e.final_url}"
    return Verdict.ALIVE, "ok", f"HTTP {status}"


def _generic_error_page(e: Evidence, probe: Probe | None, front: Probe | None = None) -> tuple[Verdict, str, str]:
    """A redirect to an error page that does not say which error: dead only if
    the page says "not found", or a made-up page of the site is sent there too
    and its front page is not; if the site answers made-up pages otherwise (a
    real 404), this page failed in some other way, perhaps for the night."""
    if _says_not_found(e):
        return Verdict.DEAD, "redirect_to_error_page", f"redirects to an error page that says “{e.title}” ({e.final_url})"
    if _lands_on_error_page(e, probe):
        # A failing site (its database down) sends every page there, the
        # made-up one and its front page too: the front page must be seen
        # answered otherwise (see needs_front_page()).
        if front is not None and front.status is None:
            return (Verdict.UNREACHABLE, "front_page_unanswered",
                    f"redirects to the error page where a made-up page of the site lands too ({e.final_url}), "
                    f"and its front page did not answer ({front.error or 'no answer'}): nothing to judge by")
        if front is not None and _lands_on_error_page(e, front):
            return (Verdict.UNREACHABLE, "site_answers_alike",
                    f"the site sends every page, its front page too, to its error page ({e.final_url}): "
                    "it may be failing")
        return (Verdict.DEAD, "redirect_to_error_page",
                f"redirects to the error page where a made-up page of the site lands too ({e.final_url})")
    return (Verdict.UNREACHABLE, "redirect_to_generic_error_page",
            f"redirects to an error page that does not say the page is missing ({e.final_url}): "
            "the site may be failing")


def _lands_on_error_page(e: Evidence, probe: Probe | None) -> bool:
    """Whether ``probe`` (a made-up page, the front page) was sent to the error page ``e`` went to."""
    return probe is not None and probe.answers_anything and _same_path(probe.final_url, e.final_url)


def _same_path(a: str, b: str) -> bool:
    """Whether two URLs, both given, are one page of one site but for their query."""
    return bool(a and b) and _page_key(a)[:2] == _page_key(b)[:2]


def _permanent_move(e: Evidence) -> bool:
    """A permanent hop that goes somewhere other than a trivial variant of where it came from."""
    previous = e.url
    for hop in e.redirects:
        if hop.status in PERMANENT and not same_page(previous, hop.url):
            return True
        previous = hop.url
    return False


def needs_front_page(result: CheckResult, probe: Probe | None) -> bool:
    """Whether ``result`` is a soft 404 by likeness to a made-up page, or a
    redirect to the error page a made-up page lands on, which the front page
    must not share (a "not found" title needs no such check)."""
    if probe is None or not probe.answers_anything:
        return False
    if result.reason == "redirect_to_error_page":
        return _same_path(probe.final_url, result.final_url or "")
    return result.reason == "soft_404"


def _says_not_found(e: Evidence) -> bool:
    title = e.title
    return bool(title) and not_found_title(title)


def _answers_alike(e: Evidence, front: Probe) -> bool:
    """Whether the site's front page got the same answer as the page ``e``."""
    if not front.answers_anything:
        return False
    if front.final_url == e.final_url:
        return True
    page = tokens(e.text())
    return len(page) >= MIN_TOKENS and similarity(page, front.tokens) >= SOFT_404_SIMILARITY


def _soft_404(e: Evidence, probe: Probe | None) -> str:
    """Why a 2xx page is really a "not found" page, or "" when it is not."""
    if is_root(e.url) or not e.is_html or e.method != "GET":
        return ""  # a site's front page is never a soft 404
    if probe is not None and probe.hard_404:
        return ""  # the site answers made-up pages with a real 404, so this one exists
    title = e.title
    if title and not_found_title(title):
        return f"the page says “{title}”"
    if probe is None or not probe.answers_anything:
        return ""
    if e.redirects and probe.final_url == e.final_url:
        return f"a made-up page of the same site lands on the same page ({e.final_url})"
    page = tokens(e.text())
    if len(page) >= MIN_TOKENS and similarity(page, probe.tokens) >= SOFT_404_SIMILARITY:
        return "the page is the same as the site's answer for a made-up page"
    return ""
