"""Placeholder: built in the app issue."""

import streamlit as st

from ui import session
from ui.i18n import t

session.require_actor()
st.title(t("nav.dashboard"))
