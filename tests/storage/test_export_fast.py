"""The archive's CSV path (pages of rows, SQLite text as bytes, column by column) writes exactly what
the general path writes; every format writes the same bytes to stdout as to a file (but the BOM)."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from archive_helpers import make_article

from newsarchive.article import FetchInfo
from newsarchive.storage import Archive, export
from newsarchive.storage.export import write_rows


def _zone(hours: int, minutes: int = 0) -> timezone:
    return timezone(timedelta(hours=hours, minutes=minutes))


def tricky_articles() -> list[Any]:
    """Articles that exercise every branch of the line formatting, in text we wrote."""
    return [
        make_article(
            1, headline='Minister: "no comment", for now', dateline="MOSCOW,\nMarch 14",
            topics=["Экономика", "World, politics", 'say "hi"', "back\\slash"], authors=["Анна Иванова"],
            read_also=[{"title": 'A "linked", story', "url": "https://wire.example/b"},
                       {"title": "Доклад", "url": "https://wire.example/c"}],
            updated=datetime(2026, 3, 14, 23, 59, 59, 123456, tzinfo=_zone(-5)), updated_raw="edited, twice",
            description="carriage\rreturn", published_raw=None,
        ),
        # part-hour offsets on both sides of UTC, each moving the date across midnight
        make_article(2, published=datetime(2026, 3, 15, 1, 30, tzinfo=_zone(5, 30)), section="Asia, South"),
        make_article(3, published=datetime(2026, 3, 14, 21, 0, 0, 7, tzinfo=_zone(-3, -30)), topics=[]),
        # the last microsecond of a year, shown three hours east: the year changes, the fraction stays
        make_article(4, published=datetime(2027, 1, 1, 0, 0, 0, 999999, tzinfo=_zone(3)), authors=[]),
        make_article(5, published=datetime(2026, 3, 14, 9, 30), section=None, read_also=[],  # no zone
                     fetched_at=datetime(2026, 11, 20, 10, 0, 0, 500, tzinfo=UTC),
                     fetch=FetchInfo(status=200)),
        make_article(6, published=None, headline="", topics=["Plain"], authors=["Solo"],
                     read_also=[{"title": None, "url": "https://x.example/"}], language=None),
        make_article(7, published=datetime(2026, 6, 1, 12, 0, tzinfo=UTC), body="One paragraph, no newline.",
                     url="https://tass.com/politics/1007?a=1,2", topics=["[bracketed]", "a, b"]),
        make_article(8, body="plain words only", headline="Über straße 東京", dateline="TOKYO",
                     topics=["東京"], authors=["Zoë"], description="ümlaut, comma"),
    ]


def exported(archive: Archive, tmp_path: Path) -> tuple[bytes, bytes]:
    general, fast = tmp_path / "general.csv", tmp_path / "fast.csv"
    count = write_rows(archive.iter_articles(), "csv", general)
    assert export.export_archive(archive, "csv", fast) == count
    return general.read_bytes(), fast.read_bytes()


def test_fast_path_matches_general_path_on_tricky_articles(archive: Archive, tmp_path: Path) -> None:
    articles = tricky_articles()
    archive.save_batch(articles)
    # a second version of two articles: version_count 2 on those rows only
    archive.save_batch([dataclasses.replace(articles[0], body="A second version, with a comma."),
                        dataclasses.replace(articles[6], body="Second text\r\nwith CRLF")])
    general, fast = exported(archive, tmp_path)
    assert fast == general
    rows = list(csv.DictReader(io.StringIO(fast.decode("utf-8-sig"), newline="")))
    assert len(rows) == len(articles)
    by_url = {r["url"]: r for r in rows}
    assert by_url["https://tass.com/politics/1002"]["published"] == "2026-03-15T01:30:00+05:30"
    assert by_url["https://tass.com/politics/1003"]["published"] == "2026-03-14T21:00:00.000007-03:30"
    assert by_url["https://tass.com/politics/1004"]["published"] == "2027-01-01T00:00:00.999999+03:00"
    assert by_url["https://tass.com/politics/1005"]["published"] == "2026-03-14T09:30:00"
    assert by_url["https://tass.com/politics/1005"]["fetched_at"] == "2026-11-20T10:00:00.000500+00:00"
    first = by_url["https://tass.com/politics/1001"]
    assert json.loads(first["topics"]) == ["Экономика", "World, politics", 'say "hi"', "back\\slash"]
    assert [r["version_count"] for r in rows] == ["2", "1", "1", "1", "1", "1", "2", "1"]


def test_pages_of_any_size_give_the_same_lines(sqlite_url: str, tmp_path: Path) -> None:
    with Archive(sqlite_url) as archive:
        archive.save_batch(tricky_articles())
        archive.save_batch([make_article(4, body="Version two of four")])
        general = tmp_path / "general.csv"
        write_rows(archive.iter_articles(), "csv", general)
        lines = general.read_bytes().split(b"\r\n", 1)[1]  # after the BOM and the header
        for size, as_bytes in ((1, True), (3, True), (100, True), (3, False)):  # str: PostgreSQL's
            pages = archive.iter_row_pages(batch_size=size, text_as_bytes=as_bytes)
            assert b"".join(export.csv_page(rows) for rows in pages) == lines


def test_unusual_stored_values_read_as_the_general_path_reads_them(sqlite_url: str, tmp_path: Path) -> None:
    """Stored values no save writes: an ISO 'T' stamp, compact and escaped JSON lists."""
    with Archive(sqlite_url) as archive:
        archive.save_batch(tricky_articles()[:3])
        with archive.engine.begin() as conn:
            conn.execute(sa.text("UPDATE article_versions SET fetched_at = '2026-11-20T10:00:00', "
                                 "topics = '[\"a\",\"b, c\"]', read_also = '[]' WHERE article_id = 1"))
            conn.execute(sa.text("UPDATE article_versions SET authors = '[\"Jos\\u00e9\"]', read_also"
                                 " = '[{\"title\": \"\\u0422\\\"\", \"url\": \"u\"}]' WHERE article_id = 2"))
            conn.execute(sa.text("UPDATE articles SET first_seen = '2026-11-20 10:00:00' WHERE id = 3"))
        general, fast = exported(archive, tmp_path)
        assert fast == general
        rows = list(csv.DictReader(io.StringIO(fast.decode("utf-8-sig"), newline="")))
        assert rows[0]["fetched_at"] == "2026-11-20T10:00:00+00:00"
        assert rows[0]["topics"] == '["a", "b, c"]'
        assert rows[1]["authors"] == '["José"]'
        assert rows[1]["read_also"] == '[{"title": "Т\\"", "url": "u"}]'
        assert rows[2]["first_seen"] == "2026-11-20T10:00:00+00:00"


def test_reading_bytes_leaves_pooled_connections_reading_str(sqlite_url: str, tmp_path: Path) -> None:
    with Archive(sqlite_url) as archive:
        archive.save_batch(tricky_articles()[:2])
        export.export_archive(archive, "csv", tmp_path / "a.csv")
        first = next(archive.iter_articles())
        assert isinstance(first["headline"], str)
        assert archive.search("ministers")[0]["source"] == "tass"


def test_fast_path_to_stdout_has_no_bom_and_the_same_lines(
    archive: Archive, tmp_path: Path, capfdbinary: pytest.CaptureFixture[bytes]
) -> None:
    archive.save_batch(tricky_articles())
    general, _ = exported(archive, tmp_path)
    capfdbinary.readouterr()
    assert export.export_archive(archive, "csv", "-") == len(tricky_articles())
    captured = capfdbinary.readouterr()
    assert captured.out == general.removeprefix(b"\xef\xbb\xbf")
    assert captured.err == b""


def test_fast_path_progress_counts_every_row(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    err = io.StringIO()
    err.isatty = lambda: True  # type: ignore[method-assign]
    monkeypatch.setattr(sys, "stderr", err)
    with Archive(sqlite_url) as archive:
        archive.save_batch(tricky_articles())
        total = archive.count_articles()
        assert export.export_archive(archive, "csv", tmp_path / "a.csv", progress=True, total=total) == 8
    assert "8/8 rows" in err.getvalue()


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_stdout_gets_the_file_bytes(fmt: str, sqlite_url: str, tmp_path: Path,
                                    capfdbinary: pytest.CaptureFixture[bytes]) -> None:
    if fmt == "parquet":
        pytest.importorskip("pyarrow", reason="pyarrow (the parquet extra) not installed")
    with Archive(sqlite_url) as archive:
        archive.save_batch(tricky_articles())
        export.export_archive(archive, fmt, tmp_path / f"a.{fmt}")
        capfdbinary.readouterr()
        assert export.export_archive(archive, fmt, "-") == len(tricky_articles())
    assert capfdbinary.readouterr().out == (tmp_path / f"a.{fmt}").read_bytes()
