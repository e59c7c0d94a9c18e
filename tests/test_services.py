"""The service layer on SQLite and PostgreSQL: a whole diagnosis, versions, audit, inputs, accounts."""

from datetime import timedelta

import pytest
from sqlalchemy import select, text

from assessment import accounts
from assessment.accounts import AuthenticationError, authenticate
from assessment.errors import AssessmentError
from assessment.inputs import InputError
from assessment.models import AuditEntry, User, now
from assessment.permissions import NotAllowedError
from assessment.services import ConflictError, Services
from assessment.workflow import WorkflowError
from tests.conftest import PASSWORD, credit_code, enterprise_fields

BAD_CODE = credit_code(9)[:-1] + ("0" if credit_code(9)[-1] != "0" else "1")


def answer_all(services, actor, assessment_id, cmmm, code="mostly", profile="discrete"):
    version = services.get_assessment(actor, assessment_id).assessment.version
    for item in cmmm.items_for(profile):
        version = services.save_answer(actor, assessment_id, item.id, code, expected_version=version)
    return version


def test_a_diagnosis_from_request_to_approval(world_store, cmmm):
    services, w = world_store
    d = w.diagnosis_1
    version = answer_all(services, w.provider_a, d, cmmm)
    view = services.get_assessment(w.provider_a, d)
    assert (view.assessment.answered, view.assessment.applicable) == (266, 266)
    assert view.assessment.level == 4
    assert view.assessment.score == pytest.approx(4.0)
    assert view.assessment.result["sha256"] == cmmm.sha256

    version = services.remove_project(w.provider_a, w.project_1, expected_version=version)
    with pytest.raises(WorkflowError, match="at least one recommended project"):
        services.move(w.provider_a, d, "submit", expected_version=version)
    project_id, version = services.add_project(w.provider_a, d, expected_version=version, title="MES 建设",
                                               subdomain="PO", target_level=3, investment="120.5", priority="high")
    version = services.save_profile(w.provider_a, d, expected_version=version, employees=320, nc_rate=55.5,
                                    networking_rate=40, systems={"ERP": {"in_use": True, "cloud": True}})
    version = services.move(w.provider_a, d, "submit", expected_version=version)
    with pytest.raises(WorkflowError, match="can be changed only while in_progress"):
        services.save_answer(w.provider_a, d, "OS.1.1", "full", expected_version=version)
    version = services.move(w.enterprise_1, d, "confirm", expected_version=version, rating=5, comment="专业")
    version = services.move(w.admin, d, "return", expected_version=version, comment="请补充设备清单")
    version = services.move(w.provider_a, d, "resume", expected_version=version)
    version = services.save_answer(w.provider_a, d, "OS.1.1", "full", expected_version=version, note="已补充")
    version = services.move(w.provider_a, d, "submit", expected_version=version)
    version = services.move(w.enterprise_1, d, "confirm", expected_version=version, rating=4)
    version = services.move(w.admin, d, "approve", expected_version=version)

    services.set_project_status(w.enterprise_1, project_id, "started", start_date=now().date())
    view = services.get_assessment(w.enterprise_1, d)
    assert view.assessment.status == "approved"
    assert view.confirmation.rating == 4
    assert [r.decision for r in view.reviews] == ["returned", "approved"]
    assert view.reviews[0].comment == "请补充设备清单"
    assert view.projects[0].status == "started"
    assert str(view.projects[0].investment) == "120.50"
    assert view.profile.systems == {"ERP": {"in_use": True, "cloud": True}}
    assert view.answers["OS.1.1"].note == "已补充"
    actions = [e.action for e in services.audit_log(w.admin, entity="assessment", entity_id=d)]
    assert actions[:5] == ["project_status", "approve", "confirm", "submit", "answer"]
    assert actions.count("answer") == 267


def test_a_stale_version_is_refused_and_nothing_is_overwritten(world_store):
    services, w = world_store
    d = w.diagnosis_1
    opened = services.get_assessment(w.provider_a, d).assessment.version
    services.save_answer(w.provider_a, d, "OS.1.1", "full", expected_version=opened)  # the first user saves
    with pytest.raises(ConflictError, match=r"changed by someone else.*reload"):
        services.save_answer(w.provider_a, d, "OS.1.1", "none", expected_version=opened)  # the second, stale
    assert services.get_assessment(w.provider_a, d).answers["OS.1.1"].code == "full"


@pytest.mark.parametrize(("call", "message"), [
    (lambda s, w, v: s.save_answer(w.provider_a, w.diagnosis_1, "XX.1.1", "full", expected_version=v),
     "item: 'XX.1.1' is not a requirement"),
    (lambda s, w, v: s.save_answer(w.provider_a, w.diagnosis_1, "OS.1.1", "大部分", expected_version=v),
     "OS.1.1: '大部分' is not one of"),
    (lambda s, w, v: s.save_answer(w.provider_a, w.diagnosis_1, "OS.1.1", "full", expected_version=v,
                                   note="bad\x00note"), "OS.1.1.note: contains a control character"),
    (lambda s, w, v: s.save_profile(w.provider_a, w.diagnosis_1, expected_version=v, networking_rate=101),
     "networking_rate: Input should be less than or equal to 100"),
    (lambda s, w, v: s.save_profile(w.provider_a, w.diagnosis_1, expected_version=v, data_collection_rate=-1),
     "data_collection_rate: Input should be greater than or equal to 0"),
    (lambda s, w, v: s.add_project(w.provider_a, w.diagnosis_1, expected_version=v, title="x", subdomain="ZZ"),
     "subdomain: 'ZZ' is not a subdomain"),
    (lambda s, w, v: s.add_project(w.provider_a, w.diagnosis_1, expected_version=v, title=""),
     "title: required"),
    (lambda s, w, v: s.create_organisation(w.admin, **enterprise_fields(9, "gusu") | {"credit_code": BAD_CODE}),
     "credit_code: unified social credit code"),
    (lambda s, w, v: s.create_organisation(w.admin, **enterprise_fields(1, "gusu")),
     "is already registered"),
    (lambda s, w, v: s.create_organisation(w.admin, **enterprise_fields(9, "atlantis")),
     "district: unknown district code 'atlantis'"),
    (lambda s, w, v: s.create_user(w.admin, "newbie", "N", "short1", "provider_user", w.provider_a_id),
     "password: needs at least 10 characters"),
    (lambda s, w, v: s.create_user(w.admin, "newbie", "N", PASSWORD, "provider_user", w.enterprise_1_id),
     "organisation: a provider_user belongs to a provider"),
    (lambda s, w, v: s.create_user(w.admin, "admin", "N", PASSWORD, "bureau_admin", w.admin.organisation_id),
     "username: 'admin' is taken"),
])
def test_bad_input_is_named_and_changes_nothing(world_store, call, message):
    services, w = world_store
    version = services.get_assessment(w.admin, w.diagnosis_1).assessment.version
    entries = len(services.audit_log(w.admin))
    with pytest.raises(InputError) as caught:
        call(services, w, version)
    assert any(message in m for m in caught.value.messages), caught.value.messages
    assert services.get_assessment(w.admin, w.diagnosis_1).assessment.version == version
    assert len(services.audit_log(w.admin)) == entries


def test_the_audit_log_cannot_be_changed(world_store):
    services, _ = world_store
    with pytest.raises(Exception, match="append-only"), services.store.write() as db:
        db.execute(text("UPDATE audit_log SET action = 'forged'"))
    with pytest.raises(Exception, match="append-only"), services.store.write() as db:
        db.execute(text("DELETE FROM audit_log"))


def test_a_follow_up_round_links_to_the_earlier_one(world_store):
    services, w = world_store
    follow_up = services.create_follow_up(w.enterprise_1, w.self_1)
    view = services.get_assessment(w.enterprise_1, follow_up)
    assert (view.assessment.round, view.assessment.previous_id, view.assessment.kind) == ("follow_up", w.self_1, "self")


def test_sign_in_locks_after_five_failures_and_never_tells_the_password(world_store, caplog):
    services, w = world_store
    store = services.store
    assert authenticate(store, "provider_a", PASSWORD).role == "provider_user"
    for _ in range(accounts.MAX_FAILED_LOGINS):
        with pytest.raises(AuthenticationError, match="user name or password is wrong"):
            authenticate(store, "provider_a", "wrong password 1")
    with pytest.raises(AuthenticationError, match="locked for 15 more minutes"):
        authenticate(store, "provider_a", PASSWORD)  # even the right password, while locked
    with store.write() as db:  # fifteen minutes later
        user = db.scalar(select(User).where(User.username == "provider_a"))
        user.locked_until = now() - timedelta(seconds=1)
    assert authenticate(store, "provider_a", PASSWORD).username == "provider_a"
    with pytest.raises(AuthenticationError, match="user name or password is wrong"):
        authenticate(store, "nobody", PASSWORD)
    with store.read() as db:
        stored = db.scalar(select(User.password_hash).where(User.username == "provider_a"))
        entries = [f"{e.before} {e.after}" for e in db.scalars(select(AuditEntry))]
    assert stored.startswith("$argon2id$")
    assert not any(PASSWORD in e or stored in e for e in entries)
    assert PASSWORD not in caplog.text
    assert stored not in caplog.text
    assert stored not in repr(services.list_users(w.admin))


def test_setup_happens_once(world_store):
    services, _ = world_store
    assert not services.needs_setup()
    with pytest.raises(NotAllowedError, match="already set up"):
        services.set_up("另一个局", "admin2", "x", PASSWORD)


def test_a_fresh_database_needs_setup(store):
    services = Services(store)
    assert services.needs_setup()
    admin = services.set_up("苏州市工信局", "first", "First Admin", PASSWORD)
    assert admin.role == "bureau_admin"
    assert not services.needs_setup()
    org = services.create_organisation(admin, **enterprise_fields(5, "sip"))
    assert services.get_organisation(admin, org).credit_code == credit_code(5)


def test_domain_errors_are_assessment_errors():
    # The UI and CLI catch AssessmentError to show a message instead of a traceback.
    for error in (ConflictError, InputError, NotAllowedError, WorkflowError, AuthenticationError):
        assert issubclass(error, AssessmentError)


def test_many_answers_are_stored_all_or_none(world_store, cmmm):
    services, w = world_store
    d = w.diagnosis_1
    version = services.get_assessment(w.provider_a, d).assessment.version
    good = {item.id: {"code": "full", "note": "现场查看"} for item in cmmm.items_for("discrete")}
    with pytest.raises(InputError) as caught:
        services.save_answers(w.provider_a, d, good | {"ZZ.1.1": {"code": "full"}, "OS.1.2": {"code": "bad"}},
                              expected_version=version)
    assert len(caught.value.messages) == 2
    assert services.get_assessment(w.provider_a, d).answers == {}
    version = services.save_answers(w.provider_a, d, good, expected_version=version,
                                    profile={"networking_rate": 61.5})
    view = services.get_assessment(w.provider_a, d)
    assert len(view.answers) == 266
    assert view.assessment.level == 5
    assert view.profile.networking_rate == 61.5
    assert view.assessment.version == version


def test_the_command_line_operator_finds_what_is_missing(world_store):
    services, _ = world_store
    from assessment.accounts import Actor
    from assessment.services import NotFoundError
    with pytest.raises(NotFoundError, match="no assessment 99999"):
        services.get_assessment(Actor.operator(), 99999)


def test_a_sign_in_token_resumes_until_idle_or_closed(world_store):
    services, w = world_store
    store = services.store
    token = accounts.open_session(store, w.provider_a)
    assert accounts.resume_session(store, token, timedelta(minutes=30)) == w.provider_a
    assert accounts.resume_session(store, "forged", timedelta(minutes=30)) is None
    assert accounts.resume_session(store, token, timedelta(seconds=-1)) is None  # idle too long: gone
    assert accounts.resume_session(store, token, timedelta(minutes=30)) is None
    token = accounts.open_session(store, w.provider_a)
    accounts.close_session(store, token)
    assert accounts.resume_session(store, token, timedelta(minutes=30)) is None
    services.set_user_active(w.admin, w.provider_a.user_id, False)
    assert accounts.resume_session(store, accounts.open_session(store, w.provider_a), timedelta(minutes=30)) is None
