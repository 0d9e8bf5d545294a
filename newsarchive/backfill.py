"""Backfill from Common Crawl's CC-NEWS: list a period's WARC files, import each one once.

Each month's file list is ``crawl-data/CC-NEWS/YYYY/MM/warc.paths.gz`` below the base URL
(``NEWSARCHIVE_CCNEWS_URL``, default https://data.commoncrawl.org/). The files of a job (the
collection plus the sources kept, e.g. ``cc-news:tass,tass_ru``) are rows of the archive's
``backfill_files`` table:

* a worker claims a pending row (``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite
  serialises writers anyway), keeps a heartbeat on it while it imports the file, and marks it
  done; so a rerun skips finished files, and processes here or on other machines sharing a
  PostgreSQL archive never import one file twice at once;
* a claim whose heartbeat is older than the claim timeout, or whose process on this host is
  gone, is claimed again: the file is imported again from its start, which adds nothing twice
  (a page stored already is "unchanged");
* a file that cannot be read after the retries goes back to pending, and after
  ``file_attempts`` claims it is "failed": reported at the end, exit status 3. A new backfill
  of the same job tries failed files again.
"""

from __future__ import annotations

import gzip
import logging
import multiprocessing
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TextIO, cast

import sqlalchemy as sa

from newsarchive.errors import ConfigError, NewsarchiveError
from newsarchive.spool import process_alive
from newsarchive.storage.models import BackfillFile
from newsarchive.warcfiles import FetchError, HttpStream, ReadCounts, shown
from newsarchive.warcimport import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, run_source

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://data.commoncrawl.org/"
_FILES = cast(sa.Table, BackfillFile.__table__)
LISTING = "crawl-data/CC-NEWS/{month}/warc.paths.gz"


def base_url() -> str:
    url = os.environ.get("NEWSARCHIVE_CCNEWS_URL") or DEFAULT_BASE_URL
    return url if url.endswith("/") else url + "/"


def months(since: str, until: str) -> list[str]:
    """``YYYY/MM`` of every month from ``since`` to ``until`` (both ``YYYY-MM``), inclusive."""
    def parse(text: str, name: str) -> tuple[int, int]:
        try:
            moment = datetime.strptime(text.strip()[:7], "%Y-%m")
        except ValueError:
            raise ConfigError(f"{name} must be a month as YYYY-MM, not {text!r}") from None
        return moment.year, moment.month

    first, last = parse(since, "--since"), parse(until, "--until")
    if first > last:
        raise ConfigError("--since is after --until")
    out = []
    year, month = first
    while (year, month) <= last:
        out.append(f"{year:04d}/{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def list_files(base: str, period: Sequence[str], *, attempts: int = 5, backoff: float = 0.5) -> list[str]:
    """The WARC paths (relative to ``base``) of the months, in listing order."""
    by_month = list_months(base, period, attempts=attempts, backoff=backoff)
    return list(dict.fromkeys(p for paths in by_month.values() for p in paths))


def list_months(base: str, period: Sequence[str], *, attempts: int = 5,
                backoff: float = 0.5) -> dict[str, list[str]]:
    """Each month's WARC paths (relative to ``base``), as its ``warc.paths.gz`` lists them."""
    out: dict[str, list[str]] = {}
    for month in period:
        url = base + LISTING.format(month=month)
        stream = HttpStream(url, attempts=attempts, backoff=backoff)
        try:
            data = stream.read()
        finally:
            stream.close()
        try:
            text = gzip.decompress(data).decode("utf-8") if data[:2] == b"\x1f\x8b" else data.decode("utf-8")
        except (OSError, EOFError, UnicodeDecodeError) as exc:
            raise FetchError(f"{shown(url)}: not a gzipped list of paths ({exc})") from None
        out[month] = [line.strip() for line in text.splitlines() if line.strip()]
    return out


def job_key(sources: Sequence[str], take_all: bool) -> str:
    return "cc-news:" + ("*" if take_all else ",".join(sorted(sources)))


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _utcnow() -> datetime:
    return datetime.now(UTC)


class FileQueue:
    """The ``backfill_files`` rows of one job (see module docstring)."""

    def __init__(self, archive: Any, job: str, *, claim_timeout: float = 600.0,
                 file_attempts: int = 3) -> None:
        self.archive = archive
        self.job = job
        self.claim_timeout = claim_timeout
        self.file_attempts = file_attempts
        self.me = worker_id()

    def register(self, paths: Sequence[str]) -> None:
        """Add the files not yet known; failed files of an earlier backfill become pending again."""
        table = _FILES

        def work(conn: sa.Connection) -> None:
            conn.execute(sa.update(table).where(table.c.job == self.job, table.c.status == "failed")
                         .values(status="pending", attempts=0))
            known = set(conn.execute(sa.select(table.c.path).where(table.c.job == self.job)).scalars())
            rows = [{"job": self.job, "path": p, "status": "pending", "attempts": 0, "records": 0,
                     "articles": 0} for p in paths if p not in known]
            for start in range(0, len(rows), 500):
                conn.execute(sa.insert(table), rows[start:start + 500])

        for attempt in range(5):
            try:
                self.archive.write(work)
                return
            except sa.exc.IntegrityError:
                # another machine registered the same files meanwhile: read again
                if attempt == 4:
                    raise

    def _reap_local(self, conn: sa.Connection) -> None:
        """Claims held by processes of this host that are gone go back to pending at once."""
        table = _FILES
        host = socket.gethostname()
        rows = conn.execute(sa.select(table.c.id, table.c.claimed_by).where(
            table.c.job == self.job, table.c.status == "claimed",
            table.c.claimed_by.like(f"{host}:%"))).all()
        for row_id, holder in rows:
            pid = holder.rpartition(":")[2]
            if holder != self.me and pid.isdigit() and not process_alive(int(pid)):
                conn.execute(sa.update(table).where(table.c.id == row_id, table.c.claimed_by == holder)
                             .values(status="pending", claimed_by=None))

    def claim(self) -> tuple[int, str] | None:
        """Take the next file to import (None when none is left to take)."""
        table = _FILES

        def work(conn: sa.Connection) -> tuple[int, str] | None:
            self._reap_local(conn)
            stale = _utcnow() - timedelta(seconds=self.claim_timeout)
            row = conn.execute(
                sa.select(table.c.id, table.c.path, table.c.attempts)
                .where(table.c.job == self.job,
                       sa.or_(table.c.status == "pending",
                              sa.and_(table.c.status == "claimed", table.c.heartbeat_at < stale)))
                .order_by(table.c.id)
                .limit(1)
                .with_for_update(skip_locked=True)
            ).first()
            if row is None:
                return None
            conn.execute(sa.update(table).where(table.c.id == row.id).values(
                status="claimed", claimed_by=self.me, heartbeat_at=_utcnow(), attempts=row.attempts + 1,
                records=0, articles=0))
            return int(row.id), str(row.path)

        result: tuple[int, str] | None = self.archive.write(work)
        return result

    def beat(self, file_id: int, records: int, articles: int) -> None:
        table = _FILES
        self.archive.write(lambda conn: conn.execute(
            sa.update(table).where(table.c.id == file_id, table.c.claimed_by == self.me)
            .values(heartbeat_at=_utcnow(), records=records, articles=articles)))

    def done(self, file_id: int, records: int, articles: int) -> None:
        table = _FILES
        self.archive.write(lambda conn: conn.execute(
            sa.update(table).where(table.c.id == file_id).values(
                status="done", finished_at=_utcnow(), heartbeat_at=_utcnow(), records=records,
                articles=articles, claimed_by=self.me, error=None)))

    def release(self, file_id: int, error: str | None, *, count: bool = True) -> str:
        """Give a file back after a failure (or an interruption, ``count=False``); its new status."""
        table = _FILES

        def work(conn: sa.Connection) -> str:
            attempts = conn.execute(sa.select(table.c.attempts).where(table.c.id == file_id)).scalar_one()
            if not count:
                attempts = max(0, attempts - 1)
            status = "failed" if count and attempts >= self.file_attempts else "pending"
            conn.execute(sa.update(table).where(table.c.id == file_id, table.c.claimed_by == self.me).values(
                status=status, claimed_by=None, attempts=attempts, error=(error or "")[:2000] or None))
            return status

        status: str = self.archive.write(work)
        return status

    def summary(self) -> dict[str, int]:
        table = _FILES
        with self.archive.engine.connect() as conn:
            rows = conn.execute(sa.select(table.c.status, sa.func.count(), sa.func.sum(table.c.records),
                                          sa.func.sum(table.c.articles))
                                .where(table.c.job == self.job).group_by(table.c.status)).all()
        out = {"total": 0, "done": 0, "failed": 0, "claimed": 0, "pending": 0, "records": 0, "articles": 0}
        for status, n, records, articles in rows:
            out["total"] += int(n)
            out[status] = out.get(status, 0) + int(n)
            out["records"] += int(records or 0)
            out["articles"] += int(articles or 0)
        return out

    def failures(self) -> list[tuple[str, str]]:
        table = _FILES
        with self.archive.engine.connect() as conn:
            return [(str(p), str(e or "")) for p, e in conn.execute(
                sa.select(table.c.path, table.c.error)
                .where(table.c.job == self.job, table.c.status == "failed").order_by(table.c.id))]


@dataclass
class BackfillOptions:
    """What one ``newsarchive backfill cc-news`` is asked to do."""

    since: str
    until: str
    sources: tuple[str, ...] = ()
    take_all: bool = False
    db: str | None = None
    workers: int = 1
    claim_timeout: float = 600.0
    file_attempts: int = 3
    #: HTTP attempts per stretch of a download, and the first backoff delay (doubling)
    attempts: int = 5
    backoff: float = 0.5
    warc_directory: str | None = None
    progress_interval: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _worker(opts: BackfillOptions, job: str, base: str, run_id: int | None, save_workers: int | None,
            stop: threading.Event | None = None) -> dict[str, Any]:
    """Claim and import files until none is left; returns this worker's stats."""
    from newsarchive.storage import Archive
    from newsarchive.warcimport import Importer, ImportStats, Matcher, load_rules

    matcher = Matcher(load_rules(opts.sources), take_all=opts.take_all)
    stats = ImportStats()
    files = {"done": 0, "failed": 0, "retried": 0}
    with Archive(opts.db) as archive:
        queue = FileQueue(archive, job, claim_timeout=opts.claim_timeout, file_attempts=opts.file_attempts)
        importer = Importer(archive, matcher, run_id=run_id, stats=stats, save_workers=save_workers,
                            warc_directory=opts.warc_directory)
        try:
            while stop is None or not stop.is_set():
                got = queue.claim()
                if got is None:
                    break
                file_id, path = got
                counts = ReadCounts()
                kept_before = stats.kept
                beating = _Heartbeat(queue, file_id, counts, stats, kept_before, opts.claim_timeout)
                try:
                    importer.import_file(base + path, attempts=opts.attempts, backoff=opts.backoff,
                                         counts=counts)
                except FetchError as exc:
                    beating.stop()
                    status = queue.release(file_id, str(exc))
                    files["failed" if status == "failed" else "retried"] += 1
                    log.warning("%s: %s", path, exc)
                    continue
                except BaseException:
                    beating.stop()
                    queue.release(file_id, "interrupted", count=False)
                    raise
                beating.stop()
                queue.done(file_id, counts.records, stats.kept - kept_before)
                files["done"] += 1
        finally:
            importer.close()
    result = stats.to_dict()
    result["files"] = files
    return result


class _Heartbeat:
    """Keeps a claim fresh (and its progress figures current) while its file is imported."""

    def __init__(self, queue: FileQueue, file_id: int, counts: ReadCounts, stats: Any, kept_before: int,
                 claim_timeout: float) -> None:
        self.queue, self.file_id, self.counts = queue, file_id, counts
        self.stats, self.kept_before = stats, kept_before
        self.interval = max(0.2, min(5.0, claim_timeout / 4))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="backfill-heartbeat", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.queue.beat(self.file_id, self.counts.records, self.stats.kept - self.kept_before)
            except Exception as exc:  # a missed beat is only a later takeover risk; the import goes on
                log.warning("backfill heartbeat failed: %s", exc)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def _worker_process(opts: BackfillOptions, job: str, base: str, run_id: int | None,
                    results: Any) -> None:
    signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        results.put(("ok", _worker(opts, job, base, run_id, save_workers=0)))
    except KeyboardInterrupt:
        results.put(("interrupted", {}))
    except Exception as exc:
        results.put(("error", {"errors": [f"worker {os.getpid()}: {type(exc).__name__}: {exc}"]}))


def _raise_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


@dataclass
class BackfillResult:
    status: str
    exit_code: int
    run_id: int | None
    files: dict[str, int]
    counts: dict[str, Any]
    fill_rates: dict[str, float]
    failures: list[tuple[str, str]]
    elapsed: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Progress:
    """Files done/total, records/s, articles kept and ETA on stderr (one redrawn line on a terminal)."""

    def __init__(self, queue: FileQueue, out: TextIO, interval: float | None = None) -> None:
        self.queue, self.out = queue, out
        self.tty = out.isatty()
        self.interval = interval or (1.0 if self.tty else 30.0)
        self.started = time.monotonic()
        self.first = queue.summary()
        self.last = self.first
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="backfill-progress", daemon=True)

    def start(self) -> Progress:
        self._thread.start()
        return self

    def figures(self) -> dict[str, Any]:
        now = self.queue.summary()
        self.last = now
        elapsed = max(1e-9, time.monotonic() - self.started)
        done_here = now["done"] - self.first["done"]
        records = max(0, now["records"] - self.first["records"])
        left = now["total"] - now["done"] - now["failed"]
        eta = elapsed / done_here * left if done_here else None
        return {"files_done": now["done"], "files_total": now["total"], "files_failed": now["failed"],
                "records_per_s": round(records / elapsed, 1), "articles_kept": now["articles"],
                "eta_s": round(eta, 1) if eta is not None else None, "elapsed_s": round(elapsed, 1)}

    def line(self) -> str:
        f = self.figures()
        eta = "?" if f["eta_s"] is None else _duration(f["eta_s"])
        failed = f" ({f['files_failed']} failed)" if f["files_failed"] else ""
        return (f"files {f['files_done']}/{f['files_total']}{failed}  {f['records_per_s']:.0f} records/s  "
                f"articles kept {f['articles_kept']}  ETA {eta}")

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                text = self.line()
            except Exception as exc:  # the display must never stop the backfill
                log.debug("progress failed: %s", exc)
                continue
            prefix, end = ("\r\x1b[2K", "") if self.tty else ("", "\n")
            self.out.write(f"{prefix}backfill: {text}{end}")
            self.out.flush()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        if self.tty:
            self.out.write("\r\x1b[2K")
            self.out.flush()


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 60}m{seconds % 60:02d}s"


def run_backfill(opts: BackfillOptions, out: TextIO | None = None) -> BackfillResult:
    """Run one backfill to its end (see module docstring); raises NewsarchiveError on bad input."""
    from newsarchive.warcimport import load_rules

    out = out or sys.stderr
    period = months(opts.since, opts.until)
    rules = load_rules(opts.sources)  # ConfigError for an unknown source, before any request
    names = tuple(r.key for r in rules) if opts.sources else ()
    job = job_key(names or tuple(r.key for r in rules), opts.take_all)
    base = base_url()
    started = time.monotonic()
    main_thread = threading.current_thread() is threading.main_thread()
    # SIGTERM (a scheduler, systemd) stops it as Ctrl-C does: the claim is given back
    previous = signal.signal(signal.SIGTERM, _raise_interrupt) if main_thread else None
    try:
        return _run(opts, names, job, base, period, started, out)
    finally:
        if main_thread:
            signal.signal(signal.SIGTERM, previous)


def _run(opts: BackfillOptions, names: tuple[str, ...], job: str, base: str,
         period: list[str], started: float, out: TextIO) -> BackfillResult:
    from newsarchive.storage import Archive
    from newsarchive.warcimport import ImportStats, run_counts

    archive = Archive(opts.db)
    try:
        source = run_source("cc-news", names, opts.take_all)
        archive.fail_stale_runs(source)
        args = {"since": opts.since, "until": opts.until, "sources": list(names), "all": opts.take_all,
                "workers": opts.workers, "job": job, "base_url": shown(base)}
        run_id = archive.start_run(source, args)
        stats = ImportStats()
        queue = FileQueue(archive, job, claim_timeout=opts.claim_timeout, file_attempts=opts.file_attempts)
        status, code = "finished", EXIT_OK
        progress: Progress | None = None
        try:
            try:
                paths = list_files(base, period, attempts=opts.attempts, backoff=opts.backoff)
            except FetchError as exc:
                stats.errors.append(f"listing: {exc}")
                raise
            queue.register(paths)
            progress = Progress(queue, out, opts.progress_interval).start()
            worker_failed = _run_workers(opts, job, base, run_id, stats)
            if worker_failed:
                status, code = "failed", EXIT_FAILED
        except FetchError as exc:
            print(f"error: cannot list the CC-NEWS files: {exc}", file=out)
            status, code = "failed", EXIT_FAILED
        except KeyboardInterrupt:
            status, code = "interrupted", EXIT_INTERRUPTED
        finally:
            figures = progress.figures() if progress is not None else {}
            if progress is not None:
                progress.stop()
            failures = queue.failures()
            if failures and code == EXIT_OK:
                status, code = "failed", EXIT_FAILED
            counts, fill_rates = run_counts(stats)
            counts.update({k: v for k, v in figures.items() if v is not None})
            summary = queue.summary()
            archive.finish_run(run_id, status=status, counts=counts, fill_rates=fill_rates,
                               errors=stats.errors + [f"failed file {p}: {e}" for p, e in failures],
                               exit_status=code)
    finally:
        archive.close()
    result = BackfillResult(status=status, exit_code=code, run_id=run_id, files=summary, counts=counts,
                            fill_rates=fill_rates, failures=failures, elapsed=time.monotonic() - started)
    print(format_summary(result, job), file=out)
    return result


def _run_workers(opts: BackfillOptions, job: str, base: str, run_id: int | None, stats: Any) -> bool:
    """Run the workers to their end, merging their stats; True if one of them failed."""
    if opts.workers <= 1:
        stats.merge(_worker(opts, job, base, run_id, save_workers=None))
        return False
    spawn = multiprocessing.get_context("spawn")
    results = spawn.Queue()
    procs = [spawn.Process(target=_worker_process, args=(opts, job, base, run_id, results), daemon=False)
             for _ in range(opts.workers)]
    for proc in procs:
        proc.start()
    failed = interrupted = False
    try:
        pending = len(procs)
        while pending:
            try:
                kind, data = results.get(timeout=1.0)
            except Exception:  # queue.Empty: check the workers are still there
                if not any(p.is_alive() for p in procs):
                    failed = True
                    stats.errors.append("a worker process died without reporting")
                    break
                continue
            pending -= 1
            if kind == "interrupted":
                interrupted = True
            elif kind == "error":
                failed = True
            stats.merge(data)
    except KeyboardInterrupt:
        for proc in procs:
            if proc.is_alive():
                proc.terminate()
        raise
    finally:
        for proc in procs:
            proc.join(timeout=30)
    if interrupted:
        raise KeyboardInterrupt
    return failed


def format_summary(result: BackfillResult, job: str) -> str:
    c, f = result.counts, result.files
    lines = [
        f"backfill {job}: {result.status} in {result.elapsed:.1f} s "
        f"(run {result.run_id}, exit {result.exit_code})",
        f"  files              {f.get('done', 0)}/{f.get('total', 0)} done, {f.get('failed', 0)} failed",
        f"  records read       {c.get('warc/records', 0)} ({c.get('warc/wanted', 0)} article pages, "
        f"{c.get('warc/corrupt', 0)} damaged)",
        f"  articles stored    {c.get('stored', 0)} new, {c.get('updated', 0)} updated, "
        f"{c.get('unchanged', 0)} unchanged, {c.get('duplicates', 0)} duplicates",
        f"  skipped            {c.get('skipped', 0)}",
    ]
    if result.fill_rates:
        rates = ", ".join(f"{k} {v:.0%}" for k, v in result.fill_rates.items())
        lines.append(f"  fill rates         {rates}")
    for path, error in result.failures:
        lines.append(f"  FAILED {path}: {error}")
    return "\n".join(lines)


__all__ = ["BackfillOptions", "BackfillResult", "FileQueue", "NewsarchiveError", "run_backfill"]
