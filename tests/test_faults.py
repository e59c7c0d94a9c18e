"""Faults against a real `streamlit run app.py`, with browser-less sessions (tests/streamlit_client.py).

- The server killed (SIGKILL) while sessions save: restarted on the same database, each session reconnects with its
  sign-in cookie and finds every acknowledged answer stored and shown. Only the one save in flight when the server
  died may have landed or not.
- PostgreSQL stopped mid-interview (a cluster of this test's own): a page load, a new tab and an answer save each
  show the translated message and no exception; with PostgreSQL back, the same tab works again without a server
  restart, and nothing acknowledged is lost.
"""

import threading
import time

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from assessment.db import Store, StoreUnavailableError, unavailable
from assessment.services import Services
from bench import load
from tests import pgcluster
from tests.conftest import PASSWORD, missing
from tests.streamlit_client import ProtocolError, StreamlitClient
from tests.streamlit_server import StreamlitServer, free_port
from ui.i18n import words

UNAVAILABLE = words("zh")["errors.store_unavailable"]
SAVES_BEFORE_THE_KILL = 3  # acknowledged saves each session makes before the server is killed
WAIT = 180  # seconds: the most the sessions may take for those saves on a busy machine


def stored(services: Services, admin, seat: load.Seat) -> dict[str, str]:
    return {item: row.code for item, row in services.get_assessment(admin, seat.assessment_id).answers.items()}


def keep_answering(client: StreamlitClient, log: load.SessionLog, codes: dict[str, str]) -> None:
    """Answer until the connection breaks (the server is killed); the break is recorded in the log."""
    try:
        load.answer_until(client, log, codes, deadline=time.monotonic() + 3600)
    except ProtocolError as error:
        log.errors.append(str(error))


def test_a_server_killed_mid_interview_loses_no_acknowledged_answer(store, tmp_path):
    services = Services(store)
    admin = services.set_up("苏州市工业和信息化局", "admin", "管理员", PASSWORD)
    seats = load.seat_sessions(services, admin, 4)
    log_file = tmp_path / "streamlit.log"
    server = StreamlitServer(store.url, log_file)
    clients: list[StreamlitClient] = []
    try:
        clients = [load.connect(server.url, seat) for seat in seats]
        logs = [load.SessionLog(seat) for seat in seats]
        threads = [threading.Thread(target=keep_answering, args=(client, log, load.open_interview(client, log.seat)))
                   for client, log in zip(clients, logs, strict=True)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + WAIT
        while any(len(log.latencies) < SAVES_BEFORE_THE_KILL for log in logs) and time.monotonic() < deadline:
            time.sleep(0.05)
        server.kill()  # while every session keeps saving
        for thread in threads:
            thread.join()
        assert all(len(log.latencies) >= SAVES_BEFORE_THE_KILL for log in logs), log_file.read_text()[-3000:]
        assert all(len(log.errors) == 1 and "closed the connection" in log.errors[0] for log in logs), \
            [log.errors for log in logs]

        server.start()
        for seat, log in zip(seats, logs, strict=True):
            in_database = stored(services, admin, seat)
            for item in seat.items:
                possible = {log.acknowledged.get(item)}
                if log.pending and log.pending[0] == item:  # sent, never answered: it may have been committed
                    possible.add(log.pending[1])
                assert in_database.get(item) in possible, (seat.assessment_id, item, log.acknowledged, log.pending)
            with load.connect(server.url, seat) as client:  # the same sign-in cookie, a new connection
                labels = {code: label for label, code in load.open_interview(client, seat).items()}
                shown = {item: client.shown(load.answer_key(seat, item)) for item in seat.items}
            assert shown == {item: labels.get(in_database.get(item)) for item in seat.items}
            assert any(shown.values())
    finally:
        for client in clients:
            client.close()
        server.stop()


@pytest.fixture
def own_postgres():
    """A PostgreSQL cluster for this test alone (it is stopped and started again): its base URL and folder."""
    if not pgcluster.available():
        missing("PostgreSQL", "initdb / pg_ctl not found (Debian package postgresql)")
    url, directory = pgcluster.start()
    yield url, directory
    pgcluster.stop(directory)


@pytest.mark.postgres
def test_postgres_stopped_mid_interview_is_said_plainly_and_the_same_tab_recovers(own_postgres, tmp_path):
    base, directory = own_postgres
    url = f"{base}/postgres"
    store = Store(url)
    services = Services(store)
    admin = services.set_up("苏州市工业和信息化局", "admin", "管理员", PASSWORD)
    [seat] = load.seat_sessions(services, admin, 1)
    first, second, third = (load.answer_key(seat, item) for item in seat.items[:3])
    server = StreamlitServer(url, tmp_path / "streamlit.log")
    try:
        with load.connect(server.url, seat) as tab:
            labels = {code: label for label, code in load.open_interview(tab, seat).items()}
            assert tab.choose(first, labels["full"]).ok

            pgcluster.halt(directory)
            save = tab.choose(second, labels["partly"])  # an answer save, on the page still shown
            assert save.exceptions == []
            assert save.errors == [UNAVAILABLE]
            page = tab.rerun()  # a page load
            assert page.exceptions == []
            assert page.errors == [UNAVAILABLE]
            with load.connect(server.url, seat) as new_tab:  # a new tab cannot even read its sign-in
                opened = new_tab.open("interview", {"assessment": seat.assessment_id, "sd": seat.subdomain})
            assert opened.exceptions == []
            assert opened.errors == [UNAVAILABLE]

            pgcluster.resume(directory, base)
            again = tab.rerun()  # the same tab, the same server
            assert again.exceptions == []
            # The save that failed says so once, beside its requirement; what the screen shows is what is stored:
            # the acknowledged answer, and no trace of the choice that was not kept.
            assert again.errors == [UNAVAILABLE]
            assert tab.shown(first) == labels["full"]
            assert tab.shown(second) is None
            assert tab.choose(third, labels["mostly"]).ok
            assert tab.choose(second, labels["none"]).ok
            assert tab.rerun().ok
        answers = stored(services, admin, seat)
        assert answers == {seat.items[0]: "full", seat.items[1]: "none", seat.items[2]: "mostly"}
    finally:
        server.stop()
        store.dispose()


def test_an_exception_no_page_caught_shows_no_details(tmp_path):
    """The last line of defence (.streamlit/config.toml, client.showErrorDetails): an exception nothing caught
    reaches the browser as a generic message, without its type, text or traceback."""
    script = tmp_path / "boom.py"
    script.write_text('raise RuntimeError("internal detail: /srv/secret/path")\n')
    server = StreamlitServer(f"sqlite:///{tmp_path / 'unused.db'}", tmp_path / "streamlit.log", script=script)
    try:
        with StreamlitClient(server.url) as tab:
            run = tab.open("")
    finally:
        server.stop()
    shown = [proto for kind, proto in run.elements if kind == "exception"]
    assert len(shown) == 1
    assert shown[0].stack_trace == []
    assert "secret" not in shown[0].message
    assert "RuntimeError" not in shown[0].type + shown[0].message


# --- which database errors count as "cannot be reached" -----------------------------------------------------


def test_a_database_nobody_listens_on_is_unavailable_not_a_traceback(tmp_path):
    with pytest.raises(StoreUnavailableError) as raised:
        Store(f"postgresql+psycopg://postgres:secret@127.0.0.1:{free_port()}/nothing")
    assert raised.value.code == "store_unavailable"
    assert "secret" not in str(raised.value)  # the message names the database, never its password
    with pytest.raises(StoreUnavailableError):
        Store(f"sqlite:///{tmp_path}")  # a folder: SQLite cannot open it


def test_a_bad_query_is_a_bug_and_stays_one(store):
    with pytest.raises(DBAPIError) as raised, store.read() as db:
        db.execute(text("SELECT * FROM no_such_table"))
    assert not isinstance(raised.value, StoreUnavailableError)
    assert not unavailable(raised.value)
