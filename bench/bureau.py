"""Bureau workbook benchmark: the time and peak memory of writing the bureau workbook for N enterprises (SQLite).

The database is a demo database (``assessment.demo.generate``): ``--db`` names one to reuse (a path or a
``sqlite:///`` URL); without it, ``data/bench/bureau-N.db`` is used, and built when it does not exist yet (for
100,000 enterprises that takes several minutes, once). The database is built in a child process so that its
memory does not count; the workbook is then written in this process and measured:

- time: wall-clock time of ``write_bureau_workbook`` (queries included);
- peak memory: the peak resident set size of this process (``resource.getrusage``), which includes the
  interpreter and SQLite's page cache; with ``--tracemalloc``, also the peak of Python allocations in a
  second, slower run.

Bars (DESIGN.md §6): ≤ 30 s and ≤ 500 MB for 100,000 enterprises.

    python bench/bureau.py [--enterprises N] [--db PATH] [--out PATH] [--tracemalloc]
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select

from assessment import PROJECT_ROOT
from assessment.accounts import Actor
from assessment.db import Store
from assessment.demo import generate
from assessment.models import Organisation
from bench.table import print_table
from reports.bureau import write_bureau_workbook

BAR_ENTERPRISES = 100_000
BAR_SECONDS = 30.0
BAR_MB = 500.0
ADMIN = Actor(user_id=0, username="bench", role="bureau_admin", organisation_id=None)


def database_url(enterprises: int, db: str | None) -> str:
    if db is None:
        db = str(PROJECT_ROOT / "data" / "bench" / f"bureau-{enterprises}.db")
    return db if "://" in db else f"sqlite:///{Path(db).resolve()}"


def enterprise_count(url: str) -> int:
    store = Store(url)
    try:
        with store.read() as session:
            return session.scalar(select(func.count()).select_from(Organisation)
                                  .where(Organisation.kind == "enterprise")) or 0
    finally:
        store.dispose()


def _build(url: str, enterprises: int) -> None:
    store = Store(url)
    generate(store, enterprises, progress=lambda line: print(line, file=sys.stderr))
    store.dispose()


def ensure_database(url: str, enterprises: int) -> int:
    """The number of enterprises in the database, after building it with the demo data when it is empty."""
    found = enterprise_count(url)
    if found == 0:
        print(f"building a demo database of {enterprises:,} enterprises at {url} (once) …", file=sys.stderr)
        child = multiprocessing.get_context("spawn").Process(target=_build, args=(url, enterprises))
        child.start()
        child.join()
        if child.exitcode != 0:
            raise SystemExit(f"building the demo database failed (exit code {child.exitcode})")
        found = enterprise_count(url)
    return found


def peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kilobytes on Linux, bytes on macOS
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def current_rss_mb() -> float | None:
    """The resident set size now (Linux), to show how much of the peak the writing itself added."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def measure(enterprises: int = BAR_ENTERPRISES, db: str | None = None, out: str | None = None,
            python_heap: bool = False) -> list[dict]:
    url = database_url(enterprises, db)
    found = ensure_database(url, enterprises)
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

    def verdict(ok: bool) -> bool | None:
        return ok if judged else None

    rows = [
        {"figure": f"bureau workbook, {found:,} enterprises", "value": f"{seconds:.1f} s "
         f"({found / seconds:,.0f} enterprises/s)", "bar": f"≤ {BAR_SECONDS:.0f} s",
         "ok": verdict(seconds <= BAR_SECONDS)},
        {"figure": "peak memory (process RSS)",
         "value": f"{peak:.0f} MB" + (f" (before writing: {before:.0f} MB)" if before is not None else ""),
         "bar": f"≤ {BAR_MB:.0f} MB", "ok": verdict(peak <= BAR_MB)},
    ]
    if heap is not None:
        rows.append({"figure": "peak Python allocations (tracemalloc)", "value": f"{heap:.1f} MB", "bar": "",
                     "ok": None})
    rows.append({"figure": "workbook size", "value": f"{path.stat().st_size / 1e6:.1f} MB ({path})", "bar": "",
                 "ok": None})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--enterprises", type=int, default=BAR_ENTERPRISES,
                        help=f"enterprises of the demo database to build (default {BAR_ENTERPRISES:,})")
    parser.add_argument("--db", default=None, help="a demo database to reuse (path or sqlite:/// URL)")
    parser.add_argument("--out", default=None, help="where to write the workbook (default: a temporary folder)")
    parser.add_argument("--tracemalloc", action="store_true", help="also measure the peak of Python allocations")
    args = parser.parse_args()
    if args.enterprises < 1:
        parser.error("--enterprises: at least 1")
    rows = measure(args.enterprises, args.db, args.out, args.tracemalloc)
    print_table(rows)
    if not any(row["ok"] is not None for row in rows):
        print(f"(bars are judged at {BAR_ENTERPRISES:,} enterprises)")


if __name__ == "__main__":
    main()
