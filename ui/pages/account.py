"""Who is signed in; sign out."""

import streamlit as st

from ui import session
from ui.i18n import t

current = session.require_actor()
st.title(t("account.title"))
st.write(t("account.signed_in", name=current.username))
if st.button(t("account.sign_out")):
    session.sign_out()
    st.rerun()
