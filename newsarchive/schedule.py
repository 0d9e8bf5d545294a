"""Run crawls on cron schedules: one long-lived process, one fresh child process per crawl.

Twisted's reactor cannot be restarted inside one process, so every run is a child
(``newsarchive crawl SOURCE ...``), which gets the archive's URL in ``NEWSARCHIVE_DB``: a
password in argv would be readable by every user of the machine (``ps``) and land in the journal.
A per-source ``flock`` lock file keeps two runs of one source from overlapping; the child
inherits the lock, so it stays held while either the scheduler or the child lives and the
kernel drops it when both are gone (no stale lock after a crash).  The same lock files work
with ``flock(1)`` in a crontab (docs/scheduling.md).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import shlex
import signal
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from pathlib import Path
from types import FrameType
from typing import Any, TextIO
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

from newsarchive import redact
from newsarchive.config import DATA_DIR, default_db_url
from newsarchive.errors import ConfigError

log = logging.getLogger(__name__)

#: the scheduler's own interpreter runs the child, so a venv needs no activation
DEFAULT_COMMAND: tuple[str, ...] = ("{python}", "-m", "newsarchive.crawl", "{source}", "{args}")
_TOP_KEYS = {"db", "timezone", "lock_dir", "journal", "stop_timeout", "command", "sources"}
_SOURCE_KEYS = {"cron", "args"}
_SOURCE_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789_-")


@dataclass(frozen=True)
class Job:
    """One scheduled crawl: a source, its cron expression and the extra crawl arguments."""

    source: str
    cron: str
    args: tuple[str, ...] = ()


@dataclass(frozen=True)
class ScheduleConfig:
    """A parsed, validated schedule file."""

    jobs: tuple[Job, ...]
    db: str = field(default_factory=default_db_url)
    tz: tzinfo | None = None
    lock_dir: Path = DATA_DIR / "locks"
    journal: Path = DATA_DIR / "schedule-runs.jsonl"
    #: seconds a child gets between SIGTERM and SIGKILL when the scheduler stops
    stop_timeout: float = 60.0
    command: tuple[str, ...] = DEFAULT_COMMAND

    def command_for(self, job: Job) -> list[str]:
        """The child's argv: the command template with ``{python}``, ``{source}``, ``{args}``."""
        argv: list[str] = []
        for part in self.command:
            if part == "{args}":
                argv.extend(job.args)
            else:
                argv.append(part.replace("{python}", sys.executable).replace("{source}", job.source))
        return argv

    def env_for(self, job: Job) -> dict[str, str]:
        """The child's environment: ours plus the archive's URL in ``NEWSARCHIVE_DB``."""
        return {**os.environ, "NEWSARCHIVE_DB": self.db}


def load_config(
    path: str | Path,
    *,
    sources: Collection[str] | None = None,
    crawl_options: Collection[str] | None = None,
) -> ScheduleConfig:
    """Read and check a schedule TOML file; any problem raises :class:`ConfigError` with one sentence.

    ``sources`` are the valid source keys (None: not checked here); ``crawl_options``,
    when given, are the long options ``newsarchive crawl`` accepts, so a typo fails here rather
    than hours later in a child.
    """
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such schedule file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    return parse_config(data, base=path.parent, where=str(path), sources=sources,
                        crawl_options=crawl_options)


def parse_config(
    data: Mapping[str, Any],
    *,
    base: Path = Path("."),
    where: str = "schedule",
    sources: Collection[str] | None = None,
    crawl_options: Collection[str] | None = None,
) -> ScheduleConfig:
    """Validate an already-parsed TOML document (see :func:`load_config`)."""
    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        raise ConfigError(f"{where}: unknown setting {unknown[0]!r} (known: {', '.join(sorted(_TOP_KEYS))})")
    table = data.get("sources")
    if not isinstance(table, dict) or not table:
        raise ConfigError(f"{where}: no [sources.<name>] tables: nothing to schedule")
    jobs = tuple(_parse_job(name, spec, where, sources, crawl_options) for name, spec in table.items())

    kwargs: dict[str, Any] = {}
    if "db" in data:
        kwargs["db"] = _string(data["db"], f"{where}: db")
        _check_db_url(kwargs["db"], f"{where}: db")
    if "timezone" in data:
        name = _string(data["timezone"], f"{where}: timezone")
        try:
            kwargs["tz"] = ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(f"{where}: unknown timezone {name!r}") from None
    for key in ("lock_dir", "journal"):
        if key in data:
            kwargs[key] = base / _string(data[key], f"{where}: {key}")
    if "stop_timeout" in data:
        value = data["stop_timeout"]
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise ConfigError(f"{where}: stop_timeout must be a number of seconds >= 0")
        kwargs["stop_timeout"] = float(value)
    if "command" in data:
        command = data["command"]
        if not (isinstance(command, list) and command and all(isinstance(c, str) for c in command)):
            raise ConfigError(f"{where}: command must be a non-empty list of strings")
        if any("{db}" in part for part in command):
            raise ConfigError(f"{where}: command: {{db}} is not substituted (a password on a command line "
                              "is visible to every user): the crawl reads NEWSARCHIVE_DB, which the "
                              "scheduler sets")
        kwargs["command"] = tuple(command)
    return ScheduleConfig(jobs=jobs, **kwargs)


def _check_db_url(url: str, what: str) -> None:
    from sqlalchemy.engine import make_url

    try:
        make_url(url)
    except Exception:
        raise ConfigError(f"{what}: {redact.mask_url(url)!r} is not a database URL") from None
    redact.register_url(url)


def _string(value: object, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{what} must be a non-empty string")
    return value


def _parse_job(
    name: str,
    spec: object,
    where: str,
    sources: Collection[str] | None,
    crawl_options: Collection[str] | None,
) -> Job:
    if sources is not None and name not in sources:
        known = ", ".join(sorted(sources)) or "none are registered; is newsarchive installed?"
        raise ConfigError(f"{where}: unknown source {name!r} (known: {known})")
    if not set(name) <= _SOURCE_NAME_CHARS:
        raise ConfigError(f"{where}: source name {name!r} may only hold a-z, 0-9, '_' and '-'")
    if not isinstance(spec, dict):
        raise ConfigError(f"{where}: sources.{name} must be a table")
    cron = spec.get("cron")
    if not isinstance(cron, str) or not cron.strip():
        raise ConfigError(f"{where}: sources.{name}: missing cron expression (e.g. cron = \"0 */3 * * *\")")
    cron = " ".join(cron.split())
    # croniter also accepts a 6th (seconds) field, handy for tests, and @hourly-style aliases
    fields = len(cron.split())
    if not (fields in (5, 6) or (fields == 1 and cron.startswith("@"))) or not croniter.is_valid(cron):
        raise ConfigError(f"{where}: sources.{name}: bad cron expression {cron!r}")
    args: list[str] = []
    extra = spec.get("args", [])
    if not (isinstance(extra, list) and all(isinstance(a, str) for a in extra)):
        raise ConfigError(f"{where}: sources.{name}: args must be a list of strings")
    if any(a == "--db" or a.startswith("--db=") for a in extra):
        raise ConfigError(f"{where}: sources.{name}: --db in args would put the archive's URL on a "
                          "command line; set db at the top of the file")
    for key, value in spec.items():
        if key in _SOURCE_KEYS:
            continue
        if key == "db":
            raise ConfigError(f"{where}: sources.{name}: db is set once, at the top of the file")
        option = "--" + key.replace("_", "-")
        if crawl_options is not None and option not in crawl_options:
            raise ConfigError(f"{where}: sources.{name}: crawl has no option {option} (from key {key!r})")
        args.extend(_option_args(option, value, f"{where}: sources.{name}.{key}"))
    args.extend(extra)
    return Job(source=name, cron=cron, args=tuple(args))


def _option_args(option: str, value: object, what: str) -> list[str]:
    if value is True:
        return [option]
    if value is False:
        return []
    if isinstance(value, datetime | date):
        return [option, value.isoformat()]
    if isinstance(value, str | int | float):
        return [option, str(value)]
    raise ConfigError(f"{what}: expected a string, number, date or true/false")


def next_due(cron: str, after: datetime) -> datetime:
    """The first time strictly after ``after`` that ``cron`` fires (aware in ``after``'s zone)."""
    return croniter(cron, after).get_next(datetime)


def due_times(cron: str, after: datetime, count: int) -> list[datetime]:
    """The next ``count`` firing times after ``after``."""
    it = croniter(cron, after)
    return [it.get_next(datetime) for _ in range(count)]


class SourceLock:
    """An exclusive ``flock`` on ``<lock_dir>/<source>.lock``; the kernel frees it when its holders die."""

    def __init__(self, lock_dir: Path, source: str) -> None:
        self.path = lock_dir / f"{source}.lock"
        self.fd: int | None = None

    def acquire(self) -> bool:
        """Take the lock without waiting; False when another process holds it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self.fd = fd
        return True

    def note_holder(self, pid: int) -> None:
        """Write the holder's pid into the file, for humans and for the 'locked by' message."""
        if self.fd is not None:
            os.ftruncate(self.fd, 0)
            os.pwrite(self.fd, f"{pid}\n".encode(), 0)

    def holder(self) -> str:
        """The pid last written into the lock file, or '?'."""
        try:
            return self.path.read_text(encoding="ascii").strip() or "?"
        except (OSError, UnicodeDecodeError):
            return "?"

    def release(self) -> None:
        """Drop our hold (a child that inherited the descriptor keeps its own until it exits)."""
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


@dataclass
class _Running:
    job: Job
    proc: subprocess.Popen[bytes]
    lock: SourceLock
    due: datetime
    started: datetime
    stopping: bool = False


class Scheduler:
    """Starts each job's crawl when its cron expression fires; see the module docstring."""

    def __init__(
        self,
        config: ScheduleConfig,
        *,
        clock: Callable[[], datetime] | None = None,
        out: TextIO | None = None,
    ) -> None:
        self.config = config
        redact.register_url(config.db)
        self._clock = clock or (lambda: datetime.now().astimezone(config.tz))
        self._out = out
        now = self._clock()
        self._next: dict[str, datetime] = {job.source: next_due(job.cron, now) for job in config.jobs}
        self._running: dict[str, _Running] = {}
        self._stop_requested = False
        #: a second SIGTERM/SIGINT while stopping: do not wait out stop_timeout
        self._hurry = False
        self._signal_name: str | None = None

    @property
    def running(self) -> dict[str, int]:
        """Source -> pid of each child still running."""
        return {source: run.proc.pid for source, run in self._running.items()}

    def next_due(self, source: str) -> datetime:
        """When the job for ``source`` fires next."""
        return self._next[source]

    def tick(self) -> None:
        """Reap finished children, then start every job whose time has come."""
        now = self._clock()
        self.reap()
        for job in self.config.jobs:
            due = self._next[job.source]
            if now < due:
                continue
            # computed from now, not from `due`: a suspended machine wakes up to one run, not a burst
            self._next[job.source] = next_due(job.cron, now)
            self._launch(job, due, now)

    def reap(self) -> None:
        """Record and release every child that has exited."""
        for source, run in list(self._running.items()):
            if run.proc.poll() is not None:
                del self._running[source]
                self._finished(run)

    def request_stop(self) -> None:
        """Ask :meth:`run` to stop starting crawls and shut down (safe in a signal handler)."""
        self._stop_requested = True

    def run(self, *, poll: float = 0.5) -> int:
        """Loop until SIGTERM/SIGINT, then stop the children cleanly; returns the exit status."""
        previous = {sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            log.info("scheduler started: %s", ", ".join(f"{j.source} [{j.cron}]" for j in self.config.jobs))
            while not self._stop_requested:
                self.tick()
                wait = min(poll, max(0.0, self._seconds_to_next()))
                if not self._stop_requested:
                    time.sleep(max(wait, 0.01))
            log.info("scheduler: %s received, stopping %d running crawl(s)",
                     self._signal_name or "stop request", len(self._running))
            self.shutdown()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        return 0

    def shutdown(self) -> None:
        """SIGTERM every child, wait up to ``stop_timeout``, SIGKILL what is left, record all."""
        for run in self._running.values():
            run.stopping = True
            _signal_group(run.proc, signal.SIGTERM)
        deadline = time.monotonic() + self.config.stop_timeout
        while self._running and time.monotonic() < deadline and not self._hurry:
            self.reap()
            time.sleep(0.05)
        self.reap()
        for run in self._running.values():
            log.warning("%s: child %d still running %s; killing it", run.job.source, run.proc.pid,
                        "at the second signal" if self._hurry else
                        f"{self.config.stop_timeout:.0f}s after SIGTERM")
            _signal_group(run.proc, signal.SIGKILL)
        for run in self._running.values():
            run.proc.wait()
        self.reap()

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        # only flags here: writing a log line could land inside a write to the same stream
        # ("reentrant call" RuntimeError), so the main loop reports the signal
        if self._stop_requested:
            self._hurry = True
            return
        self._signal_name = _signal_name(signum)
        self.request_stop()

    def _seconds_to_next(self) -> float:
        now = self._clock()
        return min((due - now).total_seconds() for due in self._next.values())

    def _launch(self, job: Job, due: datetime, now: datetime) -> None:
        if job.source in self._running:
            pid = self._running[job.source].proc.pid
            self._skip(job, due, now, f"previous run (pid {pid}) still running")
            return
        lock = SourceLock(self.config.lock_dir, job.source)
        if not lock.acquire():
            self._skip(job, due, now, f"locked by another process (pid {lock.holder()}, {lock.path})")
            return
        argv = self.config.command_for(job)
        try:
            # own session: a terminal's Ctrl-C reaches only the scheduler, which then stops
            # the children in order; pass_fds hands the lock to the child
            proc = subprocess.Popen(argv, pass_fds=(lock.fd,) if lock.fd is not None else (),
                                    start_new_session=True, env=self.config.env_for(job))
        except OSError as exc:
            lock.release()
            self._skip(job, due, now, redact.redact(f"cannot start {argv[0]!r}: {exc}"))
            return
        lock.note_holder(proc.pid)
        self._running[job.source] = _Running(job, proc, lock, due, now)
        log.info("%s: started pid %d for %s", job.source, proc.pid, due.isoformat())
        self._record({"event": "started", "source": job.source, "due": due.isoformat(),
                      "started": now.isoformat(), "pid": proc.pid, "command": shlex.join(argv)})

    def _finished(self, run: _Running) -> None:
        code = run.proc.returncode
        ended = self._clock()
        if code == 0:
            outcome = "finished"
        elif run.stopping:
            outcome = "stopped"
        else:
            outcome = "killed" if code < 0 else "failed"
        how = f"signal {_signal_name(-code)}" if code < 0 else f"exit status {code}"
        try:
            if code != 0:
                # a killed or crashed child cannot close its own run record
                self._close_run_record(run, how)
        finally:
            run.lock.release()
        level = logging.INFO if code == 0 else logging.WARNING
        log.log(level, "%s: pid %d ended with %s", run.job.source, run.proc.pid, how)
        self._record({"event": "ended", "source": run.job.source, "due": run.due.isoformat(),
                      "started": run.started.isoformat(), "ended": ended.isoformat(), "pid": run.proc.pid,
                      "exit_status": code, "outcome": outcome})

    def _skip(self, job: Job, due: datetime, now: datetime, reason: str) -> None:
        log.warning("%s: run due %s skipped: %s", job.source, due.isoformat(), reason)
        self._record({"event": "skipped", "source": job.source, "due": due.isoformat(),
                      "at": now.isoformat(), "reason": reason})

    def _close_run_record(self, run: _Running, how: str) -> None:
        """Mark the dead child's run "crashed" and give it the exit status it could not record."""
        from newsarchive.storage import Archive

        source, code = run.job.source, run.proc.returncode
        try:
            with Archive(self.config.db) as archive:
                if archive.fail_stale_runs(source):
                    log.warning("%s: marked the run(s) left 'running' by a dead crawl as crashed", source)
                for row in archive.runs(source, limit=20):
                    if row["pid"] != run.proc.pid or row["exit_status"] is not None:
                        continue
                    started = row["started_at"]
                    if started.tzinfo is None:
                        started = started.replace(tzinfo=UTC)
                    # a recycled pid from an older run is not ours
                    if row["status"] != "crashed" or started < run.started - timedelta(seconds=5):
                        continue
                    archive.finish_run(row["id"], status="crashed", counts=row["counts"] or {},
                                       errors=[*(row["errors"] or []), f"crawl process ended with {how}"],
                                       fill_rates=row["fill_rates"] or {}, exit_status=code)
        except Exception as exc:  # the archive's trouble must never stop the scheduler itself
            log.warning("%s: could not record the crash in %s: %s: %s", source,
                        redact.mask_url(self.config.db), type(exc).__name__, redact.redact(str(exc)))

    def _record(self, event: dict[str, Any]) -> None:
        # every value passes through redact (before JSON escapes a password's quotes or
        # backslashes): a reason or command may quote the archive's URL
        line = json.dumps({k: redact.redact(v) if isinstance(v, str) else v for k, v in event.items()},
                          ensure_ascii=False)
        if self._out is not None:
            print(line, file=self._out, flush=True)
        try:
            self.config.journal.parent.mkdir(parents=True, exist_ok=True)
            with self.config.journal.open("a", encoding="utf-8") as fh:
                fh.write(line + "\n")
        except OSError as exc:
            log.error("cannot write the schedule journal %s: %s", self.config.journal, exc)


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return str(number)


def _signal_group(proc: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    # the child leads its own process group (start_new_session), so this reaches anything it spawned
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)


def read_journal(path: Path) -> Iterator[dict[str, Any]]:
    """The events a scheduler wrote, oldest first (a torn last line is skipped)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return
    for line in lines:
        with contextlib.suppress(json.JSONDecodeError):
            yield json.loads(line)


def describe(config: ScheduleConfig, now: datetime, count: int = 3) -> Sequence[str]:
    """Human-readable lines: each job's cron, next ``count`` due times and command (password masked)."""
    lines = []
    env = f"NEWSARCHIVE_DB={shlex.quote(redact.mask_url(config.db))}"
    for job in config.jobs:
        times = ", ".join(t.isoformat() for t in due_times(job.cron, now, count))
        lines.append(f"{job.source}\t{job.cron}\tnext: {times}")
        lines.append(redact.redact(f"\t$ {env} {shlex.join(config.command_for(job))}"))
    return lines
