"""The archive commands end to end through click: db upgrade, search, export, stats, reextract."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from archive_helpers import OTHER_STORY, make_article
from click.testing import CliRunner

from newsarchive.cli import main
from newsarchive.storage import Archive

TRICKY = 'Sanctions, "again"; prices\nrise — Москва, «цены»'


@pytest.fixture
def filled_url(sqlite_url: str) -> str:
    with Archive(sqlite_url) as archive:
        archive.save_batch([
            make_article(1, headline=TRICKY, topics=["Economy, trade", 'Quote "x"']),
            make_article(2, body=OTHER_STORY, source="ap", topics=["Weather"]),
        ])
    return sqlite_url


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_db_upgrade_creates_then_reports_head(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new' / 'a.sqlite'}"
    code, _, err = run("db", "upgrade", "--db", url)
    assert code == 0, err
    assert "(was empty)" in err
    code, _, err = run("db", "upgrade", "--db", url)
    assert code == 0
    assert "was empty" not in err


def test_unwritable_database_is_one_line_and_exit_1(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    code, out, err = run("stats", "--db", f"sqlite:///{tmp_path}/file/a.sqlite")
    assert code == 1
    assert out == ""
    assert err.strip().count("\n") == 0
    assert err.startswith("Error: cannot write the archive at")


def test_export_csv_round_trip_with_commas_quotes_newlines_and_cyrillic(
    filled_url: str, tmp_path: Path
) -> None:
    out = tmp_path / "out.csv"
    code, _, err = run("export", "--format", "csv", "-o", str(out), "--db", filled_url)
    assert code == 0, err
    with out.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 2
    assert rows[0]["headline"] == TRICKY
    assert rows[0]["published"] == "2017-01-20T13:48:00+03:00"
    assert json.loads(rows[0]["topics"]) == ["Economy, trade", 'Quote "x"']
    assert rows[1]["source"] == "ap"
    code, _, _ = run("export", "--format", "csv", "-o", str(out), "--source", "ap", "--db", filled_url)
    with out.open(encoding="utf-8-sig", newline="") as f:
        assert [r["source"] for r in csv.DictReader(f)] == ["ap"]


def test_export_jsonl_to_stdout_with_filters(filled_url: str) -> None:
    code, out, _ = run("export", "--format", "jsonl", "--topic", "weather", "--db", filled_url)
    assert code == 0
    (line,) = out.splitlines()
    assert json.loads(line)["source"] == "ap"
    code, out, _ = run("export", "--format", "jsonl", "--since", "2017-01-21", "--until", "2017-01-21",
                       "--db", filled_url)
    assert [json.loads(x)["article_id"] for x in out.splitlines()] == [2]


def test_export_to_unwritable_path_fails_before_any_work(filled_url: str, tmp_path: Path) -> None:
    code, _, err = run("export", "-o", str(tmp_path / "missing" / "x.csv"), "--db",
                         f"sqlite:///{tmp_path}/never-created.sqlite")
    assert code == 1
    assert "cannot write the export" in err
    assert not (tmp_path / "never-created.sqlite").exists()  # the archive was not even opened


def test_search_formats_and_broken_query(filled_url: str) -> None:
    code, out, _ = run("search", "snowfall", "--format", "json", "--db", filled_url)
    assert code == 0
    (hit,) = json.loads(out)
    assert hit["source"] == "ap"
    code, out, _ = run("search", "москва OR snowfall", "--format", "csv", "--db", filled_url)
    rows = list(csv.DictReader(io.StringIO(out)))
    assert {r["source"] for r in rows} == {"tass", "ap"}
    assert next(r for r in rows if r["source"] == "tass")["headline"] == TRICKY
    code, out, err = run("search", "snowfall", "--db", filled_url)
    assert code == 0
    assert "[snowfall]" in out.lower()
    code, out, err = run("search", '"unbalanced', "--db", filled_url)
    assert code == 1
    assert err == "Error: search query '\"unbalanced' has an unbalanced double quote\n"
    code, out, err = run("search", "x", "--since", "yesterday", "--db", filled_url)
    assert code == 2


def test_stats_table_and_json(filled_url: str) -> None:
    code, out, _ = run("stats", "--format", "json", "--db", filled_url)
    assert code == 0
    data = json.loads(out)
    assert {d["source"] for d in data["days"]} == {"tass", "ap"}
    assert data["alarms"] == []
    code, out, _ = run("stats", "--db", filled_url)
    assert code == 0
    assert "articles" in out.splitlines()[0]


def test_reextract_command_reports_counts(filled_url: str) -> None:
    code, _, err = run("reextract", "--db", filled_url)
    assert code == 0
    assert "checked 0" in err
    assert "no_warc 2" in err
