"""Entry point: page set-up, the signed-in user and the navigation for their role. Pages live in ui/pages."""

import streamlit as st

from assessment import PROJECT_ROOT
from assessment.errors import AssessmentError
from ui import builtin, chrome, navigation, session

# The icon is a file of the app: a Material icon as page icon would be fetched from a Google host on every page,
# which fails offline and in mainland China.
st.set_page_config(page_title="智能制造成熟度诊断 · Smart-factory assessment",
                   page_icon=str(PROJECT_ROOT / "ui" / "static" / "factory.png"), layout="wide")
builtin.style()
chrome.sidebar()
# The last resort for a refusal no page caught — above all a database that cannot be reached just now: the user
# reads why in their language instead of a traceback. Streamlit's own control flow (st.stop, st.rerun,
# st.switch_page) raises exceptions that are not AssessmentErrors, so it passes through untouched.
try:
    current = session.actor()
    chrome.signed_in(current)
    st.navigation(navigation.pages_for(current, session.services().needs_setup())).run()
except AssessmentError as error:
    session.show(error)
