"""Structured metadata: JSON-LD variants, meta tags, microdata and visible bylines, field by field."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import lxml.html
import pytest

from newsarchive.extract.bylines import clean_authors, clean_topics
from newsarchive.extract.pagedate import find_published
from newsarchive.extract.structured import Metadata, read_metadata

FIXTURES = Path(__file__).parent.parent / "fixtures" / "extract" / "meta"


def load(name: str) -> lxml.html.HtmlElement:
    return lxml.html.fromstring((FIXTURES / name).read_text("utf-8"))


def meta_of(name: str, url: str | None = None) -> Metadata:
    return read_metadata(load(name), url)


@pytest.fixture(scope="module")
def graph() -> Metadata:
    return meta_of("graph.html", "https://courier.example/news/2024/05/03/harbour")


def test_graph_headline_without_site_suffix(graph):
    assert graph.headline == "Harbour bridge reopens after repairs"


def test_graph_dates_keep_their_offset(graph):
    plus_one = timezone(timedelta(hours=1))
    assert graph.published == datetime(2024, 5, 3, 8, 15, tzinfo=plus_one)
    assert graph.published_raw == "2024-05-03T08:15:00+01:00"
    assert graph.updated == datetime(2024, 5, 3, 11, 40, tzinfo=plus_one)


def test_graph_authors_are_people_in_order_without_roles_or_the_site(graph):
    assert graph.authors == ["Jane Doe", "John Roe"]


def test_graph_topics_deduplicated_without_site_name(graph):
    assert graph.topics == ["Transport", "Harbour"]


def test_graph_other_fields(graph):
    assert graph.section == "Local"
    assert graph.language == "en-GB"
    assert graph.description == "The bridge closed in March for repairs to its deck."
    assert graph.site_name == "The Coastal Courier"
    assert graph.article_body == "The harbour bridge reopened on Friday."
    assert graph.canonical_url == "https://courier.example/news/2024/05/03/harbour-bridge-reopens"


def test_broken_jsonld_is_repaired():
    # HTML comment wrapper, trailing comma, raw newline inside a string, &quot; inside a value
    md = meta_of("broken.html")
    assert md.headline == 'Council votes on &quot;tight&quot; budget'.replace("&quot;", '"')
    assert md.published == datetime(2023, 11, 20, 18, 5, tzinfo=UTC)
    assert md.description == "A line broken by a raw newline"
    assert md.authors == ["Maria Rossi"]


def test_broken_page_topics_split_on_any_separator():
    assert meta_of("broken.html").topics == ["Budget", "Council", "Taxes"]


def test_html_escaped_jsonld():
    md = meta_of("escaped.html")
    assert md.headline == "Exhibition opens downtown"
    assert md.published == datetime(2022, 2, 10)
    assert md.authors == ["Lena Berg"]


def test_opengraph_and_article_meta_only():
    md = meta_of("metaonly.html")
    assert md.headline == "Ferry timetable changes from Monday"
    assert md.published == datetime(2021, 6, 7, 6, 30, tzinfo=timezone(timedelta(hours=2)))
    assert md.updated_raw == "2021-06-08T09:00:00+02:00"
    # article:author is a profile URL: skipped in favour of the named parsely-author
    assert md.authors == ["Anna Weber"]
    assert md.topics == ["Ferries", "Timetables"]
    assert md.section == "Travel"
    assert md.language == "de-DE"
    assert md.canonical_url == "https://islandpost.example/ferry-timetable"


def test_published_ignores_dates_in_related_blocks():
    doc = load("metaonly.html")
    published, raw = find_published(doc, read_metadata(doc, None), None)
    assert raw == "2021-06-07T06:30:00+02:00"
    assert published == datetime(2021, 6, 7, 6, 30, tzinfo=timezone(timedelta(hours=2)))


def test_microdata():
    doc = load("microdata.html")
    md = read_metadata(doc, None)
    assert md.headline == "Le marché rouvre"
    assert md.authors == ["Claire Martin"]
    assert md.language == "fr"
    published, raw = find_published(doc, md, None)
    assert published == datetime(2020, 3, 14, 9, 30, tzinfo=timezone(timedelta(hours=1)))
    assert raw == "2020-03-14T09:30:00+01:00"


def test_visible_byline_tags_and_yearless_date():
    url = "https://vestnik.example/2017/01/19/sessiya"
    doc = load("visible.html")
    md = read_metadata(doc, url)
    # the only structured author is the site itself: the visible byline names the person
    assert md.authors == ["Иван Петров"]
    # tag links in the article, not the navigation's
    assert md.topics == ["Парламент", "Законы"]
    published, raw = find_published(doc, md, url)
    assert raw == "19 января, 13:48 МСК"
    assert published == datetime(2017, 1, 19, 13, 48, tzinfo=timezone(timedelta(hours=3)))


def _tag_page(body: str) -> list[str]:
    page = f"<html><head><title>T</title></head><body>{body}</body></html>"
    return read_metadata(lxml.html.fromstring(page), None).topics


def test_tag_links_wrapped_in_a_frameworks_elements_are_one_list():
    def tag(name: str) -> str:
        return (f'<div class="entry"><span class="btn"><button><a href="/thema/{name.lower()}">{name}'
                "</a></button></span></div>")

    assert _tag_page(f'<div class="content"><p>Text.</p><div class="list">{tag("Dax")}{tag("Euro")}'
                     f'{tag("Yen")}</div></div>') == ["Dax", "Euro", "Yen"]


def test_tags_in_the_articles_own_footer_are_the_articles():
    page = ('<header class="site-header"><a href="/tag/weather">Weather</a><a href="/tag/sport">Sport</a>'
            '<a href="/tag/music">Music</a></header>'
            '<article><h1>Title</h1><p>Text.</p><footer class="entry-footer"><ul class="entry-footer__list">'
            '<li><a rel="tag" href="/t/care">Care work</a></li>'
            '<li><a rel="tag" href="/t/media">Social media</a></li></ul></footer></article>')
    assert _tag_page(page) == ["Care work", "Social media"]


def test_a_hot_topics_box_in_the_page_header_is_not_the_articles():
    hot = "".join(f'<div><a href="/topics/{t.lower()}/">{t}</a></div>' for t in ("NFL", "China", "Congress"))
    page = (f'<div class="header-container"><div class="topics">{hot}</div></div>'
            '<div class="story"><h1>Title</h1><p>Text.</p></div>')
    assert _tag_page(page) == []


def test_url_date_is_the_last_resort():
    doc = lxml.html.fromstring("<html><body><h1>Notice</h1><p>No date anywhere.</p></body></html>")
    md = read_metadata(doc, "https://example.org/2019/07/04/notice")
    assert find_published(doc, md, "https://example.org/2019/07/04/notice") == (datetime(2019, 7, 4), None)
    assert find_published(doc, md, None) == (None, None)


def test_jsonld_array_with_nested_main_entity():
    html = """<html><head><script type="application/ld+json">[
      {"@type": "BreadcrumbList", "itemListElement": []},
      {"@type": "WebPage", "name": "Page name", "mainEntity": {
         "@type": "LiveBlogPosting", "headline": "Storm live updates",
         "datePublished": "2024-01-02T03:04:05-05:00",
         "author": {"@type": "Person", "givenName": "Ana", "familyName": "Lima"}}}
    ]</script></head><body></body></html>"""
    md = read_metadata(lxml.html.fromstring(html), None)
    assert md.headline == "Storm live updates"
    assert md.published == datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=-5)))
    assert md.authors == ["Ana Lima"]


def test_webpage_is_the_fallback_type():
    html = """<html><head><script type="application/ld+json">
      {"@type": "WebPage", "headline": "Only a web page", "datePublished": "2020-05-05"}
    </script></head><body></body></html>"""
    md = read_metadata(lxml.html.fromstring(html), None)
    assert md.headline == "Only a web page"
    assert md.published == datetime(2020, 5, 5)


def test_unparseable_jsonld_falls_back_to_meta():
    html = """<html><head><script type="application/ld+json">{"@type": "NewsArticle", "headline": </script>
      <meta property="og:title" content="From OpenGraph"></head><body></body></html>"""
    assert read_metadata(lxml.html.fromstring(html), None).headline == "From OpenGraph"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (["By Jane Doe and John Roe"], ["Jane Doe", "John Roe"]),
        (["Von Max Muster, Redakteur"], ["Max Muster"]),
        (["Doe, Jane"], ["Doe, Jane"]),
        (["https://example.org/authors/jane", "jane@example.org", "Jane Doe"], ["Jane Doe"]),
        (["Jane Doe", "jane-doe", "JANE DOE"], ["Jane Doe"]),
        (["(Image: Getty Images)", "Associated Press"], ["Associated Press"]),
        (["Par Claire Martin et Luc Bernard"], ["Claire Martin", "Luc Bernard"]),
        (["di Marco Rossi"], ["Marco Rossi"]),
        (["De Rosa", "Da Silva", "Rossi, Anna"], ["De Rosa", "Da Silva", "Rossi, Anna"]),
    ],
)
def test_clean_authors(raw, expected):
    assert clean_authors(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (["Politics, economy; Politics"], ["Politics", "economy"]),
        (["26157981-b4f7-4929-adc1-e860c6f03636", "123456", "Travel"], ["Travel"]),
        (["Subject: Justice", "Day: Friday", "Category: Life"], ["Justice", "Life"]),
        (["Courier", "Weather"], ["Weather"]),
        (["_Prio_3", "_Prio_1-3", "Migration", "wcmImage"], ["Migration"]),
    ],
)
def test_clean_topics(raw, expected):
    assert clean_topics(raw, junk=["courier"]) == expected


def test_the_pages_own_article_wins_over_related_articles():
    html = """<html><head><link rel="canonical" href="https://news.example/a/main-story">
    <script type="application/ld+json">{"@type": "ItemList", "itemListElement": [
      {"@type": "NewsArticle", "headline": "Related one", "datePublished": "2019-01-01T00:00:00Z",
       "url": "https://news.example/a/related-one"}]}</script>
    <script type="application/ld+json">{"@type": "NewsArticle", "headline": "Main story",
      "datePublished": "2024-02-02T10:00:00Z", "mainEntityOfPage": {"@id": "https://www.news.example/a/main-story/"}}
    </script></head><body></body></html>"""
    md = read_metadata(lxml.html.fromstring(html), "https://news.example/a/main-story?utm_source=x")
    assert md.headline == "Main story"
    assert md.published == datetime(2024, 2, 2, 10, 0, tzinfo=UTC)


def test_author_given_by_reference_inside_a_graph():
    html = """<html><head><script type="application/ld+json">{"@graph": [
      {"@type": "Article", "headline": "Referenced", "author": {"@id": "https://blog.example/#/person/1"}},
      {"@type": "Person", "@id": "https://blog.example/#/person/1", "name": "Rita Lopes"}
    ]}</script></head><body></body></html>"""
    assert read_metadata(lxml.html.fromstring(html), None).authors == ["Rita Lopes"]


def test_date_near_the_headline_when_nothing_structured():
    doc = load("nearby.html")
    published, raw = find_published(doc, read_metadata(doc, None), None, timezone="Europe/Berlin")
    # not the site's "today" bar, not the "Aktualisiert" time, not the photo caption
    assert raw == "Erschienen am 14.03.2024 um 09:15 Uhr"
    assert published == datetime(2024, 3, 14, 9, 15, tzinfo=ZoneInfo("Europe/Berlin"))


@pytest.mark.parametrize(
    "byline",
    [
        "<ul><li><strong>Datum</strong> 28.04.2023</li>"
        "<li><strong>Autorin/Autor</strong> Jana Roth</li></ul>",
        "<dl><dt>Author</dt><dd>Jana Roth</dd></dl>",
        "<p><b>Text:</b> Jana Roth</p>",
    ],
)
def test_author_after_a_visible_label(byline):
    doc = lxml.html.fromstring(f"<html><body><h1>Title</h1>{byline}<p>Body text.</p></body></html>")
    assert read_metadata(doc, None).authors == ["Jana Roth"]


def test_placeholder_dates_are_skipped():
    html = """<html><head><script type="application/ld+json">{"@type": "NewsArticle", "headline": "H",
      "datePublished": "0001-01-01T00:00:00Z"}</script>
      <meta property="article:published_time" content="2023-03-03T03:03:03Z"></head><body></body></html>"""
    doc = lxml.html.fromstring(html)
    md = read_metadata(doc, None)
    assert md.published == datetime(2023, 3, 3, 3, 3, 3, tzinfo=UTC)
    assert find_published(doc, md, None) == (md.published, "2023-03-03T03:03:03Z")


@pytest.mark.parametrize(("authors", "expected"), [
    # a three-letter broadcaster with its region after it is the site, not a person
    (["Dana Weber", "MDR THÜRINGEN"], ["Dana Weber"]),
    (["Dana Weber", "MDR"], ["Dana Weber"]),
    # the short name inside a word is a person's name, kept
    (["Dana Weber", "Mdrova Petra"], ["Dana Weber", "Mdrova Petra"]),
    # only the site: kept, the page names nobody else
    (["MDR Thüringen"], ["MDR Thüringen"]),
])
def test_a_short_site_name_is_dropped_only_as_a_whole_first_word(authors, expected):
    people = "".join(f'<meta name="author" content="{a}">' for a in authors)
    doc = lxml.html.fromstring(
        f'<html><head><meta property="og:site_name" content="MDR">{people}</head>'
        '<body><p>Text.</p></body></html>')
    assert read_metadata(doc, "https://www.mdr.de/nachrichten/x-100.html").authors == expected


SIGNED = """<html><head><meta property="og:site_name" content="Harbour Times">
<meta name="author" content="Harbour Times"></head><body><article>
<h1>Ferry timetable changes on Monday</h1>
{top}
<p>The harbour authority said on Friday that the morning ferries will leave ten minutes earlier
from Monday, after a review of the tides and of the traffic on the bridge.</p>
<p>Passengers with season tickets need not change them, a spokeswoman said, and the evening
timetable stays as it is until the summer.</p>
<p>The last change to the timetable was made three years ago, when a second ferry was bought.</p>
{bottom}
</article></body></html>"""


@pytest.mark.parametrize(("top", "bottom", "authors", "first", "last"), [
    # a signature above the text, as WordPress outlets set it: the person, not the site
    ("<p><strong>Mpho Lerato&nbsp;</strong></p>", "", ["Mpho Lerato"], "The harbour", "was bought."),
    # below the text, right-aligned, in another script
    ("", '<p style="text-align:right"><strong>Lê Phương</strong></p>', ["Lê Phương"], "The harbour",
     "was bought."),
    # a bold sentence is a lead, not a signature: kept as body, the site stays the only credit
    ("<p><strong>Ferries leave earlier from Monday.</strong></p>", "", ["Harbour Times"], "Ferries leave",
     "was bought."),
    # a name in a plain paragraph is text, not a signature
    ("<p>Mpho Lerato</p>", "", ["Harbour Times"], "Mpho Lerato", "was bought."),
])
def test_a_bold_name_alone_above_or_below_the_text_is_the_author(top, bottom, authors, first, last):
    from newsarchive import extract

    article = extract(SIGNED.format(top=top, bottom=bottom), url="https://harbourtimes.example/2024/ferry")
    assert article.authors == authors
    assert article.body.startswith(first)
    assert article.body.endswith(last)
