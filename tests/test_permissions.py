"""Every role × every service operation, allowed and denied, on SQLite and PostgreSQL.

An allowed call succeeds, or is stopped by the workflow guard the table names (never by permission); a denied
call raises NotAllowedError and changes nothing.
"""

import pytest

from assessment.permissions import NotAllowedError
from assessment.workflow import WorkflowError
from tests.conftest import PASSWORD, enterprise_fields

ROLES = ("admin", "analyst", "provider_a", "provider_b", "enterprise_1", "enterprise_2")


def version(s, w, assessment_id):
    return s.get_assessment(w.admin, assessment_id).assessment.version


# (operation, the call, who may make it). `a` is the actor, `s` the services, `w` the world.
OPERATIONS = [
    ("create organisation", lambda s, w, a: s.create_organisation(a, **enterprise_fields(7, "gusu")), {"admin"}),
    ("update organisation", lambda s, w, a: s.update_organisation(a, w.enterprise_1_id,
                                                                  **enterprise_fields(1, "gusu")), {"admin"}),
    ("create user", lambda s, w, a: s.create_user(a, "new_user", "新用户", PASSWORD, "provider_user",
                                                  w.provider_a_id), {"admin"}),
    ("deactivate user", lambda s, w, a: s.set_user_active(a, w.provider_b.user_id, False), {"admin"}),
    ("list users", lambda s, w, a: s.list_users(a), {"admin"}),
    ("list providers", lambda s, w, a: s.list_providers(a), {"admin"}),
    ("read the audit log", lambda s, w, a: s.audit_log(a), {"admin"}),
    ("read enterprise 1", lambda s, w, a: s.get_organisation(a, w.enterprise_1_id),
     {"admin", "analyst", "provider_a", "enterprise_1"}),
    ("read enterprise 2", lambda s, w, a: s.get_organisation(a, w.enterprise_2_id),
     {"admin", "provider_b", "enterprise_2"}),
    ("request a diagnosis", lambda s, w, a: s.request_diagnosis(a, w.enterprise_2_id), {"admin", "enterprise_2"}),
    ("request a second diagnosis", lambda s, w, a: s.request_diagnosis(a, w.enterprise_1_id),
     {"admin", "enterprise_1"}, "already has an open request"),
    ("start a self-assessment", lambda s, w, a: s.start_self_assessment(a, w.enterprise_1_id), {"enterprise_1"}),
    ("create a follow-up diagnosis", lambda s, w, a: s.create_follow_up(a, w.approved_1), {"admin", "enterprise_1"},
     "already has an open request"),
    ("create a follow-up self-assessment", lambda s, w, a: s.create_follow_up(a, w.self_1), {"enterprise_1"}),
    ("read a diagnosis", lambda s, w, a: s.get_assessment(a, w.diagnosis_1),
     {"admin", "analyst", "provider_a", "enterprise_1"}),
    ("read a self-assessment", lambda s, w, a: s.get_assessment(a, w.self_1), {"admin", "analyst", "enterprise_1"}),
    ("read another district's diagnosis", lambda s, w, a: s.get_assessment(a, w.diagnosis_2),
     {"admin", "provider_b", "enterprise_2"}),
    ("answer a diagnosis", lambda s, w, a: s.save_answer(a, w.diagnosis_1, "OS.1.1", "full",
                                                         expected_version=version(s, w, w.diagnosis_1)),
     {"provider_a"}),
    ("answer a self-assessment", lambda s, w, a: s.save_answer(a, w.self_1, "OS.1.1", "full",
                                                               expected_version=version(s, w, w.self_1)),
     {"enterprise_1"}),
    ("import answers", lambda s, w, a: s.save_answers(a, w.diagnosis_1, {"OS.1.1": {"code": "full"}},
                                                      expected_version=version(s, w, w.diagnosis_1)),
     {"provider_a"}),
    ("save the profile", lambda s, w, a: s.save_profile(a, w.diagnosis_1, nc_rate=40,
                                                        expected_version=version(s, w, w.diagnosis_1)),
     {"provider_a"}),
    ("add a project", lambda s, w, a: s.add_project(a, w.diagnosis_1, title="APS",
                                                    expected_version=version(s, w, w.diagnosis_1)), {"provider_a"}),
    ("change a project", lambda s, w, a: s.update_project(a, w.project_1, title="ERP 升级", priority="high",
                                                          expected_version=version(s, w, w.diagnosis_1)),
     {"provider_a"}),
    ("remove a project", lambda s, w, a: s.remove_project(a, w.project_1,
                                                          expected_version=version(s, w, w.diagnosis_1)),
     {"provider_a"}),
    ("assign a provider", lambda s, w, a: s.move(a, w.requested_1, "assign", provider_id=w.provider_a_id,
                                                 expected_version=version(s, w, w.requested_1)), {"admin"}),
    ("start a diagnosis", lambda s, w, a: s.move(a, w.assigned_1, "start",
                                                 expected_version=version(s, w, w.assigned_1)), {"provider_a"}),
    ("submit a diagnosis", lambda s, w, a: s.move(a, w.diagnosis_1, "submit",
                                                  expected_version=version(s, w, w.diagnosis_1)), {"provider_a"},
     "questionnaire is not complete"),
    ("confirm and rate", lambda s, w, a: s.move(a, w.submitted_1, "confirm", rating=5,
                                                expected_version=version(s, w, w.submitted_1)), {"enterprise_1"}),
    ("approve", lambda s, w, a: s.move(a, w.confirmed_1, "approve",
                                       expected_version=version(s, w, w.confirmed_1)), {"admin"}),
    ("return", lambda s, w, a: s.move(a, w.confirmed_1, "return", comment="补充",
                                      expected_version=version(s, w, w.confirmed_1)), {"admin"}),
    ("cancel a request", lambda s, w, a: s.move(a, w.requested_1, "cancel", comment="企业已撤回申请",
                                                expected_version=version(s, w, w.requested_1)), {"admin"}),
    ("cancel a request without a reason", lambda s, w, a: s.move(a, w.requested_1, "cancel", comment=" ",
                                                                 expected_version=version(s, w, w.requested_1)),
     {"admin"}, "needs a reason"),
    ("reset a password", lambda s, w, a: s.reset_password(a, w.provider_b.user_id), {"admin"}),
    ("resume", lambda s, w, a: s.move(a, w.returned_1, "resume",
                                      expected_version=version(s, w, w.returned_1)), {"provider_a"}),
    ("complete a self-assessment", lambda s, w, a: s.move(a, w.self_1, "complete",
                                                          expected_version=version(s, w, w.self_1)),
     {"enterprise_1"}, "questionnaire is not complete"),
    ("record a project's progress", lambda s, w, a: s.set_project_status(a, w.approved_project, "started"),
     {"enterprise_1"}),
]


CASES = [(name, call, allowed, guard[0] if guard else None) for name, call, allowed, *guard in OPERATIONS]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("operation", "call", "allowed", "guard"), CASES, ids=[case[0] for case in CASES])
def test_role_matrix(world_store, role, operation, call, allowed, guard):
    services, w = world_store
    actor = w.actors()[role]
    audit_before = len(services.audit_log(w.admin))
    if role in allowed and guard:
        with pytest.raises(WorkflowError, match=guard):
            call(services, w, actor)
    elif role in allowed:
        call(services, w, actor)  # raises if refused
    else:
        with pytest.raises(NotAllowedError, match="not allowed"):
            call(services, w, actor)
        assert len(services.audit_log(w.admin)) == audit_before, "a refused call must change nothing"


@pytest.mark.parametrize(("role", "visible"), [
    ("admin", "all"),
    ("analyst", "enterprise_1"),
    ("provider_a", "provider_a"),
    ("provider_b", "provider_b"),
    ("enterprise_1", "enterprise_1"),
    ("enterprise_2", "enterprise_2"),
])
def test_listings_show_only_what_the_role_may_read(world_store, role, visible):
    services, w = world_store
    actor = w.actors()[role]
    everything = services.list_assessments(w.admin)
    expected = {
        "all": everything,
        "enterprise_1": [(a, e) for a, e in everything if e.id == w.enterprise_1_id],
        "enterprise_2": [(a, e) for a, e in everything if e.id == w.enterprise_2_id],
        "provider_a": [(a, e) for a, e in everything if a.provider_id == w.provider_a_id],
        "provider_b": [(a, e) for a, e in everything if a.provider_id == w.provider_b_id],
    }[visible]
    assert [a.id for a, _ in services.list_assessments(actor)] == [a.id for a, _ in expected]
    assert expected, "every role sees something"
    enterprises = {e.id for e in services.list_enterprises(actor)}
    assert enterprises == {e.id for _, e in expected}


def test_probing_an_id_that_does_not_exist_reads_as_not_allowed(world_store):
    services, w = world_store
    with pytest.raises(NotAllowedError, match="not allowed: assessment 99999"):
        services.get_assessment(w.provider_a, 99999)
    with pytest.raises(NotAllowedError) as caught:
        services.get_assessment(w.provider_a, w.diagnosis_2)
    assert str(caught.value) == f"not allowed: assessment {w.diagnosis_2}"  # the same words as for no such id
