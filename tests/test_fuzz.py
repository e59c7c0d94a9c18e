"""Fuzzing as a whole: the settings every fuzz test shares, the database snapshot that proves a refused input
changed nothing, and the check that CI runs at least 10,000 generated cases.

The fuzz tests live in tests/test_fuzz_*.py, one file per kind of input (questionnaire files, answer files,
uploaded workbooks, form fields). Under CI=true their examples are derandomised, so a run is reproducible and
a failure found in CI is found again locally with CI=true; elsewhere every run draws new cases.
"""

from __future__ import annotations

import importlib
import os
import re

from hypothesis import HealthCheck, Phase, settings
from sqlalchemy import select

from assessment.db import Store
from assessment.models import Base
from tests.conftest import IN_CI

FUZZ_MODULES = ("tests.test_fuzz_questionnaire", "tests.test_fuzz_answers", "tests.test_fuzz_workbook",
                "tests.test_fuzz_forms")
REQUIRED_CASES = 10_000


def fuzz(max_examples: int) -> settings:
    """Settings of one fuzz test: no per-example deadline (timings belong in bench/), fixtures reused across
    examples on purpose (the database must be the same before and after a refused input)."""
    reproducible = {"derandomize": True, "database": None} if IN_CI else {}
    if os.environ.get("FUZZ_NO_SHRINK"):  # while hunting bugs locally: report the first failure as found
        reproducible["phases"] = [Phase.explicit, Phase.reuse, Phase.generate]
    return settings(max_examples=max_examples, deadline=None, print_blob=True, **reproducible,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                           HealthCheck.data_too_large, HealthCheck.filter_too_much,
                                           HealthCheck.large_base_example])


def snapshot(store: Store) -> dict[str, list[tuple]]:
    """Every row of every table of the store, in primary-key order: equal snapshots mean nothing was written."""
    with store.read() as db:
        return {table.name: [tuple(row) for row in db.execute(select(table).order_by(*table.primary_key.columns))]
                for table in Base.metadata.sorted_tables}


def assert_unchanged(store: Store, before: dict[str, list[tuple]], what: str) -> None:
    after = snapshot(store)
    changed = [name for name in before if before[name] != after[name]]
    assert not changed, f"{what}: refused, yet the tables {changed} changed"


NO_TRACEBACK = re.compile(r"Traceback \(most recent call last\)|File \".*\", line \d+")


def assert_readable(messages: list[str]) -> None:
    """Messages a user reads: non-empty lines of text, never a traceback."""
    assert messages, "an error without a message"
    for message in messages:
        assert isinstance(message, str), f"not text: {message!r}"
        assert message.strip(), f"an empty message in {messages!r}"
        assert not NO_TRACEBACK.search(message), f"a traceback reached the user: {message!r}"


def configured_cases() -> dict[str, int]:
    """max_examples of every fuzz test, read from the hypothesis settings on the test functions."""
    cases = {}
    for name in FUZZ_MODULES:
        module = importlib.import_module(name)
        for attribute, test in vars(module).items():
            chosen = getattr(test, "_hypothesis_internal_use_settings", None)
            if attribute.startswith("test_") and chosen is not None:
                cases[f"{name}.{attribute}"] = chosen.max_examples
    return cases


def test_ci_runs_at_least_ten_thousand_generated_cases():
    cases = configured_cases()
    assert len(cases) >= len(FUZZ_MODULES) * 2, f"fuzz tests went missing: {sorted(cases)}"
    assert sum(cases.values()) >= REQUIRED_CASES, cases
    for module in FUZZ_MODULES:  # every kind of input carries its share
        assert sum(n for name, n in cases.items() if name.startswith(f"{module}.")) >= 1_000, module
