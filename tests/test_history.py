"""The confirmation rule and the recheck policy, as tables over simulated days."""

from __future__ import annotations

import datetime as _dt

import pytest

from crawler.model import History, Verdict
from crawler.store.history import (
    Change,
    LinkState,
    Outcome,
    advance,
    change,
    history_of,
    is_due,
    next_check,
    replay,
    standing,
)
from crawler.store.settings import HistorySettings

RULE = HistorySettings()  # 3 failures, 3 days apart; alive rechecked after 7 days
NIGHT = _dt.datetime(2026, 11, 1, 2, 0, tzinfo=_dt.timezone.utc)  # a nightly job at 02:00 UTC

A, M, D, B, U, S = Verdict.ALIVE, Verdict.MOVED, Verdict.DEAD, Verdict.BLOCKED, Verdict.UNREACHABLE, Verdict.SKIPPED


def day(n: float) -> _dt.datetime:
    return NIGHT + _dt.timedelta(days=n)


def checks(*pairs: tuple[float, Verdict | None]) -> list[tuple[_dt.datetime, Verdict | None]]:
    return [(day(n), verdict) for n, verdict in pairs]


@pytest.mark.parametrize(("story", "failures", "confirmed"), [
    pytest.param([(0, D)], 1, False, id="one failure proves nothing"),
    pytest.param([(0, D), (3, D)], 2, False, id="two spaced failures: failing 2 of 3"),
    pytest.param([(0, D), (3, D), (6, D)], 3, True, id="three failures three days apart: dead"),
    pytest.param([(0, D), (1, D), (2, D)], 1, False, id="failures on consecutive nights count once"),
    pytest.param([(0, D), (1, D), (3, D), (4, D), (6, D)], 3, True, id="only the spaced failures count"),
    pytest.param([(0, D), (3, D), (5, A), (6, D)], 1, False, id="alive resets the count"),
    pytest.param([(0, D), (3, D), (5, M), (6, D)], 1, False, id="moved resets the count"),
    pytest.param([(0, D), (2, B), (3, D), (4, U), (6, D)], 3, True, id="blocked and unreachable change nothing"),
    pytest.param([(0, D), (3, S), (3, None), (6, D)], 2, False, id="skipped and unjudged change nothing"),
    pytest.param([(0, D), (3, D), (6, D), (9, D)], 4, True, id="later failures keep counting"),
    pytest.param([(0, B), (1, U), (2, B)], 0, False, id="never a failure without a dead check"),
    pytest.param([(6, D), (0, D), (3, D)], 3, True, id="checks are taken in time order"),
])
def test_confirmation_rule(story, failures, confirmed):
    history = history_of(checks(*story), RULE)
    assert (history.consecutive_failures, history.confirmed) == (failures, confirmed)


def test_a_nightly_job_a_little_earlier_still_counts_its_strike():
    earlier = _dt.timedelta(minutes=45)
    history = history_of([(day(0), D), (day(3) - earlier, D), (day(6) - 2 * earlier, D)], RULE)
    assert history.confirmed


def test_a_check_hours_too_early_does_not_count():
    history = history_of([(day(0), D), (day(3) - _dt.timedelta(hours=3), D)], RULE)
    assert history.consecutive_failures == 1


@pytest.mark.parametrize(("failures", "spacing", "story", "confirmed"), [
    (1, 3.0, [(0, D)], True),
    (2, 1.0, [(0, D), (1, D)], True),
    (5, 3.0, [(0, D), (3, D), (6, D)], False),
    (3, 0.0, [(0, D), (0.01, D), (0.02, D)], True),
])
def test_the_rule_is_configurable(failures, spacing, story, confirmed):
    rule = HistorySettings(confirm_failures=failures, confirm_spacing_days=spacing)
    assert history_of(checks(*story), rule).confirmed is confirmed


def test_history_fields_follow_the_streak():
    history = history_of(checks((0, A), (2, B), (7, D), (10, D)), RULE)
    assert history == History(checks=4, consecutive_failures=2, first_failed=day(7), last_alive=day(0),
                              last_checked=day(10), confirmed=False)


def test_skipped_and_unjudged_are_not_checks():
    assert history_of(checks((0, S), (1, None)), RULE) == History()


def test_standing_in_words():
    assert standing(history_of(checks((0, D)), RULE), RULE) == "failing (1 of 3)"
    assert standing(history_of(checks((0, D), (3, D), (6, D)), RULE), RULE) == "dead (confirmed)"
    assert standing(history_of(checks((0, A)), RULE), RULE) == ""


# --- The recheck policy ------------------------------------------------------------


@pytest.mark.parametrize(("story", "now", "due"), [
    pytest.param([], 0, True, id="never checked: due"),
    pytest.param([(0, A)], 6, False, id="alive: waits a week"),
    pytest.param([(0, A)], 7, True, id="alive: due after a week"),
    pytest.param([(0, M)], 6, False, id="moved: waits like alive"),
    pytest.param([(0, B)], 0.5, True, id="blocked: due every run"),
    pytest.param([(0, U)], 0.5, True, id="unreachable: due every run"),
    pytest.param([(0, A), (3, U)], 4, True, id="inconclusive last check: due every run"),
    pytest.param([(0, D)], 2, False, id="failing: not before the spacing allows a strike"),
    pytest.param([(0, D)], 3, True, id="failing: due when the next strike can count"),
    pytest.param([(0, D), (1, D)], 3, True, id="failing: spacing from the last counted strike"),
    pytest.param([(0, D), (3, D), (6, D)], 12, False, id="confirmed dead: waits a week"),
    pytest.param([(0, D), (3, D), (6, D)], 13, True, id="confirmed dead: due after a week, to see it recover"),
])
def test_recheck_policy(story, now, due):
    state = replay(checks(*story), RULE)
    assert is_due(state, day(now), RULE) is due


def test_recheck_all_ignores_the_interval():
    state = replay(checks((0, A)), RULE)
    assert not is_due(state, day(1), RULE)
    assert is_due(state, day(1), RULE, recheck_all=True)


def test_next_check_times():
    assert next_check(LinkState(), RULE) is None
    assert next_check(replay(checks((0, A)), RULE), RULE) == day(7)
    assert next_check(replay(checks((0, D), (1, D)), RULE), RULE) == day(3)
    assert next_check(replay(checks((0, B)), RULE), RULE) is None


# --- What changed since the last run -----------------------------------------------


@pytest.mark.parametrize(("previous", "now", "expected"), [
    pytest.param(None, History(checks=1), None, id="new and alive"),
    pytest.param(None, History(checks=1, consecutive_failures=1), Change.NEWLY_FAILING, id="new and failing"),
    pytest.param(Outcome(A, 0, False), History(consecutive_failures=1), Change.NEWLY_FAILING, id="starts failing"),
    pytest.param(Outcome(D, 1, False), History(consecutive_failures=2), None, id="still failing"),
    pytest.param(Outcome(D, 2, False), History(consecutive_failures=3, confirmed=True), Change.NEWLY_DEAD,
                 id="confirmed now"),
    pytest.param(Outcome(D, 3, True), History(consecutive_failures=4, confirmed=True), None, id="still dead"),
    pytest.param(Outcome(D, 3, True), History(consecutive_failures=0), Change.RECOVERED, id="dead, back"),
    pytest.param(Outcome(D, 1, False), History(consecutive_failures=0), Change.RECOVERED, id="failing, back"),
    pytest.param(Outcome(B, 0, False), History(consecutive_failures=0), None, id="blocked, then alive"),
    pytest.param(None, History(consecutive_failures=1, confirmed=True), Change.NEWLY_DEAD,
                 id="new and dead at once (K=1)"),
])
def test_change_since_the_last_run(previous, now, expected):
    assert change(previous, now) is expected


def test_the_whole_story_alive_failing_dead_recovered():
    """A cited page disappears on day 7 and comes back on day 20; a job runs every night."""

    def site(n: int) -> Verdict:
        return D if 7 <= n < 20 else A

    state = LinkState()
    previous: Outcome | None = None
    story: list[tuple[int, str, Change | None]] = []
    for n in range(30):
        if not is_due(state, day(n), RULE):
            continue
        state = advance(state, site(n), day(n), RULE)
        history = state.history(RULE)
        story.append((n, standing(history, RULE) or "alive", change(previous, history)))
        previous = Outcome(state.last_verdict, history.consecutive_failures, history.confirmed)
    assert story == [
        (0, "alive", None),
        (7, "failing (1 of 3)", Change.NEWLY_FAILING),  # the weekly recheck finds it gone
        (10, "failing (2 of 3)", None),  # checked again as soon as a strike can count
        (13, "dead (confirmed)", Change.NEWLY_DEAD),
        (20, "alive", Change.RECOVERED),  # the weekly recheck of a dead link sees it back
        (27, "alive", None),
    ]
    assert state.history(RULE) == History(checks=6, consecutive_failures=0, first_failed=None,
                                          last_alive=day(27), last_checked=day(27), confirmed=False)


@pytest.mark.parametrize(("toml", "message"), [
    ("[history]\nconfirm_failures = 0\n", r"\[history\] confirm_failures must be at least 1, not 0"),
    ("[history]\nconfirm_spacing_days = -1\n", r"\[history\] confirm_spacing_days must not be negative"),
    ("[store]\nkeep_reports_days = -5\n", r"\[store\] keep_reports_days must not be negative"),
])
def test_impossible_rules_are_config_errors(tmp_path, toml, message):
    from crawler.config import ConfigError, load_settings

    config = tmp_path / "crawler.toml"
    config.write_text(toml, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_settings(config)


def test_the_store_path_is_relative_to_the_config_file(tmp_path):
    from crawler.config import load_settings

    config = tmp_path / "crawler.toml"
    config.write_text('[store]\npath = "history/links.sqlite3"\n', encoding="utf-8")
    assert load_settings(config).store_path() == tmp_path / "history" / "links.sqlite3"
