"""Bureau workbook benchmark: the time and peak memory of writing the bureau workbook for N enterprises (SQLite).

The database is the cached demo database of ``bench/demo_db.py`` (built once, about 5 minutes for 100,000
enterprises, then reused), or the one ``--db`` names (a path or a URL). The workbook is written in this process and
measured, so run it in a fresh process (``bench/run.py`` does) for the peak to mean the workbook:

- time: wall-clock time of ``write_bureau_workbook`` (queries included);
- peak memory: the peak resident set size of this process (``resource.getrusage``), which includes the
  interpreter and SQLite's page cache; with ``--tracemalloc``, also the peak of Python allocations in a
  second, slower run.

Bars (DESIGN.md §6): ≤ 30 s and ≤ 500 MB for 100,000 enterprises.

    python bench/bureau.py [--enterprises N] [--db PATH] [--cache DIR] [--out PATH] [--tracemalloc]
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select

from assessment.accounts import Actor
from assessment.db import Store
from assessment.models import Organisation
from bench.demo_db import DEFAULT_CACHE, demo_database
from bench.table import print_table, row
from reports.bureau import write_bureau_workbook

BAR_ENTERPRISES = 100_000
BAR_SECONDS = 30.0
BAR_MB = 500.0
ADMIN = Actor(user_id=0, username="bench", role="bureau_admin", organisation_id=None)
FIGURES = {"bureau.workbook": "bureau workbook", "bureau.memory": "its peak memory (process RSS)"}


def database_url(enterprises: int, db: str | None, cache: Path = DEFAULT_CACHE) -> str:
    """The database to measure: the one named (a path or a URL), else the cached demo database."""
    if db is None:
        return demo_database(enterprises, cache=cache)
    url = db if "://" in db else f"sqlite:///{Path(db).resolve()}"
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).is_file():
        raise SystemExit(f"{db}: no such database file")  # opening it would create an empty one
    if enterprise_count(url) == 0:
        raise SystemExit(f"{db}: no enterprises to report on (leave out --db to use the demo database)")
    return url


def enterprise_count(url: str) -> int:
    store = Store(url)
    try:
        with store.read() as session:
            return session.scalar(select(func.count()).select_from(Organisation)
                                  .where(Organisation.kind == "enterprise")) or 0
    finally:
        store.dispose()


def peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kilobytes on Linux, bytes on macOS
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def current_rss_mb() -> float | None:
    """The resident set size now (Linux), to show how much of the peak the writing itself added."""
    status = Path("/proc/self/status")
    if not status.exists():  # not Linux: the row then shows the peak alone
        return None
    for line in status.read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return None


def measure(url: str, out: str | None = None, python_heap: bool = False) -> list[dict]:
    found = enterprise_count(url)
    path = Path(out) if out else Path(tempfile.mkdtemp(prefix="bench-bureau-")) / "bureau.xlsx"
    store = Store(url)
    try:
        before = current_rss_mb()
        start = time.perf_counter()
        write_bureau_workbook(store, ADMIN, None, path)
        seconds = time.perf_counter() - start
        peak = peak_rss_mb()
        heap = None
        if python_heap:
            tracemalloc.start()
            write_bureau_workbook(store, ADMIN, None, path)
            heap = tracemalloc.get_traced_memory()[1] / (1024 * 1024)
            tracemalloc.stop()
    finally:
        store.dispose()
    judged = found >= BAR_ENTERPRISES
    size = f"{found:,} enterprises"
    rows = [
        row("bureau.workbook", FIGURES["bureau.workbook"], f"{seconds:.1f} s ({found / seconds:,.0f} enterprises/s)",
            f"≤ {BAR_SECONDS:.0f} s", seconds <= BAR_SECONDS if judged else None, size=size),
        row("bureau.memory", FIGURES["bureau.memory"],
            f"{peak:.0f} MB" + (f" ({before:.0f} MB before writing)" if before is not None else ""),
            f"≤ {BAR_MB:.0f} MB", peak <= BAR_MB if judged else None, size=size),
    ]
    if heap is not None:
        rows.append(row("bureau.heap", "its peak Python allocations (tracemalloc)", f"{heap:.1f} MB", size=size))
    rows.append(row("bureau.file", "its file size", f"{path.stat().st_size / 1e6:.1f} MB", size=size))
    if not out:
        shutil.rmtree(path.parent, ignore_errors=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--enterprises", type=int, default=BAR_ENTERPRISES,
                        help=f"enterprises of the demo database (default {BAR_ENTERPRISES:,})")
    parser.add_argument("--db", default=None, help="a database to read instead of the demo one (path or URL)")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE,
                        help="where the demo database is cached (default data/bench)")
    parser.add_argument("--out", default=None, help="where to write the workbook (default: a temporary folder)")
    parser.add_argument("--tracemalloc", action="store_true", help="also measure the peak of Python allocations")
    args = parser.parse_args()
    if args.enterprises < 1:
        parser.error("--enterprises: at least 1")
    rows = measure(database_url(args.enterprises, args.db, args.cache), args.out, args.tracemalloc)
    print_table(rows)
    if not any(r["ok"] is not None for r in rows):
        print(f"(bars are judged at {BAR_ENTERPRISES:,} enterprises)")


if __name__ == "__main__":
    main()
