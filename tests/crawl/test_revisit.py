"""The revisit policy: which archived URLs are fetched again."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from newsarchive.crawl.revisit import RevisitPolicy

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


@dataclass
class State:
    first_seen: datetime | None
    last_fetched: datetime | None
    published: datetime | None = None
    etag: str | None = '"abc"'
    last_modified: str | None = "Fri, 27 Nov 2026 06:00:00 GMT"
    listed_modified: dict[str, datetime] | None = None


def test_unknown_urls_are_fetched() -> None:
    assert RevisitPolicy().decide(None, None, NOW) == "new"


def test_old_article_is_not_fetched_again() -> None:
    state = State(first_seen=NOW - timedelta(days=30), last_fetched=NOW - timedelta(days=2),
                  published=NOW - timedelta(days=30))
    assert RevisitPolicy().decide(state, None, NOW) is None
    assert RevisitPolicy().decide(state, NOW - timedelta(days=29), NOW) is None


def test_listing_lastmod_newer_than_our_fetch_triggers_a_revisit() -> None:
    state = State(first_seen=NOW - timedelta(days=30), last_fetched=NOW - timedelta(days=2))
    assert RevisitPolicy().decide(state, NOW - timedelta(hours=1), NOW) == "modified"


def test_young_articles_are_revisited_after_the_interval_only() -> None:
    policy = RevisitPolicy()
    young_stale = State(first_seen=NOW - timedelta(hours=20), last_fetched=NOW - timedelta(hours=7),
                        published=NOW - timedelta(hours=20))
    young_fresh = State(first_seen=NOW - timedelta(hours=20), last_fetched=NOW - timedelta(hours=2),
                        published=NOW - timedelta(hours=20))
    too_old = State(first_seen=NOW - timedelta(hours=50), last_fetched=NOW - timedelta(hours=7),
                    published=NOW - timedelta(hours=50))
    assert policy.decide(young_stale, None, NOW) == "young"
    assert policy.decide(young_fresh, None, NOW) is None
    assert policy.decide(too_old, None, NOW) is None


def test_thresholds_are_configurable() -> None:
    state = State(first_seen=NOW - timedelta(hours=50), last_fetched=NOW - timedelta(hours=2),
                  published=NOW - timedelta(hours=50))
    policy = RevisitPolicy(young_age=timedelta(hours=72), min_interval=timedelta(hours=1))
    assert policy.decide(state, None, NOW) == "young"


def test_refetch_forces_and_skips_conditional_headers() -> None:
    state = State(first_seen=NOW - timedelta(days=300), last_fetched=NOW - timedelta(minutes=1))
    policy = RevisitPolicy(refetch=True)
    assert policy.decide(state, None, NOW) == "refetch"
    assert policy.conditional_headers(state, "refetch") == {}


def test_revisits_are_conditional_requests() -> None:
    state = State(first_seen=NOW - timedelta(hours=20), last_fetched=NOW - timedelta(hours=7))
    assert RevisitPolicy.conditional_headers(state, "young") == {
        "If-None-Match": '"abc"', "If-Modified-Since": "Fri, 27 Nov 2026 06:00:00 GMT",
    }
    assert RevisitPolicy.conditional_headers(None, "new") == {}


def test_a_listing_time_that_differs_from_the_one_at_our_fetch_triggers_a_revisit() -> None:
    fetched = NOW - timedelta(days=2)
    listed = NOW - timedelta(days=10)  # the listing's clock runs behind ours
    state = State(first_seen=NOW - timedelta(days=30), last_fetched=fetched,
                  listed_modified={"/sitemap.xml": listed})
    policy = RevisitPolicy()
    assert policy.decide(state, listed, NOW, "/sitemap.xml") is None
    assert policy.decide(state, listed + timedelta(hours=3), NOW, "/sitemap.xml") == "modified"
    # another listing's own time is not compared with the sitemap's (a feed gives pubDate)
    assert policy.decide(state, listed - timedelta(hours=1), NOW, "/rss/v2.xml") is None
    assert policy.decide(state, None, NOW, "/sitemap.xml") is None
