"""``newsarchive db check``: is the archive whole, and rebuild what can be rebuilt from it.

Each check reads the archive and lists problems; ``repair`` then rebuilds the derived data
(current-version pointers, the full-text index, links, topics, near-duplicate keys and
SimHashes) from the stored versions, which are never changed, and the check runs again.
Damage to the versions themselves, a broken database file or an unreadable WARC record is
reported only: there is nothing to rebuild them from.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from newsarchive.article import Article
from newsarchive.errors import StorageError
from newsarchive.storage import neardup, save
from newsarchive.storage.engine import is_locked
from newsarchive.storage.models import (
    PG_FTS_DDL,
    ArticleRow,
    ArticleTopic,
    ArticleVersion,
    Base,
    Link,
    Topic,
)
from newsarchive.storage.save import (
    BatchWriter,
    add_keys,
    day_of,
    fortnights_read,
    insert_ignore,
    link_targets,
    lookup_keys,
    topic_names,
)
from newsarchive.storage.warc import read_response

#: examples listed per problem
EXAMPLES = 5
#: articles read per page of the per-article checks
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
        result.counts = _counts(conn)
        found = result.problems
        found += _integrity(conn)
        found += _foreign_keys(conn)
        found += _current_versions(conn)
        found += _fts(conn)
        found += _per_article(conn, result.counts.get("articles", 0), progress)
        if check_warc:
            found += _warc(conn, warc_directory, progress)
    return result


def _counts(conn: sa.Connection) -> dict[str, int]:
    out = {table.name: int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())
           for table in Base.metadata.sorted_tables}
    fts = _fts_table(conn)
    if fts is not None:
        indexed = conn.exec_driver_sql(f'SELECT count(*) FROM "{fts}_docsize"').scalar_one()
        out[f"{fts} (indexed)"] = int(indexed)
    return out


# -- the database itself --------------------------------------------------------------------
def _integrity(conn: sa.Connection) -> list[Problem]:
    if conn.dialect.name == "sqlite":
        rows = [r[0] for r in conn.exec_driver_sql("PRAGMA integrity_check")]
        if rows != ["ok"]:
            return [Problem("integrity", "SQLite integrity_check failed", len(rows), rows[:EXAMPLES])]
        return []
    out = []
    invalid = conn.execute(sa.text(
        "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = current_schema() AND NOT (i.indisvalid AND i.indisready)")).scalars().all()
    if invalid:
        out.append(Problem("integrity", "invalid PostgreSQL index(es): REINDEX them", len(invalid),
                           list(invalid[:EXAMPLES])))
    unvalidated = conn.execute(sa.text(
        "SELECT con.conname FROM pg_constraint con JOIN pg_namespace n ON n.oid = con.connamespace "
        "WHERE n.nspname = current_schema() AND NOT con.convalidated")).scalars().all()
    if unvalidated:
        out.append(Problem("integrity", "constraint(s) not validated", len(unvalidated),
                           list(unvalidated[:EXAMPLES])))
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


# -- current versions ------------------------------------------------------------------------
def _current_versions(conn: sa.Connection) -> list[Problem]:
    a, v = ArticleRow.__table__, ArticleVersion.__table__  # type: ignore[attr-defined]
    out = []
    missing = conn.execute(
        sa.select(a.c.id, a.c.canonical_url).select_from(a.outerjoin(v, v.c.id == a.c.current_version_id))
        .where(v.c.id.is_(None)).order_by(a.c.id)).all()
    if missing:
        out.append(Problem("current_version", "article(s) without a current version", len(missing),
                           [r.canonical_url for r in missing[:EXAMPLES]], [r.id for r in missing]))
    foreign = conn.execute(
        sa.select(a.c.id, a.c.canonical_url).select_from(a.join(v, v.c.id == a.c.current_version_id))
        .where(v.c.article_id != a.c.id).order_by(a.c.id)).all()
    if foreign:
        out.append(Problem("current_version", "article(s) whose current version belongs to another article",
                           len(foreign), [r.canonical_url for r in foreign[:EXAMPLES]],
                           [r.id for r in foreign]))
    return out


# -- full-text search --------------------------------------------------------------------------
def _fts_table(conn: sa.Connection) -> str | None:
    """SQLite: the FTS5 table over article versions (found by its declaration), None elsewhere."""
    if conn.dialect.name != "sqlite":
        return None
    for name, sql in conn.exec_driver_sql("SELECT name, sql FROM sqlite_master WHERE type = 'table'"):
        if sql and re.search(r"using\s+fts5", sql, re.I) and "article_versions" in sql:
            return str(name)
    return None


def _fts(conn: sa.Connection) -> list[Problem]:
    if conn.dialect.name == "postgresql":
        return _pg_fts(conn)
    fts = _fts_table(conn)
    if fts is None:
        return [Problem("fts", "the full-text table is missing", 1, article_ids=None)]
    out = []
    # the docsize table holds one row per indexed document: its ids must be the current versions
    missing = conn.exec_driver_sql(
        f'SELECT a.current_version_id FROM articles a WHERE a.current_version_id IS NOT NULL '
        f'AND a.current_version_id NOT IN (SELECT id FROM "{fts}_docsize")').scalars().all()
    extra = conn.exec_driver_sql(
        f'SELECT d.id FROM "{fts}_docsize" d WHERE d.id NOT IN '
        f'(SELECT current_version_id FROM articles WHERE current_version_id IS NOT NULL)').scalars().all()
    if missing:
        out.append(Problem("fts", "current version(s) not in the full-text index", len(missing),
                           [f"version {i}" for i in missing[:EXAMPLES]]))
    if extra:
        out.append(Problem("fts", "version(s) in the full-text index that are not current", len(extra),
                           [f"version {i}" for i in extra[:EXAMPLES]]))
    return out


def _fts_structure(engine: sa.Engine, notes: list[str]) -> list[Problem]:
    """SQLite: FTS5's own check of its index structure, on a connection of its own.

    The check is an INSERT command, so it waits for (and then holds) the write lock; a crawl
    writing meanwhile makes it a note, not a problem. FTS5's comparison with the content table
    does not apply: only current versions are indexed, the content table holds all of them.
    """
    with engine.connect() as conn:
        fts = _fts_table(conn)
        if fts is None:
            return []
        try:
            conn.exec_driver_sql(f"INSERT INTO \"{fts}\"(\"{fts}\") VALUES ('integrity-check')")
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
def _pages(conn: sa.Connection) -> Iterator[Sequence[Any]]:
    last = 0
    while True:
        rows = conn.execute(
            sa.select(ArticleRow.id, ArticleRow.canonical_url, ArticleRow.simhash, ArticleRow.cluster_id,
                      ArticleRow.published, ArticleRow.first_seen, ArticleVersion.headline,
                      ArticleVersion.body, ArticleVersion.topics, ArticleVersion.read_also)
            .join(ArticleVersion, ArticleVersion.id == ArticleRow.current_version_id)
            .where(ArticleRow.id > last).order_by(ArticleRow.id).limit(PAGE)).all()
        if not rows:
            return
        yield rows
        last = rows[-1].id
        # one short read transaction per page: a snapshot held for the whole pass would keep
        # SQLite's WAL from being checkpointed (PostgreSQL's vacuum likewise) during a crawl
        conn.rollback()


class _Tally:
    """Problems of one kind gathered over the pages of articles."""

    def __init__(self, kind: str, message: str) -> None:
        self.kind, self.message = kind, message
        self.ids: list[int] = []
        self.examples: list[str] = []

    def add(self, article_id: int, example: str) -> None:
        self.ids.append(article_id)
        if len(self.examples) < EXAMPLES:
            self.examples.append(example)

    def problem(self) -> list[Problem]:
        if not self.ids:
            return []
        return [Problem(self.kind, self.message, len(self.ids), self.examples, self.ids)]


def _per_article(conn: sa.Connection, total: int, progress: Progress | None) -> list[Problem]:
    writer = BatchWriter(conn)  # read-only use: its URL resolution
    simhash = _Tally("neardup", "article(s) whose SimHash is not that of their current text")
    keys = _Tally("neardup", "article(s) whose near-duplicate keys are not all in the index")
    cluster = _Tally("neardup", "article(s) whose cluster is not a cluster's first article")
    links = _Tally("links", "article(s) whose links differ from their current version's read-also links")
    topics = _Tally("topics", "article(s) whose topics differ from their current version's")
    done = 0
    for rows in _pages(conn):
        ids = [r.id for r in rows]
        fps = {r.id: neardup.fingerprint(r.body, r.headline) for r in rows}
        missing_keys = _missing_keys(conn, rows, fps)
        roots = _cluster_roots(conn, {r.cluster_id for r in rows if r.cluster_id is not None})
        stored_links = _stored_links(conn, ids)
        stored_topics = _stored_topics(conn, ids)
        wanted_links = {r.id: dict(link_targets(Article(url="", read_also=r.read_also or []))) for r in rows}
        resolved = writer.resolve_urls({u for targets in wanted_links.values() for u in targets})
        for r in rows:
            fp = fps[r.id]
            if r.simhash != fp.simhash:
                simhash.add(r.id, r.canonical_url)
            if missing_keys.get(r.id):
                keys.add(r.id, r.canonical_url)
            if r.cluster_id is None or r.cluster_id not in roots:
                cluster.add(r.id, f"{r.canonical_url} (cluster {r.cluster_id})")
            want = {(u, t, resolved.get(u)) for u, t in wanted_links[r.id].items()}
            if want != stored_links.get(r.id, set()):
                links.add(r.id, r.canonical_url)
            names = {key for _, key in topic_names(Article(url="", topics=r.topics or []))}
            if names != stored_topics.get(r.id, set()):
                topics.add(r.id, r.canonical_url)
        done += len(rows)
        if progress is not None:
            progress("articles", done, total)
    return [*simhash.problem(), *keys.problem(), *cluster.problem(), *links.problem(), *topics.problem()]


def _missing_keys(conn: sa.Connection, rows: Sequence[Any],
                  fps: dict[int, neardup.Fingerprint]) -> dict[int, list[tuple[int, int, int]]]:
    """Article id -> its (fortnight, key, article id) rows missing from neardup_keys, but for keys a
    save leaves out because KEY_CAP other articles of its fortnights hold them."""
    by_day: dict[int, list[Any]] = {}
    for r in rows:
        by_day.setdefault(day_of(r.published or r.first_seen), []).append(r)
    out: dict[int, list[tuple[int, int, int]]] = {}
    for day, group in by_day.items():
        found = lookup_keys(conn, fortnights_read(day), {k for r in group for k in fps[r.id].keys})
        for r in group:
            missing = [(day // 14, k, r.id) for k in fps[r.id].keys
                       if (day // 14, r.id) not in found.get(k, ()) and len(found.get(k, ())) < save.KEY_CAP]
            if missing:
                out[r.id] = missing
    return out


def _cluster_roots(conn: sa.Connection, cluster_ids: set[int]) -> set[int]:
    """The ids among ``cluster_ids`` that are a cluster's first article (its cluster is itself)."""
    out: set[int] = set()
    ordered = sorted(cluster_ids)
    for lo in range(0, len(ordered), 500):
        out.update(conn.execute(sa.select(ArticleRow.id).where(
            ArticleRow.id.in_(ordered[lo : lo + 500]), ArticleRow.cluster_id == ArticleRow.id)).scalars())
    return out


_Edge = tuple[str, str | None, int | None]


def _stored_links(conn: sa.Connection, ids: Sequence[int]) -> dict[int, set[_Edge]]:
    out: dict[int, set[_Edge]] = {}
    for row in conn.execute(sa.select(Link.from_article_id, Link.to_url, Link.title, Link.to_article_id)
                            .where(Link.from_article_id.in_(ids))):
        out.setdefault(row.from_article_id, set()).add((row.to_url, row.title, row.to_article_id))
    return out


def _stored_topics(conn: sa.Connection, ids: Sequence[int]) -> dict[int, set[str]]:
    out: dict[int, set[str]] = {}
    for row in conn.execute(sa.select(ArticleTopic.article_id, Topic.key)
                            .join(Topic, Topic.id == ArticleTopic.topic_id)
                            .where(ArticleTopic.article_id.in_(ids))):
        out.setdefault(row.article_id, set()).add(row.key)
    return out


# -- raw captures ------------------------------------------------------------------------------
def _warc(conn: sa.Connection, directory: str | os.PathLike[str] | None,
          progress: Progress | None) -> list[Problem]:
    """Every version's WARC pointer opens, and the record there is the response for its URL."""
    bad = _Tally("warc", "version(s) whose raw response cannot be read")
    total = int(conn.execute(sa.select(sa.func.count()).where(ArticleVersion.warc_file.is_not(None)))
                .scalar_one())
    done = 0
    last = 0
    while True:
        rows = conn.execute(
            sa.select(ArticleVersion.id, ArticleVersion.url, ArticleVersion.warc_file,
                      ArticleVersion.warc_offset)
            .where(ArticleVersion.id > last, ArticleVersion.warc_file.is_not(None))
            .order_by(ArticleVersion.id).limit(PAGE)).all()
        if not rows:
            break
        conn.rollback()  # the records are read without holding a snapshot (see _pages)
        last = rows[-1].id
        for row in rows:
            try:
                response = read_response(row.warc_file, row.warc_offset or 0, directory=directory)
            except StorageError as exc:
                bad.add(row.id, f"version {row.id}: {exc}")
                continue
            if response.url != row.url:
                bad.add(row.id, f"version {row.id}: the record at {row.warc_file}:{row.warc_offset} "
                        f"is {response.url}, not {row.url}")
        done += len(rows)
        if progress is not None:
            progress("WARC records", done, total)
    return bad.problem()


# -- repair ------------------------------------------------------------------------------------
def _repair(engine: sa.Engine, problems: list[Problem]) -> list[str]:
    done: list[str] = []
    kinds = {p.kind for p in problems}

    def ids(kind: str) -> list[int]:
        return sorted({i for p in problems if p.kind == kind for i in (p.article_ids or ())})

    steps: list[tuple[str, Callable[[sa.Connection], str]]] = []
    if "current_version" in kinds:
        steps.append(("current_version", lambda conn: _repair_current(conn, ids("current_version"))))
    if kinds & {"current_version", "fts"}:
        steps.append(("fts", _rebuild_fts))
    if "neardup" in kinds:
        steps.append(("neardup", lambda conn: _repair_neardup(conn, ids("neardup"))))
    if "links" in kinds:
        steps.append(("links", lambda conn: _repair_links(conn, ids("links"))))
    if "topics" in kinds:
        steps.append(("topics", lambda conn: _repair_topics(conn, ids("topics"))))
    for _, step in steps:
        with engine.connect().execution_options(newsarchive_write=True) as conn, conn.begin():
            done.append(step(conn))
    return done


def _repair_current(conn: sa.Connection, article_ids: list[int]) -> str:
    """Point each article at its newest version, as a save would have (articles without any stay)."""
    pointed = 0
    for lo in range(0, len(article_ids), 500):
        chunk = article_ids[lo : lo + 500]
        newest = conn.execute(sa.select(ArticleVersion.article_id, sa.func.max(ArticleVersion.id))
                              .where(ArticleVersion.article_id.in_(chunk))
                              .group_by(ArticleVersion.article_id)).all()
        for article_id, version_id in newest:
            conn.execute(sa.update(ArticleRow).where(ArticleRow.id == article_id)
                         .values(current_version_id=version_id))
            pointed += 1
    return f"current_version: {pointed} article(s) pointed at their newest version"


def _rebuild_fts(conn: sa.Connection) -> str:
    if conn.dialect.name == "postgresql":
        if not _pg_fts(conn):
            return "fts: in step (PostgreSQL's index follows the text)"
        conn.exec_driver_sql(PG_FTS_DDL[1])
        return "fts: ix_article_versions_search created"
    fts = _fts_table(conn)
    if fts is None:
        raise StorageError("the full-text table is missing: run `newsarchive db upgrade` from an empty "
                           "archive or restore it from a backup")
    columns = [r[1] for r in conn.exec_driver_sql(f'PRAGMA table_info("{fts}")')]
    selected = ", ".join(f"coalesce(v.{c}, '')" for c in columns)
    conn.exec_driver_sql(f"INSERT INTO \"{fts}\"(\"{fts}\") VALUES ('delete-all')")
    conn.exec_driver_sql(
        f'INSERT INTO "{fts}"(rowid, {", ".join(columns)}) SELECT v.id, {selected} '
        f"FROM articles a JOIN article_versions v ON v.id = a.current_version_id")
    count = conn.exec_driver_sql(f'SELECT count(*) FROM "{fts}_docsize"').scalar_one()
    return f"fts: rebuilt from the {count} current version(s)"


def _current_rows(conn: sa.Connection, article_ids: list[int]) -> Iterator[Any]:
    for lo in range(0, len(article_ids), 500):
        yield from conn.execute(
            sa.select(ArticleRow.id, ArticleRow.cluster_id, ArticleRow.published, ArticleRow.first_seen,
                      ArticleVersion.headline, ArticleVersion.body, ArticleVersion.topics,
                      ArticleVersion.read_also)
            .join(ArticleVersion, ArticleVersion.id == ArticleRow.current_version_id)
            .where(ArticleRow.id.in_(article_ids[lo : lo + 500])))


def _repair_neardup(conn: sa.Connection, article_ids: list[int]) -> str:
    """SimHash and lookup keys from the current text; a cluster that is no cluster becomes the
    article's own."""
    rows = list(_current_rows(conn, article_ids))
    fps = {r.id: neardup.fingerprint(r.body, r.headline) for r in rows}
    missing = [row for rows_of in _missing_keys(conn, rows, fps).values() for row in rows_of]
    roots = _cluster_roots(conn, {r.cluster_id for r in rows if r.cluster_id is not None})
    for r in rows:
        cluster = r.cluster_id if r.cluster_id in roots else r.id
        conn.execute(sa.update(ArticleRow).where(ArticleRow.id == r.id)
                     .values(simhash=fps[r.id].simhash, cluster_id=cluster))
    add_keys(conn, missing)
    return f"neardup: {len(rows)} article(s) re-fingerprinted, {len(missing)} key(s) added"


def _repair_links(conn: sa.Connection, article_ids: list[int]) -> str:
    writer = BatchWriter(conn)
    rows = list(_current_rows(conn, article_ids))
    for lo in range(0, len(article_ids), 500):
        conn.execute(sa.delete(Link).where(Link.from_article_id.in_(article_ids[lo : lo + 500])))
    edges = {(r.id, u): t for r in rows
             for u, t in link_targets(Article(url="", read_also=r.read_also or []))}
    resolved = writer.resolve_urls({u for _, u in edges})
    insert_ignore(conn, Link.__table__,  # type: ignore[arg-type]
                  [{"from_article_id": a, "to_url": u, "title": t, "to_article_id": resolved.get(u)}
                   for (a, u), t in edges.items()])
    return f"links: {len(edges)} link(s) of {len(rows)} article(s) rebuilt"


def _repair_topics(conn: sa.Connection, article_ids: list[int]) -> str:
    rows = list(_current_rows(conn, article_ids))
    for lo in range(0, len(article_ids), 500):
        conn.execute(sa.delete(ArticleTopic).where(ArticleTopic.article_id.in_(article_ids[lo : lo + 500])))
    wanted = {r.id: topic_names(Article(url="", topics=r.topics or [])) for r in rows}
    names = {key: clean for pairs in wanted.values() for clean, key in pairs}
    insert_ignore(conn, Topic.__table__,  # type: ignore[arg-type]
                  [{"key": k, "name": v} for k, v in sorted(names.items())])
    topic_ids: dict[str, int] = {}
    keys = sorted(names)
    for lo in range(0, len(keys), 500):
        topic_ids.update((r.key, r.id) for r in conn.execute(
            sa.select(Topic.id, Topic.key).where(Topic.key.in_(keys[lo : lo + 500]))))
    pairs = [{"article_id": a, "topic_id": topic_ids[k]} for a, ps in wanted.items() for _, k in ps]
    insert_ignore(conn, ArticleTopic.__table__, pairs)  # type: ignore[arg-type]
    return f"topics: {len(pairs)} topic link(s) of {len(rows)} article(s) rebuilt"
