"""Feed and sitemap parsing, including hostile documents (bounded time and memory)."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime, timedelta, timezone

import pytest

from newsarchive.feeds import FeedError, decompress, parse_date, parse_feed

MSK = timezone(timedelta(hours=3))


def test_rss_keeps_pubdate_guid_and_categories() -> None:
    doc = parse_feed(b"""<?xml version="1.0"?><rss version="2.0"><channel><title>x</title>
      <item><title>One</title><link>https://tass.com/politics/1?utm_source=rss&amp;a=b</link>
        <guid isPermaLink="false">tass-1</guid><pubDate>Thu, 19 Jan 2017 13:48:00 +0300</pubDate>
        <category>Politics</category><category>Syria</category></item>
      <item><title>No link</title></item>
      <item><guid>https://tass.com/world/2</guid></item>
    </channel></rss>""")
    assert doc.kind == "rss"
    first, second = doc.entries
    assert first.url == "https://tass.com/politics/1?utm_source=rss&a=b"
    assert first.guid == "tass-1"
    assert first.published == datetime(2017, 1, 19, 13, 48, tzinfo=MSK)
    assert first.keywords == ("Politics", "Syria")
    assert second.url == "https://tass.com/world/2"  # a permalink guid stands in for <link>
    assert doc.skipped == 1


def test_atom_keeps_updated_and_published() -> None:
    doc = parse_feed(b"""<feed xmlns="http://www.w3.org/2005/Atom"><title>x</title>
      <entry><id>urn:1</id><title>A</title><link rel="alternate" href="/economy/5"/>
        <published>2026-11-20T10:15:00+03:00</published><updated>2026-11-21T08:00:00Z</updated>
        <category term="Arctic"/></entry></feed>""", "https://tass.com/rss")
    (entry,) = doc.entries
    assert entry.url == "https://tass.com/economy/5"
    assert entry.guid == "urn:1"
    assert entry.published == datetime(2026, 11, 20, 7, 15, tzinfo=UTC)
    assert entry.updated == datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
    assert entry.modified == entry.updated
    assert entry.keywords == ("Arctic",)


def test_sitemap_index_and_gzipped_news_sitemap() -> None:
    index = parse_feed(b"""<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
      <sitemap><loc>https://tass.com/sitemap/sitemap_news0.xml.gz</loc><lastmod>2026-11-21</lastmod></sitemap>
      <sitemap><lastmod>2026-11-21</lastmod></sitemap></sitemapindex>""")
    assert index.kind == "sitemapindex"
    assert [s.url for s in index.sitemaps] == ["https://tass.com/sitemap/sitemap_news0.xml.gz"]
    assert index.sitemaps[0].lastmod == datetime(2026, 11, 21, tzinfo=UTC)
    assert index.skipped == 1

    news = gzip.compress(b"""<?xml version="1.0" encoding="UTF-8"?>
      <urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
              xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
      <url><loc>https://tass.com/economy/900104</loc><lastmod>2026-11-20T10:30:00+03:00</lastmod>
        <news:news><news:publication><news:name>TASS</news:name><news:language>en</news:language></news:publication>
          <news:publication_date>2026-11-20T10:15:00+03:00</news:publication_date>
          <news:title>Northern Sea Route record</news:title>
          <news:keywords>Arctic, Transport ,</news:keywords></news:news></url></urlset>""")
    (entry,) = parse_feed(news).entries
    assert entry.title == "Northern Sea Route record"
    assert entry.published == datetime(2026, 11, 20, 10, 15, tzinfo=MSK)
    assert entry.updated == datetime(2026, 11, 20, 10, 30, tzinfo=MSK)
    assert entry.keywords == ("Arctic", "Transport")


def test_dates_without_offset_take_the_sites_zone() -> None:
    assert parse_date("2017-01-19T13:48:00", MSK) == datetime(2017, 1, 19, 13, 48, tzinfo=MSK)
    assert parse_date("not a date") is None
    assert parse_date("") is None


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"<rss><channel><item><link>https://x/1</link></item>", "malformed"),  # truncated
        (b"", "empty"),
        (b"<html><body><h1>Not a feed</h1></body></html>", "not_a_feed"),  # wrong content type
        (b"<!DOCTYPE html><html><head><title>x</title></head><body><p>Hello<br></body></html>", "malformed"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "malformed"),
        (b"\x1f\x8b\x08\x00garbage-not-deflate", "bad_gzip"),
    ],
)
def test_unusable_documents_raise_a_counted_reason(data: bytes, reason: str) -> None:
    with pytest.raises(FeedError) as err:
        parse_feed(data)
    assert err.value.reason == reason


def test_entity_expansion_is_refused() -> None:
    lol = b"""<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">
      <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
      <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
      <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>
      <rss><channel><item><title>&lol9;</title><link>https://x/1</link></item></channel></rss>"""
    with pytest.raises(FeedError) as err:
        parse_feed(lol)
    assert err.value.reason == "entities"


def test_external_entities_are_never_read(tmp_path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    xxe = f"""<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file://{secret}">]>
      <rss><channel><item><title>&x;</title><link>https://x/1</link></item></channel></rss>""".encode()
    with pytest.raises(FeedError):
        parse_feed(xxe)
    # without the declaration an undefined entity is simply malformed, never fetched
    with pytest.raises(FeedError):
        parse_feed(b"<rss><channel><item><title>&x;</title></item></channel></rss>")


def _gzip_of_zeros(total: int) -> bytes:
    # gzip members may be concatenated: 1024 copies of one 1 MB member expand to 1 GB
    member = gzip.compress(b"\0" * (1 << 20), compresslevel=9)
    return member * (total >> 20)


def test_a_1_gb_gzip_bomb_stops_at_the_cap() -> None:
    bomb = _gzip_of_zeros(1 << 30)
    assert len(bomb) < 2 << 20  # about 1 MB on the wire
    with pytest.raises(FeedError) as err:
        decompress(bomb, max_bytes=8 << 20)
    assert err.value.reason == "too_large"


def test_multi_member_gzip_is_read_whole() -> None:
    data = gzip.compress(b"<rss><channel><item><link>https://x/1</link></item>") + gzip.compress(
        b"<item><link>https://x/2</link></item></channel></rss>"
    )
    assert [e.url for e in parse_feed(data).entries] == ["https://x/1", "https://x/2"]


def test_plain_documents_over_the_cap_are_refused() -> None:
    with pytest.raises(FeedError) as err:
        parse_feed(b"<rss>" + b" " * 2000 + b"</rss>", max_bytes=1000)
    assert err.value.reason == "too_large"


def test_relative_and_non_http_links_are_skipped_or_resolved() -> None:
    doc = parse_feed(b"""<rss><channel><item><link>/politics/3</link></item>
      <item><link>javascript:alert(1)</link></item><item><link>ftp://x/4</link></item></channel></rss>""",
                     "https://tass.com/rss/v2.xml")
    assert [e.url for e in doc.entries] == ["https://tass.com/politics/3"]
    assert doc.skipped == 2


def test_a_malformed_loc_costs_only_that_entry() -> None:
    doc = parse_feed(b"""<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
      <url><loc>http://[broken/a</loc></url><url><loc>https://tass.com/world/5</loc></url></urlset>""",
                     "https://tass.com/sitemap.xml")
    assert [e.url for e in doc.entries] == ["https://tass.com/world/5"]
    assert doc.skipped == 1
