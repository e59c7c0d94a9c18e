"""Security through the app (Streamlit's AppTest): role isolation on every page, sign-in lockout, idle expiry and
signing out.

Each role opens each of its pages with another organisation's assessment named in the address
(``?assessment=<id>``) or remembered in the tab's session state; nothing of that organisation — its name, credit
code, answers' notes and evidence, projects, profile — may appear in any element of the page, and the work pages
say the refusal. Pages outside a role cannot be reached at all.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import streamlit as st
from google.protobuf import text_format
from sqlalchemy import func, select
from streamlit.testing.v1 import AppTest

from assessment import PROJECT_ROOT, accounts, sessions
from assessment.accounts import authenticate
from assessment.models import SignInSession, User, now
from assessment.services import Services
from tests.conftest import PASSWORD, credit_code, signed_in
from ui import session, work
from ui.navigation import ROLE_PAGES

APP = str(PROJECT_ROOT / "app.py")
REFUSAL = "您无权查看或操作此内容。"
# Enterprise 2's own data (kunshan, diagnosed by provider B), planted by the fixture.
SECRETS = ("企业2", credit_code(2), "机密备注甲", "机密证据乙", "机密项目丙", "机密产品丁")
# For each role: who acts, and which of its pages must refuse the assessment outright (the others ignore it).
ROLES = {"provider_user": ("provider_a", {"interview", "results", "files"}),
         "enterprise_user": ("enterprise_1", {"interview", "results", "files"}),
         "bureau_analyst": ("analyst", set())}


@pytest.fixture
def app_world(app_world):
    """The app's world, with enterprise 2's secrets planted in its diagnosis."""
    services, world = app_world
    version = services.get_assessment(world.provider_b, world.diagnosis_2).assessment.version
    version = services.save_answer(world.provider_b, world.diagnosis_2, "OS.1.1", "partly", note="机密备注甲",
                                   evidence="机密证据乙", expected_version=version)
    _, version = services.add_project(world.provider_b, world.diagnosis_2, title="机密项目丙",
                                      expected_version=version)
    services.save_profile(world.provider_b, world.diagnosis_2, main_products="机密产品丁", expected_version=version)
    return services, world


def everything_shown(app: AppTest) -> str:
    """The text of every element and block on the page: each proto in full, tables as CSV, and JSON-escaped forms
    (a chart's spec escapes Chinese)."""
    parts = []
    for node in app._tree:
        proto = getattr(node, "proto", None)
        if proto is not None:
            parts.append(text_format.MessageToString(proto, as_utf8=True))
        if type(node).__name__ == "Dataframe":
            parts.append(node.value.to_csv())
    return "\n".join(parts)


def leaked(app: AppTest) -> list[str]:
    shown = everything_shown(app)
    return [secret for secret in SECRETS if secret in shown or json.dumps(secret)[1:-1] in shown]


def open_tab(actor, page: str, *, param: int | None = None, remembered: int | None = None) -> AppTest:
    app = AppTest.from_file(APP, default_timeout=60)
    signed_in(app.session_state, actor)
    if remembered is not None:
        app.session_state["work_assessment"] = remembered  # what ui/work.py remembers for the tab
    app.run()
    app.switch_page(f"ui/pages/{page}.py")
    if param is not None:
        app.query_params[work.PARAM] = str(param)
    app.run()
    assert not app.exception, (page, app.exception)
    return app


@pytest.mark.parametrize("role", sorted(ROLES))
def test_no_page_shows_another_organisations_assessment(app_world, role):
    services, w = app_world
    name, refusing = ROLES[role]
    actor = w.actors()[name]
    # Enterprise 2's secrets are really on the pages of those who may see it (else the check proves nothing).
    rightful = open_tab(w.provider_b, "interview", param=w.diagnosis_2)
    assert {"企业2", "机密备注甲", "机密证据乙"} <= set(leaked(rightful))
    for page in [*ROLE_PAGES[role], "account"]:
        for how in ("param", "remembered"):
            app = open_tab(actor, page, **{how: w.diagnosis_2})
            assert leaked(app) == [], (role, page, how, leaked(app))
            if page in refusing:
                assert [e.value for e in app.error] == [REFUSAL], (role, page, how)
                assert not app.download_button
                assert not app.main.radio
                assert "work_assessment" not in app.session_state, "a refused id is not remembered"
    assert services.get_assessment(w.admin, w.diagnosis_2).answers["OS.1.1"].note == "机密备注甲"


@pytest.mark.parametrize("role", sorted(ROLE_PAGES))
def test_pages_outside_a_role_cannot_be_reached_even_naming_an_assessment(app_world, role):
    _, w = app_world
    actor = {"bureau_admin": w.admin, "bureau_analyst": w.analyst, "provider_user": w.provider_a,
             "enterprise_user": w.enterprise_1}[role]
    app = AppTest.from_file(APP, default_timeout=60)
    signed_in(app.session_state, actor)
    app.query_params[work.PARAM] = str(w.diagnosis_2)
    app.run()
    outside = {name for pages in ROLE_PAGES.values() for name in pages} - set(ROLE_PAGES[role])
    for name in sorted(outside | {"setup", "sign_in"}):
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            app.switch_page(f"ui/pages/{name}.py")


# --- sign-in, lockout, expiry, sign-out in the app -----------------------------------------------------------


def sign_in(app: AppTest, username: str, password: str) -> AppTest:
    app.text_input[0].input(username)
    app.text_input[1].input(password)
    app.button[0].click().run()
    return app


def session_rows(services: Services) -> int:
    with services.store.read() as db:
        return db.scalar(select(func.count()).select_from(SignInSession))


def test_five_failed_sign_ins_lock_the_account_in_the_app(app_world):
    services, _ = app_world
    app = AppTest.from_file(APP, default_timeout=60).run()
    refused = "用户名或密码错误，或账户因多次登录失败已暂时锁定。"  # the same words, locked or not (#11)
    for _ in range(accounts.MAX_FAILED_LOGINS):
        sign_in(app, "provider_b", "wrong password 9")
        assert [e.value for e in app.error] == [refused]
    sign_in(app, "provider_b", PASSWORD)
    assert [e.value for e in app.error] == [refused]
    with services.store.read() as db:
        assert accounts.is_locked(db.scalar(select(User).where(User.username == "provider_b")))
    assert "actor" not in app.session_state
    assert session_rows(services) == 0
    assert PASSWORD not in everything_shown(app)


def test_an_idle_sign_in_expires_and_signing_out_ends_the_token(app_world):
    services, w = app_world
    app = AppTest.from_file(APP, default_timeout=60).run()
    sign_in(app, "provider_a", PASSWORD)
    assert app.session_state["actor"] == w.provider_a
    token = app.session_state["token"]
    assert session_rows(services) == 1
    assert sessions.resume_session(services.store, token, session.SESSION_TIMEOUT) == w.provider_a
    # Idle for longer than the timeout: the next run signs the tab out and ends its token in the database.
    app.session_state["last_seen"] = datetime.now(UTC) - session.SESSION_TIMEOUT - timedelta(seconds=1)
    app.run()
    assert "actor" not in app.session_state
    assert "长时间未操作，已自动退出，请重新登录。" in [warning.value for warning in app.warning]
    assert session_rows(services) == 0
    assert sessions.resume_session(services.store, token, session.SESSION_TIMEOUT) is None
    # Sign in again, then sign out on the account page: the token ends too.
    sign_in(app, "provider_a", PASSWORD)
    token = app.session_state["token"]
    app.switch_page("ui/pages/account.py").run()
    app.button(key="account_sign_out").click().run()
    assert "actor" not in app.session_state
    assert session_rows(services) == 0
    assert sessions.resume_session(services.store, token, session.SESSION_TIMEOUT) is None


def test_a_tab_in_use_renews_its_sign_in_so_long_work_never_ends_in_a_sign_out(app_world):
    services, w = app_world
    app = AppTest.from_file(APP, default_timeout=60).run()
    sign_in(app, "provider_a", PASSWORD)
    token = app.session_state["token"]
    # Twenty-five minutes of work since the database last heard of the token (e.g. answering in the interview's
    # fragment): the next run renews it, so a reload five minutes later still resumes the sign-in.
    long_ago = now() - timedelta(minutes=25)
    with services.store.write() as db:
        db.get(SignInSession, sessions.digest(token)).last_seen = long_ago
    app.session_state["renewed"] = datetime.now(UTC) - session.RENEW_EVERY
    app.run()
    assert app.session_state["actor"] == w.provider_a
    with services.store.read() as db:
        renewed = db.get(SignInSession, sessions.digest(token)).last_seen
    assert renewed > long_ago + timedelta(minutes=24)
    assert sessions.resume_session(services.store, token, timedelta(minutes=5)) == w.provider_a


def test_a_user_deactivated_while_signed_in_is_signed_out_at_the_next_run(app_world):
    services, w = app_world
    for actor, page in ((w.provider_a, "interview"), (w.analyst, "dashboard")):  # the dashboard reads analytics
        app = open_tab(actor, page, param=w.diagnosis_1)
        assert not app.error
        services.set_user_active(w.admin, actor.user_id, False)
        app.run()
        assert "actor" not in app.session_state
        assert [title.value for title in app.title] == ["登录"]
        assert not app.main.radio


# --- user text is shown as typed, never as Markdown -------------------------------------------------------------

LURE = "![logo](http://evil.example/p.png) [请重新登录](http://evil.example/login)"


def no_markdown(shown: str) -> None:
    """``LURE`` shown as typed: its brackets escaped, so neither the image nor the link is drawn."""
    for markup in ("![logo](", "[请重新登录]("):
        assert markup not in shown, shown
    for escaped in (r"!\[logo\]", r"\[请重新登录\]"):
        assert escaped in shown, shown


def test_an_address_naming_no_assessment_is_quoted_not_rendered(app_world):
    _, w = app_world
    app = AppTest.from_file(APP, default_timeout=60)
    signed_in(app.session_state, w.provider_a)
    app.run()
    app.switch_page("ui/pages/interview.py")
    app.query_params[work.PARAM] = "[请重新登录](http://evil.example/login)"
    app.run()
    assert not app.exception
    [error] = [e.value for e in app.error]
    assert "[请重新登录](" not in error, error
    assert r"\[请重新登录\]" in error, error


def test_an_enterprises_comment_reaches_the_reviewer_as_typed(app_world):
    services, w = app_world
    version = services.get_assessment(w.admin, w.submitted_1).assessment.version
    services.move(w.enterprise_1, w.submitted_1, "confirm", expected_version=version, rating=3, comment=LURE)
    app = AppTest.from_file(APP, default_timeout=60)
    signed_in(app.session_state, w.admin)
    app.run()
    app.switch_page("ui/pages/review.py").run()
    app.selectbox(key="review_open").set_value(w.submitted_1).run()
    assert not app.exception
    [shown] = [info.value for info in app.info if "evil.example" in info.value]
    no_markdown(shown)


@pytest.mark.parametrize("raw", ["²", "٣", "3000000000", "1" * 400])
def test_an_address_number_no_assessment_can_have_is_refused_by_the_page(app_world, raw):
    """'²' passed str.isdigit and crashed int(); 3000000000 reached PostgreSQL's integer column as a raw error."""
    _, w = app_world
    app = AppTest.from_file(APP, default_timeout=60)
    signed_in(app.session_state, w.provider_a)
    app.run()
    app.switch_page("ui/pages/interview.py")
    app.query_params[work.PARAM] = raw
    app.run()
    assert not app.exception, app.exception
    assert [e.value for e in app.error] == [f"网址中的评估编号“{raw[:40]}”无效。"]


def test_a_download_is_built_only_while_the_tabs_sign_in_holds(app_world):
    """Streamlit calls a download's builder when the button is clicked, without running the page again: a
    deactivated analyst, or one idle past the timeout, still got the raw answers. ``session.guarded`` checks."""
    services, w = app_world

    def drawn_for(actor) -> object:  # the page drawn for ``actor``, signed in with a real token
        st.session_state.clear()
        signed_in(st.session_state, actor)
        return session.guarded(lambda: b"raw answers", "answers_csv")

    assert drawn_for(w.analyst)() == b"raw answers"
    build = drawn_for(w.analyst)
    services.set_user_active(w.admin, w.analyst.user_id, False)
    with pytest.raises(accounts.AuthenticationError):
        build()
    services.set_user_active(w.admin, w.analyst.user_id, True)
    build = drawn_for(w.analyst)
    with services.store.write() as db:  # idle past the timeout since the page was drawn
        db.get(SignInSession, sessions.digest(st.session_state["token"])).last_seen = \
            now() - session.SESSION_TIMEOUT - timedelta(minutes=1)
    with pytest.raises(accounts.AuthenticationError):
        build()
    build = drawn_for(w.analyst)
    sessions.close_session(services.store, st.session_state["token"])  # signed out in another tab
    with pytest.raises(accounts.AuthenticationError):
        build()
    st.session_state.clear()


def test_a_display_name_and_a_review_comment_are_shown_as_typed_everywhere(app_world):
    """The sidebar and the account page show a person's display name; the enterprise records repeat the bureau's
    review comments: each as typed."""
    services, w = app_world
    user_id = services.create_user(w.admin, "lured", LURE, PASSWORD, "bureau_admin", w.admin.organisation_id)
    actor = authenticate(services.store, "lured", PASSWORD)
    assert actor.user_id == user_id
    version = services.get_assessment(w.admin, w.confirmed_1).assessment.version
    services.move(w.admin, w.confirmed_1, "return", expected_version=version, comment=LURE)
    app = AppTest.from_file(APP, default_timeout=60)
    signed_in(app.session_state, actor)
    app.run()
    [caption] = [c.value for c in app.sidebar.caption if "evil.example" in c.value]
    no_markdown(caption)
    app.switch_page("ui/pages/account.py").run()
    [shown] = [m.value for m in app.markdown if "evil.example" in m.value]
    no_markdown(shown)
    app.switch_page("ui/pages/archive.py").run()
    app.text_input(key="archive_search").input(credit_code(1)).run()
    app.selectbox(key=f"archive_open_{w.enterprise_1_id}").set_value(w.confirmed_1).run()
    assert not app.exception, app.exception
    [history] = [m.value for m in app.markdown if "evil.example" in m.value]
    no_markdown(history)
