"""The offline interview template: an Excel workbook a diagnostician fills in on site, and its strict import.

``build_template`` writes the workbook: instructions, the enterprise information (organisation and digital
baseline), one row per requirement with an answer drop-down, and a hidden, protected metadata sheet that pins the
questionnaire (id, version, sha256), the language, the profile, the assessment and the row of every requirement.
A template made from an assessment also records there what it was made from (the assessment's version and the time
of the latest change it holds), so that its import can tell which answers were changed online since.

``read_template`` reads a filled workbook back and checks everything before returning anything: the file itself
(size, zip caps, a workbook at all), the metadata against the installed questionnaire, the enterprise fields and
every requirement row against the metadata's row map. It raises ``TemplateError`` listing every problem, each
located as ``file: sheet!cell: what``. ``read_zip`` does the same for every workbook in a .zip. Both take an optional
``cancelled`` check, asked as the rows are read: once it says yes (the uploader's session ended), reading stops with
``ImportCancelled`` and nothing of the file is returned.

Uploads are capped before openpyxl sees them (file size, total uncompressed size, compression ratio of each
member), and openpyxl parses the XML with defusedxml. User text is written only through ``reports.cells``.
"""

from __future__ import annotations

import io
import math
import os
import zipfile
import zlib
from bisect import bisect_left
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from xml.etree.ElementTree import ParseError
from xml.parsers.expat import ExpatError

import openpyxl
from openpyxl.styles import Alignment, PatternFill, Protection
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.workbook.protection import WorkbookProtection
from openpyxl.worksheet.datavalidation import DataValidation
from pydantic import BaseModel, TypeAdapter, ValidationError

from assessment import reference
from assessment.errors import AssessmentError, QuestionnaireError
from assessment.inputs import REVENUE_BANDS, SYSTEMS, LongText, OrganisationInput, ProfileInput, form_problem
from assessment.questionnaire import Item, Questionnaire, by_id, load_published, published
from reports.cells import BOLD, BORDER, TITLE, WRAP, header, put, wrapped_height

FORMAT = "smart-factory-interview-template"
FORMAT_VERSION = 1
LANGS = ("zh", "en")

# An upload (a workbook, or a .zip of workbooks): 10 MB unless ASSESSMENT_MAX_UPLOAD_MB says otherwise.
MAX_UPLOAD_BYTES = int(float(os.environ.get("ASSESSMENT_MAX_UPLOAD_MB", "10")) * 1024 * 1024)
MAX_UNCOMPRESSED_BYTES = 100 * 1024 * 1024  # all members of one zip together, as declared in its directory
MAX_RATIO = 100  # uncompressed ÷ compressed size of any one member
# How far a sheet of a filled template may reach. The tool writes a row per requirement or enterprise field plus
# headings; a user may add some rows and columns, never thousands. A sheet declaring more is refused at once, and
# reading never goes further: openpyxl fills every missing row up to the last one named, so a single empty row
# numbered 2,000,000,000 in a small file would otherwise keep the server reading for an hour. (A requirement
# moved beyond the limit is then reported missing, as any other.)
SPARE_ROWS = 1000
MAX_COLUMNS = 50

META_SHEET = "_meta"  # the same name in both languages: it is how a template is recognised
LISTS_SHEET = "_lists"  # drop-down lists too long for an inline list
SHEETS = {
    "instructions": {"zh": "说明", "en": "Instructions"},
    "enterprise": {"zh": "企业信息", "en": "Enterprise"},
    "requirements": {"zh": "评估明细", "en": "Requirements"},
}
INSTRUCTIONS_WIDTH = 90  # characters
INLINE_LIST_LIMIT = 255  # characters of an inline DataValidation list, quotes excluded

# The requirements sheet: header in row 1, then element / subdomain heading rows and one row per requirement.
COLUMNS = ("id", "element", "subdomain", "level", "text", "guidance", "answer", "note", "evidence")
COLUMN = {name: index for index, name in enumerate(COLUMNS, start=1)}
LETTER = {name: get_column_letter(index) for name, index in COLUMN.items()}
HEADER_ROW = 1
WIDTHS = {"id": 10, "element": 10, "subdomain": 14, "level": 13, "text": 48, "guidance": 48, "answer": 14,
          "note": 32, "evidence": 32}

# The enterprise sheet: label, value, hint.
LABEL_COLUMN, VALUE_COLUMN, HINT_COLUMN = 1, 2, 3
VALUE_LETTER = get_column_letter(VALUE_COLUMN)
LABEL_LETTER = get_column_letter(LABEL_COLUMN)

HEADING_FILL = PatternFill("solid", fgColor="D9E1F2")
SUBHEADING_FILL = PatternFill("solid", fgColor="EDF1F9")
UNLOCKED = Protection(locked=False)
INPUT_FILL = PatternFill("solid", fgColor="FFF9E5")  # the cells a user fills in


def _t(zh: str, en: str) -> dict[str, str]:
    return {"zh": zh, "en": en}


TEXT = {
    "columns": {
        "id": _t("编号", "ID"), "element": _t("能力要素", "Element"), "subdomain": _t("能力子域", "Subdomain"),
        "level": _t("等级", "Level"), "text": _t("要求", "Requirement"),
        "guidance": _t("访谈要点", "Interviewer guidance"), "answer": _t("评估结果", "Answer"),
        "note": _t("备注", "Note"), "evidence": _t("证据", "Evidence"),
    },
    "enterprise_header": [_t("项目", "Field"), _t("填写内容", "Value"), _t("说明", "Hint")],
    "rubric": _t("评分标准：", "Rating rubric:"),
    "answer_error_title": _t("评估结果", "Answer"),
    "answer_error": _t("请从下拉列表中选择一项。", "Choose one answer from the list."),
    "list_error": _t("请从下拉列表中选择。", "Choose a value from the list."),
    "percent_error": _t("请填写 0 到 100 之间的数字。", "Enter a number from 0 to 100."),
    "count_error": _t("请填写非负整数。", "Enter a whole number, 0 or more."),
}

REVENUE_LABELS = {
    "under_20m": _t("2000万元以下", "Under CNY 20 million"),
    "20m_100m": _t("2000万–1亿元", "CNY 20–100 million"),
    "100m_400m": _t("1亿–4亿元", "CNY 100–400 million"),
    "400m_2b": _t("4亿–20亿元", "CNY 400 million – 2 billion"),
    "over_2b": _t("20亿元以上", "Over CNY 2 billion"),
}
assert tuple(REVENUE_LABELS) == REVENUE_BANDS  # noqa: S101 - a new band in inputs.py needs its labels here
YES_NO = ((True, _t("是", "Yes")), (False, _t("否", "No")))
YES_NO_WORDS = {"是": True, "否": False, "yes": True, "no": False, "y": True, "n": False, "true": True,
                "false": False}


# ---------------------------------------------------------------------------------------------------------
# The fields of the enterprise sheet


@dataclass(frozen=True)
class EnterpriseField:
    key: str  # OrganisationInput / ProfileInput field, or systems.<SYSTEM>.in_use|cloud
    kind: str  # text, credit_code, phone, district, industry, size, production, count, revenue, percent, yesno
    label: dict[str, str]
    hint: dict[str, str]
    target: str  # "enterprise" (OrganisationInput) or "profile" (ProfileInput)


def _fields() -> list[tuple[dict[str, str], list[EnterpriseField]]]:
    def f(key, kind, zh, en, hint_zh="", hint_en="", target="enterprise"):
        return EnterpriseField(key, kind, _t(zh, en), _t(hint_zh, hint_en), target)

    def p(key, kind, zh, en, hint_zh="", hint_en=""):
        return f(key, kind, zh, en, hint_zh, hint_en, target="profile")

    choose = ("从下拉列表选择", "choose from the list")
    percent = ("0–100 的数字，如 65 表示 65%", "a number from 0 to 100; 65 means 65 %")
    basic = [
        f("name", "text", "企业名称", "Enterprise name", "与营业执照一致", "as on the business licence"),
        f("credit_code", "credit_code", "统一社会信用代码", "Unified social credit code",
          "18 位，含校验位", "18 characters, with the check character"),
        f("district", "district", "所在区县", "District", *choose),
        f("industry", "industry", "所属行业（国民经济行业大类）", "Industry (GB/T 4754-2017 division)",
          "从下拉列表选择，如 C34", "choose from the list, e.g. C34"),
        f("size_class", "size", "企业规模", "Size class", *choose),
        f("production_type", "production", "生产类型", "Production type", *choose),
        f("contact_name", "text", "联系人", "Contact person"),
        f("contact_phone", "phone", "联系电话", "Contact phone", "数字，可含 + - ( ) 和空格",
          "digits, with + - ( ) and spaces allowed"),
        f("contact_email", "text", "电子邮箱", "Contact e-mail"),
    ]
    baseline = [
        p("employees", "count", "从业人员数（人）", "Employees", "整数", "a whole number"),
        p("revenue_band", "revenue", "营业收入", "Annual revenue", *choose),
        p("main_products", "text", "主要产品", "Main products"),
        p("nc_rate", "percent", "关键工序数控化率（%）", "NC rate of key processes (%)", *percent),
        p("networking_rate", "percent", "设备联网率（%）", "Equipment networking rate (%)", *percent),
        p("data_collection_rate", "percent", "数据采集率（%）", "Data collection rate (%)", *percent),
    ]
    systems = []
    for system in SYSTEMS:
        systems.append(p(f"systems.{system}.in_use", "yesno", f"{system} 是否使用", f"{system} in use", "是 / 否",
                         "yes / no"))
        systems.append(p(f"systems.{system}.cloud", "yesno", f"{system} 是否上云", f"{system} on the cloud",
                         "是 / 否", "yes / no"))
    systems += [
        p("other_systems", "text", "其他信息系统", "Other information systems"),
        p("industrial_platform", "text", "工业互联网平台应用", "Industrial internet platform",
          "使用的平台及应用情况", "platforms in use and what for"),
        p("cybersecurity", "text", "网络安全措施", "Cybersecurity", "等级保护、防护措施等",
          "classified protection, safeguards"),
    ]
    return [
        (_t("企业基本信息", "Organisation"), basic),
        (_t("数字化基础", "Digital baseline"), baseline),
        (_t("信息系统与平台", "Information systems and platforms"), systems),
    ]


SECTIONS = _fields()
FIELDS = {field.key: field for _, fields in SECTIONS for field in fields}


def _options(kind: str) -> list[tuple[Any, dict[str, str]]]:
    """The closed list of a field: (stored value, shown label per language); empty for a free field."""
    lists = {
        "district": lambda: [(d.code, _t(d.zh, d.en)) for d in reference.districts()],
        "industry": lambda: [(i.code, _t(f"{i.code} {i.zh}", f"{i.code} {i.en}")) for i in reference.industries()],
        "size": lambda: [(c.code, _t(c.zh, c.en)) for c in reference.SIZE_CLASSES],
        "production": lambda: [(c.code, _t(c.zh, c.en)) for c in reference.PRODUCTION_TYPES],
        "revenue": lambda: list(REVENUE_LABELS.items()),
        "yesno": lambda: list(YES_NO),
    }
    return lists[kind]() if kind in lists else []


def _lookup(kind: str) -> dict[str, Any]:
    """Everything a user may type for a closed-list field, case-folded → the stored value."""
    table: dict[str, Any] = {}
    for value, label in _options(kind):
        for text in (str(value), label["zh"], label["en"]):
            table[text.casefold()] = value
    if kind == "industry":
        for industry in reference.industries():
            table[industry.zh.casefold()] = industry.code
            table[industry.en.casefold()] = industry.code
    if kind == "yesno":
        table.update(YES_NO_WORDS)
    return table


# ---------------------------------------------------------------------------------------------------------
# Errors and results


class TemplateError(AssessmentError):
    """A filled template (or a .zip of them) that cannot be imported; one located message per problem."""


class SkippedMemberError(TemplateError):
    """A member of a .zip that is not a workbook and was not read."""


class ImportCancelled(AssessmentError):  # noqa: N818 - a stop asked for, not a fault
    """Reading stopped because its ``cancelled`` check said so; nothing of the file was kept."""


# Rows read between two questions to a ``cancelled`` check: cheap to ask, and a read stops within milliseconds.
CANCEL_EVERY = 100


def stop_if_cancelled(cancelled: Callable[[], bool] | None, filename: str) -> None:
    """ImportCancelled when ``cancelled`` says that the session which uploaded ``filename`` has ended."""
    if cancelled is not None and cancelled():
        raise ImportCancelled(f"{filename}: stopped: the session that uploaded it has ended; nothing of it was "
                              "imported", code="template.cancelled", file=filename, sheet="", cell="")


class FilledTemplate(BaseModel):
    """What a checked template holds; ``enterprise`` and ``profile_fields`` hold only the fields filled in.

    ``enterprise`` is ready for ``checked(OrganisationInput, {"kind": "enterprise", **enterprise})``,
    ``profile_fields`` for ``checked(ProfileInput, profile_fields)``; ``answers`` holds the answered rows only.
    """

    questionnaire_id: str
    version: str
    sha256: str
    lang: str
    profile: str
    assessment_id: int | None
    enterprise: dict[str, Any]
    profile_fields: dict[str, Any]
    answers: dict[str, dict[str, str | None]]
    # What a template made from an assessment was made from; None for a blank template or one made before
    # templates recorded it.
    assessment_version: int | None = None
    answers_as_of: datetime | None = None

    def import_arguments(self) -> dict[str, Any]:
        """The keywords of ``Services.import_filled`` that store this template."""
        return {"questionnaire_id": self.questionnaire_id, "questionnaire_version": self.version,
                "profile": self.profile, "enterprise": self.enterprise,
                "answers": self.answers, "facts": self.profile_fields or None, "assessment_id": self.assessment_id,
                "template_version": self.assessment_version, "template_as_of": self.answers_as_of}


# ---------------------------------------------------------------------------------------------------------
# Building a template


def build_template(q: Questionnaire, *, lang: str = "zh", profile: str = "discrete", enterprise: dict | None = None,
                   answers: Mapping[str, Mapping[str, Any] | str] | None = None,
                   assessment_id: int | None = None, assessment_version: int | None = None,
                   answers_as_of: datetime | None = None) -> bytes:
    """The interview workbook for ``q`` under ``profile`` in ``lang``, pre-filled when given, as .xlsx bytes.
    ``assessment_version`` and ``answers_as_of`` say what a template made from an assessment was made from: its
    version and the time of the latest change the template holds (UTC, as the database stores it)."""
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}; expected one of {', '.join(LANGS)}")
    if profile not in q.weight_profiles:
        raise ValueError(f"unknown profile {profile!r}; expected one of {', '.join(q.weight_profiles)}")
    items = _ordered_items(q, profile)
    prefilled = _prefill_answers(q, items, answers or {})

    wb = openpyxl.Workbook()
    wb.active.title = SHEETS["instructions"][lang]
    for key in ("enterprise", "requirements"):
        wb.create_sheet(SHEETS[key][lang])
    lists = _Lists(wb.create_sheet(LISTS_SHEET))  # the hidden sheets last: the workbook opens on the first
    _write_instructions(wb[SHEETS["instructions"][lang]], q, lang, profile)
    field_rows = _write_enterprise(wb[SHEETS["enterprise"][lang]], lang, enterprise or {}, lists)
    item_rows = _write_requirements(wb[SHEETS["requirements"][lang]], q, items, lang, prefilled, lists)
    origin = (assessment_id, assessment_version, answers_as_of.isoformat() if answers_as_of else None)
    _write_meta(wb.create_sheet(META_SHEET), q, lang, profile, origin, item_rows, field_rows)
    lists.ws.sheet_state = "hidden"
    lists.ws.protection.sheet = True
    wb.security = WorkbookProtection(lockStructure=True)  # no sheet added, removed, renamed or unhidden
    wb.properties.title = q.title(lang)
    wb.properties.creator = "smart-factory-assessment"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _ordered_items(q: Questionnaire, profile: str) -> list[Item]:
    """The requirements under ``profile``, by element, domain and subdomain as listed, then by level."""
    order = {sd.code: i for i, sd in enumerate(
        sorted(q.subdomains, key=lambda sd: (
            [e.code for e in q.elements].index(q.element_of[sd.domain]),
            [d.code for d in q.domains].index(sd.domain))))}
    position = {item.id: i for i, item in enumerate(q.items)}
    return sorted(q.items_for(profile), key=lambda item: (order[item.subdomain], item.level, position[item.id]))


def _prefill_answers(q: Questionnaire, items: list[Item], answers: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    applicable = {item.id for item in items}
    out = {}
    for item_id, answer in answers.items():
        entry = {"code": answer} if isinstance(answer, str) else dict(answer)
        if item_id not in applicable:
            raise ValueError(f"answers: {item_id!r} is not a requirement of this template")
        code = entry.get("code")
        if code is not None and code not in q.scale_by_code:
            raise ValueError(f"answers.{item_id}: unknown answer code {code!r}")
        out[item_id] = entry
    return out


class _Lists:
    """Drop-down lists: inline when short enough, otherwise a column of the hidden lists sheet."""

    def __init__(self, ws):
        self.ws = ws
        self.columns = 0

    def formula(self, values: list[str]) -> str:
        inline = ",".join(values)
        if len(inline) <= INLINE_LIST_LIMIT and not any("," in v or '"' in v for v in values):
            return f'"{inline}"'
        self.columns += 1
        for row, value in enumerate(values, start=1):
            put(self.ws, row, self.columns, value)
        letter = get_column_letter(self.columns)
        return f"{quote_sheetname(self.ws.title)}!${letter}$1:${letter}${len(values)}"


def _write_instructions(ws, q: Questionnaire, lang: str, profile: str) -> None:
    zh = lang == "zh"
    sheets = {key: names[lang] for key, names in SHEETS.items()}
    put(ws, 1, 1, q.title(lang), font=TITLE)
    subtitle = (f"离线访谈模板 · {q.weight_profiles[profile].name.zh} · 问卷 {q.id} 版本 {q.version}" if zh else
                f"Offline interview template · {q.weight_profiles[profile].name.en} · questionnaire {q.id} "
                f"version {q.version}")
    put(ws, 2, 1, subtitle, font=BOLD)
    steps = ([
        "1. 本工作簿用于现场访谈时离线填写，填写完成后在系统中导入（导入时逐项校验，问题会指出所在的工作表和单元格）。",
        f"2. 在“{sheets['enterprise']}”表的“填写内容”列填写企业基本信息和数字化基础指标；"
        "有下拉列表的项目请从列表中选择，百分比填写 0–100 的数字（65 表示 65%）。",
        f"3. 在“{sheets['requirements']}”表逐条评价每项要求：在“评估结果”列从下拉列表中选择一项，"
        "在“备注”列填写说明，在“证据”列记录查看过的文件、系统或现场情况。未选择结果的要求视为未评价；"
        "只填写了备注或证据而没有结果的行不能导入。",
        f"4. 不要在“{sheets['requirements']}”表中增加、删除、移动或排序行，不要修改“编号”列；"
        "不要增加、删除或重命名工作表。",
        "5. 工作簿含一个隐藏的元数据表，记录问卷版本和每一行的位置，请勿改动，否则无法导入。",
        "6. 评估结果的取值如下：",
    ] if zh else [
        "1. Fill in this workbook during the on-site interview, offline, then import it into the system "
        "(the import checks every entry and names the sheet and cell of each problem).",
        f"2. On the '{sheets['enterprise']}' sheet fill in the Value column: the organisation and its digital "
        "baseline; where a cell has a drop-down list, choose from it; percentages are numbers from 0 to 100 "
        "(65 means 65 %).",
        f"3. On the '{sheets['requirements']}' sheet rate every requirement: choose an answer from the drop-down "
        "in the Answer column, explain it in Note, and record the documents, systems or shop-floor facts you "
        "saw in Evidence. A requirement without an answer counts as not rated; a row with a note or evidence "
        "but no answer cannot be imported.",
        f"4. Do not add, delete, move or sort rows of the '{sheets['requirements']}' sheet and do not change the "
        "ID column; do not add, delete or rename sheets.",
        "5. The workbook holds a hidden metadata sheet with the questionnaire version and the place of every "
        "row: do not touch it, or the workbook cannot be imported.",
        "6. The answers and their values:",
    ])
    row = 4
    for step in steps:
        put(ws, row, 1, step, alignment=WRAP)
        ws.row_dimensions[row].height = wrapped_height(step, INSTRUCTIONS_WIDTH)
        row += 1
    row += 1
    header(ws, row, ["评估结果" if zh else "Answer", "分值" if zh else "Value", "代码" if zh else "Code"])
    for option in q.scale:
        row += 1
        value = option.value if option.value is not None else ("不计分" if zh else "not scored")
        put(ws, row, 1, option.label(lang), border=BORDER)
        put(ws, row, 2, value, border=BORDER, alignment=Alignment(horizontal="left"))
        put(ws, row, 3, option.code, border=BORDER)
    row += 2
    put(ws, row, 1, "成熟度等级" if zh else "Maturity levels", font=BOLD)
    for level in sorted(q.levels, key=lambda lv: lv.number):
        row += 1
        text = f"{level.number} {level.name(lang)}: {level.intent(lang)}"
        put(ws, row, 1, text, alignment=WRAP)
        ws.row_dimensions[row].height = wrapped_height(text, INSTRUCTIONS_WIDTH)
    ws.column_dimensions["A"].width = INSTRUCTIONS_WIDTH
    ws.column_dimensions["B"].width = 12
    ws.column_dimensions["C"].width = 12
    ws.sheet_view.showGridLines = False
    _print_setup(ws, landscape=False)


def _print_setup(ws, *, landscape: bool) -> None:
    """A4, fitted to the page width, as many pages long as needed."""
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = ws.ORIENTATION_LANDSCAPE if landscape else ws.ORIENTATION_PORTRAIT
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True


def _write_enterprise(ws, lang: str, enterprise: Mapping[str, Any], lists: _Lists) -> dict[str, int]:
    header(ws, 1, [text[lang] for text in TEXT["enterprise_header"]])
    validations: dict[str, DataValidation] = {}
    rows: dict[str, int] = {}
    row = 1
    for title, fields in SECTIONS:
        row += 1
        put(ws, row, 1, title[lang], font=BOLD, fill=HEADING_FILL)
        for column in (2, 3):
            put(ws, row, column, None, fill=HEADING_FILL)
        for field in fields:
            row += 1
            rows[field.key] = row
            put(ws, row, LABEL_COLUMN, field.label[lang], border=BORDER, alignment=WRAP)
            value = _shown(field, _prefill_value(enterprise, field.key), lang)
            cell = put(ws, row, VALUE_COLUMN, value, border=BORDER, alignment=WRAP, protection=UNLOCKED,
                       fill=INPUT_FILL)
            cell.number_format = {"count": "0", "credit_code": "@", "phone": "@"}.get(
                field.kind, cell.number_format)
            put(ws, row, HINT_COLUMN, field.hint[lang] or None, border=BORDER, alignment=WRAP)
            validation = validations.get(field.kind)
            if validation is None:
                validation = _validation(field.kind, lang, lists)
                if validation is not None:
                    validations[field.kind] = validation
                    ws.add_data_validation(validation)
            if validation is not None:
                validation.add(cell.coordinate)
    ws.column_dimensions["A"].width = 34
    ws.column_dimensions["B"].width = 44
    ws.column_dimensions["C"].width = 40
    ws.freeze_panes = "A2"
    ws.print_title_rows = "1:1"
    _print_setup(ws, landscape=False)
    ws.protection.sheet = True
    ws.protection.formatColumns = False
    ws.protection.formatRows = False
    return rows


def _validation(kind: str, lang: str, lists: _Lists) -> DataValidation | None:
    if kind == "percent":
        return DataValidation(type="decimal", operator="between", formula1="0", formula2="100", allow_blank=True,
                              showErrorMessage=True, error=TEXT["percent_error"][lang])
    if kind == "count":
        return DataValidation(type="whole", operator="greaterThanOrEqual", formula1="0", allow_blank=True,
                              showErrorMessage=True, error=TEXT["count_error"][lang])
    options = _options(kind)
    if not options:
        return None
    return DataValidation(type="list", formula1=lists.formula([label[lang] for _, label in options]),
                          allow_blank=True, showErrorMessage=True, error=TEXT["list_error"][lang])


def _prefill_value(enterprise: Mapping[str, Any], key: str) -> Any:
    if not key.startswith("systems."):
        return enterprise.get(key)
    _, system, flag = key.split(".")
    use = (enterprise.get("systems") or {}).get(system)
    if use is None:
        return None
    return use.get(flag) if isinstance(use, Mapping) else getattr(use, flag, None)


def _shown(field: EnterpriseField, value: Any, lang: str) -> Any:
    """A stored value as the sheet shows it: the label of a closed-list value, numbers and text as they are."""
    if value is None:
        return None
    for option, label in _options(field.kind):
        if option == value:
            return label[lang]
    return value


def _write_requirements(ws, q: Questionnaire, items: list[Item], lang: str, prefilled: dict[str, dict],
                        lists: _Lists) -> dict[str, int]:
    header(ws, HEADER_ROW, [TEXT["columns"][name][lang] for name in COLUMNS])
    labels = {option.code: option.label(lang) for option in q.scale}
    rows: dict[str, int] = {}
    row = HEADER_ROW
    element = subdomain = None
    for item in items:
        domain = q.domain_of[item.subdomain]
        if q.element_of[domain] != element:
            element = q.element_of[domain]
            row += 1
            _heading(ws, row, f"{element} {q.node_names[element](lang)}", HEADING_FILL)
        if item.subdomain != subdomain:
            subdomain = item.subdomain
            row += 1
            _heading(ws, row, f"{subdomain} {q.node_names[subdomain](lang)}", SUBHEADING_FILL)
        row += 1
        rows[item.id] = row
        answer = prefilled.get(item.id, {})
        code = answer.get("code")
        values = {
            "id": item.id, "element": q.node_names[element](lang), "subdomain": q.node_names[subdomain](lang),
            "level": f"{item.level} {q.level_by_number[item.level].name(lang)}", "text": item.text(lang),
            "guidance": _guidance(q, item, lang), "answer": labels.get(code) if code else None,
            "note": answer.get("note"), "evidence": answer.get("evidence"),
        }
        for name, value in values.items():
            editable = name in ("answer", "note", "evidence")
            style = {"protection": UNLOCKED, "fill": INPUT_FILL} if editable else {}
            put(ws, row, COLUMN[name], value, border=BORDER, alignment=WRAP, **style)
        # Spreadsheet programs do not all fit row heights to wrapped text on opening: give the height here.
        ws.row_dimensions[row].height = max(wrapped_height(str(values[name] or ""), WIDTHS[name])
                                            for name in ("text", "guidance", "note", "evidence"))
    last = max(row, HEADER_ROW + 1)
    answers = DataValidation(type="list", formula1=lists.formula([option.label(lang) for option in q.scale]),
                             allow_blank=True, showErrorMessage=True, errorTitle=TEXT["answer_error_title"][lang],
                             error=TEXT["answer_error"][lang])
    answers.add(f"{LETTER['answer']}{HEADER_ROW + 1}:{LETTER['answer']}{last}")
    ws.add_data_validation(answers)
    for name, width in WIDTHS.items():
        ws.column_dimensions[LETTER[name]].width = width
    ws.freeze_panes = f"B{HEADER_ROW + 1}"
    ws.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    _print_setup(ws, landscape=True)
    ws.protection.sheet = True
    ws.protection.formatColumns = False
    ws.protection.formatRows = False
    return rows


def _guidance(q: Questionnaire, item: Item, lang: str) -> str:
    """The guidance, and below it in the same cell the item's rubric where it has one: the columns, which the import
    reads by position, stay as they were in every version."""
    rubric = q.rubric_lines(item, lang)
    return "\n".join([item.guidance(lang), TEXT["rubric"][lang], *rubric]) if rubric else item.guidance(lang)


def _heading(ws, row: int, text: str, fill: PatternFill) -> None:
    """A group heading: the id column stays empty, so a heading is never taken for a requirement."""
    for column in range(1, len(COLUMNS) + 1):
        put(ws, row, column, text if column == COLUMN["element"] else None, font=BOLD, fill=fill)


def _write_meta(ws, q: Questionnaire, lang: str, profile: str, origin: tuple[int | None, int | None, str | None],
                item_rows: dict[str, int], field_rows: dict[str, int]) -> None:
    entries = [("format", FORMAT), ("format_version", FORMAT_VERSION), ("questionnaire_id", q.id),
               ("questionnaire_version", q.version), ("sha256", q.sha256), ("lang", lang), ("profile", profile),
               *zip(("assessment_id", *ORIGIN_KEYS), origin, strict=True)]
    for row, (key, value) in enumerate(entries, start=1):
        put(ws, row, 1, key)
        put(ws, row, 2, value)
    row = len(entries) + 2
    put(ws, row, 1, "kind")
    put(ws, row, 2, "key")
    put(ws, row, 3, "row")
    for kind, mapping in (("item", item_rows), ("field", field_rows)):
        for key, at in mapping.items():
            row += 1
            put(ws, row, 1, kind)
            put(ws, row, 2, key)
            put(ws, row, 3, at)
    ws.sheet_state = "veryHidden"
    ws.protection.sheet = True


# ---------------------------------------------------------------------------------------------------------
# Reading a filled template


class _Problems:
    """Every problem of one file: its English line and its code (``template.*``, or a form's ``form.*``) with the
    parameters the interface says it with in the user's language, the place (file, sheet, cell) among them."""

    def __init__(self, filename: str):
        self.filename = filename
        self.messages: list[str] = []
        self.codes: list[tuple[str, dict]] = []
        self.reading = None  # the worksheet being read: a cell openpyxl cannot parse is looked for there
        self.cancelled: Callable[[], bool] | None = None

    def rows(self, rows):
        """``rows`` (a worksheet's iter_rows), stopping with ImportCancelled when ``cancelled`` says so: asked
        before the first row and every CANCEL_EVERY rows."""
        if self.cancelled is None:
            yield from rows
            return
        for count, row in enumerate(rows):
            if count % CANCEL_EVERY == 0:
                stop_if_cancelled(self.cancelled, self.filename)
            yield row

    def add(self, what: str, sheet: str | None = None, cell: str | None = None, /, *, code: str,
            **params) -> None:
        where = f"{sheet}!{cell}: " if sheet and cell else f"{sheet}: " if sheet else ""
        self.messages.append(f"{self.filename}: {where}{what}")
        code = code if code.startswith("form.") else f"template.{code}"
        self.codes.append((code, {"file": self.filename, "sheet": sheet or "", "cell": cell or "",
                                  **{key: str(value) for key, value in params.items()}}))

    def error(self) -> TemplateError:
        return TemplateError(self.messages, problems=self.codes)

    def raise_if_any(self) -> None:
        if self.messages:
            raise self.error()


def read_template(data: bytes, filename: str = "template.xlsx", *,
                  cancelled: Callable[[], bool] | None = None) -> FilledTemplate:
    """The checked content of a filled template; TemplateError listing every located problem otherwise;
    ImportCancelled once ``cancelled()`` says yes (it is asked every CANCEL_EVERY rows read)."""
    problems = _Problems(filename)
    problems.cancelled = cancelled
    archive = _check_archive(data, problems)
    if archive is not None:
        with archive:
            if not problems.messages and "xl/workbook.xml" not in archive.namelist():
                problems.add("not an .xlsx workbook (the archive holds no xl/workbook.xml)", code="not_xlsx")
    problems.raise_if_any()
    if not openpyxl.DEFUSEDXML:  # a deployment error, not the user's: never parse uploads without defusedxml
        raise RuntimeError("defusedxml is not installed: uploaded workbooks are not parsed without it")
    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds on a damaged file; the user gets one line
        problems.add(_unreadable(exc)[0], **_unreadable(exc)[1])
        problems.raise_if_any()
    try:
        return _read_workbook(wb, problems)
    except (ValueError, KeyError, IndexError, OSError, EOFError, zipfile.BadZipFile, zlib.error, ExpatError,
            ParseError) as exc:
        # A read-only workbook parses its sheets while they are read: a damaged sheet shows up here.
        cell = _unreadable_cell(problems.reading) if problems.reading is not None else None
        if cell is not None:
            line, detail = _unreadable(exc)
            problems.add(f"this cell cannot be read {line.removeprefix('cannot be read as a workbook ')}",
                         problems.reading.title, cell,
                         **(detail if detail["code"] == "xml_entities" else {**detail, "code": "cell_unreadable"}))
        else:
            problems.add(_unreadable(exc)[0], **_unreadable(exc)[1])
        raise problems.error() from None
    finally:
        wb.close()


def _unreadable_cell(ws) -> str | None:
    """The first cell of a read-only worksheet that openpyxl cannot read (a date that does not exist, a number
    that is not one), found by parsing its cells one at a time; None when every cell reads."""
    from defusedxml.ElementTree import iterparse
    from openpyxl.worksheet._reader import CELL_TAG, WorkSheetParser

    wb = ws.parent
    with ws._get_source() as source:
        parser = WorkSheetParser(source, ws._shared_strings, data_only=wb.data_only, epoch=wb.epoch,
                                 date_formats=wb._date_formats, timedelta_formats=wb._timedelta_formats)
        try:
            for _, element in iterparse(source):
                if element.tag != CELL_TAG:
                    continue
                try:
                    parser.parse_cell(element)
                except (ValueError, KeyError, IndexError, TypeError, OverflowError):
                    return str(element.get("r") or "?")[:12]
                element.clear()
        except (ParseError, ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error):
            return None
    return None


def _unreadable(exc: BaseException) -> tuple[str, dict]:
    """One line saying why openpyxl could not read a workbook (it wraps the parser's error in its own), and its
    code and parameters (as keywords of ``_Problems.add``)."""
    causes = [exc]
    while (cause := causes[-1].__cause__ or causes[-1].__context__) is not None and len(causes) < 10:
        causes.append(cause)
    for cause in causes:
        if type(cause).__module__.startswith("defusedxml"):
            return (f"refused: its XML declares entities or a DTD ({type(cause).__name__}), which a workbook never "
                    "needs", {"code": "xml_entities"})
    root = causes[-1]
    detail = str(root).strip().splitlines()[0] if str(root).strip() else ""
    reason = f"{type(root).__name__}{': ' + _short(detail, 200) if detail else ''}"
    return f"cannot be read as a workbook ({reason})", {"code": "unreadable", "reason": reason}


def _check_archive(data: bytes, problems: _Problems, *, kind: str = "xlsx") -> zipfile.ZipFile | None:
    """Size, zip and ratio caps, checked on the zip directory before any member is inflated. ``kind`` is what the
    file should be: "xlsx" (a workbook) or "zip" (an archive of them)."""
    what = {"xlsx": "an .xlsx workbook", "zip": "a .zip archive"}[kind]
    size = len(data)
    if size > MAX_UPLOAD_BYTES:
        problems.add(f"the file is {size:,} bytes; uploads are limited to {_mib(MAX_UPLOAD_BYTES)}",
                     code="too_large", size=f"{size:,}", limit=_mib(MAX_UPLOAD_BYTES))
        return None
    if size == 0:
        problems.add(f"the file is empty; expected {what}", code="empty", kind=kind)
        return None
    if bytes(data[:8]) == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        problems.add(f"not {what}: this is an old .xls file or a password-protected workbook; "
                     "save it as .xlsx without a password", code="old_xls", kind=kind)
        return None
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError) as exc:
        problems.add(f"not {what} (not a readable zip archive: {exc})", code="not_zip", kind=kind)
        return None
    total = sum(member.file_size for member in members)
    if total > MAX_UNCOMPRESSED_BYTES:
        problems.add(f"the archive would inflate to {_mib(total)} (limit {_mib(MAX_UNCOMPRESSED_BYTES)}): "
                     "refused as a possible zip bomb", code="zip_bomb", size=_mib(total),
                     limit=_mib(MAX_UNCOMPRESSED_BYTES))
    for member in members:
        if member.file_size and member.file_size > MAX_RATIO * max(member.compress_size, 1):
            ratio = member.file_size / max(member.compress_size, 1)
            problems.add(f"{member.filename} inflates {ratio:,.0f}× (limit {MAX_RATIO}×): "
                         "refused as a possible zip bomb", code="zip_ratio", member=_short(member.filename),
                         ratio=f"{ratio:,.0f}", limit=MAX_RATIO)
        if member.flag_bits & 0x1:
            problems.add(f"{member.filename} is encrypted", code="encrypted", member=_short(member.filename))
    return archive


def _mib(size: int) -> str:
    return f"{size / 1024 / 1024:.4g} MiB"


def _text(value: Any) -> str | None:
    """A cell's content as text, None when blank."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if hasattr(value, "isoformat"):
        value = value.isoformat()
    text = str(value).strip()
    return text or None


def row_limit() -> int:
    """The most rows any sheet of a template of an installed questionnaire can need, with room for additions."""
    largest = max((len(load_published(version).items) for version in published()), default=0)
    return len(META_KEYS) + len(ORIGIN_KEYS) + largest + len(FIELDS) + SPARE_ROWS


def _within_limits(wb, problems: _Problems, limit: int) -> None:
    """Refuse, before reading anything, a sheet whose declared size is beyond what a template can need."""
    for ws in wb.worksheets:
        rows, columns = ws.max_row or 0, ws.max_column or 0
        if rows > limit or columns > MAX_COLUMNS:
            problems.add(f"the sheet reaches row {rows:,} and column {columns:,}; a template needs at most {limit:,} "
                         f"rows and {MAX_COLUMNS} columns: delete what lies beyond, or export a new template",
                         _short(ws.title), code="sheet_too_large", rows=f"{rows:,}", columns=f"{columns:,}",
                         row_limit=f"{limit:,}", column_limit=MAX_COLUMNS)
    problems.raise_if_any()


def _read_workbook(wb, problems: _Problems) -> FilledTemplate:
    limit = row_limit()
    _within_limits(wb, problems, limit)
    if META_SHEET not in wb.sheetnames:
        problems.add(f"the metadata sheet {META_SHEET} is missing: this is not an interview template exported by "
                     "the tool, or the sheet was deleted; export a new template", code="no_meta", sheet_name=META_SHEET)
        problems.raise_if_any()
    problems.reading = wb[META_SHEET]
    meta = _read_meta(wb[META_SHEET], problems, limit)
    if meta is None:
        problems.raise_if_any()
    q, lang, profile = meta["questionnaire"], meta["lang"], meta["profile"]
    enterprise: dict[str, Any] = {}
    profile_fields: dict[str, Any] = {}
    answers: dict[str, dict[str, str | None]] = {}
    sheet = SHEETS["enterprise"][lang]
    if sheet in wb.sheetnames:
        problems.reading = wb[sheet]
        enterprise, profile_fields = _read_enterprise(wb[sheet], sheet, lang, meta["fields"], problems, limit)
    else:
        problems.add(f"the sheet {sheet} is missing; sheets must not be deleted or renamed", code="no_sheet",
                     sheet_name=sheet)
    sheet = SHEETS["requirements"][lang]
    if sheet in wb.sheetnames and q is not None:
        problems.reading = wb[sheet]
        answers = _read_requirements(wb[sheet], sheet, q, lang, profile, meta["items"], problems, limit)
    elif sheet not in wb.sheetnames:
        problems.add(f"the sheet {sheet} is missing; sheets must not be deleted or renamed", code="no_sheet",
                     sheet_name=sheet)
    problems.raise_if_any()
    return FilledTemplate(questionnaire_id=q.id, version=q.version, sha256=q.sha256, lang=lang, profile=profile,
                          assessment_id=meta["assessment_id"], enterprise=enterprise, profile_fields=profile_fields,
                          answers=answers, **meta["origin"])


META_KEYS = ("format", "format_version", "questionnaire_id", "questionnaire_version", "sha256", "lang", "profile",
             "assessment_id")
# What a template was made from: absent from templates made before they recorded it, which still import.
ORIGIN_KEYS = ("assessment_version", "answers_as_of")


def _read_meta(ws, problems: _Problems, limit: int) -> dict[str, Any] | None:
    """The metadata, checked against the installed questionnaire; None when it cannot be used at all."""
    raw = _MetaSheet(ws, problems, limit)
    if raw.values.get("format", (None,))[0] != FORMAT:
        problems.add(f"not an interview template of this tool (format marker {FORMAT!r} missing); "
                     "export a new template", META_SHEET, raw.values.get("format", (None, "B1"))[1],
                     code="not_template")
        return None
    missing = [key for key in META_KEYS if key not in raw.values]
    for key in missing:
        problems.add(f"the metadata field {key} is missing; do not edit this sheet", META_SHEET, code="meta_missing",
                     key=key)
    if missing:
        return None
    lang = raw.value("lang")
    if lang not in LANGS:
        raw.problem(f"unknown language {lang!r}; expected one of {', '.join(LANGS)}", "lang", code="meta_language",
                    value=_short(str(lang)), expected=", ".join(LANGS))
        return None
    version = raw.value("format_version")
    if version != FORMAT_VERSION:
        raw.problem(f"template format version {version!r} is not {FORMAT_VERSION}; export a new template",
                    "format_version", code="format_version", value=_short(str(version)), expected=FORMAT_VERSION)
    assessment_id = raw.value("assessment_id")
    if assessment_id is not None and (not isinstance(assessment_id, int) or isinstance(assessment_id, bool)):
        raw.problem(f"assessment id {assessment_id!r} is not a whole number", "assessment_id", code="meta_assessment",
                    value=_short(str(assessment_id)))
    origin = _meta_origin(raw)
    q = _meta_questionnaire(raw)
    if not raw.items:
        problems.add("the row map of the requirements is missing; do not edit this sheet", META_SHEET,
                     code="no_row_map")
        raw.bad = True
    for key in sorted(set(raw.fields) - set(FIELDS)):
        problems.add(f"unknown enterprise field {key!r} in the row map", META_SHEET, raw.fields[key][1],
                     code="meta_field", key=_short(key))
        raw.bad = True
    if raw.bad:
        return None
    return {"questionnaire": q, "lang": lang, "profile": raw.value("profile"), "assessment_id": assessment_id,
            "origin": origin,
            "items": {key: at for key, (at, _) in raw.items.items()},
            "fields": {key: at for key, (at, _) in raw.fields.items()}}


class _MetaSheet:
    """The raw entries of the metadata sheet, each with its cell."""

    def __init__(self, ws, problems: _Problems, limit: int):
        self.problems = problems
        self.values: dict[str, tuple[Any, str]] = {}
        self.items: dict[str, tuple[int, str]] = {}
        self.fields: dict[str, tuple[int, str]] = {}
        self.bad = False  # a problem that makes the rest unreadable
        rows = problems.rows(ws.iter_rows(min_col=1, max_col=3, max_row=limit, values_only=True))
        for row, cells in enumerate(rows, start=1):
            key, value, at = (*cells, None, None, None)[:3]
            if key in META_KEYS or key in ORIGIN_KEYS:
                self.values[key] = (value, f"B{row}")
            elif key in ("item", "field"):
                if not isinstance(value, str) or not value.isprintable() or not isinstance(at, int) or \
                        isinstance(at, bool) or at < 1:
                    self.problem("damaged row map entry", cell=f"C{row}", code="row_map_entry")
                    continue
                (self.items if key == "item" else self.fields)[value] = (at, f"C{row}")

    def value(self, key: str) -> Any:
        return self.values[key][0]

    def problem(self, what: str, key: str | None = None, *, cell: str | None = None, fatal: bool = True,
                code: str, **params) -> None:
        self.problems.add(what, META_SHEET, cell or self.values[key][1], code=code, **params)
        self.bad = self.bad or fatal


def _meta_origin(raw: _MetaSheet) -> dict[str, Any]:
    """What the template was made from (FilledTemplate's assessment_version and answers_as_of), when recorded."""
    version = raw.values.get("assessment_version", (None,))[0]
    if version is not None and (not isinstance(version, int) or isinstance(version, bool) or version < 1):
        raw.problem(f"the version of the assessment the template was made from, {version!r}, is not a whole number "
                    "from 1; do not edit this sheet, or export a new template", "assessment_version",
                    code="meta_origin_version", value=_short(str(version)))
        version = None
    as_of = raw.values.get("answers_as_of", (None,))[0]
    if as_of is not None:
        try:
            as_of = datetime.fromisoformat(as_of) if isinstance(as_of, str) else None
        except ValueError:
            as_of = None
        if as_of is None or as_of.tzinfo is not None:
            raw.problem(f"the time the template was made, {raw.value('answers_as_of')!r}, is not a date and time; "
                        "do not edit this sheet, or export a new template", "answers_as_of",
                        code="meta_origin_time", value=_short(str(raw.value("answers_as_of"))))
            as_of = None
    return {"assessment_version": version, "answers_as_of": as_of}


def _meta_questionnaire(raw: _MetaSheet) -> Questionnaire | None:
    """The installed version of the questionnaire the template names, if it is exactly the one the template was made
    from: a template of an older version is read against that version, never against the newest."""
    try:
        newest = by_id(str(raw.value("questionnaire_id")))
    except QuestionnaireError as exc:
        raw.problem(str(exc), "questionnaire_id", code="meta_questionnaire",
                    value=_short(str(raw.value("questionnaire_id"))))
        return None
    version = _text(raw.value("questionnaire_version"))
    try:
        q = by_id(newest.id, version or "")
    except QuestionnaireError as exc:
        # The rows can still be checked against the newest version: every problem is listed at once.
        installed = exc.params.get("versions", newest.version)
        raw.problem(f"questionnaire version {version!r} of {newest.id} is not installed (installed: {installed}); "
                    "export a new template", "questionnaire_version", fatal=False, code="questionnaire_version",
                    value=_short(str(version)), questionnaire=newest.id, versions=installed)
        q = newest
    else:
        if raw.value("sha256") != q.sha256:
            raw.problem(f"questionnaire sha256 {_text(raw.value('sha256'))!r} differs from the installed {q.id} "
                        f"{q.version} ({q.sha256}): the questionnaire changed since the template was exported; export "
                        "a new template", "sha256", fatal=False, code="questionnaire_changed", questionnaire=q.id,
                        version=q.version)
    profile = raw.value("profile")
    if profile not in q.weight_profiles:
        raw.problem(f"unknown profile {profile!r}; expected one of {', '.join(q.weight_profiles)}", "profile",
                    code="meta_profile", value=_short(str(profile)))
        return q
    # The row map was written for the template's profile: items of another profile mean one of them was edited.
    applicable = {item.id for item in q.items_for(profile)}
    foreign = sorted(key for key in raw.items if key in q.item_by_id and key not in applicable)
    if foreign:
        raw.problem(f"the template's requirements include {len(foreign)} that are not for {profile} manufacturing "
                    f"(such as {foreign[0]}): the profile was changed; export a new template", "profile",
                    code="profile_changed", count=len(foreign), profile=profile, item=foreign[0])
    return q


def _read_enterprise(ws, sheet: str, lang: str, field_rows: dict[str, int],
                     problems: _Problems, limit: int) -> tuple[dict[str, Any], dict[str, Any]]:
    cells: dict[int, tuple[Any, Any, str]] = {}
    for row in problems.rows(ws.iter_rows(min_col=LABEL_COLUMN, max_col=VALUE_COLUMN, max_row=limit)):
        label, value = (*row, None, None)[:2]
        if label is None or not hasattr(label, "row"):
            continue
        number_format = getattr(value, "number_format", "General") or "General"
        cells[label.row] = (label.value, getattr(value, "value", None), number_format)
    enterprise: dict[str, Any] = {}
    profile: dict[str, Any] = {}
    systems: dict[str, dict[str, bool]] = {}
    for key, row in field_rows.items():
        field = FIELDS[key]
        label, raw, number_format = cells.get(row, (None, None, "General"))
        if _text(label) != field.label[lang]:
            shown = repr(_text(label)) if _text(label) else "an empty cell"
            problems.add(f"expected the field “{field.label[lang]}” here, found {shown}: rows of this sheet "
                         "must not be added, deleted or moved", sheet, f"{LABEL_LETTER}{row}",
                         code="field_moved" if _text(label) else "field_missing", expected=field.label[lang],
                         found=_short(_text(label) or ""))
            continue
        try:
            value = _field_value(field, raw, number_format)
        except _CellError as exc:
            problems.add(str(exc), sheet, f"{VALUE_LETTER}{row}", code=exc.code, **exc.params)
            continue
        if value is None:
            continue
        if key.startswith("systems."):
            _, system, flag = key.split(".")
            systems.setdefault(system, {"in_use": False, "cloud": False})[flag] = value
        elif field.target == "enterprise":
            enterprise[key] = value
        else:
            profile[key] = value
    if systems:
        profile["systems"] = {system: systems[system] for system in SYSTEMS if system in systems}
    return enterprise, profile


class _CellError(ValueError):
    """What is wrong with the value of one cell: the English line, and its code and parameters."""

    def __init__(self, message: str, code: str, /, **params):
        super().__init__(message)
        self.code, self.params = code, params


def _field_value(field: EnterpriseField, raw: Any, number_format: str) -> Any:
    """The stored value of one enterprise field, None when blank; _CellError saying what is wrong with it."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if field.kind in ("percent", "count"):
        return _number(field, raw, number_format)
    if field.kind == "yesno" and isinstance(raw, bool):
        return raw
    if field.kind == "credit_code" and isinstance(raw, float):
        raise _CellError(f"{raw!r} was stored as a number and lost digits; format the cell as text and type the "
                         "code again", "credit_code_number", value=repr(raw))
    text = _text(raw)
    if options := _options(field.kind):
        value = _lookup(field.kind).get(text.casefold())
        if value is None:
            shown = ", ".join(label["zh"] for _, label in options) if field.kind != "industry" else "C13–C43"
            what = {"district": f"a district of {reference.city().zh}", "industry":
                    "an industry division of GB/T 4754-2017"}.get(field.kind, "one of the list")
            raise _CellError(f'"{_short(text)}" is not {what}; choose one of {shown}',
                             {"district": "not_district", "industry": "not_industry"}.get(field.kind, "not_in_list"),
                             value=_short(text), city=reference.city().zh, options=shown)
        return value
    model, base = ((OrganisationInput, {"kind": "provider", "name": "-"}) if field.target == "enterprise"
                   else (ProfileInput, {}))
    try:  # the form's own rules (length, characters, the credit code's check character, the phone pattern)
        checked = model.model_validate({**base, field.key: text})
    except ValidationError as exc:
        errors = [err for err in exc.errors() if err["loc"][:1] == (field.key,)] or exc.errors()
        message = errors[0]["msg"].removeprefix("Value error, ")
        code, params = form_problem(errors[0], field.key)
        raise _CellError(message if text in message else f'"{_short(text)}": {message}', code, **params) from None
    return getattr(checked, field.key)


def _number(field: EnterpriseField, raw: Any, number_format: str) -> float | int:
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        number = float(raw) * (100 if "%" in number_format else 1)  # 65 % typed into a percent-formatted cell
    else:
        text = _text(raw) or ""
        try:
            number = float(text.removesuffix("%").replace(",", "").strip())
        except ValueError:
            raise _CellError(f'"{_short(text)}" is not a number', "not_a_number", value=_short(text)) from None
    if not math.isfinite(number):
        raise _CellError(f'"{raw}" is not a number', "not_a_number", value=_short(str(raw)))
    if field.kind == "percent":
        if not 0 <= number <= 100:
            raise _CellError(f"{_number_text(number)} is not a percentage between 0 and 100", "not_a_percentage",
                             value=_number_text(number))
        return number
    if not number.is_integer() or not 0 <= number <= 1_000_000:
        raise _CellError(f"{_number_text(number)} is not a whole number from 0 to 1,000,000", "not_a_count",
                         value=_number_text(number))
    return int(number)


def _number_text(number: float) -> str:
    return str(int(number)) if number.is_integer() else str(number)


def _short(text: str, limit: int = 60) -> str:
    """User text inside a one-line message: invisible characters escaped (a line break as \\n), long text cut."""
    if not text.isprintable():
        text = "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)
    return text if len(text) <= limit else text[:limit] + "…"


_LONG_TEXT = TypeAdapter(LongText)


def _read_requirements(ws, sheet: str, q: Questionnaire, lang: str, profile: str, expected: dict[str, int],
                       problems: _Problems, limit: int) -> dict[str, dict[str, str | None]]:
    reader = _Requirements(sheet, q, lang, profile, expected, problems)
    count = len(COLUMNS)
    rows = problems.rows(ws.iter_rows(min_row=HEADER_ROW + 1, max_col=count, max_row=limit, values_only=True))
    for row, cells in enumerate(rows, start=HEADER_ROW + 1):
        reader.row(row, dict(zip(COLUMNS, (*cells, *(None,) * count), strict=False)))
    _check_row_map(reader.order, reader.seen, expected, sheet, problems, shifts=not reader.structural)
    return reader.answers


class _Requirements:
    """Reads the requirement rows one by one: which item each is, and its answer, note and evidence."""

    def __init__(self, sheet: str, q: Questionnaire, lang: str, profile: str, expected: dict[str, int],
                 problems: _Problems):
        self.sheet, self.q, self.profile, self.expected, self.problems = sheet, q, profile, expected, problems
        self.labels = ", ".join(option.label(lang) for option in q.scale)
        self.codes = {text.casefold(): option.code for option in q.scale
                      for text in (option.code, option.label.zh, option.label.en)}
        self.applicable = {item.id for item in q.items_for(profile)}
        self.seen: dict[str, int] = {}
        self.order: list[tuple[int, str]] = []  # (row, item id) of the first row of every item of the template
        self.answers: dict[str, dict[str, str | None]] = {}
        self.structural = 0  # rows added, copied or re-labelled: they shift the rows below them

    def add(self, what: str, column: str, row: int, /, *, code: str, **params) -> None:
        self.problems.add(what, self.sheet, f"{LETTER[column]}{row}", code=code, **params)

    def row(self, row: int, cells: dict[str, Any]) -> None:
        item_id = _text(cells["id"])
        answer = _text(cells["answer"])
        if item_id is None:
            filled = [name for name in ("answer", "note", "evidence") if _text(cells[name]) is not None]
            if filled:
                self.structural += 1
                self.add("an answer, note or evidence in a row without an item id; rows must not be added",
                         filled[0], row, code="row_added")
            return
        if not self.identify(row, item_id):
            return
        code = None
        if answer is not None:
            code = self.codes.get(answer.casefold())
            if code is None:
                self.add(f'"{_short(answer)}" is not one of {self.labels}', "answer", row, code="not_an_answer",
                         value=_short(answer), options=self.labels)
                return
        texts = {name: self.text(cells[name], name, row) for name in ("note", "evidence")}
        if code is not None:
            self.answers[item_id] = {"code": code, **texts}
        elif texts["note"] is not None or texts["evidence"] is not None:
            self.add(f"a note or evidence but no answer; choose one of {self.labels} or clear them", "answer", row,
                     code="no_answer", options=self.labels)

    def identify(self, row: int, item_id: str) -> bool:
        """True when the row is the first one of an item of the template."""
        if item_id in self.seen:
            self.structural += 1
            self.add(f"duplicated row: item {item_id} is already at row {self.seen[item_id]}; rows must not be "
                     "copied or added", "id", row, code="row_copied", item=item_id, first=self.seen[item_id])
            return False
        if item_id not in self.expected:
            q = self.q
            if item_id in self.applicable:
                what, code = f"item {item_id} is not part of this template", "item_not_in_template"
            elif item_id in q.item_by_id:
                what, code = f"item {item_id} is not a requirement for {self.profile} manufacturing", "item_of_profile"
            else:
                what, code = f'unknown item id "{_short(item_id)}" (not in {q.id} {q.version})', "unknown_item"
            self.structural += 1
            self.add(f"{what}; the ID column must not be changed", "id", row, code=code, item=_short(item_id),
                     profile=self.profile, questionnaire=q.id, version=q.version)
            return False
        self.seen[item_id] = row
        self.order.append((row, item_id))
        return True

    def text(self, value: Any, column: str, row: int) -> str | None:
        text = _text(value)
        if text is None:
            return None
        try:
            return _LONG_TEXT.validate_python(text) or None
        except ValidationError as exc:
            code, params = form_problem(exc.errors()[0], column)
            self.add(exc.errors()[0]["msg"].removeprefix("Value error, "), column, row, code=code, **params)
            return None


def _check_row_map(order: list[tuple[int, str]], seen: dict[str, int], expected: dict[str, int], sheet: str,
                   problems: _Problems, *, shifts: bool) -> None:
    """Deleted rows, moved rows, and (when nothing else is wrong) rows added or removed between requirements."""
    a = LETTER["id"]
    before = len(problems.messages)
    for item_id, row in sorted(expected.items(), key=lambda entry: entry[1]):
        if item_id not in seen:
            problems.add(f"the row of item {item_id} (row {row} in the template) is missing: rows must not be "
                         "deleted and the ID column must not be changed", sheet, f"{a}{row}", code="row_missing",
                         item=item_id, row=row)
    in_order = set(_longest_increasing([expected[item_id] for _, item_id in order]))
    for row, item_id in order:
        if expected[item_id] not in in_order:
            problems.add(f"item {item_id} was moved: the template had it at row {expected[item_id]}; rows must not "
                         "be moved or sorted", sheet, f"{a}{row}", code="row_moved", item=item_id,
                         row=expected[item_id])
    if shifts and len(problems.messages) == before:
        for row, item_id in order:
            if row != expected[item_id]:
                problems.add(f"item {item_id} is at row {row}, the template had it at row {expected[item_id]}: "
                             "rows were added or deleted above it", sheet, f"{a}{row}", code="row_shifted",
                             item=item_id, row=expected[item_id])
                break


def _longest_increasing(values: list[int]) -> list[int]:
    """One longest strictly increasing subsequence of ``values`` (patience sorting)."""
    tails: list[int] = []
    tail_index: list[int] = []
    previous = [-1] * len(values)
    for i, value in enumerate(values):
        k = bisect_left(tails, value)
        if k == len(tails):
            tails.append(value)
            tail_index.append(i)
        else:
            tails[k] = value
            tail_index[k] = i
        previous[i] = tail_index[k - 1] if k else -1
    out = []
    i = tail_index[-1] if tail_index else -1
    while i >= 0:
        out.append(values[i])
        i = previous[i]
    return out[::-1]


# ---------------------------------------------------------------------------------------------------------
# Uploads: workbooks and .zip files of them


def read_uploads(files: Iterable[tuple[str, bytes]], *, cancelled: Callable[[], bool] | None = None,
                 ) -> list[tuple[str, FilledTemplate | AssessmentError]]:
    """Every workbook of ``files`` (name, content) with what it holds or why it cannot be imported; the members
    of a .zip are named ``file.zip/member``. ImportCancelled once ``cancelled()`` says yes."""
    outcomes: list[tuple[str, FilledTemplate | AssessmentError]] = []
    for name, data in files:
        try:
            if name.lower().endswith(".zip"):
                outcomes += [(f"{name}/{member}", outcome) for member, outcome in
                             read_zip(data, name, cancelled=cancelled)]
            else:
                outcomes.append((name, read_template(data, name, cancelled=cancelled)))
        except ImportCancelled:
            raise
        except AssessmentError as error:
            outcomes.append((name, error))
    return outcomes


def read_zip(data: bytes, filename: str, *, cancelled: Callable[[], bool] | None = None,
             ) -> list[tuple[str, FilledTemplate | TemplateError]]:
    """One outcome per member of a .zip: the checked template, or the TemplateError (SkippedMemberError for a member
    that is not a workbook). A zip that is itself too large, damaged or a bomb raises TemplateError; ImportCancelled
    once ``cancelled()`` says yes (asked as the rows of each member are read)."""
    problems = _Problems(filename)
    archive = _check_archive(data, problems, kind="zip")
    if archive is None or problems.messages:
        if archive is not None:
            archive.close()
        raise problems.error()
    outcomes: list[tuple[str, FilledTemplate | TemplateError]] = []
    with archive:
        for member in archive.infolist():
            if member.is_dir():
                continue
            name = member.filename
            where = f"{filename}/{name}"
            base = name.rsplit("/", 1)[-1]
            if not name.lower().endswith(".xlsx") or name.startswith("__MACOSX/") or base.startswith(("._", "~$")):
                outcomes.append((name, SkippedMemberError(f"{where}: skipped: not an .xlsx workbook",
                                                          code="template.skipped", file=where)))
                continue
            if member.file_size > MAX_UPLOAD_BYTES:
                outcomes.append((name, TemplateError(
                    f"{where}: the file is {member.file_size:,} bytes; uploads are limited to "
                    f"{_mib(MAX_UPLOAD_BYTES)}", code="template.too_large", file=where, sheet="", cell="",
                    size=f"{member.file_size:,}", limit=_mib(MAX_UPLOAD_BYTES))))
                continue
            try:
                content = archive.read(member)
            except (zipfile.BadZipFile, RuntimeError, ValueError, OSError, EOFError) as exc:
                outcomes.append((name, TemplateError(f"{where}: cannot be extracted ({exc})",
                                                     code="template.not_extracted", file=where, sheet="", cell="")))
                continue
            try:
                outcomes.append((name, read_template(content, where, cancelled=cancelled)))
            except TemplateError as exc:
                outcomes.append((name, exc))
    return outcomes

