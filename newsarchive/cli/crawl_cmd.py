"""Crawl commands: ``crawl``, ``sources`` and ``demo``."""

from __future__ import annotations

import sys
from datetime import date

import click

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


@click.command()
@click.argument("source")
@click.option("--db", envvar="NEWSARCHIVE_DB", help="SQLAlchemy URL of the archive [data/archive.sqlite].")
@click.option("--base-url", help="Crawl a copy of the site at this URL (e.g. http://127.0.0.1:8000).")
@click.option("--max-articles", type=click.IntRange(min=1), help="Fetch at most N article pages.")
@click.option("--since", callback=_iso_date, help="Backfill: only articles published on or after this date.")
@click.option("--until", callback=_iso_date, help="Backfill: only articles published on or before this date.")
@click.option("--refetch", is_flag=True, help="Fetch known articles again, ignoring the revisit policy.")
@click.option("--resume", is_flag=True, help="Continue the interrupted crawl of this source (data/jobs/).")
@click.option("--summary-json", type=click.Path(dir_okay=False), help="Also write the run summary as JSON.")
@click.option("-s", "--set", "overrides", multiple=True, metavar="KEY=VALUE", help="Extra Scrapy setting.")
@click.option("--log-level", type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"]), help="Log level.")
def crawl(
    source: str, db: str | None, base_url: str | None, max_articles: int | None, since: str | None,
    until: str | None, refetch: bool, resume: bool, summary_json: str | None, overrides: tuple[str, ...],
    log_level: str | None,
) -> None:
    """Crawl one wire service into the archive.

    Exit 0 when pages were fetched with few errors; 1 on a clear error before crawling;
    3 when nothing could be fetched, the site blocked us or errors passed the threshold;
    4 when interrupted (continue with --resume).

    Example: newsarchive crawl tass --max-articles 50 --since 2026-11-01
    """
    from newsarchive.crawl.runner import CrawlOptions, main_safe

    settings = {}
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{item!r} is not KEY=VALUE", param_hint="-s/--set")
        settings[key] = value
    if base_url is not None:
        from urllib.parse import urlsplit

        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise click.BadParameter(f"{base_url!r} is not an http(s) URL", param_hint="--base-url")
    if since and until and since > until:
        raise click.BadParameter("--since is after --until", param_hint="--since")
    opts = CrawlOptions(
        source=source, db=db, base_url=base_url, max_articles=max_articles, since=since, until=until,
        refetch=refetch, resume=resume, summary_json=summary_json, settings=settings, log_level=log_level,
    )
    sys.exit(main_safe(opts))


@click.command()
def sources() -> None:
    """List the wire services and how each one discovers articles.

    Example: newsarchive sources
    """
    from scrapy.spiderloader import SpiderLoader

    from newsarchive.crawl.runner import project_settings

    loader = SpiderLoader.from_settings(project_settings())
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
        click.echo(f"{name:10} {info.get('base_url', '')}")
        click.echo(f"{'':10} {'; '.join(methods) or 'no declared discovery'}")


@click.command()
@click.option("--db", help="SQLAlchemy URL of the archive [default: data/archive.sqlite].")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="CSV file [default: data/demo.csv].")
def demo(db: str | None, output: str | None) -> None:
    """Offline demo: serve the bundled sample site, crawl it twice with the TASS spider, export CSV.

    Example: newsarchive demo
    """
    from newsarchive.demo import run_demo

    try:
        code = run_demo(db=db, csv_path=output)
    except NewsarchiveError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    sys.exit(code)


COMMANDS: list[click.Command] = [crawl, sources, demo]
