"""The diagnostic report workbook (诊断报告): one enterprise, one assessment; Chinese by default, English on request.

Sheets: cover, summary (levels, scores, radar and bar charts, national and peer comparison, smart-factory
gradient), detail (every requirement), gaps and plan (improvement plan, subdomain gaps, recommended projects),
digital baseline, sign-off. Print-ready on A4. ``ReportInput`` holds everything shown, so a report can be made
from the database (``from_view``) or from an answer file alone (``from_answer_set``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from io import BytesIO
from pathlib import Path
from typing import Any

import yaml
from openpyxl import Workbook
from openpyxl.chart import BarChart, RadarChart, Reference
from openpyxl.chart.text import RichText, Text
from openpyxl.chart.title import Title
from openpyxl.drawing.text import CharacterProperties, Paragraph, ParagraphProperties, RegularTextRun
from openpyxl.drawing.text import Font as DrawingFont
from openpyxl.formatting.rule import ColorScaleRule
from openpyxl.worksheet.worksheet import Worksheet

from assessment import reference
from assessment.analytics import NATIONAL, PeerStats
from assessment.plan import Plan, improvement_plan
from assessment.questionnaire import Questionnaire
from assessment.rounds import RoundComparison
from assessment.scoring import Result, score
from reports.cells import BOLD, FONT_NAME, TITLE, WRAP, header, put, put_row, wrapped_height

_WORDS = yaml.safe_load((Path(__file__).parent / "labels.yaml").read_text(encoding="utf-8"))
LABELS, STATUS_NAMES = _WORDS["labels"], _WORDS["statuses"]
PRIORITY_NAMES, PROJECT_STATUS_NAMES = _WORDS["priorities"], _WORDS["project_statuses"]
BASELINE_INDICATORS = ("nc_rate", "networking_rate", "data_collection_rate")


@dataclass
class ReportInput:
    """Everything a report shows; user values are plain data, written through reports.cells."""

    questionnaire: Questionnaire
    profile: str
    answers: dict[str, dict[str, Any]]  # item id → {"code", "note", "evidence"}
    enterprise: dict[str, Any] = field(default_factory=dict)  # name, credit_code, district, industry, size_class…
    provider: str | None = None
    diagnosticians: list[str] = field(default_factory=list)
    dates: dict[str, datetime | None] = field(default_factory=dict)  # created, submitted, confirmed, decided
    status: str | None = None
    facts: dict[str, Any] = field(default_factory=dict)  # the enterprise profile (digital baseline)
    projects: list[dict[str, Any]] = field(default_factory=list)
    confirmation: dict[str, Any] | None = None  # rating, comment, confirmed_at
    reviews: list[dict[str, Any]] = field(default_factory=list)  # decision, comment, decided_at
    peers: dict[str, Any] | None = None  # count, levels [6 counts], medians {indicator: value}; None below 5 peers
    follow_up: RoundComparison | None = None  # a follow-up round against the round before it


def from_view(view, questionnaire: Questionnaire, peers: PeerStats | None = None,
              follow_up: RoundComparison | None = None) -> ReportInput:
    """A report input from a services.AssessmentView, with the peer figures of analytics.peer_stats and, for a
    follow-up round, its comparison with the round before (Services.previous_round)."""
    a = view.assessment

    def plain(obj, *names):
        return {name: getattr(obj, name) for name in names} if obj is not None else {}

    return ReportInput(
        questionnaire=questionnaire, profile=a.profile,
        answers={item: {"code": row.code, "note": row.note, "evidence": row.evidence}
                 for item, row in view.answers.items()},
        enterprise=plain(view.enterprise, "name", "credit_code", "district", "industry", "size_class",
                         "production_type", "contact_name", "contact_phone"),
        provider=view.provider.name if view.provider else None,
        diagnosticians=list(getattr(view, "diagnosticians", [])),
        dates={"created": a.created_at, "submitted": a.submitted_at, "confirmed": a.confirmed_at,
               "decided": a.decided_at},
        status=a.status,
        facts=plain(view.profile, "employees", "revenue_band", "main_products", "nc_rate", "networking_rate",
                    "data_collection_rate", "systems", "other_systems", "industrial_platform", "cybersecurity"),
        projects=[plain(p, "title", "subdomain", "target_level", "investment", "expected_benefit", "priority",
                        "status", "start_date") for p in view.projects],
        confirmation=plain(view.confirmation, "rating", "comment", "confirmed_at") or None,
        reviews=[plain(r, "decision", "comment", "decided_at") for r in view.reviews],
        peers={"count": peers.count, "levels": list(peers.levels), "medians": dict(peers.medians)} if peers else None,
        follow_up=follow_up,
    )


def from_answer_set(answer_set, questionnaire: Questionnaire) -> ReportInput:
    """A report input from an answer file (assessment.answers.AnswerSet): answers and the enterprise it names."""
    return ReportInput(questionnaire=questionnaire, profile=answer_set.profile,
                       answers={item: {"code": code} for item, code in answer_set.answers.items()},
                       enterprise=dict(answer_set.enterprise or {}))


def build(data: ReportInput, lang: str = "zh") -> Workbook:
    q = data.questionnaire
    codes = {item: answer["code"] for item, answer in data.answers.items()}
    result = score(q, codes, data.profile, allow_incomplete=True)
    plan = improvement_plan(q, codes, data.profile, result)
    report = _Report(data, result, plan, lang)
    return report.workbook


def write(data: ReportInput, path: str | Path | None = None, lang: str = "zh") -> bytes | None:
    """Save the report to ``path``, or return its bytes when no path is given."""
    workbook = build(data, lang)
    if path is not None:
        workbook.save(path)
        return None
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


class _Report:
    def __init__(self, data: ReportInput, result: Result, plan: Plan, lang: str):
        self.data, self.result, self.plan, self.lang = data, result, plan, lang
        self.q = data.questionnaire
        self.workbook = Workbook()
        self.workbook.remove(self.workbook.active)
        for build_sheet in (self.cover, self.summary, self.detail, self.gaps, self.baseline, self.signoff):
            build_sheet()

    # -- helpers -----------------------------------------------------------------------------------------

    def t(self, key: str) -> str:
        return LABELS[key][self.lang]

    def named(self, table: dict[str, dict[str, str]], code: str | None) -> str:
        if code is None:
            return ""
        return table[code][self.lang] if code in table else code

    def sheet(self, key: str, widths: dict[str, float], header_rows: str | None = None) -> Worksheet:
        ws = self.workbook.create_sheet(self.t(key))
        for column, width in widths.items():
            ws.column_dimensions[column].width = width
        ws.page_setup.paperSize = ws.PAPERSIZE_A4
        ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.print_options.horizontalCentered = True
        if header_rows:
            ws.print_title_rows = header_rows
        name = str(self.data.enterprise.get("name") or "")
        ws.oddHeader.left.text = name.replace("&", "&&")[:100]
        ws.oddHeader.left.font = FONT_NAME
        ws.oddHeader.right.text = self.t("title")
        ws.oddHeader.right.font = FONT_NAME
        ws.oddFooter.center.text = self.t("page")
        ws.oddFooter.center.font = FONT_NAME
        return ws

    def level_label(self, level: int) -> str:
        return f"{level} {self.q.level_name(level)(self.lang)}"

    def chart_text(self, size: int = 900) -> CharacterProperties:
        font = DrawingFont(typeface=FONT_NAME)
        return CharacterProperties(latin=font, ea=font, sz=size)

    def style_chart(self, chart, title: str) -> None:
        properties = self.chart_text()
        rich = RichText(p=[Paragraph(pPr=ParagraphProperties(defRPr=properties), endParaRPr=properties)])
        heading = self.chart_text(1200)
        chart.title = Title(tx=Text(rich=RichText(p=[Paragraph(pPr=ParagraphProperties(defRPr=heading),
                                                                r=[RegularTextRun(rPr=heading, t=title)])])),
                            overlay=False)
        for axis in (chart.x_axis, chart.y_axis):
            axis.txPr = rich
            axis.delete = False
        if chart.legend is not None:
            chart.legend.txPr = rich

    # -- sheets ------------------------------------------------------------------------------------------

    def cover(self) -> None:
        ws = self.sheet("cover", {"A": 26, "B": 60})
        e, d = self.data.enterprise, self.data
        put(ws, 1, 1, self.t("title"), font=TITLE)
        ws.merge_cells("A1:B1")
        district = _lookup(reference.district, e.get("district"), self.lang)
        industry = _lookup(reference.industry, e.get("industry"), self.lang)
        size = next((c.label(self.lang) for c in reference.SIZE_CLASSES if c.code == e.get("size_class")), "")
        kind = next((c.label(self.lang) for c in reference.PRODUCTION_TYPES if c.code == self.data.profile), "")
        decision = d.reviews[-1]["decision"] if d.reviews else None
        rows = [
            ("enterprise", e.get("name")), ("credit_code", e.get("credit_code")), ("district", district),
            ("industry", industry), ("size", size), ("production_type", kind), ("provider", d.provider),
            ("diagnosticians", "、".join(d.diagnosticians) if self.lang == "zh" else ", ".join(d.diagnosticians)),
            ("created", _date(d.dates.get("created"))), ("submitted", _date(d.dates.get("submitted"))),
            ("confirmed", _date(d.dates.get("confirmed"))), ("decided", _date(d.dates.get("decided"))),
            ("questionnaire", f"{self.q.id} {self.q.version}"), ("status", self.named(STATUS_NAMES, d.status)),
            ("approval", self.named(STATUS_NAMES, "approved" if decision == "approved" else
                                    "returned" if decision == "returned" else None)),
            ("level", self.level_label(self.result.level)), ("total", round(self.result.score, 3)),
        ]
        for offset, (key, value) in enumerate(rows, start=3):
            put(ws, offset, 1, self.t(key), font=BOLD)
            put(ws, offset, 2, value, alignment=WRAP)

    def summary(self) -> None:
        ws = self.sheet("summary", {"A": 22, "B": 14, "C": 14, "D": 14, "E": 14, "F": 14, "G": 16})
        r = self.result
        heading = f"{self.t('level')}: {self.level_label(r.level)}    {self.t('total')} = {r.score:.2f}"
        put(ws, 1, 1, heading + (" " + self.t("provisional") if r.provisional else ""), font=TITLE)
        if not r.weights_official:
            put(ws, 2, 1, self.t("weights_provisional"))
        header(ws, 3, [self.t("level_score"), "X", self.t("met")])
        for n, (x, met) in enumerate(zip(r.level_scores, r.met, strict=True), start=1):
            put_row(ws, 3 + n, [self.level_label(n), round(x, 4), self.t("yes") if met else self.t("no")])
        bars = BarChart()
        bars.add_data(Reference(ws, min_col=2, min_row=3, max_row=8), titles_from_data=True)
        bars.set_categories(Reference(ws, min_col=1, min_row=4, max_row=8))
        bars.y_axis.scaling.min, bars.y_axis.scaling.max = 0, 1
        bars.legend = None
        self.style_chart(bars, self.t("level_score"))
        bars.width, bars.height = 14, 7
        ws.add_chart(bars, "I3")

        row = 10
        for key, scores, nodes in (("element", r.element_scores, self.q.elements),
                                   ("domain", r.domain_scores, self.q.domains)):
            header(ws, row, [self.t(key), *[f"L{n}" for n in range(1, 6)]])
            for node in nodes:
                row += 1
                put_row(ws, row, [node.name(self.lang), *[_round(scores.get(node.code, {}).get(n))
                                                          for n in range(1, 6)]])
            row += 2

        radar_top = row
        header(ws, row, [self.t("subdomain"), self.t("maturity")])
        for sd in self.q.subdomains:
            row += 1
            put_row(ws, row, [sd.name(self.lang), round(r.subdomains[sd.code].maturity, 2)])
        radar = RadarChart(radarStyle="marker")
        radar.add_data(Reference(ws, min_col=2, min_row=radar_top, max_row=row), titles_from_data=True)
        radar.set_categories(Reference(ws, min_col=1, min_row=radar_top + 1, max_row=row))
        radar.y_axis.scaling.min, radar.y_axis.scaling.max = 0, 5
        radar.legend = None
        self.style_chart(radar, self.t("maturity"))
        radar.width, radar.height = 16, 12
        ws.add_chart(radar, f"I{radar_top}")
        row += 2

        row = self.comparison(ws, row)
        if self.data.follow_up is not None:
            row = self.rounds(ws, row, self.data.follow_up)
        header(ws, row, [self.t("tier"), self.t("min_level"), self.t("verdict")])
        put(ws, row - 1, 1, self.t("gradient"), font=BOLD)
        for tier, eligible in reference.gradient_verdict(r.level):
            row += 1
            put_row(ws, row, [tier.label(self.lang), tier.min_level,
                              self.t("eligible") if eligible else self.t("not_eligible")])

    def comparison(self, ws: Worksheet, row: int) -> int:
        """This enterprise's level against the national figures and, with 5 or more peers, against them."""
        indicative = "" if self.result.weights_official else " " + self.t("indicative")
        put(ws, row, 1, self.t("national") + indicative, font=BOLD)
        bands = ("≤ 1", "2", "3", "≥ 4")
        band = 0 if self.result.level <= 1 else min(self.result.level - 1, 3)
        header(ws, row + 1, [self.t("band"), *map(str, NATIONAL), self.t("reached")])
        for k, label in enumerate(bands):
            put_row(ws, row + 2 + k, [label, *[NATIONAL[year][k] for year in NATIONAL], "◀" if k == band else ""])
            for column in (2, 3):
                ws.cell(row=row + 2 + k, column=column).number_format = "0%"
        row += 7
        put(ws, row, 1, self.t("peers"), font=BOLD)
        peers = self.data.peers
        if not peers or peers.get("count", 0) < 5:
            put(ws, row + 1, 1, self.t("peers_none"))
            return row + 4
        header(ws, row + 1, [self.t("level"), self.t("share")])
        total = sum(peers["levels"]) or 1
        for level, count in enumerate(peers["levels"]):
            put_row(ws, row + 2 + level, [self.level_label(level), count / total])
            ws.cell(row=row + 2 + level, column=2).number_format = "0%"
        return row + 10

    def rounds(self, ws: Worksheet, row: int, compared: RoundComparison) -> int:
        """This round against the previous one: level, S and each subdomain's maturity, and, when the two used
        different questionnaire versions, a note saying so (their requirements are not compared one by one)."""
        put(ws, row, 1, f"{self.t('rounds')} (#{compared.previous_id})", font=BOLD)
        if not compared.same_version:
            row += 1
            put(ws, row, 1, self.t("rounds_versions").format(before=f"{self.q.id} {compared.previous_version}",
                                                            after=f"{self.q.id} {compared.version}"))
        header(ws, row + 1, ["", self.t("previous_round"), self.t("this_round"), self.t("change")])
        put_row(ws, row + 2, [self.t("level"), compared.level_before, compared.level_after,
                              compared.level_after - compared.level_before])
        put_row(ws, row + 3, [self.t("total"), round(compared.score_before, 2), round(compared.score_after, 2),
                              round(compared.score_after - compared.score_before, 2)])
        row += 3
        for change in compared.maturities:
            row += 1
            name = self.q.node_names[change.subdomain](self.lang) if change.subdomain in self.q.node_names \
                else change.subdomain
            put_row(ws, row, [name, _round(change.before, 2), _round(change.after, 2), _round(change.change, 2)])
        return row + 3

    def detail(self) -> None:
        items = self.q.items_for(self.data.profile)
        # A questionnaire with rubrics (2.0.0 on) gets a column of them, and the sheet turns landscape so that the
        # requirement stays readable beside it in print; one without (1.0.0) keeps its columns as they were.
        rubrics = any(item.rubric is not None for item in items)
        widths = {"A": 10, "B": 14, "C": 6, "D": 60, "E": 12, "F": 8, "G": 36, "H": 36} | ({"I": 60} if rubrics else {})
        ws = self.sheet("detail", widths, header_rows="1:1")
        if rubrics:
            ws.page_setup.orientation = ws.ORIENTATION_LANDSCAPE
        header(ws, 1, [self.t("item"), self.t("subdomain"), "L", self.t("requirement"), self.t("answer"),
                       self.t("score"), self.t("note"), self.t("evidence"), *([self.t("rubric")] if rubrics else [])])
        row = 1
        for item in items:
            row += 1
            answer = self.data.answers.get(item.id, {})
            option = self.q.scale_by_code.get(answer.get("code"))
            rubric = ["\n".join(self.q.rubric_lines(item, self.lang)) or None] if rubrics else []
            put_row(ws, row, [item.id, self.q.node_names[item.subdomain](self.lang), item.level,
                              item.text(self.lang), option.label(self.lang) if option else self.t("unanswered"),
                              option.value if option else None, answer.get("note"), answer.get("evidence"), *rubric],
                    alignment=WRAP)
            # The longest wrapped text sets the row's height: else LibreOffice prints one line of each cell.
            ws.row_dimensions[row].height = max(wrapped_height(str(text or ""), widths[column]) for column, text in
                                                zip("DGHI", [item.text(self.lang), answer.get("note"),
                                                             answer.get("evidence"), *rubric], strict=False))
        ws.freeze_panes = "A2"
        ws.auto_filter.ref = f"A1:{'I' if rubrics else 'H'}{row}"
        ws.conditional_formatting.add(f"F2:F{row}", ColorScaleRule(
            start_type="num", start_value=0, start_color="F8696B", mid_type="num", mid_value=0.5,
            mid_color="FFEB84", end_type="num", end_value=1, end_color="63BE7B"))

    def gaps(self) -> None:
        ws = self.sheet("plan", {"A": 12, "B": 16, "C": 8, "D": 56, "E": 14, "F": 12, "G": 14, "H": 30},
                        header_rows="1:1")
        p = self.plan
        target = p.target_level
        put(ws, 1, 1, f"{self.t('next_level')}: {self.level_label(target) if target else '—'}", font=BOLD)
        row = 3
        put(ws, row, 1, self.t("candidates"), font=BOLD)
        header(ws, row + 1, [self.t("item"), self.t("subdomain"), "L", self.t("requirement"), self.t("answer"),
                             self.t("gain"), self.t("greedy")])
        row += 1
        chosen = set(p.item_ids)
        for raise_ in p.candidates:
            row += 1
            item = self.q.item_by_id[raise_.item]
            option = self.q.scale_by_code.get(raise_.answer)
            put_row(ws, row, [item.id, self.q.node_names[item.subdomain](self.lang), item.level,
                              item.text(self.lang), option.label(self.lang) if option else self.t("unanswered"),
                              round(raise_.gain, 4), "✓" if raise_.item in chosen else ""], alignment=WRAP)
        row += 2
        put(ws, row, 1, self.t("gaps"), font=BOLD)
        header(ws, row + 1, [self.t("subdomain"), self.t("maturity"), self.t("target"), self.t("gap"),
                             self.t("levels_not_met")], first_column=2)
        row += 1
        for gap in p.gaps:
            row += 1
            put_row(ws, row, [self.q.node_names[gap.subdomain](self.lang), round(gap.maturity, 2), gap.target,
                              round(gap.gap, 2), ", ".join(map(str, gap.levels_not_met))], first_column=2)
        row += 2
        put(ws, row, 1, self.t("projects"), font=BOLD)
        header(ws, row + 1, [self.t("project"), self.t("subdomain"), self.t("target"), self.t("benefit"),
                             self.t("investment"), self.t("priority"), self.t("status")])
        row += 1
        first = row + 1
        for project in self.data.projects:
            row += 1
            code = project.get("subdomain")
            put_row(ws, row, [project.get("title"), self.q.node_names[code](self.lang) if code in
                              self.q.node_names else code, project.get("target_level"),
                              project.get("expected_benefit"), project.get("investment"),
                              self.named(PRIORITY_NAMES, project.get("priority")),
                              self.named(PROJECT_STATUS_NAMES, project.get("status"))], alignment=WRAP)
        total = sum(float(p.get("investment") or 0) for p in self.data.projects)
        put(ws, row + 1, 4, self.t("total_investment"), font=BOLD)
        put(ws, row + 1, 5, round(total, 2), font=BOLD)
        if row >= first:
            for cell in ws[f"E{first}:E{row + 1}"]:
                cell[0].number_format = "#,##0.00"

    def baseline(self) -> None:
        ws = self.sheet("baseline", {"A": 30, "B": 18, "C": 18})
        facts, peers = self.data.facts, self.data.peers or {}
        medians = peers.get("medians", {}) if peers.get("count", 0) >= 5 else {}
        header(ws, 1, [self.t("indicator"), self.t("value"), self.t("peer_median")])
        row = 1
        for key in BASELINE_INDICATORS:
            row += 1
            put_row(ws, row, [self.t(key), facts.get(key), _round(medians.get(key), 1)])
        for key in ("employees", "revenue_band", "main_products", "platform", "security"):
            row += 1
            value = facts.get({"platform": "industrial_platform", "security": "cybersecurity"}.get(key, key))
            put_row(ws, row, [self.t(key), value], alignment=WRAP)
        row += 2
        header(ws, row, [self.t("system"), self.t("in_use"), self.t("cloud")])
        for system, use in sorted((facts.get("systems") or {}).items()):
            row += 1
            put_row(ws, row, [system, "✓" if use.get("in_use") else "", "✓" if use.get("cloud") else ""])
        if facts.get("other_systems"):
            put_row(ws, row + 1, [self.t("system"), facts["other_systems"]], alignment=WRAP)

    def signoff(self) -> None:
        ws = self.sheet("signoff", {"A": 30, "B": 50})
        d = self.data
        put(ws, 1, 1, self.t("sign_provider"), font=BOLD)
        put_row(ws, 2, [self.t("provider"), d.provider])
        put_row(ws, 3, [self.t("date"), _date(d.dates.get("submitted"))])
        put(ws, 6, 1, self.t("sign_enterprise"), font=BOLD)
        confirmation = d.confirmation or {}
        put_row(ws, 7, [self.t("rating"), confirmation.get("rating")])
        put_row(ws, 8, [self.t("comment"), confirmation.get("comment")], alignment=WRAP)
        put_row(ws, 9, [self.t("date"), _date(confirmation.get("confirmed_at"))])
        put(ws, 12, 1, self.t("bureau"), font=BOLD)
        row = 12
        for review in d.reviews:
            row += 1
            put_row(ws, row, [f"{_date(review.get('decided_at'))} "
                              f"{self.named(STATUS_NAMES, review.get('decision'))}", review.get("comment")],
                    alignment=WRAP)


def _lookup(find, code: str | None, lang: str) -> str:
    if not code:
        return ""
    try:
        return find(code).label(lang)
    except KeyError:
        return str(code)


def _date(value) -> str:
    return value.strftime("%Y-%m-%d") if value else ""


def _round(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)
