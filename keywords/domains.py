"""The official-domain allow-list: is a page's URL on a government, platform or hospital domain?

Hosts are parsed by `crawler.domains` (tldextract with only its bundled public-suffix snapshot: no network, no cache).
An allow-list entry matches its own host and every subdomain, so ``gov.cn`` covers ``www.nhc.gov.cn`` and
``huashan.org.cn`` covers ``www.huashan.org.cn``, while the look-alike ``bjguahao.net.cn`` or
``gov.cn.example.com`` match nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from crawler.domains import host_and_domain

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

    def match(self, url: str) -> OfficialMatch | None:
        """The allow-list match for ``url``, or None (also for URLs without a registrable domain)."""
        host, domain = host_and_domain(url)
        if not host:
            return None
        for entry in self._entries:
            if host == entry or host.endswith("." + entry):
                return OfficialMatch(host=host, registrable_domain=domain, entry=entry)
        return None
