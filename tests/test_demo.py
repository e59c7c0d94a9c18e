"""Demo data on both databases: deterministic, realistic, refuses a non-empty database, accounts sign in; stored
results as the services store them, whole-word names, past dates; the first start's demo joins its bureau."""

import re
import subprocess
import sys
from datetime import date, datetime

import pytest
from sqlalchemy import JSON, func, select
from streamlit.testing.v1 import AppTest

from assessment import PROJECT_ROOT, reference, setup_token
from assessment.accounts import authenticate
from assessment.db import Store
from assessment.demo import INDUSTRY_WORDS, PROVIDERS, generate
from assessment.errors import AssessmentError
from assessment.models import (
    Answer,
    Assessment,
    Base,
    Confirmation,
    Maturity,
    Organisation,
    Project,
    Review,
    now,
)
from assessment.scoring import Result, score
from assessment.services import Services
from tests.conftest import PASSWORD
from tests.streamlit_server import SETUP_TOKEN
from ui import work


def snapshot(store):
    with store.read() as db:
        return {
            "codes": list(db.scalars(select(Organisation.credit_code).order_by(Organisation.id))),
            "levels": list(db.scalars(select(Assessment.level).order_by(Assessment.id))),
            "answers": db.scalar(select(func.count()).select_from(Answer)),
        }


def test_demo_data_is_deterministic_and_realistic(store, databases, backend):
    accounts = generate(store, 600, seed=7, progress=lambda _: None)
    with store.read() as db:
        statuses = dict(db.execute(select(Assessment.status, func.count()).group_by(Assessment.status)).all())
        follow_ups = db.scalar(select(func.count()).select_from(Assessment).where(Assessment.round == "follow_up"))
        started = db.scalar(select(func.count()).select_from(Project).where(Project.status != "planned"))
        ratings = list(db.scalars(select(Confirmation.rating)))
        districts = db.scalar(select(func.count(func.distinct(Organisation.district))))
    assert sum(statuses.values()) >= 600
    assert statuses["approved"] > statuses["requested"] > 0
    assert follow_ups > 0
    assert started > 0
    assert set(ratings) <= {1, 2, 3, 4, 5}
    assert len(ratings) > 300
    assert districts == 10
    scored = sum(accounts.levels)
    shares = [n / scored for n in accounts.levels]
    assert 0.50 < shares[0] + shares[1] < 0.75  # national 2022: 63 % at or below level 1
    assert 0.12 < shares[2] < 0.30  # 21 %
    assert 0.05 < shares[3] < 0.20  # 12 %
    # The same seed gives the same data in a fresh database.
    again = Store(databases.new(backend))
    generate(again, 600, seed=7, progress=lambda _: None)
    assert snapshot(again) == snapshot(store)
    again.dispose()
    # Every demo account signs in; the provider sees only its own diagnoses.
    provider = authenticate(store, accounts.providers[0], accounts.password)
    seen = Services(store).list_assessments(provider)
    assert seen
    assert all(a.provider_id == provider.organisation_id for a, _ in seen)
    assert authenticate(store, accounts.enterprises[0], accounts.password).role == "enterprise_user"


def test_demo_refuses_a_database_with_data_unless_forced(store):
    first = generate(store, 5, progress=lambda _: None)
    with pytest.raises(AssessmentError, match=r"already holds .* add --force"):
        generate(store, 5, progress=lambda _: None)
    second = generate(store, 5, force=True, progress=lambda _: None)
    assert second.admin != "admin"  # a second run gets its own accounts
    # Each run's password is its own, made at random: none is written in the source for anyone to read.
    assert first.password != second.password
    assert first.password not in (PROJECT_ROOT / "assessment" / "demo.py").read_text(encoding="utf-8")
    assert authenticate(store, first.admin, first.password).role == "bureau_admin"
    with store.read() as db:
        assert db.scalar(select(func.count()).select_from(Organisation).where(Organisation.kind == "enterprise")) == 10


def test_the_demo_command_prints_the_accounts(tmp_path):
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    proc = subprocess.run([sys.executable, "-m", "assessment", "demo", "--enterprises", "20", "--db", url],
                          cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    password = re.search(r"password of every demo account: (\S+)", proc.stdout).group(1)
    assert "bureau admin: admin" in proc.stdout
    store = Store(url)
    assert authenticate(store, "provider1", password).role == "provider_user"
    store.dispose()
    assert "demo: 20 of 20 enterprises" in proc.stderr
    again = subprocess.run([sys.executable, "-m", "assessment", "demo", "--enterprises", "20", "--db", url],
                           cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert again.returncode == 1
    assert "add --force" in again.stderr
    assert "Traceback" not in again.stderr


# -- the stored result, names, dates, the bureau just set up (issue 10 §2) ------------------------------------


def test_every_demo_diagnosis_carries_the_result_the_services_would_store(store, cmmm):
    """Written through the one writer of a stored result: the result, its columns and the subdomain maturities
    equal what scoring the stored answers gives (an unfinished diagnosis: its provisional result)."""
    generate(store, 150, progress=lambda _: None)
    with store.read() as db:
        diagnoses = list(db.scalars(select(Assessment).order_by(Assessment.id)))
        answers = {}
        for a_id, item, code in db.execute(select(Answer.assessment_id, Answer.item_id, Answer.code)):
            answers.setdefault(a_id, {})[item] = code
        maturities = {}
        for a_id, code, value in db.execute(select(Maturity.assessment_id, Maturity.subdomain, Maturity.value)):
            maturities.setdefault(a_id, {})[code] = value
    assert {a.status for a in diagnoses if a.id in answers} >= {"in_progress", "approved", "returned"}
    for a in diagnoses:
        if a.id not in answers:
            assert (a.result, a.score, a.level, a.answered, a.id in maturities) == (None, None, None, 0, False)
            continue
        expected = score(cmmm, answers[a.id], a.profile, allow_incomplete=True)
        stored = Result.model_validate(a.result)
        assert (stored.level, stored.completeness, stored.provisional) == (
            expected.level, expected.completeness, expected.provisional), (a.id, a.status)
        assert stored.score == pytest.approx(expected.score, abs=1e-9)
        assert stored.level_scores == pytest.approx(expected.level_scores, abs=1e-9)
        assert (a.score, a.level, a.answered) == (pytest.approx(expected.score, abs=1e-9), expected.level,
                                                  len(answers[a.id]))
        assert maturities[a.id] == pytest.approx({code: sub.maturity for code, sub in expected.subdomains.items()},
                                                 abs=1e-9)
        assert stored.provisional == (a.status == "in_progress")


def test_an_approved_demo_diagnosis_shows_in_the_round_comparison_and_the_review_scores(store):
    """What the enterprise's round comparison and the bureau's 审核 → 得分 read: the stored result."""
    accounts = generate(store, 60, progress=lambda _: None)
    services = Services(store)
    bureau = authenticate(store, accounts.admin, accounts.password)
    approved = [a for a, _ in services.list_assessments(bureau) if a.status == "approved"]
    assert approved
    for a in approved:
        assert work.stored_result(a) is not None  # the rule of 我的评估's round comparison: a stored result …
        assert a.answered  # … of an answered assessment
        view = services.get_assessment(bureau, a.id)
        assert len(view.assessment.result["level_scores"]) == 5  # the table of level scores on 审核 → 得分
        assert len(view.assessment.result["subdomains"]) == 20


def test_demo_enterprise_names_are_whole_words(store):
    assert set(INDUSTRY_WORDS) == {industry.code for industry in reference.industries()}
    assert (INDUSTRY_WORDS["C23"], INDUSTRY_WORDS["C39"]) == ("印刷", "电子")  # not "印刷和记", "计算机、"
    generate(store, 400, progress=lambda _: None)
    with store.read() as db:
        enterprises = db.execute(select(Organisation.name, Organisation.industry)
                                 .where(Organisation.kind == "enterprise")).all()
    assert len({industry for _, industry in enterprises}) > 20
    for name, industry in enterprises:
        assert re.fullmatch(f"苏州演示{INDUSTRY_WORDS[industry]}企业\\d{{6}}", name), name


def test_every_demo_date_lies_in_the_past(store):
    generate(store, 400, progress=lambda _: None)  # enough for follow-up rounds, the latest dates of all
    with store.read() as db:
        moment = now()
        checked = 0
        for table in Base.metadata.sorted_tables:
            for column in table.columns:
                python_type = getattr(column.type, "python_type", None) if not isinstance(column.type, JSON) else None
                if python_type not in (datetime, date):
                    continue
                latest = db.scalar(select(func.max(column)))
                if latest is None:
                    continue
                checked += 1
                limit = moment if python_type is datetime else moment.date()
                assert latest <= limit, f"{table.name}.{column.name}: {latest} lies in the future"
        assert checked >= 10


def test_demo_data_joins_the_bureau_just_set_up(store):
    """On the first start: no second bureau, no "（1）" on the providers, every account listed signs in."""
    services = Services(store)
    admin = services.set_up("苏州市工业和信息化局", "analyst", "王主任", PASSWORD)  # takes a demo account's name
    accounts = generate(store, 12, bureau=admin.organisation_id, progress=lambda _: None)
    with store.read() as db:
        bureaus = list(db.scalars(select(Organisation.id).where(Organisation.kind == "bureau")))
        providers = list(db.scalars(select(Organisation.name).where(Organisation.kind == "provider")
                                    .order_by(Organisation.id)))
        reviewers = set(db.scalars(select(Review.reviewer_id)))
    assert bureaus == [admin.organisation_id]
    assert providers == list(PROVIDERS)
    assert reviewers == {admin.user_id}
    assert accounts.admin is None  # the bureau's administrator is the one just set up
    assert [role for _, role in accounts.accounts] == (["bureau_analyst"] + ["provider_user"] * 8
                                                       + ["enterprise_user"] * 5)
    assert [name for name, _ in accounts.accounts] == (["analyst-2"] + [f"provider{k}" for k in range(1, 9)]
                                                       + [f"enterprise{k}" for k in range(1, 6)])
    for name, role in accounts.accounts:
        signed_in = authenticate(store, name, accounts.password)
        assert signed_in.role == role
        if role != "enterprise_user":
            assert (signed_in.organisation_id == admin.organisation_id) == (role == "bureau_analyst")
    assert authenticate(store, "analyst", PASSWORD).role == "bureau_admin"  # the set-up admin is untouched


def test_the_first_start_with_demo_data_lists_every_demo_account_and_its_role(tmp_path, monkeypatch):
    monkeypatch.setenv("ASSESSMENT_DB_URL", f"sqlite:///{tmp_path / 'app.db'}")
    monkeypatch.setenv(setup_token.ENV, SETUP_TOKEN)
    app = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=120).run()
    inputs = {field.label: field for field in app.text_input}
    inputs["设置令牌"].input(SETUP_TOKEN)
    inputs["管理员用户名"].input("chief")
    inputs["密码（至少10位，含字母和数字）"].input(PASSWORD)
    inputs["再次输入密码"].input(PASSWORD)
    app.checkbox[0].check()
    app.number_input[0].set_value(10)
    app.button[0].click().run()
    assert not app.exception
    assert app.title[0].value == "登录"
    password = app.session_state["demo_accounts"]["password"]
    assert password in app.info[0].value

    def listed(app) -> list[tuple[str, str]]:
        assert len(app.table) == 1
        return [tuple(row) for row in app.table[0].value.itertuples(index=False)]

    expected = ([("analyst", "主管部门分析员")] + [(f"provider{k}", "服务商诊断人员") for k in range(1, 9)]
                + [(f"enterprise{k}", "企业用户") for k in range(1, 6)])
    assert listed(app) == expected
    # Still there after a wrong password; gone once signed in with one of them.
    sign_in = {field.label: field for field in app.text_input}
    sign_in["用户名"].input("provider7")
    sign_in["密码"].input("wrong password 1")
    app.button[0].click().run()
    assert listed(app) == expected
    sign_in = {field.label: field for field in app.text_input}
    sign_in["用户名"].input("provider7")
    sign_in["密码"].input(password)
    app.button[0].click().run()
    assert not app.exception
    assert app.session_state["actor"].username == "provider7"
    assert app.session_state["actor"].role == "provider_user"
    assert "demo_accounts" not in app.session_state
    store = Store(f"sqlite:///{tmp_path / 'app.db'}")
    with store.read() as db:
        assert db.scalar(select(func.count()).select_from(Organisation).where(Organisation.kind == "bureau")) == 1
        assert not db.scalar(select(func.count()).select_from(Organisation).where(Organisation.name.like("%（1）")))
    store.dispose()
