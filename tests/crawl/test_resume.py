"""A crawl killed with SIGKILL and resumed ends with the same archive as an uninterrupted one."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from crawlkit import HTML, XML, Site, archived, article_html, crawl_command, rss, run_crawl, url_path

pytestmark = pytest.mark.slow

SLOW = ("-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1", "-s", "DOWNLOAD_DELAY=0.05",
        "-s", "NEWSARCHIVE_STORE_BATCH=2")
Reply = tuple[int, dict[str, str], bytes]


def _slow_site(site: Site, count: int) -> list[str]:
    paths = [f"/politics/{n}" for n in range(1, count + 1)]
    for n, path in enumerate(paths, start=1):
        page = article_html(n, f"Resumable story {n}", [f"Only in story {n}."])

        def slow(_path: str, _headers: dict[str, str], page: bytes = page) -> Reply:
            time.sleep(0.15)
            return 200, HTML, page

        site.routes[path] = slow
    site.routes["/rss/v2.xml"] = (200, XML, rss(site.base_url, [(p, "Fri, 20 Nov 2026 10:00:00 +0300")
                                                                for p in paths]))
    return paths


def _snapshot(db: str) -> dict[str, str]:
    return {url_path(url): row["content_hash"] for url, row in archived(db).items()}


def test_sigkill_then_resume_matches_an_uninterrupted_crawl(tmp_path: Path, site: Site) -> None:
    paths = _slow_site(site, 16)
    reference_dir = tmp_path / "reference"
    reference_dir.mkdir()
    reference = run_crawl(reference_dir, site.base_url, *SLOW)
    assert reference.returncode == 0, reference.stderr[-2000:]
    expected = _snapshot(f"sqlite:///{reference_dir / 'archive.sqlite'}")
    assert set(expected) == set(paths)

    work = tmp_path / "killed"
    work.mkdir()
    db = f"sqlite:///{work / 'archive.sqlite'}"
    argv, env = crawl_command(work, site.base_url, *SLOW)
    proc = subprocess.Popen(argv, env=env, cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            if (work / "archive.sqlite").exists() and len(_snapshot(db)) >= 4:
                break
            time.sleep(0.2)
        assert proc.poll() is None, "the crawl ended before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    before = _snapshot(db)
    assert 4 <= len(before) < len(paths)
    assert (work / "data" / "jobs" / "tass").is_dir()  # crawl state left for --resume

    hits_before = len(site.hits)
    resumed = run_crawl(work, site.base_url, "--resume", *SLOW)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert _snapshot(db) == expected
    resumed_hits = [h.path for h in site.hits[hits_before:] if h.path.startswith("/politics/")]
    assert not set(resumed_hits) & set(before)  # what was archived is not fetched again
    assert len(resumed_hits) == len(set(resumed_hits))
    assert not (work / "data" / "jobs" / "tass").exists()  # a finished crawl leaves no state


def test_sigterm_stops_cleanly_and_resume_continues_without_repeats(tmp_path: Path, site: Site) -> None:
    paths = _slow_site(site, 12)
    db = f"sqlite:///{tmp_path / 'archive.sqlite'}"
    summary = tmp_path / "stopped.json"
    argv, env = crawl_command(tmp_path, site.base_url, *SLOW, summary=summary)
    proc = subprocess.Popen(argv, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            if len([h for h in site.hits if h.path.startswith("/politics/")]) >= 3:
                break
            time.sleep(0.1)
        proc.send_signal(signal.SIGTERM)  # what a scheduler or systemd sends
        assert proc.wait(timeout=60) == 4  # documented: interrupted
    finally:
        if proc.poll() is None:
            proc.kill()
    assert (tmp_path / "data" / "jobs" / "tass").is_dir()

    resumed = run_crawl(tmp_path, site.base_url, "--resume", *SLOW)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "was killed" not in resumed.stderr
    assert set(_snapshot(db)) == set(paths)
    article_hits = [h.path for h in site.hits if h.path.startswith("/politics/")]
    assert sorted(article_hits) == sorted(paths)  # every article fetched exactly once over both runs
