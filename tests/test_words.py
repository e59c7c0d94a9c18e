"""Every word a user meets is in their language: refusals have codes and words, Streamlit's own words are replaced,
and every character the interface shows has a glyph in the fonts a Chinese desktop has (no emoji as markers)."""

from __future__ import annotations

import ast
import io
import re
import subprocess
import unicodedata
import zipfile
from pathlib import Path

import openpyxl
import pytest
import yaml

from assessment import PROJECT_ROOT
from assessment.errors import AssessmentError
from assessment.inputs import InputError
from assessment.services import NotFoundError, Services
from reports.template import TemplateError, build_template, read_template, read_zip
from tests.conftest import missing
from tests.test_browser_words import english
from ui.i18n import words
from ui.session import said

UI = PROJECT_ROOT / "ui"
ERROR_MODULES = [PROJECT_ROOT / "assessment" / name for name in (
    "services.py", "accounts.py", "sessions.py", "workflow.py", "permissions.py", "analytics.py", "db.py",
    "inputs.py", "setup_token.py")] + [
    PROJECT_ROOT / "reports" / "template.py"]


# -- refusals: a code and words for each ---------------------------------------------------------------------


def _error_classes() -> set[str]:
    return {"AssessmentError", "InputError", "NotFoundError", "ConflictError", "WorkflowError", "NotAllowedError",
            "AuthenticationError", "PasswordPolicyError", "TemplateError", "SkippedMemberError",
            "StoreUnavailableError", "StoreFileChangedError", "SetupTokenError"}


def test_every_refusal_the_interface_can_meet_has_a_code():
    """A refusal raised by the services, the checks or the template import carries a code (or one per problem),
    so the interface can say it in the user's language."""
    uncoded = []
    for path in ERROR_MODULES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _error_classes():
                given = {keyword.arg for keyword in node.keywords}
                if not given & {"code", "problems", None} and not (node.func.id == "PasswordPolicyError"
                                                                    and len(node.args) == 2):
                    uncoded.append(f"{path.name}:{node.lineno}: {ast.unparse(node)[:80]}")
    assert uncoded == []


def _strings(node: ast.AST) -> set[str]:
    """The strings an expression may give: of a dict, its values (``{"district": "not_district"}.get(…)``)."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Dict):
        return set().union(*(_strings(value) for value in node.func.value.values), _strings(node.args[-1]))
    return {n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)}


def _codes_in(path: Path) -> set[str]:
    """The codes a module gives its refusals: the strings of ``code=`` keywords, of the code argument of the
    helpers that take it second (``_CellError``, analytics' ``problem``) and of assignments to ``code``; the
    template's own codes are ``template.*``."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call):
            for keyword in node.keywords:
                if keyword.arg == "code":
                    found |= _strings(keyword.value)
            if getattr(node.func, "id", None) in ("_CellError", "problem") and len(node.args) >= 2:
                found |= _strings(node.args[1])
        elif isinstance(node, ast.Dict):  # keywords of the template's _Problems.add, as a dict
            found |= set().union(*(_strings(value) for key, value in zip(node.keys, node.values, strict=True)
                                   if isinstance(key, ast.Constant) and key.value == "code"))
        elif path.name == "template.py" and isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Tuple) \
                and isinstance(node.value, ast.Tuple):
            for target, value in zip(node.targets[0].elts, node.value.elts, strict=False):
                if isinstance(target, ast.Name) and target.id == "code":
                    found |= _strings(value)
        elif isinstance(node, ast.Tuple) and len(node.elts) == 2 and isinstance(node.elts[0], ast.Constant) \
                and isinstance(node.elts[0].value, str) and isinstance(node.elts[1], ast.Dict):
            found |= {node.elts[0].value} if "." in node.elts[0].value else set()  # a (code, params) problem
    if path.name == "template.py":
        found = {code if "." in code else f"template.{code}" for code in found}
    return found


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_code_has_words_in_both_languages(lang):
    codes = set().union(*(_codes_in(path) for path in ERROR_MODULES))
    assert {"template.row_copied", "template.not_a_percentage", "not_found", "filter_dates"} <= codes
    known = set(words(lang))
    assert sorted(code for code in codes if not code.startswith("form.") and f"errors.{code}" not in known) == []


def _workbook(cmmm, change) -> bytes:
    """A template for the first requirement rows, changed by ``change(workbook)``."""
    wb = openpyxl.load_workbook(io.BytesIO(build_template(cmmm, lang="zh")))
    change(wb)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _chinese(error: AssessmentError) -> str:
    text = said(error, "zh")
    assert text != "\n\n".join(error.messages)
    assert english(text.splitlines()) == [], text
    return text


def test_a_refused_template_is_said_in_chinese_with_its_place(cmmm):
    def damage(wb):
        ws = wb["企业信息"]
        for row in ws.iter_rows(min_col=1, max_col=2):
            if row[0].value == "设备联网率（%）":
                row[1].value = 150
            if row[0].value == "联系电话":
                row[1].value = "call me"
        sheet = wb["评估明细"]
        for row in sheet.iter_rows(min_row=2):
            if row[0].value and "." in str(row[0].value):
                row[6].value = "差不多"
                break

    with pytest.raises(TemplateError) as refused:
        read_template(_workbook(cmmm, damage), "现场.xlsx")
    text = _chinese(refused.value)
    assert "现场.xlsx，工作表“企业信息”单元格 B" in text
    assert "150 不是 0 到 100 之间的百分数。" in text
    assert "联系电话：格式不正确。" in text
    assert "“差不多”不是可选的评估结果" in text


@pytest.mark.parametrize("data", [b"just some notes", b"", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1 old"])
def test_a_file_that_is_no_workbook_is_said_in_chinese(data):
    with pytest.raises(TemplateError) as refused:
        read_template(data, "notes.xlsx")
    assert _chinese(refused.value).startswith("notes.xlsx：")


def test_a_zip_member_that_is_no_workbook_is_said_in_chinese():
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("readme.txt", "hello")
    [(name, error)] = read_zip(archive.getvalue(), "upload.zip")
    assert name == "readme.txt"
    assert _chinese(error) == "upload.zip/readme.txt：已跳过：不是 .xlsx 工作簿。"


def test_something_that_is_not_there_is_said_in_chinese(store):
    services = Services(store)
    admin = services.set_up("苏州市工业和信息化局", "admin", "管理员", "correct horse 42")
    with pytest.raises(NotFoundError) as refused:
        services.get_organisation(admin, 999)
    assert said(refused.value, "zh") == "未找到机构 #999，可能已被删除。"
    assert said(refused.value, "en") == "There is no organisation #999; it may have been deleted."


def test_a_refused_enterprise_profile_is_said_in_chinese_under_each_field():
    """The interview's profile form shows each problem under its field: still in the user's language (it was
    `networking_rate: Input should be less than or equal to 100`)."""
    from assessment.inputs import ProfileInput, checked
    from ui.session import by_field

    with pytest.raises(InputError) as refused:
        checked(ProfileInput, {"networking_rate": 150, "employees": -1})
    fields = by_field(refused.value, ("networking_rate", "employees"))
    assert said(fields["networking_rate"], "zh") == "设备联网率：不能大于 100。"
    assert said(fields["employees"], "zh") == "从业人员数：不能小于 0。"


def test_dates_of_a_filter_the_wrong_way_round_are_said_in_chinese():
    from datetime import date

    from assessment.analytics import Filters

    with pytest.raises(InputError) as refused:
        Filters(since=date(2026, 5, 1), until=date(2026, 4, 1))
    assert said(refused.value, "zh") == "起始日期 2026-05-01 晚于截止日期 2026-04-01，请调整筛选条件。"


# -- Streamlit's own words -----------------------------------------------------------------------------------


def _calls(name: str):
    for path in sorted(UI.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == name:
                yield f"{path.relative_to(PROJECT_ROOT)}:{node.lineno}", {k.arg for k in node.keywords}


def test_every_choice_box_says_its_placeholder_and_tables_and_charts_go_through_builtin():
    """Streamlit's placeholders ("Choose an option"), a table's "None" and "empty", a chart's tool tips are
    English unless the page passes its own words: every page does, through ui/builtin.py."""
    assert [where for name in ("selectbox", "multiselect") for where, given in _calls(name)
            if "placeholder" not in given] == []
    assert [where for name in ("dataframe", "plotly_chart", "data_editor", "table")
            for where, _ in _calls(name) if not where.startswith("ui/builtin.py")
            and name in ("dataframe", "plotly_chart", "data_editor")] == []


def test_the_style_sheet_replaces_streamlits_words_in_chinese_only():
    from ui import builtin

    sheet = builtin.style_sheet("zh")
    for selector in ("stFileUploaderDropzone", "stSkipToContent", "stDateInputField", "__select_all__"):
        assert selector in sheet
    assert builtin.style_sheet("en") == ""
    for key in ("upload", "year", "select_all", "skip", "nothing_yet", "choose", "choose_many"):
        assert re.search(r"[\u4e00-\u9fff]", words("zh")[f"builtin.{key}"]), key


# -- characters: each has a glyph in fonts-noto-cjk ----------------------------------------------------------

NOTO = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")


def _covered() -> set[int]:
    if not NOTO.exists():
        missing("fonts-noto-cjk", f"{NOTO} not found")
    ranges = subprocess.run(["fc-query", "--index=0", "--format=%{charset}", str(NOTO)], capture_output=True,
                            text=True, check=True).stdout.split()
    covered: set[int] = set()
    for part in ranges:
        first, _, last = part.partition("-")
        covered.update(range(int(first, 16), int(last or first, 16) + 1))
    return covered


def _shown_texts() -> list[tuple[str, str]]:
    """Every string of the interface's code and locale files, and of the workbooks' code and labels."""
    texts = []
    for path in [*UI.rglob("*.py"), PROJECT_ROOT / "app.py", *(PROJECT_ROOT / "reports").glob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                texts.append((f"{path.relative_to(PROJECT_ROOT)}:{node.lineno}", node.value))
    for path in [*UI.rglob("*.yaml"), *(PROJECT_ROOT / "reports").glob("*.yaml")]:
        texts.append((str(path.relative_to(PROJECT_ROOT)), yaml.safe_dump(yaml.safe_load(path.read_text("utf-8")),
                                                                          allow_unicode=True)))
    return texts


def test_every_character_the_interface_shows_has_a_glyph_in_noto_cjk():
    """Emoji (🔴, 📊) need an emoji font that many desktops lack: they show as empty boxes. Marks like ● ▲ ✓ ★
    are in Noto Sans CJK (fonts-noto-cjk), as is every Chinese character. Invisible format characters (the word
    joiner that keeps user text from being read as a link) draw nothing, so need no glyph."""
    covered = _covered() | {ord(c) for c in "\n\t\r"}
    absent = sorted({f"{where}: U+{ord(c):04X} {c}" for where, text in _shown_texts() for c in text
                     if ord(c) not in covered and unicodedata.category(c) != "Cf"})
    assert absent == []
