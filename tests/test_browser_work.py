"""Real-browser checks of returned work and finding the next thing to do (what AppTest cannot show: where the
browser is scrolled to, how the pages look at desktop and phone width)."""

import pytest
from playwright.sync_api import Page, expect

from assessment.services import Services
from tests.conftest import build_world, enterprise_fields
from tests.test_app_work import returned_with
from tests.test_browser import ready, shot, sign_in

pytestmark = pytest.mark.browser

COMMENT = "请补充DA.2.1的证据，并复核 PO.3.2。"


def shot_at(page: Page, locator, name: str) -> None:
    """A screenshot with ``locator`` scrolled into view (the page scrolls inside Streamlit's main area)."""
    locator.first.scroll_into_view_if_needed()
    page.wait_for_timeout(600)
    shot(page, name)


def in_view(page: Page, heading: str) -> bool:
    box = page.get_by_role("heading", name=heading).bounding_box()
    return box is not None and 0 <= box["y"] < page.viewport_size["height"] / 2


def test_returned_work_from_the_list_to_the_next_subdomain(page: Page, streamlit_app, cmmm):
    server, store = streamlit_app
    services = Services(store)
    w = build_world(services)
    services.update_organisation(w.admin, w.enterprise_1_id, **enterprise_fields(1, "gusu"), contact_name="王芳",
                                 contact_phone="0512-6888 0000")
    d = returned_with(services, w, cmmm, COMMENT)
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(page, server, "provider_a")

    # The list: the returned diagnosis first, with the bureau's comment and the enterprise's contact.
    expect(page.get_by_text("联系人：王芳 · 电话：0512-6888 0000")).to_be_visible(timeout=30_000)
    expect(page.get_by_text(COMMENT)).to_be_visible()
    expect(page.get_by_text("意见提到的要求：DA.2.1（DA 数据）、PO.3.2（PO 生产作业）")).to_be_visible()
    shot_at(page, page.get_by_text(COMMENT), "work-list-zh")
    page.get_by_role("button", name="继续修改").first.click()
    ready(page, settle_ms=400)

    # The interview opens on the first subdomain the comment names, the comment on top.
    expect(page.get_by_role("heading", name="DA 数据")).to_be_visible(timeout=30_000)
    assert f"assessment={d}" in page.url
    assert "sd=DA" in page.url
    expect(page.get_by_text(COMMENT)).to_be_visible()
    expect(page.get_by_text("主管部门意见提到此要求")).to_be_visible()
    shot(page, "work-returned-zh")

    # The end of the subdomain leads on, and the browser goes up to the next one's heading.
    forward = page.get_by_role("button", name="下一子域：IN 集成 →")
    forward.scroll_into_view_if_needed()
    assert not in_view(page, "DA 数据")
    forward.click()
    ready(page, settle_ms=400)
    expect(page.get_by_role("heading", name="IN 集成")).to_be_visible(timeout=30_000)
    page.wait_for_function("""() => { const h = document.getElementById('work-subdomain');
                                     const y = h && h.getBoundingClientRect().y;
                                     return y !== null && y >= 0 && y < window.innerHeight / 2; }""", timeout=10_000)
    assert "sd=IN" in page.url

    # The "unanswered only" view and the plan, then the same at phone width and in English.
    page.goto(f"{server.url}/interview?assessment={w.diagnosis_1}")
    ready(page)
    page.get_by_text("只看未答要求（整份问卷）").click()
    ready(page, settle_ms=400)
    unanswered = len(cmmm.items_for("discrete"))  # diagnosis 1 has none answered yet
    expect(page.get_by_text(f"尚有 {unanswered} 项要求未答，此处列出其中 20 项")).to_be_visible(timeout=30_000)
    shot_at(page, page.get_by_text("此处列出其中"), "work-unanswered-zh")
    page.goto(f"{server.url}/results?assessment={d}")
    ready(page)
    expect(page.get_by_text("以该级满分的百分比表示")).to_be_visible(timeout=30_000)
    shot_at(page, page.get_by_text("以该级满分的百分比表示"), "work-plan-zh")
    shot_at(page, page.get_by_text("子域差距"), "work-gaps-zh")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(server.url)  # the role's first page: 我的企业
    ready(page)
    expect(page.get_by_text(COMMENT)).to_be_visible(timeout=30_000)
    shot_at(page, page.get_by_text(COMMENT), "work-list-zh-phone")
    page.goto(f"{server.url}/interview?assessment={d}&sd=DA")
    ready(page)
    expect(page.get_by_role("button", name="下一子域：IN 集成 →")).to_be_attached(timeout=30_000)
    shot_at(page, page.get_by_role("button", name="下一子域：IN 集成 →"), "work-interview-zh-phone")

    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{server.url}/interview?assessment={d}&sd=DA")
    ready(page)
    page.get_by_text("English").click()
    ready(page, settle_ms=400)
    expect(page.get_by_role("button", name="Next: IN Integration →")).to_be_attached(timeout=30_000)
    expect(page.get_by_text("named in the bureau's comment")).to_be_visible()
    shot_at(page, page.get_by_text("named in the bureau's comment"), "work-returned-en")
    page.goto(f"{server.url}/results?assessment={d}")
    ready(page)
    page.get_by_text("English").click()
    ready(page, settle_ms=400)
    expect(page.get_by_text("as a percentage of that level's full score")).to_be_visible(timeout=30_000)
    shot_at(page, page.get_by_text("as a percentage of that level's full score"), "work-plan-en")
    page.goto(server.url)  # the role's first page: 我的企业
    ready(page)
    page.get_by_text("English").click()
    ready(page, settle_ms=400)
    expect(page.get_by_text("Contact: 王芳 · phone: 0512-6888 0000")).to_be_visible(timeout=30_000)
    shot_at(page, page.get_by_text("Contact: 王芳"), "work-list-en")
    page.set_viewport_size({"width": 390, "height": 844})
    shot_at(page, page.get_by_text(COMMENT), "work-list-en-phone")
