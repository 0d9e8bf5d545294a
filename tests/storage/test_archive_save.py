"""save_batch outcomes, versions, topics, links, url state and clusters on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from archive_helpers import OTHER_STORY, STORY, make_article

from newsarchive.storage import Archive


def scalar(archive: Archive, sql: str, **params: object) -> object:
    with archive.engine.connect() as conn:
        return conn.execute(sa.text(sql), params).scalar()


def test_new_then_unchanged_for_the_same_text(archive: Archive) -> None:
    first = archive.save_batch([make_article(1), make_article(2, body=OTHER_STORY)])
    assert [r.outcome for r in first] == ["new", "new"]
    assert first[0].article_id != first[1].article_id
    again = archive.save_batch([make_article(1, url="https://tass.com/politics/1001?utm_source=rss")])
    assert again[0].outcome == "unchanged"
    assert again[0].article_id == first[0].article_id
    assert again[0].version_id == first[0].version_id
    assert scalar(archive, "SELECT count(*) FROM article_versions") == 2


def test_update_keeps_the_old_version_and_moves_the_pointer(archive: Archive) -> None:
    (new,) = archive.save_batch([make_article(1)])
    edited = make_article(1, body=STORY + "\n\nUpdated: the ministers will meet again in Sochi.",
                          fetched_at=datetime(2026, 11, 21, tzinfo=UTC))
    (updated,) = archive.save_batch([edited])
    assert updated.outcome == "updated"
    assert updated.article_id == new.article_id
    assert updated.version_id != new.version_id
    history = archive.versions("https://tass.com/politics/1001")
    assert [v["current"] for v in history] == [False, True]
    assert "Sochi" not in history[0]["body"]
    assert "Sochi" in history[1]["body"]
    (row,) = list(archive.iter_articles())
    assert row["version_count"] == 2
    assert row["version_id"] == updated.version_id
    assert row["last_seen"] == "2026-11-21T00:00:00+00:00"
    assert row["first_seen"] == "2026-11-20T10:00:00+00:00"


def test_fts_follows_the_current_version(archive: Archive) -> None:
    archive.save_batch([make_article(1, headline="Talks in Moscow")])
    assert [r["headline"] for r in archive.search("Moscow")] == ["Talks in Moscow"]
    archive.save_batch([make_article(1, headline="Talks in Vladivostok", body=OTHER_STORY)])
    assert archive.search("Vladivostok")[0]["headline"] == "Talks in Vladivostok"
    assert archive.search("snowfall")[0]["headline"] == "Talks in Vladivostok"
    # the old text is kept as a version but is no longer searchable
    assert archive.search('"foreign ministers"') == []
    assert archive.search("Moscow") == []


def test_fts_holds_exactly_the_current_versions_after_mixed_batches(archive: Archive) -> None:
    if archive.dialect != "sqlite":
        pytest.skip("SQLite only: PostgreSQL indexes every version and joins the pointer at search time")
    archive.save_batch([make_article(n) for n in range(1, 5)])
    # one batch: an article updated twice, one updated once, one unchanged, one new
    archive.save_batch([make_article(1, headline="Second"), make_article(1, headline="Third"),
                        make_article(2, body=OTHER_STORY), make_article(3), make_article(5)])
    archive.save_batch([make_article(2, body=OTHER_STORY)])  # unchanged again
    with archive.engine.connect() as conn:
        indexed = conn.execute(sa.text("SELECT id FROM articles_fts_docsize ORDER BY id")).scalars().all()
        current = conn.execute(sa.text("SELECT current_version_id FROM articles ORDER BY 1")).scalars().all()
    assert indexed == current
    assert [r["headline"] for r in archive.search("Third")] == ["Third"]
    assert archive.search("Second") == []


def test_same_text_under_another_url_is_a_duplicate(archive: Archive) -> None:
    (original,) = archive.save_batch([make_article(1)])
    copy = make_article(1, url="https://tass.com/world/1001-copy")
    (dup,) = archive.save_batch([copy])
    assert dup.outcome == "duplicate"
    assert dup.article_id == original.article_id
    assert dup.cluster_id == original.cluster_id
    assert scalar(archive, "SELECT count(*) FROM articles") == 1
    # the URL is still remembered, pointing at the original, for revisits
    state = archive.url_states(["https://tass.com/world/1001-copy"])
    assert state["https://tass.com/world/1001-copy"].content_hash == copy.content_hash
    assert scalar(archive, "SELECT article_id FROM url_state WHERE canonical_url = :u",
                  u="https://tass.com/world/1001-copy") == original.article_id


def test_outcomes_inside_one_batch(archive: Archive) -> None:
    a = make_article(1)
    results = archive.save_batch([a, a, replace(a, url="https://tass.com/x/9"),
                                  replace(a, body=a.body + " Corrected.")])
    assert [r.outcome for r in results] == ["new", "unchanged", "duplicate", "updated"]


def test_near_duplicates_share_a_cluster_and_different_stories_do_not(archive: Archive) -> None:
    original = make_article(1, body=STORY)
    rewritten = make_article(
        2, url="https://example-outlet.com/news/moscow-talks", source="outlet",
        headline="Russian and Turkish diplomats hold talks",
        body=STORY.replace("on Thursday", "on Thursday evening").replace("constructive", "useful")
        + "\n\nThe outlet contributed to this report.",
    )
    different = make_article(3, body=OTHER_STORY)
    results = archive.save_batch([original, rewritten, different])
    assert [r.outcome for r in results] == ["new", "new", "new"]
    assert results[1].cluster_id == results[0].cluster_id == results[0].article_id
    assert results[2].cluster_id == results[2].article_id != results[0].cluster_id
    # candidates came from the indexed key table
    assert scalar(archive, "SELECT count(DISTINCT article_id) FROM neardup_keys") == 3


def test_topics_are_normalised_and_follow_the_current_version(archive: Archive) -> None:
    archive.save_batch([
        make_article(1, topics=["Foreign policy", "Syrian conflict"]),
        make_article(2, body=OTHER_STORY, topics=["foreign  POLICY", "Weather"]),
    ])
    assert scalar(archive, "SELECT count(*) FROM topics") == 3
    assert [r["headline"] for r in archive.iter_articles(topic="FOREIGN policy")] == [
        "Ministers meet in Moscow, round 1", "Ministers meet in Moscow, round 2"]
    assert len(list(archive.iter_articles(topic="weather"))) == 1
    archive.save_batch([make_article(2, body=OTHER_STORY + "\n\nMore snow.", topics=["Weather"])])
    assert len(list(archive.iter_articles(topic="foreign policy"))) == 1
    (row,) = archive.iter_articles(topic="weather")
    assert row["topics"] == ["Weather"]


def test_links_resolve_in_both_directions_of_arrival(archive: Archive) -> None:
    a = make_article(1, read_also=[
        {"title": "Earlier", "url": "https://tass.com/politics/1002?utm_medium=web"},
        {"title": "Later", "url": "https://tass.com/politics/1003"},
    ])
    b = make_article(2, body=OTHER_STORY)
    ids = [r.article_id for r in archive.save_batch([b, a])]
    with archive.engine.connect() as conn:
        edges = {row.to_url: row.to_article_id
                 for row in conn.execute(sa.text("SELECT to_url, to_article_id FROM links"))}
    assert edges == {"https://tass.com/politics/1002": ids[0], "https://tass.com/politics/1003": None}
    (c,) = archive.save_batch([make_article(3, body=OTHER_STORY + "\n\nA third story follows.")])
    assert scalar(archive, "SELECT to_article_id FROM links WHERE to_url = :u",
                  u="https://tass.com/politics/1003") == c.article_id


def test_waiting_links_are_found_through_the_unresolved_url_index(sqlite_url: str) -> None:
    # the URL index covers only unresolved links: the resolving UPDATE must
    # still seek it, or every saved article would scan the whole links table
    from newsarchive.storage.save import _RESOLVE_LINKS

    with Archive(sqlite_url) as archive:
        archive.save_batch([make_article(1, read_also=[{"title": "Later", "url": "https://tass.com/politics/1003"}])])
        with archive.engine.connect() as conn:
            sql = str(_RESOLVE_LINKS.compile(dialect=conn.dialect))
            plan = " ".join(str(row[-1]) for row in conn.exec_driver_sql(
                "EXPLAIN QUERY PLAN " + sql, (1, "https://tass.com/politics/1003")))
    assert "USING INDEX ix_links_unresolved_to_url" in plan, plan


def test_url_state_and_mark_fetched(archive: Archive) -> None:
    article = make_article(1)
    archive.save_batch([article])
    states = archive.url_states(["https://tass.com/politics/1001#top", "https://tass.com/unknown"])
    assert list(states) == ["https://tass.com/politics/1001"]
    state = states["https://tass.com/politics/1001"]
    assert state.etag == '"e1"'
    assert state.last_modified == "Thu, 19 Jan 2017 10:48:00 GMT"
    assert state.content_hash == article.content_hash
    assert state.last_fetched == datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
    assert state.published == article.published
    later = datetime(2026, 11, 25, 8, 30, tzinfo=UTC)
    archive.mark_fetched("https://tass.com/politics/1001", fetched_at=later, status=304, etag='"e2"')
    state = archive.url_states(["https://tass.com/politics/1001"])["https://tass.com/politics/1001"]
    assert state.last_fetched == later
    assert state.etag == '"e2"'
    assert state.content_hash == article.content_hash
    assert state.first_seen <= datetime.now(UTC)
    assert next(archive.iter_articles())["last_seen"] == later.isoformat()
    archive.mark_fetched("https://tass.com/new-page", fetched_at=later, status=404)
    assert archive.url_states(["https://tass.com/new-page"])["https://tass.com/new-page"].content_hash is None


def test_published_keeps_its_offset_and_naive_stays_naive(archive: Archive) -> None:
    archive.save_batch([make_article(1), make_article(2, body=OTHER_STORY,
                                                      published=datetime(2020, 5, 1, 9, 30))])
    rows = list(archive.iter_articles())
    assert rows[0]["published"] == "2017-01-20T13:48:00+03:00"
    assert rows[1]["published"] == "2020-05-01T09:30:00"
    assert rows[0]["fetched_at"] == "2026-11-20T10:00:00+00:00"


def test_iter_articles_filters_and_streams_in_batches(archive: Archive) -> None:
    archive.save_batch([make_article(n, body=f"{OTHER_STORY}\n\nStory {n}.") for n in range(1, 8)]
                       + [make_article(9, source="ap", body=STORY)])
    rows = list(archive.iter_articles(batch_size=3))
    assert [r["article_id"] for r in rows] == sorted(r["article_id"] for r in rows)
    assert len(rows) == 8
    since = datetime(2017, 1, 22, tzinfo=UTC)
    until = datetime(2017, 1, 25, tzinfo=UTC)
    picked = list(archive.iter_articles(since=since, until=until, source="tass", batch_size=2))
    assert [r["published"][:10] for r in picked] == ["2017-01-22", "2017-01-23", "2017-01-24"]
    assert archive.count_articles(since=since, until=until, source="tass") == 3
    assert [r["source"] for r in archive.iter_articles(source="ap")] == ["ap"]
    assert set(rows[0]) >= {*make_article().to_dict(), "article_id", "version_count", "cluster_id",
                            "first_seen", "last_seen"}


def test_nul_characters_from_a_hostile_page_do_not_sink_the_batch(archive: Archive) -> None:
    hostile = make_article(1, headline="Head\x00line", body=STORY + "\x00", topics=["To\x00pic"],
                           source="ta\x00ss", canonical_url="https://tass.com/politics/1001\x00",
                           read_also=[{"title": "t\x00", "url": "https://tass.com/x\x00"}])
    results = archive.save_batch([hostile, make_article(2, body=OTHER_STORY)])
    assert [r.outcome for r in results] == ["new", "new"]
    row = next(archive.iter_articles())
    assert row["headline"] == "Headline"
    assert row["topics"] == ["Topic"]
    assert row["source"] == "tass"
