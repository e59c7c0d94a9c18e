"""Whether a result was scored with official weights, on every surface that shows it: `questionnaire show` and
`score` JSON, the results page, the diagnostic report, the bureau workbook and the dashboard's national comparison.

The shipped CMMM 1.0.0 has provisional weights; a copy of the mini questionnaire whose discrete tables say
``official: true`` (in a folder ``ASSESSMENT_QUESTIONNAIRES`` names) stands for a bureau's official annex.
"""

import io
import json
import os
import shutil
import subprocess
import sys

import openpyxl
import pytest
import yaml
from sqlalchemy import update

from assessment import PROJECT_ROOT, QUESTIONNAIRES_DIR
from assessment.accounts import Actor
from assessment.analytics import level_distribution, levels_by_district
from assessment.models import Assessment
from assessment.questionnaire import parse
from reports import report
from reports.bureau import write_bureau_workbook
from tests.conftest import MINI
from tests.test_analytics import build_hand
from tests.test_app_work import open_page


def official_mini(folder):
    """A questionnaires folder holding mini 0.1 whose discrete weights are official (process stays provisional),
    beside the shipped CMMM versions (the bureau workbook names levels by CMMM's words)."""
    shutil.copytree(QUESTIONNAIRES_DIR / "cmmm-2020", folder / "cmmm-2020", ignore=shutil.ignore_patterns("parts-*"))
    data = yaml.safe_load(MINI.read_text(encoding="utf-8"))
    for table in ("elements", "domains", "subdomains"):
        data["weight_profiles"]["discrete"][table]["official"] = True
    (folder / "mini").mkdir(parents=True)
    (folder / "mini" / f"{data['version']}.yaml").write_text(yaml.safe_dump(data, allow_unicode=True),
                                                            encoding="utf-8")
    return folder, data


def run(*args, questionnaires=None):
    env = dict(os.environ)
    if questionnaires is not None:
        env["ASSESSMENT_QUESTIONNAIRES"] = str(questionnaires)
    proc = subprocess.run([sys.executable, "-m", "assessment", *map(str, args)], cwd=PROJECT_ROOT, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


# --- the command line --------------------------------------------------------------------------------------------


def test_show_json_says_per_profile_whether_the_weights_are_official(tmp_path):
    assert json.loads(run("questionnaire", "show", "cmmm-2020", "--json"))["weights_official"] == {
        "discrete": False, "process": False}
    folder, _ = official_mini(tmp_path / "q")
    assert json.loads(run("questionnaire", "show", "mini", "--json", questionnaires=folder))["weights_official"] == {
        "discrete": True, "process": False}


@pytest.mark.parametrize(("profile", "official"), [("discrete", True), ("process", False)])
def test_score_json_says_whether_the_weights_were_official(tmp_path, profile, official):
    folder, data = official_mini(tmp_path / "q")
    answers = {item["id"]: "full" for item in data["items"]}
    if profile == "discrete":
        answers.pop("PB.1.2")  # a process-only item
    answer_file = tmp_path / "answers.json"
    answer_file.write_text(json.dumps({"questionnaire": "mini", "profile": profile, "answers": answers}),
                           encoding="utf-8")
    assert json.loads(run("score", answer_file, "--json", questionnaires=folder))["weights_official"] is official


# --- the results page ---------------------------------------------------------------------------------------------

WORDS = {"zh": ("暂定权重", "仅供参考"), "en": ("provisional weights", "indicative")}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_results_page_says_the_weights_are_provisional(app_world, lang):
    _, w = app_world
    app = open_page(w.provider_a, "results", lang, assessment=w.submitted_1)
    notes = [element.value for element in app.info]
    assert any(all(word in note for word in WORDS[lang]) for note in notes), notes


# --- the diagnostic report ----------------------------------------------------------------------------------------

REPORT_WORDS = {"zh": ("总览", "全国自诊断分布"), "en": ("Summary", "National self-diagnosis distribution")}


def summary_texts(q, profile: str, lang: str) -> list[str]:
    answers = {item.id: {"code": "full"} for item in q.items_for(profile)}
    data = report.ReportInput(questionnaire=q, profile=profile, answers=answers)
    ws = openpyxl.load_workbook(io.BytesIO(report.write(data, lang=lang)))[REPORT_WORDS[lang][0]]
    return [str(cell.value) for row in ws.iter_rows() for cell in row if cell.value is not None]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_report_says_the_weights_are_provisional_and_the_national_comparison_indicative(tmp_path, lang):
    _, data = official_mini(tmp_path / "q")
    official = parse(yaml.safe_dump(data, allow_unicode=True), "official-mini")
    provisional = summary_texts(official, "process", lang)
    assert any(all(word in text for word in WORDS[lang]) for text in provisional), provisional
    national = next(text for text in provisional if text.startswith(REPORT_WORDS[lang][1]))
    assert WORDS[lang][1] in national
    scored_officially = summary_texts(official, "discrete", lang)
    assert not any(WORDS[lang][1] in text for text in scored_officially), scored_officially
    assert REPORT_WORDS[lang][1] in scored_officially


# --- the bureau workbook and the dashboard ------------------------------------------------------------------------

ADMIN = Actor(0, "admin", "bureau_admin", None)


def overview_texts(store, path, lang: str = "zh") -> list[str]:
    wb = openpyxl.load_workbook(write_bureau_workbook(store, ADMIN, None, path, lang=lang))
    return [str(cell.value) for row in wb.worksheets[0].iter_rows() for cell in row if cell.value is not None]


def test_the_aggregates_are_official_only_when_every_diagnosis_counted_is(store, tmp_path, monkeypatch):
    folder, _ = official_mini(tmp_path / "q")
    monkeypatch.setenv("ASSESSMENT_QUESTIONNAIRES", str(folder))
    hand = build_hand(store)
    with store.write() as db:  # every diagnosis scored with mini's official discrete weights
        db.execute(update(Assessment).values(questionnaire_id="mini", questionnaire_version="0.1", profile="discrete"))
    assert level_distribution(store, ADMIN).weights_official is True
    assert all(row.weights_official for row in levels_by_district(store, ADMIN))
    texts = overview_texts(store, tmp_path / "official.xlsx")
    assert "与全国自诊断结果对比" in texts
    assert not any("仅供参考" in text for text in texts), texts

    with store.write() as db:  # one enterprise's latest diagnosis scored with mini's provisional process weights
        db.execute(update(Assessment).where(Assessment.id == hand.d["E1B"]).values(profile="process"))
    assert level_distribution(store, ADMIN).weights_official is False
    assert {row.key: row.weights_official for row in levels_by_district(store, ADMIN)} == {
        "gusu": False, "kunshan": True}
    for lang in ("zh", "en"):
        texts = overview_texts(store, tmp_path / f"provisional-{lang}.xlsx", lang)
        heading = next(text for text in texts if text.startswith(("与全国自诊断结果对比", "Compared with the nation")))
        assert WORDS[lang][1] in heading
        note = texts[texts.index(heading):]
        assert all(any(word in text for text in note) for word in WORDS[lang]), note


def test_a_diagnosis_of_a_version_no_longer_installed_counts_as_provisional(store):
    build_hand(store)  # its diagnoses name cmmm-2020 version "1", which was never installed
    assert level_distribution(store, ADMIN).weights_official is False


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_dashboard_says_the_national_comparison_is_indicative(app_world, lang):
    _, w = app_world
    app = open_page(w.admin, "dashboard", lang)
    notes = [element.value for element in app.info]
    assert any(all(word in note for word in WORDS[lang]) for note in notes), notes


def test_the_stored_result_carries_it_and_one_stored_without_it_shows_as_provisional(app_world):
    services, w = app_world
    stored = services.get_assessment(w.provider_a, w.submitted_1).assessment.result
    assert stored["weights_official"] is False
    older = {key: value for key, value in stored.items() if key != "weights_official"}  # as stored before the key
    with services.store.write() as db:
        db.execute(update(Assessment).where(Assessment.id == w.submitted_1).values(result=older))
    app = open_page(w.provider_a, "results", "en", assessment=w.submitted_1)
    assert not app.error, [e.value for e in app.error]
    assert any(all(word in note.value for word in WORDS["en"]) for note in app.info)
