"""The two sides of a distributed crawl: the coordinator's set-up and wrap-up, and ``newsarchive worker``.

The coordinator (``newsarchive crawl SOURCE --redis URL``) opens the one run record, announces
the crawl in Redis (source, run id, spider arguments, shared settings; never a password),
pushes the seeds, works the queue itself, and when the queue is empty and nothing is leased
merges every worker's stats into the run record and marks the crawl done. A worker waits for
a crawl, joins it with the announced arguments, stores into its own ``--db`` (the same archive)
and exits 0 when the crawl is done or on SIGTERM, having finished or released what it held.
"""

from __future__ import annotations

import logging
import signal
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from newsarchive import redact
from newsarchive.errors import ConfigError

log = logging.getLogger(__name__)

EXIT_OK, EXIT_ERROR, EXIT_FAILED, EXIT_STORAGE = 0, 1, 3, 5


@dataclass
class WorkerOptions:
    """What ``newsarchive worker`` was asked to do."""

    redis: str
    db: str | None = None
    source: str | None = None
    wait: float | None = None
    log_level: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)


class _Term:
    """SIGTERM/SIGINT while waiting for a crawl: stop waiting (exit 0)."""

    def __init__(self) -> None:
        self.hit = False

    def __call__(self, signum: int, frame: Any) -> None:
        self.hit = True


def wait_for_crawl(client: Any, opts: WorkerOptions) -> tuple[str, dict[str, Any]] | None:
    """The crawl to join (the oldest of ``opts.source``, or of any source); None when asked to stop."""
    from newsarchive.crawl import distributed

    term = _Term()
    previous = [signal.signal(sig, term) for sig in (signal.SIGTERM, signal.SIGINT)]
    deadline = None if opts.wait is None else time.monotonic() + opts.wait
    announced = False
    down_since: float | None = None
    try:
        while not term.hit:
            try:
                crawls = distributed.active_crawls(client)
                down_since = None
            except distributed.REDIS_ERRORS as exc:
                down_since = down_since or time.monotonic()
                if time.monotonic() - down_since > 60:
                    raise ConfigError(f"Redis at {distributed.describe(opts.redis)} unreachable for 60 s: "
                                      f"{exc}") from None
                crawls = {}
            mine = sorted((c.get("started", 0), cid, c) for cid, c in crawls.items()
                          if opts.source in (None, c.get("source")))
            if mine:
                return mine[0][1], mine[0][2]
            if deadline is not None and time.monotonic() >= deadline:
                return None
            if not announced:
                print(f"waiting for a crawl{' of ' + opts.source if opts.source else ''} at "
                      f"{distributed.describe(opts.redis)}", file=sys.stderr)
                announced = True
            time.sleep(0.5)
        return None
    finally:
        for sig, handler in zip((signal.SIGTERM, signal.SIGINT), previous, strict=True):
            signal.signal(sig, handler)


def open_archive(db_url: str, attempts: int = 3) -> None:
    """Open (and migrate) the archive once; a few tries, since processes opening a new archive at
    once race to migrate it (the losers see a half-made schema, or alembic's version row moved)."""
    from newsarchive.errors import StorageError
    from newsarchive.storage import Archive

    for attempt in range(attempts):
        try:
            Archive(db_url).close()
            return
        except Exception as exc:
            if attempt == attempts - 1:
                if isinstance(exc, StorageError):
                    raise
                raise StorageError(redact.redact(f"cannot open the archive: {type(exc).__name__}: "
                                                 f"{str(exc).splitlines()[0][:300]}")) from None
            time.sleep(1 + attempt)


def run_worker(opts: WorkerOptions) -> int:
    """Join one distributed crawl, work it to its end, return the exit status."""
    from scrapy.crawler import CrawlerProcess

    from newsarchive.config import default_db_url
    from newsarchive.crawl import distributed
    from newsarchive.crawl.runner import (
        EXIT_INTERRUPTED,
        exit_status,
        project_settings,
        spider_class,
        storage_failed,
        summarise,
    )

    client = distributed.client_for(opts.redis)
    db_url = opts.db or default_db_url()
    redact.register_url(db_url)
    found = wait_for_crawl(client, opts)
    if found is None:
        print("no crawl to join; exiting", file=sys.stderr)
        return EXIT_OK
    crawl_id, config = found
    # StorageError now, before joining, not after popping requests; and only now: the coordinator
    # has created (migrated) a new archive by the time it announces a crawl
    open_archive(db_url)
    theirs, mine = config.get("archive"), redact.mask_url(db_url)
    if theirs and theirs != mine:
        # the same archive may have other names (a host alias), so this is a warning, not a refusal
        print(f"warning: this worker stores into {mine}, the crawl's coordinator into {theirs}: they must "
              "be the same archive (--db / NEWSARCHIVE_DB)", file=sys.stderr)
    overrides = {**config.get("settings", {}), **opts.settings}
    settings = project_settings(overrides)
    spidercls = spider_class(config["source"], settings)
    for key, value in distributed.frontier_settings(opts.redis, crawl_id, "worker", settings).items():
        settings.set(key, value, priority="cmdline")
    settings.set("NEWSARCHIVE_DB", db_url, priority="cmdline")
    settings.set("NEWSARCHIVE_RUN_ID", config["run_id"], priority="cmdline")
    if opts.log_level:
        settings.set("LOG_LEVEL", opts.log_level, priority="cmdline")
    from newsarchive.cli.common import remove_cli_logging

    remove_cli_logging()
    print(f"joining crawl {crawl_id} (run {config['run_id']}) as {distributed.worker_id()}", file=sys.stderr)
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(spidercls)
    failures: list[BaseException] = []
    process.crawl(crawler, **config.get("spider", {})).addErrback(lambda f: failures.append(f.value))
    started = time.monotonic()
    process.start()
    stats = dict(crawler.stats.get_stats()) if crawler.stats else {}
    reason = stats.get("finish_reason") or "shutdown"
    counts, _skipped, _discovery, _fills = summarise(stats)
    if failures:
        code = EXIT_FAILED
        print(redact.redact(f"error: the worker aborted: {failures[0]}"), file=sys.stderr)
    elif storage_failed(stats):
        code = EXIT_STORAGE
    elif reason in (distributed.REDIS_FAILED, distributed.CRAWL_LOST):
        code = EXIT_FAILED
    elif reason in ("finished", "shutdown"):
        code = EXIT_OK  # SIGTERM: what it held is finished or back in the queue
    else:
        _status, code = exit_status(reason, counts, settings.getfloat("NEWSARCHIVE_MAX_ERROR_SHARE", 0.5))
        code = EXIT_OK if code == EXIT_INTERRUPTED else code
    print(f"worker {distributed.worker_id()}: crawl {crawl_id} {reason} after "
          f"{time.monotonic() - started:.1f} s: {counts['pages']} pages, {counts['stored']} new articles, "
          f"{counts['errors']} errors (exit {code})",
          file=sys.stderr)
    return code
