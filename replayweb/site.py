"""Recorded-web schema: load and validate ``web/<host>/_site.yaml`` files into typed routes.

This module owns the on-disk format of the replay web (documented in ``replayweb/README.md``):
one folder per host, a ``_site.yaml`` listing its routes, page bodies authored in UTF-8 next to
it. Loading validates everything up front (unknown keys, missing files, charsets that cannot
encode the page, bad redirects) and raises :class:`WebError` naming the file and the route, so
a broken recording fails at start-up rather than in the middle of a crawl. Page bodies are
encoded to their route's charset here, once, and served as bytes by ``replayweb.server``.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import yaml

__all__ = [
    "DEFAULT_WEB_DIR",
    "GENERATORS",
    "Route",
    "Site",
    "Web",
    "WebError",
    "load_web",
    "route_key",
]

DEFAULT_WEB_DIR = Path(__file__).resolve().parent / "web"
SITE_FILE = "_site.yaml"

GENERATORS = ("huge", "binary")
_BODY_KEYS = ("file", "text", "redirect", "generate")
_ROUTE_KEYS = frozenset(
    {*_BODY_KEYS, "status", "content_type", "charset", "header_charset", "delay", "size_mb", "headers"}
)
_SITE_KEYS = frozenset({"routes", "defaults", "headers", "not_found"})
_DEFAULT_KEYS = frozenset({"charset", "header_charset"})
_HOST_RE = re.compile(r"^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$")
_TEXT_TYPES = ("text/", "application/javascript", "application/json", "application/xml")
_EXT_TYPES = {
    ".html": "text/html",
    ".htm": "text/html",
    ".shtml": "text/html",
    ".asp": "text/html",
    ".php": "text/html",
    ".txt": "text/plain",
    ".css": "text/css",
    ".js": "application/javascript",
    ".xml": "application/xml",
    ".json": "application/json",
}
MAX_DELAY_S = 60.0
MAX_SIZE_MB = 64.0


class WebError(ValueError):
    """The recorded web (a ``_site.yaml``, a page file, ground truth) is malformed.

    Raised by :func:`load_web` and ``replayweb.truth.load_ground_truth``; the message always
    names the offending file and, where there is one, the route.
    """


@dataclass(frozen=True)
class Route:
    """One servable path on one host. ``body`` is already encoded to ``charset``."""

    key: str
    status: int
    content_type: str
    charset: str | None = None
    header_charset: bool = True
    body: bytes = b""
    redirect: str | None = None
    generate: str | None = None
    size_mb: float = 0.0
    delay: float = 0.0
    headers: tuple[tuple[str, str], ...] = ()
    file: str | None = None
    path: str = ""

    @property
    def is_redirect(self) -> bool:
        return self.redirect is not None

    @property
    def header_content_type(self) -> str:
        """The ``Content-Type`` header value, with ``; charset=`` only when the route asks for it."""
        if self.charset and self.header_charset and self.is_text:
            return f"{self.content_type}; charset={self.charset}"
        return self.content_type

    @property
    def is_text(self) -> bool:
        return self.content_type.startswith(_TEXT_TYPES)

    @property
    def is_page(self) -> bool:
        """True when fetching the route yields an HTML document (whatever its status or real bytes)."""
        return not self.is_redirect and self.content_type == "text/html"


@dataclass(frozen=True)
class Site:
    """A recorded host: its routes keyed by :func:`route_key`, and its 404 page."""

    host: str
    directory: Path
    routes: Mapping[str, Route]
    not_found: Route
    headers: tuple[tuple[str, str], ...] = ()

    def lookup(self, path_and_query: str) -> Route | None:
        """Find the route for a request target; a query string falls back to the bare path."""
        key = route_key(path_and_query)
        route = self.routes.get(key)
        if route is None and "?" in key:
            route = self.routes.get(key.split("?", 1)[0])
        return route

    def url(self, key: str) -> str:
        """Absolute URL of a route, spelled as in ``_site.yaml`` (``key`` is its lookup key)."""
        route = self.routes.get(key)
        return f"http://{self.host}{route.path if route is not None and route.path else key}"


@dataclass(frozen=True)
class Web:
    """The whole recorded web: hosts by lower-case name."""

    directory: Path
    sites: Mapping[str, Site] = field(default_factory=dict)

    def site(self, host: str) -> Site | None:
        return self.sites.get(normalise_host(host))

    def urls(self) -> list[str]:
        """Every route as an absolute URL, hosts and routes in file order."""
        return [site.url(key) for site in self.sites.values() for key in site.routes]


def normalise_host(host: str) -> str:
    """Lower-case, drop a trailing dot and any ``:port``."""
    host = host.strip().lower().rstrip(".")
    if host.startswith("["):
        return host
    return host.rsplit(":", 1)[0] if ":" in host else host


def route_key(path_and_query: str) -> str:
    """Canonical lookup key: percent-decoded path, query pairs sorted (order-insensitive).

    ``/a.php?b=2&a=1`` and ``/a.php?a=1&b=2`` map to the same key; the fragment is dropped.
    """
    parts = urlsplit(path_and_query)
    path = unquote(parts.path) or "/"
    if not parts.query:
        return path
    pairs = sorted(parse_qsl(parts.query, keep_blank_values=True))
    return path + "?" + "&".join(f"{k}={v}" for k, v in pairs)


def load_web(web_dir: Path | str | None = None) -> Web:
    """Load and validate every ``<host>/_site.yaml`` under ``web_dir`` (default: the packaged web)."""
    root = Path(web_dir) if web_dir is not None else DEFAULT_WEB_DIR
    if not root.is_dir():
        raise WebError(f"{root}: web directory does not exist")
    sites: dict[str, Site] = {}
    for entry in sorted(root.iterdir()):
        if not entry.is_dir() or entry.name.startswith((".", "_")):
            continue
        site = _load_site(entry)
        sites[site.host] = site
    if not sites:
        raise WebError(f"{root}: no host folders (expected <host>/{SITE_FILE})")
    return Web(directory=root, sites=sites)


def _load_site(folder: Path) -> Site:
    host = folder.name
    where = folder / SITE_FILE
    if _HOST_RE.match(host) is None:
        raise WebError(f"{folder}: folder name {host!r} is not a lower-case host name")
    if not where.is_file():
        raise WebError(f"{folder}: host folder has no {SITE_FILE}")
    try:
        raw = yaml.safe_load(where.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise WebError(f"{where}: invalid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise WebError(f"{where}: top level must be a mapping with a 'routes' key")
    _check_keys(where, "top level", raw, _SITE_KEYS)
    defaults = raw.get("defaults") or {}
    if not isinstance(defaults, dict):
        raise WebError(f"{where}: 'defaults' must be a mapping")
    _check_keys(where, "defaults", defaults, _DEFAULT_KEYS)
    site_headers = _headers(where, "headers", raw.get("headers"))
    routes_raw = raw.get("routes")
    if not isinstance(routes_raw, dict) or not routes_raw:
        raise WebError(f"{where}: 'routes' must be a non-empty mapping of path -> route")
    routes: dict[str, Route] = {}
    for path, spec in routes_raw.items():
        if not isinstance(path, str) or not path.startswith("/"):
            raise WebError(f"{where}: route {path!r}: paths must be strings starting with '/'")
        key = route_key(path)
        if key in routes:
            raise WebError(f"{where}: route {path!r}: duplicates another route (same path and query)")
        routes[key] = _route(where, folder, key, spec, defaults, path=path)
    for key, route in routes.items():
        if route.redirect is not None and route.redirect.startswith("/"):
            target = route_key(route.redirect)
            if target not in routes and target.split("?", 1)[0] not in routes:
                raise WebError(f"{where}: route {key!r}: redirect target {route.redirect!r} is not a route")
    nf_spec = raw.get("not_found")
    if nf_spec is None:
        not_found = Route(
            key="<not_found>",
            status=404,
            content_type="text/html",
            charset="utf-8",
            body=_DEFAULT_404.encode("utf-8"),
        )
    else:
        not_found = _route(where, folder, "<not_found>", nf_spec, defaults, forced_status=404)
        if not_found.redirect is not None or not_found.generate is not None:
            raise WebError(f"{where}: not_found: must use 'file' or 'text'")
    return Site(host=host, directory=folder, routes=routes, not_found=not_found, headers=site_headers)


def _route(
    where: Path,
    folder: Path,
    key: str,
    spec: Any,
    defaults: Mapping[str, Any],
    forced_status: int | None = None,
    path: str = "",
) -> Route:
    ctx = f"route {key!r}" if not key.startswith("<") else "not_found"
    if not isinstance(spec, dict):
        raise WebError(f"{where}: {ctx}: must be a mapping such as {{file: index.html}}")
    _check_keys(where, ctx, spec, _ROUTE_KEYS)
    given = [k for k in _BODY_KEYS if k in spec]
    if len(given) != 1:
        raise WebError(
            f"{where}: {ctx}: needs exactly one of {', '.join(_BODY_KEYS)} (got {', '.join(given) or 'none'})"
        )
    kind = given[0]
    status = spec.get("status", forced_status or (302 if kind == "redirect" else 200))
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        raise WebError(f"{where}: {ctx}: status must be an HTTP status code (100-599), got {status!r}")
    if forced_status is not None:
        status = forced_status
    if kind == "redirect" and status not in (301, 302, 303, 307, 308):
        raise WebError(f"{where}: {ctx}: a redirect needs a 3xx status (301, 302, 303, 307, 308), got {status}")
    if kind != "redirect" and 300 <= status < 400:
        raise WebError(f"{where}: {ctx}: status {status} needs 'redirect'")
    delay = spec.get("delay", 0)
    if not isinstance(delay, int | float) or isinstance(delay, bool) or not 0 <= delay <= MAX_DELAY_S:
        raise WebError(f"{where}: {ctx}: delay must be a number of seconds in [0, {MAX_DELAY_S:g}]")
    charset = spec.get("charset", defaults.get("charset", "utf-8"))
    header_charset = spec.get("header_charset", defaults.get("header_charset", True))
    if not isinstance(header_charset, bool):
        raise WebError(f"{where}: {ctx}: header_charset must be true or false")
    if not isinstance(charset, str):
        raise WebError(f"{where}: {ctx}: charset must be a string such as utf-8, gbk or gb18030")
    try:
        codecs.lookup(charset)
    except LookupError:
        raise WebError(f"{where}: {ctx}: unknown charset {charset!r}") from None
    headers = _headers(where, f"{ctx}: headers", spec.get("headers"))
    if "size_mb" in spec and kind != "generate":
        raise WebError(f"{where}: {ctx}: size_mb only applies to 'generate: huge'")
    content_type = spec.get("content_type")
    if content_type is not None and (not isinstance(content_type, str) or "/" not in content_type):
        raise WebError(f"{where}: {ctx}: content_type must look like 'text/html', got {content_type!r}")
    if content_type is not None and ";" in content_type:
        raise WebError(f"{where}: {ctx}: content_type must not carry parameters; use charset/header_charset")

    body = b""
    redirect = generate = file_name = None
    size_mb = 0.0
    if kind == "file":
        file_name = spec["file"]
        if not isinstance(file_name, str) or not file_name:
            raise WebError(f"{where}: {ctx}: file must be a file name relative to {folder.name}/")
        body_path = (folder / file_name).resolve()
        if folder.resolve() not in body_path.parents:
            raise WebError(f"{where}: {ctx}: file {file_name!r} escapes the host folder")
        if not body_path.is_file():
            raise WebError(f"{where}: {ctx}: file {file_name!r} does not exist in {folder}")
        try:
            text = body_path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise WebError(f"{where}: {ctx}: {file_name!r} is not valid UTF-8 ({exc.reason})") from None
        body = _encode(where, ctx, text, charset)
        content_type = content_type or _EXT_TYPES.get(Path(file_name).suffix.lower(), "text/html")
    elif kind == "text":
        text = spec["text"]
        if not isinstance(text, str):
            raise WebError(f"{where}: {ctx}: text must be a string")
        body = _encode(where, ctx, text, charset)
        content_type = content_type or "text/plain"
    elif kind == "redirect":
        redirect = spec["redirect"]
        if not isinstance(redirect, str) or not (redirect.startswith("/") or redirect.startswith("http://")):
            raise WebError(f"{where}: {ctx}: redirect must be a path ('/x') or an http:// URL, got {redirect!r}")
        content_type = "text/html"
        charset = "utf-8"
    else:
        generate = spec["generate"]
        if generate not in GENERATORS:
            raise WebError(f"{where}: {ctx}: generate must be one of {', '.join(GENERATORS)}, got {generate!r}")
        if generate == "huge":
            size_mb = spec.get("size_mb", 12)
            if not isinstance(size_mb, int | float) or isinstance(size_mb, bool) or not 0 < size_mb <= MAX_SIZE_MB:
                raise WebError(f"{where}: {ctx}: size_mb must be a number in (0, {MAX_SIZE_MB:g}]")
            content_type = content_type or "text/html"
        else:
            if "size_mb" in spec:
                raise WebError(f"{where}: {ctx}: size_mb only applies to 'generate: huge'")
            content_type = content_type or "image/png"
            charset = None
    return Route(
        key=key,
        status=status,
        content_type=content_type,
        charset=charset,
        header_charset=header_charset,
        body=body,
        redirect=redirect,
        generate=generate,
        size_mb=float(size_mb),
        delay=float(delay),
        headers=headers,
        file=file_name,
        path=path,
    )


def _encode(where: Path, ctx: str, text: str, charset: str) -> bytes:
    try:
        return text.encode(charset)
    except UnicodeEncodeError as exc:
        bad = exc.object[exc.start : exc.end]
        line = exc.object.count("\n", 0, exc.start) + 1
        raise WebError(
            f"{where}: {ctx}: character {bad!r} (U+{ord(bad[0]):04X}) on line {line} cannot be encoded as {charset}"
        ) from None


def _headers(where: Path, ctx: str, raw: Any) -> tuple[tuple[str, str], ...]:
    if raw is None:
        return ()
    if not isinstance(raw, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in raw.items()):
        raise WebError(f"{where}: {ctx}: must be a mapping of header name -> string value")
    for name in raw:
        if name.lower() in {"content-type", "content-length", "location", "connection", "transfer-encoding"}:
            raise WebError(f"{where}: {ctx}: header {name!r} is set by the server; use the route's keys instead")
    return tuple(raw.items())


def _check_keys(where: Path, ctx: str, raw: Mapping[str, Any], allowed: frozenset[str]) -> None:
    unknown = sorted(str(k) for k in raw if k not in allowed)
    if unknown:
        raise WebError(f"{where}: {ctx}: unknown key(s) {', '.join(unknown)} (allowed: {', '.join(sorted(allowed))})")


_DEFAULT_404 = """<!DOCTYPE html>
<html>
<head><meta charset="utf-8"><title>404 Not Found</title></head>
<body>
<center><h1>404 Not Found</h1></center>
<hr><center>nginx</center>
</body>
</html>
"""
