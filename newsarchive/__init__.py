"""newsarchive: crawl news wire services into a clean, deduplicated, queryable archive.

The public contract other tools rely on::

    from newsarchive import extract
    article = extract(html_bytes_or_str, url="https://tass.com/politics/925235")
    article.to_dict()
"""

import logging

from newsarchive.article import Article
from newsarchive.errors import ExtractionError, NewsarchiveError, StorageError
from newsarchive.extract import extract

__all__ = ["Article", "ExtractionError", "NewsarchiveError", "StorageError", "extract"]
__version__ = "0.2.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())
