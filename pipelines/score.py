"""ScorePipeline: score every page with the keyword matcher; every page is stored, those at or above
``scoring.hit_threshold`` become hits.

Settings read: ``TOUTHUNT_HIT_THRESHOLD``, ``TOUTHUNT_LEXICON_DIR``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from crawler.items import PageItem
from keywords import Scorer, load_scorer


class ScorePipeline:
    def __init__(self, hit_threshold: int, lexicon_dir: Path | None = None) -> None:
        self.hit_threshold = hit_threshold
        self.lexicon_dir = lexicon_dir
        self.scorer: Scorer | None = None
        self.crawler: Any = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> ScorePipeline:
        lexicon_dir = crawler.settings.get("TOUTHUNT_LEXICON_DIR") or None
        pipeline = cls(
            crawler.settings.getint("TOUTHUNT_HIT_THRESHOLD", 50), Path(lexicon_dir) if lexicon_dir else None
        )
        pipeline.crawler = crawler
        return pipeline

    def open_spider(self, spider: Any = None) -> None:
        self.scorer = load_scorer(self.lexicon_dir, hit_threshold=self.hit_threshold)

    def process_item(self, item: Any) -> Any:
        if isinstance(item, PageItem):
            if self.scorer is None:
                self.open_spider()
            assert self.scorer is not None
            item.score = self.scorer.score(item.text, url=item.final_url)
            if item.score.hit and self.crawler is not None:
                self.crawler.stats.inc_value("touthunt/pages_scored_hit")
        return item
