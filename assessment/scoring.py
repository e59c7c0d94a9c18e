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
from collections.abc import Mapping, Sequence
from functools import cached_property

import numpy as np
from pydantic import BaseModel

from assessment.errors import AnswerError
from assessment.questionnaire import LEVELS, Questionnaire, Text

UNANSWERED = "unanswered"
CHUNK = 2048  # answer sets scored together by the batch path (sized for the processor cache)


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
    # Scored with the official weights of the profile. A result stored before results said so has no such key and
    # counts as scored with provisional weights, which every result then was.
    weights_official: bool = False


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

    def weighted_mean(children: dict[str, float], table: Mapping[str, float]) -> float | None:
        """Weighted mean over the children present; None (the parent is absent) when they weigh nothing."""
        total_weight = sum(table[code] for code in children)
        if total_weight == 0:
            return None
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
            if (value := weighted_mean(children, weights.subdomains.weights)) is not None:
                domain_scores[domain][n] = by_element[q.element_of[domain]][domain] = value
        present = {}
        for element, children in by_element.items():
            if (value := weighted_mean(children, weights.domains.weights)) is not None:
                element_scores[element][n] = present[element] = value
        x = weighted_mean(present, weights.elements.weights)
        level_scores.append(0.0 if x is None else x)

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
        provisional=answered < len(applicable), weights_official=q.weights_official[profile],
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
#
# The answer matrix has one row per item and one column per answer set, so that the items of one cell are
# neighbouring rows and every step below works on whole contiguous rows. Each answer is one small integer
# that carries both what it adds to its cell's sum and whether it counts at all: value·K + B·counted, with K
# making every scale value whole (10 for 1 / 0.8 / 0.5 / 0) and B a power of two above the largest cell sum.
# Adding a cell's rows gives count·B + sum·K exactly; a lookup table turns that total into the cell's score.


class BatchResult:
    """Arrays over N answer sets, one row per set; ``result(i)`` gives the same Result as ``score``."""

    def __init__(self, scorer: BatchScorer, *, totals, level_scores, met, score, level, maturity, answered):
        self.scorer = scorer
        self.totals: np.ndarray = totals                # cells × N: count·B + sum·K of each cell
        self.level_scores: np.ndarray = level_scores    # N × 5
        self.met: np.ndarray = met                      # N × 5, bool
        self.score: np.ndarray = score                  # N
        self.level: np.ndarray = level                  # N, int
        self.maturity: np.ndarray = maturity            # N × subdomains (scorer.subdomain_codes)
        self.answered: np.ndarray = answered            # N, int

    @cached_property
    def cell_scores(self) -> np.ndarray:
        """N × scorer.cells; 0 where a cell has nothing rated. Computed on first use."""
        return self.scorer.score_of_total[self.totals.T]

    @cached_property
    def cell_present(self) -> np.ndarray:
        """N × scorer.cells, bool."""
        return self.totals.T >= self.scorer.base

    def __len__(self) -> int:
        return len(self.score)

    @cached_property
    def domain_scores(self) -> tuple[np.ndarray, np.ndarray]:
        """(scores, present), N × scorer.domain_cells; computed on first use."""
        return _weighted(self.cell_scores, self.cell_present, self.scorer.cell_to_domain)

    @cached_property
    def element_scores(self) -> tuple[np.ndarray, np.ndarray]:
        """(scores, present), N × scorer.element_cells; computed on first use."""
        scores, present = self.domain_scores
        return _weighted(scores, present, self.scorer.domain_to_element)

    def result(self, i: int) -> Result:
        s, q = self.scorer, self.scorer.questionnaire

        def by_node(cells: list[tuple[str, int]], scores: np.ndarray, present: np.ndarray):
            out: dict[str, dict[int, float]] = defaultdict(dict)
            for (code, n), value, is_present in sorted(zip(cells, scores[i], present[i], strict=True)):
                if is_present:
                    out[code][n] = float(value)
            return dict(out)

        cells = by_node(s.cells, self.cell_scores, self.cell_present)
        maturity = dict(zip(s.subdomain_codes, self.maturity[i], strict=True))
        level, answered = int(self.level[i]), int(self.answered[i])
        return Result(
            questionnaire=q.id, version=q.version, sha256=q.sha256, profile=s.profile,
            score=float(self.score[i]), level=level, level_name=q.level_name(level),
            level_scores=[float(x) for x in self.level_scores[i]], met=[bool(m) for m in self.met[i]],
            element_scores=by_node(s.element_cells, *self.element_scores),
            domain_scores=by_node(s.domain_cells, *self.domain_scores),
            subdomains={sd.code: SubdomainResult(maturity=float(maturity[sd.code]), levels=cells.get(sd.code, {}))
                        for sd in q.subdomains},
            completeness=Completeness(answered=answered, applicable=len(s.item_ids)),
            provisional=answered < len(s.item_ids), weights_official=q.weights_official[s.profile],
        )


class BatchScorer:
    """A questionnaire and profile compiled once; scores an items × N matrix of encoded answers.

    Build the matrix with ``encode`` (answer dictionaries) or from ``answer_code`` (code → matrix value); its
    rows follow ``item_ids``, which orders the items by cell, not as the questionnaire lists them.
    """

    def __init__(self, q: Questionnaire, profile: str):
        if profile not in q.weight_profiles:
            raise AnswerError(f"unknown profile {profile!r}; expected one of {', '.join(q.weight_profiles)}")
        self.questionnaire, self.profile = q, profile
        members: dict[tuple[str, int], list[str]] = defaultdict(list)
        for item in q.items_for(profile):
            members[item.subdomain, item.level].append(item.id)
        self._order(q, members)
        self._encoding(q, max(len(m) for m in members.values()))
        self._weights(q, q.weight_profiles[profile])
        bands = sorted(q.rule.bands, key=lambda b: b.level)
        self.band_floor = np.array([b.min_score for b in bands]) - 1e-9
        self.band_level = np.array([b.level for b in bands])
        self.threshold = q.rule.threshold - 1e-9

    def _order(self, q: Questionnaire, members: dict[tuple[str, int], list[str]]) -> None:
        # Cell order, chosen for the maturity walk: the k-th level of every subdomain that has one forms a
        # run of cells, and subdomains with more levels come first so each run covers a prefix of them.
        levels_of = {sd.code: sorted(n for code, n in members if code == sd.code) for sd in q.subdomains}
        self.subdomain_codes = sorted(levels_of, key=lambda code: -len(levels_of[code]))
        self.cells = [(code, levels_of[code][k]) for k in range(len(LEVELS))
                      for code in self.subdomain_codes if len(levels_of[code]) > k]
        self.maturity_runs = []  # (first cell, number of subdomains) per level rank
        self.maturity_scale = np.array([len(LEVELS) / len(levels_of[code]) for code in self.subdomain_codes])
        first = 0
        for k in range(len(LEVELS)):
            count = sum(len(levels) > k for levels in levels_of.values())
            if count:
                self.maturity_runs.append((first, count))
            first += count

        # Item order, chosen for summing: cells of equal size in blocks, a cell's items on neighbouring rows.
        self.blocks = []  # (first row, item count per cell, cells in the block as positions in self.cells)
        self.item_ids = []
        for size in sorted({len(m) for m in members.values()}):
            cells = [k for k, cell in enumerate(self.cells) if len(members[cell]) == size]
            self.blocks.append((len(self.item_ids), size, np.array(cells)))
            self.item_ids += [item_id for k in cells for item_id in members[self.cells[k]]]
        self.row = {item_id: j for j, item_id in enumerate(self.item_ids)}

    def _encoding(self, q: Questionnaire, largest_cell: int) -> None:
        """The integer encoding of answers (see the comment above BatchResult)."""
        scale = {option.code: option.value for option in q.scale} | {UNANSWERED: _lowest_value(q)}
        # The loader admits only multiples of 0.001, so some multiplier up to 1000 makes every value whole.
        self.multiplier = next(k for k in range(1, 1001) if all(
            v is None or abs(v * k - round(v * k)) < 1e-9 for v in scale.values()))
        top = max(round(v * self.multiplier) for v in scale.values() if v is not None)
        self.base = 1 << int(top * largest_cell).bit_length()
        self.answer_code = {code: (0 if v is None else round(v * self.multiplier) + self.base)
                            for code, v in scale.items()}
        largest_total = (self.base + top) * largest_cell
        self.dtype = np.int8 if self.base + top <= np.iinfo(np.int8).max else np.int32
        self.total_dtype = np.int16 if largest_total <= np.iinfo(np.int16).max else np.int64
        totals = np.arange(largest_total + 1)
        count, sums = totals // self.base, totals % self.base
        self.score_of_total = np.divide(sums, count * self.multiplier, out=np.zeros(len(totals)), where=count > 0)

    def _weights(self, q: Questionnaire, weights) -> None:
        """(domain, level) and (element, level) cells, and the weight of each node within its parent there."""
        self.domain_cells = sorted({(q.domain_of[sd], n) for sd, n in self.cells}, key=lambda c: (c[1], c[0]))
        self.element_cells = sorted({(q.element_of[d], n) for d, n in self.domain_cells}, key=lambda c: (c[1], c[0]))
        domain_ix = {c: k for k, c in enumerate(self.domain_cells)}
        element_ix = {c: k for k, c in enumerate(self.element_cells)}
        self.cell_to_domain = np.zeros((len(self.cells), len(self.domain_cells)))
        for k, (sd, n) in enumerate(self.cells):
            self.cell_to_domain[k, domain_ix[q.domain_of[sd], n]] = weights.subdomains.weights[sd]
        self.domain_to_element = np.zeros((len(self.domain_cells), len(self.element_cells)))
        for (d, n), k in domain_ix.items():
            self.domain_to_element[k, element_ix[q.element_of[d], n]] = weights.domains.weights[d]
        self.element_to_level = np.zeros((len(self.element_cells), len(LEVELS)))
        for (e, n), k in element_ix.items():
            self.element_to_level[k, n - 1] = weights.elements.weights[e]
        # With every cell present, each level score is a fixed weighted sum of the cell scores.
        self.level_of_cells = _level_scores(self, np.eye(len(self.cells)), np.ones(len(self.cells), bool)).T.copy()

    # -- encoding ---------------------------------------------------------------------------------------

    def encode(self, answer_sets: list[Mapping[str, str]], *, allow_incomplete: bool = False) -> np.ndarray:
        """Answer dictionaries → items × N answer matrix, checked exactly as ``score`` checks them."""
        matrix = np.empty((len(self.item_ids), len(answer_sets)), dtype=self.dtype)
        for i, answers in enumerate(answer_sets):
            applicable = check_answers(self.questionnaire, answers, self.profile,
                                       allow_incomplete=allow_incomplete, where=f"answer set {i + 1}")
            matrix[:, i] = [self.answer_code[applicable[item_id]] for item_id in self.item_ids]
        return matrix

    def score_answers(self, answer_sets: list[Mapping[str, str]], *, allow_incomplete: bool = False) -> BatchResult:
        """Encode and score answer dictionaries, keeping count of what was answered."""
        answered = [sum(item_id in answers for item_id in self.item_ids) for answers in answer_sets]
        return self.score(self.encode(answer_sets, allow_incomplete=allow_incomplete), answered=answered)

    # -- scoring ----------------------------------------------------------------------------------------

    def score(self, matrix: np.ndarray, answered: Sequence[int] | None = None) -> BatchResult:
        """Score every column. ``answered`` counts each set's answered items (an unanswered item is encoded as
        the lowest answer, so the matrix cannot tell); None means every set is complete."""
        if matrix.ndim != 2 or matrix.shape[0] != len(self.item_ids) or matrix.dtype != self.dtype:
            raise AnswerError(f"answer matrix must be {len(self.item_ids)} × N of {np.dtype(self.dtype).name}, "
                              f"got {matrix.shape} of {matrix.dtype}")
        n = matrix.shape[1]
        out = {
            "totals": np.empty((len(self.cells), n), dtype=self.total_dtype),
            "levels": np.empty((len(LEVELS), n)),
            "maturity": np.empty((len(self.subdomain_codes), n)),
        }
        # Sets are scored a slice at a time so that the intermediate arrays stay in the processor's cache.
        for first in range(0, n, CHUNK):
            self._score_slice(matrix, slice(first, min(first + CHUNK, n)), **out)

        levels = out["levels"]
        met = levels >= self.threshold
        counted = np.ones_like(met)
        counted[1:] = np.cumprod(met[:-1], axis=0)
        total = (levels * counted).sum(axis=0)
        level = np.zeros(n, dtype=np.int64)
        for floor, band_level in zip(self.band_floor, self.band_level, strict=True):
            level[total >= floor] = band_level
        answered = np.full(n, len(self.item_ids)) if answered is None else np.asarray(answered)
        return BatchResult(self, totals=out["totals"], level_scores=levels.T, met=met.T, score=total, level=level,
                           maturity=out["maturity"].T, answered=answered)

    def _score_slice(self, matrix: np.ndarray, sets: slice, *, totals, levels, maturity) -> None:
        n = sets.stop - sets.start
        for first, size, cells in self.blocks:
            rows = matrix[first:first + size * len(cells), sets].reshape(len(cells), size, n)
            block = rows[:, 0].astype(self.total_dtype)
            for j in range(1, size):
                block += rows[:, j]
            totals[cells, sets] = block
        slice_totals = totals[:, sets]
        # mode="clip" skips numpy's bounds check; every total is within the table by construction.
        scores = np.take(self.score_of_total, slice_totals, mode="clip")
        np.matmul(self.level_of_cells, scores, out=levels[:, sets])
        self._maturity(scores, scores >= self.threshold, out=maturity[:, sets])

        # Sets with a cell where nothing is rated (all N/A) renormalise over what is present: redo those few.
        incomplete = np.flatnonzero(slice_totals.min(axis=0) < self.base)
        if incomplete.size:
            scores, present = scores[:, incomplete], slice_totals[:, incomplete] >= self.base
            levels[:, sets][:, incomplete] = _level_scores(self, scores.T, present.T).T
            maturity[:, sets][:, incomplete] = self._maturity(scores, ~present | (scores >= self.threshold), present)

    def _maturity(self, scores: np.ndarray, passes: np.ndarray, present: np.ndarray | None = None,
                  out: np.ndarray | None = None) -> np.ndarray:
        """Walk each subdomain's levels in order, adding scores until one does not pass; scale to 0–5 by the
        number of levels present (all of the subdomain's levels when ``present`` is None). An absent level
        passes and adds nothing (its score is 0)."""
        (first, count), *later = self.maturity_runs
        gated = scores[first:first + count].copy()
        still_open = passes[first:first + count].copy()
        for first, count in later:
            gated[:count] += np.where(still_open[:count], scores[first:first + count], 0.0)
            still_open[:count] &= passes[first:first + count]
        if present is None:
            return np.multiply(gated, self.maturity_scale[:, None], out=out)
        levels_present = np.zeros(gated.shape, dtype=np.int64)
        for first, count in self.maturity_runs:
            levels_present[:count] += present[first:first + count]
        scaled = np.divide(gated * len(LEVELS), levels_present, out=np.zeros_like(gated), where=levels_present > 0)
        return scaled if out is None else np.copyto(out, scaled)


def _level_scores(scorer: BatchScorer, cell_scores: np.ndarray, cell_present: np.ndarray) -> np.ndarray:
    """Level scores of sets × cells, renormalising over what is present at each step."""
    domain, domain_present = _weighted(cell_scores, cell_present, scorer.cell_to_domain)
    element, element_present = _weighted(domain, domain_present, scorer.domain_to_element)
    return _weighted(element, element_present, scorer.element_to_level)[0]


def _weighted(child_scores: np.ndarray, child_present: np.ndarray, to_parent: np.ndarray):
    """Weighted mean of the present children under each parent, renormalised over what is present."""
    weight = child_present.astype(float) @ to_parent
    present = weight > 0
    total = (child_scores * child_present) @ to_parent
    return np.divide(total, weight, out=np.zeros_like(total), where=present), present
