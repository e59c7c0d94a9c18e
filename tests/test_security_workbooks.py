"""User text never becomes a spreadsheet formula, in every workbook kind and in the CSV export.

A hostile value is planted in every user-controlled text field — organisation names and contacts, answer notes and
evidence, project titles and benefits, profile texts, user names, comments — starting with each of = + - @, a tab,
a carriage return and the full-width ＝ ＋ － ＠. Each workbook (diagnostic report, offline template, bureau
workbook) is read back cell by cell: no cell is a formula, and every cell holding a planted value is text with
Excel's quote prefix (the apostrophe OWASP advises, as Excel itself stores a typed '=…). In the CSV export the
field carries a literal leading apostrophe. reports/cells.py is the one writer; a scan checks no other code in
reports/ writes a cell.
"""

from __future__ import annotations

import ast
import csv
import zipfile
from datetime import datetime
from io import BytesIO

import openpyxl
import pytest

from assessment import PROJECT_ROOT
from assessment.accounts import Actor
from reports import report
from reports.bureau import write_bureau_workbook
from reports.cells import FORMULA_STARTS
from reports.export import write_answers_csv
from reports.template import build_template, read_template
from tests.conftest import credit_code
from tests.test_analytics import Builder

STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")  # ＝ ＋ － ＠ last
ADMIN = Actor(0, "admin", "bureau_admin", None)


def hostile(start: str, field: str) -> str:
    """A value that a spreadsheet would run as a formula; ``field`` makes it findable."""
    return f'{start}HYPERLINK("http://evil.example/{field}","{field}")'


def test_the_safe_writer_knows_every_start():
    assert set(STARTS) <= set(FORMULA_STARTS)


def read_back(data: bytes, planted: dict[str, str]) -> dict[str, list]:
    """Every cell of every sheet: none is a formula, and each one holding a planted value (found by its field
    marker) is text with the quote prefix. Returns field → the cells it was found in."""
    with zipfile.ZipFile(BytesIO(data)) as archive:  # no formula element anywhere in the sheets' XML
        sheets = [name for name in archive.namelist() if name.startswith("xl/worksheets/")]
        assert sheets
        assert [name for name in sheets if b"<f>" in archive.read(name) or b"<f " in archive.read(name)] == []
    workbook = openpyxl.load_workbook(BytesIO(data))
    found: dict[str, list] = {}
    for ws in workbook.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                where = f"{ws.title}!{cell.coordinate}"
                assert cell.data_type != "f", (where, cell.value)
                if not isinstance(cell.value, str):
                    continue
                if cell.value.startswith(FORMULA_STARTS):
                    assert cell.quotePrefix, (where, cell.value)
                for field, value in planted.items():
                    if f"evil.example/{field}\"" in cell.value:
                        assert cell.data_type == "s", (where, cell.value)
                        assert cell.quotePrefix, (where, cell.value)
                        assert cell.value.lstrip("\r\n\t") == value.lstrip("\r\n\t"), (where, cell.value)
                        found.setdefault(field, []).append(where)
    return found


# --- the diagnostic report ----------------------------------------------------------------------------------

REPORT_FIELDS = ("enterprise_name", "provider", "diagnostician", "note", "evidence",
                 "main_products", "other_systems", "industrial_platform", "cybersecurity", "project_title",
                 "expected_benefit", "confirmation_comment", "review_comment")


def hostile_report(cmmm, start: str) -> tuple[report.ReportInput, dict[str, str]]:
    v = {field: hostile(start, field) for field in REPORT_FIELDS}
    items = cmmm.items_for("discrete")
    answers = {item.id: {"code": "partly"} for item in items}
    answers[items[0].id] = {"code": "partly", "note": v["note"], "evidence": v["evidence"]}
    data = report.ReportInput(
        questionnaire=cmmm, profile="discrete", answers=answers, status="approved", provider=v["provider"],
        diagnosticians=[v["diagnostician"]],
        enterprise={"name": v["enterprise_name"], "credit_code": "91320500000000001X", "district": "gusu",
                    "industry": "C34", "size_class": "medium", "production_type": "discrete",
                    "contact_name": hostile(start, "contact"), "contact_phone": "0512-12345678"},  # not shown
        facts={"nc_rate": 50.0, "main_products": v["main_products"], "other_systems": v["other_systems"],
               "industrial_platform": v["industrial_platform"], "cybersecurity": v["cybersecurity"]},
        projects=[{"title": v["project_title"], "subdomain": "PO", "target_level": 3, "investment": 10,
                   "expected_benefit": v["expected_benefit"], "priority": "high", "status": "planned"}],
        confirmation={"rating": 4, "comment": v["confirmation_comment"], "confirmed_at": datetime(2025, 3, 1)},
        reviews=[{"decision": "returned", "comment": v["review_comment"], "decided_at": datetime(2025, 3, 2)}])
    return data, v


@pytest.mark.parametrize("start", STARTS, ids=[f"U+{ord(s[0]):04X}" for s in STARTS])
def test_the_diagnostic_report_keeps_every_user_text_as_text(cmmm, start):
    data, planted = hostile_report(cmmm, start)
    found = read_back(report.write(data), planted)
    assert set(found) == set(REPORT_FIELDS), set(REPORT_FIELDS) - set(found)  # each field was really written


# --- the offline interview template ------------------------------------------------------------------------

TEMPLATE_FIELDS = ("enterprise_name", "contact_name", "main_products", "other_systems", "industrial_platform",
                   "cybersecurity", "note", "evidence")


@pytest.mark.parametrize("start", STARTS, ids=[f"U+{ord(s[0]):04X}" for s in STARTS])
def test_the_offline_template_keeps_every_user_text_as_text(cmmm, start):
    v = {field: hostile(start, field) for field in TEMPLATE_FIELDS}
    item = cmmm.items_for("discrete")[0].id
    enterprise = {"name": v["enterprise_name"], "credit_code": credit_code(1), "district": "gusu",
                  "industry": "C34", "size_class": "medium", "production_type": "discrete",
                  "contact_name": v["contact_name"], "main_products": v["main_products"],
                  "other_systems": v["other_systems"], "industrial_platform": v["industrial_platform"],
                  "cybersecurity": v["cybersecurity"]}
    data = build_template(cmmm, enterprise=enterprise,
                          answers={item: {"code": "partly", "note": v["note"], "evidence": v["evidence"]}})
    found = read_back(data, v)
    assert set(found) == set(TEMPLATE_FIELDS), set(TEMPLATE_FIELDS) - set(found)
    if start not in "\t\r":  # a leading tab or CR is whitespace the import trims
        filled = read_template(data)
        assert filled.answers[item]["note"] == v["note"]  # the quote prefix adds nothing to the text


# --- the bureau workbook and the CSV export -----------------------------------------------------------------


def plant_organisations(store) -> dict[str, str]:
    """Enterprises and providers named with every start, written as raw rows (so even a tab or CR that the forms
    refuse is there), each with an approved diagnosis."""
    planted = {}
    with store.write() as db:
        b = Builder(db)
        for k, start in enumerate(STARTS):
            planted[f"enterprise{k}"] = hostile(start, f"enterprise{k}")
            planted[f"provider{k}"] = hostile(start, f"provider{k}")
            provider = b.provider(planted[f"provider{k}"])
            enterprise = b.enterprise(300 + k, "gusu", "C34", name=planted[f"enterprise{k}"])
            b.diagnosis(enterprise, provider, "approved", datetime(2025, 1, 1 + k), level=2, score=2.0,
                        reviews=("approved",), answers={"OS.1.1": "full"})
    return planted


def test_the_bureau_workbook_keeps_every_name_as_text(store, tmp_path):
    planted = plant_organisations(store)
    path = write_bureau_workbook(store, ADMIN, None, tmp_path / "bureau.xlsx")
    found = read_back(path.read_bytes(), planted)
    assert set(found) == set(planted), set(planted) - set(found)


def test_the_csv_export_prefixes_every_formula_start_with_an_apostrophe(store, tmp_path):
    planted = plant_organisations(store)
    assert write_answers_csv(store, ADMIN, None, tmp_path / "answers.csv") == len(STARTS)
    with (tmp_path / "answers.csv").open(encoding="utf-8-sig", newline="") as f:
        header, *records = list(csv.reader(f))
    seen = set()
    for record in records:
        for column, value in zip(header, record, strict=True):
            assert not value.startswith(FORMULA_STARTS), (column, value)
            for field, hostile_value in planted.items():
                if f"evil.example/{field}\"" in value:
                    assert value == "'" + hostile_value, (column, value)
                    seen.add(field)
    assert seen == set(planted)


# --- one writer -------------------------------------------------------------------------------------------


SHEETS = ("ws", "sheet", "worksheet")  # what the code calls a worksheet


def cell_writes(source: str, name: str) -> list[str]:
    """Places in ``source`` (a file called ``name``) that put a value into a cell other than through reports.cells:
    ``x.value = …``, ``ws[…] = …``, ``.cell(…, value=…)`` and appending rows to a worksheet."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Assign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if (isinstance(target, ast.Attribute) and target.attr == "value") or (
                        isinstance(target, ast.Subscript) and ast.unparse(target.value).split(".")[-1] in SHEETS):
                    found.append(f"{name}:{node.lineno}: {ast.unparse(node)[:80]}")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            receiver = ast.unparse(node.func.value).split(".")[-1]
            if (node.func.attr == "cell" and any(k.arg == "value" for k in node.keywords)) or (
                    node.func.attr == "append" and receiver in ("ws", "worksheet")):  # not bureau's Sheet wrapper
                found.append(f"{name}:{node.lineno}: {ast.unparse(node)[:80]}")
    return found


def test_every_workbook_cell_is_written_through_reports_cells():
    writes = [line for path in sorted((PROJECT_ROOT / "reports").glob("*.py")) if path.name != "cells.py"
              for line in cell_writes(path.read_text(encoding="utf-8"), path.name)]
    # The bureau workbook streams rows: it appends cells that reports.cells.streamed made, in one place.
    assert writes == [line for line in writes if line.startswith("bureau.py:") and "self.ws.append(cells)" in line]
    assert len(writes) == 1, writes
    source = (PROJECT_ROOT / "reports" / "bureau.py").read_text(encoding="utf-8")
    assert "streamed(self.ws, value" in source
    # The scan finds such writes where there are some.
    probe = ["ws.cell(row=1, column=1, value=x)", "ws['A1'] = x", "cell.value = x", "ws.append([x])"]
    assert all(cell_writes(text, "probe.py") for text in probe)
