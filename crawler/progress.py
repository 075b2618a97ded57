"""Progress extension: a one-line status on standard error every few seconds while a crawl runs, and once
at the end, so a person at the terminal sees that work goes on.

Settings read: ``TOUTHUNT_PROGRESS_INTERVAL`` (seconds; 0 turns it off), ``TOUTHUNT_SOURCE``.
"""

from __future__ import annotations

import sys
from typing import Any

from scrapy import signals
from scrapy.exceptions import NotConfigured
from twisted.internet import task


def progress_line(source: str, stats: dict[str, Any], *, final: bool = False) -> str:
    failures = sum(int(v) for k, v in stats.items() if k.startswith("touthunt/failures/"))
    head = "完成" if final else "进行中"
    return (
        f"[{source}] {head}: 已抓取 {int(stats.get('touthunt/pages_fetched', 0))} 页, "
        f"已入库 {int(stats.get('touthunt/pages_stored', 0))} 页, "
        f"新命中 {int(stats.get('touthunt/hits_new', 0))} 条, 失败 {failures} 个"
    )


class Progress:
    def __init__(self, crawler: Any, source: str, interval: float) -> None:
        self.crawler = crawler
        self.source = source
        self.interval = interval
        self.loop: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> Progress:
        interval = crawler.settings.getfloat("TOUTHUNT_PROGRESS_INTERVAL", 5.0)
        if interval <= 0:
            raise NotConfigured("progress display turned off")
        source = crawler.settings.getdict("TOUTHUNT_SOURCE").get("name", "?")
        ext = cls(crawler, source, interval)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def _print(self, final: bool = False) -> None:
        print(progress_line(self.source, self.crawler.stats.get_stats(), final=final), file=sys.stderr, flush=True)

    def spider_opened(self, spider: Any) -> None:
        self.loop = task.LoopingCall(self._print)
        self.loop.start(self.interval, now=False)

    def spider_closed(self, spider: Any, reason: str) -> None:
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        self._print(final=True)
