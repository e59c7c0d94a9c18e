"""Fuzz: uploaded workbooks. A real filled interview template (reports.template.build_template) is mutated —
cell values and types (numbers, dates, formulas, booleans, errors, very long text, any script), sheets renamed,
removed, added or unhidden, the metadata (questionnaire id, version, hash, assessment id, row map), and the zip
itself (truncated, members removed, duplicated or renamed, garbage bytes, a member that inflates a thousandfold)
— and read through the real import path (read_template / read_zip, then services.import_filled, as the app and
the command line do). The outcome is a checked template, or a TemplateError whose every message names the file
and, for a cell, sheet!cell; and on any refusal the database is exactly as before."""

from __future__ import annotations

import io
import re
import warnings
import zipfile
from functools import cache
from xml.sax.saxutils import escape

from hypothesis import example, given
from hypothesis import strategies as st

from assessment.accounts import Actor
from assessment.errors import AssessmentError
from assessment.questionnaire import by_id
from reports.template import (
    META_SHEET,
    SHEETS,
    FilledTemplate,
    TemplateError,
    build_template,
    read_template,
    read_zip,
)
from tests.conftest import credit_code
from tests.test_fuzz import assert_readable, assert_unchanged, fuzz, snapshot

CMMM = by_id("cmmm-2020")
FILE = "survey.xlsx"
ENTERPRISE = {"name": "苏州精密机械有限公司", "credit_code": credit_code(4242), "district": "kunshan",
              "industry": "C34", "size_class": "medium", "production_type": "discrete", "employees": 120,
              "networking_rate": 48, "systems": {"MES": {"in_use": True, "cloud": False}}}
SHEET_FILES = {SHEETS["instructions"]["zh"]: "xl/worksheets/sheet1.xml",
               SHEETS["enterprise"]["zh"]: "xl/worksheets/sheet2.xml",
               SHEETS["requirements"]["zh"]: "xl/worksheets/sheet3.xml",
               "_lists": "xl/worksheets/sheet4.xml", META_SHEET: "xl/worksheets/sheet5.xml"}
REQUIREMENTS, ENTERPRISE_SHEET = SHEETS["requirements"]["zh"], SHEETS["enterprise"]["zh"]


@cache
def filled(assessment_id: int | None = None) -> bytes:
    items = CMMM.items_for("discrete")
    answers = {item.id: {"code": ("full", "mostly", "partly", "none", "na")[n % 5], "note": "现场核实" if n % 7 == 0
                         else None} for n, item in enumerate(items)}
    return build_template(CMMM, enterprise=ENTERPRISE, answers=answers, assessment_id=assessment_id)


@cache
def members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def rezip(parts: list[tuple[str, bytes]], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(out, "w", compression) as archive:
        warnings.simplefilter("ignore", UserWarning)  # a duplicated member name is the point of some cases
        for name, content in parts:
            archive.writestr(name, content)
    return out.getvalue()


@cache
def row_map() -> tuple[dict[str, int], dict[str, int]]:
    """The rows of the requirements and of the enterprise fields, as the metadata sheet records them."""
    meta = members(filled())[SHEET_FILES[META_SHEET]].decode()
    cells = dict(re.findall(r'<c r="([A-C]\d+)"[^>]*?>(?:<is><t>|<v>)([^<]*)<', meta))
    items, fields = {}, {}
    for cell, kind in cells.items():
        if cell.startswith("A") and kind in ("item", "field"):
            row = cell[1:]
            (items if kind == "item" else fields)[cells[f"B{row}"]] = int(cells[f"C{row}"])
    return items, fields


# --- cell values ----------------------------------------------------------------------------------------------

XML_TEXT = st.characters(exclude_categories=("Cs",), exclude_characters="\x00\ufffe\uffff").filter(
    lambda ch: ch in "\t\n\r" or ord(ch) >= 0x20)  # what XML 1.0 can carry at all
ODD_TEXT = st.sampled_from([
    "", " ", "全部满足", "大部分满足", "FULL", " mostly ", "不适用", "部分", "=SUM(A1:A3)", "+1", "@x", "-", "是", "否",
    "TRUE", "65%", "1e400", "NaN", "-0", "1,000,000", "９１３２０５", "C34", "昆山市", "中型", "离散型", "x" * 5001,
    "字" * 6000, "\u202eevil", "🏭", "_x0007_", "line\nbreak", "cmmm-2020", "1.0.0", "zh", "en", "process",
])
CELL_VALUES = st.one_of(
    st.tuples(st.just("text"), st.one_of(st.text(XML_TEXT, max_size=40), ODD_TEXT)),
    st.tuples(st.just("number"), st.one_of(st.integers(-10**20, 10**20), st.floats(allow_nan=False,
                                                                                   allow_infinity=False))),
    st.tuples(st.just("bool"), st.booleans()),
    st.tuples(st.just("error"), st.sampled_from(["#DIV/0!", "#N/A", "#VALUE!", "#REF!"])),
    st.tuples(st.just("formula"), st.sampled_from(["SUM(1,2)", "NOW()", "A1", "HYPERLINK(\"x\")"])),
    st.tuples(st.just("date"), st.sampled_from(["2024-01-01T00:00:00", "1899-12-30T00:00:00", "9999-12-31T23:59:59",
                                                "2024-02-30T00:00:00"])),
    st.tuples(st.just("empty"), st.none()),
)


def cell_xml(ref: str, kind: str, value) -> str:
    text = escape(str(value))
    return {
        "text": f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>',
        "number": f'<c r="{ref}"><v>{value!r}</v></c>',
        "bool": f'<c r="{ref}" t="b"><v>{int(bool(value))}</v></c>',
        "error": f'<c r="{ref}" t="e"><v>{text}</v></c>',
        # a formula with a cached result: read as its value, never evaluated
        "formula": f'<c r="{ref}" t="str"><f>{text}</f><v>{text}</v></c>',
        "date": f'<c r="{ref}" t="d"><v>{text}</v></c>',
    }.get(kind, f'<c r="{ref}"/>')


def with_cell(data: bytes, sheet: str, ref: str, kind: str, value) -> bytes:
    parts = dict(members(data))
    name = SHEET_FILES[sheet]
    xml = parts[name].decode()
    pattern = re.compile(rf'<c r="{ref}"(?: [^>]*?)?(?:/>|>.*?</c>)', re.DOTALL)
    new = cell_xml(ref, kind, value)
    if pattern.search(xml):
        xml = pattern.sub(lambda _: new, xml, count=1)
    else:  # a cell the template left out: a row of its own at the end
        xml = xml.replace("</sheetData>", f'<row r="{ref.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")}">{new}</row>'
                                          "</sheetData>", 1)
    parts[name] = xml.encode()
    return rezip(list(parts.items()))


@st.composite
def target_cell(draw) -> tuple[str, str]:
    items, fields = row_map()
    where = draw(st.sampled_from(["answer", "answer", "note", "evidence", "id", "other", "enterprise", "label",
                                  "meta", "row_map"]))
    if where in ("answer", "note", "evidence", "id", "other"):
        row = items[draw(st.sampled_from(sorted(items)))]
        column = {"answer": "G", "note": "H", "evidence": "I", "id": "A"}.get(where) or draw(st.sampled_from("BCDEF"))
        return REQUIREMENTS, f"{column}{row}"
    if where in ("enterprise", "label"):
        row = fields[draw(st.sampled_from(sorted(fields)))]
        return ENTERPRISE_SHEET, f"{'B' if where == 'enterprise' else 'A'}{row}"
    if where == "meta":
        return META_SHEET, f"B{draw(st.integers(1, 8))}"
    return META_SHEET, f"{draw(st.sampled_from('ABC'))}{draw(st.integers(10, 300))}"


# --- the property -----------------------------------------------------------------------------------------------

LOCATED = re.compile(rf"^{re.escape(FILE)}(/[^:]+)?: \S")


def checked_or_located(data: bytes, filename: str = FILE) -> FilledTemplate | TemplateError:
    try:
        template = read_template(data, filename)
    except TemplateError as exc:
        assert_readable(exc.messages)
        for message in exc.messages:
            assert message.startswith(f"{filename}: "), message
            assert "\n" not in message, f"a message over several lines: {message!r}"
        return exc
    assert isinstance(template, FilledTemplate)
    assert set(template.answers) <= {item.id for item in CMMM.items_for(template.profile)}
    return template


# Each explicit example is a problem the fuzzing found once.
@fuzz(400)
@example(target=(REQUIREMENTS, "A121"), value=("date", "2024-02-30T00:00:00"))  # was not located
@example(target=(META_SHEET, "B7"), value=("text", "process"))  # passed answers of the other profile on
@example(target=(META_SHEET, "B74"), value=("text", "PA\r\nX"))  # split a message over two lines
@example(target=(REQUIREMENTS, "G154"), value=("text", "line\nbreak"))
@given(target=target_cell(), value=CELL_VALUES)
def test_a_changed_cell(target, value):
    sheet, ref = target
    outcome = checked_or_located(with_cell(filled(), sheet, ref, *value))
    if isinstance(outcome, TemplateError) and sheet != META_SHEET and ref[0] in "ABGHI":
        # A problem caused by one cell is reported at that cell.
        assert any(f"{sheet}!{ref}:" in message for message in outcome.messages), (ref, outcome.messages)


@fuzz(80)
@given(cells=st.lists(st.tuples(target_cell(), CELL_VALUES), min_size=2, max_size=5))
def test_several_changed_cells(cells):
    data = filled()
    for (sheet, ref), value in cells:
        data = with_cell(data, sheet, ref, *value)
    checked_or_located(data)


SHEET_NAMES = sorted(SHEET_FILES)


@st.composite
def sheet_change(draw) -> bytes:
    parts = dict(members(filled()))
    xml = parts["xl/workbook.xml"].decode()
    for _ in range(draw(st.integers(1, 2))):
        name = draw(st.sampled_from(SHEET_NAMES))
        element = re.search(rf'<sheet name="{re.escape(name)}"[^>]*/>', xml)
        if element is None:
            continue
        operation = draw(st.sampled_from(["rename", "remove", "add", "state", "swap"]))
        if operation == "rename":
            new = escape(draw(st.one_of(st.text(XML_TEXT, min_size=1, max_size=31), st.sampled_from(
                ["Enterprise", "Requirements", "_META", "企业信息 ", "评估明细(2)", "_meta"]))), {'"': "&quot;"})
            xml = xml.replace(element[0], element[0].replace(f'name="{name}"', f'name="{new}"'))
        elif operation == "remove":
            xml = xml.replace(element[0], "")
        elif operation == "add":  # a second sheet entry pointing at the same part
            copy = element[0].replace(f'name="{name}"', f'name="{name}副本"').replace('sheetId="', 'sheetId="9')
            xml = xml.replace("</sheets>", copy + "</sheets>")
        elif operation == "state":
            state = draw(st.sampled_from(["visible", "hidden", "veryHidden"]))
            xml = xml.replace(element[0], re.sub(r'state="\w+"', f'state="{state}"', element[0]))
        else:
            other = draw(st.sampled_from(SHEET_NAMES))
            xml = xml.replace(f'name="{name}"', 'name="\x01"').replace(f'name="{other}"', f'name="{name}"') \
                .replace('name="\x01"', f'name="{other}"')
    parts["xl/workbook.xml"] = xml.encode()
    return rezip(list(parts.items()))


@fuzz(150)
@given(data=sheet_change())
def test_sheets_renamed_removed_added_or_unhidden(data):
    checked_or_located(data)


@st.composite
def zip_change(draw) -> bytes:
    data = filled()
    parts = list(members(data).items())
    operation = draw(st.sampled_from(["truncate", "flip", "remove", "duplicate", "rename", "garbage", "bomb",
                                      "prefix", "stored", "not_zip", "empty"]))
    if operation == "truncate":
        return data[: draw(st.integers(0, len(data) - 1))]
    if operation == "flip":
        raw = bytearray(data)
        for at in draw(st.lists(st.integers(0, len(data) - 1), min_size=1, max_size=8)):
            raw[at] = draw(st.integers(0, 255))
        return bytes(raw)
    if operation == "not_zip":
        return draw(st.binary(max_size=300)) or b"x"
    if operation == "empty":
        return b""
    if operation == "prefix":
        return draw(st.binary(min_size=1, max_size=64)) + data
    index = draw(st.integers(0, len(parts) - 1))
    name, content = parts[index]
    if operation == "remove":
        del parts[index]
    elif operation == "duplicate":
        parts.insert(draw(st.integers(0, len(parts))), (name, draw(st.sampled_from([content, b"", b"<x/>"]))))
    elif operation == "rename":
        parts[index] = (draw(st.sampled_from([name.upper(), name + ".bak", "../" + name, "xl/" + name])), content)
    elif operation == "garbage":
        parts[index] = (name, draw(st.one_of(st.binary(max_size=200), st.sampled_from([
            b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'b'>]><x>&a;</x>", b"<unclosed>", content[:50]]))))
    elif operation == "bomb":  # a member that inflates far beyond the ratio cap
        parts.append((draw(st.sampled_from(["xl/media/image1.png", name])), b"\0" * draw(st.integers(2, 8)) * 500_000))
    return rezip(parts, zipfile.ZIP_STORED if operation == "stored" else zipfile.ZIP_DEFLATED)


@fuzz(250)
@given(data=zip_change())
def test_a_damaged_zip(data):
    checked_or_located(data)


def zip_outcomes(archive: bytes):
    try:
        return read_zip(archive, "batch.zip")
    except TemplateError as exc:
        return exc


@fuzz(80)
@given(names=st.lists(st.sampled_from(["a.xlsx", "b.xlsx", "dir/c.xlsx", "notes.txt", "__MACOSX/._a.xlsx",
                                       "~$lock.xlsx", "d.XLSX"]), min_size=1, max_size=4),
       damage=st.lists(st.one_of(st.none(), zip_change()), min_size=4, max_size=4))
def test_a_zip_of_workbooks(names, damage):
    archive = rezip([(name, damage[i] if damage[i] is not None else filled()) for i, name in enumerate(names)])
    outcomes = zip_outcomes(archive)
    if isinstance(outcomes, TemplateError):  # the archive as a whole: too large, damaged or a bomb
        assert_readable(outcomes.messages)
        assert all(message.startswith("batch.zip: ") for message in outcomes.messages), outcomes.messages
        return
    assert len(outcomes) == len(names)
    for name, outcome in outcomes:
        if isinstance(outcome, TemplateError):
            assert_readable(outcome.messages)
            assert all(message.startswith(f"batch.zip/{name}") for message in outcome.messages), outcome.messages


# --- into the database ------------------------------------------------------------------------------------------


def imported_or_unchanged(services, data: bytes) -> tuple[int, bool] | AssessmentError:
    """The app's and the command line's path: check the file, then store it in one transaction."""
    outcome = checked_or_located(data)
    if isinstance(outcome, TemplateError):
        return outcome
    before = snapshot(services.store)
    try:
        return services.import_filled(Actor.operator(), **outcome.import_arguments())
    except AssessmentError as exc:
        assert_readable(exc.messages)
        assert_unchanged(services.store, before, "import_filled")
        return exc


@fuzz(45)
@given(target=st.one_of(target_cell(), st.sampled_from([(ENTERPRISE_SHEET, f"B{row}") for row in
                                                         row_map()[1].values()])), value=CELL_VALUES,
       assessment=st.sampled_from(["none", "diagnosis_1", "approved_1", "self_1", "diagnosis_2", "missing"]))
def test_a_mutated_template_into_the_database(world_store, target, value, assessment):
    services, w = world_store
    assessment_id = {"none": None, "missing": 99_999}[assessment] if assessment in ("none", "missing") \
        else getattr(w, assessment)
    data = with_cell(filled(assessment_id), *target, *value)
    outcome = imported_or_unchanged(services, data)
    if isinstance(outcome, tuple):
        assessment_id, _ = outcome
        view = services.get_assessment(Actor.operator(), assessment_id)
        assert view.assessment.answered >= 1
        assert view.assessment.status in ("draft", "in_progress", "returned")
