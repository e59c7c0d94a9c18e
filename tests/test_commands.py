"""The database commands of the command line: bureau-report, export, and report with peer figures."""

import csv
import subprocess
import sys

import openpyxl
import pyarrow.parquet as pq
import pytest

from assessment import PROJECT_ROOT, reference
from assessment.analytics import peer_stats
from assessment.workflow import STATUSES
from reports import report
from tests.conftest import enterprise_fields


def run(*args):
    return subprocess.run([sys.executable, "-m", "assessment", *map(str, args)], cwd=PROJECT_ROOT,
                          capture_output=True, text=True, timeout=300, check=False)


def submitted_diagnoses(services, w, cmmm, numbers, code="mostly"):
    """Enterprises of Gusu / C34 (numbered as given) with a submitted diagnosis by provider A; enterprise n
    reports a networking rate of 10·n %."""
    answers = {item.id: {"code": code} for item in cmmm.items_for("discrete")}
    ids = []
    for n in numbers:
        enterprise = services.create_organisation(w.admin, **enterprise_fields(100 + n, "gusu"))
        d = services.request_diagnosis(w.admin, enterprise)
        version = services.move(w.admin, d, "assign", expected_version=1, provider_id=w.provider_a_id)
        version = services.move(w.provider_a, d, "start", expected_version=version)
        version = services.save_answers(w.provider_a, d, answers, expected_version=version,
                                        profile={"networking_rate": 10.0 * n})
        _, version = services.add_project(w.provider_a, d, expected_version=version, title="MES")
        services.move(w.provider_a, d, "submit", expected_version=version)
        ids.append(d)
    return ids


def test_a_report_compares_with_peers_only_from_five(world_store, cmmm, tmp_path):
    services, w = world_store
    submitted_diagnoses(services, w, cmmm, range(4))
    # Enterprise 1 (Gusu, C34) now has 4 peers: no comparison, nothing of theirs in the report.
    assert peer_stats(services.store, w.enterprise_1_id, w.submitted_1) is None
    submitted_diagnoses(services, w, cmmm, [4])
    peers = peer_stats(services.store, w.enterprise_1_id, w.submitted_1)
    assert peers.count == 5
    assert peers.levels[4] == 5
    assert peers.medians["networking_rate"] == 20.0  # the median of 0, 10, 20, 30, 40
    path = tmp_path / "r.xlsx"
    report.write(report.from_view(services.get_assessment(w.admin, w.submitted_1), cmmm, peers), path)
    summary = [c.value for row in openpyxl.load_workbook(path)["总览"].iter_rows() for c in row]
    assert "同区县同行业企业少于5家，不作比较。" not in summary


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    assert run("demo", "--enterprises", 120, "--db", f"sqlite:///{path}").returncode == 0
    return f"sqlite:///{path}"


def test_the_bureau_workbook_command(demo_db, tmp_path):
    out = tmp_path / "bureau.xlsx"
    proc = run("bureau-report", "--db", demo_db, "--out", out, "--lang", "en")
    assert proc.returncode == 0, proc.stderr
    wb = openpyxl.load_workbook(out, read_only=True)
    assert len(wb.sheetnames) == 7
    scoped = tmp_path / "gusu.xlsx"
    assert run("bureau-report", "--db", demo_db, "--out", scoped, "--district", "gusu").returncode == 0


DISTRICTS = ", ".join(d.code for d in reference.districts())
INDUSTRIES = ", ".join(i.code for i in reference.industries())


@pytest.mark.parametrize(("args", "message"), [
    (["--district", "atlantis"], f"district: unknown district code 'atlantis' (one of {DISTRICTS})"),
    (["--industry", "C99"], f"industry: unknown industry code 'C99' (one of {INDUSTRIES})"),
    (["--since", "2026-05-01", "--until", "2026-01-01"], "since: 2026-05-01 is after until: 2026-01-01"),
])
def test_bad_filters_are_named(demo_db, tmp_path, args, message):
    proc = run("bureau-report", "--db", demo_db, "--out", tmp_path / "x.xlsx", *args)
    assert proc.returncode == 1
    assert proc.stderr.strip() == message
    assert not (tmp_path / "x.xlsx").exists()


def test_the_export_command(demo_db, tmp_path):
    csv_path, parquet_path = tmp_path / "answers.csv", tmp_path / "answers.parquet"
    first = run("export", "--db", demo_db, "--out", csv_path)
    assert first.returncode == 0, first.stderr
    count = int(first.stdout.split()[0])
    with csv_path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == count > 0
    assert {"item_id", "code", "credit_code"} <= set(rows[0])
    assert run("export", "--db", demo_db, "--out", parquet_path).returncode == 0
    assert pq.read_table(parquet_path).num_rows == count
    wrong = run("export", "--db", demo_db, "--out", tmp_path / "answers.txt")
    assert wrong.returncode == 1
    assert "must end in .csv or .parquet" in wrong.stderr


# -- the selection and counts of the listing commands: refused with what is valid, never silently empty ----------


@pytest.mark.parametrize(("args", "message"), [
    (["--district", "atlantis"], f"district: unknown district code 'atlantis' (one of {DISTRICTS})"),
    (["--industry", "C99"], f"industry: unknown industry code 'C99' (one of {INDUSTRIES})"),
    (["--status", "finished"], "status: unknown status 'finished' (one of "
                               f"{', '.join((*STATUSES['diagnosis'], *STATUSES['self']))})"),
])
def test_reports_refuses_an_unknown_selection_naming_the_valid_ones(demo_db, tmp_path, args, message):
    proc = run("reports", "--db", demo_db, "--out", tmp_path / "out", *args)
    assert (proc.returncode, proc.stderr.strip()) == (1, message)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("args", "message"), [
    (["--limit", "-3"], "argument --limit: -3 is less than 1"),
    (["--limit", "0"], "argument --limit: 0 is less than 1"),
    (["--limit", "some"], "argument --limit: 'some' is not a whole number"),
    (["--workers", "-1"], "argument --workers: -1 is less than 1"),
])
def test_reports_refuses_a_count_below_one(demo_db, tmp_path, args, message):
    proc = run("reports", "--db", demo_db, "--out", tmp_path / "out", *args)
    assert proc.returncode == 2
    assert proc.stderr.strip().endswith(message), proc.stderr
    assert not (tmp_path / "out").exists()


def test_reports_writes_as_many_as_the_limit_of_the_selection(demo_db, tmp_path):
    proc = run("reports", "--db", demo_db, "--out", tmp_path / "out", "--district", "gusu", "--limit", 2,
               "--workers", 1)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"2 reports in {tmp_path / 'out'}"
    assert len(list((tmp_path / "out").glob("*.xlsx"))) == 2


@pytest.mark.parametrize(("args", "message"), [
    (["--enterprises", "-3"], "argument --enterprises: -3 is less than 1"),
    (["--enterprises", "1", "--seed", "-1"], "argument --seed: -1 is less than 0"),
])
def test_demo_refuses_a_count_or_seed_below_its_least_before_touching_the_database(tmp_path, args, message):
    proc = run("demo", "--db", f"sqlite:///{tmp_path / 'demo.db'}", *args)
    assert proc.returncode == 2
    assert proc.stderr.strip().endswith(message), proc.stderr
    assert not (tmp_path / "demo.db").exists()
