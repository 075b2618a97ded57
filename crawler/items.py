"""The items spiders emit and pipelines enrich: ``PageItem`` for a fetched page, ``FailureItem`` for a URL
that could not become one, ``SerpResultItem`` for a search result. All are plain dataclasses, so pipelines
and tests build them without Scrapy."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from keywords import ScoreResult
    from keywords.signals import ImageText


@dataclass(frozen=True)
class FrontierLink:
    """A URL the spider is about to request, as the crawl frontier keeps it (see ``crawler/frontier.py``)."""

    key: str
    url: str
    depth: int
    hops: int
    referer: str | None


@dataclass
class PageItem:
    # Set by the spider
    source: str
    url: str  # the URL first requested (start of the redirect chain)
    final_url: str
    http_status: int
    html: str  # decoded body
    encoding: str
    fetched_at: datetime
    depth: int = 0
    redirect_chain: list[str] = field(default_factory=list)
    referer: str | None = None
    links: list[str] = field(default_factory=list)  # outgoing http(s) links, page order, unique
    stable_url: str = ""  # a self-media post's permanent address when `url` is a temporary link
    rendered: bool = False  # the html is the DOM after JavaScript ran in the browser
    frontier_key: str = ""  # the requested URL's frontier key; stored with the page, the URL is done
    frontier_children: list[FrontierLink] = field(default_factory=list)  # requests this page led to
    # Set by the pipelines
    title: str = ""
    text: str = ""
    canonical_url: str = ""
    domain: str = ""
    registrable_domain: str = ""
    content_hash: str = ""
    image_texts: list[ImageText] = field(default_factory=list)  # QR payloads and OCR text of its images
    score: ScoreResult | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class FailureItem:
    """A URL that produced no page; ``reason`` is a short stable code (timeout, http_404, too_large, ...)."""

    source: str
    url: str
    reason: str
    detail: str = ""
    http_status: int | None = None
    frontier_key: str = ""  # the requested URL's frontier key (see PageItem)


@dataclass
class SerpResultItem:
    """One result on a search-engine result page, organic or ad (ads are evidence of paid promotion).
    ``resolution`` says how the engine's link became ``target_url``: ``direct`` (the engine states or encodes
    it), ``redirect`` (followed a 30x or a refresh page), ``expired`` (the link no longer leads anywhere),
    ``loop`` (the link redirects in circles or through too many jump pages), ``failed`` (the target could not
    be fetched), ``not_followed`` (the source does not follow this kind of result)."""

    source: str
    engine: str
    query: str
    page_number: int
    rank: int
    is_ad: bool
    title: str
    snippet: str
    display_url: str
    serp_url: str
    redirect_url: str
    target_url: str
    resolution: str
    found_at: datetime
