"""Load: 20 sessions answer questions at once for a minute against a real `streamlit run app.py`, on SQLite and
on PostgreSQL, and nothing goes wrong — no session sees an error, and the database holds exactly every session's
last acknowledged answer. The same code as ``bench/load.py``, which reports the speed; here only correctness.

``ASSESSMENT_LOAD_SECONDS`` shortens the run for local work; CI runs the full minute.
"""

import os

from assessment.services import Services
from bench import load
from tests.conftest import PASSWORD
from tests.streamlit_server import StreamlitServer

SESSIONS = 20
SECONDS = float(os.environ.get("ASSESSMENT_LOAD_SECONDS", "60"))


def test_twenty_sessions_answering_for_a_minute_see_no_error_and_lose_no_answer(store, tmp_path):
    services = Services(store)
    admin = services.set_up("苏州市工业和信息化局", "admin", "管理员", PASSWORD)
    seats = load.seat_sessions(services, admin, SESSIONS)
    log = tmp_path / "streamlit.log"
    server = StreamlitServer(store.url, log)
    try:
        logs = load.drive(server.url, seats, SECONDS)
    finally:
        server.stop()

    errors = [error for session in logs for error in session.errors]
    assert errors == [], f"{len(errors)} errors; server log:\n{log.read_text()[-3000:]}"
    assert "Traceback" not in log.read_text()  # nor did the server meet an exception no page showed
    assert load.lost_answers(services, admin, logs) == []
    assert all(session.acknowledged for session in logs), "every session saved something"
    assert sum(session.changed for session in logs) > 0, "sessions changed answers they had saved"


def test_the_load_benchmark_reports_its_figures():
    rows = load.measure(seconds=3, sessions=2, db="sqlite")
    assert [row["id"] for row in rows] == ["load.sqlite.saves", "load.sqlite.p95", "load.sqlite.cpu",
                                           "load.sqlite.errors"]
    assert rows[-1]["value"] == "0 / 0"
    assert rows[-1]["ok"] is True
    assert float(rows[0]["value"]) > 0
