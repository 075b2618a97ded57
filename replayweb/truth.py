"""Ground truth for the recorded web: what a correct crawl + scorer should conclude per URL.

This module owns ``web/ground_truth.yaml``: its schema, validation and typed loading. Each entry
says how a page is labelled (scalper, medical_tout, illegal_medical_ad, negative, hub, broken),
whether the scorer should flag it, which contacts a correct extractor finds in its visible text
and ``title``/``alt`` attributes, whether the demo crawl (``web/demo_sources.yaml``) reaches it,
and, for hostile routes, how the fetch is expected to fail. The semantics are documented in
``replayweb/README.md``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from replayweb.site import DEFAULT_WEB_DIR, WebError, load_web, normalise_host, route_key

__all__ = [
    "CATEGORIES",
    "FAILURES",
    "LABELS",
    "Contacts",
    "TruthEntry",
    "load_ground_truth",
    "path_and_query",
]

TRUTH_FILE = "ground_truth.yaml"
LABELS = ("scalper_service", "medical_tout", "illegal_medical_ad", "negative", "hub", "broken")
CATEGORIES = ("scalper_service", "medical_tout", "illegal_medical_ad")
FAILURES = ("redirect_loop", "http_404", "http_500", "timeout", "too_large", "binary", "unknown_host")

_ENTRY_KEYS = frozenset({"url", "label", "hit", "category", "contacts", "reached", "failure", "note", "render"})
_CONTACT_PATTERNS = {
    "mobile": re.compile(r"^1[3-9]\d{9}$"),
    "wechat": re.compile(r"^[a-z][a-z0-9_-]{5,19}$"),
    "qq": re.compile(r"^[1-9]\d{4,10}$"),
}


@dataclass(frozen=True)
class Contacts:
    """Identifiers on a page: 11-digit mobiles, lower-cased WeChat IDs, QQ numbers (all sorted)."""

    mobile: tuple[str, ...] = ()
    wechat: tuple[str, ...] = ()
    qq: tuple[str, ...] = ()

    def is_empty(self) -> bool:
        return not (self.mobile or self.wechat or self.qq)

    def as_dict(self) -> dict[str, list[str]]:
        return {"mobile": list(self.mobile), "wechat": list(self.wechat), "qq": list(self.qq)}


@dataclass(frozen=True)
class TruthEntry:
    """One URL of the recorded web and what should be concluded about it."""

    url: str
    label: str
    hit: bool
    category: str | None
    contacts: Contacts
    reached: bool
    failure: str | None = None
    note: str | None = None
    render: bool = False  # the conclusions hold for the page rendered in a browser; its static copy shows less

    @property
    def host(self) -> str:
        return normalise_host(urlsplit(self.url).netloc)

    @property
    def path(self) -> str:
        """Path and query, as sent in an origin-form request."""
        return path_and_query(self.url)


def path_and_query(url: str) -> str:
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def load_ground_truth(web_dir: Path | str | None = None) -> list[TruthEntry]:
    """Load and validate ``ground_truth.yaml`` from ``web_dir`` (default: the packaged web).

    Besides the per-entry schema, every URL must be a route of the recorded web, except
    ``failure: unknown_host`` entries, whose host must *not* be recorded.
    """
    root = Path(web_dir) if web_dir is not None else DEFAULT_WEB_DIR
    where = root / TRUTH_FILE
    if not where.is_file():
        raise WebError(f"{where}: ground-truth file does not exist")
    try:
        raw = yaml.safe_load(where.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise WebError(f"{where}: invalid YAML: {exc}") from exc
    if not isinstance(raw, dict) or set(raw) != {"pages"} or not isinstance(raw["pages"], list):
        raise WebError(f"{where}: top level must be a mapping with a single 'pages' list")
    web = load_web(root)
    entries: list[TruthEntry] = []
    seen: set[str] = set()
    for index, item in enumerate(raw["pages"]):
        entry = _entry(where, index, item)
        if entry.url in seen:
            raise WebError(f"{where}: pages[{index}] {entry.url}: duplicate url")
        seen.add(entry.url)
        site = web.site(entry.host)
        if entry.failure == "unknown_host":
            if site is not None:
                raise WebError(f"{where}: {entry.url}: failure unknown_host but {entry.host} is a recorded host")
        elif site is None:
            raise WebError(f"{where}: {entry.url}: host {entry.host} is not in the recorded web")
        elif route_key(path_and_query(entry.url)) not in site.routes:
            raise WebError(f"{where}: {entry.url}: not a route of {entry.host}")
        entries.append(entry)
    return entries


def _entry(where: Path, index: int, item: Any) -> TruthEntry:
    ctx = f"{where}: pages[{index}]"
    if not isinstance(item, dict):
        raise WebError(f"{ctx}: must be a mapping")
    url = item.get("url")
    if not isinstance(url, str) or not url.startswith("http://") or not urlsplit(url).path.startswith("/"):
        raise WebError(f"{ctx}: url must be an absolute http:// URL with a path, got {url!r}")
    ctx = f"{where}: {url}"
    unknown = sorted(str(k) for k in item if k not in _ENTRY_KEYS)
    if unknown:
        raise WebError(f"{ctx}: unknown key(s) {', '.join(unknown)} (allowed: {', '.join(sorted(_ENTRY_KEYS))})")
    for key in ("label", "hit", "reached"):
        if key not in item:
            raise WebError(f"{ctx}: missing required key {key!r}")
    label, hit, reached = item["label"], item["hit"], item["reached"]
    category, failure, note = item.get("category"), item.get("failure"), item.get("note")
    if label not in LABELS:
        raise WebError(f"{ctx}: label must be one of {', '.join(LABELS)}, got {label!r}")
    if not isinstance(hit, bool) or not isinstance(reached, bool):
        raise WebError(f"{ctx}: hit and reached must be true or false")
    if label in CATEGORIES:
        if not hit or category != label:
            raise WebError(f"{ctx}: label {label} needs hit: true and category: {label}")
    elif hit or category is not None:
        raise WebError(f"{ctx}: label {label} needs hit: false and category: null")
    if label == "broken":
        if failure not in FAILURES:
            raise WebError(f"{ctx}: broken pages need failure: one of {', '.join(FAILURES)}, got {failure!r}")
    elif failure is not None:
        raise WebError(f"{ctx}: failure is only allowed with label: broken")
    if note is not None and not isinstance(note, str):
        raise WebError(f"{ctx}: note must be a string")
    render = item.get("render", False)
    if not isinstance(render, bool):
        raise WebError(f"{ctx}: render must be true or false")
    return TruthEntry(
        url=url,
        label=label,
        hit=hit,
        category=category,
        contacts=_contacts(ctx, item.get("contacts")),
        reached=reached,
        failure=failure,
        note=note,
        render=render,
    )


def _contacts(ctx: str, raw: Any) -> Contacts:
    if raw is None:
        return Contacts()
    if not isinstance(raw, dict):
        raise WebError(f"{ctx}: contacts must be a mapping with keys mobile, wechat, qq")
    unknown = sorted(str(k) for k in raw if k not in _CONTACT_PATTERNS)
    if unknown:
        raise WebError(f"{ctx}: contacts: unknown key(s) {', '.join(unknown)} (allowed: mobile, qq, wechat)")
    values: dict[str, tuple[str, ...]] = {}
    for kind, pattern in _CONTACT_PATTERNS.items():
        items = raw.get(kind) or []
        if not isinstance(items, list):
            raise WebError(f"{ctx}: contacts.{kind} must be a list")
        items = [str(v) for v in items]
        for value in items:
            if pattern.match(value) is None:
                raise WebError(f"{ctx}: contacts.{kind}: {value!r} does not match {pattern.pattern}")
        if len(set(items)) != len(items):
            raise WebError(f"{ctx}: contacts.{kind}: duplicate values")
        values[kind] = tuple(sorted(items))
    return Contacts(**values)
