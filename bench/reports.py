"""Workbook benchmark: one report, a campaign of 1,070 reports on every core, one template import (DESIGN.md §6:
≤ 0.3 s, ≤ 3 min, ≤ 0.3 s).

    python bench/reports.py [--quick] [--db URL] [--cache DIR]

Reads the cached demo database of ``bench/demo_db.py`` (100,000 enterprises, built once and reused; 500 with
``--quick``) unless ``--db`` names one with approved diagnoses. One report is timed in this process the way the
``report`` command makes it (read the diagnosis and its peers, build, save); the campaign is the ``reports``
command writing 1,070 of them (the count of one Suzhou campaign) with its default of one process per core; the
import reads and checks a filled offline template.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assessment.accounts import Actor  # noqa: E402
from assessment.cli import _report_input  # noqa: E402  – the exact path the `report` command takes
from assessment.db import Store  # noqa: E402
from assessment.questionnaire import by_id  # noqa: E402
from assessment.services import Services  # noqa: E402
from bench.bureau import database_url  # noqa: E402
from bench.demo_db import DEFAULT_CACHE  # noqa: E402
from bench.table import print_table, row  # noqa: E402
from reports import report  # noqa: E402
from reports.template import build_template, read_template  # noqa: E402

CAMPAIGN = 1_070
REPEATS = 7
FIGURES = {"reports.one": "one diagnostic report (read, build, save)", "reports.campaign": "reports of a campaign, "
           "every core", "reports.import": "one template import (read, check)"}


def median_seconds(run, repeats: int = REPEATS) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure(url: str, reports: int = CAMPAIGN) -> list[dict]:
    work = Path(tempfile.mkdtemp(prefix="bench-reports-"))
    try:
        return _measure(url, reports, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)  # nothing left behind, whatever happened


def _measure(url: str, reports: int, work: Path) -> list[dict]:
    store = Store(url, migrate=False)
    approved = Services(store).list_assessments(Actor.operator(), status="approved")
    if len(approved) < reports:
        raise SystemExit(f"{url}: {len(approved):,} approved diagnoses, {reports:,} needed")
    sample = iter([a.id for a, _ in approved[:REPEATS]] * 2)
    one = median_seconds(lambda: report.write(_report_input(url, next(sample), store), work / "one.xlsx"))
    store.dispose()

    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "assessment", "reports", "--db", url, "--status", "approved",
                    "--limit", str(reports), "--out", str(work / "all")], cwd=ROOT, check=True, capture_output=True)
    campaign = time.perf_counter() - start
    written = len(list((work / "all").glob("*.xlsx")))
    if written != reports:
        raise SystemExit(f"the reports command wrote {written} reports, {reports} asked")

    q = by_id("cmmm-2020")
    answers = {item.id: {"code": "mostly", "note": "现场核实"} for item in q.items_for("discrete")}
    filled = build_template(q, answers=answers, enterprise={"name": "苏州某企业"})
    one_import = median_seconds(lambda: read_template(filled))
    return [
        row("reports.one", FIGURES["reports.one"], f"{one:.3f} s (median of {REPEATS})", "≤ 0.3 s", one <= 0.3),
        row("reports.campaign", FIGURES["reports.campaign"], f"{campaign:.1f} s ({written / campaign:.1f} reports/s)",
            "≤ 3 min", campaign <= 180 if reports == CAMPAIGN else None, size=f"{written:,} reports"),
        row("reports.import", FIGURES["reports.import"], f"{one_import:.3f} s (median of {REPEATS})", "≤ 0.3 s",
            one_import <= 0.3),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="30 reports from a demo database of 500 enterprises")
    parser.add_argument("--db", help="an existing database with approved diagnoses")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE,
                        help="where the demo database is cached (default data/bench)")
    args = parser.parse_args()
    url = database_url(500 if args.quick else 100_000, args.db, args.cache)
    print_table(measure(url, 30 if args.quick else CAMPAIGN))


if __name__ == "__main__":
    main()
