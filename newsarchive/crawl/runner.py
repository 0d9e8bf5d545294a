"""Run one crawl in this process (CrawlerProcess), record it as a run in the archive, print a summary.

Exit status (``newsarchive crawl``), decided from the run's stats:

* 0 - the crawl finished and fetched pages, with errors on at most
  ``NEWSARCHIVE_MAX_ERROR_SHARE`` (default 0.5) of the fetched pages;
* 1 - a clear error before crawling (unknown source, bad date, archive not writable);
* 2 - a bad option (click's usage error, raised by the CLI before any work);
* 3 - the crawl failed: nothing could be fetched, the site blocked us, or errors
  passed the threshold;
* 4 - the crawl was interrupted (Ctrl-C / SIGTERM); ``--resume`` continues it;
* 5 - storage failed: the archive refused articles past ``NEWSARCHIVE_STORE_DEADLINE`` (they
  are spooled and stored first by the next run: see pipelines/store.py), the WARC directory
  could not be written (e.g. a full disk), or the run record itself could not be written.

Twisted's reactor cannot be restarted, so one process runs one crawl: the demo and the
scheduler start ``python -m newsarchive.crawl`` as child processes.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from newsarchive import redact
from newsarchive.article import FILL_FIELDS
from newsarchive.config import DATA_DIR, default_db_url
from newsarchive.crawl.progress import counts_from_stats
from newsarchive.errors import ConfigError, NewsarchiveError

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_FAILED, EXIT_INTERRUPTED, EXIT_STORAGE = 0, 1, 2, 3, 4, 5
#: finish reasons of a crawl stopped because its data could not be written (pipelines/store.py,
#: the WARC capture middleware)
STORAGE_REASONS = frozenset({"store_failed", "warc_failed"})
#: marker left in the job directory when a crawl stopped cleanly (its queue can be resumed)
CLEAN_STOP = "newsarchive-clean-stop"


@dataclass
class CrawlOptions:
    """What one crawl is asked to do (the CLI's arguments)."""

    source: str
    db: str | None = None
    base_url: str | None = None
    max_articles: int | None = None
    since: str | None = None
    until: str | None = None
    refetch: bool = False
    resume: bool = False
    log_level: str | None = None
    summary_json: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    #: Redis URL: the crawl is distributed and this process its coordinator (newsarchive.crawl.distributed)
    redis: str | None = None


@dataclass
class CrawlResult:
    """What the crawl did; ``exit_code`` follows the module's documented rule."""

    source: str
    status: str
    exit_code: int
    elapsed: float
    counts: dict[str, int]
    skipped: dict[str, int]
    discovery_skipped: dict[str, int]
    fill_rates: dict[str, float]
    errors: list[str]
    run_id: int | None = None
    finish_reason: str | None = None
    #: the crawl's own counters (newsarchive/*, robotstxt/*, offsite/*, HTTP statuses)
    stats: dict[str, int] = field(default_factory=dict)
    #: spider open to close, without process start-up and archive migration
    crawl_seconds: float | None = None

    def to_json(self) -> str:
        """The result as indented JSON (the ``--summary-json`` file)."""
        return json.dumps(self.__dict__, indent=2, sort_keys=True, default=str)


class _ErrorCollector(logging.Handler):
    """Keeps the first ERROR-level messages of the crawl for the run record."""

    def __init__(self, limit: int = 50) -> None:
        super().__init__(level=logging.ERROR)
        self.limit = limit
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if len(self.messages) < self.limit:
            try:
                self.messages.append(redact.redact(f"{record.name}: {record.getMessage()}")[:500])
            except Exception:  # a malformed log call must not break the crawl
                self.messages.append(redact.redact(f"{record.name}: {record.msg!r}")[:500])


def project_settings(overrides: Mapping[str, Any] | None = None) -> Any:
    """newsarchive.settings as Scrapy Settings, from any working directory."""
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "newsarchive.settings")
    from scrapy.utils.project import get_project_settings

    settings = get_project_settings()
    for key, value in (overrides or {}).items():
        settings.set(key, value, priority="cmdline")
    return settings


#: settings Scrapy reads as floats although their default is a whole number
_FLOAT_WORDS = ("TIMEOUT", "DELAY", "INTERVAL", "SECONDS", "CONCURRENCY", "_MAX", "HOURS", "SHARE")


def check_setting(key: str, value: str) -> str | None:
    """Why ``-s KEY=VALUE`` would break the crawl (a value its default's type rejects), or None.

    Settings Scrapy does not know are passed on unchecked (extensions read their own).
    """
    if not key.isidentifier() or key.upper() != key:
        return "a setting name is UPPER_CASE letters, digits and '_'"
    current = project_settings().get(key)
    if current is None or isinstance(current, str):
        return None
    if isinstance(current, bool):
        if value in ("True", "true", "False", "false") or _is_int(value):
            return None
        return "expected a boolean (True/False, true/false or 0/1)"
    if isinstance(current, int):
        if _is_int(value) or (any(w in key for w in _FLOAT_WORDS) and _is_float(value)):
            return None
        return "expected a whole number"
    if isinstance(current, float):
        return None if _is_float(value) else "expected a number"
    if isinstance(current, dict) or hasattr(current, "copy_to_dict"):
        try:
            parsed = json.loads(value)
        except ValueError:
            parsed = None
        return None if isinstance(parsed, dict) else 'expected a JSON object, e.g. {"key": 1}'
    return None


def _is_int(value: str) -> bool:
    try:
        int(value)
    except ValueError:
        return False
    return True


def _is_float(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def spider_class(source: str, settings: Any | None = None) -> type:
    """The spider registered under ``source`` (raises ConfigError listing the known ones)."""
    from newsarchive.crawl.loader import SourceLoader

    # the user's sources file (NEWSARCHIVE_SOURCES) is read here: its mistakes fail before any crawl
    loader = SourceLoader.from_settings(settings or project_settings())
    try:
        return loader.load(source)
    except KeyError:
        known = ", ".join(sorted(loader.list()))
        raise ConfigError(f"unknown source {source!r} (known: {known})") from None


def _shares(stats: Mapping[str, Any], prefix: str) -> dict[str, int]:
    return {k[len(prefix):]: int(v) for k, v in sorted(stats.items()) if k.startswith(prefix)}


def summarise(
    stats: Mapping[str, Any],
) -> tuple[dict[str, int], dict[str, int], dict[str, int], dict[str, float]]:
    """Counts, skip reasons, discovery skips and per-field fill rates from Scrapy stats."""
    counts = counts_from_stats(stats)
    skipped = _shares(stats, "newsarchive/skipped/")
    discovery = _shares(stats, "newsarchive/discovery/skipped/")
    kept = counts["stored"] + counts["updated"] + counts["unchanged"]
    fills = _shares(stats, "newsarchive/fill/")
    fill_rates = {name: round(fills.get(name, 0) / kept, 4) for name in FILL_FIELDS} if kept else {}
    # Articles dropped for an empty body count against the body's fill rate: otherwise a layout
    # change that empties every body leaves no kept article and the drift alarm sees nothing.
    bodiless = skipped.get("no_body", 0) + skipped.get("body_too_short", 0)
    if bodiless:
        fill_rates["body"] = round(fills.get("body", 0) / (kept + bodiless), 4)
    return counts, skipped, discovery, fill_rates


def storage_failed(stats: Mapping[str, Any]) -> bool:
    """The store gave up on articles: they are spooled (or, if even that failed, lost)."""
    return bool(stats.get("newsarchive/store/gave_up") or stats.get("newsarchive/store/lost"))


def exit_status(reason: str | None, counts: Mapping[str, int], max_error_share: float) -> tuple[str, int]:
    """The run's status and exit code from the finish reason and counts (see module docstring)."""
    if reason in STORAGE_REASONS:
        return "failed", EXIT_STORAGE
    if reason == "shutdown":
        return "interrupted", EXIT_INTERRUPTED
    got_through = sum(counts[k] for k in ("stored", "updated", "unchanged", "duplicates", "not_modified"))
    if reason == "blocked" or (counts["blocked"] and not got_through):
        return "failed", EXIT_FAILED
    if counts["pages"] == 0:
        return "failed", EXIT_FAILED
    if counts["errors"] > max_error_share * counts["pages"]:
        return "failed", EXIT_FAILED
    return "finished", EXIT_OK


def run_crawl(opts: CrawlOptions, out: Any = None) -> CrawlResult:
    """Run one crawl to its end in this process; raises NewsarchiveError before crawling on bad input."""
    from scrapy.crawler import CrawlerProcess

    from newsarchive.storage import Archive
    from spiders.base import parse_bound

    out = out or sys.stderr
    parse_bound(opts.since)
    parse_bound(opts.until, end=True)
    settings = project_settings(opts.settings)
    spidercls = spider_class(opts.source, settings)
    db_url = opts.db or default_db_url()
    redact.register_url(db_url)
    client: Any = None
    if opts.redis:
        from newsarchive.crawl import distributed

        client = distributed.client_for(opts.redis)  # ConfigError here: before the run is opened
    archive = Archive(db_url)  # StorageError here: before any request is sent
    spider_kwargs: dict[str, Any] = {"refetch": opts.refetch}
    for key in ("base_url", "since", "until", "max_articles"):
        if getattr(opts, key):
            spider_kwargs[key] = getattr(opts, key)
    crawl_id = None
    try:
        archive.fail_stale_runs(opts.source)
        args = {k: v for k, v in opts.__dict__.items() if k not in ("settings", "summary_json") and v}
        for key in ("db", "redis"):
            if key in args:
                args[key] = redact.mask_url(args[key])  # the run record is read by anyone with the archive
        run_id = archive.start_run(opts.source, args)
        if client is not None:
            try:
                crawl_id = distributed.announce(client, opts.source, run_id, spider_kwargs, opts.settings,
                                                db_url)
            except Exception as exc:
                archive.finish_run(run_id, status="failed", counts={}, errors=[redact.redact(str(exc))[:500]],
                                   exit_status=EXIT_ERROR)
                raise
    except Exception:
        archive.close()
        raise
    jobdir = Path(settings.get("NEWSARCHIVE_JOBS_DIR") or DATA_DIR / "jobs") / opts.source
    clean_stop = jobdir / CLEAN_STOP
    if crawl_id is not None:
        # the queue lives in Redis, and the dupefilter with it: no job directory
        for key, value in distributed.frontier_settings(opts.redis or "", crawl_id, "coordinator",
                                                        settings).items():
            settings.set(key, value, priority="cmdline")
    elif jobdir.exists() and not (opts.resume and clean_stop.exists()):
        if opts.resume:
            # Scrapy writes its queue state only on a clean stop: after a kill it cannot be
            # trusted, so the crawl rediscovers from the listings and the archive's URL state.
            print(f"note: the last {opts.source} crawl was killed; resuming from the listings "
                  "and the archive", file=out)
        shutil.rmtree(jobdir)
    if crawl_id is None:
        clean_stop.unlink(missing_ok=True)
        jobdir.parent.mkdir(parents=True, exist_ok=True)
        settings.set("JOBDIR", str(jobdir), priority="cmdline")
    settings.set("NEWSARCHIVE_DB", db_url, priority="cmdline")
    settings.set("NEWSARCHIVE_RUN_ID", run_id, priority="cmdline")
    if opts.log_level:
        settings.set("LOG_LEVEL", opts.log_level, priority="cmdline")
    elif out.isatty() and "LOG_LEVEL" not in opts.settings:
        # on a terminal the live progress line is the output; log lines would tear it apart
        settings.set("LOG_LEVEL", "WARNING", priority="cmdline")
    # Scrapy's root handler is the crawl's only one: the CLI's beside it printed every line twice
    from newsarchive.cli.common import remove_cli_logging

    remove_cli_logging()

    collector = _ErrorCollector()
    logging.getLogger().addHandler(collector)
    started = time.monotonic()
    stats: dict[str, Any] = {}
    crash: Exception | None = None
    try:
        process = CrawlerProcess(settings)
        crawler = process.create_crawler(spidercls)
        failures: list[BaseException] = []
        # a crawl that fails to start (a component raising in its constructor) fails this
        # deferred; without the errback Twisted prints the traceback and the run looked interrupted
        process.crawl(crawler, **spider_kwargs).addErrback(lambda f: failures.append(f.value))
        process.start()
        stats = dict(crawler.stats.get_stats()) if crawler.stats else {}
        if failures and isinstance(failures[0], Exception):
            raise failures[0]
    except Exception as exc:  # recorded as a failed run with its reason, then reported in one line
        crash = exc
        collector.messages.append(redact.redact(f"crawl aborted: {type(exc).__name__}: {exc}")[:500])
    finally:
        logging.getLogger().removeHandler(collector)
        elapsed = time.monotonic() - started
        # no finish reason: the reactor was stopped from outside (a second Ctrl-C)
        reason = stats.get("finish_reason") or "shutdown"
        if crawl_id is not None and reason != "crawl_lost":
            # one run record for the whole crawl: every worker's counts and fill rates merged in
            stats, worker_errors = distributed.wrap_up(client, crawl_id, stats)
            collector.messages.extend(worker_errors)
        if crawl_id is not None and reason in ("redis_failed", "crawl_lost"):
            crash = crash or NewsarchiveError(f"the distributed crawl stopped ({reason})")
        counts, skipped, discovery, fill_rates = summarise(stats)
        if crash is not None:
            status, code = "failed", EXIT_FAILED
        else:
            status, code = exit_status(reason, counts, settings.getfloat("NEWSARCHIVE_MAX_ERROR_SHARE", 0.5))
        if storage_failed(stats):
            # the articles are spooled (or, if even that failed, lost): never a success
            status, code = "failed", EXIT_STORAGE
        for key, value in skipped.items():
            counts[f"skipped/{key}"] = value
        if crawl_id is not None and reason != "crawl_lost":
            # workers see it done and leave (a Redis that lost the crawl gets no keys of it again)
            distributed.wrap_up(client, crawl_id, {}, status)
        try:
            archive.finish_run(run_id, status=status, counts=counts, errors=collector.messages,
                               fill_rates=fill_rates, exit_status=code)
        except Exception as exc:  # the archive is gone too: the exit code must still tell
            print(f"error: could not record run {run_id} as {status} in the archive: "
                  f"{type(exc).__name__}: {str(exc).splitlines()[0][:300]}", file=out)
            if code == EXIT_OK:
                status, code = "failed", EXIT_STORAGE
        finally:
            archive.close()
    if crash is not None:
        print(redact.redact(f"error: the {opts.source} crawl aborted: {type(crash).__name__}: {crash}"),
              file=out)
    if status == "finished":
        # a finished crawl leaves nothing to resume
        shutil.rmtree(jobdir, ignore_errors=True)
    elif jobdir.is_dir():
        clean_stop.touch()
    result = CrawlResult(
        source=opts.source, status=status, exit_code=code, elapsed=elapsed, counts=counts,
        skipped=skipped, discovery_skipped=discovery, fill_rates=fill_rates,
        errors=collector.messages, run_id=run_id, finish_reason=reason,
        stats={k: int(v) for k, v in sorted(stats.items()) if isinstance(v, int | float)
               and k.startswith(("newsarchive/", "robotstxt/", "offsite/", "downloader/response_status"))},
        crawl_seconds=stats.get("elapsed_time_seconds"),
    )
    print(format_summary(result), file=out)
    if opts.summary_json:
        try:
            Path(opts.summary_json).write_text(result.to_json(), encoding="utf-8")
        except OSError as exc:  # checked before the crawl; the disk may have filled since
            print(f"error: cannot write the summary to {opts.summary_json}: {exc.strerror or exc}", file=out)
            if result.exit_code == EXIT_OK:
                result.exit_code = EXIT_ERROR
    return result


def format_summary(result: CrawlResult) -> str:
    """The end-of-crawl summary printed to stderr."""
    c = result.counts
    skipped = ", ".join(f"{k} {v}" for k, v in result.skipped.items()) or "none"
    lines = [
        f"{result.source}: {result.status} in {result.elapsed:.1f} s "
        f"(run {result.run_id}, exit {result.exit_code})",
        f"  pages fetched      {c['pages']}",
        f"  articles stored    {c['stored']} new, {c['updated']} updated, {c['unchanged']} unchanged",
        f"  duplicates dropped {c['duplicates']}",
        f"  not modified (304) {c['not_modified']}",
        f"  skipped            {c['skipped']} ({skipped})",
        f"  blocked {c['blocked']}, robots.txt disallowed {c['robots_disallowed']}, errors {c['errors']}",
    ]
    if result.discovery_skipped:
        found = ", ".join(f"{k} {v}" for k, v in result.discovery_skipped.items())
        lines.append(f"  discovery skipped  {found}")
    if result.fill_rates:
        rates = ", ".join(f"{k} {v:.0%}" for k, v in result.fill_rates.items())
        lines.append(f"  fill rates         {rates}")
    return "\n".join(lines)


def main_safe(opts: CrawlOptions) -> int:
    """Run and map clear errors to one line on stderr and exit 1."""
    try:
        return run_crawl(opts).exit_code
    except NewsarchiveError as exc:
        # one line (drivers add hints on lines of their own), any password masked
        print(redact.redact(f"error: {' '.join(str(exc).split())}"), file=sys.stderr)
        return EXIT_ERROR
