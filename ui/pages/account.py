"""Who is signed in; change one's password (first of all after an administrator reset it); sign out."""

import streamlit as st

from assessment.accounts import MIN_PASSWORD_LENGTH
from assessment.errors import AssessmentError
from ui import session
from ui.i18n import t
from ui.user_text import plain

current = session.require_actor()
services = session.services()
st.title(t("account.title"))
if (message := st.session_state.pop("account_flash", None)) is not None:
    st.success(message)
if current.must_change_password:
    st.warning(t("account.must_change"))
st.write(t("account.signed_in", name=plain(current.name)))
st.caption(t("account.username", username=plain(current.username), role=t(f"role.{current.role}")))

st.subheader(t("account.change_password"))
with st.form("account_password", clear_on_submit=True):
    old = st.text_input(t("account.current_password"), type="password", key="account_current")
    new = st.text_input(t("account.new_password"), type="password", key="account_new")
    again = st.text_input(t("account.new_password_again"), type="password", key="account_again")
    st.caption(t("account.password_help", n=MIN_PASSWORD_LENGTH))
    submitted = st.form_submit_button(t("account.change"), type="primary")
if submitted:
    if new != again:
        st.error(t("account.mismatch"))
    else:
        try:
            changed = services.change_password(current, old, new)
        except AssessmentError as error:
            session.show(error)
        else:
            st.session_state["actor"] = changed  # no longer bound to change it: every page of the role opens
            st.session_state["account_flash"] = t("account.changed")
            st.rerun()

if st.button(t("account.sign_out"), key="account_sign_out"):
    session.sign_out()
    st.rerun()
