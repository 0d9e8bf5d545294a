"""A Bloom filter over the larger levels of the near-duplicate band index.

With the levelled index (0005), a lookup sought every key in every level: three levels at 1M
articles against two at 10k, and the largest level's pages mostly outside the cache, so the
cost per article grew ~3x with the archive (benchmarks/storage.py). Levels 1 and up now sit
behind one Bloom filter, kept in this table and updated in the transaction that merges keys
into them; lookups seek them only for keys the filter may hold (``bands.lookup``).

The table starts empty: until the next merge builds the filter (``bands.compact``), lookups
seek every level as before, so an upgraded archive stays correct in between.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "neardup_filter",
        sa.Column("id", sa.SmallInteger, primary_key=True, autoincrement=False),
        sa.Column("token", sa.BigInteger, nullable=False),
        sa.Column("capacity", sa.BigInteger, nullable=False),
        sa.Column("key_count", sa.BigInteger, nullable=False),
        sa.Column("bits", sa.LargeBinary, nullable=False),
    )
    if op.get_bind().dialect.name == "postgresql":
        # random bits do not compress: skip TOAST's attempt at every rewrite
        op.execute("ALTER TABLE neardup_filter ALTER COLUMN bits SET STORAGE EXTERNAL")


def downgrade() -> None:
    op.drop_table("neardup_filter")
