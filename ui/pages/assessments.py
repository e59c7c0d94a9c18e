"""The enterprise's own assessments (self-assessments and diagnoses): start a self-assessment, request a
diagnosis, open one, start a follow-up round; the rounds compared on a radar of subdomain maturities."""

from __future__ import annotations

import streamlit as st

from assessment.errors import AssessmentError
from assessment.questionnaire import by_id
from ui import builtin, paging, session, work
from ui.i18n import t

FOLLOWED_UP = ("approved", "completed")  # a round that is over may be followed by the next one
COMPARED = 4  # rounds on the radar at first

actor = session.require_actor()
services = session.services()
st.title(t("nav.assessments"))
work.resume()
work.show_flash()
enterprise_id = actor.organisation_id


def create(make, page: str | None = None) -> None:
    """Create an assessment with ``make``: open it on ``page``, or else say it was requested."""
    try:
        new_id = make()
    except AssessmentError as error:
        session.show(error)
        return
    if page is None:
        work.flash(t("work.assessments.requested", id=new_id))
        st.rerun()
    work.go(page, new_id)


start_column, request_column = st.columns(2)
if start_column.button(t("work.assessments.start_self"), type="primary"):
    create(lambda: services.start_self_assessment(actor, enterprise_id), "interview")
if request_column.button(t("work.assessments.request")):
    create(lambda: services.request_diagnosis(actor, enterprise_id))

rows = services.list_assessments(actor)
if not rows:
    st.info(t("work.assessments.empty"))
    st.stop()

for a, _ in paging.rows(rows[::-1], "work_assessments_page"):  # the newest first
    with st.container(border=True):
        q = work.listed_questionnaire(a)
        info, buttons = st.columns([3, 2], vertical_alignment="center")
        info.markdown(t("work.assessments.heading", id=a.id, kind=work.kind_name(a.kind),
                        round=t(f"work.round.{a.round}"), status=work.status_name(a.status)))
        info.caption(t("work.assessments.caption", created=a.created_at.strftime("%Y-%m-%d"),
                       level=work.level_label(q, a.level) if a.answered else work.NOTHING,
                       score=f"{a.score:.2f}" if a.score is not None and a.answered else work.NOTHING,
                       answered=a.answered, applicable=a.applicable))
        interview, results, files, follow = buttons.columns(4)
        if interview.button(t("work.assessments.continue") if work.editable(actor, a) else
                            t("work.assessments.answers"), key=f"work_interview_{a.id}"):
            work.go("interview", a.id)
        if results.button(t("work.assessments.results"), key=f"work_results_{a.id}"):
            work.go("results", a.id)
        if files.button(t("work.assessments.files"), key=f"work_files_{a.id}"):
            work.go("files", a.id)
        if a.status in FOLLOWED_UP and follow.button(t("work.assessments.follow_up"), key=f"work_follow_{a.id}"):
            create(lambda a=a: services.create_follow_up(actor, a.id),
                   "interview" if work.WORKED_ON.get(actor.role) == a.kind else None)


# -- rounds compared ---------------------------------------------------------------------------------------------

scored = {a.id: (a, result) for a, _ in rows if a.answered and (result := work.stored_result(a)) is not None}
if scored:
    st.subheader(t("work.assessments.history"))
    names = {a.id: t("work.assessments.series", id=a.id, kind=work.kind_name(a.kind),
                     date=a.created_at.strftime("%Y-%m-%d"), level=result.level) for a, result in scored.values()}
    chosen = st.multiselect(t("work.assessments.compare"), list(names), default=list(names)[-COMPARED:],
                            format_func=names.get, key="work_compare",
                            placeholder=builtin.choose_many())
    if chosen:
        # Rounds on different versions meet by subdomain: the newest version names them.
        q = by_id(scored[chosen[0]][0].questionnaire_id)
        builtin.chart(work.radar(q, [(names[i], work.maturities(scored[i][1])) for i in chosen]))
