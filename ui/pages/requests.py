"""Requests and assignment (bureau admin): assign a provider with a due date to each requested diagnosis, request a
diagnosis for an enterprise, and follow the assigned and in-progress ones by due date (overdue ones marked)."""

from datetime import date, timedelta

import pandas as pd
import streamlit as st

from assessment.workflow import DIAGNOSIS
from ui import builtin, bureau, paging, session
from ui.i18n import t
from ui.user_text import plain

DEFAULT_DAYS = 30  # a new assignment is due this many days ahead unless changed
SEARCH_LIMIT = 50

actor = bureau.page_actor("requests")
services = session.services()
st.title(t("nav.requests"))
bureau.show_flash()

ok, lists = bureau.attempt(lambda: (
    services.list_providers(actor),
    services.list_assessments(actor, status="requested", kind=DIAGNOSIS),
    services.list_assessments(actor, status="assigned", kind=DIAGNOSIS)
    + services.list_assessments(actor, status="in_progress", kind=DIAGNOSIS)))
if not ok:
    st.stop()
providers, requested, in_work = lists
provider_names = {p.id: p.name for p in providers}

# -- requested → assign ----------------------------------------------------------------------------------------
st.subheader(t("bureau.requests.requested", n=len(requested)))
if requested:
    builtin.table(pd.DataFrame([{
        t("bureau.col.id"): a.id, t("bureau.col.enterprise"): org.name,
        t("bureau.col.district"): bureau.district_name(org.district),
        t("bureau.col.industry"): bureau.industry_name(org.industry),
        t("bureau.col.created_at"): bureau.day(a.created_at),
    } for a, org in paging.rows(requested, "requests_requested_page")]), hide_index=True,
        key="requests_requested_table")
    versions = {a.id: a.version for a, _ in requested}
    labels = {a.id: f"#{a.id} · {org.name}" for a, org in requested}
    if not providers:
        st.warning(t("bureau.requests.no_providers"))
    else:
        with st.form("requests_assign"):
            chosen = st.selectbox(t("bureau.requests.request"), list(labels), format_func=labels.get,
                                  key="requests_assign_request", placeholder=builtin.choose())
            provider_id = st.selectbox(t("bureau.col.provider"), list(provider_names), format_func=provider_names.get,
                                       key="requests_assign_provider", placeholder=builtin.choose())
            due = st.date_input(t("bureau.col.due_date"), value=date.today() + timedelta(days=DEFAULT_DAYS),
                                key="requests_assign_due")
            if st.form_submit_button(t("bureau.requests.assign"), type="primary"):
                ok, _ = bureau.attempt(lambda: services.move(actor, chosen, "assign", expected_version=versions[chosen],
                                                             provider_id=provider_id, due_date=due))
                if ok:
                    provider = plain(provider_names[provider_id])
                    bureau.changed(t("bureau.requests.assigned", id=chosen, provider=provider))
                    st.rerun()
    # -- requested → cancelled (a duplicate, say), with the reason the audit log keeps -----------------------
    with st.expander(t("bureau.requests.cancel_heading")), st.form("requests_cancel"):
        st.caption(t("bureau.requests.cancel_help"))
        cancelled = st.selectbox(t("bureau.requests.request"), list(labels), index=None, format_func=labels.get,
                                 key="requests_cancel_request", placeholder=t("bureau.review.choose"))
        reason = st.text_area(t("bureau.requests.cancel_reason"), key="requests_cancel_reason")
        if st.form_submit_button(t("bureau.requests.cancel")):
            if cancelled is None:
                st.error(t("bureau.requests.cancel_choose"))
            else:
                ok, _ = bureau.attempt(lambda: services.move(actor, cancelled, "cancel", comment=reason,
                                                             expected_version=versions[cancelled]))
                if ok:
                    bureau.changed(t("bureau.requests.cancelled", id=cancelled))
                    st.rerun()
else:
    st.info(t("bureau.requests.none_requested"))

# -- a new request -------------------------------------------------------------------------------------------
st.subheader(t("bureau.requests.new"))
search = st.text_input(t("bureau.requests.search"), key="requests_search", help=t("bureau.requests.search_help"))
if search.strip():
    ok, found = bureau.attempt(lambda: services.list_enterprises(actor, search=search, limit=SEARCH_LIMIT + 1))
    if ok and found:
        if len(found) > SEARCH_LIMIT:
            st.caption(t("bureau.requests.too_many", limit=SEARCH_LIMIT))
        names = {e.id: f"{e.name} · {e.credit_code or bureau.DASH} · {bureau.district_name(e.district)}"
                 for e in found[:SEARCH_LIMIT]}
        enterprise_id = st.selectbox(t("bureau.col.enterprise"), list(names), format_func=names.get,
                                     key="requests_new_enterprise", placeholder=builtin.choose())
        if st.button(t("bureau.requests.create"), key="requests_create"):
            ok, new_id = bureau.attempt(lambda: services.request_diagnosis(actor, enterprise_id))
            if ok:
                bureau.changed(t("bureau.requests.created", id=new_id, enterprise=plain(names[enterprise_id])))
                st.rerun()
    elif ok:
        st.caption(t("bureau.requests.no_match"))

# -- assigned and in progress --------------------------------------------------------------------------------
st.subheader(t("bureau.requests.in_work", n=len(in_work)))
today = date.today()
overdue = [a for a, _ in in_work if a.due_date is not None and a.due_date < today]
if in_work:
    if overdue:
        st.warning(t("bureau.requests.overdue_count", n=len(overdue)))
    rows = sorted(in_work, key=lambda pair: (pair[0].due_date is None, pair[0].due_date or today, pair[0].id))
    late_column = t("bureau.requests.days_late")
    builtin.table(pd.DataFrame([{  # overdue first (earliest due date first), marked in the first column
        t("bureau.requests.overdue"): "●" if a.due_date is not None and a.due_date < today else "",
        t("bureau.col.id"): a.id, t("bureau.col.enterprise"): org.name,
        t("bureau.col.provider"): provider_names.get(a.provider_id, bureau.DASH),
        t("bureau.col.status"): bureau.status_name(a.status), t("bureau.col.due_date"): bureau.day(a.due_date),
        late_column: (today - a.due_date).days if a.due_date is not None and a.due_date < today else None,
    } for a, org in paging.rows(rows, "requests_in_work_page")]), hide_index=True, key="requests_in_work_table",
        column_config={late_column: st.column_config.NumberColumn(format="%d")})
else:
    st.info(t("bureau.requests.none_in_work"))
