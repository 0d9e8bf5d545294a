"""Real crawls of a loopback test site: Retry-After, blocks, robots.txt, hostile listings, backfill, 304s."""

from __future__ import annotations

import gzip
import hashlib
import time
from pathlib import Path

import pytest
from crawlkit import HTML, XML, Site, archived, article_html, now_rfc822, rss, run_crawl

pytestmark = pytest.mark.slow


def _feed(site: Site, paths: list[str], date: str = "Fri, 20 Nov 2026 10:00:00 +0300") -> None:
    site.routes["/rss/v2.xml"] = (200, XML, rss(site.base_url, [(p, date) for p in paths]))


def _articles(site: Site, numbers: range, section: str = "politics") -> list[str]:
    paths = []
    for n in numbers:
        path = f"/{section}/{n}"
        site.routes[path] = (200, HTML, article_html(n, f"Headline number {n}", [f"Second paragraph {n}."]))
        paths.append(path)
    return paths


def test_429_with_retry_after_is_honoured_then_retried(tmp_path: Path, site: Site) -> None:
    ok = (200, HTML, article_html(1, "Patient headline", ["Waited for it."]))
    calls: list[float] = []

    def limited(path: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        calls.append(time.monotonic())
        if len(calls) == 1:
            return 429, {"Retry-After": "2", "Content-Type": "text/plain"}, b"slow down"
        return ok

    site.routes["/politics/1"] = limited
    _feed(site, ["/politics/1"])
    run = run_crawl(tmp_path, site.base_url, "-s", "NEWSARCHIVE_PROGRESS_INTERVAL=0.5")
    assert run.returncode == 0, run.stderr[-2000:]
    # no terminal: the progress extension logs a line per interval (a minute by default)
    assert "progress: pages " in run.stderr
    assert len(calls) == 2
    assert calls[1] - calls[0] >= 1.9  # the server asked for 2 s; stock Scrapy would retry at once
    assert run.summary["stats"]["newsarchive/retry_after/retries"] == 1
    assert run.summary["counts"]["stored"] == 1


def test_endless_503_gives_up_after_bounded_retries(tmp_path: Path, site: Site) -> None:
    site.routes["/politics/1"] = (503, {"Retry-After": "0", "Content-Type": "text/plain"}, b"busy")
    _feed(site, ["/politics/1"])
    run = run_crawl(tmp_path, site.base_url, "-s", "NEWSARCHIVE_RETRY_AFTER_TIMES=2")
    assert site.paths().count("/politics/1") == 3  # first try + 2 retries, then given up
    assert run.summary["stats"]["newsarchive/retry_after/gave_up"] == 1
    assert run.summary["counts"]["errors"] >= 1


def test_blocks_are_reported_not_retried_and_stop_the_crawl(tmp_path: Path, site: Site) -> None:
    paths = [f"/politics/{n}" for n in range(1, 9)]
    for path in paths:
        site.routes[path] = (403, HTML, b"<html><body>Forbidden</body></html>")
    _feed(site, paths)
    # Scrapy 2.19 enforces per-domain concurrency only with a non-zero delay: dispatch one by one
    run = run_crawl(tmp_path, site.base_url, "-s", "NEWSARCHIVE_BLOCK_LIMIT=3",
                    "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1", "-s", "DOWNLOAD_DELAY=0.05")
    hits = [p for p in site.paths() if p.startswith("/politics/")]
    assert len(hits) == len(set(hits))  # never retried
    assert len(hits) < len(paths)  # stopped once blocking was clear
    assert run.summary["stats"]["newsarchive/blocked/http_403"] >= 3
    assert run.summary["finish_reason"] == "blocked"
    assert run.returncode == 3
    assert "Traceback" not in run.stderr


def test_challenge_page_counts_as_a_block(tmp_path: Path, site: Site) -> None:
    challenge = b"<html><head><title>Just a moment...</title></head><body>cf-chl captcha</body></html>"
    site.routes["/politics/1"] = (503, HTML, challenge)
    _articles(site, range(2, 3))
    _feed(site, ["/politics/1", "/politics/2"])
    run = run_crawl(tmp_path, site.base_url)
    assert site.paths().count("/politics/1") == 1
    assert run.summary["stats"]["newsarchive/blocked/challenge"] == 1
    assert run.summary["counts"]["stored"] == 1
    assert run.returncode == 0


def test_robots_txt_forbidden_paths_are_counted_and_never_fetched(tmp_path: Path, site: Site) -> None:
    site.routes["/robots.txt"] = (200, {"Content-Type": "text/plain"}, b"User-agent: *\nDisallow: /secret/\n")
    paths = _articles(site, range(1, 3)) + _articles(site, range(3, 5), section="secret")
    _feed(site, paths)
    run = run_crawl(tmp_path, site.base_url)
    assert run.returncode == 0, run.stderr[-2000:]
    assert not [p for p in site.paths() if p.startswith("/secret/")]
    assert run.summary["counts"]["robots_disallowed"] == 2
    assert run.summary["counts"]["stored"] == 2


def test_hostile_listings_are_skipped_with_reasons_in_bounded_time(tmp_path: Path, site: Site) -> None:
    base = site.base_url
    site.routes["/rss/v2.xml"] = (200, XML, b"<rss><channel><item><link>broken")
    bomb = gzip.compress(b"\0" * (1 << 20), compresslevel=9) * 1024  # 1 GB once unpacked
    site.routes["/sitemap.xml"] = (200, XML, f"""<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
        <sitemap><loc>{base}/sitemap/bomb.xml.gz</loc></sitemap>
        <sitemap><loc>{base}/sitemap/redirect.xml</loc></sitemap>
        <sitemap><loc>http://elsewhere.invalid/sitemap.xml</loc></sitemap>
        <sitemap><loc>{base}/sitemap/lol.xml</loc></sitemap>
        <sitemap><loc>{base}/sitemap.xml</loc></sitemap></sitemapindex>""".encode())
    site.routes["/sitemap/bomb.xml.gz"] = (200, {"Content-Type": "application/gzip"}, bomb)
    site.routes["/sitemap/redirect.xml"] = (302, {"Location": "http://elsewhere.invalid/x.xml"}, b"")
    site.routes["/sitemap/lol.xml"] = (200, XML, b"""<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaa">
        <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><urlset><url><loc>&b;</loc></url></urlset>""")
    # a home page that is an image, and a section whose pagination loops 2 -> 3 -> 2
    site.routes["/"] = (200, {"Content-Type": "image/png"}, b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    pages = {1: "/politics", 2: "/politics?page=2", 3: "/politics?page=3"}
    for n, path in pages.items():
        nxt = pages[2 if n == 3 else n + 1]
        site.routes[path] = (200, HTML, f"""<html><body><a href="/politics/{n}">story</a>
            <a rel="next" href="{nxt}">next</a></body></html>""".encode())
    _articles(site, range(1, 4))
    started = time.monotonic()
    run = run_crawl(tmp_path, site.base_url)
    assert time.monotonic() - started < 90
    assert run.returncode == 0, run.stderr[-2000:]
    skipped = run.summary["discovery_skipped"]
    assert skipped["malformed"] == 1
    assert skipped["too_large"] == 1
    assert skipped["entities"] == 1
    assert skipped["offsite"] >= 1
    assert skipped["loop"] >= 2  # the index naming itself, and the pagination cycle
    assert run.summary["stats"]["offsite/filtered"] >= 1  # the off-site redirect
    assert site.paths().count("/politics?page=2") == 1
    assert run.summary["counts"]["stored"] == 3


def test_gone_and_non_article_pages_are_counted_skips(tmp_path: Path, site: Site) -> None:
    paths = _articles(site, range(1, 3))
    site.routes["/politics/3"] = (200, HTML, b"<html><body><p>Section index, no story.</p></body></html>")
    site.routes["/politics/4"] = (200, {"Content-Type": "application/pdf"}, b"%PDF-1.4 binary")
    _feed(site, [*paths, "/politics/3", "/politics/4", "/politics/5"])  # 5 is a 404
    run = run_crawl(tmp_path, site.base_url)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.summary["counts"]["stored"] == 2
    assert run.summary["skipped"]["http_404"] == 1
    assert sum(run.summary["skipped"].values()) == 3
    assert run.summary["counts"]["errors"] == 0
    assert "Traceback" not in run.stderr


def test_max_articles_bounds_the_article_fetches(tmp_path: Path, site: Site) -> None:
    _feed(site, _articles(site, range(1, 7)))
    run = run_crawl(tmp_path, site.base_url, "--max-articles", "2")
    assert run.returncode == 0, run.stderr[-2000:]
    assert len([p for p in site.paths() if p.startswith("/politics/")]) == 2
    assert run.summary["counts"]["stored"] == 2
    assert run.summary["stats"]["newsarchive/discovery/over_limit"] == 4


def test_since_until_use_listing_dates_to_avoid_fetching(tmp_path: Path, site: Site) -> None:
    dates = {1: "Sun, 01 Nov 2026 10:00:00 +0300", 2: "Thu, 05 Nov 2026 10:00:00 +0300",
             3: "Tue, 10 Nov 2026 10:00:00 +0300", 4: "Fri, 20 Nov 2026 10:00:00 +0300"}
    _articles(site, range(1, 5))
    items = [(f"/politics/{n}", d) for n, d in dates.items()]
    site.routes["/rss/v2.xml"] = (200, XML, rss(site.base_url, items))
    run = run_crawl(tmp_path, site.base_url, "--since", "2026-11-04", "--until", "2026-11-12")
    assert run.returncode == 0, run.stderr[-2000:]
    assert sorted(p for p in site.paths() if p.startswith("/politics/")) == ["/politics/2", "/politics/3"]
    assert run.summary["stats"]["newsarchive/discovery/out_of_range"] == 2


def test_young_article_revisit_is_conditional_and_304_is_recorded(tmp_path: Path, site: Site) -> None:
    body = article_html(1, "Fresh headline", ["Fresh paragraph."], epoch=int(time.time()) - 3600)
    etag = '"' + hashlib.sha1(body).hexdigest()[:12] + '"'
    seen_headers: list[dict[str, str]] = []

    def page(path: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        seen_headers.append(headers)
        if headers.get("If-None-Match") == etag:
            return 304, {"ETag": etag}, b""
        return 200, {**HTML, "ETag": etag}, body

    site.routes["/politics/1"] = page
    _feed(site, ["/politics/1"], now_rfc822())
    first = run_crawl(tmp_path, site.base_url)
    assert first.summary["counts"]["stored"] == 1
    # with a zero revisit interval the young article is due at once
    second = run_crawl(tmp_path, site.base_url, extra_env={"NEWSARCHIVE_REVISIT_INTERVAL_HOURS": "0"})
    assert second.returncode == 0, second.stderr[-2000:]
    assert seen_headers[-1].get("If-None-Match") == etag
    assert second.summary["counts"]["not_modified"] == 1
    assert second.summary["stats"]["newsarchive/revisit/young"] == 1
    # and with the default 6 h interval it is not due
    third = run_crawl(tmp_path, site.base_url)
    assert len(seen_headers) == 2
    assert third.summary["stats"]["newsarchive/revisit/not_due"] == 1


def test_an_unwritable_archive_fails_before_any_request(tmp_path: Path, site: Site) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    run = run_crawl(tmp_path, site.base_url, db=f"sqlite:///{blocker}/sub/archive.sqlite")
    assert run.returncode == 1
    lines = [line for line in run.stderr.strip().splitlines() if line.strip()]
    assert len(lines) == 1
    assert lines[0].startswith("error: ")
    assert site.hits == []


def test_bad_arguments_exit_2_with_one_line(tmp_path: Path, site: Site) -> None:
    run = run_crawl(tmp_path, site.base_url, "--since", "yesterday")
    assert run.returncode == 2
    assert "not an ISO date" in run.stderr
    unknown = run_crawl(tmp_path, site.base_url, source="nosuchsource")
    assert unknown.returncode == 1
    assert "unknown source 'nosuchsource'" in unknown.stderr
    assert site.hits == []
    assert archived(f"sqlite:///{tmp_path / 'archive.sqlite'}") == {}
