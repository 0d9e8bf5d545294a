"""NewsSpider's URL rules and arguments (no crawl needed)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from newsarchive.errors import NewsarchiveError
from spiders.base import parse_bound
from spiders.tass import TassSpider


def test_declared_site_by_default() -> None:
    spider = TassSpider()
    assert spider.allowed_domains == ["tass.com", "www.tass.com"]
    assert spider.localise("https://tass.com/politics/1") == "https://tass.com/politics/1"


def test_base_url_rewrites_links_to_the_copy() -> None:
    spider = TassSpider(base_url="http://127.0.0.1:8123/")
    assert spider.allowed_domains == ["127.0.0.1"]
    assert spider.localise("https://www.tass.com/world/2?x=1#frag") == "http://127.0.0.1:8123/world/2?x=1"
    assert spider.localise("https://example.org/world/2") == "https://example.org/world/2"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://tass.com/politics/925235", True),
        ("https://tass.com/military-operation-in-ukraine/2198439/", True),
        ("https://tass.com/world/900103?utm_source=rss&utm_medium=feed", True),  # tracking only
        ("https://tass.com/world/900103?page=2", False),
        ("https://tass.com/politics", False),
        ("https://tass.com/contacts/12", False),  # denied
        ("https://example.org/politics/1", False),  # off-site
    ],
)
def test_article_url_rule(url: str, expected: bool) -> None:
    assert TassSpider().is_article_url(url) is expected


def test_bounds() -> None:
    assert parse_bound("2026-11-04") == datetime(2026, 11, 4, tzinfo=UTC)
    assert parse_bound("2026-11-12", end=True) == datetime(2026, 11, 12, 23, 59, 59, 999999, tzinfo=UTC)
    assert parse_bound("2026-11-04T10:00:00+03:00") == datetime.fromisoformat("2026-11-04T10:00:00+03:00")
    assert parse_bound(None) is None
    with pytest.raises(NewsarchiveError):
        parse_bound("last week")
    spider = TassSpider(since="2026-11-04", until="2026-11-12", max_articles="5", refetch="true")
    assert spider.in_range(datetime(2026, 11, 12, 20, 0, tzinfo=UTC))
    assert not spider.in_range(datetime(2026, 11, 3, 23, 0, tzinfo=UTC))
    assert spider.in_range(None)  # undated entries are fetched and judged by the page's date
    assert spider.max_articles == 5
    assert spider.refetch is True


def test_a_malformed_link_on_a_section_page_costs_only_that_link() -> None:
    from scrapy.http import HtmlResponse

    spider = TassSpider()
    page = HtmlResponse(
        "https://tass.com/politics", encoding="utf-8",
        body=b'<a href="http://[broken/politics/1">x</a><a href="/politics/900101">y</a>'
             b'<a href="javascript:void(0)">z</a>',
    )
    assert spider.article_links(page) == ["https://tass.com/politics/900101"]
