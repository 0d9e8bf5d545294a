"""Xinhua English (english.news.cn, formerly xinhuanet.com/english): fields and URL recognition."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sitepages import page

from newsarchive import extract
from newsarchive.article import Article
from spiders.xinhua import XinhuaSpider

URL_2023 = "https://english.news.cn/20230311/a1b2c3d4e5f60718293a4b5c6d7e8f90/c.html"
URL_2016 = "http://news.xinhuanet.com/english/2016-10/12/c_135746000.htm"
BEIJING = timedelta(hours=8)


@pytest.fixture(scope="module")
def current() -> Article:
    return extract(page("xinhua", "con_2023.html"), URL_2023)


@pytest.fixture(scope="module")
def legacy() -> Article:
    return extract(page("xinhua", "news_2016.html"), URL_2016)


def test_current_headline_and_dateline(current: Article) -> None:
    assert current.source == "xinhua"
    assert current.headline == "China opens high-speed rail link to mountain county"
    assert current.dateline == "GUIYANG, March 11 (Xinhua) --"


def test_current_published_in_beijing_time(current: Article) -> None:
    # the page shows "2023-03-11 18:32:05" with no zone: Xinhua publishes in Beijing time
    assert current.published == datetime.fromisoformat("2023-03-11T18:32:05+08:00")
    assert current.published.utcoffset() == BEIJING


def test_current_body(current: Article) -> None:
    assert current.body.startswith("A high-speed railway linking a mountain county")
    assert current.body.endswith("to the county's karst caves.")
    assert len(current.paragraphs) == 3
    for junk in ("(Xinhua)", "Editor", "Related", "Rail freight volume", "Copyright", "Share"):
        assert junk not in current.body


def test_current_topics_and_authors(current: Article) -> None:
    assert current.topics == ["rail", "Guizhou"]
    assert current.authors == []  # Xinhua names editors, not authors


def test_legacy_page(legacy: Article) -> None:
    assert legacy.source == "xinhua"
    assert legacy.headline == "Tea exports from Fujian hit record in first nine months"
    assert legacy.dateline == "FUZHOU, Oct. 12 (Xinhua) --"
    assert legacy.published == datetime.fromisoformat("2016-10-12T09:41:07+08:00")
    assert legacy.body.startswith("Tea exports from east China's Fujian Province")
    assert "Editor" not in legacy.body
    assert len(legacy.paragraphs) == 3


@pytest.mark.parametrize("url", [
    URL_2023,
    "https://english.news.cn/20240101/0123456789abcdef0123456789abcdef/c.html",
])
def test_spider_recognises_article_urls(url: str) -> None:
    assert XinhuaSpider().is_article_url(url)


@pytest.mark.parametrize("url", [
    "https://english.news.cn/",
    "https://english.news.cn/world/index.htm",
    "https://english.news.cn/20230311/a1b2c3/c.html",
    "https://english.news.cn/20230311/a1b2c3d4e5f60718293a4b5c6d7e8f90/photo.html",
    "https://www.example.com/20230311/a1b2c3d4e5f60718293a4b5c6d7e8f90/c.html",
])
def test_spider_rejects_other_urls(url: str) -> None:
    assert not XinhuaSpider().is_article_url(url)


def test_spider_accepts_the_old_english_urls_on_xinhuanet() -> None:
    spider = XinhuaSpider()
    assert spider.is_article_url(URL_2016)
    assert spider.is_article_url("http://www.xinhuanet.com/english/2017-12/11/c_136816473.htm")
    assert not spider.is_article_url("http://www.xinhuanet.com/politics/2017-12/11/c_1122092211.htm")
