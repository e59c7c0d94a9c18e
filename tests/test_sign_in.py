"""Sign-in hardening (#11): a lockout that holds when attempts come at once, refusals that look and cost the same
whoever they are about, slowing by source, an administrator's unlock, the password list, user names that cannot
look alike, and sign-ins in the audit log. On SQLite and PostgreSQL where the database matters."""

from __future__ import annotations

import threading
from datetime import timedelta

import argon2
import pytest
from sqlalchemy import select

from assessment import accounts
from assessment.accounts import AuthenticationError, SourceThrottle, authenticate
from assessment.inputs import InputError
from assessment.models import AuditEntry, User, now
from assessment.permissions import NotAllowedError
from tests.conftest import PASSWORD
from ui.session import client_address

WRONG = "wrong password 1"


class CountingHasher(argon2.PasswordHasher):
    """The real argon2 hasher (the tests' cheap parameters), noting which hashes each verification was against."""

    def __init__(self):
        super().__init__(time_cost=1, memory_cost=1024, parallelism=1)
        self.checked: list[str] = []  # list.append is atomic under threads

    def verify(self, hash, password):  # argon2's own parameter names
        self.checked.append(hash if isinstance(hash, str) else hash.decode())
        return super().verify(hash, password)

    def real(self) -> int:
        """How many checks were against a user's own hash (not the stand-in of a refusal)."""
        return sum(1 for h in self.checked if h != accounts._DUMMY_HASH)


@pytest.fixture(autouse=True)
def _quick_stand_in_hash(monkeypatch):
    """The stand-in hash a refusal checks has the production cost (it must take as long as a real check); these
    tests refuse often, so theirs is as cheap as the tests' users' hashes."""
    cheap = argon2.PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(accounts, "_DUMMY_HASH", cheap.hash("a password nobody has"))


@pytest.fixture
def hasher(monkeypatch) -> CountingHasher:
    counting = CountingHasher()
    monkeypatch.setattr(accounts, "_hasher", counting)
    return counting


def user_row(services, username: str) -> User:
    with services.store.read() as db:
        return db.scalar(select(User).where(User.username == username))


def refusal(store, username: str, password: str, source: str | None = None) -> AuthenticationError:
    with pytest.raises(AuthenticationError) as caught:
        authenticate(store, username, password, source)
    return caught.value


# --- 1. the lockout holds when attempts come at once -------------------------------------------------------------


def test_wrong_sign_ins_at_once_lock_the_account_after_five_with_five_checks_of_its_hash(world_store, hasher):
    """PostgreSQL read and wrote the count without a lock: 30 threads never locked the account."""
    services, _ = world_store
    attempts = 12
    start = threading.Barrier(attempts)
    refused: list[str] = []

    def attempt() -> None:
        start.wait()
        try:
            authenticate(services.store, "provider_b", WRONG)
        except AuthenticationError as error:
            refused.append(error.code)

    threads = [threading.Thread(target=attempt) for _ in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert refused == ["sign_in_failed"] * attempts
    assert hasher.real() == accounts.MAX_FAILED_LOGINS  # the rest were refused without trying the password
    assert user_row(services, "provider_b").locked_until > now()
    assert refusal(services.store, "provider_b", PASSWORD).code == "sign_in_failed"  # even the right one
    assert hasher.real() == accounts.MAX_FAILED_LOGINS


# --- 2. refusals look and cost the same; slowing by source; unlock -----------------------------------------------


def test_every_refusal_says_the_same_and_checks_one_password_hash(world_store, hasher):
    """Only real accounts got the "locked" message, and it came back without any hash checked."""
    services, w = world_store
    store = services.store
    services.set_user_active(w.admin, w.provider_a.user_id, False)
    for _ in range(accounts.MAX_FAILED_LOGINS):
        refusal(store, "enterprise_2", WRONG)
    cases = {"unknown name": ("nobody", PASSWORD), "inactive account": ("provider_a", PASSWORD),
             "locked account": ("enterprise_2", PASSWORD), "wrong password": ("provider_b", WRONG)}
    said = set()
    for case, (username, password) in cases.items():
        before = len(hasher.checked)
        error = refusal(store, username, password)
        said.add((error.code, str(error), tuple(sorted(error.params.items()))))
        assert len(hasher.checked) == before + 1, case
    assert said == {("sign_in_failed", accounts.REFUSED, ())}


def test_the_words_of_a_refusal_mention_the_lockout_and_nothing_else_tells_a_locked_account():
    from ui.session import said

    error = AuthenticationError(accounts.REFUSED, code="sign_in_failed")
    assert said(error, "en") == ("The user name or password is wrong, or the account is locked for a while after "
                                 "repeated failures.")
    assert "锁定" in said(error, "zh")


class Clock:
    """Time for a throttle under test: sleeping moves it on (nothing really waits)."""

    def __init__(self):
        self.now, self.slept = 1000.0, []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_failures_from_one_source_slow_its_next_attempts_more_and_more_and_no_other_source():
    clock = Clock()
    throttle = SourceThrottle(clock=clock, sleep=clock.sleep)
    for _ in range(accounts.FREE_FAILURES):
        assert throttle.wait("198.51.100.7")
        throttle.failed("198.51.100.7")
    assert clock.slept == []  # the first few are free: anyone mistypes
    waits = []
    for _ in range(4):
        assert throttle.wait("198.51.100.7")
        waits.append(clock.slept.pop())
        throttle.failed("198.51.100.7")
    assert waits == sorted(waits), waits
    assert 0 < 4 * waits[0] <= waits[-1], waits
    assert throttle.wait("203.0.113.5")  # another source is not slowed
    assert throttle.wait(None)  # an unknown source (a local connection) is not slowed
    assert clock.slept == []
    throttle.succeeded("198.51.100.7")
    assert throttle.wait("198.51.100.7")
    assert clock.slept == []


def test_attempts_from_one_source_at_once_wait_one_after_the_other_and_too_many_are_refused():
    clock = Clock()
    throttle = SourceThrottle(clock=clock, sleep=lambda seconds: None)  # nothing waits: all arrive at once
    for _ in range(accounts.FREE_FAILURES + 1):
        throttle.failed("198.51.100.7")
    admitted = [throttle.wait("198.51.100.7") for _ in range(100)]
    assert admitted[0]
    assert not admitted[-1]
    assert sum(admitted) < 100


def test_the_throttle_remembers_a_bounded_number_of_sources():
    clock = Clock()
    throttle = SourceThrottle(clock=clock, sleep=clock.sleep, capacity=50)
    for n in range(500):
        throttle.failed(f"10.0.{n // 256}.{n % 256}")
    assert len(throttle) == 50
    clock.now += accounts.THROTTLE_WINDOW.total_seconds() + 1
    throttle.failed("198.51.100.7")
    assert len(throttle) == 1  # quiet sources are forgotten


def test_sign_in_slows_its_source_after_failures(world_store, monkeypatch):
    services, _ = world_store
    clock = Clock()
    monkeypatch.setattr(accounts, "SOURCES", SourceThrottle(clock=clock, sleep=clock.sleep))
    for n in range(accounts.FREE_FAILURES + 1):
        refusal(services.store, f"nobody{n}", WRONG, source="198.51.100.7")
    assert clock.slept[-1] > 0
    assert authenticate(services.store, "provider_b", PASSWORD, source="203.0.113.5").username == "provider_b"


def test_an_administrator_unlocks_an_account_and_deactivation_clears_a_lockout(world_store):
    services, w = world_store
    store = services.store
    for _ in range(accounts.MAX_FAILED_LOGINS):
        refusal(store, "provider_a", WRONG)
    assert accounts.is_locked(user_row(services, "provider_a"))
    for actor in (w.analyst, w.provider_a, w.enterprise_1):
        with pytest.raises(NotAllowedError):
            services.unlock_user(actor, w.provider_a.user_id)
    services.unlock_user(w.admin, w.provider_a.user_id)
    [entry] = services.audit_log(w.admin, entity="user", entity_id=w.provider_a.user_id, limit=1)
    assert (entry.user_id, entry.action, entry.after) == (w.admin.user_id, "unlock",
                                                          {"failed_logins": 0, "locked_until": None})
    assert not accounts.is_locked(user_row(services, "provider_a"))
    assert authenticate(store, "provider_a", PASSWORD).user_id == w.provider_a.user_id

    for _ in range(accounts.MAX_FAILED_LOGINS):
        refusal(store, "provider_b", WRONG)
    services.set_user_active(w.admin, w.provider_b.user_id, False)
    services.set_user_active(w.admin, w.provider_b.user_id, True)
    row = user_row(services, "provider_b")
    assert (row.failed_logins, row.locked_until) == (0, None)
    assert authenticate(store, "provider_b", PASSWORD).user_id == w.provider_b.user_id


# --- 5. sign-ins in the audit log --------------------------------------------------------------------------------


def test_sign_ins_and_failed_ones_are_in_the_audit_log_without_what_was_typed(world_store):
    services, w = world_store
    store = services.store
    with store.read() as db:
        last = db.scalar(select(AuditEntry.id).order_by(AuditEntry.id.desc()).limit(1))
    authenticate(store, "provider_a", PASSWORD, source="198.51.100.7")
    refusal(store, "provider_a", WRONG, source="198.51.100.7")
    typed_as_name = "my Secret password 5"  # someone typed the password into the name field
    refusal(store, typed_as_name, WRONG)
    with store.read() as db:
        entries = list(db.scalars(select(AuditEntry).where(AuditEntry.id > last).order_by(AuditEntry.id)))
    found = [(e.user_id, e.action, e.entity, e.entity_id, e.after) for e in entries]
    user = str(w.provider_a.user_id)
    assert found == [
        (w.provider_a.user_id, "sign_in", "user", user, {"source": "198.51.100.7"}),
        (None, "sign_in_failed", "user", user, {"source": "198.51.100.7", "reason": "wrong_password"}),
        (None, "sign_in_failed", "user", "", {"source": None, "reason": "unknown_name"}),
    ]
    assert not any(secret in str(found) for secret in (PASSWORD, WRONG, typed_as_name))


# --- 6. a wrong current password counts towards the lockout ----------------------------------------------------


def test_a_wrong_current_password_on_the_account_page_counts_towards_the_lockout(world_store):
    services, w = world_store
    for _ in range(accounts.MAX_FAILED_LOGINS):
        with pytest.raises(InputError) as wrong:
            services.change_password(w.provider_a, WRONG, "a new password 42")
        assert wrong.value.code == "form.password_wrong"
    assert accounts.is_locked(user_row(services, "provider_a"))
    with pytest.raises(AuthenticationError) as locked:  # even the right one, until the lockout ends
        services.change_password(w.provider_a, PASSWORD, "a new password 42")
    assert locked.value.code == "locked"
    assert refusal(services.store, "provider_a", PASSWORD).code == "sign_in_failed"


def test_a_lockout_ends_by_itself(world_store):
    services, _ = world_store
    for _ in range(accounts.MAX_FAILED_LOGINS):
        refusal(services.store, "provider_a", WRONG)
    with services.store.write() as db:  # the lockout's time has passed
        db.scalar(select(User).where(User.username == "provider_a")).locked_until = now() - timedelta(seconds=1)
    assert authenticate(services.store, "provider_a", PASSWORD).username == "provider_a"
    row = user_row(services, "provider_a")
    assert (row.failed_logins, row.locked_until) == (0, None)


# --- 3. common passwords -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("password", ["password12", "qwerty1234", "Demo-Password-2026", "P@ssw0rd2024",
                                      "1q2w3e4r5t6y", "woaini1314"])
def test_a_common_or_guessable_password_is_refused(password):
    from ui.session import said

    with pytest.raises(accounts.PasswordPolicyError) as refused:
        accounts.check_password_policy(password, "provider_c")
    assert refused.value.problems == [("form.password_common", {})]
    assert said(refused.value, "en") == ("Password: too easy to guess (a common password, word or pattern); "
                                         "choose another.")


@pytest.mark.parametrize("password", [PASSWORD, "a new password 42", "my own password 8", "Kx7pQ2mZr9Ta"])
def test_a_password_hard_enough_to_guess_is_accepted(password):
    accounts.check_password_policy(password, "provider_c")


def test_a_password_made_of_the_user_name_is_guessable():
    assert accounts.too_easy_to_guess("zhangwei2024x", "zhangwei2024")
    assert not accounts.too_easy_to_guess("zhangwei2024x", "provider_c")


# --- 4. user names that cannot look alike ------------------------------------------------------------------------


@pytest.mark.parametrize(("username", "code"), [
    ("ADMIN", "form.username_taken"),  # another case of admin
    ("ａｄｍｉｎ", "form.username_taken"),  # full-width letters
    ("\u0430dmin", "form.username_format"),  # a Cyrillic а
    ("adm\u0131n", "form.username_format"),  # a dotless ı
    ("张三丰", "form.username_format"),  # names are Latin; the display name carries the person's name
])
def test_a_user_name_that_looks_like_another_cannot_be_created(world_store, username, code):
    services, w = world_store
    with pytest.raises(InputError) as refused:
        services.create_user(w.admin, username, "x", PASSWORD, "provider_user", w.provider_a_id)
    assert refused.value.code == code


def test_a_user_name_is_kept_in_one_form_and_signs_in_whatever_its_case(world_store):
    services, w = world_store
    user_id = services.create_user(w.admin, " New.Comer ", "新人", PASSWORD, "provider_user", w.provider_a_id)
    assert user_row(services, "new.comer").id == user_id
    for typed in ("new.comer", "NEW.COMER", "Ｎｅｗ.Ｃｏｍｅｒ"):
        assert authenticate(services.store, typed, PASSWORD).user_id == user_id
    assert authenticate(services.store, "Provider_A", PASSWORD).user_id == w.provider_a.user_id


def test_set_up_keeps_the_first_administrators_name_in_the_same_form(store):
    from assessment.services import Services

    admin = Services(store).set_up("苏州市工信局", "Chief", "局长", PASSWORD)
    assert admin.username == "chief"
    assert authenticate(store, "CHIEF", PASSWORD).user_id == admin.user_id


def _database_at_0006_with_users(databases, backend: str, names: list[str]) -> str:
    from assessment.db import Store
    from tests.test_deploy import migrate_to

    url = databases.new(backend)
    migrate_to(url, "0006")  # a database left by the release before user names were folded
    store = Store(url, migrate=False)
    with store.engine.begin() as connection:
        connection.execute(User.__table__.insert(), [
            {"username": name, "display_name": name, "password_hash": "x", "role": "provider_user", "active": True,
             "must_change_password": False, "failed_logins": 0, "created_at": now()} for name in names])
    store.dispose()
    return url


def test_the_migration_folds_existing_user_names(databases, backend):
    from assessment.db import Store

    url = _database_at_0006_with_users(databases, backend, ["Chief", "ｄｉａｇ", "analyst"])
    store = Store(url)
    with store.read() as db:
        assert sorted(db.scalars(select(User.username))) == ["analyst", "chief", "diag"]
    store.dispose()


def test_the_migration_refuses_existing_names_that_would_become_one_and_changes_nothing(databases, backend):
    from assessment.db import Store
    from assessment.errors import AssessmentError
    from ui.session import said

    url = _database_at_0006_with_users(databases, backend, ["admin", "Admin", "Other"])
    with pytest.raises(AssessmentError) as refused:
        Store(url)
    assert refused.value.code == "usernames_collide"
    assert "'admin' (id 1) and 'Admin' (id 2) are both 'admin'" in str(refused.value)
    assert "'admin' (id 1) and 'Admin' (id 2)" in said(refused.value, "zh")
    store = Store(url, migrate=False)
    assert store.revision() == "0006"
    with store.read() as db:
        assert sorted(db.scalars(select(User.username))) == ["Admin", "Other", "admin"]
    store.dispose()


def test_the_users_page_shows_a_lockout_and_unlocks_it(app_world):
    from streamlit.testing.v1 import AppTest

    from assessment import PROJECT_ROOT
    from tests.conftest import signed_in

    services, w = app_world
    for _ in range(accounts.MAX_FAILED_LOGINS):
        refusal(services.store, "provider_a", WRONG)
    app = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=60)
    signed_in(app.session_state, w.admin)
    app.session_state["lang"] = "zh"
    app.run()
    app.switch_page("ui/pages/users.py").run()
    app.selectbox(key="users_switch_choice").set_value(w.provider_b.user_id).run()
    assert not [b for b in app.button if b.key == "users_unlock"]  # provider_b is not locked
    app.selectbox(key="users_switch_choice").set_value(w.provider_a.user_id).run()
    assert "provider\\_a 因多次登录失败已被锁定，15 分钟后自动解除。" in [warning.value for warning in app.warning]
    app.button(key="users_unlock").click().run()
    assert not app.exception, [e.value for e in app.exception]
    assert not accounts.is_locked(user_row(services, "provider_a"))
    assert "已解除账户 provider\\_a 的锁定，可以重新登录。" in [s.value for s in app.success]
    assert authenticate(services.store, "provider_a", PASSWORD).user_id == w.provider_a.user_id


def test_a_source_whose_queue_is_too_long_is_refused_without_any_check(world_store, monkeypatch, hasher):
    services, _ = world_store
    clock = Clock()
    throttle = SourceThrottle(clock=clock, sleep=lambda seconds: None)  # a burst: nobody waits its turn
    monkeypatch.setattr(accounts, "SOURCES", throttle)
    for _ in range(accounts.FREE_FAILURES + 5):
        throttle.failed("198.51.100.7")
    while throttle.wait("198.51.100.7"):  # the source's queue fills up
        pass
    checked = len(hasher.checked)
    assert refusal(services.store, "provider_b", PASSWORD, source="198.51.100.7").code == "sign_in_failed"
    assert len(hasher.checked) == checked
    assert authenticate(services.store, "provider_b", PASSWORD, source="203.0.113.5").username == "provider_b"


@pytest.mark.parametrize(("peer", "headers", "trusted", "source"), [
    (None, {}, frozenset(), None),  # a browser on the server itself: not slowed
    ("203.0.113.7", {}, frozenset(), "203.0.113.7"),  # a direct connection: its own address
    # A client naming an address of its choice is not believed unless it is a trusted proxy.
    ("203.0.113.7", {"X-Real-IP": "198.51.100.1"}, frozenset(), "203.0.113.7"),
    ("203.0.113.7", {"X-Real-IP": "198.51.100.1"}, frozenset({"127.0.0.1"}), "203.0.113.7"),
    # The deployment's nginx on the same host (Streamlit gives no address for loopback) or on another.
    (None, {"X-Real-IP": "198.51.100.1"}, frozenset({"127.0.0.1"}), "198.51.100.1"),
    (None, {"x-real-ip": " 198.51.100.2 "}, frozenset({"127.0.0.1"}), "198.51.100.2"),
    ("10.0.0.5", {"X-Real-IP": "198.51.100.3"}, frozenset({"10.0.0.5"}), "198.51.100.3"),
    (None, {}, frozenset({"127.0.0.1"}), None),  # through the proxy without the header: nothing to go by
])
def test_failed_sign_ins_are_counted_by_the_client_behind_a_trusted_proxy(peer, headers, trusted, source):
    assert client_address(peer, headers, trusted) == source
