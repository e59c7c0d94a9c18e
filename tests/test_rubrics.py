"""An item's rubric (what full / mostly / partly look like) where items are shown: the interview page, the offline
template and the diagnostic report. Released versions have no rubrics (1.0.0) and show nothing extra; the items
here come from the mini questionnaire with rubrics on two of its items (tests.conftest.rubric_mini)."""

import io

import openpyxl
import pytest

from reports import report
from tests.conftest import RUBRIC, RUBRIC_ITEMS

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


def test_a_report_of_a_questionnaire_without_rubrics_keeps_its_columns(mini):
    ws = detail_sheet(mini, "zh")
    assert ws.max_column == 8
    assert ws.auto_filter.ref.startswith("A1:H")
