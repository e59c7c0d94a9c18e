"""user names are stored in one form: compatibility forms folded (NFKC) and case folded

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 23:30:00

A user name is now stored, compared and looked up folded (accounts.username_key), so that ADMIN or full-width
ａｄｍｉｎ cannot be created beside admin and a sign-in finds the account whatever case is typed. Existing names are
folded here. If two existing names fold to the same one, nothing is changed and the migration stops, naming them:
an administrator renames one (in the database) and migrates again. The folding is written out here rather than
imported, so that this revision does the same whatever later versions of the code do.
"""

import unicodedata

import sqlalchemy as sa
from alembic import op

from assessment.errors import AssessmentError

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def folded(name: str) -> str:
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).strip().casefold()).strip()


def upgrade() -> None:
    connection = op.get_bind()
    users = sa.table("users", sa.column("id", sa.Integer), sa.column("username", sa.String))
    rows = connection.execute(sa.select(users.c.id, users.c.username).order_by(users.c.id)).all()
    by_name: dict[str, list[tuple[int, str]]] = {}
    for user_id, name in rows:
        by_name.setdefault(folded(name), []).append((user_id, name))
    clashes = {name: same for name, same in by_name.items() if len(same) > 1}
    if clashes:
        listed = "; ".join(" and ".join(f"{name!r} (id {user_id})" for user_id, name in same) + f" are both {key!r}"
                           for key, same in clashes.items())
        raise AssessmentError(
            f"users: user names now ignore case and look-alike forms, and these existing ones would become the same: "
            f"{listed}. Rename all but one of each in the table users and migrate again; "
            f"nothing was changed", code="usernames_collide", names=listed)
    for user_id, name in rows:
        if folded(name) != name:
            connection.execute(sa.update(users).where(users.c.id == user_id).values(username=folded(name)))


def downgrade() -> None:
    pass  # the original case of a name is not kept; folded names work as they are
