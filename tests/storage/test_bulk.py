"""bulk.executemany stores exactly what SQLAlchemy's own executemany stores, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from archive_helpers import make_article

from newsarchive.article import Article, FetchInfo
from newsarchive.storage import Archive, bulk, save
from newsarchive.storage.models import ArticleRow, ArticleVersion, Source

MSK = timezone(timedelta(hours=3))
# naive (taken as UTC), aware in another zone, with and without microseconds, a leap day
WHEN = [datetime(2024, 2, 29, 23, 30, tzinfo=MSK), datetime(2017, 1, 19, 13, 48),
        datetime(1999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC), None]


def _version_row(article_id: int, n: int) -> dict[str, Any]:
    when = WHEN[n % len(WHEN)]
    return {
        "article_id": article_id, "content_hash": f"h{n}", "url": f"https://tass.com/{n}",
        "section": None, "headline": 'Кремль: "talks", ; DROP TABLE x; --', "dateline": "MOSCOW",
        "published": when, "published_offset": 180, "published_raw": "19 января", "updated": None,
        "updated_offset": None, "updated_raw": None, "description": None, "body": "Текст\n\nдва",
        "topics": ["Внешняя политика", 'quote " and \\ backslash'], "authors": [],
        "read_also": [{"title": "Ещё", "url": "https://tass.ru/1"}], "language": "ru",
        "fetched_at": when, "created_at": datetime(2026, 1, 1, tzinfo=UTC), "run_id": None,
        "warc_file": None, "warc_offset": 2**40, "warc_length": None, "origin": "crawl",
    }


def _stored(conn: sa.Connection, ids: list[int]) -> list[tuple[Any, ...]]:
    # raw column values, as the database holds them (no result processing)
    cols = [c.name for c in ArticleVersion.__table__.columns if c.name not in ("id", "search_vector")]
    result = conn.exec_driver_sql(
        f"SELECT {', '.join(cols)} FROM article_versions WHERE id IN ({', '.join(map(str, ids))}) ORDER BY id"
    )
    return [tuple(row) for row in result]


def test_bulk_rows_equal_sqlalchemy_rows(archive: Archive) -> None:
    [saved] = archive.save_batch([make_article(1)])
    assert saved.article_id is not None
    with archive.engine.begin() as conn:
        first = conn.execute(sa.select(sa.func.max(ArticleVersion.id))).scalar_one() + 1
        mine = [{"id": first + n, **_version_row(saved.article_id, n)} for n in range(4)]
        theirs = [{"id": first + 4 + n, **_version_row(saved.article_id, n)} for n in range(4)]
        bulk.executemany(conn, sa.insert(ArticleVersion), mine)
        conn.execute(sa.insert(ArticleVersion), theirs)
        ours, reference = _stored(conn, [r["id"] for r in mine]), _stored(conn, [r["id"] for r in theirs])
    assert ours == reference
    assert len(ours) == 4


def test_bulk_update_with_bound_datetimes(archive: Archive) -> None:
    saved = archive.save_batch([make_article(1), make_article(2)])
    stmt = (sa.update(ArticleRow).where(ArticleRow.id == sa.bindparam("b_id"))
            .values(last_seen=sa.bindparam("b_seen", type_=ArticleRow.__table__.c.last_seen.type)))
    later = datetime(2030, 5, 1, 12, 0, tzinfo=MSK)
    with archive.engine.begin() as conn:
        bulk.executemany(conn, stmt, [{"b_id": s.article_id, "b_seen": later} for s in saved])
        seen = conn.execute(sa.select(ArticleRow.last_seen).order_by(ArticleRow.id)).scalars().all()
    assert seen == [later.astimezone(UTC)] * 2


def test_insert_ignore_keeps_the_first_row(archive: Archive) -> None:
    table = Source.__table__
    with archive.engine.begin() as conn:
        stmt = bulk.insert_ignore_statement(conn, table)  # type: ignore[arg-type]
        rows = [{"key": "k1", "created_at": WHEN[0]}, {"key": "k1", "created_at": WHEN[2]}]
        bulk.executemany(conn, stmt, rows)
        stored = conn.execute(sa.select(Source.key, Source.created_at).where(Source.key == "k1")).all()
    assert [tuple(r) for r in stored] == [("k1", WHEN[0].astimezone(UTC))]  # type: ignore[union-attr]


def test_nothing_to_write_runs_nothing(archive: Archive) -> None:
    with archive.engine.begin() as conn:
        bulk.executemany(conn, sa.insert(ArticleVersion), [])  # an empty batch is not an error
        assert conn.execute(sa.select(sa.func.count()).select_from(ArticleVersion)).scalar_one() == 0


def _tricky_articles() -> list[Article]:
    """Articles whose version values need every conversion: zones, naive times, NUL, JSON."""
    return [
        make_article(1, published=WHEN[0], updated=WHEN[1], fetched_at=WHEN[2],
                     headline="Кремль\x00: \"talks\"; DROP TABLE x; --",
                     topics=['quote " and \\ back', "Ёлка"],
                     read_also=[{"title": "Ещё\x00", "url": "https://tass.ru/1"}], authors=[]),
        make_article(2, published=WHEN[1], section=None, description="d", fetch=None, fetched_at=None),
        make_article(3, published=None, dateline=None, language=None,
                     fetch=FetchInfo(status=200, warc_file="x.warc.gz", warc_offset=2**40, warc_length=7)),
    ]


def test_version_rows_prepared_ahead_store_what_the_generic_path_stores(
        sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # save.prepare converts SQLite version values ahead (in a worker for save_stream); the
    # generic path converts them at the insert
    with Archive(sqlite_url) as archive:
        archive.save_batch(_tricky_articles())
        with archive.engine.connect() as conn:
            ahead = _stored(conn, [1, 2, 3])
    parts = save._parts
    monkeypatch.setattr(save, "_parts", lambda article, sqlite: parts(article, False))
    with Archive(f"sqlite:///{tmp_path / 'generic.sqlite'}") as archive:
        archive.save_batch(_tricky_articles())
        with archive.engine.connect() as conn:
            generic = _stored(conn, [1, 2, 3])
    created = [c.name for c in ArticleVersion.__table__.columns if c.name not in ("id", "search_vector")]
    at = created.index("created_at")
    assert [r[:at] + r[at + 1:] for r in ahead] == [r[:at] + r[at + 1:] for r in generic]
    assert [len(r[at]) for r in ahead] == [len(r[at]) for r in generic]  # the same text form
    assert len(ahead) == 3


def test_fewer_gc_passes_raises_the_threshold_and_restores_it_after_the_last_user() -> None:
    import gc
    import threading

    before = gc.get_threshold()
    assert before[0] < bulk.BULK_GC_THRESHOLD  # Python's default (700)
    entered, release = threading.Event(), threading.Event()

    def other_thread() -> None:
        with bulk.fewer_gc_passes():
            entered.set()
            release.wait(5)

    with bulk.fewer_gc_passes():
        assert gc.get_threshold() == (bulk.BULK_GC_THRESHOLD, *before[1:])
        with bulk.fewer_gc_passes():  # nested
            pass
        assert gc.get_threshold()[0] == bulk.BULK_GC_THRESHOLD
        worker = threading.Thread(target=other_thread)
        worker.start()
        assert entered.wait(5)
    # this block is done but the other thread is still inside its own
    assert gc.get_threshold()[0] == bulk.BULK_GC_THRESHOLD
    release.set()
    worker.join(5)
    assert gc.get_threshold() == before


def test_fewer_gc_passes_leaves_a_threshold_someone_else_set_alone() -> None:
    import gc

    before = gc.get_threshold()
    try:
        with bulk.fewer_gc_passes():
            gc.set_threshold(1234, *before[1:])
        assert gc.get_threshold()[0] == 1234
        gc.set_threshold(0)  # collection off: left off
        with bulk.fewer_gc_passes():
            assert gc.get_threshold()[0] == 0
        assert gc.get_threshold()[0] == 0
    finally:
        gc.set_threshold(*before)
