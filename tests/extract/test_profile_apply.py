"""Site profiles override single fields on top of the generic layer; the registry finds them by host."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsarchive import extract
from newsarchive.extract import registry
from newsarchive.extract.profile import SiteProfile

FIXTURES = Path(__file__).parent.parent / "fixtures" / "extract"
URL = "https://tass.com/society/900000"

PROFILE = SiteProfile(
    name="tasslike",
    domains=("tass.com",),
    language="en",
    timezone="Europe/Moscow",
    fields={
        "headline": ("h1.b-material__title::text",),
        "published": ("div.b-material__date::text",),
        "topics": ("div.tags a::text",),
        "section": ("xpath://div[@class='no-such-thing']/text()", "div.tags span::text"),
        "authors": ("div.no-author::text",),  # misses: the generic layer's value stays
    },
    body=("div.b-material-text__l",),
    drop=("div.banner-place",),
    read_also=("div.b-links",),
)


@pytest.fixture(scope="module")
def html() -> bytes:
    return (FIXTURES / "tass_like_2017.html").read_bytes()


def test_profile_fields_override(html):
    article = extract(html, URL, profile=PROFILE)
    assert article.source == "tasslike"
    assert article.headline == "Ministers agree on a new river ferry schedule"
    assert article.topics == ["Transport", "Regions"]
    assert article.section == "Topics"  # the second selector, after the first missed
    assert article.authors == []
    # the page prints no year and its URL has none: the year is not taken from today
    assert article.published_raw == "January 19, 13:48 UTC+3"
    assert article.published is None
    assert any("January 19, 13:48 UTC+3" in w for w in article.warnings)


def test_profile_timestamp_takes_its_year_from_the_url(html):
    article = extract(html, "https://tass.com/society/2017/01/25/900000", profile=PROFILE)
    assert article.published_raw == "January 19, 13:48 UTC+3"
    assert article.published is not None
    assert article.published.isoformat() == "2017-01-19T13:48:00+03:00"
    assert article.warnings == []


def test_profile_body_drop_and_read_also(html):
    article = extract(html, URL, profile=PROFILE)
    assert article.dateline == "MOSCOW, January 19. /TASS/."
    assert article.body.startswith("The transport and regional ministers agreed")
    assert "Реклама" not in article.body
    assert "Read also" not in article.body
    assert len(article.paragraphs) == 4
    assert [r["url"] for r in article.read_also] == [
        "https://tass.com/society/900001",
        "https://tass.com/society/900002",
    ]


def test_broken_selector_costs_only_its_field(html):
    broken = SiteProfile(name="broken", domains=("tass.com",), fields={"headline": ("div[[[",)})
    article = extract(html, URL, profile=broken)
    assert article.headline == "Ministers agree on a new river ferry schedule"  # generic fallback
    assert article.body.startswith("The transport and regional ministers agreed")


def test_registry_finds_profile_by_host(monkeypatch):
    specific = SiteProfile(name="specific", domains=("news.example.com",))
    general = SiteProfile(name="general", domains=("example.com",))
    monkeypatch.setattr(registry, "_profiles", {"specific": specific, "general": general})
    assert registry.profile_for("https://news.example.com/a/1") is specific
    assert registry.profile_for("https://www.example.com/a/1") is general
    assert registry.profile_for("https://example.com.evil.org/a/1") is None
    assert registry.profile_for("not a url") is None
    assert registry.profile_for(None) is None


def test_extract_uses_registered_profile(monkeypatch, html):
    monkeypatch.setattr(registry, "_profiles", {"tasslike": PROFILE})
    assert extract(html, URL).source == "tasslike"
    assert extract(html, "https://elsewhere.example/x").source == "elsewhere.example"


def test_profile_dateline_is_cut_from_the_body():
    html = (
        "<html><body><h1>Title</h1><div class='story'>"
        "<p>Somewhere: The news of the day is long enough to count as prose here.</p>"
        "<p>Second paragraph with more of the story, long enough as well.</p></div></body></html>"
    )
    # Title case: the generic dateline parser does not take it; the profile names it.
    profile = SiteProfile(name="p", domains=("x.example",), fields={"dateline": ("xpath:'Somewhere'",)})
    article = extract(html, "https://x.example/1", profile=profile)
    assert article.dateline == "Somewhere"
    assert article.body.startswith("The news of the day")
