"""What the bureau pages share: the page guard, labels of codes in the UI language, the dashboard's filter bar,
the cached aggregates of the dashboard, flash messages after a change, and the download builders.

Aggregates run in the database. Most are ``assessment.analytics`` functions; the few the dashboard needs beyond
them (started projects, the monthly trend, the district × domain heatmap, the providers to filter by) are composed
here from analytics' scoped selects, so every one of them is narrowed to what the actor may read — no query here
goes around ``permissions.scope``.

Caching: ``aggregate`` keeps results for CACHE_TTL seconds in ``st.cache_data``, keyed by the database URL, the
actor's *scope* (role, organisation, districts — everything ``permissions.scope`` looks at) and the filters. Two
admins share figures; an analyst scoped to Gusu never gets figures computed for another scope. The actor and store
objects themselves are passed unhashed (leading underscore) and only used to compute a missing entry.
"""

from __future__ import annotations

import contextlib
import tempfile
import threading
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

import streamlit as st
from sqlalchemy import case, extract, func, select
from sqlalchemy.orm import aliased
from streamlit.runtime.scriptrunner import add_script_run_ctx, get_script_run_ctx

from assessment import analytics, reference
from assessment.accounts import Actor
from assessment.analytics import NO_FILTERS, Filters
from assessment.db import Store
from assessment.errors import AssessmentError
from assessment.models import Assessment, Maturity, Organisation, Project
from assessment.questionnaire import by_id
from assessment.workflow import DIAGNOSIS, STATUSES
from reports.bureau import write_bureau_workbook
from reports.export import write_answers_csv, write_answers_parquet
from ui import session
from ui.i18n import lang, t
from ui.navigation import ROLE_PAGES

CACHE_TTL = 300  # seconds a dashboard figure is reused
HEATMAP_PARTS = 2  # the heatmap's maturities are read in this many parts at once (the machine has two cores)
FILTER_KEYS = ("district", "industry", "size_class", "provider_id", "status", "since", "until")
DASH = "—"
T = TypeVar("T")


# -- the page guard and messages -----------------------------------------------------------------------------


def page_actor(page: str) -> Actor:
    """The signed-in actor of a page of the bureau. A page not listed for the role stops with a message (the
    navigation does not offer it; this only keeps a stale tab from rendering it). The services check every read
    and write regardless."""
    current = session.require_actor()
    if page not in ROLE_PAGES.get(current.role, []):
        st.warning(t("session.not_allowed"))
        st.stop()
    return current


def flash(message: str) -> None:
    """A success message shown on the next run (after ``st.rerun``)."""
    st.session_state["bureau_flash"] = message


def show_flash() -> None:
    message = st.session_state.pop("bureau_flash", None)
    if message:
        st.success(message)


def changed(message: str) -> None:
    """After a successful write: the dashboard's figures are stale, and the user is told on the next run."""
    clear_caches()
    flash(message)


def attempt(call: Callable[[], Any]) -> tuple[bool, Any]:
    """Run a service call; a refusal or bad input is shown (every located message, no traceback)."""
    try:
        return True, call()
    except AssessmentError as error:
        session.show(error)
        return False, None


# -- labels ----------------------------------------------------------------------------------------------------


@lru_cache(maxsize=8)
def _labels(vocabulary: str, language: str) -> dict[Any, str]:
    """Code → name in one language, for the vocabularies a table names on every row (reference data and the
    questionnaire's levels are read once per process anyway)."""
    if vocabulary == "district":
        return {d.code: d.label(language) for d in reference.districts()}
    if vocabulary == "industry":
        return {i.code: f"{i.code} {i.label(language)}" for i in reference.industries()}
    if vocabulary == "size_class":
        return {c.code: c.label(language) for c in reference.SIZE_CLASSES}
    if vocabulary == "production_type":
        return {c.code: c.label(language) for c in reference.PRODUCTION_TYPES}
    q = by_id(analytics.DEFAULT_QUESTIONNAIRE)
    return {level: f"{level} · {q.level_name(level)(language)}" for level in analytics.LEVELS}


def _named(vocabulary: str, code: Any) -> str:
    if code is None or code == "":
        return DASH if vocabulary == "level" else t("bureau.unknown")
    return _labels(vocabulary, lang()).get(code, str(code))


def district_name(code: str | None) -> str:
    return _named("district", code)


def industry_name(code: str | None) -> str:
    return _named("industry", code)


def size_name(code: str | None) -> str:
    return _named("size_class", code)


def production_name(code: str | None) -> str:
    return _named("production_type", code)


def status_name(status: str | None) -> str:
    """The workflow's status words (shared with the error messages, so a status reads the same everywhere)."""
    return t(f"status.{status}") if status else DASH


def level_name(level: int | None) -> str:
    return _named("level", level)


def tier_name(tier: str | None) -> str:
    return t(f"bureau.tier.{tier or 'none'}")


def listed(names) -> str:
    """Names joined the way the UI language lists them (、 in Chinese, a comma in English)."""
    return t("bureau.separator").join(names)


def percent(value: float | None) -> str:
    return DASH if value is None else f"{value:.1%}"


def decimal(value: float | None, digits: int = 2) -> str:
    return DASH if value is None else f"{value:.{digits}f}"


def day(value: Any) -> str:
    if value is None:
        return DASH
    return value.strftime("%Y-%m-%d") if hasattr(value, "strftime") else str(value)


# -- new aggregates (composed from analytics' scoped selects) -------------------------------------------------


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
    the maturity rows of the domain's subdomains (the same figure as ``analytics.domain_means``)."""

    domains: tuple[str, ...]  # domain codes in questionnaire order
    districts: tuple[str | None, ...]  # in the order of the district list
    means: tuple[tuple[float | None, ...], ...]  # one row per district, one value per domain


def started_projects(db: Store, actor: Actor, filters: Filters = NO_FILTERS) -> int:
    """Enterprises with a scored diagnosis in the selection where a recommended project was started (or
    completed) — the numerator of the share that started a project."""
    started = select(Project.assessment_id).where(Project.status.in_(analytics.STARTED_PROJECT))
    query = (analytics.scoped_diagnoses(actor, filters, func.count(func.distinct(Assessment.enterprise_id)))
             .where(analytics._scored(), Assessment.id.in_(started)))
    with analytics.reading(db) as session_:
        return int(session_.scalar(query) or 0)


def monthly_trend(db: Store, actor: Actor, filters: Filters = NO_FILTERS) -> list[Month]:
    """Diagnoses per month of creation, and the mean level of those that carry a handed-in level."""
    year, month = extract("year", Assessment.created_at), extract("month", Assessment.created_at)
    scored = analytics._scored()
    query = (analytics.scoped_diagnoses(actor, filters, year, month, func.count(),
                                        func.count(case((scored, 1))), func.avg(case((scored, Assessment.level))))
             .group_by(year, month).order_by(year, month))
    with analytics.reading(db) as session_:
        return [Month(int(y), int(m), n, k, None if mean is None else float(mean))
                for y, m, n, k, mean in session_.execute(query)]


def domain_heatmap(db: Store, actor: Actor, filters: Filters = NO_FILTERS) -> Heatmap:
    """District × domain means: district × subdomain sums and counts of the maturities of the latest scored
    diagnoses, grouped in the database (on one text key, district|subdomain, which sorts faster than two), then
    added up per domain here from those 20 × districts rows. Lighter than ``analytics.domain_tables``, which also
    splits by industry and counts enterprises. Over a Store the enterprises are split into HEATMAP_PARTS ranges of
    id (each enterprise wholly in one, so "latest" is unchanged) read at once."""
    q = by_id(analytics.DEFAULT_QUESTIONNAIRE)
    bounds: list[int] = []
    if isinstance(db, Store) and HEATMAP_PARTS > 1:
        with analytics.reading(db) as session_:
            low, high = session_.execute(select(func.min(Organisation.id), func.max(Organisation.id))).one()
        if low is not None:
            bounds = [low + (high - low + 1) * k // HEATMAP_PARTS for k in range(1, HEATMAP_PARTS)]

    def part(k: int) -> list:
        where = []
        if k > 0:
            where.append(Assessment.enterprise_id >= bounds[k - 1])
        if k < len(bounds):
            where.append(Assessment.enterprise_id < bounds[k])
        latest = analytics._latest(actor, filters, *where)
        key = (func.coalesce(latest.c.district, "") + "|" + Maturity.subdomain).label("cell")
        query = (select(key, func.sum(Maturity.value), func.count(Maturity.value))
                 .select_from(latest).join(Maturity, Maturity.assessment_id == latest.c.assessment_id)
                 .where(latest.c.questionnaire_id == q.id)
                 .group_by(key))
        with analytics.reading(db) as session_:
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
    districts = tuple(analytics._ordered(counts, "district"))
    return Heatmap(domains, districts, tuple(
        tuple(sums[k][d] / counts[k][d] if counts[k][d] else None for d in domains) for k in districts))


def provider_choices(db: Store, actor: Actor, filters: Filters = NO_FILTERS) -> dict[int, str]:
    """The providers with a diagnosis the actor may read (id → name), for the provider filter; one EXISTS per
    provider, so it takes milliseconds. ``filters`` is ignored: the choice must not depend on itself."""
    provider = aliased(Organisation, name="provider")
    readable = analytics.scoped_diagnoses(actor, NO_FILTERS, Assessment.id).where(Assessment.provider_id == provider.id)
    query = (select(provider.id, provider.name).where(provider.kind == "provider", readable.exists())
             .order_by(provider.name, provider.id))
    with analytics.reading(db) as session_:
        return {row[0]: row[1] for row in session_.execute(query)}


AGGREGATES: dict[str, Callable[[Store, Actor, Filters], Any]] = {
    "levels": analytics.level_distribution,
    "providers": analytics.provider_performance,
    "started": started_projects,
    "trend": monthly_trend,
    "heatmap": domain_heatmap,
    "provider_choices": provider_choices,
}


def concurrently(calls: list[Callable[[], T]]) -> list[T]:
    """Run independent reads at once, each in its own thread (and so its own database session): SQLite in WAL
    mode and PostgreSQL serve concurrent readers, and the driver releases the GIL while a query runs, so on two
    cores two queries take about the time of one. Results in the order of ``calls``; the first error raises."""
    if len(calls) <= 1:
        return [call() for call in calls]
    with ThreadPoolExecutor(max_workers=len(calls), thread_name_prefix="bureau-read") as pool:
        futures = [pool.submit(call) for call in calls]
        return [future.result() for future in futures]


def scope_key(actor: Actor) -> tuple:
    """What decides which rows an actor may read (everything ``permissions.scope`` looks at)."""
    return actor.role, actor.organisation_id, actor.districts


@st.cache_data(ttl=CACHE_TTL, max_entries=2_000, show_spinner=False)
def _aggregate(what: str, url: str, scope: tuple, filters: Filters, _store: Store, _actor: Actor) -> Any:
    return AGGREGATES[what](_store, _actor, filters)


def aggregate(what: str, store: Store, actor: Actor, filters: Filters = NO_FILTERS) -> Any:
    """``AGGREGATES[what]`` for the actor and filters, cached per (database, scope, filters)."""
    return _aggregate(what, store.url, scope_key(actor), filters, store, actor)


def prefetch(names: list[str], store: Store, actor: Actor, filters: Filters = NO_FILTERS) -> None:
    """Compute the aggregates a rerun is about to show all at once (each in its own thread) into the cache, so
    that the page's ``aggregate`` calls that follow find them there. A failure here is left for that call to
    raise again in the page's own thread (where it is shown)."""
    context = get_script_run_ctx()

    def fetch(name: str) -> None:
        with contextlib.suppress(AssessmentError):
            aggregate(name, store, actor, filters)

    threads = [threading.Thread(target=fetch, args=(name,), name=f"bureau-prefetch-{name}") for name in names]
    for thread in threads:
        if context is not None:
            add_script_run_ctx(thread, context)
        thread.start()
    for thread in threads:
        thread.join()


def figure(what: str, store: Store, actor: Actor, filters: Filters = NO_FILTERS) -> Any:
    """``aggregate`` for a page: a refusal or bad input is shown (no traceback) and the page stops there."""
    try:
        return aggregate(what, store, actor, filters)
    except AssessmentError as error:
        session.show(error)
        st.stop()


def clear_caches() -> None:
    _aggregate.clear()


# -- the filter bar (shared by the dashboard and the downloads) ----------------------------------------------


def filter_bar(actor: Actor, store: Store) -> Filters | None:
    """The dashboard's filters as widgets; their values persist for the session, so the downloads page uses
    the same selection. None (after showing why) when the selection is not valid."""
    districts = list(actor.districts) if actor.districts else [d.code for d in reference.districts()]
    providers = figure("provider_choices", store, actor)
    everything = t("bureau.filter.all")

    def named(label: Callable[[Any], str]) -> Callable[[Any], str]:
        return lambda code: everything if code is None else label(code)

    row = st.columns(4)
    values: dict[str, Any] = {
        "district": row[0].selectbox(t("bureau.filter.district"), [None, *districts], format_func=named(district_name),
                                     key="bureau_filter_district", persist_state="session"),
        "industry": row[1].selectbox(t("bureau.filter.industry"), [None, *(i.code for i in reference.industries())],
                                     format_func=named(industry_name), key="bureau_filter_industry",
                                     persist_state="session"),
        "size_class": row[2].selectbox(t("bureau.filter.size_class"), [None, *(c.code for c in reference.SIZE_CLASSES)],
                                       format_func=named(size_name), key="bureau_filter_size_class",
                                       persist_state="session"),
        "provider_id": row[3].selectbox(t("bureau.filter.provider"), [None, *providers],
                                        format_func=named(lambda pid: providers.get(pid, str(pid))),
                                        key="bureau_filter_provider_id", persist_state="session"),
    }
    row = st.columns(4)
    values["status"] = row[0].selectbox(t("bureau.filter.status"), [None, *STATUSES[DIAGNOSIS]],
                                        format_func=named(status_name), key="bureau_filter_status",
                                        persist_state="session")
    values["since"] = row[1].date_input(t("bureau.filter.since"), value=None, key="bureau_filter_since",
                                        persist_state="session")
    values["until"] = row[2].date_input(t("bureau.filter.until"), value=None, key="bureau_filter_until",
                                        persist_state="session")
    if actor.districts:
        row[3].caption(t("bureau.filter.scope", districts=listed(district_name(d) for d in actor.districts)))
    try:
        return Filters(**values)
    except AssessmentError as error:
        session.show(error)
        return None


# -- downloads: built only when clicked ----------------------------------------------------------------------


def _built(write: Callable[[Path], Any], name: str) -> bytes:
    with tempfile.TemporaryDirectory(prefix="bureau-download-") as folder:
        path = Path(folder) / name
        write(path)
        return path.read_bytes()


def bureau_workbook_bytes(store: Store, actor: Actor, filters: Filters, language: str) -> bytes:
    return _built(lambda path: write_bureau_workbook(store, actor, filters, path, lang=language), "bureau.xlsx")


def answers_csv_bytes(store: Store, actor: Actor, filters: Filters) -> bytes:
    return _built(lambda path: write_answers_csv(store, actor, filters, path), "answers.csv")


def answers_parquet_bytes(store: Store, actor: Actor, filters: Filters) -> bytes:
    return _built(lambda path: write_answers_parquet(store, actor, filters, path), "answers.parquet")


def file_stamp() -> str:
    return date.today().strftime("%Y%m%d")
