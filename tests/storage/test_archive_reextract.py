"""reextract: archived responses through a changed extractor; new versions only where fields change
and none gets worse."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from archive_helpers import make_article

from newsarchive.article import Article, FetchInfo
from newsarchive.capture import WarcWriter
from newsarchive.reextract import reextract
from newsarchive.storage import Archive

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
    counts = reextract(crawled, extract=extract_v1, warc_directory=tmp_path / "warc").counts
    assert counts == {"checked": 3, "changed": 0, "unchanged": 3, "refused": 0, "failed": 0, "no_warc": 1,
                      "moved": 0}
    assert all(r["version_count"] == 1 for r in crawled.iter_articles())


def test_fixed_extractor_adds_versions_with_the_new_fields(crawled: Archive, tmp_path: Path) -> None:
    counts = reextract(crawled, extract=extract_v2, warc_directory=tmp_path / "warc").counts
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
    assert reextract(crawled, extract=extract_v2, warc_directory=tmp_path / "warc").counts["changed"] == 0
    other_source = reextract(crawled, extract=extract_v2, source="ap", warc_directory=tmp_path / "warc")
    assert other_source.counts["checked"] == 0


def test_missing_warc_and_failing_extractor_are_counted_not_fatal(crawled: Archive, tmp_path: Path) -> None:
    def broken(html: bytes | str, url: str | None = None, **kw: Any) -> Article:
        if url and url.endswith("/2"):
            raise ValueError("cannot parse")
        return extract_v2(html, url, **kw)

    counts = reextract(crawled, extract=broken, warc_directory=tmp_path / "warc").counts
    assert (counts["changed"], counts["failed"]) == (2, 1)
    counts = reextract(crawled, extract=extract_v2, warc_directory=tmp_path / "elsewhere").counts
    assert (counts["checked"], counts["failed"]) == (3, 3)


def _versions_count(archive: Archive) -> int:
    with archive.engine.connect() as conn:
        return int(conn.execute(sa.text("SELECT count(*) FROM article_versions")).scalar_one())


def test_a_worse_extraction_is_reported_not_written(crawled: Archive, tmp_path: Path) -> None:
    warc = tmp_path / "warc"
    reextract(crawled, extract=extract_v2, warc_directory=warc)  # the archive now has the topics
    before = _versions_count(crawled)
    report = reextract(crawled, extract=extract_v1, warc_directory=warc)  # the old one loses them
    assert report.counts["refused"] == 3
    assert report.counts["changed"] == 0
    assert _versions_count(crawled) == before
    assert [r["topics"] for r in crawled.iter_articles() if "/economy/" in r["url"]] == [
        ["Foreign policy", "Energy"]] * 3
    topics = report.fields["topics"]
    assert (topics.lost, topics.changed) == (3, 0)
    url, reason, old, new = topics.losses[0]
    assert (url, reason, old, new) == ("https://tass.com/economy/1", "2 -> 0 item(s)",
                                       ["Foreign policy", "Energy"], [])
    lines = list(report.lines())
    assert lines[0] == "topics: worse in 3 article(s), not written"
    assert "https://tass.com/economy/1: 2 -> 0 item(s)" in lines[1]


def _with(**fields: Any) -> Any:
    """extract_v2 with some fields replaced (a value, or a function of the extracted article)."""
    def extract(html: bytes | str, url: str | None = None, **kw: Any) -> Article:
        article = extract_v2(html, url, **kw)
        for name, value in fields.items():
            setattr(article, name, value(article) if callable(value) else value)
        return article

    return extract


MSK = timezone(timedelta(hours=3))
ZONED = datetime(2017, 1, 19, 13, 48, tzinfo=MSK)


@pytest.mark.parametrize(("worse", "field_name", "reason"), [
    ({"published": ZONED.replace(tzinfo=None)}, "published", "lost its time zone"),
    ({"published": datetime(2017, 1, 19, tzinfo=MSK)}, "published", "lost its time of day"),
    ({"published": None}, "published", "emptied"),
    ({"dateline": None}, "dateline", "emptied"),
    ({"headline": ""}, "headline", "emptied"),
    ({"body": lambda a: a.body[:40]}, "body", "cut from"),
    ({"topics": ["Energy"]}, "topics", "2 -> 1 item(s)"),
])
def test_each_kind_of_loss_is_refused(crawled: Archive, tmp_path: Path, worse: dict[str, Any],
                                      field_name: str, reason: str) -> None:
    warc = tmp_path / "warc"
    good = _with(published=ZONED, published_raw="19 Jan 2017, 13:48")
    assert reextract(crawled, extract=good, warc_directory=warc).counts["changed"] == 3
    before = _versions_count(crawled)
    # every other field improves (a description appears): still refused as a whole
    bad = _with(**{"published": ZONED, "published_raw": "19 Jan 2017, 13:48", "description": "A new lead.",
                   **worse})
    report = reextract(crawled, extract=bad, warc_directory=warc)
    assert report.counts["refused"] == 3, list(report.lines())
    assert report.fields[field_name].lost == 3
    assert report.fields[field_name].losses[0][1].startswith(reason)
    assert report.fields["description"].changed == 0  # not counted as a change: nothing is written
    assert _versions_count(crawled) == before
    first = next(r for r in crawled.iter_articles() if r["url"].endswith("/economy/1"))
    assert first["published"] == ZONED.isoformat()


def test_same_instant_in_another_zone_or_a_gained_zone_is_a_change_not_a_loss(
        crawled: Archive, tmp_path: Path) -> None:
    warc = tmp_path / "warc"
    reextract(crawled, extract=_with(published=ZONED.replace(tzinfo=None)), warc_directory=warc)
    report = reextract(crawled, extract=_with(published=ZONED), warc_directory=warc)
    assert (report.counts["changed"], report.counts["refused"]) == (3, 0)
    assert reextract(crawled, extract=_with(published=ZONED), warc_directory=warc).counts["unchanged"] == 3


def test_dry_run_reports_per_field_and_writes_nothing(crawled: Archive, tmp_path: Path) -> None:
    before = _versions_count(crawled)
    report = reextract(crawled, extract=extract_v2, dry_run=True, warc_directory=tmp_path / "warc")
    assert report.counts["changed"] == 3
    assert _versions_count(crawled) == before
    assert report.fields["topics"].changed == 3
    assert report.fields["headline"].changed == 0
    assert report.fields["topics"].examples[0] == (
        "https://tass.com/economy/1", [], ["Foreign policy", "Energy"])
    lines = list(report.lines())
    assert lines[0] == "topics: would change in 3 article(s)"
    assert lines[1] == "    https://tass.com/economy/1: [] -> ['Foreign policy', 'Energy']"
    assert len(lines) == 1 + 3  # three examples at most per field


def test_the_profile_is_the_stored_sources_not_the_urls_host(archive: Archive, tmp_path: Path) -> None:
    from spiders.tass import PROFILE

    with WarcWriter(tmp_path / "warc") as writer:
        url = "http://127.0.0.1:9/politics/1"  # a mirror: no profile knows this host
        ref = writer.write_response(url, status=200, headers=[("Content-Type", "text/html")], body=page(1))
    article = extract_v1(page(1), url)
    article.source = "tass"
    article.fetch = FetchInfo(status=200, warc_file=ref.file, warc_offset=ref.offset, warc_length=ref.length)
    archive.save_batch([article])
    seen: list[Any] = []

    def spy(html: bytes | str, url: str | None = None, **kw: Any) -> Article:
        seen.append((url, kw.get("profile")))
        return extract_v1(html, url)

    assert reextract(archive, extract=spy, warc_directory=tmp_path / "warc").counts["unchanged"] == 1
    assert seen == [(url, PROFILE)]


def test_progress_is_called_per_batch_with_the_total(crawled: Archive, tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []
    reextract(crawled, extract=extract_v1, batch_size=2, warc_directory=tmp_path / "warc",
              progress=lambda done, total, report: calls.append((done, total)))
    assert calls == [(2, 3), (3, 3)]


def test_a_version_crawled_meanwhile_stays_current(crawled: Archive, tmp_path: Path) -> None:
    edited = extract_v1(page(1), "https://tass.com/economy/1")
    edited.body += "\n\nA paragraph added by the editors after the first crawl."
    edited.source = "tass"

    def slow(html: bytes | str, url: str | None = None, **kw: Any) -> Article:
        if url and url.endswith("/economy/1"):
            crawled.save_batch([edited])  # a crawl stores the edit while we re-extract
        return extract_v2(html, url, **kw)

    report = reextract(crawled, extract=slow, warc_directory=tmp_path / "warc")
    assert (report.counts["changed"], report.counts["moved"]) == (2, 1)
    assert report.fields["topics"].changed == 2  # the field counts follow what was written
    first = next(r for r in crawled.iter_articles() if r["url"].endswith("/economy/1"))
    assert first["body"].endswith("after the first crawl.")
    assert [v["origin"] for v in crawled.versions("https://tass.com/economy/1")] == ["crawl", "crawl"]
