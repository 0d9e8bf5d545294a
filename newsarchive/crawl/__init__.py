"""The Scrapy side of newsarchive: middlewares, the progress extension and the crawl runner.

Only the submodules import Scrapy; ``newsarchive.crawl.revisit`` stays pure.
"""
