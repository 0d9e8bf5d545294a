"""Real crawls (subprocesses) of the bundled sample site served on loopback: first run, revisits, edits."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from crawlkit import ROOT, archived, run_crawl, url_path

from newsarchive import extract
from newsarchive.demo import SampleSite
from newsarchive.reextract import reextract
from newsarchive.storage import Archive
from spiders.tass import PROFILE

MSK = timezone(timedelta(hours=3))
LISTINGS = {"/robots.txt", "/rss/v2.xml", "/sitemap.xml", "/sitemap/sitemap_news0.xml", "/",
            "/politics", "/politics?page=2", "/politics?page=1"}
CONTENT_TWINS = {"/economy/900104", "/society/900107"}  # the same story under two sections
SKIPPED = {"/society/900109", "/politics/900110"}  # a gallery without text; a withdrawn story (404)

pytestmark = pytest.mark.slow


def _article_hits(requests: list[str]) -> list[str]:
    return [p for p in requests if p not in LISTINGS]


def test_first_crawl_archives_the_sample_site(tmp_path: Path) -> None:
    with SampleSite(port=0) as site:
        run = run_crawl(tmp_path, site.base_url)
        requests = list(site.requests)
    assert run.returncode == 0, run.stderr[-2000:]
    db = f"sqlite:///{tmp_path / 'archive.sqlite'}"
    rows = {url_path(url): row for url, row in archived(db).items()}
    definite = {"/politics/900101", "/politics/900102", "/politics/900106", "/world/900103",
                "/economy/900105", "/world/900108"}
    assert definite <= set(rows)
    assert len(rows) == 7
    assert len(set(rows) & CONTENT_TWINS) == 1  # the syndicated copy is a duplicate, not a second story
    # the world desk's lightly edited republication is its own article, in the original's cluster
    (twin,) = set(rows) & CONTENT_TWINS
    assert rows["/world/900108"]["cluster_id"] == rows[twin]["cluster_id"] is not None
    assert rows["/world/900103"]["cluster_id"] != rows[twin]["cluster_id"]

    seed = rows["/politics/900101"]
    published = seed["published"]
    published = datetime.fromisoformat(published) if isinstance(published, str) else published
    assert published == datetime(2017, 1, 19, 13, 48, tzinfo=MSK)
    assert seed["dateline"] == "MOSCOW, January 19. /TASS/."
    assert seed["source"] == "tass"
    assert seed["body"].startswith("Moscow keeps in touch with Tehran")
    assert "Read also" not in seed["body"]
    assert list(seed["topics"]) == ["Foreign policy", "Syrian conflict"]

    # robots.txt forbids /private/: counted, never requested
    assert run.summary["counts"]["robots_disallowed"] == 1
    assert "/private/900199" not in requests
    # the feed's tracking-parameter URL is the same article: fetched once, under either URL
    assert len([p for p in requests if p.startswith("/world/900103")]) == 1
    assert run.summary["stats"]["newsarchive/discovery/duplicate_url"] == 1
    assert run.summary["stats"]["newsarchive/duplicate"] == 1
    # every article page was fetched once (the gallery and the withdrawn story too), and the
    # pages that answered were archived as WARC
    hits = _article_hits(requests)
    assert len(hits) == len(set(hits)) == 10
    assert run.summary["stats"]["newsarchive/warc/records"] == 9
    # a photo gallery without text and a feed entry that answers 404: skipped with their reasons
    assert run.summary["skipped"] == {"http_404": 1, "no_body": 1}
    assert list((tmp_path / "data" / "warc").glob("*.warc.gz"))
    # each stored version points at its raw response: re-extraction from WARC finds the same record
    with Archive(db) as archive:
        again = reextract(archive, extract=lambda html, url, **_: extract(html, url, profile=PROFILE),
                          warc_directory=tmp_path / "data" / "warc")
    assert again.counts == {"checked": 7, "changed": 0, "unchanged": 7, "refused": 0, "failed": 0,
                            "no_warc": 0, "moved": 0}
    assert run.summary["fill_rates"]["headline"] == 1.0


def test_second_run_fetches_only_listings_and_due_revisits(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'archive.sqlite'}"
    with SampleSite(port=0) as site:
        first = run_crawl(tmp_path, site.base_url)
        assert first.returncode == 0, first.stderr[-2000:]
        site.set_edition(2)  # the edited article's sitemap lastmod is now newer than our fetch
        site.requests.clear()
        second = run_crawl(tmp_path, site.base_url)
        second_requests = list(site.requests)
        site.requests.clear()
        third = run_crawl(tmp_path, site.base_url)
        third_requests = list(site.requests)
    assert second.returncode == 0, second.stderr[-2000:]
    # listings always; of the articles only the edited one (the first run's syndicated twin
    # was recorded as a duplicate, so the archive knows its URL too) and the two pages the
    # first run skipped: nothing was archived for them, so they are tried again
    assert set(_article_hits(second_requests)) == {"/economy/900105", *SKIPPED}
    assert {"/rss/v2.xml", "/sitemap.xml", "/sitemap/sitemap_news0.xml", "/politics"} <= set(second_requests)
    assert second.summary["counts"]["updated"] == 1
    assert second.summary["counts"]["stored"] == 0
    edited = {url_path(u): r for u, r in archived(db).items()}["/economy/900105"]
    assert edited["version_count"] == 2
    assert "corrected estimate" in edited["body"]
    # nothing changed since: a third run fetches listings only
    assert third.returncode == 0, third.stderr[-2000:]
    assert set(_article_hits(third_requests)) == SKIPPED
    assert third.summary["stats"]["newsarchive/revisit/not_due"] >= 6


def test_refetch_fetches_everything_again(tmp_path: Path) -> None:
    with SampleSite(port=0) as site:
        run_crawl(tmp_path, site.base_url)
        site.requests.clear()
        again = run_crawl(tmp_path, site.base_url, "--refetch")
        hits = _article_hits(site.requests)
    assert again.returncode == 0
    assert len(hits) == 10
    assert again.summary["counts"]["unchanged"] >= 6


def test_scrapy_crawl_from_the_repository_root(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'scrapy.sqlite'}"
    env = dict(os.environ, NEWSARCHIVE_DATA_DIR=str(tmp_path / "data"), NEWSARCHIVE_DB=db)
    with SampleSite(port=0) as site:
        proc = subprocess.run(
            [sys.executable, "-m", "scrapy", "crawl", "tass", "-a", f"base_url={site.base_url}",
             "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY=0", "-s", "LOG_LEVEL=WARNING",
             "-s", "HTTPPROXY_ENABLED=False"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
        )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert len(archived(db)) == 7


def test_demo_runs_offline_and_reports(tmp_path: Path) -> None:
    env = dict(os.environ, NEWSARCHIVE_DATA_DIR=str(tmp_path / "data"), NEWSARCHIVE_DEMO_PORT="0")
    csv_file = tmp_path / "demo.csv"
    proc = subprocess.run(
        [sys.executable, "-c", "from newsarchive.cli import main; main()", "demo",
         "--db", f"sqlite:///{tmp_path / 'demo.sqlite'}", "-o", str(csv_file)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    table = {line[:24].strip(): line[24:].split()[:2] for line in proc.stderr.splitlines()
             if line.startswith("  ")}
    assert table["articles stored"] == ["7", "0"]
    assert table["updates"] == ["0", "1"]
    assert "revisions 1 article(s) with earlier text kept: /economy/900105 (2 versions)" in proc.stderr
    assert "clusters  1 near-duplicate cluster(s)" in proc.stderr
    assert "/world/900108" in proc.stderr
    assert table["robots.txt disallowed"] == ["1", "1"]
    assert table["errors"] == ["0", "0"]
    assert "CSV" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert csv_file.read_text(encoding="utf-8-sig").count("/politics/900101") >= 1
