"""Reference lists in other citation styles and formats, each with hand-written expectations.

Each `tests/fixtures/styles/NAME.EXT` has a `NAME.expected.json` listing every
link (URL, line of its first reference, access date) and every problem.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import FIXTURES, TODAY
from crawler.extract import extract_all

CASES = sorted(
    p for p in (FIXTURES / "styles").iterdir() if not p.name.endswith(".expected.json")
)


def _expected(path: Path) -> dict:
    return json.loads(path.with_name(path.name.split(".")[0] + ".expected.json").read_text(encoding="utf-8"))


@pytest.fixture(params=CASES, ids=[p.name for p in CASES])
def case(request) -> tuple[dict, object]:
    path = request.param
    return _expected(path), extract_all([str(path)], today=TODAY)


def test_every_cited_url_is_found_once_in_order(case):
    expected, extraction = case
    assert [link.url for link in extraction.links] == [link["url"] for link in expected["links"]]


def test_each_link_is_attributed_to_its_first_reference_and_access_date(case):
    expected, extraction = case
    got = [
        {"url": link.url, "line": link.citations[0].reference.line,
         "accessed": link.citations[0].accessed.isoformat() if link.citations[0].accessed else None}
        for link in extraction.links
    ]
    assert got == [{k: v for k, v in link.items() if k != "alternatives"} for link in expected["links"]]


def test_the_right_reading_is_offered_first_where_the_text_is_ambiguous(case):
    """A link may list "alternatives": the readings the audit must try first, in order."""
    expected, extraction = case
    for want, link in zip(expected["links"], extraction.links):
        wanted = want.get("alternatives", [])
        assert list(link.alternatives[:len(wanted)]) == wanted, link.url


def test_every_problem_is_flagged_at_its_reference(case):
    expected, extraction = case
    got = [{"kind": p.kind.value, "line": p.reference.line} for p in extraction.problems]
    assert sorted(got, key=lambda p: (p["line"], p["kind"])) == sorted(
        expected["problems"], key=lambda p: (p["line"], p["kind"]))


def test_inputs_read_without_errors(case):
    _, extraction = case
    assert extraction.errors == []
