"""Interfax (interfax.ru): an article page field by field, URL recognition and day-archive backfill."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sitepages import page

from newsarchive import extract
from newsarchive.article import Article
from spiders.interfax import MAX_ARCHIVE_DAYS, InterfaxSpider, archive_days

URL = "https://www.interfax.ru/russia/791234"


@pytest.fixture(scope="module")
def article() -> Article:
    # the fixture is windows-1251 encoded, as the site's pages declare
    return extract(page("interfax", "article_2021.html"), URL)


def test_headline_and_dateline(article: Article) -> None:
    assert article.source == "interfax"
    assert article.headline == "Аэропорт Пулково продлил время работы ночного терминала"
    assert article.dateline == "Санкт-Петербург. 19 сентября. INTERFAX.RU -"


def test_published_with_moscow_offset(article: Article) -> None:
    assert article.published == datetime.fromisoformat("2021-09-19T10:42:00+03:00")
    assert article.published.utcoffset() == timedelta(hours=3)


def test_body_without_byline_and_related(article: Article) -> None:
    assert article.body.startswith("Аэропорт Пулково с понедельника продлит работу ночного терминала")
    assert article.body.endswith("и один пункт досмотра.")
    assert len(article.paragraphs) == 3
    for junk in ("INTERFAX.RU", "Автор", "авиация", "табло вылетов", "Главное", "Все права"):
        assert junk not in article.body


def test_topics_authors_language(article: Article) -> None:
    assert article.topics == ["авиация", "Санкт-Петербург"]
    assert article.authors == ["Петр Сидоров"]
    assert article.language == "ru"


@pytest.mark.parametrize("url", [
    URL,
    "https://www.interfax.ru/world/740192",
    "https://interfax.ru/business/756876/",
])
def test_spider_recognises_article_urls(url: str) -> None:
    assert InterfaxSpider().is_article_url(url)


@pytest.mark.parametrize("url", [
    "https://www.interfax.ru/",
    "https://www.interfax.ru/russia/",
    "https://www.interfax.ru/news/2021/09/19",
    "https://www.interfax.ru/tags/aviatsiya",
    "https://www.interfax.ru/rss.asp",
    "https://www.interfax.com/newsroom/top-stories/76814/",
])
def test_spider_rejects_other_urls(url: str) -> None:
    assert not InterfaxSpider().is_article_url(url)


def test_backfill_walks_the_day_archives_of_the_range() -> None:
    spider = InterfaxSpider(since="2021-09-17", until="2021-09-19")
    assert spider.sections == ("/news/2021/09/19", "/news/2021/09/18", "/news/2021/09/17")
    assert InterfaxSpider().sections == ("/news/",)


def test_backfill_span_is_bounded() -> None:
    until = datetime(2021, 9, 19, tzinfo=UTC)
    days = archive_days(until - timedelta(days=5000), until)
    assert len(days) == MAX_ARCHIVE_DAYS
    assert days[0] == "/news/2021/09/19"


DAY_PAGE = """<html><body>
<div class="an"><div><a href="/russia/791234">Аэропорт Пулково продлил время работы</a></div>
<div><a href="/world/791230">Новость дня</a></div><div><a href="/tags/aviatsiya">авиация</a></div></div>
<div class="pages"><a href="/news/2021/09/19">1</a><a href="/news/2021/09/19/page_2">2</a>
<a href="/news/2021/09/19/page_3">3</a><a href="https://elsewhere.example/news/page_4">4</a></div>
</body></html>"""


def day_spider() -> InterfaxSpider:
    from scrapy.utils.test import get_crawler

    crawler = get_crawler(InterfaxSpider, {"NEWSARCHIVE_REVISIT_ENABLED": False})
    return crawler._create_spider(since="2021-09-19", until="2021-09-19")


def test_day_archive_yields_articles_and_all_its_pages_once() -> None:
    from scrapy.http import HtmlResponse, Request

    spider = day_spider()
    url = "https://www.interfax.ru/news/2021/09/19"
    spider._seen_listings.add(url)
    first = HtmlResponse(url, body=DAY_PAGE.encode(), encoding="utf-8",
                         request=Request(url, meta={"newsarchive_page": 1}))
    requests = list(spider.parse_section(first))
    articles = sorted(r.url for r in requests if r.callback == spider.parse_article)
    pages = sorted(r.url for r in requests if r.callback == spider.parse_section)
    assert articles == ["https://www.interfax.ru/russia/791234", "https://www.interfax.ru/world/791230"]
    assert pages == ["https://www.interfax.ru/news/2021/09/19/page_2", "https://www.interfax.ru/news/2021/09/19/page_3"]

    # a later page lists the same pager: nothing is requested twice
    second = HtmlResponse(pages[0], body=DAY_PAGE.encode(), encoding="utf-8",
                          request=Request(pages[0], meta={"newsarchive_paginate": False}))
    assert [r for r in spider.parse_section(second) if r.callback == spider.parse_section] == []
