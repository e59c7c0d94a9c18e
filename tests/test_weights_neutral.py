"""Weights that cannot invert the model (issue #12 §1). While a profile's weights are provisional, no subdomain
may carry more than twice the mean subdomain share of a level score — its share being the drop in X_n when it
alone is rated `none` and everything else `full` — and `none` in all of 生产 can never reach level 2. A bureau
that drops in the official annex sets `official: true` and these checks stand aside for that profile.

The questionnaire under test is the one new assessments start on, the newest published version. Version 1.0.0 is
kept only for the assessments pinned to it: it fails these checks (see test_the_old_weights_…)."""

import pytest

from assessment.questionnaire import Questionnaire, by_id
from assessment.scoring import score

PRODUCTION = {"PU", "SC", "PO", "EM", "WD", "SE", "EN"}  # the seven subdomains of 生产
MOST = 2.0  # times the mean subdomain share of a level score


def rated(q: Questionnaire, profile: str, none_when) -> dict[str, str]:
    """Every item of ``profile`` rated `full`, except those ``none_when(item)`` names, rated `none`."""
    return {item.id: "none" if none_when(item) else "full" for item in q.items if item.applies_to in ("both", profile)}


def shares(q: Questionnaire, profile: str, level: int) -> dict[str, float]:
    """Each subdomain present at ``level``: how much X_level drops when it alone is rated `none` there."""
    top = score(q, rated(q, profile, lambda item: False), profile).level_scores[level - 1]
    present = {item.subdomain for item in q.items if item.level == level and item.applies_to in ("both", profile)}
    return {code: top - score(q, rated(q, profile, lambda item, code=code: (item.subdomain, item.level) ==
                                      (code, level)), profile).level_scores[level - 1]
            for code in sorted(present)}


@pytest.fixture(scope="module")
def questionnaire() -> Questionnaire:
    return by_id("cmmm-2020")


def provisional(q: Questionnaire) -> list[str]:
    return [profile for profile, official in q.weights_official.items() if not official]


@pytest.mark.parametrize("level", [1, 2, 3, 4, 5])
def test_no_subdomain_carries_more_than_twice_the_mean_share_of_a_level(questionnaire, level):
    assert provisional(questionnaire), "every profile official: nothing to check (the annex decides)"
    for profile in provisional(questionnaire):
        found = shares(questionnaire, profile, level)
        mean = sum(found.values()) / len(found)
        heavy = {code: round(share / mean, 2) for code, share in found.items() if share > MOST * mean}
        assert heavy == {}, (profile, level)


def test_no_production_capability_never_reaches_level_2(questionnaire):
    for profile in provisional(questionnaire):
        result = score(questionnaire, rated(questionnaire, profile, lambda item: item.subdomain in PRODUCTION),
                       profile)
        assert result.level <= 1, (profile, result.score)


def test_a_plant_missing_only_its_level_1_equipment_items_stays_high(questionnaire):
    """The issue's second constructed factory: 'full' everywhere except the equipment items of level 1."""
    for profile in questionnaire.weight_profiles:
        result = score(questionnaire, rated(questionnaire, profile, lambda item: (item.subdomain, item.level) ==
                                            ("EQ", 1)), profile)
        assert result.level >= 4, (profile, result.score)


def test_the_old_weights_fail_the_checks_which_is_why_they_are_kept_only_for_pinned_assessments():
    """The checks can fail: 1.0.0's equal weights per domain let a plant with no production reach level 4."""
    old = by_id("cmmm-2020", "1.0.0")
    assert provisional(old) == ["discrete", "process"]
    assert score(old, rated(old, "discrete", lambda item: item.subdomain in PRODUCTION), "discrete").level == 4
    found = shares(old, "process", 1)
    assert max(found.values()) > MOST * sum(found.values()) / len(found)
