"""Scrapy settings for newsarchive (`scrapy.cfg` points here).

Scrapy only reads four SCRAPY_* variables from the environment, so NEWSARCHIVE_*
values are read explicitly below.
"""

import os

from newsarchive import redact
from newsarchive.config import default_db_url

BOT_NAME = "newsarchive"
SPIDER_MODULES = ["spiders"]
NEWSPIDER_MODULE = "spiders"
# the user's outlets (a TOML file, see newsarchive/sources.py) are spiders beside the built-in ones
SPIDER_LOADER_CLASS = "newsarchive.crawl.loader.SourceLoader"
NEWSARCHIVE_SOURCES = os.environ.get("NEWSARCHIVE_SOURCES", "")

NEWSARCHIVE_DB = default_db_url()
# also under `scrapy crawl` and scrapyd, which never pass through newsarchive's CLI
redact.register_url(NEWSARCHIVE_DB)
redact.install()
NEWSARCHIVE_CONTACT = os.environ.get("NEWSARCHIVE_CONTACT", "https://github.com/newsarchive/newsarchive")
USER_AGENT = f"newsarchive/0.1 (+{NEWSARCHIVE_CONTACT}; research news archiver)"

# Politeness: robots.txt obeyed, one request at a time per site, AutoThrottle adapts the delay.
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 1.0
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 60.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 20 * 1024 * 1024
DOWNLOAD_WARNSIZE = 5 * 1024 * 1024

ITEM_PIPELINES = {
    "pipelines.validate.ValidatePipeline": 100,
    "pipelines.dedup.DedupPipeline": 200,
    "pipelines.store.StorePipeline": 800,
}

REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
FEED_EXPORT_ENCODING = "utf-8"
LOG_LEVEL = os.environ.get("NEWSARCHIVE_LOG_LEVEL", "INFO")
# the telnet console and Scrapy's remote-control HTTP server run code sent to a local port
# (and the console logs its password): off unless asked for with -s
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False

# ---- crawl components (newsarchive.crawl) -------------------------------------------------
# 429/503 are handled by RetryAfterMiddleware (honours Retry-After), not by RetryMiddleware.
RETRY_HTTP_CODES = [500, 502, 504, 522, 524, 408]
DOWNLOADER_MIDDLEWARES = {
    "newsarchive.crawl.middlewares.RetryAfterMiddleware": 560,
    "newsarchive.crawl.middlewares.BlockDetectionMiddleware": 570,
    "newsarchive.crawl.middlewares.WarcCaptureMiddleware": 890,
}
EXTENSIONS = {
    "newsarchive.crawl.progress.Progress": 500,
    # records the run under `scrapy crawl`/scrapyd; a no-op under `newsarchive crawl` (NEWSARCHIVE_RUN_ID)
    "newsarchive.crawl.runrecord.RunRecorder": 510,
}
NEWSARCHIVE_RETRY_AFTER_TIMES = 3
NEWSARCHIVE_RETRY_AFTER_MAX = 300.0
NEWSARCHIVE_BLOCK_LIMIT = 10
NEWSARCHIVE_REVISIT_YOUNG_HOURS = float(os.environ.get("NEWSARCHIVE_REVISIT_YOUNG_HOURS", "48"))
NEWSARCHIVE_REVISIT_INTERVAL_HOURS = float(os.environ.get("NEWSARCHIVE_REVISIT_INTERVAL_HOURS", "6"))
NEWSARCHIVE_MAX_ERROR_SHARE = 0.5
# Scrapy's disk queues for --resume (JOBDIR) need requests it can pickle; ours are.
SCHEDULER_DISK_QUEUE = "scrapy.squeues.PickleFifoDiskQueue"
SCHEDULER_MEMORY_QUEUE = "scrapy.squeues.FifoMemoryQueue"
