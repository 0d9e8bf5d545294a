"""Crawl signals of our own (Scrapy signals are plain objects), for pipelines and the distributed frontier."""

#: the store pipeline saved (or spooled to disk) these articles: ``articles=list[Article]``
articles_stored = object()
#: someone (the distributed frontier, when idle) asks the store pipeline to save its pending batch now
flush_store = object()
