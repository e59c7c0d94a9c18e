"""The one permission check. Every service operation calls ``require`` (or ``require_active`` and scopes its
listing with ``scope``) before it reads or writes anything; both refuse a user deactivated since signing in.

- operator: whoever runs the command line on the server (imports, batch reports); never a signed-in user.
- bureau_admin: manages organisations, users and assignments, reviews diagnoses, reads everything; it does
  not answer questionnaires or record an enterprise's progress (that is the provider's and enterprise's word).
- bureau_analyst: reads enterprises and assessments in its districts (all districts when unscoped); never writes.
- provider_user: reads the enterprises assigned to its provider and those diagnoses; works on them.
- enterprise_user: reads its own enterprise and assessments; self-assesses, requests diagnoses, confirms its
  diagnosis and rates the provider, records the progress of its recommended projects.

A user whose password an administrator reset may do nothing until it has chosen its own (``Services.change_password``).
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import Select, exists, select
from sqlalchemy.orm import Session

from assessment.accounts import Actor, holds
from assessment.errors import AssessmentError
from assessment.models import Assessment, Organisation, User
from assessment.workflow import DIAGNOSIS, SELF, transition


class NotAllowedError(AssessmentError):
    """The actor may not do this. The message is the same whether or not the target exists."""


class Op(StrEnum):
    MANAGE_ORGANISATIONS = "manage organisations"
    MANAGE_USERS = "manage users"
    READ_AUDIT = "read the audit log"
    READ_ENTERPRISE = "read enterprise"
    REQUEST_DIAGNOSIS = "request a diagnosis"
    START_SELF_ASSESSMENT = "start a self-assessment"
    READ_ASSESSMENT = "read assessment"
    EDIT_ASSESSMENT = "edit assessment"  # answers, profile and recommended projects
    UPDATE_PROJECT_STATUS = "update project status"
    WORKFLOW = "workflow"  # a move of the state machine; the move's own role decides


def require_active(db: Session, actor: Actor) -> None:
    """The actor's user still exists, is active and holds the role and organisation the actor names: a tab keeps
    its Actor in memory, so deactivating a user must stop it at its next call, not at its next sign-in."""
    if not _active(db, actor):
        raise NotAllowedError(f"not allowed: user {actor.username} is not active", code="not_allowed")
    if actor.role != "operator" and db.get(User, actor.user_id).must_change_password:
        # A one-time password set by an administrator (who knows it) opens nothing but its own replacement.
        raise NotAllowedError(f"not allowed: user {actor.username} must change the one-time password first",
                              code="password_change_required")


def _active(db: Session, actor: Actor) -> bool:
    if actor.role == "operator":
        return True
    return holds(db.get(User, actor.user_id) if actor.user_id is not None else None, actor)


def require(db: Session, actor: Actor, op: Op, target: Organisation | Assessment | None = None,
            action: str | None = None) -> None:
    require_active(db, actor)
    if not allowed(db, actor, op, target, action):
        # The same words whether or not the target exists (see services._get), so ids cannot be probed.
        if isinstance(target, Assessment):
            raise NotAllowedError(f"not allowed: assessment {target.id}", code="not_allowed")
        if isinstance(target, Organisation):
            raise NotAllowedError(f"not allowed: organisation {target.id}", code="not_allowed")
        raise NotAllowedError(f"not allowed: {op.value}", code="not_allowed")


def allowed(db: Session, actor: Actor, op: Op, target: Organisation | Assessment | None = None,
            action: str | None = None) -> bool:
    if op is Op.WORKFLOW:
        return _may_move(db, actor, target, action)
    return _RULES[actor.role](db, actor, op, target) if actor.role in _RULES else False


def _may_move(db: Session, actor: Actor, target: Organisation | Assessment | None, action: str | None) -> bool:
    """A workflow move is made by the role the transition names, on its own side of a readable assessment.
    An impossible move is left to the workflow to explain, to anyone who may read the assessment."""
    if not isinstance(target, Assessment) or action is None or not allowed(db, actor, Op.READ_ASSESSMENT, target):
        return False
    try:
        mover = transition(target.kind, target.status, action).role
    except AssessmentError:
        return True
    return actor.role == "operator" or (mover == actor.role and _owns(actor, target))


def _admin(db: Session, actor: Actor, op: Op, target) -> bool:
    return op not in (Op.EDIT_ASSESSMENT, Op.UPDATE_PROJECT_STATUS, Op.START_SELF_ASSESSMENT)


def _analyst(db: Session, actor: Actor, op: Op, target) -> bool:
    if op is Op.READ_ENTERPRISE and isinstance(target, Organisation):
        return _in_scope(actor, target.district)
    if op is Op.READ_ASSESSMENT and isinstance(target, Assessment):
        return _in_scope(actor, db.get(Organisation, target.enterprise_id).district)
    return False


def _provider(db: Session, actor: Actor, op: Op, target) -> bool:
    if op is Op.READ_ENTERPRISE and isinstance(target, Organisation):
        return bool(db.scalar(select(exists().where(Assessment.enterprise_id == target.id,
                                                    Assessment.provider_id == actor.organisation_id))))
    if op in (Op.READ_ASSESSMENT, Op.EDIT_ASSESSMENT) and isinstance(target, Assessment):
        return target.kind == DIAGNOSIS and target.provider_id == actor.organisation_id
    return False


def _enterprise(db: Session, actor: Actor, op: Op, target) -> bool:
    own = actor.organisation_id
    if op in (Op.READ_ENTERPRISE, Op.REQUEST_DIAGNOSIS, Op.START_SELF_ASSESSMENT):
        return isinstance(target, Organisation) and target.id == own
    if op in (Op.READ_ASSESSMENT, Op.UPDATE_PROJECT_STATUS):
        return isinstance(target, Assessment) and target.enterprise_id == own
    if op is Op.EDIT_ASSESSMENT:
        return isinstance(target, Assessment) and target.enterprise_id == own and target.kind == SELF
    return False


def _operator(db: Session, actor: Actor, op: Op, target) -> bool:
    return True


_RULES = {"operator": _operator, "bureau_admin": _admin, "bureau_analyst": _analyst, "provider_user": _provider,
          "enterprise_user": _enterprise}


def _owns(actor: Actor, assessment: Assessment) -> bool:
    """The actor's own side of the assessment: its provider, its enterprise, or the bureau."""
    if actor.role == "provider_user":
        return assessment.provider_id == actor.organisation_id
    if actor.role == "enterprise_user":
        return assessment.enterprise_id == actor.organisation_id
    return actor.role == "bureau_admin"


def _in_scope(actor: Actor, district: str | None) -> bool:
    return actor.districts is None or district in actor.districts


def scope_enterprises(actor: Actor, query: Select) -> Select:
    """Narrow a query over enterprises (Organisation) to those the actor may read."""
    if actor.role == "provider_user":
        return query.where(Organisation.id.in_(select(Assessment.enterprise_id).where(
            Assessment.provider_id == actor.organisation_id)))
    if actor.role == "enterprise_user":
        return query.where(Organisation.id == actor.organisation_id)
    if actor.role == "bureau_analyst" and actor.districts is not None:
        return query.where(Organisation.district.in_(actor.districts))
    return query if actor.role in ("operator", "bureau_admin", "bureau_analyst") else query.where(False)


def scope(actor: Actor, query: Select) -> Select:
    """Narrow a query over Assessment (joined with its enterprise as Organisation) to what the actor may read."""
    if actor.role in ("operator", "bureau_admin"):
        return query
    if actor.role == "bureau_analyst":
        return query if actor.districts is None else query.where(Organisation.district.in_(actor.districts))
    if actor.role == "provider_user":
        return query.where(Assessment.provider_id == actor.organisation_id, Assessment.kind == DIAGNOSIS)
    if actor.role == "enterprise_user":
        return query.where(Assessment.enterprise_id == actor.organisation_id)
    return query.where(False)
