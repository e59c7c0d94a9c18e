"""The diagnostic report workbook: its sheets, charts, print set-up, peers rule, text safety, LibreOffice."""

import json
import subprocess
import sys
import zipfile

import openpyxl
import pytest

from assessment import PROJECT_ROOT
from reports import report
from reports.cells import FONT_NAME
from tests.conftest import missing
from tests.libreoffice import convert, soffice

SHEETS = {"zh": ["封面", "总览", "现状明细", "差距与建议", "数字化基础", "签字"],
          "en": ["Cover", "Summary", "Detail", "Gaps & plan", "Baseline", "Sign-off"]}
EVIL = '=HYPERLINK("http://evil.example","点我")'


def sample(cmmm, peers=None, **changes):
    answers = {item.id: {"code": "mostly", "note": "+1-2" if n == 0 else f"记录{n}", "evidence": "@SUM(A1)"}
               for n, item in enumerate(cmmm.items_for("discrete"))}
    data = report.ReportInput(
        questionnaire=cmmm, profile="discrete", answers=answers, status="approved", provider="服务商甲",
        diagnosticians=["张工"], enterprise={"name": EVIL, "credit_code": "91320500000000001X", "district": "gusu",
                                             "industry": "C34", "size_class": "medium"},
        facts={"nc_rate": 55.0, "networking_rate": 40.0, "data_collection_rate": 35.0,
               "systems": {"ERP": {"in_use": True, "cloud": True}}},
        projects=[{"title": "MES 建设", "subdomain": "PO", "target_level": 3, "investment": 120.5, "priority": "high",
                   "status": "planned"},
                  {"title": "-cmd", "subdomain": "EN", "target_level": 3, "investment": 30, "priority": "low",
                   "status": "started"}],
        confirmation={"rating": 5, "comment": "=1+1"}, reviews=[{"decision": "approved", "comment": None}],
        peers=peers)
    for key, value in changes.items():
        setattr(data, key, value)
    return data


@pytest.fixture(scope="module")
def written(tmp_path_factory, request):
    cmmm = request.getfixturevalue("cmmm")
    out = tmp_path_factory.mktemp("report")
    paths = {}
    for lang in ("zh", "en"):
        paths[lang] = out / f"report-{lang}.xlsx"
        report.write(sample(cmmm, peers={"count": 6, "levels": [1, 2, 2, 1, 0, 0],
                                         "medians": {"networking_rate": 33.0}}), paths[lang], lang=lang)
    return paths


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_report_has_its_six_sheets_in_the_language_asked(written, lang):
    assert openpyxl.load_workbook(written[lang]).sheetnames == SHEETS[lang]


def test_the_detail_lists_every_requirement_with_filters_and_colours(written, cmmm):
    ws = openpyxl.load_workbook(written["zh"])["现状明细"]
    ids = [row[0].value for row in ws.iter_rows(min_row=2)]
    assert ids == [item.id for item in cmmm.items_for("discrete")]
    assert ws.cell(2, 5).value == "大部分满足"
    assert ws.cell(2, 6).value == 0.8
    assert ws.freeze_panes == "A2"
    # The rubric column follows the answer's columns when the questionnaire has rubrics (2.0.0 on: every item).
    last = "I" if any(item.rubric for item in cmmm.items) else "H"
    assert ws.auto_filter.ref == f"A1:{last}{len(ids) + 1}"
    if last == "I":
        assert ws.cell(1, 9).value == "评分标准"
        assert all(row[8].value for row in ws.iter_rows(min_row=2))
    assert ws.conditional_formatting  # colour scale on the score column


def test_the_summary_states_the_level_scores_and_gradient(written):
    ws = openpyxl.load_workbook(written["zh"])["总览"]
    values = [cell.value for row in ws.iter_rows() for cell in row if cell.value is not None]
    assert values[0].startswith("成熟度等级: 4 优化级")
    assert "总分 S = 4.00" in values[0]
    assert "领航级智能工厂" in values
    assert "满足前提" in values
    assert "同区县同行业企业少于5家，不作比较。" not in values  # 6 peers: compared


def test_peers_are_shown_only_from_five(cmmm, tmp_path):
    for count, shown in ((4, False), (5, True)):
        path = tmp_path / f"peers{count}.xlsx"
        report.write(sample(cmmm, peers={"count": count, "levels": [count, 0, 0, 0, 0, 0],
                                         "medians": {"networking_rate": 12.5}}), path)
        wb = openpyxl.load_workbook(path)
        summary = [c.value for row in wb["总览"].iter_rows() for c in row]
        baseline = [c.value for row in wb["数字化基础"].iter_rows() for c in row]
        assert ("同区县同行业企业少于5家，不作比较。" not in summary) == shown
        assert (12.5 in baseline) == shown


def test_native_charts_with_a_cjk_font(written):
    with zipfile.ZipFile(written["zh"]) as archive:
        charts = [archive.read(name).decode() for name in archive.namelist() if name.startswith("xl/charts/chart")]
    assert any("<radarChart>" in chart for chart in charts)
    assert any("<barChart>" in chart for chart in charts)
    assert all(f'typeface="{FONT_NAME}"' in chart for chart in charts)


def test_print_ready(written):
    wb = openpyxl.load_workbook(written["zh"])
    for ws in wb.worksheets:
        assert int(ws.page_setup.paperSize) == int(ws.PAPERSIZE_A4)
        assert ws.sheet_properties.pageSetUpPr.fitToPage
        assert "&P" in ws.oddFooter.center.text
    assert wb["现状明细"].print_title_rows in ("1:1", "$1:$1")


def test_user_text_stays_text(written):
    wb = openpyxl.load_workbook(written["zh"])
    name = wb["封面"].cell(3, 2)
    assert (name.value, name.data_type) == (EVIL, "s")
    note, evidence = wb["现状明细"].cell(2, 7), wb["现状明细"].cell(2, 8)
    assert (note.value, note.data_type, evidence.value, evidence.data_type) == ("+1-2", "s", "@SUM(A1)", "s")
    signoff = [c for row in wb["签字"].iter_rows() for c in row if c.value == "=1+1"]
    assert signoff
    assert signoff[0].data_type == "s"


def test_the_report_opens_in_libreoffice(written):
    if not soffice():
        missing("LibreOffice", "soffice not found (Debian package libreoffice-calc)")
    assert convert(written["zh"]).stat().st_size > 10_000


def test_a_report_from_the_database(world_store, cmmm, tmp_path):
    services, w = world_store
    view = services.get_assessment(w.admin, w.approved_1)
    path = tmp_path / "approved.xlsx"
    report.write(report.from_view(view, cmmm), path)
    wb = openpyxl.load_workbook(path)
    cover = {row[0].value: row[1].value for row in wb["封面"].iter_rows(min_row=3)}
    assert cover["企业名称"] == "企业1"
    assert cover["诊断服务商"] == "服务商甲"
    assert cover["诊断人员"] == "provider_a"
    assert cover["状态"] == "审核通过"
    projects = [c.value for row in wb["差距与建议"].iter_rows() for c in row]
    assert "MES" in projects


def test_the_report_command(tmp_path, cmmm):
    answers = tmp_path / "answers.json"
    answers.write_text(json.dumps({"questionnaire": "cmmm-2020", "profile": "discrete",
                                   "answers": {i.id: "full" for i in cmmm.items_for("discrete")},
                                   "enterprise": {"name": "苏州某企业"}}, ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "out.xlsx"
    proc = subprocess.run([sys.executable, "-m", "assessment", "report", str(answers), "--out", str(out),
                           "--lang", "en"], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    assert openpyxl.load_workbook(out).sheetnames == SHEETS["en"]
    bad = subprocess.run([sys.executable, "-m", "assessment", "report", str(tmp_path / "none.json"), "--out",
                          str(out)], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert bad.returncode == 1
    assert bad.stderr.strip() == f"{tmp_path / 'none.json'}: no such file"
