"""A stand-in for ``newsarchive crawl`` that the scheduler tests start as its child.

Usage: fake_crawl.py SOURCE --marker DIR [--sleep S] [--exit N] [--ignore-term]
                            [--db URL] [--sigkill-self]

Writes DIR/<source>-<pid>.start when it starts, .term on SIGTERM and .end when it
leaves normally. With --db it opens its run record like the real runner does
(Archive.start_run), so a crash leaves a 'running' row behind.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("source")
    parser.add_argument("--marker", required=True, type=Path)
    parser.add_argument("--sleep", type=float, default=0.0)
    parser.add_argument("--exit", type=int, default=0)
    parser.add_argument("--ignore-term", action="store_true")
    parser.add_argument("--db")
    parser.add_argument("--sigkill-self", action="store_true")
    opts = parser.parse_args()
    stem = opts.marker / f"{opts.source}-{os.getpid()}"

    def on_term(signum: int, frame: object) -> None:
        stem.with_suffix(".term").write_text(str(time.time()))
        if not opts.ignore_term:
            sys.exit(143)

    signal.signal(signal.SIGTERM, on_term)
    if opts.db:
        from newsarchive.storage import Archive

        with Archive(opts.db) as archive:
            archive.start_run(opts.source, {"fake": True})
    stem.with_suffix(".start").write_text(str(time.time()))
    # what the real crawl would read its archive URL from, and its whole command line
    stem.with_suffix(".env").write_text(os.environ.get("NEWSARCHIVE_DB", ""))
    stem.with_suffix(".argv").write_text("\0".join(sys.argv))
    if opts.sigkill_self:
        os.kill(os.getpid(), signal.SIGKILL)
    deadline = time.monotonic() + opts.sleep
    while time.monotonic() < deadline:
        time.sleep(0.05)
    stem.with_suffix(".end").write_text(str(time.time()))
    return opts.exit


if __name__ == "__main__":
    sys.exit(main())
