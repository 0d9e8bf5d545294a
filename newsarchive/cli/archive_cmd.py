"""Archive commands: ``db upgrade``, ``search``, ``export``, ``stats``, ``story`` (more in maintain_cmd)."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import click

from newsarchive.cli.common import (
    check_names,
    check_since_until,
    format_option,
    open_archive,
    write_records,
)
from newsarchive.cli.common import db_option as db_option
from newsarchive.errors import NewsarchiveError

F = TypeVar("F", bound=Callable[..., Any])


def _bound(end: bool) -> Callable[[click.Context, click.Parameter, str | None], datetime | None]:
    def convert(ctx: click.Context, param: click.Parameter, value: str | None) -> datetime | None:
        if value is None:
            return None
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise click.BadParameter(f"{value!r} is not an ISO date (YYYY-MM-DD) or date-time") from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        if end and len(value) == 10:
            parsed += timedelta(days=1)  # --until 2026-11-27 includes that whole day
        return parsed

    return convert


def filter_options(func: F) -> F:
    """--since/--until/--source/--topic/--language/--wire, shared by search and export."""
    func = click.option("--wire", help="Only copy credited to this agency (e.g. Reuters).")(func)
    func = click.option("--language", help="Only articles in this language (en also matches en-GB).")(func)
    func = click.option("--topic", help="Only articles with this topic (case-insensitive).")(func)
    func = click.option("--source", help="Only this source (site key such as tass).")(func)
    func = click.option("--until", callback=_bound(True), help="Published before the end of this date.")(func)
    func = click.option("--since", callback=_bound(False), help="Published on or after this date.")(func)
    return func


def _open(db: str | None, *, read_only: bool = False) -> Any:
    """The archive; a read-only command refuses one that does not exist (one line, exit 1)."""
    return open_archive(db, read_only=read_only)


@click.group("db")
def db_group() -> None:
    """Manage the archive database."""


@db_group.command("upgrade")
@db_option
@click.option("--revision", default="head", show_default=True, help="Target migration.")
def db_upgrade(db: str | None, revision: str) -> None:
    """Create or migrate the archive schema (also done automatically on first use).

    Example: newsarchive db upgrade --db postgresql+psycopg://user:pw@localhost/news
    """
    from newsarchive.storage import Archive
    from newsarchive.storage import engine as engines

    try:
        with Archive(db, migrate=False) as archive:
            before = engines.current_revision(archive.engine)
            engines.with_retry(archive.url, lambda: engines.upgrade(archive.engine, revision))
            after = engines.current_revision(archive.engine)
            where = engines.describe(archive.url)
    except NewsarchiveError as exc:
        raise click.ClickException(str(exc)) from None
    except Exception as exc:
        raise click.ClickException(f"migration failed: {exc}") from None
    click.echo(f"{where}: schema at {after} (was {before or 'empty'})", err=True)


SEARCH_COLUMNS = ("article_id", "published", "source", "headline", "canonical_url", "snippet")


@click.command()
@click.argument("query")
@filter_options
@click.option("--limit", type=click.IntRange(1, 10_000), default=20, show_default=True)
@format_option
@db_option
def search(query: str, since: datetime | None, until: datetime | None, source: str | None,
           topic: str | None, language: str | None,
           wire: str | None, limit: int, fmt: str, db: str | None) -> None:
    """Full-text search over headline and body of each article's current version.

    \b
    Syntax: words (all must match), "a phrase", a OR b, -excluded.
    A query matching more than 5,000 articles ranks only the newest 5,000 of them.
    Example: newsarchive search '"foreign ministry" syria -turkey' --since 2026-01-01 --format json
    """
    check_since_until(since, until)
    with _open(db, read_only=True) as archive:
        check_names(archive, source=source, topic=topic, language=language)
        try:
            rows = archive.search(query, since=since, until=until, source=source, topic=topic,
                                  language=language, wire=wire, limit=limit)
        except NewsarchiveError as exc:
            raise click.ClickException(str(exc)) from None
    if fmt == "json":
        json.dump(rows, sys.stdout, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
    elif fmt == "csv":
        writer = csv.DictWriter(sys.stdout, fieldnames=[*SEARCH_COLUMNS, "topics"], extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            # a JSON array, which splits back exactly (a topic may hold "; ")
            writer.writerow({**row, "topics": json.dumps(row["topics"], ensure_ascii=False)})
    else:
        for row in rows:
            published = (row["published"] or "")[:16]
            click.echo(f"{row['article_id']:>7}  {published:16}  {row['source'] or '':8}  {row['headline']}")
            click.echo(f"         {row['canonical_url']}")
            click.echo(f"         {' '.join((row['snippet'] or '').split())}")
        click.echo(f"{len(rows)} result(s)", err=True)


@click.command()
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl", "parquet"]), default="csv",
              show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, allow_dash=True), default="-",
              help="Output file ('-' for stdout).")
@filter_options
@click.option("--no-progress", is_flag=True, help="No progress bar even on a terminal.")
@db_option
def export(fmt: str, output: str, since: datetime | None, until: datetime | None, source: str | None,
           topic: str | None, language: str | None,
           wire: str | None, no_progress: bool, db: str | None) -> None:
    """Export the current version of each article, one row per article, streaming.

    \b
    Example: newsarchive export --format csv -o tass.csv --source tass --since 2026-11-01
    """
    from newsarchive.storage import export as exporter

    if fmt == "parquet" and output == "-" and sys.stdout.isatty():
        raise click.UsageError("refusing to write binary Parquet to a terminal: use -o FILE")
    check_since_until(since, until)
    try:
        exporter.check_writable(output)  # before any work (issue 4: fail before exporting)
        with _open(db, read_only=True) as archive:
            check_names(archive, source=source, topic=topic, language=language)
            show = not no_progress and sys.stderr.isatty()
            wanted: dict[str, Any] = {"since": since, "until": until, "source": source, "topic": topic,
                                      "language": language, "wire": wire}
            total = archive.count_articles(**wanted) if show else None
            written = exporter.export_archive(archive, fmt, output, **wanted, progress=show, total=total)
    except NewsarchiveError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"exported {written} article(s) as {fmt} to {'stdout' if output == '-' else output}", err=True)


@click.command()
@click.option("--source", help="Only this source.")
@click.option("--since", callback=_bound(False), help="Only days on or after this date.")
@click.option("--recent-runs", type=click.IntRange(2, 100), default=5, show_default=True,
              help="Runs the drift alarm compares the latest run with.")
@format_option
@db_option
def stats(source: str | None, since: datetime | None, recent_runs: int, fmt: str, db: str | None) -> None:
    """Per source per day: articles, updates, duplicates, skipped, errors; plus drift alarms.

    --format json gives {"days": [...], "alarms": [...]}; csv gives the day rows.

    A drift alarm flags a source whose field fill rate fell sharply against its recent runs
    (layout change) or whose blocked/failed share rose. Exit status 0 either way.

    Example: newsarchive stats --source tass --since 2026-11-01
    """
    with _open(db, read_only=True) as archive:
        check_names(archive, source=source)
        result = archive.stats(source=source, since=since, recent_runs=recent_runs)
    if fmt == "json":
        json.dump(result, sys.stdout, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
        return
    header = ("source", "day", "articles", "updates", "duplicates", "skipped", "errors", "runs")

    def table(rows: list[Any]) -> None:
        click.echo("  ".join(f"{h:>10}" if i > 1 else f"{h:12}" for i, h in enumerate(header)))
        for row in rows:
            click.echo("  ".join(f"{row[h]:>10}" if i > 1 else f"{row[h]:12}" for i, h in enumerate(header)))

    # csv: the day rows; the alarms, which are not rows of that table, go to stderr
    write_records(result["days"], header, fmt, table)
    for alarm in result["alarms"]:
        click.echo(f"DRIFT  {alarm['message']}", err=fmt == "csv")
    if not result["alarms"]:
        click.echo("no drift alarms", err=True)


STORY_COLUMNS = ("article_id", "earliest", "copy_of", "verbatim", "source", "host", "wire", "published",
                 "first_seen", "contains", "words", "longest", "headline", "canonical_url", "cluster_id")


@click.command()
@click.argument("article")
@format_option
@db_option
def story(article: str, fmt: str, db: str | None) -> None:
    """Every copy of one story across outlets: ARTICLE is an article id or an archived URL.

    \b
    Lists the articles of ARTICLE's near-duplicate cluster, earliest first (by published time,
    then first seen): outlet (source and host), wire credit, published (the page's own time),
    first seen (UTC), and how much of the longest copy each carries (the share of its word
    3-shingles, in percent). The earliest is marked with *; the others are its copies (copy_of).
    A page with the very text of an archived copy at another URL (archived once) is marked =.
    Example: newsarchive story 1234 --format json
    """
    is_id = article.isascii() and article.isdigit()
    if not is_id and "://" not in article:
        raise click.BadParameter(f"{article!r} is neither an article id nor a URL", param_hint="'ARTICLE'")
    key: int | str = int(article) if is_id else article
    with _open(db, read_only=True) as archive:
        try:
            copies = archive.story(key)
        except ValueError as exc:  # a URL that does not parse, e.g. http://[bad
            raise click.BadParameter(f"{article!r} is not a URL we can read: {exc}",
                                     param_hint="'ARTICLE'") from None
    if not copies:
        what = f"id {key}" if isinstance(key, int) else f"at {article}"
        raise click.ClickException(f"no article {what} in this archive")
    rows = [c.to_dict() for c in copies]

    def table(rows: list[Any]) -> None:
        click.echo(f"{'id':>8}    {'published':16}  {'first seen (UTC)':16}  {'has':>4}  {'wire':10}  outlet")
        for row in rows:
            mark = "*" if row["earliest"] else "=" if row["verbatim"] else " "
            published = (row["published"] or "unknown")[:16].replace("T", " ")
            seen = row["first_seen"][:16].replace("T", " ")
            click.echo(f"{row['article_id']:>8} {mark}  {published:16}  {seen:16}  {row['contains']:>3.0f}%  "
                       f"{row['wire'] or '-':10}  {row['source']} ({row['host']})")
            click.echo(f"{'':14}{row['headline'] or ''}")
            click.echo(f"{'':14}{row['canonical_url']}")

    write_records(rows, STORY_COLUMNS, fmt, table)
    outlets = len({c.source for c in copies})
    click.echo(f"{len(copies)} copy(ies) from {outlets} outlet(s); * the earliest; = the same text as the "
               "copy above, archived once; has: share of the longest copy's text", err=True)


COMMANDS: list[click.Command] = [db_group, search, export, stats, story]
