"""newsarchive.redact: passwords masked in URLs, messages and every log record."""

from __future__ import annotations

import io
import logging

import pytest

from newsarchive import redact


@pytest.mark.parametrize(("url", "shown"), [
    ("postgresql+psycopg://reader:S3cretPw@db.example.org:5432/news",
     "postgresql+psycopg://reader:***@db.example.org:5432/news"),
    ("postgresql://reader:p%40ss%2Fword@host/news", "postgresql://reader:***@host/news"),
    # SQLAlchemy sorts the query parameters
    ("postgresql://host/news?user=reader&password=S3cretPw", "postgresql://host/news?password=***&user=reader"),
    ("sqlite:///data/archive.sqlite", "sqlite:///data/archive.sqlite"),
    # what SQLAlchemy cannot parse is cut conservatively
    ("postgresql://reader:S3cretPw@[::1:1/news", "postgresql://reader:***@[::1:1/news"),
    ("reader:S3c@ret@host", "reader:***@host"),
    ("[::1:1", "[::1:1"),
])
def test_mask_url(url: str, shown: str) -> None:
    assert redact.mask_url(url) == shown


def test_url_secrets_cover_both_spellings_and_skip_names() -> None:
    assert redact.url_secrets("postgresql://u:p%40ss%2Fword@h/db") >= {"p@ss/word", "p%40ss%2Fword"}
    # a password equal to the user name cannot be told apart from it: masked inside URLs only
    assert redact.url_secrets("postgresql://newsarchive:newsarchive@h/newsarchive_d") == set()
    assert redact.url_secrets(None) == set()


def test_registered_password_is_masked_in_every_log_record() -> None:
    redact.register_url("postgresql://crawler:Zebra-Quartz-81@h/db")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("tests.redact")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.error("connect failed with %s", "Zebra-Quartz-81")
        logger.error("url %s", "mysql://x:OtherPw77@host/db")  # never registered: masked as a URL
        logger.error("conninfo host=h password=Short1 dbname=x")
        try:
            raise RuntimeError("password was Zebra-Quartz-81")
        except RuntimeError:
            logger.exception("boom")
    finally:
        logger.removeHandler(handler)
    text = stream.getvalue()
    for secret in ("Zebra-Quartz-81", "OtherPw77", "Short1"):
        assert secret not in text
    assert "RuntimeError: password was ***" in text
    assert "mysql://x:***@host/db" in text


def test_short_password_is_masked_only_inside_urls() -> None:
    redact.register_url("postgresql://u:pw@h/db")
    assert redact.redact("pw in the word pwned") == "pw in the word pwned"
    assert redact.redact("at postgresql://u:pw@h/db") == "at postgresql://u:***@h/db"
