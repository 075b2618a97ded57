"""NormalisePipeline: the page's identity and fingerprints: canonical URL, host, registrable domain and a
content hash over whitespace-folded text (so markup or spacing changes do not look like new content)."""

from __future__ import annotations

import hashlib
import re
from typing import Any

from crawler.domains import canonical_url, host_of, registrable_domain
from crawler.items import PageItem

_WHITESPACE = re.compile(r"\s+")


def content_hash(text: str) -> str:
    return hashlib.sha256(_WHITESPACE.sub(" ", text).strip().encode("utf-8")).hexdigest()


class NormalisePipeline:
    def process_item(self, item: Any) -> Any:
        if isinstance(item, PageItem):
            # a post reached by a temporary link is known by its stable address, so it is stored once
            item.canonical_url = canonical_url(item.stable_url or item.final_url)
            item.domain = host_of(item.final_url)
            item.registrable_domain = registrable_domain(item.domain)
            item.content_hash = content_hash(item.text)
        return item
