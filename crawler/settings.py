"""Scrapy settings derived from the typed Config: politeness, limits, and the one place where the order of
pipelines, middlewares and extensions is set.

Reordering or removing a pipeline is a one-line change to ``ITEM_PIPELINES`` below.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from crawler.config import Config, SourceConfig
from crawler.platforms import platform_settings
from crawler.queries import expand_queries
from crawler.rendering import ASYNCIO_REACTOR, render_settings
from crawler.scoring import inputs_from_config
from crawler.sharedfrontier import SETTING as SHARED_FRONTIER
from crawler.sharedfrontier import shared_settings

ITEM_PIPELINES = {
    "pipelines.extract.ExtractPipeline": 100,
    "pipelines.normalise.NormalisePipeline": 200,
    "pipelines.images.ImagePipeline": 250,
    "pipelines.score.ScorePipeline": 300,
    "pipelines.dedupe.DedupePipeline": 400,
    "pipelines.store.StorePipeline": 800,
}

DOWNLOADER_MIDDLEWARES = {
    # Scrapy's RetryMiddleware (550) replaced by one that waits before each retry (back-off)
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawler.backoff.BackoffRetryMiddleware": 550,
    # before Scrapy's HttpProxyMiddleware (750), which turns meta["proxy"] into a proxied request
    "crawler.proxy.ProxyMiddleware": 740,
    # sees responses before Scrapy's RedirectMiddleware (600) so a loop fails with its own reason
    "crawler.redirectloop.RedirectLoopMiddleware": 650,
    # browser contexts of at most browser.pages_per_context pages (inert when the source never renders)
    "crawler.rendering.RenderMiddleware": 700,
}

EXTENSIONS = {
    "crawler.frontier.Frontier": 490,
    "crawler.runrecorder.RunRecorder": 500,
    "crawler.progress.Progress": 510,
    "scrapy.extensions.telnet.TelnetConsole": None,
}


def uses_shared_frontier(config: Config, source: SourceConfig) -> bool:
    """Is the source crawled over the shared frontier on Redis? Only when one is configured and the source's
    spider follows a frontier (the site spider); the other kinds are bounded runs of one process."""
    from spiders.kinds import spider_for

    return bool(config.frontier_url) and bool(getattr(spider_for(source.kind), "resumable", False))


def build_settings(
    config: Config, source: SourceConfig, *, run_id: int | None, log_file: Path | None, role: str = "owner"
) -> dict[str, Any]:
    """All settings of one crawl process, as plain JSON-able values. ``role`` matters with a shared frontier:
    the ``owner`` created the run and seeds it, a ``worker`` joins it (crawler/sharedfrontier.py)."""
    net = config.network
    scoring = inputs_from_config(config, with_database=True)
    settings: dict[str, Any] = {
        "BOT_NAME": "touthunt",
        "USER_AGENT": net.user_agent,
        "ROBOTSTXT_OBEY": source.obey_robots,
        "ROBOTSTXT_USER_AGENT": "touthunt",
        "CONCURRENT_REQUESTS": net.concurrency,
        "CONCURRENT_REQUESTS_PER_DOMAIN": net.concurrency_per_domain,
        "DOWNLOAD_DELAY": net.download_delay_seconds,
        "RANDOMIZE_DOWNLOAD_DELAY": True,
        "DOWNLOAD_TIMEOUT": net.timeout_seconds,
        "DOWNLOAD_MAXSIZE": net.max_page_bytes,
        "DOWNLOAD_WARNSIZE": 0,
        "RETRY_ENABLED": net.retries > 0,
        "RETRY_TIMES": net.retries,
        "TOUTHUNT_RETRY_BACKOFF": net.retry_backoff_seconds,
        "TOUTHUNT_RETRY_BACKOFF_MAX": net.retry_backoff_max_seconds,
        "AUTOTHROTTLE_ENABLED": net.autothrottle,
        "AUTOTHROTTLE_START_DELAY": net.download_delay_seconds,
        "AUTOTHROTTLE_MAX_DELAY": net.autothrottle_max_delay_seconds,
        "AUTOTHROTTLE_TARGET_CONCURRENCY": net.autothrottle_target_concurrency,
        "REDIRECT_MAX_TIMES": net.max_redirects,
        "DEPTH_LIMIT": 0,  # the spider enforces max_depth and external hops itself
        "COOKIES_ENABLED": False,
        "HTTPPROXY_ENABLED": True,
        "ITEM_PIPELINES": ITEM_PIPELINES,
        "DOWNLOADER_MIDDLEWARES": DOWNLOADER_MIDDLEWARES,
        "EXTENSIONS": EXTENSIONS,
        "LOG_LEVEL": config.logging.level,
        "LOG_FILE": str(log_file) if log_file else None,
        "LOG_FILE_APPEND": False,
        "LOGSTATS_INTERVAL": 60.0,
        "REQUEST_FINGERPRINTER_IMPLEMENTATION": "2.7",
        # scrapy-playwright needs the asyncio reactor; crawler.run installs it in the crawl's own process
        "TWISTED_REACTOR": ASYNCIO_REACTOR,
        "TOUTHUNT_DATABASE_URL": config.database_url,
        "TOUTHUNT_DB_BUSY_TIMEOUT": config.database.busy_timeout_seconds,
        "TOUTHUNT_RUN_ID": run_id or 0,
        "TOUTHUNT_SOURCE": source.model_dump(mode="json"),
        "TOUTHUNT_PROXY": net.proxy,
        "TOUTHUNT_PROXIES": list(net.proxy_list),
        "TOUTHUNT_QUERIES": expand_queries(source.search, config, origin=f"sources.{source.name}.search")
        if source.search is not None
        else [],
        "TOUTHUNT_HIT_THRESHOLD": scoring.hit_threshold,
        "TOUTHUNT_LEXICON_DIR": scoring.lexicon_dir,
        "TOUTHUNT_KNOWN_BAD_FILE": scoring.known_bad_file,
        "TOUTHUNT_IMAGES": config.images.model_dump(mode="json"),
        "TOUTHUNT_PLATFORM_DOMAINS": list(config.referrals.platform_domains),
        "TOUTHUNT_STORE_BATCH": 50,
        "TOUTHUNT_CHECKPOINT_SECONDS": config.runs.checkpoint_seconds,
        "TOUTHUNT_FRONTIER": config.runs.resume,
        "TOUTHUNT_PROGRESS_INTERVAL": 5.0,
    }
    if uses_shared_frontier(config, source):  # scrapy-redis queue and duplicate filter instead of the database's
        settings["SCHEDULER"] = "crawler.sharedfrontier.SharedScheduler"
        settings[SHARED_FRONTIER] = shared_settings(config, role=role)
        settings["TOUTHUNT_FRONTIER"] = False
        settings["TOUTHUNT_RESUME"] = config.runs.resume
    settings.update(render_settings(config, source))
    settings.update(platform_settings(config, source))
    return settings
