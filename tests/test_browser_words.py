"""Every page of every role, in a real Chromium, in Chinese: no English word outside data, and no request to any
host but the Streamlit server (no icon, font or script fetched from elsewhere: offline and in mainland China the
app must look the same)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from assessment.services import Services
from tests.conftest import build_world
from tests.test_browser import ready, sign_in

pytestmark = pytest.mark.browser

# What the user reads on a page: its text nodes (hidden tabs and closed expanders included, so that one visit
# covers them), and the placeholders and tooltips of its fields. Material icons are drawn from a ligature (the
# icon's name is its text node), they are not words; style and script elements hold no words either.
PAGE_WORDS = """() => {
  // Text made invisible (font-size 0: ui/builtin.py shows the locale's words in its place) is not read either, nor
  // what react-aria says to screen readers only (its live announcer, its descriptions).
  const skip = (el) => el.closest('style, script, noscript, [data-testid="stIconMaterial"], [data-live-announcer], '
                                  + '[id^="react-aria-description"]')
    || getComputedStyle(el).fontSize === '0px';
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (node.parentElement && !skip(node.parentElement) && node.nodeValue.trim()) out.push(node.nodeValue.trim());
  }
  for (const el of document.querySelectorAll('[placeholder], [title]')) {
    for (const name of ['placeholder', 'title']) {
      const value = el.getAttribute(name);
      if (value && value.trim()) out.push(value.trim());
    }
  }
  // Words CSS puts on the page (the uploader's, the date fields' placeholders) are words the user reads too.
  for (const el of document.querySelectorAll('*')) {
    for (const pseudo of ['::before', '::after']) {
      const content = getComputedStyle(el, pseudo).content;
      if (content && content !== 'none' && content !== 'normal' && content !== '""') out.push(content);
    }
  }
  return out;
}"""

# Data a page shows as it is, not words of the interface (matched with re.ASCII: a word boundary lies between a
# Chinese character and a Latin letter too).
DATA = [
    r"[A-Z]{2}(\.\d+){1,2}",  # item and subdomain ids: DA.2.1
    r"\b[0-9A-HJ-NPQRTUWXY]{18}\b",  # unified social credit codes
    r"GB/T \d+(\.\d+)?-\d{4}", r"\bCMMM\b", r"\bC\d{2}\b",  # standards, the model, industry divisions
    r"\b[A-Z]{2}\b",  # domain and subdomain codes: DA, OS
    r"[\w.-]+\.(xlsx|zip|csv|parquet|txt)\b", r"\.(xlsx|xls|zip)\b",  # file names, file types
    r"\b(ERP|MES|PLM|SCADA|WMS|QMS|EMS|APS|CRM|SRM|OA)\b",  # information systems, by their names
    # Technical terms inside the questionnaire's Chinese texts (which requirements a page shows varies): acronyms
    # such as TMS, AGV, 5G, and the few others it uses.
    r"\b[A-Z0-9]*[A-Z][A-Z0-9]+\b", r"\b(Modbus|QoS)\b",
    r"\b(Excel|Parquet|CSV|XLSX|ZIP|PNG)\b", r"\b\d+(\.\d+)?\s?(MB|KB|B)\b",  # products, formats, sizes
    r"\bEnglish\b", r"语言 / Language",  # the language switch: a way back for one who cannot read the page
    r"\b(admin|analyst|provider_[ab]|enterprise_[12])\b",  # the world's user names
    r"\bpython -m assessment\b",
]
WORD = re.compile(r"[A-Za-z]{2,}")


def english(texts: list[str]) -> list[str]:
    """The texts that hold an English word once data is taken out."""
    found = []
    for text in texts:
        rest = text
        for pattern in DATA:
            rest = re.sub(pattern, " ", rest, flags=re.ASCII)
        if WORD.search(rest):
            found.append(text)
    return found


def test_the_word_check_finds_english_and_passes_data():
    assert english(["Drag and drop files here", "10MB per file • XLSX, ZIP", "yyyy/mm/dd", "None"]) == [
        "Drag and drop files here", "10MB per file • XLSX, ZIP", "yyyy/mm/dd", "None"]
    assert english(["明确运输管理系统（TMS）、5G 与 AGV 的建设目标"]) == []
    assert english(["DA.2.1 · 1级", "统一社会信用代码 91320500000000001W", "GB/T 39116-2020", "report-1.xlsx",
                    "ERP", "English", "10 MB", "provider_a", "通过OA、ERP等系统", "下载图片（PNG）"]) == []


def walk(page: Page, server, username: str, paths: list[str], seen: dict[str, list[str]],
         then=lambda path: None) -> None:
    sign_in(page, server, username)
    for path in paths:
        page.goto(f"{server.url}/{path}")  # "": the role's first page (its address is the server's own)
        ready(page, settle_ms=300)
        expect(page.locator("[data-testid='stMain'] h1").first).to_be_visible(timeout=30_000)
        then(path)
        seen[f"{username} {path}"] = english(page.evaluate(PAGE_WORDS))


def test_every_page_of_every_role_speaks_chinese_and_fetches_nothing_from_elsewhere(browser, streamlit_app,
                                                                                   tmp_path):
    server, store = streamlit_app
    w = build_world(Services(store))
    own = urlsplit(server.url).netloc
    elsewhere: list[str] = []
    seen: dict[str, list[str]] = {}
    not_a_workbook = tmp_path / "notes.xlsx"
    not_a_workbook.write_bytes(b"just some notes")

    def context() -> Page:
        page = browser.new_context().new_page()
        page.on("request", lambda request: elsewhere.append(request.url)
                if urlsplit(request.url).netloc != own and not request.url.startswith(("data:", "blob:")) else None)
        return page

    def provider_steps(path: str) -> None:
        page = provider
        if path.startswith("interview"):
            box = page.get_by_role("combobox", name="在用信息系统")  # the drop-down's own words ("Select all")
            box.click()
            box.press("ArrowDown")  # opens the list whether or not the click did
            expect(page.get_by_role("option").first).to_be_visible(timeout=30_000)
            seen[f"{path} drop-down"] = english(page.evaluate(PAGE_WORDS))
            page.keyboard.press("Escape")
            # A refused value of the profile form is said in Chinese, field by field.
            page.get_by_label("设备联网率（%）", exact=True).fill("150")
            page.get_by_role("button", name="保存企业情况").click()
            ready(page, settle_ms=400)
            expect(page.get_by_text("设备联网率：不能大于 100。")).to_be_visible(timeout=30_000)
        if path.startswith("files"):
            # An uploaded file that is not a workbook: the uploader's list and the import's refusal.
            page.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files(not_a_workbook)
            ready(page, settle_ms=400)
            page.get_by_role("button", name="导入").click()
            ready(page, settle_ms=400)
            expect(page.get_by_text("notes.xlsx", exact=False).first).to_be_visible(timeout=30_000)

    d, done = w.diagnosis_1, w.approved_1
    provider = context()
    provider.goto(server.url)
    ready(provider)
    expect(provider.get_by_role("heading", name="登录")).to_be_visible(timeout=30_000)
    seen["sign-in"] = english(provider.evaluate(PAGE_WORDS))
    walk(provider, server, "provider_a", ["", f"interview?assessment={d}", f"results?assessment={d}",
                                          f"results?assessment={done}", f"files?assessment={d}", "account"], seen,
         provider_steps)
    enterprise = context()
    walk(enterprise, server, "enterprise_1", ["", f"interview?assessment={w.self_1}",
                                              f"results?assessment={done}", f"files?assessment={done}", "account"],
         seen)
    admin = context()

    def admin_steps(path: str) -> None:
        if path == "review":
            admin.get_by_role("combobox", name="打开诊断").click()
            admin.get_by_role("option").first.click()
            ready(admin, settle_ms=400)

    walk(admin, server, "admin", ["", "review", "requests", "organisations", "users", "downloads",
                                  "account"], seen, admin_steps)
    analyst = context()
    walk(analyst, server, "analyst", ["", "downloads", "account"], seen)

    found = {where: sorted(set(words)) for where, words in seen.items() if words}
    assert (found, elsewhere) == ({}, []), "\n".join([*(f"{where}: {words}" for where, words in found.items()),
                                                       *(f"fetched from elsewhere: {url}" for url in elsewhere)])
