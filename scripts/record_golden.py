"""Re-record the expected Article of every golden site page (tests/test_golden.py).

Each fixture page ``NAME.html`` of a spider has ``NAME.json`` beside it: the page's URL and the
whole ``Article.to_dict()`` we expect from ``newsarchive.extract(html, url)``. After an intended
change to extraction, run this script and review ``git diff`` of the JSON files before committing:
the diff is the change's effect on every field of every page.

    .venv/bin/python scripts/record_golden.py            # re-record every page that has a JSON
    .venv/bin/python scripts/record_golden.py --add tests/fixtures/sites/ap/new.html URL
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: where golden pages live: our site fixtures and the bundled sample site the demo crawls
GOLDEN_DIRS = (ROOT / "tests" / "fixtures" / "sites", ROOT / "data" / "samples")


def golden_pages() -> list[tuple[Path, Path]]:
    """(html, json) pairs: every fixture page whose expected record has been recorded."""
    pairs = []
    for top in GOLDEN_DIRS:
        for expected in sorted(top.rglob("*.json")):
            page = expected.with_suffix(".html")
            if page.exists():
                pairs.append((page, expected))
    return pairs


def record(page: Path, url: str) -> dict[str, object]:
    from newsarchive import extract

    return {"url": url, "article": extract(page.read_bytes(), url).to_dict()}


def write(expected: Path, data: dict[str, object]) -> bool:
    text = json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    if expected.exists() and expected.read_text(encoding="utf-8") == text:
        return False
    expected.write_text(text, encoding="utf-8")
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--add", nargs=2, metavar=("PAGE", "URL"), help="record a new golden page")
    args = parser.parse_args(argv)
    if args.add:
        page = Path(args.add[0]).resolve()
        if not page.is_file() or page.suffix != ".html":
            parser.error(f"{args.add[0]}: not an .html file")
        pairs = [(page, page.with_suffix(".json"))]
        urls = {page: args.add[1]}
    else:
        pairs = golden_pages()
        urls = {page: json.loads(exp.read_text(encoding="utf-8"))["url"] for page, exp in pairs}
    changed = [exp for page, exp in pairs if write(exp, record(page, urls[page]))]
    for exp in changed:
        print(f"changed: {exp.relative_to(ROOT)}")
    print(f"{len(pairs)} golden page(s), {len(changed)} changed; review with: git diff -- '*.json'")
    return 0


if __name__ == "__main__":
    sys.exit(main())
