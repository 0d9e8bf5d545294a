"""The crawl commands' surface: sources listing, help, summary helpers, Retry-After parsing."""

from __future__ import annotations

from email.utils import formatdate

import pytest
from click.testing import CliRunner

from newsarchive import extract
from newsarchive.cli import main
from newsarchive.config import SAMPLES_DIR
from newsarchive.crawl.middlewares import retry_after_seconds
from newsarchive.crawl.progress import counts_from_stats, progress_line
from newsarchive.crawl.runner import exit_status, summarise


def test_sources_lists_tass_with_its_discovery_methods() -> None:
    result = CliRunner().invoke(main, ["sources"], catch_exceptions=False)
    assert result.exit_code == 0
    lines = result.output.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("tass "))
    assert "https://tass.com" in lines[at]
    details = lines[at + 1]
    for part in ("rss /rss/v2.xml", "sitemaps /sitemap.xml", "sections /politics", "pagination",
                 "read-also links"):
        assert part in details


def test_sources_never_lists_the_base_spider() -> None:
    from scrapy.spiderloader import SpiderLoader

    from newsarchive.crawl.runner import project_settings

    names = SpiderLoader.from_settings(project_settings()).list()
    assert "tass" in names
    assert all(names), names
    assert "NewsSpider" not in names
    result = CliRunner().invoke(main, ["sources"], catch_exceptions=False)
    listed = [line.split()[0] for line in result.output.splitlines() if line and not line[0].isspace()]
    assert sorted(listed) == sorted(names)


def test_crawl_help_documents_the_options_and_exit_rule() -> None:
    result = CliRunner().invoke(main, ["crawl", "--help"], catch_exceptions=False)
    assert result.exit_code == 0
    for option in ("--db", "--base-url", "--max-articles", "--since", "--until", "--refetch", "--resume"):
        assert option in result.output
    assert "Exit 0" in result.output


def test_bad_base_url_is_a_usage_error() -> None:
    result = CliRunner().invoke(main, ["crawl", "tass", "--base-url", "localhost:8000"])
    assert result.exit_code == 2
    assert "is not an http(s) URL" in result.output


def test_tass_profile_is_found_by_url_through_the_entry_point() -> None:
    html = (SAMPLES_DIR / "site" / "politics" / "900101.html").read_bytes()
    article = extract(html, "https://tass.com/politics/900101")
    assert article.source == "tass"
    assert article.topics == ["Foreign policy", "Syrian conflict"]


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    assert retry_after_seconds(b"120") == 120.0
    assert retry_after_seconds(formatdate(1_000_030, usegmt=True), now=1_000_000) == 30.0
    assert retry_after_seconds(formatdate(999_000, usegmt=True), now=1_000_000) == 0.0
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None


def test_exit_rule() -> None:
    stats = {"response_received_count": 10, "newsarchive/new": 4}
    assert exit_status("finished", counts_from_stats(stats), 0.5) == ("finished", 0)
    assert exit_status("finished", counts_from_stats({}), 0.5) == ("failed", 3)  # nothing fetched
    assert exit_status("shutdown", counts_from_stats(stats), 0.5) == ("interrupted", 4)
    errors = dict(stats, **{"newsarchive/fetch_failed/http_500": 6})
    assert exit_status("finished", counts_from_stats(errors), 0.5) == ("failed", 3)
    blocked = {"response_received_count": 3, "newsarchive/blocked": 3}
    assert exit_status("finished", counts_from_stats(blocked), 0.5) == ("failed", 3)


def test_progress_line_shows_the_live_counts() -> None:
    counts = counts_from_stats({"response_received_count": 120, "newsarchive/new": 7,
                                "newsarchive/updated": 2, "newsarchive/duplicate": 1,
                                "newsarchive/skipped/no_body": 3})
    line = progress_line(counts, elapsed=60.0)
    assert line == ("pages 120  stored 7  updates 2  duplicates 1  skipped 3  errors 0  (120 pages/min)")


@pytest.mark.parametrize(("stats", "body_fill"), [
    # every article lost its body after a redesign: none kept, the body's fill rate is 0, not missing
    ({"newsarchive/skipped/no_body": 20}, 0.0),
    ({"newsarchive/new": 6, "newsarchive/fill/body": 6, "newsarchive/skipped/no_body": 2,
      "newsarchive/skipped/body_too_short": 2}, 0.6),
    ({"newsarchive/new": 5, "newsarchive/fill/body": 5}, 1.0),
])
def test_empty_bodies_count_in_the_body_fill_rate(stats: dict[str, int], body_fill: float) -> None:
    fill_rates = summarise(stats)[3]
    assert fill_rates["body"] == body_fill
