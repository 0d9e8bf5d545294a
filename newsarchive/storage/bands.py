"""The near-duplicate band index (table ``neardup_bands``): add, look up, compact.

Each article's ``neardup.BANDS`` LSH keys are random 64-bit values, so a plain B-tree over
them dirties about one leaf page per new key once it outgrows the cache: ten page writes (WAL
and checkpoint) per article, ~200 µs at 500k articles. The table is therefore a small
log-structured merge index, levelled by the first primary-key column:

* new keys go into level 0, a key range small enough to stay cached;
* when level ``n`` holds more than ``LEVEL0_ROWS * LEVEL_GROWTH**n`` rows it is merged, in key
  order, into level ``n + 1``, which rewrites that level's pages once, in sequence;
  a level is counted after each quarter of its capacity a process puts into it, so it may
  run a quarter over;
* a lookup seeks every key in level 0, and in the levels above only the keys that a Bloom
  filter over those levels (table ``neardup_filter``, migration 0006) may hold. Without it
  each key was sought in every level: at 1M articles the lookup cost ~3x what it cost at
  10k, one more level and the largest one mostly outside the cache. The filter is updated
  in the transaction that merges level 0 into level 1 (keys only ever enter the upper levels
  that way): the merge's keys are appended to ``neardup_filter_log`` (migration 0008), and
  the filter row is rewritten with them every ``FILTER_LOG_ROWS`` merges, or rebuilt twice
  as large when it has taken more keys than it was sized for.

Each key thus costs about ``LEVEL_GROWTH / rows-per-page`` page writes per level instead of a
page of its own. Both databases run the same code (migrations 0005 and 0006).
"""

from __future__ import annotations

import functools
import itertools
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

import numpy as np
import sqlalchemy as sa

from newsarchive.storage import bulk, neardup
from newsarchive.storage.models import ArticleVersion, NeardupBand, NeardupFilter, NeardupFilterLog

#: rows level 0 may hold before it is merged into level 1 (~5,000 articles of 10 keys)
LEVEL0_ROWS = 50_000
#: each level may hold this many times the rows of the one before it: large, so that even a
#: 1M-article archive has only three levels to seek (merges into a level then rewrite it more
#: often, but in key order)
LEVEL_GROWTH = 32
#: keys per lookup statement (SQLite allows 32,766 bound values)
_CHUNK = 5_000
#: Bloom filter bits per key it is sized for: at capacity ~2.4% of absent keys pass and cost
#: one seek per upper level, fewer below capacity (see BloomFilter)
FILTER_BITS_PER_KEY = 12
#: the smallest capacity a filter is built with (keys); past capacity it is rebuilt for twice
#: the keys it then holds
FILTER_MIN_KEYS = 4 * LEVEL0_ROWS
#: merges logged (neardup_filter_log) before the filter row is rewritten with their keys: the
#: row is ~12 bits per key (~30 MB at 1M articles), a merge's keys 400 KB
FILTER_LOG_ROWS = 16

_TABLE: sa.Table = NeardupBand.__table__  # type: ignore[assignment]
_FILTER: sa.Table = NeardupFilter.__table__  # type: ignore[assignment]
_LOG: sa.Table = NeardupFilterLog.__table__  # type: ignore[assignment]
_MASK64 = (1 << 64) - 1


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
    if not wanted:
        return {}
    # PostgreSQL reads each statement at its own moment: a merge committed between reading the
    # filter and seeking level 0 could move keys past both, so the filter's signature is read
    # again afterwards and the lookup redone if it changed (SQLite reads one snapshot)
    for _ in range(3):
        in_use = levels(conn)
        upper = [level for level in in_use if level > 0]
        read, bloom = current_filter(conn) if upper else ((None, ()), None)
        found: dict[int, list[int]] = {}
        if 0 in in_use:
            _collect(conn, [0], wanted, found)
        if upper:
            _collect(conn, upper, wanted if bloom is None else bloom.filter(wanted), found)
        if bloom is None or signature(conn) == read:
            return found
    found = {}
    _collect(conn, levels(conn), wanted, found)  # merges kept racing: seek every level for every key
    return found


def _collect(conn: sa.Connection, in_use: list[int], keys: list[int], found: dict[int, list[int]]) -> None:
    if not in_use:
        return
    for lo in range(0, len(keys), _CHUNK):
        for band_key, article_id in _rows(conn, in_use, keys[lo : lo + _CHUNK]):
            found.setdefault(band_key, []).append(article_id)


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
    if not rows:
        return
    if conn.dialect.name == "sqlite":
        # the driver's executemany on plain tuples: ten rows per article, where building and
        # converting a parameter dict per row cost as much as inserting it
        conn.exec_driver_sql(_SQLITE_ADD, list(rows))
    else:
        records = [{"level": 0, "band_key": k, "article_id": a} for k, a in rows]
        bulk.executemany(conn, bulk.insert_ignore_statement(conn, _TABLE), records)
    if _added_since_count(conn, 0, len(rows)):
        compact(conn)


_SQLITE_ADD = ("INSERT INTO neardup_bands (level, band_key, article_id) VALUES (0, ?, ?) "
               "ON CONFLICT DO NOTHING")

#: (database, level) -> rows this process put into the level since it last counted it
_added: dict[tuple[str, int], int] = {}


def _added_since_count(conn: sa.Connection, level: int, rows: int) -> bool:
    """Whether ``level`` is due to be counted, after this process put ``rows`` more into it.

    Counting reads the level's index entries, which for level 1 is up to 1.6M rows: it is done
    once this process has put a quarter of the level's capacity into it since its last count,
    so a level outgrows its capacity by a quarter at most (plus what other writers add meanwhile)
    for a fraction of the counting.
    """
    key = (_database(conn), level)
    _added[key] = _added.get(key, 0) + rows
    if _added[key] < capacity(level) // 4:
        return False
    _added[key] = 0
    return True


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
    while (moving := _count(conn, level)) > capacity(level):
        if level == 0:
            _cover_level0(conn)  # keys enter the upper levels only here
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
        if not _added_since_count(conn, level, moving):
            return


def _count(conn: sa.Connection, level: int) -> int:
    # a range count on the primary key's first column: cheap for the small levels, and the
    # larger ones are only counted right after something was merged into them
    return int(conn.execute(sa.select(sa.func.count()).select_from(_TABLE).where(_TABLE.c.level == level))
               .scalar_one())


class BloomFilter:
    """Set membership with false positives only, over signed 64-bit band keys.

    A blocked Bloom filter: each key sets three of the 16 bits of one block, the block chosen
    by the key's value and the three bits by its top 16 bits (band keys are uniform hashes
    already, so no further hashing). One block per key makes adding and testing a single
    array operation, twice as fast as three probes spread over the whole filter, for ~2.4%
    false positives at capacity (12 bits per key) instead of ~1%.
    """

    def __init__(self, blocks: np.ndarray, capacity: int, keys: int = 0) -> None:
        self.blocks = blocks
        self.capacity = capacity
        self.keys = keys

    @classmethod
    def sized_for(cls, capacity: int) -> BloomFilter:
        count = max(4, -(-capacity * FILTER_BITS_PER_KEY // 16))
        return cls(np.zeros(count, np.uint16), capacity)

    @classmethod
    def from_bytes(cls, data: bytes, capacity: int, keys: int) -> BloomFilter:
        # stored little-endian, so a file moves between machines
        return cls(np.frombuffer(data, "<u2").astype(np.uint16), capacity, keys)

    def to_bytes(self) -> bytes:
        return self.blocks.astype("<u2").tobytes()

    def _slots(self, keys: Iterable[int]) -> tuple[np.ndarray, np.ndarray]:
        """Each key's block index and bit pattern (keys as signed 64-bit values, read unsigned)."""
        unsigned = np.fromiter(keys, np.int64).view(np.uint64)
        return unsigned % np.uint64(len(self.blocks)), _PATTERNS[unsigned >> np.uint64(48)]

    def add(self, keys: Iterable[int]) -> None:
        where, patterns = self._slots(keys)
        np.bitwise_or.at(self.blocks, where, patterns)  # .at: a block chosen twice gets both
        self.keys += len(where)

    def __contains__(self, key: int) -> bool:
        return bool(self.filter((key,)))

    def filter(self, keys: Iterable[int]) -> list[int]:
        """The keys that may be in the set, in order."""
        wanted = list(keys)
        where, patterns = self._slots(wanted)
        passed = (self.blocks[where] & patterns) == patterns
        return list(itertools.compress(wanted, passed.tolist()))


# the 560 ways to pick three of 16 bits, indexed by a key's top 16 bits (not all 560 patterns
# are equally likely then, 65536 = 117 * 560 + 16, a negligible skew)
_TRIPLES = [sum(1 << bit for bit in pick) for pick in itertools.combinations(range(16), 3)]
_PATTERNS = np.array([_TRIPLES[i % len(_TRIPLES)] for i in range(1 << 16)], np.uint16)


@dataclass(eq=False)
class _Copy:
    """This process's copy of the stored filter: the row's token and the log rows it has added."""

    token: int
    log: list[tuple[int, int]]
    bloom: BloomFilter


#: what a lookup compares before and after seeking: the filter row's token and the log's
#: (seq, token) pairs; it changes with every merge that reaches the upper levels
Signature = tuple[int | None, tuple[tuple[int, int], ...]]

#: database -> this process's copy of its filter
_filters: dict[str, _Copy] = {}


def _database(conn: sa.Connection) -> str:
    return conn.engine.url.render_as_string()


def _stored_token(conn: sa.Connection) -> int | None:
    return conn.execute(sa.select(_FILTER.c.token).where(_FILTER.c.id == 1)).scalar()


def signature(conn: sa.Connection) -> Signature:
    """What identifies the stored filter's content (two small reads)."""
    token = _stored_token(conn)
    if token is None:
        return None, ()
    log = conn.execute(sa.select(_LOG.c.seq, _LOG.c.token).order_by(_LOG.c.seq)).all()
    return token, tuple((int(seq), int(tok)) for seq, tok in log)


def current_filter(conn: sa.Connection) -> tuple[Signature, BloomFilter | None]:
    """The stored filter over levels 1 and up with its signature; no filter before one is built."""
    read, copy = _current_copy(conn)
    return read, copy.bloom if copy is not None else None


def _current_copy(conn: sa.Connection) -> tuple[Signature, _Copy | None]:
    """This process's copy of the stored filter, brought up to date.

    It is reused while the filter row is the one it read, adding only the log rows it has not
    seen; anything else (another row, a log that is not a continuation of what it added, as
    after a rolled-back merge) reloads it.
    """
    token, log = signature(conn)
    if token is None:
        return (None, ()), None
    database = _database(conn)
    copy = _filters.get(database)
    if copy is None or copy.token != token or tuple(copy.log) != log[: len(copy.log)]:
        row = conn.execute(sa.select(_FILTER.c.capacity, _FILTER.c.key_count, _FILTER.c.bits)
                           .where(_FILTER.c.id == 1)).one()
        copy = _Copy(token, [], BloomFilter.from_bytes(row.bits, int(row.capacity), int(row.key_count)))
        _filters[database] = copy
    unseen = [seq for seq, _ in log[len(copy.log):]]
    if unseen:
        rows = conn.execute(sa.select(_LOG.c.seq, _LOG.c.token, _LOG.c.band_keys)
                            .where(_LOG.c.seq.in_(unseen)).order_by(_LOG.c.seq))
        for seq, tok, packed in rows:
            copy.bloom.add(_unpack(packed))
            copy.log.append((int(seq), int(tok)))
    return (token, log), copy


def _pack(keys: list[int]) -> bytes:
    # little-endian whatever the machine, as the filter's own bytes
    return np.array(keys, "<i8").tobytes()


def _unpack(data: bytes) -> np.ndarray:
    return np.frombuffer(data, "<i8")


def _cover_level0(conn: sa.Connection) -> None:
    """Add level 0's keys to the filter before they move up: a log row, or a new filter row."""
    # the row lock makes a concurrent PostgreSQL merge wait, then read what this one wrote
    row = conn.execute(sa.select(_FILTER.c.token).where(_FILTER.c.id == 1).with_for_update()).one_or_none()
    moving = [key for part in _keys(conn, "level = 0") for key in part]
    (_, log), copy = _current_copy(conn) if row is not None else ((None, ()), None)
    if copy is not None and copy.bloom.keys + len(moving) <= copy.bloom.capacity:
        # the copy changes in place before the commit: a rollback leaves it holding a log row
        # or token the database does not, and the next read then reloads it
        bloom = copy.bloom
        bloom.add(moving)
        if len(log) < FILTER_LOG_ROWS:
            seq, token = (log[-1][0] + 1 if log else 1), _new_token()
            conn.execute(sa.insert(_LOG).values(seq=seq, token=token, band_keys=_pack(moving)))
            copy.log.append((seq, token))
            return
    else:
        upper = int(conn.execute(sa.select(sa.func.count()).select_from(_TABLE).where(_TABLE.c.level > 0))
                    .scalar_one())
        bloom = BloomFilter.sized_for(max(FILTER_MIN_KEYS, 2 * (upper + len(moving))))
        for part in _upper_keys(conn):
            bloom.add(part)
        bloom.add(moving)
    token = _new_token()
    values = {"token": token, "capacity": bloom.capacity, "key_count": bloom.keys, "bits": bloom.to_bytes()}
    if row is None:
        conn.execute(sa.insert(_FILTER).values(id=1, **values))
    else:
        conn.execute(sa.update(_FILTER).where(_FILTER.c.id == 1).values(**values))
    conn.execute(sa.delete(_LOG))  # the filter row now holds every key the log did
    _filters[_database(conn)] = _Copy(token, [], bloom)


def _new_token() -> int:
    # random, not a counter: a rolled-back write must never match a committed one
    return int.from_bytes(os.urandom(8), "little") >> 1


def _upper_keys(conn: sa.Connection) -> Iterator[Iterable[int]]:
    """Every key in levels 1 and up, a page at a time (a rebuild reads millions)."""
    return _keys(conn, "level > 0")


def _keys(conn: sa.Connection, where: str) -> Iterator[Iterable[int]]:
    """The keys of the rows ``where`` (our own condition on the level), a page at a time."""
    if conn.dialect.name == "sqlite":
        # the driver's own cursor on the same connection and transaction: SQLAlchemy's row
        # buffering cost twice the scan itself
        cursor = conn.connection.cursor()
        try:
            cursor.execute(f"SELECT band_key FROM neardup_bands WHERE {where}")
            while rows := cursor.fetchmany(50_000):
                yield map(itemgetter(0), rows)
        finally:
            cursor.close()
        return
    stmt = sa.select(_TABLE.c.band_key).where(sa.text(where)).execution_options(yield_per=50_000)
    yield from conn.execute(stmt).scalars().partitions()
