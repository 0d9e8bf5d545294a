"""reextract: archived responses through a changed extractor; new versions only where fields change."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from archive_helpers import make_article

from newsarchive.article import Article, FetchInfo
from newsarchive.storage import Archive
from newsarchive.storage.warc import WarcWriter

PAGE = """<html><head><title>{headline}</title></head><body>
<h1>{headline}</h1><p class="dateline">MOSCOW, January {day}</p>
{paragraphs}
<ul class="tags"><li>Foreign policy</li><li>Energy</li></ul>
</body></html>"""


def page(n: int) -> bytes:
    paragraphs = "".join(f"<p>Paragraph {k} of report {n} on gas supplies and prices in Europe.</p>"
                         for k in range(1, 4))
    return PAGE.format(headline=f"Gas talks, round {n}", day=n, paragraphs=paragraphs).encode()


def extract_v1(html: bytes | str, url: str | None = None, **_: Any) -> Article:
    """Our stand-in for the extractor as it was: headline, dateline, body; topics missed."""
    text = html.decode() if isinstance(html, bytes) else html
    headline = re.search(r"<h1>(.*?)</h1>", text)
    dateline = re.search(r'<p class="dateline">(.*?)</p>', text)
    body = "\n\n".join(re.findall(r"<p>(.*?)</p>", text))
    return Article(url=url or "", headline=headline.group(1) if headline else None,
                   dateline=dateline.group(1) if dateline else None, body=body)


def extract_v2(html: bytes | str, url: str | None = None, **kw: Any) -> Article:
    """The fixed extractor: also reads the topic list."""
    article = extract_v1(html, url, **kw)
    text = html.decode() if isinstance(html, bytes) else html
    article.topics = re.findall(r"<li>(.*?)</li>", text)
    return article


@pytest.fixture
def crawled(archive: Archive, tmp_path: Path) -> Archive:
    """Three pages 'crawled' with extract_v1, their responses archived as WARC in tmp_path/warc."""
    articles = []
    with WarcWriter(tmp_path / "warc") as writer:
        for n in (1, 2, 3):
            url = f"https://tass.com/economy/{n}"
            ref = writer.write_response(url, status=200, headers=[("Content-Type", "text/html")],
                                        body=page(n))
            article = extract_v1(page(n), url)
            article.source = "tass"
            article.fetched_at = make_article().fetched_at
            article.fetch = FetchInfo(status=200, warc_file=ref.file, warc_offset=ref.offset,
                                      warc_length=ref.length)
            articles.append(article)
    articles.append(make_article(4, body="A version saved without a raw response. " * 5))
    archive.save_batch(articles)
    return archive


def test_same_extractor_changes_nothing(crawled: Archive, tmp_path: Path) -> None:
    counts = crawled.reextract(extract=extract_v1, warc_directory=tmp_path / "warc")
    assert counts == {"checked": 3, "changed": 0, "unchanged": 3, "failed": 0, "no_warc": 1}
    assert all(r["version_count"] == 1 for r in crawled.iter_articles())


def test_fixed_extractor_adds_versions_with_the_new_fields(crawled: Archive, tmp_path: Path) -> None:
    counts = crawled.reextract(extract=extract_v2, warc_directory=tmp_path / "warc")
    assert counts["changed"] == 3
    assert counts["no_warc"] == 1
    rows = {r["url"]: r for r in crawled.iter_articles()}
    first = rows["https://tass.com/economy/1"]
    assert first["topics"] == ["Foreign policy", "Energy"]
    assert first["version_count"] == 2
    assert first["headline"] == "Gas talks, round 1"
    # the old version is kept, the new one is marked as a re-extraction of the same response
    history = crawled.versions("https://tass.com/economy/1")
    assert [(v["origin"], v["topics"]) for v in history] == [
        ("crawl", []), ("reextract", ["Foreign policy", "Energy"])]
    with crawled.engine.connect() as conn:
        pointers = conn.execute(sa.text(
            "SELECT DISTINCT warc_file, warc_offset FROM article_versions v "
            "JOIN articles a ON a.id = v.article_id WHERE a.canonical_url = :u"),
            {"u": "https://tass.com/economy/1"}).all()
    assert len(pointers) == 1
    assert [r["headline"] for r in crawled.iter_articles(topic="energy")] == [
        "Gas talks, round 1", "Gas talks, round 2", "Gas talks, round 3"]
    # running it again finds nothing more to change
    assert crawled.reextract(extract=extract_v2, warc_directory=tmp_path / "warc")["changed"] == 0
    other_source = crawled.reextract(extract=extract_v2, source="ap", warc_directory=tmp_path / "warc")
    assert other_source["checked"] == 0


def test_missing_warc_and_failing_extractor_are_counted_not_fatal(crawled: Archive, tmp_path: Path) -> None:
    def broken(html: bytes | str, url: str | None = None) -> Article:
        if url and url.endswith("/2"):
            raise ValueError("cannot parse")
        return extract_v2(html, url)

    counts = crawled.reextract(extract=broken, warc_directory=tmp_path / "warc")
    assert (counts["changed"], counts["failed"]) == (2, 1)
    counts = crawled.reextract(extract=extract_v2, warc_directory=tmp_path / "elsewhere")
    assert (counts["checked"], counts["failed"]) == (3, 3)
