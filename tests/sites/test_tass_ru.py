"""TASS in Russian (tass.ru): the 2020-21 and the 2016-17 designs field by field, and URL recognition."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sitepages import page

from newsarchive import extract
from newsarchive.article import Article
from spiders.tass_ru import PROFILE, TassRuSpider

MSK = timedelta(hours=3)


@pytest.fixture(scope="module")
def news() -> Article:
    return extract(page("tass_ru", "news_header_2021.html"), "https://tass.ru/obschestvo/11789012")


@pytest.fixture(scope="module")
def material() -> Article:
    return extract(page("tass_ru", "b_material_2016.html"), "https://tass.ru/mezhdunarodnaya-panorama/3835411",
                   profile=PROFILE)


def test_news_header_fields(news: Article) -> None:
    assert news.source == "tass_ru"
    assert news.headline == "В Подмосковье открыли новый речной причал"
    assert news.description == "Причал рассчитан на прием четырех прогулочных судов одновременно"
    assert news.dateline == "ДМИТРОВ /Московская область/, 30 июня. /ТАСС/."
    assert news.language == "ru"


def test_news_header_published_from_the_epoch_attribute(news: Article) -> None:
    assert news.published == datetime(2021, 6, 30, 7, 15, tzinfo=UTC)
    assert news.published.utcoffset() == MSK
    assert news.published_raw == "1625037300"


def test_news_header_body_joins_all_text_blocks(news: Article) -> None:
    assert news.body.startswith("Новый речной причал открылся на канале")
    assert news.body.endswith("билеты можно купить в кассе на причале.")
    assert len(news.paragraphs) == 4
    for junk in ("/ТАСС/", "{{", "Фото", "Самое читаемое", "Курс рубля", "Реклама", "Все права"):
        assert junk not in news.body


def test_news_header_topics(news: Article) -> None:
    assert news.topics == ["Транспорт", "Подмосковье"]


def test_b_material_fields(material: Article) -> None:
    assert material.headline == "Итальянские фермеры собрали рекордный урожай оливок"
    assert material.description == "Урожай в южных регионах оказался на треть больше прошлогоднего"
    assert material.dateline == "РИМ, 3 декабря. /Корр. ТАСС Анна Олива/."
    assert material.language == "ru"


def test_b_material_published_without_a_year_is_kept_raw(material: Article) -> None:
    # the page shows no year ("3 декабря, 12:00") and its URL none: no year is taken from today
    assert material.published_raw == "3 декабря, 12:00"
    assert material.published is None
    assert any("3 декабря, 12:00" in w for w in material.warnings)


def test_b_material_body_without_inline_links_and_extras(material: Article) -> None:
    assert material.body.startswith("Фермеры юга Италии собрали")
    assert material.body.endswith("снизятся уже к весне.")
    assert len(material.paragraphs) == 3
    for junk in ("Корр. ТАСС", "Читайте также", "Цены на оливковое", "Новости партнеров", "Трансляция"):
        assert junk not in material.body


def test_b_material_inline_links_become_read_also(material: Article) -> None:
    assert material.read_also == [
        {"title": "Цены на оливковое масло снизились", "url": "https://tass.ru/ekonomika/3811111"},
        {"title": "В Испании начался сезон сбора", "url": "https://tass.ru/mezhdunarodnaya-panorama/3812222"},
    ]


@pytest.mark.parametrize("url", [
    "https://tass.ru/obschestvo/11789012",
    "https://tass.ru/ekonomika/27962029",
    "https://tass.ru/politika/3835411/",
    "https://nauka.tass.ru/kosmos/10537195",
    "https://itar-tass.com/politika/1234567",
])
def test_spider_recognises_article_urls(url: str) -> None:
    assert TassRuSpider().is_article_url(url)


@pytest.mark.parametrize("url", [
    "https://tass.ru/",
    "https://tass.ru/politika",
    "https://tass.ru/tag/transport",
    "https://tass.ru/rss/v2.xml",
    "https://tass.ru/obschestvo/12345",
    "https://tass.com/politics/1894093",
])
def test_spider_rejects_other_urls(url: str) -> None:
    assert not TassRuSpider().is_article_url(url)


def test_spider_follows_only_the_news_sitemaps() -> None:
    spider = TassRuSpider()
    assert any(r.search("https://tass.ru/sitemap/sitemap_news3.xml") for r in spider._follow_re)
    assert not any(r.search("https://tass.ru/sitemap/sitemap_tags.xml") for r in spider._follow_re)
    assert "/rss/yandex.xml" in TassRuSpider.discovery()["feeds"]
