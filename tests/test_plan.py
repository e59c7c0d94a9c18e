"""The improvement plan: candidates, their gains, and the greedy set that reaches the next level."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assessment.plan import improvement_plan
from assessment.scoring import score
from tests.test_scoring import answers_for


def test_the_worked_example_needs_two_raises_at_level_3(mini):
    # Level 2 (S = 2.5) with X3 = S(PA,3) = (0.8 + 0.5 + 0.5)/3 = 0.6. Candidates up to level 3 below `full`:
    #   PA.3.2, PA.3.3 partly → full: +0.5/3 = 0.1667 each in X3;  PA.2.2 mostly → full: +0.2/2 = 0.1 in X2;
    #   PA.3.1 mostly → full: +0.2/3 = 0.0667 in X3.
    # Greedy at level 3: 0.6 + 0.1667 + 0.1667 = 0.9333 ≥ 0.8 → two raises. Then S = 1 + 0.9 + 0.9333 + 0.9 + 1.
    answers = answers_for(mini, "na", PA_1_1="full", PA_1_2="full", PA_1_3="full",
                          PA_2_1="full", PA_2_2="mostly", PA_3_1="mostly", PA_3_2="partly", PA_3_3="partly",
                          PA_4_1="full", PA_4_2="mostly", PA_5_1="full", PA_5_2="full", PA_5_3="full")
    plan = improvement_plan(mini, answers, "discrete")
    assert (plan.current_level, plan.target_level) == (2, 3)
    assert [(r.item, round(r.gain, 4)) for r in plan.candidates] == [
        ("PA.3.2", 0.1667), ("PA.3.3", 0.1667), ("PA.2.2", 0.1), ("PA.3.1", 0.0667)]
    assert plan.item_ids == ["PA.3.2", "PA.3.3"]
    assert plan.reachable
    assert plan.projected_score == pytest.approx(1 + 0.9 + 2.8 / 3 + 0.9 + 1)
    assert plan.projected_level == 4
    gap = next(g for g in plan.gaps if g.subdomain == "PA")
    assert (gap.maturity, gap.target, gap.gap, gap.levels_not_met) == (2.5, 3, 0.5, [3])


def test_a_band_shortfall_is_closed_after_every_level_is_met(mini):
    # Every answer `mostly` except level 4, all N/A: X1 = X2 = X3 = 0.8 (met), X4 = 0 → S = 2.4 → level 2.
    # Levels 1–3 are already met, yet S < 2.8: the plan adds the largest gains up to level 3 until S ≥ 2.8.
    level4 = {i.id.replace(".", "_"): "na" for i in mini.items if i.level == 4}
    answers = answers_for(mini, "mostly", **level4)
    plan = improvement_plan(mini, answers, "discrete")
    assert (plan.current_level, plan.target_level) == (2, 3)
    assert plan.steps
    assert all(step.level <= 3 for step in plan.steps)
    assert plan.projected_level == 3
    assert plan.reachable


def test_the_top_level_has_nothing_to_plan(mini):
    plan = improvement_plan(mini, answers_for(mini, "full"), "discrete")
    assert (plan.target_level, plan.steps, plan.candidates) == (None, [], [])


def test_a_level_with_nothing_rated_cannot_be_reached(mini):
    level1 = {i.id.replace(".", "_"): "na" for i in mini.items if i.level == 1}
    plan = improvement_plan(mini, answers_for(mini, "partly", **level1), "discrete")
    assert plan.target_level == 1
    assert not plan.reachable


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_the_greedy_set_reaches_the_next_level_and_gains_are_exact(cmmm, data):
    ids = [item.id for item in cmmm.items_for("discrete")]
    palette = data.draw(st.lists(st.sampled_from(["full", "mostly", "partly", "none", "na"]), min_size=1, max_size=3))
    answers = dict(zip(ids, data.draw(st.lists(st.sampled_from(palette), min_size=len(ids), max_size=len(ids))),
                       strict=True))
    before = score(cmmm, answers, "discrete")
    plan = improvement_plan(cmmm, answers, "discrete", before)
    if before.level == 5:
        assert plan.steps == []
        return
    target = before.level + 1
    # Candidates: exactly the rated requirements up to the target level below `full`.
    expected = {i for i, code in answers.items() if code in ("mostly", "partly", "none")
                and cmmm.item_by_id[i].level <= target}
    assert {r.item for r in plan.candidates} == expected
    # A candidate's gain is what raising it alone does to its level's score.
    for r in plan.candidates[:3]:
        alone = score(cmmm, answers | {r.item: "full"}, "discrete")
        assert alone.level_scores[r.level - 1] - before.level_scores[r.level - 1] == pytest.approx(r.gain, abs=1e-9)
    # The greedy set, applied, reaches the target unless a level up to it has nothing rated.
    after = score(cmmm, answers | dict.fromkeys(plan.item_ids, "full"), "discrete")
    assert after.level == plan.projected_level
    assert plan.reachable == (after.level >= target)
    nothing_rated = any(all(answers[i] == "na" for i in ids if cmmm.item_by_id[i].level == n)
                        for n in range(1, target + 1))
    assert plan.reachable or nothing_rated
