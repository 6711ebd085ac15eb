"""cache topics replace the content version: anonymous portal pages are keyed by a random token per
topic, renewed by the commits that write the topic's tables (app/cache.py)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 14:30:00

"""
import secrets

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

TOPICS = ("notices", "directory", "awards", "big_data", "reference")


def upgrade():
    table = op.create_table(
        "cache_topic",
        sa.Column("name", sa.String(length=30), nullable=False),
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_cache_topic")),
    )
    op.bulk_insert(table, [{"name": name, "token": secrets.token_hex(16)} for name in TOPICS])
    op.drop_table("content_version")


def downgrade():
    table = op.create_table(
        "content_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_content_version")),
    )
    # a version no cached page of the earlier code was stored under
    op.bulk_insert(table, [{"id": 1, "version": secrets.randbits(48)}])
    op.drop_table("cache_topic")
