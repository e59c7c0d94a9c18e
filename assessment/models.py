"""The stored records (SQLAlchemy 2). Answers are stored one row per answer; the audit log only grows.

Only the service layer (``assessment.services``) reads and writes these; it checks permissions first.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import JSON, ForeignKey, Index, Numeric, String, Text, false
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)  # stored as UTC, naive: the same on SQLite and PostgreSQL


class Base(DeclarativeBase):
    type_annotation_map: ClassVar = {dict[str, Any]: JSON, list[str]: JSON}


class SignInSession(Base):
    """A signed-in browser: the hash of the token its cookie holds (never the token itself)."""

    __tablename__ = "sessions"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=now)
    last_seen: Mapped[datetime] = mapped_column(default=now)


class Organisation(Base):
    """An enterprise (企业), a service provider (服务商) or a bureau (工信局)."""

    __tablename__ = "organisations"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)  # enterprise | provider | bureau
    name: Mapped[str] = mapped_column(String(200))
    credit_code: Mapped[str | None] = mapped_column(String(18), unique=True)  # 统一社会信用代码
    district: Mapped[str | None] = mapped_column(String(40), index=True)
    industry: Mapped[str | None] = mapped_column(String(3), index=True)  # GB/T 4754-2017 division, C13–C43
    size_class: Mapped[str | None] = mapped_column(String(8))  # large | medium | small | micro
    production_type: Mapped[str | None] = mapped_column(String(8))  # discrete | process
    contact_name: Mapped[str | None] = mapped_column(String(100))
    contact_phone: Mapped[str | None] = mapped_column(String(40))
    contact_email: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=now)


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(200))  # argon2id; never logged or shown
    role: Mapped[str] = mapped_column(String(20))  # bureau_admin | bureau_analyst | provider_user | enterprise_user
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    districts: Mapped[list[str] | None] = mapped_column()  # an analyst's scope; None: every district
    active: Mapped[bool] = mapped_column(default=True)
    # Set when an administrator resets the password: the one-time password must be changed at the next sign-in.
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default=false())
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column()
    last_login_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=now)

    def __repr__(self) -> str:  # keeps the hash out of logs and tracebacks
        return f"User(id={self.id}, username={self.username!r}, role={self.role})"


class Assessment(Base):
    """One diagnosis (by a provider) or self-assessment (by the enterprise) of one enterprise."""

    __tablename__ = "assessments"
    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    provider_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # diagnosis | self
    questionnaire_id: Mapped[str] = mapped_column(String(64))
    questionnaire_version: Mapped[str] = mapped_column(String(32))
    questionnaire_sha256: Mapped[str] = mapped_column(String(64))
    profile: Mapped[str] = mapped_column(String(10))  # discrete | process
    round: Mapped[str] = mapped_column(String(10), default="baseline")  # baseline | follow_up
    previous_id: Mapped[int | None] = mapped_column(ForeignKey("assessments.id"))
    status: Mapped[str] = mapped_column(String(12), index=True)
    due_date: Mapped[date | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=now)
    updated_at: Mapped[datetime] = mapped_column(default=now)
    assigned_at: Mapped[datetime | None] = mapped_column()
    submitted_at: Mapped[datetime | None] = mapped_column()
    confirmed_at: Mapped[datetime | None] = mapped_column()
    decided_at: Mapped[datetime | None] = mapped_column()
    version: Mapped[int] = mapped_column(default=1)  # optimistic lock: every change raises it by one
    result: Mapped[dict[str, Any] | None] = mapped_column()  # the cached Result, JSON
    score: Mapped[float | None] = mapped_column()
    level: Mapped[int | None] = mapped_column(index=True)
    answered: Mapped[int] = mapped_column(default=0)
    applicable: Mapped[int] = mapped_column(default=0)


class Maturity(Base):
    """An assessment's maturity in one subdomain (0–5), kept in long format so aggregates run in the database."""

    __tablename__ = "maturities"
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id"), primary_key=True)
    subdomain: Mapped[str] = mapped_column(String(16), primary_key=True)
    value: Mapped[float] = mapped_column()

    # Aggregates read every row: an index holding the value too answers them without touching the table.
    __table_args__ = (Index("ix_maturities_covering", "assessment_id", "subdomain", "value"),)


class EnterpriseProfile(Base):
    """Facts collected in a diagnosis: size, products and the digital baseline (数字化基础)."""

    __tablename__ = "enterprise_profiles"
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id"), primary_key=True)
    employees: Mapped[int | None] = mapped_column()
    revenue_band: Mapped[str | None] = mapped_column(String(20))
    main_products: Mapped[str | None] = mapped_column(Text)
    nc_rate: Mapped[float | None] = mapped_column()  # 关键工序数控化率, %
    networking_rate: Mapped[float | None] = mapped_column()  # 设备联网率, %
    data_collection_rate: Mapped[float | None] = mapped_column()  # 数据采集率, %
    systems: Mapped[dict[str, Any] | None] = mapped_column()  # {"ERP": {"in_use": true, "cloud": false}, …}
    other_systems: Mapped[str | None] = mapped_column(Text)
    industrial_platform: Mapped[str | None] = mapped_column(Text)  # industrial internet platform in use
    cybersecurity: Mapped[str | None] = mapped_column(Text)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(default=now)


class Answer(Base):
    __tablename__ = "answers"
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id"), primary_key=True)
    item_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    code: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    evidence: Mapped[str | None] = mapped_column(Text)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(default=now)


class Project(Base):
    """A recommended improvement project (推荐项目) of a diagnosis."""

    __tablename__ = "projects"
    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    subdomain: Mapped[str | None] = mapped_column(String(16))
    target_level: Mapped[int | None] = mapped_column()
    investment: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))  # 万元
    expected_benefit: Mapped[str | None] = mapped_column(Text)
    priority: Mapped[str] = mapped_column(String(8), default="medium")  # high | medium | low
    status: Mapped[str] = mapped_column(String(10), default="planned")  # planned | started | completed
    start_date: Mapped[date | None] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(default=now)


class Confirmation(Base):
    """The enterprise confirms its diagnosis and rates the provider (1–5)."""

    __tablename__ = "confirmations"
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id"), primary_key=True)
    rating: Mapped[int] = mapped_column()
    comment: Mapped[str | None] = mapped_column(Text)
    confirmed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # None: recorded on paper
    confirmed_at: Mapped[datetime] = mapped_column(default=now)


class Review(Base):
    """A bureau decision on a diagnosis: approved, or returned with a comment."""

    __tablename__ = "reviews"
    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id"), index=True)
    decision: Mapped[str] = mapped_column(String(10))  # approved | returned
    comment: Mapped[str | None] = mapped_column(Text)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime] = mapped_column(default=now)


class AuditEntry(Base):
    """Append-only: the application has no path that updates or deletes a row (and the database refuses)."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=now, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(40))
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str] = mapped_column(String(64))
    before: Mapped[dict[str, Any] | None] = mapped_column()
    after: Mapped[dict[str, Any] | None] = mapped_column()

    __table_args__ = (Index("ix_audit_entity", "entity", "entity_id"),)


__all__ = ["Answer", "Assessment", "AuditEntry", "Base", "Confirmation", "EnterpriseProfile", "Maturity",
           "Organisation", "Project", "Review", "SignInSession", "User", "now"]
