"""The questionnaire: the enterprise profile, then one subdomain at a time; every change is saved at once.

The provider answers its in-progress diagnosis, the enterprise its draft self-assessment; others see it read-only.
The assessment and the subdomain are in the URL (``assessment``, ``sd``), so a refresh resumes exactly there.
"""

from __future__ import annotations

import streamlit as st

from assessment import worklist
from assessment.errors import AssessmentError
from assessment.inputs import REVENUE_BANDS, SYSTEMS
from assessment.workflow import EDITABLE
from ui import builtin, session, work
from ui.i18n import lang, t

actor = session.require_actor()
services = session.services()
st.title(t("nav.interview"))

kind = work.WORKED_ON.get(actor.role)
rows = sorted((row for status in (EDITABLE[kind] if kind else ())
               for row in services.list_assessments(actor, kind=kind, status=status)), key=lambda row: row[0].id)
assessment_id = work.pick("interview", rows)
if assessment_id is None:
    st.info(t("work.interview.choose") if rows else t("work.interview.none"))
    st.stop()
view = work.load(actor, assessment_id)
q = work.questionnaire(view)
work.seen_version(view)
work.header(view, q)
can_edit = work.editable(actor, view.assessment)
if not can_edit:
    st.info(t("work.interview.read_only", status=work.status_name(view.assessment.status)))


SUBDOMAIN_ANCHOR = "work-subdomain"  # the heading of the subdomain shown


def show_subdomain(code: str) -> None:
    """Show one subdomain's requirements (and leave the "unanswered only" view)."""
    st.session_state["work_sd"] = code
    st.session_state["work_unanswered"] = False
    st.query_params[work.SUBDOMAIN_PARAM] = code


# A diagnosis the bureau returned: its comment first, with a way to each subdomain it names.
returned, named = work.open_return(view, q)
if returned is not None:
    work.return_notice(q, returned, named)
    with st.container(horizontal=True):
        for code in named.subdomains:
            items = [item for item in named.items if q.item_by_id[item].subdomain == code]
            st.button(t("work.interview.open_named", subdomain=work.subdomain_name(q, code),
                        items=t("work.returned.separator").join(items)) if items
                      else work.subdomain_name(q, code), key=f"work_named_{code}", on_click=show_subdomain,
                      args=(code,))


# -- the enterprise profile ------------------------------------------------------------------------------------

PERCENTS = ("nc_rate", "networking_rate", "data_collection_rate")
TEXTS = ("main_products", "other_systems", "industrial_platform", "cybersecurity")


def profile_values(aid: int) -> dict:
    state = st.session_state
    used, cloud = state[work.key(aid, "p", "systems")], state[work.key(aid, "p", "cloud")]
    values = {"employees": state[work.key(aid, "p", "employees")],
              "revenue_band": state[work.key(aid, "p", "revenue_band")],
              "systems": {name: {"in_use": name in used, "cloud": name in cloud}
                          for name in SYSTEMS if name in used or name in cloud}}
    values |= {name: state[work.key(aid, "p", name)] for name in PERCENTS}
    values |= {name: (state[work.key(aid, "p", name)] or "").strip() or None for name in TEXTS}
    return values


def save_profile(aid: int) -> None:
    work.attempt(aid, f"{aid}.profile", lambda version: services.save_profile(
        actor, aid, expected_version=version, **profile_values(aid)))


def profile_form() -> None:
    aid, profile = view.assessment.id, view.profile
    stored = {name: getattr(profile, name, None) for name in (
        "employees", "revenue_band", *PERCENTS, *TEXTS)}
    systems = (profile.systems if profile is not None else None) or {}
    for name, value in stored.items():
        work.init(work.key(aid, "p", name), value if value is not None or name not in TEXTS else "")
    work.init(work.key(aid, "p", "systems"), [name for name in SYSTEMS if systems.get(name, {}).get("in_use")])
    work.init(work.key(aid, "p", "cloud"), [name for name in SYSTEMS if systems.get(name, {}).get("cloud")])

    error = work.error_at(f"{aid}.profile")
    by_field = session.by_field(error, (*stored, "systems"))

    def problems(field: str) -> None:
        if field in by_field:
            session.show(by_field[field])

    with st.expander(t("work.profile.title"), expanded=profile is None or bool(by_field)), \
            st.form(f"work_profile_{aid}", border=False):
        problems("")
        left, right = st.columns(2)
        with left:
            st.number_input(t("work.profile.employees"), value=None, step=1, key=work.key(aid, "p", "employees"),
                            disabled=not can_edit)
            problems("employees")
        with right:
            st.selectbox(t("work.profile.revenue_band"), REVENUE_BANDS, index=None,
                         key=work.key(aid, "p", "revenue_band"), format_func=lambda b: t(f"work.revenue.{b}"),
                         placeholder=t("work.choose"), disabled=not can_edit)
            problems("revenue_band")
        for column, name in zip(st.columns(3), PERCENTS, strict=True):
            with column:
                st.number_input(t(f"work.profile.{name}"), value=None, step=1.0, format="%.1f",
                                key=work.key(aid, "p", name), help=t("work.profile.percent_help"),
                                disabled=not can_edit)
                problems(name)
        st.text_area(t("work.profile.main_products"), key=work.key(aid, "p", "main_products"), height=68,
                     disabled=not can_edit)
        problems("main_products")
        left, right = st.columns(2)
        left.multiselect(t("work.profile.systems"), SYSTEMS, key=work.key(aid, "p", "systems"),
                         placeholder=t("work.choose"), disabled=not can_edit)
        right.multiselect(t("work.profile.cloud"), SYSTEMS, key=work.key(aid, "p", "cloud"),
                          placeholder=t("work.choose"), disabled=not can_edit)
        problems("systems")
        st.text_input(t("work.profile.other_systems"), key=work.key(aid, "p", "other_systems"),
                      disabled=not can_edit)
        problems("other_systems")
        st.text_area(t("work.profile.industrial_platform"), key=work.key(aid, "p", "industrial_platform"),
                     height=68, disabled=not can_edit)
        problems("industrial_platform")
        st.text_area(t("work.profile.cybersecurity"), key=work.key(aid, "p", "cybersecurity"), height=68,
                     disabled=not can_edit)
        problems("cybersecurity")
        st.form_submit_button(t("work.profile.save"), on_click=save_profile, args=(aid,), disabled=not can_edit,
                              type="primary")


profile_form()

with st.expander(t("work.interview.glossary")):  # the acronyms the requirements use (MES, APS, SCADA, …)
    builtin.table(work.glossary_table(), hide_index=True)


# -- the requirements, one subdomain at a time -----------------------------------------------------------------


def save_answer(aid: int, item_id: str) -> None:
    state = st.session_state
    code = state.get(work.key(aid, "a", item_id))
    if code is None:
        return
    note = (state.get(work.key(aid, "n", item_id)) or "").strip() or None
    evidence = (state.get(work.key(aid, "e", item_id)) or "").strip() or None
    work.attempt(aid, f"{aid}.{item_id}", lambda version: services.save_answer(
        actor, aid, item_id, code, note=note, evidence=evidence, expected_version=version))


def forget_unanswered(aid: int) -> None:
    """The "unanswered only" view takes the requirements left afresh (answered ones stay until then, for notes)."""
    st.session_state.pop(f"work_unanswered_{aid}", None)


def requirement(current, aid: int, item, scale: dict[str, str]) -> None:
    """One requirement: its text, the answer, a note and the evidence; each change is saved at once."""
    answer = current.answers.get(item.id)
    answer_key, note_key, evidence_key = (work.key(aid, part, item.id) for part in ("a", "n", "e"))
    work.init(answer_key, answer.code if answer else None)
    work.init(note_key, (answer.note if answer else None) or "")
    work.init(evidence_key, (answer.evidence if answer else None) or "")
    with st.container(border=True):
        heading = "work.interview.item_heading_named" if item.id in named.items else "work.interview.item_heading"
        st.markdown(t(heading, id=item.id, level=work.level_label(q, item.level)))
        st.markdown(item.text(lang()))
        st.caption(t("work.interview.guidance", text=item.guidance(lang())))
        if (rubric := work.rubric_text(q, item)) is not None:
            st.caption(rubric)
        st.radio(t("work.interview.answer", id=item.id), list(scale), index=None, key=answer_key,
                 format_func=scale.get, horizontal=True, on_change=save_answer, args=(aid, item.id),
                 disabled=not can_edit, label_visibility="collapsed")
        left, right = st.columns(2)
        blank = answer is None
        left.text_area(t("work.interview.note"), key=note_key, height=68, on_change=save_answer,
                       args=(aid, item.id), disabled=not can_edit or blank,
                       placeholder=t("work.interview.answer_first") if blank else None)
        right.text_area(t("work.interview.evidence"), key=evidence_key, height=68, on_change=save_answer,
                        args=(aid, item.id), disabled=not can_edit or blank,
                        placeholder=t("work.interview.answer_first") if blank else None)
        work.show_error(f"{aid}.{item.id}")


def unanswered_view(current, aid: int, scale: dict[str, str], left: int) -> None:
    """The requirements left unanswered across the questionnaire, a batch at a time, under their subdomains. The
    batch stays as taken (an answered requirement stays, for its note and evidence) until the next one is asked."""
    shown = st.session_state.get(f"work_unanswered_{aid}")
    if shown is None:
        shown = st.session_state[f"work_unanswered_{aid}"] = work.unanswered(current, q)
    if left:
        st.caption(t("work.interview.unanswered_caption", left=left, shown=len(shown)))
    heading = None
    for item_id in shown:
        item = q.item_by_id[item_id]
        if item.subdomain != heading:
            heading = item.subdomain
            st.subheader(work.subdomain_name(q, heading))
        requirement(current, aid, item, scale)
    st.button(t("work.interview.more_unanswered"), key="work_more_unanswered", on_click=forget_unanswered,
              args=(aid,), disabled=left == 0, type="primary")


def turn_to(code: str) -> None:
    """``show_subdomain`` from the end of the page: the browser is taken up to the new subdomain's heading."""
    show_subdomain(code)
    st.session_state["work_scroll"] = st.session_state.get("work_scroll", 0) + 1


def neighbours(codes: list[str], sd: str) -> None:
    """At the end of a subdomain, where its last requirement was answered: the previous and the next one."""
    position = codes.index(sd)
    before = codes[position - 1] if position > 0 else None
    following = codes[position + 1] if position + 1 < len(codes) else None
    back, forward = st.columns(2)
    back.button(t("work.interview.previous", subdomain=work.subdomain_name(q, before)) if before
                else t("work.interview.previous_none"), key="work_previous_sd", on_click=turn_to,
                args=(before,), disabled=before is None, width="stretch")
    forward.button(t("work.interview.next", subdomain=work.subdomain_name(q, following)) if following
                   else t("work.interview.next_none"), key="work_next_sd", on_click=turn_to,
                   args=(following,), disabled=following is None, width="stretch", type="primary")
    if (turn := st.session_state.pop("work_scroll", None)) is not None:
        work.scroll_to(SUBDOMAIN_ANCHOR, turn)


@st.fragment
def requirements(aid: int) -> None:
    # Answering runs only this fragment, often for hours: that is activity, which keeps the sign-in alive. (A
    # fragment's run is outside app.py's last-resort handler, so a refusal here is shown here.)
    try:
        session.keep_alive()
    except AssessmentError as error:
        session.show(error)
        st.stop()  # as work.load does: a stopped run keeps the inputs' state, a finished one would drop it
    # A full run hands over the assessment it loaded; a run of this fragment alone loads it again.
    current = st.session_state.pop("work_view", None) or work.load(actor, aid)
    work.seen_version(current)
    if work.conflict_notice(aid):
        st.divider()
    counts = work.progress(current, q)
    if not counts:
        st.info(t("work.interview.no_items"))
        return
    answered, applicable = sum(done for done, _ in counts.values()), sum(total for _, total in counts.values())
    st.progress(answered / applicable if applicable else 0.0,
                text=t("work.interview.progress", answered=answered, applicable=applicable))
    work.saved_notice(aid)

    codes = list(counts)
    wanted = st.query_params.get(work.SUBDOMAIN_PARAM)
    # Opened without a subdomain (from a list, or just chosen): the first the bureau's comment names, else the
    # first with a requirement left.
    sd = wanted if wanted in counts else worklist.first_subdomain(counts, named.subdomains)
    st.session_state["work_sd"] = sd
    st.query_params[work.SUBDOMAIN_PARAM] = sd  # in the address, so a refresh comes back here
    labels = {code: t("work.interview.subdomain_option", element=q.node_names[q.element_of[q.domain_of[code]]](lang()),
                      subdomain=work.subdomain_name(q, code), answered=done, total=total,
                      mark=t("work.interview.complete_mark") if done == total else "")
              for code, (done, total) in counts.items()}
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    left.selectbox(t("work.interview.subdomain"), codes, key="work_sd", format_func=labels.get,
                   on_change=lambda: show_subdomain(st.session_state["work_sd"]), placeholder=builtin.choose())
    after = codes.index(sd) + 1  # the next subdomain with a requirement left, after this one and round again
    unfinished = next((code for code in codes[after:] + codes[:after] if counts[code][0] < counts[code][1]), None)
    right.button(t("work.interview.next_unanswered"), on_click=show_subdomain, args=(unfinished,),
                 disabled=unfinished is None, key="work_next")
    only_unanswered = st.toggle(t("work.interview.unanswered_only"), key="work_unanswered",
                                on_change=forget_unanswered, args=(aid,))
    if unfinished is None:
        st.success(t("work.interview.all_answered"))

    scale = {option.code: option.label(lang()) for option in q.scale}
    if only_unanswered:
        unanswered_view(current, aid, scale, applicable - answered)
        return

    domain = q.domain_of[sd]
    st.subheader(work.subdomain_name(q, sd), anchor=SUBDOMAIN_ANCHOR)
    st.caption(t("work.interview.domain_caption", domain=q.node_names[domain](lang()),
                 element=q.node_names[q.element_of[domain]](lang()), answered=counts[sd][0], total=counts[sd][1]))
    for item in work.items_of(q, current.assessment.profile, sd):
        requirement(current, aid, item, scale)

    neighbours(codes, sd)


st.session_state["work_view"] = view
requirements(view.assessment.id)
