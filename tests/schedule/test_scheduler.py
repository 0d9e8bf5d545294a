"""The scheduler driven for real: child processes, flock locks, signals, the journal and run records."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from newsarchive.schedule import Job, ScheduleConfig, Scheduler, SourceLock, read_journal

FAKE = Path(__file__).with_name("fake_crawl.py")
T0 = datetime(2026, 3, 2, 12, 1, 30, tzinfo=UTC)


class Clock:
    """An injectable clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def wait_for(condition: Callable[[], object], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def markers(folder: Path, suffix: str) -> list[Path]:
    return sorted(folder.glob(f"*{suffix}"))


@pytest.fixture
def setup(tmp_path: Path) -> Callable[..., tuple[ScheduleConfig, Path]]:
    marker = tmp_path / "markers"
    marker.mkdir()

    def make(*args: str, cron: str = "*/5 * * * *", source: str = "alpha", db: str | None = None,
             stop_timeout: float = 10.0) -> tuple[ScheduleConfig, Path]:
        config = ScheduleConfig(
            jobs=(Job(source, cron, ("--marker", str(marker), *args)),),
            db=db or f"sqlite:///{tmp_path / 'archive.sqlite'}",
            lock_dir=tmp_path / "locks",
            journal=tmp_path / "journal.jsonl",
            stop_timeout=stop_timeout,
            command=("{python}", str(FAKE), "{source}", "{args}"),
        )
        return config, marker

    return make


@pytest.fixture
def schedulers() -> Iterator[list[Scheduler]]:
    made: list[Scheduler] = []
    yield made
    for scheduler in made:  # never leave a sleeping child behind a failed test
        scheduler.shutdown()


def events(config: ScheduleConfig, kind: str) -> list[dict]:
    return [e for e in read_journal(config.journal) if e["event"] == kind]


def test_runs_start_when_cron_fires_and_exit_status_is_recorded(setup, schedulers) -> None:
    config, marker = setup("--exit", "0")
    clock = Clock(T0)
    scheduler = Scheduler(config, clock=clock)
    schedulers.append(scheduler)
    assert scheduler.next_due("alpha") == datetime(2026, 3, 2, 12, 5, tzinfo=UTC)

    clock.now = datetime(2026, 3, 2, 12, 4, 59, tzinfo=UTC)
    scheduler.tick()
    assert scheduler.running == {}
    assert not events(config, "started")

    clock.now = datetime(2026, 3, 2, 12, 5, 0, tzinfo=UTC)
    scheduler.tick()
    assert set(scheduler.running) == {"alpha"}
    pid = scheduler.running["alpha"]
    wait_for(lambda: markers(marker, ".end"), "the child to finish")
    wait_for(lambda: (scheduler.reap(), not scheduler.running)[1], "the child to be reaped")

    (started,) = events(config, "started")
    (ended,) = events(config, "ended")
    assert started["due"] == "2026-03-02T12:05:00+00:00"
    assert started["pid"] == pid == ended["pid"]
    assert ended["exit_status"] == 0
    assert ended["outcome"] == "finished"
    assert scheduler.next_due("alpha") == datetime(2026, 3, 2, 12, 10, tzinfo=UTC)


def test_failing_child_exit_status_is_recorded(setup, schedulers) -> None:
    config, _marker = setup("--exit", "3")
    clock = Clock(T0)
    scheduler = Scheduler(config, clock=clock)
    schedulers.append(scheduler)
    clock.now = datetime(2026, 3, 2, 12, 5, tzinfo=UTC)
    scheduler.tick()
    wait_for(lambda: (scheduler.reap(), not scheduler.running)[1], "the child to end")
    (ended,) = events(config, "ended")
    assert (ended["exit_status"], ended["outcome"]) == (3, "failed")


def test_never_two_runs_of_one_source_at_once(setup, schedulers) -> None:
    config, marker = setup("--sleep", "60")
    clock = Clock(T0)
    scheduler = Scheduler(config, clock=clock)
    schedulers.append(scheduler)
    clock.now = datetime(2026, 3, 2, 12, 5, tzinfo=UTC)
    scheduler.tick()
    wait_for(lambda: markers(marker, ".start"), "the first run to start")

    # the next occurrence arrives while the first run is still going
    clock.now = datetime(2026, 3, 2, 12, 10, tzinfo=UTC)
    scheduler.tick()
    (skipped,) = events(config, "skipped")
    assert skipped["due"] == "2026-03-02T12:10:00+00:00"
    assert "still running" in skipped["reason"]
    assert len(events(config, "started")) == 1
    time.sleep(0.3)
    assert len(markers(marker, ".start")) == 1

    # stopping sends SIGTERM to the child, which exits; the run is recorded as stopped
    scheduler.shutdown()
    assert len(markers(marker, ".term")) == 1
    (ended,) = events(config, "ended")
    assert ended["outcome"] == "stopped"
    assert ended["exit_status"] == 143


def test_child_ignoring_sigterm_is_killed_after_stop_timeout(setup, schedulers) -> None:
    config, marker = setup("--sleep", "60", "--ignore-term", stop_timeout=0.5)
    clock = Clock(T0)
    scheduler = Scheduler(config, clock=clock)
    schedulers.append(scheduler)
    clock.now = datetime(2026, 3, 2, 12, 5, tzinfo=UTC)
    scheduler.tick()
    wait_for(lambda: markers(marker, ".start"), "the child to start")
    scheduler.shutdown()
    assert markers(marker, ".term"), "the child got SIGTERM first"
    (ended,) = events(config, "ended")
    assert ended["exit_status"] == -signal.SIGKILL
    assert ended["outcome"] == "stopped"


HOLDER = """
import sys, time
from pathlib import Path
from newsarchive.schedule import SourceLock
lock = SourceLock(Path(sys.argv[1]), "alpha")
assert lock.acquire()
lock.note_holder(__import__("os").getpid())
print("locked", flush=True)
time.sleep(120)
"""


def test_lock_held_elsewhere_skips_the_run_and_dies_with_its_holder(setup, schedulers) -> None:
    config, marker = setup("--exit", "0")
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(config.lock_dir)], stdout=subprocess.PIPE,
                              text=True)
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "locked"
        clock = Clock(T0)
        scheduler = Scheduler(config, clock=clock)
        schedulers.append(scheduler)
        clock.now = datetime(2026, 3, 2, 12, 5, tzinfo=UTC)
        scheduler.tick()
        (skipped,) = events(config, "skipped")
        assert f"locked by another process (pid {holder.pid}" in skipped["reason"]
        assert scheduler.running == {}

        # the holder crashes hard: no cleanup code runs, the kernel drops the flock
        holder.kill()
        holder.wait()
        clock.now = datetime(2026, 3, 2, 12, 10, tzinfo=UTC)
        scheduler.tick()
        assert set(scheduler.running) == {"alpha"}
        wait_for(lambda: markers(marker, ".end"), "the run to finish")
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()


def test_killed_child_leaves_a_crashed_run_with_its_exit_status(setup, schedulers, tmp_path: Path) -> None:
    from newsarchive.storage import Archive

    db = f"sqlite:///{tmp_path / 'runs.sqlite'}"
    config, _marker = setup("--db", db, "--sigkill-self", db=db)
    clock = Clock(T0)
    scheduler = Scheduler(config, clock=clock)
    schedulers.append(scheduler)
    clock.now = datetime(2026, 3, 2, 12, 5, tzinfo=UTC)
    scheduler.tick()
    pid = scheduler.running["alpha"]
    wait_for(lambda: (scheduler.reap(), not scheduler.running)[1], "the child to die", timeout=60)

    (ended,) = events(config, "ended")
    assert (ended["exit_status"], ended["outcome"]) == (-signal.SIGKILL, "killed")
    with Archive(db) as archive:
        (run,) = archive.runs("alpha")
    assert run["pid"] == pid
    assert run["status"] == "crashed"
    assert run["exit_status"] == -signal.SIGKILL
    assert any("SIGKILL" in e for e in run["errors"])


def test_scheduler_journal_survives_unwritable_folder(setup, schedulers, tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-dir"
    blocked.write_text("x")
    config, marker = setup("--exit", "0")
    config = ScheduleConfig(jobs=config.jobs, db=config.db, lock_dir=config.lock_dir,
                            journal=blocked / "journal.jsonl", command=config.command)
    clock = Clock(T0)
    scheduler = Scheduler(config, clock=clock)
    schedulers.append(scheduler)
    clock.now = datetime(2026, 3, 2, 12, 5, tzinfo=UTC)
    scheduler.tick()  # logs the journal error, still runs the crawl
    wait_for(lambda: markers(marker, ".end"), "the run to finish")


def test_source_lock_is_exclusive_and_released(tmp_path: Path) -> None:
    first, second = SourceLock(tmp_path, "alpha"), SourceLock(tmp_path, "alpha")
    assert first.acquire()
    assert not second.acquire()
    assert SourceLock(tmp_path, "beta").acquire()
    first.release()
    assert second.acquire()
    second.release()


def test_start_failure_is_recorded_as_a_skip(setup, schedulers, tmp_path: Path) -> None:
    config, _ = setup()
    config = ScheduleConfig(jobs=config.jobs, db=config.db, lock_dir=config.lock_dir, journal=config.journal,
                            command=(str(tmp_path / "no-such-program"), "{source}"))
    clock = Clock(T0)
    scheduler = Scheduler(config, clock=clock)
    schedulers.append(scheduler)
    clock.now = datetime(2026, 3, 2, 12, 5, tzinfo=UTC)
    scheduler.tick()
    (skipped,) = events(config, "skipped")
    assert "cannot start" in skipped["reason"]
    # the lock was given back, so the next occurrence can run
    assert SourceLock(config.lock_dir, "alpha").acquire()


def test_unreachable_archive_does_not_stop_the_scheduler(setup, schedulers, caplog) -> None:
    config, _ = setup("--exit", "1", db="sqlite:////proc/no-such-dir/archive.sqlite")
    clock = Clock(T0)
    scheduler = Scheduler(config, clock=clock)
    schedulers.append(scheduler)
    clock.now = datetime(2026, 3, 2, 12, 5, tzinfo=UTC)
    scheduler.tick()
    wait_for(lambda: (scheduler.reap(), not scheduler.running)[1], "the child to end")
    (ended,) = events(config, "ended")
    assert (ended["exit_status"], ended["outcome"]) == (1, "failed")
    assert "could not record the crash" in caplog.text
    # and it goes on scheduling
    clock.now = datetime(2026, 3, 2, 12, 10, tzinfo=UTC)
    scheduler.tick()
    assert set(scheduler.running) == {"alpha"}


def test_child_gets_the_archive_url_in_its_environment_not_argv(setup, schedulers) -> None:
    url = "postgresql+psycopg://crawler:Quokka-Tide-42@db.example.org/news"
    config, marker = setup("--exit", "0", db=url)
    clock = Clock(T0)
    scheduler = Scheduler(config, clock=clock)
    schedulers.append(scheduler)
    clock.now = datetime(2026, 3, 2, 12, 5, tzinfo=UTC)
    scheduler.tick()
    wait_for(lambda: (scheduler.reap(), not scheduler.running)[1], "the child to end")
    (env,) = markers(marker, ".env")
    assert env.read_text() == url
    (argv,) = markers(marker, ".argv")
    assert "Quokka-Tide-42" not in argv.read_text()
    assert "Quokka-Tide-42" not in config.journal.read_text()
