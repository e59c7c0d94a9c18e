"""Load benchmark: concurrent sessions answer questions against a real `streamlit run app.py` on loopback.

Each session is its own provider user, signed in by a sign-in cookie, with its own diagnosis in progress; it opens
the interview on one subdomain and, until the time is up, picks a different answer for one requirement after
another — a browser-less tab (tests/streamlit_client.py) speaking Streamlit's own websocket protocol, waiting for
each rerun to finish as a person would. A save's latency runs from sending the change to the end of the rerun it
caused (the fragment holding the questions); a save counts as acknowledged when that rerun showed no error.
Figures: saves per second over all sessions and the 95th percentile of a save's latency. Checked in the same run:
no session saw an error, and the database holds exactly each session's last acknowledged answer for every item.

    python bench/load.py [--seconds 60] [--sessions 20] [--db sqlite|postgres]

PostgreSQL: the server of ASSESSMENT_TEST_PG_URL (a new database on it), else a throwaway cluster started here.
tests/test_load.py runs the same code (``seat_sessions``, ``drive``, ``lost_answers``) and asserts only correctness.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg

from assessment import sessions
from assessment.accounts import Actor
from assessment.db import Store
from assessment.questionnaire import by_id
from assessment.services import Services
from bench.table import print_table, row
from tests import pgcluster
from tests.conftest import PASSWORD, enterprise_fields
from tests.streamlit_client import ProtocolError, StreamlitClient
from tests.streamlit_server import StreamlitServer

COOKIE = "assessment_session"  # ui/session.py's sign-in cookie
QUESTIONNAIRE = "cmmm-2020"
PROFILE = "discrete"  # enterprise_fields makes discrete manufacturers
CHOICES = ("full", "mostly", "partly", "none")  # the answers a session cycles through (na excluded: no score)
ITEMS = 5  # the requirements each session answers over and over: it keeps changing answers it saved


@dataclass
class Seat:
    """One simulated diagnostician: who signs in, with which token, answering which assessment and items."""

    user: Actor
    token: str
    assessment_id: int
    subdomain: str
    items: list[str]


@dataclass
class SessionLog:
    """What one session did and believes: its acknowledged answers, each save's latency, every error it saw."""

    seat: Seat
    latencies: list[float] = field(default_factory=list)
    acknowledged: dict[str, str] = field(default_factory=dict)  # item id → last acknowledged answer code
    changed: int = 0  # acknowledged saves that replaced an answer acknowledged before
    pending: tuple[str, str] | None = None  # the save sent and not yet answered: (item id, code)
    errors: list[str] = field(default_factory=list)


def seat_sessions(services: Services, admin: Actor, count: int, *, first: int = 1000) -> list[Seat]:
    """``count`` provider users, each with its own enterprise and diagnosis in progress and a sign-in token.
    Sessions spread over the subdomains; each answers the first ITEMS requirements of its subdomain."""
    q = by_id(QUESTIONNAIRE)
    subdomains = sorted({item.subdomain for item in q.items_for(PROFILE)})
    seats = []
    for n in range(first, first + count):
        provider = services.create_organisation(admin, kind="provider", name=f"负载服务商{n}")
        enterprise = services.create_organisation(admin, **enterprise_fields(n, "gusu"))
        user_id = services.create_user(admin, f"load{n}", f"诊断师{n}", PASSWORD, "provider_user", provider)
        user = Actor(user_id, f"load{n}", "provider_user", provider, None)
        diagnosis = services.request_diagnosis(admin, enterprise)
        version = services.move(admin, diagnosis, "assign", expected_version=1, provider_id=provider)
        services.move(user, diagnosis, "start", expected_version=version)
        subdomain = subdomains[n % len(subdomains)]
        items = [item.id for item in q.items_for(PROFILE) if item.subdomain == subdomain][:ITEMS]
        seats.append(Seat(user, sessions.open_session(services.store, user), diagnosis, subdomain, items))
    return seats


def connect(base_url: str, seat: Seat) -> StreamlitClient:
    return StreamlitClient(base_url, cookies={COOKIE: seat.token})


def answer_key(seat: Seat, item_id: str) -> str:
    """The interview page's widget key of an item's answer (ui/work.py ``key(aid, "a", item_id)``)."""
    return f"wk{seat.assessment_id}.a.{item_id}"


def open_interview(client: StreamlitClient, seat: Seat) -> dict[str, str]:
    """Open the seat's interview page; returns the answer codes by their option labels as the page shows them."""
    run = client.open("interview", {"assessment": seat.assessment_id, "sd": seat.subdomain})
    if not run.ok:
        raise ProtocolError(f"the interview of assessment {seat.assessment_id} did not open: {run.errors}")
    options = list(client.widget(answer_key(seat, seat.items[0])).proto.options)
    return dict(zip(options, [option.code for option in by_id(QUESTIONNAIRE).scale], strict=True))


def answer_until(client: StreamlitClient, log: SessionLog, codes: dict[str, str], deadline: float) -> None:
    """Change one answer after another until ``deadline``; record each save in ``log``."""
    seat, labels = log.seat, {code: label for label, code in codes.items()}
    n = 0
    while time.monotonic() < deadline:
        item = seat.items[n % len(seat.items)]
        before = log.acknowledged.get(item)
        code = next(c for k in range(len(CHOICES)) if (c := CHOICES[(n + k) % len(CHOICES)]) != before)
        n += 1
        log.pending = (item, code)
        started = time.perf_counter()
        run = client.choose(answer_key(seat, item), labels[code])
        elapsed = time.perf_counter() - started
        log.pending = None
        if run.ok:
            log.changed += before is not None
            log.acknowledged[item] = code
            log.latencies.append(elapsed)
        else:
            log.errors.append(f"assessment {seat.assessment_id} {item} → {code}: {run.errors}")


def drive(base_url: str, seats: list[Seat], seconds: float) -> list[SessionLog]:
    """Every seat in its own thread: open the interview, then all answer together for ``seconds``."""
    logs = [SessionLog(seat) for seat in seats]
    deadline: list[float] = []  # set once every session is on its page, before any of them goes on
    ready = threading.Barrier(len(seats), action=lambda: deadline.append(time.monotonic() + seconds))

    def session(log: SessionLog) -> None:
        try:
            client = connect(base_url, log.seat)
        except ProtocolError as error:
            log.errors.append(f"assessment {log.seat.assessment_id}: {error}")
            ready.abort()  # nobody waits for a session that could not start
            return
        try:
            codes = open_interview(client, log.seat)
            ready.wait()
            answer_until(client, log, codes, deadline[0])
        except (ProtocolError, KeyError, threading.BrokenBarrierError) as error:
            log.errors.append(f"assessment {log.seat.assessment_id}: {error!r}")
            ready.abort()
        finally:
            client.close()

    threads = [threading.Thread(target=session, args=(log,), name=f"load-{log.seat.assessment_id}")
               for log in logs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return logs


def lost_answers(services: Services, reader: Actor, logs: list[SessionLog]) -> list[str]:
    """Each difference between what a session believes it saved and what the database holds."""
    lost = []
    for log in logs:
        answers = services.get_assessment(reader, log.seat.assessment_id).answers
        stored = {item: row.code for item, row in answers.items()}
        for item in sorted(set(stored) | set(log.acknowledged)):
            if stored.get(item) != log.acknowledged.get(item):
                lost.append(f"assessment {log.seat.assessment_id} {item}: acknowledged "
                            f"{log.acknowledged.get(item)}, stored {stored.get(item)}")
    return lost


def cpu_seconds(pid: int) -> float | None:
    """The CPU time (user + system) a process has used so far, from /proc (Linux); None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime (fields 14, 15)


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[-1] if len(values) > 1 else values[0]


DATABASE = f"bench_load_{os.getpid()}"  # the benchmark's own database on a PostgreSQL server


def postgres(server_url: str, *statements: str) -> None:
    """Run statements on the server's maintenance database (CREATE / DROP DATABASE cannot run in a transaction)."""
    with psycopg.connect(server_url.replace("+psycopg", "") + "/postgres", autocommit=True) as connection:
        for statement in statements:
            connection.execute(statement)


def measure(seconds: float = 60, sessions: int = 20, db: str = "sqlite") -> list[dict]:
    """Run the load on a fresh database of kind ``db`` ("sqlite" or "postgres"); the rows of its figures."""
    work = Path(tempfile.mkdtemp(prefix="bench-load-"))
    cluster = server_url = None
    if db == "sqlite":
        url = f"sqlite:///{work / 'load.db'}"
    elif db == "postgres":
        server_url = os.environ.get("ASSESSMENT_TEST_PG_URL")
        if not server_url:
            server_url, cluster = pgcluster.start()
        url = f"{server_url}/{DATABASE}"
        postgres(server_url, f"DROP DATABASE IF EXISTS {DATABASE}", f"CREATE DATABASE {DATABASE}")
    else:
        raise ValueError(f"db must be sqlite or postgres, not {db!r}")
    store = Store(url)
    try:
        services = Services(store)
        admin = services.set_up("负载测试工信局", "admin", "管理员", PASSWORD)
        seats = seat_sessions(services, admin, sessions)
        server = StreamlitServer(url, work / "streamlit.log")
        try:
            cpu_before = cpu_seconds(server.process.pid)
            logs = drive(server.url, seats, seconds)
            cpu_after = cpu_seconds(server.process.pid)
        finally:
            server.stop()
        lost = lost_answers(services, admin, logs)
    finally:
        store.dispose()
        if cluster is not None:
            pgcluster.stop(cluster)
        elif server_url is not None:  # a shared server: leave nothing behind on it
            postgres(server_url, f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        shutil.rmtree(work, ignore_errors=True)
    latencies = [s for log in logs for s in log.latencies]
    errors = sum(len(log.errors) for log in logs)
    name = {"sqlite": "SQLite", "postgres": "PostgreSQL"}[db]
    size = f"{sessions} sessions, {seconds:g} s"
    rows = [row(f"load.{db}.saves", f"load on {name}: saves per second", f"{len(latencies) / seconds:.1f}",
                size=f"{size}, {len(latencies)} saves")]
    if latencies:
        rows.append(row(f"load.{db}.p95", f"load on {name}: a save's latency, 95th percentile",
                        f"{p95(latencies) * 1000:.0f} ms (median {statistics.median(latencies) * 1000:.0f} ms)",
                        size=size))
    if latencies and cpu_before is not None and cpu_after is not None:
        # Unlike the latency, hardly changed by other processes on the machine: what one save costs the server.
        rows.append(row(f"load.{db}.cpu", f"load on {name}: server CPU time per save",
                        f"{(cpu_after - cpu_before) / len(latencies) * 1000:.0f} ms (page opens included)", size=size))
    rows.append(row(f"load.{db}.errors", f"load on {name}: errors / lost answers", f"{errors} / {len(lost)}", "0 / 0",
                    errors == 0 and not lost and all(log.acknowledged for log in logs), size=size))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    arguments = parser.parse_args()
    print_table(measure(arguments.seconds, arguments.sessions, arguments.db))


if __name__ == "__main__":
    main()
