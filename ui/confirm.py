"""A button whose action is asked about once more before it is done: approve, submit, deactivate, reset a password.

The first click shows the question with two buttons in place of the button; only "yes" makes the change. One
question is open at a time per tab, so a second button clicked elsewhere replaces it.
"""

from __future__ import annotations

import streamlit as st

from ui.i18n import t

_ASKING = "confirm_asking"


def asked(label: str, question: str, *, key: str, kind: str = "primary", help: str | None = None) -> bool:
    """The button ``label``; once clicked, ``question`` with "yes" and "cancel". True on the run the user said yes
    (the caller then makes the change)."""
    if st.session_state.get(_ASKING) != key:
        if st.button(label, key=key, type=kind, help=help):
            st.session_state[_ASKING] = key
            st.rerun()
        return False
    with st.container(border=True):
        st.warning(question)
        yes, no = st.columns(2)
        if yes.button(t("confirm.yes", action=label), key=f"{key}__yes", type="primary"):
            st.session_state.pop(_ASKING, None)
            return True
        if no.button(t("confirm.no"), key=f"{key}__no"):
            st.session_state.pop(_ASKING, None)
            st.rerun()
    return False


def forget() -> None:
    """Close an open question (after the page's subject changed)."""
    st.session_state.pop(_ASKING, None)
