"""Crawl commands: ``crawl``, ``sources`` and ``demo``."""

from __future__ import annotations

import logging
import sys
from datetime import date
from typing import Any

import click

from newsarchive.cli.common import (
    Command,
    check_writable_file,
    db_option,
    format_option,
    verbosity_options,
    write_records,
)
from newsarchive.errors import NewsarchiveError


def _iso_date(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    try:
        date.fromisoformat(value[:10])
        if len(value) > 10:
            from datetime import datetime

            datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO date (YYYY-MM-DD)") from None
    return value


sources_option = click.option(
    "--sources", "sources_file", type=click.Path(dir_okay=False), envvar="NEWSARCHIVE_SOURCES",
    help="TOML file of your own outlets, crawled with the generic spider (see docs/crawling.md) "
         "[env: NEWSARCHIVE_SOURCES].")


redis_option = click.option(
    "--redis", "redis_url", envvar="NEWSARCHIVE_REDIS", show_envvar=True,
    help="Redis URL of a distributed crawl's frontier, e.g. redis://:PASSWORD@host:6379/0 "
         "(docs/deployment.md).")


def _parse_overrides(overrides: tuple[str, ...]) -> dict[str, str]:
    from newsarchive.crawl.runner import check_setting

    settings = {}
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{item!r} is not KEY=VALUE", param_hint="-s/--set")
        problem = check_setting(key, value)
        if problem:
            raise click.BadParameter(f"{key}={value!r}: {problem}", param_hint="-s/--set")
        settings[key] = value
    return settings


def _check_redis(url: str | None) -> None:
    if url is not None and not url.startswith(("redis://", "rediss://", "unix://")):
        from newsarchive import redact

        raise click.BadParameter(f"{redact.mask_url(url)!r} is not a redis://, rediss:// or unix:// URL",
                                 param_hint="--redis")


def _crawl_default_level() -> int:
    # on a terminal the live progress line is the output; without one, INFO lines are the record
    return logging.WARNING if sys.stderr.isatty() else logging.INFO


@click.command(cls=Command)
@verbosity_options(default=_crawl_default_level, configure=False)
@click.argument("source")
@db_option
@click.option("--base-url", help="Crawl a copy of the site at this URL (e.g. http://127.0.0.1:8000).")
@click.option("--max-articles", type=click.IntRange(min=1), help="Fetch at most N article pages.")
@click.option("--since", callback=_iso_date, help="Backfill: only articles published on or after this date.")
@click.option("--until", callback=_iso_date, help="Backfill: only articles published on or before this date.")
@click.option("--refetch", is_flag=True, help="Fetch known articles again, ignoring the revisit policy.")
@click.option("--resume", is_flag=True, help="Continue the interrupted crawl of this source (data/jobs/).")
@click.option("--summary-json", type=click.Path(dir_okay=False), help="Also write the run summary as JSON.")
@sources_option
@redis_option
@click.option("-s", "--set", "overrides", multiple=True, metavar="KEY=VALUE",
              help="Extra Scrapy setting (checked against the type of its default).")
def crawl(
    source: str, db: str | None, base_url: str | None, max_articles: int | None, since: str | None,
    until: str | None, refetch: bool, resume: bool, summary_json: str | None, overrides: tuple[str, ...],
    log_level: str | None, sources_file: str | None, redis_url: str | None,
) -> None:
    """Crawl one wire service into the archive.

    Exit 0 when pages were fetched with few errors; 1 on a clear error before crawling
    (unknown source, archive unavailable); 2 on a bad option (checked before any work);
    3 when nothing could be fetched, the site blocked us or errors passed the threshold;
    4 when interrupted (continue with --resume).

    With --redis (or NEWSARCHIVE_REDIS) the crawl is distributed: this process pushes the
    seeds, works the queue with any `newsarchive worker` processes, records one run for all of
    them and exits when the queue is empty and nothing is leased (docs/deployment.md).

    Logs go to stderr at INFO without a terminal, at WARNING beside the live progress line
    on one; -v/-q/--log-level change that.

    Example: newsarchive crawl tass --max-articles 50 --since 2026-11-01
    """
    from newsarchive.crawl.runner import CrawlOptions, main_safe

    settings: dict[str, Any] = _parse_overrides(overrides)
    _check_redis(redis_url)
    if redis_url and resume:
        raise click.BadParameter("a distributed crawl keeps its queue in Redis; rerun it without --resume",
                                 param_hint="--resume")
    if sources_file:
        settings["NEWSARCHIVE_SOURCES"] = sources_file
    if summary_json is not None:
        # checked now: a summary that cannot be written after an hour's crawl is lost
        check_writable_file(summary_json, "--summary-json")
    if base_url is not None:
        from urllib.parse import urlsplit

        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise click.BadParameter(f"{base_url!r} is not an http(s) URL", param_hint="--base-url")
    if since and until and since > until:
        raise click.BadParameter("--since is later than --until", param_hint="'--since'/'--until'")
    opts = CrawlOptions(
        source=source, db=db, base_url=base_url, max_articles=max_articles, since=since, until=until,
        refetch=refetch, resume=resume, summary_json=summary_json, settings=settings, log_level=log_level,
        redis=redis_url,
    )
    sys.exit(main_safe(opts))


@click.command(cls=Command)
@verbosity_options(default=_crawl_default_level, configure=False)
@click.option("--redis", "redis_url", envvar="NEWSARCHIVE_REDIS", show_envvar=True, required=True,
              help="Redis URL of the distributed crawl's frontier (as given to the coordinator).")
@db_option
@click.option("--source", help="Join only a crawl of this source [any].")
@click.option("--wait", type=click.FloatRange(min=0), help="Seconds to wait for a crawl to join [for ever].")
@sources_option
@click.option("-s", "--set", "overrides", multiple=True, metavar="KEY=VALUE",
              help="Extra Scrapy setting for this worker (wins over the coordinator's).")
def worker(redis_url: str, db: str | None, source: str | None, wait: float | None, sources_file: str | None,
           overrides: tuple[str, ...], log_level: str | None) -> None:
    """Work on a distributed crawl: pull requests from Redis, extract, store into the archive.

    Waits for a crawl started with `newsarchive crawl SOURCE --redis URL`, joins it, and exits 0
    when it is done, or on SIGTERM after finishing or releasing what it holds. --db names the
    same archive as the coordinator's (PostgreSQL across machines; one SQLite file on one machine).
    Exit 1 when Redis or the archive cannot be reached at the start; 3 when Redis stays
    unreachable past NEWSARCHIVE_REDIS_RETRY_SECONDS (60) or the crawl vanished from it; 5 when
    storage failed.

    Example: newsarchive worker --redis redis://127.0.0.1:6379/0 --db postgresql+psycopg://u@host/db
    """
    from newsarchive import redact
    from newsarchive.crawl.cluster import WorkerOptions, run_worker

    _check_redis(redis_url)
    settings: dict[str, Any] = _parse_overrides(overrides)
    if sources_file:
        settings["NEWSARCHIVE_SOURCES"] = sources_file
    opts = WorkerOptions(redis=redis_url, db=db, source=source, wait=wait, log_level=log_level,
                         settings=settings)
    try:
        code = run_worker(opts)
    except NewsarchiveError as exc:
        click.echo(redact.redact(f"error: {' '.join(str(exc).split())}"), err=True)
        code = 1
    sys.exit(code)


@click.command()
@click.option("--redis", "redis_url", envvar="NEWSARCHIVE_REDIS", show_envvar=True, required=True,
              help="Redis URL of the distributed crawls' frontier.")
@format_option
def status(redis_url: str, fmt: str) -> None:
    """Distributed crawls in progress: queue length, leased requests, workers seen, pages/s.

    Example: newsarchive status --redis redis://127.0.0.1:6379/0
    """
    from newsarchive import redact
    from newsarchive.crawl import distributed

    _check_redis(redis_url)
    try:
        rows = distributed.status(distributed.client_for(redis_url))
    except (NewsarchiveError, *distributed.REDIS_ERRORS) as exc:
        click.echo(redact.redact(f"error: {exc}"), err=True)
        sys.exit(1)

    def table(records: list[Any]) -> None:
        if not records:
            click.echo(f"no distributed crawl in progress at {distributed.describe(redis_url)}")
        for row in records:
            click.echo(f"{row['crawl']}: run {row['run_id']}, {row['queued']} queued, "
                       f"{row['leased']} leased, "
                       f"{row['workers']} workers seen, {row['pages']} pages, {row['pages_per_s']} pages/s "
                       f"over {row['elapsed_s']} s")

    write_records(rows, STATUS_COLUMNS, fmt, table)


STATUS_COLUMNS = ("crawl", "source", "run_id", "queued", "leased", "workers", "worker_ids", "pages",
                  "pages_per_s", "elapsed_s")


SOURCE_COLUMNS = ("name", "kind", "base_url", "feeds", "sitemaps", "sections", "start_pages", "pagination",
                  "read_also", "extra", "discovery")


@click.command()
@format_option
@sources_option
def sources(fmt: str, sources_file: str | None) -> None:
    """List the wire services and how each one discovers articles.

    The kind column says "built-in" (a spider in spiders/) or "user" (from the --sources file).

    \b
    Example: newsarchive sources
             newsarchive sources --sources my-sources.toml --format json
    """
    from newsarchive.crawl.loader import SourceLoader
    from newsarchive.crawl.runner import project_settings

    try:
        loader = SourceLoader.from_settings(project_settings({"NEWSARCHIVE_SOURCES": sources_file or ""}))
    except NewsarchiveError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    rows: list[dict[str, Any]] = []
    for name in sorted(loader.list()):
        cls = loader.load(name)
        # newsarchive never imports spiders/, so the NewsSpider API is looked up, not typed
        info = cls.discovery() if hasattr(cls, "discovery") else {}
        methods = [
            f"{label} {', '.join(info[key])}" for key, label in
            (("feeds", "rss"), ("sitemaps", "sitemaps"), ("sections", "sections"), ("start_pages", "start"))
            if info.get(key)
        ]
        if info.get("pagination"):
            methods.append("pagination")
        if info.get("read_also"):
            methods.append("read-also links")
        if info.get("extra"):
            methods.append(info["extra"])
        rows.append({
            "name": name, "kind": "user" if name in loader.user_sources else "built-in",
            "base_url": info.get("base_url", ""),
            **{key: list(info.get(key) or []) for key in ("feeds", "sitemaps", "sections", "start_pages")},
            "pagination": bool(info.get("pagination")), "read_also": bool(info.get("read_also")),
            "extra": info.get("extra") or None, "discovery": "; ".join(methods) or "no declared discovery",
        })

    def table(records: list[Any]) -> None:
        for row in records:
            click.echo(f"{row['name']:10} {row['base_url']}" + ("  (user)" if row["kind"] == "user" else ""))
            click.echo(f"{'':10} {row['discovery']}")

    write_records(rows, SOURCE_COLUMNS, fmt, table)


@click.command()
@db_option
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="CSV file [default: data/demo.csv].")
def demo(db: str | None, output: str | None) -> None:
    """Offline demo: serve the bundled sample site, crawl it twice with the TASS spider, export CSV.

    Example: newsarchive demo
    """
    from newsarchive.demo import run_demo

    if output is not None:
        check_writable_file(output, "-o/--output")  # the CSV comes last, after both crawls
    try:
        code = run_demo(db=db, csv_path=output)
    except NewsarchiveError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    sys.exit(code)


COMMANDS: list[click.Command] = [crawl, sources, demo, worker, status]
