"""The archive: SQLAlchemy models, migrations, writes, full-text search and stats.

    from newsarchive.storage import Archive
    with Archive("sqlite:///data/archive.sqlite") as archive:
        results = archive.save_batch(articles, run_id)

No Scrapy imports here, and no extractor: re-extraction (newsarchive.reextract) sits above.
"""

from newsarchive.storage.archive import Archive, UrlState
from newsarchive.storage.save import SaveResult
from newsarchive.storage.search import SearchQueryError

__all__ = ["Archive", "SaveResult", "SearchQueryError", "UrlState"]
