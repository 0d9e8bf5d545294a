"""``newsarchive schedule``: run crawls on cron schedules in one long-lived process."""

from __future__ import annotations

import logging
import sys
from datetime import datetime

import click

from newsarchive.cli.common import verbosity_options
from newsarchive.errors import ConfigError
from newsarchive.schedule import Scheduler, describe, load_config


def _sources() -> set[str]:
    from newsarchive.crawl.loader import SourceLoader
    from newsarchive.crawl.runner import project_settings

    loader = SourceLoader.from_settings(project_settings())
    # the base NewsSpider has no name, so only crawlable sites are listed
    return set(loader.list())


def _crawl_options() -> set[str] | None:
    # the crawl command's own long options, so a typo in the schedule fails at load time
    from newsarchive.cli.crawl_cmd import crawl

    if not crawl.params:
        return None
    return {opt for param in crawl.params for opt in param.opts if opt.startswith("--")}


@click.command()
@verbosity_options(default=lambda: logging.INFO)
@click.option("--config", "config_path", default="schedule.toml", show_default=True,
              type=click.Path(dir_okay=False), help="Schedule file (TOML, see docs/scheduling.md).")
@click.option("--dry-run", is_flag=True, help="Check the file, print each source's next due times and "
              "command, and exit.")
@click.option("--next", "count", default=3, show_default=True, type=click.IntRange(1, 100),
              help="How many due times --dry-run prints per source.")
@click.pass_context
def schedule(ctx: click.Context, config_path: str, dry_run: bool, count: int) -> None:
    """Start each source's crawl on its cron expression, one child process per run.

    Two runs of one source never overlap (a lock file per source under data/locks/,
    freed by the kernel if the holder dies). SIGTERM or Ctrl-C stops the children
    cleanly. Each start, end, exit status and skipped run is logged and appended to
    the journal (data/schedule-runs.jsonl). Each crawl gets the archive's URL in
    NEWSARCHIVE_DB, never on its command line; --dry-run shows it with the password masked.

    \b
    Example schedule.toml:
        db = "sqlite:///data/archive.sqlite"
        [sources.tass]
        cron = "0 */3 * * *"
        max_articles = 500

    \b
    Example:
        newsarchive schedule --config schedule.toml --dry-run
    """
    try:
        sources = _sources()
    except Exception as exc:  # a broken spider module: say so in one line, not a traceback
        click.echo(f"newsarchive schedule: error: cannot load the spiders: {type(exc).__name__}: {exc}",
                   err=True)
        ctx.exit(1)
    try:
        config = load_config(config_path, sources=sources, crawl_options=_crawl_options())
    except ConfigError as exc:
        click.echo(f"newsarchive schedule: error: {exc}", err=True)
        ctx.exit(2)
    if dry_run:
        for line in describe(config, datetime.now().astimezone(config.tz), count):
            click.echo(line)
        return
    # the scheduler is a service: its start/stop/skip lines (INFO, its default level) belong
    # in the service's log on stderr
    ctx.exit(Scheduler(config, out=sys.stdout).run())


COMMANDS: list[click.Command] = [schedule]
