"""Near-duplicate keys in one plain table, ``neardup_keys`` (issue 16 item 2, issue 20 item 2).

Replaces the levelled band index (``neardup_bands``), its Bloom filter (``neardup_filter``)
and that filter's log (``neardup_filter_log``). Each article's keys are recomputed from its
current text, as a save of this version computes them: the band keys (the same values the
old table held) and the new sample keys for containment, under the article's publication
week (first_seen when unknown). Stored SimHashes and cluster ids are not touched. Downgrade
puts the band keys back into level 0 of the old table (the old code compacts it and rebuilds
its filter on its next merges).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

from newsarchive import neardup

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

#: articles read per page
PAGE = 2000
_WEEK0 = date(1970, 1, 5).toordinal()


def _week(moment: Any) -> int:
    # save.week_of, kept here so this migration does what it did when it was written
    if isinstance(moment, str):  # SQLite's DATETIME text, UTC
        moment = datetime.fromisoformat(moment)
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return int((moment.toordinal() - _WEEK0) // 7)


def _articles(bind: sa.Connection) -> Iterator[Sequence[Any]]:
    last = 0
    query = sa.text(
        "SELECT a.id, a.published, a.first_seen, v.headline, v.body FROM articles a "
        "JOIN article_versions v ON v.id = a.current_version_id WHERE a.id > :last ORDER BY a.id LIMIT :n")
    while rows := bind.execute(query, {"last": last, "n": PAGE}).all():
        yield rows
        last = rows[-1].id


def upgrade() -> None:
    op.create_table(
        "neardup_keys",
        sa.Column("week", sa.Integer, primary_key=True),
        sa.Column("key", sa.BigInteger, primary_key=True),
        sa.Column("article_id", sa.Integer, primary_key=True),
        sqlite_with_rowid=False,
    )
    bind = op.get_bind()
    insert = sa.text("INSERT INTO neardup_keys (week, key, article_id) VALUES (:w, :k, :a) "
                     "ON CONFLICT DO NOTHING")
    for rows in _articles(bind):
        keys = [{"w": _week(r.published or r.first_seen), "k": k, "a": r.id} for r in rows
                for k in set(neardup.fingerprint(r.body, r.headline).keys)]
        if keys:
            bind.execute(insert, keys)
    for table in ("neardup_filter_log", "neardup_filter", "neardup_bands"):
        op.drop_table(table)


def downgrade() -> None:
    op.create_table(
        "neardup_bands",
        sa.Column("level", sa.SmallInteger, primary_key=True),
        sa.Column("band_key", sa.BigInteger, primary_key=True),
        sa.Column("article_id", sa.Integer, primary_key=True),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "neardup_filter",
        sa.Column("id", sa.SmallInteger, primary_key=True, autoincrement=False),
        sa.Column("token", sa.BigInteger, nullable=False),
        sa.Column("capacity", sa.BigInteger, nullable=False),
        sa.Column("key_count", sa.BigInteger, nullable=False),
        sa.Column("bits", sa.LargeBinary, nullable=False),
    )
    op.create_table(
        "neardup_filter_log",
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("token", sa.BigInteger, nullable=False),
        sa.Column("band_keys", sa.LargeBinary, nullable=False),
    )
    bind = op.get_bind()
    insert = sa.text("INSERT INTO neardup_bands (level, band_key, article_id) VALUES (0, :k, :a) "
                     "ON CONFLICT DO NOTHING")
    for rows in _articles(bind):
        keys = [{"k": k, "a": r.id} for r in rows
                for k in set(neardup.fingerprint(r.body, r.headline).band_keys)]
        if keys:
            bind.execute(insert, keys)
    op.drop_table("neardup_keys")
