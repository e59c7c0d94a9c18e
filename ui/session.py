"""The signed-in state of one browser tab: who acts, until when, and the services they act through.

Session state lives in memory for one tab; everything that must survive a refresh is in the database.
A session ends after SESSION_TIMEOUT without activity.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import streamlit as st

from assessment.accounts import Actor
from assessment.db import Store
from assessment.errors import AssessmentError
from assessment.services import Services
from ui.i18n import lang, t, words

SESSION_TIMEOUT = timedelta(minutes=int(os.environ.get("ASSESSMENT_SESSION_MINUTES", "30")))


@st.cache_resource
def _services(url: str | None) -> Services:
    return Services(Store(url))


def services() -> Services:
    """One store per server process (and database URL), shared by every session."""
    return _services(os.environ.get("ASSESSMENT_DB_URL"))


def actor() -> Actor | None:
    """The signed-in actor, or None when nobody is signed in or the session has expired."""
    current = st.session_state.get("actor")
    if current is None:
        return None
    last = st.session_state.get("last_seen")
    now = datetime.now(UTC)
    if last is not None and now - last > SESSION_TIMEOUT:
        sign_out()
        st.session_state["expired"] = True
        return None
    st.session_state["last_seen"] = now
    return current


def sign_in(signed_in: Actor) -> None:
    st.session_state["actor"] = signed_in
    st.session_state["last_seen"] = datetime.now(UTC)
    st.session_state.pop("expired", None)


def sign_out() -> None:
    for key in list(st.session_state):
        if key != "lang":
            del st.session_state[key]


def require_actor() -> Actor:
    """The signed-in actor; a page reached without one stops with a message."""
    current = actor()
    if current is None:
        st.warning(t("session.signed_out"))
        st.stop()
    return current


def show(error: AssessmentError) -> None:
    """A domain error as the user sees it, in their language when its code has words; never a traceback."""
    template = words(lang()).get(f"errors.{error.code}") if error.code else None
    if template:
        params = {key: t(f"{key}.{value}") if key in ("action", "status") else value
                  for key, value in error.params.items()}
        st.error(template.format(**params))
    else:
        st.error("\n\n".join(error.messages))
