"""``newsarchive extract``: run the extractor over saved pages and print JSON lines."""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Iterator
from pathlib import Path

import click

from newsarchive.errors import ExtractionError

PAGE_SUFFIXES = (".html", ".htm", ".html.gz", ".htm.gz")


def _pages(paths: tuple[Path, ...]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            yield from sorted(
                p for p in path.rglob("*") if p.is_file() and p.name.lower().endswith(PAGE_SUFFIXES)
            )
        else:
            yield path


def _read(path: Path) -> bytes:
    data = path.read_bytes()
    if path.name.lower().endswith(".gz") or data[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as exc:
            raise ExtractionError(f"cannot decompress: {exc}") from None
    return data


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
    for path in _pages(paths):
        try:
            article = extract(_read(path), url)
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
