"""App benchmark: the server time of one Streamlit rerun, measured with AppTest (the script run of one session as
the server does it, without a browser), timed with ``time.perf_counter``.

- **dashboard**: one rerun of the dashboard page of a bureau admin over a demo database of N enterprises (about
  1.06 N assessments: some enterprises have a follow-up round) in SQLite, *uncached*: the figures' cache is cleared
  before every timed run. Measured for the page as it opens (filters, KPIs and the first tab: levels against the
  national figures) and with each other tab open — the tabs run lazily, so a rerun computes only the open tab's
  figures. Also the cached rerun, and each aggregate on its own. Bar (DESIGN.md §6): ≤ 1 s for 100,000 assessments.
- **interview**: one rerun after answering a question, bar ≤ 100 ms — measured by ``bench/interview.py``;
  ``measure_interview`` is the hook that lists it here too.

The database is the cached demo database of ``bench/demo_db.py``, shared with ``bench/bureau.py`` and
``bench/reports.py`` (built once, several minutes for 100,000 enterprises, then reused), or the one ``--db`` names (a
path or a URL).

    python bench/app.py [--enterprises N] [--db PATH] [--cache DIR] [--repeats R] [--only dashboard|interview]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import streamlit.logger
from sqlalchemy import func, select
from streamlit.testing.v1 import AppTest

from assessment import PROJECT_ROOT
from assessment.accounts import Actor
from assessment.analytics import NO_FILTERS
from assessment.db import Store
from assessment.models import Assessment, User
from bench.bureau import database_url
from bench.demo_db import DEFAULT_CACHE
from bench.table import print_table, row
from tests.conftest import signed_in
from ui import bureau
from ui.i18n import words

streamlit.logger.set_log_level("error")  # AppTest's bare-mode warnings would bury the table

APP = str(PROJECT_ROOT / "app.py")
BAR_ASSESSMENTS = 100_000
DASHBOARD_BAR_S = 1.0
INTERVIEW_BAR_S = 0.100
DEFAULT_ENTERPRISES = 100_000
TAB_KEY = "bureau_dashboard_tab"  # the dashboard's lazy tabs (ui/pages/dashboard.py)
TABS = ("tab_levels", "tab_heatmap", "tab_trend", "tab_providers")
FIGURES = {"dashboard.opens": "dashboard rerun, uncached, as it opens",
           **{f"dashboard.{tab.removeprefix('tab_')}": f"dashboard rerun, uncached, {tab.removeprefix('tab_')} tab open"
              for tab in TABS[1:]}}


def first_admin(url: str) -> tuple[Actor, int]:
    """A bureau admin of the database to act as, and how many assessments the database holds."""
    store = Store(url)
    try:
        with store.read() as db:
            user = db.scalar(select(User).where(User.role == "bureau_admin", User.active).order_by(User.id).limit(1))
            assessments = db.scalar(select(func.count()).select_from(Assessment)) or 0
            if user is None:
                raise SystemExit(f"{url}: no active bureau_admin to act as")
            return Actor.of(user), assessments
    finally:
        store.dispose()


def _timed_runs(app: AppTest, repeats: int, uncached: bool, prepare: Callable[[], None] = lambda: None) -> list[float]:
    seconds = []
    for _ in range(repeats):
        prepare()
        if uncached:
            bureau.clear_caches()
        start = time.perf_counter()
        app.run()
        seconds.append(time.perf_counter() - start)
        if app.exception:
            raise SystemExit(f"the page raised: {[e.value for e in app.exception]}")
    return seconds


def _row(key: str, figure: str, seconds: list[float], bar: float | None, judged: bool, size: str) -> dict:
    median = statistics.median(seconds)
    value = f"{median * 1000:,.0f} ms (median of {len(seconds)}; max {max(seconds) * 1000:,.0f} ms)"
    bar_text = "" if not bar else (f"≤ {bar:g} s" if bar >= 1 else f"≤ {bar * 1000:,.0f} ms")
    return row(key, figure, value, bar_text,
               (median <= bar) if bar and judged else None, size=size)


def measure_dashboard(url: str, repeats: int = 5) -> list[dict]:
    admin, assessments = first_admin(url)
    judged = assessments >= BAR_ASSESSMENTS
    os.environ["ASSESSMENT_DB_URL"] = url  # ui.session reads it
    app = AppTest.from_file(APP, default_timeout=300)
    signed_in(app.session_state, admin)
    app.run()  # warm-up: imports (plotly, pandas), the store, the navigation
    app.switch_page("ui/pages/dashboard.py")
    _timed_runs(app, 1, uncached=True)
    labels = [words("zh")[f"bureau.dash.{tab}"] for tab in TABS]
    size = f"{assessments:,} assessments"
    rows = [_row("dashboard.opens", FIGURES["dashboard.opens"], _timed_runs(app, repeats, uncached=True),
                 DASHBOARD_BAR_S, judged, size)]
    for tab, label in zip(TABS[1:], labels[1:], strict=True):
        def open_tab(label: str = label) -> None:
            app.session_state[TAB_KEY] = label
        key = f"dashboard.{tab.removeprefix('tab_')}"
        rows.append(_row(key, FIGURES[key], _timed_runs(app, repeats, uncached=True, prepare=open_tab),
                         DASHBOARD_BAR_S, judged, size))
    app.session_state[TAB_KEY] = labels[0]
    app.run()
    rows.append(_row("dashboard.cached", "dashboard rerun, cached", _timed_runs(app, repeats, uncached=False), None,
                     judged, size))
    rows.extend(measure_aggregates(url, admin))
    return rows


def measure_aggregates(url: str, admin: Actor) -> list[dict]:
    """Each aggregate of the dashboard on its own (no cache), for reading where the time goes."""
    store = Store(url)
    rows = []
    try:
        for name, compute in bureau.AGGREGATES.items():
            start = time.perf_counter()
            compute(store, admin, NO_FILTERS)
            rows.append(row(f"dashboard.aggregate.{name}", f"… its aggregate {name} on its own",
                            f"{(time.perf_counter() - start) * 1000:,.0f} ms"))
    finally:
        store.dispose()
    return rows


def measure_interview(url: str, repeats: int = 30) -> list[dict]:
    """The interview page's figure (one rerun after answering a question, bar ≤ 100 ms, DESIGN.md §6) comes from
    ``bench/interview.py``, which builds its own small database (``url`` is not used): this hook only lists it in
    the same table."""
    from bench.interview import measure

    return measure(max(repeats, 30))


MEASUREMENTS: dict[str, Callable[[str, int], list[dict]]] = {
    "dashboard": measure_dashboard,
    "interview": measure_interview,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--enterprises", type=int, default=DEFAULT_ENTERPRISES,
                        help=f"enterprises of the demo database to build (default {DEFAULT_ENTERPRISES:,})")
    parser.add_argument("--db", default=None, help="a database to read instead of the demo one (path or URL)")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE,
                        help="where the demo database is cached (default data/bench)")
    parser.add_argument("--repeats", type=int, default=5, help="timed reruns per figure (default 5)")
    parser.add_argument("--only", choices=sorted(MEASUREMENTS), action="append",
                        help="measure only this (repeatable); default: everything")
    args = parser.parse_args()
    if args.enterprises < 1 or args.repeats < 1:
        parser.error("--enterprises and --repeats: at least 1")
    url = database_url(args.enterprises, args.db, args.cache)
    rows = []
    for name in args.only or MEASUREMENTS:
        rows.extend(MEASUREMENTS[name](url, args.repeats))
    print_table(rows)
    if not any(r["ok"] is not None for r in rows):
        print(f"(bars are judged at {BAR_ASSESSMENTS:,} assessments)")


if __name__ == "__main__":
    main()
