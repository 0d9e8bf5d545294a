"""Re-run today's extractor over archived raw responses (WARC), never making a record worse.

Lives above storage: it reads versions and their WARC pointers from the archive, runs the
extractor with the profile of the article's *stored* source (a crawl of a mirror or through
``--base-url`` has a host no profile knows), and writes a new current version only when the
new extraction is at least as complete as the stored one, field by field. A new extraction
that would lose something is reported, not written; ``dry_run`` writes nothing at all.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa

from newsarchive.article import Article, FetchInfo
from newsarchive.capture import read_response
from newsarchive.errors import StorageError
from newsarchive.extract.profile import SiteProfile
from newsarchive.storage import Archive
from newsarchive.storage.models import OFFSET_COLUMNS, REVISION_COLUMNS, ArticleRow, ArticleVersion, Source
from newsarchive.storage.save import offset_minutes, version_values

log = logging.getLogger(__name__)
Extract = Callable[..., Article]
#: progress(done, total, report) after each batch
Progress = Callable[[int, int, "Report"], None]

#: the stored fields an extractor decides (the models declare them), by how "less complete" is judged
FIELDS = tuple(c for c in REVISION_COLUMNS if c not in OFFSET_COLUMNS.values())
TIME_FIELDS = tuple(OFFSET_COLUMNS)
LIST_FIELDS = tuple(f.name for f in dataclasses.fields(Article)
                    if f.name in FIELDS and f.default_factory is list)
TEXT_FIELDS = tuple(name for name in FIELDS if name not in (*TIME_FIELDS, *LIST_FIELDS))
#: a body cut to less than this share of its stored length is a loss: boilerplate removed by a
#: fix shortens a body a little, a teaser or a caption taken for the story shortens it a lot
BODY_KEPT_SHARE = 0.5
#: examples kept per field and kind (change, loss)
EXAMPLES = 3

_PROVENANCE = ("url", "fetched_at", "warc_file", "warc_offset", "warc_length")
_STORED = (*FIELDS, *OFFSET_COLUMNS.values())


@dataclass
class FieldReport:
    """What happened to one field across the pass."""

    changed: int = 0
    lost: int = 0
    examples: list[tuple[str, Any, Any]] = field(default_factory=list)
    losses: list[tuple[str, str, Any, Any]] = field(default_factory=list)


@dataclass
class Report:
    """Counts of a pass plus, per field, how many articles changed it or would have lost it.

    ``changed``: articles given a new current version (or that would be, with ``dry_run``);
    ``refused``: a new extraction that was less complete in some field, not written;
    ``failed``: raw response unreadable or extractor error (logged); ``no_warc``: versions
    stored without a raw response, which cannot be re-extracted; ``moved``: a crawl stored a
    newer version while the article was being re-extracted, and it stays current.
    """

    dry_run: bool = False
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(
        ("checked", "changed", "unchanged", "refused", "failed", "no_warc", "moved"), 0))
    fields: dict[str, FieldReport] = field(default_factory=lambda: {name: FieldReport() for name in FIELDS})

    def lines(self) -> Iterator[str]:
        """The per-field summary as text lines (what ``reextract`` prints)."""
        verb = "would change" if self.dry_run else "changed"
        for name, item in self.fields.items():
            if item.changed:
                yield f"{name}: {verb} in {item.changed} article(s)"
                for url, old, new in item.examples:
                    yield f"    {url}: {_short(old)} -> {_short(new)}"
        for name, item in self.fields.items():
            if item.lost:
                yield f"{name}: worse in {item.lost} article(s), not written"
                for url, reason, old, new in item.losses:
                    yield f"    {url}: {reason}: {_short(old)} -> {_short(new)}"


def reextract(archive: Archive, *, source: str | None = None, extract: Extract | None = None,
              dry_run: bool = False, progress: Progress | None = None, batch_size: int = 200,
              warc_directory: str | os.PathLike[str] | None = None) -> Report:
    """Re-extract the current version of every article with a WARC pointer.

    ``extract(html, url, profile=...)`` defaults to :func:`newsarchive.extract.extract`; tests
    inject another. The profile is the stored source's (None when the source has no profile:
    the extractor then looks the URL's host up itself).
    """
    if extract is None:
        from newsarchive.extract import extract as default_extract

        extract = default_extract
    from newsarchive.extract.registry import load_profiles

    profiles = load_profiles()
    report = Report(dry_run=dry_run)
    where = [Source.key == source] if source else []
    base = (sa.select(sa.func.count()).select_from(ArticleRow)
            .join(ArticleVersion, ArticleVersion.id == ArticleRow.current_version_id)
            .join(Source, Source.id == ArticleRow.source_id))
    with archive.engine.connect() as conn:
        report.counts["no_warc"] = int(conn.execute(
            base.where(ArticleVersion.warc_file.is_(None), *where)).scalar_one())
        total = int(conn.execute(base.where(ArticleVersion.warc_file.is_not(None), *where)).scalar_one())
    last_id = 0
    while True:
        stmt = (
            sa.select(ArticleRow.id.label("article_id"), ArticleRow.canonical_url, Source.key.label("source"),
                      ArticleRow.current_version_id,
                      *[getattr(ArticleVersion, name) for name in (*_STORED, *_PROVENANCE)])
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
            return report
        last_id = rows[-1]["article_id"]
        better: list[tuple[int, Article]] = []
        changes: dict[int, list[tuple[str, Any, Any]]] = {}
        for row in rows:
            report.counts["checked"] += 1
            fresh = _extract_one(row, extract, profiles.get(row["source"]), warc_directory)
            if fresh is None:
                report.counts["failed"] += 1
                continue
            outcome, changed = _judge(row, fresh, report)
            report.counts[outcome] += 1
            if outcome == "changed":
                better.append((row["article_id"], fresh))
                changes[row["article_id"]] = changed
        if better and not dry_run:
            read = {row["article_id"]: row["current_version_id"] for row in rows}
            written = archive.add_versions(better, origin="reextract", expected=read)
            # a crawl stored a newer text meanwhile: that one stays current
            report.counts["changed"] -= len(better) - len(written)
            report.counts["moved"] += len(better) - len(written)
            changes = {a: c for a, c in changes.items() if a in written}
        urls = {row["article_id"]: row["canonical_url"] for row in rows}
        for article_id, changed in changes.items():
            for name, old, new in changed:
                item = report.fields[name]
                item.changed += 1
                if len(item.examples) < EXAMPLES:
                    item.examples.append((urls[article_id], old, new))
        if progress is not None:
            progress(report.counts["checked"], total, report)


def _extract_one(row: Any, extract: Extract, profile: SiteProfile | None,
                 warc_directory: str | os.PathLike[str] | None) -> Article | None:
    try:
        response = read_response(row["warc_file"], row["warc_offset"], directory=warc_directory)
    except StorageError as exc:
        log.warning("cannot re-extract %s: %s", row["canonical_url"], exc)
        return None
    try:
        fresh = extract(response.content(), response.url or row["url"], profile=profile)
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


def _judge(row: Any, fresh: Article, report: Report) -> tuple[str, list[tuple[str, Any, Any]]]:
    """"changed", "unchanged" or "refused" for one article, with the fields that change; the
    losses of a refused one are recorded in ``report``."""
    url = row["canonical_url"]
    changes: list[tuple[str, Any, Any]] = []
    losses: list[tuple[str, str, Any, Any]] = []
    values = version_values(fresh)  # cleaned as the archive would store them
    for name in FIELDS:
        old, new = _stored_value(row, name), _fresh_value(values, name)
        if _same(name, old, new):
            continue
        changes.append((name, old, new))
        reason = _loss(name, old, new)
        if reason:
            losses.append((name, reason, old, new))
    if losses:
        for name, reason, old, new in losses:
            item = report.fields[name]
            item.lost += 1
            if len(item.losses) < EXAMPLES:
                item.losses.append((url, reason, old, new))
        return "refused", []
    return ("changed" if changes else "unchanged"), changes


def _stored_value(row: Any, name: str) -> Any:
    value = row[name]
    if name in TIME_FIELDS and value is not None:
        # the page's own wall-clock time: UTC as stored, shifted back by the stored offset
        offset = row[f"{name}_offset"]
        utc = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        if offset is None:
            return utc.replace(tzinfo=None)
        return utc.astimezone(timezone(timedelta(minutes=offset)))
    if name in LIST_FIELDS:
        return list(value or [])
    return value


def _fresh_value(values: dict[str, Any], name: str) -> Any:
    value = values[name]
    if name in TIME_FIELDS and isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(timezone(timedelta(minutes=offset_minutes(value) or 0)))
    if name in LIST_FIELDS:
        return list(value)
    return value


def _same(name: str, old: Any, new: Any) -> bool:
    if name in TIME_FIELDS and old is not None and new is not None:
        # the same instant and the same stated offset (an unzoned value has no offset)
        return ((old.tzinfo is None) == (new.tzinfo is None) and old == new
                and old.utcoffset() == new.utcoffset())
    return bool(old == new)


def _loss(name: str, old: Any, new: Any) -> str | None:
    """Why ``new`` is less complete than ``old`` in field ``name`` (None when it is not)."""
    if name in LIST_FIELDS:
        return f"{len(old)} -> {len(new)} item(s)" if len(new) < len(old) else None
    if name in TIME_FIELDS:
        if old is None:
            return None
        if new is None:
            return "emptied"
        if old.tzinfo is not None and new.tzinfo is None:
            return "lost its time zone"
        if old.time() != datetime.min.time() and new.time() == datetime.min.time():
            return "lost its time of day"
        return None
    if old and not new:
        return "emptied"
    if name == "body" and old and len(new) < len(old) * BODY_KEPT_SHARE:
        return f"cut from {len(old)} to {len(new)} characters"
    return None


def _short(value: Any, width: int = 70) -> str:
    if isinstance(value, datetime):
        text = value.isoformat()
    elif isinstance(value, list):
        text = repr(value)
    else:
        text = repr(" ".join(value.split())) if isinstance(value, str) else repr(value)
    return text if len(text) <= width else text[: width - 1] + "…"
