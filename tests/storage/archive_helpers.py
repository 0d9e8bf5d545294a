"""Articles we write ourselves for the storage tests (imported by the test modules)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from newsarchive.article import Article, FetchInfo

MSK = timezone(timedelta(hours=3))


def body_of(*sentences: str) -> str:
    return "\n\n".join(sentences)


STORY = body_of(
    "The foreign ministers of Russia and Turkey met in Moscow on Thursday to discuss a ceasefire "
    "in northern Syria and the return of refugees to their homes before the winter.",
    "Both sides said the talks were constructive and agreed to meet again next month in Ankara, "
    "where military experts will prepare a joint monitoring plan for the region.",
    "The ministers also discussed trade, gas supplies through the Black Sea pipeline and tourism, "
    "which has recovered to levels last seen before the pandemic according to both governments.",
)
OTHER_STORY = body_of(
    "Heavy snowfall closed three airports in Siberia on Friday, stranding thousands of passengers "
    "who had planned to travel to the capital for the long holiday weekend.",
    "Regional authorities opened emergency shelters and promised that road crews would clear the "
    "main highways by Saturday morning if the weather allowed it.",
)


def make_article(n: int = 1, **overrides: Any) -> Article:
    """A complete Article with fields we write ourselves; ``n`` makes URL and text distinct."""
    values: dict[str, Any] = {
        "url": f"https://tass.com/politics/{1000 + n}",
        "source": "tass",
        "section": "Politics",
        "headline": f"Ministers meet in Moscow, round {n}",
        "dateline": "MOSCOW, January 19",
        "published": datetime(2017, 1, 19, 13, 48, tzinfo=MSK) + timedelta(days=n),
        "published_raw": "January 19, 13:48 UTC+3",
        "body": STORY + f"\n\nThis is report number {n} in the series.",
        "topics": ["Foreign policy", "Syrian conflict"],
        "read_also": [],
        "authors": ["Ivan Petrov"],
        "language": "en",
        "fetched_at": datetime(2026, 11, 20, 10, 0, tzinfo=UTC),
        "fetch": FetchInfo(status=200, etag=f'"e{n}"', last_modified="Thu, 19 Jan 2017 10:48:00 GMT"),
    }
    values.update(overrides)
    return Article(**values)


def run_writers(work: Callable[[int], None], offsets: Iterable[int]) -> list[BaseException]:
    """Run ``work(offset)`` in one thread per offset at once; the exceptions they raised."""
    errors: list[BaseException] = []

    def guarded(offset: int) -> None:
        try:
            work(offset)
        except BaseException as exc:  # returned: a thread cannot fail the test itself
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(o,)) for o in offsets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return errors
