"""Bureau analytics on both databases: figures computed by hand on a small world, permission scope, filters,
the latest-diagnosis rule, provider tiers, the min-5-peers rule, and shapes on demo data."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from datetime import date, datetime

import pytest
from sqlalchemy import func, select

from assessment import analytics
from assessment.accounts import Actor
from assessment.analytics import Filters, TierCuts
from assessment.demo import generate
from assessment.inputs import InputError
from assessment.models import (
    Answer,
    Assessment,
    Confirmation,
    EnterpriseProfile,
    Maturity,
    Organisation,
    Project,
    Review,
    User,
)
from tests.conftest import credit_code

# -- one assertion helper ----------------------------------------------------------------------------------


def differences(got, want, where: str = "") -> list[str]:
    """Where ``got`` differs from ``want``: floats to 1e-9, containers element by element."""
    if isinstance(want, float) and isinstance(got, int | float):
        return [] if math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-9) else [f"{where}: {got!r} != {want!r}"]
    if isinstance(want, dict) and isinstance(got, dict):
        if set(got) != set(want):
            return [f"{where}: keys {sorted(map(str, got))} != {sorted(map(str, want))}"]
        return [p for key in want for p in differences(got[key], want[key], f"{where}[{key!r}]")]
    if isinstance(want, list | tuple) and isinstance(got, list | tuple):
        if len(got) != len(want):
            return [f"{where}: {len(got)} items != {len(want)}: {got!r}"]
        return [p for k, (g, w) in enumerate(zip(got, want, strict=True)) for p in differences(g, w, f"{where}[{k}]")]
    return [] if got == want else [f"{where}: {got!r} != {want!r}"]


def expect(got, want, case: str = "") -> None:
    problems = differences(got, want, case)
    assert not problems, "\n".join(problems)


# -- a world small enough to compute by hand ---------------------------------------------------------------


@dataclass
class Hand:
    """Six enterprises, two providers (P and Q). Latest scored diagnoses: E1 level 2 (S 2.1), E2 3 (3.0),
    E3 0 (0.5), E4 none (only requested), E5 4 (4.0; its level-5 self-assessment does not count), E6 2 (2.2:
    two diagnoses created at the same moment, the higher id wins)."""

    p: int = 0
    q: int = 0
    e: dict[str, int] = field(default_factory=dict)
    d: dict[str, int] = field(default_factory=dict)

    def actor(self, who: str) -> Actor:
        return {"admin": Actor(0, "admin", "bureau_admin", None),
                "gusu": Actor(0, "analyst", "bureau_analyst", None, ("gusu",)),
                "P": Actor(0, "provider-p", "provider_user", self.p),
                "E1": Actor(0, "enterprise-1", "enterprise_user", self.e.get("E1"))}[who]


REVIEWERS = itertools.count(1)


class Builder:
    def __init__(self, db):
        self.db = db
        self.reviewer = self.add(User(username=f"reviewer{next(REVIEWERS)}", display_name="审核人", password_hash="x",
                                      role="bureau_admin"))

    def add(self, row) -> int:
        self.db.add(row)
        self.db.flush()
        return row.id if hasattr(row, "id") else 0

    def enterprise(self, n: int, district: str | None, industry: str | None, name: str | None = None,
                   size: str = "small") -> int:
        return self.add(Organisation(kind="enterprise", name=name or f"企业{n}", credit_code=credit_code(n),
                                     district=district, industry=industry, size_class=size,
                                     production_type="discrete"))

    def provider(self, name: str) -> int:
        return self.add(Organisation(kind="provider", name=name))

    def diagnosis(self, enterprise: int, provider: int | None, status: str, created: datetime, *,
                  level: int | None = None, score: float | None = None, due: date | None = None,
                  submitted: datetime | None = None, decided: datetime | None = None, rating: int | None = None,
                  reviews: tuple[str, ...] = (), projects: tuple[str, ...] = (),
                  maturities: dict[str, float] | None = None, profile: dict | None = None,
                  answers: dict[str, str] | None = None, kind: str = "diagnosis") -> int:
        a = self.add(Assessment(enterprise_id=enterprise, provider_id=provider, kind=kind, questionnaire_id="cmmm-2020",
                                questionnaire_version="1.0.0", questionnaire_sha256="0" * 64, profile="discrete",
                                status=status, created_at=created, due_date=due, submitted_at=submitted,
                                decided_at=decided, level=level, score=score))
        if rating is not None:
            self.db.add(Confirmation(assessment_id=a, rating=rating))
        for decision in reviews:
            self.db.add(Review(assessment_id=a, decision=decision, reviewer_id=self.reviewer))
        for status_ in projects:
            self.db.add(Project(assessment_id=a, title="MES", status=status_))
        for subdomain, value in (maturities or {}).items():
            self.db.add(Maturity(assessment_id=a, subdomain=subdomain, value=value))
        if profile is not None:
            self.db.add(EnterpriseProfile(assessment_id=a, **profile))
        for item, code in (answers or {}).items():
            self.db.add(Answer(assessment_id=a, item_id=item, code=code))
        self.db.flush()
        return a


def build_hand(store) -> Hand:
    h = Hand()
    with store.write() as db:
        b = Builder(db)
        h.p, h.q = b.provider("服务商P"), b.provider("服务商Q")
        for n, (district, industry) in enumerate((("gusu", "C34"), ("gusu", "C39"), ("kunshan", "C34"),
                                                  ("kunshan", "C34"), ("kunshan", "C39"), ("gusu", "C34")), start=1):
            h.e[f"E{n}"] = b.enterprise(n, district, industry)
        e, d = h.e, h.d
        d["E1A"] = b.diagnosis(e["E1"], h.p, "approved", datetime(2025, 1, 10), level=1, score=1.2,
                               due=date(2025, 2, 10), submitted=datetime(2025, 2, 5), decided=datetime(2025, 2, 20),
                               rating=4, reviews=("approved",), projects=("started",), maturities={"OS": 0.0},
                               answers={"OS.1.1": "partly"})
        d["E1B"] = b.diagnosis(e["E1"], h.p, "approved", datetime(2025, 6, 1), level=2, score=2.1,
                               due=date(2025, 7, 1), submitted=datetime(2025, 7, 1, 15, 0),  # on the due day: on time
                               decided=datetime(2025, 7, 10), rating=5, reviews=("returned", "approved"),
                               projects=("completed", "planned"), maturities={"OS": 2.0, "PU": 1.0, "SC": 3.0},
                               answers={"OS.1.1": "full", "OS.1.2": "na", "PU.1.1": "mostly"})
        d["E2A"] = b.diagnosis(e["E2"], h.p, "confirmed", datetime(2025, 2, 1), level=3, score=3.0,
                               due=date(2025, 3, 1), submitted=datetime(2025, 3, 5), rating=3)
        d["E2B"] = b.diagnosis(e["E2"], h.q, "in_progress", datetime(2025, 7, 1), level=1, score=1.0,  # provisional
                               due=date(2025, 8, 1), answers={"OS.1.1": "none"})
        d["E3A"] = b.diagnosis(e["E3"], h.q, "submitted", datetime(2025, 3, 1, 10, 0), level=0, score=0.5,
                               due=date(2025, 4, 1), submitted=datetime(2025, 3, 20), maturities={"OS": 1.0})
        d["E4A"] = b.diagnosis(e["E4"], None, "requested", datetime(2025, 4, 1))
        d["E5S"] = b.diagnosis(e["E5"], None, "completed", datetime(2025, 8, 1), level=5, score=5.0, kind="self")
        d["E5A"] = b.diagnosis(e["E5"], h.q, "returned", datetime(2025, 4, 10), level=4, score=4.0,
                               due=date(2025, 5, 1), submitted=datetime(2025, 5, 2), decided=datetime(2025, 5, 9),
                               rating=2, reviews=("returned",), maturities={"SA": 4.0})
        d["E6A"] = b.diagnosis(e["E6"], h.q, "approved", datetime(2025, 4, 20), level=1, score=1.1,
                               due=date(2025, 5, 20), submitted=datetime(2025, 5, 10), decided=datetime(2025, 5, 30),
                               rating=4, reviews=("approved",), maturities={"OS": 0.5})
        d["E6B"] = b.diagnosis(e["E6"], h.q, "approved", datetime(2025, 4, 20), level=2, score=2.2,
                               due=date(2025, 5, 20), submitted=datetime(2025, 5, 10), decided=datetime(2025, 5, 31),
                               rating=4, reviews=("approved",), projects=("started",),
                               maturities={"OS": 4.0, "PU": 3.0})
    return h


@pytest.fixture
def hand(store) -> Hand:
    return build_hand(store)


# -- counts and levels ---------------------------------------------------------------------------------------

STATUS_CASES = [
    ("admin", {}, {"requested": 1, "assigned": 0, "in_progress": 1, "submitted": 1, "confirmed": 1, "approved": 4,
                   "returned": 1, "cancelled": 0}),
    ("gusu", {}, {"requested": 0, "assigned": 0, "in_progress": 1, "submitted": 0, "confirmed": 1, "approved": 4,
                  "returned": 0, "cancelled": 0}),
    ("P", {}, {"requested": 0, "assigned": 0, "in_progress": 0, "submitted": 0, "confirmed": 1, "approved": 2,
               "returned": 0, "cancelled": 0}),
    ("admin", {"industry": "C39"}, {"requested": 0, "assigned": 0, "in_progress": 1, "submitted": 0, "confirmed": 1,
                                    "approved": 0, "returned": 1, "cancelled": 0}),
]


def test_status_counts(store, hand):
    for who, filters, want in STATUS_CASES:
        got = analytics.status_counts(store, hand.actor(who), Filters(**filters))
        expect(got, want, f"{who} {filters}")
        assert list(got) == list(want)  # the workflow's order


# (who, filters — a function of the world, counts at levels 0–5, mean S)
LEVEL_CASES = [
    ("admin", lambda h: Filters(), (1, 0, 2, 1, 1, 0), 11.8 / 5),
    ("gusu", lambda h: Filters(), (0, 0, 2, 1, 0, 0), 7.3 / 3),
    ("admin", lambda h: Filters(district="kunshan"), (1, 0, 0, 0, 1, 0), 4.5 / 2),
    ("admin", lambda h: Filters(industry="C39"), (0, 0, 0, 1, 1, 0), 7.0 / 2),
    ("admin", lambda h: Filters(status="approved"), (0, 0, 2, 0, 0, 0), 4.3 / 2),
    ("admin", lambda h: Filters(since=date(2025, 5, 1)), (0, 0, 1, 0, 0, 0), 2.1),
    ("admin", lambda h: Filters(until=date(2025, 3, 1)), (1, 1, 0, 1, 0, 0), 4.7 / 3),  # the until day counts
    ("admin", lambda h: Filters(provider_id=h.q), (1, 0, 1, 0, 1, 0), 6.7 / 3),
    ("admin", lambda h: Filters(size_class="large"), (0, 0, 0, 0, 0, 0), None),
    ("P", lambda h: Filters(), (0, 0, 1, 1, 0, 0), 5.1 / 2),
    ("E1", lambda h: Filters(), (0, 0, 1, 0, 0, 0), 2.1),
]


def test_level_distribution_counts_each_enterprise_once_by_its_latest_scored_diagnosis(store, hand):
    for case, (who, filters, counts, mean) in enumerate(LEVEL_CASES):
        got = analytics.level_distribution(store, hand.actor(who), filters(hand))
        expect((got.counts, got.mean_score), (counts, mean), f"LEVEL_CASES[{case}] {who}")
        total = sum(counts)
        expect(got.shares, tuple(n / total if total else 0.0 for n in counts), f"LEVEL_CASES[{case}] shares")


def test_national_comparison_groups_levels_like_the_national_figures(store, hand):
    comparison = analytics.national_comparison(analytics.level_distribution(store, hand.actor("admin")))
    expect([(c.group.code, c.count, c.share, c.national) for c in comparison],
           [("le1", 1, 0.2, {2021: 0.69, 2022: 0.63}), ("l2", 2, 0.4, {2021: 0.15, 2022: 0.21}),
            ("l3", 1, 0.2, {2021: 0.07, 2022: 0.12}), ("ge4", 1, 0.2, {2021: 0.09, 2022: 0.04})])
    for shares in analytics.NATIONAL.values():
        assert math.isclose(sum(shares), 1.0)


BY_CASES = [
    ("admin", "district", [("gusu", (0, 0, 2, 1, 0, 0), 7.3 / 3), ("kunshan", (1, 0, 0, 0, 1, 0), 2.25)]),
    ("admin", "industry", [("C34", (1, 0, 2, 0, 0, 0), 4.8 / 3), ("C39", (0, 0, 0, 1, 1, 0), 3.5)]),
    ("gusu", "district", [("gusu", (0, 0, 2, 1, 0, 0), 7.3 / 3)]),
    ("gusu", "industry", [("C34", (0, 0, 2, 0, 0, 0), 2.15), ("C39", (0, 0, 0, 1, 0, 0), 3.0)]),
]


def test_levels_by_district_and_by_industry(store, hand):
    for who, by, want in BY_CASES:
        function = analytics.levels_by_district if by == "district" else analytics.levels_by_industry
        rows = function(store, hand.actor(who))
        expect([(r.key, r.counts, r.mean_score) for r in rows], want, f"{who} by {by}")


DOMAIN_CASES = [
    ("admin", "district", [("gusu", 2, {"ORG": 3.0, "PRD": 7 / 3}), ("kunshan", 2, {"ORG": 1.0, "SAL": 4.0})]),
    ("admin", "industry", [("C34", 3, {"ORG": 7 / 3, "PRD": 7 / 3}), ("C39", 1, {"SAL": 4.0})]),
    ("gusu", "district", [("gusu", 2, {"ORG": 3.0, "PRD": 7 / 3})]),
]


def test_domain_means_average_the_maturity_rows_of_each_domain(store, hand):
    for who, by, want in DOMAIN_CASES:
        table = analytics.domain_means(store, hand.actor(who), by=by)
        assert len(table.domains) == 12
        got = [(row.key, row.enterprises, {d: v for d, v in row.means.items() if v is not None})
               for row in table.rows]
        expect(got, want, f"{who} by {by}")


# -- the enterprise list -------------------------------------------------------------------------------------

ENTERPRISE_COLUMNS = ("status", "level", "score", "provider", "created_at", "submitted_at", "approved_at",
                      "projects_started")


def test_enterprise_rows_one_per_enterprise(store, hand):
    rows = list(analytics.enterprise_rows(store, hand.actor("admin"), batch=2))
    assert [r.enterprise_id for r in rows] == [hand.e[f"E{n}"] for n in range(1, 7)]
    assert analytics.enterprise_count(store, hand.actor("admin")) == 6
    want = {
        "E1": ("approved", 2, 2.1, "服务商P", datetime(2025, 6, 1), datetime(2025, 7, 1, 15), datetime(2025, 7, 10), 2),
        "E2": ("confirmed", 3, 3.0, "服务商P", datetime(2025, 2, 1), datetime(2025, 3, 5), None, 0),
        "E3": ("submitted", 0, 0.5, "服务商Q", datetime(2025, 3, 1, 10), datetime(2025, 3, 20), None, 0),
        "E4": ("requested", None, None, None, datetime(2025, 4, 1), None, None, 0),
        "E5": ("returned", 4, 4.0, "服务商Q", datetime(2025, 4, 10), datetime(2025, 5, 2), None, 0),
        "E6": ("approved", 2, 2.2, "服务商Q", datetime(2025, 4, 20), datetime(2025, 5, 10), datetime(2025, 5, 31), 1),
    }
    by_id = {r.enterprise_id: r for r in rows}
    for name, values in want.items():
        row = by_id[hand.e[name]]
        expect(tuple(getattr(row, c) for c in ENTERPRISE_COLUMNS), values, name)
        assert (row.name, row.credit_code) == (f"企业{name[1]}", credit_code(int(name[1])))


LIST_CASES = [
    ("gusu", lambda h: Filters(), ["E1", "E2", "E6"]),
    ("P", lambda h: Filters(), ["E1", "E2"]),
    ("E1", lambda h: Filters(), ["E1"]),
    ("admin", lambda h: Filters(district="kunshan"), ["E3", "E4", "E5"]),
    ("admin", lambda h: Filters(provider_id=h.q), ["E2", "E3", "E5", "E6"]),  # only those with such a diagnosis
    ("admin", lambda h: Filters(status="requested"), ["E4"]),
]


def test_enterprise_rows_follow_scope_and_filters(store, hand):
    names = {enterprise_id: name for name, enterprise_id in hand.e.items()}
    for case, (who, filters, want) in enumerate(LIST_CASES):
        rows = list(analytics.enterprise_rows(store, hand.actor(who), filters(hand)))
        expect([names[r.enterprise_id] for r in rows], want, f"LIST_CASES[{case}] {who}")
        expect(analytics.enterprise_count(store, hand.actor(who), filters(hand)), len(want), f"LIST_CASES[{case}]")
    # With a diagnosis filter, the row describes the diagnosis that passes it.
    rows = list(analytics.enterprise_rows(store, hand.actor("admin"), Filters(provider_id=hand.q)))
    e2 = next(r for r in rows if r.enterprise_id == hand.e["E2"])
    expect((e2.assessment_id, e2.status, e2.level, e2.provider), (hand.d["E2B"], "in_progress", None, "服务商Q"))


# -- providers and tiers -------------------------------------------------------------------------------------

PROVIDER_FIELDS = ("assigned", "submitted", "due", "on_time", "decided", "approved", "returned", "ratings",
                   "mean_rating", "approved_enterprises", "enterprises_with_projects", "on_time_rate",
                   "approval_rate", "return_rate", "project_rate", "composite", "tier")
PROVIDER_CASES = [
    ("admin", lambda h: Filters(), {
        "服务商P": (3, 3, 3, 2, 2, 2, 1, 3, 4.0, 1, 1, 2 / 3, 1.0, 0.5, 1.0, (2 / 3 + 1 + 0.5 + 0.75 + 1) / 5, None),
        "服务商Q": (5, 4, 4, 3, 3, 2, 1, 3, 10 / 3, 1, 1, 0.75, 2 / 3, 1 / 3, 1.0,
                 (0.75 + 2 / 3 + 2 / 3 + 7 / 12 + 1) / 5, None)}),
    ("P", lambda h: Filters(), {
        "服务商P": (3, 3, 3, 2, 2, 2, 1, 3, 4.0, 1, 1, 2 / 3, 1.0, 0.5, 1.0, (2 / 3 + 1 + 0.5 + 0.75 + 1) / 5, None)}),
    ("gusu", lambda h: Filters(provider_id=h.q), {  # E2B (in progress), E6A, E6B
        "服务商Q": (3, 2, 2, 2, 2, 2, 0, 2, 4.0, 1, 1, 1.0, 1.0, 0.0, 1.0, (1 + 1 + 1 + 0.75 + 1) / 5, None)}),
]


def test_provider_performance(store, hand):
    for case, (who, filters, want) in enumerate(PROVIDER_CASES):
        rows = analytics.provider_performance(store, hand.actor(who), filters(hand))
        got = {r.name: tuple(getattr(r, f) for f in PROVIDER_FIELDS) for r in rows}
        expect(got, want, f"PROVIDER_CASES[{case}] {who}")


def test_tiers_are_given_only_to_providers_with_five_decided_diagnoses(store):
    """T1 approves 5 of 5, T2 4 of 5, T3 3 of 5 (the rest returned); T4 has only 4 decided. No due dates,
    ratings or projects, so the composite is the mean of approval rate, 1 − return rate and the project share 0."""
    with store.write() as db:
        b = Builder(db)
        enterprise = b.enterprise(1, "gusu", "C34")
        ids = {}
        for name, approved, decided in (("T1", 5, 5), ("T2", 4, 5), ("T3", 3, 5), ("T4", 4, 4)):
            ids[name] = b.provider(name)
            for k in range(decided):
                status = "approved" if k < approved else "returned"
                b.diagnosis(enterprise, ids[name], status, datetime(2025, 1, 1 + k), level=1, score=1.0,
                            reviews=(status,))
    admin = Actor(0, "admin", "bureau_admin", None)
    rows = analytics.provider_performance(store, admin)
    expect([(r.name, r.decided, r.composite, r.tier) for r in rows],
           [("T1", 5, 2 / 3, "top"), ("T2", 5, 1.6 / 3, "middle"), ("T3", 5, 1.2 / 3, "bottom"),
            ("T4", 4, 2 / 3, None)])
    wide = analytics.provider_performance(store, admin, cuts=TierCuts(top=0.5, middle=0.5))
    expect([r.tier for r in wide], ["top", "top", "middle", None])


TIER_CASES = [
    ("ten, default cut-offs", list(range(10, 0, -1)), TierCuts(), "TTTMMMMMBB"),
    ("eight", list(range(8, 0, -1)), TierCuts(), "TTMMMMBB"),
    ("five", [5, 4, 3, 2, 1], TierCuts(), "TTMMB"),
    ("one", [1], TierCuts(), "M"),
    ("a tie never splits", [9, 8, 7, 7, 6, 5, 4, 3, 2, 1], TierCuts(), "TTTTMMMMBB"),
    ("ties at the bottom", [5, 4, 3, 1, 1], TierCuts(), "TTMMM"),
    ("halves", [4, 3, 2, 1], TierCuts(top=0.5, middle=0.0), "TTBB"),
]


@pytest.mark.parametrize(("case", "scores", "cuts", "want"), TIER_CASES)
def test_assign_tiers(case, scores, cuts, want):
    tiers = analytics.assign_tiers(dict(enumerate(map(float, scores))), cuts)
    assert "".join(tiers[k][0].upper() for k in range(len(scores))) == want, case


def test_bad_filters_and_cut_offs_are_refused():
    with pytest.raises(InputError, match="status"):
        Filters(status="done")
    with pytest.raises(InputError, match="since"):
        Filters(since=date(2025, 2, 1), until=date(2025, 1, 1))
    with pytest.raises(InputError, match="until"):
        Filters(until="2025-01-01")
    with pytest.raises(InputError, match="cut-offs"):
        TierCuts(top=0.6, middle=0.6)


def test_an_actor_is_required(store):
    with pytest.raises(TypeError):
        analytics.level_distribution(store, None)


# -- peers ---------------------------------------------------------------------------------------------------


def test_peer_figures_need_five_peers(store):
    """The enterprise's peers are the other enterprises of gusu × C34 with a scored diagnosis; each gets level
    k − 1 and rates from its latest diagnosis. Noise that must not count: another district, another industry,
    an unscored diagnosis, an older diagnosis of a peer, the enterprise itself."""
    rates = [(10.0, 1.0, 5.0), (20.0, 2.0, 1.0), (30.0, 3.0, 9.0), (40.0, 4.0, 3.0), (50.0, None, 7.0),
             (60.0, 6.0, 2.0)]
    with store.write() as db:
        b = Builder(db)
        own = b.enterprise(100, "gusu", "C34")
        own_diagnosis = b.diagnosis(own, None, "approved", datetime(2025, 3, 1), level=5, score=5.0,
                                    profile={"networking_rate": 99.0, "data_collection_rate": 99.0, "nc_rate": 99.0})
        for n, (district, industry, status) in enumerate((("kunshan", "C34", "approved"), ("gusu", "C39", "approved"),
                                                          ("gusu", "C34", "in_progress")), start=101):
            b.diagnosis(b.enterprise(n, district, industry), None, status, datetime(2025, 3, 1), level=4, score=4.0,
                        profile={"networking_rate": 99.0, "data_collection_rate": 99.0, "nc_rate": 99.0})
    peers = []

    def add_peer(k: int) -> None:
        networking, collection, nc = rates[k]
        with store.write() as db:
            b = Builder(db)
            peer = b.enterprise(200 + k, "gusu", "C34")
            b.diagnosis(peer, None, "approved", datetime(2024, 1, 1), level=5, score=5.0,
                        profile={"networking_rate": 99.0, "data_collection_rate": 99.0, "nc_rate": 99.0})
            b.diagnosis(peer, None, "approved", datetime(2025, 1, 1), level=k, score=float(k),
                        profile={"networking_rate": networking, "data_collection_rate": collection, "nc_rate": nc})
        peers.append(peer)

    for k in range(4):
        add_peer(k)
    assert analytics.peer_stats(store, own, own_diagnosis) is None  # 4 peers: nothing
    add_peer(4)
    stats = analytics.peer_stats(store, own, own_diagnosis)
    expect((stats.count, stats.levels, stats.medians),
           (5, (1, 1, 1, 1, 1, 0), {"networking_rate": 30.0, "data_collection_rate": None, "nc_rate": 5.0}))
    expect(stats.shares, (0.2, 0.2, 0.2, 0.2, 0.2, 0.0))
    add_peer(5)
    stats = analytics.peer_stats(store, own, own_diagnosis)
    expect((stats.count, stats.levels, stats.medians),
           (6, (1, 1, 1, 1, 1, 1), {"networking_rate": 35.0, "data_collection_rate": 3.0, "nc_rate": 4.0}))
    with pytest.raises(InputError):
        analytics.peer_stats(store, peers[0], own_diagnosis)


# -- demo data: shapes ---------------------------------------------------------------------------------------


def test_shapes_on_demo_data(store):
    generate(store, 300, progress=lambda _: None)
    admin = Actor(0, "admin", "bureau_admin", None)
    with store.read() as db:
        diagnoses = db.scalar(select(func.count()).select_from(Assessment).where(Assessment.kind == "diagnosis"))
        scored = db.scalar(select(func.count(func.distinct(Assessment.enterprise_id))).where(
            Assessment.level.is_not(None), Assessment.status.in_(analytics.SCORED_STATUSES)))
        gusu = db.scalar(select(func.count()).select_from(Organisation).where(Organisation.kind == "enterprise",
                                                                            Organisation.district == "gusu"))
    assert sum(analytics.status_counts(store, admin).values()) == diagnoses
    overall = analytics.level_distribution(store, admin)
    assert overall.total == scored
    assert math.isclose(sum(overall.shares), 1.0)
    for function in (analytics.levels_by_district, analytics.levels_by_industry):
        rows = function(store, admin)
        assert tuple(map(sum, zip(*(r.counts for r in rows), strict=True))) == overall.counts
    assert [r.key for r in analytics.levels_by_district(store, admin)] == [
        "gusu", "snd", "wuzhong", "xiangcheng", "wujiang", "sip", "changshu", "zhangjiagang", "kunshan", "taicang"]
    tables = analytics.domain_tables(store, admin)
    for table in tables.values():
        assert sum(r.enterprises for r in table.rows) == scored
        assert all(0 <= v <= 5 for r in table.rows for v in r.means.values() if v is not None)
    rows = list(analytics.enterprise_rows(store, admin))
    assert len(rows) == 300 == analytics.enterprise_count(store, admin)
    assert len({r.enterprise_id for r in rows}) == 300
    assert sum(r.level is not None for r in rows) == scored
    providers = analytics.provider_performance(store, admin)
    assert len(providers) == 8
    tiered = [r.tier for r in providers if r.tier]
    assert tiered == sorted(tiered, key=analytics.TIERS.index)
    assert tiered.count("top") == math.floor(len(tiered) * 0.3 + 0.5)
    # An analyst scoped to one district sees only it, and the same figures as the bureau does there.
    analyst = Actor(0, "analyst", "bureau_analyst", None, ("gusu",))
    assert [r.key for r in analytics.levels_by_district(store, analyst)] == ["gusu"]
    assert analytics.level_distribution(store, analyst).counts == analytics.levels_by_district(store, admin)[0].counts
    assert {r.district for r in analytics.enterprise_rows(store, analyst)} == {"gusu"}
    assert analytics.enterprise_count(store, analyst) == gusu
    assert [r.key for r in analytics.domain_means(store, analyst).rows] == ["gusu"]
