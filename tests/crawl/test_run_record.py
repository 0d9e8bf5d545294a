"""Runs are recorded however the crawl starts: `scrapy crawl` (RunRecorder), `newsarchive crawl` (runner)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from newsarchive.cli import main
from newsarchive.demo import SampleSite
from newsarchive.storage import Archive
from tests.crawl.crawlkit import ROOT, run_crawl

pytestmark = pytest.mark.slow

QUIET = ("-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY=0", "-s", "HTTPPROXY_ENABLED=False",
         "-s", "LOG_LEVEL=INFO")


def _runs(db: str) -> list[dict]:
    with Archive(db) as archive:
        return archive.runs()


def test_scrapy_crawl_leaves_one_run_record_with_the_runners_figures(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'archive.sqlite'}"
    db2 = f"sqlite:///{tmp_path / 'archive2.sqlite'}"
    scrapy = Path(sys.executable).with_name("scrapy")
    env = dict(os.environ, NEWSARCHIVE_DB=db, NEWSARCHIVE_DATA_DIR=str(tmp_path / "data"))
    env.pop("NEWSARCHIVE_RUN_ID", None)
    with SampleSite(port=0) as site:
        proc = subprocess.run([str(scrapy), "crawl", "tass", "-a", f"base_url={site.base_url}", *QUIET],
                              cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
        # the same site crawled by `newsarchive crawl` into another archive: the figures to match
        crawl = run_crawl(tmp_path, site.base_url, db=db2)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert crawl.returncode == 0, crawl.stderr[-2000:]
    (run,) = _runs(db)
    assert run["source"] == "tass"
    assert run["status"] == "finished"
    assert run["exit_status"] == 0
    assert run["finished_at"] is not None
    assert run["args"]["started_by"] == "scrapy"
    assert run["args"]["base_url"] == site.base_url
    with Archive(db) as archive:
        stored = sum(1 for _ in archive.iter_articles())
    assert stored > 0
    assert run["counts"]["stored"] == stored
    assert run["counts"]["pages"] > stored
    assert run["fill_rates"]["headline"] == 1.0
    # the versions the crawl wrote point at its run, as under `newsarchive crawl`
    with Archive(db) as archive, archive.engine.connect() as conn:
        linked = {r[0] for r in conn.exec_driver_sql("SELECT DISTINCT run_id FROM article_versions")}
    assert linked == {run["id"]}
    (runner_run,) = _runs(db2)
    assert run["fill_rates"] == runner_run["fill_rates"]
    assert run["counts"] == runner_run["counts"]
    assert "started_by" not in runner_run["args"]
    assert runner_run["id"] == crawl.summary["run_id"]
    result = CliRunner().invoke(main, ["stats", "--db", db, "--format", "json"], catch_exceptions=False)
    days = json.loads(result.output)["days"]
    assert sum(day["runs"] for day in days if day["source"] == "tass") == 1


def test_a_failed_scrapy_crawl_is_recorded_as_failed(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'archive.sqlite'}"
    scrapy = Path(sys.executable).with_name("scrapy")
    env = dict(os.environ, NEWSARCHIVE_DB=db, NEWSARCHIVE_DATA_DIR=str(tmp_path / "data"))
    # a closed loopback port: nothing can be fetched
    proc = subprocess.run([str(scrapy), "crawl", "tass", "-a", "base_url=http://127.0.0.1:9", *QUIET,
                           "-s", "RETRY_ENABLED=False"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    (run,) = _runs(db)
    assert run["status"] == "failed", proc.stderr[-2000:]
    assert run["exit_status"] == 3
    assert run["counts"]["pages"] == 0
