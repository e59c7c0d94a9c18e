"""Scoring benchmark: 100,000 random complete CMMM answer sets through the batch path.

Prints the batch time and, measured in the same run, its ratio to
  (a) the one-at-a-time path (``score`` on a sample of sets, scaled to the same count), and
  (b) the floor: one numpy product of the same answer matrix with a precompiled weight vector.
Bars (DESIGN.md §6): ≤ 1 s, ≥ 100× (a), ≤ 3× (b). Timings are the best of several repeats.

    python bench/scoring.py [--quick] [--sets N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assessment.questionnaire import by_id
from assessment.scoring import BatchScorer, score
from bench.table import print_table, row

BAR_SETS = 100_000  # the bars of DESIGN.md §6 are stated for this many sets
NOT_APPLICABLE = 0.05  # share of answers that are N/A
FIGURES = {"scoring.batch": "batch scoring", "scoring.one_at_a_time": "one-at-a-time path ÷ batch",
           "scoring.floor": "batch ÷ bare numpy matrix product"}


def random_answers(scorer: BatchScorer, sets: int, rng: np.random.Generator) -> np.ndarray:
    """Complete answer sets of factories of every maturity: each set draws its own quality, each answer is
    that quality plus noise on the full … none scale, and 5 % of answers are N/A."""
    quality = rng.beta(2, 2, size=sets)
    rank = np.clip(np.rint(3 * (1 - quality) + rng.normal(0, 0.8, size=(len(scorer.item_ids), sets))), 0, 3)
    codes = np.array(["full", "mostly", "partly", "none"])
    lookup = np.array([scorer.answer_code[code] for code in codes], dtype=scorer.dtype)
    matrix = lookup[rank.astype(np.int64)]
    matrix[rng.random(matrix.shape) < NOT_APPLICABLE] = scorer.answer_code["na"]
    return matrix


def best_of(repeats: int, run) -> tuple[float, float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times)


def measure(sets: int = 100_000, sample: int = 300, repeats: int = 7, seed: int = 2020) -> list[dict]:
    q = by_id("cmmm-2020")
    scorer = BatchScorer(q, "discrete")
    rng = np.random.default_rng(seed)
    matrix = random_answers(scorer, sets, rng)
    weights = rng.random(len(scorer.item_ids))

    scorer.score(matrix[:, :1000])  # warm up
    batch, batch_median = best_of(repeats, lambda: scorer.score(matrix))
    floor, floor_median = best_of(repeats, lambda: weights @ matrix)

    code_of = {value: code for code, value in scorer.answer_code.items() if code != "unanswered"}
    answer_sets = [{item_id: code_of[v] for item_id, v in zip(scorer.item_ids, matrix[:, i], strict=True)}
                   for i in range(sample)]
    start = time.perf_counter()
    for answers in answer_sets:
        score(q, answers, "discrete")
    one_at_a_time = (time.perf_counter() - start) / sample * sets

    levels = np.bincount(scorer.score(matrix).level, minlength=6)
    judged = sets == BAR_SETS  # below that size the matrix fits in cache and the floor is not comparable

    def verdict(ok: bool) -> bool | None:
        return ok if judged else None

    size = f"{sets:,} sets"
    return [
        row("scoring.batch", FIGURES["scoring.batch"], f"{batch:.3f} s (median {batch_median:.3f} s; "
            f"{sets / batch:,.0f} sets/s)", "≤ 1 s", verdict(batch <= 1.0), size=size),
        row("scoring.one_at_a_time", FIGURES["scoring.one_at_a_time"],
            f"{one_at_a_time:.1f} s for {sets:,} sets, scaled from {sample}", "≥ 100×",
            verdict(one_at_a_time / batch >= 100), size=size, ratio=f"{one_at_a_time / batch:,.0f}×"),
        row("scoring.floor", FIGURES["scoring.floor"],
            f"product {floor * 1000:.1f} ms (median {floor_median * 1000:.1f} ms)", "≤ 3×",
            verdict(batch / floor <= 3), size=size, ratio=f"{batch / floor:.2f}×"),
        row("scoring.levels", "levels 0–5 of the random sets", " / ".join(str(n) for n in levels), size=size),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10,000 sets, fewer repeats")
    parser.add_argument("--sets", type=int, default=None)
    args = parser.parse_args()
    sets = args.sets or (10_000 if args.quick else 100_000)
    print_table(measure(sets=sets, sample=100 if args.quick else 300, repeats=3 if args.quick else 7))
    if sets != BAR_SETS:
        print(f"(bars are judged at {BAR_SETS:,} sets)")


if __name__ == "__main__":
    main()
