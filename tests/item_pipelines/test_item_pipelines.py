"""validate, dedup and store pipelines on plain Articles with a test crawler and a real SQLite file."""

from __future__ import annotations

import logging
import sqlite3
import threading
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from scrapy.exceptions import DropItem, NotConfigured
from scrapy.utils.test import get_crawler

from newsarchive.article import Article, FetchInfo
from newsarchive.errors import StorageError
from newsarchive.storage import Archive
from pipelines.dedup import DedupPipeline
from pipelines.store import StorePipeline
from pipelines.validate import ValidatePipeline

BODY = ("The central bank kept its key rate unchanged on Friday, citing slowing inflation and "
        "a stronger rouble.\n\nAnalysts had expected the decision.")


def article(n: int = 1, **kw: Any) -> Article:
    values: dict[str, Any] = {
        "url": f"https://tass.com/economy/{n}", "source": "tass", "headline": f"Rate decision {n}",
        "body": f"{BODY} Report {n}.",
        "published": datetime(2026, 11, 20, 13, 0, tzinfo=timezone(timedelta(hours=3))),
        "dateline": "MOSCOW, November 20", "topics": ["Economy"], "authors": [],
        "fetched_at": datetime(2026, 11, 20, 12, 0, tzinfo=UTC), "fetch": FetchInfo(status=200),
    }
    values.update(kw)
    return Article(**values)


def crawler(**settings: Any) -> Any:
    return get_crawler(settings_dict=settings)


def stats(c: Any) -> dict[str, Any]:
    return {k: v for k, v in c.stats.get_stats().items() if k.startswith("newsarchive/")}


@pytest.mark.parametrize(("item", "reason"), [
    ({"url": "https://tass.com/x"}, "not_article"),
    (article(headline=None), "no_headline"),
    (article(headline="   "), "no_headline"),
    (article(body=""), "no_body"),
    (article(body="Too short."), "body_too_short"),
    (article(published=None), "no_published"),
    (article(published=None, published_raw="Fryday, 31 Smarch"), "unparseable_published"),
])
def test_validate_drops_with_a_counted_reason(item: Any, reason: str) -> None:
    c = crawler()
    pipe = ValidatePipeline.from_crawler(c)
    with pytest.raises(DropItem, match=reason) as info:
        pipe.process_item(item)
    assert info.value.log_level == "INFO"
    assert stats(c) == {f"newsarchive/skipped/{reason}": 1}


def test_validate_keeps_complete_articles_and_reads_its_settings() -> None:
    c = crawler(NEWSARCHIVE_MIN_BODY_CHARS=5)
    pipe = ValidatePipeline.from_crawler(c)
    item = article(body="Short but enough.")
    assert pipe.process_item(item) is item
    assert stats(c) == {}
    with pytest.raises(NotConfigured):
        ValidatePipeline.from_crawler(crawler(NEWSARCHIVE_VALIDATE_ENABLED=False))


@pytest.mark.parametrize(("warnings", "counted"), [
    (["empty_body: no paragraph-like text found"], {"newsarchive/warning/empty_body": 1}),
    (["empty_body: a", "empty_body: b", "other"], {"newsarchive/warning/empty_body": 1,
                                                   "newsarchive/warning/other": 1}),
    ([], {}),
])
def test_validate_counts_extraction_warnings_by_kind(warnings: list[str], counted: dict[str, int]) -> None:
    c = crawler()
    pipe = ValidatePipeline.from_crawler(c)
    item = article(body="" if warnings else BODY, warnings=warnings)
    if warnings:
        with pytest.raises(DropItem, match="no_body"):
            pipe.process_item(item)
        counted = {**counted, "newsarchive/skipped/no_body": 1}
    else:
        assert pipe.process_item(item) is item
    assert stats(c) == counted


def test_dedup_within_the_run() -> None:
    c = crawler()
    pipe = DedupPipeline.from_crawler(c)
    first = pipe.process_item(article(1, url="https://tass.com/economy/1?utm_source=rss#top"))
    assert first.canonical_url == "https://tass.com/economy/1"
    with pytest.raises(DropItem, match="duplicate URL") as info:
        pipe.process_item(article(1, url="https://tass.com/economy/1", body=BODY + " Changed."))
    assert info.value.log_level == "INFO"
    # a syndicated copy goes on: the archive records its URL as a duplicate (store pipeline)
    copy = article(1, url="https://tass.com/world/copy")
    assert pipe.process_item(copy) is copy
    assert pipe.process_item(article(2)).headline == "Rate decision 2"
    assert stats(c) == {
        "newsarchive/duplicate": 1, "newsarchive/dedup/url": 1, "newsarchive/dedup/content": 1}
    other_run = DedupPipeline.from_crawler(crawler())  # state is per crawler, never global
    assert other_run.process_item(article(1)) is not None


def test_store_batches_counts_outcomes_and_fill(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a.sqlite'}"
    with Archive(url) as archive:
        run_id = archive.start_run("tass")
        archive.save_batch([article(1), article(9, url="https://tass.com/economy/9")])
    c = crawler(NEWSARCHIVE_DB=url, NEWSARCHIVE_RUN_ID=str(run_id), NEWSARCHIVE_STORE_BATCH=2)
    pipe = StorePipeline.from_crawler(c)
    pipe.open_spider()
    items = [
        article(1),                                              # unchanged
        article(2, dateline=None, topics=[]),                    # new
        article(9, body=BODY + " Corrected figures."),           # updated
        article(3, url="https://other.example/copy", headline="Rate decision 2",
                body=article(2).body),                           # duplicate of 2
        article(4),                                              # new, flushed on close
    ]
    for item in items:
        assert pipe.process_item(item) is item
    assert len(pipe.pending) == 1  # two batches of two went in
    pipe.close_spider()
    assert stats(c) == {
        "newsarchive/unchanged": 1, "newsarchive/new": 2, "newsarchive/updated": 1,
        "newsarchive/duplicate": 1,
        "newsarchive/fill/headline": 4, "newsarchive/fill/body": 4, "newsarchive/fill/published": 4,
        "newsarchive/fill/dateline": 3, "newsarchive/fill/topics": 3,
    }
    with Archive(url) as archive:
        assert archive.count_articles() == 4
        assert {v["url"] for v in archive.versions("https://tass.com/economy/9")} == {"https://tass.com/economy/9"}
        with archive.engine.connect() as conn:
            run_ids = {r for (r,) in conn.exec_driver_sql("SELECT DISTINCT run_id FROM article_versions")}
    assert run_ids == {None, run_id}


def test_store_refuses_an_unwritable_archive_before_crawling(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    pipe = StorePipeline.from_crawler(crawler(NEWSARCHIVE_DB=f"sqlite:///{tmp_path}/f/a.sqlite"))
    with pytest.raises(StorageError, match="cannot write the archive"):
        pipe.open_spider()
    with pytest.raises(NotConfigured):
        StorePipeline.from_crawler(crawler(NEWSARCHIVE_STORE_ENABLED=False))


def _locked_pipeline(tmp_path: Path, **settings: Any) -> tuple[StorePipeline, Any, str]:
    url = f"sqlite:///{tmp_path / 'a.sqlite'}"
    c = crawler(NEWSARCHIVE_DB=url, NEWSARCHIVE_STORE_BATCH=10, NEWSARCHIVE_STORE_BUSY_TIMEOUT=0.05,
                NEWSARCHIVE_STORE_LOCK_ATTEMPTS=2, NEWSARCHIVE_STORE_RETRY_INTERVAL=0.1, **settings)
    pipe = StorePipeline.from_crawler(c)
    pipe.open_spider()
    return pipe, c, url


def test_a_batch_the_archive_refuses_is_kept_and_stored_when_it_comes_back(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    pipe, c, url = _locked_pipeline(tmp_path, NEWSARCHIVE_STORE_DEADLINE=30)
    holder = sqlite3.connect(tmp_path / "a.sqlite", isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")  # another process holds the write lock past the retries
    release = threading.Timer(1.0, holder.close)
    release.start()
    try:
        pipe.process_item(article(1))
        with caplog.at_level(logging.WARNING, logger="pipelines.store"):
            pipe.close_spider()
    finally:
        release.join()
    counted = stats(c)
    assert counted["newsarchive/store/refused"] >= 1
    assert counted["newsarchive/store/retried"] == 1
    assert counted["newsarchive/new"] == 1
    assert "newsarchive/store/spooled" not in counted
    assert "nothing was lost" in caplog.text
    with Archive(url) as archive:
        assert archive.count_articles() == 1


def test_past_the_deadline_refused_articles_are_spooled_and_the_next_run_stores_them_first(
        tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a.sqlite'}"
    with Archive(url) as archive:
        run_id = archive.start_run("tass")
    pipe, c, _ = _locked_pipeline(tmp_path, NEWSARCHIVE_STORE_DEADLINE=0.5, NEWSARCHIVE_RUN_ID=run_id,
                                  NEWSARCHIVE_STORE_MEMORY_ITEMS=5)
    holder = sqlite3.connect(tmp_path / "a.sqlite", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        for n in range(1, 13):  # a batch of 10 refused, over the memory bound: spooled at once
            pipe.process_item(article(n))
        spool = tmp_path / "a.sqlite.spool"
        assert len(list(spool.glob("*.spool"))) == 1
        pipe.close_spider()  # the last 2 are refused too, and the deadline passes
    finally:
        holder.close()
    counted = stats(c)
    assert counted["newsarchive/store/spooled"] == 12
    assert counted["newsarchive/store/gave_up"] == 1
    assert "newsarchive/store/lost" not in counted
    assert not list(spool.glob(".*.tmp"))
    with Archive(url) as archive:
        assert archive.count_articles() == 0

    # the next run stores them before anything else, under the run that fetched them
    again = crawler(NEWSARCHIVE_DB=url)
    pipe = StorePipeline.from_crawler(again)
    pipe.open_spider()
    assert stats(again) == {**stats(again), "newsarchive/store/replayed": 12, "newsarchive/new": 12}
    pipe.close_spider()
    assert not list(spool.glob("*.spool"))
    with Archive(url) as archive:
        assert archive.count_articles() == 12
        with archive.engine.connect() as conn:
            run_ids = {r for (r,) in conn.exec_driver_sql("SELECT DISTINCT run_id FROM article_versions")}
    assert run_ids == {run_id}


def test_a_half_written_spool_file_is_never_read(tmp_path: Path) -> None:
    from newsarchive.spool import Spool

    url = f"sqlite:///{tmp_path / 'a.sqlite'}"
    spool = Spool(url)
    spool.write([article(1)], None)
    # what a kill during a write leaves: a temp file of a process that is gone
    (spool.directory / ".999999999-000001-deadbeef.tmp").write_bytes(b"\x80\x05 half a pickle")
    assert [len(b.articles) for b in spool.batches()] == [1]
    assert not list(spool.directory.glob(".*.tmp"))
    # a spool of another archive is left alone
    other = Spool(f"sqlite:///{tmp_path / 'b.sqlite'}", spool.directory)
    assert list(other.batches()) == []


def test_a_spool_the_archive_still_refuses_stops_the_crawl_before_any_fetch(tmp_path: Path) -> None:
    from scrapy.exceptions import CloseSpider

    from newsarchive.spool import Spool

    url = f"sqlite:///{tmp_path / 'a.sqlite'}"
    spool = Spool(url)
    spool.write([article(1, published="not a date")], None)  # a batch no archive can take
    c = crawler(NEWSARCHIVE_DB=url)
    pipe = StorePipeline.from_crawler(c)
    with pytest.raises(CloseSpider) as info:
        pipe.open_spider()
    assert info.value.reason == "store_failed"
    pipe.close_spider()
    assert stats(c)["newsarchive/store/gave_up"] == 1
    assert len(spool.files()) == 1  # kept for a later run, not dropped
