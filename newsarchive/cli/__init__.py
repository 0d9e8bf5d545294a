"""The ``newsarchive`` command: a click group; each area registers its commands from its module."""

from __future__ import annotations

import click

from newsarchive import __version__
from newsarchive.cli.common import Group, add_verbosity, group_verbosity

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


ENVIRONMENT = """\b
Environment:
  NEWSARCHIVE_DB          the archive's SQLAlchemy URL (--db) [data/archive.sqlite]
  NEWSARCHIVE_LOG_LEVEL   log level of every command (--log-level)
  NEWSARCHIVE_DATA_DIR    where data/ lives (archive, jobs, locks, journal)
  NEWSARCHIVE_WARC_DIR    where raw responses go [data/warc]
  NEWSARCHIVE_CONTACT     contact URL or mailto: sent in the crawler's User-Agent
  NEWSARCHIVE_SOURCES     TOML file of your own outlets (crawl/sources --sources)
  NEWSARCHIVE_REDIS       Redis URL: crawl distributed over workers (crawl/worker/status --redis)

\b
Exit status: 0 ok; 1 a clear error (archive missing or unreadable, unknown name);
2 a bad option; crawl: 3 failed, 4 interrupted (docs/crawling.md).
"""


@click.group(cls=Group, context_settings=CONTEXT_SETTINGS, epilog=ENVIRONMENT)
@click.version_option(__version__, prog_name="newsarchive")
@click.option("-v", "--verbose", count=True, help="More log output on stderr (-vv for debug); "
              "also accepted after the command name.")
@click.option("-q", "--quiet", count=True, help="Less log output on stderr (-qq: only critical).")
def main(verbose: int, quiet: int) -> None:
    """Crawl news wire services into a clean, deduplicated, queryable archive."""
    group_verbosity(verbose, quiet)


def _register() -> None:
    # Imported here so each area owns its module and `newsarchive --help` stays cheap.
    from newsarchive.cli import (
        archive_cmd,
        backfill_cmd,
        browse_cmd,
        crawl_cmd,
        extract_cmd,
        maintain_cmd,
        schedule_cmd,
    )

    for module in (extract_cmd, crawl_cmd, archive_cmd, browse_cmd, maintain_cmd, schedule_cmd, backfill_cmd):
        for command in module.COMMANDS:
            # -v/-q/--log-level on every command, also those that do not declare them
            add_verbosity(command)
            main.add_command(command)


_register()
