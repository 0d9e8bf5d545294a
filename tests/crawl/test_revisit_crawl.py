"""Real crawls (subprocesses) of a local site whose listings' clock runs behind ours (issue 14)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from crawlkit import HTML, XML, Site, article_html, rss, run_crawl, url_path

from newsarchive.storage import Archive

pytestmark = pytest.mark.slow
Reply = tuple[int, dict[str, str], bytes]


def _sitemap(base: str, entries: dict[str, datetime]) -> bytes:
    urls = "".join(f"<url><loc>{base}{path}</loc><lastmod>{when.isoformat()}</lastmod></url>"
                   for path, when in entries.items())
    return (f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}'
            "</urlset>").encode()


def _article_hits(site: Site, since: int) -> list[str]:
    return [h.path for h in site.hits[since:] if h.path.startswith("/politics/")]


def test_an_edit_listed_with_a_time_before_our_fetch_is_archived(tmp_path: Path, site: Site) -> None:
    db = f"sqlite:///{tmp_path / 'archive.sqlite'}"
    behind = datetime.now(UTC) - timedelta(days=10)  # the site's clock: ten days behind ours
    lastmod = {"/politics/1": behind, "/politics/2": behind}
    pages = {n: article_html(n, f"Story {n}", [f"First text of story {n}."]) for n in (1, 2)}
    for n in (1, 2):
        site.routes[f"/politics/{n}"] = lambda _p, _h, n=n: (200, HTML, pages[n])
    site.routes["/sitemap.xml"] = lambda _p, _h: (200, XML, _sitemap(site.base_url, lastmod))
    # the feed lists the same stories with their publication time, which differs from lastmod:
    # each listing's time is compared with what that same listing said before
    site.routes["/rss/v2.xml"] = (200, XML, rss(site.base_url, [
        ("/politics/1", "Fri, 20 Nov 2026 10:00:00 +0300"),
        ("/politics/2", "Fri, 20 Nov 2026 10:00:00 +0300")]))

    first = run_crawl(tmp_path, site.base_url)
    assert first.returncode == 0, first.stderr[-2000:]
    assert sorted(_article_hits(site, 0)) == ["/politics/1", "/politics/2"]

    # story 1 is corrected; the sitemap stamps the edit nine days ago by our clock
    pages[1] = article_html(1, "Story 1", ["Corrected text of story 1."])
    lastmod["/politics/1"] = behind + timedelta(days=1)
    seen = len(site.hits)
    second = run_crawl(tmp_path, site.base_url)
    assert second.returncode == 0, second.stderr[-2000:]
    assert _article_hits(site, seen) == ["/politics/1"]
    assert second.summary["counts"]["updated"] == 1
    with Archive(db) as archive:
        versions = archive.versions(f"{site.base_url}/politics/1")
    assert len(versions) == 2
    assert "Corrected text" in next(v for v in versions if v["current"])["body"]

    # nothing changed since: no listing's time differs, nothing is fetched again
    seen = len(site.hits)
    third = run_crawl(tmp_path, site.base_url)
    assert third.returncode == 0, third.stderr[-2000:]
    assert _article_hits(site, seen) == []


def test_a_url_known_before_listing_times_were_kept_gets_a_baseline(tmp_path: Path, site: Site) -> None:
    db = f"sqlite:///{tmp_path / 'archive.sqlite'}"
    behind = datetime.now(UTC) - timedelta(days=10)
    lastmod = {"/politics/1": behind}
    site.routes["/politics/1"] = (200, HTML, article_html(1, "Story 1", ["Text of story 1."]))
    site.routes["/politics"] = (200, HTML, b'<html><body><a href="/politics/1">one</a></body></html>')
    first = run_crawl(tmp_path, site.base_url)  # found on the section page: no listing time
    assert first.returncode == 0, first.stderr[-2000:]
    site.routes["/sitemap.xml"] = lambda _p, _h: (200, XML, _sitemap(site.base_url, lastmod))
    seen = len(site.hits)
    second = run_crawl(tmp_path, site.base_url)  # the sitemap's time becomes the baseline
    assert _article_hits(site, seen) == []
    assert second.summary["stats"].get("newsarchive/revisit/listed_baseline") == 1
    with Archive(db) as archive:
        (state,) = archive.url_states([f"{site.base_url}/politics/1"]).values()
    assert state.listed_modified == {"/sitemap.xml": behind}
    lastmod["/politics/1"] = behind + timedelta(hours=1)
    seen = len(site.hits)
    third = run_crawl(tmp_path, site.base_url)
    assert third.returncode == 0, third.stderr[-2000:]
    assert _article_hits(site, seen) == ["/politics/1"]


def test_a_changed_etag_answer_stores_a_new_version_as_of_today(tmp_path: Path, site: Site) -> None:
    db = f"sqlite:///{tmp_path / 'archive.sqlite'}"
    current = {"etag": '"v1"', "text": "First text of the young story."}
    young = int(time.time()) - 3600  # young articles are revisited with a conditional request

    def page(_path: str, headers: dict[str, str]) -> Reply:
        if headers.get("If-None-Match") == current["etag"]:
            return 304, {"ETag": current["etag"]}, b""
        body = article_html(7, "Young story", [current["text"]], epoch=young)
        return 200, {**HTML, "ETag": current["etag"]}, body

    site.routes["/politics/7"] = page
    site.routes["/rss/v2.xml"] = (200, XML, rss(site.base_url,
                                                [("/politics/7", "Fri, 20 Nov 2026 10:00:00 +0300")]))
    every_time = ("-s", "NEWSARCHIVE_REVISIT_INTERVAL_HOURS=0")
    first = run_crawl(tmp_path, site.base_url, *every_time)
    assert first.returncode == 0, first.stderr[-2000:]

    seen = len(site.hits)
    unchanged = run_crawl(tmp_path, site.base_url, *every_time)
    assert unchanged.returncode == 0, unchanged.stderr[-2000:]
    assert [h.headers.get("If-None-Match") for h in site.hits[seen:] if h.path == "/politics/7"] == ['"v1"']
    assert unchanged.summary["counts"]["not_modified"] == 1

    current.update(etag='"v2"', text="Second text of the young story, after an edit.")
    before = datetime.now(UTC)
    changed = run_crawl(tmp_path, site.base_url, *every_time)
    assert changed.returncode == 0, changed.stderr[-2000:]
    assert changed.summary["counts"]["updated"] == 1
    with Archive(db) as archive:
        versions = archive.versions(f"{site.base_url}/politics/7")
        (state,) = archive.url_states([f"{site.base_url}/politics/7"]).values()
    assert len(versions) == 2
    newest = next(v for v in versions if v["current"])
    assert "after an edit" in newest["body"]
    fetched = newest["fetched_at"]
    fetched = datetime.fromisoformat(fetched) if isinstance(fetched, str) else fetched
    assert fetched >= before
    assert state.etag == '"v2"'
    assert url_path(newest["url"]) == "/politics/7"
