"""Load ``config.yaml`` into one frozen, validated :class:`Config`.

This is the only module that reads YAML or the environment. Every field carries its default and its help
text; the README's configuration reference lists every key (``tests/test_docs.py`` checks that). Errors name
the key and the offending value, e.g. ``sources[0].max_depth: -1 is not allowed: ...``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from sqlalchemy.engine import make_url

from crawler.errors import ConfigError

DEFAULT_CONFIG_PATH = Path("config.yaml")
# Honest by default: says what it is, in the form well-behaved crawlers use; operators may set their own.
DEFAULT_USER_AGENT = "Mozilla/5.0 (compatible; touthunt/0.1; health supervision monitoring)"


def _validate_cron(value: str) -> str:
    """5-field cron text that APScheduler's CronTrigger accepts (checked here so serve never meets a bad one)."""
    from crawler.crontab import cron_trigger

    if len(value.split()) != 5:
        raise ValueError("cron text needs 5 fields: minute hour day month weekday")
    try:
        cron_trigger(value, "UTC")
    except ValueError as exc:
        raise ValueError(f"not valid cron text ({exc})") from None
    return value


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DatabaseConfig(_Section):
    url: str = Field(
        "sqlite:///var/touthunt.sqlite",
        description="SQLAlchemy database URL. A relative SQLite path is resolved against the config file's folder.",
    )
    url_env: str = Field(
        "",
        description="Name of an environment variable holding the database URL (used instead of `url` when set; "
        "keeps passwords out of the file).",
    )
    busy_timeout_seconds: float = Field(
        30.0, gt=0, description="How long SQLite waits for a lock held by another process before failing."
    )

    @field_validator("url")
    @classmethod
    def _parse_url(cls, value: str) -> str:
        try:
            make_url(value)
        except Exception as exc:  # sqlalchemy raises ArgumentError for unparsable URLs
            raise ValueError(f"not a database URL ({exc})") from exc
        return value


class NetworkConfig(_Section):
    proxy: str = Field(
        "",
        description="HTTP proxy (`http://host:port`) used for every fetch, the browser included. Empty: direct.",
    )
    user_agent: str = Field(
        DEFAULT_USER_AGENT,
        min_length=1,
        description="User-Agent header sent with every request (the default names touthunt honestly).",
    )
    timeout_seconds: float = Field(30.0, gt=0, le=600, description="Download timeout per request, in seconds.")
    max_page_bytes: int = Field(
        5 * 1024 * 1024, ge=1024, description="Responses larger than this are dropped with reason `too_large`."
    )
    retries: int = Field(2, ge=0, le=10, description="Retries of a request after a connection error or a 5xx answer.")
    concurrency: int = Field(8, ge=1, le=256, description="Requests in flight at once, over all domains.")
    concurrency_per_domain: int = Field(2, ge=1, le=64, description="Requests in flight at once to one domain.")
    download_delay_seconds: float = Field(
        0.5, ge=0, le=120, description="Pause between two requests to the same domain (politeness)."
    )
    max_redirects: int = Field(5, ge=0, le=50, description="Redirects followed before a URL fails as `redirect_loop`.")
    proxies: tuple[str, ...] = Field(
        (),
        description="HTTP proxies (`http://host:port`) taken in turn, request by request (round robin); when set "
        "they replace `proxy` for page fetches (the browser uses the first).",
    )
    autothrottle: bool = Field(
        True,
        description="Adapt the delay per host to its response times (Scrapy AutoThrottle); `download_delay_seconds` "
        "is the smallest delay.",
    )
    autothrottle_target_concurrency: float = Field(
        1.0, gt=0, le=64, description="Requests AutoThrottle aims to keep in flight to one host."
    )
    autothrottle_max_delay_seconds: float = Field(
        30.0, gt=0, le=600, description="Largest delay AutoThrottle sets between two requests to one host."
    )
    retry_backoff_seconds: float = Field(
        2.0,
        ge=0,
        le=300,
        description="Wait before the first retry of a failed request; doubled for each further retry.",
    )
    retry_backoff_max_seconds: float = Field(60.0, ge=0, le=3600, description="Longest wait before a retry.")

    @field_validator("proxy")
    @classmethod
    def _check_proxy(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value

    @field_validator("proxies")
    @classmethod
    def _check_proxies(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for proxy in value:
            if not proxy.startswith(("http://", "https://")):
                raise ValueError(f"{proxy!r} must start with http:// or https://")
        return value

    @property
    def proxy_list(self) -> tuple[str, ...]:
        """The proxies fetches go through: ``proxies`` when set, else ``proxy``, else none (direct)."""
        return self.proxies or ((self.proxy,) if self.proxy else ())


ENGINES = ("baidu", "sogou", "bing", "so")
SOURCE_KINDS = ("site", "search", "classifieds")


class QuerySetConfig(_Section):
    hospitals_file: str = Field(
        "",
        description="Text file of hospital names, one per line (# comments; a tab ends the name, so "
        "keywords/data/hospitals.tsv works), relative to the config file.",
    )
    hospitals: tuple[str, ...] = Field((), description="Hospital names given inline (added to the file's).")
    terms: tuple[str, ...] = Field(
        ("挂号",), min_length=1, description="Service terms; every hospital name is searched with every term."
    )


class SearchConfig(_Section):
    engines: tuple[Literal["baidu", "sogou", "bing", "so"], ...] = Field(
        ENGINES,
        min_length=1,
        description="Search engines the queries run on: baidu (www.baidu.com), sogou (www.sogou.com), bing "
        "(cn.bing.com), so (360 Search, www.so.com).",
    )
    query_sets: tuple[QuerySetConfig, ...] = Field(
        (), description="Query sets: each hospital name (from a file and/or inline) combined with each term."
    )
    queries: tuple[str, ...] = Field((), description="Free queries, searched as written.")
    max_queries: int = Field(200, ge=1, le=10000, description="Queries run per engine at most (the rest are counted).")
    max_pages: int = Field(2, ge=1, le=20, description="Result pages read per query and engine at most.")
    follow_ads: bool = Field(True, description="Crawl the targets of results marked as ads (they are stored anyway).")
    follow_organic: bool = Field(True, description="Crawl the targets of organic results.")
    max_results_per_page: int = Field(
        30, ge=1, le=100, description="Results taken from one result page at most (the rest are counted)."
    )
    max_redirect_hops: int = Field(
        3,
        ge=1,
        le=10,
        description="Meta/JavaScript refresh pages followed while resolving one engine link before it counts as "
        "`redirect_loop`.",
    )
    https: bool = Field(True, description="Query the engines over https (false: plain http, as in the demo web).")


class ClassifiedsConfig(_Section):
    selector_type: Literal["css", "xpath"] = Field("css", description="Language of the selectors below.")
    list_item_selector: str = Field(
        ..., min_length=1, description="Selects one element per listing on a list page (e.g. `ul.list li`)."
    )
    detail_link_selector: str = Field(
        "a::attr(href)",
        min_length=1,
        description="Within a listing, selects the detail page link (CSS `a::attr(href)`, XPath `.//a/@href`).",
    )
    next_page_selector: str = Field(
        "", description="Selects the next list page's link on a list page (CSS `a.next::attr(href)`). Empty: none."
    )
    max_pages: int = Field(5, ge=1, le=500, description="List pages read per start URL at most (the rest are counted).")
    max_items_per_page: int = Field(100, ge=1, le=1000, description="Listings taken per list page at most.")
    calendar_pattern: str = Field(
        r"(?:19|20)\d{2}[-/_]?(?:0[1-9]|1[0-2])(?:[-/_]?(?:0[1-9]|[12]\d|3[01]))?(?!\d)|[?&](?:date|day|month|year)=",
        description="Regular expression for calendar and archive URLs (date in the path or a date parameter).",
    )
    max_calendar_pages: int = Field(
        3, ge=0, le=1000, description="Calendar/archive URLs followed per run at most (the rest are counted)."
    )

    @field_validator("calendar_pattern")
    @classmethod
    def _check_pattern(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a regular expression ({exc})") from exc
        return value

    @model_validator(mode="after")
    def _check_selectors(self) -> ClassifiedsConfig:
        from parsel import Selector
        from parsel.csstranslator import HTMLTranslator

        probe = Selector(text="<html></html>")
        for key in ("list_item_selector", "detail_link_selector", "next_page_selector"):
            value = getattr(self, key)
            if not value:
                continue
            try:
                if self.selector_type == "css":
                    HTMLTranslator().css_to_xpath(value)
                else:
                    probe.xpath(value)
            except Exception as exc:  # cssselect and lxml raise their own error types
                raise ValueError(f"{key}: {value!r} is not a valid {self.selector_type} selector ({exc})") from exc
        return self


SELF_MEDIA_KINDS = ("wechat", "weibo", "tieba", "xiaohongshu", "douyin")
RenderPolicy = Literal["auto", "always", "never"]


class SelfMediaOptions(_Section):
    """Options of the self-media kinds (wechat, weibo, tieba, xiaohongshu, douyin): what to search for and how
    far; the platform's own limits (delay, concurrency, cookie file, address) are under ``platforms``."""

    queries: tuple[str, ...] = Field(
        ..., min_length=1, description="Search terms run on the platform's public search (one search per term)."
    )
    max_pages: int = Field(2, ge=1, le=20, description="Result pages read per query at most.")
    max_posts: int = Field(40, ge=1, le=2000, description="Posts fetched per run at most (over all queries).")

    @field_validator("queries")
    @classmethod
    def _check_queries(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for query in value:
            if not query.strip() or len(query) > 100:
                raise ValueError(f"{query!r}: a query is 1 to 100 characters")
        return value


class SourceConfig(_Section):
    name: str = Field(..., min_length=1, pattern=r"^[A-Za-z0-9_.-]+$", description="Unique source name (ASCII).")
    kind: Literal["site", "search", "classifieds", "wechat", "weibo", "tieba", "xiaohongshu", "douyin"] = Field(
        "site",
        description="Source kind. `site`: crawl from start URLs following links; `search`: run keyword queries on "
        "search engines and crawl the results (settings in `search`); `classifieds`: list-and-detail sites read "
        "with selectors (settings in `classifieds`); `wechat` (WeChat public-account articles through Sogou's "
        "WeChat search), `weibo` (m.weibo.cn search), `tieba` (Baidu Tieba search), `xiaohongshu`, `douyin` (in "
        "the browser): run `selfmedia.queries` on the platform.",
    )
    start_urls: tuple[str, ...] = Field(
        (), description="URLs the crawl starts from (site and classifieds kinds; list pages for classifieds)."
    )
    max_depth: int = Field(
        2,
        ge=0,
        le=20,
        description="Links followed from a start URL (0: start URLs only). Search: counted from each result's "
        "target page; classifieds: from each detail page.",
    )
    follow_external_hops: int = Field(
        0,
        ge=0,
        le=5,
        description="How many hops onto other domains to follow from a page (0: stay on the source's own domains; "
        "1 discovers the domains a hub links to).",
    )
    allowed_domains: tuple[str, ...] = Field(
        (), description="The source's own domains. Empty: the registrable domains of the start URLs."
    )
    obey_robots: bool = Field(True, description="Honour robots.txt for this source (recorded on each run).")
    render: Literal["default", "auto", "always", "never"] = Field(
        "default",
        description="Rendering in the browser: `always`, `never`, `auto` (only pages that look script-built), "
        "`default` (use `browser.render`). For site sources; xiaohongshu and douyin always render, the other "
        "self-media kinds never do.",
    )
    selfmedia: SelfMediaOptions | None = Field(
        None, description="Queries and bounds of a self-media source (required for the self-media kinds)."
    )
    schedule: str = Field("0 6 * * *", description="When the scheduler runs this source (cron text, 5 fields).")
    enabled: bool = Field(True, description="A disabled source is kept in the file but never crawled.")
    search: SearchConfig | None = Field(None, description="Settings of a `search` source (only for that kind).")
    classifieds: ClassifiedsConfig | None = Field(
        None, description="Settings of a `classifieds` source (only for that kind)."
    )

    @field_validator("start_urls")
    @classmethod
    def _check_urls(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for url in value:
            if not url.startswith(("http://", "https://")):
                raise ValueError(f"{url!r} is not an http(s) URL")
        return value

    @field_validator("schedule")
    @classmethod
    def _check_cron(cls, value: str) -> str:
        return _validate_cron(value)

    @model_validator(mode="after")
    def _check_kind(self) -> SourceConfig:
        """Each kind has its own settings block; a block of another kind is a mistake, not something to ignore."""
        blocks = {"search": self.search, "classifieds": self.classifieds}
        for block, value in blocks.items():
            if value is not None and block != self.kind:
                raise ValueError(f"{block}: only allowed with kind: {block} (this source is kind: {self.kind})")
        if self.kind in blocks and blocks[self.kind] is None:
            raise ValueError(f"{self.kind}: a source of kind {self.kind} needs a `{self.kind}:` block")
        if self.kind in SELF_MEDIA_KINDS and self.selfmedia is None:
            raise ValueError(f"selfmedia: required key is missing (a {self.kind} source needs its queries)")
        if self.kind not in SELF_MEDIA_KINDS and self.selfmedia is not None:
            raise ValueError(
                f"selfmedia: only allowed with the self-media kinds ({', '.join(SELF_MEDIA_KINDS)}); "
                f"this source is kind: {self.kind}"
            )
        if self.kind in ("site", "classifieds") and not self.start_urls:
            raise ValueError(f"start_urls: a source of kind {self.kind} needs at least one start URL")
        if self.kind == "search":
            if self.start_urls:
                raise ValueError("start_urls: a search source starts from its queries, not from URLs")
            search = self.search
            if search is not None and not (search.queries or search.query_sets):
                raise ValueError("search: give `queries` or `query_sets` (nothing to search for)")
        return self


class ScoringConfig(_Section):
    hit_threshold: int = Field(50, ge=1, le=100, description="Pages scoring at least this (0-100) become hits.")
    lexicon_dir: str = Field(
        "", description="Folder of lexicon data files replacing the bundled lexicon. Empty: the bundled one."
    )
    known_bad_file: str = Field(
        "",
        description="Analyst-maintained list of known-bad domains and URLs (one per line, # comments); pages on "
        "them or linking to them score higher. Domains of confirmed hits count too.",
    )


class ImagesConfig(_Section):
    enabled: bool = Field(True, description="Read QR codes and text (OCR) in the images of suspicious pages.")
    score_floor: int = Field(
        25, ge=0, le=100, description="Only pages scoring at least this before images, or with an image in a "
        "contact block, have their images read.",
    )  # fmt: skip
    ocr: bool = Field(True, description="Run OCR on images (QR decoding always runs when images are enabled).")
    max_per_page: int = Field(8, ge=1, le=100, description="Images read per page at most.")
    max_bytes: int = Field(2 * 1024 * 1024, ge=1024, description="Larger images are skipped.")
    budget_seconds: float = Field(
        8.0, gt=0, le=120, description="Time allowed per page for downloading and reading its images."
    )


class BrowserConfig(_Section):
    executable_path: str = Field(
        "/usr/bin/chromium",
        description="Chromium the browser work runs (Debian package `chromium`); Playwright's own download is "
        "not used.",
    )
    navigation_timeout_seconds: float = Field(
        30.0, gt=0, le=300, description="How long one page may take to load in the browser."
    )
    pages_per_context: int = Field(
        50,
        ge=1,
        le=10000,
        description="Pages rendered in one browser context before it is closed and a new one opened.",
    )
    render: RenderPolicy = Field(
        "auto",
        description="How site sources use the browser unless a source says otherwise: `auto` re-requests through "
        "the browser only pages that look script-built (contact written by script, empty body with scripts, "
        "document.write, a noscript 'enable JavaScript' page); `always`; `never` (no browser is started).",
    )
    settle_ms: int = Field(
        500, ge=0, le=10000, description="After a page loads, wait at most this long for the network to go quiet."
    )
    block_resources: tuple[str, ...] = Field(
        ("image", "font", "media"),
        description="Playwright resource types aborted while rendering (unless a screenshot is wanted).",
    )
    max_rendered_pages: int = Field(
        2000, ge=1, le=100000, description="Pages rendered per crawl run at most; later ones keep the static copy."
    )
    memory_ceiling_mb: int = Field(
        1536,
        ge=128,
        le=65536,
        description="Peak memory (MiB, proportional set size: shared pages divided among Chromium's processes) "
        "the browser process tree may reach; checked by bench/bench_render.py; each run records its peak "
        "(`browser_peak_pss_mb`, and summed RSS as `browser_peak_rss_mb`) and warns above it.",
    )


class PlatformConfig(_Section):
    base_url: str = Field(..., description="Address of the platform's public web (scheme and host).")
    download_delay_seconds: float = Field(
        ..., ge=0, le=600, description="Pause between two requests to the platform (politeness)."
    )
    concurrency: int = Field(1, ge=1, le=8, description="Requests in flight at once to the platform.")
    cookie_file: str = Field(
        "",
        description="Cookie file the analyst exported from a browser (Netscape cookies.txt or JSON), relative to "
        "the config file; sent with the platform's requests. Never a password. Empty: no cookies.",
    )

    @field_validator("base_url")
    @classmethod
    def _check_base(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")) or value.rstrip("/").count("/") != 2:
            raise ValueError("must be scheme and host only, like https://m.weibo.cn")
        return value.rstrip("/")


def _platform(base_url: str, delay: float) -> Any:
    return lambda: PlatformConfig(base_url=base_url, download_delay_seconds=delay)


class PlatformsConfig(_Section):
    wechat: PlatformConfig = Field(
        default_factory=_platform("https://weixin.sogou.com", 20.0),
        description="WeChat articles through Sogou's WeChat search (articles on mp.weixin.qq.com).",
    )
    weibo: PlatformConfig = Field(
        default_factory=_platform("https://m.weibo.cn", 10.0), description="Weibo's mobile web JSON endpoints."
    )
    tieba: PlatformConfig = Field(
        default_factory=_platform("https://tieba.baidu.com", 8.0), description="Baidu Tieba search."
    )
    xiaohongshu: PlatformConfig = Field(
        default_factory=_platform("https://www.xiaohongshu.com", 30.0), description="Xiaohongshu (in the browser)."
    )
    douyin: PlatformConfig = Field(
        default_factory=_platform("https://www.douyin.com", 30.0), description="Douyin (in the browser)."
    )


class ReferralsConfig(_Section):
    out_dir: str = Field("out", description="Default folder for exports, relative to the config file's folder.")
    institute_code: str = Field(
        "HZWJS", min_length=2, pattern=r"^[A-Za-z0-9]+$", description="Short code of the institute, used in file names."
    )
    institute_name: str = Field("瀚州市卫生健康监督所", min_length=2, description="Institute name printed on exports.")
    platform_domains: tuple[str, ...] = Field(
        (),
        description="Extra platform hosts (besides the bundled list of major Chinese platforms); hits on a platform "
        "are referred to cac as content, hits elsewhere to miit as sites.",
    )


class EvidenceConfig(_Section):
    enabled: bool = Field(True, description="Capture evidence for new hits right after each crawl run.")
    threshold: int = Field(
        60, ge=1, le=100, description="Hits scoring at least this get evidence captured (WARC, screenshot, manifest)."
    )
    folder: str = Field(
        "var/evidence", description="Folder of the write-once evidence files, relative to the config file's folder."
    )
    layout: Literal["date", "domain"] = Field(
        "date",
        description="Sub-folders of one capture: `date` = `YYYY/MM/DD/H<hit>-<time>` (China date), `domain` = "
        "`<registrable domain>/H<hit>-<time>`.",
    )
    retention_days: int = Field(
        730,
        ge=0,
        description="Evidence of hits that were never referred is deleted by `touthunt evidence prune` after this "
        "many days (0: keep forever). Evidence of referred hits is always kept.",
    )
    screenshot: bool = Field(True, description="Take a full-page screenshot with the browser for each capture.")
    local_dns_lookup: bool = Field(
        True,
        description="Also resolve the host with this machine's resolver and record the addresses (through a proxy "
        "the proxy resolves the name and does not tell the client).",
    )
    max_per_run: int = Field(200, ge=1, le=10000, description="Captures after one crawl run at most (oldest first).")
    max_screenshot_height: int = Field(
        20000, ge=500, le=100000, description="Full-page screenshots are cut at this many CSS pixels."
    )


class RecheckConfig(_Section):
    schedule_days: tuple[int, ...] = Field(
        (1, 3, 7, 30),
        min_length=1,
        description="Days after a batch is sent on which each target is fetched again to see if it was taken down.",
    )
    removed_phrases: tuple[str, ...] = Field(
        ("内容已删除", "已被删除", "该帖子不存在", "帖子不存在", "该内容不存在", "账号已封禁", "账号已被封禁",
         "该账号已注销", "页面不存在", "已被屏蔽", "该域名正在出售", "此域名出售", "域名停靠"),
        description="Phrases of a platform's deletion notice or a parked-domain page: a page showing one (and no "
        "longer scoring as a hit) counts as removed.",
    )  # fmt: skip
    timeout_seconds: float = Field(20.0, gt=0, le=300, description="Timeout of one re-check fetch.")

    @field_validator("schedule_days")
    @classmethod
    def _check_days(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if any(d < 0 for d in value) or list(value) != sorted(set(value)):
            raise ValueError("must be increasing whole days, e.g. [1, 3, 7, 30]")
        return value


class WebConfig(_Section):
    host: str = Field("127.0.0.1", min_length=1, description="Address the web app listens on (`touthunt web`).")
    port: int = Field(8080, ge=1, le=65535, description="Port the web app listens on.")
    base_url: str = Field(
        "",
        description="The web app's address as analysts reach it (`https://touthunt.example.cn`), for links in "
        "alerts and exports. Empty: no links.",
    )
    secret_env: str = Field(
        "TOUTHUNT_WEB_SECRET",
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="Name of the environment variable holding the secret that signs session cookies. When it is "
        "unset, a secret is generated once and kept in `<paths.var_dir>/web_secret` (single-machine use).",
    )
    session_hours: float = Field(12.0, gt=0, le=720, description="How long a login stays valid, in hours.")
    login_max_failures: int = Field(
        5, ge=1, le=1000, description="Failed logins allowed per account and per client address within the window."
    )
    login_window_minutes: float = Field(
        15.0, gt=0, le=1440, description="The window of `web.login_max_failures`; further logins wait until it ends."
    )
    page_size: int = Field(50, ge=5, le=500, description="Hits per page of the hit list.")
    secure_cookies: bool = Field(
        False, description="Mark cookies Secure (sent over HTTPS only); turn on when the app is served over HTTPS."
    )

    @field_validator("base_url")
    @classmethod
    def _check_base_url(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")


class PathsConfig(_Section):
    var_dir: str = Field(
        "var", description="Folder for the database, logs and crawl state, relative to the config file."
    )


class RunsConfig(_Section):
    time_limit_seconds: float = Field(
        7200.0,
        gt=0,
        description="Longest a crawl of one source may run; then it is stopped (checkpointed) and marked "
        "`interrupted`, and its next run resumes where it stopped.",
    )
    stop_grace_seconds: float = Field(
        30.0,
        gt=0,
        le=600,
        description="After a crawl is asked to stop (time limit, `touthunt serve` shutting down), how long it may "
        "take to store what it holds before it is killed.",
    )
    checkpoint_seconds: float = Field(
        5.0,
        gt=0,
        le=600,
        description="Fetched pages are stored at least this often (or every 50 pages), so a killed crawl loses "
        "at most this much work.",
    )
    resume: bool = Field(
        True,
        description="A crawl that did not run to its end (killed, time limit, shutdown) resumes from its "
        "unfinished URLs on the next run instead of starting over.",
    )


class FrontierConfig(_Section):
    url: str = Field(
        "",
        description="Redis URL (`redis://host:6379/0`) of a crawl frontier shared by several workers (scrapy-redis "
        "queue and duplicate filter). Empty: each crawl keeps its frontier in the database and runs alone.",
    )
    url_env: str = Field(
        "",
        description="Name of an environment variable holding the Redis URL (used instead of `url` when set; keeps "
        "the Redis password out of the file).",
    )
    key_prefix: str = Field(
        "touthunt",
        pattern=r"^[A-Za-z0-9_.-]+$",
        description="Prefix of every Redis key touthunt writes, so several installations can share one Redis.",
    )
    heartbeat_seconds: float = Field(
        3.0, gt=0, le=60, description="How often a worker tells Redis it is alive and checks for the crawl's end."
    )
    worker_timeout_seconds: float = Field(
        30.0,
        gt=0,
        le=3600,
        description="A worker silent for this long is taken for dead: the requests it held go back to the queue.",
    )
    redis_retry_seconds: float = Field(
        60.0,
        gt=0,
        le=3600,
        description="How long a worker keeps retrying while Redis is unreachable (restarting) before its crawl fails.",
    )

    @field_validator("url")
    @classmethod
    def _redis_url(cls, value: str) -> str:
        if value and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("a Redis URL starts with redis://, rediss:// or unix://")
        return value


class SchedulerConfig(_Section):
    timezone: str = Field("Asia/Shanghai", description="Time zone the cron schedules are read in.")
    misfire_grace_seconds: int = Field(
        3600,
        ge=1,
        description="A job that could not start on time (the server was down or busy) still runs if it is at "
        "most this late; later it is skipped and reported as a missed schedule.",
    )
    coalesce: bool = Field(True, description="Several missed runs of one job are run once, not once per missed time.")
    max_instances: int = Field(
        1, ge=1, le=10, description="Runs of the same job allowed at once (1: a source is never crawled twice at once)."
    )
    max_parallel_crawls: int = Field(
        2, ge=1, le=32, description="Crawls (child processes) the scheduler runs at the same time, over all sources."
    )
    lease_seconds: float = Field(
        60.0,
        ge=5,
        le=3600,
        description="The scheduler holds a lease on the database, renewed every third of this; a second "
        "`touthunt serve` is refused while it is live.",
    )
    config_check_seconds: float = Field(
        30.0, gt=0, le=3600, description="How often `touthunt serve` checks config.yaml for changes."
    )
    health_check_seconds: float = Field(
        300.0, gt=0, le=86400, description="How often source health, missed schedules and urgent hits are checked."
    )
    digest_schedule: str = Field("0 8 * * *", description="When the daily digest is sent (cron text, 5 fields).")
    recheck_schedule: str = Field(
        "30 3 * * *", description="When referred hits are re-checked (cron text, 5 fields; the `recheck` job)."
    )
    evidence_schedule: str = Field(
        "0 4 * * 0",
        description="When every evidence folder is re-hashed against its manifest and expired evidence is pruned "
        "(cron text, 5 fields; the `evidence` job); a failed check is alerted.",
    )

    @field_validator("digest_schedule", "recheck_schedule", "evidence_schedule")
    @classmethod
    def _check_cron(cls, value: str) -> str:
        return _validate_cron(value)

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("not a time zone name like Asia/Shanghai") from None
        return value


class EmailChannelConfig(_Section):
    enabled: bool = Field(False, description="Send alerts by e-mail.")
    host: str = Field("", description="SMTP server host name.")
    port: int = Field(25, ge=1, le=65535, description="SMTP server port (25, 587 with STARTTLS, 465 with TLS).")
    starttls: bool = Field(False, description="Upgrade the connection with STARTTLS before logging in.")
    tls: bool = Field(False, description="Connect with TLS from the start (SMTPS, usually port 465).")
    username: str = Field("", description="SMTP login name; empty: no login.")
    password_env: str = Field("", description="Name of the environment variable holding the SMTP password.")
    ca_file: str = Field(
        "",
        description="PEM file of the certificate authority the mail server's certificate is checked against "
        "(a private CA); empty: the system's CAs.",
    )
    sender: str = Field("touthunt@localhost", description="From address of alert mail.")
    recipients: tuple[str, ...] = Field((), description="Addresses alert mail is sent to.")

    @model_validator(mode="after")
    def _complete(self) -> EmailChannelConfig:
        if self.enabled and not self.host:
            raise ValueError("host: an enabled e-mail channel needs the SMTP host")
        if self.enabled and not self.recipients:
            raise ValueError("recipients: an enabled e-mail channel needs at least one recipient")
        if self.starttls and self.tls:
            raise ValueError("starttls and tls: choose one")
        return self


class DingTalkChannelConfig(_Section):
    enabled: bool = Field(False, description="Send alerts to a DingTalk group robot.")
    url_env: str = Field(
        "TOUTHUNT_DINGTALK_URL",
        description="Name of the environment variable holding the robot's webhook URL (with its access_token).",
    )
    secret_env: str = Field(
        "",
        description="Name of the environment variable holding the robot's signing secret (SEC...); empty: the "
        "robot is not signed.",
    )


class WeComChannelConfig(_Section):
    enabled: bool = Field(False, description="Send alerts to a WeCom (企业微信) group robot.")
    url_env: str = Field(
        "TOUTHUNT_WECOM_URL",
        description="Name of the environment variable holding the robot's webhook URL (with its key).",
    )


class AlertsConfig(_Section):
    urgent_score: int = Field(
        85, ge=1, le=100, description="A new hit scoring at least this is sent at once, not only in the digest."
    )
    recent_runs: int = Field(
        3, ge=1, le=50, description="Runs a source's latest run is compared with (zero items, error-rate spike)."
    )
    error_rate_threshold: float = Field(
        0.5, gt=0, le=1, description="Share of failed URLs in a run at or above which an error-rate spike is raised."
    )
    error_rate_factor: float = Field(
        2.0, ge=1, description="...and only when the share is at least this many times the recent runs' share."
    )
    error_rate_min_urls: int = Field(
        10, ge=1, description="Runs with fewer URLs (pages and failures) than this never raise an error-rate spike."
    )
    lookback_hours: float = Field(
        24.0, gt=0, description="Checks look at runs and hits of this many past hours (older ones were reported)."
    )
    max_attempts: int = Field(
        3, ge=1, le=20, description="Attempts to deliver one alert over one channel before it is given up."
    )
    timeout_seconds: float = Field(
        10.0, gt=0, le=120, description="Time limit of every call to a mail server or webhook."
    )
    email: EmailChannelConfig = Field(default_factory=EmailChannelConfig, description="E-mail channel.")
    dingtalk: DingTalkChannelConfig = Field(default_factory=DingTalkChannelConfig, description="DingTalk robot.")
    wecom: WeComChannelConfig = Field(default_factory=WeComChannelConfig, description="WeCom robot.")


class LoggingConfig(_Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", description="Log level of every command.")


class Config(_Section):
    database: DatabaseConfig = Field(default_factory=DatabaseConfig, description="Where results are stored.")
    network: NetworkConfig = Field(default_factory=NetworkConfig, description="How pages are fetched.")
    sources: tuple[SourceConfig, ...] = Field((), description="What is crawled.")
    scoring: ScoringConfig = Field(default_factory=ScoringConfig, description="How pages become hits.")
    images: ImagesConfig = Field(default_factory=ImagesConfig, description="Reading images (QR, OCR).")
    browser: BrowserConfig = Field(default_factory=BrowserConfig, description="The headless browser.")
    platforms: PlatformsConfig = Field(
        default_factory=PlatformsConfig, description="Self-media platforms: addresses, rate limits, cookie files."
    )
    referrals: ReferralsConfig = Field(default_factory=ReferralsConfig, description="Referral exports.")
    evidence: EvidenceConfig = Field(default_factory=EvidenceConfig, description="Evidence capture.")
    recheck: RecheckConfig = Field(default_factory=RecheckConfig, description="Take-down re-checks.")
    web: WebConfig = Field(default_factory=WebConfig, description="The analysts' web app.")
    paths: PathsConfig = Field(default_factory=PathsConfig, description="Local folders.")
    logging: LoggingConfig = Field(default_factory=LoggingConfig, description="Logging.")
    runs: RunsConfig = Field(default_factory=RunsConfig, description="Crawl runs: time limit, checkpoints, resume.")
    scheduler: SchedulerConfig = Field(default_factory=SchedulerConfig, description="`touthunt serve` scheduling.")
    frontier: FrontierConfig = Field(
        default_factory=FrontierConfig, description="A crawl frontier on Redis shared by several workers."
    )
    alerts: AlertsConfig = Field(default_factory=AlertsConfig, description="Alerts and their channels.")
    base_dir: Path = Field(Path("."), exclude=True, description="(internal) folder of the config file.")

    @model_validator(mode="after")
    def _unique_source_names(self) -> Config:
        seen: set[str] = set()
        for index, source in enumerate(self.sources):
            if source.name in seen:
                raise ValueError(f"sources[{index}].name: {source.name!r} is used by two sources")
            seen.add(source.name)
        return self

    # Resolved values -------------------------------------------------------------------------------------

    def resolve_path(self, value: str) -> Path:
        path = Path(value)
        return path if path.is_absolute() else (self.base_dir / path)

    @property
    def var_dir(self) -> Path:
        return self.resolve_path(self.paths.var_dir)

    @property
    def database_url(self) -> str:
        """The database URL with the secret variable applied and relative SQLite paths made absolute."""
        raw = self.database.url
        if self.database.url_env:
            raw = os.environ.get(self.database.url_env, "")
            if not raw:
                raise ConfigError(
                    f"database.url_env: environment variable {self.database.url_env!r} is not set or empty"
                )
        url = make_url(raw)
        if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
            db_path = Path(url.database)
            if not db_path.is_absolute():
                url = url.set(database=str((self.base_dir / db_path).resolve()))
        return url.render_as_string(hide_password=False)

    @property
    def frontier_url(self) -> str:
        """The shared frontier's Redis URL ('' when crawls keep their frontier in the database)."""
        if self.frontier.url_env:
            raw = os.environ.get(self.frontier.url_env, "")
            if not raw:
                raise ConfigError(
                    f"frontier.url_env: environment variable {self.frontier.url_env!r} is not set or empty"
                )
            if not raw.startswith(("redis://", "rediss://", "unix://")):
                raise ConfigError(f"frontier.url_env: {self.frontier.url_env} does not hold a Redis URL")
            return raw
        return self.frontier.url

    def source(self, name: str) -> SourceConfig:
        for source in self.sources:
            if source.name == name:
                return source
        known = ", ".join(s.name for s in self.sources) or "none"
        raise ConfigError(f"--source: no source named {name!r} (configured: {known})")


def _key_path(loc: tuple[Any, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path or "(top level)"


def _lookup(data: Any, loc: tuple[Any, ...]) -> tuple[bool, Any]:
    current = data
    for part in loc:
        try:
            current = current[part]
        except (KeyError, IndexError, TypeError):
            return False, None
    return True, current


_SUB_KEY = re.compile(r"^([a-z_]+): (.*)$", re.DOTALL)


def _format_validation_error(origin: str, data: Any, exc: ValidationError) -> str:
    lines = []
    for error in exc.errors():
        loc = tuple(error["loc"])
        # pydantic adds the model-validator name or a union tag to some locations; keep the real path
        loc = tuple(p for p in loc if p not in ("function-after",))
        key = _key_path(loc)
        found, value = _lookup(data, loc)
        message = error["msg"].removeprefix("Value error, ")
        if not loc:
            lines.append(f"{origin}: {message}")
        elif error["type"] == "extra_forbidden":
            lines.append(f"{origin}: {key}: unknown key (value {value!r})")
        elif error["type"] == "missing":
            lines.append(f"{origin}: {key}: required key is missing")
        elif found and isinstance(value, dict) and (sub := _SUB_KEY.match(message)):
            # a model-level check naming one of the mapping's keys ("start_urls: ..."): report that key
            name, rest = sub.group(1), sub.group(2)
            if name in value:
                lines.append(f"{origin}: {key}.{name}: {value[name]!r} is not allowed: {rest}")
            else:
                lines.append(f"{origin}: {key}.{name}: {rest}")
        elif found:
            lines.append(f"{origin}: {key}: {value!r} is not allowed: {message}")
        else:
            lines.append(f"{origin}: {key}: {message}")
    return "\n".join(lines)


def parse_config(data: Any, *, origin: str = "config", base_dir: Path | None = None) -> Config:
    """Validate already-parsed YAML data; raises ConfigError naming the key and value."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{origin}: the top level must be a mapping of sections, not {type(data).__name__}")
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_format_validation_error(origin, data, exc)) from None
    return config.model_copy(update={"base_dir": (base_dir or Path(".")).resolve()})


def _read_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found (pass --config PATH)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read config file: {exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1} column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{path}:{where}: malformed YAML: {problem}") from None
    return data


def load_config(path: Path | str = DEFAULT_CONFIG_PATH) -> Config:
    """Read and validate a config file."""
    path = Path(path)
    return parse_config(_read_yaml(path), origin=str(path), base_dir=path.parent)


def with_changes(config: Config, origin: str, **sections: Any) -> Config:
    """A copy of ``config`` with top-level sections changed, validated like a file: a mapping is merged
    key by key into its section, anything else (the ``sources`` list) replaces it."""
    data = config.model_dump(mode="json", exclude={"base_dir"})
    for name, value in sections.items():
        if isinstance(value, dict) and isinstance(data.get(name), dict):
            data[name] = {**data[name], **value}
        else:
            data[name] = value
    return parse_config(data, origin=origin, base_dir=config.base_dir)


def load_overlay(path: Path) -> dict[str, Any]:
    """Top-level sections of a partial config file (e.g. the demo web's sources), to pass to with_changes."""
    data = _read_yaml(path)
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of config sections")
    return data


def iter_config_keys(model: type[BaseModel] = Config, prefix: str = "") -> list[tuple[str, str]]:
    """Every documented key as (dotted path, help text); list items appear as ``sources[].name``."""
    keys: list[tuple[str, str]] = []
    for name, field in model.model_fields.items():
        if field.exclude:
            continue
        path = f"{prefix}{name}"
        annotation = field.annotation
        inner = getattr(annotation, "__args__", (None,))[0] if getattr(annotation, "__origin__", None) else None
        options = [a for a in getattr(annotation, "__args__", ()) if a is not type(None)]
        if len(options) == 1 and isinstance(options[0], type) and issubclass(options[0], BaseModel):
            annotation = options[0]  # an optional sub-section (`SearchConfig | None`)
            inner = None
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            keys.extend(iter_config_keys(annotation, path + "."))
        elif isinstance(inner, type) and issubclass(inner, BaseModel):
            keys.extend(iter_config_keys(inner, path + "[]."))
        else:
            keys.append((path, field.description or ""))
    return keys
