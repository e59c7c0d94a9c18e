"""The result of an assessment the actor may read: level, scores, radar, improvement plan and gaps; the
recommended projects; the next step of the workflow (submit, complete, confirm and rate) and, after approval,
the progress of each project."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

import pandas as pd
import streamlit as st

from assessment.inputs import PRIORITIES, PROJECT_STATUSES
from assessment.plan import improvement_plan
from assessment.workflow import DIAGNOSIS
from ui import builtin, session, work
from ui.confirm import asked
from ui.i18n import lang, t
from ui.user_text import plain

actor = session.require_actor()
services = session.services()
st.title(t("nav.results"))
work.show_flash()

assessment_id = work.pick("results", services.list_assessments(actor))
if assessment_id is None:
    st.info(t("work.results.none"))
    st.stop()
view = work.load(actor, assessment_id)
q = work.questionnaire(view)
a = view.assessment
aid = a.id
work.seen_version(view)
work.header(view, q)
work.conflict_notice(aid)


# -- scores ----------------------------------------------------------------------------------------------------

result = work.result_of(view, q)
codes = work.codes_of(view)
if result.completeness.answered < result.completeness.applicable:
    st.warning(t("work.results.provisional", answered=result.completeness.answered,
                 applicable=result.completeness.applicable))
if not result.weights_official:
    st.info(t("work.results.weights_provisional"))
level_column, score_column, done_column = st.columns(3)
level_column.metric(t("work.results.level"), work.level_label(q, result.level))
score_column.metric(t("work.results.score"), f"{result.score:.2f}")
done_column.metric(t("work.results.completeness"), f"{result.completeness.answered}/{result.completeness.applicable}")

yes, no = t("work.results.met"), t("work.results.not_met")
builtin.table(pd.DataFrame({
    t("work.results.level_column"): [work.level_label(q, n) for n in range(1, len(result.level_scores) + 1)],
    t("work.results.x_column"): [f"X{n} = {x:.3f}" for n, x in enumerate(result.level_scores, start=1)],
    t("work.results.met_column"): [yes if met else no for met in result.met],
}), hide_index=True)

st.subheader(t("work.results.radar"))
builtin.chart(work.radar(q, [(t("work.results.maturity"), work.maturities(result))]))

compared = services.previous_round(actor, aid)
if compared is not None:
    st.subheader(t("work.results.rounds"))
    if not compared.same_version:
        st.info(t("work.results.rounds_versions", before=f"{q.id} {compared.previous_version}",
                  after=f"{q.id} {compared.version}"))
    builtin.table(pd.DataFrame(work.rounds_columns(q, compared)), hide_index=True)


# -- improvement plan and gaps -----------------------------------------------------------------------------------

plan = improvement_plan(q, codes, a.profile, result)
st.subheader(t("work.results.plan"))
scale = {option.code: option.label(lang()) for option in q.scale}
if plan.target_level is None:
    st.success(t("work.results.top_level"))
else:
    st.write(t("work.results.plan_intro", target=work.level_label(q, plan.target_level), steps=len(plan.steps),
               projected=f"{plan.projected_score:.2f}", projected_level=work.level_label(q, plan.projected_level)))
    if not plan.reachable:
        st.warning(t("work.results.unreachable"))
    if plan.steps:
        builtin.table(pd.DataFrame({
            t("work.results.item"): [step.item for step in plan.steps],
            t("work.results.subdomain"): [work.subdomain_name(q, step.subdomain) for step in plan.steps],
            t("work.results.level_column"): [step.level for step in plan.steps],
            t("work.results.answer"): [scale.get(step.answer, t("work.results.unanswered")) for step in plan.steps],
            t("work.results.gain_of_level"): [work.gain_text(q, step) for step in plan.steps],
            t("work.results.requirement"): [q.item_by_id[step.item].text(lang()) for step in plan.steps],
        }), hide_index=True)
        st.caption(work.gain_explained(q))
    st.subheader(t("work.results.gaps"))
    builtin.table(pd.DataFrame({
        t("work.results.subdomain"): [work.subdomain_name(q, gap.subdomain) for gap in plan.gaps],
        t("work.results.maturity"): [round(gap.maturity, 2) for gap in plan.gaps],
        t("work.results.target"): [gap.target for gap in plan.gaps],
        t("work.results.gap"): [round(gap.gap, 2) for gap in plan.gaps],
        t("work.results.levels_not_met"): [work.levels_not_met_text(gap, result) for gap in plan.gaps],
    }), hide_index=True)


# -- recommended projects ----------------------------------------------------------------------------------------

PROJECT_FIELDS = ("title", "subdomain", "target_level", "investment", "expected_benefit", "priority")
can_edit = work.editable(actor, a) and a.kind == DIAGNOSIS
track = actor.role == "enterprise_user" and a.status == "approved"


def project_values(prefix: tuple[str, ...]) -> dict:
    state = st.session_state
    values = {name: state[work.key(aid, *prefix, name)] for name in PROJECT_FIELDS}
    values["title"] = (values["title"] or "").strip()
    values["expected_benefit"] = (values["expected_benefit"] or "").strip() or None
    if values["investment"] is not None:
        try:
            values["investment"] = Decimal(str(values["investment"]))
        except InvalidOperation:
            values["investment"] = str(values["investment"])
    return values


def add_project() -> None:
    if work.attempt(aid, f"{aid}.new", lambda version: services.add_project(
            actor, aid, expected_version=version, **project_values(("new",)))):
        for name in PROJECT_FIELDS:
            st.session_state.pop(work.key(aid, "new", name), None)


def update_project(project_id: int) -> None:
    work.attempt(aid, f"{aid}.p{project_id}", lambda version: services.update_project(
        actor, project_id, expected_version=version, **project_values((f"p{project_id}",))))


def remove_project(project_id: int) -> None:
    work.attempt(aid, f"{aid}.p{project_id}", lambda version: services.remove_project(
        actor, project_id, expected_version=version))


def set_status(project_id: int) -> None:
    state = st.session_state
    work.attempt(aid, f"{aid}.s{project_id}", lambda _version: services.set_project_status(
        actor, project_id, state[work.key(aid, f"s{project_id}", "status")],
        state[work.key(aid, f"s{project_id}", "start_date")]))


def project_form(prefix: str, project=None) -> None:
    """The fields of a project, filled from ``project`` (or empty for a new one)."""
    for name in PROJECT_FIELDS:
        value = getattr(project, name) if project is not None else None
        if name == "investment" and value is not None:
            value = float(value)
        if name in ("title", "expected_benefit"):
            value = value or ""
        work.init(work.key(aid, prefix, name), value if name != "priority" else (value or "medium"))
    st.text_input(t("work.project.title"), key=work.key(aid, prefix, "title"))
    left, middle, right = st.columns(3)
    left.selectbox(t("work.project.subdomain"), work.subdomain_order(q), index=None,
                   key=work.key(aid, prefix, "subdomain"), format_func=lambda code: work.subdomain_name(q, code),
                   placeholder=t("work.choose"))
    middle.selectbox(t("work.project.target_level"), [1, 2, 3, 4, 5], index=None,
                     key=work.key(aid, prefix, "target_level"), format_func=lambda n: work.level_label(q, n),
                     placeholder=t("work.choose"))
    right.selectbox(t("work.project.priority"), PRIORITIES, key=work.key(aid, prefix, "priority"),
                    format_func=lambda p: t(f"work.priority.{p}"), placeholder=builtin.choose())
    st.number_input(t("work.project.investment"), value=None, step=1.0, format="%.2f",
                    key=work.key(aid, prefix, "investment"))
    st.text_area(t("work.project.expected_benefit"), key=work.key(aid, prefix, "expected_benefit"), height=68)


st.subheader(t("work.results.projects"))
work.saved_notice(aid)
if view.projects:
    builtin.table(pd.DataFrame({
        t("work.project.title"): [p.title for p in view.projects],
        t("work.project.subdomain"): [work.subdomain_name(q, p.subdomain) for p in view.projects],
        t("work.project.target_level"): [work.level_label(q, p.target_level) for p in view.projects],
        t("work.project.investment"): [float(p.investment) if p.investment is not None else None
                                       for p in view.projects],
        t("work.project.expected_benefit"): [p.expected_benefit or work.NOTHING for p in view.projects],
        t("work.project.priority"): [t(f"work.priority.{p.priority}") for p in view.projects],
        t("work.project.status"): [t(f"work.project_status.{p.status}") for p in view.projects],
        t("work.project.start_date"): [p.start_date.isoformat() if p.start_date else work.NOTHING
                                       for p in view.projects],
    }), hide_index=True)
    total = sum((p.investment or Decimal(0)) for p in view.projects)
    st.caption(t("work.results.total_investment", total=f"{total:,.2f}"))
else:
    st.caption(t("work.results.no_projects"))

if can_edit:
    for project in view.projects:
        with st.expander(t("work.project.edit", title=plain(project.title))):
            with st.form(f"work_project_{aid}_{project.id}", border=False):
                project_form(f"p{project.id}", project)
                st.form_submit_button(t("work.project.save"), on_click=update_project, args=(project.id,))
            st.button(t("work.project.remove"), key=f"work_remove_{aid}_{project.id}", on_click=remove_project,
                      args=(project.id,))
            work.show_error(f"{aid}.p{project.id}")
    with st.expander(t("work.project.add"), expanded=not view.projects):
        with st.form(f"work_project_{aid}_new", border=False):
            project_form("new")
            st.form_submit_button(t("work.project.add_submit"), on_click=add_project, type="primary")
        work.show_error(f"{aid}.new")

if track and view.projects:
    st.subheader(t("work.results.progress"))
    for project in view.projects:
        prefix = f"s{project.id}"
        work.init(work.key(aid, prefix, "status"), project.status)
        work.init(work.key(aid, prefix, "start_date"), project.start_date)
        with st.form(f"work_progress_{aid}_{project.id}"):
            st.markdown(t("work.project.heading", title=plain(project.title)))
            left, right = st.columns(2)
            left.selectbox(t("work.project.status"), PROJECT_STATUSES, key=work.key(aid, prefix, "status"),
                           format_func=lambda s: t(f"work.project_status.{s}"), placeholder=builtin.choose())
            right.date_input(t("work.project.start_date"), value=None, key=work.key(aid, prefix, "start_date"))
            st.form_submit_button(t("work.project.save_progress"), on_click=set_status, args=(project.id,))
        work.show_error(f"{aid}.s{project.id}")


# -- confirmation, reviews and the next step -----------------------------------------------------------------------

if view.confirmation is not None:
    st.subheader(t("work.results.confirmation"))
    st.write(t("work.results.rating", stars="★" * view.confirmation.rating, rating=view.confirmation.rating))
    if view.confirmation.comment:
        st.caption(plain(view.confirmation.comment))
for review in view.reviews:
    message = t(f"work.results.review_{review.decision}", date=review.decided_at.strftime("%Y-%m-%d"),
                comment=plain(review.comment or work.NOTHING))
    (st.success if review.decision == "approved" else st.warning)(message)


def move(action: str) -> None:
    if work.attempt(aid, f"{aid}.move", lambda version: services.move(actor, aid, action, expected_version=version)):
        work.flash(t(f"work.done.{action}"))


def confirm() -> None:
    state = st.session_state
    comment = (state[work.key(aid, "confirm", "comment")] or "").strip() or None
    if work.attempt(aid, f"{aid}.move", lambda version: services.move(
            actor, aid, "confirm", expected_version=version, rating=state[work.key(aid, "confirm", "rating")],
            comment=comment)):
        work.flash(t("work.done.confirm"))


actions = work.offered(actor, a)
if actions:
    st.subheader(t("work.results.next_step"))
    for action in (action for action in actions if action != "confirm"):
        if action == "submit":  # handed over for good: asked about once more
            if asked(t("work.action.submit"), t("work.question.submit", id=aid), key=f"work_move_{aid}_submit",
                     help=t("work.action_help.submit")):
                move("submit")
                st.rerun()
            continue
        st.button(t(f"work.action.{action}"), key=f"work_move_{aid}_{action}", on_click=move, args=(action,),
                  type="primary", help=t(f"work.action_help.{action}"))
    if "confirm" in actions:
        work.init(work.key(aid, "confirm", "rating"), None)
        work.init(work.key(aid, "confirm", "comment"), "")
        with st.form(f"work_confirm_{aid}"):
            st.radio(t("work.results.rate"), [1, 2, 3, 4, 5], index=None, horizontal=True,
                     key=work.key(aid, "confirm", "rating"),
                     format_func=lambda n: t("work.results.stars", stars="★" * n, rating=n))
            st.text_area(t("work.results.comment"), key=work.key(aid, "confirm", "comment"), height=68)
            st.form_submit_button(t("work.action.confirm"), on_click=confirm, type="primary")
    work.show_error(f"{aid}.move")
