"""Near-duplicate keys by publication fortnight instead of week (issue 16).

A lookup then reads two fortnights (the article's own and the nearer neighbour, still at least
7 days either side) instead of three weeks: two seeks per key instead of three. A fortnight is
two weeks counted from the same Monday, 1970-01-05, so the rows move as they are.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def _move(column: str, value: str) -> None:
    op.create_table(
        "neardup_keys_new",
        sa.Column(column, sa.Integer, primary_key=True),
        sa.Column("key", sa.BigInteger, primary_key=True),
        sa.Column("article_id", sa.Integer, primary_key=True),
        sqlite_with_rowid=False,
    )
    # >> is an arithmetic shift on both databases: floor division by 2, as Python's // 2
    op.execute(f"INSERT INTO neardup_keys_new ({column}, key, article_id) "
               f"SELECT {value}, key, article_id FROM neardup_keys")
    op.drop_table("neardup_keys")
    op.rename_table("neardup_keys_new", "neardup_keys")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER INDEX neardup_keys_new_pkey RENAME TO neardup_keys_pkey")


def upgrade() -> None:
    _move("fortnight", "week >> 1")


def downgrade() -> None:
    # each fortnight's keys go to its first week: a lookup of the old code reads one week either side
    _move("week", "fortnight << 1")
