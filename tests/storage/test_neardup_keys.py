"""The near-duplicate key table (migrations 0015, 0016): upgrades, fortnights, the key cap."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from archive_helpers import STORY, make_article
from test_containment import Stories, article

from newsarchive import neardup
from newsarchive.storage import Archive, save
from newsarchive.storage import engine as engines
from newsarchive.storage.check import check_archive


def rows(archive: Archive, sql: str) -> list[tuple[object, ...]]:
    with archive.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(sql))]


def test_an_archive_at_0014_upgrades_keeps_its_clusters_and_copies_still_join(db_url: str) -> None:
    story = Stories(11).paragraphs(10)
    with Archive(db_url) as archive:
        archive.save_batch([
            make_article(1),
            make_article(2, url="https://outlet.example/copy", body=STORY + " An extra line."),
            article("long", story, make_article(3).published),
            article("page-1", story[:4], make_article(3).published),
        ])
        clusters = rows(archive, "SELECT id, cluster_id, simhash FROM articles ORDER BY id")
        assert [c for _, c, _ in clusters] == [1, 1, 3, 3]
        engines.downgrade(archive.engine, "0014")
        # what 0014 holds: the band keys in the levelled table, no key table
        tables = set(sa.inspect(archive.engine).get_table_names())
        assert {"neardup_bands", "neardup_filter", "neardup_filter_log"} <= tables
        assert "neardup_keys" not in tables
        bands = rows(archive, "SELECT band_key, article_id FROM neardup_bands ORDER BY 2, 1")
        expected = sorted((k, a) for a, text in ((1, make_article(1)), (2, None), (3, None), (4, None))
                          if text is not None for k in neardup.fingerprint(text.body).band_keys)
        assert [b for b in bands if b[1] == 1] == [(k, 1) for k, _ in sorted(expected)]
        engines.upgrade(archive.engine)
        tables = set(sa.inspect(archive.engine).get_table_names())
        assert "neardup_keys" in tables
        assert not tables & {"neardup_bands", "neardup_filter", "neardup_filter_log"}
        assert rows(archive, "SELECT id, cluster_id, simhash FROM articles ORDER BY id") == clusters
        assert {a for (a,) in rows(archive, "SELECT DISTINCT article_id FROM neardup_keys")} == {1, 2, 3, 4}
        assert check_archive(archive.engine, check_warc=False).problems == []
        # new copies find the archived ones: a whole-text copy and a partial one
        copy, part = archive.save_batch([
            make_article(5, url="https://other.example/copy", body=STORY + " Yet another line."),
            article("page-2", story[5:], make_article(3).published + timedelta(days=2)),
        ])
    assert (copy.cluster_id, part.cluster_id) == (1, 3)


def test_keys_are_stored_under_the_publication_fortnight(sqlite_url: str) -> None:
    with Archive(sqlite_url) as archive:
        dated = make_article(1)
        undated = make_article(2, published=None)
        archive.save_batch([dated, undated])
        stored = dict(rows(archive, "SELECT article_id, min(fortnight) FROM neardup_keys GROUP BY 1"))
        assert len(set(rows(archive, "SELECT article_id, fortnight FROM neardup_keys"))) == 2
    assert dated.published is not None
    assert undated.fetched_at is not None
    assert stored == {1: save.day_of(dated.published) // 14, 2: save.day_of(undated.fetched_at) // 14}
    # days count from Monday 1970-01-05 in UTC: a Moscow morning can still be the day before
    monday = datetime(2017, 1, 23, tzinfo=UTC)
    assert save.day_of(monday) % 7 == 0
    assert save.day_of(monday + timedelta(hours=23, minutes=59)) == save.day_of(monday)
    moscow = timezone(timedelta(hours=3))
    assert save.day_of(datetime(2017, 1, 23, 2, tzinfo=moscow)) == save.day_of(monday) - 1


def test_a_lookup_reads_two_fortnights_covering_seven_days_either_side() -> None:
    for day in range(-40, 40):
        read = save.fortnights_read(day)
        assert len(read) == 2
        assert read[1] == read[0] + 1
        assert all((day + delta) // 14 in read for delta in range(-7, 8)), day


def test_an_archive_at_0015_moves_its_weeks_to_fortnights(db_url: str) -> None:
    with Archive(db_url) as archive:
        archive.save_batch([make_article(n, published=make_article(1).published + timedelta(days=9 * n))
                            for n in range(1, 5)])
        now = sorted(rows(archive, "SELECT fortnight, key, article_id FROM neardup_keys"))
        assert len({f for f, _, _ in now}) > 1
        engines.downgrade(archive.engine, "0015")
        weeks = sorted(rows(archive, "SELECT week, key, article_id FROM neardup_keys"))
        assert weeks == [(2 * f, k, a) for f, k, a in now]
        engines.upgrade(archive.engine)
        assert sorted(rows(archive, "SELECT fortnight, key, article_id FROM neardup_keys")) == now
        assert check_archive(archive.engine, check_warc=False).problems == []


def test_a_key_held_by_many_articles_is_not_stored_again(sqlite_url: str,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(save, "KEY_CAP", 3)
    # one boilerplate paragraph under six different stories: its sample keys stop at the cap
    boiler = Stories(2).paragraphs(1)[0]
    stories = [[*Stories(20 + n).paragraphs(6), boiler] for n in range(6)]
    with Archive(sqlite_url) as archive:
        for n, story in enumerate(stories):
            archive.save_batch([article(f"s{n}", story, make_article(1).published)])
        held = rows(archive, "SELECT key, count(*) FROM neardup_keys GROUP BY key HAVING count(*) > 1")
        assert held
        assert all(count == 3 for _, count in held)
        # they are all still different stories, and db check knows the left-out keys are no damage
        assert len({c for (c,) in rows(archive, "SELECT cluster_id FROM articles")}) == 6
        assert check_archive(archive.engine, check_warc=False).problems == []


def test_an_updated_article_keeps_only_the_keys_of_its_current_text(db_url: str) -> None:
    first, later = Stories(31).paragraphs(6), Stories(32).paragraphs(6)
    moved = make_article(1).published + timedelta(days=40)  # the new version also moves its fortnight
    with Archive(db_url) as archive:
        archive.save_batch([article("a", first, make_article(1).published)])
        archive.save_batch([article("a", later, moved)])
        stored = set(rows(archive, "SELECT fortnight, key FROM neardup_keys WHERE article_id = 1"))
        assert check_archive(archive.engine, check_warc=False).problems == []
    fp = neardup.fingerprint("\n\n".join(later))
    assert stored == {(save.day_of(moved) // 14, k) for k in fp.keys}
