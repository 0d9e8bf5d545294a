"""Every export format read back with pandas / pyarrow equals what the archive holds."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from test_export_fast import tricky_articles

from newsarchive.storage import Archive, export
from newsarchive.storage.export import COLUMNS

pd = pytest.importorskip("pandas", reason="pandas (the dev extra) not installed")
pq = pytest.importorskip("pyarrow.parquet", reason="pyarrow (the parquet extra) not installed")

LISTS = ("topics", "authors", "read_also")


@pytest.fixture
def stored(archive: Archive) -> list[dict[str, Any]]:
    """The tricky articles, some with a wire and a second version, as the archive reads them back."""
    articles = tricky_articles()
    articles[0] = dataclasses.replace(articles[0], wire="Reuters")
    articles[7] = dataclasses.replace(articles[7], wire="Kyodo")
    archive.save_batch(articles)
    archive.save_batch([dataclasses.replace(articles[1], body="Second text,\nwith \"quotes\".")])
    rows = list(archive.iter_articles())
    assert len(rows) == len(articles)
    return rows


def _plain(frame: Any) -> list[dict[str, Any]]:
    # pandas' missing values (NaN, NaT, None) as None, so rows compare with the archive's
    return [{k: (None if not isinstance(v, list) and pd.isna(v) else v) for k, v in row.items()}
            for row in frame.astype(object).to_dict("records")]


def test_csv_reads_back_with_the_documented_pandas_line(archive: Archive, stored: list[dict[str, Any]],
                                                        tmp_path: Path) -> None:
    out = tmp_path / "a.csv"
    assert export.export_archive(archive, "csv", out) == len(stored)
    # the line docs/analysis.md and the export module give
    frame = pd.read_csv(out, converters={c: json.loads for c in LISTS})
    assert list(frame.columns) == list(COLUMNS)
    for want, got in zip(stored, _plain(frame), strict=True):
        for column in COLUMNS:
            if column in LISTS:
                assert got[column] == want[column], column
            elif want[column] in (None, ""):  # CSV has one empty cell for both
                assert got[column] is None, column
            elif column in export.INT_COLUMNS:  # numbers; floats in a column with empty cells (copy_of)
                assert got[column] == want[column], column
            else:  # everything else as the same text
                assert str(got[column]) == str(want[column]), column


def test_jsonl_reads_back_unchanged(archive: Archive, stored: list[dict[str, Any]], tmp_path: Path) -> None:
    out = tmp_path / "a.jsonl"
    export.export_archive(archive, "jsonl", out)
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert lines == [{c: row[c] for c in COLUMNS} for row in stored]
    frame = pd.read_json(out, lines=True, dtype=False)
    assert _plain(frame) == lines


def _instant(iso: str | None) -> tuple[datetime | None, int | None]:
    if iso is None:
        return None, None
    moment = datetime.fromisoformat(iso)
    offset = moment.utcoffset()
    if offset is None:  # the page gave no zone: kept as the stored UTC value, offset unknown
        return moment.replace(tzinfo=UTC), None
    return moment.astimezone(UTC), int(offset.total_seconds() // 60)


def test_parquet_reads_back_typed(archive: Archive, stored: list[dict[str, Any]], tmp_path: Path) -> None:
    out = tmp_path / "a.parquet"
    export.export_archive(archive, "parquet", out)
    table = pq.read_table(out)
    for name in ("published", "updated", "fetched_at", "first_seen", "last_seen"):
        assert str(table.schema.field(name).type) == "timestamp[us, tz=UTC]", name
    assert table.column_names.index("published_offset") == table.column_names.index("published") + 1
    for want, got in zip(stored, table.to_pylist(), strict=True):
        for column in COLUMNS:
            if column in ("published", "updated"):
                assert (got[column], got[f"{column}_offset"]) == _instant(want[column]), column
            elif column in ("fetched_at", "first_seen", "last_seen"):
                assert got[column] == _instant(want[column])[0], column
            else:
                assert got[column] == want[column], column
    frame = pd.read_parquet(out)
    assert str(frame["published"].dtype).startswith("datetime64[")
    assert str(frame["published"].dt.tz) == "UTC"
    shown = frame["published"].dt.tz_convert("Asia/Kolkata")[1]  # article 2, published at +05:30
    assert shown.isoformat() == "2026-03-15T01:30:00+05:30"
