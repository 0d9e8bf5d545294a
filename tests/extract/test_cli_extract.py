"""`newsarchive extract`: JSON lines on stdout, one clear stderr line per bad file, exit status."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

from click.testing import CliRunner

from newsarchive.cli import main

FIXTURES = Path(__file__).parent.parent / "fixtures" / "extract"


def run(*args: str):
    return CliRunner().invoke(main, ["extract", *args], catch_exceptions=False)


def test_extracts_html_and_gz_recursively(tmp_path):
    (tmp_path / "sub").mkdir()
    shutil.copy(FIXTURES / "wire_story.html", tmp_path / "a.html")
    (tmp_path / "sub" / "b.html.gz").write_bytes(
        gzip.compress((FIXTURES / "tass_like_2017.html").read_bytes())
    )
    (tmp_path / "notes.txt").write_text("not a page")
    result = run(str(tmp_path))
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["headline"] for r in records] == [
        "Harbour cranes return to the old port",
        "Ministers agree on a new river ferry schedule",
    ]
    assert all("content_hash" in r for r in records)


def test_url_option_sets_url_and_source(tmp_path):
    result = run(str(FIXTURES / "wire_story.html"), "--url", "https://wire.example.org/economy/4711")
    record = json.loads(result.stdout)
    assert record["url"] == "https://wire.example.org/economy/4711"
    assert record["source"] == "wire.example.org"
    assert record["read_also"][0]["url"] == "https://wire.example.org/economy/4700"


def test_bad_files_give_one_line_each_and_exit_1(tmp_path):
    shutil.copy(FIXTURES / "wire_story.html", tmp_path / "good.html")
    (tmp_path / "doc.html").write_bytes(b"%PDF-1.4 binary stuff")
    (tmp_path / "broken.html.gz").write_bytes(b"not gzip at all")
    (tmp_path / "empty.html").write_bytes(b"")
    result = run(str(tmp_path))
    assert result.exit_code == 1
    assert len(result.stdout.splitlines()) == 1
    errors = result.stderr.splitlines()
    assert len(errors) == 4
    assert "Traceback" not in result.stderr
    assert any("doc.html: not an HTML page" in line for line in errors)
    assert any("broken.html.gz: cannot decompress" in line for line in errors)
    assert errors[-1] == "3 of 4 file(s) failed"


def test_missing_path_is_a_usage_error(tmp_path):
    result = CliRunner().invoke(main, ["extract", str(tmp_path / "nope.html")])
    assert result.exit_code == 2


def test_empty_directory_fails_clearly(tmp_path):
    result = run(str(tmp_path))
    assert result.exit_code == 1
    assert "no .html or .html.gz pages found" in result.stderr
