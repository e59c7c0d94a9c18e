"""The app through Streamlit's AppTest: first start, sign-in, the pages of each role, the language switch."""

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from assessment import PROJECT_ROOT, setup_token
from assessment.db import Store
from assessment.services import Services
from tests.conftest import PASSWORD, build_world, signed_in
from tests.streamlit_server import SETUP_TOKEN
from ui import i18n
from ui.navigation import ROLE_PAGES

APP = str(PROJECT_ROOT / "app.py")


@pytest.fixture
def app_db(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'app.db'}"
    monkeypatch.setenv("ASSESSMENT_DB_URL", url)
    monkeypatch.setenv(setup_token.ENV, SETUP_TOKEN)
    return url


@pytest.fixture
def app_world(app_db):
    store = Store(app_db)
    world = build_world(Services(store))
    store.dispose()
    return world


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
    inputs["设置令牌"].input(SETUP_TOKEN)
    inputs["管理员用户名"].input("chief")
    inputs["密码（至少10位，含字母和数字）"].input(PASSWORD)
    inputs["再次输入密码"].input(PASSWORD)
    app.button[0].click().run()
    assert app.title[0].value == "登录"
    assert app.success[0].value == "设置完成，请登录。"
    sign_in(app, "chief", "wrong password 1")
    assert app.error[0].value == "用户名或密码错误，或账户因多次登录失败已暂时锁定。"
    sign_in(app, "chief")
    assert not app.exception
    assert app.title[0].value == "统计总览"


def test_the_language_switch(app_db):
    app = start()
    app.sidebar.radio[0].set_value("en").run()
    assert app.title[0].value == "Setup"


@pytest.mark.parametrize("role", sorted(ROLE_PAGES))
def test_each_role_reaches_its_own_pages_and_no_others(app_world, role):
    actor = {"bureau_admin": app_world.admin, "bureau_analyst": app_world.analyst,
             "provider_user": app_world.provider_a, "enterprise_user": app_world.enterprise_1}[role]
    app = AppTest.from_file(APP, default_timeout=60)
    signed_in(app.session_state, actor)
    app.run()
    assert not app.exception
    mine = set(ROLE_PAGES[role])
    for name in sorted({name for pages in ROLE_PAGES.values() for name in pages}):
        if name in mine:
            app.switch_page(f"ui/pages/{name}.py").run()
            assert not app.exception, (role, name, app.exception)
        else:  # a page not in the role's navigation cannot be reached at all
            with pytest.raises(ValueError, match="Could not find a navigation page"):
                app.switch_page(f"ui/pages/{name}.py")


def test_the_locales_have_the_same_keys_and_every_key_used_exists():
    assert set(i18n.words("zh")) == set(i18n.words("en"))
    used = set()
    for path in [*Path(PROJECT_ROOT / "ui").rglob("*.py"), Path(APP)]:
        used |= set(re.findall(r"""\bt\(\s*["']([a-z_]+\.[a-z_.]+)["']""", path.read_text(encoding="utf-8")))
    assert used, "the pattern finds the keys"
    assert used <= set(i18n.words("zh")), used - set(i18n.words("zh"))


def test_every_error_code_the_domain_raises_has_words_in_both_languages():
    raised = set()
    for path in Path(PROJECT_ROOT / "assessment").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        raised |= set(re.findall(r""",\s*code=["']([a-z_]+)["']""", text))  # raise SomeError(message, code=…)
        if path.name == "workflow.py":  # the guards' refusals: ("code", "message", {params})
            raised |= set(re.findall(r"""\(\s*"([a-z_]+)",\s*f?"[^"]*",\s*\{""", text))
    assert {"incomplete", "no_project", "conflict", "not_allowed", "locked"} <= raised
    for lang in ("zh", "en"):
        assert {f"errors.{code}" for code in raised} <= set(i18n.words(lang))
