"""Distributed crawl benchmark: 1, 2 and 4 processes on one Redis frontier against the plain
single-process crawl, in the same run, on the crawl benchmark's generated site.

"N workers" is the coordinator (it works the queue too) plus N-1 ``newsarchive worker``
processes. Every crawl runs the full pipeline (extraction, dedup, storage, WARC) into a fresh
archive, without politeness delays, so the site is CPU-bound on this machine. Modes run in
alternating order, ``--rounds`` times, and the medians are reported:

* pages/s over the crawl (the coordinator's spider open to close; the single crawl's likewise);
* scaling efficiency: pages/s of N workers / (N x pages/s of one worker);
* the Redis overhead: 1 - pages/s of one distributed worker / pages/s of the single-process crawl.

Floors (issue 19): 2 workers >= 1.6x one worker; Redis overhead <= 10 %.

    .venv/bin/python benchmarks/distributed.py [--pages 2000] [--rounds 3] [--db postgresql+psycopg://...]

Without ``--db`` each crawl writes a fresh SQLite file; with a PostgreSQL URL (the database
must be empty and yours) its tables are emptied before each crawl.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

NEWSARCHIVE = str(Path(sys.executable).parent / "newsarchive")
SETTINGS = ("-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY=0", "-s", "ROBOTSTXT_OBEY=False",
            "-s", "CONCURRENT_REQUESTS=16", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=16",
            "-s", "HTTPPROXY_ENABLED=False", "--log-level", "ERROR")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_redis(work: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", str(work)], stdout=subprocess.DEVNULL)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    return proc, f"redis://127.0.0.1:{port}/0"


def fresh_archive(work: Path, db: str | None, name: str) -> str:
    if db is None:
        return f"sqlite:///{work / (name + '.sqlite')}"
    import sqlalchemy as sa

    engine = sa.create_engine(db)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()
    return db


def machine_ticks() -> tuple[int, int]:
    """(busy, total) CPU ticks of the whole machine so far, from /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def crawl(base: str, work: Path, db: str, redis_url: str | None, workers: int) -> dict[str, float]:
    """One crawl: single-process (``redis_url`` None) or distributed over ``workers`` processes."""
    summary = work / f"summary-{time.monotonic_ns()}.json"
    env = dict(os.environ, NEWSARCHIVE_DATA_DIR=str(work / "data"), NEWSARCHIVE_DB=db)
    helpers = []
    if redis_url:
        env["NEWSARCHIVE_REDIS"] = redis_url
        for _ in range(workers - 1):
            helpers.append(subprocess.Popen([NEWSARCHIVE, "worker", *SETTINGS], env=env,
                                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
        time.sleep(2.5)  # let them start Python and wait for the crawl, as deployed workers do
    argv = [NEWSARCHIVE, "crawl", "tass", "--base-url", base, "--summary-json", str(summary), *SETTINGS]
    busy0, total0 = machine_ticks()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    cpu = 0.0
    for child in (proc, *helpers):
        assert child.stderr is not None
        err = child.stderr.read()
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        cpu += usage.ru_utime + usage.ru_stime  # start-up included: an upper bound per page
        if child.returncode != 0:
            raise SystemExit(f"crawl process failed (exit {child.returncode}): {err.decode()[-800:]}")
    busy1, total1 = machine_ticks()
    data = json.loads(summary.read_text())
    counts = data["counts"]
    return {"seconds": data["crawl_seconds"], "pages": counts["pages"], "cpu": cpu,
            "machine_busy": (busy1 - busy0) / max(1, total1 - total0),
            "articles": counts["stored"] + counts["updated"] + counts["unchanged"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", default="1,2,4", help="comma-separated worker counts")
    parser.add_argument("--db", help="a PostgreSQL URL instead of SQLite files (its tables are dropped)")
    args = parser.parse_args()
    if shutil.which("redis-server") is None:
        raise SystemExit("redis-server not found (apt install redis-server)")
    counts = [int(n) for n in args.workers.split(",")]
    bench = Path(__file__).resolve().parent / "crawl.py"
    server = subprocess.Popen([sys.executable, str(bench), "--serve", "0", "--pages", str(args.pages)],
                              stdout=subprocess.PIPE, text=True)
    results: dict[str, list[dict[str, float]]] = {}
    try:
        assert server.stdout is not None
        base = f"http://127.0.0.1:{server.stdout.readline().strip()}"
        with tempfile.TemporaryDirectory() as tmp:
            redis_proc, redis_url = start_redis(Path(tmp))
            try:
                modes = ["single", *(f"{n} workers" for n in counts)]
                for round_ in range(args.rounds):
                    # alternate the order: a noisy neighbour should not always hit the same mode
                    order = modes if round_ % 2 == 0 else modes[::-1]
                    for mode in order:
                        work = Path(tmp) / f"{round_}-{mode.replace(' ', '')}"
                        work.mkdir()
                        db = fresh_archive(work, args.db, "archive")
                        n = 1 if mode == "single" else int(mode.split()[0])
                        r = crawl(base, work, db, None if mode == "single" else redis_url, n)
                        assert r["articles"] == args.pages, (mode, r)
                        results.setdefault(mode, []).append(r)
                        print(f"  round {round_ + 1} {mode:10} {r['pages'] / r['seconds']:7.1f} pages/s",
                              file=sys.stderr)
            finally:
                redis_proc.terminate()
                redis_proc.wait()
    finally:
        server.terminate()
        server.wait()
    rate = {m: statistics.median(r["pages"] / r["seconds"] for r in runs) for m, runs in results.items()}
    one = rate["1 workers"]
    print(f"distributed crawl benchmark: {args.pages} generated article pages on loopback, "
          f"{'PostgreSQL' if args.db else 'SQLite'} archive, {args.rounds} alternating rounds, medians "
          f"({os.cpu_count()} CPUs)")
    cpu = {m: statistics.median(1000 * r["cpu"] / r["pages"] for r in runs) for m, runs in results.items()}
    busy = {m: statistics.median(r["machine_busy"] for r in runs) for m, runs in results.items()}
    # machine busy: the share of all CPUs busy (anyone's work) while the crawl ran: near 100 %, more
    # workers cannot go faster however well they scale
    print(f"{'mode':12} {'pages/s':>8} {'x one worker':>12} {'efficiency':>10} {'CPU ms/page':>11} "
          f"{'machine busy':>12}")
    for mode, value in rate.items():
        n = 1 if mode == "single" else int(mode.split()[0])
        print(f"{mode:12} {value:8.1f} {value / one:12.2f} {value / (n * one):10.2f} {cpu[mode]:11.2f} "
              f"{busy[mode]:12.0%}")
    if "2 workers" in rate:
        print(f"2 workers: {rate['2 workers'] / one:.2f}x one worker (floor 1.6)")
    print(f"Redis overhead: one distributed worker keeps {one / rate['single']:.2f} of the single-process "
          f"crawl's pages/s, a cost of {1 - one / rate['single']:.1%} (floor: at most 10%); CPU per page "
          f"{cpu['1 workers'] / cpu['single'] - 1:+.1%}")


if __name__ == "__main__":
    main()
