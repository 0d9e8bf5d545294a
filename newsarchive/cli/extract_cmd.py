"""PLACEHOLDER: commands of this area are added by its owner."""

import click

COMMANDS: list[click.Command] = []
