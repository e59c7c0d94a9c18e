"""A follow-up round compared with the round before it: by level, total score S and subdomain maturity.

Two rounds may be on different versions of a questionnaire (a new round starts on the newest, the earlier stays on
its own): their requirements need not match, so they are never compared item by item. Level, S and the maturity of
each subdomain (by code) mean the same in every version, and say whether the enterprise moved on.
"""

from __future__ import annotations

from dataclasses import dataclass

from assessment.scoring import Result


@dataclass(frozen=True)
class MaturityChange:
    """One subdomain's maturity (0–5) in the earlier and the later round; None where that round's version has no
    such subdomain."""

    subdomain: str
    before: float | None
    after: float | None

    @property
    def change(self) -> float | None:
        return None if self.before is None or self.after is None else self.after - self.before


@dataclass(frozen=True)
class RoundComparison:
    previous_id: int
    previous_version: str
    version: str
    level_before: int
    level_after: int
    score_before: float
    score_after: float
    maturities: tuple[MaturityChange, ...]  # the later round's subdomains in order, then those only the earlier has

    @property
    def same_version(self) -> bool:
        return self.previous_version == self.version


def compare_rounds(previous_id: int, before: Result, after: Result) -> RoundComparison:
    """The later round ``after`` against the earlier ``before`` (the result of assessment ``previous_id``)."""
    codes = [*after.subdomains, *(code for code in before.subdomains if code not in after.subdomains)]

    def maturity(result: Result, code: str) -> float | None:
        return result.subdomains[code].maturity if code in result.subdomains else None

    return RoundComparison(
        previous_id=previous_id, previous_version=before.version, version=after.version,
        level_before=before.level, level_after=after.level, score_before=before.score, score_after=after.score,
        maturities=tuple(MaturityChange(code, maturity(before, code), maturity(after, code)) for code in codes))


__all__ = ["MaturityChange", "RoundComparison", "compare_rounds"]
