"""AP (apnews.com): both page designs, field by field, and the spider's URL recognition."""

from __future__ import annotations

from datetime import datetime

import pytest
from sitepages import page

from newsarchive import extract
from newsarchive.article import Article
from spiders.ap import PROFILE, ApSpider

TITANIUM_URL = "https://apnews.com/article/chile-ferry-harbor-valparaiso-0a1b2c3d4e5f60718293a4b5c6d7e8f9"
BRIGHTSPOT_URL = "https://apnews.com/article/maine-offshore-wind-permit-9f8e7d6c5b4a39281706f5e4d3c2b1a0"


@pytest.fixture(scope="module")
def titanium() -> Article:
    return extract(page("ap", "titanium_2023.html"), TITANIUM_URL, profile=PROFILE)


@pytest.fixture(scope="module")
def brightspot() -> Article:
    # no profile passed: the entry-point registry must find ours from the URL's host
    return extract(page("ap", "brightspot_2025.html"), BRIGHTSPOT_URL)


def test_titanium_headline_and_dateline(titanium: Article) -> None:
    assert titanium.source == "ap"
    assert titanium.headline == "Harbor ferry line opens in Valparaiso after two-year delay"
    assert titanium.dateline == "VALPARAISO, Chile (AP) —"


def test_titanium_published_with_offset(titanium: Article) -> None:
    assert titanium.published == datetime.fromisoformat("2023-05-08T14:05:11+00:00")
    assert titanium.published.utcoffset() is not None


def test_titanium_body(titanium: Article) -> None:
    assert titanium.body.startswith("A harbor ferry line linking the port’s two hillsides")
    assert titanium.body.endswith("keeps the crossing cheaper than the bus.")
    assert len(titanium.paragraphs) == 4
    for junk in ("(AP)", "Related topics", "AP Photo", "Click to copy", "All contents ©", "Cookie Settings"):
        assert junk not in titanium.body


def test_titanium_topics_authors_language(titanium: Article) -> None:
    assert titanium.topics == ["Chile", "Valparaiso", "Latin America"]
    # the agency is the wire, not an author (issue 15 item 6)
    assert titanium.authors == []
    assert titanium.wire == "AP"
    assert titanium.language == "en"


def test_brightspot_uses_the_registered_profile(brightspot: Article) -> None:
    assert brightspot.source == "ap"


def test_brightspot_headline_dateline_dates(brightspot: Article) -> None:
    assert brightspot.headline == "Wind farm off Maine coast wins final federal permit"
    assert brightspot.dateline == "PORTLAND, Maine (AP) —"
    assert brightspot.published == datetime.fromisoformat("2025-02-11T16:42:07+00:00")
    assert brightspot.updated == datetime.fromisoformat("2025-02-11T19:03:44+00:00")


def test_brightspot_body_stops_before_the_separator(brightspot: Article) -> None:
    assert brightspot.body.startswith("A wind farm planned twenty miles off the Maine coast")
    assert brightspot.paragraphs[-1] == (
        "Associated Press writer Ana Buoy in Boston contributed to this report."
    )
    for junk in ("___", "Follow AP’s climate coverage", "ADVERTISEMENT", "Related Stories",
                 "Lobster season opens", "Listen to this article", "AP Photo", "Copyright 2025"):
        assert junk not in brightspot.body
    assert len(brightspot.paragraphs) == 5


def test_brightspot_related_stories_become_read_also(brightspot: Article) -> None:
    assert brightspot.read_also == [{
        "title": "Lobster season opens with record prices",
        "url": "https://apnews.com/article/maine-lobster-season-0123456789abcdef0123456789abcdef",
    }]


def test_brightspot_topics_and_authors(brightspot: Article) -> None:
    assert brightspot.topics == ["Maine", "Wind power", "Climate"]
    assert brightspot.authors == ["Jane Harbor", "Tom Keel"]


@pytest.mark.parametrize("url", [
    "https://apnews.com/article/maine-offshore-wind-permit-9f8e7d6c5b4a39281706f5e4d3c2b1a0",
    "https://apnews.com/article/9f8e7d6c5b4a39281706f5e4d3c2b1a0",
    "https://apnews.com/6ad6d5b61c8359fbe2bc8e2c65e8a69d",
    "https://www.apnews.com/article/a-b-c-0123456789abcdef0123456789abcdef/",
])
def test_spider_recognises_article_urls(url: str) -> None:
    assert ApSpider().is_article_url(url)


@pytest.mark.parametrize("url", [
    "https://apnews.com/",
    "https://apnews.com/hub/ap-top-news",
    "https://apnews.com/hub/0123456789abcdef0123456789abcdef",
    "https://apnews.com/video/some-clip-0123456789abcdef0123456789abcdef",
    "https://apnews.com/article/too-short-0123456789abcdef",
    "https://apnews.com/index.rss",
    "https://example.com/article/maine-offshore-wind-permit-9f8e7d6c5b4a39281706f5e4d3c2b1a0",
])
def test_spider_rejects_other_urls(url: str) -> None:
    assert not ApSpider().is_article_url(url)


def test_spider_declares_feeds_and_sitemaps() -> None:
    info = ApSpider.discovery()
    assert info["feeds"] == ["/index.rss"]
    assert "/news-sitemap-content.xml" in info["sitemaps"]
