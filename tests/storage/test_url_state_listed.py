"""url_state.listed_modified: the times listings gave at the last fetch (issue 14, revisits)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

from archive_helpers import make_article

from newsarchive.article import FetchInfo
from newsarchive.storage import Archive

MSK = timezone(timedelta(hours=3))
LISTED = datetime(2026, 11, 20, 10, 0, tzinfo=MSK)


def _state(archive: Archive, url: str) -> dict[str, datetime] | None:
    (state,) = archive.url_states([url]).values()
    return dict(state.listed_modified) if state.listed_modified is not None else None


def test_a_save_records_the_listing_time_and_a_page_without_one_keeps_it(archive: Archive) -> None:
    article = make_article(1, fetch=FetchInfo(status=200, listing="/sitemap.xml", listed_modified=LISTED))
    archive.save_batch([article])
    assert _state(archive, article.url) == {"/sitemap.xml": LISTED}
    # fetched again from a section page (no listing time): the sitemap's value stays the baseline
    archive.save_batch([replace(article, fetch=FetchInfo(status=200, discovered_via="section"))])
    assert _state(archive, article.url) == {"/sitemap.xml": LISTED}
    # fetched from the feed: the value that listing gave replaces the record
    later = LISTED + timedelta(hours=1)
    archive.save_batch([replace(article, fetch=FetchInfo(status=200, listing="/rss/v2.xml",
                                                         listed_modified=later))])
    assert _state(archive, article.url) == {"/rss/v2.xml": later}


def test_adopt_adds_only_listings_not_yet_recorded_and_a_304_records_its_listing(archive: Archive) -> None:
    article = make_article(2, fetch=FetchInfo(status=200, listing="/sitemap.xml", listed_modified=LISTED))
    archive.save_batch([article])
    other = LISTED - timedelta(days=1)
    archive.adopt_listed({
        article.url: {"/sitemap.xml": other, "/rss/v2.xml": other},
        "https://tass.com/never/archived": {"/sitemap.xml": other},  # no row: nothing written
    })
    assert _state(archive, article.url) == {"/sitemap.xml": LISTED, "/rss/v2.xml": other}
    assert archive.url_states(["https://tass.com/never/archived"]) == {}
    newer = LISTED + timedelta(days=1)
    archive.mark_fetched(article.url, fetched_at=datetime.now(UTC), status=304,
                         listing="/sitemap.xml", listed_modified=newer)
    assert _state(archive, article.url) == {"/sitemap.xml": newer}
