"""Real-browser journeys: pytest-playwright driving Debian's Chromium against `streamlit run app.py`."""

import openpyxl
import pytest
from playwright.sync_api import Page, expect

from assessment.services import Services
from tests.conftest import PASSWORD, SCREENSHOTS, build_world

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
    page.wait_for_function("document.cookie.includes('assessment_session=')", timeout=30_000)
    page.reload()  # the sign-in lives in the database, the browser keeps its token
    ready(page)
    expect(page.get_by_role("heading", name="统计总览")).to_be_visible(timeout=30_000)
    page.get_by_text("English").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible(timeout=30_000)
    shot(page, "dashboard-en")


def sign_in(page: Page, server, username: str, then: str = "") -> None:
    page.goto(server.url)
    ready(page)
    fill(page, "用户名", username)
    fill(page, "密码", PASSWORD)
    page.get_by_role("button", name="登录").click()
    ready(page)
    expect(page.get_by_role("heading", name="登录")).to_have_count(0, timeout=30_000)
    # The browser holds the sign-in once the page has handed it the token; only then may we navigate away.
    page.wait_for_function("document.cookie.includes('assessment_session=')", timeout=30_000)
    if then:
        page.goto(f"{server.url}/{then}")
        ready(page)


def answer(page: Page, item_id: str, label: str):
    return page.get_by_role("radiogroup", name=f"{item_id} 的评估结果").get_by_text(label, exact=True)


def test_a_diagnosis_from_the_interview_to_the_report(page: Page, browser, streamlit_app, cmmm, tmp_path):
    server, store = streamlit_app
    services = Services(store)
    w = build_world(services)
    d = w.diagnosis_1
    first = [item.id for item in cmmm.items_for("discrete") if item.subdomain == "OS"]

    # The provider answers the first subdomain in the browser, every answer saved at once.
    sign_in(page, server, "provider_a", f"interview?assessment={d}")
    expect(page.get_by_text(first[0], exact=False).first).to_be_visible(timeout=30_000)
    for item_id in first:
        answer(page, item_id, "大部分满足").click()
        ready(page)
    shot(page, "interview")
    assert {i for i, a in services.get_assessment(w.admin, d).answers.items() if a.code == "mostly"} == set(first)

    # A reload finds the same page, signed in, with every answer.
    page.reload()
    ready(page)
    for item_id in first:
        expect(page.get_by_role("radiogroup", name=f"{item_id} 的评估结果").get_by_role(
            "radio", name="大部分满足")).to_be_checked()

    # The rest through the service layer; then results and submit in the browser.
    version = services.get_assessment(w.admin, d).assessment.version
    rest = {item.id: {"code": "mostly"} for item in cmmm.items_for("discrete") if item.id not in first}
    services.save_answers(w.provider_a, d, rest, expected_version=version)
    page.goto(f"{server.url}/results?assessment={d}")
    ready(page)
    shot(page, "results")
    page.get_by_role("button", name="提交诊断").click()
    ready(page)
    expect(page.get_by_text("诊断已提交，等待企业确认。")).to_be_visible(timeout=30_000)

    # The enterprise confirms and rates the provider, in its own browser.
    enterprise = browser.new_context().new_page()
    sign_in(enterprise, server, "enterprise_1", f"results?assessment={d}")
    enterprise.get_by_text("★★★★★").click()
    ready(enterprise)
    enterprise.get_by_role("button", name="确认诊断").click()
    ready(enterprise)
    expect(enterprise.get_by_text("已确认诊断并完成评分，谢谢！")).to_be_visible(timeout=30_000)
    assert services.get_assessment(w.admin, d).confirmation.rating == 5

    # The bureau approves in its review queue; the report downloads and opens.
    bureau = browser.new_context().new_page()
    sign_in(bureau, server, "admin", "review")
    bureau.get_by_role("combobox", name="打开诊断").click()
    bureau.get_by_role("option", name=f"#{d} · 企业1 · 服务商甲").click()
    ready(bureau)
    shot(bureau, "review")
    bureau.get_by_role("button", name="通过", exact=True).click()
    ready(bureau)
    expect(bureau.get_by_text(f"诊断 #{d} 已通过。")).to_be_visible(timeout=30_000)
    assert services.get_assessment(w.admin, d).assessment.status == "approved"
    page.goto(f"{server.url}/files?assessment={d}")
    ready(page)
    with page.expect_download() as download:
        page.get_by_role("button", name="下载诊断报告").click()
    path = tmp_path / "report.xlsx"
    download.value.save_as(path)
    assert openpyxl.load_workbook(path).sheetnames[:2] == ["封面", "总览"]

    # The same pages in English.
    page.get_by_text("English").click()
    ready(page)
    expect(page.get_by_role("button", name="Download the report")).to_be_visible(timeout=30_000)
    shot(page, "files-en")
