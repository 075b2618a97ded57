"""Per-platform crawl settings of the self-media kinds: the platform's address, its slow default pace
(download delay and concurrency from ``platforms.<kind>``), cookies on, and the analyst's cookie file checked
here (its path goes to the crawl process, which loads it again: cookie values are never copied to disk)."""

from __future__ import annotations

from typing import Any

from crawler.config import SELF_MEDIA_KINDS, Config, PlatformConfig, SourceConfig
from crawler.cookiefile import load_cookies


def platform_config(config: Config, kind: str) -> PlatformConfig:
    return getattr(config.platforms, kind)


def platform_settings(config: Config, source: SourceConfig) -> dict[str, Any]:
    if source.kind not in SELF_MEDIA_KINDS:
        return {}
    platform = platform_config(config, source.kind)
    cookie_file = ""
    if platform.cookie_file:
        path = config.resolve_path(platform.cookie_file)
        load_cookies(path, key=f"platforms.{source.kind}.cookie_file")  # fails here, naming the key, if unreadable
        cookie_file = str(path.resolve())
    return {
        "CONCURRENT_REQUESTS": platform.concurrency,
        "CONCURRENT_REQUESTS_PER_DOMAIN": platform.concurrency,
        "DOWNLOAD_DELAY": platform.download_delay_seconds,
        "COOKIES_ENABLED": True,  # platforms hand out session cookies; a browser keeps them too
        "TOUTHUNT_PLATFORM": {
            "kind": source.kind,
            "base_url": platform.base_url,
            "cookie_file": cookie_file,
        },
    }
