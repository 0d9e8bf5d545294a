"""Anadolu Agency (aa.com.tr/en): the "detay" page design field by field, and URL recognition."""

from __future__ import annotations

from datetime import datetime

import pytest
from sitepages import page

from newsarchive import extract
from newsarchive.article import Article
from spiders.anadolu import PROFILE, AnadoluSpider

URL = "https://www.aa.com.tr/en/turkiye/turkish-ferry-operator-adds-night-crossings-on-the-bosphorus/3612345"


@pytest.fixture(scope="module")
def article() -> Article:
    return extract(page("anadolu", "detay_2025.html"), URL, profile=PROFILE)


def test_headline_lead_section(article: Article) -> None:
    assert article.source == "anadolu"
    assert article.headline == "Turkish ferry operator adds night crossings on the Bosphorus"
    assert article.description.startswith("City-owned operator says new late-evening services")
    assert article.section == "Türkiye"


def test_dateline_is_the_place_heading(article: Article) -> None:
    assert article.dateline == "ISTANBUL"
    assert not article.body.startswith("ISTANBUL")


def test_published_is_day_first_in_istanbul_time(article: Article) -> None:
    # "12.03.2025 - Update : 13.03.2025": 12 March, not 3 December
    assert article.published == datetime.fromisoformat("2025-03-12T00:00:00+03:00")
    assert article.published_raw == "12.03.2025"
    assert article.updated == datetime.fromisoformat("2025-03-13T00:00:00+03:00")


def test_body(article: Article) -> None:
    assert article.body.startswith("Istanbul's municipal ferry operator will add night crossings")
    assert article.body.endswith("the same as daytime fares, the statement added.")
    assert '"Demand has doubled"' in article.paragraphs
    assert len(article.paragraphs) == 5
    for junk in ("subscription", "Related topics", "Share this news", "Similar news", "New metro line",
                 "Trending", "Lira steady", "© Anadolu"):
        assert junk not in article.body
    assert article.read_also == []


def test_topics_authors_language(article: Article) -> None:
    # the tag links; meta keywords add the agency's own name, which is not a topic
    assert article.topics == ["Bosphorus", "ferry", "Istanbul transport"]
    assert article.authors == ["Deniz Kaptan"]
    assert article.language == "en"


@pytest.mark.parametrize("url", [
    URL,
    "https://aa.com.tr/en/world/summit-ends-with-joint-statement/3611111",
    "https://www.aa.com.tr/en/europe/some-story/584358/",
])
def test_spider_recognises_article_urls(url: str) -> None:
    assert AnadoluSpider().is_article_url(url)


@pytest.mark.parametrize("url", [
    "https://www.aa.com.tr/en",
    "https://www.aa.com.tr/en/turkiye",
    "https://www.aa.com.tr/en/search/?s=ferry&tag=1",
    "https://www.aa.com.tr/en/p/subscription/1001",
    "https://www.aa.com.tr/tr/ekonomi/turkce-bir-haber/3529015",
    "https://www.aa.com.tr/en/rss/default?cat=world",
])
def test_spider_rejects_other_urls(url: str) -> None:
    assert not AnadoluSpider().is_article_url(url)


def test_2026_design_falls_back_to_structured_data() -> None:
    # the redesign drops span.tarih and the "|" byline: the profile's selectors miss and
    # the generic layer (JSON-LD) fills those fields; the lead and div[dir] text still match
    url = "https://www.aa.com.tr/en/turkiye/black-sea-fishing-fleet-returns-early-as-storms-close-ports/4021234"
    article = extract(page("anadolu", "v2_2026.html"), url)
    assert article.source == "anadolu"
    assert article.published == datetime.fromisoformat("2026-05-14T09:20:00+03:00")
    assert article.updated == datetime.fromisoformat("2026-05-14T11:05:00+03:00")
    assert article.authors == ["Selin Dalga"]
    assert article.topics == ["Black Sea", "fishing", "storm"]
    assert article.description == "Fishermen say the season lost two weeks to gales along the northern coast"
    assert article.paragraphs == [
        "Fishing boats along Türkiye's Black Sea coast returned to harbor early this week after storms "
        "closed several ports, the regional fisheries cooperative said on Thursday.",
        "Season cut short",
        "The cooperative said the fleet had lost about two weeks of the season to gales, and that anchovy "
        "catches were well below last year's.",
        "Port authorities expect to reopen the harbors once wind speeds drop over the weekend.",
    ]
