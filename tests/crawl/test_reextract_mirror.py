"""Re-extracting a crawl of a mirror (as the README's demo: the sample site through --base-url) keeps
every field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from crawlkit import archived, run_crawl

from newsarchive import extract
from newsarchive.cli import main
from newsarchive.demo import SampleSite
from newsarchive.reextract import reextract
from newsarchive.storage import Archive

pytestmark = pytest.mark.slow


def _versions(db: str) -> int:
    with Archive(db) as archive, archive.engine.connect() as conn:
        return int(conn.execute(sa.text("SELECT count(*) FROM article_versions")).scalar_one())


def test_reextract_of_a_mirror_crawl_keeps_every_field(tmp_path: Path) -> None:
    with SampleSite(port=0) as site:
        run = run_crawl(tmp_path, site.base_url)  # 127.0.0.1:<port>: no profile knows the host
    assert run.returncode == 0, run.stderr[-2000:]
    db = f"sqlite:///{tmp_path / 'archive.sqlite'}"
    warc = tmp_path / "data" / "warc"
    before = archived(db)
    assert len(before) == 7
    assert all(row["source"] == "tass" for row in before.values())
    seed = next(row for url, row in before.items() if url.endswith("/politics/900101"))
    assert seed["published"] == "2017-01-19T13:48:00+03:00"
    assert seed["topics"]
    assert seed["section"]

    # the URL's host alone (what re-extraction did before): the generic extractor loses fields,
    # and the archive refuses every such version
    with Archive(db) as archive:
        by_host = reextract(archive, extract=lambda html, url, **_: extract(html, url),
                            warc_directory=warc)
    assert by_host.counts["refused"] > 0
    assert by_host.counts["changed"] == 0
    assert by_host.fields["topics"].lost > 0
    assert archived(db) == before

    # the stored source's profile: the same extraction, nothing to change
    with Archive(db) as archive:
        report = reextract(archive, warc_directory=warc)
    assert report.counts == {"checked": 7, "changed": 0, "unchanged": 7, "refused": 0, "failed": 0,
                             "no_warc": 0, "moved": 0}
    after = archived(db)
    assert after == before

    # the command line, dry run and then for real: the same, and the archive checks clean
    runner = CliRunner()
    env: dict[str, Any] = {"NEWSARCHIVE_WARC_DIR": str(warc)}
    versions = _versions(db)
    for args in (["reextract", "--dry-run", "--db", db], ["reextract", "--db", db],
                 ["db", "check", "--db", db]):
        result = runner.invoke(main, args, env=env, catch_exceptions=False)
        assert result.exit_code == 0, result.stderr
    assert "would_change 0" in runner.invoke(main, ["reextract", "--dry-run", "--db", db], env=env).stderr
    assert _versions(db) == versions
    assert archived(db) == before
