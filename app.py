"""Entry point: page set-up and navigation only; the pages live in ui/."""

import streamlit as st

st.set_page_config(page_title="智能制造成熟度诊断 · Smart-factory assessment", page_icon="🏭", layout="wide")
st.navigation([st.Page("ui/questionnaire_page.py", title="问卷 Questionnaire", icon="📋", default=True)]).run()
