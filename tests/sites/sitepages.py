"""Helpers for the per-site tests: our own fixture pages under tests/fixtures/sites/<key>/."""

from __future__ import annotations

from pathlib import Path

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "sites"


def page(key: str, name: str) -> bytes:
    """The bytes of one fixture page we wrote to mirror the site's markup."""
    return (FIXTURES / key / name).read_bytes()
