"""``newsarchive extract``: run the extractor over saved pages and print JSON lines."""

from __future__ import annotations

import json
from pathlib import Path

import click

from newsarchive.errors import ExtractionError
from newsarchive.extract.decode import page_files, read_page


@click.command("extract")
@click.argument(
    "paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path), metavar="FILE_OR_DIR..."
)
@click.option("--url", help="URL the page was fetched from (picks the site profile, resolves links).")
def extract_command(paths: tuple[Path, ...], url: str | None) -> None:
    """Extract articles from saved pages (.html, .html.gz) and print one JSON object per line.

    Directories are searched recursively. A file that cannot be read as an article page
    gets one line on stderr; the exit status is 1 when any file failed.

    Example: newsarchive extract page.html --url https://tass.com/politics/925235
    """
    from newsarchive.extract import extract

    failed = done = 0
    for path in page_files(paths):
        try:
            article = extract(read_page(path), url)
        except ExtractionError as exc:
            failed += 1
            click.echo(f"{path}: {exc}", err=True)
            continue
        except OSError as exc:
            failed += 1
            click.echo(f"{path}: cannot read: {exc.strerror or exc}", err=True)
            continue
        except Exception as exc:  # a bug must cost one file, not the run, and show no traceback
            failed += 1
            click.echo(f"{path}: extraction failed: {type(exc).__name__}: {exc}", err=True)
            continue
        done += 1
        click.echo(json.dumps(article.to_dict(), ensure_ascii=False))
    if failed:
        click.echo(f"{failed} of {failed + done} file(s) failed", err=True)
        raise SystemExit(1)
    if not done:
        click.echo("no .html or .html.gz pages found", err=True)
        raise SystemExit(1)


COMMANDS: list[click.Command] = [extract_command]
