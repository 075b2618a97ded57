"""ExtractPipeline: decoded HTML -> title and visible text (see spiders/extract.py)."""

from __future__ import annotations

from typing import Any

from crawler.items import PageItem
from spiders.extract import html_to_text


class ExtractPipeline:
    def process_item(self, item: Any) -> Any:
        if isinstance(item, PageItem):
            item.title, item.text = html_to_text(item.html)
        return item
