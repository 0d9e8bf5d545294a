"""Full-text search over the current version of each article (SQLite FTS5 / PostgreSQL tsvector).

One query language on both databases, a small subset of web search syntax:

    word word        both words (AND)
    "two words"      the phrase
    a OR b           either side (OR in capitals binds loosest)
    -word            without that word (each OR-group needs at least one word that is not excluded)

Words are matched whole and case-insensitively (no stemming: the archive mixes languages).
Punctuation and FTS operators typed by a user are never passed to the database as syntax:
the query is parsed here and rebuilt, and it always travels as a bound parameter.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa

from newsarchive.article import Article, normalise_text
from newsarchive.errors import StorageError
from newsarchive.storage.models import (
    ARTICLE_FIELDS,
    OFFSET_COLUMNS,
    PG_TS_CONFIG,
    ArticleRow,
    ArticleTopic,
    ArticleVersion,
    Source,
    Topic,
    UTCDateTime,
)

_TOKEN = re.compile(r'\s*(?:(-?)"([^"]*)("?)|(\S+))')
_WORD = re.compile(r"\w+")


class SearchQueryError(StorageError):
    """A full-text query that cannot be understood (the message says why)."""


@dataclass(frozen=True)
class Term:
    """One word or phrase of a query, already split into words."""

    words: tuple[str, ...]
    negated: bool = False


def parse_query(query: str) -> list[list[Term]]:
    """Split a query into OR-groups of terms; raise SearchQueryError with a reason when it is broken."""
    groups: list[list[Term]] = [[]]
    last_was_or = True
    for match in _TOKEN.finditer(query):
        negated_phrase, phrase, closing, bare = match.groups()
        if phrase is not None and not closing:
            raise SearchQueryError(f"search query {query!r} has an unbalanced double quote")
        if bare == "OR":
            if last_was_or:
                raise SearchQueryError(f"search query {query!r}: OR needs a word on both sides")
            groups.append([])
            last_was_or = True
        elif words := tuple(_WORD.findall(bare if phrase is None else phrase)):
            groups[-1].append(Term(words, bare.startswith("-") if phrase is None else bool(negated_phrase)))
            last_was_or = False
    if not any(groups):
        raise SearchQueryError(f"search query {query!r} has no words to search for")
    if last_was_or:
        raise SearchQueryError(f"search query {query!r}: OR needs a word on both sides")
    if not all(any(not t.negated for t in group) for group in groups):
        raise SearchQueryError(
            f"search query {query!r}: each part needs at least one word that is not excluded with '-'")
    return groups


def fts5_expression(groups: list[list[Term]]) -> str:
    """The FTS5 MATCH expression for parsed groups (every word quoted: no user syntax survives)."""

    def phrase(term: Term) -> str:
        return '"' + " ".join(w.replace('"', '""') for w in term.words) + '"'

    return " OR ".join("(" + " AND ".join(phrase(t) for t in group if not t.negated)
                       + "".join(f" NOT {phrase(t)}" for t in group if t.negated) + ")" for group in groups)


def websearch_text(groups: list[list[Term]]) -> str:
    """The same query rebuilt for PostgreSQL's websearch_to_tsquery."""

    def term(t: Term) -> str:
        return ("-" if t.negated else "") + (f'"{" ".join(t.words)}"' if len(t.words) > 1 else t.words[0])

    return " or ".join(" ".join(map(term, group)) for group in groups)


def filters(*, since: datetime | None = None, until: datetime | None = None, source: str | None = None,
            topic: str | None = None, language: str | None = None,
            wire: str | None = None) -> list[sa.ColumnElement[bool]]:
    """WHERE clauses shared by search, iteration and export (all values bound).

    ``language`` matches the current version's language case-insensitively, a primary tag
    also its regional forms (``en`` matches ``en-GB``).
    """
    clauses: list[sa.ColumnElement[bool]] = []
    if "\x00" in (source or "") + (topic or "") + (language or "") + (wire or ""):
        # no stored key contains NUL (PostgreSQL cannot even store one): nothing matches
        return [sa.false()]
    if since is not None:
        clauses.append(ArticleRow.published >= _aware(since))
    if until is not None:
        clauses.append(ArticleRow.published < _aware(until))
    if source:
        clauses.append(ArticleRow.source_id.in_(sa.select(Source.id).where(Source.key == source)))
    if topic:
        clauses.append(ArticleRow.id.in_(sa.select(ArticleTopic.article_id).join(Topic).where(
            Topic.key == normalise_text(topic))))
    if language:
        lang, wanted = sa.func.lower(ArticleVersion.language), language.lower()
        clauses.append(ArticleRow.current_version_id.in_(sa.select(ArticleVersion.id).where(
            sa.or_(lang == wanted, lang.startswith(wanted + "-", autoescape=True)))))
    if wire:
        # agencies are spelled by the extractor ("Reuters", "AP"); a user types them any case
        clauses.append(ArticleRow.current_version_id.in_(
            sa.select(ArticleVersion.id).where(sa.func.lower(ArticleVersion.wire) == wire.lower())))
    return clauses


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def with_offset(value: datetime | None, minutes: int | None) -> datetime | None:
    """A UTC datetime shown in the page's own offset (naive when the page gave no zone)."""
    if value is None:
        return None
    if minutes is None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value.astimezone(timezone(timedelta(minutes=minutes)))


def as_utc(value: Any) -> datetime | None:
    """A timestamp (ISO text or datetime) as an aware UTC datetime; naive means UTC."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def iso(value: Any, minutes: int | None = 0) -> str | None:
    """A stored instant as ISO 8601 in the page's offset in minutes (None: naive, zone unknown)."""
    if minutes == 0 and isinstance(value, str) and len(value) == 26 and value[10] == " ":
        # SQLite's UTC text as isoformat() prints it, without parsing: exports read millions
        return f"{value[:10]}T{value[11:19]}{'' if value.endswith('.000000') else value[19:]}+00:00"
    moment = with_offset(as_utc(value), minutes)
    return None if moment is None else moment.isoformat()


def json_list(value: Any) -> list[Any]:
    """A stored JSON list (text on SQLite, parsed on PostgreSQL) as a list; NULL as []."""
    if value is None or value == "[]":
        return []
    return list(json.loads(value) if isinstance(value, str) else value)


def earliest_first(table: Any) -> list[sa.ColumnElement[Any]]:
    """ORDER BY for the copies of a story (a near-duplicate cluster), earliest first: published
    (unknown after every known time: CASE, as SQLite before 3.30 has no NULLS LAST), first_seen, id."""
    c = table.c
    last = sa.case((c.published.is_(None), sa.literal_column("1")), else_=sa.literal_column("0"))
    return [last, c.published, c.first_seen, c.id]


ARTICLES: sa.Table = ArticleRow.__table__  # type: ignore[assignment]
_OTHER, _EACH = ARTICLES.alias("other"), ARTICLES.alias("each_copy")
_RANKED = sa.select(
    _EACH.c.cluster_id, _EACH.c.id,
    sa.func.row_number().over(partition_by=_EACH.c.cluster_id, order_by=earliest_first(_EACH)).label("n"),
).where(_EACH.c.cluster_id.in_(sa.bindparam("clusters", expanding=True))).subquery("ranked_copy")
#: {cluster_id: its earliest copy} for the clusters bound as ``clusters``: ranked once per page
#: of rows, not once per row (a 5,000-article cluster cost 3.7 s per export that way)
EARLIEST_COPIES = sa.select(_RANKED.c.cluster_id, _RANKED.c.id).where(_RANKED.c.n == 1)
#: the article's cluster_id when another article shares it (one index probe), else NULL; the
#: reader replaces it with the earliest copy (Archive._read), giving the exports' ``copy_of``
SHARED_CLUSTER = sa.case(
    (sa.exists().where(_OTHER.c.cluster_id == ArticleRow.cluster_id, _OTHER.c.id != ArticleRow.id),
     ArticleRow.cluster_id),
).label("copy_of")
_VERSIONS = ArticleVersion.__table__.alias("counted")
VERSION_COUNT = (sa.select(sa.func.count()).where(_VERSIONS.c.article_id == ArticleRow.id)
                 .scalar_subquery().label("version_count"))


def _column(name: str, table: sa.Table = ArticleVersion.__table__) -> Any:  # type: ignore[assignment]
    """What a read selects for one key of row_dict() (NULL for a key the archive does not keep)."""
    if name == "source":
        return Source.key.label("source")
    column = ARTICLES.c.canonical_url if name == "canonical_url" else table.c.get(name)
    if column is None:
        return sa.null().label(name)
    if isinstance(column.type, UTCDateTime | sa.JSON):
        # converted by row_dict instead: SQLAlchemy's per-value result processors cost most of an export
        return sa.type_coerce(column, sa.Text).label(name)
    return column


#: what a read of the archive selects, in row_dict()'s order: the Article's fields as the models
#: store them, the archive's own columns, then the offsets of the page times
ROW_COLUMNS = (
    *[_column(name) for name in Article(url="").to_dict()],
    ArticleRow.id.label("article_id"),
    ArticleVersion.id.label("version_id"),
    VERSION_COUNT,
    ArticleRow.cluster_id,
    SHARED_CLUSTER,
    _column("first_seen", ARTICLES),
    _column("last_seen", ARTICLES),
    *[_column(name) for name in OFFSET_COLUMNS.values()],
)
ROW_INDEX: dict[str, int] = {c.key: i for i, c in enumerate(ROW_COLUMNS)}
#: row_dict()'s keys: every column but the offsets, which the timestamps carry
ROW_KEYS: tuple[str, ...] = tuple(ROW_INDEX)[: -len(OFFSET_COLUMNS)]
_TYPES = {name: ArticleVersion.__table__.c[name].type for name in ARTICLE_FIELDS}
LIST_FIELDS = frozenset(n for n, kind in _TYPES.items() if isinstance(kind, sa.JSON))
#: the instants: ISO 8601 text in row_dict(), page times in their own offset, the rest in UTC
TIME_COLUMNS = frozenset({"first_seen", "last_seen",
                          *(n for n, kind in _TYPES.items() if isinstance(kind, UTCDateTime))})
_TIMES = tuple((n, ROW_INDEX[n], ROW_INDEX.get(OFFSET_COLUMNS.get(n, ""))) for n in TIME_COLUMNS)


def row_dict(row: Sequence[Any]) -> dict[str, Any]:
    """One read row (ROW_COLUMNS first) as Article.to_dict() keys plus article_id, version_id,
    version_count, cluster_id, copy_of and the seen times."""
    out = dict(zip(ROW_KEYS, row, strict=False))
    for name, index, offset in _TIMES:
        # a time without an offset column is kept in UTC; a NULL offset means "zone unknown"
        out[name] = iso(row[index], 0 if offset is None else row[offset])
    for name in LIST_FIELDS:
        out[name] = json_list(out[name])
    return out


#: a query matching more current articles than this ranks only the newest this many (highest
#: version ids): ranking every match of a common word is slow, and its searcher wants recent stories
RANK_CAP = 5_000


def search_statement(
    dialect: str, query: str, limit: int, where: list[sa.ColumnElement[bool]], *, cap: int | None = None
) -> sa.Select[Any]:
    """The ranked search SELECT for ``dialect``; columns: ROW_COLUMNS, score, snippet.

    Only the newest ``cap`` (default RANK_CAP) matching articles, after the filters, are ranked.
    """
    groups = parse_query(query)
    cap = RANK_CAP if cap is None else max(1, int(cap))
    current = sa.and_(ArticleRow.id == ArticleVersion.article_id,
                      ArticleRow.current_version_id == ArticleVersion.id)
    if dialect == "sqlite":
        fts = sa.table("articles_fts", sa.column("rowid", sa.Integer))
        handle: sa.ColumnClause[Any] = sa.literal_column("articles_fts")
        match = handle.op("MATCH")(sa.bindparam("fts_query", fts5_expression(groups)))
        # the cap as a rowid floor: FTS5 walks a doclist newest-first and seeks to a rowid
        # range natively, so neither the candidate scan nor the ranked query reads older rows
        newest = sa.select(fts.c.rowid.label("rowid")).select_from(fts)
        if where:
            # the index holds only current versions; the filters need the article row
            newest = newest.join(ArticleVersion, ArticleVersion.id == fts.c.rowid).join(ArticleRow, current)
        floor = newest.where(match, *where).order_by(fts.c.rowid.desc()).limit(cap).subquery("newest")
        stmt = (
            sa.select(*ROW_COLUMNS, sa.func.bm25(handle).label("score"),
                      sa.func.snippet(handle, 1, "[", "]", "…", 16).label("snippet"))
            .select_from(fts)
            .join(ArticleVersion, ArticleVersion.id == fts.c.rowid)
            .where(match, fts.c.rowid >= sa.select(sa.func.min(floor.c.rowid)).scalar_subquery())
        )
    elif dialect == "postgresql":
        config: sa.ColumnClause[Any] = sa.literal_column(f"'{PG_TS_CONFIG}'::regconfig")
        tsq = sa.func.websearch_to_tsquery(config, sa.bindparam("ts_query", websearch_text(groups)))
        vector: sa.ColumnClause[Any] = sa.literal_column("article_versions.search_vector")
        # MATERIALIZED: the matches come from the GIN index first; without it the planner may
        # walk the primary key backwards testing every row against a rare word
        matches = (sa.select(ArticleVersion.id).join(ArticleRow, current).where(vector.op("@@")(tsq), *where)
                   .cte("matches").prefix_with("MATERIALIZED"))
        stmt = (
            sa.select(*ROW_COLUMNS, (-sa.func.ts_rank(vector, tsq)).label("score"),
                      sa.func.ts_headline(config, ArticleVersion.body, tsq,
                                          "StartSel=[,StopSel=],MaxWords=20,MinWords=8").label("snippet"))
            .select_from(ArticleVersion)
            .where(ArticleVersion.id.in_(sa.select(matches.c.id).order_by(matches.c.id.desc()).limit(cap)
                                         .scalar_subquery()))
        )
    else:
        raise StorageError(f"full-text search is not available on {dialect}")
    return (stmt.join(ArticleRow, current).join(Source, Source.id == ArticleRow.source_id).where(*where)
            .order_by(sa.literal_column("score"), ArticleRow.id).limit(limit))
