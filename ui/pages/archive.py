"""Enterprise records (一企一档) for the bureau: find any enterprise the actor may read (an analyst: those of its
districts), see all its diagnoses and self-assessments, open one's results (level, level scores, radar) and download
its diagnostic report. Read-only: the moves of the workflow are made on the review and request pages."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from assessment import reference
from ui import builtin, bureau, paging, session, work
from ui.i18n import lang, t
from ui.user_text import plain

actor = bureau.page_actor("archive")
services = session.services()
st.title(t("nav.archive"))

search_column, district_column = st.columns([2, 1])
search = search_column.text_input(t("bureau.archive.search"), key="archive_search",
                                  placeholder=t("bureau.archive.search_placeholder"))
districts = list(actor.districts) if actor.districts else [d.code for d in reference.districts()]
district = district_column.selectbox(
    t("bureau.filter.district"), [None, *districts], key="archive_district", placeholder=t("bureau.filter.all"),
    format_func=lambda code: t("bureau.filter.all") if code is None else bureau.district_name(code))
if not search.strip() and district is None:
    st.info(t("bureau.archive.hint"))
    st.stop()
page = paging.paged(lambda limit, offset: services.enterprises_page(actor, search=search, district=district,
                                                                    limit=limit, offset=offset),
                    "archive_page", of=(search.strip(), district))
if page is None:
    st.stop()
if not page.rows:
    st.info(t("bureau.archive.no_match"))
    st.stop()
names = {e.id: f"{e.name} · {e.credit_code or bureau.DASH} · {bureau.district_name(e.district)}" for e in page.rows}
enterprise_id = st.selectbox(t("bureau.col.enterprise"), list(names), index=0 if len(names) == 1 else None,
                             format_func=names.get, key=f"archive_enterprise_{search.strip()}_{district}",
                             placeholder=t("bureau.archive.choose"))
if enterprise_id is None:
    st.caption(t("bureau.archive.found", n=page.total))
    st.stop()

ok, loaded = bureau.attempt(lambda: (services.get_organisation(actor, enterprise_id),
                                     services.list_assessments(actor, enterprise_id=enterprise_id)))
if not ok:
    st.stop()
org, rows = loaded
st.header(plain(org.name))
st.caption(work.enterprise_caption(org))
st.caption(t("bureau.archive.contact", name=plain(org.contact_name or bureau.DASH),
             phone=plain(org.contact_phone or bureau.DASH), email=plain(org.contact_email or bureau.DASH)))

st.subheader(t("bureau.archive.assessments", n=len(rows)))
if not rows:
    st.info(t("bureau.archive.none"))
    st.stop()
ok, views = bureau.attempt(lambda: {a.id: services.get_assessment(actor, a.id) for a, _ in reversed(rows)})
if not ok:
    st.stop()


def kind(a) -> str:
    return t(f"bureau.archive.kind_{a.kind}")


builtin.table(pd.DataFrame([{
    t("bureau.col.id"): a.id, t("bureau.archive.kind"): kind(a), t("bureau.archive.round"):
    t(f"bureau.archive.round_{a.round}"), t("bureau.col.status"): bureau.status_name(a.status),
    t("bureau.col.provider"): view.provider.name if view.provider else bureau.DASH,
    t("bureau.archive.created_at"): bureau.day(a.created_at),
    t("bureau.col.level"): bureau.level_name(a.level) if a.answered else bureau.DASH,
    t("bureau.col.score"): bureau.decimal(a.score) if a.answered else bureau.DASH,
    t("bureau.archive.completeness"): f"{a.answered} / {a.applicable}",
} for view in paging.rows(list(views.values()), f"archive_rows_{enterprise_id}") for a in (view.assessment,)]),
    hide_index=True, key="archive_table")

labels = {aid: f"#{aid} · {kind(view.assessment)} · {bureau.status_name(view.assessment.status)} · "
               f"{bureau.day(view.assessment.created_at)}" for aid, view in views.items()}
chosen = st.selectbox(t("bureau.archive.open"), list(labels), format_func=labels.get,
                      key=f"archive_open_{enterprise_id}", placeholder=builtin.choose())
view = views[chosen]
a = view.assessment
q = work.questionnaire(view)
st.subheader(t("bureau.archive.heading", kind=kind(a), id=a.id, status=bureau.status_name(a.status)))
language = lang()
st.download_button(t("bureau.review.download_report"), mime=work.XLSX, key=f"archive_report_{a.id}",
                   file_name=t("bureau.review.report_name", id=a.id), type="primary",
                   data=session.guarded(lambda: work.report_bytes(services, actor, view, q, language), "report",
                                        assessment_id=a.id))
if not a.answered:
    st.info(t("bureau.archive.no_result"))
    st.stop()
result = work.result_of(view, q)
if result.completeness.answered < result.completeness.applicable:
    st.warning(t("bureau.archive.provisional", answered=result.completeness.answered,
                 applicable=result.completeness.applicable))
row = st.columns([3, 2, 3, 2])  # the level's name is the longest figure
row[0].metric(t("bureau.col.level"), work.level_label(q, result.level))
row[1].metric(t("bureau.col.score"), f"{result.score:.2f}")
row[2].metric(t("bureau.col.provider"), plain(view.provider.name) if view.provider else bureau.DASH)
row[3].metric(t("bureau.review.rating"), f"{view.confirmation.rating} / 5" if view.confirmation else bureau.DASH)
builtin.table(pd.DataFrame({
    t("bureau.col.level"): [work.level_label(q, n) for n in range(1, len(result.level_scores) + 1)],
    t("bureau.review.level_score"): [round(x, 3) for x in result.level_scores],
    t("bureau.review.met"): [t("common.yes") if met else t("common.no") for met in result.met],
}), hide_index=True, key=f"archive_levels_{a.id}")
st.markdown(f"**{t('bureau.review.radar')}**")
builtin.chart(work.radar(q, [(f"#{a.id}", work.maturities(result))]), key=f"archive_radar_{a.id}")
bureau.review_history(view.reviews)
