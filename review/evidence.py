"""Where the hit detail page gets a page's screenshot. The app takes a `ScreenshotFinder` (a callable: session
and page -> path of a PNG or JPEG file, or None) and serves the file from its own origin as an image; by
default `evidence_screenshots` finds the newest evidence capture of the page's hit (``evidence/``). When it
finds nothing, the page says 无截图.

The page's IP line comes from the same capture: `address_facts` reads the capture's manifest (inside
``evidence.folder``, bounded in size, any reading or JSON error meaning 未记录) for the address the capture
connected to, whether it went through the proxy, and what this machine's resolver answered."""

from __future__ import annotations

import ipaddress
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from crawler.config import Config
from storage.models import EvidenceRecord, Hit, Page

log = logging.getLogger(__name__)

ScreenshotFinder = Callable[[Session, Page], Path | None]

IMAGE_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}
MAX_SCREENSHOT_BYTES = 20 * 1024 * 1024


def evidence_screenshots(config: Config) -> ScreenshotFinder:
    """The finder reading evidence captures: the screenshot of the newest capture (not a re-check, not pruned)
    of the page's hit, kept only when the path stays inside ``evidence.folder``."""
    from evidence.capture import SCREENSHOT_NAME

    root = config.resolve_path(config.evidence.folder).resolve()

    def find(session: Session, page: Page) -> Path | None:
        folder = session.scalar(
            select(EvidenceRecord.folder)
            .join(Hit, Hit.id == EvidenceRecord.hit_id)
            .where(Hit.page_id == page.id, EvidenceRecord.kind == "capture", EvidenceRecord.pruned_at.is_(None))
            .order_by(EvidenceRecord.captured_at.desc(), EvidenceRecord.id.desc())
            .limit(1)
        )
        if folder is None:
            return None
        path = (root / folder / SCREENSHOT_NAME).resolve()
        return path if path.is_relative_to(root) else None

    return find


def screenshot_file(finder: ScreenshotFinder, session: Session, page: Page) -> tuple[Path, str] | None:
    """(path, media type) of the page's screenshot when the finder gives an existing image file of a known
    type and bounded size; None otherwise."""
    path = finder(session, page)
    if path is None:
        return None
    path = Path(path)
    media_type = IMAGE_TYPES.get(path.suffix.lower())
    if media_type is None or not path.is_file() or path.stat().st_size > MAX_SCREENSHOT_BYTES:
        return None
    return path, media_type


MAX_MANIFEST_BYTES = 1024 * 1024
MAX_ADDRESSES = 16


@dataclass(frozen=True)
class AddressFacts:
    """The resolved address an evidence capture recorded, and how it was obtained (the hit page's IP line)."""

    captured_at: datetime
    via_proxy: str | None  # the proxy's host[:port] (never its credentials) when the capture went through one
    peer_address: str | None  # the address connected to: the target's when direct, the proxy's otherwise
    local_host: str | None  # the host this machine's resolver was asked about, if it was asked
    local_addresses: tuple[str, ...]
    local_error: str


def _address(value: Any) -> str | None:
    """``value`` when it is an IP address (v4 or v6), else None: the manifest is a file on disk, not trusted."""
    if not isinstance(value, str) or len(value) > 64:
        return None
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def _proxy_location(value: Any) -> str | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parts = urlsplit(value[:2048])
        host, port = parts.hostname, parts.port
    except ValueError:
        return "（地址无法解析）"
    if not host:
        return "（地址无法解析）"
    host = f"[{host}]" if ":" in host else host
    return f"{host}:{port}" if port else host


def read_manifest(root: Path, folder: str) -> dict[str, Any] | None:
    """The JSON manifest of the evidence folder ``folder`` under ``root`` (already resolved); None when the path
    leaves ``root``, the file is missing, larger than ``MAX_MANIFEST_BYTES`` or not a JSON object."""
    from evidence.files import MANIFEST_NAME

    try:
        path = (root / folder / MANIFEST_NAME).resolve()
        if not path.is_relative_to(root) or not path.is_file():
            return None
        with path.open("rb") as handle:
            data = handle.read(MAX_MANIFEST_BYTES + 1)
        if len(data) > MAX_MANIFEST_BYTES:
            log.warning("evidence manifest %s is larger than %d bytes; not read", path, MAX_MANIFEST_BYTES)
            return None
        manifest = json.loads(data.decode("utf-8"))
    except (OSError, ValueError) as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        log.warning("evidence manifest in %s unreadable: %s", folder[:200], exc)
        return None
    return manifest if isinstance(manifest, dict) else None


def address_facts(config: Config, session: Session, hit_id: int) -> AddressFacts | None:
    """What the newest kept evidence capture of the hit recorded about the address it reached; None when
    there is no capture, or its manifest cannot be read or records no address."""
    record = session.scalars(
        select(EvidenceRecord)
        .where(EvidenceRecord.hit_id == hit_id, EvidenceRecord.kind == "capture", EvidenceRecord.pruned_at.is_(None))
        .order_by(EvidenceRecord.captured_at.desc(), EvidenceRecord.id.desc())
        .limit(1)
    ).first()
    if record is None:
        return None
    manifest = read_manifest(config.resolve_path(config.evidence.folder).resolve(), record.folder)
    resolved = manifest.get("resolved_address") if manifest else None
    if not isinstance(resolved, dict):
        return None
    local = resolved.get("local_dns")
    local = local if isinstance(local, dict) else {}
    raw = local.get("addresses")
    addresses = [a for a in (_address(v) for v in (raw if isinstance(raw, list) else [])[:MAX_ADDRESSES]) if a]
    host = local.get("host")
    error = local.get("error")
    facts = AddressFacts(
        captured_at=record.captured_at,
        via_proxy=_proxy_location(resolved.get("proxy")),
        peer_address=_address(resolved.get("peer_address")),
        local_host=host[:253] if isinstance(host, str) and host else None,
        local_addresses=tuple(addresses),
        local_error=error[:200] if isinstance(error, str) else "",
    )
    if facts.peer_address is None and not facts.local_addresses and not facts.local_error:
        return None
    return facts
