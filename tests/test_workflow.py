"""The state machine alone: every allowed move and every refused one, with the guards."""

import pytest

from assessment.workflow import ACTIONS, DIAGNOSIS, SELF, STATUSES, TRANSITIONS, Facts, WorkflowError, next_status

READY = Facts(answered=266, applicable=266, projects=1, provider_id=7, rating=4, comment="请补充证据")
ALLOWED = {(t.kind, t.source, t.action): t.target for t in TRANSITIONS}
EVERY_MOVE = [(kind, status, action) for kind in (DIAGNOSIS, SELF) for status in STATUSES[kind] for action in ACTIONS]


def test_the_diagnosis_path_and_the_self_assessment_path():
    assert ALLOWED == {
        (DIAGNOSIS, "requested", "assign"): "assigned",
        (DIAGNOSIS, "assigned", "start"): "in_progress",
        (DIAGNOSIS, "in_progress", "submit"): "submitted",
        (DIAGNOSIS, "submitted", "confirm"): "confirmed",
        (DIAGNOSIS, "confirmed", "approve"): "approved",
        (DIAGNOSIS, "confirmed", "return"): "returned",
        (DIAGNOSIS, "returned", "resume"): "in_progress",
        (DIAGNOSIS, "requested", "cancel"): "cancelled",
        (SELF, "draft", "complete"): "completed",
    }


@pytest.mark.parametrize(("kind", "status", "action"), EVERY_MOVE, ids=["-".join(m) for m in EVERY_MOVE])
def test_every_move_is_allowed_or_refused_as_the_table_says(kind, status, action):
    if (kind, status, action) in ALLOWED:
        assert next_status(kind, status, action, READY) == ALLOWED[kind, status, action]
    else:
        with pytest.raises(WorkflowError, match=f"cannot {action} a .* that is {status}"):
            next_status(kind, status, action, READY)


@pytest.mark.parametrize(("kind", "status", "action", "facts", "message"), [
    (DIAGNOSIS, "requested", "assign", Facts(), "choose the service provider"),
    (DIAGNOSIS, "in_progress", "submit", Facts(answered=265, applicable=266, projects=1),
     r"not complete \(265 of 266 answered\)"),
    (DIAGNOSIS, "in_progress", "submit", Facts(answered=266, applicable=266, projects=0),
     "at least one recommended project"),
    (DIAGNOSIS, "submitted", "confirm", Facts(rating=None), "rating must be a whole number from 1 to 5"),
    (DIAGNOSIS, "submitted", "confirm", Facts(rating=6), "got 6"),
    (DIAGNOSIS, "submitted", "confirm", Facts(rating=0), "got 0"),
    (DIAGNOSIS, "confirmed", "return", Facts(comment="  "), "needs a comment"),
    (DIAGNOSIS, "confirmed", "return", Facts(comment=None), "needs a comment"),
    (DIAGNOSIS, "requested", "cancel", Facts(comment=" \n "), "cancelling a request needs a reason"),
    (DIAGNOSIS, "requested", "cancel", Facts(), "cancelling a request needs a reason"),
    (SELF, "draft", "complete", Facts(answered=0, applicable=266), r"not complete \(0 of 266"),
])
def test_a_failing_guard_says_why(kind, status, action, facts, message):
    with pytest.raises(WorkflowError, match=message):
        next_status(kind, status, action, facts)


def test_only_the_bureau_cancels_and_only_a_request_that_waits():
    """A request is cancelled by the bureau before it is assigned; after that the diagnosis runs its course."""
    [cancel] = [t for t in TRANSITIONS if t.action == "cancel"]
    assert (cancel.role, cancel.source, cancel.target) == ("bureau_admin", "requested", "cancelled")
    for status in ("assigned", "in_progress", "submitted", "confirmed", "approved", "returned", "cancelled"):
        with pytest.raises(WorkflowError) as refused:
            next_status(DIAGNOSIS, status, "cancel", READY)
        assert (refused.value.code, refused.value.params["status"]) == ("impossible", status)
    with pytest.raises(WorkflowError, match="nothing more can be done"):
        next_status(DIAGNOSIS, "cancelled", "assign", READY)


def test_a_refusal_names_what_is_possible_instead():
    with pytest.raises(WorkflowError, match="possible now: approve, return"):
        next_status(DIAGNOSIS, "confirmed", "submit", READY)
    with pytest.raises(WorkflowError, match="nothing more can be done"):
        next_status(DIAGNOSIS, "approved", "return", READY)
