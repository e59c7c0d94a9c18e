"""The one-time set-up token: only someone who can read the server's console may set up an empty database.

Whoever completes the set-up page becomes the first administrator. So that this is the person who started the
server, and not the first visitor of a deployment whose database was lost, the page asks for a token that the
server prints on its console (stderr) the first time it finds the database empty, or that the deployment sets in
ASSESSMENT_SETUP_TOKEN. Wrong tokens are counted: after MAX_WRONG of them no token is accepted until the server is
restarted. The count lives in the process, not in a cache a client could clear.
"""

from __future__ import annotations

import hmac
import os
import secrets
import sys
import threading
from typing import TextIO

from assessment.errors import AssessmentError

ENV = "ASSESSMENT_SETUP_TOKEN"
MAX_WRONG = 5
MIN_LENGTH = 16  # a token set in the environment; the generated ones have 32 random characters


class SetupTokenError(AssessmentError):
    """A set-up without the right token."""


class SetupToken:
    def __init__(self, console: TextIO | None = None):
        self._console = console  # None: the process's stderr at the time of printing
        self._generated = secrets.token_urlsafe(24)
        self._announced = False
        self._wrong = 0
        self._lock = threading.Lock()

    def announce(self) -> None:
        """Tell the server's console the token (once until it is used); the environment's is not repeated."""
        with self._lock:
            if self._announced:
                return
            self._announced = True
            if os.environ.get(ENV):
                text = (f"The database has no administrator yet. Open the app in a browser and enter the set-up "
                        f"token given in {ENV} on its set-up page.")
            else:
                text = (f"The database has no administrator yet. Open the app in a browser and enter this set-up "
                        f"token on its set-up page (valid until the app restarts; {MAX_WRONG} wrong tries void "
                        f"it):\n\n    {self._generated}\n")
        print(text, file=self._console or sys.stderr, flush=True)

    def check(self, given: str) -> None:
        """Accept the token or raise SetupTokenError; a wrong token counts towards MAX_WRONG."""
        expected = self._expected()
        with self._lock:
            if self._wrong >= MAX_WRONG:
                raise SetupTokenError(f"{MAX_WRONG} wrong set-up tokens: set-up is locked until the app is "
                                      f"restarted", code="setup_token_spent", tries=MAX_WRONG)
            if not given.strip():
                raise SetupTokenError("enter the set-up token printed in the terminal where the app runs",
                                      code="setup_token_missing")
            if not hmac.compare_digest(given.strip().encode(), expected.encode()):
                self._wrong += 1
                raise SetupTokenError(f"the set-up token is wrong ({MAX_WRONG - self._wrong} tries left)",
                                      code="setup_token_wrong", left=MAX_WRONG - self._wrong)

    def used(self) -> None:
        """The set-up is done: a generated token is never accepted again (should the database ever be empty
        again, a new one is printed); the environment's stays the deployment's choice."""
        with self._lock:
            self._generated = secrets.token_urlsafe(24)
            self._announced = False

    def _expected(self) -> str:
        configured = os.environ.get(ENV)
        if configured is None or configured == "":
            return self._generated
        if len(configured.strip()) < MIN_LENGTH:
            raise SetupTokenError(f"{ENV} is too short: it needs at least {MIN_LENGTH} characters",
                                  code="setup_token_too_short", name=ENV, minimum=MIN_LENGTH)
        return configured.strip()


# The one of this server process: every session and every Services of the process share its count.
SERVER_TOKEN = SetupToken()
