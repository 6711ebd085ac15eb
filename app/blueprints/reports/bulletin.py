"""季度通报: the quarter's 运营情况通报, as a page and as a .docx, from the same data.

A closed quarter (every month's 调度期 closed: snapshots.py) is built from the months' snapshots
only, so it shows the same figures every time it is generated, whatever is recognised, imported or
approved later. A quarter with a month still open is labelled 未完结 with its open months named; its
报送情况 takes the closed months from their snapshots and the open ones as they stand, and its
operating figures are 调度大数据's as they stand.
"""

from dataclasses import dataclass, field
from decimal import Decimal
from io import BytesIO

import sqlalchemy as sa

from app.blueprints.auth.models import Institution
from app.blueprints.reports import snapshots, stats
from app.blueprints.reports.completeness import CityRow, completeness, missing_select, snapshot_counts
from app.blueprints.reports.models import PeriodSnapshotCategory, PeriodSnapshotRow
from app.documents import official_document, right_aligned, table_text
from app.extensions import db
from app.filings.models import Round
from app.reference.services import cities as all_cities
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
    open_months: list = field(default_factory=list)  # [(month, why it is open)]
    pending_review: int = 0  # reports still awaiting review when their periods froze (not counted)

    @property
    def complete(self):
        return not self.open_months

    @property
    def status_line(self):
        """未完结 and its open months, or what the figures of a closed quarter stand on."""
        if self.open_months:
            return "本季度尚未完结：" + "；".join(f"{self.year}年{m}月调度期{why}" for m, why in self.open_months)
        line = "本季度各月调度期均已截止，数据以各调度期截止时冻结的报送情况和审核通过的数据为准。"
        if self.pending_review:
            line += f"冻结时尚有 {self.pending_review:,} 份调度数据待审核，未计入运营数据。"
        return line

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
        if self.open_months:  # a month still open would show a fall that is only missing reports
            operations += "本季度尚未完结，暂不与上季度、上年同期比较。"
        comparisons = (
            ()
            if self.open_months
            else (
                ("与上季度相比", self.previous_quarter),
                ("与上年同期相比", self.same_quarter_last_year),
            )
        )
        for label, base in comparisons:
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


def _shortfall(rounds, frozen, user, limit=30):
    """Institutions 应报 in some period of ``rounds`` that did not report for it: (name, 市州, months
    missing), most months first. A frozen period's from its snapshot, an open one's as it stands."""
    missing = {}  # institution id -> [name, city_code, months]
    ids = [frozen[r.id].id for r in rounds if r.id in frozen]
    if ids:
        row = PeriodSnapshotRow
        select = sa.select(row.institution_id, row.name, row.city_code, row.snapshot_id).where(
            row.snapshot_id.in_(ids), row.expected.is_(True), row.received.is_(False)
        )
        if user.role == "city_admin":
            select = select.where(row.city_code == user.city_code)
        for institution_id, name, city_code, _s in db.session.execute(select.order_by(row.snapshot_id)):
            entry = missing.setdefault(institution_id, [name, city_code, 0])
            entry[0], entry[1], entry[2] = name, city_code, entry[2] + 1
    for round in rounds:
        if round.id in frozen:
            continue
        for institution_id, name, city_code in db.session.execute(
            missing_select(round, user).with_only_columns(Institution.id, Institution.name, Institution.city_code)
        ):
            entry = missing.setdefault(institution_id, [name, city_code, 0])
            entry[2] += 1
    ordered = sorted(missing.items(), key=lambda item: (-item[1][2], item[1][1] or "", item[1][0], item[0]))
    return [(name, region_name(city), n) for _i, (name, city, n) in ordered[:limit]]


def _money(value):
    return Decimal(value or 0).quantize(Decimal("0.01"))


def _frozen_totals(snapshot_list):
    """stats.Totals of frozen periods (distinct institutions over them from their rows)."""
    if not snapshot_list:
        return stats.Totals()
    institutions = db.session.scalar(
        sa.select(sa.func.count(sa.distinct(PeriodSnapshotRow.institution_id))).where(
            PeriodSnapshotRow.snapshot_id.in_([s.id for s in snapshot_list]), PeriodSnapshotRow.counted.is_(True)
        )
    )
    return stats.Totals(
        int(institutions or 0),
        sum(s.reports for s in snapshot_list),
        sum(int(s.activities) for s in snapshot_list),
        sum(int(s.participants) for s in snapshot_list),
        sum(int(s.served) for s in snapshot_list),
        _money(sum(Decimal(s.revenue) for s in snapshot_list)),
        _money(sum(Decimal(s.expense) for s in snapshot_list)),
        _money(sum(Decimal(s.profit) for s in snapshot_list)),
    )


def _top(ids, latest_names, measure, limit=10):
    row = PeriodSnapshotRow
    served = sa.func.sum(row.served).label("s")
    activities = sa.func.sum(row.activities).label("a")
    first, second = (served, activities) if measure == "served" else (activities, served)
    found = db.session.execute(
        sa.select(row.institution_id, activities, served)
        .where(row.snapshot_id.in_(ids), row.counted.is_(True))
        .group_by(row.institution_id)
        .order_by(first.desc(), second.desc(), row.institution_id)
        .limit(limit)
    ).all()
    return [
        stats.Row(
            i,
            latest_names[i][0],
            activities=int(a or 0),
            served=int(s or 0),
            extra={"city": region_name(latest_names[i][1])},
        )
        for i, a, s in found
    ]


def frozen_dashboard(f, snapshot_list):
    """The bulletin's 调度大数据 (totals, 市州, 服务类别, top institutions) from frozen periods only."""
    ids = [s.id for s in snapshot_list] or [0]
    row = PeriodSnapshotRow
    per_city = {
        code: rest
        for code, *rest in db.session.execute(
            sa.select(
                row.city_code,
                sa.func.count(sa.distinct(row.institution_id)),
                sa.func.coalesce(sa.func.sum(row.activities), 0),
                sa.func.coalesce(sa.func.sum(row.participants), 0),
                sa.func.coalesce(sa.func.sum(row.served), 0),
                sa.func.coalesce(sa.func.sum(row.revenue), 0),
            )
            .where(row.snapshot_id.in_(ids), row.counted.is_(True))
            .group_by(row.city_code)
        )
    }
    city_rows = []
    for city in all_cities():
        n, a, p, s, revenue = per_city.get(city.code, (0, 0, 0, 0, 0))
        city_rows.append(stats.Row(city.code, city.name, int(n), int(a), int(p), int(s), _money(revenue)))
    category = PeriodSnapshotCategory
    sums = {}
    for cid, name, order, a, p, s in db.session.execute(
        sa.select(
            category.category_id,
            category.name,
            category.sort_order,
            category.activities,
            category.participants,
            category.served,
        )
        .where(category.snapshot_id.in_(ids))
        .order_by(category.snapshot_id)
    ):
        entry = sums.setdefault(cid, [name, order, 0, 0, 0])
        entry[0], entry[1] = name, order  # the latest month's name and order
        entry[2], entry[3], entry[4] = entry[2] + int(a), entry[3] + int(p), entry[4] + int(s)
    categories = [
        stats.Row(cid, name, activities=a, participants=p, served=s)
        for cid, (name, _order, a, p, s) in sorted(sums.items(), key=lambda item: (item[1][1], item[0]))
    ]
    latest_names = {
        i: (name, city)
        for i, name, city in db.session.execute(
            sa.select(row.institution_id, row.name, row.city_code)
            .where(row.snapshot_id.in_(ids), row.counted.is_(True))
            .order_by(row.snapshot_id)
        )
    }
    by_month = {s.month: s for s in snapshot_list}
    months = [
        stats.Row(
            m,
            f"{m}月",
            by_month[m].reports if m in by_month else 0,
            int(by_month[m].activities) if m in by_month else 0,
            int(by_month[m].participants) if m in by_month else 0,
            int(by_month[m].served) if m in by_month else 0,
            _money(by_month[m].revenue if m in by_month else 0),
        )
        for m in f.months
    ]
    return stats.Dashboard(
        f,
        _frozen_totals(snapshot_list),
        months,
        city_rows,
        categories,
        _top(ids, latest_names, "served"),
        _top(ids, latest_names, "activities"),
    )


def _quarter_rounds(year, first, last):
    return db.session.scalars(
        sa.select(Round)
        .where(Round.kind == "report", Round.year == year, Round.month.between(first, last))
        .order_by(Round.month)
    ).all()


def _frozen_of(rounds):
    """{round id: its snapshot} for the rounds that have closed (freezing any not frozen yet)."""
    found = {}
    for round in rounds:
        snapshot = snapshots.snapshot_for(round)
        if snapshot is not None:
            found[round.id] = snapshot
    return found


def quarter_totals(year, quarter):
    """A quarter's totals to compare with: a frozen month from its snapshot, another as it stands."""
    first, last = quarter_months(quarter)
    rounds = _quarter_rounds(year, first, last)
    frozen = _frozen_of(rounds)
    frozen_months = {round.month for round in rounds if round.id in frozen}
    total = stats.Totals()
    parts = [_frozen_totals(list(frozen.values()))]
    parts += [stats.totals(stats.Filters(year, m, m), False) for m in range(first, last + 1) if m not in frozen_months]
    for part in parts:
        for name in ("reports", "activities", "participants", "served", "revenue", "expense", "profit"):
            setattr(total, name, getattr(total, name) + getattr(part, name))
    return total


def bulletin(*, year, quarter, user):
    first, last = quarter_months(quarter)
    f = stats.Filters(year, first, last)
    rounds = _quarter_rounds(year, first, last)
    frozen = _frozen_of(rounds)
    open_months = snapshots.open_months(year, range(first, last + 1))
    expected, received = snapshot_counts([s.id for s in frozen.values()], user) if frozen else ({}, {})
    summed = {}
    for city in all_cities():
        if user.role == "city_admin" and city.code != user.city_code:
            continue
        count, late = received.get(city.code, (0, 0))
        summed[city.code] = CityRow(city.code, city.name, int(expected.get(city.code, 0)), int(count), int(late))
    for round in rounds:
        if round.id in frozen:
            continue
        rows, _ = completeness(round=round, user=user, snapshot=None)
        for row in rows:
            total = summed.setdefault(row.code, CityRow(row.code, row.name))
            total.expected += row.expected
            total.received += row.received
            total.late += row.late
    cities = list(summed.values()) if rounds else []
    overall = CityRow(
        None, "合计", sum(c.expected for c in cities), sum(c.received for c in cities), sum(c.late for c in cities)
    )
    if open_months:
        dashboard = stats.dashboard(f)
    else:
        dashboard = frozen_dashboard(f, sorted(frozen.values(), key=lambda s: s.month))
    prev_year, prev_quarter = (year - 1, 4) if quarter == 1 else (year, quarter - 1)
    return Bulletin(
        year,
        quarter,
        f,
        rounds,
        cities,
        overall,
        dashboard,
        quarter_totals(prev_year, prev_quarter),
        quarter_totals(year - 1, quarter),
        _shortfall(rounds, frozen, user),
        open_months=open_months,
        pending_review=sum(s.pending_review for s in frozen.values()),
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
    document.add_paragraph(xml_text(("（未完结）" if b.open_months else "") + b.status_line))
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
