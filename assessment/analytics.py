"""What the bureau (工信局) sees of the diagnoses as a whole: counts, level distributions, domain averages,
the enterprise list, provider performance and tiers, and the peer figures of a diagnostic report.

Every aggregate runs in the database (SQL GROUP BY and window functions through SQLAlchemy Core), one code
path for SQLite and PostgreSQL; Python only reshapes the few grouped rows that come back. Every public
function takes ``(db, actor, filters)``: ``db`` is a Session or a Store, and every query is narrowed by
``permissions.scope`` (or ``scope_enterprises``) to what the actor may read, so an analyst scoped to some
districts sees only those.

The rules:

- Only diagnoses (``kind == "diagnosis"``) count; self-assessments are the enterprise's own business.
- ``Filters``: ``district``, ``industry`` and ``size_class`` select enterprises; ``provider_id`` and ``status``
  select diagnoses; ``since`` / ``until`` (dates, both inclusive) select diagnoses by the day they were created.
- **Latest diagnosis.** For level distributions, domain averages and peer figures each enterprise counts once,
  with its *latest scored diagnosis*: among its diagnoses that pass the filters and carry a handed-in level
  (``level`` set and status submitted, confirmed, returned or approved — an in-progress diagnosis has only a
  provisional level), the one created last; equal ``created_at`` → the higher id.
- National reference figures (DESIGN.md §2, CESI self-diagnosis platform) are data here (``NATIONAL``), compared
  through ``LEVEL_GROUPS``: ≤ level 1 (levels 0 and 1) / level 2 / level 3 / ≥ level 4 (levels 4 and 5).
- The enterprise list has one row per enterprise the actor may read, describing its latest scored diagnosis (or,
  without one, its latest diagnosis of any status); see ``enterprise_rows``.
- Provider performance: diagnoses assigned; on-time rate = handed in on or before the due date (by day) / handed
  in with a due date; approval rate = approved / decided (diagnoses with at least one review); return rate =
  returned reviews / decided; mean rating of the confirmations; project share = enterprises with an approved
  diagnosis by the provider that started (or completed) a project recommended there / enterprises with an
  approved diagnosis by it. Tiers: see ``provider_performance`` and ``composite_score``.
- Peer figures (``peer_stats``) are never shown over fewer than MIN_PEERS = 5 other enterprises.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import ColumnElement, Select, Subquery, and_, case, extract, func, select
from sqlalchemy.orm import Session, aliased

from assessment import reference
from assessment.accounts import Actor
from assessment.db import Store
from assessment.errors import QuestionnaireError
from assessment.inputs import InputError
from assessment.models import Assessment, Confirmation, EnterpriseProfile, Maturity, Organisation, Project, Review
from assessment.permissions import scope, scope_enterprises
from assessment.questionnaire import by_id
from assessment.workflow import DIAGNOSIS, STATUSES

LEVELS = (0, 1, 2, 3, 4, 5)  # 0: below level 1 (未达到一级)
SCORED_STATUSES = ("submitted", "confirmed", "returned", "approved")  # a diagnosis whose level was handed in
STARTED_PROJECT = ("started", "completed")
DEFAULT_QUESTIONNAIRE = "cmmm-2020"
MIN_PEERS = 5  # peer figures are shown only over at least this many other enterprises
MIN_DECIDED_FOR_TIER = 5  # a provider is tiered only with at least this many decided diagnoses
PEER_RATES = ("networking_rate", "data_collection_rate", "nc_rate")


@dataclass(frozen=True)
class LevelGroup:
    code: str
    levels: tuple[int, ...]
    zh: str
    en: str

    def label(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh


# How the national figures group levels; NATIONAL gives the share of enterprises in each group, in this order.
LEVEL_GROUPS = (
    LevelGroup("le1", (0, 1), "一级及以下", "≤ level 1"),
    LevelGroup("l2", (2,), "二级", "level 2"),
    LevelGroup("l3", (3,), "三级", "level 3"),
    LevelGroup("ge4", (4, 5), "四级及以上", "≥ level 4"),
)
NATIONAL = {  # DESIGN.md §2: national self-diagnosis results (CESI platform), share of enterprises
    2021: (0.69, 0.15, 0.07, 0.09),
    2022: (0.63, 0.21, 0.12, 0.04),
}
NATIONAL_SOURCE = "CESI national self-diagnosis platform (DESIGN.md §2)"


# -- filters and sessions -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    """What to look at. Empty fields do not filter."""

    district: str | None = None
    industry: str | None = None
    size_class: str | None = None
    provider_id: int | None = None
    status: str | None = None
    since: date | None = None  # diagnoses created on or after this day
    until: date | None = None  # diagnoses created on or before this day

    def __post_init__(self) -> None:
        problems, codes = [], []  # each English line, and its code and parameters (the interface's words)

        def problem(message: str, code: str, field: str, **params) -> None:
            problems.append(message)
            codes.append((code, {"field": field, **params}))

        for name, lookup, known in (("district", reference.district, reference.districts),
                                    ("industry", reference.industry, reference.industries)):
            value = getattr(self, name)
            if value is not None:
                try:
                    lookup(value)
                except KeyError as exc:  # the valid codes too: a command line has no list to choose from
                    problem(f"{name}: {exc.args[0]} (one of {', '.join(c.code for c in known())})",
                            "form.unknown_choice", name)
        if self.size_class is not None and self.size_class not in {c.code for c in reference.SIZE_CLASSES}:
            problem(f"size_class: {self.size_class!r} is not one of "
                    f"{', '.join(c.code for c in reference.SIZE_CLASSES)}", "form.unknown_choice", "size_class")
        if self.status is not None and self.status not in STATUSES[DIAGNOSIS]:
            problem(f"status: {self.status!r} is not a diagnosis status ({', '.join(STATUSES[DIAGNOSIS])})",
                    "form.unknown_choice", "status")
        for name in ("since", "until"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, date) or isinstance(value, datetime)):
                problem(f"{name}: a date is needed, not {value!r}", "form.not_a_date", name)
        if not problems and self.since and self.until and self.since > self.until:
            problem(f"since: {self.since} is after until: {self.until}", "filter_dates", "since",
                    since=self.since.isoformat(), until=self.until.isoformat())
        if problems:
            raise InputError(problems, problems=codes)

    @property
    def selects_diagnoses(self) -> bool:
        """Whether a filter on the diagnoses themselves is set (not only on the enterprises)."""
        return any(v is not None for v in (self.provider_id, self.status, self.since, self.until))

    def enterprise_conditions(self) -> list[ColumnElement[bool]]:
        pairs = ((Organisation.district, self.district), (Organisation.industry, self.industry),
                 (Organisation.size_class, self.size_class))
        return [column == value for column, value in pairs if value is not None]

    def diagnosis_conditions(self) -> list[ColumnElement[bool]]:
        conditions = [column == value for column, value in ((Assessment.provider_id, self.provider_id),
                                                            (Assessment.status, self.status)) if value is not None]
        if self.since is not None:
            conditions.append(Assessment.created_at >= datetime.combine(self.since, time.min))
        if self.until is not None:
            conditions.append(Assessment.created_at < datetime.combine(self.until + timedelta(days=1), time.min))
        return conditions


NO_FILTERS = Filters()
_UNSCOPED = object()  # internal only: peer figures are aggregates over ≥ MIN_PEERS, shown to whoever reads the report


@contextmanager
def reading(db: Session | Store) -> Iterator[Session]:
    """A session: ``db`` itself, or a read session of the store ``db`` for the duration of the block."""
    if isinstance(db, Session):
        yield db
    else:
        with db.read() as session:
            yield session


def _diagnoses(actor: Actor | object, filters: Filters, *columns: Any) -> Select:
    """A select over the diagnoses (joined with their enterprise) the actor may read that pass the filters."""
    query = (select(*columns).select_from(Assessment)
             .join(Organisation, Organisation.id == Assessment.enterprise_id)
             .where(Assessment.kind == DIAGNOSIS))
    if actor is not _UNSCOPED:
        if not isinstance(actor, Actor):
            raise TypeError(f"an Actor is needed, not {actor!r}")
        query = scope(actor, query)
    return query.where(*filters.enterprise_conditions(), *filters.diagnosis_conditions())


def scoped_diagnoses(actor: Actor, filters: Filters = NO_FILTERS, *columns: Any) -> Select:
    """A select of ``columns`` over the diagnoses (Assessment joined with its enterprise as Organisation) that
    ``actor`` may read and that pass ``filters``; for other modules' queries (the exports)."""
    if not isinstance(actor, Actor):
        raise TypeError(f"an Actor is needed, not {actor!r}")
    return _diagnoses(actor, filters, *columns)


def _scored() -> ColumnElement[bool]:
    return and_(Assessment.level.is_not(None), Assessment.status.in_(SCORED_STATUSES))


def _newest_first() -> tuple:
    return Assessment.created_at.desc(), Assessment.id.desc()


def _latest(actor: Actor | object, filters: Filters, *where: ColumnElement[bool]) -> Subquery:
    """Each enterprise's latest scored diagnosis (see the module's rules): one row per enterprise."""
    ranked = _diagnoses(
        actor, filters,
        Assessment.id.label("assessment_id"), Assessment.enterprise_id.label("enterprise_id"),
        Assessment.level.label("level"), Assessment.score.label("score"),
        Assessment.questionnaire_id.label("questionnaire_id"),
        Assessment.questionnaire_version.label("questionnaire_version"), Assessment.profile.label("profile"),
        Organisation.district.label("district"), Organisation.industry.label("industry"),
        func.row_number().over(partition_by=Assessment.enterprise_id, order_by=_newest_first()).label("rank"),
    ).where(_scored(), *where).subquery("ranked")
    return select(ranked).where(ranked.c.rank == 1).subquery("latest")


# -- counts and level distributions ---------------------------------------------------------------------------


def status_counts(db: Session | Store, actor: Actor, filters: Filters = NO_FILTERS) -> dict[str, int]:
    """Diagnoses by status, every status of the workflow in its order (zeros included)."""
    query = _diagnoses(actor, filters, Assessment.status, func.count()).group_by(Assessment.status)
    with reading(db) as session:
        found = dict(session.execute(query).all())
    counts = dict.fromkeys(STATUSES[DIAGNOSIS], 0)
    counts.update(found)
    return counts


@dataclass(frozen=True)
class LevelCounts:
    """How many enterprises are at each level 0–5 (by their latest scored diagnosis), for one group."""

    key: str | None  # the district or industry code; None for the whole selection
    counts: tuple[int, ...]  # enterprises at levels 0, 1, …, 5
    mean_score: float | None  # mean S
    # Every diagnosis counted was scored with official weights (vacuously so when none is counted). Where not, a
    # comparison with the national distribution is only indicative.
    weights_official: bool = True

    @property
    def total(self) -> int:
        return sum(self.counts)

    @property
    def shares(self) -> tuple[float, ...]:
        return tuple(n / self.total if self.total else 0.0 for n in self.counts)

    @property
    def grouped(self) -> tuple[int, ...]:
        """Counts in the national figures' groups (LEVEL_GROUPS)."""
        return tuple(sum(self.counts[level] for level in group.levels) for group in LEVEL_GROUPS)

    @property
    def grouped_shares(self) -> tuple[float, ...]:
        return tuple(n / self.total if self.total else 0.0 for n in self.grouped)


@dataclass(frozen=True)
class NationalComparison:
    group: LevelGroup
    count: int
    share: float
    national: dict[int, float]  # year → national share


def level_distribution(db: Session | Store, actor: Actor, filters: Filters = NO_FILTERS) -> LevelCounts:
    """Enterprises at each level 0–5 (latest scored diagnosis each), with shares and the mean S."""
    rows = _level_rows(db, actor, filters, None)
    return rows[0] if rows else LevelCounts(None, (0,) * len(LEVELS), None)


def national_comparison(distribution: LevelCounts) -> list[NationalComparison]:
    """The distribution beside the national figures of every year in NATIONAL, group by group."""
    return [NationalComparison(group, count, share, {year: shares[k] for year, shares in NATIONAL.items()})
            for k, (group, count, share) in enumerate(zip(LEVEL_GROUPS, distribution.grouped,
                                                          distribution.grouped_shares, strict=True))]


def levels_by_district(db: Session | Store, actor: Actor, filters: Filters = NO_FILTERS) -> list[LevelCounts]:
    """One LevelCounts per district with scored enterprises, in the order of the district list."""
    return _level_rows(db, actor, filters, "district")


def levels_by_industry(db: Session | Store, actor: Actor, filters: Filters = NO_FILTERS) -> list[LevelCounts]:
    """One LevelCounts per industry with scored enterprises, in code order."""
    return _level_rows(db, actor, filters, "industry")


def _level_rows(db: Session | Store, actor: Actor, filters: Filters, by: str | None) -> list[LevelCounts]:
    latest = _latest(actor, filters)
    keys = [latest.c[by]] if by else []
    # What each diagnosis was scored with says whether its weights were official (a handful of groups more).
    scored_with = [latest.c.questionnaire_id, latest.c.questionnaire_version, latest.c.profile]
    query = (select(*keys, latest.c.level, *scored_with, func.count(), func.sum(latest.c.score))
             .group_by(*keys, latest.c.level, *scored_with))
    counts: dict[str | None, list[int]] = defaultdict(lambda: [0] * len(LEVELS))
    sums: dict[str | None, float] = defaultdict(float)
    provisional: set[str | None] = set()
    official: dict[tuple[str, str, str], bool] = {}
    with reading(db) as session:
        for *key, level, questionnaire_id, version, profile, count, total in session.execute(query):
            group = key[0] if by else None
            counts[group][int(level)] += count
            sums[group] += float(total or 0.0)
            pinned = (questionnaire_id, version, profile)
            if pinned not in official:
                official[pinned] = weights_official(*pinned)
            if not official[pinned]:
                provisional.add(group)
    return [LevelCounts(key, tuple(counts[key]), sums[key] / sum(counts[key]) if sum(counts[key]) else None,
                        weights_official=key not in provisional)
            for key in _ordered(counts, by)]


def weights_official(questionnaire_id: str, version: str, profile: str) -> bool:
    """Whether diagnoses scored with this version of a questionnaire under ``profile`` had official weights. A
    version no longer installed counts as provisional: nothing vouches for its weights."""
    try:
        return by_id(questionnaire_id, version).weights_official.get(profile, False)
    except QuestionnaireError:
        return False


def _ordered(keys, by: str | None) -> list:
    """District keys in the order of the district list, industry keys in code order; unknown ones last."""
    position = {d.code: k for k, d in enumerate(reference.districts())} if by == "district" else {}
    return sorted(keys, key=lambda key: (key is None, position.get(key, len(position)), key or ""))


# -- domain averages ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DomainRow:
    key: str | None  # district or industry code
    enterprises: int  # enterprises whose latest scored diagnosis has maturities
    means: dict[str, float | None]  # domain code → mean maturity (0–5)


@dataclass(frozen=True)
class DomainMeans:
    by: str  # "district" | "industry"
    domains: tuple[str, ...]  # domain codes in questionnaire order
    rows: list[DomainRow] = field(default_factory=list)


def domain_means(db: Session | Store, actor: Actor, filters: Filters = NO_FILTERS, *, by: str = "district",
                 questionnaire_id: str = DEFAULT_QUESTIONNAIRE) -> DomainMeans:
    """Mean maturity (0–5) per domain and district (or industry): the mean of the maturity rows of the domain's
    subdomains over the latest scored diagnoses (those scored with ``questionnaire_id``)."""
    if by not in ("district", "industry"):
        raise ValueError(f"by: 'district' or 'industry', not {by!r}")
    return domain_tables(db, actor, filters, questionnaire_id=questionnaire_id)[by]


def domain_tables(db: Session | Store, actor: Actor, filters: Filters = NO_FILTERS, *,
                  questionnaire_id: str = DEFAULT_QUESTIONNAIRE) -> dict[str, DomainMeans]:
    """``domain_means`` by district and by industry from one pass over the maturities: the database sums the
    rows per district × industry × domain, and since every enterprise lies in exactly one district × industry
    cell, sums, row counts and enterprise counts add up exactly to either margin."""
    q = by_id(questionnaire_id)
    latest = _latest(actor, filters)
    rows = (select(latest.c.district, latest.c.industry, latest.c.assessment_id,
                   case({sd.code: sd.domain for sd in q.subdomains}, value=Maturity.subdomain).label("domain"),
                   Maturity.value)
            .select_from(latest).join(Maturity, Maturity.assessment_id == latest.c.assessment_id)
            .where(latest.c.questionnaire_id == q.id)
            .subquery("rows"))
    query = (select(rows.c.district, rows.c.industry, rows.c.domain, func.sum(rows.c.value), func.count(rows.c.value),
                    func.count(func.distinct(rows.c.assessment_id)))
             .group_by(rows.c.district, rows.c.industry, rows.c.domain))
    domains = tuple(d.code for d in q.domains)
    sums: dict[tuple[str, str | None], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    counts: dict[tuple[str, str | None], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    cells: dict[tuple[str | None, str | None], int] = defaultdict(int)  # enterprises per district × industry
    with reading(db) as session:
        for district, industry, domain, total, n, assessments in session.execute(query):
            for key in (("district", district), ("industry", industry)):
                sums[key][domain] += float(total)
                counts[key][domain] += n
            cells[district, industry] = max(cells[district, industry], assessments)
    tables = {}
    for position, by in enumerate(("district", "industry")):
        enterprises: dict[str | None, int] = defaultdict(int)
        for cell, n in cells.items():
            enterprises[cell[position]] += n
        tables[by] = DomainMeans(by, domains, [
            DomainRow(key, enterprises[key], {d: sums[by, key][d] / counts[by, key][d] if counts[by, key][d] else None
                                              for d in domains})
            for key in _ordered(enterprises, by)])
    return tables


def domain_means_by_district(db: Session | Store, actor: Actor, filters: Filters = NO_FILTERS) -> DomainMeans:
    return domain_means(db, actor, filters, by="district")


def domain_means_by_industry(db: Session | Store, actor: Actor, filters: Filters = NO_FILTERS) -> DomainMeans:
    return domain_means(db, actor, filters, by="industry")


# -- the enterprise list --------------------------------------------------------------------------------------


class EnterpriseRow(NamedTuple):
    """One enterprise and the diagnosis that describes it: its latest scored diagnosis, or, when it has none, its
    latest diagnosis of any status (then ``level`` and ``score`` are empty)."""

    enterprise_id: int
    name: str
    credit_code: str | None
    district: str | None
    industry: str | None
    size_class: str | None
    assessment_id: int | None
    status: str | None
    level: int | None
    score: float | None
    provider: str | None  # the provider's name
    created_at: datetime | None
    submitted_at: datetime | None
    approved_at: datetime | None
    projects_started: int  # recommended projects started or completed, over all its diagnoses


def enterprise_rows(db: Session | Store, actor: Actor, filters: Filters = NO_FILTERS, *,
                    batch: int = 2_000) -> Iterator[EnterpriseRow]:
    """One row per enterprise the actor may read, in id order, streamed from the database ``batch`` rows at a
    time (a server-side cursor on PostgreSQL), so 100,000 enterprises never sit in memory.

    Enterprises without any diagnosis are listed too, unless a diagnosis filter (provider, status, dates) is
    set: then only enterprises with a diagnosis that passes it."""
    scored = _scored()
    ranked = _diagnoses(
        actor, filters,
        Assessment.id.label("assessment_id"), Assessment.enterprise_id.label("enterprise_id"),
        Assessment.status.label("status"),
        case((scored, Assessment.level)).label("level"), case((scored, Assessment.score)).label("score"),
        Assessment.provider_id.label("provider_id"), Assessment.created_at.label("created_at"),
        Assessment.submitted_at.label("submitted_at"),
        case((Assessment.status == "approved", Assessment.decided_at)).label("approved_at"),
        func.row_number().over(partition_by=Assessment.enterprise_id,
                               order_by=(case((scored, 1), else_=0).desc(), *_newest_first())).label("rank"),
    ).subquery("ranked")
    latest = select(ranked).where(ranked.c.rank == 1).subquery("described")
    projects = (_diagnoses(actor, filters, Assessment.enterprise_id.label("enterprise_id"),
                           func.count(Project.id).label("started"))
                .join(Project, Project.assessment_id == Assessment.id)
                .where(Project.status.in_(STARTED_PROJECT))
                .group_by(Assessment.enterprise_id).subquery("projects"))
    provider = aliased(Organisation, name="provider")
    query = (select(Organisation.id, Organisation.name, Organisation.credit_code, Organisation.district,
                    Organisation.industry, Organisation.size_class, latest.c.assessment_id, latest.c.status,
                    latest.c.level, latest.c.score, provider.name, latest.c.created_at, latest.c.submitted_at,
                    latest.c.approved_at, func.coalesce(projects.c.started, 0))
             .select_from(Organisation)
             .join(latest, latest.c.enterprise_id == Organisation.id, isouter=not filters.selects_diagnoses)
             .outerjoin(provider, provider.id == latest.c.provider_id)
             .outerjoin(projects, projects.c.enterprise_id == Organisation.id)
             .where(Organisation.kind == "enterprise", *filters.enterprise_conditions())
             .order_by(Organisation.id))
    query = scope_enterprises(actor, query)
    with reading(db) as session:
        for row in session.execute(query.execution_options(yield_per=batch)):
            yield EnterpriseRow(*row)


def enterprise_count(db: Session | Store, actor: Actor, filters: Filters = NO_FILTERS) -> int:
    """How many rows ``enterprise_rows`` yields."""
    query = select(func.count()).select_from(Organisation).where(Organisation.kind == "enterprise",
                                                                 *filters.enterprise_conditions())
    if filters.selects_diagnoses:
        query = query.where(Organisation.id.in_(_diagnoses(actor, filters, Assessment.enterprise_id)))
    with reading(db) as session:
        return session.scalar(scope_enterprises(actor, query))


# -- provider performance and tiers --------------------------------------------------------------------------


@dataclass(frozen=True)
class TierCuts:
    """Shares of the tiered providers in the top and middle tiers; the bottom tier takes the rest."""

    top: float = 0.30
    middle: float = 0.50

    def __post_init__(self) -> None:
        if not (0 <= self.top <= 1 and 0 <= self.middle <= 1 and self.top + self.middle <= 1 + 1e-9):
            raise InputError(f"tier cut-offs: top {self.top} and middle {self.middle} must be shares summing to ≤ 1",
                             code="tier_cut_offs", top=self.top, middle=self.middle)

    @property
    def bottom(self) -> float:
        return max(0.0, 1 - self.top - self.middle)


TIERS = ("top", "middle", "bottom")


@dataclass(frozen=True)
class ProviderRow:
    provider_id: int
    name: str
    assigned: int  # diagnoses assigned to it
    submitted: int  # … handed in
    due: int  # … handed in and with a due date
    on_time: int  # … handed in on or before the due date
    decided: int  # … the bureau decided on at least once (has a review)
    approved: int  # … approved (of the decided)
    returned: int  # reviews that returned one of its diagnoses
    ratings: int
    mean_rating: float | None  # enterprises' rating of it, 1–5
    approved_enterprises: int  # enterprises with an approved diagnosis by it
    enterprises_with_projects: int  # … of which started at least one project it recommended there
    composite: float | None = None
    tier: str | None = None  # "top" | "middle" | "bottom"; None below MIN_DECIDED_FOR_TIER decided diagnoses

    @property
    def on_time_rate(self) -> float | None:
        return self.on_time / self.due if self.due else None

    @property
    def approval_rate(self) -> float | None:
        return self.approved / self.decided if self.decided else None

    @property
    def return_rate(self) -> float | None:
        """Returns per decided diagnosis (may exceed 1 when one diagnosis was returned several times)."""
        return self.returned / self.decided if self.decided else None

    @property
    def project_rate(self) -> float | None:
        return self.enterprises_with_projects / self.approved_enterprises if self.approved_enterprises else None

    @property
    def tiered(self) -> bool:
        return self.decided >= MIN_DECIDED_FOR_TIER


def composite_score(row: ProviderRow) -> float | None:
    """The provider's composite in [0, 1]: the mean of the parts it has figures for, each in [0, 1] with higher
    better — on-time rate, approval rate, 1 − return rate (capped at 1), the mean rating scaled as
    (rating − 1) / 4, and the share of its approved enterprises that started a project."""
    parts = [row.on_time_rate, row.approval_rate,
             None if row.return_rate is None else 1 - min(row.return_rate, 1.0),
             None if row.mean_rating is None else (row.mean_rating - 1) / 4,
             row.project_rate]
    known = [p for p in parts if p is not None]
    return sum(known) / len(known) if known else None


def assign_tiers(scores: dict[int, float], cuts: TierCuts = TierCuts()) -> dict[int, str]:
    """Tiers by rank of score, best first: the first round(n·top) are "top", up to round(n·(top + middle))
    "middle", the rest "bottom" (round half up). Equal scores share the better tier, so a tie never splits."""
    ranked = sorted(scores, key=lambda k: (-scores[k], k))
    n = len(ranked)
    top_end = math.floor(round(n * cuts.top, 9) + 0.5)
    middle_end = math.floor(round(n * (cuts.top + cuts.middle), 9) + 0.5)
    tiers: dict[int, str] = {}
    for position, key in enumerate(ranked):
        tiers[key] = TIERS[0] if position < top_end else TIERS[1] if position < middle_end else TIERS[2]
        if position and round(scores[key], 9) == round(scores[ranked[position - 1]], 9):
            tiers[key] = tiers[ranked[position - 1]]
    return tiers


def provider_performance(db: Session | Store, actor: Actor, filters: Filters = NO_FILTERS, *,
                         cuts: TierCuts = TierCuts()) -> list[ProviderRow]:
    """Every provider with diagnoses in the selection, best composite first (untiered ones after, by name).

    Tier rule: among the providers with at least MIN_DECIDED_FOR_TIER (5) decided diagnoses, rank by
    ``composite_score`` and cut at ``cuts`` (default top 30 % / middle 50 % / bottom 20 %, see
    ``assign_tiers``); the others get no tier."""
    reviews = (select(Review.assessment_id.label("assessment_id"),
                      func.sum(case((Review.decision == "returned", 1), else_=0)).label("returned"))
               .group_by(Review.assessment_id).subquery("decisions"))
    started = (select(Project.assessment_id.label("assessment_id")).where(Project.status.in_(STARTED_PROJECT))
               .group_by(Project.assessment_id).subquery("started"))
    decided = reviews.c.assessment_id.is_not(None)
    approved = and_(decided, Assessment.status == "approved")
    due = and_(Assessment.submitted_at.is_not(None), Assessment.due_date.is_not(None))
    on_time = and_(due, func.date(Assessment.submitted_at) <= Assessment.due_date)

    def count_if(condition):
        return func.sum(case((condition, 1), else_=0))

    query = (_diagnoses(actor, filters, Assessment.provider_id, func.count(), func.count(Assessment.submitted_at),
                        count_if(due), count_if(on_time), count_if(decided), count_if(approved),
                        func.coalesce(func.sum(reviews.c.returned), 0), func.count(Confirmation.rating),
                        func.avg(Confirmation.rating),
                        func.count(func.distinct(case((approved, Assessment.enterprise_id)))),
                        func.count(func.distinct(case((and_(approved, started.c.assessment_id.is_not(None)),
                                                       Assessment.enterprise_id)))))
             .outerjoin(reviews, reviews.c.assessment_id == Assessment.id)
             .outerjoin(Confirmation, Confirmation.assessment_id == Assessment.id)
             .outerjoin(started, started.c.assessment_id == Assessment.id)
             .where(Assessment.provider_id.is_not(None))
             .group_by(Assessment.provider_id))
    with reading(db) as session:
        figures = session.execute(query).all()
        names = dict(session.execute(
            select(Organisation.id, Organisation.name).where(Organisation.id.in_([f[0] for f in figures]))).all())
    rows = []
    for pid, assigned, submitted, due_n, on_time_n, decided_n, approved_n, returned, ratings, mean_rating, \
            approved_enterprises, with_projects in figures:
        row = ProviderRow(pid, names.get(pid, str(pid)), assigned, submitted, int(due_n or 0), int(on_time_n or 0),
                          int(decided_n or 0), int(approved_n or 0), int(returned or 0), ratings,
                          None if mean_rating is None else float(mean_rating), approved_enterprises, with_projects)
        rows.append(replace(row, composite=composite_score(row)))
    tiers = assign_tiers({r.provider_id: r.composite for r in rows if r.tiered and r.composite is not None}, cuts)
    rows = [replace(r, tier=tiers.get(r.provider_id)) for r in rows]
    return sorted(rows, key=lambda r: (r.tier is None, -(r.composite or 0) if r.tier else 0, r.name, r.provider_id))


# -- peer figures for the diagnostic report -------------------------------------------------------------------


@dataclass(frozen=True)
class PeerStats:
    """Figures over the other enterprises of the same industry and district (their latest scored diagnosis)."""

    count: int  # peers (never fewer than MIN_PEERS)
    levels: tuple[int, ...]  # peers at levels 0–5
    medians: dict[str, float | None]  # PEER_RATES → median %, None when fewer than MIN_PEERS peers report it

    @property
    def shares(self) -> tuple[float, ...]:
        return tuple(n / self.count for n in self.levels)


def peer_stats(db: Session | Store, enterprise_id: int, assessment_id: int) -> PeerStats | None:
    """Peer figures for the report of diagnosis ``assessment_id`` of enterprise ``enterprise_id``: over the other
    enterprises in the same industry AND district, counted by their latest scored diagnosis — how many, their
    levels and the medians of networking_rate, data_collection_rate and nc_rate from that diagnosis's profile.

    None whenever fewer than MIN_PEERS (5) peers exist, and a median is None when fewer than MIN_PEERS peers
    report that rate, so no single enterprise's figure can be read off. The caller has already checked that
    its reader may read the diagnosis; only aggregates leave this function."""
    with reading(db) as session:
        own = session.get(Organisation, enterprise_id)
        diagnosis = session.get(Assessment, assessment_id)
        if own is None or diagnosis is None or diagnosis.enterprise_id != enterprise_id:
            raise InputError(f"assessment {assessment_id} is not a diagnosis of enterprise {enterprise_id}",
                             code="not_found", what="assessment", key=assessment_id)
        if not own.district or not own.industry:
            return None
        latest = _latest(_UNSCOPED, Filters(district=own.district, industry=own.industry),
                         Assessment.enterprise_id != enterprise_id)
        levels = [0] * len(LEVELS)
        for level, count in session.execute(select(latest.c.level, func.count()).group_by(latest.c.level)):
            levels[int(level)] = count
        if sum(levels) < MIN_PEERS:
            return None
        medians = {rate: _median(session, latest, getattr(EnterpriseProfile, rate)) for rate in PEER_RATES}
    return PeerStats(sum(levels), tuple(levels), medians)


def _median(session: Session, latest: Subquery, column) -> float | None:
    """The median of ``column`` of the profiles of the ``latest`` diagnoses, in SQL (window functions), or None
    over fewer than MIN_PEERS values."""
    values = (select(column.label("value"), func.row_number().over(order_by=column).label("position"),
                     func.count().over().label("n"))
              .select_from(latest).join(EnterpriseProfile, EnterpriseProfile.assessment_id == latest.c.assessment_id)
              .where(column.is_not(None)).subquery("peer_values"))
    middle = values.c.position.in_([(values.c.n + 1) // 2, (values.c.n + 2) // 2])
    median, n = session.execute(select(func.avg(values.c.value), func.max(values.c.n)).where(middle)).one()
    return None if median is None or n < MIN_PEERS else float(median)


__all__ = ["DEFAULT_QUESTIONNAIRE", "LEVELS", "LEVEL_GROUPS", "MIN_DECIDED_FOR_TIER", "MIN_PEERS", "NATIONAL",
           "NATIONAL_SOURCE", "NO_FILTERS", "PEER_RATES", "SCORED_STATUSES", "TIERS", "DomainMeans", "DomainRow",
           "EnterpriseRow", "Filters", "LevelCounts", "LevelGroup", "NationalComparison", "PeerStats", "ProviderRow",
           "TierCuts", "assign_tiers", "composite_score", "domain_means", "domain_means_by_district",
           "domain_means_by_industry", "domain_tables", "enterprise_count", "enterprise_rows",
           "level_distribution", "levels_by_district", "levels_by_industry", "national_comparison", "peer_stats",
           "provider_performance", "reading", "scoped_diagnoses", "status_counts", "weights_official"]


# -- the dashboard's own figures ------------------------------------------------------------------------------

HEATMAP_PARTS = 2  # the heatmap's maturities are read in this many parts at once (the machine has two cores)
T = TypeVar("T")


@dataclass(frozen=True)
class Month:
    year: int
    month: int
    diagnoses: int  # diagnoses created in the month
    scored: int  # … of which carry a handed-in level
    mean_level: float | None  # mean level of those

    @property
    def label(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


@dataclass(frozen=True)
class Heatmap:
    """Mean maturity (0–5) per district and domain over each enterprise's latest scored diagnosis: the mean of
    the maturity rows of the domain's subdomains (the same figure as ``domain_means``)."""

    domains: tuple[str, ...]  # domain codes in questionnaire order
    districts: tuple[str | None, ...]  # in the order of the district list
    means: tuple[tuple[float | None, ...], ...]  # one row per district, one value per domain


def started_projects(db: Store, actor: Actor, filters: Filters = NO_FILTERS) -> int:
    """Enterprises with a scored diagnosis in the selection where a recommended project was started (or
    completed) — the numerator of the share that started a project."""
    started = select(Project.assessment_id).where(Project.status.in_(STARTED_PROJECT))
    query = (scoped_diagnoses(actor, filters, func.count(func.distinct(Assessment.enterprise_id)))
             .where(_scored(), Assessment.id.in_(started)))
    with reading(db) as session_:
        return int(session_.scalar(query) or 0)


def monthly_trend(db: Store, actor: Actor, filters: Filters = NO_FILTERS) -> list[Month]:
    """Diagnoses per month of creation, and the mean level of those that carry a handed-in level."""
    year, month = extract("year", Assessment.created_at), extract("month", Assessment.created_at)
    scored = _scored()
    query = (scoped_diagnoses(actor, filters, year, month, func.count(),
                                        func.count(case((scored, 1))), func.avg(case((scored, Assessment.level))))
             .group_by(year, month).order_by(year, month))
    with reading(db) as session_:
        return [Month(int(y), int(m), n, k, None if mean is None else float(mean))
                for y, m, n, k, mean in session_.execute(query)]


def domain_heatmap(db: Store, actor: Actor, filters: Filters = NO_FILTERS) -> Heatmap:
    """District × domain means: district × subdomain sums and counts of the maturities of the latest scored
    diagnoses, grouped in the database (on one text key, district|subdomain, which sorts faster than two), then
    added up per domain here from those 20 × districts rows. Lighter than ``domain_tables``, which also
    splits by industry and counts enterprises. Over a Store the enterprises are split into HEATMAP_PARTS ranges of
    id (each enterprise wholly in one, so "latest" is unchanged) read at once."""
    q = by_id(DEFAULT_QUESTIONNAIRE)
    bounds: list[int] = []
    if isinstance(db, Store) and HEATMAP_PARTS > 1:
        with reading(db) as session_:
            low, high = session_.execute(select(func.min(Organisation.id), func.max(Organisation.id))).one()
        if low is not None:
            bounds = [low + (high - low + 1) * k // HEATMAP_PARTS for k in range(1, HEATMAP_PARTS)]

    def part(k: int) -> list:
        where = []
        if k > 0:
            where.append(Assessment.enterprise_id >= bounds[k - 1])
        if k < len(bounds):
            where.append(Assessment.enterprise_id < bounds[k])
        latest = _latest(actor, filters, *where)
        key = (func.coalesce(latest.c.district, "") + "|" + Maturity.subdomain).label("cell")
        query = (select(key, func.sum(Maturity.value), func.count(Maturity.value))
                 .select_from(latest).join(Maturity, Maturity.assessment_id == latest.c.assessment_id)
                 .where(latest.c.questionnaire_id == q.id)
                 .group_by(key))
        with reading(db) as session_:
            return session_.execute(query).all()

    sums: dict[str | None, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    counts: dict[str | None, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for rows in concurrently([lambda k=k: part(k) for k in range(len(bounds) + 1)]):
        for cell, total, n in rows:
            district, _, subdomain = cell.rpartition("|")
            domain = q.domain_of.get(subdomain)
            if domain is not None:
                sums[district or None][domain] += float(total)
                counts[district or None][domain] += n
    domains = tuple(d.code for d in q.domains)
    districts = tuple(_ordered(counts, "district"))
    return Heatmap(domains, districts, tuple(
        tuple(sums[k][d] / counts[k][d] if counts[k][d] else None for d in domains) for k in districts))


def provider_choices(db: Store, actor: Actor, filters: Filters = NO_FILTERS) -> dict[int, str]:
    """The providers with a diagnosis the actor may read (id → name), for the provider filter; one EXISTS per
    provider, so it takes milliseconds. ``filters`` is ignored: the choice must not depend on itself."""
    provider = aliased(Organisation, name="provider")
    readable = scoped_diagnoses(actor, NO_FILTERS, Assessment.id).where(Assessment.provider_id == provider.id)
    query = (select(provider.id, provider.name).where(provider.kind == "provider", readable.exists())
             .order_by(provider.name, provider.id))
    with reading(db) as session_:
        return {row[0]: row[1] for row in session_.execute(query)}



def concurrently(calls: list[Callable[[], T]]) -> list[T]:
    """Run independent reads at once, each in its own thread (and so its own database session): SQLite in WAL
    mode and PostgreSQL serve concurrent readers, and the driver releases the GIL while a query runs, so on two
    cores two queries take about the time of one. Results in the order of ``calls``; the first error raises."""
    if len(calls) <= 1:
        return [call() for call in calls]
    with ThreadPoolExecutor(max_workers=len(calls), thread_name_prefix="bureau-read") as pool:
        futures = [pool.submit(call) for call in calls]
        return [future.result() for future in futures]
