"""the audit log refuses TRUNCATE too (PostgreSQL)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 10:00:00

PostgreSQL's TRUNCATE fires no UPDATE or DELETE trigger, so migration 0001's append-only trigger let it empty the
audit log. A statement trigger on TRUNCATE, with the same function, refuses it. SQLite has no TRUNCATE.
"""

from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
                   "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_log_no_truncate ON audit_log")
