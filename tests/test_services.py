"""The service layer on SQLite and PostgreSQL: a whole diagnosis, versions, audit, inputs, accounts."""

from datetime import timedelta

import pytest
from sqlalchemy import select, text

from assessment import accounts, sessions
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
    applicable = len(cmmm.items_for("discrete"))
    assert (view.assessment.answered, view.assessment.applicable) == (applicable, applicable)
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
    assert actions.count("answer") == applicable + 1  # every item once, and OS.1.1 again after the return


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
    with pytest.raises(AuthenticationError, match="user name or password is wrong, or the account is locked"):
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
    assert len(view.answers) == len(good)
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
    token = sessions.open_session(store, w.provider_a)
    assert sessions.resume_session(store, token, timedelta(minutes=30)) == w.provider_a
    assert sessions.resume_session(store, "forged", timedelta(minutes=30)) is None
    assert sessions.resume_session(store, token, timedelta(seconds=-1)) is None  # idle too long: gone
    assert sessions.resume_session(store, token, timedelta(minutes=30)) is None
    token = sessions.open_session(store, w.provider_a)
    sessions.close_session(store, token)
    assert sessions.resume_session(store, token, timedelta(minutes=30)) is None
    services.set_user_active(w.admin, w.provider_a.user_id, False)
    assert sessions.resume_session(store, sessions.open_session(store, w.provider_a), timedelta(minutes=30)) is None


# -- one open request per enterprise; the bureau cancels a request with a reason (issue 10, §4) ----------------


def test_a_second_open_request_is_refused_until_the_bureau_assigns_or_cancels_the_first(world_store):
    from ui.session import said

    services, w = world_store
    e1 = w.enterprise_1_id
    count = len(services.list_assessments(w.admin, enterprise_id=e1))
    for call in (lambda: services.request_diagnosis(w.enterprise_1, e1),
                 lambda: services.request_diagnosis(w.admin, e1),
                 lambda: services.create_follow_up(w.enterprise_1, w.approved_1)):
        with pytest.raises(WorkflowError) as refused:
            call()
        assert (refused.value.code, refused.value.params) == ("request_open", {"id": w.requested_1})
    assert said(refused.value, "zh") == (f"该企业已有一份待派单的诊断申请（#{w.requested_1}），不能重复申请；"
                                         "请等待工信局派单或撤销该申请。")
    assert said(refused.value, "en").startswith(f"This enterprise already has a request for a diagnosis waiting "
                                                f"for assignment (#{w.requested_1})")
    assert len(services.list_assessments(w.admin, enterprise_id=e1)) == count  # nothing was created
    # A self-assessment is no request: still allowed.
    services.start_self_assessment(w.enterprise_1, e1)

    version = services.get_assessment(w.admin, w.requested_1).assessment.version
    with pytest.raises(WorkflowError) as refused:
        services.move(w.admin, w.requested_1, "cancel", comment="  ", expected_version=version)
    assert refused.value.code == "cancel_reason"
    assert said(refused.value, "zh") == "撤销申请须填写原因。"
    assert said(refused.value, "en") == "Cancelling a request needs a reason."
    for actor in (w.analyst, w.enterprise_1, w.provider_a):  # the bureau administrator cancels, nobody else
        with pytest.raises(NotAllowedError):
            services.move(actor, w.requested_1, "cancel", comment="不要了", expected_version=version)
    services.move(w.admin, w.requested_1, "cancel", comment="企业重复申请，已电话确认", expected_version=version)
    assert services.get_assessment(w.admin, w.requested_1).assessment.status == "cancelled"
    [entry] = services.audit_log(w.admin, entity="assessment", entity_id=w.requested_1, limit=1)
    assert (entry.user_id, entry.action, entry.before["status"]) == (w.admin.user_id, "cancel", "requested")
    assert (entry.after["status"], entry.after["comment"]) == ("cancelled", "企业重复申请，已电话确认")

    new = services.request_diagnosis(w.enterprise_1, e1)  # with nothing waiting, the enterprise asks again
    version = services.move(w.admin, new, "assign", expected_version=1, provider_id=w.provider_a_id)
    services.create_follow_up(w.enterprise_1, w.approved_1)  # assigned: the next request may come


def test_two_requests_at_the_same_moment_make_one(world_store):
    """The check and the insert happen under a lock of the enterprise's row (PostgreSQL runs both transactions
    at once; SQLite's writers queue), so two clicks racing each other never make two requests."""
    import threading

    services, w = world_store
    before = len(services.list_assessments(w.admin, enterprise_id=w.enterprise_2_id, status="requested"))
    start, outcomes = threading.Barrier(4), []

    def request(actor):
        start.wait()
        try:
            outcomes.append(services.request_diagnosis(actor, w.enterprise_2_id))
        except WorkflowError as error:
            outcomes.append(error.code)

    threads = [threading.Thread(target=request, args=(actor,))
               for actor in (w.admin, w.enterprise_2, w.admin, w.enterprise_2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert before == 0
    assert outcomes.count("request_open") == 3, outcomes
    assert len(services.list_assessments(w.admin, enterprise_id=w.enterprise_2_id, status="requested")) == 1


# -- passwords: one's own change, an administrator's reset to a one-time password ---------------------------------


def test_a_user_changes_its_password_naming_the_current_one(world_store):
    from ui.session import said

    services, w = world_store
    store = services.store
    for current, new, code in (("wrong password 1", "a new password 42", "form.password_wrong"),
                               (PASSWORD, PASSWORD, "form.password_unchanged"),
                               (PASSWORD, "short1", "form.password_too_short")):
        with pytest.raises(InputError) as refused:
            services.change_password(w.provider_a, current, new)
        assert refused.value.code == code
        assert not said(refused.value, "zh").isascii()  # said in Chinese
    assert said(refused.value, "en") == "Password: at least 10 characters."
    assert authenticate(store, "provider_a", PASSWORD).user_id == w.provider_a.user_id  # nothing changed yet
    actor = services.change_password(w.provider_a, PASSWORD, "a new password 42")
    assert (actor.user_id, actor.must_change_password) == (w.provider_a.user_id, False)
    with pytest.raises(AuthenticationError):
        authenticate(store, "provider_a", PASSWORD)
    assert authenticate(store, "provider_a", "a new password 42").user_id == w.provider_a.user_id
    entry = next(e for e in services.audit_log(w.admin, entity="user", entity_id=w.provider_a.user_id)
                 if e.action.startswith("change_password"))  # sign-ins are audited too
    assert (entry.user_id, entry.action, entry.after) == (w.provider_a.user_id, "change_password",
                                                          {"must_change_password": False})
    services.set_user_active(w.admin, w.provider_a.user_id, False)
    with pytest.raises(NotAllowedError):  # a deactivated user's open tab cannot change it either
        services.change_password(w.provider_a, "a new password 42", "another password 43")


def test_an_administrator_resets_a_password_to_a_one_time_one_the_user_must_change(world_store):
    from ui.session import said

    services, w = world_store
    store = services.store
    token = sessions.open_session(store, w.provider_a)
    for actor in (w.analyst, w.provider_b, w.enterprise_1):
        with pytest.raises(NotAllowedError):
            services.reset_password(actor, w.provider_a.user_id)
    with pytest.raises(InputError) as own:
        services.reset_password(w.admin, w.admin.user_id)
    assert said(own.value, "zh") == "不能重置自己的密码，请在“我的账户”页用当前密码修改。"
    for _ in range(5):  # locked out: a reset also ends the lockout
        with pytest.raises(AuthenticationError):
            authenticate(store, "provider_a", "wrong password 1")

    one_time = services.reset_password(w.admin, w.provider_a.user_id)
    accounts.check_password_policy(one_time, "provider_a")  # a password the policy accepts
    assert one_time != services.reset_password(w.admin, w.provider_b.user_id)
    [entry] = services.audit_log(w.admin, entity="user", entity_id=w.provider_a.user_id, limit=1)
    assert (entry.user_id, entry.action, entry.after) == (w.admin.user_id, "reset_password",
                                                          {"must_change_password": True})
    assert one_time not in str(entry.before) + str(entry.after)
    assert sessions.resume_session(store, token, timedelta(minutes=30)) is None  # its sign-ins ended
    with pytest.raises(AuthenticationError):
        authenticate(store, "provider_a", PASSWORD)
    signed_in = authenticate(store, "provider_a", one_time)
    assert signed_in.must_change_password
    # Until the user chose its own password, the one the administrator knows opens nothing else.
    for call in (lambda: services.get_assessment(signed_in, w.diagnosis_1),
                 lambda: services.list_assessments(signed_in),
                 lambda: services.save_answer(signed_in, w.diagnosis_1, "OS.1.1", "full", expected_version=1)):
        with pytest.raises(NotAllowedError) as refused:
            call()
        assert refused.value.code == "password_change_required"
    assert said(refused.value, "zh") == "您的密码已由管理员重置，请先在“我的账户”页设置新密码。"
    with pytest.raises(InputError):
        services.change_password(signed_in, one_time, one_time)
    actor = services.change_password(signed_in, one_time, "my own password 7")
    assert not actor.must_change_password
    assert services.get_assessment(actor, w.diagnosis_1).assessment.id == w.diagnosis_1
    assert not authenticate(store, "provider_a", "my own password 7").must_change_password


def test_the_actor_carries_the_persons_name(world_store):
    services, w = world_store
    services.create_user(w.admin, "li.wei", "李伟", PASSWORD, "provider_user", w.provider_a_id)
    actor = authenticate(services.store, "li.wei", PASSWORD)
    assert (actor.username, actor.display_name, actor.name) == ("li.wei", "李伟", "李伟")
    assert accounts.Actor(1, "someone", "provider_user", 2).name == "someone"  # no name known: the user name
