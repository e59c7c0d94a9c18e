"""The signed-in state of a browser: who acts, until when, and the services they act through.

Session state lives in memory for one tab, so the sign-in itself is kept in the database: the browser holds a
random token in a cookie (only its hash is stored) and a refresh, a new tab or a restarted server picks the
sign-in up again from it. Every run of a tab — the whole app's, a widget's callback that saves, a fragment's —
checks the token's row (``assessment.sessions``, one query), so a sign-in ends everywhere at once: signed out in
any tab, idle past SESSION_TIMEOUT, past the sessions' absolute lifetime, or its user deactivated. The sign-in
page then says why.

The services are kept in a cache of this process, not Streamlit's: any websocket client, signed in or not, can
send Streamlit's clear_cache message, which empties st.cache_resource and st.cache_data for everyone.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import streamlit as st

from assessment import sessions
from assessment.accounts import Actor, AuthenticationError
from assessment.analytics import Filters
from assessment.db import Store
from assessment.errors import AssessmentError
from assessment.services import Services
from ui.i18n import lang, t, words
from ui.user_text import plain

SESSION_TIMEOUT = sessions.IDLE_TIMEOUT
_SERVICES: dict[str | None, Services] = {}
_SERVICES_LOCK = threading.Lock()


def _services(url: str | None) -> Services:
    with _SERVICES_LOCK:  # one Store per URL even when the first sessions start together
        if url not in _SERVICES:
            _SERVICES[url] = Services(Store(url))  # a failed start raises and is not kept: the next run tries again
        return _SERVICES[url]


# Proxies whose X-Real-IP header names the client (the deployment's nginx sets it from the address it sees and
# overwrites whatever a client sent); "127.0.0.1" covers a proxy on the same host. Without one, behind a proxy
# every user would share the proxy's address, and a burst of failed sign-ins would slow everyone's.
TRUSTED_PROXIES = frozenset(filter(None, (address.strip() for address in
                                          os.environ.get("ASSESSMENT_TRUSTED_PROXIES", "").split(","))))
LOOPBACK = "127.0.0.1"


def client_address(peer: str | None, headers: dict[str, str], trusted: frozenset[str] = TRUSTED_PROXIES
                   ) -> str | None:
    """The address failed sign-ins are counted by: the proxy's X-Real-IP when the connection comes from a trusted
    proxy, else the connection's own address; None for a browser on this machine (``peer`` None: Streamlit gives no
    address for a loopback connection), whose attempts are not slowed."""
    if (peer or LOOPBACK) in trusted:
        forwarded = next((value for name, value in headers.items() if name.lower() == "x-real-ip"), "").strip()
        if forwarded:
            return forwarded
    return peer


def request_address() -> str | None:
    """This tab's client address (see client_address); None where there is no real connection (AppTest)."""
    peer = st.context.ip_address
    return client_address(peer if isinstance(peer, str) else None, dict(st.context.headers or {}))


def services() -> Services:
    """One store per server process (and database URL), shared by every session."""
    try:
        return _services(os.environ.get("ASSESSMENT_DB_URL"))
    except AssessmentError as error:  # e.g. a replica that does not migrate meets an older schema
        show(error)  # a failed start is not cached: the next run tries again (after `migrate`, it works)
        st.stop()


COOKIE = "assessment_session"
# How often an active tab renews its sign-in: the database row's last use (read when a tab reloads) and the
# browser's cookie (whose max-age is SESSION_TIMEOUT), so hours of work in one tab never end in a sign-out.
RENEW_EVERY = timedelta(minutes=1)
ENDED = "session_ended"  # why the tab was signed out (a SessionEndedError), for the sign-in page


def actor() -> Actor | None:
    """The signed-in actor, or None when nobody is signed in or the sign-in has ended."""
    current = st.session_state.get("actor")
    now = datetime.now(UTC)
    if current is None:
        token = st.context.cookies.get(COOKIE)
        if not isinstance(token, str) or not token:  # no cookie (or a test harness without cookies)
            return None
        current = sessions.resume_session(services().store, token)
        if current is None:
            return None
        st.session_state.update(actor=current, token=token, renewed=now, cookie=token)
    elif not holds(now):
        return None
    st.session_state["last_seen"] = now
    return current


def keep_alive() -> None:
    """A fragment's run (the interview's answers) is activity too, and is checked like a whole run: an ended
    sign-in reruns the whole app, whose sign-in page says why."""
    now = datetime.now(UTC)
    if st.session_state.get("actor") is None:
        return
    if not holds(now):
        st.rerun()
    st.session_state["last_seen"] = now
    keep_cookie()


def holds(now: datetime | None = None) -> bool:
    """Whether this tab's sign-in still holds: not idle by the tab's own clock, and its row in the database still
    valid for the tab's actor (renewed once every RENEW_EVERY). Otherwise the tab is signed out, keeping why.
    Widget callbacks that change data call this first: Streamlit runs them before the page's script."""
    now = now or datetime.now(UTC)
    state = st.session_state
    if state.get("actor") is None:
        return False
    renew = now - state.get("renewed", now - RENEW_EVERY) >= RENEW_EVERY
    try:
        if now - state.get("last_seen", now) > SESSION_TIMEOUT:
            raise sessions.SessionEndedError("signed out after a period without activity", code="session_idle")
        sessions.check_session(services().store, state.get("token"), state["actor"], renew=renew)
    except sessions.SessionEndedError as ended:
        sign_out()
        state[ENDED] = ended
        return False
    if renew:
        state.update(renewed=now, cookie=state["token"])  # keep_cookie hands it to the browser again
    return True


def sign_in(signed_in: Actor) -> None:
    token = sessions.open_session(services().store, signed_in)
    now = datetime.now(UTC)
    st.session_state.update(actor=signed_in, token=token, last_seen=now, renewed=now, cookie=token)
    st.session_state.pop(ENDED, None)


def sign_out() -> None:
    token = st.session_state.get("token")
    if token:
        sessions.close_session(services().store, token)
    for key in list(st.session_state):
        if key != "lang":
            del st.session_state[key]
    st.session_state["cookie"] = ""  # the browser forgets the token on the next run


def keep_cookie() -> None:
    """Hand a new (or emptied) sign-in token to the browser; called by the page chrome on every run."""
    token = st.session_state.pop("cookie", None)
    if token is None:
        # Hold the script's place: the page's elements keep their positions whether a cookie goes out or not,
        # so a renewal does not reset open tabs.
        st.empty()
        return
    max_age = int(SESSION_TIMEOUT.total_seconds()) if token else 0
    st.html(f"<script>document.cookie = '{COOKIE}={token}; path=/; max-age={max_age}; SameSite=Strict';</script>",
            unsafe_allow_javascript=True)


def guarded(build: Callable[[], bytes], download: str, *, assessment_id: int | None = None,
            filters: Filters | None = None) -> Callable[[], bytes]:
    """A download's builder that builds only while this tab's sign-in holds, and records the download in the audit
    log (who, which ``download``, of which assessment or with which filters). Streamlit calls it when the button is
    clicked, without running the page again, so the sign-in is checked here, in the database: signed out, idle
    past the timeout, past its lifetime or deactivated since the page was drawn, and nothing is built."""
    token, current, acting = st.session_state.get("token"), st.session_state.get("actor"), services()

    def build_while_signed_in() -> bytes:
        try:
            if current is None:
                raise sessions.SessionEndedError("no sign-in", code="session_closed")
            sessions.check_session(acting.store, token, current)
        except sessions.SessionEndedError:
            raise AuthenticationError("the sign-in has ended: sign in again to download", code="signed_out") from None
        data = build()
        acting.record_download(current, download, assessment_id=assessment_id, filters=filters)
        return data

    return build_while_signed_in


def ended() -> Callable[[], bool]:
    """A check, callable from any thread, that says whether this browser session has ended (its tab closed or its
    connection gone). Streamlit stops a script only at its next Streamlit call, so long work for the session (an
    upload being read) asks this now and then and stops itself."""
    from streamlit import runtime
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    context = get_script_run_ctx()
    if context is None or not runtime.exists():
        return lambda: False  # not served by `streamlit run`: there is no session to end
    server, session_id = runtime.get_instance(), context.session_id
    return lambda: not server.is_active_session(session_id)


def require_actor() -> Actor:
    """The signed-in actor; a page reached without one stops with a message."""
    current = actor()
    if current is None:
        st.warning(t("session.signed_out"))
        st.stop()
    return current


def show(error: AssessmentError) -> None:
    """A domain error as the user sees it, in their language when its code has words; never a traceback."""
    st.error(said(error, lang(), quote=plain))  # an error may quote what a user typed or uploaded


# Parameters that are codes themselves, said through the words under these keys (``status.approved``).
SAID_PARAMS = {"action": "action", "status": "status", "field": "field", "what": "errors.what",
               "kind": "errors.kind", "profile": "errors.profile"}


def said(error: AssessmentError, language: str, quote: Callable[[str], str] = str) -> str:
    """The error in ``language``: every problem of a form or a workbook (``error.problems``) or the error's own
    code, each after its place when it has one (file, sheet, cell); the English messages when any of them has no
    words. ``quote`` makes a parameter (a file name, a value typed) and an English message fit where the error
    is shown (``user_text.plain`` for Markdown)."""
    texts = []
    english = "\n\n".join(quote(message) for message in error.messages)
    for code, params in error.problems or [(error.code, error.params)]:
        template = words(language).get(f"errors.{code}") if code else None
        if not template:
            return english
        values = {key: _said_value(key, value, language, quote) for key, value in params.items()}
        try:
            texts.append(_place(values, language) + template.format(**values))
        except (KeyError, IndexError):  # words that need a parameter this error lacks: its English lines
            return english
    return "\n\n".join(texts)


def _said_value(key: str, value, language: str, quote: Callable[[str], str]) -> str:
    """A parameter of an error: a code in the UI language's words, anything else (maybe typed by a user) quoted."""
    word = words(language).get(f"{SAID_PARAMS[key]}.{value}") if key in SAID_PARAMS else None
    return word if word is not None else quote(str(value))


def by_field(error: AssessmentError | None, fields: tuple[str, ...]) -> dict[str, AssessmentError]:
    """An error of a form split by the field each problem is about, so that a page shows each problem under its
    field ("" for the rest), still said in the user's language."""
    if error is None:
        return {}
    if len(error.problems) != len(error.messages):  # one refusal of the whole form
        return {"": error}
    grouped: dict[str, list[tuple[str, tuple[str, dict]]]] = {}
    for message, (code, params) in zip(error.messages, error.problems, strict=True):
        name = str(params.get("field", ""))
        grouped.setdefault(name if name in fields else "", []).append((message, (code, params)))
    return {name: AssessmentError([message for message, _ in pairs], problems=[problem for _, problem in pairs])
            for name, pairs in grouped.items()}


def _place(params: dict, language: str) -> str:
    """Where a problem of a file is: the file, its sheet, its cell (``errors.at.*``); nothing for other errors."""
    if not params.get("file"):
        return ""
    at = "cell" if params.get("cell") and params.get("sheet") else "sheet" if params.get("sheet") else "file"
    return words(language)[f"errors.at.{at}"].format(**params)
