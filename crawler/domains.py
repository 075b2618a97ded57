"""Host names and registrable domains of URLs, from the Public Suffix List snapshot bundled with tldextract
(never fetched from the network)."""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import urlsplit

import tldextract
from w3lib.url import canonicalize_url

_EXTRACT = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


def host_and_domain(url_or_host: str) -> tuple[str, str]:
    """(fully qualified host, registrable domain) of a URL or a bare host name; ("", "") when it has no
    registrable domain (an IP address, a bare name)."""
    parts = _EXTRACT(url_or_host.strip().lower())
    return parts.fqdn, parts.top_domain_under_public_suffix


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower().rstrip(".")


@lru_cache(maxsize=65536)
def registrable_domain(host: str) -> str:
    """``www.example.com.cn`` -> ``example.com.cn``; IP addresses and bare names are returned as they are."""
    host = host.lower().rstrip(".")
    result = _EXTRACT(host)
    return result.top_domain_under_public_suffix or host


def canonical_url(url: str) -> str:
    """The page's identity: scheme and host lower-cased, query sorted, fragment dropped."""
    return canonicalize_url(url, keep_fragments=False)
