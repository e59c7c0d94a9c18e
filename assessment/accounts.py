"""Accounts: roles, password hashing (argon2id), the password policy, sign-in with lockout.

Passwords and their hashes never leave this module in a message, a log line or a repr.
"""

from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select

from assessment.db import Store
from assessment.errors import AssessmentError
from assessment.models import User, now

ROLES = ("bureau_admin", "bureau_analyst", "provider_user", "enterprise_user")
ROLE_ORGANISATION = {"bureau_admin": "bureau", "bureau_analyst": "bureau", "provider_user": "provider",
                     "enterprise_user": "enterprise"}
MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 10
COMMON_PASSWORDS = {"password123", "1234567890", "qwertyuiop", "12345678910", "abc1234567", "password1234",
                    "admin12345", "iloveyou123", "1q2w3e4r5t", "qwerty12345"}

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
_DUMMY_HASH = _hasher.hash("a password nobody has")


class _MaskSecrets(logging.Filter):
    """SQLAlchemy's debug log (``echo="debug"``) prints every row it reads — a user's password hash, a sign-in
    session's token hash — and the store hides only the bound parameters. This masks both kinds of value."""

    SECRET = re.compile(r"\$argon2[a-z]*\$[^'\"\s,)]*|\b[0-9a-f]{64}\b")

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self.SECRET.search(message):
            record.msg, record.args = self.SECRET.sub("[masked]", message), None
        return True


logging.getLogger("sqlalchemy.engine.Engine").addFilter(_MaskSecrets())


class AuthenticationError(AssessmentError):
    """Sign-in refused; the message never says whether the user name exists."""


class PasswordPolicyError(AssessmentError):
    """A new password that does not meet the policy; ``problems`` holds one ``(code, params)`` per rule broken, as
    InputError does, so that the interface says each in the user's language."""

    def __init__(self, message: str, problems: list[tuple[str, dict]]):
        super().__init__(message, problems=problems)


@dataclass(frozen=True)
class Actor:
    """Who is acting: what the permission check needs of a signed-in user, and nothing secret."""

    user_id: int | None
    username: str
    role: str
    organisation_id: int | None
    districts: tuple[str, ...] | None = None  # an analyst's scope; None: every district
    display_name: str = ""  # the person's name, shown where the UI names who is signed in
    must_change_password: bool = False  # signed in with a one-time password: only the password change is open

    @property
    def name(self) -> str:
        """The person's name as the UI shows it: the display name, else the user name."""
        return self.display_name or self.username

    @classmethod
    def operator(cls) -> Actor:
        """Whoever runs the command line on the server (not a role users can have); audited as no user."""
        return cls(user_id=None, username="(command line)", role="operator", organisation_id=None)

    @classmethod
    def of(cls, user: User) -> Actor:
        return cls(user.id, user.username, user.role, user.organisation_id,
                   tuple(user.districts) if user.districts else None, user.display_name or "",
                   bool(user.must_change_password))


def holds(user: User | None, actor: Actor) -> bool:
    """The user still exists, is active and has the role and organisation the actor names."""
    return user is not None and user.active and (user.role, user.organisation_id) == (actor.role,
                                                                                      actor.organisation_id)


def still_active(store: Store, actor: Actor) -> bool:
    """Whether a signed-in tab's actor may go on acting (checked on every run: a deactivation takes effect at once)."""
    if actor.user_id is None:
        return False
    with store.read() as db:
        return holds(db.get(User, actor.user_id), actor)


def check_password_policy(password: str, username: str = "") -> None:
    broken = []  # (what the password needs, in English; its code; the code's parameters)
    if len(password) < MIN_PASSWORD_LENGTH:
        broken.append((f"at least {MIN_PASSWORD_LENGTH} characters", "form.password_too_short",
                       {"limit": MIN_PASSWORD_LENGTH}))
    if not any(ch.isalpha() for ch in password) or not any(ch.isdigit() for ch in password):
        broken.append(("letters and digits", "form.password_letters_digits", {}))
    if username and username.lower() in password.lower():
        broken.append(("not containing the user name", "form.password_has_username", {}))
    if password.lower() in COMMON_PASSWORDS:
        broken.append(("not a commonly used password", "form.password_common", {}))
    if broken:
        raise PasswordPolicyError(f"password: needs {', '.join(needs for needs, _, _ in broken)}",
                                  [(code, params) for _, code, params in broken])


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(user: User, password: str) -> bool:
    return _verify(user.password_hash, password)


ONE_TIME_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/l/I to misread
ONE_TIME_LENGTH = 12


def one_time_password(username: str = "") -> str:
    """A random password an administrator hands over once; it meets the policy (the user must replace it)."""
    while True:
        password = "".join(secrets.choice(ONE_TIME_ALPHABET) for _ in range(ONE_TIME_LENGTH))
        try:
            check_password_policy(password, username)
        except PasswordPolicyError:
            continue
        return password


def authenticate(store: Store, username: str, password: str) -> Actor:
    """The actor for a correct user name and password; five failures lock the account for 15 minutes."""
    refused = AuthenticationError("user name or password is wrong", code="sign_in_failed")
    name = username.strip()
    if not name.isprintable():  # no user name holds a NUL or a line break (and PostgreSQL refuses a NUL outright)
        _verify(_DUMMY_HASH, password)
        raise refused
    with store.write() as db:
        user = db.scalar(select(User).where(User.username == name))
        if user is None or not user.active:
            _verify(_DUMMY_HASH, password)  # same work as for a real user, so timing does not tell
            raise refused
        if user.locked_until and user.locked_until > now():
            minutes = max(1, int((user.locked_until - now()).total_seconds() // 60) + 1)
            raise AuthenticationError(f"too many failed attempts: the account is locked for {minutes} more minutes",
                                      code="locked", minutes=minutes)
        if not _verify(user.password_hash, password):
            user.failed_logins += 1
            if user.failed_logins >= MAX_FAILED_LOGINS:
                user.failed_logins, user.locked_until = 0, now() + LOCKOUT
        else:
            user.failed_logins, user.locked_until, user.last_login_at = 0, None, now()
            if _hasher.check_needs_rehash(user.password_hash):
                user.password_hash = hash_password(password)
            return Actor.of(user)
    raise refused  # after the commit, so the failure count is kept


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
