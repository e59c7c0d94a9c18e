"""The one writer of a stored result: what the store keeps of a scored assessment, written in one place.

A stored result is the Result as JSON in ``assessments.result``, its score, level and completeness in their own
columns (filters and aggregates read those), and one ``maturities`` row per subdomain (the radar and the
district × domain heatmap aggregate those in the database). The services write it after every change of the
answers (``write_result``, on the assessment they hold locked); the demo writes it for many fresh assessments at
once (``write_results``). Both go through ``columns`` and ``_replace_maturities``, so the two cannot differ.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, insert, update
from sqlalchemy.orm import Session

from assessment.models import Assessment, Maturity
from assessment.scoring import Result

CHUNK = 500  # ids per DELETE … IN (…), well under every database's limit on bound parameters


def columns(result: Result) -> dict[str, Any]:
    """The assessment columns a result sets."""
    return {"result": result.model_dump(mode="json"), "score": result.score, "level": result.level,
            "answered": result.completeness.answered, "applicable": result.completeness.applicable}


def write_result(db: Session, a: Assessment, result: Result) -> None:
    """Store the result of one assessment (an ORM object the caller holds, usually locked)."""
    for key, value in columns(result).items():
        setattr(a, key, value)
    _replace_maturities(db, {a.id: result})


def stored_result(a: Assessment) -> Result | None:
    """The result stored with the assessment (None before the first answer, or when it cannot be read)."""
    if not a.result:
        return None
    try:
        return Result.model_validate(a.result)
    except ValueError:
        return None


def write_results(db: Session, results: Mapping[int, Result]) -> None:
    """Store the results of many assessments by id, in bulk (an UPDATE per row, sent as one batch)."""
    if not results:
        return
    db.execute(update(Assessment), [{"id": assessment_id, **columns(result)}
                                    for assessment_id, result in results.items()])
    _replace_maturities(db, results)


def _replace_maturities(db: Session, results: Mapping[int, Result]) -> None:
    ids = list(results)
    for first in range(0, len(ids), CHUNK):
        db.execute(delete(Maturity).where(Maturity.assessment_id.in_(ids[first:first + CHUNK])))
    rows = [{"assessment_id": assessment_id, "subdomain": code, "value": sub.maturity}
            for assessment_id, result in results.items() for code, sub in result.subdomains.items()]
    if rows:
        db.execute(insert(Maturity.__table__), rows)  # Core: no ORM bookkeeping for thousands of rows


__all__ = ["columns", "stored_result", "write_result", "write_results"]
