"""Workbook benchmark: one report, 1,070 reports on every core, one template import (DESIGN.md §6: ≤ 0.3 s,
≤ 3 min, ≤ 0.3 s).

    python bench/reports.py [--quick] [--db URL]

Builds a demo database (SQLite, in a temporary folder) unless --db names one, then times one report in this
process and the `reports` command writing 1,070 of them (the count of one Suzhou campaign).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assessment.accounts import Actor  # noqa: E402
from assessment.db import Store  # noqa: E402
from assessment.demo import generate  # noqa: E402
from assessment.services import Services  # noqa: E402
from bench.table import print_table  # noqa: E402
from reports import report  # noqa: E402
from reports.template import build_template, read_template  # noqa: E402

CAMPAIGN = 1_070


def measure(reports: int = CAMPAIGN, db: str | None = None) -> list[dict]:
    work = Path(tempfile.mkdtemp(prefix="bench-reports-"))
    store = Store(db or f"sqlite:///{work / 'demo.db'}")
    if db is None:
        generate(store, int(reports / 0.7) + 50, seed=11, progress=lambda _: None)
    services = Services(store)
    approved = services.list_assessments(Actor.operator(), status="approved")
    times = []
    for a, _ in approved[:7]:
        start = time.perf_counter()
        view = services.get_assessment(Actor.operator(), a.id)
        report.write(report.from_view(view, report_questionnaire(view)), work / "one.xlsx")
        times.append(time.perf_counter() - start)
    one = statistics.median(times)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "assessment", "reports", "--db", store.url, "--status", "approved",
                    "--limit", str(reports), "--out", str(work / "all")], cwd=ROOT, check=True, capture_output=True)
    batch = time.perf_counter() - start
    written = len(list((work / "all").glob("*.xlsx")))
    judged = reports == CAMPAIGN
    q = report_questionnaire(view)
    answers = {item.id: {"code": "mostly", "note": "现场核实"} for item in q.items_for("discrete")}
    filled = build_template(q, answers=answers, enterprise={"name": "苏州某企业"})
    imports = []
    for _ in range(7):
        start = time.perf_counter()
        read_template(filled)
        imports.append(time.perf_counter() - start)
    one_import = statistics.median(imports)
    return [
        {"figure": "one template import (read + check)", "value": f"{one_import:.3f} s (median of 7)",
         "bar": "≤ 0.3 s", "ok": one_import <= 0.3},
        {"figure": "one report (read + build + save)", "value": f"{one:.3f} s (median of {len(times)})",
         "bar": "≤ 0.3 s", "ok": one <= 0.3},
        {"figure": f"{written:,} reports, every core", "value": f"{batch:.1f} s", "bar": "≤ 3 min",
         "ok": batch <= 180 if judged else None},
    ]


def report_questionnaire(view):
    from assessment.questionnaire import by_id
    return by_id(view.assessment.questionnaire_id)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100 reports")
    parser.add_argument("--db", help="an existing database with approved diagnoses")
    args = parser.parse_args()
    print_table(measure(100 if args.quick else CAMPAIGN, args.db))


if __name__ == "__main__":
    main()
