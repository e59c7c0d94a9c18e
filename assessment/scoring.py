"""Scoring by GB/T 39117-2020 as DESIGN.md §2 states it, on two paths with identical results.

``score`` rates one answer set with plain loops that follow the rule line by line: it is the reference.
``BatchScorer`` compiles a questionnaire and profile into weight matrices once and rates many answer sets
at a time with numpy; a property test keeps the two in agreement.

The rule: an item's value is the scale value of its answer (``na`` excluded); a subdomain's score at level n
is the mean of its rated items there; domain, element and level scores are weighted means over the children
present (weights renormalised over what is present); level n is met at ≥ threshold; the total S adds X_1, X_2, …
up to and including the first level not met; bands map S to a level. A subdomain's maturity is the same gated
sum over its own level scores at the levels where it is present, scaled by 5 / (levels present) so that every
subdomain spans 0–5 on the radar chart whatever levels it has requirements at (all `mostly` gives 4.0 for
every subdomain, as for the total). A subdomain with nothing rated at all has maturity 0.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping

import numpy as np
from pydantic import BaseModel

from assessment.errors import AnswerError
from assessment.questionnaire import LEVELS, Questionnaire, Text

UNANSWERED = "unanswered"


class Completeness(BaseModel):
    answered: int
    applicable: int

    @property
    def complete(self) -> bool:
        return self.answered == self.applicable


class SubdomainResult(BaseModel):
    maturity: float
    levels: dict[int, float]  # S(sd, n) for the levels where the subdomain is present


class Result(BaseModel):
    """The outcome of scoring one answer set; it pins the questionnaire it was scored with."""

    questionnaire: str
    version: str
    sha256: str
    profile: str
    score: float
    level: int
    level_name: Text
    level_scores: list[float]
    met: list[bool]
    element_scores: dict[str, dict[int, float]]
    domain_scores: dict[str, dict[int, float]]
    subdomains: dict[str, SubdomainResult]
    completeness: Completeness
    provisional: bool = False  # scored with unanswered items counted as the lowest answer


# ---------------------------------------------------------------------------------------------------------
# Checking answers against the questionnaire (shared by both paths)


def check_answers(q: Questionnaire, answers: Mapping[str, str], profile: str, *, allow_incomplete: bool,
                  where: str = "answers") -> dict[str, str]:
    """Return the answers to the items that apply under ``profile``; raise AnswerError naming each problem."""
    if profile not in q.weight_profiles:
        raise AnswerError(f"{where}: unknown profile {profile!r}; expected one of {', '.join(q.weight_profiles)}")
    problems = []
    for item_id, code in answers.items():
        if item_id not in q.item_by_id:
            problems.append(f"{where}.{item_id}: unknown item for questionnaire {q.id} {q.version}")
        elif code not in q.scale_by_code:
            problems.append(f"{where}.{item_id}: {code!r} is not one of {', '.join(q.scale_by_code)}")
    if problems:
        raise AnswerError(problems)
    applicable = {item.id: answers.get(item.id, UNANSWERED) for item in q.items_for(profile)}
    missing = [item_id for item_id, code in applicable.items() if code == UNANSWERED]
    if missing and not allow_incomplete:
        shown = ", ".join(missing[:10]) + (f" and {len(missing) - 10} more" if len(missing) > 10 else "")
        raise AnswerError(f"{where}: {len(missing)} of {len(applicable)} items unanswered ({shown}); "
                          "score an incomplete set only as provisional")
    return applicable


def _lowest_value(q: Questionnaire) -> float:
    return min(option.value for option in q.scale if option.value is not None)


# ---------------------------------------------------------------------------------------------------------
# The reference path: one answer set


def score(q: Questionnaire, answers: Mapping[str, str], profile: str, *, allow_incomplete: bool = False) -> Result:
    applicable = check_answers(q, answers, profile, allow_incomplete=allow_incomplete)
    weights = q.weight_profiles[profile]
    unanswered_value = _lowest_value(q)

    rated: dict[tuple[str, int], list[float]] = defaultdict(list)
    for item_id, code in applicable.items():
        item = q.item_by_id[item_id]
        value = unanswered_value if code == UNANSWERED else q.scale_by_code[code].value
        if value is not None:
            rated[item.subdomain, item.level].append(value)
    sub = {cell: sum(values) / len(values) for cell, values in rated.items()}

    def weighted_mean(children: dict[str, float], table: Mapping[str, float]) -> float:
        total_weight = sum(table[code] for code in children)
        if total_weight == 0:
            return sum(children.values()) / len(children)
        return sum(table[code] * value for code, value in children.items()) / total_weight

    domain_scores: dict[str, dict[int, float]] = defaultdict(dict)
    element_scores: dict[str, dict[int, float]] = defaultdict(dict)
    level_scores = []
    for n in LEVELS:
        by_domain: dict[str, dict[str, float]] = defaultdict(dict)
        for (sd, level), value in sub.items():
            if level == n:
                by_domain[q.domain_of[sd]][sd] = value
        by_element: dict[str, dict[str, float]] = defaultdict(dict)
        for domain, children in by_domain.items():
            domain_scores[domain][n] = weighted_mean(children, weights.subdomains.weights)
            by_element[q.element_of[domain]][domain] = domain_scores[domain][n]
        present = {}
        for element, children in by_element.items():
            element_scores[element][n] = present[element] = weighted_mean(children, weights.domains.weights)
        level_scores.append(weighted_mean(present, weights.elements.weights) if present else 0.0)

    met = [q.is_met(x) for x in level_scores]
    total = gated_sum(level_scores, met)
    level = q.level_for(total)

    subdomains = {}
    for sd in q.subdomains:
        levels = {n: sub[sd.code, n] for n in LEVELS if (sd.code, n) in sub}
        values = list(levels.values())
        maturity = gated_sum(values, [q.is_met(v) for v in values]) * len(LEVELS) / len(values) if values else 0.0
        subdomains[sd.code] = SubdomainResult(maturity=maturity, levels=levels)

    answered = sum(code != UNANSWERED for code in applicable.values())
    return Result(
        questionnaire=q.id, version=q.version, sha256=q.sha256, profile=profile,
        score=total, level=level, level_name=q.level_name(level),
        level_scores=level_scores, met=met,
        element_scores=dict(element_scores), domain_scores=dict(domain_scores), subdomains=subdomains,
        completeness=Completeness(answered=answered, applicable=len(applicable)),
        provisional=answered < len(applicable),
    )


def gated_sum(values: list[float], met: list[bool]) -> float:
    """Sum in level order up to and including the first level not met."""
    total = 0.0
    for value, is_met in zip(values, met, strict=True):
        total += value
        if not is_met:
            break
    return total


# ---------------------------------------------------------------------------------------------------------
# The batch path: many answer sets as one matrix


class BatchResult:
    """Arrays over N answer sets (first axis); ``result(i)`` gives the same Result as ``score``."""

    def __init__(self, scorer: BatchScorer, **arrays: np.ndarray):
        self.scorer = scorer
        self.level_scores: np.ndarray = arrays["level_scores"]      # N × 5
        self.met: np.ndarray = arrays["met"]                        # N × 5, bool
        self.score: np.ndarray = arrays["score"]                    # N
        self.level: np.ndarray = arrays["level"]                    # N, int
        self.cell_scores: np.ndarray = arrays["cell_scores"]        # N × cells, NaN where absent
        self.domain_scores: np.ndarray = arrays["domain_scores"]    # N × domain cells, NaN where absent
        self.element_scores: np.ndarray = arrays["element_scores"]  # N × element cells, NaN where absent
        self.maturity: np.ndarray = arrays["maturity"]              # N × subdomains
        self.answered: np.ndarray = arrays["answered"]              # N, int

    def __len__(self) -> int:
        return len(self.score)

    def result(self, i: int) -> Result:
        s, q = self.scorer, self.scorer.questionnaire

        def by_node(cells: list[tuple[str, int]], row: np.ndarray) -> dict[str, dict[int, float]]:
            out: dict[str, dict[int, float]] = defaultdict(dict)
            for (code, n), value in zip(cells, row, strict=True):
                if not np.isnan(value):
                    out[code][n] = float(value)
            return dict(out)

        cells = by_node(s.cells, self.cell_scores[i])
        level = int(self.level[i])
        answered = int(self.answered[i])
        return Result(
            questionnaire=q.id, version=q.version, sha256=q.sha256, profile=s.profile,
            score=float(self.score[i]), level=level, level_name=q.level_name(level),
            level_scores=[float(x) for x in self.level_scores[i]], met=[bool(m) for m in self.met[i]],
            element_scores=by_node(s.element_cells, self.element_scores[i]),
            domain_scores=by_node(s.domain_cells, self.domain_scores[i]),
            subdomains={code: SubdomainResult(maturity=float(self.maturity[i, j]), levels=cells.get(code, {}))
                        for j, code in enumerate(s.subdomain_codes)},
            completeness=Completeness(answered=answered, applicable=len(s.item_ids)),
            provisional=answered < len(s.item_ids),
        )


class BatchScorer:
    """A questionnaire and profile compiled into matrices; scores an (N × items) matrix of answer codes.

    Answer codes are given as small integers: the index of the answer in ``codes`` (the scale's codes, then
    ``unanswered``). Columns follow ``item_ids``.
    """

    def __init__(self, q: Questionnaire, profile: str):
        if profile not in q.weight_profiles:
            raise AnswerError(f"unknown profile {profile!r}; expected one of {', '.join(q.weight_profiles)}")
        self.questionnaire, self.profile = q, profile
        weights = q.weight_profiles[profile]
        items = q.items_for(profile)
        self.item_ids = [item.id for item in items]
        self.column = {item_id: j for j, item_id in enumerate(self.item_ids)}
        self.codes = [option.code for option in q.scale] + [UNANSWERED]
        self.code_index = {code: k for k, code in enumerate(self.codes)}
        self.unanswered = self.code_index[UNANSWERED]
        self.subdomain_codes = [sd.code for sd in q.subdomains]

        # Item values per code; `counted` says whether the answer enters the averages (na does not).
        values = [option.value for option in q.scale] + [_lowest_value(q)]
        self.value_of = np.array([0.0 if v is None else v for v in values])
        self.counted = np.array([v is not None for v in values], dtype=float)

        # (subdomain, level) cells, then (domain, level) and (element, level) cells present in the questionnaire.
        self.cells = sorted({(item.subdomain, item.level) for item in items}, key=lambda c: (c[1], c[0]))
        self.domain_cells = sorted({(q.domain_of[sd], n) for sd, n in self.cells}, key=lambda c: (c[1], c[0]))
        self.element_cells = sorted({(q.element_of[d], n) for d, n in self.domain_cells}, key=lambda c: (c[1], c[0]))
        cell_ix = {c: k for k, c in enumerate(self.cells)}
        domain_ix = {c: k for k, c in enumerate(self.domain_cells)}
        element_ix = {c: k for k, c in enumerate(self.element_cells)}

        # Item → cell membership; cell → domain, domain → element, element → level with the node's weight.
        self.item_to_cell = np.zeros((len(items), len(self.cells)))
        for j, item in enumerate(items):
            self.item_to_cell[j, cell_ix[item.subdomain, item.level]] = 1.0
        self.cell_to_domain = np.zeros((len(self.cells), len(self.domain_cells)))
        for (sd, n), k in cell_ix.items():
            self.cell_to_domain[k, domain_ix[q.domain_of[sd], n]] = weights.subdomains.weights[sd]
        self.domain_to_element = np.zeros((len(self.domain_cells), len(self.element_cells)))
        for (d, n), k in domain_ix.items():
            self.domain_to_element[k, element_ix[q.element_of[d], n]] = weights.domains.weights[d]
        self.element_to_level = np.zeros((len(self.element_cells), len(LEVELS)))
        for (e, n), k in element_ix.items():
            self.element_to_level[k, n - 1] = weights.elements.weights[e]

        # Subdomain maturity: the cell of each subdomain at each level (-1: no requirement there).
        self.maturity_cell = np.full((len(self.subdomain_codes), len(LEVELS)), -1)
        for (sd, n), k in cell_ix.items():
            self.maturity_cell[self.subdomain_codes.index(sd), n - 1] = k
        bands = sorted(q.rule.bands, key=lambda b: b.level)
        self.band_floor = np.array([b.min_score for b in bands]) - 1e-9
        self.band_level = np.array([b.level for b in bands])
        self.threshold = q.rule.threshold - 1e-9

    # -- encoding ---------------------------------------------------------------------------------------

    def encode(self, answer_sets: list[Mapping[str, str]], *, allow_incomplete: bool = False) -> np.ndarray:
        """Answer dictionaries → code matrix, checked exactly as ``score`` checks them."""
        matrix = np.full((len(answer_sets), len(self.item_ids)), self.unanswered, dtype=np.int8)
        for i, answers in enumerate(answer_sets):
            applicable = check_answers(self.questionnaire, answers, self.profile,
                                       allow_incomplete=allow_incomplete, where=f"answer set {i + 1}")
            matrix[i] = [self.code_index[code] for code in applicable.values()]
        return matrix

    # -- scoring ----------------------------------------------------------------------------------------

    def score(self, codes: np.ndarray) -> BatchResult:
        codes = np.asarray(codes)
        if codes.ndim != 2 or codes.shape[1] != len(self.item_ids):
            raise AnswerError(f"answer matrix must be N × {len(self.item_ids)}, got {codes.shape}")
        if codes.size and (codes.min() < 0 or codes.max() >= len(self.codes)):
            raise AnswerError(f"answer matrix holds codes outside 0–{len(self.codes) - 1}")

        values = self.value_of[codes]
        counted = self.counted[codes]
        cell_sum = values @ self.item_to_cell
        cell_count = counted @ self.item_to_cell
        cell_scores, cell_present = _mean(cell_sum, cell_count)
        domain_scores, domain_present = _weighted(cell_scores, cell_present, self.cell_to_domain)
        element_scores, element_present = _weighted(domain_scores, domain_present, self.domain_to_element)
        level_scores, _ = _weighted(element_scores, element_present, self.element_to_level)

        met = level_scores >= self.threshold
        total = _gated_sum_rows(level_scores, met)
        level = np.zeros(len(total), dtype=np.int64)
        for floor, band_level in zip(self.band_floor, self.band_level, strict=True):
            level[total >= floor] = band_level

        # Maturity per subdomain: the gated sum over its present levels (an absent level neither adds nor
        # stops the sum), scaled to 0–5 by the number of levels present.
        cell = np.maximum(self.maturity_cell, 0)
        present = (self.maturity_cell >= 0)[None, :, :] & cell_present[:, cell]  # N × subdomains × 5
        gathered = np.where(present, cell_scores[:, cell], 0.0)
        n_present = present.sum(axis=-1)
        gated = _gated_sum_rows(gathered, ~present | (gathered >= self.threshold))
        maturity = np.divide(gated * len(LEVELS), n_present, out=np.zeros_like(gated), where=n_present > 0)

        nan = np.float64("nan")
        return BatchResult(
            self, level_scores=level_scores, met=met, score=total, level=level,
            cell_scores=np.where(cell_present, cell_scores, nan),
            domain_scores=np.where(domain_present, domain_scores, nan),
            element_scores=np.where(element_present, element_scores, nan),
            maturity=maturity, answered=(codes != self.unanswered).sum(axis=1),
        )


def _mean(total: np.ndarray, weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    present = weight > 0
    return np.divide(total, weight, out=np.zeros_like(total), where=present), present


def _weighted(child_scores: np.ndarray, child_present: np.ndarray, to_parent: np.ndarray):
    """Weighted mean of the present children under each parent, renormalised over what is present."""
    return _mean((child_scores * child_present) @ to_parent, child_present.astype(float) @ to_parent)


def _gated_sum_rows(values: np.ndarray, met: np.ndarray) -> np.ndarray:
    """``_gated_sum`` along the last axis: a level counts when every level before it is met."""
    counts = np.ones_like(met)
    counts[..., 1:] = np.cumprod(met[..., :-1], axis=-1)
    return (values * counts).sum(axis=-1)
