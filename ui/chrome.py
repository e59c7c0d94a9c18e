"""What every page shows around its content: the language switch and who is signed in."""

from __future__ import annotations

import streamlit as st

from ui import session
from ui.i18n import LANGUAGES, language_changed, t

LANGUAGE_NAMES = {"zh": "中文", "en": "English"}


def sidebar() -> None:
    session.keep_cookie()
    with st.sidebar:
        st.radio("语言 / Language", LANGUAGES, key="lang", format_func=LANGUAGE_NAMES.get, horizontal=True,
                 on_change=language_changed)
        current = st.session_state.get("actor")
        if current is not None:
            st.caption(t("chrome.signed_in_as", name=current.name, role=t(f"role.{current.role}")))
