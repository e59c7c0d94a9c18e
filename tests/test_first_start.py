"""The first start: set-up happens once, on SQLite and PostgreSQL, even when several try at the same moment, and
from a browser only with the one-time token printed on the server's console."""

import io
import threading

import pytest
from sqlalchemy import func, select
from streamlit.testing.v1 import AppTest

from assessment import PROJECT_ROOT, setup_token
from assessment.db import Store
from assessment.errors import AssessmentError
from assessment.models import Organisation, User
from assessment.services import Services
from assessment.setup_token import SetupToken, SetupTokenError
from tests.conftest import PASSWORD
from tests.streamlit_server import SETUP_TOKEN


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


# --- the set-up token --------------------------------------------------------------------------------------


@pytest.fixture
def empty_services(tmp_path, monkeypatch):
    """Services on an empty database with a token of their own (a fresh server process), printing to a buffer."""
    monkeypatch.delenv(setup_token.ENV, raising=False)
    console = io.StringIO()
    store = Store(f"sqlite:///{tmp_path / 'empty.db'}")
    yield Services(store, setup_token=SetupToken(console=console)), console
    store.dispose()


def printed_token(console: io.StringIO) -> str:
    *_, token = console.getvalue().split()
    return token


def test_the_token_is_printed_on_the_console_once_and_only_it_sets_up_from_a_browser(empty_services):
    services, console = empty_services
    assert services.needs_setup()
    assert services.needs_setup()
    assert console.getvalue().count("set-up token") == 1
    token = printed_token(console)
    assert len(token) >= 32
    for typed, code in (("", "setup_token_missing"), (token[:-1], "setup_token_wrong"),
                        (token + "x", "setup_token_wrong")):
        with pytest.raises(SetupTokenError) as refused:
            services.set_up("苏州市工业和信息化局", "chief", "局长", PASSWORD, token=typed)
        assert refused.value.code == code
    assert refused.value.params == {"left": setup_token.MAX_WRONG - 2}
    assert services.needs_setup(), "nothing of a refused set-up is kept"
    admin = services.set_up("苏州市工业和信息化局", "chief", "局长", PASSWORD, token=f" {token} ")
    assert admin.role == "bureau_admin"
    assert not services.needs_setup()


def test_five_wrong_tokens_lock_set_up_until_the_server_restarts(empty_services, tmp_path):
    services, console = empty_services
    services.needs_setup()
    token = printed_token(console)
    for left in range(setup_token.MAX_WRONG - 1, -1, -1):
        with pytest.raises(SetupTokenError) as refused:
            services.set_up("苏州市工业和信息化局", "chief", "局长", PASSWORD, token="guess-" + "0" * 26)
        assert (refused.value.code, refused.value.params) == ("setup_token_wrong", {"left": left})
    with pytest.raises(SetupTokenError) as refused:  # even the right one, now
        services.set_up("苏州市工业和信息化局", "chief", "局长", PASSWORD, token=token)
    assert refused.value.code == "setup_token_spent"
    assert services.needs_setup()
    restarted = Services(services.store, setup_token=SetupToken(console=console))
    restarted.needs_setup()
    restarted.set_up("苏州市工业和信息化局", "chief", "局长", PASSWORD, token=printed_token(console))
    assert not restarted.needs_setup()


def test_a_token_set_in_the_environment_is_used_and_not_printed(empty_services, monkeypatch):
    services, console = empty_services
    monkeypatch.setenv(setup_token.ENV, "short")
    with pytest.raises(SetupTokenError) as refused:
        services.set_up("苏州市工业和信息化局", "chief", "局长", PASSWORD, token="short")
    assert refused.value.code == "setup_token_too_short"
    monkeypatch.setenv(setup_token.ENV, SETUP_TOKEN)
    services.needs_setup()
    assert setup_token.ENV in console.getvalue()
    assert SETUP_TOKEN not in console.getvalue()
    services.set_up("苏州市工业和信息化局", "chief", "局长", PASSWORD, token=SETUP_TOKEN)
    assert not services.needs_setup()


def test_the_set_up_page_refuses_a_visitor_without_the_token(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'app.db'}"
    monkeypatch.setenv("ASSESSMENT_DB_URL", url)
    monkeypatch.setenv(setup_token.ENV, SETUP_TOKEN)
    app = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=60).run()
    assert app.title[0].value == "初始设置"
    store = Store(url)
    for typed, refusal in (("", "请输入设置令牌"), ("a-guess-of-the-token-0123456789", "设置令牌不正确")):
        inputs = {field.label: field for field in app.text_input}
        if typed:
            inputs["设置令牌"].input(typed)
        inputs["管理员用户名"].input("intruder")
        inputs["密码（至少10位，含字母和数字）"].input(PASSWORD)
        inputs["再次输入密码"].input(PASSWORD)
        app.button[0].click().run()
        assert not app.exception
        assert app.title[0].value == "初始设置"
        assert refusal in app.error[0].value
        assert Services(store).needs_setup()
    inputs = {field.label: field for field in app.text_input}
    inputs["设置令牌"].input(SETUP_TOKEN)
    app.button[0].click().run()
    assert app.title[0].value == "登录"
    assert not Services(store).needs_setup()
    store.dispose()
