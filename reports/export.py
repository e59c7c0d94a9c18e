"""Raw answers export, long format (one row per answer), for analysts' own tools: CSV and Parquet.

Columns: assessment_id, credit_code and enterprise (the enterprise's code and name), district, industry,
provider (its name), status, item_id, subdomain, level, code, value, updated_at. ``subdomain`` and ``level``
are the item's place in the questionnaire the diagnosis was scored with; ``value`` is the answer code's value on
its scale (empty for ``na``). Only diagnoses count, with the same ``Filters`` and the same permission scope as
the bureau workbook.

Rows stream from the database (``yield_per``; a server-side cursor on PostgreSQL): the CSV is written row by row,
the Parquet file in record batches, so millions of answers never sit in memory. The CSV is UTF-8 with a BOM
(so Excel opens Chinese correctly) and every field goes through ``reports.cells.csv_field`` (no formulas).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy.orm import Session, aliased

from assessment.accounts import Actor
from assessment.analytics import NO_FILTERS, Filters, reading, scoped_diagnoses
from assessment.db import Store
from assessment.errors import QuestionnaireError
from assessment.models import Answer, Assessment, Organisation
from assessment.questionnaire import Questionnaire, by_id
from reports.cells import csv_field

COLUMNS = ("assessment_id", "credit_code", "enterprise", "district", "industry", "provider", "status", "item_id",
           "subdomain", "level", "code", "value", "updated_at")
SCHEMA = pa.schema([
    ("assessment_id", pa.int64()), ("credit_code", pa.string()), ("enterprise", pa.string()), ("district", pa.string()),
    ("industry", pa.string()), ("provider", pa.string()), ("status", pa.string()), ("item_id", pa.string()),
    ("subdomain", pa.string()), ("level", pa.int8()), ("code", pa.string()), ("value", pa.float64()),
    ("updated_at", pa.timestamp("us")),
])
BATCH = 50_000


def answer_rows(db: Session | Store, actor: Actor, filters: Filters = NO_FILTERS, *,
                batch: int = BATCH) -> Iterator[tuple[Any, ...]]:
    """The answers of the diagnoses ``actor`` may read that pass ``filters``, one tuple per answer in the order
    of COLUMNS, ordered by assessment and item, streamed ``batch`` rows at a time."""
    provider = aliased(Organisation, name="provider")
    query = (scoped_diagnoses(actor, filters or NO_FILTERS, Assessment.id, Organisation.credit_code,
                              Organisation.name, Organisation.district, Organisation.industry, provider.name,
                              Assessment.status, Answer.item_id, Answer.code, Answer.updated_at,
                              Assessment.questionnaire_id, Assessment.questionnaire_version)
             .join(Answer, Answer.assessment_id == Assessment.id)
             .outerjoin(provider, provider.id == Assessment.provider_id)
             .order_by(Assessment.id, Answer.item_id))
    with reading(db) as session:
        for (assessment_id, credit_code, name, district, industry, provider_name, status, item_id, code, updated_at,
             questionnaire_id, questionnaire_version) in session.execute(query.execution_options(yield_per=batch)):
            items, values = _lookups(questionnaire_id, questionnaire_version)
            subdomain, level = items.get(item_id, (None, None))
            yield (assessment_id, credit_code, name, district, industry, provider_name, status, item_id, subdomain,
                   level, code, values.get(code), updated_at)


@lru_cache(maxsize=16)
def _lookups(questionnaire_id: str, version: str) -> tuple[dict[str, tuple[str, int]], dict[str, float | None]]:
    """Item id → (subdomain, level) and answer code → value of the questionnaire version an assessment is on (its
    items need not be the newest version's; empty for a version no longer installed)."""
    try:
        q: Questionnaire = by_id(questionnaire_id, version)
    except QuestionnaireError:  # a version no longer installed: export the raw codes only
        return {}, {}
    return ({item.id: (item.subdomain, item.level) for item in q.items},
            {option.code: option.value for option in q.scale})


def write_answers_csv(store: Store | Session, actor: Actor, filters: Filters | None, path: str | Path) -> int:
    """Write the answers as CSV (UTF-8 with BOM); return the number of answer rows written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(COLUMNS)
        for row in answer_rows(store, actor, filters or NO_FILTERS):
            writer.writerow([csv_field(_text_time(value)) for value in row])
            count += 1
    return count


def _text_time(value: Any) -> Any:
    return value.isoformat(sep=" ", timespec="seconds") if isinstance(value, datetime) else value


def write_answers_parquet(store: Store | Session, actor: Actor, filters: Filters | None, path: str | Path, *,
                          batch: int = BATCH) -> int:
    """Write the answers as Parquet, one record batch per ``batch`` rows; return the number of rows written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    columns: list[list[Any]] = [[] for _ in COLUMNS]
    with pq.ParquetWriter(path, SCHEMA, compression="zstd") as writer:
        for row in answer_rows(store, actor, filters or NO_FILTERS, batch=batch):
            for column, value in zip(columns, row, strict=True):
                column.append(value)
            count += 1
            if len(columns[0]) >= batch:
                writer.write_batch(pa.record_batch(columns, schema=SCHEMA))
                columns = [[] for _ in COLUMNS]
        if columns[0] or count == 0:
            writer.write_batch(pa.record_batch(columns, schema=SCHEMA))
    return count


__all__ = ["COLUMNS", "SCHEMA", "answer_rows", "write_answers_csv", "write_answers_parquet"]
