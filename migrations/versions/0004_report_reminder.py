"""report_reminder: 催报 memory, the last reminder per 调度期 and institution

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 11:32:56.338936

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('report_reminder',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.Column('first_sent_at', sa.DateTime(), nullable=False),
    sa.Column('last_sent_at', sa.DateTime(), nullable=False),
    sa.Column('sent_by_id', sa.Integer(), nullable=False),
    sa.Column('sender_level', sa.String(length=10), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('times', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['institution_id'], ['institution.id'], name=op.f('fk_report_reminder_institution_id_institution')),
    sa.ForeignKeyConstraint(['round_id'], ['round.id'], name=op.f('fk_report_reminder_round_id_round')),
    sa.ForeignKeyConstraint(['sent_by_id'], ['user_account.id'], name=op.f('fk_report_reminder_sent_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_reminder')),
    sa.UniqueConstraint('round_id', 'institution_id', name='uq_report_reminder_round_institution')
    )
    with op.batch_alter_table('report_reminder', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_reminder_institution_id'), ['institution_id'], unique=False)


def downgrade():
    with op.batch_alter_table('report_reminder', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_reminder_institution_id'))

    op.drop_table('report_reminder')
