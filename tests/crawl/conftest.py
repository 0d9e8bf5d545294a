"""Fixtures of the crawl tests (helpers live in crawlkit.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from crawlkit import Site


@pytest.fixture
def site() -> Iterator[Site]:
    s = Site().start()
    yield s
    s.stop()
