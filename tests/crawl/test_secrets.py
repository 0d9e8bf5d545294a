"""A database password never leaves the URL it was given in (issue 14 item 4).

A crawl into PostgreSQL as a role with a distinctive password, started by hand and by the
scheduler; then every output (stdout, stderr, log file, summary, journal, every file the crawl
wrote) and the text of every table is searched for the password in each spelling.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import pytest
from crawlkit import HTML, XML, Site, article_html, rss

pytestmark = pytest.mark.slow

NEWSARCHIVE = str(Path(sys.executable).with_name("newsarchive"))


@pytest.fixture
def secret_db() -> Iterator[tuple[str, str]]:
    """(URL, password) of a fresh schema owned by a throwaway role with a distinctive password."""
    base = os.environ.get("NEWSARCHIVE_TEST_PG_URL")
    if not base:
        if os.environ.get("NEWSARCHIVE_REQUIRE_PG"):
            pytest.fail("PostgreSQL required but NEWSARCHIVE_TEST_PG_URL is not set")
        pytest.skip("PostgreSQL tests SKIPPED: NEWSARCHIVE_TEST_PG_URL is not set "
                    "(bash .ci/run starts a server)")
    import sqlalchemy as sa

    tag = uuid.uuid4().hex[:10]
    role, schema = f"na_secret_{tag}", f"t_secret_{tag}"
    # '/', '@' and '%' must be percent-encoded in a URL: both spellings have to stay hidden
    password = f"Pw{tag}/@%Zk"
    admin = sa.create_engine(base)
    try:
        with admin.begin() as conn:
            conn.execute(sa.text(f"CREATE ROLE \"{role}\" LOGIN PASSWORD '{password}'"))
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}" AUTHORIZATION "{role}"'))
    except sa.exc.SQLAlchemyError as exc:
        admin.dispose()
        pytest.skip(f"cannot create a role on NEWSARCHIVE_TEST_PG_URL ({exc})")
    parts = urlsplit(base)
    netloc = f"{role}:{quote(password, safe='')}@{parts.hostname}:{parts.port or 5432}"
    url = urlunsplit((parts.scheme, netloc, parts.path, f"options={quote(f'-csearch_path={schema}')}", ""))
    try:
        yield url, password
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            conn.execute(sa.text(f'DROP ROLE IF EXISTS "{role}"'))
        admin.dispose()


def _spellings(password: str) -> list[str]:
    return sorted({password, quote(password, safe=""), quote(password)})


def _site(site: Site) -> None:
    paths = []
    for n in (1, 2):
        path = f"/politics/{n}"
        site.routes[path] = (200, HTML, article_html(n, f"Secretless headline {n}", [f"Paragraph {n}."]))
        paths.append(path)
    site.routes["/rss/v2.xml"] = (200, XML, rss(site.base_url, [(p, "Fri, 20 Nov 2026 10:00:00 +0300")
                                                                 for p in paths]))


def _table_text(url: str) -> str:
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            names = sa.inspect(conn).get_table_names()
            assert "crawl_runs" in names
            assert "articles" in names
            return "\n".join(f"{name}: {row}" for name in names
                             for row in conn.execute(sa.text(f'SELECT * FROM "{name}"')))
    finally:
        engine.dispose()


def test_no_output_file_or_table_holds_the_password(tmp_path: Path, site: Site,
                                                    secret_db: tuple[str, str]) -> None:
    url, password = secret_db
    _site(site)
    env = dict(os.environ, NEWSARCHIVE_DATA_DIR=str(tmp_path / "data"))
    env.pop("NEWSARCHIVE_LOG_LEVEL", None)
    common = ["--base-url", site.base_url, "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY=0",
              "-s", "HTTPPROXY_ENABLED=False"]
    outputs: dict[str, str] = {}

    # 1. by hand, no terminal and no --log-level: INFO on stderr, each line once, no telnet
    first = subprocess.run([NEWSARCHIVE, "crawl", "tass", "--db", url, *common,
                            "--summary-json", str(tmp_path / "summary.json")],
                           capture_output=True, text=True, timeout=180, cwd=tmp_path, env=env, check=False)
    assert first.returncode == 0, first.stderr[-3000:]
    outputs["stdout 1"], outputs["stderr 1"] = first.stdout, first.stderr
    assert "INFO" in first.stderr
    assert " DEBUG" not in first.stderr
    assert first.stderr.count("Spider opened") == 1
    assert first.stderr.count("started (bot: newsarchive)") == 1
    assert "Telnet" not in first.stderr
    assert "Remote control" not in first.stderr

    # 2. at debug level, into a log file, with the URL in the environment instead of --db
    log_file = tmp_path / "crawl.log"
    second = subprocess.run([NEWSARCHIVE, "-v", "crawl", "tass", "-v", "--refetch", *common,
                             "-s", f"LOG_FILE={log_file}"],
                            capture_output=True, text=True, timeout=180, cwd=tmp_path,
                            env=dict(env, NEWSARCHIVE_DB=url), check=False)
    assert second.returncode == 0, second.stderr[-3000:]
    outputs["stdout 2"], outputs["stderr 2"] = second.stdout, second.stderr
    assert " DEBUG: " in log_file.read_text()  # -v twice: the most verbose level was written

    # 3. a broken archive URL with the same password: the error line masks it
    host_port = urlsplit(url).netloc.rpartition("@")[2]
    broken = url.replace(f"@{host_port}", "@127.0.0.1:1", 1)  # nothing listens on port 1
    third = subprocess.run([NEWSARCHIVE, "stats", "--db", broken], capture_output=True, text=True,
                           timeout=120, cwd=tmp_path, env=env, check=False)
    assert third.returncode == 1
    assert third.stderr.startswith("Error: "), third.stderr
    assert third.stderr.count("\n") == 1, third.stderr
    assert "***" in third.stderr
    outputs["stderr 3"] = third.stderr

    # 4. the scheduler: dry run, then one real run; the child sees the URL only in its environment
    schedule = tmp_path / "schedule.toml"
    schedule.write_text(f"""
db = "{url}"
journal = "journal.jsonl"
lock_dir = "locks"
[sources.tass]
cron = "* * * * * *"
base_url = "{site.base_url}"
args = ["-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY=0", "-s", "HTTPPROXY_ENABLED=False"]
""")
    dry = subprocess.run([NEWSARCHIVE, "schedule", "--config", str(schedule), "--dry-run"],
                         capture_output=True, text=True, timeout=120, cwd=tmp_path, env=env, check=False)
    assert dry.returncode == 0, dry.stderr
    assert "NEWSARCHIVE_DB=" in dry.stdout
    assert "***" in dry.stdout
    outputs["dry-run"] = dry.stdout + dry.stderr

    from newsarchive.schedule import Scheduler, load_config

    config = load_config(schedule)
    out = io.StringIO()
    scheduler = Scheduler(config, out=out)
    deadline = time.monotonic() + 10
    while not scheduler.running and time.monotonic() < deadline:
        scheduler.tick()
        time.sleep(0.2)
    (pid,) = scheduler.running.values()
    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    environ = Path(f"/proc/{pid}/environ").read_bytes().decode(errors="replace")
    assert "NEWSARCHIVE_DB=" in environ
    assert "--db" not in cmdline
    outputs["child argv"] = cmdline
    deadline = time.monotonic() + 180
    while scheduler.running and time.monotonic() < deadline:
        scheduler.reap()
        time.sleep(0.2)
    assert not scheduler.running
    journal = (tmp_path / "journal.jsonl").read_text()
    assert '"outcome": "finished"' in journal, journal
    outputs["scheduler stdout"] = out.getvalue()

    # every file written under the test's directory (summary, log, journal, WARC, jobs)
    for path in tmp_path.rglob("*"):
        if path.is_file() and path != schedule:  # the schedule file is the input that holds it
            outputs[str(path)] = path.read_bytes().decode("utf-8", errors="replace")
    outputs["tables"] = _table_text(url)
    assert "'db': 'postgresql+psycopg://na_secret_" in outputs["tables"]
    assert ":***@" in outputs["tables"]

    for where, text in outputs.items():
        for form in _spellings(password):
            assert form not in text, f"the password ({form!r}) leaked into {where}"


def test_crawl_logs_each_line_once_at_info_without_a_terminal(tmp_path: Path, site: Site) -> None:
    _site(site)
    env = dict(os.environ, NEWSARCHIVE_DATA_DIR=str(tmp_path / "data"))
    env.pop("NEWSARCHIVE_LOG_LEVEL", None)
    argv = [NEWSARCHIVE, "crawl", "tass", "--db", f"sqlite:///{tmp_path / 'a.sqlite'}", "--base-url",
            site.base_url, "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY=0",
            "-s", "HTTPPROXY_ENABLED=False"]
    run = subprocess.run(argv, capture_output=True, text=True, timeout=180, cwd=tmp_path, env=env,
                         check=False)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "] INFO: Spider opened" in run.stderr
    assert " DEBUG" not in run.stderr
    # one handler: every record in Scrapy's format (a second handler printed each one again in
    # its own format), and Scrapy's own records, which come once each, appear once
    records = [line for line in run.stderr.splitlines() if re.match(r"\d{4}-\d\d-\d\d ", line)]
    assert len(records) > 5
    assert all(re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \[[\w.]+\] [A-Z]+: ", r) for r in records), records
    scrapy_records = [r for r in records if "[scrapy." in r]
    assert len(scrapy_records) == len(set(scrapy_records))
    assert run.stderr.count("started (bot: newsarchive)") == 1
    assert "Telnet" not in run.stderr
    # --log-level (an alias of -q here) is honoured: only warnings and the summary remain
    quiet = subprocess.run([*argv, "--refetch", "--log-level", "WARNING"], capture_output=True, text=True,
                           timeout=180, cwd=tmp_path, env=env, check=False)
    assert quiet.returncode == 0, quiet.stderr[-3000:]
    assert " INFO" not in quiet.stderr
    assert "tass: finished" in quiet.stderr
