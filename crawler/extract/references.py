"""Reading one reference entry: the URLs it cites, their access dates, and what is wrong with it."""

from __future__ import annotations

import bisect
import datetime as _dt
import re
from dataclasses import dataclass

from crawler.extract.dates import DateMention, date_after, find_access_dates
from crawler.extract.split import Entry
from crawler.extract.urls import (
    LABEL_RE,
    Found,
    Kind,
    UrlError,
    clean_text,
    find_bare_hosts,
    find_labels,
    find_urls,
    known_prefix,
    normalise,
    shorten,
)
from crawler.model import Citation, Problem, ProblemKind, Reference, _Picklable, quick_init


@quick_init
@dataclass(frozen=True, slots=True)
class ReadReference(_Picklable):
    """What one entry yields: its citations and its problems."""

    reference: Reference
    citations: tuple[Citation, ...]
    problems: tuple[Problem, ...]


def display_text(text: str) -> str:
    return " ".join(text.split())


def read_entry(entry: Entry, *, today: _dt.date | None = None) -> ReadReference:
    text = clean_text(entry.text)
    reference = Reference(entry.source, entry.line, display_text(text), entry.number)
    scan = text if entry.scan is entry.text else clean_text(entry.scan)
    label_matches = find_labels(scan)
    labels = [m.end() for m in label_matches] if label_matches else []
    found = find_urls(scan, labels)
    masked = _mask(scan, found) if found else scan
    mentions = find_access_dates(masked, today=today)
    if (labels or mentions) and not found:
        # A host cited alone is the source only when nothing else is: "Medium.com.
        # Retrieved …, from https://medium.com/@ev/…" names the site of its URL.
        hosts = find_bare_hosts(scan, labels, [m.start for m in mentions], found)
        if hosts:
            found = sorted(found + hosts, key=lambda item: item.start)
            masked = _mask(scan, found)
    if labels:
        label_ends = set(labels)
        covered = {i for m in mentions for i in range(m.start, m.end)}
        for item in found:
            # "Available at: URL, 5 February 2016": a date right after a labelled URL.
            if any(item.start - gap in label_ends for gap in range(4)):
                after = date_after(masked, item.end, today=today)
                if after is not None and after.start not in covered:
                    mentions.append(after)
    if len(mentions) > 1:
        mentions.sort(key=lambda m: m.start)
    starts = [m.start for m in mentions] if mentions else []

    problems: list[Problem] = []
    citations: list[Citation] = []
    seen: set[str] = set()
    for index, item in enumerate(found):
        if item.truncated:
            problems.append(Problem(ProblemKind.TRUNCATED_URL, reference,
                                    f"“{shorten(item.text)}” is cut short with an ellipsis",
                                    known_prefix(item.text, item.kind)))
            continue
        try:
            normalised = normalise(item.url_text, item.kind)
        except UrlError as exc:
            problems.append(Problem(ProblemKind(exc.kind), reference, exc.detail))
            continue
        if normalised.url in seen:
            continue
        seen.add(normalised.url)
        mention = _mention_for(masked, found, index, mentions, starts)
        alternatives = tuple(
            alt for alt in (_safe_normalise(a, item.kind) for a in item.alternatives) if alt and alt != normalised.url
        ) if item.alternatives else ()
        # Positional: reference, url, cited_as, accessed, known_snapshot, alternatives, uncertain.
        citations.append(Citation(reference, normalised.url, item.text, mention.date if mention else None,
                                  normalised.known_snapshot, alternatives, item.uncertain))
    for mention in mentions:
        if mention.error:
            problems.append(Problem(ProblemKind.BAD_ACCESS_DATE, reference,
                                    f"access date “{mention.text.strip()}” {mention.error}"))
    if not found and (labels or mentions):
        problems.append(Problem(ProblemKind.MISSING_URL, reference, _missing_detail(masked, labels, mentions)))
    if len(problems) > 1:
        problems.sort(key=lambda p: 0 if p.kind is not ProblemKind.BAD_ACCESS_DATE else 1)
    return ReadReference(reference, tuple(citations), tuple(problems))


def _missing_detail(text: str, labels: list[int], mentions: list[DateMention]) -> str:
    if labels:
        label = LABEL_RE.search(text)
        assert label is not None
        return f"says “{display_text(label.group()).rstrip(' :')}” but gives no URL"
    return f"gives an access date (“{display_text(text[mentions[0].start:mentions[0].end])}”) but no URL"


def _safe_normalise(text: str, kind: Kind = Kind.URL) -> str | None:
    try:
        return normalise(text, kind).url
    except UrlError:
        return None


_SPACE_RE = re.compile(r"\s")


def _mask(text: str, found: list[Found]) -> str:
    """``text`` with URLs blanked out, so dates inside URLs are not read as access dates."""
    pieces = []
    done = 0
    for item in found:
        span = text[item.start:item.end]
        pieces.append(text[done:item.start])
        pieces.append("\x00" * len(span) if not _SPACE_RE.search(span) else re.sub(r"\S", "\x00", span))
        done = item.end
    pieces.append(text[done:])
    return "".join(pieces)


def _mention_for(text: str, found: list[Found], index: int, mentions: list[DateMention],
                 starts: list[int]) -> DateMention | None:
    """The access date that belongs to the ``index``-th URL of a reference.

    Chicago puts it right before the URL ("accessed March 3, 2021, URL");
    most styles right after ("URL (accessed …)"), before the next URL; a
    reference with one date and several URLs gives it to all of them.
    ``starts`` are the mentions' starts, in order, for bisection: a pasted
    page with thousands of URLs and dates must not cost their product.
    """
    if not mentions:
        return None
    item = found[index]
    next_start = found[index + 1].start if index + 1 < len(found) else len(text)
    previous_end = found[index - 1].end if index else 0
    # The last mention starting before the URL, if it also ends before it.
    i = bisect.bisect_left(starts, item.start) - 1
    before = mentions[i] if i >= 0 and previous_end <= mentions[i].start and mentions[i].end <= item.start else None
    if before is not None and _only_glue(text[before.end:item.start]):
        return before
    j = bisect.bisect_left(starts, item.end)
    if j < len(mentions) and mentions[j].start < next_start:
        return mentions[j]
    if before is not None:
        return before
    return mentions[0] if len(mentions) == 1 else None


_GLUE_RE = re.compile(r"[\s,.;:()\[\]<>–—-]*")


def _only_glue(between: str) -> bool:
    """Nothing but punctuation and labels ("[Online]. Available:") between a date and a URL."""
    return bool(_GLUE_RE.fullmatch(LABEL_RE.sub(" ", between)))
