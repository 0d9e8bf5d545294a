"""TASS extraction of the bundled sample pages, field by field, for both page designs."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from newsarchive import extract
from newsarchive.config import SAMPLES_DIR
from spiders.tass import PROFILE

MSK = timezone(timedelta(hours=3))
BASE = "https://tass.com"


def page(path: str, edition: str = "site") -> bytes:
    return (SAMPLES_DIR / edition / (path.lstrip("/") + ".html")).read_bytes()


@pytest.fixture(scope="module")
def seed_like():
    return extract(page("/politics/900101"), BASE + "/politics/900101", profile=PROFILE)


def test_2017_headline(seed_like) -> None:
    assert seed_like.headline == (
        "Kremlin says Moscow and Tehran are coordinating preparations for Astana talks on Syria"
    )


def test_2017_dateline(seed_like) -> None:
    assert seed_like.dateline == "MOSCOW, January 19. /TASS/."


def test_2017_published_keeps_moscow_offset(seed_like) -> None:
    assert seed_like.published == datetime(2017, 1, 19, 13, 48, tzinfo=MSK)
    assert seed_like.published.utcoffset() == timedelta(hours=3)
    assert seed_like.to_dict()["published"] == "2017-01-19T13:48:00+03:00"
    # the year comes from the page's own date; the raw string is what the reader saw
    assert seed_like.published_raw == "January 19, 13:48 UTC+3"


def test_2017_body_starts_after_the_dateline_and_has_no_boilerplate(seed_like) -> None:
    assert seed_like.body.startswith("Moscow keeps in touch with Tehran about the coming Astana meeting")
    for junk in ("Read also", "Реклама", "{{", "Back to Main page", "Select the city", "Currency converter",
                 "News Feed", "Most read", "In other media", "TOP STORIES", "Topics", "Share",
                 "/TASS/", "Duma committee backs"):
        assert junk not in seed_like.body, junk
    assert len(seed_like.paragraphs) == 5
    assert seed_like.paragraphs[-1].startswith("Tehran has said it sees no reason")


def test_2017_topics_and_read_also(seed_like) -> None:
    assert seed_like.topics == ["Foreign policy", "Syrian conflict"]
    assert seed_like.read_also == [
        {"title": "Duma committee backs draft law on digital archives", "url": BASE + "/politics/900102"},
        {"title": "Danube shipping resumes after winter ice closure", "url": BASE + "/world/900103"},
    ]


def test_2017_section_and_language(seed_like) -> None:
    assert seed_like.section == "Russian Politics & Diplomacy"
    assert seed_like.language == "en"


def test_current_markup_fields() -> None:
    art = extract(page("/economy/900104"), BASE + "/economy/900104", profile=PROFILE)
    assert art.headline == "Northern Sea Route cargo traffic sets a new monthly record"
    assert art.dateline == "MURMANSK, November 20. /TASS/."
    # <dateformat time=epoch seconds> shown in Moscow time
    assert art.published == datetime(2026, 11, 20, 10, 15, tzinfo=MSK)
    assert art.published.utcoffset() == timedelta(hours=3)
    assert art.description == (
        "Shipments along the Arctic route rose by a fifth compared with the same month last year"
    )
    assert art.body.startswith("Cargo carried along the Northern Sea Route in October")
    # both text-block parts, split by the inserted read-also block, are kept
    assert art.paragraphs[-1] == "New ice-class tankers are due to join the fleet next spring."
    assert "Read also" not in art.body
    assert "Реклама" not in art.body
    assert art.topics == ["Arctic", "Transport"]
    assert art.read_also == [{"title": "Government approves Arctic port development plan",
                              "url": BASE + "/economy/900105"}]


def test_edited_edition_differs_in_one_paragraph_only() -> None:
    old = extract(page("/economy/900105"), BASE + "/economy/900105", profile=PROFILE)
    new = extract(page("/economy/900105", "edition2"), BASE + "/economy/900105", profile=PROFILE)
    assert old.content_hash != new.content_hash
    changed = [i for i, (a, b) in enumerate(zip(old.paragraphs, new.paragraphs, strict=True)) if a != b]
    assert changed == [2]
    assert "corrected estimate" in new.paragraphs[2]


def test_tracking_parameters_do_not_change_the_record() -> None:
    plain = extract(page("/world/900103"), BASE + "/world/900103", profile=PROFILE)
    tracked = extract(page("/world/900103"), BASE + "/world/900103?utm_source=rss&utm_medium=feed",
                      profile=PROFILE)
    assert tracked.canonical_url == plain.canonical_url == BASE + "/world/900103"
    assert tracked.content_hash == plain.content_hash
