"""A reference shortened to what a reader recognises it by: author, year, title.

A report row names the reference that cites a link; the whole text (often
with the URL and an access phrase in it again) is too long for a table. The
styles differ in order and punctuation (APA puts the year after the author,
IEEE the title in quotes, GOST the title after the initials, Japanese and
Chinese lists the title in 「」 or before a [J]/[EB/OL] marker), so this reads
the common shapes and leaves out what it cannot tell rather than guessing.

A pure function of its text: it never raises and looks at a bounded prefix,
so it costs the same on any input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# No reference needs more than this to show its author, year and title.
_PREFIX = 1200
_TITLE_LIMIT = 110


@dataclass(frozen=True, slots=True)
class Description:
    author: str | None
    year: str | None
    title: str | None

    @property
    def short(self) -> str:
        """"Hashimoto (1997). Address to the Japan Association of Corporate Executives"."""
        title = _cut(self.title) if self.title else None
        if self.author and self.year:
            head = f"{self.author} ({self.year})"
            return f"{head}. {title}" if title else head
        if self.author:
            return f"{self.author}. {title}" if title else self.author
        if title:
            return f"{title} ({self.year})" if self.year else title
        return self.year or ""


_MARKER_RE = re.compile(r"^\s*(?:\[\d+\]|\(\d+\)|\d+[.)](?=\s)|\d{1,4}\s(?=[A-Z])|[¹²³⁴-⁹⁰]+|\^|[-–—•*]\s)\s*")
_URL_RE = re.compile(r"(?i)(?:https?\s?:\s?//|www\d{0,3}\.|doi\s*:\s*|\b10\.\d{4,9}/)\S*")
_NOISE_RE = re.compile(
    r"(?i)\(?\b(?:last\s+)?(?:accessed|retrieved|viewed|consulted|cited|abgerufen|consulté|consultado|"
    r"recuperado|дата\s+обращения)\b[^()\[\]]{0,40}?(?:\d{4}|$)\)?"
    r"|\[(?:online|en\s+ligne|internet|электронный\s+ресурс|(?-i:[A-Z]{1,2})(?:/OL)?|cit\.[^\]]*)\]"  # GB/T [J], [EB/OL]
    r"|\b(?:available\s+(?:at|from|online)|retrieved\s+from|url|режим\s+доступа|dostupné\s+z|disponible\s+en)\s*:?"
    r"|(?:[（(][^）)]{0,30}(?:閲覧|アクセス)[^）)]{0,10}[）)])"
)
_YEAR_RE = re.compile(r"(?<![\d/.-])(1[5-9]\d\d|20\d\d)(?:[a-z]|年)?(?![\d/-])")
_APA_RE = re.compile(r"^(?P<author>[^()]{2,200}?)\s*\((?P<year>1[5-9]\d\d|20\d\d)[a-z]?(?:,[^)]{0,30})?\)\s*[.,]?\s*")
_QUOTED_RE = re.compile(r"[“\"«„‚]\s*(?P<q>[^“”\"«»„]{3,300}?)\s*[”\"»“]|「(?P<ja>[^」]{2,200})」|『(?P<jb>[^』]{2,200})』|《(?P<zh>[^》]{2,200})》")
_CJK_RE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")
# "Green, M." "Dobrinskaya O." "Лаумулин М. Т." "NOVÁK, Jan." "Smith J, Brown K." "A. Kumar and B. Singh"
_UPPER = "A-ZÀ-ÖØ-ÞĀ-ŽА-ЯЁ"
_NAME = rf"[{_UPPER}][\w'’-]+"
_INITIALS = rf"(?:[{_UPPER}]\.\s?-?){{1,3}}"
_AFTER_NAME = r"(?=\s*[,;&.(]|\s+(?:and|und|et|и|y)\b|\s*$)"
# "Green, M." "Лаумулин М. Т." "Smith J," "Aso, Taro." "A. Kumar and"
_SURNAME_FIRST = (rf"(?P<s1>{_NAME}(?:[ -]{_NAME})?)(?:,?\s+{_INITIALS}|\s+[{_UPPER}]{{1,3}}(?=[,.]|\s*\(|\s*$)"
                  rf"|,\s+[{_UPPER}][a-zà-ÿа-яё]+(?:[ -][{_UPPER}][a-zà-ÿа-яё]+)?(?:\s+{_INITIALS})?{_AFTER_NAME})")
_INITIALS_FIRST = rf"{_INITIALS}\s?(?P<s2>{_NAME}){_AFTER_NAME}"
_PERSON_RE = re.compile(rf"(?:{_SURNAME_FIRST}|{_INITIALS_FIRST})")
# After "and", Chicago and MLA name the next author first name first: "…, and Roy Rosenzweig."
_NEXT_PERSON_RE = re.compile(rf"(?:[{_UPPER}][a-zà-ÿа-яё]+\.?\s+(?:{_INITIALS}\s?)?)+(?P<s3>{_NAME}){_AFTER_NAME}")
_ORGANISATION_RE = re.compile(
    r"(?i)\b(?:ministry|ministerio|ministère|ministerstvo|министерство|institution|institute|instituto|institut|"
    r"organi[sz]ation|organización|bank|banco|office|agency|university|universidad|université|association|"
    r"foundation|council|commission|comisión|department|government|gobierno|centre|center|centro|administration|"
    r"service|programme|program|fund|union|nations|library|archive|museum|society|committee|bureau|authority|"
    r"parliament|court|partnership|úřad|forum|endowment|amt|bundesregierung|президент|правительство)\b")
_JOIN_RE = re.compile(r"\s*(?:,\s*(?:&|and\b|und\b|et\b|и\b|y\b)?|;|&|\band\b|\bund\b|\bet\b|\bи\b|\by\b)\s*")
_ET_AL_RE = re.compile(r"^\s*,?\s*(?:et\s+al\.?|и\s+др\.?)")
_SENTENCE_END_RE = re.compile(r"[.?!](?=\s|$)|\s//\s|\s[–—]\s|\[[A-Z]{1,2}(?:/OL)?\]")
_ABBREVIATIONS = frozenset("pp vol vols no nos ed eds trans st dr mr mrs ms vs nr č s p t et al u.s e.g i.e".split())
_WORD_BEFORE_RE = re.compile(r"([\w.]+)$")


def describe(text: str) -> Description:
    """Author(s), year and title of a reference, each None when it cannot be told."""
    try:
        return _describe(text[:_PREFIX])
    except Exception:  # noqa: BLE001 - a description is a courtesy; a reference without one is still reported
        return Description(None, None, None)


def _describe(text: str) -> Description:
    text = _clean(text)
    if not text:
        return Description(None, None, None)
    year_m = _YEAR_RE.search(text)
    year = year_m.group(1) if year_m else None

    apa = _APA_RE.match(text)
    if apa and not _QUOTED_RE.match(text):
        author = _authors(apa.group("author")) or _organisation(apa.group("author"))
        return Description(author, apa.group("year"), _sentence(text[apa.end():]))

    quoted = _QUOTED_RE.search(text)
    if quoted:
        title = _strip(next(g for g in quoted.groups() if g))
        before = text[:quoted.start()].strip(" .,:;–—-")
        author = _authors(before) or (_organisation(before) if before and len(before) <= 120 else None)
        return Description(author, year, title)

    person = _PERSON_RE.match(text)
    if person:
        author, end = _author_block(text)
        title = _sentence(text[end:].lstrip(" .,:;"))
        return Description(author, year, title)

    # No author at the head: the first sentence is the title ("Address by Prime
    # Minister Ryutaro Hashimoto to …. 24 July 1997."), or an organisation
    # followed by its title (Chinese GB/T: "国家统计局. 中国统计年鉴2020[EB/OL].").
    first = _sentence(text)
    if first and (first.isupper() or _ORGANISATION_RE.search(first)) and len(first.split()) <= 12:
        # "MINISTERSTVO ŽIVOTNÍHO PROSTŘEDÍ. Plánování v oblasti vod", "Brookings
        # Institution. The Shanghai…": an organisation (in capitals, or named so), then the title
        rest = text[len(first):].lstrip(" .,:;").strip()
        if rest:
            return Description(first.title() if first.isupper() else first, year, _sentence(rest))
    if first and _CJK_RE.search(text):
        rest = text[len(first):].lstrip(" .,:;").strip()
        if len(first) <= 30 and rest:
            return Description(first, year, _sentence(rest))
    return Description(None, year, first)


def _clean(text: str) -> str:
    text = " ".join(text.split())
    text = _MARKER_RE.sub("", text, count=1)
    text = _URL_RE.sub(" ", text)
    text = _NOISE_RE.sub(" ", text)
    return " ".join(text.split()).strip(" -–—")


def _author_block(text: str) -> tuple[str | None, int]:
    """The authors at the head of ``text`` in short form, and where they end."""
    surnames: list[str] = []
    pos = 0
    more = False
    for _ in range(12):
        m = _PERSON_RE.match(text, pos)
        if not m:
            break
        surnames.append(m.group("s1") or m.group("s2"))
        pos = m.end()
        et_al = _ET_AL_RE.match(text, pos)
        if et_al:
            more = True
            pos = et_al.end()
            break
        join = _JOIN_RE.match(text, pos)
        if not join or not join.group().strip():
            break
        if not _PERSON_RE.match(text, join.end()):
            following = _NEXT_PERSON_RE.match(text, join.end()) if re.search(r"and|&|und|et|и|y", join.group()) else None
            if following:
                surnames.append(following.group("s3"))
                pos = following.end()
            break
        pos = join.end()
    if not surnames:
        return None, 0
    return _short_authors(surnames, more), pos


def _short_authors(surnames: list[str], more: bool = False) -> str:
    names = [_title_case(s) for s in surnames]
    if more or len(names) > 2:
        return f"{names[0]} et al."
    return " and ".join(names)


def _title_case(name: str) -> str:
    """"NOVÁK" (Czech and French lists set surnames in capitals) → "Novák"."""
    return name.title() if name.isupper() and len(name) > 1 else name


def _authors(block: str) -> str | None:
    block = block.strip(" ,:;")
    if not block:
        return None
    author, end = _author_block(block)
    return author if author and end >= len(block.rstrip(" .,")) - 1 else None


def _organisation(block: str) -> str | None:
    block = block.strip(" .,:;")
    if not block or len(block) > 120 or _YEAR_RE.fullmatch(block):
        return None
    return block


def _sentence(text: str) -> str | None:
    """The first sentence of ``text``: a title ends at a full stop, " // ", or a [J]/[EB/OL] marker."""
    text = text.strip()
    if not text:
        return None
    end = len(text)
    for m in _SENTENCE_END_RE.finditer(text):
        if m.group() == ".":
            word = _WORD_BEFORE_RE.search(text, 0, m.start())
            before = word.group(1) if word else ""
            if len(before) == 1 and before.isupper() or before.lower() in _ABBREVIATIONS:
                continue  # "M. Green", "pp. 12": not the end of a sentence
        end = m.start()
        break
    title = text[:end]
    return _strip(title) or None


def _strip(title: str) -> str:
    return title.strip(" .,:;–—-“”\"'«»")


def _cut(title: str) -> str:
    if len(title) <= _TITLE_LIMIT:
        return title
    cut = title.rfind(" ", 0, _TITLE_LIMIT)
    return title[:cut if cut > _TITLE_LIMIT // 2 else _TITLE_LIMIT].rstrip(" ,;:") + "…"
