"""import-warc: which records are taken, how damaged ones are skipped, pointers that reextract reads."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from click.testing import CliRunner
from warckit import Rec, Reply, Server, page, tass, warc_bytes, write_warc

from newsarchive.cli import main
from newsarchive.extract import extract
from newsarchive.reextract import reextract
from newsarchive.storage import Archive
from newsarchive.warcimport import import_warcs


def mixed() -> list[Rec]:
    return [
        tass(1),
        Rec("https://example.org/news/2", page(2)),                      # another host
        tass(3, chunked=True),                                           # chunked transfer coding
        tass(4, gzip_body=True),                                         # gzip content coding
        Rec("https://tass.com/politics/5", b"\x89PNG\r\n\x1a\n" + bytes(200),
            headers=[("Content-Type", "image/png")]),                    # not HTML
        Rec("https://tass.com/politics/6", kind="request"),
        Rec("https://tass.com/politics/7", kind="revisit"),
        Rec("https://tass.com/politics/8", page(8), status=404),         # not a page
        tass(9, chunked=True, gzip_body=True),
        Rec("https://tass.com/politics", page(10)),                      # a section page, not an article
        Rec("https://tass.com/politics/11", kind="metadata", body=b"via: cc-news"),
    ]


def stored(db: str) -> dict[str, dict]:
    with Archive(db) as archive:
        return {row["canonical_url"]: row for row in archive.iter_articles()}


@pytest.mark.parametrize("gz", [True, False], ids=["warc.gz", "warc"])
def test_takes_article_pages_of_known_sources_only(tmp_path: Path, gz: bool,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSARCHIVE_WARC_DIR", str(tmp_path / "warc"))
    warc = write_warc(tmp_path / ("in.warc.gz" if gz else "in.warc"), mixed(), gz=gz)
    db = f"sqlite:///{tmp_path / 'a.sqlite'}"
    assert import_warcs([str(warc)], db=db) == 0
    rows = stored(db)
    assert sorted(rows) == [f"https://tass.com/politics/{n}" for n in (1, 3, 4, 9)]
    assert {row["source"] for row in rows.values()} == {"tass"}
    # codings undone: the same text as the plain page
    for n in (3, 4, 9):
        url = f"https://tass.com/politics/{n}"
        assert rows[url]["body"] == extract(page(n), url).body
        assert rows[url]["body"].startswith(f"Story number {n} begins")
    with Archive(db) as archive:
        run = archive.runs()[0]
        again = reextract(archive).counts
    counts = run["counts"]
    assert run["status"] == "finished"
    assert run["exit_status"] == 0
    assert counts["warc/records"] == 11
    assert counts["warc/revisits"] == 1
    assert counts["warc/not_html"] == 1
    assert counts["warc/not_ok"] == 1
    assert counts["warc/corrupt"] == 0
    assert counts["pages"] == 4
    assert counts["stored"] == 4
    assert run["fill_rates"]["headline"] == 1.0
    assert run["fill_rates"]["dateline"] == 1.0
    # every stored page has a raw-capture pointer that reextract can read
    assert again == {"checked": 4, "changed": 0, "unchanged": 4, "refused": 0, "failed": 0, "no_warc": 0,
                     "moved": 0}


def test_all_takes_any_site_and_pointers_name_the_file(tmp_path: Path) -> None:
    warc = write_warc(tmp_path / "in.warc.gz", [tass(1), Rec("https://example.org/news/2", page(2))])
    db = f"sqlite:///{tmp_path / 'a.sqlite'}"
    assert import_warcs([str(warc)], db=db, take_all=True) == 0
    rows = stored(db)
    assert rows["https://example.org/news/2"]["source"] == "example.org"
    with Archive(db) as archive:
        versions = archive.versions("https://tass.com/politics/1")
    import sqlalchemy as sa

    with Archive(db) as archive, archive.engine.connect() as conn:
        query = "SELECT warc_file, warc_offset FROM article_versions ORDER BY id"
        pointers = conn.execute(sa.text(query)).all()
    assert len(versions) == 1
    assert [p[0] for p in pointers] == [str(warc.resolve())] * 2
    assert pointers[0][1] == 0
    assert pointers[1][1] > 0


@pytest.mark.parametrize("over_http", [False, True], ids=["file", "http"])
def test_damaged_records_are_counted_and_skipped(tmp_path: Path, over_http: bool,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSARCHIVE_WARC_DIR", str(tmp_path / "warc"))
    members = [warc_bytes([tass(n)]) for n in range(1, 6)]
    cut = members[1][: len(members[1]) // 2]                     # a truncated gzip member mid-file
    garbled = bytearray(members[3])
    garbled[40:80] = bytes(40)                                   # a member with damaged deflate data
    data = members[0] + cut + members[2] + bytes(garbled) + members[4][:-25]   # the last cut short
    warc = tmp_path / "damaged.warc.gz"
    warc.write_bytes(data)
    db = f"sqlite:///{tmp_path / 'a.sqlite'}"
    server = Server(files={"/damaged.warc.gz": data}).start()
    try:
        assert import_warcs([server.base_url + "damaged.warc.gz" if over_http else str(warc)], db=db) == 0
    finally:
        server.stop()
    assert sorted(stored(db)) == ["https://tass.com/politics/1", "https://tass.com/politics/3"]
    with Archive(db) as archive:
        counts = archive.runs()[0]["counts"]
    assert counts["warc/corrupt"] == 3


def test_wrong_charsets(tmp_path: Path) -> None:
    russian = "Переговоры в Астане продолжатся завтра"
    records = [
        # the header says UTF-8, the page is windows-1251 and says so itself
        Rec("https://tass.com/politics/1", page(1, headline=russian, charset="windows-1251")),
        # a charset no codec knows
        Rec("https://tass.com/politics/2", page(2),
            headers=[("Content-Type", "text/html; charset=x-unknown")]),
    ]
    db = f"sqlite:///{tmp_path / 'a.sqlite'}"
    assert import_warcs([str(write_warc(tmp_path / "c.warc.gz", records))], db=db) == 0
    rows = stored(db)
    assert rows["https://tass.com/politics/1"]["headline"] == russian
    assert rows["https://tass.com/politics/2"]["headline"].startswith("Story number 2")


@pytest.mark.parametrize("ranges", [True, False], ids=["range", "no-range"])
def test_over_http_resumes_a_cut_download(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          ranges: bool) -> None:
    monkeypatch.setenv("NEWSARCHIVE_WARC_DIR", str(tmp_path / "warc"))
    data = warc_bytes([tass(n) for n in range(1, 31)])
    server = Server(files={"/x.warc.gz": data})

    def cut_first(path: str, headers: dict[str, str], attempt: int) -> Reply | None:
        if attempt == 1:
            # announces the whole file, sends a third of it, closes the connection
            return 200, {"Content-Length": str(len(data)), "Connection": "close"}, data[: len(data) // 3]
        if not ranges:
            return 200, {}, data  # a server that ignores Range: the reader skips what it has
        return None

    server.faults["/x.warc.gz"] = cut_first
    server.start()
    try:
        db = f"sqlite:///{tmp_path / 'a.sqlite'}"
        assert import_warcs([server.base_url + "x.warc.gz"], db=db) == 0
    finally:
        server.stop()
    assert len(stored(db)) == 30
    assert any(rng and rng.startswith("bytes=") for _, rng in server.hits[1:])
    assert len(server.hits) == 2
    with Archive(db) as archive:
        assert archive.runs()[0]["counts"]["warc/retries"] >= 1
        # remote records are copied into the archive's own WARC files: reextract reads them there
        assert reextract(archive).counts["unchanged"] == 30
    assert list((tmp_path / "warc").glob("newsarchive-import-*.warc.gz"))


def test_cli_errors_are_one_line(tmp_path: Path) -> None:
    runner = CliRunner()
    db = f"sqlite:///{tmp_path / 'a.sqlite'}"
    result = runner.invoke(main, ["import-warc", str(tmp_path / "missing.warc.gz"), "--db", db])
    assert result.exit_code == 2
    assert "neither a file nor" in result.output
    warc = write_warc(tmp_path / "in.warc.gz", [tass(1)])
    result = runner.invoke(main, ["import-warc", str(warc), "--db", db, "--source", "nosuch"])
    assert result.exit_code == 1
    assert "unknown source 'nosuch'" in result.output
    not_warc = tmp_path / "page.html.gz"
    not_warc.write_bytes(gzip.compress(page(1)))
    result = runner.invoke(main, ["import-warc", str(not_warc), "--db", db])
    assert result.exit_code == 0, result.output
    assert "1 damaged" in result.output


def test_secrets_in_a_url_stay_out_of_messages_and_the_run_record(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    server = Server().start()
    try:
        # a pre-signed URL: its query is the secret
        url = server.base_url + "gone.warc.gz?X-Signature=s3cr3t"
        db = f"sqlite:///{tmp_path / 'a.sqlite'}"
        assert import_warcs([url], db=db) == 3
    finally:
        server.stop()
    err = capsys.readouterr().err
    assert "HTTP 404" in err
    assert "s3cr3t" not in err
    with Archive(db) as archive:
        run = archive.runs()[0]
    assert "s3cr3t" not in repr(run)
    assert run["exit_status"] == 3


def test_shown_hides_user_info_and_query() -> None:
    from newsarchive.warcfiles import shown

    assert shown("https://u:pw@example.org:8443/a/b.warc.gz?sig=x") == "https://example.org:8443/a/b.warc.gz?…"
    assert shown("/data/x.warc.gz") == "/data/x.warc.gz"


@pytest.mark.postgres
def test_import_into_postgresql(tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSARCHIVE_WARC_DIR", str(tmp_path / "warc"))
    warc = write_warc(tmp_path / "in.warc.gz", mixed())
    assert import_warcs([str(warc)], db=pg_url) == 0
    assert import_warcs([str(warc)], db=pg_url) == 0  # again: nothing new, nothing doubled
    rows = stored(pg_url)
    assert sorted(rows) == [f"https://tass.com/politics/{n}" for n in (1, 3, 4, 9)]
    assert {row["version_count"] for row in rows.values()} == {1}
    with Archive(pg_url) as archive:
        runs = archive.runs()
        assert reextract(archive).counts["unchanged"] == 4
    assert runs[0]["counts"]["unchanged"] == 4
    assert runs[1]["counts"]["stored"] == 4
