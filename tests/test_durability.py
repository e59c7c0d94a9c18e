"""Real processes against SQLite and PostgreSQL: a writer killed mid-stream loses nothing it acknowledged;
eight writers at once lose nothing and surface no error."""

import json
import signal
import subprocess
import sys
from dataclasses import asdict

from assessment import PROJECT_ROOT
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
        # Save n wrote item n mod 266 with code n mod 4; the last save of each item is what must be there.
        expected = {}
        order = [line.split()[1] for line in outputs[diagnoses.index(d)][0].splitlines()]
        for n, item in enumerate(order):
            expected[item] = code_of(n)
        assert {item: a.code for item, a in view.answers.items()} == expected
        assert view.assessment.version == 1 + 2 + saves  # assign, start, then one per save
        assert len(view.answers) == min(saves, items)
    answer_entries = [e for e in services.audit_log(w.admin, limit=10_000) if e.action == "answer"]
    assert len([e for e in answer_entries if int(e.entity_id) in diagnoses]) == 8 * saves
