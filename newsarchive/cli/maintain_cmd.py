"""Maintenance commands: ``reextract`` and ``db check`` (added to the ``db`` group)."""

from __future__ import annotations

import sys
import time
from typing import Any

import click

from newsarchive.cli.archive_cmd import _open, db_group, db_option
from newsarchive.errors import NewsarchiveError

#: seconds between progress lines: a terminal's line is rewritten in place, a log gets a line
PROGRESS_EVERY_TTY = 0.5
PROGRESS_EVERY_LOG = 10.0


def _quiet(ctx: click.Context) -> bool:
    # -q on the group, where the CLI has one
    return bool(ctx.find_root().params.get("quiet"))


class _ProgressLine:
    """A progress line on stderr at a bounded rate: rewritten in place on a terminal."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.every = PROGRESS_EVERY_TTY if self.tty else PROGRESS_EVERY_LOG
        self.last = time.monotonic()
        self.shown = False

    def show(self, line: str, last: bool) -> None:
        now = time.monotonic()
        if now - self.last < self.every and not last:
            return
        self.last = now
        click.echo(f"\r{line}" if self.tty else line, err=True, nl=not self.tty)
        self.shown = True

    def reextract(self, done: int, total: int, report: Any) -> None:
        c = report.counts
        self.show(f"reextract: {done:,}/{total:,} checked, {c['changed']:,} "
                  f"{'would change' if report.dry_run else 'changed'}, {c['refused']:,} refused, "
                  f"{c['failed']:,} failed", done >= total)

    def check(self, stage: str, done: int, total: int) -> None:
        self.show(f"db check: {done:,}/{total:,} {stage}", done >= total)
        if done >= total and self.tty:
            self.close()
            self.shown = False

    def close(self) -> None:
        if self.tty and self.shown:
            click.echo("", err=True)


@click.command()
@click.option("--source", help="Only this source.")
@click.option("--dry-run", is_flag=True, help="Write nothing; print what would change, field by field.")
@click.option("--no-progress", is_flag=True, help="No progress lines on stderr.")
@db_option
@click.pass_context
def reextract(ctx: click.Context, source: str | None, dry_run: bool, no_progress: bool,
              db: str | None) -> None:
    """Re-run today's extractor over the archived raw responses (WARC).

    Each article is extracted with its stored source's site profile (also for a crawl of a
    mirror or through --base-url). A new current version is written only where a field changed
    AND no field got worse: a field emptied, a time losing its zone or its time of day, fewer
    topics, authors or links, a body cut to under half. Those are reported, not written. The
    old version is always kept.

    \b
    Exit status: 0 done (refused articles included), 1 when a raw response could not be read
    or the extractor failed on a page (see the log).
    Example: newsarchive reextract --source tass --dry-run
    """
    from newsarchive.reextract import reextract as run_reextract

    quiet = _quiet(ctx)
    progress = None if (no_progress or quiet) else _ProgressLine()
    with _open(db, read_only=True) as archive:
        try:
            report = run_reextract(archive, source=source, dry_run=dry_run,
                                   progress=progress.reextract if progress else None)
        except NewsarchiveError as exc:
            raise click.ClickException(str(exc)) from None
        finally:
            if progress is not None:
                progress.close()
    for line in report.lines():
        click.echo(line)
    counts = dict(report.counts)
    if dry_run:
        counts = {("would_change" if k == "changed" else k): v for k, v in counts.items()}
    if not quiet or counts["failed"]:
        click.echo("  ".join(f"{k} {v}" for k, v in counts.items()), err=True)
    if counts["failed"]:
        raise click.ClickException(f"{counts['failed']} record(s) could not be re-extracted (see the log)")


@db_group.command("check")
@click.option("--repair", is_flag=True, help="Rebuild what can be rebuilt (current-version pointers, "
              "full-text index, links, topics, near-duplicate keys), then check again.")
@click.option("--skip-warc", is_flag=True, help="Do not read every WARC record (the slowest check).")
@click.option("--no-progress", is_flag=True, help="No progress lines on stderr.")
@db_option
@click.pass_context
def db_check(ctx: click.Context, repair: bool, skip_warc: bool, no_progress: bool, db: str | None) -> None:
    """Check the archive: integrity, foreign keys, current versions, full-text index, WARC
    pointers, near-duplicate tables; print the rows per table.

    \b
    Exit status: 0 when no problem is left, 1 with the list of problems otherwise.
    Example: newsarchive db check --repair
    """
    from newsarchive.storage.check import check_archive

    quiet = _quiet(ctx)
    progress = None if (no_progress or quiet) else _ProgressLine()
    with _open(db, read_only=True) as archive:
        try:
            result = check_archive(archive.engine, check_warc=not skip_warc, repair=repair,
                                   progress=progress.check if progress else None)
        except NewsarchiveError as exc:
            raise click.ClickException(str(exc)) from None
        finally:
            if progress is not None:
                progress.close()
    if not quiet:
        width = max(map(len, result.counts), default=0)
        for table, count in result.counts.items():
            click.echo(f"{table:{width}}  {count:>10,}")
    for line in result.repaired:
        click.echo(f"repaired {line}", err=True)
    for line in result.notes:
        click.echo(f"note: {line}", err=True)
    for problem in result.problems:
        click.echo(f"PROBLEM {problem.count:,} {problem.line()}", err=True)
    if result.problems:
        hint = "" if repair or not any(p.repairable for p in result.problems) else " (try --repair)"
        raise click.ClickException(f"{len(result.problems)} problem(s) found{hint}")
    if not quiet:
        click.echo("no problems found", err=True)


COMMANDS: list[click.Command] = [reextract]
