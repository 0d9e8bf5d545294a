"""WARC import benchmark: the record filter, and the import against the extractor alone.

Generates (nothing from real pages) N TASS-like article pages with the chrome a news page
carries (navigation, scripts, related lists, footer: ~100 KB of HTML each; the pages of
shared/corpus average ~250 KB) and writes two
gzipped WARC files with warcio:

* ``filter.warc.gz`` - each article among ``--others`` responses of other news hosts (as in
  CC-NEWS, where one source is a small share of the records);
* ``articles.warc.gz`` - the N article pages only.

Measured in rounds; in each, the import runs between two passes of the extractor and is
compared with their mean, so the machine's drift hits both sides alike:

* filter records/s: ``iter_captures`` over filter.warc.gz with the TASS matcher (WARC
  headers read, other hosts' payloads only decompressed, no HTML parsed), beside the floor of
  warcio reading the same file through without looking at anything;
* import articles/s: ``Importer.import_file`` of articles.warc.gz into a fresh SQLite archive
  (extraction, validation, save_stream with its preparing worker, pointers), beside the
  extractor's own pages/s (``newsarchive.extract`` over the same pages held in memory).

Both are judged by CPU time, which leaves out waiting for a core on this shared machine: the
extractor's pages per CPU second, and the import's articles per CPU second of the busier of
its two processes (the importing one, or the worker preparing batches beside it): the pace
when each has a core. Wall-clock figures are printed beside them. Issue 18 asks import
articles/s >= 85% of the extractor's pages/s (median of the rounds).

    .venv/bin/python benchmarks/warc_import.py [--articles 1000] [--others 20] [--rounds 3]
"""

from __future__ import annotations

import argparse
import io
import itertools
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

EPOCH0 = 1_484_800_000  # January 2017
FLOOR = 0.85


#: cumulative Zipf weights of a 20,000-word vocabulary, as running text draws its words
_ZIPF = list(itertools.accumulate(1 / rank for rank in range(1, 20_001)))


def words(n: int, count: int, salt: int) -> str:
    # drawn independently per (n, salt): an arithmetic series of word numbers made every story
    # share runs of words with dozens of others, near-duplicate candidates no real collection has
    rng = random.Random(n * 1_000_003 + salt)
    return " ".join(f"w{i}" for i in rng.choices(range(20_000), cum_weights=_ZIPF, k=count))


def chrome(n: int) -> tuple[str, str]:
    """Header and footer of a generated news page: menus, scripts, related lists (~90 KB)."""
    menu = "".join(f'<li class="menu__item"><a href="/section-{i}">Section {i} {words(i, 3, 1)}</a></li>'
                   for i in range(400))
    script = "<script>window.__DATA__ = {" + ",".join(f'"k{i}": "{words(i, 4, 2)}"' for i in range(900)) \
        + "};</script>"
    related = "".join(f'<li><a href="/politics/{n + i}">Related story {n + i}: {words(n + i, 8, 3)}</a></li>'
                      for i in range(1, 80))
    footer = "".join(f'<a href="/about/{i}">{words(i, 4, 4)}</a>' for i in range(300))
    head = (f'<header class="header"><nav class="menu"><ul>{menu}</ul></nav></header>{script}'
            '<div class="b-banner adv">Advertisement</div>')
    foot = f'<aside class="related"><ul>{related}</ul></aside><footer class="footer">{footer}</footer>'
    return head, foot


def article(n: int) -> bytes:
    """Article page n in today's tass.com markup; the text varies with n (no duplicates)."""
    head, foot = chrome(n)
    paras = "".join(f"<p>Paragraph {k} of story {n}: {words(n, 70, k)}.</p>" for k in range(8))
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>Story {n} - TASS</title><meta property="og:title" content="Story {n}">
<meta property="article:published_time" content="2017-01-19T10:00:00+03:00"></head><body>{head}
<main class="container"><div class="news"><div class="news-header">
<h1 class="news-header__title">Generated story number {n}</h1>
<div class="news-header__date"><dateformat time="{EPOCH0 + n * 60}" mode="abs"></dateformat></div>
<div class="news-header__lead">Lead of story {n}</div></div>
<div class="text-content"><div class="text-block"><p>MOSCOW, January 19. /TASS/. Story {n} opens here.</p>
{paras}</div><div class="text-include read-also"><a href="/politics/{max(1, n - 1)}">Previous</a></div></div>
<div class="tags"><a class="tags__item" href="/t/{n % 17}">Topic {n % 17}</a></div></div></main>
{foot}</body></html>""".encode()


def write_warc(path: Path, records: list[tuple[str, bytes]]) -> None:
    with path.open("wb") as f:
        writer = WARCWriter(f, gzip=True)
        for url, body in records:
            http = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8"),
                                               ("Content-Length", str(len(body)))], protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(
                url, "response", payload=io.BytesIO(body), length=len(body), http_headers=http,
                warc_headers_dict={"WARC-Date": "2017-01-19T12:00:00Z"}))


def floor_read(path: Path) -> tuple[int, float]:
    """warcio reading every record through, nothing else: records and seconds."""
    started = time.perf_counter()
    count = 0
    with path.open("rb") as f:
        it = ArchiveIterator(f, no_record_parse=True)
        for record in it:
            it.read_to_end(record)
            count += 1
    return count, time.perf_counter() - started


def filter_read(path: Path) -> tuple[int, int, float]:
    """iter_captures with the TASS matcher: records, captures and seconds."""
    from newsarchive.warcfiles import ReadCounts, WarcLocation, iter_captures
    from newsarchive.warcimport import Matcher, load_rules

    matcher = Matcher(load_rules(["tass"]))
    counts = ReadCounts()
    started = time.perf_counter()
    kept = sum(1 for _ in iter_captures(WarcLocation(str(path)), matcher, counts))
    return counts.records, kept, time.perf_counter() - started


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` so far (Linux /proc; 0 elsewhere)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def extractor(pages: list[tuple[str, bytes]]) -> tuple[float, float]:
    """Wall and CPU seconds of newsarchive.extract over the pages (TASS profile, as the import)."""
    from newsarchive.extract import extract
    from newsarchive.warcimport import load_rules

    profile = load_rules(["tass"])[0].profile
    started, cpu = time.perf_counter(), time.process_time()
    for url, body in pages:
        extract(body, url, profile=profile)
    return time.perf_counter() - started, time.process_time() - cpu


def import_once(path: Path, work: Path, round_no: int) -> tuple[int, float, float, float]:
    """One import of the file into a fresh SQLite archive: articles stored, wall seconds, CPU
    seconds of the importing process and of its preparing worker."""
    from newsarchive.storage import Archive
    from newsarchive.warcimport import Importer, ImportStats, Matcher, load_rules

    db = f"sqlite:///{work / f'import-{round_no}.sqlite'}"
    with Archive(db) as archive:
        stats = ImportStats()
        importer = Importer(archive, Matcher(load_rules(["tass"])), run_id=None, stats=stats)
        pool = importer.pool
        pool.start()  # the worker's start-up (~1 s) is not the import's cost
        worker_cpu = sum(_cpu_seconds(pid) for pid in pool.pids())
        started, cpu = time.perf_counter(), time.process_time()
        importer.import_file(str(path))
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        worker_cpu = sum(_cpu_seconds(pid) for pid in pool.pids()) - worker_cpu
        importer.close()
    return stats.values.get("newsarchive/new", 0), elapsed, cpu, worker_cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--others", type=int, default=20,
                        help="other hosts' records per article (filter file)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--work", help="folder for the files [a temporary one]")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="warc-bench-") as tmp:
        work = Path(args.work or tmp)
        work.mkdir(parents=True, exist_ok=True)
        pages = [(f"https://tass.com/politics/{n}", article(n)) for n in range(1, args.articles + 1)]
        mixed: list[tuple[str, bytes]] = []
        for n, (url, body) in enumerate(pages):
            mixed.extend((f"https://news{i}.example.org/world/{n}", body) for i in range(args.others))
            mixed.append((url, body))
        write_warc(work / "articles.warc.gz", pages)
        write_warc(work / "filter.warc.gz", mixed)
        sizes = {name: (work / name).stat().st_size for name in ("articles.warc.gz", "filter.warc.gz")}
        page_kb = sum(len(b) for _, b in pages) / len(pages) / 1024
        print(json.dumps({"pages": len(pages), "page_kb": round(page_kb, 1), "records": len(mixed),
                          "bytes": sizes}), flush=True)

        extractor(pages[:20])  # warm-up: imports, profile selectors, lxml
        rows = []
        for round_no in range(args.rounds):
            floor_n, floor_s = floor_read(work / "filter.warc.gz")
            rec_n, kept, filter_s = filter_read(work / "filter.warc.gz")
            # the import between two extractor passes: the machine's drift over the round hits both
            before_s, before_cpu = extractor(pages)
            stored, imp_s, imp_cpu, worker_cpu = import_once(work / "articles.warc.gz", work, round_no)
            after_s, after_cpu = extractor(pages)
            ex_s, ex_cpu = (before_s + after_s) / 2, (before_cpu + after_cpu) / 2
            row = {
                "round": round_no + 1,
                "floor_records_per_s": round(floor_n / floor_s),
                "filter_records_per_s": round(rec_n / filter_s),
                "filter_kept": kept,
                "extract_pages_per_s": round(len(pages) / ex_cpu, 1),
                # the slower of the two processes sets the pace when each has a core
                "import_articles_per_s": round(stored / max(imp_cpu, worker_cpu), 1),
                "extract_wall_pages_per_s": round(len(pages) / ex_s, 1),
                "import_wall_articles_per_s": round(stored / imp_s, 1),
                "import_cpu_ms": round(imp_cpu / stored * 1000, 2),
                "worker_cpu_ms": round(worker_cpu / stored * 1000, 2),
                "stored": stored,
            }
            mb_per_s = sizes["filter.warc.gz"] / filter_s / 1e6
            row["filter_compressed_mb_per_s"] = round(mb_per_s, 1)
            row["seconds_per_gb_file"] = round(1000 / mb_per_s)
            row["filter_vs_floor"] = round(row["filter_records_per_s"] / row["floor_records_per_s"], 3)
            row["import_vs_extract"] = round(row["import_articles_per_s"] / row["extract_pages_per_s"], 3)
            row["wall_import_vs_extract"] = round(
                row["import_wall_articles_per_s"] / row["extract_wall_pages_per_s"], 3)
            rows.append(row)
            print(json.dumps(row), flush=True)

    ratio = statistics.median(r["import_vs_extract"] for r in rows)
    print("\n| round | warcio floor records/s | filter records/s | filter/floor | extract pages/s (CPU) "
          "| import articles/s (CPU) | import/extract | same by wall clock | filter s per GB (gzip) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['round']} | {r['floor_records_per_s']:,} | {r['filter_records_per_s']:,} | "
              f"{r['filter_vs_floor']:.2f} | {r['extract_pages_per_s']} | {r['import_articles_per_s']} | "
              f"{r['import_vs_extract']:.2f} | {r['import_wall_articles_per_s']} / "
              f"{r['extract_wall_pages_per_s']} = {r['wall_import_vs_extract']:.2f} | "
              f"{r['seconds_per_gb_file']} |")
    verdict = "PASS" if ratio >= FLOOR else "FAIL"
    print(f"\nimport/extract median {ratio:.2f} (floor {FLOOR}): {verdict}")
    if any(r["stored"] != len(pages) for r in rows):
        print("FAIL: an import did not store every page")
        return 1
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
