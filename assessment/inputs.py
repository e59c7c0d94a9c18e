"""What users type into forms, checked: organisations, the enterprise profile, recommended projects.

``checked(Model, data)`` returns the model or raises InputError with one ``field: what is wrong`` line per problem.
"""

from __future__ import annotations

import unicodedata
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from assessment import reference
from assessment.errors import AssessmentError

SYSTEMS = ("ERP", "MES", "PLM", "SCADA", "WMS", "QMS", "EMS", "APS", "CRM", "SRM")
REVENUE_BANDS = ("under_20m", "20m_100m", "100m_400m", "400m_2b", "over_2b")  # 营业收入 in yuan
PRIORITIES = ("high", "medium", "low")
PROJECT_STATUSES = ("planned", "started", "completed")


class InputError(AssessmentError):
    """A form or file field that cannot be accepted.

    ``problems`` holds one ``(code, params)`` per message when the messages come from a form's checks, so that
    the interface can say each of them in the user's language; the first one is also the error's own code.
    """

    def __init__(self, messages: list[str] | str, *, problems: list[tuple[str, dict]] | None = None,
                 code: str | None = None, **params):
        super().__init__(messages, code=code, problems=problems, **params)


def _plain_text(value: str) -> str:
    """Trimmed, and free of control characters (a line break is kept)."""
    value = value.strip()
    for ch in value:
        if unicodedata.category(ch) == "Cc" and ch not in "\n\t":
            raise PydanticCustomError("control_character", "contains a control character (U+{char})",
                                      {"char": f"{ord(ch):04X}"})
    return value


def _known(lookup):
    def check(value: str | None) -> str | None:
        if value is None:
            return None
        try:
            lookup(value)
        except KeyError as exc:
            raise PydanticCustomError("unknown_choice", "{detail}", {"detail": str(exc.args[0])}) from None
        return value
    return check


def _credit_code(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return reference.validate_credit_code(value)
    except ValueError as exc:  # the same steps as the reference's check, to say which one failed
        code = "".join(value.split()).upper()
        wrong = [(at, ch) for at, ch in enumerate(code, start=1) if ch not in reference.CREDIT_CODE_ALPHABET]
        if len(code) != reference.CREDIT_CODE_LENGTH:
            kind, params = "credit_code_length", {"length": len(code)}
        elif wrong:
            kind, params = "credit_code_character", {"position": wrong[0][0], "char": wrong[0][1]}
        else:
            kind, params = "credit_code_check", {"found": code[-1],
                                                 "expected": reference.credit_code_check_character(code[:-1])}
        raise PydanticCustomError(kind, "{detail}", {"detail": str(exc), **params}) from None


def _required(value: str) -> str:
    if not value:
        raise PydanticCustomError("required", "required")
    return value


Line = Annotated[str, Field(max_length=200), AfterValidator(_plain_text), AfterValidator(_required)]
LongText = Annotated[str, Field(max_length=5000), AfterValidator(_plain_text)]
Percent = Annotated[float, Field(ge=0, le=100)]


class Form(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class OrganisationInput(Form):
    kind: Literal["enterprise", "provider", "bureau"]
    name: Line
    credit_code: Annotated[str | None, AfterValidator(_credit_code)] = None
    district: Annotated[str | None, AfterValidator(_known(reference.district))] = None
    industry: Annotated[str | None, AfterValidator(_known(reference.industry))] = None
    size_class: Literal["large", "medium", "small", "micro"] | None = None
    production_type: Literal["discrete", "process"] | None = None
    contact_name: Annotated[str, Field(max_length=100), AfterValidator(_plain_text)] | None = None
    contact_phone: Annotated[str, Field(pattern=r"^[0-9+\-() ]{5,40}$")] | None = None
    contact_email: Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=200)] | None = None

    @model_validator(mode="after")
    def _enterprise_is_complete(self) -> OrganisationInput:
        if self.kind == "enterprise":
            missing = [f for f in ("credit_code", "district", "industry", "size_class", "production_type")
                       if getattr(self, f) is None]
            if missing:
                raise PydanticCustomError("enterprise_needs", "an enterprise needs {missing}",
                                          {"missing": ", ".join(missing)})
        return self


class SystemUse(Form):
    in_use: bool = False
    cloud: bool = False  # runs on a cloud platform (上云上平台)


class ProfileInput(Form):
    employees: Annotated[int, Field(ge=0, le=1_000_000)] | None = None
    revenue_band: Literal[REVENUE_BANDS] | None = None  # type: ignore[valid-type]
    main_products: LongText | None = None
    nc_rate: Percent | None = None  # 关键工序数控化率
    networking_rate: Percent | None = None  # 设备联网率
    data_collection_rate: Percent | None = None  # 数据采集率
    systems: dict[Literal[SYSTEMS], SystemUse] = Field(default_factory=dict)  # type: ignore[valid-type]
    other_systems: LongText | None = None
    industrial_platform: LongText | None = None
    cybersecurity: LongText | None = None


class ProjectInput(Form):
    title: Line
    subdomain: str | None = None  # checked against the assessment's questionnaire by the service
    target_level: Annotated[int, Field(ge=1, le=5)] | None = None
    investment: Annotated[Decimal, Field(ge=0, le=10_000_000, decimal_places=2)] | None = None  # 万元
    expected_benefit: LongText | None = None
    priority: Literal[PRIORITIES] = "medium"  # type: ignore[valid-type]
    status: Literal[PROJECT_STATUSES] = "planned"  # type: ignore[valid-type]
    start_date: date | None = None


FormT = TypeVar("FormT", bound=Form)


def checked(model: type[FormT], data: dict[str, Any], where: str = "") -> FormT:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise input_error(exc, where) from None


def checked_value(kind: Any, value: Any, field: str) -> Any:
    """One value checked on its own (a user's display name against ``Line``, a note against ``LongText``), or
    InputError naming ``field``."""
    try:
        return TypeAdapter(kind).validate_python(value)
    except ValidationError as exc:
        raise input_error(exc, field=field) from None


def input_error(exc: ValidationError, where: str = "", field: str = "form") -> InputError:
    """One ``field: what is wrong`` line per problem, each with a code and its parameters (the field, a limit).
    ``field`` names a lone value checked on its own (its errors have no path)."""
    prefix = f"{where}: " if where else ""
    messages, problems = [], []
    for err in exc.errors():
        path = ".".join(_shown(part) for part in err["loc"]) or field
        message, code, params = _say(err)
        messages.append(f"{prefix}{path}: {message}")
        problems.append((code, {"field": _shown(err["loc"][0]) if err["loc"] else field, "path": path, **params}))
    return InputError(messages, problems=problems)


def form_problem(err: dict, field: str) -> tuple[str, dict[str, Any]]:
    """The code and parameters of one pydantic error of the value of ``field`` checked on its own (a workbook's
    cell against a form's rules), said like the form's own problems."""
    _, code, params = _say(err)
    return code, {"field": field, "path": field, **params}


def _shown(part: Any) -> str:
    """A part of a field's path; a key a user typed is quoted when it holds invisible characters."""
    text = str(part)
    return text if text.isprintable() else repr(text)


# pydantic's error types → the codes the interface has words for (ui/locales/*/errors.yaml, `errors.form.*`)
_CODES = {
    "missing": "required", "extra_forbidden": "unknown_field",
    "string_too_long": "too_long", "too_long": "too_long", "string_too_short": "required",
    "greater_than_equal": "too_small", "greater_than": "too_small",
    "less_than_equal": "too_large", "less_than": "too_large",
    "string_pattern_mismatch": "bad_format", "literal_error": "not_one_of", "enum": "not_one_of",
    "int_parsing": "not_a_number", "int_type": "not_a_number", "float_parsing": "not_a_number",
    "float_type": "not_a_number", "decimal_parsing": "not_a_number", "decimal_type": "not_a_number",
    "finite_number": "not_a_number", "int_parsing_size": "not_a_number", "int_from_float": "not_whole",
    "decimal_max_places": "too_precise", "decimal_max_digits": "too_precise",
    "decimal_whole_digits": "too_precise",
    "date_parsing": "not_a_date", "date_type": "not_a_date", "date_from_datetime_inexact": "not_a_date",
    "date_from_datetime_parsing": "not_a_date", "date_past": "not_a_date", "date_future": "not_a_date",
    "bool_parsing": "not_yes_no", "bool_type": "not_yes_no",
    "string_type": "not_text", "string_unicode": "not_text",
    "dict_type": "not_a_group", "model_type": "not_a_group", "model_attributes_type": "not_a_group",
}
CUSTOM_CODES = ("control_character", "unknown_choice", "credit_code_length", "credit_code_character",
                "credit_code_check", "required", "enterprise_needs")
FORM_CODES = tuple(sorted({*_CODES.values(), *CUSTOM_CODES, "invalid"}))
_LIMITS = ("max_length", "ge", "gt", "le", "lt", "decimal_places", "max_digits", "whole_digits")


def _say(err: dict) -> tuple[str, str, dict[str, Any]]:
    """The English message, the code and its parameters of one pydantic error."""
    message = err["msg"]
    for noise in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(noise)
    message = {"missing": "required", "extra_forbidden": "unknown field"}.get(err["type"], message)
    context = err.get("ctx") or {}
    code = err["type"] if err["type"] in CUSTOM_CODES else _CODES.get(err["type"], "invalid")
    params: dict[str, Any] = {key: str(value) for key, value in context.items() if isinstance(value, str | int | float)
                              or key in _LIMITS}
    limit = next((context[key] for key in _LIMITS if key in context), None)
    if isinstance(limit, float) and limit.is_integer():
        limit = int(limit)  # a percentage's 100, not 100.0
    params["limit"] = "" if limit is None else str(limit)
    params.setdefault("expected", str(context.get("expected", "")))
    params["message"] = message
    return message, f"form.{code}", params
