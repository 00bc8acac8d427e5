"""The Markdown report for a fixed nightly run, compared with a golden file.

Regenerate after a deliberate change with CRAWLER_UPDATE_GOLDEN=1, and read
the diff: it is what reviewers will see.
"""

from __future__ import annotations

import datetime as _dt
import io
import os
from pathlib import Path

from crawler.model import (
    AccessDate,
    ArchiveResult,
    ArchiveStatus,
    CheckResult,
    Citation,
    History,
    Link,
    Problem,
    ProblemKind,
    Redirect,
    Reference,
    Verdict,
)
from crawler.report import Changes, Confirmation, Report, write_report
from reports import cells, table_rows

GOLDEN = Path(__file__).parent / "fixtures" / "report.golden.md"
DAY = _dt.datetime(2026, 12, 1, 3, 0, tzinfo=_dt.timezone.utc)
SOURCE = "config/references/dialogue.txt"
HOSTILE = "Evil, A. (2020). Title | [x](javascript:alert(1)) <b>bold</b> `code`. Journal of Attacks."


def ref(line: int, number: int, text: str) -> Reference:
    return Reference(SOURCE, line, text, number)


def link(reference: Reference, url: str, accessed: AccessDate | None = None) -> Link:
    return Link.from_citation(Citation(reference, url, url.removeprefix("http://"), accessed))


def days_ago(n: int) -> _dt.datetime:
    return DAY - _dt.timedelta(days=n)


def nightly_report() -> Report:
    r1 = ref(9, 1, "Hashimoto, R. (1997). Address by Prime Minister Ryutaro Hashimoto to the Japan Association of "
                   "Corporate Executives. Available at: www.kantei.go.jp/foreign/0731douyukai.html (accessed: 20.07.2020)")
    r2 = ref(11, 2, "CACO. (2004). Central Asian Cooperation Organization. centrasia.org/cnt2.php?st=1083320274 "
                    "(accessed 10.06.2023)")
    r3 = ref(12, 3, HOSTILE + " http://evil.example.org/page.html")
    r4 = ref(22, 4, "Malashenko, A. (2006). China in Central Asia. Nezavisimaya Gazeta. "
                    "http://www.ng.ru/courier/2006-01-16/9_china.html (assessed 10.06.2023)")
    r5 = ref(27, 5, "MOFA. (2015). Speech by Prime Minister Abe in Kazakhstan. "
                    "http://www.mofa.go.jp/mofaj/erp/ca_c/kz/page1_000148.html")
    r6 = ref(20, 6, "Hiro, D. (2019). The SCO and Japan. Brookings. https://www.brookings.edu/articles/sco-japan/")
    r7 = ref(35, 7, "Yuasa, T. (2007). Japan's Multilateral Approach. http://src-h.slav.hokudai.ac.jp/04_yuasa.pdf")
    r8 = ref(14, 8, "Foreign Ministers' Meeting. php?option=com_content&view=category&id=31&Itemid=29")
    r9 = ref(40, 9, "Ito, K. (2018). Annual report. https://www.osce.org/files/annual-")
    kantei = link(r1, "http://www.kantei.go.jp/foreign/0731douyukai.html", AccessDate(2020, 7, 20))
    centrasia = link(r2, "https://centrasia.org/cnt2.php?st=1083320274", AccessDate(2023, 6, 10))
    evil = link(r3, "http://evil.example.org/page.html")
    ng = link(r4, "http://www.ng.ru/courier/2006-01-16/9_china.html", AccessDate(2023, 6, 10))
    mofa = link(r5, "http://www.mofa.go.jp/mofaj/erp/ca_c/kz/page1_000148.html")
    brookings = link(r6, "https://www.brookings.edu/articles/sco-japan/", AccessDate(2020, 5, 10))
    hokudai = link(r7, "http://src-h.slav.hokudai.ac.jp/04_yuasa.pdf", AccessDate(2020, 7, 10))
    osce = link(r9, "https://www.osce.org/files/annual-")
    links = [kantei, centrasia, evil, ng, mofa, brookings, hokudai, osce]
    results = {
        kantei.url: CheckResult(Verdict.DEAD, "redirect_to_root", "redirects to the site's front page", 200,
                                "https://www.kantei.go.jp/", (Redirect(301, "https://www.kantei.go.jp/"),)),
        centrasia.url: CheckResult(Verdict.ALIVE, "ok", "HTTP 200", 200),
        evil.url: CheckResult(Verdict.DEAD, "http_404", "HTTP 404 | <b>x</b>", 404),
        ng.url: CheckResult(Verdict.DEAD, "http_404", "HTTP 404", 404),
        mofa.url: CheckResult(Verdict.MOVED, "moved_permanently", "moved", 200,
                              "https://www.mofa.go.jp/mofaj/area/kazakhstan/page1_000148.html",
                              (Redirect(301, "https://www.mofa.go.jp/mofaj/erp/ca_c/kz/page1_000148.html"),
                               Redirect(301, "https://www.mofa.go.jp/mofaj/area/kazakhstan/page1_000148.html"))),
        brookings.url: CheckResult(Verdict.BLOCKED, "bot_challenge", "HTTP 403 with a bot challenge", 403),
        hokudai.url: CheckResult(Verdict.UNREACHABLE, "timeout", "no answer within 20 s"),
        osce.url: CheckResult(Verdict.TRUNCATED, "possibly_cut", "every reading failed", 404),
    }
    archives = {
        kantei.url: ArchiveResult(ArchiveStatus.FOUND, "wayback",
                                  "https://web.archive.org/web/20200719000000/http://www.kantei.go.jp/foreign/0731douyukai.html",
                                  "20200719000000", "before_access"),
        evil.url: ArchiveResult(ArchiveStatus.NONE, "wayback", detail="no capture with status 200"),
        ng.url: ArchiveResult(ArchiveStatus.FOUND, "archive.today", "https://archive.today/20230601/http://www.ng.ru/x",
                              "20230601120000", "before_access"),
        brookings.url: ArchiveResult(ArchiveStatus.ERROR, "wayback", detail="HTTP 429 from the CDX API"),
        hokudai.url: ArchiveResult(ArchiveStatus.FOUND, "wayback",
                                   "https://web.archive.org/web/20190101000000/http://src-h.slav.hokudai.ac.jp/04_yuasa.pdf",
                                   "20190101000000", "before_access"),
        osce.url: ArchiveResult(ArchiveStatus.NONE, "wayback"),
    }
    histories = {
        kantei.url: History(checks=9, consecutive_failures=4, first_failed=days_ago(9), last_alive=days_ago(12),
                            last_checked=DAY, confirmed=True),
        centrasia.url: History(checks=9, last_alive=DAY, last_checked=DAY),
        evil.url: History(checks=2, consecutive_failures=1, first_failed=DAY, last_alive=days_ago(1),
                          last_checked=DAY),
        ng.url: History(checks=5, consecutive_failures=3, first_failed=days_ago(6), last_alive=days_ago(7),
                        last_checked=DAY, confirmed=True),
        mofa.url: History(checks=9, last_alive=DAY, last_checked=DAY),
        brookings.url: History(checks=9, last_alive=days_ago(30), last_checked=DAY),
        hokudai.url: History(checks=3, last_checked=DAY),
        osce.url: History(checks=1, last_checked=DAY),
    }
    problems = [Problem(ProblemKind.TRUNCATED_URL, r8, "“php?option=com_content&…&Itemid=29” is part of a URL: "
                                                       "it has no host")]
    return Report(links=links, problems=problems, references=[r1, r2, r3, r4, r5, r6, r7, r8, r9], command="run",
                  started=DAY, finished=DAY + _dt.timedelta(seconds=42), network="up", results=results,
                  archives=archives, histories=histories, confirmation=Confirmation(3, 3.0),
                  changes=Changes(previous=days_ago(1), newly_dead=frozenset({ng.url}),
                                  recovered=frozenset({centrasia.url}),
                                  previous_counts={"alive": 1, "moved": 1, "dead": 1, "failing": 2, "unverified": 2,
                                                   "truncated": 1}))


def render() -> str:
    out = io.StringIO()
    write_report(nightly_report(), "markdown", out)
    return out.getvalue()


def test_markdown_report_matches_the_golden_file():
    text = render()
    if os.environ.get("CRAWLER_UPDATE_GOLDEN"):
        GOLDEN.write_text(text, encoding="utf-8")
    assert text == GOLDEN.read_text(encoding="utf-8")


def test_hostile_reference_text_is_literal_and_its_row_lines_up():
    text = render()
    rows = [(header, row) for header, row in table_rows(text) if "evil.example.org" in row]
    assert rows
    for header, row in rows:
        assert cells(row) == cells(header), row
        assert "<b>" not in row and "](javascript" not in row.replace("\\](javascript", "")
    # The reference is recognisable (author, year, title), its text literal.
    assert "Evil (2020). Title \\| \\[x\\](javascript:alert(1)) &lt;b&gt;bold&lt;/b&gt; \\`code\\`" in text


def test_every_table_row_has_its_headers_columns():
    for header, row in table_rows(render()):
        assert cells(row) == cells(header), row
