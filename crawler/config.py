"""Load ``config.yaml`` into one frozen, validated :class:`Config`.

This is the only module that reads YAML or the environment. Every field carries its default and its help
text; the README's configuration reference lists every key (``tests/test_docs.py`` checks that). Errors name
the key and the offending value, e.g. ``sources[0].max_depth: -1 is not allowed: ...``.
"""

from __future__ import annotations

import os
import types
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from sqlalchemy.engine import make_url

from crawler.errors import ConfigError

DEFAULT_CONFIG_PATH = Path("config.yaml")
_UNIONS = (Union, types.UnionType)
DEFAULT_USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36 "
    "touthunt/0.1 (health supervision monitoring)"
)


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
    user_agent: str = Field(DEFAULT_USER_AGENT, min_length=1, description="User-Agent header sent with every request.")
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

    @field_validator("proxy")
    @classmethod
    def _check_proxy(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value


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
    kind: Literal["site", "wechat", "weibo", "tieba", "xiaohongshu", "douyin"] = Field(
        "site",
        description="Source kind. `site`: crawl from start URLs following links; `wechat` (WeChat public-account "
        "articles through Sogou's WeChat search), `weibo` (m.weibo.cn search), `tieba` (Baidu Tieba search), "
        "`xiaohongshu`, `douyin` (in the browser): run `selfmedia.queries` on the platform.",
    )
    start_urls: tuple[str, ...] = Field((), description="URLs the crawl starts from (required for `site`).")
    max_depth: int = Field(2, ge=0, le=20, description="Links followed from a start URL (0: start URLs only).")
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
    obey_robots: bool = Field(True, description="Honour robots.txt for this source.")
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
        if len(value.split()) != 5:
            raise ValueError("cron text needs 5 fields: minute hour day month weekday")
        return value

    @model_validator(mode="after")
    def _check_kind_options(self) -> SourceConfig:
        # "@key: ..." messages are reported under that key of the source (see _format_validation_error)
        if self.kind == "site" and not self.start_urls:
            raise ValueError("@start_urls: required key is missing (a site source needs at least one start URL)")
        if self.kind in SELF_MEDIA_KINDS and self.selfmedia is None:
            raise ValueError(f"@selfmedia: required key is missing (a {self.kind} source needs its queries)")
        if self.kind not in SELF_MEDIA_KINDS and self.selfmedia is not None:
            raise ValueError(f"@selfmedia: not allowed for kind {self.kind} (only {', '.join(SELF_MEDIA_KINDS)})")
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


class PathsConfig(_Section):
    var_dir: str = Field(
        "var", description="Folder for the database, logs and crawl state, relative to the config file."
    )


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
    paths: PathsConfig = Field(default_factory=PathsConfig, description="Local folders.")
    logging: LoggingConfig = Field(default_factory=LoggingConfig, description="Logging.")
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


def _format_validation_error(origin: str, data: Any, exc: ValidationError) -> str:
    lines = []
    for error in exc.errors():
        loc = tuple(error["loc"])
        # pydantic adds the model-validator name or a union tag to some locations; keep the real path
        loc = tuple(p for p in loc if p not in ("function-after",))
        key = _key_path(loc)
        found, value = _lookup(data, loc)
        message = error["msg"].removeprefix("Value error, ")
        if message.startswith("@"):  # a model validator naming one of its keys
            subkey, _, message = message[1:].partition(": ")
            lines.append(f"{origin}: {_key_path((*loc, subkey))}: {message}")
        elif not loc:
            lines.append(f"{origin}: {message}")
        elif error["type"] == "extra_forbidden":
            lines.append(f"{origin}: {key}: unknown key (value {value!r})")
        elif error["type"] == "missing":
            lines.append(f"{origin}: {key}: required key is missing")
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
        optional = [a for a in get_args(annotation) if a is not type(None)] if get_origin(annotation) in _UNIONS else []
        if len(optional) == 1 and isinstance(optional[0], type) and issubclass(optional[0], BaseModel):
            keys.extend(iter_config_keys(optional[0], path + "."))  # an optional sub-block (`X | None`)
        elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
            keys.extend(iter_config_keys(annotation, path + "."))
        elif isinstance(inner, type) and issubclass(inner, BaseModel):
            keys.extend(iter_config_keys(inner, path + "[]."))
        else:
            keys.append((path, field.description or ""))
    return keys
