"""Re-run today's extractor over archived raw responses (WARC); a new version only where a field changed."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from newsarchive.article import Article, FetchInfo
from newsarchive.errors import StorageError
from newsarchive.storage.models import REVISION_COLUMNS, ArticleRow, ArticleVersion, Source
from newsarchive.storage.save import BatchWriter, version_values

if TYPE_CHECKING:
    from newsarchive.storage.archive import Archive

log = logging.getLogger(__name__)
Extract = Callable[..., Article]
#: the stored fields an extractor decides; a difference in any of them makes a new version
COMPARED = REVISION_COLUMNS

_PROVENANCE = ("url", "fetched_at", "warc_file", "warc_offset", "warc_length")


def _comparable(values: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key in COMPARED:
        value = values.get(key)
        if isinstance(value, datetime):
            # compare instants as the database holds them (naive = UTC, see models.UTCDateTime)
            value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        elif isinstance(value, tuple):
            value = list(value)
        out[key] = value
    return out


def reextract(archive: Archive, *, source: str | None = None, extract: Extract | None = None,
              progress: Callable[[int], None] | None = None, batch_size: int = 200,
              warc_directory: str | os.PathLike[str] | None = None) -> dict[str, int]:
    """Re-extract the current version of every article with a WARC pointer; returns counts.

    ``extract`` defaults to :func:`newsarchive.extract.extract`; tests inject a modified one.
    Counts: ``checked``, ``changed`` (a new current version, origin "reextract"),
    ``unchanged``, ``failed`` (WARC record unreadable or extractor error; logged) and
    ``no_warc`` (versions stored without a raw response, which cannot be re-extracted).
    """
    if extract is None:
        from newsarchive.extract import extract as default_extract

        extract = default_extract
    counts = {"checked": 0, "changed": 0, "unchanged": 0, "failed": 0, "no_warc": 0}
    where = [Source.key == source] if source else []
    with archive.engine.connect() as conn:
        counts["no_warc"] = int(conn.execute(
            sa.select(sa.func.count())
            .select_from(ArticleRow)
            .join(ArticleVersion, ArticleVersion.id == ArticleRow.current_version_id)
            .join(Source, Source.id == ArticleRow.source_id)
            .where(ArticleVersion.warc_file.is_(None), *where)
        ).scalar_one())
    last_id = 0
    while True:
        stmt = (
            sa.select(ArticleRow.id.label("article_id"), ArticleRow.canonical_url, Source.key.label("source"),
                      *[getattr(ArticleVersion, name) for name in (*COMPARED, *_PROVENANCE)])
            .select_from(ArticleRow)
            .join(ArticleVersion, ArticleVersion.id == ArticleRow.current_version_id)
            .join(Source, Source.id == ArticleRow.source_id)
            .where(ArticleRow.id > last_id, ArticleVersion.warc_file.is_not(None), *where)
            .order_by(ArticleRow.id)
            .limit(batch_size)
        )
        with archive.engine.connect() as conn:
            rows = conn.execute(stmt).mappings().all()
        if not rows:
            return counts
        last_id = rows[-1]["article_id"]
        changed: list[tuple[int, Article]] = []
        for row in rows:
            counts["checked"] += 1
            fresh = _extract_one(row, extract, warc_directory)
            if fresh is None:
                counts["failed"] += 1
                continue
            stored = {key: row[key] for key in COMPARED}
            if _comparable(version_values(fresh)) == _comparable(stored):
                counts["unchanged"] += 1
            else:
                changed.append((row["article_id"], fresh))
        if changed:
            archive.write(partial(_save, batch=changed))
            counts["changed"] += len(changed)
        if progress is not None:
            progress(len(rows))


def _extract_one(row: Any, extract: Extract, warc_directory: str | os.PathLike[str] | None) -> Article | None:
    from newsarchive.storage.warc import read_response

    try:
        response = read_response(row["warc_file"], row["warc_offset"], directory=warc_directory)
    except StorageError as exc:
        log.warning("cannot re-extract %s: %s", row["canonical_url"], exc)
        return None
    try:
        fresh = extract(response.content(), response.url or row["url"])
    except Exception as exc:  # one bad page must not stop a pass over the whole history
        log.warning("extractor failed on %s: %s: %s", row["canonical_url"], type(exc).__name__, exc)
        return None
    # identity and provenance stay those of the stored version; only extracted fields change
    fresh.url = row["url"]
    fresh.canonical_url = row["canonical_url"]
    fresh.source = row["source"]
    fresh.fetched_at = row["fetched_at"]
    fresh.fetch = FetchInfo(status=response.status, warc_file=row["warc_file"],
                            warc_offset=row["warc_offset"], warc_length=row["warc_length"])
    return fresh


def _save(conn: sa.Connection, *, batch: list[tuple[int, Article]]) -> None:
    BatchWriter(conn, run_id=None).add_versions(batch, origin="reextract")
