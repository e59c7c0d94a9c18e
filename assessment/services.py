"""The service layer: every operation of the product, each checking permissions before it reads or writes.

Every operation takes the acting ``Actor`` first. Writes run in one transaction each, so a change is committed
when the call returns (autosave) and nothing is half-done when it raises. A change to an assessment names the
version the caller last saw; if someone changed it since, the change is refused (ConflictError) rather than
silently overwriting theirs. Every change leaves an audit entry.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Generic, TypeVar

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import ColumnElement, Select, delete, func, select
from sqlalchemy.orm import Session

from assessment import accounts, workflow
from assessment.accounts import ROLE_ORGANISATION, ROLES, Actor
from assessment.analytics import Filters
from assessment.db import SET_UP_LOCK, Store, one_at_a_time
from assessment.errors import AssessmentError, QuestionnaireError
from assessment.inputs import (
    InputError,
    Line,
    LongText,
    OrganisationInput,
    ProfileInput,
    ProjectInput,
    checked,
    checked_value,
    input_error,
)
from assessment.models import (
    Answer,
    Assessment,
    AuditEntry,
    Confirmation,
    EnterpriseProfile,
    Organisation,
    Project,
    Review,
    SignInSession,
    User,
    now,
)
from assessment.permissions import (
    NotAllowedError,
    Op,
    allowed,
    require,
    require_active,
    scope,
    scope_enterprises,
)
from assessment.questionnaire import Questionnaire, by_id, pinned
from assessment.results import stored_result, write_result
from assessment.rounds import RoundComparison, compare_rounds
from assessment.scoring import score
from assessment.setup_token import SERVER_TOKEN, SetupToken
from assessment.workflow import DIAGNOSIS, EDITABLE, INITIAL, OPEN_REQUEST, SELF, Facts, WorkflowError
from assessment.worklist import BACK_WITH_PROVIDER

DEFAULT_QUESTIONNAIRE = "cmmm-2020"
LIKE_ESCAPE = "\\"  # the escape character of every search's LIKE pattern, on SQLite and PostgreSQL alike
T = TypeVar("T")


class ConflictError(AssessmentError):
    """Someone else changed the assessment since the caller last read it."""


class NotFoundError(AssessmentError):
    pass


@dataclass
class AssessmentView:
    """One assessment with everything a page or report shows of it (read-only copies)."""

    assessment: Assessment
    enterprise: Organisation
    provider: Organisation | None
    answers: dict[str, Answer]
    profile: EnterpriseProfile | None
    projects: list[Project]
    confirmation: Confirmation | None
    reviews: list[Review] = field(default_factory=list)
    diagnosticians: list[str] = field(default_factory=list)  # who answered, by display name

    @property
    def as_of(self) -> datetime:
        """When the latest change this view shows was made: a copy of it (an offline template) holds everything
        changed until then, and anything changed later has a later time (writes to one assessment take turns)."""
        return max([self.assessment.updated_at, *(row.updated_at for row in self.answers.values())])


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a longer list: its rows, and how many rows the whole list holds."""

    rows: list[T]
    total: int


class Services:
    def __init__(self, store: Store, setup_token: SetupToken = SERVER_TOKEN):
        self.store = store
        self.setup_token = setup_token

    # -- accounts and organisations (bureau admin) --------------------------------------------------------

    def needs_setup(self) -> bool:
        """Whether the database has no user yet; the first time it has none, the server's console is told the
        set-up token that the set-up page asks for."""
        with self.store.read() as db:
            empty = db.scalar(select(func.count()).select_from(User)) == 0
        if empty:
            self.setup_token.announce()
        return empty

    def set_up(self, bureau_name: str, username: str, display_name: str, password: str, *,
               token: str | None = None) -> Actor:
        """The first start: create the bureau and its first admin. Refused once any user exists, also to a second
        set-up started at the same moment (they run one after the other, and the second finds the first's admin).

        A set-up from a browser passes the ``token`` its user typed, which must be the set-up token printed on the
        server's console; None is for callers that run on the server itself (the command line, tests)."""
        if token is not None:
            self.setup_token.check(token)
        admin = self._set_up(bureau_name, username, display_name, password)
        if token is not None:
            self.setup_token.used()
        return admin

    def _set_up(self, bureau_name: str, username: str, display_name: str, password: str) -> Actor:
        with self.store.write() as db:
            one_at_a_time(db, SET_UP_LOCK)
            if db.scalar(select(func.count()).select_from(User)):
                raise NotAllowedError("the tool is already set up; sign in instead", code="already_set_up")
            bureau = checked(OrganisationInput, {"kind": "bureau", "name": bureau_name})
            org = Organisation(**bureau.model_dump())
            db.add(org)
            db.flush()
            user = self._new_user(db, username, display_name, password, "bureau_admin", org.id, None)
            admin = Actor.of(user)  # the first administrator acts for itself: the entry names who set the tool up
            _audit(db, admin, "set_up", "user", user.id, None, {"username": username, "role": "bureau_admin"})
            return admin

    def create_organisation(self, actor: Actor, **data: Any) -> int:
        with self.store.write() as db:
            require(db, actor, Op.MANAGE_ORGANISATIONS)
            values = checked(OrganisationInput, data).model_dump()
            _unique_credit_code(db, values.get("credit_code"))
            org = Organisation(**values)
            db.add(org)
            db.flush()
            _audit(db, actor, "create", "organisation", org.id, None, values)
            return org.id

    def update_organisation(self, actor: Actor, organisation_id: int, **data: Any) -> None:
        with self.store.write() as db:
            require(db, actor, Op.MANAGE_ORGANISATIONS)
            org = _get(db, Organisation, organisation_id, "organisation")
            before = _row(org)
            values = checked(OrganisationInput, {"kind": org.kind, **data}).model_dump()
            _unique_credit_code(db, values.get("credit_code"), except_id=org.id)
            for key, value in values.items():
                setattr(org, key, value)
            _audit(db, actor, "update", "organisation", org.id, before, _row(org))

    def create_user(self, actor: Actor, username: str, display_name: str, password: str, role: str,
                    organisation_id: int | None, districts: Sequence[str] | None = None) -> int:
        with self.store.write() as db:
            require(db, actor, Op.MANAGE_USERS)
            user = self._new_user(db, username, display_name, password, role, organisation_id, districts)
            _audit(db, actor, "create", "user", user.id, None,
                   {"username": user.username, "role": role, "organisation_id": organisation_id})
            return user.id

    def set_user_active(self, actor: Actor, user_id: int, active: bool) -> None:
        with self.store.write() as db:
            require(db, actor, Op.MANAGE_USERS)
            user = _get(db, User, user_id, "user")
            before = {"active": user.active, "failed_logins": user.failed_logins, "locked_until": user.locked_until}
            # Either way the account starts afresh: no lockout left over from before.
            user.active, user.failed_logins, user.locked_until = active, 0, None
            _audit(db, actor, "activate" if active else "deactivate", "user", user.id, before,
                   {"active": active, "failed_logins": 0, "locked_until": None})

    def unlock_user(self, actor: Actor, user_id: int) -> None:
        """End an account's lockout after failed sign-ins (and its count of failures) before its time is up."""
        with self.store.write() as db:
            require(db, actor, Op.MANAGE_USERS)
            user = _get(db, User, user_id, "user", lock=True)
            before = {"failed_logins": user.failed_logins, "locked_until": user.locked_until}
            user.failed_logins, user.locked_until = 0, None
            _audit(db, actor, "unlock", "user", user.id, before, {"failed_logins": 0, "locked_until": None})

    def reset_password(self, actor: Actor, user_id: int) -> str:
        """Give a user a new one-time password (returned, to hand over once; only its hash is stored). The user must
        choose its own at the next sign-in and can do nothing else until then; its open sign-ins end, a lockout too."""
        with self.store.write() as db:
            require(db, actor, Op.MANAGE_USERS)
            user = _get(db, User, user_id, "user")
            if user.id == actor.user_id:
                raise InputError("password: change your own password on the account page, with your current one",
                                 code="form.reset_own_password")
            password = accounts.one_time_password(user.username)
            user.password_hash = accounts.hash_password(password)
            before = {"must_change_password": user.must_change_password}
            user.must_change_password, user.failed_logins, user.locked_until = True, 0, None
            db.execute(delete(SignInSession).where(SignInSession.user_id == user.id))
            _audit(db, actor, "reset_password", "user", user.id, before, {"must_change_password": True})
            return password

    def change_password(self, actor: Actor, current_password: str, new_password: str) -> Actor:
        """A user replaces its own password, naming the current one (a one-time password too); returns the actor as
        it now is (no longer bound to change it)."""
        with self.store.read() as db:
            user = db.get(User, actor.user_id) if actor.user_id is not None else None
            if not accounts.holds(user, actor):  # not require_active: a one-time password must open this
                raise NotAllowedError(f"not allowed: user {actor.username} is not active", code="not_allowed")
        # Checked apart from the change, counted towards the lockout like a sign-in (a stolen open tab must not
        # let anyone try passwords without limit).
        if not accounts.is_current_password(self.store, user.id, current_password):
            raise InputError("password: the current password is wrong", code="form.password_wrong")
        with self.store.write() as db:
            user = db.get(User, actor.user_id, with_for_update=True)
            if not accounts.holds(user, actor):
                raise NotAllowedError(f"not allowed: user {actor.username} is not active", code="not_allowed")
            if new_password == current_password:
                raise InputError("password: the new password is the current one", code="form.password_unchanged")
            try:
                accounts.check_password_policy(new_password, user.username)
            except accounts.PasswordPolicyError as exc:
                raise InputError(exc.messages, problems=exc.problems) from None
            before = {"must_change_password": user.must_change_password}
            user.password_hash, user.must_change_password = accounts.hash_password(new_password), False
            _audit(db, actor, "change_password", "user", user.id, before, {"must_change_password": False})
            return Actor.of(user)

    def list_users(self, actor: Actor) -> list[User]:
        with self.store.read() as db:
            require(db, actor, Op.MANAGE_USERS)
            return list(db.scalars(select(User).order_by(User.username)))

    def users_page(self, actor: Actor, *, search: str | None = None, limit: int = 50,
                   offset: int = 0) -> Page[tuple[User, Organisation | None]]:
        """One page of the accounts, by username, each with its organisation (read in the same query, whatever
        the number of accounts); ``search``: only those whose username or display name contains it."""
        with self.store.read() as db:
            require(db, actor, Op.MANAGE_USERS)
            query = select(User, Organisation).outerjoin(Organisation, Organisation.id == User.organisation_id)
            text = search_text(search)
            if text:
                query = query.where(containing(User.username, text) | containing(User.display_name, text))
            return _page(db, query.order_by(User.username, User.id), limit, offset)

    def _new_user(self, db: Session, username: str, display_name: str, password: str, role: str,
                  organisation_id: int | None, districts: Sequence[str] | None) -> User:
        username = accounts.username_key(username)  # ADMIN and ａｄｍｉｎ are admin: one name, one account
        messages: list[str] = []
        problems: list[tuple[str, dict]] = []  # one (code, params) per message, for the user's language

        def refuse(message: str, code: str, **params) -> None:
            messages.append(message)
            problems.append((code, params))

        if not accounts.username_allowed(username):  # Latin letters only: no look-alike from another script
            refuse("username: 3–64 letters a–z, digits or . _ - @", "form.username_format")
        elif db.scalar(select(User.id).where(User.username == username)):
            refuse(f"username: {username!r} is taken", "form.username_taken", username=username)
        if role not in ROLES:
            refuse(f"role: one of {', '.join(ROLES)}", "form.unknown_choice", field="role")
        else:
            org = db.get(Organisation, organisation_id) if organisation_id is not None else None
            if org is None or org.kind != ROLE_ORGANISATION[role]:
                refuse(f"organisation: a {role} belongs to a {ROLE_ORGANISATION[role]}", "form.organisation_mismatch")
        if districts is not None and role != "bureau_analyst":
            refuse("districts: only an analyst's reading is limited to districts", "form.districts_analyst_only")
        for check in (lambda: checked_value(Line, display_name, "display_name"),  # a NUL would reach the database
                      lambda: accounts.check_password_policy(password, username)):
            try:
                check()
            except (InputError, accounts.PasswordPolicyError) as exc:
                messages.extend(exc.messages)
                problems.extend(exc.problems or [(exc.code, exc.params)])
        if messages:
            raise InputError(messages, problems=problems)
        user = User(username=username, display_name=display_name.strip(), role=role,
                    password_hash=accounts.hash_password(password), organisation_id=organisation_id,
                    districts=list(districts) if districts else None)
        db.add(user)
        db.flush()
        return user

    # -- enterprises -------------------------------------------------------------------------------------

    def get_organisation(self, actor: Actor, organisation_id: int) -> Organisation:
        with self.store.read() as db:
            org = _get(db, Organisation, organisation_id, "organisation", actor)
            if org.kind == "enterprise":
                require(db, actor, Op.READ_ENTERPRISE, org)
            elif actor.organisation_id != org.id:  # one's own provider or bureau is always readable
                require(db, actor, Op.MANAGE_ORGANISATIONS)
            return org

    def list_enterprises(self, actor: Actor, *, district: str | None = None, industry: str | None = None,
                         search: str | None = None, limit: int | None = None) -> list[Organisation]:
        """The enterprises the actor may read, by name; ``limit``: at most that many (a search box's first page)."""
        with self.store.read() as db:
            require_active(db, actor)
            query = _enterprises(actor, district, industry, search)
            if limit is None:
                return list(db.scalars(query))
            _window(limit, 0)
            return list(db.scalars(query.limit(limit)))

    def enterprises_page(self, actor: Actor, *, district: str | None = None, industry: str | None = None,
                         search: str | None = None, limit: int = 50, offset: int = 0) -> Page[Organisation]:
        """One page of ``list_enterprises`` and how many enterprises it has in all."""
        with self.store.read() as db:
            require_active(db, actor)
            page = _page(db, _enterprises(actor, district, industry, search), limit, offset)
            return Page([org for org, in page.rows], page.total)

    def list_providers(self, actor: Actor) -> list[Organisation]:
        with self.store.read() as db:
            require(db, actor, Op.MANAGE_ORGANISATIONS)
            return list(db.scalars(select(Organisation).where(Organisation.kind == "provider")
                                   .order_by(Organisation.name)))

    # -- assessments -------------------------------------------------------------------------------------

    def request_diagnosis(self, actor: Actor, enterprise_id: int, *, questionnaire_id: str = DEFAULT_QUESTIONNAIRE,
                          previous_id: int | None = None) -> int:
        return self._create(actor, enterprise_id, DIAGNOSIS, questionnaire_id, previous_id, Op.REQUEST_DIAGNOSIS)

    def start_self_assessment(self, actor: Actor, enterprise_id: int, *,
                              questionnaire_id: str = DEFAULT_QUESTIONNAIRE, previous_id: int | None = None) -> int:
        return self._create(actor, enterprise_id, SELF, questionnaire_id, previous_id, Op.START_SELF_ASSESSMENT)

    def create_follow_up(self, actor: Actor, previous_id: int) -> int:
        """A new round for the same enterprise, linked to the earlier one so progress can be shown."""
        with self.store.read() as db:
            previous = _get(db, Assessment, previous_id, "assessment", actor)
            require(db, actor, Op.READ_ASSESSMENT, previous)
        create = self.request_diagnosis if previous.kind == DIAGNOSIS else self.start_self_assessment
        return create(actor, previous.enterprise_id, questionnaire_id=previous.questionnaire_id,
                      previous_id=previous.id)

    def _create(self, actor: Actor, enterprise_id: int, kind: str, questionnaire_id: str, previous_id: int | None,
                op: Op) -> int:
        q = by_id(questionnaire_id)
        with self.store.write() as db:
            # Locked: two requests for one enterprise at once are checked one after the other (see _new_assessment).
            enterprise = _get(db, Organisation, enterprise_id, "organisation", actor, lock=True)
            return _new_assessment(db, actor, enterprise, kind, q, previous_id, op).id

    def get_assessment(self, actor: Actor, assessment_id: int) -> AssessmentView:
        with self.store.read() as db:
            a = _get(db, Assessment, assessment_id, "assessment", actor)
            require(db, actor, Op.READ_ASSESSMENT, a)
            answered_by = select(Answer.updated_by).where(Answer.assessment_id == a.id).distinct()
            return AssessmentView(
                diagnosticians=list(db.scalars(select(User.display_name).where(User.id.in_(answered_by))
                                               .order_by(User.display_name))),
                assessment=a, enterprise=db.get(Organisation, a.enterprise_id),
                provider=db.get(Organisation, a.provider_id) if a.provider_id else None,
                answers={row.item_id: row for row in db.scalars(select(Answer).where(Answer.assessment_id == a.id))},
                profile=db.get(EnterpriseProfile, a.id),
                projects=list(db.scalars(select(Project).where(Project.assessment_id == a.id).order_by(Project.id))),
                confirmation=db.get(Confirmation, a.id),
                reviews=list(db.scalars(select(Review).where(Review.assessment_id == a.id).order_by(Review.id))),
            )

    def previous_round(self, actor: Actor, assessment_id: int) -> RoundComparison | None:
        """A follow-up round against the round before it (by level, S and subdomain maturity, whatever versions the
        two are on); None for a first round, while either is unscored, or when the actor may not read the earlier
        one (a provider sees only the enterprises assigned to it)."""
        with self.store.read() as db:
            a = _get(db, Assessment, assessment_id, "assessment", actor)
            require(db, actor, Op.READ_ASSESSMENT, a)
            previous = db.get(Assessment, a.previous_id) if a.previous_id is not None else None
            if previous is None or not allowed(db, actor, Op.READ_ASSESSMENT, previous):
                return None
            before, after = stored_result(previous), stored_result(a)
            if before is None or after is None or not previous.answered or not a.answered:
                return None
            return compare_rounds(previous.id, before, after)

    def list_assessments(self, actor: Actor, *, status: str | None = None, kind: str | None = None,
                         enterprise_id: int | None = None, district: str | None = None,
                         industry: str | None = None) -> list[tuple[Assessment, Organisation]]:
        with self.store.read() as db:
            require_active(db, actor)
            query = scope(actor, select(Assessment, Organisation).join(
                Organisation, Organisation.id == Assessment.enterprise_id))
            for column, value in ((Assessment.status, status), (Assessment.kind, kind),
                                  (Assessment.enterprise_id, enterprise_id), (Organisation.district, district),
                                  (Organisation.industry, industry)):
                if value is not None:
                    query = query.where(column == value)
            return [tuple(row) for row in db.execute(query.order_by(Assessment.id))]

    def open_returns(self, actor: Actor) -> dict[int, Review]:
        """Assessment id → the bureau's return (with its comment) of each diagnosis the actor may read that is back
        with its provider: the latest decision returned it and it has not been handed in again."""
        with self.store.read() as db:
            require_active(db, actor)
            latest = select(func.max(Review.id)).group_by(Review.assessment_id)
            query = scope(actor, select(Review).join(Assessment, Assessment.id == Review.assessment_id).join(
                Organisation, Organisation.id == Assessment.enterprise_id)).where(
                Review.id.in_(latest), Review.decision == "returned", Assessment.status.in_(BACK_WITH_PROVIDER))
            return {review.assessment_id: review for review in db.scalars(query)}

    # -- editing an assessment ---------------------------------------------------------------------------

    def save_answer(self, actor: Actor, assessment_id: int, item_id: str, code: str, *, expected_version: int,
                    note: str | None = None, evidence: str | None = None) -> int:
        """Store one answer (committed on return) and the new score; returns the assessment's new version."""
        with self.store.write() as db:
            a, q = self._editable(db, actor, assessment_id, expected_version)
            item = q.item_by_id.get(item_id)
            if item is None or not item.applies(a.profile):
                raise InputError(f"item: {item_id!r} is not a requirement of {q.id} for {a.profile} manufacturing",
                                 code="template.not_a_requirement", item=str(item_id), questionnaire=q.id,
                                 profile=a.profile)
            if code not in q.scale_by_code:
                raise InputError(f"{item_id}: {code!r} is not one of {', '.join(q.scale_by_code)}",
                                 code="template.not_a_scale_code", item=item_id, value=str(code))
            note, evidence = _text(note, f"{item_id}.note"), _text(evidence, f"{item_id}.evidence")
            row = db.get(Answer, (a.id, item_id))
            before = _answer(row)
            if row is None:
                row = Answer(assessment_id=a.id, item_id=item_id)
                db.add(row)
            row.code, row.note, row.evidence = code, note, evidence
            row.updated_by, row.updated_at = actor.user_id, now()
            db.flush()
            self._rescore(db, a, q)
            _audit(db, actor, "answer", "assessment", a.id, before,
                   {"item": item_id, "code": code, "note": note, "evidence": evidence})
            return a.version

    def save_answers(self, actor: Actor, assessment_id: int, answers: dict[str, dict[str, Any]], *,
                     expected_version: int, profile: dict[str, Any] | None = None) -> int:
        """Store many answers (and optionally the profile) at once, e.g. from an offline template: all of
        them or, when any is wrong, none. ``answers`` maps item id → {"code", "note", "evidence"}."""
        with self.store.write() as db:
            a, q = self._editable(db, actor, assessment_id, expected_version)
            self._store_answers(db, actor, a, q, answers, profile)
            return a.version

    def import_filled(self, actor: Actor, *, questionnaire_id: str, profile: str, enterprise: dict[str, Any],
                      answers: dict[str, dict[str, Any]], questionnaire_version: str | None = None,
                      facts: dict[str, Any] | None = None,
                      assessment_id: int | None = None, template_version: int | None = None,
                      template_as_of: datetime | None = None, overwrite: bool = False) -> tuple[int, bool]:
        """A filled offline template, in one transaction: into the assessment it was made for, or else into a
        new self-assessment of the enterprise it names (registered first when it is new).
        Returns the assessment id and whether the enterprise was new.

        ``template_version`` and ``template_as_of`` say what the template was made from (the assessment's version
        and ``AssessmentView.as_of``). An answer changed online after that which the template would change is
        not overwritten: the whole import is refused naming them (ConflictError), unless ``overwrite`` is
        chosen. Without them, every stored answer the template would change counts as changed online.

        The answers are of ``questionnaire_version`` (the newest when None): an assessment takes only answers of
        the version it is on, and a new self-assessment starts on that version."""
        q = by_id(questionnaire_id, questionnaire_version)
        with self.store.write() as db:
            created = False
            online: _ChangedOnline | None = None
            if assessment_id is not None:
                a = _get(db, Assessment, assessment_id, "assessment", actor, lock=True)
                if a.version != template_version:  # the same version: nothing changed since the template
                    online = _ChangedOnline(template_as_of, overwrite)
                a, q = self._editable(db, actor, a.id, a.version)
                if questionnaire_version is not None and questionnaire_version != q.version:
                    raise InputError(f"questionnaire: the template is of {q.id} {questionnaire_version}, assessment "
                                     f"{a.id} is on {q.version}; export a new template from the assessment",
                                     code="template.version_mismatch", id=a.id, questionnaire=q.id,
                                     given=questionnaire_version, version=q.version)
            else:
                values = checked(OrganisationInput, {"kind": "enterprise", **enterprise}, "enterprise")
                org = db.scalar(select(Organisation).where(Organisation.credit_code == values.credit_code))
                if org is None:
                    require(db, actor, Op.MANAGE_ORGANISATIONS)
                    org = Organisation(**values.model_dump())
                    db.add(org)
                    db.flush()
                    _audit(db, actor, "create", "organisation", org.id, None, values.model_dump())
                    created = True
                a = _new_assessment(db, actor, org, SELF, q, None, Op.START_SELF_ASSESSMENT)
            if a.profile != profile:
                raise InputError(f"profile: the template is for {profile} manufacturing, assessment {a.id} "
                                 f"for {a.profile}", code="template.profile_mismatch", profile=profile, id=a.id,
                                 expected=f"{a.profile}")
            self._store_answers(db, actor, a, q, answers, facts, online)
            return a.id, created

    def _store_answers(self, db: Session, actor: Actor, a: Assessment, q: Questionnaire,
                       answers: dict[str, dict[str, Any]], profile: dict[str, Any] | None,
                       online: _ChangedOnline | None = None) -> None:
        """Store the answers that differ from those stored; the audit entry holds each before and after."""
        problems, codes = [], []
        for item_id, answer in answers.items():
            item = q.item_by_id.get(item_id)
            if item is None or not item.applies(a.profile):
                problems.append(f"item: {item_id!r} is not a requirement of {q.id} for {a.profile} manufacturing")
                codes.append(("template.not_a_requirement", {"item": str(item_id), "questionnaire": q.id,
                                                              "profile": a.profile}))
            elif answer.get("code") not in q.scale_by_code:
                problems.append(f"{item_id}: {answer.get('code')!r} is not one of {', '.join(q.scale_by_code)}")
                codes.append(("template.not_a_scale_code", {"item": item_id, "value": str(answer.get("code"))}))
        if problems:
            raise InputError(problems, problems=codes)
        existing = {row.item_id: row for row in db.scalars(select(Answer).where(Answer.assessment_id == a.id))}
        values = {item_id: _given(item_id, answer) for item_id, answer in answers.items()}
        changed = {item_id: value for item_id, value in values.items() if _answer(existing.get(item_id)) != value}
        overwritten = [] if online is None else online.overwritten(a, changed, existing)
        before = {item_id: _answer(existing.get(item_id)) for item_id in changed}
        stamp = now()
        for item_id, value in changed.items():
            row = existing.get(item_id) or Answer(assessment_id=a.id, item_id=item_id)
            row.code, row.note, row.evidence = value["code"], value["note"], value["evidence"]
            row.updated_by, row.updated_at = actor.user_id, stamp
            db.add(row)
        if profile is not None:
            self._store_profile(db, actor, a, profile)
        db.flush()
        self._rescore(db, a, q)
        _audit(db, actor, "import_answers", "assessment", a.id, {"changed": before},
               {"answers": len(answers), "profile": profile is not None, "changed": changed,
                "overwritten": overwritten})

    def save_profile(self, actor: Actor, assessment_id: int, *, expected_version: int, **data: Any) -> int:
        with self.store.write() as db:
            a, _ = self._editable(db, actor, assessment_id, expected_version)
            self._store_profile(db, actor, a, data)
            return a.version

    def _store_profile(self, db: Session, actor: Actor, a: Assessment, data: dict[str, Any]) -> None:
        values = checked(ProfileInput, data).model_dump(mode="json")
        profile = db.get(EnterpriseProfile, a.id) or EnterpriseProfile(assessment_id=a.id)
        before = _row(profile) if profile in db else None
        for key, value in values.items():
            setattr(profile, key, value)
        profile.updated_by, profile.updated_at = actor.user_id, now()
        db.add(profile)
        _audit(db, actor, "profile", "assessment", a.id, before, values)

    def add_project(self, actor: Actor, assessment_id: int, *, expected_version: int, **data: Any) -> tuple[int, int]:
        with self.store.write() as db:
            a, q = self._editable(db, actor, assessment_id, expected_version)
            values = _project_values(q, data)
            project = Project(assessment_id=a.id, **values)
            db.add(project)
            db.flush()
            _audit(db, actor, "add_project", "assessment", a.id, None, {"project_id": project.id, **_json(values)})
            return project.id, a.version

    def update_project(self, actor: Actor, project_id: int, *, expected_version: int, **data: Any) -> int:
        with self.store.write() as db:
            project = _get(db, Project, project_id, "project", actor)
            a, q = self._editable(db, actor, project.assessment_id, expected_version)
            before = _row(project)
            for key, value in _project_values(q, data).items():
                setattr(project, key, value)
            project.updated_at = now()
            _audit(db, actor, "update_project", "assessment", a.id, before, _row(project))
            return a.version

    def remove_project(self, actor: Actor, project_id: int, *, expected_version: int) -> int:
        with self.store.write() as db:
            project = _get(db, Project, project_id, "project", actor)
            a, _ = self._editable(db, actor, project.assessment_id, expected_version)
            before = _row(project)
            db.delete(project)
            _audit(db, actor, "remove_project", "assessment", a.id, before, None)
            return a.version

    def set_project_status(self, actor: Actor, project_id: int, status: str, start_date: date | None = None) -> int:
        """After approval the enterprise records whether a recommended project started or was completed;
        returns the assessment's new version."""
        with self.store.write() as db:
            project = _get(db, Project, project_id, "project", actor)
            a = _locked(db, project.assessment_id)
            require(db, actor, Op.UPDATE_PROJECT_STATUS, a)
            if a.status != "approved":
                raise WorkflowError(f"project progress is recorded once the diagnosis is approved (it is {a.status})",
                                    code="progress_before_approval", status=a.status)
            values = checked(ProjectInput, {"title": project.title, "status": status, "start_date": start_date})
            before = {"status": project.status, "start_date": _json(project.start_date)}
            project.status, project.start_date = values.status, values.start_date or project.start_date
            project.updated_at = now()
            _bump(a)
            _audit(db, actor, "project_status", "assessment", a.id, before,
                   {"project_id": project.id, "status": project.status, "start_date": _json(project.start_date)})
            return a.version

    def move(self, actor: Actor, assessment_id: int, action: str, *, expected_version: int,
             provider_id: int | None = None, rating: int | None = None, comment: str | None = None,
             due_date: date | None = None) -> int:
        """A step of the workflow (assign, start, submit, confirm, approve, return, resume, complete)."""
        with self.store.write() as db:
            a = _get(db, Assessment, assessment_id, "assessment", actor, lock=True)
            require(db, actor, Op.WORKFLOW, a, action=action)
            _check_version(a, expected_version)
            if provider_id is not None:
                provider = db.get(Organisation, provider_id)
                if provider is None or provider.kind != "provider":
                    raise InputError(f"provider: organisation {provider_id} is not a service provider",
                                     code="not_a_provider", key=provider_id)
            comment = _text(comment, "comment")
            projects = db.scalar(select(func.count()).select_from(Project).where(Project.assessment_id == a.id))
            facts = Facts(answered=a.answered, applicable=a.applicable, projects=projects, provider_id=provider_id,
                          rating=rating, comment=comment)
            before = {"status": a.status, "provider_id": a.provider_id}
            a.status = workflow.next_status(a.kind, a.status, action, facts)
            stamp = now()
            if action == "assign":
                a.provider_id, a.assigned_at, a.due_date = provider_id, stamp, due_date
            elif action == "submit":
                a.submitted_at = stamp
            elif action == "confirm":
                db.merge(Confirmation(assessment_id=a.id, rating=rating, comment=comment, confirmed_by=actor.user_id,
                                      confirmed_at=stamp))
                a.confirmed_at = stamp
            elif action in ("approve", "return"):
                db.add(Review(assessment_id=a.id, decision="approved" if action == "approve" else "returned",
                              comment=comment, reviewer_id=actor.user_id, decided_at=stamp))
                a.decided_at = stamp
            _bump(a)
            _audit(db, actor, action, "assessment", a.id, before,
                   {"status": a.status, "provider_id": a.provider_id, "rating": rating, "comment": comment})
            return a.version

    def record_download(self, actor: Actor, download: str, *, assessment_id: int | None = None,
                        filters: Filters | None = None) -> None:
        """A file handed to the actor, in the audit log: which ``download`` (report, template, answers_csv …), of
        which assessment or with which filters (only those set)."""
        chosen = {name: value for name, value in vars(filters).items() if value is not None} if filters else {}
        with self.store.write() as db:
            if assessment_id is None:
                require_active(db, actor)
            else:  # only a file the actor may read is recorded as handed to them
                require(db, actor, Op.READ_ASSESSMENT, _get(db, Assessment, assessment_id, "assessment", actor))
            _audit(db, actor, "download", "assessment" if assessment_id is not None else "download",
                   assessment_id if assessment_id is not None else download, None,
                   {"download": download, **({"filters": chosen} if chosen else {})})

    def audit_log(self, actor: Actor, *, entity: str | None = None, entity_id: int | str | None = None,
                  limit: int = 500) -> list[AuditEntry]:
        with self.store.read() as db:
            require(db, actor, Op.READ_AUDIT)
            _window(limit, 0)
            query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
            if entity:
                query = query.where(AuditEntry.entity == entity)
            if entity_id is not None:
                query = query.where(AuditEntry.entity_id == str(entity_id))
            return list(db.scalars(query))

    # -- helpers -----------------------------------------------------------------------------------------

    def _editable(self, db: Session, actor: Actor, assessment_id: int, expected_version: int,
                  ) -> tuple[Assessment, Questionnaire]:
        """The assessment, locked, after the permission, status and version checks; its version is raised."""
        a = _get(db, Assessment, assessment_id, "assessment", actor, lock=True)
        require(db, actor, Op.EDIT_ASSESSMENT, a)
        if a.status not in EDITABLE[a.kind]:
            raise WorkflowError(f"assessment {a.id} is {a.status}: it can be changed only while "
                                f"{' or '.join(EDITABLE[a.kind])}", code="not_editable", status=a.status)
        _check_version(a, expected_version)
        _bump(a)
        return a, questionnaire_of(a)

    def _rescore(self, db: Session, a: Assessment, q: Questionnaire) -> None:
        answers = dict(db.execute(select(Answer.item_id, Answer.code).where(Answer.assessment_id == a.id)).all())
        write_result(db, a, score(q, answers, a.profile, allow_incomplete=True))


def search_text(search: str | None) -> str:
    """What a search box's text searches for: printable characters (PostgreSQL refuses a NUL), trimmed."""
    return "".join(ch for ch in search or "" if ch.isprintable()).strip()


def containing(column: Any, text: str) -> ColumnElement[bool]:
    """``column`` contains ``text`` as typed: ``%``, ``_`` and the escape character itself are characters to find,
    not LIKE wildcards (unescaped, a search for ``%`` found everything)."""
    literal = "".join(LIKE_ESCAPE + ch if ch in ("%", "_", LIKE_ESCAPE) else ch for ch in text)
    return column.contains(literal, escape=LIKE_ESCAPE)


def _enterprises(actor: Actor, district: str | None, industry: str | None, search: str | None) -> Select:
    """The enterprises the actor may read, narrowed by district, industry and a name (or credit code) search."""
    query = scope_enterprises(actor, select(Organisation).where(Organisation.kind == "enterprise"))
    if district:
        query = query.where(Organisation.district == district)
    if industry:
        query = query.where(Organisation.industry == industry)
    text = search_text(search)
    if text:
        query = query.where(containing(Organisation.name, text)
                            | (Organisation.credit_code == text.replace(" ", "").upper()))
    return query.order_by(Organisation.name, Organisation.id)


def _window(limit: int, offset: int) -> None:
    """Refuse a page of no rows or one starting before the first row (SQLite reads a negative LIMIT as none at all,
    PostgreSQL refuses it with a raw error)."""
    for name, value, least in (("limit", limit, 1), ("offset", offset, 0)):
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            raise InputError(f"{name}: must not be less than {least}, not {value!r}", code="form.too_small",
                             field=name, limit=least)


def _page(db: Session, query: Select, limit: int, offset: int) -> Page:
    """The rows of ``query`` from ``offset`` on, at most ``limit`` of them, and how many it has in all."""
    _window(limit, offset)
    total = db.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    return Page([tuple(row) for row in db.execute(query.limit(limit).offset(offset))], total)


@dataclass(frozen=True)
class _ChangedOnline:
    """An import of a template made from an assessment, checking for answers changed online since: after
    ``as_of`` (every stored answer when it is not known)."""

    as_of: datetime | None
    overwrite: bool

    def overwritten(self, a: Assessment, changed: dict[str, dict], existing: dict[str, Answer]) -> list[str]:
        """The requirements of ``changed`` whose stored answer changed online since; ConflictError naming them
        unless they are to be overwritten."""
        items = [item_id for item_id in changed if item_id in existing
                 and (self.as_of is None or existing[item_id].updated_at > self.as_of)]
        if items and not self.overwrite:
            raise ConflictError(
                f"assessment {a.id}: answers changed online after this template was made, which it would overwrite: "
                f"{', '.join(items)}. Nothing was imported: export a new template, or import this one again choosing "
                "to overwrite those answers", code="template.changed_online", id=a.id,
                count=len(items), items=", ".join(items))
        return items


def _answer(row: Answer | None) -> dict[str, str | None] | None:
    return None if row is None else {"code": row.code, "note": row.note, "evidence": row.evidence}


def _given(item_id: str, answer: dict[str, Any]) -> dict[str, str | None]:
    """An answer as given (a template's row) in the form it is stored, to compare with ``_answer``."""
    code, note, evidence = answer["code"], answer.get("note"), answer.get("evidence")
    return {"code": code, "note": _text(note, f"{item_id}.note"), "evidence": _text(evidence, f"{item_id}.evidence")}


def _new_assessment(db: Session, actor: Actor, enterprise: Organisation, kind: str, q: Questionnaire,
                    previous_id: int | None, op: Op) -> Assessment:
    require(db, actor, op, enterprise)
    if enterprise.kind != "enterprise":
        raise InputError(f"organisation {enterprise.id} is not an enterprise", code="not_an_enterprise",
                         key=enterprise.id)
    if kind == DIAGNOSIS:
        waiting = db.scalar(select(Assessment.id).where(Assessment.enterprise_id == enterprise.id,
                                                        Assessment.kind == DIAGNOSIS,
                                                        Assessment.status == OPEN_REQUEST).limit(1))
        if waiting is not None:
            raise WorkflowError(f"enterprise {enterprise.id} already has an open request for a diagnosis ({waiting}); "
                                f"the bureau assigns or cancels it first", code="request_open", id=waiting)
    if previous_id is not None:
        previous = db.get(Assessment, previous_id)
        if previous is None or previous.enterprise_id != enterprise.id:
            raise InputError(f"previous: assessment {previous_id} is not of enterprise {enterprise.id}",
                             code="not_found", what="assessment", key=previous_id)
    profile = enterprise.production_type or "discrete"
    assessment = Assessment(
        enterprise_id=enterprise.id, kind=kind, status=INITIAL[kind], questionnaire_id=q.id,
        questionnaire_version=q.version, questionnaire_sha256=q.sha256, profile=profile,
        round="follow_up" if previous_id else "baseline", previous_id=previous_id,
        applicable=len(q.items_for(profile)))
    db.add(assessment)
    db.flush()
    _audit(db, actor, "create", "assessment", assessment.id, None,
           {"kind": kind, "enterprise_id": enterprise.id, "previous_id": previous_id})
    return assessment


def _get(db: Session, model: type, key: int, what: str, actor: Actor | None = None, *, lock: bool = False):
    """A row by id; a missing row reads as not allowed for non-admins, so ids cannot be probed."""
    row = db.get(model, key, with_for_update=lock) if lock else db.get(model, key)
    if row is None:
        if actor is not None and actor.role not in ("bureau_admin", "operator"):
            raise NotAllowedError(f"not allowed: {what} {key}", code="not_allowed")
        raise NotFoundError(f"no {what} {key}", code="not_found", what=what, key=key)
    return row


def _locked(db: Session, assessment_id: int) -> Assessment:
    return db.get(Assessment, assessment_id, with_for_update=True)


def _check_version(a: Assessment, expected_version: int) -> None:
    if a.version != expected_version:
        raise ConflictError(f"assessment {a.id} was changed by someone else since you opened it "
                            f"(version {a.version}, yours {expected_version}): reload it to see their change",
                            code="conflict")


def _bump(a: Assessment) -> None:
    a.version += 1
    a.updated_at = now()


def questionnaire_of(a: Assessment) -> Questionnaire:
    """The questionnaire version the assessment is on, exactly as it was scored: it is answered, rescored, reported
    and exported with that one, whichever versions came after. A version missing or changed is refused (never
    another one in its place)."""
    try:
        return pinned(a.questionnaire_id, a.questionnaire_version, a.questionnaire_sha256)
    except QuestionnaireError as exc:
        raise QuestionnaireError([f"assessment {a.id}: {message}" for message in exc.messages], code=exc.code,
                                 **{**exc.params, "id": a.id}) from None


def _project_values(q: Questionnaire, data: dict[str, Any]) -> dict[str, Any]:
    values = checked(ProjectInput, data)
    if values.subdomain is not None and values.subdomain not in q.domain_of:
        raise InputError(f"subdomain: {values.subdomain!r} is not a subdomain of {q.id}",
                         problems=[("form.unknown_choice", {"field": "subdomain"})])
    return values.model_dump()


def _unique_credit_code(db: Session, code: str | None, except_id: int | None = None) -> None:
    if code is None:
        return
    other = db.scalar(select(Organisation.id).where(Organisation.credit_code == code))
    if other is not None and other != except_id:
        raise InputError(f"credit_code: {code} is already registered (organisation {other})",
                         code="form.credit_code_taken", field="credit_code", credit_code=code, other=other)


def _text(value: str | None, where: str) -> str | None:
    if value is None:
        return None
    try:
        return TypeAdapter(LongText).validate_python(value) or None
    except ValidationError as exc:
        raise input_error(exc, field=where) from None


def _row(obj) -> dict[str, Any]:
    return {column.key: _json(getattr(obj, column.key)) for column in obj.__table__.columns}


def _json(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _json(v) for k, v in value.items()}
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if value.__class__.__name__ == "Decimal":
        return str(value)
    return value


def _audit(db: Session, actor: Actor | None, action: str, entity: str, entity_id: int | str,
           before: dict | None, after: dict | None) -> None:
    db.add(AuditEntry(user_id=actor.user_id if actor else None, action=action, entity=entity,
                      entity_id=str(entity_id), before=_json(before), after=_json(after)))
