"""The reextract command through click: the per-field report, progress on stderr, loud failures."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result

from newsarchive import extract
from newsarchive.article import FetchInfo
from newsarchive.capture import WarcWriter
from newsarchive.cli import main
from newsarchive.storage import Archive

PAGE = """<html lang="en"><head><title>{title}</title></head><body><article><h1>{title}</h1>
<p>The port authority said on Monday that cargo traffic through the northern terminal rose for a
third month in a row, helped by new rail links to the interior and lower handling fees.</p>
<p>Officials expect the trend to continue into the spring, when two more berths open for container
ships and the dredging of the main channel is finished.</p></article></body></html>"""


@pytest.fixture
def stale(sqlite_url: str, tmp_path: Path) -> str:
    """Three articles whose stored headline is not what the page says (an older extractor's)."""
    articles = []
    with WarcWriter(tmp_path / "warc") as writer:
        for n in (1, 2, 3):
            url = f"https://port.example/news/{n}"
            html = PAGE.format(title=f"Cargo traffic rises again, report {n}").encode()
            ref = writer.write_response(url, status=200, headers=[("Content-Type", "text/html")], body=html)
            article = extract(html, url)
            article.headline = f"Cargo report {n}"
            article.fetch = FetchInfo(status=200, warc_file=ref.file, warc_offset=ref.offset,
                                      warc_length=ref.length)
            articles.append(article)
    with Archive(sqlite_url) as archive:
        archive.save_batch(articles)
    return sqlite_url


def run(tmp_path: Path, *args: str) -> Result:
    return CliRunner().invoke(main, list(args), env={"NEWSARCHIVE_WARC_DIR": str(tmp_path / "warc")},
                              catch_exceptions=False)


def versions(url: str) -> int:
    with Archive(url) as archive, archive.engine.connect() as conn:
        return int(conn.execute(sa.text("SELECT count(*) FROM article_versions")).scalar_one())


def test_dry_run_prints_each_changed_field_with_examples_and_writes_nothing(stale: str,
                                                                            tmp_path: Path) -> None:
    result = run(tmp_path, "reextract", "--dry-run", "--db", stale)
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "headline: would change in 3 article(s)"
    assert lines[1] == ("    https://port.example/news/1: 'Cargo report 1' -> "
                        "'Cargo traffic rises again, report 1'")
    assert len(lines) == 4
    assert "reextract: 3/3 checked, 3 would change, 0 refused, 0 failed" in result.stderr
    assert "would_change 3" in result.stderr
    assert versions(stale) == 3
    result = run(tmp_path, "reextract", "--no-progress", "--db", stale)
    assert result.exit_code == 0
    assert "reextract:" not in result.stderr
    assert result.stdout.splitlines()[0] == "headline: changed in 3 article(s)"
    assert versions(stale) == 6
    assert run(tmp_path, "reextract", "--db", stale).stdout == ""  # nothing more to change


def test_unreadable_raw_responses_exit_1(stale: str, tmp_path: Path) -> None:
    for file in (tmp_path / "warc").glob("*.warc.gz"):
        file.unlink()
    result = run(tmp_path, "reextract", "--db", stale)
    assert result.exit_code == 1
    assert "failed 3" in result.stderr
    assert result.stderr.rstrip().endswith("Error: 3 record(s) could not be re-extracted (see the log)")
    assert versions(stale) == 3
