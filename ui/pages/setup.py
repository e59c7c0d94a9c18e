"""First start on an empty database: create the bureau and its first admin, optionally demo data."""

import streamlit as st

from assessment.demo import generate
from assessment.errors import AssessmentError
from ui import session
from ui.i18n import t

st.title(t("setup.title"))
st.write(t("setup.intro"))
with st.form("setup"):
    # Only who can read the server's console may become the first administrator (assessment/setup_token.py).
    token = st.text_input(t("setup.token"), type="password", help=t("setup.token_help"))
    bureau = st.text_input(t("setup.bureau"), value=t("setup.bureau_default"))
    username = st.text_input(t("setup.username"), value="admin")
    display_name = st.text_input(t("setup.display_name"))
    password = st.text_input(t("setup.password"), type="password")
    again = st.text_input(t("setup.password_again"), type="password")
    demo = st.checkbox(t("setup.demo"), help=t("setup.demo_help"))
    enterprises = st.number_input(t("setup.demo_enterprises"), min_value=10, max_value=5000, value=200, step=10)
    submitted = st.form_submit_button(t("setup.submit"), type="primary")

if submitted:
    if password != again:
        st.error(t("setup.mismatch"))
    else:
        services = session.services()
        try:
            admin = services.set_up(bureau, username, display_name or username, password, token=token)
            if demo:  # added to the bureau just set up: no second bureau, names without a run number
                with st.spinner(t("setup.demo_loading")):
                    accounts = generate(services.store, int(enterprises), bureau=admin.organisation_id,
                                        progress=lambda _: None)
                # The sign-in page lists them (user name and role) until someone signs in.
                st.session_state["demo_accounts"] = {"password": accounts.password, "accounts": accounts.accounts}
            st.session_state["setup_done"] = True
            st.rerun()
        except AssessmentError as error:
            session.show(error)
