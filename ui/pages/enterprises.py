"""The provider's enterprises and their diagnoses: search and filters; start, resume or continue a diagnosis.

Work to do comes first (overdue deadlines, then diagnoses the bureau returned, then the nearest deadline), with
the enterprise's contact and the bureau's comment on what it returned.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

import streamlit as st

from assessment import reference, worklist
from assessment.errors import AssessmentError
from assessment.workflow import DIAGNOSIS, STATUSES
from ui import paging, session, work
from ui.i18n import lang, t
from ui.user_text import plain

actor = session.require_actor()
services = session.services()
st.title(t("nav.enterprises"))
work.resume()

search_column, status_column, district_column, industry_column = st.columns([2, 1, 1, 1])
search = search_column.text_input(t("work.enterprises.search"), key="work_search",
                                  placeholder=t("work.enterprises.search_placeholder"))
status = status_column.selectbox(t("work.enterprises.status"), STATUSES[DIAGNOSIS], index=None,
                                 key="work_status", format_func=work.status_name, placeholder=t("work.all"))
districts = {d.code: d.label(lang()) for d in reference.districts()}
district = district_column.selectbox(t("work.enterprises.district"), list(districts), index=None,
                                     key="work_district", format_func=districts.get, placeholder=t("work.all"))
industries = {i.code: f"{i.code} {i.label(lang())}" for i in reference.industries()}
industry = industry_column.selectbox(t("work.enterprises.industry"), list(industries), index=None,
                                     key="work_industry", format_func=industries.get, placeholder=t("work.all"))

enterprises = services.list_enterprises(actor, district=district, industry=industry, search=search.strip() or None)
diagnoses = defaultdict(list)
for a, _ in services.list_assessments(actor, kind=DIAGNOSIS, status=status):
    diagnoses[a.enterprise_id].append(a)
today = date.today()
for rows in diagnoses.values():
    rows.sort(key=lambda a: worklist.urgency(actor.role, a, today))
listed = sorted((org for org in enterprises if diagnoses[org.id]),
                key=lambda org: (worklist.urgency(actor.role, diagnoses[org.id][0], today), org.name))
returns = services.open_returns(actor)

counts = defaultdict(int)
for org in listed:
    for a in diagnoses[org.id]:
        counts[a.status] += 1
st.caption(t("work.enterprises.summary", enterprises=len(listed), diagnoses=sum(counts.values()),
             statuses=" · ".join(f"{work.status_name(s)} {counts[s]}" for s in STATUSES[DIAGNOSIS] if counts[s])))
to_do = [a for org in listed for a in diagnoses[org.id] if worklist.to_do(actor.role, a)]
if to_do:
    st.caption(t("work.enterprises.to_do", to_do=len(to_do),
                 overdue=sum(worklist.overdue(actor.role, a, today) for a in to_do)))
if not listed:
    st.info(t("work.enterprises.empty"))


def open_diagnosis(a, action: str | None, page: str) -> None:
    """Make the workflow move (start or resume) if any, then open the page on the diagnosis."""
    if action is not None:
        try:
            services.move(actor, a.id, action, expected_version=a.version)
        except AssessmentError as error:
            session.show(error)
            return
    work.go(page, a.id)


for org in paging.rows(listed, "work_enterprises_page", of=(search.strip(), status, district, industry)):
    with st.container(border=True):
        st.markdown(t("work.enterprises.name", name=plain(org.name)))
        st.caption(work.enterprise_caption(org))
        st.caption(work.contact_caption(org))
        for a in diagnoses[org.id]:
            info, button = st.columns([4, 1], vertical_alignment="center")
            info.write(t("work.enterprises.diagnosis", id=a.id, round=t(f"work.round.{a.round}"),
                         status=work.status_name(a.status), answered=a.answered, applicable=a.applicable,
                         level=a.level if a.level is not None else work.NOTHING,
                         due=a.due_date.isoformat() if a.due_date else work.NOTHING))
            if worklist.overdue(actor.role, a, today):
                info.badge(t("work.enterprises.overdue", days=(today - a.due_date).days), color="red")
            if a.id in returns:
                with info:
                    work.listed_return_notice(a, returns[a.id])
            moves = work.offered(actor, a)
            action = next((m for m in ("start", "resume") if m in moves), None)
            if action is not None:
                label, page = t(f"work.action.{action}"), "interview"
            elif work.editable(actor, a):
                label, page = t("work.enterprises.continue"), "interview"
            else:
                label, page = t("work.enterprises.results"), "results"
            with button:
                if st.button(label, key=f"work_open_{a.id}", type="primary" if page == "interview" else "secondary"):
                    open_diagnosis(a, action, page)
