"""Scoring by hand-worked examples (tests/data/mini.yaml) and by the real CMMM questionnaire.

Each example writes its arithmetic out; ``assert_result`` is the one assertion helper.
"""

import math

import pytest
import yaml

from assessment.errors import AnswerError
from assessment.questionnaire import by_id, parse
from assessment.scoring import BatchScorer, Result, score
from tests.conftest import MINI


def assert_result(result, *, level_scores=None, score=None, level=None, met=None, **subdomain_maturity):
    if level_scores is not None:
        assert result.level_scores == pytest.approx(level_scores, abs=1e-12), "level scores X1…X5"
    if score is not None:
        assert result.score == pytest.approx(score, abs=1e-12), "total S"
    if level is not None:
        assert result.level == level, "maturity level"
    if met is not None:
        assert result.met == met, "levels met"
    for code, maturity in subdomain_maturity.items():
        assert result.subdomains[code].maturity == pytest.approx(maturity, abs=1e-12), f"maturity of {code}"


def answers_for(q, default, **by_item):
    """Every item of ``q`` answered ``default`` except the ones named (dots written as underscores)."""
    answers = {item.id: default for item in q.items}
    answers.update({key.replace("_", "."): code for key, code in by_item.items()})
    return answers


def test_the_worked_example_of_the_design(mini):
    # Only PA is rated; everything else is N/A, so at every level X_n = E(P,n) = D(PX,n) = S(PA,n).
    # L1 full,full,full → 1.0   L2 full,mostly,na → (1+0.8)/2 = 0.9   L3 mostly,partly,partly → 1.8/3 = 0.6
    # L4 full,mostly,na → 0.9   L5 full×3 → 1.0
    # Levels 1–2 met, 3 not: S = 1.0 + 0.9 + 0.6 = 2.5 → level 2 (1.8 ≤ 2.5 < 2.8).
    answers = answers_for(mini, "na", PA_1_1="full", PA_1_2="full", PA_1_3="full",
                          PA_2_1="full", PA_2_2="mostly", PA_3_1="mostly", PA_3_2="partly", PA_3_3="partly",
                          PA_4_1="full", PA_4_2="mostly", PA_5_1="full", PA_5_2="full", PA_5_3="full")
    result = score(mini, answers, "discrete")
    assert_result(result, level_scores=[1.0, 0.9, 0.6, 0.9, 1.0], met=[True, True, False, True, True],
                  score=2.5, level=2, PA=2.5, DA1=0.0)
    assert result.level_name.zh == "规范级"


def test_weights_renormalise_over_the_domains_present(mini):
    # Level 1, discrete. DA1 has no level-1 requirement, so domain MD is absent at level 1.
    # S(PA,1) = (1+1+0.8)/3 = 0.933333…   S(PB,1) = 0.5   S(PC,1) = 0.8
    # D(MP,1) = (0.5·0.5 + 0.5·0.8)/(0.5+0.5) = 0.65;  E(M,1) = 0.75·0.65 / 0.75 = 0.65 (MD left out)
    # X1 = 0.4·0.933333 + 0.6·0.65 = 0.373333 + 0.39 = 0.763333 → not met, so nothing after it counts:
    # S = 0.763333 → level 0 even though every later level scores 1.0 (gating).
    answers = answers_for(mini, "full", PA_1_3="mostly", PB_1_1="partly", PC_1_1="mostly")
    result = score(mini, answers, "discrete")
    x1 = 0.4 * (2.8 / 3) + 0.6 * 0.65
    # Subdomains: PB stops at its unmet L1 (0.5); PC's L1 0.8 is met, then 1+1+1+1 → 4.8; DA1 (L2–L5 full) → 5.
    assert_result(result, level_scores=[x1, 1, 1, 1, 1], met=[False, True, True, True, True], score=x1, level=0,
                  PB=0.5, PC=4.8, DA1=5.0)
    assert result.domain_scores["MP"][1] == pytest.approx(0.65)
    assert 1 not in result.domain_scores["MD"]
    assert result.element_scores["M"][1] == pytest.approx(0.65)


def test_the_process_profile_has_its_own_weights_and_items(mini):
    # Same answers plus the process-only PB.1.2 = full; level 3 all partly.
    # S(PB,1) = (0.5+1)/2 = 0.75;  D(MP,1) = 0.25·0.75 + 0.75·0.8 = 0.7875 = E(M,1)
    # X1 = 0.5·0.933333 + 0.5·0.7875 = 0.860417 → met;  X2 = 1 → met;  X3 = 0.5 → not met
    # S = 0.860417 + 1 + 0.5 = 2.360417 → level 2.
    answers = answers_for(mini, "full", PA_1_3="mostly", PB_1_1="partly", PB_1_2="full", PC_1_1="mostly",
                          **{f"{sd}_3_{n}": "partly" for sd, n in
                             [("PA", 1), ("PA", 2), ("PA", 3), ("DA1", 1), ("PB", 1), ("PC", 1)]})
    x1 = 0.5 * (2.8 / 3) + 0.5 * 0.7875
    result = score(mini, answers, "process")
    assert_result(result, level_scores=[x1, 1, 0.5, 1, 1], met=[True, True, False, True, True],
                  score=x1 + 1 + 0.5, level=2)
    # Under the discrete profile the process-only item is not part of the questionnaire at all.
    assert score(mini, answers, "discrete").completeness.applicable == len(mini.items) - 1


def test_not_applicable_is_left_out_of_the_mean(mini):
    # S(PA,1) = (1 + 0.5)/2 = 0.75 with the N/A answer left out (not counted as 0, which would give 0.5).
    answers = answers_for(mini, "full", PA_1_2="na", PA_1_3="partly")
    result = score(mini, answers, "discrete")
    assert result.subdomains["PA"].levels[1] == pytest.approx(0.75)
    # X1 = 0.4·0.75 + 0.6·1 = 0.9 → S = 4.9 → level 5; PA's own L1 (0.75) is not met → its maturity is 0.75.
    assert_result(result, level_scores=[0.9, 1, 1, 1, 1], score=4.9, level=5, PA=0.75)


def test_a_level_with_nothing_rated_scores_zero_and_stops_the_sum(mini):
    # Every level-3 requirement is N/A: nothing is present at level 3, so X3 = 0, not met.
    # S = X1 + X2 + X3 = 1 + 1 + 0 = 2 → level 2.  PA, present at the other four levels, all full: 4 · 5/4 = 5.
    level3 = {item.id.replace(".", "_"): "na" for item in mini.items if item.level == 3}
    result = score(mini, answers_for(mini, "full", **level3), "discrete")
    assert_result(result, level_scores=[1, 1, 0, 1, 1], met=[True, True, False, True, True], score=2.0, level=2,
                  PA=5.0)


def test_subdomain_maturity_is_the_gated_sum_of_its_own_level_scores(mini):
    # PC: L1 0.8 met, L2 0.5 not met → maturity 0.8 + 0.5 = 1.3 (L3–L5 at 1.0 do not count).
    # DA1 has requirements at levels 2–5 only: L2 0.8 met, L3 0.5 not met → 1.3 over 4 levels, scaled to
    # 0–5: 1.3 · 5/4 = 1.625.  PB all full → 5.
    answers = answers_for(mini, "full", PC_1_1="mostly", PC_2_1="partly", DA1_2_1="mostly", DA1_3_1="partly")
    assert_result(score(mini, answers, "discrete"), PC=1.3, DA1=1.625, PA=5.0, PB=5.0)
    # Uniform answers give every subdomain the same maturity, whatever levels it has: 0.8 · 5 = 4.0.
    result = score(mini, answers_for(mini, "mostly"), "discrete")
    assert [sub.maturity for sub in result.subdomains.values()] == pytest.approx([4.0] * 4)
    # Nothing rated at all: maturity 0.
    assert_result(score(mini, answers_for(mini, "full", DA1_2_1="na", DA1_3_1="na", DA1_4_1="na", DA1_5_1="na"),
                        "discrete"), DA1=0.0)


@pytest.mark.parametrize("profile", ["discrete", "process"])
@pytest.mark.parametrize(("code", "expected_x", "expected_s", "expected_level"), [
    ("full", 1.0, 5.0, 5),     # every X_n = 1 → S = 5 → level 5
    ("mostly", 0.8, 4.0, 4),   # every X_n = 0.8, all met → S = 4.0 → level 4 (3.8 ≤ 4.0 < 4.8)
    ("partly", 0.5, 0.5, 0),   # X1 = 0.5 not met → S = 0.5 → below level 1
    ("none", 0.0, 0.0, 0),
])
def test_uniform_answers_on_the_cmmm_questionnaire(cmmm, profile, code, expected_x, expected_s, expected_level):
    result = score(cmmm, answers_for(cmmm, code), profile)
    assert_result(result, level_scores=[expected_x] * 5, score=expected_s, level=expected_level)
    assert result.completeness.answered == result.completeness.applicable == len(cmmm.items_for(profile))
    assert not result.provisional
    assert (result.questionnaire, result.version, result.sha256) == (cmmm.id, cmmm.version, cmmm.sha256)


def test_weights_matter_on_the_cmmm_questionnaire():
    # The figures of 1.0.0 (kept for the assessments pinned to it), whose two profiles weigh elements differently:
    # manufacturing carries 0.77 of each level in the discrete profile and 0.25 in the process profile.
    # With manufacturing `full` and everything else `partly`:
    #   levels 2–5, discrete: X = 0.06·0.5 + 0.11·0.5 + 0.06·0.5 + 0.77·1 = 0.885
    #   level 1 has no technology requirement (data, integration, security start at level 2), so the
    #   element weights renormalise over the other three: X1 = (0.03 + 0.03 + 0.77) / 0.89 = 0.932584…
    #   S = 0.932584 + 4·0.885 = 4.472584 → level 4.
    #   Process: X2…X5 = 0.25·(0.5+0.5+0.5) + 0.25·1 = 0.625; X1 = (0.125+0.125+0.25)/0.75 = 0.6667 → not met.
    cmmm = by_id("cmmm-2020", "1.0.0")
    manufacturing = {i.id.replace(".", "_"): "full" for i in cmmm.items
                     if cmmm.element_of[cmmm.domain_of[i.subdomain]] == "MA"}
    answers = answers_for(cmmm, "partly", **manufacturing)
    x1 = 0.83 / 0.89
    assert_result(score(cmmm, answers, "discrete"), level_scores=[x1] + [0.885] * 4, score=x1 + 4 * 0.885, level=4)
    assert_result(score(cmmm, answers, "process"), level_scores=[0.5 / 0.75] + [0.625] * 4, score=0.5 / 0.75,
                  level=0)


def test_an_incomplete_set_is_refused_unless_asked_for_and_then_provisional(mini):
    answers = answers_for(mini, "full")
    del answers["PA.2.1"], answers["PB.3.1"]
    with pytest.raises(AnswerError, match=r"2 of 29 items unanswered \(PA\.2\.1, PB\.3\.1\)"):
        score(mini, answers, "discrete")
    result = score(mini, answers, "discrete", allow_incomplete=True)
    assert result.provisional
    assert (result.completeness.answered, result.completeness.applicable) == (27, 29)
    # Unanswered counts as `none`: the same result as answering `none` explicitly.
    explicit = score(mini, answers | {"PA.2.1": "none", "PB.3.1": "none"}, "discrete")
    assert math.isclose(result.score, explicit.score)
    assert result.level_scores == explicit.level_scores


@pytest.mark.parametrize(("answers", "message"), [
    ({"XX.1.1": "full"}, "answers.XX.1.1: unknown item"),
    ({"PA.1.1": "great"}, "answers.PA.1.1: 'great' is not one of full, mostly, partly, none, na"),
])
def test_bad_answers_are_named(mini, answers, message):
    with pytest.raises(AnswerError, match=message.replace(".", r"\.")):
        score(mini, answers_for(mini, "full") | answers, "discrete")


def test_an_unknown_profile_is_refused(mini):
    with pytest.raises(AnswerError, match="unknown profile 'hybrid'"):
        score(mini, answers_for(mini, "full"), "hybrid")


def test_both_paths_say_whether_the_weights_were_official(mini):
    """mini's discrete tables are all official, its process profile only partly: a profile is official only
    when every one of its tables is."""
    data = yaml.safe_load(MINI.read_text(encoding="utf-8"))
    for table in ("elements", "domains", "subdomains"):
        data["weight_profiles"]["discrete"][table]["official"] = True
    data["weight_profiles"]["process"]["subdomains"]["official"] = True
    official = parse(yaml.safe_dump(data, allow_unicode=True), "official-mini")
    for q, profile, expected in ((official, "discrete", True), (official, "process", False),
                                 (mini, "discrete", False)):
        answers = answers_for(q, "full")
        assert score(q, answers, profile).weights_official is expected, (profile, "one at a time")
        batch = BatchScorer(q, profile).score_answers([answers]).result(0)
        assert batch.weights_official is expected, (profile, "batch")


def test_a_stored_result_from_before_official_weights_loads_as_provisional(mini):
    stored = score(mini, answers_for(mini, "full"), "discrete").model_dump(mode="json")
    stored.pop("weights_official")
    assert Result.model_validate(stored).weights_official is False
