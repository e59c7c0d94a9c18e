"""Users page benchmark: the server time of one rerun of the bureau admin's users page (AppTest, the script run of
one session as the server does it), over a fresh SQLite database holding N enterprise users, each of its own
enterprise (the case that made the page read each user's organisation on its own), and the number of SQL
statements the rerun sends.

    python bench/users_page.py [--users N] [--repeats R]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import streamlit.logger
from sqlalchemy import event, insert, select
from streamlit.testing.v1 import AppTest

from assessment import PROJECT_ROOT, accounts
from assessment.db import Store
from assessment.models import Organisation, User
from assessment.services import Services
from tests.conftest import signed_in

streamlit.logger.set_log_level("error")  # AppTest's bare-mode warnings would bury the figures

APP = str(PROJECT_ROOT / "app.py")
PASSWORD = accounts.one_time_password()  # made at random: the benchmark's database is thrown away anyway


def add_enterprise_users(store: Store, count: int, prefix: str = "user") -> None:
    """``count`` enterprises with one enterprise user each, inserted in bulk (one password hash for all of them:
    hashing thousands of passwords one by one would be the slow part)."""
    password_hash = accounts.hash_password(PASSWORD)
    with store.write() as db:
        first = (db.scalar(select(Organisation.id).order_by(Organisation.id.desc()).limit(1)) or 0) + 1
        db.execute(insert(Organisation), [{"id": first + k, "kind": "enterprise", "name": f"{prefix} 企业 {k}"}
                                          for k in range(count)])
        db.execute(insert(User), [{"username": f"{prefix}{k:05d}", "display_name": f"{prefix} {k}",
                                   "password_hash": password_hash, "role": "enterprise_user",
                                   "organisation_id": first + k} for k in range(count)])


class StatementCounter:
    """Counts the SQL statements an engine sends while it is listened to."""

    def __init__(self, engine) -> None:
        self.engine, self.count = engine, 0

    def _seen(self, *_args) -> None:
        self.count += 1

    def __enter__(self) -> StatementCounter:
        self.count = 0
        event.listen(self.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *_exc) -> None:
        event.remove(self.engine, "before_cursor_execute", self._seen)


def measure(users: int, repeats: int) -> tuple[list[float], int]:
    with tempfile.TemporaryDirectory(prefix="bench-users-") as folder:
        url = f"sqlite:///{folder}/users.db"
        store = Store(url)
        admin = Services(store).set_up("苏州市工业和信息化局", "admin", "管理员", PASSWORD)
        add_enterprise_users(store, users)
        os.environ["ASSESSMENT_DB_URL"] = url  # ui.session reads it
        app = AppTest.from_file(APP, default_timeout=600)
        signed_in(app.session_state, admin)
        app.run()
        app.switch_page("ui/pages/users.py").run()  # warm-up: imports, the store, the page
        if app.exception:
            raise SystemExit(f"the page raised: {[e.value for e in app.exception]}")
        seconds = []
        for _ in range(repeats):
            start = time.perf_counter()
            app.run()
            seconds.append(time.perf_counter() - start)
        from ui import session  # the app's own store, the one its pages query

        with StatementCounter(session._services(url).store.engine) as counter:
            app.run()
        store.dispose()
        return seconds, counter.count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=5_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    seconds, statements = measure(args.users, args.repeats)
    print(f"users page rerun, {args.users:,} enterprise users: median {statistics.median(seconds) * 1000:,.0f} ms "
          f"(max {max(seconds) * 1000:,.0f} ms, {len(seconds)} runs), {statements:,} SQL statements per rerun")


if __name__ == "__main__":
    main()
