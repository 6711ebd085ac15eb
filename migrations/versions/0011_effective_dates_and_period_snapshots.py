"""recognition.effective_on (a recognition's 生效日期) and frozen 调度期 (report_period_snapshot and
its rows and 服务类别 sums), so a past month's 报送情况 never moves (issue 14, items 1 and 2)

Backfill of recognition.effective_on for the rows that exist: the day (China time) the recognition
was recorded (created_at + 8 h), since that is when the system learned of it; but if the institution
submitted a monthly report for an earlier month inside the recognition's term, the first day of the
earliest such month, so a month an institution really reported for stays 应报 (a recognition loaded
after its reports, e.g. by a direct data load). A revoked recognition keeps revoked_at as its end.

The snapshot tables start empty: each 调度期 that has already closed is frozen on its first read or
by the daily schedule (reports.freeze_periods), from the data as it then stands.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 16:43:23.515034

"""

from datetime import date, timedelta

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "report_period_snapshot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("month", sa.Integer(), nullable=False),
        sa.Column("closes_on", sa.Date(), nullable=False),
        sa.Column("last_until", sa.Date(), nullable=True),
        sa.Column("frozen_at", sa.DateTime(), nullable=False),
        sa.Column("superseded_at", sa.DateTime(), nullable=True),
        sa.Column("superseded_reason", sa.String(length=300), nullable=True),
        sa.Column("expected", sa.Integer(), nullable=False),
        sa.Column("received", sa.Integer(), nullable=False),
        sa.Column("late", sa.Integer(), nullable=False),
        sa.Column("reports", sa.Integer(), nullable=False),
        sa.Column("pending_review", sa.Integer(), nullable=False),
        sa.Column("activities", sa.BigInteger(), nullable=False),
        sa.Column("participants", sa.BigInteger(), nullable=False),
        sa.Column("served", sa.BigInteger(), nullable=False),
        sa.Column("revenue", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("expense", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("profit", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.ForeignKeyConstraint(["round_id"], ["round.id"], name=op.f("fk_report_period_snapshot_round_id_round")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_period_snapshot")),
        sa.UniqueConstraint("round_id", "seq", name="uq_report_period_snapshot_round_seq"),
    )
    with op.batch_alter_table("report_period_snapshot", schema=None) as batch_op:
        batch_op.create_index(
            "uq_report_period_snapshot_current",
            ["round_id"],
            unique=True,
            sqlite_where=sa.text("superseded_at IS NULL"),
            postgresql_where=sa.text("superseded_at IS NULL"),
        )

    op.create_table(
        "report_period_snapshot_category",
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("sort_order", sa.Integer(), nullable=False),
        sa.Column("activities", sa.BigInteger(), nullable=False),
        sa.Column("participants", sa.BigInteger(), nullable=False),
        sa.Column("served", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["snapshot_id"],
            ["report_period_snapshot.id"],
            name=op.f("fk_report_period_snapshot_category_snapshot_id_report_period_snapshot"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("snapshot_id", "category_id", name=op.f("pk_report_period_snapshot_category")),
    )
    op.create_table(
        "report_period_snapshot_row",
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("city_code", sa.String(length=12), nullable=True),
        sa.Column("institution_type_id", sa.Integer(), nullable=True),
        sa.Column("expected", sa.Boolean(), nullable=False),
        sa.Column("received", sa.Boolean(), nullable=False),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("has_draft", sa.Boolean(), nullable=False),
        sa.Column("counted", sa.Boolean(), nullable=False),
        sa.Column("activities", sa.Integer(), nullable=False),
        sa.Column("participants", sa.Integer(), nullable=False),
        sa.Column("served", sa.Integer(), nullable=False),
        sa.Column("revenue", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("expense", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("profit", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institution.id"],
            name=op.f("fk_report_period_snapshot_row_institution_id_institution"),
        ),
        sa.ForeignKeyConstraint(
            ["snapshot_id"],
            ["report_period_snapshot.id"],
            name=op.f("fk_report_period_snapshot_row_snapshot_id_report_period_snapshot"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("snapshot_id", "institution_id", name=op.f("pk_report_period_snapshot_row")),
    )
    with op.batch_alter_table("report_period_snapshot_row", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_report_period_snapshot_row_institution_id"), ["institution_id"], unique=False
        )

    with op.batch_alter_table("recognition", schema=None) as batch_op:
        batch_op.add_column(sa.Column("effective_on", sa.Date(), nullable=True))
    _backfill_effective_on()
    with op.batch_alter_table("recognition", schema=None) as batch_op:
        batch_op.alter_column("effective_on", existing_type=sa.Date(), nullable=False)


def _backfill_effective_on():
    """See the module docstring: the recording day, or the first day of an earlier month reported for."""
    connection = op.get_bind()
    recognition = sa.table(
        "recognition",
        sa.column("id", sa.Integer),
        sa.column("institution_id", sa.Integer),
        sa.column("term_start", sa.Integer),
        sa.column("term_end", sa.Integer),
        sa.column("created_at", sa.DateTime),
        sa.column("effective_on", sa.Date),
    )
    filing = sa.table(
        "filing", sa.column("id", sa.Integer), sa.column("institution_id", sa.Integer), sa.column("status", sa.String)
    )
    report = sa.table(
        "monthly_report", sa.column("id", sa.Integer), sa.column("year", sa.Integer), sa.column("month", sa.Integer)
    )
    reported = {}
    for institution_id, year, month in connection.execute(
        sa.select(filing.c.institution_id, report.c.year, report.c.month)
        .join(report, report.c.id == filing.c.id)
        .where(filing.c.status != "draft", filing.c.institution_id.is_not(None))
        .distinct()
    ):
        reported.setdefault(institution_id, []).append((year, month))
    updates = []
    for rid, institution_id, term_start, term_end, created_at in connection.execute(
        sa.select(
            recognition.c.id,
            recognition.c.institution_id,
            recognition.c.term_start,
            recognition.c.term_end,
            recognition.c.created_at,
        )
    ):
        effective = (created_at + timedelta(hours=8)).date() if created_at else date(term_start, 1, 1)
        months = sorted(m for m in reported.get(institution_id, []) if term_start <= m[0] <= term_end)
        if months and date(months[0][0], months[0][1], 1) < effective:
            effective = date(months[0][0], months[0][1], 1)
        updates.append({"rid": rid, "effective": effective})
    if updates:
        connection.execute(
            recognition.update()
            .where(recognition.c.id == sa.bindparam("rid"))
            .values(effective_on=sa.bindparam("effective")),
            updates,
        )


def downgrade():
    with op.batch_alter_table("recognition", schema=None) as batch_op:
        batch_op.drop_column("effective_on")

    with op.batch_alter_table("report_period_snapshot_row", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_report_period_snapshot_row_institution_id"))

    op.drop_table("report_period_snapshot_row")
    op.drop_table("report_period_snapshot_category")
    with op.batch_alter_table("report_period_snapshot", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_report_period_snapshot_current",
            sqlite_where=sa.text("superseded_at IS NULL"),
            postgresql_where=sa.text("superseded_at IS NULL"),
        )

    op.drop_table("report_period_snapshot")
