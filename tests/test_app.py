"""The app through Streamlit's AppTest: first start, sign-in, the pages of each role, the language switch."""

import pytest
from streamlit.testing.v1 import AppTest

from assessment import PROJECT_ROOT
from ui.navigation import ROLE_PAGES
from tests.conftest import PASSWORD

APP = str(PROJECT_ROOT / "app.py")


@pytest.fixture
def app_db(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'app.db'}"
    monkeypatch.setenv("ASSESSMENT_DB_URL", url)
    return url


def start() -> AppTest:
    return AppTest.from_file(APP, default_timeout=60).run()


def sign_in(app: AppTest, username: str, password: str = PASSWORD) -> AppTest:
    app.text_input[0].input(username)
    app.text_input[1].input(password)
    app.button[0].click().run()
    return app


def test_first_start_sets_up_then_signs_in(app_db):
    app = start()
    assert not app.exception
    assert app.title[0].value == "初始设置"
    inputs = {field.label: field for field in app.text_input}
    inputs["管理员用户名"].input("chief")
    inputs["密码（至少10位，含字母和数字）"].input(PASSWORD)
    inputs["再次输入密码"].input(PASSWORD)
    app.button[0].click().run()
    assert app.title[0].value == "登录"
    assert app.success[0].value == "设置完成，请登录。"
    sign_in(app, "chief", "wrong password 1")
    assert app.error[0].value == "user name or password is wrong"
    sign_in(app, "chief")
    assert not app.exception
    assert app.title[0].value == "统计总览"


def test_the_language_switch(app_db):
    app = start()
    app.sidebar.radio[0].set_value("en").run()
    assert app.title[0].value == "Setup"
