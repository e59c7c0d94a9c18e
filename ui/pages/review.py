"""Review (bureau admin): the diagnoses the enterprise has confirmed, waiting for the bureau's decision, and the
submitted ones still waiting for the enterprise; open one read-only, then approve it or return it with a comment
(the workflow refuses a return without one, and that refusal is what the user sees)."""

import pandas as pd
import streamlit as st

from assessment.services import questionnaire_of
from assessment.workflow import DIAGNOSIS
from ui import builtin, bureau, confirm, paging, session, work
from ui.i18n import lang, t
from ui.user_text import plain

actor = bureau.page_actor("review")
services = session.services()
st.title(t("nav.review"))
bureau.show_flash()

ok, lists = bureau.attempt(lambda: (services.list_assessments(actor, status="confirmed", kind=DIAGNOSIS),
                                    services.list_assessments(actor, status="submitted", kind=DIAGNOSIS),
                                    {p.id: p.name for p in services.list_providers(actor)}))
if not ok:
    st.stop()
confirmed, waiting, providers = lists


def queue_table(rows, stamp: str) -> pd.DataFrame:
    return pd.DataFrame([{
        t("bureau.col.id"): a.id, t("bureau.col.enterprise"): org.name,
        t("bureau.col.district"): bureau.district_name(org.district),
        t("bureau.col.provider"): providers.get(a.provider_id, bureau.DASH),
        t("bureau.col.level"): bureau.level_name(a.level), t("bureau.col.score"): bureau.decimal(a.score),
        t(f"bureau.col.{stamp}"): bureau.day(getattr(a, stamp)),
    } for a, org in rows])


st.subheader(t("bureau.review.queue", n=len(confirmed)))
if confirmed:
    builtin.table(queue_table(paging.rows(confirmed, "review_queue_page"), "confirmed_at"), hide_index=True,
                  key="review_queue_table")
else:
    st.info(t("bureau.review.queue_empty"))
with st.expander(t("bureau.review.waiting", n=len(waiting))):
    if waiting:
        builtin.table(queue_table(paging.rows(waiting, "review_waiting_page"), "submitted_at"), hide_index=True,
                      key="review_waiting_table")
    else:
        st.caption(t("bureau.review.waiting_empty"))

if not confirmed:
    st.stop()

labels = {a.id: f"#{a.id} · {org.name} · {providers.get(a.provider_id, bureau.DASH)}" for a, org in confirmed}
chosen = st.selectbox(t("bureau.review.open"), list(labels), index=None, format_func=labels.get,
                      placeholder=t("bureau.review.choose"), key="review_open")
if chosen is None:
    st.stop()
ok, opened = bureau.attempt(lambda: (view := services.get_assessment(actor, chosen),
                                     questionnaire_of(view.assessment)))
if not ok:
    st.stop()
view, q = opened
a = view.assessment
result = a.result or {}
st.header(t("bureau.review.heading", id=a.id, enterprise=plain(view.enterprise.name)))
row = st.columns(4)
row[0].metric(t("bureau.col.level"), bureau.level_name(a.level))
row[1].metric(t("bureau.col.score"), bureau.decimal(a.score))
row[2].metric(t("bureau.col.provider"), plain(view.provider.name) if view.provider else bureau.DASH)
row[3].metric(t("bureau.review.rating"), f"{view.confirmation.rating} / 5" if view.confirmation else bureau.DASH)
st.caption(t("bureau.review.facts", district=bureau.district_name(view.enterprise.district),
             industry=bureau.industry_name(view.enterprise.industry), profile=bureau.production_name(a.profile),
             diagnosticians=bureau.listed(map(plain, view.diagnosticians)) or bureau.DASH,
             submitted=bureau.day(a.submitted_at), confirmed=bureau.day(a.confirmed_at)))
if view.confirmation and view.confirmation.comment:
    st.info(t("bureau.review.enterprise_comment", comment=plain(view.confirmation.comment)))
language = lang()
report_column, help_column = st.columns([1, 2], vertical_alignment="center")
report_column.download_button(t("bureau.review.download_report"), mime=work.XLSX, key="review_report",
                              file_name=t("bureau.review.report_name", id=a.id),
                              data=session.guarded(lambda: work.report_bytes(services, actor, view, q, language),
                                                   "report", assessment_id=a.id))
help_column.caption(t("bureau.review.report_help"))

tab_scores, tab_answers, tab_projects, tab_history = st.tabs(
    [t("bureau.review.tab_scores"), t("bureau.review.tab_answers"), t("bureau.review.tab_projects"),
     t("bureau.review.tab_history")])
with tab_scores:
    builtin.table(pd.DataFrame([{
        t("bureau.col.level"): bureau.level_name(n), t("bureau.review.level_score"): x,
        t("bureau.review.met"): t("common.yes") if met else t("common.no"),
    } for n, x, met in zip(range(1, 6), result.get("level_scores", []), result.get("met", []), strict=False)]),
        hide_index=True, column_config={t("bureau.review.level_score"): st.column_config.NumberColumn(format="%.3f")})
    builtin.table(pd.DataFrame([{
        t("bureau.review.subdomain"): f"{code} {q.node_names[code](lang())}",
        t("bureau.review.domain"): q.node_names[q.domain_of[code]](lang()),
        t("bureau.review.maturity"): sub["maturity"],
    } for code, sub in result.get("subdomains", {}).items() if code in q.node_names]),
        hide_index=True, column_config={t("bureau.review.maturity"): st.column_config.ProgressColumn(
            min_value=0, max_value=5, format="%.2f")})
    st.markdown(f"**{t('bureau.review.radar')}**")
    builtin.chart(work.radar(q, [(t("bureau.review.heading", id=a.id, enterprise=view.enterprise.name),
                                    work.maturities(work.result_of(view, q)))]), key="review_radar")

with tab_answers:
    items = q.items_for(a.profile)
    for subdomain in q.subdomains:
        own = [item for item in items if item.subdomain == subdomain.code]
        if not own:
            continue
        answered = sum(item.id in view.answers for item in own)
        with st.expander(f"{subdomain.code} {subdomain.name(lang())} · {answered}/{len(own)}"):
            builtin.table(pd.DataFrame([{
                t("bureau.review.item"): item.id, t("bureau.col.level"): item.level,
                t("bureau.review.requirement"): item.text(lang()),
                t("bureau.review.answer"): (q.scale_by_code[view.answers[item.id].code].label(lang())
                                            if item.id in view.answers else bureau.DASH),
                t("bureau.review.note"): view.answers[item.id].note if item.id in view.answers else None,
                t("bureau.review.evidence"): view.answers[item.id].evidence if item.id in view.answers else None,
            } for item in own]), hide_index=True)

with tab_projects:
    if view.projects:
        builtin.table(pd.DataFrame([{
            t("bureau.review.project"): p.title,
            t("bureau.review.subdomain"): f"{p.subdomain} {q.node_names[p.subdomain](lang())}"
            if p.subdomain in q.node_names else bureau.DASH,
            t("bureau.review.target_level"): p.target_level,
            t("bureau.review.investment"): float(p.investment) if p.investment is not None else None,
            t("bureau.review.benefit"): p.expected_benefit,
            t("bureau.review.priority"): t(f"bureau.priority.{p.priority}"),
            t("bureau.col.status"): t(f"bureau.project_status.{p.status}"),
        } for p in view.projects]), hide_index=True)
    else:
        st.caption(t("bureau.review.no_projects"))

with tab_history:
    if view.reviews:
        bureau.review_history(view.reviews)
    else:
        st.caption(t("bureau.review.no_history"))

st.subheader(t("bureau.review.decide"))
left, right = st.columns(2)
with left:
    if confirm.asked(t("bureau.review.approve"), key=f"review_approve_{a.id}",
                     question=t("bureau.review.approve_question", id=a.id, enterprise=plain(view.enterprise.name))):
        ok, _ = bureau.attempt(lambda: services.move(actor, a.id, "approve", expected_version=a.version))
        if ok:
            bureau.changed(t("bureau.review.approved", id=a.id))
            st.rerun()
with right, st.form("review_return"):
    comment = st.text_area(t("bureau.review.comment"), key="review_comment")
    if st.form_submit_button(t("bureau.review.return")):
        ok, _ = bureau.attempt(lambda: services.move(actor, a.id, "return", expected_version=a.version,
                                                     comment=comment))
        if ok:
            bureau.changed(t("bureau.review.returned", id=a.id))
            st.rerun()
