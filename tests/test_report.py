"""Reports: the JSON contract (crawler.report/2), and text from outside that cannot break either format."""

from __future__ import annotations

import datetime as _dt
import io
import json
import re

from crawler.model import (
    AccessDate,
    ArchiveResult,
    ArchiveStatus,
    CheckResult,
    Citation,
    Link,
    Problem,
    ProblemKind,
    Redirect,
    Reference,
    Snapshot,
    Verdict,
)
from crawler.report import Report, write_report
from crawler.report.markdown import destination, escape
from reports import cells, table_rows

HOSTILE = Reference("evil|list.txt", 3, "<script>alert(1)</script> | *bold* [x](javascript:alert(1)) `code`")
WHEN = _dt.datetime(2026, 11, 22, 12, 0, tzinfo=_dt.timezone.utc)


def sample_report(**changes) -> Report:
    citation = Citation(HOSTILE, "https://www.un.org/en/", "https://www.un.org/en/|<b>",
                        AccessDate(2021, 3, 3),
                        Snapshot("https://web.archive.org/web/2015/https://www.un.org/en/", "2015"))
    fields = dict(links=[Link.from_citation(citation)],
                  problems=[Problem(ProblemKind.MISSING_URL, HOSTILE, "says “Available at” | but <none>")],
                  references=[HOSTILE], started=WHEN)
    fields.update(changes)
    return Report(**fields)


def render(fmt: str, report: Report | None = None) -> str:
    out = io.StringIO()
    write_report(report or sample_report(), fmt, out)
    return out.getvalue()


def test_json_report_follows_schema_2():
    report = json.loads(render("json"))
    assert list(report)[:3] == ["schema", "tool", "command"]
    assert report["schema"] == "crawler.report/2"
    assert report["tool"]["name"] == "crawler"
    assert report["generated"] == "2026-11-22T12:00:00+00:00"
    assert report["references"] == [{"id": 1, "source": "evil|list.txt", "line": 3, "number": None,
                                     "text": HOSTILE.text}]
    [link] = report["links"]
    assert link["url"] == "https://www.un.org/en/"
    assert link["verdict"] is None
    assert link["known_snapshot"]["timestamp"] == "2015"
    assert link["citations"] == [{"reference": 1, "accessed": "2021-03-03"}]
    assert report["problems"][0] == {"kind": "missing_url", "reference": 1, "detail": "says “Available at” | but <none>",
                                     "url": None, "archive": None}
    assert report["summary"]["problems"]["total"] == 1


def test_each_reference_is_written_once_however_many_links_it_cites():
    ref = Reference("long.txt", 1, "x" * 10_000)
    links = [Link.from_citation(Citation(ref, f"https://example.org/{n}", f"example.org/{n}")) for n in range(50)]
    text = render("json", Report(links=links, problems=[], references=[ref], started=WHEN))
    assert text.count("x" * 10_000) == 1
    assert len(text) < 10_000 + 50 * 400


def test_json_holds_the_archive_and_verdict_of_a_link():
    link = Link.from_citation(Citation(HOSTILE, "https://www.un.org/en/", "https://www.un.org/en/"))
    result = CheckResult(Verdict.DEAD, "http_404", "HTTP 404", 404)
    archive = ArchiveResult(ArchiveStatus.FOUND, "wayback", "https://web.archive.org/web/20190601000000/https://www.un.org/en/",
                            "20190601000000", "before_access", "")
    report = json.loads(render("json", Report(links=[link], problems=[], references=[HOSTILE], started=WHEN,
                                              results={link.url: result}, archives={link.url: archive})))
    assert report["links"][0]["archive"]["status"] == "found"
    assert report["links"][0]["archive"]["relation"] == "before_access"
    assert report["summary"]["archive"]["found"] == 1
    assert report["summary"]["verdicts"]["dead"] == 1


def test_json_keeps_unicode_readable():
    ref = Reference("список.txt", 1, "Доклад")
    text = render("json", Report(links=[], problems=[Problem(ProblemKind.MISSING_URL, ref, "нет")], references=[ref]))
    assert "список.txt" in text


def test_json_writes_terminal_controls_and_bidi_overrides_as_escapes():
    ref = Reference("a\x1b]0;PWNED\x07.txt", 1, "text \x9b2J with \u202e reversed and a lone \ud800")
    text = render("json", Report(links=[], problems=[Problem(ProblemKind.MISSING_URL, ref, "x")], references=[ref]))
    assert "\x1b" not in text and "\x9b" not in text and "\u202e" not in text and "\ud800" not in text
    parsed = json.loads(text)
    assert parsed["references"][0]["text"] == "text \x9b2J with \u202e reversed and a lone \ufffd"


def test_markdown_escapes_html_and_table_syntax():
    text = render("markdown")
    assert "<script>" not in text and "&lt;script&gt;" in text
    assert "<b>" not in text
    rows = table_rows(text)
    assert rows
    for header, row in rows:  # every row keeps its table's columns, whatever the cited text holds
        assert cells(row) == cells(header), row


def test_markdown_links_point_at_the_normalised_url():
    assert "](<https://www.un.org/en/>)" in render("markdown")


def test_a_redirect_location_cannot_add_cells_to_a_table():
    link = Link.from_citation(Citation(HOSTILE, "http://good.test/ok", "http://good.test/ok"))
    hostile = "http://x|**BOLD**|@good.test/ok/final"
    result = CheckResult(Verdict.MOVED, "moved_permanently", f"moved permanently to {hostile}", 200, hostile,
                         (Redirect(301, hostile),))
    text = render("markdown", Report(links=[link], problems=[], references=[HOSTILE], results={link.url: result},
                                     network="up"))
    rows = [(header, row) for header, row in table_rows(text) if "good.test" in row]
    assert len(rows) == 2  # the "moved" row and the full list
    for header, row in rows:
        assert cells(row) == cells(header), row
        # Outside link destinations (where "**" is literal), nothing renders bold.
        assert "**BOLD**" not in re.sub(r"\]\(<[^>]*>\)", "", row), row


def test_markdown_shows_terminal_controls_as_visible_escapes():
    ref = Reference("list.txt", 1, "Author \x1bc\x1b(0 back\x08space \x00 and \u202emirror")
    text = render("markdown", Report(links=[], problems=[Problem(ProblemKind.MISSING_URL, ref, "x")], references=[ref]))
    assert not any(c in text for c in "\x1b\x08\x00\u202e")
    assert "\\\\x1bc" in text  # shown as \x1bc, the backslash escaped for Markdown


def test_destination_percent_encodes_what_would_end_a_link_or_a_cell():
    assert destination("http://x|y/<a> b") == "http://x%7Cy/%3Ca%3E%20b"


def test_escape_neutralises_markdown():
    assert escape("*a* _b_ [c](d) `e` |f| <g>") == r"\*a\* \_b\_ \[c\](d) \`e\` \|f\| &lt;g&gt;"
