"""review_event.submitted_values: what a filing said when it was submitted, so a reviewer sees what
changed since the last submission (old -> new)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 15:15:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("review_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("submitted_values", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("review_event", schema=None) as batch_op:
        batch_op.drop_column("submitted_values")
