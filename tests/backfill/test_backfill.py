"""backfill cc-news against a local CC-NEWS-like server: faults, resume after SIGKILL, shared workers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from warckit import Rec, Reply, Server, cc_news_layout, page, tass, warc_bytes

from newsarchive.backfill import BackfillOptions, FileQueue, months, run_backfill
from newsarchive.errors import ConfigError
from newsarchive.storage import Archive
from newsarchive.storage.models import BackfillFile

CLI = [sys.executable, "-c", "from newsarchive.cli import main; main()"]


def warc_file(first: int, count: int, *, others: int = 2) -> bytes:
    """``count`` TASS articles from number ``first``, each after ``others`` records of other sites."""
    records: list[Rec] = []
    for n in range(first, first + count):
        records.extend(Rec(f"https://news.example.org/{n}-{i}", page(n)) for i in range(others))
        records.append(tass(n))
    return warc_bytes(records)


@pytest.fixture
def server() -> Iterator[Server]:
    s = Server().start()
    yield s
    s.stop()


@pytest.fixture
def env(server: Server, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, str]:
    monkeypatch.setenv("NEWSARCHIVE_CCNEWS_URL", server.base_url)
    monkeypatch.setenv("NEWSARCHIVE_WARC_DIR", str(tmp_path / "warc"))
    return dict(os.environ)  # after the two settings above: for the subprocesses


def snapshot(db: str) -> dict[str, tuple[Any, ...]]:
    """What an analyst sees: every article's text and dates, and how many versions it has."""
    with Archive(db) as archive:
        return {row["canonical_url"]: (row["source"], row["headline"], row["body"], row["published"],
                                       row["content_hash"], row["version_count"])
                for row in archive.iter_articles()}


def file_rows(db: str) -> list[dict[str, Any]]:
    with Archive(db) as archive, archive.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.select(BackfillFile.__table__)
                                                       .order_by(BackfillFile.id))]


def test_months() -> None:
    assert months("2016-11", "2017-02") == ["2016/11", "2016/12", "2017/01", "2017/02"]
    with pytest.raises(ConfigError, match="after"):
        months("2017-03", "2017-01")
    with pytest.raises(ConfigError, match="YYYY-MM"):
        months("March", "2017-01")


def test_backfill_retries_a_fault_and_a_rerun_skips_finished_files(server: Server, env: dict[str, str],
                                                                  tmp_path: Path) -> None:
    paths = cc_news_layout(server, {"2017/01": [warc_file(1, 20), warc_file(21, 20)],
                                    "2017/02": [warc_file(41, 20)]})

    def fail_once(path: str, headers: dict[str, str], attempt: int) -> Reply | None:
        return (503, {"Retry-After": "0"}, b"busy") if attempt == 1 else None

    server.faults["/" + paths[1]] = fail_once
    db = f"sqlite:///{tmp_path / 'a.sqlite'}"
    opts = BackfillOptions(since="2017-01", until="2017-02", sources=("tass",), db=db, backoff=0.01,
                           progress_interval=0.2)
    result = run_backfill(opts)
    assert result.exit_code == 0
    assert result.files["done"] == 3
    assert len(snapshot(db)) == 60
    with Archive(db) as archive:
        run = archive.runs()[0]
    assert run["source"] == "tass"
    assert run["status"] == "finished"
    assert run["counts"]["stored"] == 60
    assert run["counts"]["files_done"] == 3
    assert run["counts"]["files_total"] == 3
    assert run["counts"]["warc/records"] == 180
    assert run["counts"]["warc/wanted"] == 60
    assert run["counts"]["warc/retries"] >= 1
    assert run["fill_rates"]["published"] == 1.0
    assert [r["status"] for r in file_rows(db)] == ["done"] * 3

    before = len(server.hits)
    again = run_backfill(opts)
    assert again.exit_code == 0
    warc_hits = [p for p, _ in server.hits[before:] if p.endswith(".warc.gz")]
    assert warc_hits == []  # finished files are not read again
    assert len(snapshot(db)) == 60


def test_a_file_that_keeps_failing_is_reported_and_the_exit_code_says_so(
        server: Server, env: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    paths = cc_news_layout(server, {"2017/01": [warc_file(1, 5), warc_file(6, 5), warc_file(11, 5)]})
    server.faults["/" + paths[1]] = lambda path, headers, attempt: (500, {}, b"broken")
    db = f"sqlite:///{tmp_path / 'a.sqlite'}"
    result = run_backfill(BackfillOptions(since="2017-01", until="2017-01", sources=("tass",), db=db,
                                          backoff=0.01, attempts=2, file_attempts=2))
    assert result.exit_code == 3
    assert result.status == "failed"
    assert [p for p, _ in result.failures] == [paths[1]]
    assert "HTTP 500" in result.failures[0][1]
    assert len(snapshot(db)) == 10
    assert f"FAILED {paths[1]}" in capsys.readouterr().err
    with Archive(db) as archive:
        run = archive.runs()[0]
    assert run["exit_status"] == 3
    assert any(paths[1] in e for e in run["errors"])


def test_a_month_without_a_listing_fails_clearly(server: Server, env: dict[str, str], tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'a.sqlite'}"
    result = run_backfill(BackfillOptions(since="2017-05", until="2017-05", db=db, backoff=0.01))
    assert result.exit_code == 3
    with Archive(db) as archive:
        assert "HTTP 404" in archive.runs()[0]["errors"][0]


def test_a_claim_is_taken_over_only_when_stale(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'a.sqlite'}"
    with Archive(db) as archive:
        queue = FileQueue(archive, "cc-news:tass", claim_timeout=60)
        queue.register(["a.warc.gz"])
        table = BackfillFile.__table__

        def held(at: datetime) -> None:
            archive.write(lambda conn: conn.execute(sa.update(table).values(
                status="claimed", claimed_by="elsewhere:1", heartbeat_at=at)))

        held(datetime.now(UTC))
        assert queue.claim() is None
        held(datetime.now(UTC) - timedelta(seconds=120))
        got = queue.claim()
        assert got is not None
        assert got[1] == "a.warc.gz"
        assert queue.claim() is None  # now ours, and fresh


def _count_articles(db_file: Path) -> int:
    import sqlite3

    try:
        with sqlite3.connect(f"file:{db_file}?mode=ro", uri=True, timeout=1) as conn:
            return int(conn.execute("SELECT count(*) FROM articles").fetchone()[0])
    except sqlite3.Error:
        return 0


@pytest.mark.slow
def test_sigkill_mid_backfill_then_rerun_equals_an_uninterrupted_run(server: Server, env: dict[str, str],
                                                                    tmp_path: Path) -> None:
    paths = cc_news_layout(server, {"2017/01": [warc_file(1, 150), warc_file(151, 300), warc_file(451, 100)]})
    args = ["backfill", "cc-news", "--since", "2017-01", "--until", "2017-01", "--source", "tass"]
    reference = f"sqlite:///{tmp_path / 'ref.sqlite'}"
    done = subprocess.run([*CLI, *args, "--db", reference], env=env, capture_output=True, text=True,
                          timeout=240, check=False)
    assert done.returncode == 0, done.stderr

    killed_file = tmp_path / "killed.sqlite"
    killed = f"sqlite:///{killed_file}"
    # slow enough that the kill lands before the second file's last batch is stored
    server.throttle["/" + paths[1]] = 0.2
    proc = subprocess.Popen([*CLI, *args, "--db", killed], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        # the first file is done and the second one is half stored
        while _count_articles(killed_file) < 250 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        assert proc.poll() is None, "the backfill ended before it could be killed"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    interrupted = _count_articles(killed_file)
    assert 250 <= interrupted < 550
    assert [r["status"] for r in file_rows(killed)] == ["done", "claimed", "pending"]

    server.throttle.clear()
    before = len(server.hits)
    rerun = subprocess.run([*CLI, *args, "--db", killed], env=env, capture_output=True, text=True,
                           timeout=240, check=False)
    assert rerun.returncode == 0, rerun.stderr
    assert snapshot(killed) == snapshot(reference)
    assert all(value[-1] == 1 for value in snapshot(killed).values())  # no doubled versions
    reread = [p for p, _ in server.hits[before:] if p.endswith(".warc.gz")]
    assert reread == ["/" + paths[1], "/" + paths[2]]
    with Archive(killed) as archive:
        runs = archive.runs()
    assert [r["status"] for r in runs] == ["finished", "crashed"]


@pytest.mark.postgres
@pytest.mark.slow
def test_two_processes_share_one_backfill_on_postgresql(server: Server, env: dict[str, str],
                                                        pg_url: str) -> None:
    files = [warc_file(1 + 30 * i, 30) for i in range(6)]
    paths = cc_news_layout(server, {"2017/01": files[:3], "2017/02": files[3:]})
    for path in paths:
        server.throttle["/" + path] = 0.2
    args = ["backfill", "cc-news", "--since", "2017-01", "--until", "2017-02", "--source", "tass",
            "--db", pg_url]
    procs = [subprocess.Popen([*CLI, *args, *extra], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for extra in (["--workers", "2"], [])]
    outputs = [p.communicate(timeout=240) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    rows = file_rows(pg_url)
    assert [(r["status"], r["attempts"]) for r in rows] == [("done", 1)] * 6
    assert len({r["claimed_by"] for r in rows}) >= 2
    gets = [p for p, _ in server.hits if p.endswith(".warc.gz")]
    assert sorted(gets) == sorted("/" + p for p in paths)  # every file read exactly once
    articles = snapshot(pg_url)
    assert len(articles) == 180
    assert all(value[-1] == 1 for value in articles.values())


def test_cli_lists_files_per_month_and_rejects_bad_input(server: Server, env: dict[str, str],
                                                        tmp_path: Path) -> None:
    from click.testing import CliRunner

    from newsarchive.cli import main

    cc_news_layout(server, {"2017/01": [warc_file(1, 2), warc_file(3, 2)], "2017/02": [warc_file(5, 2)]})
    runner = CliRunner()
    period = ["--since", "2017-01", "--until", "2017-02"]
    listed = runner.invoke(main, ["backfill", "cc-news", *period, "--list"])
    assert listed.exit_code == 0, listed.output
    assert "2017/01  2 files" in listed.output
    assert "total    3 files" in listed.output
    db = f"sqlite:///{tmp_path / 'a.sqlite'}"
    bad = runner.invoke(main, ["backfill", "cc-news", "--since", "2017-13", "--until", "2017-02", "--db", db])
    assert bad.exit_code == 1
    assert "YYYY-MM" in bad.output
    unknown = runner.invoke(main, ["backfill", "cc-news", "--since", "2017-01", "--until", "2017-02",
                                   "--source", "nosuch", "--db", db])
    assert unknown.exit_code == 1
    assert "unknown source" in unknown.output
