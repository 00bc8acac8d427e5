"""Access dates in the phrasings people use, and the ones that are not access dates."""

from __future__ import annotations

import datetime as _dt

import pytest

from crawler.extract.dates import find_access_dates, parse_date
from conftest import TODAY


def access_date(text: str) -> str | None:
    mentions = find_access_dates(text, today=TODAY)
    assert len(mentions) == 1, mentions
    return mentions[0].date.isoformat() if mentions[0].date else None


@pytest.mark.parametrize(("text", "expected"), [
    ("(accessed: 20.07.2020)", "2020-07-20"),
    ("accessed 3 March 2021", "2021-03-03"),
    ("Accessed on: 4 September, 2015.", "2015-09-04"),
    ("Accessed on February 2016.", "2016-02"),
    ("last accessed 2019-05-03", "2019-05-03"),
    ("Last accessed 5 May 2019", "2019-05-05"),
    ("Retrieved March 3, 2021, from https://x.org", "2021-03-03"),
    ("[Accessed: Mar. 3, 2021]", "2021-03-03"),
    ("Accessed 3 Mar. 2021.", "2021-03-03"),
    ("Accessed 3rd of March 2021", "2021-03-03"),
    ("(assessed 10.06.2023)", "2023-06-10"),  # the typo in the dialogue list
    ("(acessed 10.06.2023)", "2023-06-10"),
    ("[cited 2021 Mar 3]", "2021-03-03"),
    ("[cited 2016 Feb]", "2016-02"),
    ("consulté le 5 mars 2019", "2019-03-05"),
    ("(consulté le 1er janvier 2020)", "2020-01-01"),
    ("consulté en février 2016", "2016-02"),
    ("abgerufen am 5. Mai 2019", "2019-05-05"),
    ("Zugriff am 05.05.2019", "2019-05-05"),
    ("abgerufen im Februar 2016", "2016-02"),
    ("(дата обращения: 12.03.2021)", "2021-03-12"),
    ("(дата обращения 20.07.2020)", "2020-07-20"),
    ("дата обращения: 12 марта 2021 г.", "2021-03-12"),
    ("consultado el 5 de marzo de 2019", "2019-03-05"),
    ("Acesso em: 12 mar. 2021.", "2021-03-12"),
    ("accessed 17. 05. 2019", "2019-05-17"),
    ("accessed 20.07.20", "2020-07-20"),
    ("urldate (accessed 2016-02)", "2016-02"),
    # numeric dates are day first; "/" with a day past 12 in second place is US month-first
    ("accessed 05.03.2021", "2021-03-05"),
    ("accessed 07/20/2020", "2020-07-20"),
], ids=lambda v: v[:40])
def test_access_date_phrases(text, expected):
    assert access_date(text) == expected


@pytest.mark.parametrize(("text", "why"), [
    ("(accessed: 20.0.2020)", "month 0"),
    ("accessed 31 June 2020", "day 31"),
    ("(дата обращения: 30.02.2019)", "day 30"),
    ("accessed 12.03.2031", "future"),
    ("accessed 20.13.2020", "month 13"),
    ("accessed 01.01.1970", "before the web"),
], ids=lambda v: v[:40])
def test_impossible_dates_are_reported_not_guessed(text, why):
    [mention] = find_access_dates(text, today=TODAY)
    assert mention.date is None
    assert why in mention.error


@pytest.mark.parametrize("text", [
    "Published 5 May 2019",
    "Nezavisimaya gazeta. 08.06.2006. (in Russ.)",
    "(2019, May 3). The SCO at 18.",
    "the assessed value was high",
    "accessed via ProQuest",
    "cited in Smith (2001)",
])
def test_dates_without_an_access_phrase_are_not_access_dates(text):
    assert find_access_dates(text, today=TODAY) == []


def test_a_date_of_tomorrow_is_allowed_for_time_zones():
    date, error, _ = parse_date("23.11.2026", today=TODAY)
    assert error is None and date is not None


def test_the_date_text_is_kept_as_written():
    [mention] = find_access_dates("(accessed: 20.0.2020)", today=TODAY)
    assert mention.text.strip() == "20.0.2020"


def test_wayback_timestamp_of_partial_date():
    [mention] = find_access_dates("Accessed on February 2016", today=_dt.date(2026, 1, 1))
    assert mention.date.wayback_timestamp() == "201602"


def test_date_hyphenated_across_a_line_break():
    [mention] = find_access_dates("The Diplomat. Retrieved Febru-\nary 1, 2021, from", today=TODAY)
    assert mention.date.isoformat() == "2021-02-01"


@pytest.mark.parametrize(("text", "expected"), [
    ("[cit. 2. dubna 2020]", "2020-04-02"),
    ("[cit. 14. září 2021]", "2021-09-14"),
    ("[cit. 1. července 2019]", "2019-07-01"),
    ("citováno 30. listopadu 2018", "2018-11-30"),
])
def test_czech_month_names_in_access_dates(text, expected):
    [mention] = find_access_dates(text, today=TODAY)
    assert mention.date.isoformat() == expected
