"""Extraction speed: newsarchive.extract against trafilatura, with plain lxml parsing as the floor.

    .venv/bin/python benchmarks/extract.py DIR [--repeat N]

Every .html / .html.gz page under DIR (recursively) is read into memory first; then, in
this one process and run, each contender goes over all pages ``--repeat`` times (after one
untimed warm-up page) and the best round counts. Both extractors get the same bytes;
trafilatura gets them decoded as UTF-8 (as its own fetcher would hand them over).
trafilatura is a benchmark-only extra (``pip install newsarchive[bench]``), imported here only.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import lxml.html

from newsarchive.extract.decode import page_files, read_page


def load_pages(root: Path) -> list[tuple[str, bytes]]:
    """(name, html bytes) for every page under ``root``, sorted by path."""
    return [(str(path), read_page(path)) for path in page_files([root])]


def timed(
    func: Callable[[bytes], object], pages: list[tuple[str, bytes]], repeat: int
) -> tuple[float, float, int]:
    """Best wall time and best CPU time over ``repeat`` rounds, and the number of pages that raised.

    CPU time (this process only) is what the ratios use: on a shared machine the wall clock
    also counts other people's work.
    """
    func(pages[0][1])  # warm-up: imports, caches, profile registry
    best_wall = best_cpu = float("inf")
    errors = 0
    for _ in range(repeat):
        errors = 0
        wall, cpu = time.perf_counter(), time.process_time()
        for _, html in pages:
            try:
                func(html)
            except Exception:  # a failing page is counted, not fatal
                errors += 1
        best_wall = min(best_wall, time.perf_counter() - wall)
        best_cpu = min(best_cpu, time.process_time() - cpu)
    return best_wall, best_cpu, errors


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("directory", type=Path)
    parser.add_argument("--repeat", type=int, default=3, help="rounds per contender; the best counts")
    args = parser.parse_args(argv)

    pages = load_pages(args.directory)
    if not pages:
        print(f"no .html or .html.gz pages under {args.directory}", file=sys.stderr)
        return 1
    try:
        import trafilatura
    except ImportError:
        print("trafilatura is not installed: pip install 'newsarchive[bench]'", file=sys.stderr)
        return 1
    from newsarchive import extract

    def run_lxml(html: bytes) -> object:
        return lxml.html.fromstring(html)

    def run_newsarchive(html: bytes) -> object:
        return extract(html)

    def run_trafilatura(html: bytes) -> object:
        return trafilatura.bare_extraction(html.decode("utf-8", "replace"), with_metadata=True)

    results = {}
    for name, func in (("lxml parse", run_lxml), ("newsarchive", run_newsarchive),
                       ("trafilatura", run_trafilatura)):
        results[name] = timed(func, pages, args.repeat)

    n = len(pages)
    floor = results["lxml parse"][1]
    print(f"{n} pages from {args.directory}, best of {args.repeat} rounds")
    print(f"{'contender':<14}{'wall s':>9}{'CPU s':>9}{'pages/s':>10}{'× lxml':>9}{'errors':>8}")
    for name, (wall, cpu, errors) in results.items():
        print(f"{name:<14}{wall:>9.3f}{cpu:>9.3f}{n / cpu:>10.1f}{cpu / floor:>9.1f}{errors:>8d}")
    ratio = results["trafilatura"][1] / results["newsarchive"][1]
    print(f"newsarchive is {ratio:.1f}× trafilatura's pages/s (CPU time; pages/s and × lxml use CPU time)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
