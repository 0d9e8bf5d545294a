"""The user asked for top-level spiders/ and pipelines/; PyPI has namesakes, so check where they come from."""

from pathlib import Path

import newsarchive
import pipelines
import spiders

ROOT = Path(__file__).resolve().parent.parent


def test_spiders_and_pipelines_import_from_this_repository() -> None:
    assert Path(spiders.__file__).resolve().parent == ROOT / "spiders"
    assert Path(pipelines.__file__).resolve().parent == ROOT / "pipelines"
    assert Path(newsarchive.__file__).resolve().parent == ROOT / "newsarchive"


def test_top_level_layout() -> None:
    for name in ("scrapy.cfg", "pyproject.toml", "newsarchive", "spiders", "pipelines", "tests", "data"):
        assert (ROOT / name).exists(), name
