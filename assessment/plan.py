"""The improvement plan: what to raise to reach the next maturity level.

Raising an already-rated requirement to the top answer changes nothing about which subdomains are present,
so each level score is linear in the item values and the gains of several raises add up. The gain of every
candidate is therefore measured once, by scoring all one-raise variants in a single batch; the greedy set
then takes, level by level, the largest gains until the level is met — the fewest raises that do it.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from pydantic import BaseModel

from assessment.questionnaire import Questionnaire
from assessment.scoring import UNANSWERED, BatchScorer, Result, check_answers, gated_sum, score


class Raise(BaseModel):
    item: str
    subdomain: str
    level: int
    answer: str          # the current answer code, or "unanswered"
    gain: float          # increase of X_level when this item is raised to the top answer


class SubdomainGap(BaseModel):
    subdomain: str
    maturity: float
    target: int
    gap: float                # target − maturity, at least 0
    levels_not_met: list[int]  # levels up to the target where the subdomain is rated below the threshold
    without_requirements: list[int] = []  # levels up to the target where it has no requirement (for the profile)


class Plan(BaseModel):
    current_level: int
    target_level: int | None       # None at the top level
    candidates: list[Raise]        # every requirement up to the target level below the top answer, by gain
    steps: list[Raise]             # the greedy set, in the order to take them
    reachable: bool                # False when a level up to the target has nothing rated (all N/A)
    projected_score: float
    projected_level: int
    gaps: list[SubdomainGap]

    @property
    def item_ids(self) -> list[str]:
        return [step.item for step in self.steps]


def improvement_plan(q: Questionnaire, answers: Mapping[str, str], profile: str,
                     result: Result | None = None) -> Plan:
    applicable = check_answers(q, answers, profile, allow_incomplete=True)
    result = result or score(q, answers, profile, allow_incomplete=True)
    if result.level >= 5:
        return Plan(current_level=result.level, target_level=None, candidates=[], steps=[], reachable=True,
                    projected_score=result.score, projected_level=result.level, gaps=[])
    target = result.level + 1
    top = max((option for option in q.scale if option.value is not None), key=lambda option: option.value)

    # Rated (or unanswered) items below the top answer, at the levels up to the target.
    pool = [item_id for item_id, code in applicable.items()
            if q.item_by_id[item_id].level <= target
            and (code == UNANSWERED or ((value := q.scale_by_code[code].value) is not None and value < top.value))]
    candidates = _gains(q, profile, applicable, pool, top.code)

    levels = list(result.level_scores)
    steps: list[Raise] = []
    for n in range(1, target + 1):
        for r in (r for r in candidates if r.level == n):
            if q.is_met(levels[n - 1]):
                break
            steps.append(r)
            levels[n - 1] += r.gain
    # Levels met may still leave S short of the target's band (e.g. every level at exactly 0.8 and nothing
    # above): add the largest remaining gains at those levels.
    remaining = [r for r in candidates if r not in steps]
    while q.level_for(gated_sum(levels, [q.is_met(x) for x in levels])) < target and remaining:
        r = remaining.pop(0)
        steps.append(r)
        levels[r.level - 1] += r.gain

    raised = _answered(applicable) | {r.item: top.code for r in steps}
    projected = score(q, raised, profile, allow_incomplete=True)
    gaps = []
    has = {(item.subdomain, item.level) for item in q.items_for(profile)}
    for sd in q.subdomains:
        sub = result.subdomains[sd.code]
        gaps.append(SubdomainGap(
            subdomain=sd.code, maturity=sub.maturity, target=target, gap=max(0.0, target - sub.maturity),
            levels_not_met=[n for n, value in sorted(sub.levels.items()) if n <= target and not q.is_met(value)],
            without_requirements=[n for n in range(1, target + 1) if (sd.code, n) not in has],
        ))
    return Plan(current_level=result.level, target_level=target, candidates=candidates, steps=steps,
                reachable=projected.level >= target, projected_score=projected.score,
                projected_level=projected.level, gaps=gaps)


def _gains(q: Questionnaire, profile: str, applicable: dict[str, str], pool: list[str], top: str) -> list[Raise]:
    """Each pool item's gain in its level score, from one batch: the answers as they are, then one raise each."""
    scorer = BatchScorer(q, profile)
    matrix = np.tile(scorer.encode([_answered(applicable)], allow_incomplete=True), (1, len(pool) + 1))
    for column, item_id in enumerate(pool, start=1):
        matrix[scorer.row[item_id], column] = scorer.answer_code[top]
    x = scorer.score(matrix).level_scores
    raises = []
    for row, item_id in enumerate(pool, start=1):
        item = q.item_by_id[item_id]
        gain = float(x[row, item.level - 1] - x[0, item.level - 1])
        raises.append(Raise(item=item_id, subdomain=item.subdomain, level=item.level,
                            answer=applicable[item_id], gain=gain))
    return sorted(raises, key=lambda r: (-round(r.gain, 12), r.level, r.item))


def _answered(applicable: dict[str, str]) -> dict[str, str]:
    return {item_id: code for item_id, code in applicable.items() if code != UNANSWERED}
