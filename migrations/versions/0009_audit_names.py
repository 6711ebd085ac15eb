"""操作日志: the object's readable name and the institution it concerns, as they were when the action
was recorded (filter by institution and object)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 15:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("target_name", sa.String(length=200), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("institution_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_audit_log_institution_id"), ["institution_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_log_target_type"), ["target_type"], unique=False)


def downgrade():
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_target_type"))
        batch_op.drop_index(batch_op.f("ix_audit_log_institution_id"))
        batch_op.drop_column("institution_id")
        batch_op.drop_column("target_name")
