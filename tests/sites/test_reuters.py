"""Reuters (reuters.com): the 2023 and 2024 Arc pages, field by field, and URL recognition."""

from __future__ import annotations

from datetime import datetime

import pytest
from sitepages import page

from newsarchive import extract
from newsarchive.article import Article
from spiders.reuters import PROFILE, ReutersSpider

URL_2023 = "https://www.reuters.com/markets/commodities/chilean-copper-miners-vote-end-week-long-strike-2023-06-14/"
URL_2024 = "https://www.reuters.com/markets/funds/norways-wealth-fund-trims-bond-holdings-2024-09-03/"


@pytest.fixture(scope="module")
def arc2023() -> Article:
    return extract(page("reuters", "arc_2023.html"), URL_2023, profile=PROFILE)


@pytest.fixture(scope="module")
def arc2024() -> Article:
    return extract(page("reuters", "arc_2024.html"), URL_2024)


def test_headline_dateline_published(arc2023: Article) -> None:
    assert arc2023.source == "reuters"
    assert arc2023.headline == "Chilean copper miners vote to end week-long strike"
    assert arc2023.dateline == "SANTIAGO, June 14 (Reuters) -"
    assert arc2023.published == datetime.fromisoformat("2023-06-14T21:37:02+00:00")
    assert arc2023.published.utcoffset() is not None


def test_body_is_the_story_only(arc2023: Article) -> None:
    assert arc2023.body.startswith("Workers at a northern Chilean copper mine voted on Wednesday")
    assert arc2023.body.endswith("closely watched by metal traders.")
    assert len(arc2023.paragraphs) == 4
    for junk in ("(Reuters)", "Advertisement", "Scroll to continue", "REUTERS/", "Reporting by",
                 "Trust Principles", "Read Next", "Peru zinc", "Embedded post", "Sign In", "newsletter"):
        assert junk not in arc2023.body


def test_topics_are_names_not_subject_codes(arc2023: Article) -> None:
    # meta keywords hold codes like "MIN,MINE,LABR"; the page's section and channel are the topics
    assert arc2023.topics == ["Commodities", "Markets"]


def test_authors_and_description(arc2023: Article) -> None:
    assert arc2023.authors == ["Maria Salar", "Diego Pinto"]
    assert arc2023.description.startswith("Workers at a northern Chilean copper mine")


def test_2024_page_found_through_the_registry(arc2024: Article) -> None:
    assert arc2024.source == "reuters"
    assert arc2024.dateline == "OSLO, Sept 3 (Reuters) -"
    assert arc2024.published == datetime.fromisoformat("2024-09-03T07:15:00+00:00")
    assert arc2024.topics == ["Funds", "Markets"]
    assert arc2024.authors == ["Ingrid Fjell"]


def test_2024_body_without_link_suffixes_promos_and_bio(arc2024: Article) -> None:
    assert arc2024.paragraphs[0].endswith("shifted money into property and unlisted infrastructure.")
    assert arc2024.paragraphs[-1].startswith("Its deputy chief executive said")
    assert len(arc2024.paragraphs) == 3
    for junk in ("opens new tab", "Sign up here", "Advertisement", "covers Nordic markets", "Krone slips"):
        assert junk not in arc2024.body


@pytest.mark.parametrize("url", [
    URL_2023,
    "https://www.reuters.com/world/us/san-francisco-police-test-2023-10-10/",
    "https://www.reuters.com/business/aerospace-defense/nepal-says-test-2023-04-25",
    "https://www.reuters.com/article/us-eurozone-test/eu-leaders-meet-idUSTRE7AC15K20111114",
    "https://reuters.com/technology/chipmaker-shares-2024-01-02/",
])
def test_spider_recognises_article_urls(url: str) -> None:
    assert ReutersSpider().is_article_url(url)


@pytest.mark.parametrize("url", [
    "https://www.reuters.com/",
    "https://www.reuters.com/world/",
    "https://www.reuters.com/markets/commodities/",
    "https://www.reuters.com/authors/maria-salar/",
    "https://www.reuters.com/video/watch/clip-2023-06-14/",
    "https://www.reuters.com/arc/outboundfeeds/news-sitemap-index/?outputType=xml",
    "https://www.reuters.example/world/us/some-story-2023-10-10/",
])
def test_spider_rejects_other_urls(url: str) -> None:
    assert not ReutersSpider().is_article_url(url)


def test_spider_declares_sitemaps_and_its_block_risk() -> None:
    info = ReutersSpider.discovery()
    assert "/arc/outboundfeeds/news-sitemap-index/?outputType=xml" in info["sitemaps"]
    assert "DataDome" in info["extra"]
