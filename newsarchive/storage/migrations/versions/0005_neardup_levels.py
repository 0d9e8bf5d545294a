"""The near-duplicate band index becomes a leveled, log-structured merge index.

Band keys are random 64-bit values. In one B-tree keyed by them, every new article's 10 keys
land on about 10 different leaf pages once the index outgrows the cache, and each dirty page
is written to the WAL and checkpointed: at 500k articles that was ~200 µs per article, the
largest single cost of an insert (benchmarks/storage.py). The primary key now starts with a
``level``: new keys go to level 0, a small key range that stays cached, and a level that
outgrows its capacity is merged in key order into the next (``save.compact_bands``), so the
big levels are rewritten rarely and page by page. Lookups read every level: a few more index
seeks per key, all but the largest level in cache. On SQLite the table is WITHOUT ROWID
(rows live in the primary key, one B-tree instead of two), and the index on ``article_id`` is
dropped: it was a second B-tree to update for every key added or moved between levels, and
the keys of an updated article are found by recomputing them from its earlier text
(``bands.remove``).

Existing keys move to the lowest level whose capacity holds them all.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# save.LEVEL0_ROWS and save.LEVEL_GROWTH when this migration was written
_LEVEL0_ROWS = 50_000
_GROWTH = 32


def _level_for(rows: int) -> int:
    level, capacity = 0, _LEVEL0_ROWS
    while rows > capacity:
        level, capacity = level + 1, capacity * _GROWTH
    return level


def _create(table: str, *, with_level: bool) -> None:
    columns = [sa.Column("level", sa.SmallInteger, primary_key=True)] if with_level else []
    op.create_table(
        table,
        *columns,
        sa.Column("band_key", sa.BigInteger, primary_key=True),
        sa.Column("article_id", sa.Integer, sa.ForeignKey("articles.id", ondelete="CASCADE"),
                  primary_key=True),
        sqlite_with_rowid=not with_level,
    )


def _swap(with_level: bool, select: str) -> None:
    if with_level:
        op.drop_index("ix_neardup_bands_article_id", table_name="neardup_bands")
    _create("neardup_bands_new", with_level=with_level)
    op.execute(f"INSERT INTO neardup_bands_new SELECT {select} FROM neardup_bands")
    op.drop_table("neardup_bands")
    op.rename_table("neardup_bands_new", "neardup_bands")
    if not with_level:
        op.create_index("ix_neardup_bands_article_id", "neardup_bands", ["article_id"])


def upgrade() -> None:
    rows = op.get_bind().exec_driver_sql("SELECT count(*) FROM neardup_bands").scalar_one()
    _swap(True, f"{_level_for(int(rows))}, band_key, article_id")


def downgrade() -> None:
    _swap(False, "band_key, article_id")
