"""Backfill commands: ``import-warc`` (WARC files a researcher has) and ``backfill cc-news``."""

from __future__ import annotations

import sys

import click

from newsarchive.cli.common import db_option, one_line
from newsarchive.errors import NewsarchiveError


@click.command("import-warc")
@click.argument("locations", nargs=-1, required=True, metavar="PATH_OR_URL...")
@db_option
@click.option("--source", "sources", multiple=True,
              help="Keep only this source's article pages (repeatable).")
@click.option("--all", "take_all", is_flag=True, help="Keep the HTML pages of any site (generic extraction).")
def import_warc(locations: tuple[str, ...], db: str | None, sources: tuple[str, ...], take_all: bool) -> None:
    """Import article pages from WARC files (gzipped or not, local paths or http(s) URLs).

    Pages of the known sources' article URLs are extracted and stored as a crawl stores them;
    one run record covers the import. Exit 0 when every file was read, 3 when a file could
    not be read, 1 on a clear error before reading.

    Example: newsarchive import-warc captures/*.warc.gz --source tass
    """
    from pathlib import Path

    from newsarchive.warcfiles import is_url
    from newsarchive.warcimport import import_warcs

    for location in locations:
        if not is_url(location) and not Path(location).is_file():
            raise click.BadParameter(f"{location!r} is neither a file nor an http(s) URL",
                                     param_hint="PATH_OR_URL")
    try:
        code = import_warcs(locations, sources=sources, take_all=take_all, db=db)
    except NewsarchiveError as exc:
        click.echo(f"error: {one_line(str(exc))}", err=True)
        sys.exit(1)
    sys.exit(code)


@click.group()
def backfill() -> None:
    """Backfill the archive from web archives (Common Crawl's CC-NEWS)."""


@backfill.command("cc-news")
@click.option("--since", required=True, metavar="YYYY-MM", help="First month.")
@click.option("--until", required=True, metavar="YYYY-MM", help="Last month (inclusive).")
@click.option("--source", "sources", multiple=True, help="Keep this source's article pages (repeatable) "
              "[all known sources].")
@click.option("--all", "take_all", is_flag=True, help="Keep the HTML pages of any site (generic extraction).")
@db_option
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Worker processes on this machine.")
@click.option("--claim-timeout", type=click.FloatRange(min=1), default=600.0, show_default=True,
              help="Seconds without a heartbeat after which another worker takes a file over.")
@click.option("--progress-interval", type=click.FloatRange(min=0.1),
              help="Seconds between progress lines [1 on a terminal, else 30].")
@click.option("--list", "list_only", is_flag=True, help="Only print how many files each month has.")
def cc_news(since: str, until: str, sources: tuple[str, ...], take_all: bool, db: str | None, workers: int,
            claim_timeout: float, progress_interval: float | None, list_only: bool) -> None:
    """Import a period of Common Crawl's CC-NEWS, resumably, shareable between machines.

    Lists each month's WARC files (NEWSARCHIVE_CCNEWS_URL, default https://data.commoncrawl.org/),
    streams each file, keeps the sources' article pages (filtered on the record's URL before
    any HTML is read) and stores them as a crawl does. A rerun skips finished files; machines
    sharing a PostgreSQL archive share the work. Exit 0 when every file was imported, 3 when a
    file kept failing (listed at the end), 4 when interrupted, 1 on a clear error.

    Example: newsarchive backfill cc-news --since 2017-01 --until 2017-03 --source tass
    """
    from newsarchive.backfill import BackfillOptions, run_backfill

    if list_only:
        _list_months(since, until)
        return
    opts = BackfillOptions(since=since, until=until, sources=sources, take_all=take_all, db=db,
                           workers=workers, claim_timeout=claim_timeout, progress_interval=progress_interval)
    try:
        result = run_backfill(opts)
    except NewsarchiveError as exc:
        click.echo(f"error: {one_line(str(exc))}", err=True)
        sys.exit(1)
    sys.exit(result.exit_code)


def _list_months(since: str, until: str) -> None:
    from newsarchive.backfill import base_url, list_months, months
    from newsarchive.warcfiles import FetchError

    try:
        by_month = list_months(base_url(), months(since, until))
    except (NewsarchiveError, FetchError) as exc:
        click.echo(f"error: {one_line(str(exc))}", err=True)
        sys.exit(1 if not isinstance(exc, FetchError) else 3)
    for month, paths in by_month.items():
        click.echo(f"{month}  {len(paths)} files")
    click.echo(f"total    {sum(len(p) for p in by_month.values())} files")


COMMANDS: list[click.Command] = [import_warc, backfill]
