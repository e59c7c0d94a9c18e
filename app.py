"""Entry point: page set-up, the signed-in user and the navigation for their role. Pages live in ui/pages."""

import streamlit as st

from ui import chrome, navigation, session

st.set_page_config(page_title="智能制造成熟度诊断 · Smart-factory assessment", page_icon=":material/factory:",
                   layout="wide")
chrome.sidebar()
current = session.actor()
st.navigation(navigation.pages_for(current, session.services().needs_setup())).run()
