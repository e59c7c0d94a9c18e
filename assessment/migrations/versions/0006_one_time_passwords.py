"""a password reset by an administrator is one-time: users.must_change_password

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 10:00:00

An administrator may reset a user's password to a one-time password; the user must change it at the next sign-in
(until then the services refuse everything else). Existing users keep their passwords (false).
"""

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("must_change_password", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("must_change_password")
