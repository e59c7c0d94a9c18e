"""Demo data: a bureau, service providers and N enterprises of Suzhou, each with a diagnosis.

Deterministic for a seed (the dates are counted back from the day it runs, so every one lies in the past). The
answers are drawn so that the level distribution resembles the national self-diagnosis figures of 2022
(DESIGN.md §2): about 63 % at or below level 1, 21 % level 2, 12 % level 3, 4 % level 4 or above.

Rows are written in batches, so 100,000 enterprises take minutes, not hours. The answers are scored with the batch
scorer (which gives the same Result as the one-at-a-time path the services use) and every result is stored by
the one writer of a stored result (``assessment.results.write_results``), so a demo diagnosis carries the same
stored result and subdomain maturities as one answered in the app, an unfinished one its provisional result.

On the first start the set-up page adds the demo to the bureau it has just created (``bureau=``): no second
bureau, no second administrator, and names without a run number.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import func, insert, select

from assessment import accounts, reference
from assessment.db import Store
from assessment.errors import AssessmentError
from assessment.models import (
    Answer,
    Assessment,
    AuditEntry,
    Confirmation,
    EnterpriseProfile,
    Organisation,
    Project,
    Review,
    User,
    now,
)
from assessment.questionnaire import by_id
from assessment.results import write_results
from assessment.scoring import UNANSWERED, BatchScorer

# Share of enterprises whose answers aim at each level 0–5 (levels 0 and 1 together: the national 63 %).
TARGET_LEVELS = (0.25, 0.38, 0.21, 0.12, 0.035, 0.005)
STATUS_MIX = {"requested": 0.04, "assigned": 0.04, "in_progress": 0.08, "submitted": 0.05, "confirmed": 0.05,
              "returned": 0.02, "approved": 0.72}
ANSWERED = ("in_progress", "submitted", "confirmed", "returned", "approved")
SUBMITTED = ("submitted", "confirmed", "returned", "approved")
PROVIDERS = ("苏州智造诊断服务有限公司", "江苏数智工业咨询有限公司", "昆山精益数字化服务中心",
             "苏州工业互联网研究院", "吴江智能制造促进中心", "张家港数字化转型服务有限公司",
             "太仓智改数转咨询有限公司", "常熟工业软件服务有限公司")
PROJECT_TITLES = {"PD": "产品数据管理（PLM）建设", "PP": "工艺设计数字化（CAPP）", "PU": "供应商协同平台（SRM）",
                  "SC": "高级计划排程（APS）", "PO": "制造执行系统（MES）", "EM": "设备联网与预测性维护",
                  "WD": "智能仓储（WMS/AGV）", "SE": "安全环保在线监测", "EN": "能源管理系统（EMS）",
                  "LO": "物流运输管理（TMS）", "SA": "客户关系管理（CRM）", "CS": "客户服务平台",
                  "PV": "产品远程运维", "DA": "数据中台建设", "IN": "系统集成平台", "IS": "工控安全防护",
                  "EQ": "关键设备数控化改造", "NW": "工厂网络升级（5G/工业以太网）", "OS": "智能制造规划咨询",
                  "SK": "数字化人才培训"}
# The trade word of each industry in an enterprise name, as firms name themselves (苏州演示印刷企业…), never a
# cut of the division's name ("印刷和记" of 印刷和记录媒介复制业).
INDUSTRY_WORDS = {"C13": "农产品", "C14": "食品", "C15": "饮料", "C16": "烟草", "C17": "纺织", "C18": "服饰",
                  "C19": "皮革", "C20": "木业", "C21": "家具", "C22": "纸业", "C23": "印刷", "C24": "文体用品",
                  "C25": "燃料", "C26": "化工", "C27": "医药", "C28": "化纤", "C29": "塑胶", "C30": "建材",
                  "C31": "钢铁", "C32": "有色金属", "C33": "金属制品", "C34": "机械", "C35": "装备", "C36": "汽车",
                  "C37": "船舶", "C38": "电气", "C39": "电子", "C40": "仪器仪表", "C41": "工艺品",
                  "C42": "再生资源", "C43": "设备维修"}
BATCH = 20_000
RESULTS_AT_ONCE = 2_000  # results built and stored together
FOLLOW_UP_AFTER = 365  # days from a baseline diagnosis to its follow-up round
LAST_STEP = 100  # days a diagnosis needs at most from its creation to its last dated step (a project's start)


@dataclass
class DemoAccounts:
    password: str
    admin: str | None  # None when the demo was added to an existing bureau, whose administrator is the user's own
    analyst: str
    providers: list[str]
    enterprises: list[str]
    levels: list[int]  # how many diagnoses scored at each level 0–5
    accounts: list[tuple[str, str]]  # every demo account as (username, role), in the order made


def generate(store: Store, enterprises: int, *, seed: int = 2026, force: bool = False, bureau: int | None = None,
             progress: Callable[[str], None] = print) -> DemoAccounts:
    """Add demo data. ``bureau``: the id of an existing bureau to add it to (the set-up page passes the one just
    set up), instead of a demo bureau with its own administrator. Every demo account shares one password, made at
    random for this call and returned (shown once): a password written in the source would open any deployment
    where someone ticked demo data."""
    if enterprises < 1:
        raise AssessmentError("--enterprises: at least 1")
    with store.read() as db:
        if bureau is not None and db.scalar(select(Organisation.kind).where(Organisation.id == bureau)) != "bureau":
            raise AssessmentError(f"organisation {bureau} is not a bureau")
        existing = db.scalar(select(func.count()).select_from(Organisation).where(Organisation.id != bureau)
                             if bureau is not None else select(func.count()).select_from(Organisation))
        reviewer = None if bureau is None else db.scalar(
            select(User.id).where(User.organisation_id == bureau, User.role == "bureau_admin").order_by(User.id))
    if existing and not force:
        raise AssessmentError(f"{store.url}: the database already holds {existing} organisations; "
                              "add --force to add demo data to it anyway")
    if bureau is not None and reviewer is None:
        raise AssessmentError(f"bureau {bureau} has no administrator to have decided the demo diagnoses")
    rng = np.random.default_rng(seed)
    q = by_id("cmmm-2020")
    districts = [d.code for d in reference.districts()]
    industries = reference.industries()
    password = accounts.one_time_password()
    password_hash = accounts.hash_password(password)
    today = now().replace(hour=0, minute=0, second=0, microsecond=0)  # every date is counted back from it
    run = existing  # numbers new organisations after the existing ones, so codes and names stay unique

    with store.write() as db:
        users = []
        if bureau is None:
            bureau = _add(db, Organisation, kind="bureau", name=f"苏州市工业和信息化局（演示{run or ''}）")
            users.append(("admin", "bureau_admin", bureau, None))
        providers = [_add(db, Organisation, kind="provider", name=name + (f"（{run}）" if run else ""))
                     for name in PROVIDERS]
        users.append(("analyst", "bureau_analyst", bureau, None))
        users += [(f"provider{k + 1}", "provider_user", p, None) for k, p in enumerate(providers)]
        made = _add_users(db, users, password_hash, run)
        admin = made[0][0] if reviewer is None else None
        if reviewer is None:
            reviewer = db.scalar(select(User.id).where(User.username == admin))

    progress(f"demo: {enterprises:,} enterprises …")
    first_enterprise = None
    level_counts = np.zeros(6, dtype=np.int64)
    for start in range(0, enterprises, BATCH):
        count = min(BATCH, enterprises - start)
        ids, levels = _batch(store, q, rng, start + run, count, districts, industries, providers, today, reviewer)
        first_enterprise = first_enterprise or ids[0]
        level_counts += np.bincount(levels, minlength=6)
        progress(f"demo: {start + count:,} of {enterprises:,} enterprises")

    with store.write() as db:
        enterprise_users = [(f"enterprise{k + 1}", "enterprise_user", first_enterprise + k, None)
                            for k in range(min(5, enterprises))]
        made += _add_users(db, enterprise_users, password_hash, run)
        db.add(AuditEntry(action="demo", entity="database", entity_id="demo",
                          after={"enterprises": enterprises, "seed": seed}))
    by_role = {role: [name for name, r in made if r == role] for role in accounts.ROLES}
    return DemoAccounts(password=password, admin=admin, analyst=by_role["bureau_analyst"][0],
                        providers=by_role["provider_user"], enterprises=by_role["enterprise_user"],
                        levels=[int(n) for n in level_counts], accounts=made)


def _add(db, model, **values) -> int:
    row = model(**values)
    db.add(row)
    db.flush()
    return row.id


def _add_users(db, users, password_hash: str, run: int) -> list[tuple[str, str]]:
    """The users, each under the first free name (``provider1``, else ``provider1-<run>``, ``-2``, …): every name
    returned signs in with the demo password. Returns (username, role) pairs."""
    made = []
    for name, role, org, districts in users:
        candidates = [accounts.username_key(c) for c in  # in the one form every user name is kept in
                      ([f"{name}-{run}"] if run else [name]) + [f"{name}-{n}" for n in range(2, 1000) if n != run]]
        username = next(c for c in candidates if db.scalar(select(User.id).where(User.username == c)) is None)
        db.add(User(username=username, display_name=username, password_hash=password_hash, role=role,
                    organisation_id=org, districts=districts))
        db.flush()
        made.append((username, role))
    return made


def _batch(store: Store, q, rng: np.random.Generator, offset: int, count: int, districts, industries, providers,
           today: datetime, reviewer: int) -> tuple[list[int], np.ndarray]:
    """One batch of enterprises with their diagnoses (some with a follow-up round), answers, stored results,
    profiles, projects, confirmations and reviews. Returns the enterprise ids and the levels of the complete
    diagnoses."""
    industry_pick = rng.integers(0, len(industries), count)
    organisations = []
    for k in range(count):
        n = offset + k + 1
        body = f"9132{int(rng.integers(0, 10**4)):04d}{n:09d}"[:17]
        industry = industries[industry_pick[k]]
        organisations.append({
            "kind": "enterprise", "name": f"苏州演示{INDUSTRY_WORDS[industry.code]}企业{n:06d}",
            "credit_code": body + reference.credit_code_check_character(body),
            "district": districts[int(rng.integers(0, len(districts)))], "industry": industry.code,
            "size_class": ("large", "medium", "small", "micro")[int(rng.choice(4, p=(0.05, 0.25, 0.55, 0.15)))],
            "production_type": industry.production_type, "contact_name": "联系人",
            "contact_phone": f"0512-{60000000 + n % 10**7}", "created_at": today - timedelta(days=720),
        })
    # Each diagnosis: (enterprise index, status, target level, created); about 8 % of the approved ones were
    # followed up a year later, aiming one level higher: only those old enough for every step of the follow-up
    # to lie in the past.
    baseline = [(k, str(rng.choice(list(STATUS_MIX), p=list(STATUS_MIX.values()))),
                 int(rng.choice(6, p=TARGET_LEVELS)), today - timedelta(days=int(rng.integers(200, 700))))
                for k in range(count)]
    follow_up = [(k, "approved" if rng.random() < 0.6 else "in_progress", min(target + 1, 5),
                  created + timedelta(days=FOLLOW_UP_AFTER)) for k, status, target, created in baseline
                 if status == "approved" and rng.random() < 0.17
                 and created + timedelta(days=FOLLOW_UP_AFTER + LAST_STEP) <= today]
    with store.write() as db:
        ids = list(db.scalars(insert(Organisation).returning(Organisation.id, sort_by_parameter_order=True),
                              organisations))
        previous: dict[int, int] = {}
        levels = []
        for diagnoses in (baseline, follow_up):
            rows, answers, scored = [], [], []  # scored: (batch result, column) of each answered diagnosis
            for profile in ("discrete", "process"):
                members = [d for d in diagnoses if organisations[d[0]]["production_type"] == profile]
                if not members:
                    continue
                scorer = BatchScorer(q, profile)
                items = len(scorer.item_ids)
                matrix = _answers(scorer, q, rng, np.array([target for _, _, target, _ in members]))
                # A diagnosis in progress has answered the first items only: the rest stay unanswered, scored
                # as the services score them (provisionally, as the lowest answer).
                answered = [(int(rng.integers(1, items)) if status == "in_progress" else items)
                            if status in ANSWERED else 0 for _, status, _, _ in members]
                for column, limit in enumerate(answered):
                    matrix[limit:, column] = scorer.answer_code[UNANSWERED]
                result = scorer.score(matrix, answered=answered)
                code_of = {v: c for c, v in scorer.answer_code.items() if c != UNANSWERED}
                for column, ((k, status, _, created), limit) in enumerate(zip(members, answered, strict=True)):
                    rows.append(_assessment(ids[k], q, profile, status, created, providers, rng, items,
                                            previous.get(k)))
                    answers.append([(item, code_of[int(v)]) for item, v in
                                    zip(scorer.item_ids[:limit], matrix[:limit, column], strict=True)])
                    scored.append((result, column) if limit else None)
                    if limit == items:
                        levels.append(int(result.level[column]))
            if not rows:
                continue
            assessment_ids = list(db.scalars(insert(Assessment).returning(Assessment.id, sort_by_parameter_order=True),
                                             rows))
            previous = {k: a for (k, *_), a in zip(_ordered(diagnoses, organisations), assessment_ids, strict=True)}
            # Stored a slice at a time: a Result per diagnosis of a 20,000 batch at once would take 0.5 GB.
            pending = [(a, where) for a, where in zip(assessment_ids, scored, strict=True) if where is not None]
            for first in range(0, len(pending), RESULTS_AT_ONCE):
                write_results(db, {a: result.result(column) for a, (result, column) in
                                   pending[first:first + RESULTS_AT_ONCE]})
            row_levels = [int(where[0].level[where[1]]) if where is not None and row["status"] != "in_progress"
                          else 0 for row, where in zip(rows, scored, strict=True)]
            _children(db, rng, assessment_ids, rows, answers, row_levels, reviewer)
    return ids, np.array(levels, dtype=np.int64)


def _ordered(diagnoses, organisations):
    """The diagnoses in the order their rows were built: discrete first, then process."""
    return [d for profile in ("discrete", "process") for d in diagnoses
            if organisations[d[0]]["production_type"] == profile]


def _answers(scorer: BatchScorer, q, rng: np.random.Generator, targets: np.ndarray) -> np.ndarray:
    """Answers aiming at each set's target level: strong up to it, weak above it; 3 % N/A."""
    levels = np.array([q.item_by_id[item].level for item in scorer.item_ids])[:, None]
    strong = levels <= targets[None, :]
    draw = rng.random((len(scorer.item_ids), len(targets)))
    codes = np.where(strong, np.select([draw < 0.55, draw < 0.93], [0, 1], 2),
                     np.select([draw < 0.05, draw < 0.25, draw < 0.6], [0, 1, 2], 3))
    lookup = np.array([scorer.answer_code[c] for c in ("full", "mostly", "partly", "none")], dtype=scorer.dtype)
    matrix = lookup[codes]
    matrix[rng.random(matrix.shape) < 0.03] = scorer.answer_code["na"]
    return matrix


def _assessment(enterprise_id, q, profile, status, created, providers, rng, applicable, previous_id):
    """The row of a diagnosis as the workflow leaves it in ``status``; its result is stored afterwards."""
    assigned = status != "requested"
    stamp = lambda days: created + timedelta(days=days)  # noqa: E731
    steps = {
        "created_at": created, "assigned_at": stamp(3) if assigned else None,
        "submitted_at": stamp(int(rng.integers(10, 45))) if status in SUBMITTED else None,
        "confirmed_at": stamp(48) if status in ("confirmed", "returned", "approved") else None,
        "decided_at": stamp(55) if status in ("returned", "approved") else None,
    }
    in_progress = stamp(int(rng.integers(4, 40))) if status == "in_progress" else None  # its last answer
    return {
        "enterprise_id": enterprise_id, "kind": "diagnosis", "status": status,
        "provider_id": providers[int(rng.integers(0, len(providers)))] if assigned else None,
        "questionnaire_id": q.id, "questionnaire_version": q.version, "questionnaire_sha256": q.sha256,
        "profile": profile, "round": "follow_up" if previous_id else "baseline", "previous_id": previous_id,
        **steps, "updated_at": max(t for t in (*steps.values(), in_progress) if t is not None),
        "due_date": (created + timedelta(days=33)).date() if assigned else None,
        "answered": 0, "applicable": applicable, "version": 1,
    }


def _children(db, rng, assessment_ids, rows, answers, levels, reviewer) -> None:
    """Answers, profiles, projects, confirmations and reviews of freshly inserted diagnoses (``levels``: each
    one's level, 0 while unfinished)."""
    batch = []
    for a, row, pairs in zip(assessment_ids, rows, answers, strict=True):
        answered_at = row["submitted_at"] or row["updated_at"]
        batch.extend({"assessment_id": a, "item_id": item, "code": code, "updated_at": answered_at}
                     for item, code in pairs)
        if len(batch) >= 200_000:
            db.execute(insert(Answer.__table__), batch)
            batch = []
    if batch:
        db.execute(insert(Answer.__table__), batch)
    profiles, projects, confirmations, reviews = [], [], [], []
    subdomains = list(PROJECT_TITLES)
    for a, row, pairs, level in zip(assessment_ids, rows, answers, levels, strict=True):
        if not pairs:
            continue
        networked = float(np.clip(rng.normal(25 + 15 * level, 12), 0, 100))
        profiles.append({"assessment_id": a, "employees": int(rng.integers(20, 3000)),
                         "revenue_band": ("under_20m", "20m_100m", "100m_400m", "400m_2b")[int(rng.integers(0, 4))],
                         "nc_rate": round(float(np.clip(networked + rng.normal(10, 8), 0, 100)), 1),
                         "networking_rate": round(networked, 1),
                         "data_collection_rate": round(float(np.clip(networked + rng.normal(-5, 8), 0, 100)), 1),
                         "systems": {s: {"in_use": bool(rng.random() < 0.3 + 0.12 * level),
                                         "cloud": bool(rng.random() < 0.2)} for s in ("ERP", "MES", "WMS", "PLM")},
                         "updated_at": row["assigned_at"]})
        if row["status"] not in SUBMITTED:
            continue
        for _ in range(int(rng.integers(1, 4))):
            sd = subdomains[int(rng.integers(0, len(subdomains)))]
            started = row["status"] == "approved" and rng.random() < 0.45
            projects.append({"assessment_id": a, "title": PROJECT_TITLES[sd], "subdomain": sd,
                             "target_level": min(level + 1, 5), "investment": round(float(rng.uniform(20, 500)), 2),
                             "expected_benefit": "提升生产效率、降低运营成本",
                             "priority": ("high", "medium", "low")[int(rng.integers(0, 3))],
                             "status": ("completed" if rng.random() < 0.25 else "started") if started else "planned",
                             "start_date": (row["decided_at"] + timedelta(days=30)).date() if started else None,
                             "updated_at": row["decided_at"] + timedelta(days=30) if started else row["submitted_at"]})
        if row["confirmed_at"]:
            confirmations.append({"assessment_id": a, "confirmed_at": row["confirmed_at"], "confirmed_by": None,
                                  "rating": int(rng.choice(5, p=(0.01, 0.03, 0.16, 0.4, 0.4))) + 1})
        if row["decided_at"]:
            returned = row["status"] == "returned"
            reviews.append({"assessment_id": a, "decision": "returned" if returned else "approved",
                            "comment": "请补充现场证据" if returned else None, "reviewer_id": reviewer,
                            "decided_at": row["decided_at"]})
    for model, values in ((EnterpriseProfile, profiles), (Project, projects), (Confirmation, confirmations),
                          (Review, reviews)):
        if values:
            db.execute(insert(model), values)


__all__ = ["INDUSTRY_WORDS", "DemoAccounts", "generate"]
