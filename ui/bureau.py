"""What the bureau pages share: the page guard, labels of codes in the UI language, the dashboard's filter bar,
the cached aggregates of the dashboard, flash messages after a change, and the download builders.

Aggregates run in the database, in ``assessment.analytics`` (every one narrowed by ``permissions.scope``).

Caching: ``aggregate`` keeps results for CACHE_TTL seconds in FIGURES, a cache of this process keyed by the database
URL, the actor's *scope* (role, organisation, districts — everything ``permissions.scope`` looks at) and the
filters. Two admins share figures; an analyst scoped to Gusu never gets figures computed for another scope. Not
``st.cache_data``: any websocket client, signed in or not, may send Streamlit's clear_cache message, which empties
Streamlit's caches for everyone.
"""

from __future__ import annotations

import contextlib
import copy
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

import streamlit as st
from streamlit.runtime.scriptrunner import add_script_run_ctx, get_script_run_ctx

from assessment import analytics, reference
from assessment.accounts import Actor
from assessment.analytics import NO_FILTERS, Filters
from assessment.db import Store
from assessment.errors import AssessmentError
from assessment.questionnaire import by_id
from assessment.workflow import DIAGNOSIS, STATUSES
from reports.bureau import write_bureau_workbook
from reports.export import write_answers_csv, write_answers_parquet
from ui import session
from ui.i18n import lang, t
from ui.navigation import ROLE_PAGES
from ui.user_text import plain

CACHE_TTL = 300  # seconds a dashboard figure is reused
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


def review_history(reviews) -> None:
    """The bureau's decisions on a diagnosis, one line each, the comment as typed."""
    for review in reviews:
        st.write(t("bureau.review.history_row", day=day(review.decided_at),
                   decision=t(f"bureau.review.decision_{review.decision}"),
                   comment=plain(review.comment) if review.comment else DASH))


def day(value: Any) -> str:
    if value is None:
        return DASH
    return value.strftime("%Y-%m-%d") if hasattr(value, "strftime") else str(value)


# -- new aggregates (composed from analytics' scoped selects) -------------------------------------------------


AGGREGATES: dict[str, Callable[[Store, Actor, Filters], Any]] = {
    "levels": analytics.level_distribution,
    "providers": analytics.provider_performance,
    "started": analytics.started_projects,
    "trend": analytics.monthly_trend,
    "heatmap": analytics.domain_heatmap,
    "provider_choices": analytics.provider_choices,
}


def scope_key(actor: Actor) -> tuple:
    """What decides which rows an actor may read (everything ``permissions.scope`` looks at)."""
    return actor.role, actor.organisation_id, actor.districts


class ExpiringCache:
    """At most ``size`` values, each kept for ``ttl`` seconds (the least recently used goes first), shared by the
    sessions' threads. A value is computed outside the lock, so slow figures are computed side by side; each
    caller gets its own copy, as from ``st.cache_data``, so a page that changes what it got changes nothing here."""

    def __init__(self, ttl: float, size: int, clock: Callable[[], float] = time.monotonic):
        self.ttl, self.size, self.clock = ttl, size, clock
        self._entries: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry[0] > self.clock():
                self._entries.move_to_end(key)
                return copy.deepcopy(entry[1])
        value = compute()
        with self._lock:
            self._entries[key] = (self.clock() + self.ttl, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return copy.deepcopy(value)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


FIGURES = ExpiringCache(ttl=CACHE_TTL, size=2_000)


def aggregate(what: str, store: Store, actor: Actor, filters: Filters = NO_FILTERS) -> Any:
    """``AGGREGATES[what]`` for the actor and filters, cached per (database, scope, filters)."""
    return FIGURES.get((what, store.url, scope_key(actor), filters), lambda: AGGREGATES[what](store, actor, filters))


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
    FIGURES.clear()


# -- the filter bar (shared by the dashboard and the downloads) ----------------------------------------------


def filter_bar(actor: Actor, store: Store) -> Filters | None:
    """The dashboard's filters as widgets; their values persist for the session, so the downloads page uses
    the same selection. None (after showing why) when the selection is not valid."""
    districts = list(actor.districts) if actor.districts else [d.code for d in reference.districts()]
    providers = figure("provider_choices", store, actor)
    everything = t("bureau.filter.all")

    def named(label: Callable[[Any], str]) -> Callable[[Any], str]:
        return lambda code: everything if code is None else label(code)

    # "All" is the option None; after a change of language a None value shows the placeholder (ui/i18n.py).
    row = st.columns(4)
    values: dict[str, Any] = {
        "district": row[0].selectbox(t("bureau.filter.district"), [None, *districts], format_func=named(district_name),
                                     key="bureau_filter_district", persist_state="session",
                                     placeholder=everything),
        "industry": row[1].selectbox(t("bureau.filter.industry"), [None, *(i.code for i in reference.industries())],
                                     format_func=named(industry_name), key="bureau_filter_industry",
                                     persist_state="session", placeholder=everything),
        "size_class": row[2].selectbox(t("bureau.filter.size_class"), [None, *(c.code for c in reference.SIZE_CLASSES)],
                                       format_func=named(size_name), key="bureau_filter_size_class",
                                       persist_state="session", placeholder=everything),
        "provider_id": row[3].selectbox(t("bureau.filter.provider"), [None, *providers],
                                        format_func=named(lambda pid: providers.get(pid, str(pid))),
                                        key="bureau_filter_provider_id", persist_state="session",
                                        placeholder=everything),
    }
    row = st.columns(4)
    values["status"] = row[0].selectbox(t("bureau.filter.status"), [None, *STATUSES[DIAGNOSIS]],
                                        format_func=named(status_name), key="bureau_filter_status",
                                        persist_state="session", placeholder=everything)
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
