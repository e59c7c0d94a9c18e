"""Real processes against SQLite and PostgreSQL: a writer killed mid-stream loses nothing it acknowledged;
eight writers at once lose nothing and surface no error; a SQLite file deleted or replaced under a running
store is noticed before the next write is acknowledged."""

import json
import signal
import subprocess
import sys
from dataclasses import asdict

import pytest
from sqlalchemy import text

from assessment import PROJECT_ROOT
from assessment.db import Store, StoreFileChangedError
from assessment.services import Services
from tests.conftest import PASSWORD
from tests.workers import code_of


def worker(url, assessment_id, actor, saves, delay=0.0):
    args = [sys.executable, "-m", "tests.workers", url, str(assessment_id), json.dumps(asdict(actor)), str(saves)]
    if delay:
        args += ["--delay", str(delay)]
    return subprocess.Popen(args, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def new_diagnoses(services, w, count):
    """In-progress diagnoses of enterprise 2 by provider A (enterprise 1's request waits: one open request at a
    time, and each of these is assigned before the next is requested)."""
    ids = []
    for _ in range(count):
        d = services.request_diagnosis(w.admin, w.enterprise_2_id)
        version = services.move(w.admin, d, "assign", expected_version=1, provider_id=w.provider_a_id)
        services.move(w.provider_a, d, "start", expected_version=version)
        ids.append(d)
    return ids


def test_a_killed_writer_loses_nothing_it_acknowledged(world_store):
    services, w = world_store
    (d,) = new_diagnoses(services, w, 1)
    proc = worker(services.store.url, d, w.provider_a, saves=266, delay=0.002)
    acknowledged = []
    for line in proc.stdout:
        assert not line.startswith("ERROR"), line
        acknowledged.append(line.split())
        if len(acknowledged) == 60:
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    answers = services.get_assessment(w.provider_a, d).answers
    for _, item, code, _ in acknowledged:
        assert item in answers, f"acknowledged {item} is lost"
        assert answers[item].code == code
    assert len(answers) >= 60


def test_eight_writers_at_once_lose_nothing(world_store):
    services, w = world_store
    diagnoses = new_diagnoses(services, w, 8)
    saves = 500
    procs = [worker(services.store.url, d, w.provider_a, saves) for d in diagnoses]
    outputs = [proc.communicate(timeout=600) for proc in procs]
    for proc, (out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, (out[-2000:], err[-2000:])
        assert "ERROR" not in out
        assert out.count("ACK") == saves
    items = services.get_assessment(w.provider_a, diagnoses[0]).assessment.applicable
    for d in diagnoses:
        view = services.get_assessment(w.provider_a, d)
        # Save n wrote item n mod (items applicable) with code n mod 4; the last save of each item must be there.
        expected = {}
        order = [line.split()[1] for line in outputs[diagnoses.index(d)][0].splitlines()]
        for n, item in enumerate(order):
            expected[item] = code_of(n)
        assert {item: a.code for item, a in view.answers.items()} == expected
        assert view.assessment.version == 1 + 2 + saves  # assign, start, then one per save
        assert len(view.answers) == min(saves, items)
    answer_entries = [e for e in services.audit_log(w.admin, limit=10_000) if e.action == "answer"]
    assert len([e for e in answer_entries if int(e.entity_id) in diagnoses]) == 8 * saves


def provider_names(store: Store) -> list[str]:
    with store.read() as db:
        return [name for (name,) in db.execute(text("SELECT name FROM organisations WHERE kind = 'provider'"))]


@pytest.mark.parametrize("what_happens", ["deleted", "replaced"])
def test_a_database_file_deleted_or_replaced_under_a_running_store_acknowledges_no_write(tmp_path, what_happens):
    path = tmp_path / "assessment.db"
    services = Services(Store(f"sqlite:///{path}"))
    admin = services.set_up("苏州市工业和信息化局", "admin", "管理员", PASSWORD)
    services.create_organisation(admin, kind="provider", name="服务商甲")  # the store's connection is open
    if what_happens == "deleted":
        path.unlink()  # SQLite would go on writing into the file no name points to any more
    else:
        other = Services(Store(f"sqlite:///{tmp_path / 'other.db'}"))
        other.set_up("另一个局", "other", "别人", PASSWORD)
        other.store.dispose()
        (tmp_path / "other.db").replace(path)
    with pytest.raises(StoreFileChangedError) as refused:
        services.create_organisation(admin, kind="provider", name="服务商乙")
    assert refused.value.code == "store_file_changed"
    assert refused.value.params["file"] == str(path)
    assert str(path) in str(refused.value)
    with pytest.raises(StoreFileChangedError):  # and every write after it, until the app is restarted
        services.create_organisation(admin, kind="provider", name="服务商丙")
    with pytest.raises(StoreFileChangedError):  # reads say so too, before anyone types in more
        services.list_providers(admin)
    services.store.dispose()
    if what_happens == "replaced":  # the refused changes did not go into the file now there either
        assert not {"服务商乙", "服务商丙"} & set(provider_names(Store(f"sqlite:///{path}")))
