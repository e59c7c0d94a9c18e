"""Filled offline templates into the database (both backends) and through the command line."""

import io
import json
import subprocess
import sys
import zipfile

import pytest

from assessment import PROJECT_ROOT
from assessment.accounts import Actor
from assessment.inputs import InputError
from assessment.services import Services
from reports.template import build_template, read_template
from tests.conftest import credit_code

ENTERPRISE = {"name": "苏州精密机械有限公司", "credit_code": credit_code(77), "district": "kunshan",
              "industry": "C34", "size_class": "medium", "production_type": "discrete",
              "networking_rate": 48, "systems": {"MES": {"in_use": True, "cloud": False}}}


def filled(cmmm, code="mostly", enterprise=ENTERPRISE, **options) -> bytes:
    answers = {item.id: {"code": code, "note": "=现场核实" if n == 0 else None}
               for n, item in enumerate(cmmm.items_for("discrete"))}
    return build_template(cmmm, enterprise=enterprise, answers=answers, **options)


def import_bytes(services, data, name="survey.xlsx"):
    template = read_template(data, name)
    return services.import_filled(Actor.operator(), questionnaire_id=template.questionnaire_id,
                                  profile=template.profile, enterprise=template.enterprise,
                                  answers=template.answers, facts=template.profile_fields or None,
                                  assessment_id=template.assessment_id)


def test_a_template_for_a_new_enterprise_registers_it_with_a_self_assessment(store, cmmm):
    services = Services(store)
    assessment_id, new = import_bytes(services, filled(cmmm))
    assert new
    view = services.get_assessment(Actor.operator(), assessment_id)
    assert (view.assessment.kind, view.assessment.status, view.assessment.level) == ("self", "draft", 4)
    assert view.enterprise.credit_code == ENTERPRISE["credit_code"]
    assert view.answers[cmmm.items_for("discrete")[0].id].note == "=现场核实"
    assert view.profile.networking_rate == 48
    again, new = import_bytes(services, filled(cmmm, "full"))
    assert not new
    assert again != assessment_id
    assert services.get_assessment(Actor.operator(), again).enterprise.id == view.enterprise.id


def test_a_template_made_for_an_assessment_fills_that_one(world_store, cmmm):
    services, w = world_store
    data = filled(cmmm, "full", assessment_id=w.diagnosis_1)
    assessment_id, new = import_bytes(services, data)
    assert (assessment_id, new) == (w.diagnosis_1, False)
    view = services.get_assessment(w.provider_a, w.diagnosis_1)
    assert view.assessment.answered == 266
    assert view.assessment.level == 5


def test_an_enterprise_that_cannot_be_registered_imports_nothing(store, cmmm):
    services = Services(store)
    incomplete = {key: value for key, value in ENTERPRISE.items() if key != "district"}
    with pytest.raises(InputError, match="enterprise: form: an enterprise needs district"):
        import_bytes(services, filled(cmmm, enterprise=incomplete))
    assert services.list_enterprises(Actor.operator()) == []
    assert services.list_assessments(Actor.operator()) == []


def run(*args):
    return subprocess.run([sys.executable, "-m", "assessment", *map(str, args)], cwd=PROJECT_ROOT,
                          capture_output=True, text=True, timeout=300, check=False)


def test_the_command_line_round_trip(tmp_path, cmmm):
    blank = tmp_path / "blank.xlsx"
    assert run("template", "cmmm-2020", "--out", blank, "--lang", "en").returncode == 0
    assert read_template(blank.read_bytes()).lang == "en"

    good = tmp_path / "good.xlsx"
    good.write_bytes(filled(cmmm))
    scored = run("score", good, "--json")
    assert scored.returncode == 0, scored.stderr
    assert json.loads(scored.stdout)["level"] == 4

    bad = build_template(cmmm, enterprise=ENTERPRISE)
    bundle = tmp_path / "batch.zip"
    with zipfile.ZipFile(bundle, "w") as archive:
        archive.writestr("a-good.xlsx", good.read_bytes())
        archive.writestr("b-tampered.xlsx", _tampered(bad))
    db = f"sqlite:///{tmp_path / 'import.db'}"
    proc = run("import", bundle, "--db", db)
    assert proc.returncode == 1  # one file failed
    assert proc.stdout == f"{bundle}/a-good.xlsx: imported 266 answers into assessment 1 (new enterprise)\n"
    assert proc.stderr.startswith(f"{bundle}/b-tampered.xlsx: 评估明细!G")
    assert '"大部分" is not one of' in proc.stderr
    assert "Traceback" not in proc.stderr
    report = run("report", "--assessment", 1, "--db", db, "--out", tmp_path / "r.xlsx")
    assert report.returncode == 0, report.stderr


def _tampered(data: bytes) -> bytes:
    """A template whose answer cell holds something outside the list."""
    import openpyxl

    wb = openpyxl.load_workbook(io.BytesIO(data))
    ws = wb["评估明细"]
    for row in ws.iter_rows(min_row=2):
        if row[0].value:
            row[6].value = "大部分"
            break
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
