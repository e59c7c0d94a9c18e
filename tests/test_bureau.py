"""The bureau workbook and the answers export on both databases: the hand-computed figures reach the sheets,
user text stays text, the scope holds, LibreOffice opens the workbook, Parquet reads back."""

from __future__ import annotations

import csv
import zipfile
from datetime import datetime

import openpyxl
import pyarrow.parquet as pq
from sqlalchemy import func, select

from assessment.accounts import Actor
from assessment.analytics import Filters
from assessment.demo import generate
from assessment.models import Answer, Assessment, Organisation
from reports.bureau import write_bureau_workbook
from reports.cells import FONT_NAME
from reports.export import COLUMNS, write_answers_csv, write_answers_parquet
from tests import libreoffice
from tests.conftest import missing
from tests.test_analytics import Builder, build_hand, expect

ADMIN = Actor(0, "admin", "bureau_admin", None)
GUSU = Actor(0, "analyst", "bureau_analyst", None, ("gusu",))
SHEETS = {"zh": ["概览", "区县×等级", "行业×等级", "区县能力域均值", "行业能力域均值", "企业清单", "服务商绩效"],
          "en": ["Overview", "District x level", "Industry x level", "Domains by district", "Domains by industry",
                 "Enterprises", "Providers"]}
FORMULA = '=HYPERLINK("x")'


def rows_of(ws, first: int = 1) -> list[tuple]:
    return list(ws.iter_rows(min_row=first, values_only=True))


def by_label(ws) -> dict:
    """Column A → the rest of the row, first occurrence of each label."""
    found: dict = {}
    for row in rows_of(ws):
        if row and row[0] is not None and row[0] not in found:
            found[row[0]] = tuple(v for v in row[1:] if v is not None)
    return found


def table(ws, header_first: str) -> list[tuple]:
    """The rows under the header row whose first cell is ``header_first``, up to the first empty row."""
    rows = rows_of(ws)
    start = next(k for k, row in enumerate(rows) if row[0] == header_first) + 1
    out = []
    for row in rows[start:]:
        if row[0] is None:
            break
        out.append(tuple(row))
    return out


def test_the_workbook_shows_the_hand_computed_figures(store, tmp_path):
    hand = build_hand(store)
    path = write_bureau_workbook(store, ADMIN, None, tmp_path / "bureau.xlsx")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == SHEETS["zh"]
    overview = by_label(wb["概览"])
    expect([overview[label] for label in ("已申请", "已分派", "诊断中", "已提交", "企业已确认", "已通过", "已退回")],
           [(1,), (0,), (1,), (1,), (1,), (4,), (1,)])
    expect(overview["合计"], (9,))
    expect([overview[label] for label in ("0 未达到一级", "2 规范级", "4 优化级", "5 引领级")],
           [(1, 0.2), (2, 0.4), (1, 0.2), (0, 0)])
    expect(overview["平均总分S"], (2.36,))
    expect([overview[g] for g in ("一级及以下", "二级", "三级", "四级及以上")],
           [(0.2, 0.69, 0.63), (0.4, 0.15, 0.21), (0.2, 0.07, 0.12), (0.2, 0.09, 0.04)])
    expect(table(wb["区县×等级"], "区县"), [("姑苏区", 0, 0, 2, 1, 0, 0, 3, 7.3 / 3),
                                         ("昆山市", 1, 0, 0, 0, 1, 0, 2, 2.25)])
    expect([row[:3] + row[-2:] for row in table(wb["行业×等级"], "行业代码")],
           [("C34", "通用设备制造业", 1, 3, 1.6), ("C39", "计算机、通信和其他电子设备制造业", 0, 2, 3.5)])
    domains = wb["区县能力域均值"]
    header = next(row for row in rows_of(domains) if row[0] == "区县")
    gusu = dict(zip(header, table(domains, "区县")[0], strict=True))
    expect((gusu["企业数"], gusu["组织战略"], gusu["生产"], gusu["销售"]), (2, 3.0, 7 / 3, None))
    enterprises = rows_of(wb["企业清单"])
    assert len(enterprises) == 1 + 6
    listed = {row[0]: row for row in enterprises[1:]}
    expect(listed["企业1"], ("企业1", enterprises[1][1], "姑苏区", "C34 通用设备制造业", "已通过", 2, 2.1, "服务商P",
                           datetime(2025, 6, 1), datetime(2025, 7, 1), datetime(2025, 7, 10), 2))
    expect(listed["企业4"][4:8], ("已申请", None, None, None))
    providers = {row[0]: row for row in table(wb["服务商绩效"], "服务商")}
    expect(providers["服务商P"], ("服务商P", 3, 3, 2 / 3, 2, 1.0, 0.5, 4.0, 1, 1.0,
                                (2 / 3 + 1 + 0.5 + 0.75 + 1) / 5, "不分档"))
    # Every written cell is in the CJK font; the two charts are in the file.
    fonts = {cell.font.name for ws in wb for row in ws.iter_rows() for cell in row if cell.value is not None}
    assert fonts == {FONT_NAME}
    with zipfile.ZipFile(path) as z:
        assert sorted(n for n in z.namelist() if n.startswith("xl/charts/")) == ["xl/charts/chart1.xml",
                                                                                "xl/charts/chart2.xml"]
    # English labels on request.
    english = openpyxl.load_workbook(write_bureau_workbook(store, ADMIN, Filters(), tmp_path / "en.xlsx", lang="en"))
    assert english.sheetnames == SHEETS["en"]
    assert by_label(english["Overview"])["Approved"] == (4,)
    assert hand.p


def test_an_analyst_scoped_to_one_district_sees_only_it(store, tmp_path):
    build_hand(store)
    wb = openpyxl.load_workbook(write_bureau_workbook(store, GUSU, None, tmp_path / "gusu.xlsx"))
    assert [row[0] for row in rows_of(wb["企业清单"], 2)] == ["企业1", "企业2", "企业6"]
    assert [row[0] for row in table(wb["区县×等级"], "区县")] == ["姑苏区"]
    assert [row[0] for row in table(wb["区县能力域均值"], "区县")] == ["姑苏区"]
    assert "数据范围: 姑苏区" in rows_of(wb["概览"])[1][0]
    count = write_answers_parquet(store, GUSU, None, tmp_path / "gusu.parquet")
    answers = pq.read_table(tmp_path / "gusu.parquet")
    assert count == answers.num_rows == 5  # E1A 1, E1B 3, E2B 1
    assert set(answers.column("district").to_pylist()) == {"gusu"}


def test_user_text_stays_text_in_the_workbook_and_the_csv(store, tmp_path):
    with store.write() as db:
        b = Builder(db)
        provider = b.provider("@服务商")
        enterprise = b.enterprise(1, "gusu", "C34", name=FORMULA)
        b.diagnosis(enterprise, provider, "approved", datetime(2025, 1, 1), level=2, score=2.0, reviews=("approved",),
                    answers={"OS.1.1": "full", "OS.1.2": "na"})
    path = write_bureau_workbook(store, ADMIN, None, tmp_path / "bureau.xlsx")
    cell = openpyxl.load_workbook(path)["企业清单"]["A2"]
    assert (cell.value, cell.data_type) == (FORMULA, "s")
    with zipfile.ZipFile(path) as z:
        assert all(b"<f>" not in z.read(name) for name in z.namelist() if name.startswith("xl/worksheets/"))
    assert write_answers_csv(store, ADMIN, None, tmp_path / "answers.csv") == 2
    raw = (tmp_path / "answers.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM: Excel reads the Chinese right
    with (tmp_path / "answers.csv").open(encoding="utf-8-sig", newline="") as f:
        header, *records = list(csv.reader(f))
    assert tuple(header) == COLUMNS
    first = dict(zip(header, records[0], strict=True))
    expect((first["enterprise"], first["provider"], first["item_id"], first["subdomain"], first["level"],
            first["code"], first["value"]), ("'" + FORMULA, "'@服务商", "OS.1.1", "OS", "1", "full", "1.0"))
    assert dict(zip(header, records[1], strict=True))["value"] == ""  # na has no value


def test_demo_workbook_opens_in_libreoffice_and_the_exports_read_back(store, tmp_path):
    generate(store, 300, progress=lambda _: None)
    path = write_bureau_workbook(store, ADMIN, None, tmp_path / "bureau.xlsx")
    wb = openpyxl.load_workbook(path, read_only=True)
    with store.read() as db:
        enterprises = db.scalar(select(func.count()).select_from(Organisation).where(Organisation.kind == "enterprise"))
        answers = db.scalar(select(func.count()).select_from(Answer).join(Assessment)
                            .where(Assessment.kind == "diagnosis"))
    assert len(rows_of(wb["企业清单"])) == 1 + enterprises == 301
    assert len(table(wb["区县×等级"], "区县")) == 10
    wb.close()
    assert write_answers_parquet(store, ADMIN, None, tmp_path / "answers.parquet", batch=10_000) == answers
    read = pq.read_table(tmp_path / "answers.parquet")
    assert read.num_rows == answers
    assert read.column_names == list(COLUMNS)
    assert set(read.column("code").to_pylist()) <= {"full", "mostly", "partly", "none", "na"}
    if libreoffice.soffice() is None:
        missing("LibreOffice", "soffice not found (Debian package libreoffice-calc)")
    assert libreoffice.convert(path).stat().st_size > 0


def test_the_bureau_benchmark_runs_and_reports_time_and_memory(tmp_path):
    from bench.bureau import FIGURES, measure
    from bench.demo_db import demo_database

    url = demo_database(20, cache=tmp_path, say=lambda line: None)
    rows = measure(url, out=str(tmp_path / "bench.xlsx"))
    assert [row["id"] for row in rows[:2]] == ["bureau.workbook", "bureau.memory"]
    assert [row["figure"] for row in rows[:2]] == [FIGURES["bureau.workbook"], FIGURES["bureau.memory"]]
    assert rows[0]["size"] == "20 enterprises"
    assert all(row["ok"] is None for row in rows)  # bars are judged only at full size
    assert len(rows_of(openpyxl.load_workbook(tmp_path / "bench.xlsx")["企业清单"])) == 21
