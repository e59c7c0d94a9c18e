"""Long lists: pages of a bounded number of rows read in a constant number of queries, searches that find what was
typed (``%`` and ``_`` are characters, not wildcards), and the list pages' page control."""

from __future__ import annotations

import math

import pytest
from streamlit.testing.v1 import AppTest

from assessment import PROJECT_ROOT
from assessment.inputs import InputError
from bench.users_page import StatementCounter, add_enterprise_users
from tests.conftest import PASSWORD, enterprise_fields, signed_in
from ui import session
from ui.i18n import words
from ui.paging import PAGE_SIZE

APP = str(PROJECT_ROOT / "app.py")


def open_page(actor, page: str) -> AppTest:
    app = AppTest.from_file(APP, default_timeout=60)
    signed_in(app.session_state, actor)
    app.session_state["lang"] = "zh"
    app.run()
    app.switch_page(f"ui/pages/{page}.py").run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def statements_of_a_rerun(app: AppTest, url: str) -> int:
    with StatementCounter(session._services(url).store.engine) as counter:  # the app's own store
        app.run()
    assert not app.exception, [e.value for e in app.exception]
    return counter.count


# -- the users page ----------------------------------------------------------------------------------------------


def test_the_users_page_sends_as_many_statements_for_many_accounts_as_for_few(app_world, monkeypatch):
    services, world = app_world
    url = services.store.url
    add_enterprise_users(services.store, 3, prefix="few")
    app = open_page(world.admin, "users")
    few = statements_of_a_rerun(app, url)
    add_enterprise_users(services.store, 300, prefix="many")  # each of its own enterprise
    many = statements_of_a_rerun(app, url)
    assert many == few
    assert len(app.dataframe[0].value) == PAGE_SIZE


def test_a_users_page_shows_at_most_a_page_and_its_control_reaches_the_last_account(app_world):
    services, world = app_world
    add_enterprise_users(services.store, 120, prefix="zz")  # after every account of the world, by name
    total = len(services.list_users(world.admin))
    app = open_page(world.admin, "users")
    table = app.dataframe[0].value
    assert len(table) == PAGE_SIZE
    assert table["用户名"].iloc[0] == "admin"
    control = app.number_input(key="users_page")
    assert control.max == math.ceil(total / PAGE_SIZE)
    assert app.caption[0].value == f"第 1–{PAGE_SIZE} 行，共 {total} 行"
    control.set_value(control.max).run()
    table = app.dataframe[0].value
    assert table["用户名"].iloc[-1] == "zz00119"
    assert len(table) == total - (control.max - 1) * PAGE_SIZE
    # The accounts to deactivate are those shown; a search starts again on its first page.
    assert app.selectbox(key="users_switch_choice").options[-1].startswith("zz 119 · zz00119")
    app.text_input(key="users_search").input("zz0011").run()
    assert list(app.dataframe[0].value["用户名"]) == [f"zz0011{n}" for n in range(10)]
    assert not app.number_input  # one page: no control


# -- every list page: a page at a time ------------------------------------------------------------------------


def test_the_organisations_page_lists_every_enterprise_a_page_at_a_time(app_world):
    services, world = app_world
    for n in range(60):
        services.create_organisation(world.admin, **{**enterprise_fields(300 + n, "gusu"), "name": f"页企业{n:02d}"})
    total = len(services.list_enterprises(world.admin))
    app = open_page(world.admin, "organisations")
    assert len(app.dataframe[0].value) == PAGE_SIZE
    app.number_input(key="org_page").set_value(2).run()
    assert len(app.dataframe[0].value) == total - PAGE_SIZE
    app.text_input(key="org_search").input("页企业5").run()
    assert sorted(app.dataframe[0].value["名称"]) == [f"页企业5{n}" for n in range(10)]


# -- searches: what was typed, on both databases ------------------------------------------------------------------


@pytest.mark.parametrize(("typed", "found"), [("%", ["达标率100%"]), ("_", ["a_b 公司"]), ("\\", ["c\\d 公司"]),
                                              ("0%", ["达标率100%"]), ("公司", ["a_b 公司", "c\\d 公司", "ab 公司"])])
def test_a_search_finds_the_characters_typed_not_wildcards(world_store, typed, found):
    services, w = world_store
    for n, name in enumerate(("达标率100%", "a_b 公司", "c\\d 公司", "ab 公司")):
        services.create_organisation(w.admin, **{**enterprise_fields(400 + n, "gusu"), "name": name})
    assert sorted(e.name for e in services.list_enterprises(w.admin, search=typed)) == sorted(found)
    page = services.enterprises_page(w.admin, search=typed, limit=2)
    assert page.total == len(found)
    assert [e.name for e in page.rows] == sorted(found)[:2]


@pytest.mark.parametrize("typed", ["%", "_", "under", "\\"])
def test_an_account_search_finds_the_characters_typed_not_wildcards(world_store, typed):
    services, w = world_store
    for username, name in (("pct", "pct%"), ("under_score", "under_score"), ("underxscore", "underXscore"),
                           ("back", "back\\slash")):
        services.create_user(w.admin, username, name, PASSWORD, "bureau_admin", w.admin.organisation_id)
    page = services.users_page(w.admin, search=typed)
    expected = [u.username for u in services.list_users(w.admin) if typed in u.username or typed in u.display_name]
    assert [user.username for user, _ in page.rows] == expected
    assert page.total == len(expected) < len(services.list_users(w.admin))


def test_a_page_of_accounts_takes_as_many_statements_for_many_accounts_as_for_few(world_store):
    services, w = world_store
    add_enterprise_users(services.store, 3, prefix="few")
    with StatementCounter(services.store.engine) as few:
        services.users_page(w.admin)
    add_enterprise_users(services.store, 300, prefix="many")
    with StatementCounter(services.store.engine) as many:
        page = services.users_page(w.admin)
    assert many.count == few.count
    assert len(page.rows) == 50
    assert all(org is not None and org.name for user, org in page.rows if user.role == "enterprise_user")


def test_a_page_of_accounts_comes_with_its_organisations_and_the_total(world_store):
    services, w = world_store
    everyone = [u.username for u in services.list_users(w.admin)]
    first, second = services.users_page(w.admin, limit=4), services.users_page(w.admin, limit=4, offset=4)
    assert first.total == second.total == len(everyone)
    assert [u.username for u, _ in first.rows + second.rows] == everyone[:8]
    organisations = {u.username: org.name if org else None for u, org in first.rows + second.rows}
    assert organisations["enterprise_1"] == "企业1"
    assert services.users_page(w.admin, offset=len(everyone)).rows == []


@pytest.mark.parametrize(("limit", "offset", "zh"), [
    (0, 0, "每页行数：不能小于 1。"), (-3, 0, "每页行数：不能小于 1。"), (10, -1, "起始行：不能小于 0。")])
def test_a_page_of_no_rows_or_before_the_first_is_refused_with_words(world_store, limit, offset, zh):
    services, w = world_store
    with pytest.raises(InputError) as refused:
        services.users_page(w.admin, limit=limit, offset=offset)
    assert session.said(refused.value, "zh") == zh
    assert words("en")["errors.form.too_small"]  # said in English too
    with pytest.raises(InputError):
        services.enterprises_page(w.admin, limit=limit, offset=offset)
    if offset == 0:  # the lists that take a limit only
        for call in (lambda: services.list_enterprises(w.admin, limit=limit),
                     lambda: services.audit_log(w.admin, limit=limit)):
            with pytest.raises(InputError):
                call()


def test_the_requests_page_shows_the_waiting_requests_a_page_at_a_time(app_world):
    services, world = app_world
    for n in range(PAGE_SIZE + 5):
        enterprise = services.create_organisation(world.admin, **enterprise_fields(500 + n, "gusu"))
        services.request_diagnosis(world.admin, enterprise)
    waiting = len(services.list_assessments(world.admin, status="requested", kind="diagnosis"))
    app = open_page(world.admin, "requests")
    assert len(app.dataframe[0].value) == PAGE_SIZE
    app.number_input(key="requests_requested_page").set_value(2).run()
    assert len(app.dataframe[0].value) == waiting - PAGE_SIZE
    # Every waiting request can still be assigned, whichever page the table shows.
    assert len(app.selectbox(key="requests_assign_request").options) == waiting
    # Assigned elsewhere meanwhile, the list fits one page: the page shown is its only one, without a control.
    for a, _ in services.list_assessments(world.admin, status="requested", kind="diagnosis")[:10]:
        services.move(world.admin, a.id, "assign", expected_version=a.version, provider_id=world.provider_a_id)
    app.run()
    assert len(app.dataframe[0].value) == waiting - 10
    assert not [control for control in app.number_input if control.key == "requests_requested_page"]
