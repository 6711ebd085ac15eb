"""recognition: its institution's terms in one index (institution_id, term_start, term_end,
effective_on, revoked_at) in place of the one on institution_id alone; institution: (city_code,
created_at). Who is 应报 for a month (报送情况, its missing list, 催报, 季度通报) is then read from
the two indexes without visiting the tables (issue 17; at 2,000 institutions the 报送情况 counts
took 3.3 ms on SQLite, 2.2 ms with these)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 01:40:00

"""

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("recognition", schema=None) as batch_op:
        batch_op.drop_index("ix_recognition_institution_id")
        batch_op.create_index(
            "ix_recognition_institution_terms",
            ["institution_id", "term_start", "term_end", "effective_on", "revoked_at"],
            unique=False,
        )
    with op.batch_alter_table("institution", schema=None) as batch_op:
        batch_op.create_index("ix_institution_city_code_created_at", ["city_code", "created_at"], unique=False)


def downgrade():
    with op.batch_alter_table("institution", schema=None) as batch_op:
        batch_op.drop_index("ix_institution_city_code_created_at")
    with op.batch_alter_table("recognition", schema=None) as batch_op:
        batch_op.drop_index("ix_recognition_institution_terms")
        batch_op.create_index("ix_recognition_institution_id", ["institution_id"], unique=False)
