"""One crawl in its own process: ``python -m crawler.run SETTINGS.json``.

Twisted's reactor cannot be restarted, so every crawl (from the command line or the scheduler) runs here,
in a child process, with the settings its parent built; the source's kind picks the spider. Exit status 0
means the crawl ran to its end (URLs may still have failed; those are recorded with their reasons).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from scrapy.crawler import CrawlerProcess

from spiders.kinds import spider_for


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m crawler.run SETTINGS.json", file=sys.stderr)
        return 2
    settings = json.loads(Path(args[0]).read_text(encoding="utf-8"))
    # config.yaml decides the proxy; inherited proxy variables must not redirect the crawl
    for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        os.environ.pop(var, None)
    process = CrawlerProcess(settings)
    process.crawl(spider_for(settings.get("TOUTHUNT_SOURCE", {}).get("kind", "site")))
    process.start()
    return 0


if __name__ == "__main__":
    sys.exit(main())
