"""PostgreSQL-only pg_trgm indexes for 搜索 (LIKE '%词%'); nothing on SQLite.

See docs/search.md. The indexes are not declared on the models; migrations/env.py keeps
autogenerate from proposing to drop them.

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

INDEXED = (("notice", "title"), ("notice", "body"), ("institution", "name"), ("institution", "intro"))


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    available = bind.execute(sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")).scalar()
    if not available:
        return
    try:  # CREATE EXTENSION needs a privilege the app's role may lack: then search scans instead
        with bind.begin_nested():
            bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    except sa.exc.DBAPIError:
        return
    if bind.execute(sa.text("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")).scalar():
        for table, column in INDEXED:
            op.execute(f"CREATE INDEX IF NOT EXISTS ix_{table}_{column}_trgm ON {table} USING gin ({column} gin_trgm_ops)")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column in INDEXED:
        op.execute(f"DROP INDEX IF EXISTS ix_{table}_{column}_trgm")
