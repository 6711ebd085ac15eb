"""季度通报: the quarter's 运营情况通报, as a page and as a .docx, from the same data."""

from dataclasses import dataclass, field
from io import BytesIO

import sqlalchemy as sa

from app.blueprints.applications.models import Recognition
from app.blueprints.applications.services import recognition_in_force
from app.blueprints.auth.models import Institution
from app.blueprints.reports import stats
from app.blueprints.reports.completeness import CityRow, completeness
from app.blueprints.reports.models import MonthlyReport
from app.documents import official_document, right_aligned, table_text
from app.extensions import db
from app.filings import workflow
from app.filings.models import Round
from app.reference.services import region_name
from app.spreadsheets import xml_text
from app.utils import local_today

QUARTER_NAMES = {1: "一", 2: "二", 3: "三", 4: "四"}
ORGANISER = "湖南省中小企业服务中心"


@dataclass
class Bulletin:
    year: int
    quarter: int
    filters: stats.Filters
    rounds: list
    cities: list  # CityRow summed over the quarter's periods
    overall: CityRow
    dashboard: stats.Dashboard
    previous_quarter: stats.Totals
    same_quarter_last_year: stats.Totals
    shortfall: list = field(default_factory=list)  # (institution name, 市州, months missing)

    @property
    def title(self):
        return f"{self.year}年第{QUARTER_NAMES[self.quarter]}季度全省中小微企业核心服务机构运营情况通报"

    @property
    def months_label(self):
        return f"{self.filters.month_from}-{self.filters.month_to}月"

    def paragraphs(self):
        """The bulletin's text: [(heading or None, [paragraphs])]; tables are added by the views."""
        t = self.dashboard.totals
        o = self.overall
        intro = (
            f"为全面掌握全省中小微企业核心服务机构运营情况，省中小企业服务中心对{self.year}年{self.months_label}"
            "核心服务机构月度调度数据进行了汇总分析。现将有关情况通报如下："
        )
        if o.expected:
            reporting = (
                f"本季度共开展 {len(self.rounds)} 期调度，应报送 {o.expected:,} 家次，实际报送 {o.received:,} 家次，"
                f"报送率 {o.received_rate}%；其中按时报送 {o.on_time:,} 家次，按时报送率 {o.on_time_rate}%，"
                f"逾期报送 {o.late:,} 家次，未报送 {o.missing:,} 家次。"
            )
        else:
            reporting = "本季度尚未开展调度，或没有在认定有效期内的核心服务机构。"
        operations = (
            f"经审核，本季度全省核心服务机构共开展服务活动 {t.activities:,} 场次，参与企业 {t.participants:,} 家，"
            f"“一对一”精准服务企业 {t.served:,} 家次；实现营业收入 {t.revenue:,.2f} 万元，服务支出 {t.expense:,.2f} 万元，"
            f"利润总额 {t.profit:,.2f} 万元。"
        )
        for label, base in (("与上季度相比", self.previous_quarter), ("与上年同期相比", self.same_quarter_last_year)):
            parts = []
            for measure, name in (("activities", "服务活动数"), ("served", "服务企业数"), ("revenue", "营业收入")):
                pct = stats.change(getattr(t, measure), getattr(base, measure))
                if pct is not None:
                    parts.append(f"{name}{'增长' if pct >= 0 else '下降'} {abs(pct)}%")
            if parts:
                operations += f"{label}，{'，'.join(parts)}。"
        categories = self.dashboard.categories
        if categories:
            top = sorted(categories, key=lambda r: r.activities, reverse=True)[:3]
            category_text = (
                "从服务类别看，" + "、".join(f"{r.label}（{r.activities:,} 场次）" for r in top) + "开展活动最多。"
            )
        else:
            category_text = "本季度暂无经审核的服务活动数据。"
        leaders = self.dashboard.top_served[:5]
        leader_text = (
            "服务企业数居前的机构有：" + "、".join(f"{r.label}（{r.served:,} 家次）" for r in leaders) + "。"
            if leaders
            else ""
        )
        problems = []
        if o.late or o.missing:
            problems.append(f"部分机构未按时报送调度数据，本季度逾期报送 {o.late:,} 家次，未报送 {o.missing:,} 家次。")
        low = [c for c in self.cities if c.expected and c.received_rate is not None and c.received_rate < 100]
        if low:
            low.sort(key=lambda c: c.received_rate)
            problems.append(
                "报送率较低的市州有：" + "、".join(f"{c.name}（{c.received_rate}%）" for c in low[:5]) + "。"
            )
        if not problems:
            problems.append("本季度各机构均按时报送了调度数据。")
        next_steps = (
            "各市州工业和信息化主管部门要加强对辖区内核心服务机构的指导和督促，确保每月 10 日前完成上月数据填报和审核；"
            "各核心服务机构要如实、按时报送调度数据，聚焦中小企业需求，持续提升“一对一”精准服务的质量和成效。"
        )
        return [
            (None, [intro]),
            ("一、数据报送情况", [reporting]),
            ("二、运营总体情况", [operations]),
            ("三、服务类别情况", [category_text]),
            ("四、表现突出的机构", [leader_text or "本季度暂无经审核的服务数据。"]),
            ("五、存在的问题", problems),
            ("六、下一步工作", [next_steps]),
        ]


def quarter_months(quarter):
    return 3 * quarter - 2, 3 * quarter


def current_quarter(today=None):
    """The last complete quarter (the one a bulletin is written about)."""
    today = today or local_today()
    quarter = (today.month - 1) // 3
    return (today.year - 1, 4) if quarter == 0 else (today.year, quarter)


def _shortfall(rounds, year, limit=30):
    """Institutions recognised in ``year`` that did not report every period of ``rounds``."""
    if not rounds:
        return []
    ids = [r.id for r in rounds]
    received = (
        sa.select(MonthlyReport.institution_id.label("institution_id"), sa.func.count(MonthlyReport.id).label("n"))
        .select_from(MonthlyReport)
        .where(MonthlyReport.round_id.in_(ids), MonthlyReport.status != workflow.DRAFT)
        .group_by(MonthlyReport.institution_id)
        .subquery()
    )
    count = sa.func.coalesce(received.c.n, 0)
    recognised = sa.exists().where(Recognition.institution_id == Institution.id, recognition_in_force(year))
    rows = db.session.execute(
        sa.select(Institution.name, Institution.city_code, count)
        .outerjoin(received, received.c.institution_id == Institution.id)
        .where(recognised, count < len(ids))
        .order_by(count, Institution.city_code, Institution.name)
        .limit(limit)
    ).all()
    return [(name, region_name(city), len(ids) - int(n)) for name, city, n in rows]


def bulletin(*, year, quarter, user):
    first, last = quarter_months(quarter)
    f = stats.Filters(year, first, last)
    rounds = db.session.scalars(
        sa.select(Round)
        .where(Round.kind == "report", Round.year == year, Round.month.between(first, last))
        .order_by(Round.month)
    ).all()
    summed = {}
    for round in rounds:
        rows, _ = completeness(round=round, user=user)
        for row in rows:
            total = summed.setdefault(row.code, CityRow(row.code, row.name))
            total.expected += row.expected
            total.received += row.received
            total.late += row.late
    cities = list(summed.values())
    overall = CityRow(
        None, "合计", sum(c.expected for c in cities), sum(c.received for c in cities), sum(c.late for c in cities)
    )
    prev_year, prev_quarter = (year - 1, 4) if quarter == 1 else (year, quarter - 1)
    p_first, p_last = quarter_months(prev_quarter)
    return Bulletin(
        year,
        quarter,
        f,
        rounds,
        cities,
        overall,
        stats.dashboard(f),
        stats.totals(stats.Filters(prev_year, p_first, p_last), False),
        stats.totals(stats.Filters(year - 1, first, last), False),
        _shortfall(rounds, year),
    )


def _table(document, headers, rows):
    table = document.add_table(rows=1, cols=len(headers))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, headers):
        cell.text = text
    for row in rows:
        cells = table.add_row().cells
        for cell, value in zip(cells, row):
            cell.text = xml_text(value)  # institution names as typed; python-docx refuses control characters
    table_text(table)


def bulletin_docx(b):
    document = official_document()
    document.add_heading(b.title, level=1)
    for title, paragraphs in b.paragraphs():
        if title:
            document.add_heading(title, level=2)
        for text in paragraphs:
            document.add_paragraph(xml_text(text))
        if title == "一、数据报送情况" and b.cities:
            _table(
                document,
                ("市州", "应报(家次)", "已报(家次)", "按时(家次)", "报送率(%)"),
                [
                    (c.name, c.expected, c.received, c.on_time, "—" if c.received_rate is None else c.received_rate)
                    for c in b.cities
                ],
            )
        if title == "二、运营总体情况" and b.dashboard.cities:
            _table(
                document,
                ("市州", "报送机构数(家)", "服务活动数(场次)", "参与企业数(家)", "服务企业数(家次)"),
                [(c.label, c.institutions, c.activities, c.participants, c.served) for c in b.dashboard.cities],
            )
        if title == "三、服务类别情况" and b.dashboard.categories:
            _table(
                document,
                ("服务类别", "服务活动数(场次)", "参与企业数(家)", "服务企业数(家次)"),
                [(c.label, c.activities, c.participants, c.served) for c in b.dashboard.categories],
            )
        if title == "四、表现突出的机构" and b.dashboard.top_served:
            _table(
                document,
                ("序号", "机构名称", "所在市州", "服务企业数(家次)", "服务活动数(场次)"),
                [
                    (i, r.label, r.extra.get("city", ""), r.served, r.activities)
                    for i, r in enumerate(b.dashboard.top_served, start=1)
                ],
            )
        if title == "五、存在的问题" and b.shortfall:
            document.add_paragraph("未按期报送的机构（部分）：")
            _table(document, ("机构名称", "所在市州", "缺报月数"), b.shortfall)
    for line in (ORGANISER, f"{local_today():%Y年%m月%d日}"):
        right_aligned(document, line)
    buffer = BytesIO()
    document.save(buffer)
    return buffer.getvalue()
