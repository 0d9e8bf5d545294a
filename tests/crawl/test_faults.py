"""The fault suite (issue 14): a crawl survives kills, locks, a restarted database and a full
disk without losing or corrupting anything, and says so in its exit code.

Each test ends with ``assert_consistent`` (tests/crawl/faultkit.py), the archive's promises
checked after the fault.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from crawlkit import Site, crawl_command, run_crawl
from faultkit import (
    SLOW,
    PrivatePostgres,
    assert_consistent,
    slow_site,
    small_filesystem,
    snapshot,
    stored_count,
    wait_until,
)

from newsarchive.storage import Archive

pytestmark = pytest.mark.slow
EXIT_STORAGE = 5


def _reference(tmp_path: Path, site: Site, *args: str) -> dict[str, str]:
    work = tmp_path / "reference"
    work.mkdir()
    run = run_crawl(work, site.base_url, *SLOW, *args)
    assert run.returncode == 0, run.stderr[-2000:]
    return snapshot(f"sqlite:///{work / 'archive.sqlite'}")


def _holder(db_file: Path, seconds: float | None) -> subprocess.Popen[str]:
    """Another process holding the SQLite write lock for ``seconds`` (None: until killed)."""
    code = ("import sqlite3, sys, time\n"
            f"c = sqlite3.connect({str(db_file)!r}, isolation_level=None, timeout=30)\n"
            "c.execute('BEGIN IMMEDIATE')\nprint('locked', flush=True)\n"
            f"time.sleep({seconds if seconds is not None else 3600})\nc.close()\n")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "locked"
    return proc


def test_sigkill_then_a_plain_rerun_gives_the_uninterrupted_archive(tmp_path: Path, site: Site) -> None:
    paths = slow_site(site, 16)
    expected = _reference(tmp_path, site)
    assert set(expected) == set(paths)
    work = tmp_path / "killed"
    work.mkdir()
    db = f"sqlite:///{work / 'archive.sqlite'}"
    argv, env = crawl_command(work, site.base_url, *SLOW)
    proc = subprocess.Popen(argv, env=env, cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert wait_until(lambda: proc.poll() is not None or stored_count(db) >= 4)
        assert proc.poll() is None, "the crawl ended before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert 4 <= len(snapshot(db)) < len(paths)
    assert_consistent(db, work / "data" / "warc")

    rerun = run_crawl(work, site.base_url, *SLOW)  # no --resume
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert snapshot(db) == expected
    assert_consistent(db, work / "data" / "warc")
    with Archive(db) as archive:
        statuses = [r["status"] for r in archive.runs(limit=2)]
    assert statuses == ["finished", "crashed"]


def test_sqlite_locked_past_the_retry_window_loses_nothing(tmp_path: Path, site: Site) -> None:
    paths = slow_site(site, 16)
    db_file = tmp_path / "archive.sqlite"
    db = f"sqlite:///{db_file}"
    short = ("-s", "NEWSARCHIVE_STORE_BUSY_TIMEOUT=0.2", "-s", "NEWSARCHIVE_STORE_LOCK_ATTEMPTS=2",
             "-s", "NEWSARCHIVE_STORE_RETRY_INTERVAL=0.5", "-s", "NEWSARCHIVE_STORE_DEADLINE=120")
    summary = tmp_path / "locked.json"
    argv, env = crawl_command(tmp_path, site.base_url, *SLOW, *short, summary=summary)
    proc = subprocess.Popen(argv, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)
    try:
        assert wait_until(lambda: proc.poll() is not None or stored_count(db) >= 2)
        holder = _holder(db_file, 4.0)  # far past one attempt's retry window (~0.6 s)
        holder.wait(timeout=30)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err[-2000:]
    stats = json.loads(summary.read_text())["stats"]
    assert stats["newsarchive/store/refused"] >= 1
    assert stats["newsarchive/store/retried"] >= 1
    assert set(snapshot(db)) == set(paths)  # the run lost 100 of 307 here
    assert_consistent(db, tmp_path / "data" / "warc")


def test_sqlite_locked_past_the_deadline_stops_and_the_next_run_stores_the_spool_first(
        tmp_path: Path, site: Site) -> None:
    paths = slow_site(site, 16)
    db_file = tmp_path / "archive.sqlite"
    db = f"sqlite:///{db_file}"
    short = ("-s", "NEWSARCHIVE_STORE_BUSY_TIMEOUT=0.2", "-s", "NEWSARCHIVE_STORE_LOCK_ATTEMPTS=2",
             "-s", "NEWSARCHIVE_STORE_RETRY_INTERVAL=0.5", "-s", "NEWSARCHIVE_STORE_DEADLINE=2")
    summary = tmp_path / "stopped.json"
    argv, env = crawl_command(tmp_path, site.base_url, *SLOW, *short, summary=summary)
    proc = subprocess.Popen(argv, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)
    holder = None
    try:
        assert wait_until(lambda: proc.poll() is not None or stored_count(db) >= 2)
        holder = _holder(db_file, None)  # held until the crawl has ended, run record included
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
        if holder is not None:
            holder.kill()
            holder.wait()
    assert proc.returncode == EXIT_STORAGE, err[-2000:]
    assert "could not record run" in err  # the run record could not be written: the exit code says it
    data = json.loads(summary.read_text())
    assert data["finish_reason"] == "store_failed"
    assert data["status"] == "failed"
    spooled = data["stats"]["newsarchive/store/spooled"]
    assert spooled >= 1
    assert "newsarchive/store/lost" not in data["stats"]
    spool = tmp_path / "archive.sqlite.spool"
    assert sum(1 for _ in spool.glob("*.spool")) >= 1
    assert not list(spool.glob(".*.tmp"))
    before = snapshot(db)
    assert len(before) < len(paths)
    assert_consistent(db, tmp_path / "data" / "warc")

    hits = len(site.hits)
    rerun = run_crawl(tmp_path, site.base_url, *SLOW)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert rerun.summary["stats"]["newsarchive/store/replayed"] == spooled
    assert not list(spool.glob("*.spool"))
    assert set(snapshot(db)) == set(paths)
    # what the spool held was stored before any fetch, so it was not fetched again
    fetched_again = {h.path for h in site.hits[hits:] if h.path.startswith("/politics/")}
    assert not fetched_again & set(before)
    assert len(fetched_again) == len(paths) - len(before) - spooled
    assert_consistent(db, tmp_path / "data" / "warc")


def test_postgresql_restarted_mid_crawl_loses_nothing(tmp_path: Path, site: Site) -> None:
    pg = PrivatePostgres()
    try:
        pg.init()
        paths = slow_site(site, 16)
        summary = tmp_path / "pg.json"
        argv, env = crawl_command(tmp_path, site.base_url, *SLOW,
                                  "-s", "NEWSARCHIVE_STORE_RETRY_INTERVAL=0.5",
                                  db=pg.url, summary=summary)
        proc = subprocess.Popen(argv, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)
        try:
            assert wait_until(lambda: proc.poll() is not None or stored_count(pg.url) >= 2)
            pg.stop()
            time.sleep(3.0)  # several batches meet a closed port
            pg.start()
            _, err = proc.communicate(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
        assert proc.returncode == 0, err[-2000:]
        stats = json.loads(summary.read_text())["stats"]
        assert stats["newsarchive/store/refused"] >= 1
        assert stats["newsarchive/store/retried"] >= 1
        assert set(snapshot(pg.url)) == set(paths)
        assert_consistent(pg.url, tmp_path / "data" / "warc")
    finally:
        pg.destroy()


def test_postgresql_down_past_the_deadline_spools_and_the_next_run_stores_it(
        tmp_path: Path, site: Site) -> None:
    pg = PrivatePostgres()
    spool = tmp_path / "spool"
    try:
        pg.init()
        paths = slow_site(site, 16)
        summary = tmp_path / "pg.json"
        settings = ("-s", "NEWSARCHIVE_STORE_RETRY_INTERVAL=0.5", "-s", "NEWSARCHIVE_STORE_DEADLINE=2",
                    "-s", f"NEWSARCHIVE_SPOOL_DIR={spool}")
        argv, env = crawl_command(tmp_path, site.base_url, *SLOW, *settings, db=pg.url, summary=summary)
        proc = subprocess.Popen(argv, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)
        try:
            assert wait_until(lambda: proc.poll() is not None or stored_count(pg.url) >= 2)
            pg.stop()
            _, err = proc.communicate(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
        assert proc.returncode == EXIT_STORAGE, err[-2000:]
        assert "could not record run" in err
        spooled = json.loads(summary.read_text())["stats"]["newsarchive/store/spooled"]
        assert spooled >= 1
        assert sum(1 for _ in spool.glob("*.spool")) >= 1
        pg.start()
        rerun = run_crawl(tmp_path, site.base_url, *SLOW, "-s", f"NEWSARCHIVE_SPOOL_DIR={spool}", db=pg.url)
        assert rerun.returncode == 0, rerun.stderr[-2000:]
        assert rerun.summary["stats"]["newsarchive/store/replayed"] == spooled
        assert set(snapshot(pg.url)) == set(paths)
        assert_consistent(pg.url, tmp_path / "data" / "warc")
    finally:
        pg.destroy()


@pytest.mark.parametrize("mount", [True, False], ids=["tmpfs", "file_size_limit"])
def test_a_full_warc_disk_stops_the_crawl_cleanly(tmp_path: Path, site: Site, mount: bool) -> None:
    paths = slow_site(site, 12, pause=0.05, padding=1_000_000)
    warc = tmp_path / "warc"
    db = f"sqlite:///{tmp_path / 'archive.sqlite'}"
    with small_filesystem(warc, 4096, mount=mount) as kind:
        env = {"NEWSARCHIVE_WARC_DIR": str(warc)}
        argv, full_env = crawl_command(tmp_path, site.base_url, *SLOW, summary=tmp_path / "full.json")
        full_env.update(env)
        # without a mount (not root), the crawl process may write no file over 4 MB instead: the
        # WARC file (~0.5 MB of random padding per page) reaches that long before the archive does
        limit = 4096 * 1024 if kind == "rlimit" else None

        def limit_files() -> None:
            if limit is not None:
                resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

        proc = subprocess.run(argv, env=full_env, cwd=tmp_path, capture_output=True, text=True,
                              timeout=120, preexec_fn=limit_files, check=False)
        assert proc.returncode == EXIT_STORAGE, proc.stderr[-2000:]
        data = json.loads((tmp_path / "full.json").read_text())
        assert data["finish_reason"] == "warc_failed"
        assert data["status"] == "failed"
        assert data["stats"]["newsarchive/warc/errors"] >= 1
        assert "WARC directory cannot be written" in proc.stderr
        assert (tmp_path / "data" / "jobs" / "tass" / "newsarchive-clean-stop").exists()
        stored = snapshot(db)
        assert 0 < len(stored) < len(paths)
        assert_consistent(db, warc)
        with Archive(db) as archive:
            assert archive.runs(limit=1)[0]["status"] == "failed"
    # room again (the mount is gone): a plain rerun completes the archive
    rerun = run_crawl(tmp_path, site.base_url, *SLOW,
                      extra_env={"NEWSARCHIVE_WARC_DIR": str(tmp_path / "warc2")})
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert set(snapshot(db)) == set(paths)
