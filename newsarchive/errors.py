"""Exceptions raised by newsarchive.

    NewsarchiveError
    ├── ExtractionError   input that is not an HTML document at all
    ├── StorageError      the archive cannot be opened, migrated or written
    └── ConfigError       bad settings, arguments or schedule files
"""


class NewsarchiveError(Exception):
    """Base class of every error newsarchive raises on purpose."""


class ExtractionError(NewsarchiveError):
    """The input cannot be read as an HTML page (binary, empty, not markup)."""


class StorageError(NewsarchiveError):
    """The archive database cannot be opened, migrated or written."""


class ConfigError(NewsarchiveError):
    """A setting, argument or configuration file is invalid."""
