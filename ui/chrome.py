"""What every page shows around its content: the language switch and who is signed in."""

from __future__ import annotations

import streamlit as st

from assessment.accounts import Actor
from ui import session
from ui.i18n import LANGUAGES, language_changed, t
from ui.user_text import plain

LANGUAGE_NAMES = {"zh": "中文", "en": "English"}


def sidebar() -> None:
    """The language switch; drawn first, so that it is there even when finding who is signed in fails."""
    session.keep_cookie()
    with st.sidebar:
        st.radio("语言 / Language", LANGUAGES, key="lang", format_func=LANGUAGE_NAMES.get, horizontal=True,
                 on_change=language_changed)


def signed_in(current: Actor | None) -> None:
    """Who is signed in, under the language switch; called once the sign-in is known (also right after a reload,
    when it is picked up from the cookie)."""
    if current is not None:
        st.sidebar.caption(t("chrome.signed_in_as", name=plain(current.name), role=t(f"role.{current.role}")))
