"""The first start: set-up happens once, on SQLite and PostgreSQL, even when several try at the same moment."""

import threading

from sqlalchemy import func, select

from assessment.db import Store
from assessment.errors import AssessmentError
from assessment.models import Organisation, User
from assessment.services import Services
from tests.conftest import PASSWORD


def test_set_ups_at_the_same_moment_make_one_bureau_and_one_admin(databases, backend):
    url = databases.new(backend)
    attempts = 4
    stores = [Store(url) for _ in range(attempts)]  # each its own connections, as replicas or tabs have
    start = threading.Barrier(attempts)
    outcomes: list[object] = [None] * attempts

    def set_up(n: int) -> None:
        start.wait()
        try:
            outcomes[n] = Services(stores[n]).set_up(f"局{n}", f"admin{n}", f"管理员{n}", PASSWORD)
        except AssessmentError as error:
            outcomes[n] = error

    threads = [threading.Thread(target=set_up, args=(n,)) for n in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    refused = [outcome for outcome in outcomes if isinstance(outcome, AssessmentError)]
    assert len(refused) == attempts - 1, outcomes
    assert {error.code for error in refused} == {"already_set_up"}
    with stores[0].read() as db:
        assert db.scalar(select(func.count()).select_from(User)) == 1
        assert db.scalar(select(func.count()).select_from(Organisation)) == 1
    for store in stores:
        store.dispose()
