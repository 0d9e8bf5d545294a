"""``python -m newsarchive.crawl SOURCE [options]``: the same as ``newsarchive crawl``."""

from newsarchive.cli.crawl_cmd import crawl

if __name__ == "__main__":
    crawl(prog_name="python -m newsarchive.crawl")
