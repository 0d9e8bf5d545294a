"""User sources (a TOML file): validation, listing, and an end-to-end crawl from a loopback site."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from newsarchive.cli import main
from newsarchive.errors import ConfigError
from newsarchive.sources import load_sources
from newsarchive.storage import Archive
from tests.crawl.crawlkit import HTML, XML, Site, archived, rss, run_crawl

GOOD = """
[sources.harbour]
hosts = ["news.harbour.example"]
feeds = ["/feed.xml"]
article_pattern = '^/story/\\d+$'
language = "en"
timezone = "Asia/Tokyo"

[sources.harbour.selectors]
headline = "h2.story-title::text"
published = ".stamp::text"
body = "div.story-text"
drop = ".promo"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sources.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_good_file_becomes_a_profile(tmp_path: Path) -> None:
    (source,) = load_sources(write(tmp_path, GOOD), builtin={"tass"})
    assert source.name == "harbour"
    assert source.base_url == "https://news.harbour.example"
    assert source.feeds == ("/feed.xml",)
    assert source.profile.timezone == "Asia/Tokyo"
    assert source.profile.fields["headline"] == ("h2.story-title::text",)
    assert source.profile.body == ("div.story-text",)
    assert source.profile.drop == (".promo",)


@pytest.mark.parametrize(("change", "message"), [
    (("feeds = [", "feed = ["), "unknown key 'feed'"),
    (("article_pattern = '^/story/\\d+$'", "article_pattern = '^/story/(\\d+$'"),
     "article_pattern: bad regex"),
    (('timezone = "Asia/Tokyo"', 'timezone = "Asia/Atlantis"'), "'Asia/Atlantis' is not an IANA time zone"),
    (('hosts = ["news.harbour.example"]\n', ""), "'hosts' is missing"),
    (('hosts = ["news.harbour.example"]', 'hosts = ["https://news.harbour.example/"]'), "is not a host name"),
    (("sources.harbour", "sources.tass"), "'tass' is a built-in source"),
    (('feeds = ["/feed.xml"]\n', ""), "no discovery"),
    (("article_pattern = '^/story/\\d+$'\n", ""), "'article_pattern' is missing"),
    (('headline = "h2.story-title::text"', 'headline = "h2[[::text"'), "selectors.headline: bad selector"),
    (('headline = "h2', 'kicker = "h2'), "selectors: unknown field 'kicker'"),
    (('language = "en"', 'language = "English"'), "is not a language code"),
    (("sources.harbour", 'sources."Harbour News"'), "a source name is lower-case"),
    (("[sources.harbour]\n", "[sources.harbour\n"), "not valid TOML"),
])
def test_each_mistake_is_one_clear_line(tmp_path: Path, change: tuple[str, str], message: str) -> None:
    text = GOOD.replace(*change)
    assert text != GOOD
    with pytest.raises(ConfigError) as err:
        load_sources(write(tmp_path, text), builtin={"tass"})
    assert message in str(err.value)
    assert "\n" not in str(err.value)
    assert str(tmp_path / "sources.toml") in str(err.value)


def test_missing_file_and_cli_errors_are_one_line_without_traceback(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    result = CliRunner().invoke(main, ["sources", "--sources", str(missing)])
    assert result.exit_code == 1
    assert "sources file not found" in result.output
    assert "Traceback" not in result.output
    bad = write(tmp_path, GOOD.replace('"Asia/Tokyo"', '"Mars/Olympus"'))
    result = CliRunner().invoke(main, ["crawl", "harbour", "--sources", str(bad), "--db",
                                       f"sqlite:///{tmp_path / 'a.sqlite'}"])
    assert result.exit_code == 1
    assert "not an IANA time zone" in result.output
    assert "Traceback" not in result.output


def test_sources_lists_built_in_and_user_sources(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    result = CliRunner().invoke(main, ["sources", "--sources", str(path), "--format", "json"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    rows = {row["name"]: row for row in json.loads(result.output)}
    assert rows["harbour"]["kind"] == "user"
    assert rows["harbour"]["feeds"] == ["/feed.xml"]
    assert rows["tass"]["kind"] == "built-in"
    # the environment variable is the other way to name the file
    result = CliRunner().invoke(main, ["sources"], env={"NEWSARCHIVE_SOURCES": str(path)},
                                catch_exceptions=False)
    assert "harbour" in result.output
    assert "(user)" in result.output


def _story(num: int, title: str, stamp: str) -> bytes:
    words = " ".join(f"word{i}" for i in range(60))
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>Harbour Daily</title></head>
<body><h1>Harbour Daily</h1><div class="story"><h2 class="story-title">{title}</h2>
<span class="stamp">{stamp}</span><div class="story-text"><p>Story {num} opens the day with {words}.</p>
<div class="promo">Subscribe now to the Harbour Daily newsletter</div>
<p>The second paragraph of story {num} adds more to read so the body is long enough.</p></div>
</div></body></html>""".encode()


def _harbour_site() -> Site:
    site = Site().start()
    base = "https://news.harbour.example"
    site.routes.update({
        "/robots.txt": (200, {"Content-Type": "text/plain"}, b"User-agent: *\nAllow: /\n"),
        "/feed.xml": (200, XML, rss(base, [("/story/1", "Fri, 20 Nov 2026 01:00:00 +0000"),
                                           ("/story/2", "Fri, 20 Nov 2026 02:00:00 +0000"),
                                           ("/about", "Fri, 20 Nov 2026 02:00:00 +0000")])),
        "/story/1": (200, HTML, _story(1, "Ferry timetable changes on Monday", "2026-11-20 10:00")),
        "/story/2": (200, HTML, _story(2, "Fish market opens a new hall", "2026-11-20 11:30")),
    })
    return site


def test_a_user_source_is_crawled_end_to_end(tmp_path: Path) -> None:
    site = _harbour_site()
    try:
        sources = write(tmp_path, GOOD)
        db = f"sqlite:///{tmp_path / 'archive.sqlite'}"
        run = run_crawl(tmp_path, site.base_url, "--sources", str(sources), db=db, source="harbour")
    finally:
        site.stop()
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.summary["counts"]["stored"] == 2
    rows = {row["canonical_url"].rsplit("/", 1)[-1]: row for row in archived(db).values()}
    assert set(rows) == {"1", "2"}
    first = rows["1"]
    assert first["source"] == "harbour"
    # the selector's headline, not the page's <h1> banner or <title>
    assert first["headline"] == "Ferry timetable changes on Monday"
    # 10:00 on a page without an offset is read in the file's time zone (Tokyo, UTC+9)
    published = first["published"]
    moment = published if isinstance(published, datetime) else datetime.fromisoformat(str(published))
    assert moment.astimezone(UTC) == datetime(2026, 11, 20, 1, 0, tzinfo=UTC)
    assert first["language"] == "en"
    assert "Subscribe now" not in first["body"]
    assert "Story 1 opens the day" in first["body"]


def test_the_documented_example_file_is_valid() -> None:
    from tests.crawl.crawlkit import ROOT

    names = [s.name for s in load_sources(ROOT / "docs" / "sources.example.toml", builtin={"tass"})]
    assert names == ["harbour", "lakeside"]


@pytest.mark.slow
def test_scrapy_crawl_finds_a_user_source_through_the_environment(tmp_path: Path) -> None:
    from tests.crawl.crawlkit import ROOT

    db = f"sqlite:///{tmp_path / 'archive.sqlite'}"
    env = dict(os.environ, NEWSARCHIVE_DB=db, NEWSARCHIVE_DATA_DIR=str(tmp_path / "data"),
               NEWSARCHIVE_SOURCES=str(write(tmp_path, GOOD)))
    scrapy = Path(sys.executable).with_name("scrapy")
    site = _harbour_site()
    try:
        proc = subprocess.run([str(scrapy), "crawl", "harbour", "-a", f"base_url={site.base_url}",
                               "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY=0",
                               "-s", "HTTPPROXY_ENABLED=False"],
                              cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    finally:
        site.stop()
    assert proc.returncode == 0, proc.stderr[-3000:]
    headlines = sorted(row["headline"] for row in archived(db).values())
    assert headlines == ["Ferry timetable changes on Monday", "Fish market opens a new hall"]
    with Archive(db) as archive:
        (run,) = archive.runs()
    assert (run["source"], run["status"], run["counts"]["stored"]) == ("harbour", "finished", 2)


def test_scrapy_crawl_with_a_bad_sources_file_says_one_line(tmp_path: Path) -> None:
    from tests.crawl.crawlkit import ROOT

    bad = tmp_path / "bad.toml"
    bad.write_text('[sources.x]\nhosts = 3\n', encoding="utf-8")
    env = dict(os.environ, NEWSARCHIVE_DB=f"sqlite:///{tmp_path / 'a.sqlite'}", NEWSARCHIVE_SOURCES=str(bad))
    scrapy = Path(sys.executable).with_name("scrapy")
    proc = subprocess.run([str(scrapy), "crawl", "tass"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120, check=False)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert line == f"error: {bad}: [sources.x]: hosts: expected a string or a list of non-empty strings"
    assert not (tmp_path / "a.sqlite").exists()
