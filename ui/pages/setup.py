"""First start on an empty database: create the bureau and its first admin, optionally demo data."""

import streamlit as st

from assessment.demo import generate
from assessment.errors import AssessmentError
from ui import session
from ui.i18n import t

st.title(t("setup.title"))
st.write(t("setup.intro"))
with st.form("setup"):
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
            services.set_up(bureau, username, display_name or username, password)
            if demo:
                with st.spinner():
                    accounts = generate(services.store, int(enterprises), force=True, progress=lambda _: None)
                st.session_state["demo_password"] = accounts.password
            st.session_state["setup_done"] = True
            st.rerun()
        except AssessmentError as error:
            session.show(error)
