"""The batch path gives the reference path's results, to 1e-9, on random answer sets (N/A included)."""

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assessment.errors import AnswerError
from assessment.questionnaire import parse
from assessment.scoring import UNANSWERED, BatchScorer, score
from tests.conftest import MINI

CODES = ["full", "mostly", "partly", "none", "na"]


def assert_same(reference, batch, path="result"):
    """Equal structure, equal values, floats within 1e-9."""
    if isinstance(reference, dict):
        assert reference.keys() == batch.keys(), path
        for key in reference:
            assert_same(reference[key], batch[key], f"{path}.{key}")
    elif isinstance(reference, list):
        assert len(reference) == len(batch), path
        for i, (a, b) in enumerate(zip(reference, batch, strict=True)):
            assert_same(a, b, f"{path}[{i}]")
    elif isinstance(reference, float):
        assert math.isclose(reference, batch, abs_tol=1e-9), f"{path}: {reference} != {batch}"
    else:
        assert reference == batch, path


@st.composite
def answer_sets(draw, item_ids, with_unanswered=False):
    """Answer sets whose codes come from a palette drawn per set, so that every level range is reached."""
    codes = [*CODES, UNANSWERED] if with_unanswered else CODES
    palette = draw(st.lists(st.sampled_from(codes), min_size=1, max_size=4))
    picked = draw(st.lists(st.sampled_from(palette), min_size=len(item_ids), max_size=len(item_ids)))
    return {item_id: code for item_id, code in zip(item_ids, picked, strict=True) if code != UNANSWERED}


@pytest.mark.parametrize("profile", ["discrete", "process"])
def test_batch_agrees_with_the_reference_path(cmmm, profile):
    scorer = BatchScorer(cmmm, profile)

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.lists(answer_sets(scorer.item_ids), min_size=1, max_size=8))
    def check(sets):
        batch = scorer.score_answers(sets)
        for i, answers in enumerate(sets):
            assert_same(score(cmmm, answers, profile).model_dump(), batch.result(i).model_dump())

    check()


def test_batch_agrees_on_incomplete_sets_and_the_small_questionnaire(mini):
    scorer = BatchScorer(mini, "process")

    @settings(max_examples=150, deadline=None)
    @given(st.lists(answer_sets(scorer.item_ids, with_unanswered=True), min_size=1, max_size=6))
    def check(sets):
        batch = scorer.score_answers(sets, allow_incomplete=True)
        for i, answers in enumerate(sets):
            reference = score(mini, answers, "process", allow_incomplete=True)
            assert_same(reference.model_dump(), batch.result(i).model_dump())

    check()


def test_the_batch_path_sees_every_level(cmmm):
    # Guard against a property test that only ever meets level 0: uniform sets reach each level.
    scorer = BatchScorer(cmmm, "discrete")
    sets = [dict.fromkeys(scorer.item_ids, code) for code in ("none", "partly", "mostly", "full")]
    sets.append({**dict.fromkeys(scorer.item_ids, "full"),
                 **{i: "none" for i in scorer.item_ids if cmmm.item_by_id[i].level == 3}})
    assert list(scorer.score_answers(sets).level) == [0, 0, 4, 5, 2]


def test_a_malformed_matrix_is_refused(mini):
    scorer = BatchScorer(mini, "discrete")
    with pytest.raises(AnswerError, match="must be 29 × N of int8"):
        scorer.score(np.zeros((3, 5), dtype=np.int8))
    with pytest.raises(AnswerError, match="must be 29 × N of int8"):
        scorer.score(np.zeros((29, 1), dtype=np.float64))
    with pytest.raises(AnswerError, match=r"answer set 2: .*unanswered"):
        scorer.encode([dict.fromkeys(scorer.item_ids, "full"), {}])


def test_a_node_weighted_zero_counts_as_absent_on_both_paths(tmp_path):
    # Domain MD weighs 0 under the discrete profile: it still has scores (and DA1 a maturity), but element M
    # is domain MP alone, so the level scores do not depend on DA1's answers.
    text = (MINI.read_text(encoding="utf-8")
            .replace("domains: {source: \"test figures\", weights: {PX: 1.0, MD: 0.25, MP: 0.75}}",
                     "domains: {source: \"test figures\", weights: {PX: 1.0, MD: 0.0, MP: 1.0}}"))
    q = parse(text, "zero-weight")
    scorer = BatchScorer(q, "discrete")
    good = dict.fromkeys(scorer.item_ids, "full")
    sets = [good, good | {i: "none" for i in scorer.item_ids if i.startswith("DA1.")}]
    batch = scorer.score_answers(sets)
    for i, answers in enumerate(sets):
        reference = score(q, answers, "discrete")
        assert_same(reference.model_dump(), batch.result(i).model_dump())
        assert reference.level_scores == [1.0] * 5
        assert reference.element_scores["M"] == reference.domain_scores["MP"]
    assert batch.result(1).subdomains["DA1"].maturity == 0.0


def test_a_parent_whose_present_children_weigh_nothing_is_absent():
    # MP weighs 0 and at level 1 it is M's only domain with requirements (DA1 starts at level 2): M is absent
    # at level 1, so X1 = P alone = 0.5 on both paths, not a plain mean over M's weightless domain.
    text = (MINI.read_text(encoding="utf-8")
            .replace("domains: {source: \"test figures\", weights: {PX: 1.0, MD: 0.25, MP: 0.75}}",
                     "domains: {source: \"test figures\", weights: {PX: 1.0, MD: 1.0, MP: 0.0}}"))
    q = parse(text, "zero-weight")
    scorer = BatchScorer(q, "discrete")
    answers = {i: ("partly" if i.startswith("PA.1") else "full") for i in scorer.item_ids}
    reference = score(q, answers, "discrete")
    assert_same(reference.model_dump(), scorer.score_answers([answers]).result(0).model_dump())
    assert reference.level_scores[0] == 0.5
    assert 1 not in reference.element_scores["M"]
