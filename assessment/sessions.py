"""Sign-in sessions: the token a signed-in browser keeps (in a cookie), of which only the hash is stored."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from assessment.accounts import Actor
from assessment.db import Store
from assessment.models import SignInSession, User, now


def open_session(store: Store, actor: Actor) -> str:
    """A new sign-in token for a browser to keep (in a cookie); only its hash is stored."""
    token = secrets.token_urlsafe(32)
    with store.write() as db:
        db.add(SignInSession(token_hash=digest(token), user_id=actor.user_id))
    return token


def resume_session(store: Store, token: str, timeout: timedelta) -> Actor | None:
    """The actor of a token still in use (seen within ``timeout``, user active); None otherwise."""
    with store.write() as db:
        row = db.get(SignInSession, digest(token))
        if row is None:
            return None
        user = db.get(User, row.user_id)
        if user is None or not user.active or now() - row.last_seen > timeout:
            db.delete(row)
            return None
        row.last_seen = now()
        return Actor.of(user)


def touch_session(store: Store, token: str) -> None:
    """Note that the token's tab is still in use, so a reload within the timeout of now resumes it."""
    with store.write() as db:
        row = db.get(SignInSession, digest(token))
        if row is not None:
            row.last_seen = now()


def close_session(store: Store, token: str) -> None:
    with store.write() as db:
        row = db.get(SignInSession, digest(token))
        if row is not None:
            db.delete(row)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
