"""The near-duplicate band index no longer declares a foreign key to articles.

With SQLite's foreign keys on, every band row written checked its article: a seek in
``articles`` for each key inserted into level 0, again for each key a merge moved up, and for
each key a merge deleted from the level below. Measured on a 300k-article archive that made
writing band rows 3-4x dearer (merging 50k keys into level 1: 4.6 µs per key with the check,
1.5 µs without; deleting them from level 0: 1.0 against 0.2 µs), about 100 µs per article over
a key's life at 1M articles, more than any other single statement of a save.

The rows are derived data: ``bands.add`` writes them for articles it has just stored, and a
key whose article is gone (deleted by hand in SQL, which no longer cascades here) only ever
yields a candidate id that the SimHash check cannot find, so it is skipped.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def _create(table: str, *, foreign_key: bool) -> None:
    reference = [sa.ForeignKey("articles.id", ondelete="CASCADE")] if foreign_key else []
    op.create_table(
        table,
        sa.Column("level", sa.SmallInteger, primary_key=True),
        sa.Column("band_key", sa.BigInteger, primary_key=True),
        sa.Column("article_id", sa.Integer, *reference, primary_key=True),
        sqlite_with_rowid=False,
    )


def _rebuild(*, foreign_key: bool) -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        if foreign_key:
            op.create_foreign_key(None, "neardup_bands", "articles", ["article_id"], ["id"],
                                  ondelete="CASCADE")
        else:
            for fk in sa.inspect(bind).get_foreign_keys("neardup_bands"):
                if fk["name"]:
                    op.drop_constraint(fk["name"], "neardup_bands", type_="foreignkey")
        return
    # SQLite cannot drop a constraint: the table is copied, in primary-key order
    _create("neardup_bands_new", foreign_key=foreign_key)
    op.execute("INSERT INTO neardup_bands_new SELECT level, band_key, article_id FROM neardup_bands "
               "ORDER BY level, band_key, article_id")
    op.drop_table("neardup_bands")
    op.rename_table("neardup_bands_new", "neardup_bands")


def upgrade() -> None:
    _rebuild(foreign_key=False)


def downgrade() -> None:
    _rebuild(foreign_key=True)
