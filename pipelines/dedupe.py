"""DedupePipeline: one page per canonical URL per run (two URLs redirecting to the same page, or the same
page reached with reordered query strings). Later copies are dropped with reason ``duplicate_url``."""

from __future__ import annotations

from typing import Any

from scrapy.exceptions import DropItem

from crawler.items import PageItem


class DedupePipeline:
    def __init__(self, stats: Any = None) -> None:
        self.seen: set[str] = set()
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Any) -> DedupePipeline:
        return cls(crawler.stats)

    def process_item(self, item: Any) -> Any:
        if isinstance(item, PageItem):
            if item.canonical_url in self.seen:
                if self.stats is not None:
                    self.stats.inc_value("touthunt/dropped/duplicate_url")
                raise DropItem(f"duplicate_url: {item.canonical_url} (requested as {item.url})")
            self.seen.add(item.canonical_url)
        return item
