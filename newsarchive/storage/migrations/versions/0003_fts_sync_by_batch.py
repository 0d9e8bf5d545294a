"""SQLite: the full-text index follows articles.current_version_id per batch, not per row.

The trigger ``articles_fts_pointer`` re-indexed each article as its pointer moved, one FTS5
statement per row: ~350 µs per saved article, a fifth of the insert cost (benchmarks/storage.py).
BatchWriter now swaps the old current versions out of ``articles_fts`` and the new ones in
with two set-based statements per batch, inside the same transaction, so the index still only
ever holds current versions. The delete trigger (an article removed with its versions) stays.
Anything else that moves ``current_version_id`` must call ``save.sync_fts`` in its transaction.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# the trigger as migration 0001 created it, for downgrade
_POINTER_TRIGGER = (
    "CREATE TRIGGER articles_fts_pointer AFTER UPDATE OF current_version_id ON articles "
    "WHEN old.current_version_id IS NOT new.current_version_id BEGIN "
    "INSERT INTO articles_fts(articles_fts, rowid, headline, body) "
    "SELECT 'delete', v.id, coalesce(v.headline, ''), v.body FROM article_versions v "
    "WHERE v.id = old.current_version_id; "
    "INSERT INTO articles_fts(rowid, headline, body) "
    "SELECT v.id, coalesce(v.headline, ''), v.body FROM article_versions v "
    "WHERE v.id = new.current_version_id; END"
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS articles_fts_pointer")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(_POINTER_TRIGGER)
