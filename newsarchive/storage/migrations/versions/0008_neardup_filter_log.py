"""Merges append their keys to a log instead of rewriting the whole Bloom filter.

Each merge of level 0 (every ~5,000 articles) rewrote the stored filter (0006) in full so that
it held the 50,000 keys moving up: at 1M articles ~30 MB of blob per merge, written to the
WAL and again at the checkpoint, for 400 KB of new keys. Now a merge appends those keys to
``neardup_filter_log`` and the filter row is rewritten only when the log holds
``bands.FILTER_LOG_ROWS`` merges (or the filter is rebuilt larger). A process brings its copy
up to date by adding the keys of the log rows it has not seen (``bands.current_filter``).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "neardup_filter_log",
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("token", sa.BigInteger, nullable=False),
        sa.Column("band_keys", sa.LargeBinary, nullable=False),
    )
    if op.get_bind().dialect.name == "postgresql":
        # random keys do not compress: skip TOAST's attempt
        op.execute("ALTER TABLE neardup_filter_log ALTER COLUMN band_keys SET STORAGE EXTERNAL")


def downgrade() -> None:
    op.drop_table("neardup_filter_log")
