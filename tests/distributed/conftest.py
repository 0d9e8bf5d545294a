"""Fixtures of the distributed-crawl tests (helpers live in clusterkit.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from clusterkit import RedisServer


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer().start()
    yield server
    server.destroy()
