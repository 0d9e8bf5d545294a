"""The near-duplicate band index (table ``neardup_bands``): add, look up, compact.

Each article's ``neardup.BANDS`` LSH keys are random 64-bit values, so a plain B-tree over
them dirties about one leaf page per new key once it outgrows the cache: ten page writes (WAL
and checkpoint) per article, ~200 µs at 500k articles. The table is therefore a small
log-structured merge index, levelled by the first primary-key column:

* new keys go into level 0, a key range small enough to stay cached;
* when level ``n`` holds more than ``LEVEL0_ROWS * LEVEL_GROWTH**n`` rows it is merged, in key
  order, into level ``n + 1``, which rewrites that level's pages once, in sequence;
  level 0 is counted after each quarter of its capacity a process adds, so it may run a
  quarter over;
* a lookup seeks each key in every non-empty level (at most ``log32(rows / LEVEL0_ROWS) + 2``;
  all but the largest stay in the cache).

Each key thus costs about ``LEVEL_GROWTH / rows-per-page`` page writes per level instead of a
page of its own. Both databases run the same code (migration 0005 made the table).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from newsarchive.storage import bulk, neardup
from newsarchive.storage.models import ArticleVersion, NeardupBand

#: rows level 0 may hold before it is merged into level 1 (~5,000 articles of 10 keys)
LEVEL0_ROWS = 50_000
#: each level may hold this many times the rows of the one before it: large, so that even a
#: 1M-article archive has only three levels to seek (merges into a level then rewrite it more
#: often, but in key order)
LEVEL_GROWTH = 32
#: keys per lookup statement (SQLite allows 32,766 bound values)
_CHUNK = 5_000

_TABLE: sa.Table = NeardupBand.__table__  # type: ignore[assignment]


def capacity(level: int) -> int:
    """Rows ``level`` may hold before compaction merges it into the next."""
    return LEVEL0_ROWS * LEVEL_GROWTH**level


def levels(conn: sa.Connection) -> list[int]:
    """The levels that hold keys, which a lookup must read (one index seek per level)."""
    top = conn.execute(sa.select(sa.func.max(_TABLE.c.level))).scalar()
    if top is None:
        return []
    # a merge leaves the levels below its target empty: skipping them saves a seek per key
    probe = (sa.select(sa.literal(1)).select_from(_TABLE)
             .where(_TABLE.c.level == sa.bindparam("level")).limit(1))
    return [level for level in range(int(top) + 1)
            if level == top or conn.execute(probe, {"level": level}).first() is not None]


def lookup(conn: sa.Connection, keys: Iterable[int]) -> dict[int, list[int]]:
    """Band key -> ids of the archived articles that have it, for every key in ``keys``."""
    wanted = sorted(set(keys))
    in_use = levels(conn)
    found: dict[int, list[int]] = {}
    if not wanted or not in_use:
        return found
    for lo in range(0, len(wanted), _CHUNK):
        chunk = wanted[lo : lo + _CHUNK]
        for band_key, article_id in _rows(conn, in_use, chunk):
            found.setdefault(band_key, []).append(article_id)
    return found


def _rows(conn: sa.Connection, in_use: list[int], chunk: Sequence[int]) -> Iterable[Any]:
    if conn.dialect.name == "sqlite":
        # the driver's own IN list: SQLAlchemy's expanding parameters cost more than the seeks;
        # the levels are our integers, the keys are bound
        level_list, key_marks = ",".join(map(str, in_use)), ",".join("?" * len(chunk))
        sql = (f"SELECT band_key, article_id FROM neardup_bands "
               f"WHERE level IN ({level_list}) AND band_key IN ({key_marks})")
        return iter(conn.exec_driver_sql(sql, tuple(chunk)))
    stmt = sa.select(_TABLE.c.band_key, _TABLE.c.article_id).where(
        _TABLE.c.level.in_(in_use), _TABLE.c.band_key.in_(chunk))
    return iter(conn.execute(stmt))


def add(conn: sa.Connection, rows: Sequence[tuple[int, int]]) -> None:
    """Add (band_key, article_id) pairs to level 0, then compact the levels that overflow."""
    records: list[dict[str, Any]] = [{"level": 0, "band_key": k, "article_id": a} for k, a in rows]
    bulk.executemany(conn, bulk.insert_ignore_statement(conn, _TABLE), records)
    # counting level 0 reads up to LEVEL0_ROWS index entries: done once this process has added
    # a quarter of that since its last count, so level 0 outgrows its capacity by a quarter at
    # most (plus what other writers add meanwhile), for a fraction of the counting
    database = conn.engine.url.render_as_string()
    _added[database] = _added.get(database, 0) + len(records)
    if _added[database] >= LEVEL0_ROWS // 4:
        _added[database] = 0
        compact(conn)


#: keys this process added per database since it last counted level 0
_added: dict[str, int] = {}


def remove(conn: sa.Connection, versions: Mapping[int, int]) -> None:
    """Drop the keys an article got from an earlier text: article id -> the version they came from.

    The keys are recomputed from that version's stored text rather than found through an index
    on article_id: such an index was a second B-tree to update for every key added and moved,
    and only updates of existing articles, which are rare, need this. A key left behind (text
    stored with a NUL, a future fingerprint change) only ever adds a candidate, which the
    SimHash check against the article's current text then rejects.
    """
    if not versions:
        return
    texts: dict[int, tuple[str | None, str]] = {}
    ids = sorted(set(versions.values()))
    for lo in range(0, len(ids), _CHUNK):
        stmt = sa.select(ArticleVersion.id, ArticleVersion.headline, ArticleVersion.body).where(
            ArticleVersion.id.in_(ids[lo : lo + _CHUNK]))
        texts.update((row.id, (row.headline, row.body)) for row in conn.execute(stmt))
    rows = [{"b_article": article_id, "b_key": key}
            for article_id, version_id in versions.items() if version_id in texts
            for key in set(neardup.fingerprint(texts[version_id][1], texts[version_id][0]).band_keys)]
    in_use = levels(conn)
    if rows and in_use:
        bulk.executemany(conn, _delete_statement(tuple(in_use)), rows)


@functools.lru_cache(maxsize=16)
def _delete_statement(in_use: tuple[int, ...]) -> sa.TextClause:
    # the levels are our integers (bound per row they would multiply the rows); one statement
    # object per level set, so bulk's compiled-statement cache stays small
    return sa.text(f"DELETE FROM neardup_bands WHERE level IN ({','.join(map(str, in_use))}) "
                   "AND band_key = :b_key AND article_id = :b_article")


def compact(conn: sa.Connection) -> None:
    """Merge each overflowing level into the next, lowest first."""
    level = 0
    while _count(conn, level) > capacity(level):
        target = level + 1
        # one sorted pass: the next level's pages are rewritten in key order, not at random
        conn.execute(
            bulk.insert_ignore_statement(conn, _TABLE).from_select(
                ["level", "band_key", "article_id"],
                sa.select(sa.literal(target, sa.SmallInteger), _TABLE.c.band_key, _TABLE.c.article_id)
                .where(_TABLE.c.level == level)
                .order_by(_TABLE.c.band_key, _TABLE.c.article_id),
            )
        )
        conn.execute(sa.delete(_TABLE).where(_TABLE.c.level == level))
        level = target


def _count(conn: sa.Connection, level: int) -> int:
    # a range count on the primary key's first column: cheap for the small levels, and the
    # larger ones are only counted right after something was merged into them
    return int(conn.execute(sa.select(sa.func.count()).select_from(_TABLE).where(_TABLE.c.level == level))
               .scalar_one())
