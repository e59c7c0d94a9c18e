"""Security through the service layer, on SQLite and PostgreSQL (issue #6, section 2).

- Role isolation: every public operation of ``Services`` (enumerated from the class, so a new operation without
  a case fails) is refused for every role on another organisation's data, and a refused call changes no row.
  tests/test_permissions.py holds the allowed/denied matrix on one side's data; this file attacks the other side.
- Passwords are argon2id with strong parameters, weaker hashes are upgraded at sign-in, five failures lock.
- Nothing secret reaches a log: representative flows run with every logger at DEBUG and SQL echo on.
- The audit log only grows (no application path changes it, the database refuses UPDATE, DELETE and TRUNCATE),
  and every writing operation leaves an entry naming the acting user and the change.
- Peer figures never show one enterprise's numbers to another (fewer than 5 peers: nothing; 5: aggregates only).
"""

from __future__ import annotations

import ast
import inspect
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from io import BytesIO
from pathlib import Path

import argon2
import openpyxl
import pytest
from sqlalchemy import func, select, text

from assessment import PROJECT_ROOT, accounts, sessions
from assessment.accounts import ROLES, Actor, AuthenticationError, authenticate
from assessment.analytics import MIN_PEERS, peer_stats
from assessment.inputs import InputError
from assessment.models import AuditEntry, Base, EnterpriseProfile, Organisation, SignInSession, User, now
from assessment.permissions import NotAllowedError
from assessment.services import NotFoundError, Services
from assessment.workflow import ACTIONS
from reports import report
from tests.conftest import PASSWORD, credit_code, enterprise_fields
from tests.test_analytics import Builder

REFUSED = (NotAllowedError, NotFoundError)


# --- helpers ---------------------------------------------------------------------------------------------------


def snapshot(services: Services) -> dict[str, list[tuple]]:
    """Every row of every table, in key order: equal snapshots mean nothing changed."""
    with services.store.read() as db:
        return {table.name: [tuple(row) for row in db.execute(select(table).order_by(*table.primary_key.columns))]
                for table in Base.metadata.sorted_tables}


def public_operations() -> set[str]:
    return {name for name, _ in inspect.getmembers(Services, inspect.isfunction) if not name.startswith("_")}


def version(services: Services, w, assessment_id: int) -> int:
    return services.get_assessment(w.admin, assessment_id).assessment.version


@dataclass(frozen=True)
class Side:
    """One organisation's data: an enterprise, its provider, their assessments, a project and a user."""

    enterprise: int
    provider: int
    diagnosis: int  # in progress, assigned to ``provider``
    self_assessment: int  # draft
    project: int  # of ``diagnosis``
    user: int  # the enterprise's user
    number: int  # enterprise_fields(number, district) made it
    district: str


def sides(services: Services, w) -> dict[int, Side]:
    """Side 1 is enterprise 1 (gusu) with provider A, side 2 enterprise 2 (kunshan) with provider B; side 2 gets
    the self-assessment and project the built world lacks."""
    self_2 = services.start_self_assessment(w.enterprise_2, w.enterprise_2_id)
    project_2, _ = services.add_project(w.provider_b, w.diagnosis_2, title="设备联网",
                                        expected_version=version(services, w, w.diagnosis_2))
    return {1: Side(w.enterprise_1_id, w.provider_a_id, w.diagnosis_1, w.self_1, w.project_1,
                    w.enterprise_1.user_id, 1, "gusu"),
            2: Side(w.enterprise_2_id, w.provider_b_id, w.diagnosis_2, self_2, project_2,
                    w.enterprise_2.user_id, 2, "kunshan")}


# The other side for each role: the analyst is scoped to gusu, so kunshan's enterprise 2 is not its own.
FOREIGN = {"admin": 2, "analyst": 2, "provider_a": 2, "enterprise_1": 2, "provider_b": 1, "enterprise_2": 1}


@dataclass(frozen=True)
class Case:
    """An operation on another side's data. ``call(s, w, actor, side)`` either raises a refusal, or — for a
    listing — returns what the actor sees, which ``hidden`` checks holds nothing of the side.
    ``bureau_oversees``: the bureau admin may do this to every organisation (it manages them all), or its refusal
    depends on the workflow state and tests/test_permissions.py covers it; the admin is not attacked with it."""

    operation: str
    call: Callable
    bureau_oversees: bool = False
    hidden: Callable | None = None


def _ids(rows) -> set[int]:
    return {getattr(row, "id", None) or row[0].id for row in rows}


CASES = [
    Case("set_up", lambda s, w, a, f: s.set_up("另一个局", "intruder", "x", PASSWORD)),
    Case("create_organisation", lambda s, w, a, f: s.create_organisation(a, **enterprise_fields(7, f.district)),
         bureau_oversees=True),
    Case("update_organisation", lambda s, w, a, f: s.update_organisation(
        a, f.enterprise, **{**enterprise_fields(f.number, f.district), "name": "改名"}), bureau_oversees=True),
    Case("create_user", lambda s, w, a, f: s.create_user(a, "intruder", "x", PASSWORD, "enterprise_user",
                                                         f.enterprise), bureau_oversees=True),
    Case("set_user_active", lambda s, w, a, f: s.set_user_active(a, f.user, False), bureau_oversees=True),
    Case("reset_password", lambda s, w, a, f: s.reset_password(a, f.user), bureau_oversees=True),
    Case("unlock_user", lambda s, w, a, f: s.unlock_user(a, f.user), bureau_oversees=True),
    # One's own password only: an actor naming another side's user (its id, with one's own role) is refused.
    Case("change_password", lambda s, w, a, f: s.change_password(replace(a, user_id=f.user), PASSWORD,
                                                                 "a new password 42")),
    Case("list_users", lambda s, w, a, f: s.list_users(a), bureau_oversees=True),
    Case("users_page", lambda s, w, a, f: s.users_page(a), bureau_oversees=True),
    Case("list_providers", lambda s, w, a, f: s.list_providers(a), bureau_oversees=True),
    Case("audit_log", lambda s, w, a, f: s.audit_log(a, entity="assessment", entity_id=f.diagnosis),
         bureau_oversees=True),
    Case("get_organisation", lambda s, w, a, f: s.get_organisation(a, f.enterprise), bureau_oversees=True),
    Case("get_organisation", lambda s, w, a, f: s.get_organisation(a, f.provider), bureau_oversees=True),
    Case("list_enterprises", lambda s, w, a, f: s.list_enterprises(a, search=f"企业{f.number}"),
         bureau_oversees=True, hidden=lambda rows, f: f.enterprise not in _ids(rows)),
    Case("list_enterprises", lambda s, w, a, f: s.list_enterprises(a, search=credit_code(f.number)),
         bureau_oversees=True, hidden=lambda rows, f: f.enterprise not in _ids(rows)),
    Case("enterprises_page", lambda s, w, a, f: s.enterprises_page(a, search=f"企业{f.number}"),
         bureau_oversees=True, hidden=lambda page, f: f.enterprise not in _ids(page.rows)),
    Case("record_download", lambda s, w, a, f: s.record_download(a, "report", assessment_id=f.diagnosis),
         bureau_oversees=True),
    Case("list_assessments", lambda s, w, a, f: s.list_assessments(a, enterprise_id=f.enterprise),
         bureau_oversees=True, hidden=lambda rows, f: rows == []),
    # The world's one open return is side 1's (returned_1); side 2 has none to hide.
    Case("open_returns", lambda s, w, a, f: s.open_returns(a), bureau_oversees=True,
         hidden=lambda returns, f: f.number == 2 or returns == {}),
    Case("request_diagnosis", lambda s, w, a, f: s.request_diagnosis(a, f.enterprise), bureau_oversees=True),
    Case("start_self_assessment", lambda s, w, a, f: s.start_self_assessment(a, f.enterprise)),
    Case("create_follow_up", lambda s, w, a, f: s.create_follow_up(a, f.diagnosis), bureau_oversees=True),
    Case("create_follow_up", lambda s, w, a, f: s.create_follow_up(a, f.self_assessment)),
    Case("get_assessment", lambda s, w, a, f: s.get_assessment(a, f.diagnosis), bureau_oversees=True),
    Case("get_assessment", lambda s, w, a, f: s.get_assessment(a, f.self_assessment), bureau_oversees=True),
    Case("previous_round", lambda s, w, a, f: s.previous_round(a, f.diagnosis), bureau_oversees=True),
    Case("save_answer", lambda s, w, a, f: s.save_answer(a, f.diagnosis, "OS.1.1", "full", note="入侵",
                                                         expected_version=version(s, w, f.diagnosis))),
    Case("save_answer", lambda s, w, a, f: s.save_answer(a, f.self_assessment, "OS.1.1", "full",
                                                         expected_version=version(s, w, f.self_assessment))),
    Case("save_answers", lambda s, w, a, f: s.save_answers(a, f.diagnosis, {"OS.1.1": {"code": "none"}},
                                                           expected_version=version(s, w, f.diagnosis))),
    Case("import_filled", lambda s, w, a, f: s.import_filled(
        a, questionnaire_id="cmmm-2020", profile="discrete", enterprise={}, answers={"OS.1.1": {"code": "none"}},
        assessment_id=f.diagnosis)),
    Case("import_filled", lambda s, w, a, f: s.import_filled(  # a template naming the other side's enterprise
        a, questionnaire_id="cmmm-2020", profile="discrete",
        enterprise={k: v for k, v in enterprise_fields(f.number, f.district).items() if k != "kind"},
        answers={"OS.1.1": {"code": "none"}})),
    Case("save_profile", lambda s, w, a, f: s.save_profile(a, f.diagnosis, nc_rate=1,
                                                           expected_version=version(s, w, f.diagnosis))),
    Case("add_project", lambda s, w, a, f: s.add_project(a, f.diagnosis, title="入侵",
                                                         expected_version=version(s, w, f.diagnosis))),
    Case("update_project", lambda s, w, a, f: s.update_project(a, f.project, title="入侵",
                                                               expected_version=version(s, w, f.diagnosis))),
    Case("remove_project", lambda s, w, a, f: s.remove_project(a, f.project,
                                                               expected_version=version(s, w, f.diagnosis))),
    Case("set_project_status", lambda s, w, a, f: s.set_project_status(a, f.project, "started")),
    *(Case("move", lambda s, w, a, f, action=action: s.move(
        a, f.diagnosis if action != "complete" else f.self_assessment, action, provider_id=f.provider, rating=5,
        comment="入侵", expected_version=version(s, w, f.diagnosis if action != "complete" else f.self_assessment)),
        bureau_oversees=True) for action in ACTIONS),
]
# Operations that take no actor and reveal nothing of any organisation.
WITHOUT_ORGANISATION_DATA = {"needs_setup": "says only whether the first start has happened"}


def test_every_service_operation_has_a_case_on_another_organisations_data():
    covered = {case.operation for case in CASES} | set(WITHOUT_ORGANISATION_DATA)
    assert public_operations() - covered == set(), "a new service operation needs a case in CASES"
    assert covered - public_operations() == set(), "a case names an operation Services no longer has"
    assert {case.call.__defaults__[0] for case in CASES if case.operation == "move"} == set(ACTIONS)


@pytest.mark.parametrize("role", sorted(FOREIGN))
def test_every_operation_on_another_organisations_data_is_refused(world_store, role):
    services, w = world_store
    actor = w.actors()[role]
    side = sides(services, w)[FOREIGN[role]]
    attacked = [case for case in CASES if not (role == "admin" and case.bureau_oversees)]
    assert len(attacked) >= (12 if role == "admin" else len(CASES))
    before = snapshot(services)
    for case in attacked:
        if case.hidden is not None:
            seen = case.call(services, w, actor, side)
            assert case.hidden(seen, side), (role, case.operation, seen)
            continue
        with pytest.raises(REFUSED):
            case.call(services, w, actor, side)
    assert snapshot(services) == before, "a refused call must change nothing"


def test_the_command_line_operator_is_no_role_a_user_can_hold(world_store):
    services, w = world_store
    assert "operator" not in ROLES
    with pytest.raises(InputError, match="role: one of"):
        services.create_user(w.admin, "root", "root", PASSWORD, "operator", w.admin.organisation_id)


def test_a_deactivated_users_actor_is_refused_at_once(world_store):
    """A tab keeps its Actor in memory: deactivating the user must stop it on its next call, not at its next
    sign-in."""
    services, w = world_store
    assert services.get_assessment(w.provider_a, w.diagnosis_1).assessment.id == w.diagnosis_1
    services.set_user_active(w.admin, w.provider_a.user_id, False)
    before = snapshot(services)
    with pytest.raises(NotAllowedError):
        services.get_assessment(w.provider_a, w.diagnosis_1)
    with pytest.raises(NotAllowedError):
        services.save_answer(w.provider_a, w.diagnosis_1, "OS.1.1", "full",
                             expected_version=version(services, w, w.diagnosis_1))
    with pytest.raises(NotAllowedError):
        services.list_assessments(w.provider_a)
    with pytest.raises(NotAllowedError):
        services.list_enterprises(w.provider_a)
    assert snapshot(services) == before


# --- passwords, lockout, sign-in sessions ---------------------------------------------------------------------


def test_passwords_are_argon2id_hashes_with_strong_parameters(world_store):
    services, _ = world_store
    with services.store.read() as db:
        hashes = list(db.scalars(select(User.password_hash)))
    assert len(hashes) == 6
    assert all(h.startswith(f"$argon2id$v={argon2.low_level.ARGON2_VERSION}$") for h in hashes), hashes
    assert len(set(hashes)) == len(hashes), "each hash has its own salt"
    # The tests hash with the smallest cost (conftest); the stand-in hash a refusal checks has the production's.
    production = argon2.extract_parameters(accounts._DUMMY_HASH)
    assert production.type is argon2.Type.ID
    # OWASP's floor for argon2id: 19 MiB with 2 passes (or more memory with fewer passes).
    assert production.memory_cost >= 19 * 1024
    assert production.memory_cost * production.time_cost >= 19 * 1024 * 2


def test_a_weaker_hash_is_upgraded_at_the_next_sign_in(world_store, monkeypatch):
    services, _ = world_store
    with services.store.read() as db:
        weak = db.scalar(select(User.password_hash).where(User.username == "provider_b"))
    monkeypatch.setattr(accounts, "_hasher", argon2.PasswordHasher())  # the production parameters
    authenticate(services.store, "provider_b", PASSWORD)
    with services.store.read() as db:
        upgraded = db.scalar(select(User.password_hash).where(User.username == "provider_b"))
    assert upgraded != weak
    assert argon2.extract_parameters(upgraded) == argon2.extract_parameters(accounts._DUMMY_HASH)
    assert authenticate(services.store, "provider_b", PASSWORD).username == "provider_b"


@pytest.mark.parametrize("username", ["provider_b\x00", "\x00", "provider\nb"])
def test_a_user_name_no_account_can_hold_is_an_ordinary_refusal(world_store, username):
    """A NUL reached PostgreSQL as a raw error (the generic error page); now it is a wrong user name."""
    services, _ = world_store
    with pytest.raises(AuthenticationError) as caught:
        authenticate(services.store, username, PASSWORD)
    assert caught.value.code == "sign_in_failed"
    assert authenticate(services.store, "provider_b", PASSWORD).username == "provider_b"


def test_lockout_counts_only_consecutive_failures_and_refuses_even_the_right_password(world_store):
    services, _ = world_store
    store = services.store
    for _ in range(accounts.MAX_FAILED_LOGINS - 1):
        with pytest.raises(AuthenticationError, match="wrong"):
            authenticate(store, "enterprise_2", "wrong password 1")
    assert authenticate(store, "enterprise_2", PASSWORD).username == "enterprise_2"  # a success resets the count
    for _ in range(accounts.MAX_FAILED_LOGINS - 1):
        with pytest.raises(AuthenticationError, match="wrong"):
            authenticate(store, "enterprise_2", "wrong password 1")
    with pytest.raises(AuthenticationError, match="wrong"):
        authenticate(store, "enterprise_2", "wrong password 1")  # the fifth in a row
    with pytest.raises(AuthenticationError) as caught:
        authenticate(store, "enterprise_2", PASSWORD)
    assert caught.value.code == "sign_in_failed"  # the same refusal as for a wrong password (tests/test_sign_in.py)
    with store.read() as db:
        locked_until = db.scalar(select(User.locked_until).where(User.username == "enterprise_2"))
    assert now() < locked_until <= now() + accounts.LOCKOUT


def test_a_sign_in_token_is_stored_only_as_its_hash_and_ends_at_sign_out(world_store):
    services, w = world_store
    store = services.store
    token = sessions.open_session(store, w.enterprise_1)
    with store.read() as db:
        stored = list(db.scalars(select(SignInSession.token_hash)))
    assert token not in stored
    assert len(stored) == 1
    assert len(stored[0]) == 64  # a sha256 digest
    assert sessions.resume_session(store, token, timedelta(minutes=30)) == w.enterprise_1
    sessions.close_session(store, token)
    with store.read() as db:
        assert db.scalar(select(func.count()).select_from(SignInSession)) == 0
    assert sessions.resume_session(store, token, timedelta(minutes=30)) is None


# --- nothing secret in the logs -------------------------------------------------------------------------------


def test_no_password_hash_or_token_reaches_any_log(store, caplog, cmmm):
    """Set-up, users, failed and good sign-ins, sessions, an import, refusals and errors, with every logger at
    DEBUG and SQLAlchemy's statement log (echo) on; then nothing secret may be in what was logged."""
    caplog.set_level(logging.DEBUG)
    for name in ("sqlalchemy.engine", "sqlalchemy.pool", "alembic"):
        caplog.set_level(logging.DEBUG, logger=name)
    services = Services(store)
    second = "another Secret 77"
    tokens = []
    admin = services.set_up("苏州市工信局", "chief", "局长", PASSWORD)
    provider = services.create_organisation(admin, kind="provider", name="服务商")
    enterprise = services.create_organisation(admin, **enterprise_fields(3, "gusu"))
    services.create_user(admin, "diag", "诊断师", second, "provider_user", provider)
    services.create_user(admin, "boss", "厂长", PASSWORD, "enterprise_user", enterprise)
    with pytest.raises(InputError):
        services.create_user(admin, "weak", "x", "short1", "provider_user", provider)  # the policy refuses
    for username, password in (("diag", "wrong " + second), ("nobody", second), ("diag", second[:-1])):
        with pytest.raises(AuthenticationError):
            authenticate(store, username, password)
    diag = authenticate(store, "diag", second)
    tokens.append(sessions.open_session(store, diag))
    assert sessions.resume_session(store, tokens[0], timedelta(minutes=30)) == diag
    assert sessions.resume_session(store, "forged-" + tokens[0], timedelta(minutes=30)) is None
    boss = authenticate(store, "boss", PASSWORD)
    d = services.request_diagnosis(boss, enterprise)
    v = services.move(admin, d, "assign", expected_version=1, provider_id=provider)
    v = services.move(diag, d, "start", expected_version=v)
    v = services.save_answers(diag, d, {item.id: {"code": "full", "note": "现场"} for item in cmmm.items[:5]},
                              expected_version=v)
    with pytest.raises(NotAllowedError):
        services.save_answer(boss, d, "OS.1.1", "none", expected_version=v)
    services.import_filled(Actor.operator(), questionnaire_id="cmmm-2020", profile="discrete",
                           enterprise={k: v for k, v in enterprise_fields(4, "sip").items() if k != "kind"},
                           answers={"OS.1.1": {"code": "partly"}})
    sessions.close_session(store, tokens[0])
    tokens.append(sessions.open_session(store, boss))
    with store.read() as db:
        hashes = list(db.scalars(select(User.password_hash)))
    logged = caplog.text + "\n".join(str(record.args) for record in caplog.records)
    assert "INSERT INTO users" in logged, "the SQL statement log is on"
    secrets = [PASSWORD, second, second[:-1], *hashes, *tokens, *(sessions.digest(t) for t in tokens)]
    leaked = [secret for secret in secrets if secret in logged]
    assert leaked == [], leaked
    assert "$argon2" not in logged


# --- the audit log ------------------------------------------------------------------------------------------


CHANGES = {"update", "delete", "merge", "bulk_update_mappings", "bulk_save_objects", "execute"}


def _audit_writes(path: Path) -> list[str]:
    """Calls in ``path`` that could change audit rows: update()/delete()/merge()… given AuditEntry, or SQL text
    that updates, deletes or truncates audit_log."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name in CHANGES and "AuditEntry" in (call := ast.unparse(node)):
                found.append(f"{path.name}:{node.lineno}: {call[:100]}")
        if (isinstance(node, ast.Constant) and isinstance(node.value, str) and "audit_log" in node.value.lower()
                and any(word in node.value.upper() for word in ("UPDATE", "DELETE", "TRUNCATE", "DROP"))):
            found.append(f"{path.name}:{node.lineno}: {node.value[:100]}")
    return found


def test_the_application_has_no_path_that_changes_an_audit_entry():
    code = [path for folder in ("assessment", "reports", "ui") for path in (PROJECT_ROOT / folder).rglob("*.py")
            if "migrations" not in path.parts]
    assert [line for path in code for line in _audit_writes(path)] == []
    # The scan does find such statements where there are some: in this file (the probe below).
    assert any("DELETE FROM audit_log" in line for line in _audit_writes(Path(__file__)))
    # The model offers no relationship (and so no cascade) through which an entry could be deleted.
    assert not AuditEntry.__mapper__.relationships
    # The only service operation that touches the audit log reads it.
    assert [name for name in public_operations() if "audit" in name] == ["audit_log"]


def _probe_for_the_scan(db):
    db.execute(text("DELETE FROM audit_log"))  # never called: the scan above must find it


@pytest.mark.parametrize("statement", ["UPDATE audit_log SET action = 'forged'", "DELETE FROM audit_log",
                                       "DELETE FROM audit_log WHERE id = (SELECT max(id) FROM audit_log)",
                                       "TRUNCATE audit_log"])
def test_the_database_refuses_to_change_the_audit_log(world_store, statement):
    services, _ = world_store
    if statement.startswith("TRUNCATE") and services.store.dialect == "sqlite":
        statement = "DELETE FROM audit_log"  # SQLite has no TRUNCATE; its truncate optimisation is a DELETE
    before = snapshot(services)["audit_log"]
    with pytest.raises(Exception, match="append-only"), services.store.write() as db:
        db.execute(text(statement))
    with pytest.raises(Exception, match="append-only"), services.store.write() as db:  # through the ORM too
        db.scalars(select(AuditEntry)).first().action = "forged"
    assert snapshot(services)["audit_log"] == before


def _latest_audit_id(services: Services) -> int:
    with services.store.read() as db:
        return db.scalar(select(func.max(AuditEntry.id))) or 0


def _entries_since(services: Services, after: int) -> list[AuditEntry]:
    with services.store.read() as db:
        return list(db.scalars(select(AuditEntry).where(AuditEntry.id > after).order_by(AuditEntry.id)))


READS = {"needs_setup", "get_organisation", "list_enterprises", "list_providers", "get_assessment",
         "list_assessments", "list_users", "audit_log", "open_returns", "users_page", "enterprises_page",
         "previous_round"}


def writing_steps(services: Services, w, cmmm) -> list[tuple[str, Actor, Callable, str, str, Callable]]:
    """(operation, actor, call, expected action, expected entity, check of the entry's ``after``), in an order
    where each step finds the state it needs. A step's call returns the entity id its entry must name."""
    v = lambda aid: version(services, w, aid)  # noqa: E731 - read at the moment the step runs
    every = {item.id: {"code": "full"} for item in cmmm.items_for("discrete")}
    e1 = enterprise_fields(1, "gusu")
    return [
        ("create_organisation", w.admin, lambda: services.create_organisation(w.admin, **enterprise_fields(8, "sip")),
         "create", "organisation", lambda after: after["name"] == "企业8"),
        ("update_organisation", w.admin, lambda: services.update_organisation(
            w.admin, w.enterprise_1_id, **{**e1, "contact_name": "王经理"}) or w.enterprise_1_id,
         "update", "organisation", lambda after: after["contact_name"] == "王经理"),
        ("create_user", w.admin, lambda: services.create_user(w.admin, "newcomer", "新人", PASSWORD, "provider_user",
                                                              w.provider_a_id),
         "create", "user", lambda after: after["username"] == "newcomer" and "password" not in str(after)),
        ("set_user_active", w.admin, lambda: services.set_user_active(w.admin, w.provider_b.user_id, False)
         or w.provider_b.user_id, "deactivate", "user",
         lambda after: after == {"active": False, "failed_logins": 0, "locked_until": None}),
        ("unlock_user", w.admin, lambda: services.unlock_user(w.admin, w.enterprise_1.user_id)
         or w.enterprise_1.user_id, "unlock", "user",
         lambda after: after == {"failed_logins": 0, "locked_until": None}),
        ("record_download", w.provider_a, lambda: services.record_download(
            w.provider_a, "report", assessment_id=w.diagnosis_1) or w.diagnosis_1, "download", "assessment",
         lambda after: after == {"download": "report"}),
        ("request_diagnosis", w.enterprise_2, lambda: services.request_diagnosis(w.enterprise_2, w.enterprise_2_id),
         "create", "assessment", lambda after: after["kind"] == "diagnosis"),
        ("reset_password", w.admin, lambda: services.reset_password(w.admin, w.enterprise_2.user_id)
         and w.enterprise_2.user_id, "reset_password", "user", lambda after: after == {"must_change_password": True}),
        ("change_password", w.provider_a, lambda: services.change_password(w.provider_a, PASSWORD, "a new password 42")
         and w.provider_a.user_id, "change_password", "user",
         lambda after: after == {"must_change_password": False}),
        ("start_self_assessment", w.enterprise_1, lambda: services.start_self_assessment(
            w.enterprise_1, w.enterprise_1_id), "create", "assessment", lambda after: after["kind"] == "self"),
        ("save_answer", w.provider_a, lambda: services.save_answer(
            w.provider_a, w.diagnosis_1, "OS.1.1", "partly", note="抽查", expected_version=v(w.diagnosis_1))
         and w.diagnosis_1, "answer", "assessment", lambda after: (after["code"], after["note"]) == ("partly", "抽查")),
        ("save_answers", w.enterprise_1, lambda: services.save_answers(
            w.enterprise_1, w.self_1, every, expected_version=v(w.self_1)) and w.self_1,
         "import_answers", "assessment", lambda after: after["answers"] == len(every)),
        ("import_filled", w.provider_a, lambda: services.import_filled(
            w.provider_a, questionnaire_id="cmmm-2020", profile="discrete", enterprise={},
            answers={"OS.1.2": {"code": "none"}}, assessment_id=w.diagnosis_1)[0],
         "import_answers", "assessment", lambda after: after["answers"] == 1),
        ("save_profile", w.provider_a, lambda: services.save_profile(
            w.provider_a, w.diagnosis_1, networking_rate=55, expected_version=v(w.diagnosis_1)) and w.diagnosis_1,
         "profile", "assessment", lambda after: after["networking_rate"] == 55),
        ("add_project", w.provider_a, lambda: services.add_project(
            w.provider_a, w.diagnosis_1, title="APS", expected_version=v(w.diagnosis_1)) and w.diagnosis_1,
         "add_project", "assessment", lambda after: after["title"] == "APS"),
        ("update_project", w.provider_a, lambda: services.update_project(
            w.provider_a, w.project_1, title="ERP 二期", expected_version=v(w.diagnosis_1)) and w.diagnosis_1,
         "update_project", "assessment", lambda after: after["title"] == "ERP 二期"),
        ("remove_project", w.provider_a, lambda: services.remove_project(
            w.provider_a, w.project_1, expected_version=v(w.diagnosis_1)) and w.diagnosis_1,
         "remove_project", "assessment", lambda after: after is None),
        ("set_project_status", w.enterprise_1, lambda: services.set_project_status(
            w.enterprise_1, w.approved_project, "started") and w.approved_1,
         "project_status", "assessment", lambda after: after["status"] == "started"),
        ("move", w.admin, lambda: services.move(w.admin, w.requested_1, "assign", provider_id=w.provider_a_id,
                                                expected_version=v(w.requested_1)) and w.requested_1,
         "assign", "assessment", lambda after: after["status"] == "assigned"),
        ("move", w.provider_a, lambda: services.move(w.provider_a, w.assigned_1, "start",
                                                     expected_version=v(w.assigned_1)) and w.assigned_1,
         "start", "assessment", lambda after: after["status"] == "in_progress"),
        ("move", w.enterprise_1, lambda: services.move(w.enterprise_1, w.submitted_1, "confirm", rating=3,
                                                       expected_version=v(w.submitted_1)) and w.submitted_1,
         "confirm", "assessment", lambda after: after["rating"] == 3),
        ("move", w.admin, lambda: services.move(w.admin, w.confirmed_1, "approve",
                                                expected_version=v(w.confirmed_1)) and w.confirmed_1,
         "approve", "assessment", lambda after: after["status"] == "approved"),
        ("move", w.admin, lambda: services.move(w.admin, w.submitted_1, "return", comment="缺证据",
                                                expected_version=v(w.submitted_1)) and w.submitted_1,
         "return", "assessment", lambda after: after["comment"] == "缺证据"),
        ("move", w.provider_a, lambda: services.move(w.provider_a, w.returned_1, "resume",
                                                     expected_version=v(w.returned_1)) and w.returned_1,
         "resume", "assessment", lambda after: after["status"] == "in_progress"),
        ("move", w.provider_a, lambda: services.move(w.provider_a, w.returned_1, "submit",
                                                     expected_version=v(w.returned_1)) and w.returned_1,
         "submit", "assessment", lambda after: after["status"] == "submitted"),
        ("move", w.enterprise_1, lambda: services.move(w.enterprise_1, w.self_1, "complete",
                                                       expected_version=v(w.self_1)) and w.self_1,
         "complete", "assessment", lambda after: after["status"] == "completed"),
        # Enterprise 1's waiting request was assigned above: it may ask for its next round, and the bureau may
        # cancel that request.
        ("create_follow_up", w.enterprise_1, lambda: services.create_follow_up(w.enterprise_1, w.approved_1),
         "create", "assessment", lambda after: after["previous_id"] == w.approved_1),
        ("move", w.admin, lambda: (request := _newest(services, w.enterprise_1_id, "requested")) and services.move(
            w.admin, request, "cancel", comment="重复申请", expected_version=v(request)) and request,
         "cancel", "assessment", lambda after: (after["status"], after["comment"]) == ("cancelled", "重复申请")),
    ]


def _newest(services: Services, enterprise_id: int, status: str) -> int:
    return max(a.id for a, _ in services.list_assessments(Actor.operator(), enterprise_id=enterprise_id,
                                                          status=status))


def test_every_writing_operation_records_who_changed_what(world_store, cmmm):
    services, w = world_store
    steps = writing_steps(services, w, cmmm)
    written = {operation for operation, *_ in steps} | {"set_up"}  # set_up: the next test
    assert written | READS == public_operations(), "classify a new operation as a read or a write (with a step)"
    assert not written & READS
    assert {action for _, _, _, action, _, _ in steps if action in ACTIONS} == set(ACTIONS)
    for operation, actor, call, action, entity, check in steps:
        last = _latest_audit_id(services)
        entity_id = call()
        entries = _entries_since(services, last)
        assert entries, f"{operation} ({action}) left no audit entry"
        assert {entry.user_id for entry in entries} == {actor.user_id}, (operation, action)
        mine = [e for e in entries if (e.action, e.entity, e.entity_id) == (action, entity, str(entity_id))]
        assert mine, (operation, action, [(e.action, e.entity, e.entity_id) for e in entries])
        assert check(mine[-1].after), (operation, action, mine[-1].after)


def test_the_first_start_is_audited_as_the_administrator_it_creates(store):
    services = Services(store)
    admin = services.set_up("苏州市工信局", "chief", "局长", PASSWORD)
    [entry] = _entries_since(services, 0)
    assert (entry.user_id, entry.action, entry.entity, entry.entity_id) == (admin.user_id, "set_up", "user",
                                                                            str(admin.user_id))
    assert entry.after == {"username": "chief", "role": "bureau_admin"}


def test_reading_changes_nothing_and_leaves_no_audit_entry(world_store):
    services, w = world_store
    before = snapshot(services)
    services.needs_setup()
    services.get_organisation(w.admin, w.enterprise_1_id)
    services.list_enterprises(w.analyst)
    services.list_providers(w.admin)
    services.get_assessment(w.enterprise_1, w.approved_1)
    services.list_assessments(w.provider_a)
    services.list_users(w.admin)
    services.audit_log(w.admin)
    assert snapshot(services) == before


# --- peer figures ---------------------------------------------------------------------------------------------

PEER_RATES = (11.25, 23.75, 37.5, 48.125, 61.875)  # networking rates of the peers; the median of five is 37.5


def _add_peers(services: Services, count: int) -> list[int]:
    """``count`` enterprises beside enterprise 1 (gusu, C34), each with an approved, scored diagnosis."""
    ids = []
    with services.store.write() as db:
        builder = Builder(db)
        for k in range(count):
            peer = builder.enterprise(600 + k, "gusu", "C34", name=f"同行企业{k}")
            builder.diagnosis(peer, None, "approved", datetime(2025, 2, 1), level=k % 5, score=k + 0.4321,
                              profile={"networking_rate": PEER_RATES[k], "data_collection_rate": 70.0 + k,
                                       "nc_rate": 40.0 + k})
            ids.append(peer)
    return ids


def _report_cells(services: Services, actor: Actor, assessment_id: int, cmmm) -> list:
    view = services.get_assessment(actor, assessment_id)
    peers = peer_stats(services.store, view.enterprise.id, view.assessment.id)
    workbook = openpyxl.load_workbook(BytesIO(report.write(report.from_view(view, cmmm, peers))))
    return [cell.value for ws in workbook.worksheets for row in ws.iter_rows() for cell in row
            if cell.value is not None]


def _peer_traces(services: Services, peers: list[int]) -> list:
    """What would give a peer away: its name, credit code, score and its own rates (but the middle one of five,
    which is the median, an aggregate)."""
    with services.store.read() as db:
        rows = db.execute(select(Organisation.name, Organisation.credit_code).where(Organisation.id.in_(peers)))
        names = [value for row in rows for value in row]
    return [*names, *(k + 0.4321 for k in range(len(peers))), *(r for r in PEER_RATES[:len(peers)] if r != 37.5),
            *(70.0 + k for k in range(len(peers)) if k != 2), *(40.0 + k for k in range(len(peers)) if k != 2)]


@pytest.mark.parametrize("peers", [MIN_PEERS - 1, MIN_PEERS])
def test_peer_figures_show_nothing_below_five_and_only_aggregates_from_five(world_store, cmmm, peers):
    services, w = world_store
    with services.store.write() as db:  # enterprise 1's diagnosis reports the digital baseline too
        db.add(EnterpriseProfile(assessment_id=w.approved_1, networking_rate=12.0))
    added = _add_peers(services, peers)
    stats = peer_stats(services.store, w.enterprise_1_id, w.approved_1)
    for actor in (w.enterprise_1, w.provider_a):
        cells = _report_cells(services, actor, w.approved_1, cmmm)
        traces = [trace for trace in _peer_traces(services, added) if trace in cells]
        assert traces == [], traces
        if peers < MIN_PEERS:
            assert stats is None
            assert "同区县同行业企业少于5家，不作比较。" in cells
            assert 37.5 not in cells
        else:
            assert (stats.count, sum(stats.levels)) == (MIN_PEERS, MIN_PEERS)
            assert set(vars(stats)) == {"count", "levels", "medians"}, "only aggregates leave peer_stats"
            assert stats.medians == {"networking_rate": 37.5, "data_collection_rate": 72.0, "nc_rate": 42.0}
            assert 37.5 in cells
            assert "同区县同行业企业少于5家，不作比较。" not in cells


def test_the_results_page_shows_no_peer_figure():
    """Only the report shows peer figures, and only through peer_stats (the rule above); the results page has none."""
    callers = [path.relative_to(PROJECT_ROOT).as_posix() for folder in ("ui", "reports")
               for path in (PROJECT_ROOT / folder).rglob("*.py") if "peer_stats(" in path.read_text(encoding="utf-8")]
    assert callers == ["ui/work.py"]
    assert "peer" not in (PROJECT_ROOT / "ui" / "pages" / "results.py").read_text(encoding="utf-8").lower()
