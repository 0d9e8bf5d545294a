"""SQLite: FTS5 holds a whole batch's new postings in memory before writing them as a segment.

FTS5 gathers a transaction's postings in an in-memory hash table and writes them out as a new
segment when the transaction commits, or earlier whenever the table passes 'hashsize' bytes
(default 1 MB). A batch of 500 typical articles passed it about once, so every batch wrote two
small segments, and the automerges (migration 0004) rewrote twice as many segments at the
first level. With 8 MB a batch is one segment. Measured on 400k synthetic articles inserted
500 per transaction into an FTS5 table alone: ~12% less CPU per article (97 against 110 µs, in
the same run). The memory is the writer's, for the length of a batch.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-28
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

#: bytes of pending postings FTS5 keeps in memory before writing a segment
HASHSIZE = 8 * 1024 * 1024


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"INSERT INTO articles_fts(articles_fts, rank) VALUES ('hashsize', {HASHSIZE})")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("INSERT INTO articles_fts(articles_fts, rank) VALUES ('hashsize', 1048576)")
