"""Crawl runs, stale-run recovery, per-day stats and the layout-drift alarm."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from archive_helpers import OTHER_STORY, STORY, make_article

from newsarchive.storage import Archive
from newsarchive.storage.models import CrawlRun
from newsarchive.storage.stats import drift_alarms

GOOD_FILL = {"headline": 1.0, "published": 1.0, "body": 1.0, "dateline": 0.95, "topics": 0.9, "authors": 0.5}


def _run(archive: Archive, source: str = "tass", *, fill: dict[str, float] | None = None,
         pages: int = 100, errors: int = 0, blocked: int = 0, status: str = "finished") -> int:
    run_id = archive.start_run(source, {"max_articles": 10})
    archive.finish_run(run_id, status=status, exit_status=0,
                       counts={"pages": pages, "stored": 5, "updated": 1, "duplicates": 2, "skipped": 3,
                               "skipped/no_headline": 3, "errors": errors, "blocked": blocked},
                       errors=["boom"] if errors else [], fill_rates=fill if fill is not None else GOOD_FILL)
    return run_id


def test_runs_are_recorded_and_versions_point_to_them(archive: Archive) -> None:
    run_id = archive.start_run("tass", {"since": "2026-11-01"})
    (saved,) = archive.save_batch([make_article(1)], run_id)
    archive.finish_run(run_id, status="finished", counts={"pages": 3, "stored": 1}, errors=["x failed"],
                       fill_rates={"headline": 1.0}, exit_status=0)
    (run,) = archive.runs("tass")
    assert run["status"] == "finished"
    assert run["exit_status"] == 0
    assert run["counts"] == {"pages": 3, "stored": 1}
    assert run["errors"] == ["x failed"]
    assert run["fill_rates"] == {"headline": 1.0}
    assert run["args"] == {"since": "2026-11-01"}
    assert run["started_at"] <= run["finished_at"] <= datetime.now(UTC)
    with archive.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT run_id FROM article_versions WHERE id = :v"),
                            {"v": saved.version_id}).scalar() == run_id
    with pytest.raises(ValueError, match="run status"):
        archive.finish_run(run_id, status="done", counts={})


def test_stale_runs_of_dead_processes_are_marked_crashed(archive: Archive) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    stale = archive.start_run("tass")
    alive = archive.start_run("tass")
    own = archive.start_run("tass")  # this very process
    other = archive.start_run("ap")
    with archive.engine.begin() as conn:
        conn.execute(sa.update(CrawlRun).where(CrawlRun.id.in_([stale, other])).values(pid=int(dead.stdout)))
        conn.execute(sa.update(CrawlRun).where(CrawlRun.id == alive).values(pid=1))  # init: always alive
    assert archive.fail_stale_runs("tass") == 1
    statuses = {r["id"]: r["status"] for r in archive.runs()}
    assert statuses == {stale: "crashed", alive: "running", own: "running", other: "running"}
    assert archive.fail_stale_runs("tass") == 0


def test_stats_per_source_per_day(archive: Archive) -> None:
    archive.save_batch([make_article(1), make_article(2, body=OTHER_STORY, source="ap")])  # fetched 11-20
    next_day = datetime(2026, 11, 21, 9, tzinfo=UTC)
    archive.save_batch([make_article(1, body=STORY + " Updated.", fetched_at=next_day)])
    _run(archive)
    _run(archive, "ap", errors=4)
    today = datetime.now(UTC).date().isoformat()
    days = {(d["source"], d["day"]): d for d in archive.stats()["days"]}
    assert days[("tass", "2026-11-20")]["articles"] == 1
    assert days[("tass", "2026-11-21")]["updates"] == 1
    assert days[("ap", "2026-11-20")]["articles"] == 1
    tass = days[("tass", today)]
    assert (tass["runs"], tass["duplicates"], tass["skipped"], tass["errors"]) == (1, 2, 3, 0)
    assert days[("ap", today)]["errors"] == 4
    assert {d["source"] for d in archive.stats(source="ap")["days"]} == {"ap"}
    assert archive.stats(since=datetime(2100, 1, 1, tzinfo=UTC))["days"] == []
    later = archive.stats(since=datetime(2026, 11, 21, tzinfo=UTC))["days"]
    assert ("tass", "2026-11-20") not in {(d["source"], d["day"]) for d in later}


def test_drift_alarm_on_a_falling_fill_rate_and_a_rising_block_share(archive: Archive) -> None:
    for _ in range(3):
        _run(archive)
        _run(archive, "ap")
    _run(archive, fill={**GOOD_FILL, "dateline": 0.1, "topics": 0.85})
    _run(archive, "ap", pages=50, blocked=40)
    alarms = archive.stats()["alarms"]
    assert {(a["source"], a["kind"], a["field"]) for a in alarms} == {
        ("tass", "fill", "dateline"), ("ap", "blocked", None)}
    dateline = next(a for a in alarms if a["field"] == "dateline")
    assert (dateline["latest"], dateline["baseline"]) == (0.1, 0.95)
    assert "dateline present in 10% of articles" in dateline["message"]


def test_no_alarm_without_enough_history_or_on_steady_runs() -> None:
    run = {"id": 1, "source": "tass", "status": "finished", "counts": {"pages": 10}, "fill_rates": GOOD_FILL}
    assert drift_alarms([{**run, "fill_rates": {"dateline": 0.0}}, run]) == []
    assert drift_alarms([run, run, run, run]) == []
    crashed = {**run, "status": "crashed", "counts": {}}
    assert [a["kind"] for a in drift_alarms([crashed, run, run])] == ["blocked"]
