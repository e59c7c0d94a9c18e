"""Sign-in sessions (issue 11), on SQLite and PostgreSQL: every run of a tab checks its token's row in the database,
so signing out ends every tab of the sign-in, and a busy tab still ends at the absolute lifetime; expired rows are
deleted; a download is audited; the app's caches survive Streamlit's clear_cache message."""

from __future__ import annotations

from datetime import timedelta

import pytest
import streamlit as st
from sqlalchemy import func, select
from streamlit.runtime.caching import cache_data, cache_resource
from streamlit.testing.v1 import AppTest

from assessment import PROJECT_ROOT, sessions
from assessment.accounts import AuthenticationError
from assessment.analytics import NO_FILTERS
from assessment.db import Store
from assessment.models import SignInSession
from assessment.services import Services
from tests.conftest import signed_in
from ui import bureau, session, work
from ui.i18n import words

APP = str(PROJECT_ROOT / "app.py")
HOUR = timedelta(hours=1)


@pytest.fixture
def app_db(databases, backend, world_templates, monkeypatch):
    """The test world in a new database of each kind, which the app (AppTest) reads through ASSESSMENT_DB_URL."""
    template, world = world_templates(backend)
    url = databases.new(backend, template)
    monkeypatch.setenv("ASSESSMENT_DB_URL", url)
    store = Store(url)
    yield Services(store), world
    store.dispose()


def age(services: Services, token: str, **ages: timedelta) -> None:
    """Move a session's created_at / last_seen back by the given amounts."""
    with services.store.write() as db:
        row = db.get(SignInSession, sessions.digest(token))
        for column, amount in ages.items():
            setattr(row, column, getattr(row, column) - amount)


def ended_because(app: AppTest) -> list[str]:
    """The warnings of the sign-in page a tab was sent to."""
    assert "actor" not in app.session_state
    assert [title.value for title in app.title] == ["登录"]
    return [warning.value for warning in app.warning]


def said(code: str, **params) -> str:
    return words("zh")[f"errors.{code}"].format(**params)


# -- the session's row decides, at every check ---------------------------------------------------------------


def test_a_session_ends_for_each_reason_and_says_which(world_store):
    services, w = world_store
    store = services.store

    def ended(token: str, actor=None) -> str:
        with pytest.raises(sessions.SessionEndedError) as caught:
            sessions.check_session(store, token, actor)
        assert sessions.resume_session(store, token) is None
        return caught.value.code

    token = sessions.open_session(store, w.provider_a)
    assert sessions.check_session(store, token, w.provider_a) == w.provider_a
    sessions.close_session(store, token)
    assert ended(token) == "session_closed"
    assert ended("forged") == "session_closed"

    token = sessions.open_session(store, w.provider_a)
    age(services, token, last_seen=sessions.IDLE_TIMEOUT + timedelta(minutes=1))
    assert ended(token) == "session_idle"

    token = sessions.open_session(store, w.provider_a)
    age(services, token, created_at=sessions.LIFETIME + timedelta(minutes=1))  # busy all along: last_seen is now
    assert ended(token) == "session_lifetime"

    token = sessions.open_session(store, w.provider_a)
    services.set_user_active(w.admin, w.provider_a.user_id, False)
    assert ended(token) == "session_account"
    services.set_user_active(w.admin, w.provider_a.user_id, True)

    token = sessions.open_session(store, w.provider_a)  # the tab's actor is another user's: not this sign-in's
    assert ended(token, w.provider_b) == "session_account"
    with store.read() as db:
        assert db.scalar(select(func.count()).select_from(SignInSession)) == 0  # every ended row was deleted


def test_a_check_renews_the_row_only_when_asked(world_store):
    services, w = world_store
    token = sessions.open_session(services.store, w.enterprise_1)
    age(services, token, last_seen=timedelta(minutes=20))
    with services.store.read() as db:
        before = db.get(SignInSession, sessions.digest(token)).last_seen
    sessions.check_session(services.store, token)
    with services.store.read() as db:
        assert db.get(SignInSession, sessions.digest(token)).last_seen == before
    sessions.check_session(services.store, token, renew=True)
    with services.store.read() as db:
        assert db.get(SignInSession, sessions.digest(token)).last_seen > before + timedelta(minutes=19)


def test_opening_a_session_deletes_the_expired_rows(world_store):
    services, w = world_store
    idle, old, live = (sessions.open_session(services.store, w.analyst) for _ in range(3))
    age(services, idle, last_seen=sessions.IDLE_TIMEOUT + timedelta(minutes=1), created_at=HOUR)
    age(services, old, created_at=sessions.LIFETIME + timedelta(minutes=1))
    age(services, live, created_at=HOUR, last_seen=timedelta(minutes=1))
    newest = sessions.open_session(services.store, w.admin)
    with services.store.read() as db:
        kept = set(db.scalars(select(SignInSession.token_hash)))
    assert kept == {sessions.digest(live), sessions.digest(newest)}


# -- every run of a tab: the whole app, a callback, the interview's fragment ------------------------------------


def interview_tab(actor, token: str, assessment_id: int) -> AppTest:
    """Another tab with the same cookie (the same token), on the interview of ``assessment_id``."""
    app = AppTest.from_file(APP, default_timeout=60)
    app.session_state["actor"], app.session_state["token"] = actor, token
    app.query_params.update({work.PARAM: str(assessment_id), "sd": "OS"})
    app.run()
    app.switch_page("ui/pages/interview.py").run()
    assert not app.exception, app.exception
    return app


def test_signing_out_in_one_tab_ends_every_tab_of_the_sign_in(app_db, cmmm):
    services, w = app_db
    owner = AppTest.from_file(APP, default_timeout=60)
    signed_in(owner.session_state, w.provider_a)
    owner.run()
    other = interview_tab(w.provider_a, owner.session_state["token"], w.diagnosis_1)
    first = work.items_of(cmmm, "discrete", "OS")[0].id
    other.radio(key=work.key(w.diagnosis_1, "a", first)).set_value("partly").run()
    assert services.get_assessment(w.admin, w.diagnosis_1).answers[first].code == "partly"

    owner.switch_page("ui/pages/account.py").run()
    owner.button(key="account_sign_out").click().run()
    # The other tab's next answer is not saved: its run (the widget's callback first) finds the sign-in ended.
    other.radio(key=work.key(w.diagnosis_1, "a", first)).set_value("none").run()
    assert not other.exception, other.exception
    assert said("session_closed") in ended_because(other)
    assert services.get_assessment(w.admin, w.diagnosis_1).answers[first].code == "partly"


def test_a_busy_tab_is_signed_out_at_the_lifetime_of_its_sign_in(app_db):
    services, w = app_db
    token = sessions.open_session(services.store, w.provider_a)
    app = interview_tab(w.provider_a, token, w.diagnosis_1)
    age(services, token, created_at=sessions.LIFETIME + timedelta(seconds=1))
    app.run()
    hours = round(sessions.LIFETIME / HOUR)
    assert said("session_lifetime", hours=hours) in ended_because(app)
    with services.store.read() as db:
        assert db.get(SignInSession, sessions.digest(token)) is None


def test_a_tab_is_signed_out_when_its_user_is_deactivated_and_told_why(app_db):
    services, w = app_db
    app = interview_tab(w.provider_a, sessions.open_session(services.store, w.provider_a), w.diagnosis_1)
    services.set_user_active(w.admin, w.provider_a.user_id, False)
    app.run()
    assert said("session_account") in ended_because(app)


def answering_fragment() -> None:
    """A fragment that, like the interview's, keeps the sign-in alive and then saves an answer."""
    import streamlit as st

    from ui import session

    @st.fragment
    def answer() -> None:
        session.keep_alive()
        current = st.session_state.get("actor")
        if current is not None:
            session.services().save_answer(current, st.session_state["assessment"], st.session_state["item"],
                                           st.session_state["code"], expected_version=st.session_state["version"])

    answer()


def test_the_interviews_fragment_checks_the_sign_in_before_it_saves(app_db, cmmm):
    services, w = app_db
    token = sessions.open_session(services.store, w.provider_a)
    first = work.items_of(cmmm, "discrete", "OS")[0].id
    app = AppTest.from_function(answering_fragment, default_timeout=60)
    version = services.get_assessment(w.admin, w.diagnosis_1).assessment.version
    for name, value in {"actor": w.provider_a, "token": token, "assessment": w.diagnosis_1, "item": first,
                        "code": "partly", "version": version}.items():
        app.session_state[name] = value
    sessions.close_session(services.store, token)  # signed out in another tab
    app.run()
    assert not app.exception, app.exception
    assert first not in services.get_assessment(w.admin, w.diagnosis_1).answers
    assert "actor" not in app.session_state
    assert app.session_state["session_ended"].code == "session_closed"


# -- downloads -------------------------------------------------------------------------------------------------


def test_a_download_is_recorded_in_the_audit_log(app_db):
    services, w = app_db
    st.session_state.clear()
    signed_in(st.session_state, w.analyst)
    build = session.guarded(lambda: b"raw answers", "answers_csv", filters=NO_FILTERS)
    assert build() == b"raw answers"
    [entry] = services.audit_log(w.admin, entity="download")
    assert (entry.user_id, entry.action, entry.entity_id) == (w.analyst.user_id, "download", "answers_csv")

    build = session.guarded(lambda: b"report", "report", assessment_id=w.diagnosis_1)
    assert build() == b"report"
    [entry] = services.audit_log(w.admin, entity="assessment", entity_id=w.diagnosis_1, limit=1)
    assert (entry.user_id, entry.action, entry.after["download"]) == (w.analyst.user_id, "download", "report")

    sessions.close_session(services.store, st.session_state["token"])
    with pytest.raises(AuthenticationError):
        session.guarded(lambda: b"refused", "answers_csv")()
    assert len(services.audit_log(w.admin, entity="download")) == 1  # a refused download is not recorded
    st.session_state.clear()


# -- caches nobody else can clear ----------------------------------------------------------------------------


def test_streamlits_clear_cache_leaves_the_apps_own_caches(app_db):
    """Any websocket client may send Streamlit's clear_cache message, which clears st.cache_data and
    st.cache_resource for everyone; the store and the dashboard's figures are kept where it cannot reach."""
    services, w = app_db
    store = session.services().store
    bureau.clear_caches()
    figures = bureau.aggregate("provider_choices", store, w.admin)
    assert figures[w.provider_a_id] == "服务商甲"
    services.update_organisation(w.admin, w.provider_a_id, name="服务商甲（新名）")
    cache_data.clear()  # what app_session's clear_cache handler does
    cache_resource.clear()
    assert session.services().store is store
    assert bureau.aggregate("provider_choices", store, w.admin) == figures  # still the cached figures
    bureau.clear_caches()  # the app's own clearing, after a change it made
    assert bureau.aggregate("provider_choices", store, w.admin)[w.provider_a_id] == "服务商甲（新名）"


def test_the_figures_cache_keeps_entries_for_their_time_and_no_more_than_its_size():
    clock = [0.0]
    cache = bureau.ExpiringCache(ttl=10, size=2, clock=lambda: clock[0])
    computed = []

    def value(key: str) -> str:
        return cache.get(key, lambda: computed.append(key) or key.upper())

    assert [value("a"), value("a"), value("b")] == ["A", "A", "B"]
    assert computed == ["a", "b"]
    clock[0] = 10.5  # past the time: computed again
    assert value("a") == "A"
    value("c")  # a third key: the least recently used ("b") makes room
    value("b")
    assert computed == ["a", "b", "a", "c", "b"]
