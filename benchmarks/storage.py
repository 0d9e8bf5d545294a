"""Storage benchmark on SQLite with synthetic articles (not a test: it prints its figures).

    .venv/bin/python benchmarks/storage.py                          # 10k and 100k, a few minutes
    .venv/bin/python benchmarks/storage.py --sizes 10000,100000,1000000 --db-dir /tmp/bench
    .venv/bin/python benchmarks/storage.py --export-only sqlite:////tmp/bench/na-bench-x/bench.sqlite

One database grows through the sizes in order; at each size it measures

* insert rate: articles/s by wall clock through ``stream.save_stream`` (``save_batch`` on
  batches of ``--batch``, the next batches prepared by ``--workers`` processes), for the whole
  segment that brought the archive to this size and for its last 10k articles, with the CPU
  time per article of all the processes;
* near-duplicate lookup: per probe article, the key lookup and candidate checks ``save_batch``
  runs (``BatchWriter.find_clusters``) on articles that are not in the archive: new stories,
  and for every ten of them one edited copy of an archived article, one partial copy (its first
  half, as page 1 of 2) and one new story quoting 40% of an archived one. Copies must be found,
  new and quoting stories must not; plus the fingerprint time (size-independent);
* full-text search latency p50/p95 through ``Archive.search`` over a fixed query mix;
* CSV export rows/s and peak RSS, in a child process so the generator's memory is not counted.

Floors (issue 16): insert >= 1,000 articles/s; near-dup cost at the largest size within 2x
of the smallest; FTS p95 < 200 ms at 1M; export >= 30,000 rows/s with peak RSS < 250 MB.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from newsarchive import neardup
from newsarchive.article import Article, FetchInfo
from newsarchive.storage import Archive
from newsarchive.storage.save import BatchWriter, Probe, day_of, fortnights_read, lookup_keys
from newsarchive.stream import PreparePool, save_stream

MSK = timezone(timedelta(hours=3))
START = datetime(2024, 1, 1, tzinfo=UTC)
SOURCES = ("tass", "ap", "reuters", "anadolu", "xinhua")
SYLLABLES = [c + v for c in "bcdfghklmnprstvz" for v in "aeiou"] + ["ar", "en", "ol", "ist", "ov", "ka"]


class Corpus:
    """Deterministic synthetic wire stories: Zipf-distributed words, topics, links, datelines."""

    def __init__(self, seed: int = 7, vocabulary: int = 30_000) -> None:
        rng = random.Random(seed)
        words: set[str] = set()
        while len(words) < vocabulary:
            words.add("".join(rng.choices(SYLLABLES, k=rng.choice((1, 2, 2, 3, 3, 4)))))
        self.words = sorted(words)
        rng.shuffle(self.words)
        # Zipf weights (s=1): a few very common words, a long tail, as in news text
        total = 0.0
        self.cum: list[float] = []
        for rank in range(1, vocabulary + 1):
            total += 1.0 / rank
            self.cum.append(total)
        self.topics = [f"{self.words[100 + i].title()} {self.words[400 + i]}" for i in range(300)]
        self.people = [f"{self.words[1000 + i].title()} {self.words[2000 + i].title()}" for i in range(500)]
        self.places = [self.words[3000 + i].upper() for i in range(200)]

    def _sentence(self, rng: random.Random) -> str:
        chosen = rng.choices(self.words, cum_weights=self.cum, k=rng.randint(12, 24))
        return " ".join(chosen).capitalize() + "."

    def article(self, n: int, *, seed: int = 0) -> Article:
        """Article number ``n`` (the same n and seed always give the same article)."""
        rng = random.Random(n * 1_000_003 + seed)
        paragraphs = [" ".join(self._sentence(rng) for _ in range(rng.randint(2, 3)))
                      for _ in range(rng.randint(4, 6))]
        published = (START + timedelta(seconds=n * 47 + rng.randint(0, 40))).astimezone(MSK)
        source = SOURCES[n % len(SOURCES)]
        return Article(
            url=f"https://{source}.example/news/{seed}/{n}",
            source=source,
            section=rng.choice(("world", "economy", "politics", "sport")),
            headline=" ".join(rng.choices(self.words, cum_weights=self.cum, k=rng.randint(7, 12)))
            .capitalize(),
            dateline=f"{rng.choice(self.places)}, {published:%B} {published.day}",
            published=published,
            published_raw=published.strftime("%d %B %Y, %H:%M"),
            body="\n\n".join(paragraphs),
            topics=rng.sample(self.topics, rng.randint(1, 3)),
            read_also=[{"title": f"Story {m}", "url": f"https://{source}.example/news/{seed}/{m}"}
                       for m in rng.sample(range(max(1, n)), min(n, rng.randint(0, 3)))],
            authors=rng.sample(self.people, rng.randint(0, 2)),
            language="en",
            fetched_at=published.astimezone(UTC) + timedelta(minutes=5),
            fetch=FetchInfo(status=200, warc_file="bench.warc.gz", warc_offset=n * 9000, warc_length=8000),
        )

    def edited_copy(self, original: Article, n: int) -> Article:
        """``original`` republished elsewhere: new URL and headline, one sentence changed, one added."""
        rng = random.Random(-n - 1)
        paragraphs = original.body.split("\n\n")
        first = paragraphs[0].split(". ")
        first[0] = self._sentence(rng).rstrip(".")
        paragraphs[0] = ". ".join(first)
        paragraphs.append(self._sentence(rng))
        return Article(
            url=f"https://copy.example/{n}", source="copy", headline="Copy: " + (original.headline or ""),
            published=original.published, body="\n\n".join(paragraphs), topics=list(original.topics),
            fetched_at=original.fetched_at,
        )

    def partial_copy(self, original: Article, n: int) -> Article:
        """``original``'s first half of paragraphs under another URL, as an outlet's page 1 of 2."""
        paragraphs = original.body.split("\n\n")
        return Article(url=f"https://partial.example/{n}", source="partial", headline=original.headline,
                       published=original.published,
                       body="\n\n".join(paragraphs[: (len(paragraphs) + 1) // 2]),
                       fetched_at=original.fetched_at)

    def quoting_story(self, original: Article, n: int) -> Article:
        """A different story on the same day that quotes 40% of ``original``'s paragraphs in its middle."""
        own = self.article(n, seed=-1).body.split("\n\n")
        quoted = original.body.split("\n\n")
        quoted = quoted[: max(1, round(len(quoted) * 0.4))]
        return Article(url=f"https://quoting.example/{n}", source="quoting", headline=f"Quoting {n}",
                       published=original.published, body="\n\n".join(own[:2] + quoted + own[2:]),
                       fetched_at=original.fetched_at)


#: articles generated ahead of each timed stretch of inserts (generation is not timed)
CHUNK = 50_000


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` so far (Linux /proc; 0 elsewhere)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def insert(archive: Archive, corpus: Corpus, start: int, stop: int, batch: int,
           pool: PreparePool) -> dict[str, float]:
    """Insert articles [start, stop) through ``stream.save_stream``: rates by wall clock, CPU per article.

    ``save_stream`` is ``save_batch`` on each batch in turn, with the next batches' preparation
    (key, content hash, fingerprint) in ``pool``'s worker process (``--workers``; 0 prepares in this
    process). The articles of each stretch of ``CHUNK`` are generated before its clock starts.
    The CPU figure adds this process's time and the workers'.
    """
    save_time = gen_time = writer_cpu = worker_cpu = 0.0
    tail_from = max(start, stop - 10_000)
    # the workers start once per import (about a second): before the clock, not in the 10k row
    pool.start()
    tail_time = 0.0
    for lo in range(start, stop, CHUNK):
        hi = min(stop, lo + CHUNK)
        t0 = time.perf_counter()
        articles = [corpus.article(n) for n in range(lo, hi)]
        gen_time += time.perf_counter() - t0
        groups = [articles[i : i + batch] for i in range(0, len(articles), batch)]
        pids = pool.pids()
        k0 = sum(_cpu_seconds(p) for p in pids)
        c0 = time.process_time()
        last = w0 = time.perf_counter()
        first = lo
        for group, _ in zip(groups, save_stream(archive.save_batch, groups, pool), strict=True):
            now = time.perf_counter()
            if first >= tail_from:
                tail_time += now - last
            first += len(group)
            last = now
        save_time += last - w0
        writer_cpu += time.process_time() - c0
        worker_cpu += sum(_cpu_seconds(p) for p in pids) - k0
        del articles, groups
        print(f"    ... {hi:,} articles, {(hi - start) / save_time:,.0f}/s", file=sys.stderr, flush=True)
    count = stop - start
    return {
        "insert_per_s": count / save_time,
        "insert_cpu_us": (writer_cpu + worker_cpu) / count * 1e6,
        "insert_writer_cpu_us": writer_cpu / count * 1e6,
        "insert_last10k_per_s": (stop - tail_from) / max(tail_time, 1e-9),
        "generate_s": gen_time,
    }


def _probe(article: Article) -> Probe:
    fp = neardup.fingerprint(article.body, article.headline)
    return Probe(fp, day_of(article.published or article.fetched_at or START), article.body, article.headline)


def neardup_cost(archive: Archive, corpus: Corpus, size: int, probes: int, batch: int,
                 round_: int = 0) -> dict[str, float]:
    """Per-article fingerprint and near-duplicate lookup cost for articles not yet archived.

    The lookup is ``BatchWriter.find_clusters``, what a batched save runs for its new stories:
    one ``neardup_keys`` query per fortnight pair of the batch, the candidates' SimHashes compared, and
    the texts of those sharing sample keys read for containment. It runs in a transaction that
    is rolled back, so it measures the lookup, whatever else save_batch does around it. Each
    ``round_`` probes with other articles (a round does not find pages a previous one brought
    into the cache).
    """
    rng = random.Random(size * 1000 + round_)
    fresh = [corpus.article(n, seed=1 + round_) for n in range(probes)]
    originals = [corpus.article(rng.randrange(size)) for _ in range(3 * (probes // 10))]
    tenth = probes // 10
    copies = [corpus.edited_copy(a, i) for i, a in enumerate(originals[:tenth])]
    partial = [corpus.partial_copy(a, i) for i, a in enumerate(originals[tenth : 2 * tenth])]
    quoting = [corpus.quoting_story(a, size + i) for i, a in enumerate(originals[2 * tenth :])]
    articles = fresh + copies + partial + quoting
    # timed with the word memo warm: at the first size this process has fingerprinted nothing
    # (save_stream's worker did), and filling the memo made that row's figure ~1.3x the others
    # (it is read as a gauge of the machine's speed across the rows)
    probe = [_probe(a) for a in articles]
    t0 = time.perf_counter()
    probe = [_probe(a) for a in articles]
    t1 = time.perf_counter()
    matches: list[int | None] = []
    with archive.engine.connect() as conn:
        writer = BatchWriter(conn)
        writer.find_clusters(probe[:batch])  # warm the connection and statement cache
        w0, c0 = time.perf_counter(), time.process_time()
        for lo in range(0, len(probe), batch):
            matches += writer.find_clusters(probe[lo : lo + batch])
        w1, c1 = time.perf_counter(), time.process_time()
        # reported, not timed: how many archived articles shared a key with a probe
        candidates = 0
        for p in probe:
            shared = lookup_keys(conn, fortnights_read(p.day), p.fp.keys)
            candidates += len({a for rows in shared.values() for _, a in rows})
        conn.rollback()
    kinds = [len(fresh), len(copies), len(partial), len(quoting)]
    found, start = [], 0
    for count in kinds:
        found.append(sum(1 for m in matches[start : start + count] if m is not None) / max(1, count))
        start += count
    return {
        "fingerprint_us": (t1 - t0) / len(probe) * 1e6,
        "lookup_us": (w1 - w0) / len(probe) * 1e6,
        "lookup_cpu_us": (c1 - c0) / len(probe) * 1e6,
        "candidates_per_article": candidates / len(probe),
        "copies_found": found[1],
        "partial_found": found[2],
        "new_matched": found[0],
        "quoting_matched": found[3],
    }


#: paired lookup rounds at the last size (see paired_lookup)
PAIRED_ROUNDS = 6


def snapshot(db_path: Path, copy: Path) -> None:
    """A consistent copy of the SQLite archive as it is now (the backup API reads one snapshot)."""
    with sqlite3.connect(db_path) as source, sqlite3.connect(copy) as target:
        source.backup(target)
    source.close()
    target.close()


def paired_lookup(small_url: str, small: int, large_url: str, large: int, corpus: Corpus,
                  probes: int, batch: int) -> dict[str, float]:
    """The near-dup lookup cost at ``large`` over its cost at ``small``, measured in alternation.

    The table's rows are measured minutes apart, and this shared machine's speed drifts by up
    to 2x between them (the fingerprint column, the same work at every size, shows it): a
    ratio of those rows measures the drift as much as the index. Here both archives (the small
    one a snapshot taken when the run passed that size) are probed in alternating rounds, each
    round with new probe articles, both opened afresh with the same settings; the ratio is the
    median of the rounds' ratios. The project's rule for speed: compare against a peer in the
    same run.
    """
    ratios, small_us, large_us = [], [], []
    with Archive(small_url, migrate=False) as low, Archive(large_url, migrate=False) as high:
        for round_ in range(1, PAIRED_ROUNDS + 1):
            pair = [(low, small), (high, large)] if round_ % 2 else [(high, large), (low, small)]
            cost = {n: neardup_cost(a, corpus, n, probes, batch, round_)["lookup_cpu_us"] for a, n in pair}
            small_us.append(cost[small])
            large_us.append(cost[large])
            ratios.append(cost[large] / cost[small])
    return {"paired_ratio": statistics.median(ratios), "paired_small_us": statistics.median(small_us),
            "paired_large_us": statistics.median(large_us), "paired_rounds": len(ratios)}


#: analyst-like query mix: (class, share). Word ranks follow the Zipf vocabulary: rank 5-50
#: words are stopwords in real text ("the", "said") and nobody searches for them alone, so the
#: frequent class starts at rank 200 (a word in ~10% of stories, like "minister")
FTS_MIX = (("rare term", 0.4), ("two terms", 0.3), ("phrase", 0.15), ("frequent term", 0.15))


def fts_queries(corpus: Corpus, count: int) -> list[tuple[str, str]]:
    rng = random.Random(99)
    frequent, middle, rare = corpus.words[200:2000], corpus.words[200:5000], corpus.words[5000:25000]
    out = []
    for kind, share in FTS_MIX:
        for _ in range(max(1, round(count * share))):
            if kind == "rare term":
                q = rng.choice(rare)
            elif kind == "two terms":
                q = f"{rng.choice(middle)} {rng.choice(middle)}"
            elif kind == "phrase":
                q = f'"{rng.choice(middle)} {rng.choice(frequent)}"'
            else:
                q = rng.choice(frequent)
            out.append((kind, q))
    rng.shuffle(out)
    return out


def fts_latency(archive: Archive, corpus: Corpus, queries: int) -> dict[str, float]:
    mix = fts_queries(corpus, queries)
    archive.search(mix[0][1])
    times: dict[str, list[float]] = {}
    for kind, q in mix:
        t0 = time.perf_counter()
        archive.search(q, limit=20)
        times.setdefault(kind, []).append((time.perf_counter() - t0) * 1000)
    every = sorted(t for ts in times.values() for t in ts)
    out = {"p50_ms": statistics.median(every), "p95_ms": every[int(0.95 * (len(every) - 1))],
           "max_ms": every[-1]}
    for kind, ts in times.items():
        ts.sort()
        out[f"p95_{kind.replace(' ', '_')}_ms"] = ts[int(0.95 * (len(ts) - 1))]
    return out


def export_child(url: str, out: str) -> None:
    """Runs in a child process: export every article to CSV, print rows/s and peak RSS as JSON."""
    from newsarchive.storage.export import export_archive

    reading = 0.0
    iter_row_pages = Archive.iter_row_pages

    def timed(self: Archive, **kwargs: Any) -> Iterator[Any]:
        # splits the time between reading the archive and formatting/writing the file
        nonlocal reading
        pages = iter_row_pages(self, **kwargs)
        while True:
            t = time.perf_counter()
            page = next(pages, None)
            reading += time.perf_counter() - t
            if page is None:
                return
            yield page

    Archive.iter_row_pages = timed  # type: ignore[method-assign]
    with Archive(url, migrate=False) as archive:
        t0, c0 = time.perf_counter(), time.process_time()
        rows = export_archive(archive, "csv", out)  # what `newsarchive export --format csv` runs
        elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    peak_kb = _own_peak_rss_kb()
    print(json.dumps({"rows": rows, "seconds": elapsed, "cpu_seconds": cpu, "reading_seconds": reading,
                      "peak_rss_mb": peak_kb / 1024, "bytes": os.path.getsize(out)}))


def _own_peak_rss_kb() -> float:
    """Peak RSS of this process's own memory, in KiB.

    Not ``getrusage``: Linux carries ``ru_maxrss`` across exec, so a child spawned by a large
    parent reports the parent's RSS at the fork (the 1M run's export "peaked" at 289 MB while
    the same export alone peaked at 137 MB). VmHWM is the high-water mark of the memory
    this program mapped after exec.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return float(line.split()[1])
    except OSError:
        pass
    return float(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)  # KiB on Linux


def export_cost(url: str, workdir: Path) -> dict[str, float]:
    out = workdir / "export.csv"
    proc = subprocess.run(
        [sys.executable, __file__, "--export-child", url, str(out)],
        check=True, capture_output=True, text=True,
    )
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    out.unlink(missing_ok=True)
    result["rows_per_s"] = result["rows"] / result["seconds"]
    result["cpu_rows_per_s"] = result["rows"] / max(result["cpu_seconds"], 1e-9)
    return result


def export_only(url: str, runs: int, workdir: Path | None) -> int:
    """Measure the CSV export alone on an archive kept by an earlier run (--keep), ``runs`` times."""
    folder = Path(tempfile.mkdtemp(prefix="na-export-", dir=workdir))
    try:
        results = [export_cost(url, folder) for _ in range(runs)]
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    for r in results:
        print(json.dumps({k: round(v, 3) for k, v in r.items()}), flush=True)
    # the best run is the one least disturbed by other work on a shared machine; all are printed
    best = max(results, key=lambda r: r["cpu_rows_per_s"])
    worst = min(results, key=lambda r: r["cpu_rows_per_s"])
    rss = max(r["peak_rss_mb"] for r in results)
    print(f"\nexport of {best['rows']:,} rows, {runs} runs: CPU rows/s best {best['cpu_rows_per_s']:,.0f}, "
          f"worst {worst['cpu_rows_per_s']:,.0f}; wall rows/s best {best['rows_per_s']:,.0f}; "
          f"reading share {best['reading_seconds'] / best['seconds']:.0%}; peak RSS {rss:.0f} MB")
    ok_rate, ok_rss = worst["cpu_rows_per_s"] >= 30_000, rss < 250
    print(f"{'PASS' if ok_rate else 'FAIL'}  export >= 30,000 rows/s CPU in every run")
    print(f"{'PASS' if ok_rss else 'FAIL'}  export peak RSS < 250 MB ({rss:.0f} MB)")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000",
                        help="archive sizes to measure at, comma-separated (default 10000,100000)")
    parser.add_argument("--db-dir", type=Path, help="where the SQLite file goes (default: a temp dir)")
    parser.add_argument("--batch", type=int, default=500, help="articles per save_batch call")
    parser.add_argument("--workers", type=int, default=None,
                        help="processes preparing articles for save_stream (default: one on two or more "
                             "cores; 0 prepares in the writing process)")
    parser.add_argument("--probes", type=int, default=2000, help="near-dup probe articles per size")
    parser.add_argument("--queries", type=int, default=200, help="FTS queries per size")
    parser.add_argument("--no-export", action="store_true", help="skip the CSV export measurement")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--export-only", metavar="URL",
                        help="only measure the CSV export of an existing archive (e.g. one kept with --keep)")
    parser.add_argument("--runs", type=int, default=3, help="export runs with --export-only (default 3)")
    parser.add_argument("--export-child", nargs=2, metavar=("URL", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.export_child:
        export_child(*args.export_child)
        return 0
    if args.export_only:
        return export_only(args.export_only, max(1, args.runs), args.db_dir)

    sizes = sorted({int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()})
    workdir = Path(tempfile.mkdtemp(prefix="na-bench-", dir=args.db_dir))
    url = f"sqlite:///{workdir / 'bench.sqlite'}"
    pool = PreparePool(args.workers)
    print(f"storage benchmark: SQLite at {workdir}, sizes {sizes}, batch {args.batch}, "
          f"preparing workers {pool.workers}, {len(os.sched_getaffinity(0))} cores", flush=True)
    corpus = Corpus()
    results: list[dict[str, Any]] = []
    done = 0
    try:
        with Archive(url) as archive, contextlib.closing(pool):
            for size in sizes:
                print(f"  inserting {done:,} -> {size:,} ...", file=sys.stderr, flush=True)
                row: dict[str, Any] = {"size": size}
                row.update(insert(archive, corpus, done, size, args.batch, pool))
                done = size
                row.update(neardup_cost(archive, corpus, size, args.probes, args.batch))
                row.update({f"fts_{k}": v for k, v in fts_latency(archive, corpus, args.queries).items()})
                if not args.no_export:
                    exp = export_cost(url, workdir)
                    row.update(export_rows_per_s=exp["rows_per_s"],
                               export_cpu_rows_per_s=exp["cpu_rows_per_s"],
                               export_peak_rss_mb=exp["peak_rss_mb"],
                               export_reading_share=exp["reading_seconds"] / exp["seconds"])
                row["db_mb"] = sum(p.stat().st_size for p in workdir.glob("bench.sqlite*")) / 1e6
                if not results and len(sizes) > 1:
                    snapshot(workdir / "bench.sqlite", workdir / "first.sqlite")
                elif size == sizes[-1] and results:
                    row.update(paired_lookup(f"sqlite:///{workdir / 'first.sqlite'}", sizes[0], url, size,
                                             corpus, args.probes, args.batch))
                results.append(row)
                print(json.dumps(row), flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    report(results)
    return 0


def report(results: list[dict[str, Any]]) -> None:
    """The table and the floors.

    Insert is judged by wall clock: with a worker preparing articles on another core, the
    writing process's CPU time no longer measures the rate (the CPU column adds both, the
    writer's own share in brackets). Lookup and export run in one process and are judged by
    CPU time, which leaves out waiting for a core on this shared machine; both are printed.
    """
    print()
    print("| articles | insert/s wall | insert CPU µs/article (writer) | near-dup lookup µs wall / CPU "
          "| candidates | fingerprint µs | copies found: edited / partial | false matches: new / quoting "
          "| FTS p50 ms | FTS p95 ms | export rows/s wall / CPU | export RSS MB | DB MB |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['size']:,} | {r['insert_per_s']:,.0f} "
              f"| {r['insert_cpu_us']:,.0f} ({r['insert_writer_cpu_us']:,.0f}) "
              f"| {r['lookup_us']:.0f} / {r['lookup_cpu_us']:.0f} | {r['candidates_per_article']:.2f} "
              f"| {r['fingerprint_us']:.0f} | {r['copies_found']:.1%} / {r['partial_found']:.1%} "
              f"| {r['new_matched']:.2%} / {r['quoting_matched']:.1%} "
              f"| {r['fts_p50_ms']:.1f} | {r['fts_p95_ms']:.1f} "
              f"| {r.get('export_rows_per_s', 0):,.0f} / {r.get('export_cpu_rows_per_s', 0):,.0f} "
              f"| {r.get('export_peak_rss_mb', 0):.0f} "
              f"| {r['db_mb']:.0f} |")
    if not results:
        return
    first, last = results[0], results[-1]
    by_class = ", ".join(f"{k[8:-3].replace('_', ' ')} {v:.1f} ms" for k, v in last.items()
                         if k.startswith("fts_p95_") and k != "fts_p95_ms")
    print(f"\nFTS p95 by query class at {last['size']:,}: {by_class}")
    ratio = last["lookup_cpu_us"] / first["lookup_cpu_us"]
    paired = last.get("paired_ratio")
    if paired is not None:
        print(f"near-dup lookup in {last['paired_rounds']} alternating rounds: "
              f"{last['paired_large_us']:.0f} µs at {last['size']:,} against {last['paired_small_us']:.0f} "
              f"at {first['size']:,} (CPU, medians), median ratio x{paired:.2f}; "
              f"the table's rows, minutes apart: x{ratio:.2f}")
    slowest = min(results, key=lambda r: r["insert_per_s"])
    wall_ratio = last["lookup_us"] / first["lookup_us"]
    checks = [
        (f"insert >= 1,000/s at every size (slowest: {slowest['insert_per_s']:,.0f}/s wall "
         f"at {slowest['size']:,})", all(r["insert_per_s"] >= 1000 for r in results)),
        (f"near-dup lookup at {last['size']:,} within 2x of {first['size']:,} "
         + (f"(x{paired:.2f} in alternating rounds; x{ratio:.2f} between the table's rows)"
            if paired is not None else f"(x{ratio:.2f} CPU, x{wall_ratio:.2f} wall)"),
         (paired if paired is not None else ratio) <= 2.0),
        (f"FTS p95 < 200 ms at {last['size']:,} ({last['fts_p95_ms']:.1f} ms)", last["fts_p95_ms"] < 200),
    ]
    if "export_rows_per_s" in last:
        checks.append((f"export >= 30,000 rows/s at {last['size']:,} "
                        f"({last['export_cpu_rows_per_s']:,.0f} CPU, {last['export_rows_per_s']:,.0f} wall)",
                        last["export_cpu_rows_per_s"] >= 30_000))
        checks.append((f"export peak RSS < 250 MB ({last['export_peak_rss_mb']:.0f} MB)",
                       last["export_peak_rss_mb"] < 250))
    print()
    for text, ok in checks:
        print(f"{'PASS' if ok else 'FAIL'}  {text}")


if __name__ == "__main__":
    sys.exit(main())
