"""Filled offline templates into the database (both backends) and through the command line."""

import io
import json
import subprocess
import sys
import time
import zipfile

import pytest
from streamlit.proto.BackMsg_pb2 import BackMsg

from assessment import PROJECT_ROOT
from assessment.accounts import Actor
from assessment.db import Store
from assessment.inputs import InputError
from assessment.services import ConflictError, Services
from reports.template import ImportCancelled, build_template, read_template
from tests.conftest import credit_code
from tests.streamlit_client import StreamlitClient
from tests.streamlit_server import StreamlitServer
from tests.test_app_work import button, open_page, version
from tests.test_template import FAR_ROW, far_reaching, filled_template
from ui import work

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
    assert view.assessment.answered == len(cmmm.items_for("discrete"))
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
    assert proc.stdout == (f"{bundle}/a-good.xlsx: imported {len(cmmm.items_for('discrete'))} answers into "
                           "assessment 1 (new enterprise)\n")
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


# --- an older template against answers changed online since it was made -------------------------------------------


def answered(code: str, note: str | None = None) -> dict:
    return {"code": code, "note": note, "evidence": None}


def import_audits(services, w, assessment_id: int) -> list:
    return [entry for entry in services.audit_log(w.admin, entity="assessment", entity_id=assessment_id)
            if entry.action == "import_answers"]


def test_an_older_template_is_refused_where_answers_changed_online_since_or_overwrites_them_when_asked(
        world_store, cmmm):
    services, w = world_store
    d, provider = w.diagnosis_1, w.provider_a
    first, second, third, fourth = (item.id for item in cmmm.items_for("discrete")[:4])
    v = services.get_assessment(provider, d).assessment.version
    v = services.save_answer(provider, d, first, "full", expected_version=v)
    v = services.save_answer(provider, d, second, "full", expected_version=v)
    made = read_template(work.template_bytes(services.get_assessment(provider, d), cmmm, "zh", with_answers=True))
    # Online, after the template was made: the first answer changed, the third answered.
    v = services.save_answer(provider, d, first, "none", note="复查后不满足", expected_version=v)
    v = services.save_answer(provider, d, third, "partly", expected_version=v)
    # Offline, in the template: the first and second changed, the third answered as online, the fourth new.
    offline = {**made.answers, first: answered("partly"), second: answered("none"), third: answered("partly"),
               fourth: answered("full", "现场")}
    template = made.model_copy(update={"answers": offline})

    with pytest.raises(ConflictError) as refused:
        services.import_filled(provider, **template.import_arguments())
    assert (refused.value.code, refused.value.params["items"]) == ("template.changed_online", first)
    assert first in refused.value.messages[0]
    kept = services.get_assessment(provider, d)
    assert kept.assessment.version == v  # nothing imported
    assert {item: row.code for item, row in kept.answers.items()} == {first: "none", second: "full", third: "partly"}

    assessment_id, _ = services.import_filled(provider, **template.import_arguments(), overwrite=True)
    assert assessment_id == d
    now = services.get_assessment(provider, d).answers
    assert {item: (row.code, row.note) for item, row in now.items()} == {
        first: ("partly", None), second: ("none", None), third: ("partly", None), fourth: ("full", "现场")}
    entry = import_audits(services, w, d)[0]
    assert entry.before["changed"] == {first: answered("none", "复查后不满足"), second: answered("full"),
                                       fourth: None}
    assert entry.after["changed"] == {first: answered("partly"), second: answered("none"),
                                      fourth: answered("full", "现场")}
    assert entry.after["overwritten"] == [first]


def test_a_template_made_for_an_assessment_without_its_origin_overwrites_nothing_unasked(world_store, cmmm):
    """A template exported before templates carried their origin: any stored answer it would change counts as
    changed online."""
    services, w = world_store
    d, provider = w.diagnosis_1, w.provider_a
    first = cmmm.items_for("discrete")[0].id
    services.save_answer(provider, d, first, "full", expected_version=services.get_assessment(provider, d)
                         .assessment.version)
    template = read_template(build_template(cmmm, answers={first: "none"}, assessment_id=d))
    with pytest.raises(ConflictError, match=first):
        services.import_filled(provider, **template.import_arguments())
    services.import_filled(provider, **template.import_arguments(), overwrite=True)
    assert services.get_assessment(provider, d).answers[first].code == "none"


def test_every_import_records_what_it_changed_before_and_after(world_store, cmmm):
    services, w = world_store
    d, provider = w.diagnosis_1, w.provider_a
    first, second = (item.id for item in cmmm.items_for("discrete")[:2])
    services.save_answer(provider, d, first, "full", note="现场", expected_version=services.get_assessment(
        provider, d).assessment.version)
    view = services.get_assessment(provider, d)
    made = read_template(work.template_bytes(view, cmmm, "zh", with_answers=True))
    one_more = made.model_copy(update={"answers": {**made.answers, second: answered("mostly")}})
    services.import_filled(provider, **one_more.import_arguments())
    entry = import_audits(services, w, d)[0]
    assert (entry.before, entry.after["changed"], entry.after["overwritten"]) == (
        {"changed": {second: None}}, {second: answered("mostly")}, [])
    # An answer the template holds as it is stored is left as it was: it does not look changed later.
    assert services.get_assessment(provider, d).answers[first].updated_at == view.answers[first].updated_at


def test_the_command_line_refuses_an_older_template_unless_told_to_overwrite(tmp_path, cmmm):
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    store = Store(db)
    services, operator = Services(store), Actor.operator()
    assessment_id, _ = import_bytes(services, filled(cmmm))  # every answer "mostly"
    view = services.get_assessment(operator, assessment_id)
    older = tmp_path / "older.xlsx"
    older.write_bytes(work.template_bytes(view, cmmm, "zh", with_answers=True))
    first = cmmm.items_for("discrete")[0].id
    services.save_answer(operator, assessment_id, first, "full", expected_version=view.assessment.version)
    store.dispose()

    refused = run("import", older, "--db", db)
    assert refused.returncode == 1
    assert refused.stderr == (f"{older}: assessment {assessment_id}: answers changed online after this template was "
                              f"made, which it would overwrite: {first}. Nothing was imported: export a new "
                              "template, or import this one again choosing to overwrite those answers\n")
    overwritten = run("import", older, "--db", db, "--overwrite")
    assert overwritten.returncode == 0, overwritten.stderr
    assert overwritten.stdout == (f"{older}: imported {len(cmmm.items_for('discrete'))} answers into assessment "
                                  f"{assessment_id}\n")
    store = Store(db)
    assert Services(store).get_assessment(operator, assessment_id).answers[first].code == "mostly"
    store.dispose()


def test_the_command_line_refuses_a_far_reaching_sheet_before_it_opens_the_database(tmp_path):
    far = tmp_path / "far.xlsx"
    far.write_bytes(far_reaching(filled_template(), dimension=f"A1:I{FAR_ROW}"))
    never = tmp_path / "never.db"
    proc = run("import", far, "--db", f"sqlite:///{never}")
    assert proc.returncode == 1
    lines = proc.stderr.splitlines()
    assert len(lines) == 5  # one per sheet
    assert all(line.startswith(f"{far}: ") and f"reaches row {FAR_ROW:,} and column 9" in line for line in lines)
    assert not never.exists()


# --- an upload whose session ends -----------------------------------------------------------------------------------


def test_an_upload_whose_session_ends_while_it_is_read_imports_nothing(store, cmmm):
    services, operator = Services(store), Actor.operator()
    one = filled(cmmm)
    other = filled(cmmm, enterprise={**ENTERPRISE, "credit_code": credit_code(78)})
    checks_of_one = []
    read_template(one, cancelled=lambda: checks_of_one.append(True) or False)
    asked = []

    def ended() -> bool:  # the session ends once the first workbook has been read whole
        asked.append(True)
        return len(asked) > len(checks_of_one)

    bundle = io.BytesIO()
    with zipfile.ZipFile(bundle, "w") as archive:
        archive.writestr("a.xlsx", one)
        archive.writestr("b.xlsx", other)
    with pytest.raises(ImportCancelled) as stopped:
        work.import_uploads(services, operator, [("batch.zip", bundle.getvalue())], cancelled=ended)
    assert stopped.value.code == "template.cancelled"
    assert services.list_assessments(operator) == []
    assert services.list_enterprises(operator) == []


def test_the_app_refuses_a_far_reaching_sheet_before_it_reads_a_row(store):
    asked = []
    far = far_reaching(filled_template(), dimension=f"A1:I{FAR_ROW}")
    [outcome] = work.import_uploads(Services(store), Actor.operator(), [("far.xlsx", far)],
                                    cancelled=lambda: asked.append(True) or False)
    assert {code for code, _ in outcome.error.problems} == {"template.sheet_too_large"}
    assert asked == []  # refused from the sheets' declared size alone


def test_the_files_page_overwrites_answers_changed_online_only_when_ticked(app_world, cmmm):
    services, w = app_world
    d, provider = w.diagnosis_1, w.provider_a
    first = cmmm.items_for("discrete")[0].id
    v = services.save_answer(provider, d, first, "full", expected_version=version(services, provider, d))
    older = work.template_bytes(services.get_assessment(provider, d), cmmm, "zh", with_answers=True)
    services.save_answer(provider, d, first, "none", expected_version=v)

    app = open_page(provider, "files", assessment=d)
    app.file_uploader[0].set_value([("older.xlsx", older, work.XLSX)])
    app.run()
    button(app, "导入").click().run()
    assert not app.exception
    assert app.markdown[-1].value == "**older.xlsx**：未导入"
    assert app.error[0].value == (f"评估 #{d} 有 1 项答案在导出此模板之后已在线修改，导入此模板会覆盖它们：{first}。"
                                  "未导入任何内容。请重新导出模板，或再次导入并选择覆盖这些答案。")
    assert services.get_assessment(provider, d).answers[first].code == "none"

    next(box for box in app.checkbox if box.label == "覆盖导出模板后在线修改过的答案").check().run()
    app.file_uploader[0].set_value([("older.xlsx", older, work.XLSX)])
    app.run()
    button(app, "导入").click().run()
    assert app.success[0].value == f"older.xlsx：已导入 1 项答案到评估 #{d}"
    assert services.get_assessment(provider, d).answers[first].code == "full"


def test_a_real_streamlit_session_tells_work_running_for_it_that_it_ended(tmp_path):
    """``session.ended()`` as the files page passes it: false while the tab is connected, true once it closed,
    while the script is busy in code that makes no Streamlit call (as reading an upload is)."""
    marks = tmp_path / "marks"
    marks.mkdir()
    script = tmp_path / "busy.py"
    script.write_text(f'''import pathlib, time
from ui import session

marks, ended, checks = pathlib.Path({str(marks)!r}), session.ended(), 0
for _ in range(600):  # a guard: a minute at most
    if ended():
        (marks / "ended").write_text(str(checks))
        break
    checks += 1
    if checks == 5:
        (marks / "alive").write_text("")
    time.sleep(0.1)
''')
    server = StreamlitServer(f"sqlite:///{tmp_path / 'unused.db'}", tmp_path / "streamlit.log", script=script)
    try:
        tab = StreamlitClient(server.url)
        start = BackMsg()
        start.rerun_script.page_name = ""
        tab.socket.send(start.SerializeToString())  # the run starts; the tab does not wait for it to finish
        assert appears(marks / "alive", within=60)
        assert not (marks / "ended").exists()  # five checks while the tab was there: none said it ended
        tab.close()
        assert appears(marks / "ended", within=60)
        assert int((marks / "ended").read_text()) >= 5
    finally:
        server.stop()


def appears(path, *, within: float) -> bool:
    """Whether ``path`` exists within ``within`` seconds: a guard against waiting for ever, not a measurement."""
    deadline = time.monotonic() + within
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    return path.exists()
