"""The official-domain allow-list: is a page's URL on a government, platform or hospital domain?

Hosts are parsed with tldextract using only its bundled public-suffix snapshot (no network, no cache dir).
An allow-list entry matches its own host and every subdomain, so ``gov.cn`` covers ``www.nhc.gov.cn`` and
``huashan.org.cn`` covers ``www.huashan.org.cn``, while the look-alike ``bjguahao.net.cn`` or
``gov.cn.example.com`` match nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import tldextract

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["OfficialDomains", "OfficialMatch"]


@dataclass(frozen=True, slots=True)
class OfficialMatch:
    """Why a URL counts as official: its host, registrable domain and the allow-list entry it matched."""

    host: str
    registrable_domain: str
    entry: str


class OfficialDomains:
    """Matches URLs against allow-list entries (domains or public suffixes)."""

    def __init__(self, entries: Iterable[str]) -> None:
        self._entries = tuple(sorted({e.lower().strip(".") for e in entries}, key=len, reverse=True))
        self._extract = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)

    def match(self, url: str) -> OfficialMatch | None:
        """The allow-list match for ``url``, or None (also for URLs without a registrable domain)."""
        parts = self._extract(url.strip().lower())
        host = parts.fqdn
        if not host:
            return None
        for entry in self._entries:
            if host == entry or host.endswith("." + entry):
                return OfficialMatch(host=host, registrable_domain=parts.top_domain_under_public_suffix, entry=entry)
        return None
