"""The archive commands end to end through click: db upgrade, search, export, stats, reextract."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import click
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
    code, out, err = run("db", "upgrade", "--db", f"sqlite:///{tmp_path}/file/a.sqlite")
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


# -- loud failures (issue 14 item 5, issue 17 item 2) ---------------------------------------
def one_error_line(err: str) -> str:
    """The one "Error: ..." line of a failed command; no traceback."""
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.startswith("Error: ")]
    assert len(lines) == 1, err
    return lines[0]


@pytest.mark.parametrize("command", [["search", "x"], ["stats"], ["export", "--format", "jsonl"],
                                     ["story", "1"]])
def test_read_only_commands_refuse_a_missing_archive(tmp_path: Path, command: list[str]) -> None:
    missing = tmp_path / "nonexistent" / "dir" / "a.db"
    code, out, err = run(*command, "--db", f"sqlite:///{missing}")
    assert code == 1
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith(f"Error: no archive at sqlite:///{missing}")
    assert not (tmp_path / "nonexistent").exists()  # nothing was created on the way
    empty = tmp_path / "empty.sqlite"
    empty.touch()
    code, _, err = run(*command, "--db", f"sqlite:///{empty}")
    assert code == 1
    assert "holds no newsarchive schema" in one_error_line(err)
    assert empty.stat().st_size == 0


@pytest.mark.postgres
def test_read_only_commands_refuse_a_database_without_the_schema(pg_url: str) -> None:
    code, _, err = run("stats", "--db", pg_url)
    assert code == 1
    line = one_error_line(err)
    assert "holds no newsarchive schema" in line
    assert ":newsarchive@" not in line  # the password is masked


def test_unknown_names_are_errors_that_list_the_known_ones(filled_url: str) -> None:
    code, out, err = run("search", "moscow", "--source", "tas", "--db", filled_url)
    assert (code, out) == (1, "")
    assert one_error_line(err) == "Error: unknown source 'tas': this archive holds ap, tass"
    code, out, err = run("export", "--format", "jsonl", "--topic", "wether", "--db", filled_url)
    assert (code, out) == (1, "")
    assert one_error_line(err) == ("Error: unknown topic 'wether': this archive holds "
                                   "Economy, trade, Quote \"x\", Weather")
    code, out, err = run("export", "--language", "fr", "--db", filled_url)
    assert (code, out) == (1, "")
    assert one_error_line(err) == "Error: unknown language 'fr': this archive holds en"
    code, out, err = run("stats", "--source", "reuters", "--db", filled_url)
    assert (code, out) == (1, "")
    assert "unknown source 'reuters'" in one_error_line(err)
    # a known topic in another spelling is no error
    code, out, _ = run("export", "--format", "jsonl", "--topic", "WEATHER", "--db", filled_url)
    assert code == 0
    assert len(out.splitlines()) == 1


def test_language_filter_on_export_and_search(sqlite_url: str) -> None:
    with Archive(sqlite_url) as archive:
        archive.save_batch([make_article(1), make_article(2, body=OTHER_STORY, language="ru-RU"),
                            make_article(3, language="EN-gb")])
    code, out, _ = run("export", "--format", "jsonl", "--language", "ru", "--db", sqlite_url)
    assert code == 0
    assert [json.loads(x)["language"] for x in out.splitlines()] == ["ru-RU"]
    code, out, _ = run("export", "--format", "jsonl", "--language", "en", "--db", sqlite_url)
    assert sorted(json.loads(x)["language"] for x in out.splitlines()) == ["EN-gb", "en"]
    code, out, _ = run("export", "--format", "jsonl", "--language", "en-GB", "--db", sqlite_url)
    assert [json.loads(x)["language"] for x in out.splitlines()] == ["EN-gb"]
    code, out, _ = run("search", "moscow", "--language", "en", "--format", "json", "--db", sqlite_url)
    assert code == 0
    assert {hit["language"] for hit in json.loads(out)} == {"en", "EN-gb"}


@pytest.mark.parametrize("command", [["search", "x"], ["export"]])
def test_since_later_than_until_is_a_usage_error(filled_url: str, command: list[str]) -> None:
    code, out, err = run(*command, "--since", "2017-02-01", "--until", "2017-01-01", "--db", filled_url)
    assert (code, out) == (2, "")
    assert "--since is later than --until" in one_error_line(err)


def test_malformed_database_url_is_a_usage_error_with_the_password_masked(tmp_path: Path) -> None:
    for command in (["search", "x"], ["stats"], ["export"], ["db", "upgrade"]):
        code, out, err = run(*command, "--db", "[::1:1")
        assert (code, out) == (2, ""), err
        assert "'[::1:1' is not a database URL" in one_error_line(err)
    code, _, err = run("stats", "--db", "postgresql://reader:Sekr3tPw@[::1:1/news")
    assert code == 2
    line = one_error_line(err)
    assert "Sekr3tPw" not in line
    assert "reader:***@" in line


def test_stats_csv_gives_the_day_rows(filled_url: str) -> None:
    code, out, _ = run("stats", "--format", "csv", "--db", filled_url)
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert {r["source"] for r in rows} == {"tass", "ap"}
    assert set(rows[0]) >= {"day", "articles", "updates", "runs"}


def _commands(group: click.Group, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found: list[tuple[str, ...]] = []
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            found.extend(_commands(command, (*path, name)))
        else:
            found.append((*path, name))
    return found


def test_every_command_spells_verbosity_the_same_and_shows_its_environment() -> None:
    commands = _commands(main)
    assert {("search",), ("export",), ("stats",), ("crawl",), ("sources",), ("schedule",)} <= set(commands)
    for path in commands:
        code, out, _ = run(*path, "--help")
        assert code == 0
        for option in ("-v, --verbose", "-q, --quiet", "--log-level"):
            assert option in out, (path, option)
        assert "NEWSARCHIVE_LOG_LEVEL" in out, path
        if "--db" in out:
            assert "NEWSARCHIVE_DB" in out, path
    code, out, _ = run("--help")
    assert "NEWSARCHIVE_DB" in out
    assert "NEWSARCHIVE_WARC_DIR" in out


def test_quiet_and_verbose_set_the_log_level(filled_url: str) -> None:
    import logging

    for args, level in ((["-q"], logging.ERROR), (["-v"], logging.INFO), (["-vv"], logging.DEBUG),
                        (["--log-level", "error"], logging.ERROR), ([], logging.WARNING)):
        code, _, _ = run("stats", *args, "--db", filled_url)
        assert code == 0
        assert logging.getLogger().level == level, args
    code, _, _ = run("-v", "stats", "-v", "--db", filled_url)
    assert logging.getLogger().level == logging.DEBUG


@pytest.mark.parametrize("command", [["search", "moscow"], ["stats"], ["sources"], ["story", "1"]])
def test_record_commands_take_table_json_and_csv(filled_url: str, command: list[str]) -> None:
    db = [] if command == ["sources"] else ["--db", filled_url]
    outputs = {}
    for fmt in ("table", "json", "csv"):
        code, outputs[fmt], err = run(*command, "--format", fmt, *db)
        assert code == 0, err
    assert json.loads(outputs["json"])
    assert list(csv.DictReader(io.StringIO(outputs["csv"])))


def test_search_csv_topics_are_a_json_array(filled_url: str) -> None:
    code, out, _ = run("search", "москва", "--format", "csv", "--db", filled_url)
    assert code == 0
    (row,) = list(csv.DictReader(io.StringIO(out)))
    assert json.loads(row["topics"]) == ["Economy, trade", 'Quote "x"']
