"""Real-browser journeys: pytest-playwright driving Debian's Chromium against `streamlit run app.py`."""

import openpyxl
import pytest
from playwright.sync_api import Page, expect

from assessment.services import Services
from tests.conftest import PASSWORD, SCREENSHOTS, build_world, credit_code
from tests.streamlit_server import SETUP_TOKEN

pytestmark = pytest.mark.browser


def ready(page: Page, settle_ms: int = 0) -> None:
    """Streamlit is connected and has finished running the script. ``settle_ms`` first leaves time for a rerun
    that an input has just asked for to begin (until it begins, the page still reads "not running")."""
    if settle_ms:
        page.wait_for_timeout(settle_ms)
    page.wait_for_selector("[data-testid='stApp'][data-test-connection-state='CONNECTED']", timeout=30_000)
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=30_000)


def shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)


def fill(page: Page, label: str, value: str) -> None:
    page.get_by_label(label, exact=True).fill(value)


def set_up_and_sign_in(page: Page, on_setup=lambda: None) -> None:
    """The first start: the set-up page makes the bureau admin "chief", who signs in and reaches the dashboard;
    returns once the browser holds the sign-in cookie."""
    expect(page.get_by_role("heading", name="初始设置")).to_be_visible()
    on_setup()
    fill(page, "设置令牌", SETUP_TOKEN)  # the test servers are given it (tests/streamlit_server.py)
    fill(page, "管理员用户名", "chief")
    fill(page, "密码（至少10位，含字母和数字）", PASSWORD)
    fill(page, "再次输入密码", PASSWORD)
    page.get_by_role("button", name="完成设置").click()
    expect(page.get_by_role("heading", name="登录")).to_be_visible(timeout=30_000)
    fill(page, "用户名", "chief")
    fill(page, "密码", PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", name="统计总览")).to_be_visible(timeout=30_000)
    page.wait_for_function("document.cookie.includes('assessment_session=')", timeout=30_000)


def test_setup_sign_in_and_language(page: Page, streamlit_app):
    server, _ = streamlit_app
    page.goto(server.url)
    ready(page)
    set_up_and_sign_in(page, on_setup=lambda: shot(page, "setup"))
    shot(page, "dashboard-zh")
    page.reload()  # the sign-in lives in the database, the browser keeps its token
    ready(page)
    expect(page.get_by_role("heading", name="统计总览")).to_be_visible(timeout=30_000)
    # Who is signed in shows from the first run after the reload (the sign-in picked up from the cookie).
    expect(page.locator("[data-testid=stSidebar]").get_by_text("chief（主管部门管理员）")).to_be_visible()
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
    ready(page, 300)
    page.get_by_role("button", name="确认提交诊断").click()  # asked once more
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
    bureau.get_by_role("button", name="确认通过").click()  # asked once more
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


def pick(page, where, label: str, option: str) -> None:
    """Choose an option of a Streamlit selectbox (a combobox named by its label) and wait for the rerun."""
    box = where.get_by_role("combobox", name=label)
    box.click()
    box.fill(option)  # long lists are virtual: typing brings the option into the list
    page.get_by_role("option").filter(has_text=option).first.click()
    ready(page, settle_ms=400)


def type_in(page, where, label: str, text: str) -> None:
    """Type into a text field and press Enter, so the app takes the value and reruns before the next step."""
    field = where.get_by_label(label, exact=True)
    field.fill(text)
    field.press("Enter")
    ready(page, settle_ms=400)


def test_the_bureau_registers_a_provider_an_enterprise_and_their_users(page: Page, streamlit_app):
    server, store = streamlit_app
    services = Services(store)
    admin = services.set_up("苏州市工业和信息化局", "admin", "管理员", PASSWORD)
    sign_in(page, server, "admin", "organisations")

    page.get_by_role("tab", name="新增服务商").click()
    panel = page.get_by_role("tabpanel", name="新增服务商")
    type_in(page, panel, "名称", "苏州智造诊断服务有限公司")
    panel.get_by_role("button", name="新增服务商").click()
    expect(page.get_by_text("已新增 苏州智造诊断服务有限公司")).to_be_visible(timeout=30_000)

    ready(page, settle_ms=400)
    panel = page.get_by_role("tabpanel", name="新增企业")

    def in_tab(step, *args):
        # Make sure the form's tab is the open one before each step: a rerun still on its way from the step
        # before can show the first tab again.
        page.get_by_role("tab", name="新增企业").click()
        step(page, panel, *args)

    in_tab(type_in, "名称", "苏州精密机械有限公司")
    in_tab(type_in, "统一社会信用代码", credit_code(42))
    in_tab(pick, "区县", "姑苏区")
    in_tab(pick, "行业", "通用设备制造业")
    in_tab(pick, "企业规模", "中型")
    in_tab(pick, "生产类型", "离散型")
    shot(page, "new-enterprise")
    page.get_by_role("tab", name="新增企业").click()
    panel.get_by_role("button", name="新增企业").click()
    expect(page.get_by_text("已新增 苏州精密机械有限公司")).to_be_visible(timeout=30_000)
    enterprises = services.list_enterprises(admin)
    assert [(e.name, e.district, e.industry) for e in enterprises] == [("苏州精密机械有限公司", "gusu", "C34")]
    assert [p.name for p in services.list_providers(admin)] == ["苏州智造诊断服务有限公司"]

    # Their accounts, then each signs in.
    for username, role, organisation in (("zhang", "服务商诊断人员", "苏州智造诊断服务有限公司"),
                                         ("wang", "企业用户", "苏州精密机械有限公司")):
        page.goto(f"{server.url}/users")
        ready(page)
        type_in(page, page, "用户名", username)
        type_in(page, page, "姓名", username)
        pick(page, page, "角色", role)
        if role == "企业用户":
            type_in(page, page, "查找企业（名称或统一社会信用代码）", "苏州精密")
        pick(page, page, "所属机构", organisation)
        type_in(page, page, "初始密码", PASSWORD)
        type_in(page, page, "再次输入密码", PASSWORD)
        page.get_by_role("button", name="新增用户").click()
        expect(page.get_by_text(f"已新增用户 {username}。")).to_be_visible(timeout=30_000)
    shot(page, "users")
    for username, heading in (("zhang", "我的企业"), ("wang", "我的评估")):
        other = page.context.browser.new_context().new_page()
        sign_in(other, server, username)
        expect(other.get_by_role("heading", name=heading)).to_be_visible(timeout=30_000)
