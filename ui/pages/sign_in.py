"""Sign in (after setup); a message explains why a sign-in ended."""

import pandas as pd
import streamlit as st

from assessment.accounts import authenticate
from assessment.errors import AssessmentError
from ui import session
from ui.i18n import lang, t

st.title(t("signin.title"))
if st.session_state.pop("setup_done", False):
    st.success(t("setup.done"))
if demo := st.session_state.get("demo_accounts"):  # shown until someone signs in, also after a wrong password
    st.info(t("setup.demo_done", password=demo["password"]))
    st.table(pd.DataFrame([{t("setup.demo_username"): name, t("setup.demo_role"): t(f"role.{role}")}
                           for name, role in demo["accounts"]]), hide_index=True)
if ended := st.session_state.get(session.ENDED):  # why this tab was signed out: idle, signed out elsewhere …
    st.warning(session.said(ended, lang()))
with st.form("sign_in"):
    username = st.text_input(t("signin.username"))
    password = st.text_input(t("signin.password"), type="password")
    submitted = st.form_submit_button(t("signin.submit"), type="primary")
if submitted:
    try:
        # Failures from one client address slow that address's next attempts.
        session.sign_in(authenticate(session.services().store, username, password, session.request_address()))
        st.session_state.pop("demo_accounts", None)
        st.rerun()
    except AssessmentError as error:
        session.show(error)
