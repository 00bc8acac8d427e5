"""What the archive stage is asked to do for each checked link, and its settings and keys."""

from __future__ import annotations

import pytest

from crawler.archive.credentials import Credentials, CredentialsError
from crawler.archive.plan import Action, ArchiveJob, plan, plan_truncated, relation, target_timestamp
from crawler.archive.settings import ArchiveSettings, MementoSettings
from crawler.config import load_settings
from crawler.model import (AccessDate, CheckResult, Citation, Link, Problem, ProblemKind, Reference, Snapshot,
                           Verdict)

URL = "http://www.mofa.go.jp/region/europe/speech0606.html"


def link(*dates: AccessDate | None, known: Snapshot | None = None) -> Link:
    citations = [Citation(Reference("list.txt", i + 1, f"ref {i}"), URL, URL, accessed=d, known_snapshot=known)
                 for i, d in enumerate(dates)]
    result = Link.from_citation(citations[0])
    for c in citations[1:]:
        result.add(c)
    return result


def checked(verdict: Verdict) -> CheckResult:
    return CheckResult(verdict, "x")


@pytest.mark.parametrize("verdict", [Verdict.DEAD, Verdict.UNREACHABLE, Verdict.BLOCKED, Verdict.TRUNCATED])
def test_links_that_need_a_copy_get_a_lookup_by_their_access_date(verdict):
    job = plan(link(AccessDate(2020, 7, 20)), checked(verdict), save=False)
    assert job == ArchiveJob(URL, AccessDate(2020, 7, 20), Action.LOOKUP)
    assert job.target == "20200720235959"


def test_a_dead_link_is_looked_up_but_never_captured_even_with_save():
    job = plan(link(AccessDate(2020, 7, 20)), checked(Verdict.DEAD), save=True)
    assert job is not None and job.action is Action.LOOKUP


@pytest.mark.parametrize("verdict", [Verdict.ALIVE, Verdict.MOVED])
def test_live_links_get_a_capture_job_only_with_save(verdict):
    assert plan(link(None), checked(verdict), save=False) is None
    job = plan(link(None), checked(verdict), save=True)
    assert job is not None and job.action is Action.SAVE


@pytest.mark.parametrize("verdict", [Verdict.SKIPPED, None])
def test_skipped_and_unjudged_links_get_nothing(verdict):
    assert plan(link(None), checked(verdict), save=True) is None


def test_several_access_dates_give_the_earliest():
    job = plan(link(AccessDate(2021, 3, 3), AccessDate(2019, 5, 3), None), checked(Verdict.DEAD), save=False)
    assert job.accessed == AccessDate(2019, 5, 3)


def test_a_month_only_date_means_the_end_of_that_month():
    assert target_timestamp(AccessDate(2016, 2)) == "20160229235959"
    assert target_timestamp(AccessDate(2015, 2)) == "20150228235959"
    # and so a day in that month is earlier than the month alone
    job = plan(link(AccessDate(2016, 2), AccessDate(2016, 2, 10)), checked(Verdict.DEAD), save=False)
    assert job.accessed == AccessDate(2016, 2, 10)


def test_a_cited_archive_copy_goes_with_the_job():
    known = Snapshot(f"https://web.archive.org/web/20160301000000/{URL}", "20160301000000")
    assert plan(link(None, known=known), checked(Verdict.DEAD), save=False).known_snapshot == known


def test_truncated_urls_with_a_known_host_are_searched_as_a_prefix():
    problem = Problem(ProblemKind.TRUNCATED_URL, Reference("l", 1, "…"), "cut", url="http://www.mofa.go.jp/region/eu")
    assert plan_truncated(problem) == ArchiveJob("http://www.mofa.go.jp/region/eu", prefix=True)
    assert plan_truncated(Problem(ProblemKind.TRUNCATED_URL, Reference("l", 1, "…"), "cut")) is None
    assert plan_truncated(Problem(ProblemKind.MISSING_URL, Reference("l", 1, "…"), "x", url="http://a.org/")) is None


def test_relation_of_a_capture_to_the_access_date():
    assert relation("20200720235959", "20200720235959") == "before_access"
    assert relation("20200721000000", "20200720235959") == "after_access"
    assert relation("20200721000000", None) == "latest"


# --- settings


def test_the_defaults_are_the_internet_archives_endpoints_and_no_memento_archive():
    s = ArchiveSettings()
    assert (s.availability, s.cdx, s.save, s.save_status, s.timemap, s.replay) == (
        "https://archive.org/wayback/available", "https://web.archive.org/cdx/search/cdx",
        "https://web.archive.org/save", "https://web.archive.org/save/status/",
        "https://web.archive.org/web/timemap/link/", "https://web.archive.org/web/")
    assert s.memento == ()
    assert s.lookup_per_minute == 24.0  # 80% of 30
    s.validate()


def test_one_base_puts_every_wayback_endpoint_under_it():
    s = ArchiveSettings().with_base("http://wayback.example.ac.uk/")
    assert (s.availability, s.cdx, s.save, s.save_status, s.timemap, s.replay) == (
        "http://wayback.example.ac.uk/wayback/available", "http://wayback.example.ac.uk/cdx/search/cdx",
        "http://wayback.example.ac.uk/save", "http://wayback.example.ac.uk/save/status/",
        "http://wayback.example.ac.uk/web/timemap/link/", "http://wayback.example.ac.uk/web/")


def test_memento_archives_are_read_from_the_config_in_order(tmp_path):
    config = tmp_path / "crawler.toml"
    config.write_text('[archive]\nmax_age_days = 365\n\n'
                      '[[archive.memento]]\nname = "archive.today"\ntimemap = "https://archive.today/timemap/{url}"\n\n'
                      '[[archive.memento]]\nname = "arquivo.pt"\n'
                      'timemap = "https://arquivo.pt/wayback/timemap/link/{url}"\n', encoding="utf-8")
    archive = load_settings(config).archive
    assert archive.max_age_days == 365
    assert archive.memento == (MementoSettings("archive.today", "https://archive.today/timemap/{url}"),
                               MementoSettings("arquivo.pt", "https://arquivo.pt/wayback/timemap/link/{url}"))
    archive.validate()


@pytest.mark.parametrize(("memento", "message"), [
    ((MementoSettings("ukwa", "https://www.webarchive.org.uk/wayback/archive/timemap/link/"),), "containing {url}"),
    ((MementoSettings("a", "https://a.org/{url}"), MementoSettings("a", "https://b.org/{url}")), "used twice"),
    ((MementoSettings("wayback", "https://a.org/{url}"),), "used twice"),
    ((MementoSettings("", "https://a.org/{url}"),), "must be a short word"),
])
def test_memento_mistakes_are_named(memento, message):
    with pytest.raises(ValueError, match=message):
        ArchiveSettings(memento=memento).validate()


# --- keys


def test_keys_come_from_the_environment():
    keys = Credentials.from_env({"IA_ACCESS_KEY_ID": "AKEY", "IA_SECRET_ACCESS_KEY": "S3CRET"})
    assert keys is not None and keys.authorization() == "LOW AKEY:S3CRET"
    assert Credentials.from_env({"IA_ACCESS_KEY_ID": "AKEY"}) is None
    assert Credentials.from_env({"IA_ACCESS_KEY_ID": " ", "IA_SECRET_ACCESS_KEY": "S3CRET"}) is None


def test_keys_never_show_in_their_repr_or_str():
    keys = Credentials("AKEY", "S3CRET")
    for text in (repr(keys), str(keys), f"{keys}", repr([keys])):
        assert "AKEY" not in text and "S3CRET" not in text


def test_unusable_keys_are_refused_without_repeating_them():
    with pytest.raises(CredentialsError) as caught:
        Credentials.from_env({"IA_ACCESS_KEY_ID": "AKEY", "IA_SECRET_ACCESS_KEY": "S3 CRET"})
    assert "S3" not in str(caught.value) and "IA_SECRET_ACCESS_KEY" in str(caught.value)


def test_redaction_removes_both_keys_from_any_text():
    keys = Credentials("AKEY", "S3CRET")
    assert keys.redact("sent LOW AKEY:S3CRET, then S3CRET and AKEY") == "sent [hidden], then [hidden] and [hidden]"
