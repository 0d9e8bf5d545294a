"""Import article pages from WARC files into the archive, as a crawl would store them.

A record is taken when it is a response whose ``WARC-Target-URI`` is an article page of a
known source: the source's spider declares its hosts (site profile domains) and its
``article_pattern``/``deny_patterns``, the same rule a crawl follows links by. With
``take_all`` every HTML response is taken and extracted generically (a known host still gets
its profile). Pages go through the crawl's own steps: ``newsarchive.extract`` with the
source's profile, the validate pipeline's rule, then ``Archive.save_batch`` (dedup, versions,
near-duplicates, read-also links) through ``stream.save_stream``, whose worker process prepares
the next batches meanwhile.

Raw-capture pointer: a record of a local file is pointed at where it is (absolute path, byte
offset, record length), so ``newsarchive reextract`` reads it there. A record read over HTTP,
or one whose stored payload is chunked or brotli-coded, is copied into the archive's own WARC
files first (only the records kept, never the whole file).

Counters use the crawl's stats names (``response_received_count``, ``newsarchive/<outcome>``,
``newsarchive/skipped/<reason>``, ``newsarchive/fill/<field>``), so a run record gets the same
counts and fill rates as a crawl (``newsarchive.crawl.runner.summarise``).
"""

from __future__ import annotations

import logging
import re
import time
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from newsarchive.article import (
    DEFAULT_MIN_BODY_CHARS,
    FILL_FIELDS,
    Article,
    FetchInfo,
    skip_reason,
    warning_kinds,
)
from newsarchive.errors import ConfigError
from newsarchive.extract.profile import SiteProfile
from newsarchive.stream import PreparePool, save_stream
from newsarchive.urls import canonical_url
from newsarchive.warcfiles import Capture, ReadCounts, WarcLocation, iter_captures, shown

log = logging.getLogger(__name__)
#: exit statuses of import-warc and backfill (as a crawl's: newsarchive.crawl.runner)
EXIT_OK, EXIT_ERROR, EXIT_FAILED, EXIT_INTERRUPTED = 0, 1, 3, 4
BATCH = 100
KEPT = frozenset({"new", "updated", "unchanged"})
#: pages dropped before storing, with the validate pipeline's reasons
MIN_BODY_CHARS = DEFAULT_MIN_BODY_CHARS


@dataclass(frozen=True)
class SourceRule:
    """What makes a URL an article page of one source (from its spider's declaration)."""

    key: str
    profile: SiteProfile | None
    hosts: tuple[str, ...]
    article_re: re.Pattern[str]
    deny_res: tuple[re.Pattern[str], ...]

    def is_article(self, url: str) -> bool:
        parts = canonical_url(url).partition("://")[2]
        path = "/" + parts.partition("/")[2]
        target = path.split("#", 1)[0]
        if any(r.search(target) for r in self.deny_res):
            return False
        return bool(self.article_re.search(target))


def load_rules(names: Sequence[str] = ()) -> list[SourceRule]:
    """The rules of the named sources (all sources when none is named)."""
    from newsarchive.crawl.loader import SourceLoader
    from newsarchive.crawl.runner import project_settings

    loader = SourceLoader.from_settings(project_settings())
    known = sorted(loader.list())
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ConfigError(f"unknown source {', '.join(map(repr, unknown))} (known: {', '.join(known)})")
    rules = []
    for name in names or known:
        cls = loader.load(name)
        profile = getattr(cls, "profile", None)
        base = str(getattr(cls, "base_url", "") or "")
        hosts = {base.partition("://")[2].split("/", 1)[0].lower()} if base else set()
        if profile is not None:
            hosts.update(d.lower().lstrip(".") for d in profile.domains)
        rules.append(SourceRule(
            key=name, profile=profile, hosts=tuple(sorted(h for h in hosts if h)),
            article_re=re.compile(getattr(cls, "article_pattern", ".")),
            deny_res=tuple(re.compile(p) for p in getattr(cls, "deny_patterns", ())),
        ))
    return rules


class Matcher:
    """Decides on a record's target URI alone which source's article page it is (or none)."""

    def __init__(self, rules: Sequence[SourceRule], *, take_all: bool = False) -> None:
        self.take_all = take_all
        self.by_host: dict[str, list[SourceRule]] = {}
        for rule in rules:
            for host in rule.hosts:
                self.by_host.setdefault(host, []).append(rule)
        self._cache: dict[str, list[SourceRule]] = {}

    def hosts(self) -> list[str]:
        return sorted(self.by_host)

    def _rules_for(self, host: str) -> list[SourceRule]:
        found = self._cache.get(host)
        if found is None:
            found = []
            name = host
            while name:  # the host itself, then each parent domain (news.example.com -> example.com)
                found.extend(self.by_host.get(name, ()))
                name = name.partition(".")[2]
            if len(self._cache) > 100_000:
                self._cache.clear()
            self._cache[host] = found
        return found

    def __call__(self, uri: str, host: str) -> SourceRule | bool | None:
        """The matching rule; True for a page taken by ``take_all`` only; None to skip."""
        rules = self._rules_for(host)
        for rule in rules:
            if rule.is_article(uri):
                return rule
        if self.take_all and uri.startswith(("http://", "https://")):
            return True
        return None


@dataclass
class ImportStats:
    """Crawl-style stats (see module docstring) plus what reading the files saw."""

    values: dict[str, int] = field(default_factory=dict)
    read: ReadCounts = field(default_factory=ReadCounts)
    errors: list[str] = field(default_factory=list)

    def inc_value(self, key: str, count: int = 1) -> None:
        self.values[key] = self.values.get(key, 0) + count

    def merge(self, other: dict[str, Any]) -> None:
        for key, value in other.get("values", {}).items():
            self.inc_value(key, int(value))
        for key, value in other.get("read", {}).items():
            setattr(self.read, key, getattr(self.read, key) + int(value))
        self.errors.extend(other.get("errors", [])[: max(0, 50 - len(self.errors))])

    def to_dict(self) -> dict[str, Any]:
        return {"values": dict(self.values), "read": self.read.as_dict(), "errors": list(self.errors)}

    @property
    def kept(self) -> int:
        return sum(self.values.get(f"newsarchive/{k}", 0) for k in KEPT)


def run_counts(stats: ImportStats) -> tuple[dict[str, Any], dict[str, float]]:
    """A run record's counts and fill rates: the crawl's, plus the WARC reading figures."""
    from newsarchive.crawl.runner import summarise

    counts, skipped, _, fill_rates = summarise(stats.values)
    result: dict[str, Any] = dict(counts)
    for key, value in skipped.items():
        result[f"skipped/{key}"] = value
    for key, value in stats.read.as_dict().items():
        result[f"warc/{key}"] = value
    for key, value in stats.values.items():
        if key.startswith("newsarchive/warning/"):
            result[key.removeprefix("newsarchive/")] = value
    return result, fill_rates


class Importer:
    """Reads WARC files into one archive under one run id (see module docstring)."""

    def __init__(self, archive: Any, matcher: Matcher, *, run_id: int | None, stats: ImportStats,
                 save_workers: int | None = None, warc_directory: str | None = None) -> None:
        self.archive = archive
        self.matcher = matcher
        self.run_id = run_id
        self.stats = stats
        #: prepares the next batches while one is written (save_workers processes; None: stream's default)
        self.pool = PreparePool(save_workers)
        self.warc_directory = warc_directory
        self._copy: Any = None

    def close(self) -> None:
        self.pool.close()
        if self._copy is not None:
            self._copy.close()
            self._copy = None

    def import_file(self, location: str, *, attempts: int = 5, backoff: float = 0.5,
                    counts: ReadCounts | None = None) -> ReadCounts:
        """Store the wanted pages of one WARC file; raises FetchError when it cannot be read.

        ``counts`` (filled as the file is read) lets another thread report progress.
        """
        where = WarcLocation(location, attempts=attempts, backoff=backoff)
        counts = counts if counts is not None else ReadCounts()
        started = time.monotonic()
        try:
            captures = iter_captures(where, self.matcher, counts)
            pending: deque[list[Article]] = deque()
            batches = _batches(self._articles(captures, where), pending)
            for results in save_stream(self.archive.save_batch, batches, self.pool, self.run_id):
                self._count(pending.popleft(), results)
        finally:
            counts.retries += where.retries
            for key, value in counts.as_dict().items():
                setattr(self.stats.read, key, getattr(self.stats.read, key) + value)
            room = max(0, 50 - len(self.stats.errors))
            self.stats.errors.extend(counts.errors[:room])
        log.info("%s: %d records, %d wanted, %d corrupt in %.1f s", shown(location), counts.records,
                 counts.wanted, counts.corrupt, time.monotonic() - started)
        return counts

    def _articles(self, captures: Iterable[Capture[Any]], where: WarcLocation) -> Iterator[Article]:
        for capture in captures:
            article = self._extract(capture, where)
            if article is not None:
                yield article

    def _extract(self, capture: Capture[Any], where: WarcLocation) -> Article | None:
        from newsarchive.extract import extract

        self.stats.inc_value("response_received_count")
        rule = capture.target if isinstance(capture.target, SourceRule) else None
        try:
            article = extract(capture.body, capture.url, profile=rule.profile if rule else None)
        except Exception as exc:  # one bad page must never stop an import; counted and logged
            self.stats.inc_value("newsarchive/skipped/extract_error")
            log.warning("extraction failed for %s: %s: %s", capture.url, type(exc).__name__, exc)
            return None
        if rule is not None:
            article.source = rule.key
        article.fetched_at = capture.fetched_at

        for kind in warning_kinds(article):
            self.stats.inc_value(f"newsarchive/warning/{kind}")
        reason = skip_reason(article, MIN_BODY_CHARS)
        if reason is not None:
            self.stats.inc_value(f"newsarchive/skipped/{reason}")
            return None
        warc_file, offset, length = self._pointer(capture, where)
        article.fetch = FetchInfo(
            status=capture.status, etag=_header(capture, "ETag"),
            last_modified=_header(capture, "Last-Modified"),
            warc_file=warc_file, warc_offset=offset, warc_length=length, discovered_via="warc",
        )
        return article

    def _pointer(self, capture: Capture[Any], where: WarcLocation) -> tuple[str, int, int]:
        if capture.plain and not where.remote:
            return where.name, capture.offset, capture.length
        if self._copy is None:
            from newsarchive.capture import WarcWriter

            self._copy = WarcWriter(self.warc_directory, prefix="newsarchive-import")
        # the body as extracted (codings undone), so its headers must not announce them
        headers = [(k, v) for k, v in capture.headers
                   if k.lower() not in ("transfer-encoding", "content-encoding", "content-length")]
        ref = self._copy.write_response(capture.url, status=capture.status, headers=headers,
                                        body=capture.body, fetched_at=capture.fetched_at)
        return ref.file, ref.offset, ref.length

    def _count(self, batch: list[Article], results: Sequence[Any]) -> None:
        for article, result in zip(batch, results, strict=True):
            self.stats.inc_value(f"newsarchive/{result.outcome}")
            if result.outcome in KEPT:
                for name in FILL_FIELDS:
                    if getattr(article, name):
                        self.stats.inc_value(f"newsarchive/fill/{name}")


def run_source(kind: str, sources: Sequence[str], take_all: bool) -> str:
    """The run record's source: the one source imported, else the kind of import."""
    return sources[0] if len(sources) == 1 and not take_all else kind


def _batches(articles: Iterable[Article], pending: deque[list[Article]]) -> Iterator[list[Article]]:
    batch: list[Article] = []
    for article in articles:
        batch.append(article)
        if len(batch) >= BATCH:
            pending.append(batch)
            yield batch
            batch = []
    if batch:
        pending.append(batch)
        yield batch


def _header(capture: Capture[Any], name: str) -> str | None:
    lname = name.lower()
    return next((v for k, v in capture.headers if k.lower() == lname), None)


def import_warcs(locations: Sequence[str], *, sources: Sequence[str] = (), take_all: bool = False,
                 db: str | None = None, out: Any = None) -> int:
    """``newsarchive import-warc``: one run record for all the files; returns the exit status.

    0 when every file was read (damaged records are counted, not fatal), 3 when a file could
    not be read (the others are still imported), 1 on a clear error before reading.
    """
    import sys

    from newsarchive.storage import Archive
    from newsarchive.warcfiles import FetchError

    out = out or sys.stderr
    rules = load_rules(sources)
    matcher = Matcher(rules, take_all=take_all)
    stats = ImportStats()
    started = time.monotonic()
    with Archive(db) as archive:
        source = run_source("warc-import", tuple(sources), take_all)
        archive.fail_stale_runs(source)
        run_id = archive.start_run(source, {"files": [shown(x) for x in locations], "sources": list(sources),
                                            "all": take_all})
        importer = Importer(archive, matcher, run_id=run_id, stats=stats)
        failed: list[str] = []
        status, code = "finished", EXIT_OK
        try:
            for location in locations:
                try:
                    importer.import_file(location)
                except FetchError as exc:
                    failed.append(str(exc))
                    stats.errors.append(str(exc)[:500])
                    print(f"error: {exc}", file=out)
        except KeyboardInterrupt:
            status, code = "interrupted", EXIT_INTERRUPTED
        finally:
            importer.close()
            if failed and code == EXIT_OK:
                status, code = "failed", EXIT_FAILED
            counts, fill_rates = run_counts(stats)
            elapsed = time.monotonic() - started
            counts["elapsed_s"] = round(elapsed, 1)
            counts["records_per_s"] = round(stats.read.records / elapsed, 1) if elapsed > 0 else 0
            archive.finish_run(run_id, status=status, counts=counts, fill_rates=fill_rates,
                               errors=stats.errors, exit_status=code)
    r = stats.read
    print(f"import-warc: {status} in {elapsed:.1f} s (run {run_id}, exit {code})\n"
          f"  files              {len(locations) - len(failed)}/{len(locations)} read\n"
          f"  records read       {r.records} ({r.wanted} article pages, {r.corrupt} damaged, "
          f"{r.not_html} not HTML, {r.revisits} revisits)\n"
          f"  articles stored    {counts['stored']} new, {counts['updated']} updated, "
          f"{counts['unchanged']} unchanged, {counts['duplicates']} duplicates\n"
          f"  skipped            {counts['skipped']}", file=out)
    return code
