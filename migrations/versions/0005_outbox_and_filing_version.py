"""SMS outbox (delivery state, secrets masked) and the filing version for compare-and-set saves

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 12:00:00

"""
import re

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

# What app/blueprints/admin/display.py masked on display: codes and temporary passwords. Rows
# written before this revision held them in clear; they are masked at rest now.
CODE_RE = re.compile(r"(?<![0-9A-Za-z\-./])\d{4,6}(?![0-9A-Za-z\-./年月日])")
SECRET_RE = re.compile(r"(密码[:：]\s*)\S+")


def _mask(text):
    text = SECRET_RE.sub(lambda m: m.group(1) + "********", text)
    return CODE_RE.sub(lambda m: "*" * len(m.group(0)), text)


def upgrade():
    with op.batch_alter_table('sms_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', sa.String(length=10), server_default='sent', nullable=False))
        batch_op.add_column(sa.Column('has_secret', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('attempts', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('error', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('sent_at', sa.DateTime(), nullable=True))
        batch_op.create_index(batch_op.f('ix_sms_message_status'), ['status'], unique=False)

    with op.batch_alter_table('filing', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1', nullable=False))

    connection = op.get_bind()
    table = sa.table('sms_message', sa.column('id', sa.Integer), sa.column('text', sa.String))
    for row in connection.execute(sa.select(table.c.id, table.c.text)).all():
        masked = _mask(row.text or "")
        if masked != row.text:
            connection.execute(sa.update(table).where(table.c.id == row.id).values(text=masked))


def downgrade():
    with op.batch_alter_table('filing', schema=None) as batch_op:
        batch_op.drop_column('version')

    with op.batch_alter_table('sms_message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sms_message_status'))
        batch_op.drop_column('sent_at')
        batch_op.drop_column('error')
        batch_op.drop_column('attempts')
        batch_op.drop_column('has_secret')
        batch_op.drop_column('status')
