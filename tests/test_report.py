"""Reports: the JSON contract and a Markdown table that cited text cannot break."""

from __future__ import annotations

import datetime as _dt
import io
import json

from crawler.model import AccessDate, Citation, Link, Problem, ProblemKind, Reference, Snapshot
from crawler.report import Report, write_report
from crawler.report.markdown import escape

HOSTILE = Reference("evil|list.txt", 3, "<script>alert(1)</script> | *bold* [x](javascript:alert(1)) `code`")


def sample_report() -> Report:
    citation = Citation(HOSTILE, "https://www.un.org/en/", "https://www.un.org/en/|<b>",
                        AccessDate(2021, 3, 3),
                        Snapshot("https://web.archive.org/web/2015/https://www.un.org/en/", "2015"))
    return Report(links=[Link.from_citation(citation)],
                  problems=[Problem(ProblemKind.MISSING_URL, HOSTILE, "says “Available at” | but <none>")],
                  references=1, generated=_dt.datetime(2026, 11, 22, 12, 0, tzinfo=_dt.timezone.utc))


def render(fmt: str) -> str:
    out = io.StringIO()
    write_report(sample_report(), fmt, out)
    return out.getvalue()


def test_json_report_follows_schema_1():
    report = json.loads(render("json"))
    assert list(report) == ["schema", "generated", "network", "links", "problems", "errors", "summary"]
    assert report["schema"] == "crawler.report/1"
    assert report["generated"] == "2026-11-22T12:00:00+00:00"
    [link] = report["links"]
    assert link["url"] == "https://www.un.org/en/"
    assert link["verdict"] is None
    assert link["known_snapshot"]["timestamp"] == "2015"
    assert link["references"] == [{"source": "evil|list.txt", "line": 3, "text": HOSTILE.text,
                                   "accessed": "2021-03-03"}]
    assert report["problems"][0]["kind"] == "missing_url"
    assert report["summary"] == {"references": 1, "links": 1, "problems": 1}


def test_json_report_keeps_unicode_readable():
    out = io.StringIO()
    ref = Reference("список.txt", 1, "Доклад")
    write_report(Report(links=[], problems=[Problem(ProblemKind.MISSING_URL, ref, "нет")], references=1), "json", out)
    assert "список.txt" in out.getvalue()


def test_markdown_escapes_html_and_table_syntax():
    text = render("markdown")
    assert "<script>" not in text and "&lt;script&gt;" in text
    assert "<b>" not in text
    for row in [line for line in text.splitlines() if line.startswith("| ") and "---" not in line]:
        # Every row keeps its column count whatever the cited text holds.
        assert row.replace("\\|", "").count("|") in (5, 6), row


def test_markdown_links_point_at_the_normalised_url():
    assert "](<https://www.un.org/en/>)" in render("markdown")


def test_escape_neutralises_markdown():
    assert escape("*a* _b_ [c](d) `e` |f| <g>") == r"\*a\* \_b\_ \[c\](d) \`e\` \|f\| &lt;g&gt;"
