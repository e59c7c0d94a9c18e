"""Sign-in sessions: the token a signed-in browser keeps (in a cookie), of which only the hash is stored.

A session's row decides whether a tab may go on: every run of a tab checks it (``check_session``, one query by
primary key), so signing out in one tab ends every tab holding the token. A session ends when its row is gone
(signed out anywhere), after IDLE_TIMEOUT without activity, IDLE_TIMEOUT being renewed by use but LIFETIME, counted
from the sign-in, not, and when its user is deactivated or given another role or organisation. Expired rows are
deleted whenever a session is opened.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update

from assessment.accounts import Actor, AuthenticationError, holds
from assessment.db import Store
from assessment.models import SignInSession, User, now

IDLE_TIMEOUT = timedelta(minutes=float(os.environ.get("ASSESSMENT_SESSION_MINUTES", "30")))
LIFETIME = timedelta(hours=float(os.environ.get("ASSESSMENT_SESSION_HOURS", "12")))


class SessionEndedError(AuthenticationError):
    """The sign-in a tab held has ended; the code says why (``session_closed``, ``session_idle``,
    ``session_lifetime``, ``session_account``)."""


def open_session(store: Store, actor: Actor) -> str:
    """A new sign-in token for a browser to keep (in a cookie); only its hash is stored. The rows of sessions that
    have expired meanwhile go in the same transaction, so the table holds only sessions that may still be used."""
    token = secrets.token_urlsafe(32)
    moment = now()
    with store.write() as db:
        db.execute(delete(SignInSession).where(or_(SignInSession.last_seen < moment - IDLE_TIMEOUT,
                                                   SignInSession.created_at < moment - LIFETIME)))
        db.add(SignInSession(token_hash=digest(token), user_id=actor.user_id, created_at=moment, last_seen=moment))
    return token


def check_session(store: Store, token: str | None, actor: Actor | None = None, *, renew: bool = False,
                  timeout: timedelta = IDLE_TIMEOUT, lifetime: timedelta = LIFETIME) -> Actor:
    """The actor of a sign-in that still holds, read in one query; with ``actor`` (what a tab remembers), its user
    must still be that actor's. ``renew`` notes the use (a write, so a tab does it once in a while). An ended
    sign-in raises SessionEndedError saying why, and its row is deleted."""
    key = digest(token or "")
    moment = now()
    with store.write() if renew else store.read() as db:
        found = db.execute(select(SignInSession.created_at, SignInSession.last_seen, User)
                           .join(User, User.id == SignInSession.user_id)
                           .where(SignInSession.token_hash == key)).first()
        ended = _why_ended(found, actor, moment, timeout, lifetime)
        if ended is None:
            if renew:  # an UPDATE, not the ORM: a row deleted meanwhile by a sign-out elsewhere is no error
                db.execute(update(SignInSession).where(SignInSession.token_hash == key).values(last_seen=moment))
            return Actor.of(found.User)
    if found is not None:
        close_session(store, token)
    raise ended


def _why_ended(found, actor: Actor | None, moment: datetime, timeout: timedelta,
               lifetime: timedelta) -> SessionEndedError | None:
    if found is None:
        return SessionEndedError("the sign-in has ended (signed out elsewhere): sign in again", code="session_closed")
    user = found.User
    if not user.active or (actor is not None and not (holds(user, actor) and actor.user_id == user.id)):
        return SessionEndedError("the account was deactivated or changed: signed out", code="session_account")
    if moment - found.created_at > lifetime:
        hours = round(lifetime / timedelta(hours=1))
        return SessionEndedError(f"signed in for {hours} hours, the longest a sign-in lasts: sign in again",
                            code="session_lifetime", hours=hours)
    if moment - found.last_seen > timeout:
        return SessionEndedError("signed out after a period without activity: sign in again", code="session_idle")
    return None


def resume_session(store: Store, token: str, timeout: timedelta = IDLE_TIMEOUT,
                   lifetime: timedelta = LIFETIME) -> Actor | None:
    """The actor of a token still in use (a browser's cookie, on a new tab), its use noted; None otherwise."""
    try:
        return check_session(store, token, renew=True, timeout=timeout, lifetime=lifetime)
    except SessionEndedError:
        return None


def close_session(store: Store, token: str) -> None:
    with store.write() as db:
        db.execute(delete(SignInSession).where(SignInSession.token_hash == digest(token)))


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
