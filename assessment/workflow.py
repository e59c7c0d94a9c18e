"""The one state machine of an assessment: which action moves which status where, who acts, and the guards.

Diagnosis:  requested → assigned → in_progress → submitted → confirmed → approved
                ↘ cancelled (bureau, with a reason)  ↑                    ↘ returned → (resume) in_progress
Self-assessment:  draft → completed

A diagnosis that is ``requested`` is an open request: an enterprise has at most one (the services refuse a second).

The service layer gathers the facts a guard needs (``Facts``) and records the audit entry; this module only
decides. A refused move raises WorkflowError saying why.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from assessment.errors import AssessmentError

DIAGNOSIS, SELF = "diagnosis", "self"
KINDS = (DIAGNOSIS, SELF)
INITIAL = {DIAGNOSIS: "requested", SELF: "draft"}
STATUSES = {
    DIAGNOSIS: ("requested", "assigned", "in_progress", "submitted", "confirmed", "approved", "returned", "cancelled"),
    SELF: ("draft", "completed"),
}
OPEN_REQUEST = "requested"  # a request waiting for the bureau; one per enterprise at a time
EDITABLE = {DIAGNOSIS: ("in_progress",), SELF: ("draft",)}  # where answers, profile and projects may change


class WorkflowError(AssessmentError):
    """A move the workflow does not allow, or whose guard fails."""


@dataclass(frozen=True)
class Facts:
    """What the guards look at, gathered by the service that asks for the move."""

    answered: int = 0
    applicable: int = 0
    projects: int = 0
    provider_id: int | None = None
    rating: int | None = None
    comment: str | None = None


Refusal = tuple[str, str, dict]  # a code for the interface's words, the English message, its parameters


def _complete(facts: Facts) -> Refusal | None:
    if facts.applicable == 0 or facts.answered < facts.applicable:
        return ("incomplete", f"the questionnaire is not complete ({facts.answered} of {facts.applicable} answered)",
                {"answered": facts.answered, "applicable": facts.applicable})
    return None


def _submittable(facts: Facts) -> Refusal | None:
    if problem := _complete(facts):
        return problem
    return None if facts.projects > 0 else ("no_project", "a diagnosis needs at least one recommended project", {})


def _has_provider(facts: Facts) -> Refusal | None:
    return None if facts.provider_id is not None else ("no_provider", "choose the service provider to assign", {})


def _rated(facts: Facts) -> Refusal | None:
    ok = isinstance(facts.rating, int) and not isinstance(facts.rating, bool) and 1 <= facts.rating <= 5
    return None if ok else ("rating", f"the provider's rating must be a whole number from 1 to 5, got {facts.rating!r}",
                            {"rating": facts.rating})


def _commented(facts: Facts) -> Refusal | None:
    return None if facts.comment and facts.comment.strip() else ("comment", "returning a diagnosis needs a comment", {})


def _reasoned(facts: Facts) -> Refusal | None:
    return None if facts.comment and facts.comment.strip() else (
        "cancel_reason", "cancelling a request needs a reason", {})


@dataclass(frozen=True)
class Transition:
    kind: str
    action: str
    source: str
    target: str
    role: str  # the role that makes this move
    guard: Callable[[Facts], Refusal | None] | None = None


TRANSITIONS = (
    Transition(DIAGNOSIS, "assign", "requested", "assigned", "bureau_admin", _has_provider),
    Transition(DIAGNOSIS, "start", "assigned", "in_progress", "provider_user"),
    Transition(DIAGNOSIS, "submit", "in_progress", "submitted", "provider_user", _submittable),
    Transition(DIAGNOSIS, "confirm", "submitted", "confirmed", "enterprise_user", _rated),
    Transition(DIAGNOSIS, "approve", "confirmed", "approved", "bureau_admin"),
    Transition(DIAGNOSIS, "return", "confirmed", "returned", "bureau_admin", _commented),
    Transition(DIAGNOSIS, "resume", "returned", "in_progress", "provider_user"),
    Transition(DIAGNOSIS, "cancel", "requested", "cancelled", "bureau_admin", _reasoned),
    Transition(SELF, "complete", "draft", "completed", "enterprise_user", _complete),
)
ACTIONS = tuple(dict.fromkeys(t.action for t in TRANSITIONS))


def transition(kind: str, status: str, action: str) -> Transition:
    """The transition ``action`` takes from ``status``, or WorkflowError naming what is possible instead."""
    for t in TRANSITIONS:
        if (t.kind, t.source, t.action) == (kind, status, action):
            return t
    possible = [t.action for t in TRANSITIONS if (t.kind, t.source) == (kind, status)]
    label = "self-assessment" if kind == SELF else "diagnosis"
    hint = f"; possible now: {', '.join(possible)}" if possible else "; nothing more can be done with it"
    raise WorkflowError(f"cannot {action} a {label} that is {status}{hint}", code="impossible", action=action,
                        status=status)


def next_status(kind: str, status: str, action: str, facts: Facts = Facts()) -> str:
    t = transition(kind, status, action)
    if t.guard and (problem := t.guard(facts)):
        code, message, params = problem
        raise WorkflowError(f"cannot {action}: {message}", code=code, action=action, **params)
    return t.target
