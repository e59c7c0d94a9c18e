"""Switching language keeps everything on the page, on every page of every role, in a real browser.

Streamlit's choice widgets hand back the *word* they show, so a switch of language once turned answers into
errors (`'全部满足' is not one of full, …`), crashed the rounds' comparison and emptied the dashboard
(ui/i18n.py ``language_changed`` is the fix). Each page is given values, then switched 中文 → English → 中文:
in English nothing may be refused or lost, and back in Chinese the page must show exactly what it showed before.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from assessment.services import Services
from tests.conftest import build_world
from tests.test_browser import ready, shot, sign_in
from ui.navigation import ROLE_PAGES

pytestmark = pytest.mark.browser

USERS = {"bureau_admin": "admin", "bureau_analyst": "analyst", "provider_user": "provider_a",
         "enterprise_user": "enterprise_1"}

# What the page shows of each input, in page order: radios by the position checked, choices by the words shown
# (a None value shows its placeholder), text by its value; the open tabs; the refusals and crashes.
SNAPSHOT = """() => {
  const main = document.querySelector('[data-testid=stMain]');
  const inputs = [...main.querySelectorAll(
      '[data-testid=stRadio], [data-testid=stSelectbox], [data-testid=stMultiSelect], [data-testid=stTextInput], '
      + '[data-testid=stTextArea], [data-testid=stNumberInput], [data-testid=stDateInput]')].map(w => {
    const kind = w.dataset.testid;
    if (kind === 'stRadio') return [kind, [...w.querySelectorAll('input')].findIndex(i => i.checked)];
    if (kind === 'stMultiSelect') return [kind, [...w.querySelectorAll('[data-testid=stMultiSelectChip], '
                                                  + '[data-baseweb=tag]')].map(c => c.innerText)];
    const field = w.querySelector('input, textarea');
    if (kind === 'stSelectbox') return [kind, field.value || field.placeholder];
    return [kind, field.value];
  });
  const tabs = [...main.querySelectorAll('[role=tab][aria-selected=true]')].map(t => t.innerText);
  const errors = [...main.querySelectorAll('[data-testid=stAlertContentError], [data-testid=stException]')]
      .map(e => e.innerText);
  return {inputs, tabs, errors};
}"""


def snapshot(page: Page) -> dict:
    ready(page, settle_ms=300)
    return page.evaluate(SNAPSHOT)


def switch(page: Page, language: str) -> dict:
    page.locator("[data-testid=stSidebar]").get_by_text(language, exact=True).click()
    ready(page, settle_ms=600)
    return snapshot(page)


def choose(page: Page, label: str, option: str) -> None:
    box = page.get_by_role("combobox", name=label)
    box.click()
    box.fill(option)
    page.get_by_role("option").filter(has_text=option).first.click()
    ready(page, settle_ms=400)


def answer_and_note(page: Page, item_id: str, note: str) -> None:
    page.get_by_role("radiogroup", name=f"{item_id} 的评估结果").get_by_text("部分满足", exact=True).click()
    ready(page, settle_ms=400)
    field = page.get_by_label("备注", exact=True).first
    field.fill(note)
    field.blur()
    ready(page, settle_ms=400)


# Values given to a page before its language is switched (pages not listed keep what the database shows).
def setup_dashboard(page: Page, w) -> None:
    choose(page, "区县", "姑苏区")
    choose(page, "诊断状态", "审核通过")
    page.get_by_role("tab", name="区县×能力域").click()


def setup_users(page: Page, w) -> None:
    choose(page, "角色", "服务商诊断人员")
    page.get_by_label("用户名", exact=True).fill("typed-not-saved")


def setup_enterprises(page: Page, w) -> None:
    choose(page, "诊断状态", "诊断中")


SETUP = {"dashboard": setup_dashboard, "users": setup_users, "enterprises": setup_enterprises}


def address(role: str, name: str, w) -> str:
    if name == ROLE_PAGES[role][0]:
        return ""  # the role's first page is its default, at the root
    if name in ("interview", "results", "files"):
        return f"{name}?assessment={w.diagnosis_1 if role == 'provider_user' else w.approved_1}"
    return name


def check_page(page: Page, server, role: str, name: str, w) -> None:
    page.goto(f"{server.url}/{address(role, name, w)}")
    ready(page)
    if name in SETUP:
        SETUP[name](page, w)
    before = snapshot(page)
    english = switch(page, "English")
    shot(page, f"language-{role}-{name}-en")
    assert len(english["errors"]) == len(before["errors"]), (role, name, english)
    assert [kind for kind, _ in english["inputs"]] == [kind for kind, _ in before["inputs"]], (role, name)
    for (kind, zh), (_, en) in zip(before["inputs"], english["inputs"], strict=True):
        if kind in ("stRadio", "stTextInput", "stTextArea", "stNumberInput"):
            assert en == zh, (role, name, kind, zh, en)  # the same choice, the same text
        elif kind == "stMultiSelect":
            assert len(en) == len(zh), (role, name, zh, en)
        elif kind == "stSelectbox":
            assert en, (role, name, zh)
    assert len(english["tabs"]) == len(before["tabs"]), (role, name)
    after = switch(page, "中文")
    assert after == before, (role, name, before, after)


def test_switching_language_keeps_every_page_of_every_role(page: Page, streamlit_app, cmmm):
    server, store = streamlit_app
    services = Services(store)
    w = build_world(services)
    page.set_default_timeout(30_000)
    for role, username in USERS.items():
        page.context.clear_cookies()
        sign_in(page, server, username)
        for name in [*ROLE_PAGES[role], "account"]:
            check_page(page, server, role, name, w)
        page.locator("[data-testid=stSidebar]").get_by_text("中文", exact=True).click()
        ready(page)


def test_an_answer_and_a_note_made_after_a_switch_are_saved(page: Page, streamlit_app, cmmm):
    """The interview in English after answering in Chinese: the answers still show, a note typed in English is
    saved, and back in Chinese the answers show at once (no reload)."""
    server, store = streamlit_app
    services = Services(store)
    w = build_world(services)
    first, second = [item.id for item in cmmm.items_for("discrete") if item.subdomain == "OS"][:2]
    sign_in(page, server, "provider_a", f"interview?assessment={w.diagnosis_1}")
    answer_and_note(page, first, "中文备注")
    before = snapshot(page)
    english = switch(page, "English")
    assert english["errors"] == [], english["errors"]
    group = page.get_by_role("radiogroup", name=f"Rating of {first}")
    expect(group.get_by_role("radio", name="Partly met", exact=True)).to_be_checked()
    page.get_by_role("radiogroup", name=f"Rating of {second}").get_by_text("Mostly met", exact=True).click()
    ready(page, settle_ms=400)
    notes = page.get_by_label("Note", exact=True)
    notes.nth(1).fill("typed in English")
    notes.nth(1).blur()
    ready(page, settle_ms=400)
    saved = services.get_assessment(w.admin, w.diagnosis_1).answers
    assert (saved[first].code, saved[first].note) == ("partly", "中文备注")
    assert (saved[second].code, saved[second].note) == ("mostly", "typed in English")
    back = switch(page, "中文")
    assert back["errors"] == []
    for item_id, word in ((first, "部分满足"), (second, "大部分满足")):
        group = page.get_by_role("radiogroup", name=f"{item_id} 的评估结果")
        expect(group.get_by_role("radio", name=word, exact=True)).to_be_checked()
    assert before["errors"] == []
