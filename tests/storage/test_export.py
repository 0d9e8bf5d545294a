"""Export writers: tricky text round-trips through CSV, JSON Lines and Parquet; bad targets fail first."""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from newsarchive.storage import export
from newsarchive.storage.export import COLUMNS, ExportError, check_writable, csv_value, write_rows

MSK = timezone(timedelta(hours=3))

ROWS: list[dict[str, Any]] = [
    {
        "url": "https://wire.example/a?x=1,2",
        "source": "tass",
        "headline": 'Minister: "no comment", for now',
        "dateline": "MOSCOW, March 14",
        "published": datetime(2026, 3, 14, 9, 30, tzinfo=MSK),
        "body": "Первый абзац, с запятой.\n\nВторой абзац; «кавычки» и \"quotes\".\r\nLine three",
        "topics": ["Экономика", "World, politics"],
        "authors": ["Анна Иванова"],
        "read_also": [{"title": 'A "linked", story', "url": "https://wire.example/b"}],
        "article_id": 1,
        "cluster_id": 1,
        "version_count": 2,
    },
    {
        "url": "https://wire.example/b",
        "headline": None,
        "body": "",
        "topics": [],
        "read_also": [],
        "published": "2026-03-15T08:00:00+00:00",  # iter_articles already gives ISO strings
        "article_id": 2,
        "unexpected_key": "dropped",
    },
]


def expected_csv_cell(row: dict[str, Any], column: str) -> str:
    value = row.get(column)
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if column in ("topics", "authors", "read_also"):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def test_csv_round_trip_with_commas_quotes_newlines_and_cyrillic(tmp_path: Path) -> None:
    out = tmp_path / "a.csv"
    assert write_rows(ROWS, "csv", out) == 2
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM for spreadsheets
    with out.open(encoding="utf-8-sig", newline="") as f:
        got = list(csv.reader(f))
    assert got[0] == list(COLUMNS)
    assert all(len(r) == len(COLUMNS) for r in got)  # every row, same columns
    for row, line in zip(ROWS, got[1:], strict=True):
        assert line == [expected_csv_cell(row, c) for c in COLUMNS]
    first = dict(zip(got[0], got[1], strict=True))
    assert first["published"] == "2026-03-14T09:30:00+03:00"
    assert json.loads(first["read_also"]) == ROWS[0]["read_also"]
    assert json.loads(first["topics"]) == ROWS[0]["topics"]  # a comma inside a topic survives
    assert "unexpected_key" not in got[0]


def test_csv_reads_back_in_pyarrow(tmp_path: Path) -> None:
    pa_csv = pytest.importorskip("pyarrow.csv", reason="pyarrow (the parquet extra) not installed")
    out = tmp_path / "a.csv"
    write_rows(ROWS, "csv", out)
    table = pa_csv.read_csv(
        out,
        parse_options=pa_csv.ParseOptions(newlines_in_values=True),
        convert_options=pa_csv.ConvertOptions(column_types={c: "string" for c in COLUMNS}),
    )
    assert table.column_names == list(COLUMNS)  # BOM not glued to the first name
    rows = table.to_pylist()
    assert rows[0]["body"] == ROWS[0]["body"]
    assert rows[0]["headline"] == ROWS[0]["headline"]
    assert json.loads(rows[0]["topics"]) == ["Экономика", "World, politics"]
    assert rows[1]["headline"] == ""


def test_jsonl_round_trip(tmp_path: Path) -> None:
    out = tmp_path / "a.jsonl"
    write_rows(ROWS, "jsonl", out, columns=["url", "headline", "published", "topics", "read_also", "body"])
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2
    first = json.loads(lines[0])
    assert first == {
        "url": ROWS[0]["url"], "headline": ROWS[0]["headline"], "published": "2026-03-14T09:30:00+03:00",
        "topics": ROWS[0]["topics"], "read_also": ROWS[0]["read_also"], "body": ROWS[0]["body"],
    }
    assert "Экономика" in lines[0]  # real UTF-8, not \u escapes
    assert json.loads(lines[1])["headline"] is None


def test_parquet_round_trip_in_row_groups(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pq = pytest.importorskip("pyarrow.parquet", reason="pyarrow (the parquet extra) not installed")
    import pyarrow as pa

    monkeypatch.setattr(export, "PARQUET_BATCH_ROWS", 3)
    rows = [dict(ROWS[0], article_id=i) for i in range(7)] + [ROWS[1]]
    out = tmp_path / "a.parquet"
    assert write_rows(rows, "parquet", out) == 8
    f = pq.ParquetFile(out)
    assert f.metadata.num_row_groups == 3
    got = f.read().to_pylist()
    assert [r["article_id"] for r in got] == [*range(7), 2]
    assert got[0]["body"] == ROWS[0]["body"]
    assert got[0]["topics"] == ROWS[0]["topics"]
    assert got[0]["read_also"] == ROWS[0]["read_also"]
    # typed UTC, the page's offset beside it
    assert got[0]["published"] == datetime(2026, 3, 14, 6, 30, tzinfo=UTC)
    assert got[0]["published_offset"] == 180
    assert f.schema_arrow.field("published").type == pa.timestamp("us", tz="UTC")
    assert got[-1]["published"] == datetime(2026, 3, 15, 8, 0, tzinfo=UTC)
    assert got[-1]["published_offset"] == 0
    assert got[-1]["headline"] is None
    assert got[-1]["topics"] == []


def test_parquet_without_pyarrow_says_how_to_get_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    consumed = []

    def rows() -> Iterator[dict[str, Any]]:
        consumed.append(1)
        yield ROWS[0]

    with pytest.raises(ExportError, match=r"newsarchive\[parquet\]"):
        write_rows(rows(), "parquet", tmp_path / "a.parquet")
    assert not consumed
    assert list(tmp_path.iterdir()) == []


def test_unwritable_targets_fail_before_any_work(tmp_path: Path) -> None:
    consumed = []

    def rows() -> Iterator[dict[str, Any]]:
        consumed.append(1)
        yield ROWS[0]

    blocker = tmp_path / "file"
    blocker.write_text("x")
    for target, reason in [
        (tmp_path / "missing" / "a.csv", "does not exist"),
        (tmp_path, "is a directory"),
        (blocker / "a.csv", "does not exist"),
    ]:
        with pytest.raises(ExportError, match=reason):
            check_writable(target)
        with pytest.raises(ExportError, match=reason):
            write_rows(rows(), "csv", target)
    assert not consumed
    with pytest.raises(ExportError, match="unknown export format"):
        write_rows(rows(), "xlsx", tmp_path / "a.xlsx")
    check_writable("-")
    check_writable(tmp_path / "fine.csv")
    assert not (tmp_path / "fine.csv").exists()  # the check leaves nothing behind
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def test_an_interrupted_export_leaves_no_file(tmp_path: Path) -> None:
    def rows() -> Iterator[dict[str, Any]]:
        yield ROWS[0]
        raise RuntimeError("database went away")

    out = tmp_path / "a.csv"
    out.write_text("previous export")
    with pytest.raises(RuntimeError):
        write_rows(rows(), "csv", out)
    assert out.read_text() == "previous export"  # not replaced by half a file
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv"]


def test_stdout_csv_has_no_bom_and_same_rows(capfdbinary: pytest.CaptureFixture[bytes]) -> None:
    write_rows(ROWS, "csv", "-", progress=True)  # not a terminal: no progress output
    captured = capfdbinary.readouterr()
    assert not captured.out.startswith(b"\xef\xbb\xbf")
    got = list(csv.reader(io.StringIO(captured.out.decode("utf-8"), newline="")))
    assert got[0] == list(COLUMNS)
    assert got[1][COLUMNS.index("body")] == ROWS[0]["body"]
    assert captured.err == b""


def test_progress_is_drawn_only_on_a_terminal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    err = io.StringIO()
    err.isatty = lambda: True  # type: ignore[method-assign]
    monkeypatch.setattr(sys, "stderr", err)
    write_rows(ROWS, "jsonl", tmp_path / "a.jsonl", progress=True, total=2)
    assert "2/2 rows" in err.getvalue()
    assert err.getvalue().endswith("\n")


def test_csv_cells() -> None:
    when = datetime(2026, 1, 2, 3, 4, tzinfo=UTC)
    assert csv_value(when) == "2026-01-02T03:04:00+00:00"
    assert csv_value(["A", "B; C"]) == '["A", "B; C"]'
    assert csv_value([]) == "[]"
    assert csv_value([]) == "[]"
    assert csv_value(5) == "5"
    assert csv_value(None) == ""


@given(st.lists(st.one_of(st.none(), st.integers(), st.text(alphabet=st.sampled_from('ab ,"\r\nЖ;\'\t')),
                          st.text()), min_size=1, max_size=6))
def test_csv_line_writes_exactly_what_the_csv_module_writes(cells: list[Any]) -> None:
    expected = io.StringIO()
    csv.writer(expected, lineterminator="\r\n").writerow(cells)
    assert export.csv_line(cells) == expected.getvalue().encode()


def test_archive_csv_fast_path_writes_what_the_general_path_writes(archive: Any, tmp_path: Path) -> None:
    from archive_helpers import make_article

    from newsarchive.article import FetchInfo

    naive = datetime(2026, 3, 14, 9, 30)  # a page without a zone: exported without an offset
    tricky: dict[str, Any] = {
        "headline": 'Minister: "no comment", for now', "dateline": "MOSCOW,\nMarch 14",
        "topics": ["Экономика", "World, politics", 'say "hi"', "back\\slash"],
        "authors": ["Анна Иванова"], "published_raw": None,
        "read_also": [{"title": 'A "linked", story', "url": "https://wire.example/b"},
                      {"title": "Доклад", "url": "https://wire.example/c"}],
        "updated": datetime(2026, 3, 14, 23, 59, 59, 123456, tzinfo=timezone(timedelta(hours=-5))),
    }
    archive.save_batch([
        make_article(1, **tricky),
        make_article(2, topics=[], authors=[], read_also=[], published=naive, section=None,
                     fetched_at=datetime(2026, 11, 20, 10, 0, 0, 500, tzinfo=UTC),
                     fetch=FetchInfo(status=200)),
        make_article(3, published=None, topics=["Plain"], read_also=[{"title": None, "url": "https://x.example/"}]),
    ])
    # a second version of the first article: version_count 2
    archive.save_batch([make_article(1, body="A second version, with a comma.", **tricky)])
    general, fast = tmp_path / "general.csv", tmp_path / "fast.csv"
    assert write_rows(archive.iter_articles(), "csv", general) == 3
    assert export.export_archive(archive, "csv", fast) == 3
    assert fast.read_bytes() == general.read_bytes()
    rows = list(csv.DictReader(io.StringIO(fast.read_text("utf-8-sig"), newline="")))
    assert [r["version_count"] for r in rows] == ["2", "1", "1"]
    assert json.loads(rows[0]["topics"]) == tricky["topics"]
    assert rows[1]["published"] == "2026-03-14T09:30:00"
    # filters reach the fast path too
    assert export.export_archive(archive, "csv", fast, source="nosuch") == 0
    assert export.export_archive(archive, "jsonl", tmp_path / "x.jsonl") == 3
