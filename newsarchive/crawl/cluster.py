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
import os
import signal
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from newsarchive import redact
from newsarchive.errors import ConfigError

log = logging.getLogger(__name__)

#: words of settings a worker never takes from the coordinator (it takes the rest unless it sets them)
_PRIVATE = ("DB", "REDIS", "PASSWORD", "SECRET", "TOKEN", "LOG_", "JOBDIR", "RUN_ID", "SPOOL", "WARC_DIR")
EXIT_OK, EXIT_ERROR, EXIT_FAILED, EXIT_STORAGE = 0, 1, 3, 5


def frontier_settings(url: str, crawl_id: str, role: str) -> dict[str, Any]:
    """The Scrapy settings that put a crawl's frontier in Redis."""
    from newsarchive.crawl.runner import project_settings

    middlewares = dict(project_settings().getdict("DOWNLOADER_MIDDLEWARES"))
    # last before the download: the shared slot is taken as the request goes out
    middlewares["newsarchive.crawl.distributed.SharedRateLimit"] = 950
    return {"SCHEDULER": "newsarchive.crawl.distributed.RedisScheduler", "NEWSARCHIVE_REDIS_URL": url,
            "NEWSARCHIVE_REDIS_CRAWL": crawl_id, "NEWSARCHIVE_REDIS_ROLE": role,
            "DOWNLOADER_MIDDLEWARES": middlewares}


def client_for(url: str) -> Any:
    """A Redis client that answered PING (ConfigError, one line, when it does not)."""
    from newsarchive.crawl import distributed

    try:
        client = distributed.connect(url)
        client.ping()
    except distributed.REDIS_ERRORS as exc:
        raise ConfigError(f"cannot reach Redis at {distributed.describe(url)}: {exc}") from None
    except ValueError as exc:  # redis-py's word for a URL it cannot read
        raise ConfigError(f"not a Redis URL ({distributed.describe(url)}): {exc}") from None
    except Exception as exc:  # e.g. a wrong password: its message names no secret
        raise ConfigError(f"Redis at {distributed.describe(url)} refused us: {type(exc).__name__}: {exc}") \
            from None
    return client


def announce(client: Any, source: str, run_id: int, spider_kwargs: Mapping[str, Any],
             settings: Mapping[str, Any], db_url: str) -> str:
    """Register the crawl for workers; replace an abandoned crawl of the same source. Returns its id."""
    from newsarchive.crawl import distributed

    for crawl_id, config in distributed.active_crawls(client).items():
        if config.get("source") != source:
            continue
        if client.exists(distributed.Keys(crawl_id).heartbeat(config.get("coordinator", ""))):
            raise ConfigError(f"a distributed {source} crawl is already running ({crawl_id}, run "
                              f"{config.get('run_id')}); see newsarchive status --redis")
        log.warning("replacing the abandoned distributed crawl %s (its coordinator is gone); the archive "
                    "keeps what it stored", crawl_id)
        distributed.finish_crawl(client, crawl_id, "abandoned")
    # the run id alone may repeat (another archive, a rebuilt one): a crawl's keys must not
    crawl_id = f"{source}-{run_id}-{os.urandom(3).hex()}"
    shared = {k: v for k, v in settings.items() if not any(word in k for word in _PRIVATE)}
    distributed.register_crawl(client, crawl_id, {
        "source": source, "run_id": run_id, "spider": dict(spider_kwargs), "settings": shared,
        "started": time.time(), "coordinator": distributed.worker_id(), "archive": redact.mask_url(db_url)})
    return crawl_id


def wrap_up(client: Any, crawl_id: str, own_stats: Mapping[str, Any], status: str | None = None) -> \
        tuple[dict[str, Any], list[str]]:
    """The crawl's merged stats and the workers' errors; with ``status``, also mark it done in Redis.

    Redis unreachable: the coordinator's own stats, and a line saying the run record is partial.
    """
    from newsarchive.crawl import distributed

    try:
        stats = distributed.merged_stats(client, crawl_id, own_stats)
        errors = distributed.crawl_errors(client, crawl_id)
        if status is not None:
            distributed.finish_crawl(client, crawl_id, status)
    except distributed.REDIS_ERRORS as exc:
        return dict(own_stats), [f"Redis unreachable at the end ({exc}): the workers' stats are missing"]
    return stats, errors


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
    """Open (and migrate) the archive once; a few tries, since workers started together on a new
    PostgreSQL archive race to create its tables and all but one see the others' half-made schema."""
    from newsarchive.errors import StorageError
    from newsarchive.storage import Archive

    for attempt in range(attempts):
        try:
            Archive(db_url).close()
            return
        except StorageError:
            if attempt == attempts - 1:
                raise
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

    client = client_for(opts.redis)
    db_url = opts.db or default_db_url()
    redact.register_url(db_url)
    open_archive(db_url)  # StorageError now, before joining: not after popping requests
    found = wait_for_crawl(client, opts)
    if found is None:
        print("no crawl to join; exiting", file=sys.stderr)
        return EXIT_OK
    crawl_id, config = found
    theirs, mine = config.get("archive"), redact.mask_url(db_url)
    if theirs and theirs != mine:
        # the same archive may have other names (a host alias), so this is a warning, not a refusal
        print(f"warning: this worker stores into {mine}, the crawl's coordinator into {theirs}: they must "
              "be the same archive (--db / NEWSARCHIVE_DB)", file=sys.stderr)
    overrides = {**config.get("settings", {}), **opts.settings}
    settings = project_settings(overrides)
    spidercls = spider_class(config["source"], settings)
    for key, value in frontier_settings(opts.redis, crawl_id, "worker").items():
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
