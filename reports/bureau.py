"""The bureau workbook (工信局汇总表): what the diagnoses add up to, for the selection a bureau user may read.

Sheets: overview (diagnoses by status; the level distribution against the national figures, with a bar chart),
district × level (with a chart), industry × level, domain averages by district and by industry, the enterprise
list (one row per enterprise) and provider performance with tiers.

The workbook is written in openpyxl's write-only mode — every sheet streams to disk — so the enterprise list of
100,000 rows stays fast and memory-flat; the aggregates come from ``assessment.analytics`` (computed in the
database). Every cell goes through ``reports.cells.streamed`` (user text stays text, the CJK font everywhere).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.chart.text import RichText
from openpyxl.chart.text import Text as ChartText
from openpyxl.chart.title import Title
from openpyxl.drawing.text import CharacterProperties, Paragraph, ParagraphProperties, RegularTextRun
from openpyxl.drawing.text import Font as DrawingFont
from openpyxl.styles import Alignment
from openpyxl.utils import get_column_letter
from openpyxl.utils.indexed_list import IndexedList
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from sqlalchemy.orm import Session

from assessment import analytics, reference
from assessment.accounts import Actor
from assessment.analytics import LEVELS, NATIONAL, NO_FILTERS, Filters
from assessment.db import Store
from assessment.questionnaire import by_id
from assessment.workflow import DIAGNOSIS, STATUSES
from reports.cells import BOLD, BORDER, FONT_NAME, HEADER_FILL, HEADER_FONT, TITLE, streamed

LANGS = ("zh", "en")
PERCENT = "0.0%"
DECIMAL = "0.00"
CENTERED = Alignment(wrap_text=True, vertical="center", horizontal="center")

LABELS: dict[str, dict[str, str]] = {
    "zh": {
        "workbook": "智能制造诊断汇总", "generated": "生成时间", "selection": "筛选条件", "everything": "全部",
        "reader_scope": "数据范围", "unknown": "（未填写）", "total": "合计",
        "sheet_overview": "概览", "sheet_district": "区县×等级", "sheet_industry": "行业×等级",
        "sheet_domain_district": "区县能力域均值", "sheet_domain_industry": "行业能力域均值",
        "sheet_enterprises": "企业清单", "sheet_providers": "服务商绩效",
        "statuses": "诊断状态", "status": "状态", "count": "数量", "levels": "成熟度等级分布（每家企业取最新诊断）",
        "level": "等级", "enterprises": "企业数", "share": "占比", "national": "与全国自诊断结果对比",
        "group": "等级组", "here": "本地区", "national_year": "全国{year}年", "national_source":
            "来源：中国电子技术标准化研究院全国智能制造能力成熟度自诊断结果（占企业比例）",
        "indicative": "（仅供参考）",
        "weights_provisional": "所列诊断有按暂定权重计算的（官方权重表尚未发布）；",
        "weights_indicative": "与全国分布的比较仅供参考。",
        "chart_national": "成熟度等级分布与全国对比", "chart_district": "各区县成熟度等级分布",
        "district": "区县", "industry_code": "行业代码", "industry": "行业", "mean_score": "平均总分S",
        "domain_note": "各能力域下子域成熟度（0–5）的平均值，每家企业取最新诊断",
        "name": "企业名称", "credit_code": "统一社会信用代码", "score": "总分S", "provider": "服务商",
        "created": "创建日期", "submitted": "提交日期", "approved": "通过日期", "projects": "已启动/完成项目数",
        "assigned": "分派诊断数", "submitted_n": "已提交", "on_time": "按期提交率", "decided": "已审核",
        "approval": "通过率", "return": "退回率", "rating": "企业平均评分", "approved_enterprises": "通过企业数",
        "project_rate": "启动项目企业占比", "composite": "综合得分", "tier": "档次",
        "tier_top": "优秀档", "tier_middle": "中间档", "tier_bottom": "末档", "tier_none": "不分档",
        "tier_note": "综合得分 = 按期提交率、通过率、1−退回率、(平均评分−1)/4、启动项目企业占比 的平均值（缺项不计）；"
                     "仅已审核诊断不少于{n}份的服务商参与分档：前{top}为优秀档、其后{middle}为中间档、其余为末档。",
    },
    "en": {
        "workbook": "Smart-manufacturing diagnoses: summary", "generated": "Generated", "selection": "Selection",
        "everything": "everything", "reader_scope": "Readable scope", "unknown": "(not given)", "total": "Total",
        "sheet_overview": "Overview", "sheet_district": "District x level", "sheet_industry": "Industry x level",
        "sheet_domain_district": "Domains by district", "sheet_domain_industry": "Domains by industry",
        "sheet_enterprises": "Enterprises", "sheet_providers": "Providers",
        "statuses": "Diagnoses by status", "status": "Status", "count": "Count",
        "levels": "Maturity levels (each enterprise's latest diagnosis)", "level": "Level",
        "enterprises": "Enterprises", "share": "Share", "national": "Compared with the national self-diagnosis results",
        "group": "Level group", "here": "This selection", "national_year": "National {year}",
        "national_source": "Source: CESI national smart-manufacturing maturity self-diagnosis (share of enterprises)",
        "indicative": " (indicative)",
        "weights_provisional": "Diagnoses here were scored with provisional weights (no official tables yet);",
        "weights_indicative": "the comparison with the national distribution is indicative only.",
        "chart_national": "Maturity levels against the national figures",
        "chart_district": "Maturity levels by district",
        "district": "District", "industry_code": "Industry code", "industry": "Industry", "mean_score": "Mean S",
        "domain_note": "Mean subdomain maturity (0–5) of each domain; each enterprise's latest diagnosis",
        "name": "Enterprise", "credit_code": "Unified social credit code", "score": "S", "provider": "Provider",
        "created": "Created", "submitted": "Submitted", "approved": "Approved", "projects": "Projects started",
        "assigned": "Assigned", "submitted_n": "Submitted", "on_time": "On time", "decided": "Decided",
        "approval": "Approval rate", "return": "Return rate", "rating": "Mean rating",
        "approved_enterprises": "Approved enterprises", "project_rate": "Started a project",
        "composite": "Composite", "tier": "Tier",
        "tier_top": "Top", "tier_middle": "Middle", "tier_bottom": "Bottom", "tier_none": "Not tiered",
        "tier_note": "Composite = mean of on-time rate, approval rate, 1 − return rate, (mean rating − 1) / 4 and the "
                     "share of approved enterprises that started a project (missing parts left out). Only providers "
                     "with at least {n} decided diagnoses are tiered: the first {top} are Top, the next {middle} "
                     "Middle, the rest Bottom.",
    },
}
STATUS_LABELS = {
    "zh": {"requested": "已申请", "assigned": "已分派", "in_progress": "诊断中", "submitted": "已提交",
           "confirmed": "企业已确认", "approved": "已通过", "returned": "已退回", "cancelled": "已撤销"},
    "en": {"requested": "Requested", "assigned": "Assigned", "in_progress": "In progress", "submitted": "Submitted",
           "confirmed": "Confirmed", "approved": "Approved", "returned": "Returned", "cancelled": "Cancelled"},
}
SIZE_LABELS = {c.code: c for c in reference.SIZE_CLASSES}


def write_bureau_workbook(store: Store | Session, actor: Actor, filters: Filters | None, path: str | Path,
                          lang: str = "zh") -> Path:
    """Write the bureau workbook of what ``actor`` may read, narrowed by ``filters``, to ``path``."""
    if lang not in LANGS:
        raise ValueError(f"lang: one of {', '.join(LANGS)}, not {lang!r}")
    filters = filters or NO_FILTERS
    path = Path(path)
    text = Labels(lang)
    wb = _workbook()
    with analytics.reading(store) as db:
        distribution = analytics.level_distribution(db, actor, filters)
        by_district = analytics.levels_by_district(db, actor, filters)
        _overview(wb, text, actor, filters, analytics.status_counts(db, actor, filters), distribution)
        _level_sheet(wb, text, text["sheet_district"], by_district, "district", chart=True)
        _level_sheet(wb, text, text["sheet_industry"], analytics.levels_by_industry(db, actor, filters), "industry")
        domains = analytics.domain_tables(db, actor, filters)
        for name, by in (("sheet_domain_district", "district"), ("sheet_domain_industry", "industry")):
            _domain_sheet(wb, text, text[name], domains[by])
        _enterprise_sheet(wb, text, analytics.enterprise_rows(db, actor, filters))
        _provider_sheet(wb, text, analytics.provider_performance(db, actor, filters))
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


class _IdentityIndex(IndexedList):
    """A workbook's list of fonts (fills, borders, alignments) that finds an object it already holds by identity
    first. openpyxl otherwise hashes the style object field by field for every cell it is set on — a sixth of
    the time of a 100,000-row enterprise list. The objects are openpyxl's immutable style values."""

    def __init__(self, iterable=None):
        super().__init__(iterable)
        self._held: dict[int, tuple[Any, int]] = {}

    def add(self, value):
        held = self._held.get(id(value))
        if held is not None and held[0] is value:
            return held[1]
        index = super().add(value)
        self._held[id(value)] = (value, index)  # keeping the object keeps its id unique
        return index


def _workbook() -> Workbook:
    wb = Workbook(write_only=True)
    for name in ("_fonts", "_fills", "_borders", "_alignments"):
        setattr(wb, name, _IdentityIndex(getattr(wb, name)))
    return wb


@dataclass(frozen=True)
class Labels:
    lang: str

    def __getitem__(self, key: str) -> str:
        return LABELS[self.lang][key]

    def status(self, code: str) -> str:
        return STATUS_LABELS[self.lang].get(code, code)

    def level(self, level: int) -> str:
        return f"{level} {by_id(analytics.DEFAULT_QUESTIONNAIRE).level_name(level)(self.lang)}"

    def district(self, code: str | None) -> str:
        if code is None:
            return self["unknown"]
        try:
            return reference.district(code).label(self.lang)
        except KeyError:
            return code

    def industry(self, code: str | None) -> str:
        if code is None:
            return self["unknown"]
        try:
            return reference.industry(code).label(self.lang)
        except KeyError:
            return code

    def key(self, by: str, code: str | None) -> str:
        return self.district(code) if by == "district" else self.industry(code)


class Sheet:
    """A write-only sheet that knows which row it is on (charts refer to rows by number)."""

    def __init__(self, wb: Workbook, title: str, widths: Sequence[float] = ()):
        self.ws: WriteOnlyWorksheet = wb.create_sheet(title[:31])
        for column, width in enumerate(widths, start=1):  # must precede the first row
            self.ws.column_dimensions[get_column_letter(column)].width = width
        self.row = 0

    def append(self, values: Iterable[Any], formats: Sequence[str | None] = (), **style: Any) -> int:
        """Write a row; return its number. ``formats`` gives a number format per column (None: the default)."""
        cells = []
        for column, value in enumerate(values):
            number_format = formats[column] if column < len(formats) else None
            extra = {"number_format": number_format} if number_format and value is not None else {}
            cells.append(None if value is None and not style else streamed(self.ws, value, **style, **extra))
        self.ws.append(cells)
        self.row += 1
        return self.row

    def title(self, text: str) -> int:
        return self.append([text], font=TITLE)

    def heading(self, text: str) -> int:
        return self.append([text], font=BOLD)

    def header(self, titles: Sequence[str]) -> int:
        return self.append(titles, font=HEADER_FONT, fill=HEADER_FILL, border=BORDER, alignment=CENTERED)

    def note(self, text: str) -> int:
        return self.append([text])

    def blank(self) -> int:
        return self.append([])


def _selection(text: Labels, actor: Actor, filters: Filters) -> str:
    parts = []
    if filters.district:
        parts.append(f"{text['district']}: {text.district(filters.district)}")
    if filters.industry:
        parts.append(f"{text['industry']}: {filters.industry} {text.industry(filters.industry)}")
    if filters.size_class:
        size = SIZE_LABELS.get(filters.size_class)
        parts.append(size.label(text.lang) if size else filters.size_class)
    if filters.provider_id is not None:
        parts.append(f"{text['provider']}: {filters.provider_id}")
    if filters.status:
        parts.append(f"{text['status']}: {text.status(filters.status)}")
    if filters.since or filters.until:
        parts.append(f"{filters.since or '…'} – {filters.until or '…'}")
    selection = f"{text['selection']}: {'; '.join(parts) if parts else text['everything']}"
    if actor.role == "bureau_analyst" and actor.districts is not None:
        selection += f"  ·  {text['reader_scope']}: {', '.join(text.district(d) for d in actor.districts)}"
    return selection


def _overview(wb: Workbook, text: Labels, actor: Actor, filters: Filters, statuses: dict[str, int],
              distribution: analytics.LevelCounts) -> None:
    sheet = Sheet(wb, text["sheet_overview"], (26, 14, 14, 14, 14))
    sheet.title(text["workbook"])
    sheet.note(_selection(text, actor, filters))
    sheet.note(f"{text['generated']}: {datetime.now().strftime('%Y-%m-%d %H:%M')}")
    sheet.blank()
    sheet.heading(text["statuses"])
    sheet.header([text["status"], text["count"]])
    for status in STATUSES[DIAGNOSIS]:
        sheet.append([text.status(status), statuses.get(status, 0)])
    sheet.append([text["total"], sum(statuses.values())], font=BOLD)
    sheet.blank()
    sheet.heading(text["levels"])
    sheet.header([text["level"], text["enterprises"], text["share"]])
    for level, count, share in zip(LEVELS, distribution.counts, distribution.shares, strict=True):
        sheet.append([text.level(level), count, share], (None, None, PERCENT))
    sheet.append([text["total"], distribution.total, 1.0 if distribution.total else 0.0], (None, None, PERCENT),
                 font=BOLD)
    sheet.append([text["mean_score"], distribution.mean_score], (None, DECIMAL))
    sheet.blank()
    sheet.heading(text["national"] + ("" if distribution.weights_official else text["indicative"]))
    years = sorted(NATIONAL)
    header_row = sheet.header([text["group"], text["here"], *(text["national_year"].format(year=y) for y in years)])
    for comparison in analytics.national_comparison(distribution):
        sheet.append([comparison.group.label(text.lang), comparison.share,
                      *(comparison.national[y] for y in years)], (None, *[PERCENT] * (1 + len(years))))
    sheet.note(text["national_source"])
    if not distribution.weights_official:  # two lines, as short as the source's: a longer one is cut in print
        sheet.note(text["weights_provisional"])
        sheet.note(text["weights_indicative"])
    chart = _bar_chart(text["chart_national"], percent=True)
    chart.add_data(Reference(sheet.ws, min_col=2, max_col=2 + len(years), min_row=header_row,
                             max_row=header_row + len(analytics.LEVEL_GROUPS)), titles_from_data=True)
    chart.set_categories(Reference(sheet.ws, min_col=1, min_row=header_row + 1,
                                   max_row=header_row + len(analytics.LEVEL_GROUPS)))
    sheet.ws.add_chart(chart, "G5")


def _level_sheet(wb: Workbook, text: Labels, title: str, rows: list[analytics.LevelCounts], by: str, *,
                 chart: bool = False) -> None:
    lead = [text["district"]] if by == "district" else [text["industry_code"], text["industry"]]
    sheet = Sheet(wb, title, (*([22] if by == "district" else [10, 36]), *[12] * len(LEVELS), 10, 12))
    sheet.title(title)
    header_row = sheet.header([*lead, *(text.level(level) for level in LEVELS), text["total"], text["mean_score"]])
    formats = (*[None] * (len(lead) + len(LEVELS) + 1), DECIMAL)
    for row in rows:
        keys = [text.district(row.key)] if by == "district" else [row.key, text.industry(row.key)]
        sheet.append([*keys, *row.counts, row.total, row.mean_score], formats)
    if chart and rows:
        bars = _bar_chart(text["chart_district"], percent=False)
        bars.type, bars.grouping, bars.overlap = "bar", "stacked", 100
        bars.x_axis.scaling.orientation = "maxMin"  # districts top to bottom in the order of the table
        bars.add_data(Reference(sheet.ws, min_col=len(lead) + 1, max_col=len(lead) + len(LEVELS), min_row=header_row,
                                max_row=header_row + len(rows)), titles_from_data=True)
        bars.set_categories(Reference(sheet.ws, min_col=1, min_row=header_row + 1, max_row=header_row + len(rows)))
        bars.height = max(7.5, 1.0 * len(rows))
        sheet.ws.add_chart(bars, f"{get_column_letter(len(lead) + len(LEVELS) + 4)}2")


def _domain_sheet(wb: Workbook, text: Labels, title: str, table: analytics.DomainMeans) -> None:
    q = by_id(analytics.DEFAULT_QUESTIONNAIRE)
    lead = [text["district"]] if table.by == "district" else [text["industry_code"], text["industry"]]
    sheet = Sheet(wb, title, (*([22] if table.by == "district" else [10, 36]), 10, *[11] * len(table.domains)))
    sheet.title(title)
    sheet.note(text["domain_note"])
    sheet.header([*lead, text["enterprises"], *(q.node_names[d](text.lang) for d in table.domains)])
    formats = (*[None] * (len(lead) + 1), *[DECIMAL] * len(table.domains))
    for row in table.rows:
        keys = [text.district(row.key)] if table.by == "district" else [row.key, text.industry(row.key)]
        sheet.append([*keys, row.enterprises, *(row.means[d] for d in table.domains)], formats)


ENTERPRISE_WIDTHS = (36, 22, 18, 30, 12, 14, 8, 30, 12, 12, 12, 10)


def _enterprise_sheet(wb: Workbook, text: Labels, rows: Iterable[analytics.EnterpriseRow]) -> None:
    sheet = Sheet(wb, text["sheet_enterprises"], ENTERPRISE_WIDTHS)
    sheet.ws.freeze_panes = "A2"  # must precede the first row too
    titles = [text[k] for k in ("name", "credit_code", "district", "industry", "status", "level", "score", "provider",
                                "created", "submitted", "approved", "projects")]
    sheet.header(titles)
    formats = (*[None] * 6, DECIMAL)
    districts: dict[str | None, str] = {}
    industries: dict[str | None, str] = {}
    statuses: dict[str | None, str] = {}
    for row in rows:
        if row.district not in districts:
            districts[row.district] = text.district(row.district)
        if row.industry not in industries:
            industries[row.industry] = f"{row.industry} {text.industry(row.industry)}" if row.industry else ""
        if row.status not in statuses:
            statuses[row.status] = text.status(row.status) if row.status else None
        sheet.append([row.name, row.credit_code, districts[row.district], industries[row.industry],
                      statuses[row.status], row.level, row.score, row.provider, _day(row.created_at),
                      _day(row.submitted_at), _day(row.approved_at), row.projects_started], formats)
    sheet.ws.auto_filter.ref = f"A1:{get_column_letter(len(titles))}{max(sheet.row, 2)}"


def _day(value: datetime | date | None) -> date | None:
    return value.date() if isinstance(value, datetime) else value


def _provider_sheet(wb: Workbook, text: Labels, rows: list[analytics.ProviderRow]) -> None:
    sheet = Sheet(wb, text["sheet_providers"], (32, 11, 10, 11, 10, 10, 10, 11, 11, 13, 11, 12))
    sheet.title(text["sheet_providers"])
    sheet.header([text[k] for k in ("provider", "assigned", "submitted_n", "on_time", "decided", "approval", "return",
                                    "rating", "approved_enterprises", "project_rate", "composite", "tier")])
    formats = (None, None, None, PERCENT, None, PERCENT, PERCENT, DECIMAL, None, PERCENT, DECIMAL)
    for row in rows:
        tier = text[f"tier_{row.tier}"] if row.tier else text["tier_none"]
        sheet.append([row.name, row.assigned, row.submitted, row.on_time_rate, row.decided, row.approval_rate,
                      row.return_rate, row.mean_rating, row.approved_enterprises, row.project_rate, row.composite,
                      tier], formats)
    sheet.blank()
    cuts = analytics.TierCuts()
    sheet.note(text["tier_note"].format(n=analytics.MIN_DECIDED_FOR_TIER, top=f"{cuts.top:.0%}",
                                        middle=f"{cuts.middle:.0%}"))


# -- charts ------------------------------------------------------------------------------------------------


def _characters(size: int = 900, bold: bool = False) -> CharacterProperties:
    face = DrawingFont(typeface=FONT_NAME)
    return CharacterProperties(latin=face, ea=face, cs=face, sz=size, b=bold)


def _rich(size: int = 900) -> RichText:
    return RichText(p=[Paragraph(pPr=ParagraphProperties(defRPr=_characters(size)), endParaRPr=_characters(size))])


def _title(text: str) -> Title:
    run = RegularTextRun(rPr=_characters(1200, bold=True), t=text)
    paragraph = Paragraph(pPr=ParagraphProperties(defRPr=_characters(1200, bold=True)), r=[run])
    return Title(tx=ChartText(rich=RichText(p=[paragraph])), overlay=False)


def _bar_chart(title: str, *, percent: bool) -> BarChart:
    """A column chart whose texts are in the CJK font."""
    chart = BarChart()
    chart.type, chart.grouping = "col", "clustered"
    chart.title = _title(title)
    chart.width, chart.height = 18, 9
    for axis in (chart.x_axis, chart.y_axis):
        axis.delete = False  # openpyxl 3.1 hides axes unless told
        axis.txPr = _rich()
    if percent:
        chart.y_axis.number_format = PERCENT
    chart.legend.txPr = _rich()
    return chart


__all__ = ["LABELS", "write_bureau_workbook"]
