"""Where things live by default, and how the environment overrides it."""

from __future__ import annotations

import os
from pathlib import Path

#: the repository (or installed tree) root: data/ sits beside the package
PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("NEWSARCHIVE_DATA_DIR", PROJECT_ROOT / "data"))
SAMPLES_DIR = PROJECT_ROOT / "data" / "samples"


def default_db_url() -> str:
    """``NEWSARCHIVE_DB`` if set, else the SQLite file ``data/archive.sqlite``."""
    return os.environ.get("NEWSARCHIVE_DB") or f"sqlite:///{DATA_DIR / 'archive.sqlite'}"


def warc_dir() -> Path:
    """Where WARC files go: ``NEWSARCHIVE_WARC_DIR``, else ``data/warc``."""
    return Path(os.environ.get("NEWSARCHIVE_WARC_DIR", DATA_DIR / "warc"))
