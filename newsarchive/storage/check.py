"""``newsarchive db check``: is the archive whole, and ``--repair`` what can be rebuilt.

Repair rebuilds derived data (current-version pointers, full-text index, links, topics,
near-duplicate keys and SimHashes) from the stored versions, which it never changes, then checks
again. Damage to the versions, the database file or a WARC record is only reported.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from newsarchive import neardup
from newsarchive.article import Article
from newsarchive.capture import read_response
from newsarchive.errors import StorageError
from newsarchive.storage import save
from newsarchive.storage.engine import is_locked
from newsarchive.storage.models import PG_FTS_DDL, ArticleRow, ArticleTopic, ArticleVersion, Base, Link, Topic
from newsarchive.storage.save import BatchWriter, insert_ignore, link_targets, topic_names

#: examples listed per problem
EXAMPLES = 5
#: rows read per page of the per-row checks
PAGE = 1000
#: problem kinds --repair can rebuild
REPAIRABLE = frozenset({"current_version", "fts", "links", "topics", "neardup"})


@dataclass
class Problem:
    """One kind of damage: ``kind`` (the check), what is wrong, how many rows, a few examples."""

    kind: str
    message: str
    count: int = 1
    examples: list[str] = field(default_factory=list)
    #: what --repair needs: article ids, or None for a rebuild of the whole structure
    article_ids: list[int] | None = None

    @property
    def repairable(self) -> bool:
        return self.kind in REPAIRABLE

    def line(self) -> str:
        tail = f" (e.g. {', '.join(self.examples)})" if self.examples else ""
        hint = "" if self.repairable else " [not repairable]"
        return f"{self.kind}: {self.message}{tail}{hint}"


def _found(kind: str, message: str, rows: Sequence[tuple[int, str]]) -> list[Problem]:
    """A problem over (id, example) rows, none when there are no rows."""
    if not rows:
        return []
    return [Problem(kind, message, len(rows), [e for _, e in rows[:EXAMPLES]], [i for i, _ in rows])]


@dataclass
class CheckResult:
    """Rows per table, the problems found, and what ``repair`` rebuilt."""

    counts: dict[str, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)
    #: what could not be checked, and why
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


#: progress(stage, done, total) after each page of the per-row checks
Progress = Callable[[str, int, int], None]


def check_archive(engine: sa.Engine, *, warc_directory: str | os.PathLike[str] | None = None,
                  check_warc: bool = True, repair: bool = False,
                  progress: Progress | None = None) -> CheckResult:
    """Check the archive behind ``engine``; with ``repair``, rebuild and check again."""
    result = _check(engine, warc_directory, check_warc, progress)
    if not repair or not any(p.repairable for p in result.problems):
        return result
    repaired = _repair(engine, [p for p in result.problems if p.repairable])
    again = _check(engine, warc_directory, check_warc, progress)
    again.repaired = repaired
    again.notes = result.notes + again.notes
    return again


def _check(engine: sa.Engine, warc_directory: str | os.PathLike[str] | None, check_warc: bool,
           progress: Progress | None) -> CheckResult:
    result = CheckResult()
    if engine.dialect.name == "sqlite":
        result.problems += _fts_structure(engine, result.notes)
    with engine.connect() as conn:
        result.counts = {table.name: int(conn.execute(sa.select(sa.func.count()).select_from(table))
                                         .scalar_one()) for table in Base.metadata.sorted_tables}
        if _has_fts(conn):
            result.counts["articles_fts (indexed)"] = _indexed(conn)
        result.problems += [*_integrity(conn), *_foreign_keys(conn), *_current_versions(conn), *_fts(conn),
                            *_per_article(conn, result.counts.get("articles", 0), progress)]
        if check_warc:
            result.problems += _warc(conn, warc_directory, progress)
    return result


def _indexed(conn: sa.Connection) -> int:
    return int(conn.exec_driver_sql("SELECT count(*) FROM articles_fts_docsize").scalar_one())


def _chunks(ids: Sequence[Any]) -> Iterator[Sequence[Any]]:
    # IN lists of 500: under every driver's limit on bound parameters
    return (ids[lo : lo + 500] for lo in range(0, len(ids), 500))


def _pages(conn: sa.Connection, stmt: Any, key: Any) -> Iterator[Sequence[Any]]:
    """``stmt``'s rows in pages by ``key``, each in a short read transaction: a snapshot held for the
    whole pass would keep SQLite's WAL from being checkpointed (PostgreSQL's vacuum likewise)."""
    last = 0
    while rows := conn.execute(stmt.where(key > last).order_by(key).limit(PAGE)).all():
        last = rows[-1].id
        yield rows
        conn.rollback()


# -- the database itself --------------------------------------------------------------------
def _integrity(conn: sa.Connection) -> list[Problem]:
    if conn.dialect.name == "sqlite":
        rows = [r[0] for r in conn.exec_driver_sql("PRAGMA integrity_check")]
        if rows != ["ok"]:
            return [Problem("integrity", "SQLite integrity_check failed", len(rows), rows[:EXAMPLES])]
        return []
    out = []
    for message, sql in (
        ("invalid PostgreSQL index(es): REINDEX them",
         "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
         "JOIN pg_namespace n ON n.oid = c.relnamespace "
         "WHERE n.nspname = current_schema() AND NOT (i.indisvalid AND i.indisready)"),
        ("constraint(s) not validated",
         "SELECT con.conname FROM pg_constraint con JOIN pg_namespace n ON n.oid = con.connamespace "
         "WHERE n.nspname = current_schema() AND NOT con.convalidated"),
    ):
        names = conn.execute(sa.text(sql)).scalars().all()
        if names:
            out.append(Problem("integrity", message, len(names), list(names[:EXAMPLES])))
    return out


def _foreign_keys(conn: sa.Connection) -> list[Problem]:
    """Rows whose foreign key names a row that does not exist (one query per key, both dialects)."""
    out = []
    for table in Base.metadata.sorted_tables:
        for fk in table.foreign_keys:
            child, parent = fk.parent, fk.column
            alias = parent.table.alias("p")
            stmt = (sa.select(*table.primary_key.columns)
                    .select_from(table.outerjoin(alias, alias.c[parent.name] == child))
                    .where(child.is_not(None), alias.c[parent.name].is_(None)))
            rows = conn.execute(stmt.limit(EXAMPLES)).all()
            if rows:
                total = conn.execute(sa.select(sa.func.count()).select_from(stmt.subquery())).scalar_one()
                out.append(Problem("foreign_keys", f"{table.name}.{child.name} names a missing "
                                   f"{parent.table.name}.{parent.name}", int(total),
                                   [f"{table.name} {tuple(r) if len(r) > 1 else r[0]}" for r in rows]))
    return out


def _current_versions(conn: sa.Connection) -> list[Problem]:
    a, v = ArticleRow.__table__, ArticleVersion.__table__  # type: ignore[attr-defined]
    out = []
    for message, joined, where in (
        ("article(s) without a current version",
         a.outerjoin(v, v.c.id == a.c.current_version_id), v.c.id.is_(None)),
        ("article(s) whose current version belongs to another article",
         a.join(v, v.c.id == a.c.current_version_id), v.c.article_id != a.c.id),
    ):
        rows = conn.execute(sa.select(a.c.id, a.c.canonical_url).select_from(joined).where(where)
                            .order_by(a.c.id)).all()
        out += _found("current_version", message, [tuple(r) for r in rows])
    return out


# -- full-text search --------------------------------------------------------------------------
def _has_fts(conn: sa.Connection) -> bool:
    """SQLite: whether the FTS5 table articles_fts exists (its docsize table: one row per document)."""
    return conn.dialect.name == "sqlite" and conn.exec_driver_sql(
        "SELECT 1 FROM sqlite_master WHERE name = 'articles_fts'").first() is not None


def _fts(conn: sa.Connection) -> list[Problem]:
    if conn.dialect.name == "postgresql":
        return _pg_fts(conn)
    if not _has_fts(conn):
        return [Problem("fts", "the full-text table is missing")]
    current = "SELECT current_version_id FROM articles WHERE current_version_id IS NOT NULL"
    out = []
    for message, sql in (
        ("current version(s) not in the full-text index",
         f"{current} AND current_version_id NOT IN (SELECT id FROM articles_fts_docsize)"),
        ("version(s) in the full-text index that are not current",
         f"SELECT id FROM articles_fts_docsize WHERE id NOT IN ({current})"),
    ):
        ids = conn.exec_driver_sql(sql).scalars().all()
        if ids:
            out.append(Problem("fts", message, len(ids), [f"version {i}" for i in ids[:EXAMPLES]]))
    return out


def _fts_structure(engine: sa.Engine, notes: list[str]) -> list[Problem]:
    """SQLite: FTS5's own check of its index structure, an INSERT command that takes the write lock
    (a crawl writing meanwhile makes it a note), on a connection of its own."""
    with engine.connect() as conn:
        if not _has_fts(conn):
            return []
        try:
            conn.exec_driver_sql("INSERT INTO articles_fts(articles_fts) VALUES ('integrity-check')")
        except sa.exc.DatabaseError as exc:
            if is_locked(exc):
                notes.append("the full-text index's structure was not checked: the archive was being written")
                return []
            return [Problem("fts", f"the full-text index's structure is damaged ({exc.orig})")]
        finally:
            conn.rollback()
    return []


def _pg_fts(conn: sa.Connection) -> list[Problem]:
    # a generated column: always in step with the text; only its index can be missing
    found = conn.execute(sa.text(
        "SELECT 1 FROM pg_indexes WHERE schemaname = current_schema() "
        "AND indexname = 'ix_article_versions_search'")).first()
    return [] if found else [Problem("fts", "the full-text index ix_article_versions_search is missing")]


# -- per article: near-duplicates, links, topics ---------------------------------------------
#: each article with its current version
_ROOT = aliased(ArticleRow)
_CURRENT = (sa.select(ArticleRow.id, ArticleRow.canonical_url, ArticleRow.simhash, ArticleRow.cluster_id,
                      ArticleRow.published, ArticleRow.first_seen, ArticleVersion.headline,
                      ArticleVersion.body, ArticleVersion.topics, ArticleVersion.read_also,
                      # whether its cluster is a cluster's first article (whose cluster is itself)
                      sa.exists().where(_ROOT.id == ArticleRow.cluster_id, _ROOT.cluster_id == _ROOT.id)
                      .label("clustered"))
            .join(ArticleVersion, ArticleVersion.id == ArticleRow.current_version_id))


class _Expected(NamedTuple):
    """What a save of each article's current version stores beside it."""

    fps: dict[int, neardup.Fingerprint]
    missing_keys: dict[int, list[tuple[int, int, int]]]
    links: dict[int, list[tuple[str, str | None, int | None]]]  # (URL, title, article id it names)
    topics: dict[int, tuple[tuple[str, str], ...]]  # (name, key)


def _expected(conn: sa.Connection, rows: Sequence[Any]) -> _Expected:
    fps = {r.id: neardup.fingerprint(r.body, r.headline) for r in rows}
    links = {r.id: link_targets(Article(url="", read_also=r.read_also or [])) for r in rows}
    resolved = BatchWriter(conn).resolve_urls({u for pairs in links.values() for u, _ in pairs})
    return _Expected(fps, _missing_keys(conn, rows, fps),
                     {i: [(u, t, resolved.get(u)) for u, t in pairs] for i, pairs in links.items()},
                     {r.id: topic_names(Article(url="", topics=r.topics or [])) for r in rows})


def _per_article(conn: sa.Connection, total: int, progress: Progress | None) -> list[Problem]:
    kinds = {"simhash": ("neardup", "article(s) whose SimHash is not that of their current text"),
             "keys": ("neardup", "article(s) whose near-duplicate keys are not all in the index"),
             "cluster": ("neardup", "article(s) whose cluster is not a cluster's first article"),
             "links": ("links", "article(s) whose links differ from their current version's read-also links"),
             "topics": ("topics", "article(s) whose topics differ from their current version's")}
    found: dict[str, list[tuple[int, str]]] = {name: [] for name in kinds}
    done = 0
    for rows in _pages(conn, _CURRENT, ArticleRow.id):
        ids = [r.id for r in rows]
        want = _expected(conn, rows)
        links = _by_article(conn, sa.select(Link.from_article_id, Link.to_url, Link.title, Link.to_article_id)
                            .where(Link.from_article_id.in_(ids)))
        topics = _by_article(conn, sa.select(ArticleTopic.article_id, Topic.key).join(Topic)
                             .where(ArticleTopic.article_id.in_(ids)))
        for r in rows:
            url = r.canonical_url
            for name, bad, example in (
                ("simhash", r.simhash != want.fps[r.id].simhash, url),
                ("keys", bool(want.missing_keys.get(r.id)), url),
                ("cluster", not r.clustered, f"{url} (cluster {r.cluster_id})"),
                ("links", set(want.links[r.id]) != links.get(r.id, set()), url),
                ("topics", {(key,) for _, key in want.topics[r.id]} != topics.get(r.id, set()), url),
            ):
                if bad:
                    found[name].append((r.id, example))
        done += len(rows)
        if progress is not None:
            progress("articles", done, total)
    return [p for name, (kind, message) in kinds.items() for p in _found(kind, message, found[name])]


def _missing_keys(conn: sa.Connection, rows: Sequence[Any],
                  fps: dict[int, neardup.Fingerprint]) -> dict[int, list[tuple[int, int, int]]]:
    """Article id -> its (fortnight, key, article id) rows missing from neardup_keys, but for keys a
    save leaves out because KEY_CAP other articles of its fortnights hold them."""
    by_day: dict[int, list[Any]] = {}
    for r in rows:
        by_day.setdefault(save.day_of(r.published or r.first_seen), []).append(r)
    out: dict[int, list[tuple[int, int, int]]] = {}
    for day, group in by_day.items():
        found = save.lookup_keys(conn, save.fortnights_read(day), {k for r in group for k in fps[r.id].keys})
        for r in group:
            own = save.fortnight(day)
            missing = [(own, k, r.id) for k in fps[r.id].keys
                       if (own, r.id) not in found.get(k, ()) and len(found.get(k, ())) < save.KEY_CAP]
            if missing:
                out[r.id] = missing
    return out


def _by_article(conn: sa.Connection, stmt: Any) -> dict[int, set[tuple[Any, ...]]]:
    """The first column (an article id) -> the set of the rest of its rows."""
    out: dict[int, set[tuple[Any, ...]]] = {}
    for article_id, *rest in conn.execute(stmt):
        out.setdefault(article_id, set()).add(tuple(rest))
    return out


# -- raw captures ------------------------------------------------------------------------------
def _warc(conn: sa.Connection, directory: str | os.PathLike[str] | None,
          progress: Progress | None) -> list[Problem]:
    """Every version's WARC pointer opens, and the record there is the response for its URL."""
    bad: list[tuple[int, str]] = []
    total = int(conn.execute(sa.select(sa.func.count()).where(ArticleVersion.warc_file.is_not(None)))
                .scalar_one())
    done = 0
    stmt = sa.select(ArticleVersion.id, ArticleVersion.url, ArticleVersion.warc_file,
                     ArticleVersion.warc_offset).where(ArticleVersion.warc_file.is_not(None))
    for rows in _pages(conn, stmt, ArticleVersion.id):
        conn.rollback()  # the records are read without holding a snapshot
        for row in rows:
            try:
                response = read_response(row.warc_file, row.warc_offset or 0, directory=directory)
            except StorageError as exc:
                bad.append((row.id, f"version {row.id}: {exc}"))
                continue
            if response.url != row.url:
                bad.append((row.id, f"version {row.id}: the record at {row.warc_file}:{row.warc_offset} "
                            f"is {response.url}, not {row.url}"))
        done += len(rows)
        if progress is not None:
            progress("WARC records", done, total)
    return _found("warc", "version(s) whose raw response cannot be read", bad)


# -- repair ------------------------------------------------------------------------------------
def _repair(engine: sa.Engine, problems: list[Problem]) -> list[str]:
    kinds = {p.kind for p in problems}
    if "current_version" in kinds:
        kinds.add("fts")  # the index follows the current versions
    steps: list[tuple[str, Callable[[sa.Connection, list[int]], str]]] = [
        ("current_version", _repair_current), ("fts", _rebuild_fts), ("neardup", _repair_neardup),
        ("links", _repair_links), ("topics", _repair_topics)]
    done: list[str] = []
    for kind, step in steps:
        if kind in kinds:
            ids = sorted({i for p in problems if p.kind == kind for i in (p.article_ids or ())})
            with engine.connect().execution_options(newsarchive_write=True) as conn, conn.begin():
                done.append(step(conn, ids))
    return done


def _repair_current(conn: sa.Connection, article_ids: list[int]) -> str:
    """Point each article at its newest version, as a save would have (articles without any stay)."""
    newest = (sa.select(sa.func.max(ArticleVersion.id)).where(ArticleVersion.article_id == ArticleRow.id)
              .scalar_subquery())
    pointed = sum(conn.execute(sa.update(ArticleRow).where(ArticleRow.id.in_(chunk), newest.is_not(None))
                               .values(current_version_id=newest)).rowcount for chunk in _chunks(article_ids))
    return f"current_version: {pointed} article(s) pointed at their newest version"


def _rebuild_fts(conn: sa.Connection, _: list[int]) -> str:
    if conn.dialect.name == "postgresql":
        if not _pg_fts(conn):
            return "fts: in step (PostgreSQL's index follows the text)"
        conn.exec_driver_sql(PG_FTS_DDL[1])
        return "fts: ix_article_versions_search created"
    if not _has_fts(conn):
        raise StorageError("the full-text table is missing: run `newsarchive db upgrade` from an empty "
                           "archive or restore it from a backup")
    conn.exec_driver_sql("INSERT INTO articles_fts(articles_fts) VALUES ('delete-all')")
    conn.exec_driver_sql("INSERT INTO articles_fts(rowid, headline, body) SELECT v.id, "
                         "coalesce(v.headline, ''), coalesce(v.body, '') "
                         "FROM articles a JOIN article_versions v ON v.id = a.current_version_id")
    return f"fts: rebuilt from the {_indexed(conn)} current version(s)"


def _current_rows(conn: sa.Connection, article_ids: list[int]) -> tuple[list[Any], _Expected]:
    rows = [r for ids in _chunks(article_ids) for r in conn.execute(_CURRENT.where(ArticleRow.id.in_(ids)))]
    return rows, _expected(conn, rows)


def _repair_neardup(conn: sa.Connection, article_ids: list[int]) -> str:
    """SimHash and keys from the current text; a cluster that is no cluster becomes the article's own."""
    rows, want = _current_rows(conn, article_ids)
    for r in rows:
        conn.execute(sa.update(ArticleRow).where(ArticleRow.id == r.id).values(
            simhash=want.fps[r.id].simhash, cluster_id=r.cluster_id if r.clustered else r.id))
    missing = [row for rows_of in want.missing_keys.values() for row in rows_of]
    save.add_keys(conn, missing)
    return f"neardup: {len(rows)} article(s) re-fingerprinted, {len(missing)} key(s) added"


def _repair_links(conn: sa.Connection, article_ids: list[int]) -> str:
    rows, want = _current_rows(conn, article_ids)
    for chunk in _chunks(article_ids):
        conn.execute(sa.delete(Link).where(Link.from_article_id.in_(chunk)))
    edges = [{"from_article_id": a, "to_url": u, "title": t, "to_article_id": to}
             for a, links in want.links.items() for u, t, to in links]
    insert_ignore(conn, Link.__table__, edges)  # type: ignore[arg-type]
    return f"links: {len(edges)} link(s) of {len(rows)} article(s) rebuilt"


def _repair_topics(conn: sa.Connection, article_ids: list[int]) -> str:
    rows, want = _current_rows(conn, article_ids)
    pairs = save.replace_topics(conn, want.topics, article_ids)
    return f"topics: {pairs} topic link(s) of {len(rows)} article(s) rebuilt"