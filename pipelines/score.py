"""ScorePipeline: score every page (its text, URL, outgoing links and the text read from its images); every
page is stored, those at or above ``scoring.hit_threshold`` become hits.

Settings read: those of ``crawler.scoring.inputs_from_settings`` (threshold, lexicon, known-bad list, database).
"""

from __future__ import annotations

from typing import Any

from crawler.items import PageItem
from crawler.scoring import ScoringInputs, build_scorer, inputs_from_settings
from keywords import Scorer


class ScorePipeline:
    def __init__(self, inputs: ScoringInputs) -> None:
        self.inputs = inputs
        self.scorer: Scorer | None = None
        self.crawler: Any = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> ScorePipeline:
        pipeline = cls(inputs_from_settings(crawler.settings))
        pipeline.crawler = crawler
        return pipeline

    def open_spider(self) -> None:
        self.scorer = build_scorer(self.inputs)

    def process_item(self, item: Any) -> Any:
        if isinstance(item, PageItem):
            if self.scorer is None:
                self.open_spider()
            assert self.scorer is not None
            if item.score is None or item.image_texts:  # the image pipeline's text-only score still holds
                item.score = self.scorer.score(
                    item.text, url=item.final_url, links=item.links, image_texts=item.image_texts
                )
            if item.score.hit and self.crawler is not None:
                self.crawler.stats.inc_value("touthunt/pages_scored_hit")
        return item
