"""`newsarchive schedule` as users run it: config errors, --dry-run, and the real long-lived process."""

from __future__ import annotations

import itertools
import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from newsarchive.cli import main
from newsarchive.errors import ConfigError
from newsarchive.schedule import SourceLock, load_config, read_journal

FAKE = Path(__file__).with_name("fake_crawl.py")


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "schedule.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[sources.ap\ncron = '* * * * *'\n", "invalid TOML"),
        ("[sources.nosuchsite]\ncron = '* * * * *'\n", "unknown source 'nosuchsite'"),
        ("[sources.ap]\ncron = '61 * * * *'\n", "bad cron expression '61 * * * *'"),
        ("[sources.ap]\ncron = 'every hour'\n", "bad cron expression"),
        ("[sources.ap]\nmax_articles = 5\n", "missing cron expression"),
        ("[sources.ap]\ncron = '0 * * * *'\nmax_artcles = 5\n", "crawl has no option --max-artcles"),
        ("[sources.ap]\ncron = '0 * * * *'\nargs = '--refetch'\n", "args must be a list of strings"),
        ("dbb = 'sqlite://'\n[sources.ap]\ncron = '0 * * * *'\n", "unknown setting 'dbb'"),
        ("timezone = 'Mars/Olympus'\n[sources.ap]\ncron = '0 * * * *'\n", "unknown timezone"),
        ("db = 'sqlite://'\n", "nothing to schedule"),
        ("db = '[::1:1'\n[sources.ap]\ncron = '0 * * * *'\n", "'[::1:1' is not a database URL"),
        ("[sources.ap]\ncron = '0 * * * *'\ndb = 'sqlite://'\n", "db is set once, at the top of the file"),
        ("[sources.ap]\ncron = '0 * * * *'\nargs = ['--db', 'sqlite://']\n", "--db in args"),
        ("command = ['{python}', '-m', 'newsarchive.crawl', '{source}', '--db', '{db}']\n"
         "[sources.ap]\ncron = '0 * * * *'\n", "{db} is not substituted"),
    ],
)
def test_bad_schedule_file_is_one_error_line_and_exit_2(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    result = CliRunner().invoke(main, ["schedule", "--config", str(path), "--dry-run"])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("newsarchive schedule: error: ")
    assert message in lines[0]
    assert "Traceback" not in result.output


def test_missing_schedule_file(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["schedule", "--config", str(tmp_path / "none.toml")])
    assert result.exit_code == 2
    assert "no such schedule file" in result.stderr


def test_source_options_become_crawl_arguments(tmp_path: Path) -> None:
    path = write(tmp_path, """
db = "sqlite:///x.sqlite"
lock_dir = "locks"
[sources.ap]
cron = "0 */3 * * *"
max_articles = 500
since = 2026-01-01
refetch = true
resume = false
args = ["-s", "DOWNLOAD_DELAY=2"]
""")
    config = load_config(path, sources={"ap"}, crawl_options={"--max-articles", "--since", "--refetch",
                                                               "--resume", "--db"})
    (job,) = config.jobs
    assert job.args == (
        "--max-articles", "500", "--since", "2026-01-01", "--refetch", "-s", "DOWNLOAD_DELAY=2",
    )
    assert config.lock_dir == tmp_path / "locks"
    argv = config.command_for(job)
    assert argv[:3] == [sys.executable, "-m", "newsarchive.crawl"]
    # the archive's URL travels in the environment, never on the command line
    assert argv[3] == "ap"
    assert argv[4:] == list(job.args)
    assert config.env_for(job)["NEWSARCHIVE_DB"] == "sqlite:///x.sqlite"


def test_unknown_source_without_registry_check(tmp_path: Path) -> None:
    path = write(tmp_path, "[sources.ap]\ncron = '0 * * * *'\n")
    with pytest.raises(ConfigError, match="unknown source 'ap'"):
        load_config(path, sources={"tass"})


def test_dry_run_prints_next_due_times_and_commands(tmp_path: Path) -> None:
    path = write(tmp_path, """
timezone = "Europe/Moscow"
[sources.ap]
cron = "15 6 * * *"
[sources.reuters]
cron = "*/30 * * * *"
""")
    result = CliRunner().invoke(main, ["schedule", "--config", str(path), "--dry-run", "--next", "2"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    ap = next(line for line in lines if line.startswith("ap\t"))
    times = [datetime.fromisoformat(t) for t in ap.split("next: ")[1].split(", ")]
    assert len(times) == 2
    assert all((t.hour, t.minute, t.utcoffset().total_seconds()) == (6, 15, 3 * 3600) for t in times)
    assert (times[1] - times[0]).days == 1
    assert any("-m newsarchive.crawl reuters" in line for line in lines)
    assert not any("--db" in line for line in lines)


@pytest.fixture
def service(tmp_path: Path) -> Iterator[dict]:
    """A real `newsarchive schedule` process whose cron fires every second."""
    marker = tmp_path / "markers"
    marker.mkdir()
    state: dict = {"marker": marker, "locks": tmp_path / "locks", "journal": tmp_path / "journal.jsonl"}

    def start(*child_args: str) -> subprocess.Popen[str]:
        path = write(tmp_path, f"""
db = "sqlite:///{tmp_path / 'archive.sqlite'}"
lock_dir = "locks"
journal = "journal.jsonl"
stop_timeout = 20
command = ["{{python}}", "{FAKE}", "{{source}}", "{{args}}"]
[sources.ap]
cron = "* * * * * *"
args = {json.dumps(["--marker", str(marker), *child_args])}
""")
        # the console script, exactly as a user or systemd starts it
        command = [str(Path(sys.executable).with_name("newsarchive")), "schedule", "--config", str(path)]
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        state["proc"] = proc
        return proc

    state["start"] = start
    yield state
    proc = state.get("proc")
    if proc is not None and proc.poll() is None:
        proc.kill()
        proc.communicate()


def wait_for(condition, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_sigterm_stops_the_running_child_and_the_scheduler_cleanly(service) -> None:
    proc = service["start"]("--sleep", "60")
    marker = service["marker"]
    wait_for(lambda: list(marker.glob("*.start")), "the first run")
    # the cron keeps firing every second while the run lasts: those occurrences are skipped
    wait_for(lambda: any(e["event"] == "skipped" for e in read_journal(service["journal"])), "a skipped run")
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert len(list(marker.glob("*.start"))) == 1
    assert len(list(marker.glob("*.term"))) == 1, "the child was sent SIGTERM"
    journal = list(read_journal(service["journal"]))
    assert [e["event"] for e in journal].count("started") == 1
    ended = [e for e in journal if e["event"] == "ended"]
    assert [(e["outcome"], e["exit_status"]) for e in ended] == [("stopped", 143)]
    assert all("still running" in e["reason"] for e in journal if e["event"] == "skipped")
    # stdout carries the same events as JSON lines
    assert [json.loads(line)["event"] for line in out.splitlines()] == [e["event"] for e in journal]


def test_runs_follow_each_other_without_overlap(service) -> None:
    proc = service["start"]("--sleep", "1.2")
    wait_for(lambda: len([e for e in read_journal(service["journal"]) if e["event"] == "ended"]) >= 2,
             "two finished runs")
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=60)
    assert proc.returncode == 0
    journal = read_journal(service["journal"])
    runs = [e for e in journal if e["event"] == "ended" and e["outcome"] == "finished"]
    assert len(runs) >= 2
    spans = sorted((datetime.fromisoformat(e["started"]), datetime.fromisoformat(e["ended"])) for e in runs)
    for (_, end), (start, _) in itertools.pairwise(spans):
        assert start >= end


def test_child_keeps_the_lock_when_the_scheduler_is_killed(service) -> None:
    proc = service["start"]("--sleep", "4")
    marker = service["marker"]
    wait_for(lambda: list(marker.glob("*.start")), "the run to start")
    proc.kill()  # SIGKILL: no cleanup in the scheduler
    proc.wait()  # not communicate(): the orphan holds the output pipes open
    lock = SourceLock(service["locks"], "ap")
    assert not lock.acquire(), "the orphaned crawl still holds its source's lock"
    wait_for(lambda: list(marker.glob("*.end")), "the orphaned run to finish")
    wait_for(lock.acquire, "the lock to be freed by the kernel")
    lock.release()


def test_second_signal_kills_children_without_waiting_out_the_timeout(service) -> None:
    # stop_timeout is 20 s in the service's file; the child ignores SIGTERM
    proc = service["start"]("--sleep", "60", "--ignore-term")
    marker = service["marker"]
    wait_for(lambda: list(marker.glob("*.start")), "the run to start")
    proc.send_signal(signal.SIGTERM)
    wait_for(lambda: list(marker.glob("*.term")), "the child to get SIGTERM")
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=15)
    assert proc.returncode == 0
    ended = [e for e in read_journal(service["journal"]) if e["event"] == "ended"]
    assert [(e["outcome"], e["exit_status"]) for e in ended] == [("stopped", -signal.SIGKILL)]


def test_dry_run_masks_the_password(tmp_path: Path) -> None:
    path = write(tmp_path, """
db = "postgresql+psycopg://crawler:Quokka-Tide-42@db.example.org/news"
[sources.ap]
cron = "15 6 * * *"
""")
    result = CliRunner().invoke(main, ["schedule", "--config", str(path), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "Quokka-Tide-42" not in result.output
    # shell-quoted, since '*' is special to a shell
    assert "NEWSARCHIVE_DB='postgresql+psycopg://crawler:***@db.example.org/news'" in result.stdout
