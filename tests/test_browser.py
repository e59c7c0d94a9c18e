"""Real-browser journeys: pytest-playwright driving Debian's Chromium against `streamlit run app.py`."""

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import PASSWORD, SCREENSHOTS

pytestmark = pytest.mark.browser


def ready(page: Page) -> None:
    """Streamlit is connected and has finished running the script."""
    page.wait_for_selector("[data-testid='stApp'][data-test-connection-state='CONNECTED']", timeout=30_000)
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=30_000)


def shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)


def fill(page: Page, label: str, value: str) -> None:
    page.get_by_label(label, exact=True).fill(value)


def test_setup_sign_in_and_language(page: Page, streamlit_app):
    server, _ = streamlit_app
    page.goto(server.url)
    ready(page)
    expect(page.get_by_role("heading", name="初始设置")).to_be_visible()
    shot(page, "setup")
    fill(page, "管理员用户名", "chief")
    fill(page, "密码（至少10位，含字母和数字）", PASSWORD)
    fill(page, "再次输入密码", PASSWORD)
    page.get_by_role("button", name="完成设置").click()
    expect(page.get_by_role("heading", name="登录")).to_be_visible(timeout=30_000)
    fill(page, "用户名", "chief")
    fill(page, "密码", PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", name="统计总览")).to_be_visible(timeout=30_000)
    shot(page, "dashboard-zh")
    page.reload()  # the sign-in lives in the database, the browser keeps its token
    ready(page)
    expect(page.get_by_role("heading", name="统计总览")).to_be_visible(timeout=30_000)
    page.get_by_text("English").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible(timeout=30_000)
    shot(page, "dashboard-en")
