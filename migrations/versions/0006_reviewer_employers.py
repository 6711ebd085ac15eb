"""conflicts of interest on every known employer: the reviewer's 工作单位 recorded on each
assignment, earlier and admin-verified employers of experts, and the conflict flag of an assignment

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 12:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('award_expert_employer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('expert_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['expert_id'], ['expert.id'], name=op.f('fk_award_expert_employer_expert_id_expert')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user_account.id'], name=op.f('fk_award_expert_employer_recorded_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_award_expert_employer'))
    )
    with op.batch_alter_table('award_expert_employer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_award_expert_employer_expert_id'), ['expert_id'], unique=False)

    with op.batch_alter_table('award_assignment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reviewer_employer', sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column('conflict', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('conflict_at', sa.DateTime(), nullable=True))

    # Assignments made before this revision: the reviewer's 工作单位 now is the best record there is.
    # (Only when there are some: an UPDATE counts as a content write for the page cache.)
    connection = op.get_bind()
    if connection.execute(sa.text("SELECT 1 FROM award_assignment LIMIT 1")).first() is not None:
        op.execute(
            "UPDATE award_assignment SET reviewer_employer = "
            "(SELECT expert.employer FROM expert WHERE expert.user_id = award_assignment.reviewer_id)"
        )


def downgrade():
    with op.batch_alter_table('award_assignment', schema=None) as batch_op:
        batch_op.drop_column('conflict_at')
        batch_op.drop_column('conflict')
        batch_op.drop_column('reviewer_employer')

    with op.batch_alter_table('award_expert_employer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_award_expert_employer_expert_id'))

    op.drop_table('award_expert_employer')
