"""Distributed crawls for real: a coordinator and worker processes, a private redis-server, the
generated site on loopback, and the archive in PostgreSQL or one SQLite file (issue 19)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from clusterkit import NEWSARCHIVE, Cluster, GeneratedSite, Proc, RedisServer, free_port

pytestmark = pytest.mark.timeout(240)


def archive_facts(db: str) -> dict[str, Any]:
    """Articles, versions per article, and the crawl runs, read straight from the archive."""
    engine = sa.create_engine(db)
    try:
        with engine.connect() as conn:
            urls = [r[0] for r in conn.execute(sa.text("SELECT canonical_url FROM articles"))]
            versions = dict(conn.execute(sa.text(
                "SELECT a.canonical_url, count(v.id) FROM articles a JOIN article_versions v "
                "ON v.article_id = a.id GROUP BY a.canonical_url")).all())
            runs = [dict(r._mapping) for r in conn.execute(sa.text(
                "SELECT id, status, counts, fill_rates, exit_status, args FROM crawl_runs ORDER BY id"))]
    finally:
        engine.dispose()
    for run in runs:
        for key in ("counts", "fill_rates", "args"):
            if isinstance(run[key], str):
                run[key] = json.loads(run[key])
    return {"urls": urls, "versions": versions, "runs": runs}


def paths(urls: list[str]) -> list[str]:
    return sorted("/" + u.split("/", 3)[3] for u in urls)


def expected(pages: int) -> list[str]:
    return sorted(f"/politics/{n}" for n in range(1, pages + 1))


def pages_of(proc_output: str) -> int:
    """Pages a worker says it fetched (its last line)."""
    line = [ln for ln in proc_output.splitlines() if ln.startswith("worker ")][-1]
    return int(line.split(": ")[-1].split(" pages")[0])


SECRET = "s3cret-redis-pw"


def test_two_workers_store_every_article_once_in_postgresql(tmp_path: Path, pg_url: str) -> None:
    redis_server = RedisServer(password=SECRET).start()
    site = GeneratedSite(2000).start()
    cluster = Cluster(tmp_path, redis_server.url, pg_url, site.base_url)
    try:
        workers = cluster.workers("worker-a", "worker-b")
        coordinator = cluster.coordinator()
        assert coordinator.wait(180) == 0, coordinator.output()[-3000:]
        for worker in workers:
            assert worker.wait(60) == 0, worker.output()[-3000:]
    finally:
        cluster.cleanup()
        site.stop()
        redis_server.destroy()
    # no article URL fetched twice, none missed (counted at the server)
    hits = site.article_hits()
    assert sorted(hits) == expected(2000)
    assert max(hits.values()) == 1, {p: n for p, n in hits.items() if n > 1}
    # the work was shared: each worker fetched a real part of it
    shares = [pages_of(w.output()) for w in workers]
    assert all(share > 100 for share in shares), shares
    facts = archive_facts(pg_url)
    assert paths(facts["urls"]) == expected(2000)
    assert set(facts["versions"].values()) == {1}
    # one run record for the whole crawl, every worker's counts merged in
    [run] = facts["runs"]
    assert run["status"] == "finished"
    assert run["exit_status"] == 0
    assert run["counts"]["stored"] == 2000
    assert run["counts"]["pages"] >= 2000
    assert run["fill_rates"]["headline"] == 1.0
    assert run["fill_rates"]["body"] == 1.0
    # the Redis password (like the database's) is in no log line and not in the run record
    assert run["args"]["redis"] == redis_server.url.replace(SECRET, "***")
    for proc in (coordinator, *workers):
        assert SECRET not in proc.output()


def test_sigkill_of_a_worker_loses_and_doubles_nothing(tmp_path: Path, redis_server: RedisServer) -> None:
    """One worker is SIGKILLed halfway, another leaves on SIGTERM: nothing lost, nothing doubled."""
    # slow pages, two at a time per process: the crawl lasts a few seconds, so the kill lands
    # while the victim holds leased requests (each process takes up to CONCURRENT_REQUESTS)
    site = GeneratedSite(500, pause=0.1).start()
    db = f"sqlite:///{tmp_path / 'archive.sqlite'}"
    # short leases: the killed worker's requests come back within seconds
    cluster = Cluster(tmp_path, redis_server.url, db, site.base_url,
                      ("-s", "NEWSARCHIVE_REDIS_LEASE_SECONDS=3", "-s", "NEWSARCHIVE_STORE_BATCH=20",
                       "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=2"))
    try:
        victim, survivor, leaver = cluster.workers("victim", "survivor", "leaver")
        coordinator = cluster.coordinator()
        deadline = time.monotonic() + 60
        while len(site.article_hits()) < 50:
            assert time.monotonic() < deadline, coordinator.output()[-2000:]
            assert coordinator.popen.poll() is None, coordinator.output()[-2000:]
            time.sleep(0.02)
        # newsarchive status sees the crawl at work (asked now, answered whenever it has started)
        shown = subprocess.Popen([NEWSARCHIVE, "status", "--format", "json"], env=cluster.env,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        # a worker that starts slowly may join late: kill it once it has worked for a while
        while "joining crawl" not in victim.output():
            assert time.monotonic() < deadline, victim.output()[-2000:]
            time.sleep(0.02)
        worked = len(site.article_hits()) + 40
        while len(site.article_hits()) < max(120, worked):
            assert time.monotonic() < deadline, coordinator.output()[-2000:]
            time.sleep(0.02)
        assert victim.popen.poll() is None, "the crawl went too fast for the test: the victim is done"
        victim.kill()
        while len(site.article_hits()) < max(200, worked + 80):
            assert time.monotonic() < deadline, coordinator.output()[-2000:]
            time.sleep(0.02)
        assert leaver.popen.poll() is None, "the crawl went too fast for the test: the leaver is done"
        leaver.kill(signal.SIGTERM)  # finishes what it started, hands back the rest, exits 0
        assert leaver.wait(60) == 0, leaver.output()[-3000:]
        out, err = shown.communicate(timeout=60)
        [row] = json.loads(out)
        assert row["source"] == "tass", err
        assert row["workers"] >= 2
        assert row["queued"] + row["leased"] > 0
        assert row["pages"] > 0
        assert coordinator.wait(120) == 0, coordinator.output()[-3000:]
        assert survivor.wait(60) == 0, survivor.output()[-3000:]
    finally:
        cluster.cleanup()
        site.stop()
    assert victim.popen.returncode == -9
    assert "crawl tass-1-" in leaver.output().splitlines()[-1]
    assert " shutdown after " in leaver.output().splitlines()[-1]
    assert sorted(site.article_hits()) == expected(500)  # every article was fetched
    facts = archive_facts(db)
    assert paths(facts["urls"]) == expected(500)  # nothing lost
    assert set(facts["versions"].values()) == {1}  # nothing doubled
    [run] = facts["runs"]
    assert run["status"] == "finished"
    # whichever live process noticed first put them back: the leaver too, before it left
    log = coordinator.output() + survivor.output() + leaver.output()
    assert "leases expired back in the queue" in log  # the victim held requests: they came back


def test_shared_rate_limit_robots_and_retry_after_across_workers(tmp_path: Path,
                                                                redis_server: RedisServer) -> None:
    from crawlkit import HTML, XML, Site, article_html, rss

    site = Site().start()
    count, delay = 30, 0.1
    listed = [f"/politics/{n}" for n in range(1, count + 1)]
    for n, path in enumerate(listed, start=1):
        site.routes[path] = (200, HTML, article_html(n, f"Rate story {n}", [f"Only in rate story {n}."]))
    site.routes["/rss/v2.xml"] = (200, XML, rss(site.base_url, [(p, "Fri, 20 Nov 2026 10:00:00 +0300")
                                                                for p in listed]))
    robots = b"User-agent: *\nDisallow: /politics/7\n"
    site.routes["/robots.txt"] = (200, {"Content-Type": "text/plain"}, robots)
    asked = []

    def busy(path: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        # the first request is told to come back in 2 s: nobody may ask the host anything meanwhile
        asked.append(time.monotonic())
        if len(asked) == 1:
            return 429, {"Retry-After": "2", **HTML}, b"<html><body>slow down</body></html>"
        return 200, HTML, article_html(5, "Rate story 5", ["Only in rate story 5."])

    site.routes["/politics/5"] = busy
    db = f"sqlite:///{tmp_path / 'archive.sqlite'}"
    # each process alone would send 1/delay requests per second, three together three times that
    cluster = Cluster(tmp_path, redis_server.url, db, site.base_url,
                      ("-s", f"DOWNLOAD_DELAY={delay}", "-s", "RANDOMIZE_DOWNLOAD_DELAY=False",
                       "-s", "ROBOTSTXT_OBEY=True"))
    try:
        workers = cluster.workers("worker-a", "worker-b")
        coordinator = cluster.coordinator()
        assert coordinator.wait(120) == 0, coordinator.output()[-3000:]
        for worker in workers:
            assert worker.wait(60) == 0, worker.output()[-3000:]
    finally:
        cluster.cleanup()
        site.stop()
    hits = [h for h in site.hits if h.path.startswith("/politics/")]
    assert "/politics/7" not in {h.path for h in hits}  # robots.txt, every process
    assert len(asked) == 2  # the 429 was retried once, after its wait
    times = sorted(h.at for h in hits)
    # the configured limit: one request per `delay` per host across all processes; without the
    # shared limit three processes would send three times as many
    # (one late wake-up may shorten a single gap: any ten requests in a row span nine delays)
    spans = [times[i + 9] - times[i] for i in range(len(times) - 9)]
    assert min(spans) >= 9 * delay - 0.03, sorted(spans)[:3]
    per_second = max(sum(1 for t in times if start <= t < start + 1.0) for start in times)
    assert per_second <= 1 / delay + 1, per_second
    # after the 429 the host was left alone for the Retry-After (2 s) by every process. Requests
    # whose slots came before the 429 reached a crawler still went (one per delay, while the
    # answer travelled and waited for its process's turn on this busy machine): a few at most
    # instead of the ~20 the window holds at the shared rate
    soon = [t for t in times if asked[0] < t < asked[0] + 2.0]
    assert len(soon) <= 4, [round(t - asked[0], 3) for t in soon]
    later = [t for t in times if t > asked[0]]
    silences = [b - a for a, b in zip([asked[0], *later], later, strict=False) if a < asked[0] + 0.6]
    assert max(silences) >= 1.5, silences
    assert len(archive_facts(db)["urls"]) == count - 1


def crawl_a_third(cluster: Cluster, site: GeneratedSite) -> tuple[Proc, Proc]:
    """A coordinator and a worker, once they have fetched 100 of the site's 300 articles."""
    [worker] = cluster.workers("worker")
    coordinator = cluster.coordinator()
    deadline = time.monotonic() + 60
    while len(site.article_hits()) < 100:
        assert time.monotonic() < deadline, coordinator.output()[-2000:]
        assert coordinator.popen.poll() is None, coordinator.output()[-2000:]
        time.sleep(0.02)
    return coordinator, worker


def test_a_persistent_redis_restarted_mid_crawl_is_ridden_through(tmp_path: Path) -> None:
    redis = RedisServer(persist=True).start()
    site = GeneratedSite(300, pause=0.01).start()
    db = f"sqlite:///{tmp_path / 'archive.sqlite'}"
    cluster = Cluster(tmp_path, redis.url, db, site.base_url, ("-s", "NEWSARCHIVE_REDIS_RETRY_SECONDS=10"))
    try:
        coordinator, worker = crawl_a_third(cluster, site)
        # a restart that keeps the data (the append-only file), well within the retry time
        redis.stop()
        stopped_at = len(site.article_hits())
        time.sleep(2)  # the processes meet the outage
        redis.start()
        assert coordinator.wait(120) == 0, coordinator.output()[-3000:]
        assert worker.wait(60) == 0, worker.output()[-3000:]
        assert stopped_at < 300
        for proc in (coordinator, worker):
            out = proc.output()
            assert "unreachable" in out, out[-3000:]
            assert "answers again" in out, out[-3000:]
            assert "Traceback" not in out, out[-3000:]
    finally:
        cluster.cleanup()
        site.stop()
        redis.destroy()
    facts = archive_facts(db)
    assert paths(facts["urls"]) == expected(300)  # nothing lost, nothing twice
    assert set(facts["versions"].values()) == {1}
    assert [run["status"] for run in facts["runs"]] == ["finished"]


def test_redis_restarted_mid_crawl_stops_clearly_and_a_rerun_completes(tmp_path: Path) -> None:
    redis = RedisServer().start()
    site = GeneratedSite(300, pause=0.01).start()
    db = f"sqlite:///{tmp_path / 'archive.sqlite'}"
    cluster = Cluster(tmp_path, redis.url, db, site.base_url, ("-s", "NEWSARCHIVE_REDIS_RETRY_SECONDS=3"))
    try:
        coordinator, worker = crawl_a_third(cluster, site)
        # restarted without persistence: the frontier is gone, the archive keeps what was stored
        redis.stop()
        redis.start()
        assert coordinator.wait(60) == 3, coordinator.output()[-3000:]
        assert worker.wait(60) == 3, worker.output()[-3000:]
        for proc in (coordinator, worker):
            lines = [ln for ln in proc.output().splitlines()
                     if "gone from Redis" in ln or "unreachable for" in ln]
            assert lines, proc.output()[-3000:]
            assert "Traceback" not in proc.output()
        first = len(archive_facts(db)["urls"])
        assert 0 < first < 300
        fetched_before = sum(site.article_hits().values())
        # the rerun: a new coordinator and worker complete the crawl from the listings and the archive
        [worker] = cluster.workers("worker-rerun")
        coordinator = cluster.coordinator()
        assert coordinator.wait(120) == 0, coordinator.output()[-3000:]
        assert worker.wait(60) == 0, worker.output()[-3000:]
    finally:
        cluster.cleanup()
        site.stop()
        redis.destroy()
    facts = archive_facts(db)
    assert paths(facts["urls"]) == expected(300)  # nothing lost
    assert set(facts["versions"].values()) == {1}
    # the rerun fetched what was missing, not the whole site again (stored articles are not due)
    refetched = sum(site.article_hits().values()) - fetched_before
    assert refetched <= 300 - first + 40, (refetched, first)
    assert [r["status"] for r in facts["runs"]] == ["failed", "finished"]


def test_status_and_worker_fail_clearly_without_redis(tmp_path: Path) -> None:
    """A bad or unreachable Redis URL is one line and a non-zero exit, its password masked."""
    url = f"redis://:hunter2-secret@127.0.0.1:{free_port()}/0"  # nothing listens there
    db = f"sqlite:///{tmp_path / 'a.sqlite'}"
    env = dict(os.environ, NEWSARCHIVE_REDIS=url, NEWSARCHIVE_DATA_DIR=str(tmp_path), NEWSARCHIVE_DB=db)
    for argv in ([NEWSARCHIVE, "status"], [NEWSARCHIVE, "worker"], [NEWSARCHIVE, "crawl", "tass"]):
        proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60, check=False)
        assert proc.returncode == 1, proc.stderr
        assert "hunter2" not in proc.stdout + proc.stderr
        assert "Traceback" not in proc.stderr
        assert "cannot reach Redis at redis://:***@127.0.0.1" in proc.stderr
    bad = subprocess.run([NEWSARCHIVE, "status", "--redis", "http://:hunter2-secret@x/"], env=env,
                         capture_output=True, text=True, timeout=60, check=False)
    assert bad.returncode == 2
    assert "hunter2" not in bad.stderr
