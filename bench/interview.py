"""Interview benchmark: the server time of one rerun after answering a question (DESIGN.md §6: ≤ 100 ms), and
its ratio to the rerun of an empty script measured the same way (Streamlit's AppTest, in this process).

    python bench/interview.py [--repeats N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import streamlit.logger  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

from assessment.db import Store  # noqa: E402
from assessment.questionnaire import by_id  # noqa: E402
from assessment.services import Services  # noqa: E402
from bench.table import print_table, row  # noqa: E402
from tests.conftest import build_world, signed_in  # noqa: E402

EMPTY = "import streamlit as st\n"
streamlit.logger.set_log_level("error")  # AppTest's bare-mode warnings would bury the table

FIGURES = {"interview.rerun": "rerun after answering a question (save included)"}


def timed_reruns(app: AppTest, change, repeats: int) -> list[float]:
    times = []
    for n in range(repeats):
        change(app, n)
        start = time.perf_counter()
        app.run()
        times.append(time.perf_counter() - start)
    return times


def measure(repeats: int = 30) -> list[dict]:
    work = Path(tempfile.mkdtemp(prefix="bench-interview-"))
    try:
        return _measure(work, repeats)
    finally:
        shutil.rmtree(work, ignore_errors=True)  # nothing left behind, whatever happened


def _measure(work: Path, repeats: int) -> list[dict]:
    url = f"sqlite:///{work / 'bench.db'}"
    os.environ["ASSESSMENT_DB_URL"] = url
    store = Store(url)
    world = build_world(Services(store))
    q = by_id("cmmm-2020")
    items = [item.id for item in q.items_for("discrete") if item.subdomain == "OS"]

    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    signed_in(app.session_state, world.provider_a)
    app.query_params["assessment"] = str(world.diagnosis_1)
    app.query_params["sd"] = "OS"
    app.run()
    app.switch_page("ui/pages/interview.py").run()
    codes = ["full", "mostly", "partly", "none"]

    def answer(app: AppTest, n: int) -> None:
        label = f"{items[n % len(items)]} 的评估结果"
        radio = next(r for r in app.radio if r.label == label)
        radio.set_value(codes[n % len(codes)])

    interview = timed_reruns(app, answer, repeats)
    if app.exception:
        raise RuntimeError(app.exception)
    saved = Services(store).get_assessment(world.admin, world.diagnosis_1).answers
    if len(saved) != min(repeats, len(items)):
        raise RuntimeError(f"{len(saved)} answers saved, expected {min(repeats, len(items))}")

    script = work / "empty.py"
    script.write_text(EMPTY)
    empty_app = AppTest.from_file(str(script)).run()
    empty = timed_reruns(empty_app, lambda _app, _n: None, repeats)

    rerun, floor = statistics.median(interview), statistics.median(empty)
    return [
        row("interview.rerun", FIGURES["interview.rerun"], f"{rerun * 1000:.1f} ms (median of {repeats})",
            "≤ 100 ms", rerun <= 0.1),
        row("interview.empty", "… against an empty script's rerun", f"{floor * 1000:.2f} ms (median of {repeats})",
            ratio=f"{rerun / floor:.0f}×"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    print_table(measure(parser.parse_args().repeats))


if __name__ == "__main__":
    main()
