"""What the work pages (enterprises, assessments, interview, results, files) share.

- The assessment being worked on is named in the URL query parameter ``assessment`` so a refresh resumes it;
  the tab also remembers the last one it opened, for pages reached through the sidebar (which drops the query).
- The version the user sees: every change names it (``expected_version``); it is taken from the service's return
  value after the user's own change. When the database holds a newer version that the user did not make, every
  input of that assessment is read again from the database (``seen_version``) — unless a conflict is pending, which
  only the reload button clears: so what is on screen is always what a change is checked against.
- Names in the UI language, the figures, the report and template bytes and the import of uploaded templates.

Pages stay thin: they call the services and render. The services check every permission; what this module
decides about roles only chooses which buttons to offer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd
import streamlit as st
from plotly import graph_objects

from assessment import reference, results, workflow, worklist
from assessment.accounts import Actor
from assessment.analytics import peer_stats
from assessment.errors import AssessmentError
from assessment.models import Assessment, Organisation, Review
from assessment.plan import Raise, SubdomainGap
from assessment.questionnaire import Item, Questionnaire
from assessment.rounds import RoundComparison
from assessment.scoring import Result, score
from assessment.services import AssessmentView, ConflictError, Services, questionnaire_of
from reports import report
from reports.template import MAX_UPLOAD_BYTES, build_template, read_uploads, stop_if_cancelled
from ui import session
from ui.i18n import lang, t
from ui.user_text import chart_text, plain

PARAM = "assessment"  # the query parameter naming the assessment worked on
SUBDOMAIN_PARAM = "sd"  # the query parameter naming the subdomain shown by the interview page
WORKED_ON = {"provider_user": workflow.DIAGNOSIS, "enterprise_user": workflow.SELF}  # the kind each role answers
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
UPLOAD_MB = max(1, MAX_UPLOAD_BYTES // (1024 * 1024))
NOTHING = "—"

_REMEMBERED = "work_assessment"
_VERSIONS = "work_versions"
_CONFLICTS = "work_conflicts"
_ERRORS = "work_errors"
_SAVED = "work_saved"
_FLASH = "work_flash"


# ---------------------------------------------------------------------------------------------------------
# Which assessment


def requested_id() -> int | None:
    """The assessment named by the query parameter, else the one this tab last opened; None when neither."""
    raw = st.query_params.get(PARAM)
    if raw is None:
        remembered = st.session_state.get(_REMEMBERED)
        if remembered is not None:
            st.query_params[PARAM] = str(remembered)
        return remembered
    if not is_id(raw):
        st.error(t("work.bad_param", value=plain(raw[:40])))  # the address is anyone's text: never Markdown
        st.stop()
    return int(raw)


def is_id(raw: str) -> bool:
    """Whether an address's text can name an assessment: ASCII digits (str.isdigit takes '²' too, which int()
    refuses) within the database's integer range (PostgreSQL refused 3000000000 with a raw error)."""
    return raw.isascii() and raw.isdigit() and len(raw) <= 9


def choose(assessment_id: int | None) -> None:
    """Work on another assessment (or none); the subdomain shown starts afresh."""
    if assessment_id is None:
        st.query_params.pop(PARAM, None)
        st.session_state.pop(_REMEMBERED, None)
    else:
        st.query_params[PARAM] = str(assessment_id)
    st.query_params.pop(SUBDOMAIN_PARAM, None)


def pick(page: str, rows: list[tuple[Assessment, Organisation]]) -> int | None:
    """A selectbox of ``rows`` bound to the query parameter; returns the assessment asked for (which may be one
    the list does not hold: the services decide whether the actor may see it)."""
    current = requested_id()
    options = [a.id for a, _ in reversed(rows)]
    names = {a.id: assessment_label(a, org) for a, org in rows}
    key = f"work_pick_{page}"
    st.session_state[key] = current if current in names else None
    st.selectbox(t("work.pick"), options, index=None, key=key, format_func=names.get,
                 placeholder=t("work.pick_placeholder"), on_change=lambda: choose(st.session_state[key]))
    return current


def load(actor: Actor, assessment_id: int) -> AssessmentView:
    """The assessment as the actor may see it; the services' refusal (and nothing else) otherwise."""
    try:
        view = session.services().get_assessment(actor, assessment_id)
    except AssessmentError as error:
        if st.session_state.get(_REMEMBERED) == assessment_id:
            del st.session_state[_REMEMBERED]
        session.show(error)
        st.stop()
    st.session_state[_REMEMBERED] = assessment_id
    return view


def questionnaire(view: AssessmentView) -> Questionnaire:
    """The questionnaire version the assessment is on; its refusal, when that version is gone, stops the page."""
    try:
        return questionnaire_of(view.assessment)
    except AssessmentError as error:
        session.show(error)
        st.stop()


def listed_questionnaire(a: Assessment) -> Questionnaire | None:
    """The questionnaire version of an assessment in a list, or None when it is no longer installed (the list then
    names nothing of it rather than stopping)."""
    try:
        return questionnaire_of(a)
    except AssessmentError:
        return None


def resume() -> None:
    """A refresh signs the tab out (sessions live in memory) and, once signed in again, the role's first page opens
    with the address the tab had. An address naming a subdomain was the questionnaire's: go back exactly there;
    one naming only an assessment offers its pages."""
    raw, subdomain = st.query_params.get(PARAM), st.query_params.get(SUBDOMAIN_PARAM)
    if not raw or not is_id(raw):
        return
    if subdomain:
        st.switch_page("ui/pages/interview.py", query_params={PARAM: raw, SUBDOMAIN_PARAM: subdomain})
    with st.container(border=True):
        st.caption(t("work.resume", id=raw))
        for column, page in zip(st.columns(3), ("interview", "results", "files"), strict=True):
            column.page_link(f"ui/pages/{page}.py", label=t(f"nav.{page}"), query_params={PARAM: raw})


def go(page: str, assessment_id: int) -> None:
    """Open another work page on ``assessment_id``."""
    st.session_state[_REMEMBERED] = assessment_id
    st.switch_page(f"ui/pages/{page}.py", query_params={PARAM: str(assessment_id)})


# ---------------------------------------------------------------------------------------------------------
# The version the user sees, changes and their outcome


def key(assessment_id: int, *parts: str) -> str:
    """The session-state key of an input showing part of an assessment (all are read again on a resync)."""
    return f"wk{assessment_id}." + ".".join(parts)


def init(name: str, value) -> None:
    """Show ``value`` (from the database) in the input ``name`` unless it already shows something."""
    if name not in st.session_state:
        st.session_state[name] = value


def seen_version(view: AssessmentView) -> int:
    """The version the user's inputs show; a newer one made by someone else is read into every input."""
    a = view.assessment
    versions = st.session_state.setdefault(_VERSIONS, {})
    if versions.get(a.id) != a.version and a.id not in st.session_state.get(_CONFLICTS, {}):
        prefix = key(a.id)
        for name in [name for name in st.session_state if isinstance(name, str) and name.startswith(prefix)]:
            del st.session_state[name]
        versions[a.id] = a.version
    return versions[a.id]


def expected(assessment_id: int) -> int:
    """The version the user's inputs show; a session that lost it must reload before changing anything."""
    version = st.session_state.get(_VERSIONS, {}).get(assessment_id)
    if version is None:
        raise ConflictError(f"assessment {assessment_id}: reload it before changing it", code="conflict")
    return version


def reload(assessment_id: int) -> None:
    """Forget the pending conflict and the version seen: the next run reads everything again."""
    st.session_state.get(_CONFLICTS, {}).pop(assessment_id, None)
    st.session_state.get(_VERSIONS, {}).pop(assessment_id, None)


def attempt(assessment_id: int, where: str, change: Callable[[int], object]) -> bool:
    """Make a change with the version seen. A new version returned is kept; a conflict waits for a reload;
    any other refusal is kept for ``show_error(where)``. Returns whether the change was made."""
    try:
        if not session.holds():  # widgets' callbacks run before the page: an ended sign-in changes nothing
            return False
        outcome = change(expected(assessment_id))
    except ConflictError as error:  # also when the version seen is unknown
        st.session_state.setdefault(_CONFLICTS, {})[assessment_id] = error
        return False
    except AssessmentError as error:
        st.session_state.setdefault(_ERRORS, {})[where] = error
        return False
    if isinstance(outcome, tuple):  # add_project returns (project id, version)
        outcome = outcome[-1]
    if isinstance(outcome, int) and not isinstance(outcome, bool):
        st.session_state.setdefault(_VERSIONS, {})[assessment_id] = outcome
    st.session_state.setdefault(_ERRORS, {}).pop(where, None)
    st.session_state[_SAVED] = (assessment_id, _clock())
    return True


def error_at(where: str) -> AssessmentError | None:
    """The refusal of the last change made at ``where`` (once)."""
    return st.session_state.get(_ERRORS, {}).pop(where, None)


def show_error(where: str) -> None:
    if (error := error_at(where)) is not None:
        session.show(error)


def conflict_notice(assessment_id: int) -> bool:
    """The pending conflict's message and a reload button; whether one is pending."""
    error = st.session_state.get(_CONFLICTS, {}).get(assessment_id)
    if error is None:
        return False
    session.show(error)
    if st.button(t("work.reload"), key=f"work_reload_{assessment_id}", type="primary"):
        reload(assessment_id)
        st.rerun()
    return True


def saved_notice(assessment_id: int) -> None:
    saved = st.session_state.get(_SAVED)
    if saved and saved[0] == assessment_id:
        st.caption(t("work.saved_at", time=saved[1]))


def scroll_to(anchor: str, turn: int) -> None:
    """Bring the heading ``anchor`` to the top of the browser window, once (``turn`` counts the requests, so each
    one is a new element and runs again). Streamlit keeps the scroll position over a rerun: a button at the end of
    a long page would otherwise leave the user at the end of the next one."""
    st.html(f"<script>/* {turn} */ setTimeout(() => document.getElementById({anchor!r})"
            "?.scrollIntoView({block: 'start'}), 100)</script>", unsafe_allow_javascript=True)


def flash(message: str) -> None:
    """A message shown once on the next run (after a rerun or page switch)."""
    st.session_state[_FLASH] = message


def show_flash() -> None:
    if (message := st.session_state.pop(_FLASH, None)) is not None:
        st.success(message)


def _clock() -> str:
    zone = None
    try:
        zone = ZoneInfo(st.context.timezone) if st.context.timezone else None
    except (ZoneInfoNotFoundError, ValueError):
        zone = None
    return datetime.now(zone).strftime("%H:%M:%S")


# ---------------------------------------------------------------------------------------------------------
# What to offer (the services decide)


def offered(actor: Actor, a: Assessment) -> list[str]:
    """The workflow moves the actor's role makes from the assessment's status."""
    return [move.action for move in workflow.TRANSITIONS
            if (move.kind, move.source, move.role) == (a.kind, a.status, actor.role)]


def editable(actor: Actor, a: Assessment) -> bool:
    """Whether to show the assessment's inputs enabled: the kind the role answers, in a status that allows it."""
    return WORKED_ON.get(actor.role) == a.kind and a.status in workflow.EDITABLE[a.kind]


# ---------------------------------------------------------------------------------------------------------
# Names in the UI language


def status_name(status: str) -> str:
    return t(f"work.status.{status}")


def kind_name(kind: str) -> str:
    return t(f"work.kind.{kind}")


def assessment_label(a: Assessment, enterprise: Organisation) -> str:
    return t("work.assessment_label", id=a.id, enterprise=enterprise.name, kind=kind_name(a.kind),
             status=status_name(a.status))


def level_label(q: Questionnaire | None, level: int | None) -> str:
    if level is None:
        return NOTHING
    if q is None:  # its questionnaire is no longer installed: the number alone
        return str(level)
    name = q.level_name(level)(lang())
    return t("work.level", level=level, name=name) if level >= 1 else name


def district_name(code: str | None) -> str:
    return _named(reference.district, code)


def industry_name(code: str | None) -> str:
    return _named(reference.industry, code, with_code=True)


def _named(find, code: str | None, with_code: bool = False) -> str:
    if not code:
        return NOTHING
    try:
        name = find(code).label(lang())
    except KeyError:
        return code
    return f"{code} {name}" if with_code else name


def subdomain_name(q: Questionnaire, code: str | None) -> str:
    if not code:
        return NOTHING
    name = q.node_names.get(code)
    return f"{code} {name(lang())}" if name else code


def contact_caption(org: Organisation) -> str:
    """The enterprise's contact person and phone (as typed), or that none is recorded."""
    if not (org.contact_name or org.contact_phone):
        return t("work.enterprises.no_contact")
    return t("work.enterprises.contact", name=plain(org.contact_name or NOTHING),
             phone=plain(org.contact_phone or NOTHING))


def enterprise_caption(org: Organisation) -> str:
    return t("work.enterprise_caption", credit_code=org.credit_code or NOTHING,
             district=district_name(org.district), industry=industry_name(org.industry))


def header(view: AssessmentView, q: Questionnaire) -> None:
    """Whose assessment this is, of which kind and round, in which status."""
    a = view.assessment
    st.subheader(plain(view.enterprise.name))
    st.caption(enterprise_caption(view.enterprise))
    st.caption(t("work.assessment_caption", id=a.id, kind=kind_name(a.kind), status=status_name(a.status),
                 round=t(f"work.round.{a.round}"), provider=plain(view.provider.name) if view.provider else NOTHING,
                 questionnaire=q.title(lang()), version=q.version, profile=t(f"work.production.{a.profile}")))


# ---------------------------------------------------------------------------------------------------------
# The questionnaire in order, progress, results


def subdomain_order(q: Questionnaire) -> list[str]:
    """Subdomain codes by element, domain and subdomain as the questionnaire lists them."""
    elements = {e.code: n for n, e in enumerate(q.elements)}
    domains = {d.code: n for n, d in enumerate(q.domains)}
    listed = {sd.code: n for n, sd in enumerate(q.subdomains)}
    return sorted(listed, key=lambda sd: (elements[q.element_of[q.domain_of[sd]]], domains[q.domain_of[sd]],
                                          listed[sd]))


def items_of(q: Questionnaire, profile: str, subdomain: str) -> list[Item]:
    return sorted((item for item in q.items_for(profile) if item.subdomain == subdomain),
                  key=lambda item: (item.level, q.items.index(item)))


def progress(view: AssessmentView, q: Questionnaire) -> dict[str, tuple[int, int]]:
    """Subdomain → (answered, applicable requirements), in questionnaire order (subdomains without any left out)."""
    counts = {code: [0, 0] for code in subdomain_order(q)}
    for item in q.items_for(view.assessment.profile):
        counts[item.subdomain][1] += 1
        counts[item.subdomain][0] += item.id in view.answers
    return {code: (done, total) for code, (done, total) in counts.items() if total}


UNANSWERED_BATCH = 20  # requirements shown at once by the interview's "unanswered only" view


def unanswered(view: AssessmentView, q: Questionnaire, limit: int = UNANSWERED_BATCH) -> list[str]:
    """The first ``limit`` requirements left unanswered, in questionnaire order."""
    left: list[str] = []
    for code, (done, total) in progress(view, q).items():
        if done < total:
            left += [item.id for item in items_of(q, view.assessment.profile, code) if item.id not in view.answers]
            if len(left) >= limit:
                break
    return left[:limit]


# ---------------------------------------------------------------------------------------------------------
# Work that came back: the bureau's return comment and what it names


def open_return(view: AssessmentView, q: Questionnaire) -> tuple[Review | None, worklist.Named]:
    """The bureau's return still open on the assessment (None when there is none) and what its comment names."""
    review = worklist.open_return(view.assessment, view.reviews)
    if review is None:
        return None, worklist.Named()
    return review, named_by(q, view.assessment, review)


def named_by(q: Questionnaire, a: Assessment, review: Review) -> worklist.Named:
    return worklist.named_in(q, review.comment, subdomain_order(q), a.profile)


def named_requirements(q: Questionnaire, named: worklist.Named) -> str:
    """The requirements a comment names, each with its subdomain, as one line."""
    return t("work.returned.separator").join(
        t("work.returned.item", id=item, subdomain=subdomain_name(q, q.item_by_id[item].subdomain))
        for item in named.items)


def return_notice(q: Questionnaire | None, review: Review, named: worklist.Named) -> None:
    """The bureau's return comment (as typed) and the requirements it names."""
    st.warning(t("work.returned.comment", date=review.decided_at.strftime("%Y-%m-%d"),
                 comment=plain(review.comment or NOTHING)))
    if q is not None and named.items:
        st.caption(t("work.returned.named", items=named_requirements(q, named)))


def listed_return_notice(a: Assessment, review: Review) -> None:
    """``return_notice`` in a list of assessments (a questionnaire no longer known names nothing)."""
    q = listed_questionnaire(a)
    return_notice(q, review, named_by(q, a, review) if q is not None else worklist.Named())


def codes_of(view: AssessmentView) -> dict[str, str]:
    return {item_id: row.code for item_id, row in view.answers.items()}


def stored_result(a: Assessment) -> Result | None:
    """The result the services cached with the assessment (None before the first answer)."""
    return results.stored_result(a)


def result_of(view: AssessmentView, q: Questionnaire) -> Result:
    """The cached result of the assessment, or its answers scored (unanswered counted as the lowest answer)."""
    cached = stored_result(view.assessment)
    if cached is not None:
        return cached
    return score(q, codes_of(view), view.assessment.profile, allow_incomplete=True)


def rubric_text(q: Questionnaire, item: Item) -> str | None:
    """An item's rubric for a caption below its guidance: a heading and one line per rating, in the user's language;
    None for an item without one. Shown as written: a questionnaire file may be a bureau's own."""
    lines = q.rubric_lines(item, lang())
    if not lines:
        return None
    return "  \n".join([t("work.interview.rubric"), *map(plain, lines)])  # two spaces: a line break in Markdown


def glossary_table() -> pd.DataFrame:
    """The glossary of the questionnaires' acronyms in the user's language: term, expansion, meaning."""
    language = lang()
    return pd.DataFrame({
        t("work.glossary.term"): [entry.term for entry in reference.glossary()],
        t("work.glossary.expansion"): [entry.label(language) for entry in reference.glossary()],
        t("work.glossary.meaning"): [entry.meaning.label(language) for entry in reference.glossary()],
    })


def radar(q: Questionnaire, series: Iterable[tuple[str, dict[str, float]]]) -> graph_objects.Figure:
    """A radar of subdomain maturities (0–5), one trace per named series."""
    order = subdomain_order(q)
    theta = [subdomain_name(q, code) for code in order]
    figure = graph_objects.Figure()
    for name, maturities in series:
        values = [round(maturities.get(code, 0.0), 2) for code in order]
        figure.add_trace(graph_objects.Scatterpolar(r=[*values, values[0]], theta=[*theta, theta[0]],
                                                    name=chart_text(name), fill="toself", opacity=0.6))
    # The legend goes below and the sides keep room for the subdomain names: on a phone a legend at the right
    # pushed the names on the left out of the picture.
    figure.update_layout(polar={"radialaxis": {"range": [0, 5], "dtick": 1}, "angularaxis": {"tickfont": {"size": 11}}},
                         showlegend=True,
                         legend={"orientation": "h", "x": 0.5, "xanchor": "center", "y": -0.05, "yanchor": "top"},
                         margin={"l": 90, "r": 90, "t": 30, "b": 30}, height=520)
    return figure


def gain_text(q: Questionnaire, step: Raise) -> str:
    """A raise's gain in words: how much of its level's score (out of 100 %) it adds."""
    return t("work.results.gain_value", gain=f"{step.gain * 100:.1f}", level=step.level)


def gain_explained(q: Questionnaire) -> str:
    top = max((option for option in q.scale if option.value is not None), key=lambda option: option.value)
    return t("work.results.gain_explained", top=top.label(lang()), threshold=f"{q.rule.threshold * 100:g}")


def levels_not_met_text(gap: SubdomainGap, result: Result) -> str:
    """The levels up to the target a subdomain has not met, or why there is none to name."""
    if gap.levels_not_met:
        return t("work.results.separator").join(map(str, gap.levels_not_met))
    if gap.target in gap.without_requirements:
        return t("work.results.no_requirements_at", level=gap.target)
    if gap.target not in result.subdomains[gap.subdomain].levels:
        return t("work.results.nothing_rated_at", level=gap.target)
    return t("work.results.met_but_short") if gap.gap > 1e-9 else t("work.results.all_met")


def maturities(result: Result) -> dict[str, float]:
    return {code: sub.maturity for code, sub in result.subdomains.items()}


def rounds_columns(q: Questionnaire, compared: RoundComparison) -> dict[str, list[str]]:
    """The columns of the table comparing a follow-up round with the round before: level, S, then each subdomain's
    maturity (blank where that round's version has no such subdomain), with the change."""

    def number(value: float | None, sign: str = "") -> str:
        return NOTHING if value is None else f"{value:{sign}.2f}"

    rows = [(t("work.results.level"), str(compared.level_before), str(compared.level_after),
             f"{compared.level_after - compared.level_before:+d}"),
            (t("work.results.score"), number(compared.score_before), number(compared.score_after),
             number(compared.score_after - compared.score_before, "+"))]
    rows += [(subdomain_name(q, change.subdomain), number(change.before), number(change.after),
              number(change.change, "+")) for change in compared.maturities]
    headings = ("", t("work.results.previous_round", id=compared.previous_id), t("work.results.this_round"),
                t("work.results.change"))
    return {heading: [row[k] for row in rows] for k, heading in enumerate(headings)}


# ---------------------------------------------------------------------------------------------------------
# Files: the report, the offline template, imports


def report_bytes(services: Services, actor: Actor, view: AssessmentView, q: Questionnaire, language: str) -> bytes:
    """The diagnostic report workbook of ``view`` (with the peer figures and, for a follow-up round, the comparison
    with the round before as ``actor`` may see it), built when asked for."""
    peers = peer_stats(services.store, view.enterprise.id, view.assessment.id)
    follow_up = services.previous_round(actor, view.assessment.id)
    return report.write(report.from_view(view, q, peers, follow_up), lang=language)


ENTERPRISE_FIELDS = ("name", "credit_code", "district", "industry", "size_class", "production_type", "contact_name",
                     "contact_phone", "contact_email")
PROFILE_FIELDS = ("employees", "revenue_band", "main_products", "nc_rate", "networking_rate", "data_collection_rate",
                  "systems", "other_systems", "industrial_platform", "cybersecurity")


def template_bytes(view: AssessmentView, q: Questionnaire, language: str, with_answers: bool = False) -> bytes:
    """The offline interview template of the assessment's questionnaire and profile, made for this assessment
    (its import comes back here), with the enterprise filled in and, when asked, the answers saved so far."""
    enterprise = {name: getattr(view.enterprise, name) for name in ENTERPRISE_FIELDS}
    if view.profile is not None:
        enterprise |= {name: getattr(view.profile, name) for name in PROFILE_FIELDS}
    enterprise = {name: value for name, value in enterprise.items() if value not in (None, "", {})}
    answers = {item_id: {"code": row.code, "note": row.note, "evidence": row.evidence}
               for item_id, row in view.answers.items()} if with_answers else None
    return build_template(q, lang=language, profile=view.assessment.profile, enterprise=enterprise, answers=answers,
                          assessment_id=view.assessment.id, assessment_version=view.assessment.version,
                          answers_as_of=view.as_of)


@dataclass
class Imported:
    """The outcome of one uploaded workbook: where it went, or why nothing of it was imported."""

    name: str
    assessment_id: int | None = None
    answers: int = 0
    new_enterprise: bool = False
    error: AssessmentError | None = None


def import_uploads(services: Services, actor: Actor, files: Iterable[tuple[str, bytes]], *, overwrite: bool = False,
                   cancelled: Callable[[], bool] | None = None) -> list[Imported]:
    """Each uploaded file (.xlsx, or a .zip of them) on its own, all or nothing, as the signed-in actor;
    ``overwrite``: also where answers were changed online since the template was made. Every file is read before
    any is imported; ImportCancelled as soon as ``cancelled()`` says the session ended, and then no file that was
    not imported whole yet is."""
    outcomes: list[Imported] = []
    for member, filled in read_uploads(files, cancelled=cancelled):
        if isinstance(filled, AssessmentError):
            outcomes.append(Imported(member, error=filled))
            continue
        stop_if_cancelled(cancelled, member)
        try:
            assessment_id, new = services.import_filled(actor, **filled.import_arguments(), overwrite=overwrite)
        except AssessmentError as error:
            outcomes.append(Imported(member, error=error))  # the page names the file above its refusal
            continue
        outcomes.append(Imported(member, assessment_id, len(filled.answers), new))
    return outcomes
