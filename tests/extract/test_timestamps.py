"""Which of a page's timestamps is its publication time, and in which zone: invented pages."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from newsarchive import extract
from newsarchive.extract.profile import SiteProfile

STORY = "".join(
    f"<p>Paragraph {i} of the invented harbour story is long enough to be kept as prose.</p>"
    for i in range(4)
)


def page(head: str = "", byline: str = "", *, ld: dict[str, object] | None = None) -> str:
    if ld is not None:
        head += f'<script type="application/ld+json">{json.dumps({"@type": "NewsArticle", **ld})}</script>'
    return (f"<html><head><title>Harbour reopens</title>{head}</head><body><article>"
            f"<h1>Harbour reopens after the storm</h1>{byline}{STORY}</article></body></html>")


def meta(prop: str, content: str) -> str:
    return f'<meta property="{prop}" content="{content}">'


def tz(hours: float) -> timezone:
    return timezone(timedelta(hours=hours))


# (page, url, expected ISO string of Article.published)
CASES = {
    # a meta tag labels a Tokyo wall clock as UTC; the page's own epoch is the instant, shown in that zone
    "epoch beats a wall clock labelled UTC": (
        page(meta("article:published_time", "2024-05-03T10:00:00Z"),
             '<time datetime="2024-05-03T10:00:00Z" data-timestamp="1714698000">May 3</time>'),
        "https://news.example/a/1", "2024-05-03T10:00:00+09:00"),
    "epoch in JSON-LD beats the meta tag": (
        page(meta("article:published_time", "2024-05-03T10:00:00Z"), ld={"datePublished": 1714698000}),
        "https://news.example/a/1", "2024-05-03T10:00:00+09:00"),
    "ISO with an offset beats a wall clock labelled UTC": (
        page(meta("article:published_time", "2024-05-03T10:00:00Z"),
             '<time datetime="2024-05-03T10:00:00+09:00">10:00</time>'),
        "https://news.example/a/1", "2024-05-03T10:00:00+09:00"),
    # the same instant printed as local time beside the UTC value: shown in the publisher's zone
    "naive local time beside UTC gives the zone": (
        page(ld={"datePublished": "2023-11-09T01:09:55Z"},
             byline='<time datetime="2023-11-08 18:09:55">Nov 8</time>'),
        "https://news.example/a/1", "2023-11-08T18:09:55-07:00"),
    "offset value of the same instant gives the zone": (
        page(meta("article:published_time", "2019-10-18T22:04:00Z")
             + meta("date", "Sat, 19 Oct 2019 00:04:00 +0200")),
        "https://news.example/a/1", "2019-10-19T00:04:00+02:00"),
    "naive value takes the zone of the same moment stated with one": (
        page(ld={"datePublished": "2023-11-08 22:28:35"},
             byline='<time datetime="2023-11-09T03:28:35Z">x</time>'),
        "https://news.example/a/1", "2023-11-08T22:28:35-05:00"),
    # a bare day (an edition date) gives way to a timed value of about the same day
    "timed value beats a bare day": (
        page(meta("date", "2020-04-30"), '<time>29.04.2020, 12:01 Uhr</time>'),
        "https://news.example/a/1", "2020-04-29T12:01:00"),
    # structured values days apart: the one the URL agrees with
    "URL decides between structured values days apart": (
        page(meta("article:published_time", "2022-01-06T08:29:34+01:00"),
             ld={"datePublished": "2022-01-04T07:29:00Z"}),
        "https://news.example/2022/01/06/harbour", "2022-01-06T08:29:34+01:00"),
    # a date in the headline area that the URL contradicts belongs to an event
    "URL beats a contradicting text date": (
        page(byline="<p class='info'>Results of the regatta, 19.5.2007</p>"),
        "https://blog.example/2007/05/20/regatta-results/", "2007-05-20T00:00:00"),
    # a UTC instant whose day is not the URL's: shown in the country's zone when that gives the URL's day
    "UTC instant shown on the URL's day in the country's zone": (
        page(meta("article:published_time", "2023-11-01T23:01:00Z")),
        "https://giornale.example.it/esteri/2023/11/02/porto", "2023-11-02T00:01:00+01:00"),
    "UTC instant stays when no zone gives the URL's day": (
        page(meta("article:published_time", "2023-11-01T23:01:00Z")),
        "https://news.example/2023/11/02/harbour", "2023-11-01T23:01:00+00:00"),
    # a year-less visible date takes its year from the URL
    "yearless date takes the URL's year": (
        page(byline="<div class='date'>19 January, 13:48 UTC+3</div>"),
        "https://news.example/2017/01/19/harbour", "2017-01-19T13:48:00+03:00"),
    # an ISO day inside a label beside the headline
    "ISO day inside a byline label": (
        page(byline="<p class='date'>Written: 2023-11-07 15:03:30 / Updated: 2023-11-07 15:30:46</p>"),
        "https://news.example/a/1", "2023-11-07T15:03:30"),
}

LOGO = "<header><h1>Harbour Courier</h1><div class='today'>Tuesday, 08 Dec 2020</div></header>"


def test_byline_of_the_headline_not_of_the_site_logo() -> None:
    # the first <h1> is the site's name beside today's date; the article's <h1> has its own byline
    html = ('<html><head><meta property="og:title" content="Ferry returns to the harbour"></head><body>'
            f"{LOGO}<div class='story'><div><h1>Ferry returns to the harbour</h1></div>"
            f"<ul class='meta'><li>13 Oct 2020 18:29</li></ul>{STORY}</div></body></html>")
    published = extract(html, "https://news.example/a/1").published
    assert published is not None
    assert published.isoformat() == "2020-10-13T18:29:00"


def test_time_beside_the_headline_beats_pubdate_marks_elsewhere() -> None:
    teaser = '<li><a href="/b">Other story</a><time pubdate datetime="2019-09-24T13:34:33Z">24/09</time></li>'
    html = ('<html><head><meta property="og:title" content="Ferry returns to the harbour"></head><body>'
            f"<h1>Harbour Courier</h1><ul class='list'>{teaser * 3}</ul>"
            "<div class='story'><header><h1>Ferry returns to the harbour</h1>"
            '<p class="publication"><time datetime="2019-06-28T13:49:45Z">28 June 2019</time></p></header>'
            f"{STORY}</div></body></html>")
    published = extract(html, "https://news.example/a/1").published
    assert published is not None
    assert published.isoformat() == "2019-06-28T13:49:45+00:00"


@pytest.mark.parametrize("name", list(CASES))
def test_published(name: str) -> None:
    html, url, expected = CASES[name]
    article = extract(html, url)
    assert article.published is not None
    assert article.published.isoformat() == expected


def test_explicit_instant_is_kept_exactly() -> None:
    html, url, _ = CASES["epoch beats a wall clock labelled UTC"]
    assert extract(html, url).published == datetime(2024, 5, 3, 1, 0, tzinfo=UTC)


# ----------------------------------------------------------------- zones: page, profile, or flagged

NAIVE = page(ld={"datePublished": "2023-11-17 20:52:15", "dateModified": "2023-11-17 21:10:00"})


def test_profile_zone_for_a_naive_page_time() -> None:
    profile = SiteProfile(name="harbourwire", domains=("harbour.example",), timezone="Asia/Shanghai")
    article = extract(NAIVE, "https://harbour.example/a/1", profile=profile)
    assert article.published is not None
    assert article.updated is not None
    assert article.published.isoformat() == "2023-11-17T20:52:15+08:00"
    assert article.updated.utcoffset() == timedelta(hours=8)
    assert article.warnings == []


def test_unzoned_time_is_left_naive_and_flagged() -> None:
    article = extract(NAIVE, "https://unknown.example/a/1")
    assert article.published == datetime(2023, 11, 17, 20, 52, 15)
    assert article.published_raw == "2023-11-17 20:52:15"
    assert any(w.startswith("published_no_zone:") for w in article.warnings)
    assert any(w.startswith("updated_no_zone:") for w in article.warnings)


def test_updated_takes_the_zone_the_page_gave_the_publication_time() -> None:
    html = page(ld={"datePublished": "2024-05-03T10:00:00+03:00", "dateModified": "2024-05-03 12:30"})
    article = extract(html, "https://unknown.example/a/1")
    assert article.updated is not None
    assert article.updated.isoformat() == "2024-05-03T12:30:00+03:00"
    assert article.warnings == []


@pytest.mark.parametrize(
    ("url", "offset"),
    [
        ("http://www.news.cn/world/20231117/abc/c.html", 8),
        ("https://www.ukrinform.ua/rubric-kyiv/1-harbour.html", 2),
        ("https://www.afpbb.com/articles/-/1", 9),
        ("https://www.yna.co.kr/view/AKR1", 9),
    ],
)
def test_agency_sites_without_a_spider_have_their_zone(url: str, offset: int) -> None:
    html = page(ld={"datePublished": "2023-11-17 20:52:15"})
    published = extract(html, url).published
    assert published is not None
    assert published.utcoffset() == timedelta(hours=offset)


# ---------------------------------------------------------------------------- year-less and day-only

def test_yearless_date_never_takes_todays_year() -> None:
    html = page(byline="<div class='date'>19 January, 13:48</div>")
    article = extract(html, "https://news.example/a/1")
    assert article.published is None or article.published.year != datetime.now(UTC).year


def test_url_day_alone_is_flagged_as_day_only() -> None:
    html = "<html><body><h1>Notice</h1><p>No date anywhere on this page at all.</p></body></html>"
    article = extract(html, "https://news.example/2019/07/04/notice")
    assert article.published == datetime(2019, 7, 4)
    assert article.published_raw is None
    assert any(w.startswith("published_day_only:") for w in article.warnings)


def test_htmldate_finds_the_day_when_our_finder_has_none() -> None:
    # no structured date, no <time>, no dated byline, no date in the URL: only the page's own text
    html = ("<html><body><div id='main'><h2>Harbour notice</h2>"
            "<p>The ferry timetable changes next week for the winter season, the harbour office said.</p>"
            "<div class='entry-footer'>Last edited 2019-03-04</div></div></body></html>")
    article = extract(html, "https://harbour.example/notice")
    assert article.published is not None
    assert article.published.date().isoformat() == "2019-03-04"
    assert article.published_raw is None


def test_no_day_is_made_up_from_a_month_in_the_url() -> None:
    url = "https://blog.example/2018/08/road-trip.html"
    # htmldate alone answers 2018-08-01 here, from the month in the URL
    html = (f'<html><head><link rel="canonical" href="{url}"></head><body><h1>Road trip</h1>'
            "<p>Notes from a trip along the coast, with photos.</p></body></html>")
    article = extract(html, url)
    assert article.published is None
