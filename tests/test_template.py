"""The offline interview template: built, filled in as a user would, read back; every kind of bad file refused with
its located messages; user text never becomes a formula; the workbook opens in LibreOffice."""

import io
import re
import threading
import zipfile
from datetime import datetime
from functools import cache

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assessment import reference
from assessment.errors import AssessmentError
from assessment.inputs import OrganisationInput, ProfileInput, checked
from assessment.questionnaire import by_id, published
from reports import template
from reports.cells import put
from reports.template import (
    MAX_RATIO,
    MAX_UPLOAD_BYTES,
    META_SHEET,
    FilledTemplate,
    ImportCancelled,
    SkippedMemberError,
    TemplateError,
    build_template,
    read_template,
    read_zip,
    row_limit,
)
from tests import libreoffice
from tests.conftest import credit_code, missing

CMMM = by_id("cmmm-2020")
SHEET = {"zh": "评估明细", "en": "Requirements"}
ENTERPRISE_SHEET = {"zh": "企业信息", "en": "Enterprise"}
LABELS_ZH = "全部满足, 大部分满足, 部分满足, 不满足, 不适用"
FILE = "survey.xlsx"

ENTERPRISE = {
    "name": "苏州精密机械有限公司", "credit_code": credit_code(7), "district": "kunshan", "industry": "C34",
    "size_class": "medium", "production_type": "discrete", "contact_name": "王工", "contact_phone": "0512-5555 0101",
    "employees": 320, "revenue_band": "100m_400m", "main_products": "数控机床零部件", "nc_rate": 62.5,
    "networking_rate": 48, "data_collection_rate": 35.5,
    "systems": {"ERP": {"in_use": True, "cloud": True}, "MES": {"in_use": True, "cloud": False}},
    "industrial_platform": "某工业互联网平台", "cybersecurity": "等保二级",
}


@cache
def blank(lang: str = "zh", profile: str = "discrete") -> bytes:
    """One template per language and profile for the whole module: building it is the slow part."""
    return build_template(CMMM, lang=lang, profile=profile, assessment_id=42)


@cache
def row_map(lang: str = "zh", profile: str = "discrete") -> tuple[dict[str, int], dict[str, int]]:
    """Item id → row and enterprise field → row, as the metadata sheet records them."""
    ws = openpyxl.load_workbook(io.BytesIO(blank(lang, profile)))[META_SHEET]
    items, fields = {}, {}
    for kind, key, row in ws.iter_rows(min_col=1, max_col=3, values_only=True):
        if kind in ("item", "field"):
            (items if kind == "item" else fields)[key] = row
    return items, fields


def item_row(item_id: str, lang: str = "zh") -> int:
    return row_map(lang)[0][item_id]


def field_row(key: str, lang: str = "zh") -> int:
    return row_map(lang)[1][key]


def edited(change, data: bytes | None = None) -> bytes:
    """The template after a user's edit: open it with openpyxl, change it, save it."""
    wb = openpyxl.load_workbook(io.BytesIO(data or blank()))
    change(wb)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def assert_refused(data: bytes, expected: list[str], filename: str = FILE) -> None:
    """The one assertion of this file: the import refuses ``data`` with exactly these messages, in this order."""
    with pytest.raises(TemplateError) as caught:
        read_template(data, filename)
    assert caught.value.messages == expected


# --- the round trip ------------------------------------------------------------------------------------------

PREFIXES = st.sampled_from(["", "=", "+", "-", "@", '=HYPERLINK("http://evil","x")', "=1+1", "-1", "'"])
BODY = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Cn", "Co")) | st.sampled_from("\n中文😀=+-@"),
               max_size=30)
TEXTS = st.none() | st.tuples(PREFIXES, BODY).map("".join)
ANSWERS = st.tuples(st.sampled_from([option.code for option in CMMM.scale]),
                    st.sampled_from(["zh", "en", "code"]), TEXTS, TEXTS)


def typed(code: str, form: str) -> str:
    """An answer as a user may type it: the label in either language, or the code."""
    return code if form == "code" else CMMM.scale_by_code[code].label(form)


@pytest.mark.parametrize(("lang", "profile"), [("zh", "discrete"), ("en", "process")])
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_answers_written_as_a_user_would_are_read_back_exactly(lang, profile, data):
    items, _ = row_map(lang, profile)
    chosen = data.draw(st.dictionaries(st.sampled_from(sorted(items)), ANSWERS, max_size=len(items)))

    def fill(wb):
        ws = wb[SHEET[lang]]
        for item_id, (code, form, note, evidence) in chosen.items():
            row = items[item_id]
            ws.cell(row=row, column=7).value = typed(code, form)
            put(ws, row, 8, note)  # typed in Excel, text that starts with = is entered as '=…; put does the same
            put(ws, row, 9, evidence)

    filled = read_template(edited(fill, blank(lang, profile)), FILE)
    assert filled.answers == {item_id: {"code": code, "note": (note or "").strip() or None,
                                        "evidence": (evidence or "").strip() or None}
                              for item_id, (code, _, note, evidence) in chosen.items()}
    assert (filled.lang, filled.profile, filled.assessment_id) == (lang, profile, 42)
    assert (filled.questionnaire_id, filled.version, filled.sha256) == (CMMM.id, CMMM.version, CMMM.sha256)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_prefilled_template_reads_back_what_it_was_given(lang):
    answers = {"OS.1.1": {"code": "full", "note": "制度齐全", "evidence": "《智能制造规划》"},
               "OS.1.2": {"code": "na", "note": None, "evidence": None}}
    data = build_template(CMMM, lang=lang, enterprise=ENTERPRISE, answers=answers)
    filled = read_template(data, FILE)
    assert filled.answers == answers
    organisation = {key: value for key, value in ENTERPRISE.items() if key in OrganisationInput.model_fields}
    profile = {key: value for key, value in ENTERPRISE.items() if key not in organisation}
    assert filled.enterprise == organisation
    assert filled.profile_fields == profile
    assert filled.assessment_id is None
    # The results feed the form models as they are.
    checked(OrganisationInput, {"kind": "enterprise", **filled.enterprise})
    checked(ProfileInput, filled.profile_fields)


def test_enterprise_values_are_read_as_users_type_them():
    typed_values = {"district": "Kunshan", "industry": "c34", "size_class": "中型", "production_type": "discrete",
                    "employees": "320", "revenue_band": "1亿–4亿元", "nc_rate": "62.5%",
                    "systems.ERP.in_use": "yes", "systems.ERP.cloud": True, "systems.MES.in_use": "是"}

    def fill(wb):
        ws = wb[ENTERPRISE_SHEET["zh"]]
        for key, value in typed_values.items():
            ws.cell(row=field_row(key), column=2).value = value
        cell = ws.cell(row=field_row("networking_rate"), column=2)
        cell.value, cell.number_format = 0.48, "0%"  # typed as 48 % into the cell

    filled = read_template(edited(fill), FILE)
    assert filled.enterprise == {"district": "kunshan", "industry": "C34", "size_class": "medium",
                                 "production_type": "discrete"}
    assert filled.profile_fields == {
        "employees": 320, "revenue_band": "100m_400m", "nc_rate": 62.5, "networking_rate": 48.0,
        "systems": {"ERP": {"in_use": True, "cloud": True}, "MES": {"in_use": True, "cloud": False}}}


# --- bad files -----------------------------------------------------------------------------------------------


def set_cell(sheet: str, cell: str, value):
    def change(wb):
        wb[sheet][cell].value = value
    return change


def answer(item_id: str, value: str):
    return set_cell(SHEET["zh"], f"G{item_row(item_id)}", value)


def enterprise_value(key: str, value):
    return set_cell(ENTERPRISE_SHEET["zh"], f"B{field_row(key)}", value)


def delete_row(item_id: str):
    def change(wb):
        wb[SHEET["zh"]].delete_rows(item_row(item_id))
    return change


def duplicate_row(item_id: str):
    def change(wb):
        ws, row = wb[SHEET["zh"]], item_row(item_id)
        ws.insert_rows(row + 1)
        for column in range(1, 10):
            ws.cell(row=row + 1, column=column).value = ws.cell(row=row, column=column).value
    return change


def swap_rows(first: str, second: str):
    def change(wb):
        ws, a, b = wb[SHEET["zh"]], item_row(first), item_row(second)
        for column in range(1, 10):
            top, bottom = ws.cell(row=a, column=column), ws.cell(row=b, column=column)
            top.value, bottom.value = bottom.value, top.value
    return change


def insert_blank_row(row: int):
    def change(wb):
        wb[SHEET["zh"]].insert_rows(row)
    return change


def delete_sheet(name: str):
    def change(wb):
        del wb[name]
    return change


def together(*changes):
    def change(wb):
        for one in changes:
            one(wb)
    return change


def where(cell: str, sheet: str = SHEET["zh"]) -> str:
    return f"{FILE}: {sheet}!{cell}: "


def ent(key: str) -> str:
    return where(f"B{field_row(key)}", ENTERPRISE_SHEET["zh"])


def missing_row(item_id: str) -> str:
    return (where(f"A{item_row(item_id)}") + f"the row of item {item_id} (row {item_row(item_id)} in the template) "
            "is missing: rows must not be deleted and the ID column must not be changed")


BAD_CODE = credit_code(7)[:-1] + ("X" if credit_code(7)[-1] != "X" else "Y")
INSTALLED = f"the installed {CMMM.id} {CMMM.version}"
VERSIONS = ", ".join(p.version for p in published() if p.id == CMMM.id)  # every version installed, the newest last
BAD_FILES = [
    # (what is wrong, the user's edit, the messages)
    ("wrong answer label", answer("OS.1.2", "大部分"),
     [where(f"G{item_row('OS.1.2')}") + f'"大部分" is not one of {LABELS_ZH}']),
    ("unknown item id typed into a row", set_cell(SHEET["zh"], f"A{item_row('OS.1.2')}", "XX.9.9"),
     [where(f"A{item_row('OS.1.2')}") + f'unknown item id "XX.9.9" (not in {CMMM.id} {CMMM.version}); the ID '
      "column must not be changed", missing_row("OS.1.2")]),
    ("item of the other profile typed into a row",
     set_cell(SHEET["zh"], f"A{item_row('OS.1.2')}",
              next(i.id for i in CMMM.items if i.applies_to == "process")),
     [where(f"A{item_row('OS.1.2')}") + f"item {next(i.id for i in CMMM.items if i.applies_to == 'process')} is "
      "not a requirement for discrete manufacturing; the ID column must not be changed", missing_row("OS.1.2")]),
    ("deleted row", delete_row("SK.2.1"), [missing_row("SK.2.1")]),
    ("duplicated row", duplicate_row("OS.1.2"),
     [where(f"A{item_row('OS.1.2') + 1}") + f"duplicated row: item OS.1.2 is already at row {item_row('OS.1.2')}; "
      "rows must not be copied or added"]),
    ("reordered rows", swap_rows("OS.1.2", "OS.1.3"),
     [where(f"A{item_row('OS.1.2')}") + f"item OS.1.3 was moved: the template had it at row {item_row('OS.1.3')}; "
      "rows must not be moved or sorted"]),
    ("blank row added", insert_blank_row(item_row("OS.2.1")),
     [where(f"A{item_row('OS.2.1') + 1}") + f"item OS.2.1 is at row {item_row('OS.2.1') + 1}, the template had it "
      f"at row {item_row('OS.2.1')}: rows were added or deleted above it"]),
    ("note without an answer", set_cell(SHEET["zh"], f"H{item_row('OS.1.1')}", "还没看"),
     [where(f"G{item_row('OS.1.1')}") + f"a note or evidence but no answer; choose one of {LABELS_ZH} or clear them"]),
    ("tampered metadata version", set_cell(META_SHEET, "B4", "9.9"),
     [where("B4", META_SHEET) + f"questionnaire version '9.9' of {CMMM.id} is not installed (installed: "
     f"{VERSIONS}); export a new template"]),
    ("tampered sha256", set_cell(META_SHEET, "B5", "0" * 64),
     [where("B5", META_SHEET) + f"questionnaire sha256 '{'0' * 64}' differs from {INSTALLED} ({CMMM.sha256}): the "
      "questionnaire changed since the template was exported; export a new template"]),
    ("unknown questionnaire", set_cell(META_SHEET, "B3", "cmmm-1999"),
     [where("B3", META_SHEET) + "unknown questionnaire 'cmmm-1999'; available: cmmm-2020"]),
    ("metadata field removed", set_cell(META_SHEET, "A5", None),
     [f"{FILE}: {META_SHEET}: the metadata field sha256 is missing; do not edit this sheet"]),
    ("missing metadata sheet", delete_sheet(META_SHEET),
     [f"{FILE}: the metadata sheet {META_SHEET} is missing: this is not an interview template exported by the tool, "
      "or the sheet was deleted; export a new template"]),
    ("requirements sheet deleted", delete_sheet(SHEET["zh"]),
     [f"{FILE}: the sheet {SHEET['zh']} is missing; sheets must not be deleted or renamed"]),
    ("bad credit code", enterprise_value("credit_code", BAD_CODE),
     [ent("credit_code") + f"unified social credit code '{BAD_CODE}': wrong check character '{BAD_CODE[-1]}' "
      f"(position 18); expected '{credit_code(7)[-1]}'"]),
    ("percentage 150", enterprise_value("nc_rate", 150),
     [ent("nc_rate") + "150 is not a percentage between 0 and 100"]),
    ("percentage abc", enterprise_value("networking_rate", "abc"),
     [ent("networking_rate") + '"abc" is not a number']),
    ("unknown district", enterprise_value("district", "朝阳区"),
     [ent("district") + '"朝阳区" is not a district of 苏州市; choose one of 姑苏区, 虎丘区(苏州高新区), 吴中区, '
      "相城区, 吴江区, 苏州工业园区, 常熟市, 张家港市, 昆山市, 太仓市"]),
    ("unknown industry", enterprise_value("industry", "C99"),
     [ent("industry") + '"C99" is not an industry division of GB/T 4754-2017; choose one of C13–C43']),
    ("not yes or no", enterprise_value("systems.ERP.cloud", "maybe"),
     [ent("systems.ERP.cloud") + '"maybe" is not one of the list; choose one of 是, 否']),
    ("employees not whole", enterprise_value("employees", 12.5),
     [ent("employees") + "12.5 is not a whole number from 0 to 1,000,000"]),
    ("enterprise row moved", set_cell(ENTERPRISE_SHEET["zh"], f"A{field_row('name')}", "名称"),
     [where(f"A{field_row('name')}", ENTERPRISE_SHEET["zh"]) + "expected the field “企业名称” here, found '名称': rows "
      "of this sheet must not be added, deleted or moved"]),
    ("several problems at once",
     together(answer("OS.1.2", "大部分"), delete_row("SK.2.1"), enterprise_value("nc_rate", 150),
              enterprise_value("credit_code", BAD_CODE), set_cell(META_SHEET, "B4", "9.9")),
     [where("B4", META_SHEET) + f"questionnaire version '9.9' of {CMMM.id} is not installed (installed: "
     f"{VERSIONS}); export a new template",
      ent("credit_code") + f"unified social credit code '{BAD_CODE}': wrong check character '{BAD_CODE[-1]}' "
      f"(position 18); expected '{credit_code(7)[-1]}'",
      ent("nc_rate") + "150 is not a percentage between 0 and 100",
      where(f"G{item_row('OS.1.2')}") + f'"大部分" is not one of {LABELS_ZH}',
      missing_row("SK.2.1")]),
]


@pytest.mark.parametrize(("problem", "change", "expected"), BAD_FILES, ids=[case[0] for case in BAD_FILES])
def test_a_bad_template_is_refused_with_located_messages(problem, change, expected):
    assert_refused(edited(change), expected)


def zipped(members: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return out.getvalue()


def zip_bomb() -> bytes:
    """A tiny workbook-shaped zip whose sheet inflates to 64 MiB of zeros."""
    return zipped({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>",
                   "xl/worksheets/sheet1.xml": bytes(64 * 1024 * 1024)})


def ratio_of(data: bytes, name: str) -> float:
    member = zipfile.ZipFile(io.BytesIO(data)).getinfo(name)
    return member.file_size / member.compress_size


def with_member(name: str, content: bytes) -> bytes:
    """The blank template with one member replaced."""
    source = zipfile.ZipFile(io.BytesIO(blank()))
    return zipped({info.filename: content if info.filename == name else source.read(info)
                   for info in source.infolist()})


BOMB = zip_bomb()
ENTITIES = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
            b'<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">&lol2;</workbook>')
BAD_UPLOADS = [
    ("not a zip", b"name,score\nA,1\n",
     [f"{FILE}: not an .xlsx workbook (not a readable zip archive: File is not a zip file)"]),
    ("empty file", b"", [f"{FILE}: the file is empty; expected an .xlsx workbook"]),
    ("old xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100),
     [f"{FILE}: not an .xlsx workbook: this is an old .xls file or a password-protected workbook; save it as .xlsx "
      "without a password"]),
    ("a zip but no workbook", zipped({"readme.txt": b"hello"}),
     [f"{FILE}: not an .xlsx workbook (the archive holds no xl/workbook.xml)"]),
    ("oversize upload", bytes(MAX_UPLOAD_BYTES + 1),
     [f"{FILE}: the file is {MAX_UPLOAD_BYTES + 1:,} bytes; uploads are limited to 10 MiB"]),
    ("zip bomb", BOMB,
     [f"{FILE}: xl/worksheets/sheet1.xml inflates {ratio_of(BOMB, 'xl/worksheets/sheet1.xml'):,.0f}× (limit "
      f"{MAX_RATIO}×): refused as a possible zip bomb"]),
    ("XML entities", with_member("xl/workbook.xml", ENTITIES),
     [f"{FILE}: refused: its XML declares entities or a DTD (EntitiesForbidden), which a workbook never needs"]),
    ("damaged sheet XML", with_member("xl/worksheets/sheet3.xml", b"<worksheet><sheetData><row"),
     None),  # openpyxl's own words; only the file name and that it is refused matter
]


@pytest.mark.parametrize(("problem", "data", "expected"), BAD_UPLOADS, ids=[case[0] for case in BAD_UPLOADS])
def test_a_file_that_is_not_a_usable_workbook_is_refused_before_it_is_parsed(problem, data, expected):
    if expected is None:
        with pytest.raises(TemplateError) as caught:
            read_template(data, FILE)
        assert len(caught.value.messages) == 1
        assert caught.value.messages[0].startswith(f"{FILE}: ")
    else:
        assert_refused(data, expected)


def test_the_total_uncompressed_size_is_capped(monkeypatch):
    monkeypatch.setattr(template, "MAX_UNCOMPRESSED_BYTES", 1024 * 1024)
    data = zipped({"xl/workbook.xml": bytes(2 * 1024 * 1024)}, zipfile.ZIP_STORED)
    assert_refused(data, [f"{FILE}: the archive would inflate to 2 MiB (limit 1 MiB): refused as a possible zip bomb"])


def test_xml_is_parsed_with_defusedxml():
    assert openpyxl.DEFUSEDXML is True
    assert issubclass(TemplateError, AssessmentError)


# --- a .zip of templates -------------------------------------------------------------------------------------


def test_a_zip_gives_one_outcome_per_workbook():
    good = edited(answer("OS.1.1", "全部满足"))
    bad = edited(answer("OS.1.2", "大部分"))
    data = zipped({"a/good.xlsx": good, "b/bad.xlsx": bad, "readme.txt": b"hi", "__MACOSX/a/._good.xlsx": b"x",
                   "bomb.xlsx": BOMB}, zipfile.ZIP_STORED)
    outcomes = dict(read_zip(data, "batch.zip"))
    assert list(outcomes) == ["a/good.xlsx", "b/bad.xlsx", "readme.txt", "__MACOSX/a/._good.xlsx", "bomb.xlsx"]
    assert isinstance(outcomes["a/good.xlsx"], FilledTemplate)
    assert outcomes["a/good.xlsx"].answers == {"OS.1.1": {"code": "full", "note": None, "evidence": None}}
    assert outcomes["b/bad.xlsx"].messages == [
        f"batch.zip/b/bad.xlsx: 评估明细!G{item_row('OS.1.2')}: \"大部分\" is not one of {LABELS_ZH}"]
    for name in ("readme.txt", "__MACOSX/a/._good.xlsx"):
        assert isinstance(outcomes[name], SkippedMemberError)
        assert outcomes[name].messages == [f"batch.zip/{name}: skipped: not an .xlsx workbook"]
    assert outcomes["bomb.xlsx"].messages[0].startswith("batch.zip/bomb.xlsx: xl/worksheets/sheet1.xml inflates")


def test_a_zip_that_is_itself_a_bomb_is_refused():
    data = zipped({"a.xlsx": bytes(32 * 1024 * 1024)})
    with pytest.raises(TemplateError) as caught:
        read_zip(data, "batch.zip")
    assert caught.value.messages == [f"batch.zip: a.xlsx inflates {ratio_of(data, 'a.xlsx'):,.0f}× (limit "
                                     f"{MAX_RATIO}×): refused as a possible zip bomb"]
    with pytest.raises(TemplateError) as caught:
        read_zip(b"not a zip", "batch.zip")
    assert caught.value.messages == ["batch.zip: not a .zip archive (not a readable zip archive: File is not a zip "
                                     "file)"]


# --- the workbook itself -------------------------------------------------------------------------------------


def test_user_text_is_stored_as_text_never_as_a_formula():
    name, note = '=HYPERLINK("http://evil","x")', "+1-2"
    data = build_template(CMMM, enterprise={"name": name, "contact_name": "@SUM(A1)"},
                          answers={"OS.1.1": {"code": "partly", "note": note, "evidence": "-3"}})
    wb = openpyxl.load_workbook(io.BytesIO(data))
    cells = [(wb[ENTERPRISE_SHEET["zh"]].cell(row=field_row("name"), column=2), name),
             (wb[ENTERPRISE_SHEET["zh"]].cell(row=field_row("contact_name"), column=2), "@SUM(A1)"),
             (wb[SHEET["zh"]].cell(row=item_row("OS.1.1"), column=8), note),
             (wb[SHEET["zh"]].cell(row=item_row("OS.1.1"), column=9), "-3")]
    for cell, value in cells:
        assert (cell.data_type, cell.value, cell.quotePrefix) == ("s", value, True)
    filled = read_template(data)
    assert filled.enterprise["name"] == name
    assert filled.answers["OS.1.1"] == {"code": "partly", "note": note, "evidence": "-3"}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_workbook_layout(lang):
    wb = openpyxl.load_workbook(io.BytesIO(blank(lang)))
    sheets = {"zh": ["说明", "企业信息", "评估明细", "_lists", META_SHEET],
              "en": ["Instructions", "Enterprise", "Requirements", "_lists", META_SHEET]}[lang]
    assert wb.sheetnames == sheets
    assert [ws.sheet_state for ws in wb] == ["visible", "visible", "visible", "hidden", "veryHidden"]
    assert wb[META_SHEET].protection.sheet
    ws = wb[SHEET[lang]]
    header = [cell.value for cell in ws[1]]
    assert header == {"zh": ["编号", "能力要素", "能力子域", "等级", "要求", "访谈要点", "评估结果", "备注", "证据"],
                      "en": ["ID", "Element", "Subdomain", "Level", "Requirement", "Interviewer guidance", "Answer",
                             "Note", "Evidence"]}[lang]
    items = row_map(lang)[0]
    assert list(items) == [item.id for item in template._ordered_items(CMMM, "discrete")]
    assert len(items) == len(CMMM.items_for("discrete"))
    headings = [row for row in range(2, ws.max_row + 1) if ws.cell(row=row, column=1).value is None]
    assert len(headings) == len(CMMM.elements) + len(CMMM.subdomains)
    assert all(ws.cell(row=row, column=2).value for row in headings)
    (answers,) = [dv for dv in ws.data_validations.dataValidation if "G" in str(dv.sqref)]
    assert str(answers.sqref) == f"G2:G{ws.max_row}"
    assert answers.formula1 == '"' + ",".join(option.label(lang) for option in CMMM.scale) + '"'
    assert ws.freeze_panes == "B2"
    assert ws.print_title_rows == "$1:$1"
    assert (ws.page_setup.orientation, ws.page_setup.paperSize, ws.page_setup.fitToWidth) == ("landscape", 9, 1)
    assert ws.cell(row=items["OS.1.1"], column=5).alignment.wrap_text
    enterprise = wb[ENTERPRISE_SHEET[lang]]
    for dv in enterprise.data_validations.dataValidation:
        if dv.type == "list" and dv.formula1.startswith('"'):
            assert len(dv.formula1) - 2 <= 255
    (industry,) = [dv for dv in enterprise.data_validations.dataValidation
                   if f"B{field_row('industry', lang)}" in str(dv.sqref)]
    assert industry.formula1 == f"'_lists'!$A$1:$A${len(reference.industries())}"  # too long for an inline list


def test_template_for_another_language_or_profile_is_refused_at_build():
    with pytest.raises(ValueError, match="unknown language"):
        build_template(CMMM, lang="fr")
    with pytest.raises(ValueError, match="unknown profile"):
        build_template(CMMM, profile="hybrid")
    with pytest.raises(ValueError, match="not a requirement"):
        build_template(CMMM, answers={"XX.1.1": {"code": "full"}})


def test_the_template_opens_in_libreoffice(tmp_path):
    if libreoffice.soffice() is None:
        missing("LibreOffice", "soffice not found (Debian package libreoffice-calc)")
    path = tmp_path / "template.xlsx"
    path.write_bytes(build_template(CMMM, enterprise=ENTERPRISE, answers={"OS.1.1": {"code": "mostly",
                                                                                     "note": "=1+1"}}))
    saved = libreoffice.convert(path, to="xlsx:Calc MS Excel 2007 XML")
    # LibreOffice opened it, and what it saves back is still a template that imports.
    filled = read_template(saved.read_bytes(), saved.name)
    assert filled.answers == {"OS.1.1": {"code": "mostly", "note": "=1+1", "evidence": None}}
    assert filled.enterprise["credit_code"] == ENTERPRISE["credit_code"]


# --- a sheet reaching far: refused at once, never walked ------------------------------------------------------

FAR_ROW = 2_000_000_000


@cache
def filled_template() -> bytes:
    """A template with the enterprise and some answers filled in: what must read back the same."""
    answers = {"OS.1.1": {"code": "full", "note": "制度齐全", "evidence": None},
               "DA.2.1": {"code": "partly", "note": None, "evidence": "系统截图"}}
    return build_template(CMMM, lang="zh", enterprise=ENTERPRISE, answers=answers, assessment_id=42)


def far_reaching(data: bytes, *, dimension: str | None) -> bytes:
    """Every worksheet of ``data`` with one empty row numbered two billion added; its declared dimension set to
    ``dimension`` (e.g. "A1:I2000000000") or, with None, removed (openpyxl then reads to the last row named)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    members = {}
    for info in source.infolist():
        content = source.read(info)
        if info.filename.startswith("xl/worksheets/sheet"):
            content = content.replace(b"</sheetData>", f'<row r="{FAR_ROW}"/></sheetData>'.encode())
            content = re.sub(rb"<dimension [^>]*/>", f'<dimension ref="{dimension}"/>'.encode() if dimension else b"",
                             content)
        members[info.filename] = content
    return zipped(members)


def read_within(seconds: int, data: bytes) -> FilledTemplate:
    """``read_template`` that must end at all (unbounded, such a file took about 85 minutes): a guard, not a
    measurement. The read runs in a thread; one still running after ``seconds`` fails the test."""
    outcome: dict = {}

    def read() -> None:
        try:
            outcome["read"] = read_template(data, FILE)
        except TemplateError as error:
            outcome["refused"] = error

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(seconds)
    assert not reader.is_alive(), f"still reading after {seconds} s"
    if "refused" in outcome:
        raise outcome["refused"]
    return outcome["read"]


def test_a_sheet_declaring_rows_beyond_any_template_is_refused_before_it_is_read():
    data = far_reaching(filled_template(), dimension=f"A1:I{FAR_ROW}")
    with pytest.raises(TemplateError) as caught:
        read_within(60, data)
    sheets = openpyxl.load_workbook(io.BytesIO(filled_template()), read_only=True).sheetnames
    assert len(caught.value.messages) == len(sheets)  # every sheet, each named
    assert [params["sheet"] for _, params in caught.value.problems] == sheets
    assert {code for code, _ in caught.value.problems} == {"template.sheet_too_large"}
    requirements = caught.value.messages[sheets.index(SHEET["zh"])]
    assert requirements == (f"{FILE}: {SHEET['zh']}: the sheet reaches row {FAR_ROW:,} and column 9; a template needs "
                            f"at most {row_limit():,} rows and 50 columns: delete what lies beyond, or export a new "
                            "template")


def test_a_far_row_in_a_sheet_without_a_declared_size_is_never_walked_to():
    original = read_template(filled_template(), FILE)
    read = read_within(60, far_reaching(filled_template(), dimension=None))
    assert read.answers == original.answers
    assert (read.enterprise, read.profile_fields) == (original.enterprise, original.profile_fields)


# --- what a template was made from; stopping a read whose session ended -------------------------------------


def test_a_template_made_from_an_assessment_carries_its_version_and_time_in_the_hidden_sheet_only():
    made_at = datetime(2026, 11, 3, 9, 30, 15, 123456)
    data = build_template(CMMM, assessment_id=42, assessment_version=17, answers_as_of=made_at)
    filled = read_template(data, FILE)
    assert (filled.assessment_id, filled.assessment_version, filled.answers_as_of) == (42, 17, made_at)
    wb = openpyxl.load_workbook(io.BytesIO(data))
    shown = [ws for ws in wb.worksheets if ws.sheet_state == "visible"]
    assert not any(cell.value in (17, made_at.isoformat()) for ws in shown for row in ws.iter_rows() for cell in row)
    assert wb[META_SHEET].sheet_state == "veryHidden"
    assert read_template(build_template(CMMM), FILE).answers_as_of is None  # a blank template: made from nothing


def test_a_damaged_origin_is_refused_where_it_is():
    data = build_template(CMMM, assessment_id=42, assessment_version=17, answers_as_of=datetime(2026, 11, 3))
    ws = openpyxl.load_workbook(io.BytesIO(data))[META_SHEET]
    cells = {key: f"B{row}" for row, (key,) in enumerate(ws.iter_rows(max_col=1, values_only=True), start=1)}
    damaged = edited(together(set_cell(META_SHEET, cells["assessment_version"], "seventeen"),
                              set_cell(META_SHEET, cells["answers_as_of"], "yesterday")), data)
    assert_refused(damaged, [
        where(cells["assessment_version"], META_SHEET) + "the version of the assessment the template was made from, "
        "'seventeen', is not a whole number from 1; do not edit this sheet, or export a new template",
        where(cells["answers_as_of"], META_SHEET) + "the time the template was made, 'yesterday', is not a date "
        "and time; do not edit this sheet, or export a new template"])


def test_reading_stops_at_the_first_check_that_says_the_session_ended():
    asked = []

    def ended() -> bool:
        asked.append(True)
        return len(asked) == 3

    with pytest.raises(ImportCancelled) as caught:
        read_template(filled_template(), FILE, cancelled=ended)
    assert caught.value.code == "template.cancelled"
    assert len(asked) == 3
    asked.clear()
    with pytest.raises(ImportCancelled):  # every member of a .zip is read with the same check
        read_zip(zipped({"a.xlsx": filled_template(), "b.xlsx": filled_template()}), "batch.zip", cancelled=ended)
    assert len(asked) == 3


def test_a_read_that_goes_on_asks_whether_to_stop_as_it_reads_and_a_far_sheet_is_refused_before_any_row():
    asked = []
    read_template(filled_template(), FILE, cancelled=lambda: asked.append(True) or False)
    assert len(asked) >= 3  # at least once for each sheet it reads
    asked.clear()
    with pytest.raises(TemplateError) as caught:
        read_template(far_reaching(filled_template(), dimension=f"A1:I{FAR_ROW}"), FILE,
                      cancelled=lambda: asked.append(True) or False)
    assert {code for code, _ in caught.value.problems} == {"template.sheet_too_large"}
    assert asked == []  # refused from the sheets' declared size: not one row was read
