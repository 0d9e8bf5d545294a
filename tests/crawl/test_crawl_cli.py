"""The crawl commands' surface: sources listing, help, summary helpers, Retry-After parsing."""

from __future__ import annotations

import csv
import io
import json
from email.utils import formatdate
from pathlib import Path

import pytest
from click.testing import CliRunner

from newsarchive import extract
from newsarchive.cli import main
from newsarchive.config import SAMPLES_DIR
from newsarchive.crawl.middlewares import retry_after_seconds
from newsarchive.crawl.progress import counts_from_stats, progress_line
from newsarchive.crawl.runner import check_setting, exit_status, summarise


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

# -- every option checked before any work (issue 14 item 5) ----------------------------------
def _refused(args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int = 2) -> str:
    """Run ``crawl`` with ``args``: exit ``code``, one Error line, and nothing created or crawled."""
    db, jobs = tmp_path / "archive.sqlite", tmp_path / "jobs"
    result = CliRunner().invoke(main, ["crawl", "tass", "--base-url", "http://127.0.0.1:9",
                                       "--db", f"sqlite:///{db}", "-s", f"NEWSARCHIVE_JOBS_DIR={jobs}",
                                       *args])
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    assert "--resume" not in result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1, result.stderr
    assert not db.exists()
    assert not jobs.exists()
    return errors[0]


def test_bad_setting_value_is_refused_before_crawling(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    line = _refused(["-s", "CONCURRENT_REQUESTS=abc"], tmp_path, monkeypatch)
    assert "CONCURRENT_REQUESTS='abc': expected a whole number" in line
    assert "expected a boolean" in _refused(["-s", "ROBOTSTXT_OBEY=maybe"], tmp_path, monkeypatch)
    assert "expected a number" in _refused(["-s", "DOWNLOAD_DELAY=soon"], tmp_path, monkeypatch)
    assert "JSON object" in _refused(["-s", "ITEM_PIPELINES=x"], tmp_path, monkeypatch)
    assert "UPPER_CASE" in _refused(["-s", "log level=INFO"], tmp_path, monkeypatch)


def test_check_setting_accepts_what_scrapy_reads() -> None:
    assert check_setting("CONCURRENT_REQUESTS", "4") is None
    assert check_setting("DOWNLOAD_TIMEOUT", "2.5") is None  # an int default Scrapy reads as a float
    assert check_setting("ROBOTSTXT_OBEY", "False") is None
    assert check_setting("ITEM_PIPELINES", '{"pipelines.store.StorePipeline": 800}') is None
    assert check_setting("MY_EXTENSION_SETTING", "anything") is None  # unknown: passed on
    assert check_setting("CONCURRENT_REQUESTS", "2.5") == "expected a whole number"


def test_malformed_db_url_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    line = _refused(["--db", "[::1:1"], tmp_path, monkeypatch)
    assert "'[::1:1' is not a database URL" in line
    line = _refused(["--db", "postgresql://crawler:Hunter2pw@[::1:1/news"], tmp_path, monkeypatch)
    assert "Hunter2pw" not in line
    assert "crawler:***@" in line


def test_unwritable_summary_path_is_refused_before_crawling(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    # exit 1, like an export file that cannot be written
    line = _refused(["--summary-json", str(tmp_path / "missing" / "s.json")], tmp_path, monkeypatch, 1)
    assert line.startswith("Error: --summary-json: cannot write")
    assert "does not exist" in line
    (tmp_path / "adir").mkdir()
    # a directory is refused by the option's own type (click.Path), a usage error
    line = _refused(["--summary-json", str(tmp_path / "adir")], tmp_path, monkeypatch, 2)
    assert "is a directory" in line


def test_since_later_than_until_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    line = _refused(["--since", "2026-11-02", "--until", "2026-11-01"], tmp_path, monkeypatch)
    assert "--since is later than --until" in line


def test_unknown_source_is_one_line_and_exit_1(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSARCHIVE_DATA_DIR", str(tmp_path / "data"))
    result = CliRunner().invoke(main, ["crawl", "tas", "--db", f"sqlite:///{tmp_path / 'a.sqlite'}"])
    assert result.exit_code == 1
    assert result.stderr.startswith("error: unknown source 'tas' (known: ")
    assert result.stderr.count("\n") == 1


def test_sources_as_json_and_csv() -> None:
    result = CliRunner().invoke(main, ["sources", "--format", "json"], catch_exceptions=False)
    assert result.exit_code == 0
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    assert rows["tass"]["base_url"] == "https://tass.com"
    assert "/rss/v2.xml" in rows["tass"]["feeds"]
    assert rows["tass"]["pagination"] is True
    result = CliRunner().invoke(main, ["sources", "--format", "csv"], catch_exceptions=False)
    (tass,) = [r for r in csv.DictReader(io.StringIO(result.stdout)) if r["name"] == "tass"]
    assert "/rss/v2.xml" in json.loads(tass["feeds"])  # list cells are JSON arrays


def test_crawl_log_level_follows_v_q_and_the_alias(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str | None] = []

    def fake(opts: object) -> int:
        seen.append(getattr(opts, "log_level", None))
        return 0

    monkeypatch.setattr("newsarchive.crawl.runner.main_safe", fake)
    monkeypatch.delenv("NEWSARCHIVE_LOG_LEVEL", raising=False)
    for args in ([], ["-q"], ["-v"], ["--log-level", "debug"]):
        CliRunner().invoke(main, ["crawl", "tass", *args], catch_exceptions=False)
    CliRunner().invoke(main, ["-q", "crawl", "tass"], catch_exceptions=False)
    # no terminal (CliRunner): INFO is the default, so -q gives WARNING and -v DEBUG
    assert seen == [None, "WARNING", "DEBUG", "DEBUG", "WARNING"]


def test_demo_refuses_an_unwritable_csv_before_crawling(tmp_path: Path) -> None:
    db = tmp_path / "demo.sqlite"
    csv_path = str(tmp_path / "no" / "x.csv")
    result = CliRunner().invoke(main, ["demo", "--db", f"sqlite:///{db}", "-o", csv_path])
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1
    assert "folder" in result.stderr
    assert not db.exists()


def test_unreachable_archive_is_one_line_with_the_password_masked(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSARCHIVE_DATA_DIR", str(tmp_path / "data"))
    url = "postgresql+psycopg://crawler:Walrus-Lamp-73@127.0.0.1:1/news"  # nothing listens on port 1
    result = CliRunner().invoke(main, ["crawl", "tass", "--db", url])
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("error: cannot write the archive at postgresql+psycopg://crawler:***@")
    assert "Walrus-Lamp-73" not in result.output
