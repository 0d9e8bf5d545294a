"""One story across outlets: every copy in an article's near-duplicate cluster, earliest first.

``contains`` is the share of the longest copy's word 3-shingles (``neardup.shingles``) this copy
carries; a page whose very text is archived under another URL (``url_state``) is listed as
``verbatim`` right after the article it repeats.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa

from newsarchive.neardup import shingles, tokens
from newsarchive.storage.models import ArticleVersion, Source, UrlState
from newsarchive.storage.search import ARTICLES, as_utc, earliest_first, with_offset


@dataclass(frozen=True)
class StoryCopy:
    """One copy of a story: which outlet ran it, when, and how much of the longest copy it carries."""

    article_id: int
    cluster_id: int | None
    source: str  # the archive's site key (tass, ap...)
    host: str  # of the canonical URL
    canonical_url: str
    wire: str | None  # the agency the dateline credits
    headline: str | None
    published: datetime | None  # in the page's own offset (naive UTC when it gave no zone)
    first_seen: datetime
    words: int
    contains: float  # percent of the longest copy's shingles (100.0 for the longest)
    longest: bool
    earliest: bool
    copy_of: int | None  # the earliest copy's id, None for the earliest (the exports' copy_of)
    verbatim: bool = False  # the very text of article_id at another URL, archived once under that id

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready values: datetimes as ISO 8601, containment rounded to 0.1."""
        out = asdict(self)
        for key in ("published", "first_seen"):
            out[key] = out[key].isoformat() if out[key] is not None else None
        out["contains"] = round(self.contains, 1)
        return out


def story_copies(conn: sa.Connection, article_id: int) -> list[StoryCopy]:
    """Every copy of ``article_id``'s story, earliest first; [] when there is no such article."""
    a = ARTICLES
    v: sa.Table = ArticleVersion.__table__  # type: ignore[assignment]
    s: sa.Table = Source.__table__  # type: ignore[assignment]
    if not 0 < article_id < 1 << 63:  # names no row, and no driver binds it
        return []
    # bound as BIGINT: PostgreSQL's ids are 32-bit, and a larger id must find nothing, not fail
    wanted = sa.literal(article_id, sa.BigInteger)
    cluster = conn.execute(sa.select(a.c.cluster_id, a.c.id).where(a.c.id == wanted)).first()
    if cluster is None:
        return []
    # an article stored before clustering (cluster_id NULL) is a story of its own
    members = a.c.cluster_id == cluster.cluster_id if cluster.cluster_id is not None else a.c.id == wanted
    rows = conn.execute(
        sa.select(a.c.id, a.c.cluster_id, a.c.canonical_url, a.c.published, a.c.first_seen,
                  a.c.published_offset, v.c.wire, v.c.headline, v.c.body, s.c.key.label("source"))
        .select_from(a).join(v, v.c.id == a.c.current_version_id).join(s, s.c.id == a.c.source_id)
        .where(members).order_by(*earliest_first(a))
    ).all()
    if not rows:  # an article without a current version has no text to show
        return []
    sets = [shingles(row.body or "") for row in rows]
    words = [len(tokens(row.body or "")) for row in rows]
    longest = max(range(len(rows)), key=lambda i: (words[i], -i))  # of equal lengths the earliest
    whole = sets[longest]
    stored = [
        StoryCopy(
            article_id=row.id, cluster_id=row.cluster_id, source=row.source,
            host=urlsplit(row.canonical_url).hostname or "", canonical_url=row.canonical_url,
            wire=row.wire, headline=row.headline,
            published=with_offset(row.published, row.published_offset), first_seen=row.first_seen,
            words=words[i], contains=100.0 * len(whole & sets[i]) / len(whole) if whole else 100.0,
            longest=i == longest, earliest=i == 0, copy_of=rows[0].id if i > 0 else None,
        )
        for i, row in enumerate(rows)
    ]
    return _with_verbatim(conn, stored)


def _with_verbatim(conn: sa.Connection, stored: list[StoryCopy]) -> list[StoryCopy]:
    """``stored`` with, after each copy, the other URLs whose page carried its very text."""
    u: sa.Table = UrlState.__table__  # type: ignore[assignment]
    by_id = {c.article_id: c for c in stored}
    own = {c.canonical_url for c in stored}
    pages: dict[int, list[StoryCopy]] = {}
    for row in conn.execute(sa.select(u.c.canonical_url, u.c.article_id, u.c.first_seen, u.c.published)
                            .where(u.c.article_id.in_(list(by_id)))
                            .order_by(u.c.first_seen, u.c.canonical_url)):
        if row.canonical_url in own:
            continue
        of = by_id[row.article_id]
        host = urlsplit(row.canonical_url).hostname or ""
        same_site = host.removeprefix("www.") == of.host.removeprefix("www.")
        published = as_utc(row.published)
        if published is not None and of.published is not None and of.published.tzinfo is not None:
            published = published.astimezone(of.published.tzinfo)  # shown in the copy's own offset
        pages.setdefault(of.article_id, []).append(replace(
            of, source=of.source if same_site else host.removeprefix("www."), host=host,
            canonical_url=row.canonical_url, published=published or of.published,
            first_seen=as_utc(row.first_seen) or of.first_seen, longest=False, earliest=False,
            copy_of=of.copy_of or of.article_id, verbatim=True))
    return [page for c in stored for page in (c, *pages.get(c.article_id, ()))]
