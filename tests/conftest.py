"""Fixtures shared by the whole suite."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from urllib.parse import quote

import pytest


def _pg_unavailable(reason: str) -> None:
    # CI sets NEWSARCHIVE_REQUIRE_PG: there a missing server is a failure, never a quiet skip.
    if os.environ.get("NEWSARCHIVE_REQUIRE_PG"):
        pytest.fail(f"PostgreSQL required but {reason}")
    pytest.skip(f"PostgreSQL tests SKIPPED: {reason} (bash .ci/run starts a server)")


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema, dropped after the test."""
    base = os.environ.get("NEWSARCHIVE_TEST_PG_URL")
    if not base:
        _pg_unavailable("NEWSARCHIVE_TEST_PG_URL is not set")
    import sqlalchemy as sa

    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base)
    try:
        with admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    except sa.exc.OperationalError as exc:
        admin.dispose()
        _pg_unavailable(f"the server at NEWSARCHIVE_TEST_PG_URL is unreachable ({exc.orig})")
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options={quote(f'-csearch_path={schema}')}"
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()
