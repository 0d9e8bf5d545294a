"""Golden site pages: every field of every spider fixture page equals its recorded Article.

The expected records are re-recorded by ``scripts/record_golden.py`` after an intended change;
the JSON diff is then reviewed like code.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest

from newsarchive import extract

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("record_golden", ROOT / "scripts" / "record_golden.py")
assert _spec is not None
assert _spec.loader is not None
record_golden = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(record_golden)

PAGES = record_golden.golden_pages()


def test_every_site_fixture_page_is_golden() -> None:
    # a page added to tests/fixtures/sites without its expected record would be tested by nobody
    fixtures = sorted((ROOT / "tests" / "fixtures" / "sites").rglob("*.html"))
    assert fixtures
    assert sorted(page for page, _ in PAGES if page.is_relative_to(ROOT / "tests")) == fixtures


@pytest.mark.parametrize(("page", "expected"), PAGES, ids=[str(p.relative_to(ROOT)) for p, _ in PAGES])
def test_golden_page(page: Path, expected: Path) -> None:
    want: dict[str, Any] = json.loads(expected.read_text(encoding="utf-8"))
    got = extract(page.read_bytes(), want["url"]).to_dict()
    fields = sorted(set(got) | set(want["article"]))
    exp = want["article"]
    # name every field that drifted, with its whole value, not just the first
    mismatched = {f: (got.get(f), exp.get(f)) for f in fields if got.get(f) != exp.get(f)}
    assert not mismatched, "fields differ (got, expected): " + json.dumps(
        mismatched, ensure_ascii=False, indent=1
    )
