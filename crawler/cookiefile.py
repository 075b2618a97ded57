"""Cookie files an analyst exports from a logged-in browser for a self-media platform: Netscape
``cookies.txt`` (the format of curl and most export add-ons) or JSON (a list of objects with name, value,
domain, path, ... as browser extensions and Playwright's ``storage_state`` write them).

Only cookies are read: touthunt never asks for or stores a password. Cookies expired at load time are left out.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crawler.errors import ConfigError

MAX_COOKIE_FILE_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Cookie:
    name: str
    value: str
    domain: str
    path: str = "/"
    secure: bool = False
    expires: float | None = None  # Unix time; None: a session cookie

    def for_scrapy(self) -> dict[str, Any]:
        return {"name": self.name, "value": self.value, "domain": self.domain, "path": self.path}

    def for_playwright(self) -> dict[str, Any]:
        cookie: dict[str, Any] = {
            "name": self.name, "value": self.value, "domain": self.domain, "path": self.path, "secure": self.secure,
        }  # fmt: skip
        if self.expires:
            cookie["expires"] = self.expires
        return cookie


def _netscape(text: str) -> list[Cookie]:
    cookies = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if line.startswith("#HttpOnly_"):
            line = line.removeprefix("#HttpOnly_")
        elif not line or line.startswith("#"):
            continue
        fields = line.split("\t")
        if len(fields) != 7:
            raise ValueError(f"line {number}: a cookies.txt line has 7 tab-separated fields, found {len(fields)}")
        domain, _subdomains, path, secure, expires, name, value = fields
        expiry = float(expires) if expires not in ("", "0") else None
        cookies.append(Cookie(name, value, domain, path or "/", secure.upper() == "TRUE", expiry))
    return cookies


def _json(data: Any) -> list[Cookie]:
    if isinstance(data, dict) and isinstance(data.get("cookies"), list):  # Playwright storage_state
        data = data["cookies"]
    if not isinstance(data, list):
        raise ValueError("JSON cookies are a list of objects (or a storage state with a 'cookies' list)")
    cookies = []
    for index, item in enumerate(data):
        if not isinstance(item, dict) or not item.get("name") or "value" not in item or not item.get("domain"):
            raise ValueError(f"cookie {index}: needs name, value and domain")
        expires = item.get("expires", item.get("expirationDate"))
        cookies.append(
            Cookie(
                str(item["name"]), str(item["value"]), str(item["domain"]), str(item.get("path") or "/"),
                bool(item.get("secure", False)), float(expires) if expires and float(expires) > 0 else None,
            )
        )  # fmt: skip
    return cookies


def load_cookies(path: Path, *, key: str, now: float | None = None) -> list[Cookie]:
    """The unexpired cookies of a file; errors name the config ``key`` and the file."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{key}: cannot read cookie file {str(path)!r}: {exc.strerror or exc}") from None
    if len(raw) > MAX_COOKIE_FILE_BYTES:
        raise ConfigError(f"{key}: cookie file {str(path)!r} is larger than 1 MiB")
    text = raw.decode("utf-8-sig", errors="replace")
    try:
        cookies = _json(json.loads(text)) if text.lstrip().startswith(("[", "{")) else _netscape(text)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{key}: {str(path)!r} is not a Netscape cookies.txt or JSON cookie file: {exc}") from None
    now = time.time() if now is None else now
    return [c for c in cookies if c.expires is None or c.expires > now]
