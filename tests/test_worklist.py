"""Finding the next thing to do (assessment.worklist): what a return comment names, where a questionnaire opens,
the order of a work list; and the services' open returns on both databases."""

from datetime import date, timedelta

import pytest

from assessment import worklist
from assessment.models import Assessment
from tests.test_app_work import all_answers, version
from ui.work import subdomain_order


@pytest.mark.parametrize(("comment", "items", "subdomains"), [
    ("请补充DA.2.1的证据", ("DA.2.1",), ("DA",)),
    ("复核 po.3.2 与 DA.2.1；SA 子域证据不足", ("DA.2.1", "PO.3.2"), ("DA", "PO", "SA")),
    ("Evidence is thin in PO, and in OS.1.1.", ("OS.1.1",), ("OS", "PO")),
    ("请补充", (), ()),
    ("", (), ()),
    ("XX.1.1 无此要求; DA.9.9 亦无; DA.2.10", (), ()),  # unknown ids and an id inside a longer one
    ("0DA.2.1 and DA.2.1.3", (), ()),  # glued to a number, or followed by more of one
    ("sa 和 os 是小写", (), ()),  # a subdomain code only in capitals
])
def test_a_comment_names_requirements_and_subdomains(cmmm, comment, items, subdomains):
    named = worklist.named_in(cmmm, comment, subdomain_order(cmmm), "discrete")
    assert (named.items, named.subdomains) == (items, subdomains)


def test_a_requirement_of_the_other_profile_is_not_named(cmmm):
    other = next(item for item in cmmm.items if item.applies_to == "process")  # cmmm-2020 has several (EQ.2.2, …)
    assert worklist.named_in(cmmm, other.id, subdomain_order(cmmm), "discrete").items == ()
    assert worklist.named_in(cmmm, other.id, subdomain_order(cmmm), "process").items == (other.id,)


@pytest.mark.parametrize(("progress", "named", "first"), [
    ({"OS": (3, 3), "SK": (1, 3), "DA": (0, 2)}, (), "SK"),
    ({"OS": (3, 3), "SK": (1, 3), "DA": (0, 2)}, ("DA",), "DA"),
    ({"OS": (3, 3), "SK": (3, 3)}, (), "OS"),
    ({"OS": (3, 3), "SK": (0, 3)}, ("PV",), "SK"),  # a named subdomain without requirements here is passed over
    ({}, (), None),
])
def test_where_a_questionnaire_opens(progress, named, first):
    assert worklist.first_subdomain(progress, named) == first


def diagnosis(n: int, status: str, due: date | None = None, kind: str = "diagnosis") -> Assessment:
    return Assessment(id=n, kind=kind, status=status, due_date=due)


def test_work_to_do_and_overdue_deadlines_come_first():
    today = date(2025, 6, 10)
    rows = [diagnosis(1, "submitted", today - timedelta(days=9)),  # waits on the enterprise: not overdue work
            diagnosis(2, "in_progress"), diagnosis(3, "assigned", today + timedelta(days=2)),
            diagnosis(4, "returned"), diagnosis(5, "in_progress", today - timedelta(days=1)),
            diagnosis(6, "approved"), diagnosis(7, "assigned", today + timedelta(days=30)),
            diagnosis(8, "in_progress", today)]  # due today: not yet overdue
    ordered = sorted(rows, key=lambda a: worklist.urgency("provider_user", a, today))
    assert [a.id for a in ordered] == [5, 4, 8, 3, 7, 2, 6, 1]
    assert [a.id for a in rows if worklist.overdue("provider_user", a, today)] == [5]
    assert [a.id for a in rows if worklist.to_do("provider_user", a)] == [2, 3, 4, 5, 7, 8]
    assert [a.id for a in rows if worklist.to_do("enterprise_user", a)] == [1]  # it confirms
    assert worklist.to_do("enterprise_user", diagnosis(9, "draft", kind="self"))


def test_the_open_returns_are_those_back_with_the_provider(world_store, cmmm):
    services, w = world_store
    assert {d: r.comment for d, r in services.open_returns(w.provider_a).items()} == {w.returned_1: "请补充"}
    assert services.open_returns(w.provider_b) == {}  # another provider's
    assert set(services.open_returns(w.enterprise_1)) == {w.returned_1}
    assert services.open_returns(w.enterprise_2) == {}
    # Resumed, it is still open; handed in again, it is not.
    d = w.returned_1
    v = services.move(w.provider_a, d, "resume", expected_version=version(services, w.provider_a, d))
    assert set(services.open_returns(w.provider_a)) == {d}
    v = services.save_answers(w.provider_a, d, all_answers(cmmm, "full"), expected_version=v)
    services.move(w.provider_a, d, "submit", expected_version=v)
    assert services.open_returns(w.provider_a) == {}
    # Confirmed and approved after a second return: the latest decision counts.
    v = services.move(w.enterprise_1, d, "confirm", expected_version=version(services, w.admin, d), rating=5)
    v = services.move(w.admin, d, "return", expected_version=v, comment="再补充 SA.2.1")
    assert services.open_returns(w.provider_a)[d].comment == "再补充 SA.2.1"
    v = services.move(w.provider_a, d, "resume", expected_version=v)
    v = services.move(w.provider_a, d, "submit", expected_version=v)
    v = services.move(w.enterprise_1, d, "confirm", expected_version=v, rating=5)
    services.move(w.admin, d, "approve", expected_version=v)
    assert services.open_returns(w.provider_a) == {}
