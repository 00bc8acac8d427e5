"""Access dates: "accessed 3 March 2021", "(дата обращения: 12.03.2021)", "consulté le 5 mars 2019"…

Only dates that an access phrase introduces count: a bare date in a reference
is usually the publication date. Numeric dates are read day first, as in the
reference lists this tool is built for; an impossible date is reported, never
repaired.
"""

from __future__ import annotations

import bisect
import calendar
import datetime as _dt
import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass

from crawler.lazy import LazyPattern
from crawler.model import AccessDate

_MONTH_NAMES: dict[int, tuple[str, ...]] = {
    1: ("january", "jan", "janvier", "janv", "januar", "jänner", "jaenner", "январь", "января",
        "янв", "enero", "ene", "janeiro", "gennaio", "gen", "leden", "ledna"),
    2: ("february", "feb", "febr", "février", "fevrier", "févr", "fevr", "fév", "fev", "februar",
        "февраль", "февраля", "фев", "февр", "febrero", "fevereiro", "febbraio", "únor", "února"),
    3: ("march", "mar", "mars", "märz", "maerz", "mär", "mrz", "март", "марта", "мар", "marzo",
        "março", "marco", "březen", "března"),
    4: ("april", "apr", "avril", "avr", "апрель", "апреля", "апр", "abril", "abr", "aprile", "duben", "dubna"),
    5: ("may", "mai", "май", "мая", "mayo", "maio", "maggio", "mag", "květen", "května"),
    6: ("june", "jun", "juin", "juni", "июнь", "июня", "июн", "junio", "junho", "giugno", "giu", "červen", "června"),
    7: ("july", "jul", "juillet", "juil", "juli", "июль", "июля", "июл", "julio", "julho",
        "luglio", "lug", "červenec", "července"),
    8: ("august", "aug", "août", "aout", "август", "августа", "авг", "agosto", "ago", "srpen", "srpna"),
    9: ("september", "sep", "sept", "septembre", "сентябрь", "сентября", "сен", "сент",
        "septiembre", "setiembre", "setembro", "set", "settembre", "září"),
    10: ("october", "oct", "octobre", "oktober", "okt", "октябрь", "октября", "окт", "octubre",
         "outubro", "out", "ottobre", "ott", "říjen", "října"),
    11: ("november", "nov", "novembre", "ноябрь", "ноября", "ноя", "нояб", "noviembre",
         "novembro", "listopad", "listopadu"),
    12: ("december", "dec", "décembre", "decembre", "déc", "dezember", "dez", "декабрь",
         "декабря", "дек", "diciembre", "dic", "dezembro", "dicembre", "prosinec", "prosince"),
}
MONTHS: dict[str, int] = {name: number for number, names in _MONTH_NAMES.items() for name in names}
_MONTH = "(?:" + "|".join(sorted(map(re.escape, MONTHS), key=len, reverse=True)) + r")(?![^\W\d_])\.?"

_DAY = r"(?P<d>\d{1,2})"
_ORD = r"(?:st|nd|rd|th|er|e|\.|º|ª|°)?"
_YEAR = r"(?P<y>\d{4})(?!\d)"

_JA_DATE = (r"(?:(?P<era>令和|平成)\s*(?P<ey>\d{1,2}|元)|(?P<y>\d{4}))\s*年\s*(?P<m>\d{1,2})\s*月"
            r"(?:\s*(?P<d>\d{1,2})\s*日)?")
_ERAS = {"令和": 2018, "平成": 1988}  # year 1 of Reiwa is 2019
# Full-width digits become ASCII one for one, so offsets stay valid.
_FULLWIDTH = str.maketrans("０１２３４５６７８９", "0123456789")

# Each pattern names its groups d, m (month as a word or a number) and y.
_DATE_FORMS = [
    # 2019-05-03, 2019/05/03
    r"(?P<y>\d{4})\s*(?P<sep>[-/.])\s*(?P<m>\d{1,2})\s*(?P=sep)\s*(?P<d>\d{1,2})(?!\d)",
    # 20.07.2020, 17. 05. 2019, 5/12/2006, 20.0.2020 (reported as impossible)
    rf"(?<!\d){_DAY}\s*(?P<sep>[./-])\s*(?P<m>\d{{1,2}})\s*(?P=sep)\s*(?P<y>\d{{4}}|\d{{2}})(?![\d])",
    # 3 March 2021, 3rd of March 2021, 4 September, 2015, 5. Mai 2019, 1er mars, 12 марта 2021 г.,
    # 5 de marzo de 2019
    rf"(?<!\d){_DAY}{_ORD}\s*(?:(?:of|de)\s+)?(?P<m>{_MONTH}),?\s*(?:(?:de|del)\s+)?{_YEAR}",
    # March 3, 2021, Mar. 3rd 2021
    rf"(?P<m>{_MONTH})\s*{_DAY}(?:st|nd|rd|th)?,?\s*{_YEAR}",
    # 2021 Mar 3 (Vancouver)
    rf"{_YEAR}\s+(?P<m>{_MONTH})\s*{_DAY}(?!\d)",
    # 03-Mar-2021 (IEEE as some tools print it)
    rf"(?<!\d){_DAY}-(?P<m>{_MONTH})-{_YEAR}",
    # February 2016, févr. 2016, marzo de 2021
    rf"(?P<m>{_MONTH}),?\s*(?:de\s+)?{_YEAR}",
    # 2016 Feb (Vancouver), 2016-02 (BibTeX urldate)
    rf"{_YEAR}\s+(?P<m>{_MONTH})",
    r"(?P<y>\d{4})-(?P<m>\d{1,2})(?![\d-])",
    # 2021年3月3日, 令和2年7月20日 (Japanese, with the imperial era), 2020年7月
    _JA_DATE,
]
# The numeric forms come first and are what most lists use: compiled now.
_FORMS: list[re.Pattern[str] | LazyPattern] = [
    re.compile(form, re.IGNORECASE) if i < 2 else LazyPattern(form, re.IGNORECASE)
    for i, form in enumerate(_DATE_FORMS)]

# The phrases that introduce an access date, including common typos.
_KEYWORD = r"""
    (?:(?:last|date|first)\s+)?a[cs]{1,4}e?s{1,3}ed(?:\s+(?:on|at))?
  | (?:date\s+(?:of\s+)?)?access(?:\s+date)?
  | (?:last\s+)?(?:viewed|visited|consulted|retrieved|downloaded|checked)(?:\s+on)?
  | cited
  | cit\.(?=\s*\d)
  | citováno(?:\s+dne)?
  | (?:page\s+)?consult[ée]e?s?(?:\s+le)?
  | date\s+de\s+consultation
  | (?:zuletzt\s+)?(?:abgerufen|aufgerufen|zugegriffen|eingesehen)(?:\s+am)?
  | (?:letzter\s+)?zugriff(?:\s+am)?
  | дата\s+(?:обращения|доступа|посещения|просмотра)
  | (?:последнее\s+)?обращени[ея]
  | (?:consultad[oa]|recuperad[oa])(?:\s+(?:el|en))?
  | fecha\s+de\s+(?:consulta|acceso)
  | accedido(?:\s+el)?
  | (?:último\s+)?acceso(?:\s+el)?
  | consultato(?:\s+il)?
  | ultimo\s+accesso
  | data\s+(?:di\s+)?(?:accesso|consultazione)
  | acess(?:o|ado)(?:\s+em)?
  | (?:最終)?(?:閲覧|アクセス|参照)(?:日時?)?
  | 引用日期|访问日期|访问时间|檢索日期|检索日期|浏览日期|訪問日期
"""
# Every alternative of _KEYWORD starts with one of these: testing them first
# spares the regex engine the alternation at every position (16 times faster).
_KEYWORD_FIRST = "acdeflpruvzúдпо最閲ア参引访檢检浏訪"
_KEYWORD_RE = re.compile(
    rf"(?=[{_KEYWORD_FIRST}])(?<![^\W\d_])(?:{_KEYWORD})(?![^\W\d_])[\s:,.\-–—：]*(?:(?:on|in|le|en|am|im|el|em|il)\s+)?",
    re.IGNORECASE | re.VERBOSE,
)

# Japanese puts the word after the date: （2021年3月3日閲覧）.
_JA_SUFFIX_RE = LazyPattern(rf"{_JA_DATE}\s*(?:に\s*)?(?:最終)?(?:閲覧|アクセス|参照|取得|確認)")

# Chinese GB/T 7714 marks online sources "[EB/OL]" (or R/OL, J/OL…) and gives
# the access date as an ISO date in square brackets: "(2017-07-20)[2021-03-03]".
_GBT_ONLINE_RE = LazyPattern(r"[\[［][A-Z]{1,2}/OL[\]］]")
_GBT_DATE_RE = LazyPattern(r"[\[［]\s*(\d{4}\s*-\s*\d{1,2}\s*-\s*\d{1,2})\s*[\]］]")

# Something that looks like it was meant as a date, used to report an
# impossible one instead of silently ignoring it.
_DATE_LIKE_RE = LazyPattern(
    r"(?<!\d)\d{1,4}\s*[./-]\s*\d{1,2}\s*[./-]\s*\d{1,4}(?!\d)"
    rf"|(?<!\d)\d{{1,2}}{_ORD}\s*(?:(?:of|de)\s+)?{_MONTH},?\s*\d{{4}}"
    rf"|{_MONTH}\s*\d{{1,2}}(?:st|nd|rd|th)?,?\s*\d{{4}}",
    re.IGNORECASE,
)


# Slotted, not frozen: a frozen dataclass sets each field through
# object.__setattr__, and every access date makes one. Never changed once made.
@dataclass(slots=True)
class DateMention:
    """An access date as found in a reference: where, what it says, and what it means."""

    start: int  # of the access phrase (keyword included)
    end: int
    text: str  # the date as written
    date: AccessDate | None  # None when impossible
    error: str | None = None


@functools.lru_cache(maxsize=1)
def _today() -> _dt.date:
    return _dt.date.today()  # once per run: asking the clock for every date showed in profiles


def looks_like_date(text: str) -> bool:
    """Whether all of ``text`` is a date (possible or not)."""
    if not any(c.isdigit() for c in text):
        return False
    return any(form.fullmatch(text) for form in _FORMS) or bool(_DATE_LIKE_RE.fullmatch(text))


# The most of a text a date can take: "3rd of September, 2015" with room for
# odd spacing. Callers pass the rest of a reference; reading (and copying,
# and translating) all of it for every access phrase made a reference of
# thousands of phrases ("обращения обращения …") take minutes.
_DATE_MAX_CHARS = 80


def parse_date(text: str, start: int = 0, *,
               today: _dt.date | None = None) -> tuple[AccessDate | None, str | None, int]:
    """Read one date at ``text[start:]``.

    Returns ``(date, error, length)``. ``length`` is 0 when nothing date-like is
    there. ``error`` explains why a date-like text is not a possible access date.
    Only the first _DATE_MAX_CHARS characters are read: a longer "date" is none.
    """
    # One character more than a date can take, so that a date's look-ahead
    # ("2021" not followed by a digit) sees what really follows it.
    text = text[start:start + _DATE_MAX_CHARS + 1]
    if not text.isascii():
        text = text.translate(_FULLWIDTH)
    for form in _FORMS:
        m = form.match(text)
        if m and m.end() <= _DATE_MAX_CHARS:
            date, error = _validate(m, today=today)
            return date, error, m.end()
    m = _DATE_LIKE_RE.match(text)
    if m and m.end() <= _DATE_MAX_CHARS:
        return None, "is not a date that exists", m.end()
    return None, None, 0


_VALIDATED: dict[tuple[object, ...], tuple[AccessDate | None, str | None]] = {}
_VALIDATED_MAX = 4096


def _validate(m: re.Match[str], *, today: _dt.date | None) -> tuple[AccessDate | None, str | None]:
    # A list gives the same few access dates again and again: each is checked
    # once. The answer depends on the match's groups and "today" only. (The
    # pattern's text, whose hash is kept, stands for the groups' names; a
    # Pattern's own hash covers its compiled code, every time.)
    key = (m.re.pattern, m.groups(), today or _today())  # the pattern's text names the groups
    known = _VALIDATED.get(key)
    if known is None:
        if len(_VALIDATED) >= _VALIDATED_MAX:
            _VALIDATED.clear()
        known = _VALIDATED[key] = _validate_groups(m.groupdict(), today)
    return known


def _validate_groups(groups: dict[str, str | None], today: _dt.date | None) -> tuple[AccessDate | None, str | None]:
    if groups.get("era"):
        year = _ERAS[groups["era"]] + (1 if groups["ey"] == "元" else int(groups["ey"]))
    else:
        year = int(groups["y"])
        if len(groups["y"]) == 2:
            year += 2000 if year < 70 else 1900
    month_text = groups["m"]
    numeric_month = month_text.isdigit()
    month = int(month_text) if numeric_month else MONTHS[month_text.lower().rstrip(".")]
    day = int(groups["d"]) if groups.get("d") else None
    if numeric_month and not 1 <= month <= 12 and groups.get("sep") == "/" and day and 1 <= day <= 12:
        # 07/20/2020 can only be month first; "/" is the US separator. A "." date
        # stays day first, so 20.0.2020 is reported, not reinterpreted.
        month, day = day, month
    if not 1 <= month <= 12:
        return None, f"month {month} does not exist"
    if day is not None and not 1 <= day <= calendar.monthrange(year, month)[1]:
        return None, f"day {day} does not exist in {calendar.month_name[month]} {year}"
    if year < 1989:
        return None, f"year {year} is before the web existed"
    today = today or _today()
    date = AccessDate(year, month, day)
    # A day of slack for time zones: the author may be ahead of us.
    if date.as_date() > today + _dt.timedelta(days=1):
        return None, "is in the future"
    return date, None


# Cheap substring tests that rule out most text before the keyword regex runs;
# every alternative of _KEYWORD contains one of them.
_KEYWORD_STEMS = ("ssed", "esed", "csed", "acces", "acess", "viewed", "visited", "consult", "retrieved",
                  "downloaded", "checked", "cited", "abgerufen", "aufgerufen", "zugegriffen", "eingesehen",
                  "zugriff", "дата", "обращени", "fecha", "accedido", "data", "recuperad", "閲覧", "アクセス", "参照",
                  "日期", "时间", "/ol", "cit.", "citováno")




def _trie(words: Iterable[str]) -> str:
    """A pattern that matches exactly ``words``, with one branch per first character at each step."""
    branches: dict[str, list[str]] = {}
    ends = False
    for word in words:
        if word:
            branches.setdefault(word[0], []).append(word[1:])
        else:
            ends = True
    if not branches:
        return ""
    alternatives = [re.escape(c) + _trie(rest) for c, rest in sorted(branches.items())]
    if len(alternatives) == 1 and not ends:
        return alternatives[0]
    return "(?:" + "|".join(alternatives) + ")" + ("?" if ends else "")


# One search for all of them, two to three times as fast as a find() for
# each on real lines; only its position is used, the leftmost of any stem.
_KEYWORD_STEMS_RE = re.compile(_trie(_KEYWORD_STEMS))


_SOFT_BREAK_RE = re.compile(r"(?<=[^\W\d_])-\n[ \t]*(?=[^\W\d_])")


def find_access_dates(text: str, *, today: _dt.date | None = None) -> list[DateMention]:
    """Every access phrase in ``text`` that is followed by a date, valid or not.

    A word hyphenated at a line end ("Retrieved Febru-\nary 1, 2021") is read
    joined; the positions returned are those of ``text``.
    """
    if "-\n" not in text:
        return _find_access_dates(text, today)
    joined, removed = _join_broken_words(text)

    def back(pos: int) -> int:  # a position in ``joined`` → the same character in ``text``
        i = bisect.bisect_right([at for at, _ in removed], pos) - 1
        return pos + (removed[i][1] if i >= 0 else 0)

    return [DateMention(back(m.start), back(m.end - 1) + 1, m.text, m.date, m.error)
            for m in _find_access_dates(joined, today)]


def _join_broken_words(text: str) -> tuple[str, list[tuple[int, int]]]:
    """``text`` with hyphenated line breaks inside words removed, and where they were.

    Each (position in the joined text, characters removed before it) marks a seam.
    """
    pieces, removed, done, total = [], [], 0, 0
    for m in _SOFT_BREAK_RE.finditer(text):
        pieces.append(text[done:m.start()])
        total += m.end() - m.start()
        removed.append((m.start() - (total - (m.end() - m.start())), total))
        done = m.end()
    pieces.append(text[done:])
    return "".join(pieces), removed


def _find_access_dates(text: str, today: _dt.date | None) -> list[DateMention]:
    lowered = text.lower()
    stem = _KEYWORD_STEMS_RE.search(lowered)  # the leftmost: where the first of them is
    if stem is None:
        return []
    first = stem.start()
    if not text.isascii():
        text = text.translate(_FULLWIDTH)
    # Start a little before the first stem: a phrase begins at most a few words
    # earlier ("date of access", "zuletzt abgerufen").
    begin = max(0, first - 24)
    mentions = [DateMention(begin + start, begin + end, written, date, error)
                for start, end, written, date, error in _keyword_dates(text, begin, today)]
    if "/OL" in text and _GBT_ONLINE_RE.search(text):  # the pattern needs "/OL"
        for m in _GBT_DATE_RE.finditer(text):
            date, error, length = parse_date(m.group(1), today=today)
            if length and not any(x.start <= m.start() < x.end for x in mentions):
                mentions.append(DateMention(m.start(), m.end(), m.group(1), date, error))
        mentions.sort(key=lambda mention: mention.start)
    if "年" in text:
        for m in _JA_SUFFIX_RE.finditer(text):
            date, error = _validate(m, today=today)
            date_end = m.start() + len(m.group().rstrip("閲覧アクセス参照取得確認最終に \t"))
            mentions.append(DateMention(m.start(), m.end(), text[m.start():date_end], date, error))
        mentions.sort(key=lambda mention: mention.start)
    return mentions


# The phrases and dates read from a tail of text, by the tail: the access
# phrase mostly comes after the URL, which is masked, and a list gives the
# same few dates again and again, so "\0\0\0 (accessed 10.06.2023)" is read
# once per list, not once per reference. Short tails only, a bounded number.
_TAILS: dict[tuple[str, bool, _dt.date], tuple[tuple[int, int, str, AccessDate | None, str | None], ...]] = {}
_TAILS_MAX = 4096
_TAIL_MAX_CHARS = 200
_READ_TAILS = True  # tests turn it off to compare


def _keyword_dates(text: str, begin: int, today: _dt.date | None) -> tuple[tuple[int, int, str, AccessDate | None,
                                                                              str | None], ...]:
    """The access phrases with a date from ``begin`` on, as (start, end, date as written, date, error),
    positions counted from ``begin``.

    What is read depends on ``text[begin:]``, on the one character before it
    (the phrase's look-behind) and on "today" only: that is the key.
    """
    if not _READ_TAILS or len(text) - begin > _TAIL_MAX_CHARS:
        return _read_keyword_dates(text, begin, today)
    key = (text[begin - 1:] if begin else text, begin > 0, today or _today())
    known = _TAILS.get(key)
    if known is None:
        if len(_TAILS) >= _TAILS_MAX:
            _TAILS.clear()
        known = _TAILS[key] = _read_keyword_dates(text, begin, today)
    return known


def _read_keyword_dates(text: str, begin: int, today: _dt.date | None) -> tuple[tuple[int, int, str,
                                                                                   AccessDate | None, str | None], ...]:
    found = []
    for m in _KEYWORD_RE.finditer(text, begin):
        date, error, length = parse_date(text, m.end(), today=today)
        if length:
            end = m.end() + length
            found.append((m.start() - begin, end - begin, text[m.end():end], date, error))
    return tuple(found)


# The first three letters of every ASCII opening of _KEYWORD ("las" of "last
# accessed", "acs" of "acsessed"; every word before a space has more). An
# ASCII text that opens otherwise opens with no access phrase: no letter of
# the pattern outside ASCII matches an ASCII one, ignoring case or not.
# Trying the twenty alternatives at the start of every line of a list cost a
# third of splitting it.
_ASCII_OPENINGS = frozenset("abg acc ace acs ase asc ass auf che cit con dat dow ein fec fir las let pag rec ret "
                            "ult vie vis zug zul".split())


def starts_with_access_date(text: str) -> bool:
    """Whether ``text`` opens with an access phrase and a date: "(accessed 3 March 2021)"."""
    if text.isascii() and text[:3].lower() not in _ASCII_OPENINGS:
        return False
    m = _KEYWORD_RE.match(text)
    return bool(m and parse_date(text, m.end())[2])


def date_after(text: str, pos: int, *, today: _dt.date | None = None) -> DateMention | None:
    """A date right after ``pos`` ("Available at: URL, 5 February 2016")."""
    gap = re.compile(r"[\s,;:(\[–—-]*").match(text, pos)
    assert gap is not None
    start = gap.end()
    date, error, length = parse_date(text, start, today=today)
    if not length:
        return None
    return DateMention(pos, start + length, text[start:start + length], date, error)
