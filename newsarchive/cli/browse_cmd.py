"""``newsarchive browse``: the archive in Datasette, with the metadata shipped in the package."""

from __future__ import annotations

import importlib.util
import json
import tempfile
from importlib import resources
from pathlib import Path
from typing import Any

import click

from newsarchive.cli.common import db_option
from newsarchive.errors import NewsarchiveError

#: the database name the shipped metadata is written for (the default archive's file name)
METADATA_DATABASE = "archive"
#: Datasette's time limits for a local analyst: a query over every article of a 300k archive
#: takes about a second (Datasette stops at 1 s by default); facets stay short, as each page
#: computes four of them, and a facet that times out is only left off the page
LIMITS = ("--setting", "sql_time_limit_ms", "30000", "--setting", "facet_time_limit_ms", "1000")


def datasette_metadata(database: str = METADATA_DATABASE) -> dict[str, Any]:
    """The shipped Datasette metadata, for a database Datasette names ``database`` (its file stem)."""
    text = resources.files("newsarchive").joinpath("datasette.json").read_text(encoding="utf-8")
    metadata: dict[str, Any] = json.loads(text)
    metadata["databases"] = {database: metadata["databases"][METADATA_DATABASE]}
    return metadata


def sqlite_path(url: str) -> Path:
    """The file of an SQLite archive URL; a clear error for anything Datasette cannot open."""
    import sqlalchemy as sa

    try:
        parsed = sa.engine.make_url(url)
    except sa.exc.ArgumentError:
        raise click.ClickException(f"{url!r} is not a database URL") from None
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        raise click.ClickException(
            "Datasette reads SQLite files only: for a PostgreSQL archive see docs/analysis.md "
            "(the same current_articles view is there)")
    path = Path(parsed.database)
    if not path.is_file():
        raise click.ClickException(f"no archive at {path}: crawl into it first, or pass --db")
    return path


@click.command()
@db_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to serve on.")
@click.option("-p", "--port", type=click.IntRange(0, 65535), default=8001, show_default=True)
@click.option("--metadata-only", is_flag=True, help="Print the Datasette metadata as JSON and exit.")
def browse(db: str | None, host: str, port: int, metadata_only: bool) -> None:
    """Explore the archive in Datasette: current articles with search and facets, canned queries.

    Needs Datasette (pip install 'newsarchive[browse]', which brings the datasette-vega plugin
    too: the "articles per day" query then offers a chart).

    Example: newsarchive browse --db sqlite:///data/archive.sqlite --port 8001
    """
    from newsarchive.config import default_db_url

    path = sqlite_path(db or default_db_url())
    metadata = datasette_metadata(path.stem)
    if metadata_only:
        click.echo(json.dumps(metadata, ensure_ascii=False, indent=1))
        return
    if importlib.util.find_spec("datasette") is None:
        raise click.ClickException("browse needs Datasette: pip install 'newsarchive[browse]'")
    from newsarchive.storage import Archive

    try:
        # brings an older archive up to the schema the metadata describes (view, FTS declaration)
        Archive(f"sqlite:///{path}").close()
    except NewsarchiveError as exc:
        raise click.ClickException(str(exc)) from None
    if importlib.util.find_spec("datasette_vega") is None:
        click.echo("no charts: the datasette-vega plugin is not installed", err=True)
    from datasette.cli import serve

    with tempfile.TemporaryDirectory(prefix="newsarchive-browse-") as folder:
        meta = Path(folder) / "metadata.json"
        meta.write_text(json.dumps(metadata, ensure_ascii=False), encoding="utf-8")
        click.echo(f"serving {path} on http://{host}:{port}/ (Ctrl-C stops)", err=True)
        # in this process, so Ctrl-C or a signal stops the server and the metadata file goes with it
        serve.main([str(path), "--metadata", str(meta), "--host", host, "--port", str(port), *LIMITS],
                   prog_name="newsarchive browse", standalone_mode=False)


COMMANDS: list[click.Command] = [browse]
