"""The ``newsarchive`` command: a click group; each area registers its commands from its module."""

from __future__ import annotations

import logging

import click

from newsarchive import __version__

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.group(context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, prog_name="newsarchive")
@click.option("-v", "--verbose", count=True, help="More log output on stderr (-vv for debug).")
def main(verbose: int) -> None:
    """Crawl news wire services into a clean, deduplicated, queryable archive."""
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def _register() -> None:
    # Imported here so each area owns its module and `newsarchive --help` stays cheap.
    from newsarchive.cli import archive_cmd, browse_cmd, crawl_cmd, extract_cmd, schedule_cmd

    for module in (extract_cmd, crawl_cmd, archive_cmd, browse_cmd, schedule_cmd):
        for command in module.COMMANDS:
            main.add_command(command)


_register()
