"""WARC capture: request/response pairs round-trip byte for byte, files rotate, crashes are survived."""

from __future__ import annotations

import gzip
import hashlib
import zlib
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from newsarchive import capture
from newsarchive.capture import WarcRef, WarcWriter, ends_cleanly, read_response
from newsarchive.errors import StorageError

T0 = datetime(2026, 3, 14, 9, 26, 53, 589793, tzinfo=UTC)

PAGES = [
    ("https://wire.example/world/1?id=7", 200, b"<html><body>first</body></html>"),
    ("https://wire.example/ru/2", 200, "<html><p>Москва, 14 марта</p></html>".encode("cp1251")),
    ("https://wire.example/gone", 404, b"not here"),
]


def write_pages(writer: WarcWriter) -> list[WarcRef]:
    refs = []
    for i, (url, status, body) in enumerate(PAGES):
        refs.append(
            writer.write_response(
                url,
                status=status,
                headers=[("Content-Type", "text/html"), ("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")],
                body=body,
                fetched_at=T0 + timedelta(seconds=i),
                request_headers={"User-Agent": "newsarchive-test", "Accept": "text/html"},
            )
        )
    return refs


def test_round_trip_of_several_records(tmp_path: Path) -> None:
    with WarcWriter(tmp_path) as writer:
        refs = write_pages(writer)
    assert len({r.file for r in refs}) == 1
    for i, (ref, (url, status, body)) in enumerate(zip(refs, PAGES, strict=True)):
        got = read_response(ref.file, ref.offset, directory=tmp_path)
        assert got.url == url
        assert got.status == status
        assert got.body == body
        assert got.fetched_at == T0 + timedelta(seconds=i)
        assert got.header("content-type") == "text/html"
        assert [v for k, v in got.headers if k == "Set-Cookie"] == ["a=1", "b=2"]
    # absolute paths work without a directory
    first = read_response(tmp_path / refs[0].file, refs[0].offset)
    assert first.body == PAGES[0][2]


def test_each_record_is_one_gzip_member_and_the_ref_spans_the_response(tmp_path: Path) -> None:
    with WarcWriter(tmp_path) as writer:
        refs = write_pages(writer)
    data = (tmp_path / refs[0].file).read_bytes()
    for ref in refs:
        member = data[ref.offset : ref.offset + ref.length]
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        text = d.decompress(member)
        assert d.eof
        assert d.unused_data == b""
        assert text.startswith(b"WARC/1.1\r\n")
        assert b"WARC-Type: response" in text
    # three response + three request members, nothing else
    assert len(list(ArchiveIterator(open(tmp_path / refs[0].file, "rb")))) == 6  # noqa: SIM115


def test_every_response_has_its_request(tmp_path: Path) -> None:
    with WarcWriter(tmp_path) as writer:
        refs = write_pages(writer)
    responses: dict[str, str] = {}
    requests: list[tuple[str, str, str]] = []
    with open(tmp_path / refs[0].file, "rb") as f:
        for record in ArchiveIterator(f):
            rid = record.rec_headers.get_header("WARC-Record-ID")
            url = record.rec_headers.get_header("WARC-Target-URI")
            if record.rec_type == "response":
                responses[rid] = url
            else:
                assert record.rec_type == "request"
                requests.append((record.rec_headers.get_header("WARC-Concurrent-To"), url,
                                 record.http_headers.protocol + " " + record.http_headers.statusline))
    assert len(requests) == len(responses) == 3
    for concurrent_to, url, _line in requests:
        assert responses[concurrent_to] == url
    assert requests[0][2].startswith("GET /world/1?id=7")


def test_files_rotate_by_size_and_sort_by_time(tmp_path: Path) -> None:
    # random-looking bytes do not compress, so a few records fill a file
    body = b"".join(hashlib.sha256(bytes([i])).digest() for i in range(64))
    refs = []
    with WarcWriter(tmp_path, max_bytes=6000, prefix="t") as writer:
        for i in range(12):
            refs.append(writer.write_response(f"https://wire.example/{i}", status=200, headers={},
                                              body=body + bytes([i]), fetched_at=T0))
    files = sorted(p.name for p in tmp_path.glob("t-*.warc.gz"))
    assert len(files) > 2
    # creation order == name order
    assert [r.file for r in refs] == sorted(r.file for r in refs)
    assert all((tmp_path / f).stat().st_size <= 6000 for f in files)
    for i, ref in enumerate(refs):
        assert read_response(ref.file, ref.offset, directory=tmp_path).body == body + bytes([i])


def test_non_utf8_and_binary_bodies_come_back_exactly(tmp_path: Path) -> None:
    bodies = [b"\xff\xfe\x00<\x00h\x00", "Привет, мир".encode("koi8-r"), b"", b"\r\n\r\n0\r\n"]
    with WarcWriter(tmp_path) as writer:
        refs = [writer.write_response("https://wire.example/b", status=200, headers={"X": b"\xe9"},
                                      body=b, fetched_at=T0) for b in bodies]
    for ref, body in zip(refs, bodies, strict=True):
        got = read_response(ref.file, ref.offset, directory=tmp_path)
        assert got.body == body
        assert got.header("X") is not None


def test_content_undoes_an_encoding_still_applied(tmp_path: Path) -> None:
    html = "<p>Новости</p>".encode()
    with WarcWriter(tmp_path) as writer:
        raw = writer.write_response("https://w.example/a", status=200, headers={"Content-Encoding": "gzip"},
                                    body=gzip.compress(html), fetched_at=T0)
        decoded = writer.write_response("https://w.example/b", status=200,
                                        headers={"Content-Encoding": "gzip"}, body=html, fetched_at=T0)
    got = read_response(raw.file, raw.offset, directory=tmp_path)
    assert got.body[:2] == b"\x1f\x8b"
    assert got.content() == html
    assert read_response(decoded.file, decoded.offset, directory=tmp_path).content() == html


def test_fetched_at_keeps_microseconds_and_is_utc(tmp_path: Path) -> None:
    moscow = timezone(timedelta(hours=3))
    with WarcWriter(tmp_path) as writer:
        ref = writer.write_response("https://w.example/", status=200, headers={}, body=b"x",
                                    fetched_at=T0.astimezone(moscow))
        with pytest.raises(ValueError, match="timezone-aware"):
            writer.write_response("https://w.example/", status=200, headers={}, body=b"x",
                                  fetched_at=datetime(2026, 1, 1))
    assert read_response(ref.file, ref.offset, directory=tmp_path).fetched_at == T0


def test_reopening_appends_to_a_sound_file(tmp_path: Path) -> None:
    with WarcWriter(tmp_path) as writer:
        first = write_pages(writer)
    with WarcWriter(tmp_path) as writer:
        again = write_pages(writer)
    assert {r.file for r in first} == {r.file for r in again}
    assert again[0].offset > first[-1].offset
    assert read_response(again[0].file, again[0].offset, directory=tmp_path).body == PAGES[0][2]


def test_a_file_cut_short_by_a_crash_is_never_appended_to(tmp_path: Path) -> None:
    with WarcWriter(tmp_path) as writer:
        refs = write_pages(writer)
    path = tmp_path / refs[0].file
    whole = path.read_bytes()
    # the process died while writing the last response: half of its member is on disk
    cut = refs[-1].offset + refs[-1].length // 2
    path.write_bytes(whole[:cut])

    # complete records before the damage still read back
    assert read_response(refs[0].file, refs[0].offset, directory=tmp_path).body == PAGES[0][2]
    assert read_response(refs[1].file, refs[1].offset, directory=tmp_path).body == PAGES[1][2]
    with pytest.raises(StorageError, match=f"offset {refs[-1].offset}"):
        read_response(refs[-1].file, refs[-1].offset, directory=tmp_path)

    with WarcWriter(tmp_path) as writer:
        new = writer.write_response("https://wire.example/after", status=200, headers={}, body=b"after",
                                    fetched_at=T0)
    assert new.file != refs[0].file
    assert new.file > refs[0].file  # names still sort by time
    assert path.read_bytes() == whole[:cut]  # untouched
    assert read_response(new.file, new.offset, directory=tmp_path).body == b"after"


def test_truncated_inside_the_header_of_a_member(tmp_path: Path) -> None:
    with WarcWriter(tmp_path) as writer:
        refs = write_pages(writer)
    path = tmp_path / refs[0].file
    path.write_bytes(path.read_bytes() + b"\x1f\x8b\x08")  # a member that never got further
    with WarcWriter(tmp_path) as writer:
        new = writer.write_response("https://wire.example/x", status=200, headers={}, body=b"x",
                                    fetched_at=T0)
    assert new.file != refs[0].file


def test_clear_errors_for_missing_files_wrong_offsets_and_unwritable_dirs(tmp_path: Path) -> None:
    with WarcWriter(tmp_path) as writer:
        refs = write_pages(writer)
    with pytest.raises(StorageError, match="not found"):
        read_response("nope.warc.gz", 0, directory=tmp_path)
    # the member right after a response is its request
    with pytest.raises(StorageError, match="not a response"):
        read_response(refs[0].file, refs[0].offset + refs[0].length, directory=tmp_path)
    with pytest.raises(StorageError, match="offset 5 "):
        read_response(refs[0].file, 5, directory=tmp_path)
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.raises(StorageError, match="cannot write WARC files"):
        WarcWriter(blocker / "warc")


def test_two_live_writers_never_share_a_file(tmp_path: Path) -> None:
    with WarcWriter(tmp_path) as a, WarcWriter(tmp_path) as b:
        ra = a.write_response("https://w.example/a", status=200, headers={}, body=b"a", fetched_at=T0)
        rb = b.write_response("https://w.example/b", status=200, headers={}, body=b"b", fetched_at=T0)
        assert ra.file != rb.file
    assert read_response(ra.file, ra.offset, directory=tmp_path).body == b"a"
    assert read_response(rb.file, rb.offset, directory=tmp_path).body == b"b"


def test_ends_cleanly_ignores_gzip_magic_inside_bodies(tmp_path: Path) -> None:
    # random bytes are stored uncompressed, so the magic below appears literally in the file
    noise = b"".join(hashlib.sha256(bytes([i, 1])).digest() for i in range(40))
    body = noise + b"\x1f\x8b\x08\x00" + noise + gzip.compress(b"<p>inner gzip</p>") + noise
    with WarcWriter(tmp_path) as writer:
        ref = writer.write_response("https://w.example/bin", status=200, headers={}, body=body,
                                    fetched_at=T0)
    path = tmp_path / ref.file
    assert ends_cleanly(path)
    whole = path.read_bytes()
    for cut in (len(whole) - 1, len(whole) - 30, ref.offset + ref.length + 10, ref.offset + ref.length - 10):
        path.write_bytes(whole[:cut])
        assert not ends_cleanly(path), cut
    path.write_bytes(whole[: ref.offset + ref.length])  # cut exactly between members: sound
    assert ends_cleanly(path)


def test_ends_cleanly_falls_back_to_a_full_scan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with WarcWriter(tmp_path) as writer:
        refs = write_pages(writer)
    path = tmp_path / refs[0].file
    monkeypatch.setattr(capture, "_TAIL_BYTES", 5)  # no member start inside the examined tail
    assert ends_cleanly(path)
    path.write_bytes(path.read_bytes()[:-3])
    assert not ends_cleanly(path)
