"""An item's rubric (what full / mostly / partly look like) where items are shown: the interview page, the offline
template and the diagnostic report. Released versions have no rubrics (1.0.0) and show nothing extra; the items
here come from the mini questionnaire with rubrics on two of its items (tests.conftest.rubric_mini)."""

import io
import shutil

import openpyxl
import pytest
import yaml

from assessment import QUESTIONNAIRES_DIR
from assessment.questionnaire import by_id
from reports import report
from reports.template import build_template, read_template
from tests.conftest import RUBRIC, RUBRIC_ITEMS
from tests.test_app_work import open_page

RUBRIC_HEADING = {"zh": "评分标准", "en": "Rating rubric"}
GUIDANCE = {"zh": "访谈提示", "en": "Interviewer guidance"}
LABELS = {"zh": ("全部满足", "大部分满足", "部分满足"), "en": ("Fully met", "Mostly met", "Partly met")}


def expected_rubric(lang: str) -> str:
    colon = ": " if lang == "en" else "："
    return "\n".join(f"{label}{colon}{RUBRIC[code][lang]}"
                     for label, code in zip(LABELS[lang], ("full", "mostly", "partly"), strict=True))


# --- the diagnostic report ----------------------------------------------------------------------------------------

DETAIL = {"zh": ("现状明细", "评分标准"), "en": ("Detail", "Rating rubric")}


def detail_sheet(q, lang: str):
    answers = {item.id: {"code": "mostly"} for item in q.items_for("discrete")}
    data = report.ReportInput(questionnaire=q, profile="discrete", answers=answers)
    return openpyxl.load_workbook(io.BytesIO(report.write(data, lang=lang)))[DETAIL[lang][0]]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_report_lists_each_items_rubric_beside_it(rubric_mini, lang):
    ws = detail_sheet(rubric_mini, lang)
    assert ws.cell(1, 9).value == DETAIL[lang][1]
    rubric = {row[0]: row[8] for row in ws.iter_rows(min_row=2, values_only=True)}
    assert {item: text for item, text in rubric.items() if text} == dict.fromkeys(RUBRIC_ITEMS, expected_rubric(lang))
    assert ws.auto_filter.ref.startswith("A1:I")
    assert ws.page_setup.orientation == "landscape"  # the requirement stays readable beside the rubric in print
    rows = {row[0].value: row[0].row for row in ws.iter_rows(min_row=2, max_col=1)}
    assert all(ws.row_dimensions[rows[item]].height >= 14 * 3 for item in RUBRIC_ITEMS)  # every rating's line prints


def test_a_report_of_a_questionnaire_without_rubrics_keeps_its_columns(mini):
    ws = detail_sheet(mini, "zh")
    assert ws.max_column == 8
    assert ws.auto_filter.ref.startswith("A1:H")


# --- the interview page -------------------------------------------------------------------------------------------

WITH_RUBRIC = ("OS.1.1", "OS.1.2")  # the items of the test's CMMM 9.0.0 that carry RUBRIC


@pytest.fixture
def rubric_version(tmp_path, monkeypatch):
    """The shipped CMMM versions plus a 9.0.0 whose items WITH_RUBRIC carry RUBRIC: new assessments start on it."""
    folder = tmp_path / "questionnaires"
    shutil.copytree(QUESTIONNAIRES_DIR / "cmmm-2020", folder / "cmmm-2020", ignore=shutil.ignore_patterns("parts-*"))
    data = yaml.safe_load((folder / "cmmm-2020" / "1.0.0.yaml").read_text(encoding="utf-8"))
    data["version"] = "9.0.0"
    for item in data["items"]:
        if item["id"] in WITH_RUBRIC:
            item["rubric"] = RUBRIC
    (folder / "cmmm-2020" / "9.0.0.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("ASSESSMENT_QUESTIONNAIRES", str(folder))


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_interview_shows_an_items_rubric_under_its_guidance(app_world, rubric_version, lang):
    services, w = app_world
    enterprise = w.enterprise_2
    assessment = services.start_self_assessment(enterprise, enterprise.organisation_id)
    app = open_page(enterprise, "interview", lang, assessment=assessment, sd="OS")
    captions = [str(caption.value) for caption in app.caption]
    rubrics = [text for text in captions if text.startswith(RUBRIC_HEADING[lang])]
    assert len(rubrics) == len(WITH_RUBRIC), captions  # the other requirements of OS have none: nothing extra
    for label, code in zip(LABELS[lang], ("full", "mostly", "partly"), strict=True):
        assert label in rubrics[0]
        assert RUBRIC[code][lang] in rubrics[0]
    guidance = next(k for k, text in enumerate(captions) if text.startswith(GUIDANCE[lang]))
    assert captions[guidance + 1] == rubrics[0]  # right under the first requirement's guidance


def test_the_interview_of_a_version_without_rubrics_shows_none(databases, tmp_path, monkeypatch):
    from assessment.db import Store
    from assessment.services import Services
    from tests.test_versions import diagnosis_in_progress, only_first_version

    only_first_version(tmp_path, monkeypatch)  # an assessment on 1.0.0, which has no rubrics
    url = databases.new("sqlite")
    monkeypatch.setenv("ASSESSMENT_DB_URL", url)
    store = Store(url)
    try:
        _, provider, diagnosis, _ = diagnosis_in_progress(Services(store))
        app = open_page(provider, "interview", assessment=diagnosis, sd="OS")
    finally:
        store.dispose()
    assert any(str(caption.value).startswith(GUIDANCE["zh"]) for caption in app.caption)
    assert not any(str(caption.value).startswith(RUBRIC_HEADING["zh"]) for caption in app.caption)


def test_the_interview_on_the_shipped_2_0_0_shows_every_items_rubric(app_world):
    _, w = app_world  # the world's diagnoses start on the newest version
    q = by_id("cmmm-2020")
    assert q.version == "2.0.0"
    app = open_page(w.provider_a, "interview", assessment=w.diagnosis_1, sd="OS")
    captions = [str(caption.value) for caption in app.caption]
    rubrics = [text for text in captions if text.startswith(RUBRIC_HEADING["zh"])]
    items = [item for item in q.items_for("discrete") if item.subdomain == "OS"]
    assert len(rubrics) == len(items), captions
    for item, text in zip(items, rubrics, strict=True):
        assert all(getattr(item.rubric, code).zh in text for code in ("full", "mostly", "partly")), (item.id, text)


# --- the offline template -----------------------------------------------------------------------------------------

TEMPLATE_SHEET = {"zh": "评估明细", "en": "Requirements"}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_template_shows_the_rubric_below_the_guidance_and_still_reads_back(rubric_version, lang):
    q = by_id("cmmm-2020")
    assert q.version == "9.0.0"
    data = build_template(q, lang=lang, profile="discrete")
    wb = openpyxl.load_workbook(io.BytesIO(data))
    ws = wb[TEMPLATE_SHEET[lang]]
    rows = {row[0].value: row[0].row for row in ws.iter_rows(min_row=2, max_col=1) if row[0].value}
    guidance = {item_id: ws.cell(row, 6).value for item_id, row in rows.items()}
    heading = {"zh": "评分标准：", "en": "Rating rubric:"}[lang]
    for item_id in WITH_RUBRIC:
        expected = "\n".join([q.item_by_id[item_id].guidance(lang), heading, expected_rubric(lang)])
        assert guidance[item_id] == expected
        assert ws.row_dimensions[rows[item_id]].height >= 14 * expected.count("\n")  # readable in print
    assert guidance["OS.1.3"] == q.item_by_id["OS.1.3"].guidance(lang)  # no rubric: the guidance alone
    assert [cell.value for cell in ws[1]][5:9] == [{"zh": "访谈要点", "en": "Interviewer guidance"}[lang],
                                                   *{"zh": ["评估结果", "备注", "证据"],
                                                     "en": ["Answer", "Note", "Evidence"]}[lang]]
    ws.cell(rows["OS.1.1"], 7).value = LABELS[lang][1]  # answered as a user would: the columns are where they were
    out = io.BytesIO()
    wb.save(out)
    filled = read_template(out.getvalue(), "filled.xlsx")
    assert filled.answers == {"OS.1.1": {"code": "mostly", "note": None, "evidence": None}}
    assert filled.version == "9.0.0"
