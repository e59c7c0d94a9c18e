"""What users type into forms, checked: organisations, the enterprise profile, recommended projects.

``checked(Model, data)`` returns the model or raises InputError with one ``field: what is wrong`` line per problem.
"""

from __future__ import annotations

import unicodedata
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

from assessment import reference
from assessment.errors import AssessmentError

SYSTEMS = ("ERP", "MES", "PLM", "SCADA", "WMS", "QMS", "EMS", "APS", "CRM", "SRM")
REVENUE_BANDS = ("under_20m", "20m_100m", "100m_400m", "400m_2b", "over_2b")  # 营业收入 in yuan
PRIORITIES = ("high", "medium", "low")
PROJECT_STATUSES = ("planned", "started", "completed")


class InputError(AssessmentError):
    """A form or file field that cannot be accepted."""


def _plain_text(value: str) -> str:
    """Trimmed, and free of control characters (a line break is kept)."""
    value = value.strip()
    for ch in value:
        if unicodedata.category(ch) == "Cc" and ch not in "\n\t":
            raise ValueError(f"contains a control character (U+{ord(ch):04X})")
    return value


def _known(lookup):
    def check(value: str | None) -> str | None:
        if value is None:
            return None
        try:
            lookup(value)
        except KeyError as exc:
            raise ValueError(exc.args[0]) from None
        return value
    return check


def _credit_code(value: str | None) -> str | None:
    return None if value is None else reference.validate_credit_code(value)


def _required(value: str) -> str:
    if not value:
        raise ValueError("required")
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
                raise ValueError(f"an enterprise needs {', '.join(missing)}")
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
        prefix = f"{where}: " if where else ""
        raise InputError([f"{prefix}{'.'.join(str(p) for p in err['loc']) or 'form'}: {_say(err)}"
                          for err in exc.errors()]) from None


def _say(err: dict) -> str:
    message = err["msg"]
    for noise in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(noise)
    return {"missing": "required", "extra_forbidden": "unknown field"}.get(err["type"], message)
