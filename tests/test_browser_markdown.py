"""``user_text.plain`` against Streamlit's real front end: user text put into each kind of element that reads
Markdown draws nothing (no link, picture, HTML, formatting, maths, icon or typography) and reads as typed.

The app's own test (tests/test_markdown_safety.py) checks every page's texts with AppTest, which sees only the
Markdown source; what the browser makes of that source — after Streamlit undoes the escapes and then looks for
addresses, icons and arrows in the text itself — is checked here.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

pytestmark = pytest.mark.browser

PAYLOADS = [
    "[sign in again](http://evil.example/x)", "![x](http://evil.example/i.png)", "<img src=http://evil.example/i.png>",
    "<b>b</b> <a href='http://evil.example'>a</a>", "**bold** __bold__ *it* _it_", "~~struck~~ ~one~", "`code`",
    ":red[x] :blue-background[y] :small[z]", "$x^2$ and $$y$$", ":material/home: :streamlit: :smile: :+1:",
    "www.evil.example/w", "http://evil.example/bare <http://evil.example/auto>", "me@evil.example mailto:a@b.co",
    "a -- b -> c <- d <-> e >= f <= g ~= h", "&amp; &lt;b&gt; &#58;", "# head", "x\n===", "x\n---", "1. one",
    "2) two", "- item", "+ item", "> quote", "a | b\n--|--\nc | d", "[ref]\n\n[ref]: http://evil.example/r",
    "line\\\nbreak", "    four spaces code", "***", "\\(x\\) \\[y\\]", ":help[tip]",
]
SCRIPT = """
import streamlit as st

from tests.test_browser_markdown import PAYLOADS
from ui.user_text import plain

for n, payload in enumerate(PAYLOADS):
    text = plain(payload)
    st.markdown(f"markdown {n}: {text}")
    st.caption(f"caption {n}: {text}")
    st.error(f"error {n}: {text}")
    st.expander(f"expander {n}: {text}")
    st.metric(f"metric label {n}", f"metric {n}: {text}")
    st.radio(f"radio label {n}", [f"radio {n}: {text}"], key=f"radio{n}")
    st.button(f"button {n}: {text}", key=f"button{n}")
st.caption("the end of the page")  # drawn last: once it is there, every element above is too
"""
KINDS = ("markdown", "caption", "error", "expander", "metric", "radio", "button")
DRAWN = ("a, img, svg, strong, b, em, i, code, pre, h1, h2, h3, h4, h5, h6, ul, ol, li, blockquote, table, del, s, hr,"
         " br, .katex, span[role=img], span[style]")


@pytest.fixture
def user_text_page(tmp_path):
    """A real ``streamlit run`` of SCRIPT; yields its address."""
    from tests.streamlit_server import StreamlitServer

    script = tmp_path / "user_text_page.py"
    script.write_text(SCRIPT, encoding="utf-8")
    server = StreamlitServer(f"sqlite:///{tmp_path / 'unused.db'}", tmp_path / "streamlit.log", script=script)
    yield server.url
    server.stop()


def shown(page: Page) -> dict[str, list[str]]:
    """Each Markdown container's text as a reader sees it (white space as one) → the elements it drew."""
    # The whole page, not a count of containers: the labels of the metrics once made up the count while the last
    # radios and buttons were still being drawn (a CI run under load).
    page.get_by_text("the end of the page").wait_for(timeout=60_000)
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=60_000)
    containers = page.evaluate("""(drawn) => [...document.querySelectorAll(
        '[data-testid=stMarkdownContainer], [data-testid=stCaptionContainer]')].map(
        e => [e.innerText, [...e.querySelectorAll(drawn)].map(x => x.outerHTML.slice(0, 120))])""", DRAWN)
    return {" ".join(text.replace("\u2060", "").split()): drawn for text, drawn in containers}


def test_user_text_draws_nothing_and_reads_as_typed_in_every_markdown_element(page: Page, user_text_page):
    page.goto(user_text_page)
    expected = {" ".join(f"{kind} {n}: {payload}".split()) for n, payload in enumerate(PAYLOADS) for kind in KINDS}
    containers = shown(page)
    for _ in range(60):  # a page drawn under load may still be settling: read it again, for up to about 30 s
        if expected <= containers.keys():
            break
        page.wait_for_timeout(500)
        containers = shown(page)
    assert {text: drawn for text, drawn in containers.items() if drawn} == {}
    # Every payload reads as typed in every kind of element (else: what the page showed instead).
    assert expected - containers.keys() == set(), sorted(containers.keys() - expected)[:20]
