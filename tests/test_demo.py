"""Demo data on both databases: deterministic, realistic, refuses a non-empty database, accounts sign in."""

import subprocess
import sys

import pytest
from sqlalchemy import func, select

from assessment import PROJECT_ROOT
from assessment.accounts import authenticate
from assessment.db import Store
from assessment.demo import DEMO_PASSWORD, generate
from assessment.errors import AssessmentError
from assessment.models import Answer, Assessment, Confirmation, Organisation, Project
from assessment.services import Services


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
    provider = authenticate(store, accounts.providers[0], DEMO_PASSWORD)
    seen = Services(store).list_assessments(provider)
    assert seen
    assert all(a.provider_id == provider.organisation_id for a, _ in seen)
    assert authenticate(store, accounts.enterprises[0], DEMO_PASSWORD).role == "enterprise_user"


def test_demo_refuses_a_database_with_data_unless_forced(store):
    generate(store, 5, progress=lambda _: None)
    with pytest.raises(AssessmentError, match=r"already holds .* add --force"):
        generate(store, 5, progress=lambda _: None)
    second = generate(store, 5, force=True, progress=lambda _: None)
    assert second.admin != "admin"  # a second run gets its own accounts
    with store.read() as db:
        assert db.scalar(select(func.count()).select_from(Organisation).where(Organisation.kind == "enterprise")) == 10


def test_the_demo_command_prints_the_accounts(tmp_path):
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    proc = subprocess.run([sys.executable, "-m", "assessment", "demo", "--enterprises", "20", "--db", url],
                          cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    assert f"password of every demo account: {DEMO_PASSWORD}" in proc.stdout
    assert "bureau admin: admin" in proc.stdout
    assert "demo: 20 of 20 enterprises" in proc.stderr
    again = subprocess.run([sys.executable, "-m", "assessment", "demo", "--enterprises", "20", "--db", url],
                           cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert again.returncode == 1
    assert "add --force" in again.stderr
    assert "Traceback" not in again.stderr
