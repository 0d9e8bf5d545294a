"""SQLite: FTS5 merges index segments 16 at a time instead of 4.

FTS5 writes each transaction's new postings as a segment and merges segments level by level
('automerge', default 4). Every merge rewrites the postings it merges, so the default rewrites
each posting about log4(articles / batch) times: at 100k articles it was ~40% of an insert's
cost and growing with the archive (benchmarks/storage.py). Merging 16 at a time rewrites each
posting half as often, for up to 16 segments per level to read at query time, which the
search latency measured at 1M articles can afford. The setting is stored in the index
itself, so it applies to every connection.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

#: segments FTS5 gathers before merging them into one of the next level
AUTOMERGE = 16


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"INSERT INTO articles_fts(articles_fts, rank) VALUES ('automerge', {AUTOMERGE})")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("INSERT INTO articles_fts(articles_fts, rank) VALUES ('automerge', 4)")
