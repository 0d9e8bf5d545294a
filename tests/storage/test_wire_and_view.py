"""The wire field through the archive (save, read-back, filters, exports, re-extraction), the
current_articles view on both databases, and the upgrade of an archive made before them."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from archive_helpers import OTHER_STORY, make_article

from newsarchive.article import Article, FetchInfo
from newsarchive.capture import WarcWriter
from newsarchive.reextract import reextract
from newsarchive.storage import Archive, export
from newsarchive.storage.models import REVISION_COLUMNS, VERSION_COLUMNS


def wired(archive: Archive) -> None:
    archive.save_batch([
        make_article(1, wire="Reuters", dateline="LONDON (Reuters) -"),
        make_article(2, wire="AP", source="ap", url="https://apnews.com/article/2"),
        make_article(3, body=OTHER_STORY, headline="Snow closes airports"),  # no wire
    ])


def test_wire_is_a_stored_and_compared_column() -> None:
    assert "wire" in VERSION_COLUMNS
    assert "wire" in REVISION_COLUMNS


def test_wire_is_stored_read_back_and_filtered(archive: Archive) -> None:
    wired(archive)
    rows = {r["url"]: r for r in archive.iter_articles()}
    assert rows["https://tass.com/politics/1001"]["wire"] == "Reuters"
    assert rows["https://apnews.com/article/2"]["wire"] == "AP"
    assert rows["https://tass.com/politics/1003"]["wire"] is None
    # the row has exactly Article.to_dict()'s keys, in its order, before the archive's own
    keys = list(rows["https://tass.com/politics/1001"])
    assert keys[: len(make_article(1).to_dict())] == list(make_article(1).to_dict())
    assert [r["wire"] for r in archive.iter_articles(wire="reuters")] == ["Reuters"]
    assert archive.count_articles(wire="AP") == 1
    assert archive.count_articles(wire="Xinhua") == 0
    assert [r["wire"] for r in archive.search("ministers", wire="Reuters")] == ["Reuters"]
    assert [r["wire"] for r in archive.search("ministers", wire="ap", source="ap")] == ["AP"]
    assert archive.search("ministers", wire="ap", source="tass") == []
    history = archive.versions("https://tass.com/politics/1001")
    assert [v["wire"] for v in history] == ["Reuters"]


def test_wire_reaches_every_export_format(archive: Archive, tmp_path: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    wired(archive)
    assert export.export_archive(archive, "csv", tmp_path / "a.csv", wire="Reuters") == 1
    rows = list(csv.DictReader(io.StringIO((tmp_path / "a.csv").read_text("utf-8-sig"), newline="")))
    assert [r["wire"] for r in rows] == ["Reuters"]
    export.export_archive(archive, "jsonl", tmp_path / "a.jsonl")
    lines = [json.loads(line) for line in (tmp_path / "a.jsonl").read_text("utf-8").splitlines()]
    assert [r["wire"] for r in lines] == ["Reuters", "AP", None]
    export.export_archive(archive, "parquet", tmp_path / "a.parquet", wire="ap")
    assert pq.read_table(tmp_path / "a.parquet").column("wire").to_pylist() == ["AP"]


def test_a_new_text_with_a_new_wire_is_a_new_version(archive: Archive) -> None:
    first = make_article(1, wire=None)
    archive.save_batch([first])
    outcome = archive.save_batch([dataclasses.replace(first, wire="Reuters", body=first.body + " More.")])
    assert outcome[0].outcome == "updated"
    assert [v["wire"] for v in archive.versions(first.url)] == [None, "Reuters"]


def _extract(wire: str | None) -> Any:
    def extract(html: bytes | str, url: str | None = None, **_: Any) -> Article:
        text = html.decode() if isinstance(html, bytes) else html
        return Article(url=url or "", headline="Gas talks", body=text.split("<p>", 1)[1].split("</p>")[0],
                       wire=wire)

    return extract


def test_reextraction_that_finds_a_wire_adds_a_version(archive: Archive, tmp_path: Path) -> None:
    url = "https://tass.com/economy/7"
    body = b"<html><body><p>Gas prices in Europe rose again on Monday, traders said.</p></body></html>"
    with WarcWriter(tmp_path / "warc") as writer:
        ref = writer.write_response(url, status=200, headers=[("Content-Type", "text/html")], body=body)
    article = _extract(None)(body, url)
    article.source = "tass"
    article.fetch = FetchInfo(status=200, warc_file=ref.file, warc_offset=ref.offset, warc_length=ref.length)
    archive.save_batch([article])
    same = reextract(archive, extract=_extract(None), warc_directory=tmp_path / "warc")
    assert same.counts["changed"] == 0
    found = reextract(archive, extract=_extract("Reuters"), warc_directory=tmp_path / "warc")
    assert found.counts["changed"] == 1
    assert [v["wire"] for v in archive.versions(url)] == [None, "Reuters"]


def test_current_articles_view_has_one_row_per_article_with_its_current_version(archive: Archive) -> None:
    wired(archive)
    archive.save_batch([make_article(1, wire="Reuters", body="A corrected text of the first report.")])
    with archive.engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT article_id, version_id, source, wire, headline, body, published, published_offset, "
            "version_count, topics FROM current_articles ORDER BY article_id")).mappings().all()
        current = dict(conn.execute(sa.text("SELECT id, current_version_id FROM articles")).all())
    assert [r["source"] for r in rows] == ["tass", "ap", "tass"]
    assert [r["wire"] for r in rows] == ["Reuters", "AP", None]
    assert [r["version_id"] for r in rows] == [current[r["article_id"]] for r in rows]
    assert rows[0]["body"] == "A corrected text of the first report."
    assert [r["version_count"] for r in rows] == [2, 1, 1]
    # published in UTC, the page's offset (Moscow, +03:00) beside it in minutes
    assert str(rows[0]["published"]).startswith("2017-01-20 10:48:00")
    assert rows[0]["published_offset"] == 180
    topics = rows[0]["topics"]
    topics = json.loads(topics) if isinstance(topics, str) else topics  # SQLite text, PostgreSQL json
    assert topics == ["Foreign policy", "Syrian conflict"]
