"""Accounts: roles, password hashing (argon2id), the password policy, sign-in with lockout.

Passwords and their hashes never leave this module in a message, a log line or a repr.
"""

from __future__ import annotations

import logging
import re
import secrets
import threading
import time
import unicodedata
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from zxcvbn import zxcvbn

from assessment.db import Store
from assessment.errors import AssessmentError
from assessment.models import AuditEntry, User, now

ROLES = ("bureau_admin", "bureau_analyst", "provider_user", "enterprise_user")
ROLE_ORGANISATION = {"bureau_admin": "bureau", "bureau_analyst": "bureau", "provider_user": "provider",
                     "enterprise_user": "enterprise"}
MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 10
# A password must take zxcvbn at least this score (0-4; 3: about 10^8 guesses): its lists of passwords from breaches,
# words, names, keyboard walks, dates and repeats are what "common" means here.
MIN_PASSWORD_SCORE = 3
# Passwords this tool itself once printed in its source (the demo's old fixed password): known to anyone who read it.
PUBLISHED_PASSWORDS = ("Demo-Password-2026",)
# Words a password of this tool is often made of (zxcvbn counts them as a dictionary of their own).
PRODUCT_WORDS = ("demo", "admin", "assessment", "diagnosis", "factory", "smart", "bureau", "cmmm")
# One refusal for every failed sign-in, so that it never tells whether a user name exists or is locked.
REFUSED = "user name or password is wrong, or the account is locked for a while after repeated failures"
# User names: compared and stored in one form (see username_key); new ones only of these characters.
USERNAME_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789._-@")
USERNAME_LENGTH = (3, 64)
# Slowing by source (SourceThrottle): free failures, the first wait, the longest, how long a quiet source is kept.
FREE_FAILURES = 5
FIRST_DELAY = 1.0
LONGEST_DELAY = 30.0
THROTTLE_WINDOW = timedelta(minutes=15)
THROTTLE_CAPACITY = 10_000

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
# What a refusal checks instead of a user's hash, so it costs the same: a hash of a random password that was then
# thrown away, made with the hasher's parameters (a test keeps them equal). A literal, because hashing it at import
# cost every command-line command almost half a second.
_DUMMY_HASH = "$argon2id$v=19$m=65536,t=3,p=4$qoaVkLW4lwXI9rUTQ6qMGg$BTGrNZRsJ3bMUr4Ibo4xksUYQnXjaJW1Z4cxSGQKjmQ"


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


def check_password_policy(password: str, username: str = "") -> None:
    broken = []  # (what the password needs, in English; its code; the code's parameters)
    if len(password) < MIN_PASSWORD_LENGTH:
        broken.append((f"at least {MIN_PASSWORD_LENGTH} characters", "form.password_too_short",
                       {"limit": MIN_PASSWORD_LENGTH}))
    if not any(ch.isalpha() for ch in password) or not any(ch.isdigit() for ch in password):
        broken.append(("letters and digits", "form.password_letters_digits", {}))
    if username and username.lower() in password.lower():
        broken.append(("not containing the user name", "form.password_has_username", {}))
    if len(password) >= MIN_PASSWORD_LENGTH and too_easy_to_guess(password, username):  # short: said already
        broken.append(("not a common password, word or pattern", "form.password_common", {}))
    if broken:
        raise PasswordPolicyError(f"password: needs {', '.join(needs for needs, _, _ in broken)}",
                                  [(code, params) for _, code, params in broken])


def too_easy_to_guess(password: str, username: str = "") -> bool:
    """Whether zxcvbn finds the password guessable: common passwords, words and names (with digits, capitals and
    look-alike symbols), keyboard walks, sequences, dates, or the user's name and this product's words."""
    # zxcvbn refuses more than 72 characters; a longer password is at least as strong as its beginning.
    found = zxcvbn(password[:72], user_inputs=[username, *PRODUCT_WORDS, *PUBLISHED_PASSWORDS])
    return found["score"] < MIN_PASSWORD_SCORE


def hash_password(password: str) -> str:
    return _hasher.hash(password)


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


def username_key(typed: str) -> str:
    """The one form a user name is stored, compared and looked up in: Unicode compatibility forms folded (NFKC:
    full-width ａｄｍｉｎ is admin) and case folded (ADMIN is admin), without surrounding spaces. New names are
    further limited to USERNAME_CHARACTERS, so a look-alike from another script (Cyrillic а) cannot stand beside
    a Latin name."""
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", typed).strip().casefold())
    return folded.strip()


def username_allowed(key: str) -> bool:
    """Whether a new account may take this (already normalised) user name."""
    low, high = USERNAME_LENGTH
    return low <= len(key) <= high and set(key) <= USERNAME_CHARACTERS


def is_locked(user: User) -> bool:
    """Whether sign-ins to the account are refused for now after repeated failures."""
    return user.locked_until is not None and user.locked_until > now()


def locked_minutes(user: User) -> int:
    """How many more minutes (rounded up) a locked account stays locked."""
    return max(1, int((user.locked_until - now()).total_seconds() // 60) + 1)


class SourceThrottle:
    """Slows repeated failed sign-ins from one source (a client address), whichever accounts they name.

    After FREE_FAILURES failures each next attempt waits, twice as long after each further failure (FIRST_DELAY,
    2x, 4x ... LONGEST_DELAY); attempts sent at once take turns, and one whose turn is further off than
    LONGEST_DELAY is refused without checking anything. A success, or THROTTLE_WINDOW without a failure, forgets
    the source. Kept in this process's memory for at most ``capacity`` sources, the least recently seen dropped
    first, so no number of addresses can grow it; the account lockout in the database holds across processes.
    ``clock`` and ``sleep`` are time.monotonic and time.sleep, replaceable for tests.
    """

    def __init__(self, *, clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep,
                 capacity: int = THROTTLE_CAPACITY):
        self._clock, self._sleep, self._capacity = clock, sleep, capacity
        self._sources: OrderedDict[str, list[float]] = OrderedDict()  # source: [failures, next turn, last seen]
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._sources)

    def wait(self, source: str | None) -> bool:
        """Wait for this attempt's turn; False: refused, the source's queue is too long."""
        if source is None:  # a local connection: nothing to tell sources apart by
            return True
        with self._lock:
            moment = self._clock()
            self._forget_quiet(moment)
            state = self._sources.get(source)
            if state is None:
                return True
            turn = max(moment, state[1])
            if turn - moment > LONGEST_DELAY:
                return False
            state[1] = turn + _delay(state[0])  # the next attempt from here waits for this one's slot
        if turn > moment:
            self._sleep(turn - moment)
        return True

    def failed(self, source: str | None) -> None:
        if source is None:
            return
        with self._lock:
            moment = self._clock()
            self._forget_quiet(moment)
            state = self._sources.pop(source, None) or [0, moment, moment]
            state[0] += 1
            state[1], state[2] = max(state[1], moment + _delay(state[0])), moment
            self._sources[source] = state  # at the end: the most recently seen
            while len(self._sources) > self._capacity:
                self._sources.popitem(last=False)

    def succeeded(self, source: str | None) -> None:
        with self._lock:
            self._sources.pop(source, None)

    def _forget_quiet(self, moment: float) -> None:
        window = THROTTLE_WINDOW.total_seconds()
        while self._sources:
            oldest = next(iter(self._sources.values()))
            if moment - oldest[2] <= window:
                break
            self._sources.popitem(last=False)


def _delay(failures: float) -> float:
    if failures < FREE_FAILURES:
        return 0.0
    return min(FIRST_DELAY * 2 ** (failures - FREE_FAILURES), LONGEST_DELAY)


SOURCES = SourceThrottle()  # this process's sign-in sources


def authenticate(store: Store, username: str, password: str, source: str | None = None) -> Actor:
    """The actor for a correct user name and password. Every refusal says the same (REFUSED) and checks one
    password hash, so neither words nor timing tell an unknown name, an inactive or locked account and a wrong
    password apart; MAX_FAILED_LOGINS failures in a row lock the account for LOCKOUT, and failures from one
    ``source`` (the client's address, None when unknown) slow its later attempts (SOURCES)."""
    refused = AuthenticationError(REFUSED, code="sign_in_failed")
    if not SOURCES.wait(source):
        raise refused
    key = username_key(username)
    if not key.isprintable() or len(key) > USERNAME_LENGTH[1]:  # no name holds a NUL (PostgreSQL refuses one)
        key = ""
    refusal, user = _attempt(store, password, source, "sign_in", username=key)
    if refusal is not None:
        SOURCES.failed(source)
        raise refused
    SOURCES.succeeded(source)
    return Actor.of(user)


def is_current_password(store: Store, user_id: int, password: str) -> bool:
    """Whether a signed-in user named its current password (asked before changing it). A wrong one counts towards
    the lockout like a failed sign-in; while the account is locked it is refused unchecked (the user is signed in,
    so saying so tells nobody anything new)."""
    refusal, user = _attempt(store, password, None, "change_password", user_id=user_id)
    if refusal == "locked":
        minutes = locked_minutes(user)
        raise AuthenticationError(f"too many failed attempts: the account is locked for {minutes} more minutes",
                                  code="locked", minutes=minutes)
    return refusal is None


def _attempt(store: Store, password: str, source: str | None, action: str, *, username: str = "",
             user_id: int | None = None) -> tuple[str | None, User | None]:
    """One password check that counts towards the account's lockout: (why it was refused, or None; the user).

    The attempt first claims one of the account's MAX_FAILED_LOGINS tries in a short transaction holding the
    user's row (FOR UPDATE on PostgreSQL; SQLite's BEGIN IMMEDIATE lets one writer at a time), so attempts made at
    once count one after the other and no more than that many ever check the real hash. The hash is checked outside
    any transaction (argon2 is slow on purpose), and a second short transaction records the outcome and its audit
    entry. A refusal for any other reason checks a stand-in hash, so that it costs the same.
    """
    with store.write() as db:
        if user_id is not None:
            user = db.get(User, user_id, with_for_update=True)
        else:
            user = db.scalar(select(User).where(User.username == username).with_for_update()) if username else None
        if user is None:
            refusal = "unknown_name"
        elif not user.active:
            refusal = "inactive"
        else:
            refusal = None if _claim(user) else "locked"
        known_hash = user.password_hash if user is not None else _DUMMY_HASH
        user_id = user.id if user is not None else None
    right = _verify(_DUMMY_HASH if refusal else known_hash, password)
    if refusal is None and not right:
        refusal = "wrong_password"
    with store.write() as db:
        user = db.get(User, user_id, with_for_update=True) if user_id is not None else None
        if user is not None and refusal is None:
            user.failed_logins, user.locked_until = 0, None
            if _hasher.check_needs_rehash(user.password_hash):
                user.password_hash = hash_password(password)
        elif user is not None and refusal == "wrong_password" and user.failed_logins >= MAX_FAILED_LOGINS:
            user.locked_until = user.locked_until if is_locked(user) else now() + LOCKOUT
        if action == "sign_in" and refusal is None:
            user.last_login_at = now()
            _audit_sign_in(db, user.id, "sign_in", user.id, {"source": source})
        elif refusal is not None:
            # The person is not known to be the account's owner (a change of password: it is). Of an unknown name
            # nothing typed is kept: people type their password into the name field.
            by = user_id if action == "change_password" else None
            _audit_sign_in(db, by, f"{action}_failed", user_id, {"source": source, "reason": refusal})
    return refusal, user


def _claim(user: User) -> bool:
    """Whether an attempt may check the account's password; counts it as a failure until it proves right."""
    if user.locked_until is not None and not is_locked(user):  # a past lockout is over: a fresh count
        user.failed_logins, user.locked_until = 0, None
    if is_locked(user):
        return False
    if user.failed_logins >= MAX_FAILED_LOGINS:  # the tries are taken by attempts still checking (or lost)
        user.locked_until = now() + LOCKOUT
        return False
    user.failed_logins += 1
    return True


def _audit_sign_in(db, user_id: int | None, action: str, entity_id: int | None, after: dict) -> None:
    db.add(AuditEntry(user_id=user_id, action=action, entity="user",
                      entity_id="" if entity_id is None else str(entity_id), after=after))


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
