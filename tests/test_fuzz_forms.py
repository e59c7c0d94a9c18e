"""Fuzz: every form field the app takes, checked as the pages hand them to the service layer — organisations
(names in any script, unified social credit codes, districts, industries, contacts), the enterprise profile
(employees, revenue band, percentages, systems), recommended projects (investment, expected benefit, dates),
notes and evidence, workflow comments and ratings, users and passwords.

The outcome is the stored value or a located error naming the field, with a code the interface can say in
Chinese and English; on any error the database is exactly as before."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from string import Formatter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assessment import reference
from assessment.errors import AssessmentError
from assessment.inputs import (
    FORM_CODES,
    InputError,
    OrganisationInput,
    ProfileInput,
    ProjectInput,
    _shown,
    checked,
)
from assessment.reference import CREDIT_CODE_ALPHABET, credit_code_check_character, validate_credit_code
from tests.conftest import PASSWORD
from tests.test_fuzz import assert_readable, assert_unchanged, fuzz, snapshot
from ui.i18n import LANGUAGES, words
from ui.session import said

# --- field values ---------------------------------------------------------------------------------------------

ODD_TEXT = st.sampled_from([
    "", " ", "\t", "\n", "=HYPERLINK(\"http://x\")", "+1", "-1", "@SUM(A1)", "苏州精密机械有限公司", "Ωμέγα ΑΕ",
    "شركة المصنع", "Фабрика", "工場株式会社", "🏭🏭🏭", "\u202eevil\u202c", "a\u0000b", "bell\u0007", "\x1b[2J",
    "x" * 199, "x" * 200, "x" * 201, "字" * 5001, "  padded  ", "line\nbreak", "tab\there", "null", "None",
])
TEXT = st.one_of(st.text(max_size=40), st.text(min_size=180, max_size=220), ODD_TEXT)
ANY = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), TEXT,
                st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=4), st.integers(), max_size=2))


@st.composite
def credit_codes(draw) -> str:
    """Valid codes, valid codes typed loosely (lower case, spaces), and codes with one character wrong."""
    body = "".join(draw(st.lists(st.sampled_from(CREDIT_CODE_ALPHABET), min_size=17, max_size=17)))
    code = body + credit_code_check_character(body)
    kind = draw(st.sampled_from(["valid", "loose", "one_wrong", "short", "letters_io", "number"]))
    if kind == "loose":
        return " ".join([code[:6].lower(), code[6:]])
    if kind == "one_wrong":
        at = draw(st.integers(0, 17))
        other = draw(st.sampled_from(CREDIT_CODE_ALPHABET.replace(code[at], "")))
        return code[:at] + other + code[at + 1:]
    if kind == "short":
        return code[: draw(st.integers(0, 17))]
    if kind == "letters_io":
        return code[:5] + draw(st.sampled_from("IOSVZ")) + code[6:]
    return code if kind == "valid" else str(draw(st.integers(0, 10**18)))


DISTRICTS = [d.code for d in reference.districts()]
INDUSTRIES = [i.code for i in reference.industries()]


def choice(values) -> st.SearchStrategy:
    return st.one_of(st.sampled_from(values), TEXT, ANY) if values else ANY


ORGANISATION = {
    "kind": st.one_of(st.sampled_from(["enterprise", "provider", "bureau"]), TEXT),
    "name": TEXT,
    "credit_code": st.one_of(credit_codes(), TEXT, st.none()),
    "district": choice(DISTRICTS),
    "industry": choice(INDUSTRIES),
    "size_class": choice(["large", "medium", "small", "micro"]),
    "production_type": choice(["discrete", "process"]),
    "contact_name": TEXT,
    "contact_phone": st.one_of(st.from_regex(r"\A[0-9+\-() ]{3,45}\Z"), TEXT),
    "contact_email": st.one_of(st.emails(), TEXT),
}
PERCENT = st.one_of(st.floats(-1e6, 1e6), st.integers(-200, 300), st.floats(), TEXT, st.sampled_from(["65%", "6,5"]))
PROFILE = {
    "employees": st.one_of(st.integers(-10, 2_000_000), st.floats(), TEXT),
    "revenue_band": choice(["under_20m", "20m_100m", "100m_400m", "400m_2b", "over_2b"]),
    "main_products": TEXT, "nc_rate": PERCENT, "networking_rate": PERCENT, "data_collection_rate": PERCENT,
    "systems": st.one_of(st.dictionaries(st.sampled_from(["ERP", "MES", "XYZ", "mes"]), st.one_of(
        st.fixed_dictionaries({"in_use": st.booleans(), "cloud": st.one_of(st.booleans(), ANY)}), ANY), max_size=3),
        ANY),
    "other_systems": TEXT, "industrial_platform": TEXT, "cybersecurity": TEXT,
}
PROJECT = {
    "title": TEXT,
    "subdomain": st.one_of(st.sampled_from(["OS", "PO", "SA", "XX", "po"]), TEXT),
    "target_level": st.one_of(st.integers(-2, 8), ANY),
    "investment": st.one_of(st.decimals(allow_nan=True, allow_infinity=True, places=None), st.floats(),
                            st.integers(-10, 10**9), st.sampled_from(["12.5", "1e3", "1,000", "0.001", "-0"]), TEXT),
    "expected_benefit": TEXT,
    "priority": choice(["high", "medium", "low"]),
    "status": choice(["planned", "started", "completed"]),
    "start_date": st.one_of(st.dates(), st.datetimes(), st.sampled_from(["2024-02-30", "2024-13-01", "昨天",
                                                                         "2024-01-01"]), ANY),
}


@st.composite
def form(draw, fields: dict[str, st.SearchStrategy], base: dict | None = None) -> dict:
    """Some of the form's fields with values of every kind, sometimes with a field it does not have."""
    data = dict(base or {})
    for name in draw(st.lists(st.sampled_from(sorted(fields)), unique=True, max_size=len(fields))):
        data[name] = draw(fields[name])
    if draw(st.integers(0, 9)) == 0:
        data[draw(st.text(min_size=1, max_size=12))] = draw(ANY)
    return data


def enterprise_form() -> st.SearchStrategy:
    """Mostly a complete enterprise with some fields changed: deep enough to reach every check."""
    complete = {"kind": "enterprise", "name": "企业", "credit_code": "91320500000000001" +
                credit_code_check_character("91320500000000001"), "district": DISTRICTS[0],
                "industry": "C34", "size_class": "medium", "production_type": "discrete"}
    return form(ORGANISATION, complete)


# --- the property of a checked form ---------------------------------------------------------------------------

WORDS = {lang: words(lang) for lang in LANGUAGES}


def assert_located(error: InputError, data: dict, model) -> None:
    """Every message names a field the form has, or one the user sent; every problem has words in zh and en."""
    assert_readable(error.messages)
    assert len(error.problems) == len(error.messages), "a message without its code"
    known = {*model.model_fields, *(_shown(key) for key in data), "form"}
    for message, (code, params) in zip(error.messages, error.problems, strict=True):
        assert message.startswith(f"{params['path']}: "), (message, params)
        assert params["field"] in known, params
        assert code.removeprefix("form.") in FORM_CODES, code
        for lang in LANGUAGES:
            template = WORDS[lang].get(f"errors.{code}")
            assert template, f"no {lang} words for {code}"
            assert {name for _, name, _, _ in Formatter().parse(template) if name} <= set(params), (code, params)
    for lang in LANGUAGES:
        assert said(error, lang)
    assert said(error, "zh") != "\n\n".join(error.messages), "the Chinese interface would show English"


def checked_or_located(model, data: dict):
    try:
        return checked(model, data)
    except InputError as exc:
        assert_located(exc, data, model)
        return exc


@fuzz(1500)
@given(data=st.one_of(form(ORGANISATION), enterprise_form()))
def test_organisation_form(data):
    outcome = checked_or_located(OrganisationInput, data)
    if isinstance(outcome, OrganisationInput):
        assert outcome.name == outcome.name.strip()
        assert outcome.name
        if outcome.credit_code is not None:
            assert validate_credit_code(outcome.credit_code) == outcome.credit_code
        if outcome.kind == "enterprise":
            assert outcome.district in DISTRICTS


@fuzz(900)
@given(data=form(PROFILE))
def test_profile_form(data):
    outcome = checked_or_located(ProfileInput, data)
    if isinstance(outcome, ProfileInput):
        for name in ("nc_rate", "networking_rate", "data_collection_rate"):
            value = getattr(outcome, name)
            assert value is None or 0 <= value <= 100


@fuzz(1100)
@given(data=form(PROJECT, {"title": "MES"}))
def test_project_form(data):
    outcome = checked_or_located(ProjectInput, data)
    if isinstance(outcome, ProjectInput):
        assert outcome.investment is None or Decimal(0) <= outcome.investment <= Decimal(10_000_000)
        assert outcome.start_date is None or isinstance(outcome.start_date, date)


@fuzz(500)
@given(code=credit_codes())
def test_credit_codes_are_checked_to_the_last_character(code):
    loose = re.sub(r"\s", "", code).upper()
    well_formed = len(loose) == 18 and all(ch in CREDIT_CODE_ALPHABET for ch in loose) and \
        loose[-1] == credit_code_check_character(loose[:-1])
    outcome = checked_or_located(OrganisationInput, {"kind": "provider", "name": "服务商", "credit_code": code})
    assert isinstance(outcome, OrganisationInput) == well_formed, (code, outcome)
    if well_formed:
        assert outcome.credit_code == loose
    else:
        assert outcome.problems[0][0].startswith("form.credit_code_")


# --- through the services, on both databases -----------------------------------------------------------------


def through_service(services, call, *args, **kwargs):
    """A service call; on refusal, located messages and an unchanged database."""
    before = snapshot(services.store)
    try:
        return call(*args, **kwargs)
    except AssessmentError as exc:
        assert_readable(exc.messages)
        assert_unchanged(services.store, before, f"{call.__name__}{args}")
        return exc


def version_of(services, actor, assessment_id: int) -> int:
    return services.get_assessment(actor, assessment_id).assessment.version


OPERATIONS = st.sampled_from(["create_organisation", "update_organisation", "save_profile", "add_project",
                              "update_project", "save_answer", "confirm", "create_user", "search"])


# The many cases on SQLite, fewer on PostgreSQL (which refuses more: a NUL in any text, for one).
@pytest.mark.parametrize("backend", ["sqlite"])
@fuzz(100)
@given(operation=OPERATIONS, data=st.data())
def test_forms_through_the_services(world_store, operation, data):
    form_through_the_services(*world_store, operation, data)


@pytest.mark.parametrize("backend", [pytest.param("postgres", marks=pytest.mark.postgres)])
@fuzz(40)
@given(operation=OPERATIONS, data=st.data())
def test_forms_through_the_services_on_postgresql(world_store, operation, data):
    form_through_the_services(*world_store, operation, data)


def form_through_the_services(services, w, operation: str, data) -> None:
    if operation == "create_organisation":
        values = data.draw(st.one_of(form(ORGANISATION), enterprise_form()))
        outcome = through_service(services, services.create_organisation, w.admin, **values)
        if not isinstance(outcome, AssessmentError):
            assert services.get_organisation(w.admin, outcome).name == checked(OrganisationInput, values).name
    elif operation == "update_organisation":
        values = data.draw(form({k: v for k, v in ORGANISATION.items() if k != "kind"}))
        through_service(services, services.update_organisation, w.admin, w.provider_a_id, **values)
    elif operation == "save_profile":
        values = data.draw(form(PROFILE))
        version = version_of(services, w.provider_a, w.diagnosis_1)
        outcome = through_service(services, services.save_profile, w.provider_a, w.diagnosis_1,
                                  expected_version=version, **values)
        if not isinstance(outcome, AssessmentError):
            stored = services.get_assessment(w.provider_a, w.diagnosis_1).profile
            expected = checked(ProfileInput, values)
            assert stored.nc_rate == expected.nc_rate
            assert stored.employees == expected.employees
    elif operation in ("add_project", "update_project"):
        values = data.draw(form(PROJECT, {"title": "MES"} if operation == "add_project" else {}))
        version = version_of(services, w.provider_a, w.diagnosis_1)
        call, target = ((services.add_project, w.diagnosis_1) if operation == "add_project"
                        else (services.update_project, w.project_1))
        outcome = through_service(services, call, w.provider_a, target, expected_version=version, **values)
        if isinstance(outcome, InputError) and outcome.problems:
            assert_located(outcome, values, ProjectInput)
    elif operation == "save_answer":
        item = data.draw(st.sampled_from(["OS.1.1", "PO.2.1", "XX.1.1", ""]))
        code = data.draw(st.one_of(st.sampled_from(["full", "mostly", "partly", "none", "na"]), TEXT))
        note, evidence = data.draw(st.one_of(st.none(), TEXT)), data.draw(st.one_of(st.none(), TEXT))
        version = version_of(services, w.provider_a, w.diagnosis_1)
        outcome = through_service(services, services.save_answer, w.provider_a, w.diagnosis_1, item, code,
                                  expected_version=version, note=note, evidence=evidence)
        if not isinstance(outcome, AssessmentError):
            assert services.get_assessment(w.provider_a, w.diagnosis_1).answers[item].code == code
    elif operation == "confirm":
        rating = data.draw(st.one_of(st.integers(-3, 9), ANY))
        comment = data.draw(st.one_of(st.none(), TEXT))
        version = version_of(services, w.enterprise_1, w.submitted_1)
        outcome = through_service(services, services.move, w.enterprise_1, w.submitted_1, "confirm",
                                  expected_version=version, rating=rating, comment=comment)
        if not isinstance(outcome, AssessmentError):  # once confirmed, later examples meet a refusal
            assert rating in (1, 2, 3, 4, 5)
    else:
        accounts_and_search(services, w, operation, data)


def accounts_and_search(services, w, operation: str, data) -> None:
    if operation == "search":
        text = data.draw(st.one_of(TEXT, credit_codes()))
        found = through_service(services, services.list_enterprises, w.admin, search=text)
        assert not isinstance(found, AssessmentError)
        assert all(org.kind == "enterprise" for org in found)
    else:
        username = data.draw(st.one_of(st.from_regex(r"\A[a-z][a-z0-9._@-]{2,20}\Z"), TEXT))
        display = data.draw(TEXT)
        password = data.draw(st.one_of(st.just(PASSWORD), TEXT, st.from_regex(r"\A[a-zA-Z0-9]{8,14}\Z")))
        role = data.draw(st.one_of(st.sampled_from(["provider_user", "enterprise_user", "bureau_admin"]), TEXT))
        through_service(services, services.create_user, w.admin, username, display, password, role, w.provider_a_id)


def test_a_display_name_with_a_nul_is_refused_and_changes_nothing(world_store):
    # Found by the fuzzing: PostgreSQL refuses a NUL in text, and the error reached the user as SQL.
    services, w = world_store
    before = snapshot(services.store)
    with pytest.raises(InputError, match=r"display_name: contains a control character \(U\+0000\)"):
        services.create_user(w.admin, "nul_name", "甲\x00乙", PASSWORD, "provider_user", w.provider_a_id)
    assert_unchanged(services.store, before, "create_user")
    found = [org.id for org in services.list_enterprises(w.admin, search="企业\x00")]
    assert found == [org.id for org in services.list_enterprises(w.admin, search="企业")]
    assert found


def test_every_form_code_and_field_has_words_in_both_languages():
    fields = {*OrganisationInput.model_fields, *ProfileInput.model_fields, *ProjectInput.model_fields, "form"}
    for lang in LANGUAGES:
        assert {f"errors.form.{code}" for code in FORM_CODES} <= set(WORDS[lang]), lang
        assert {f"field.{name}" for name in fields} <= set(WORDS[lang]), lang
