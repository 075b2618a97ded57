"""Where the hit detail page gets a page's screenshot. The app takes a `ScreenshotFinder` (a callable: session
and page -> path of a PNG or JPEG file, or None) and serves the file from its own origin as an image; by
default `evidence_screenshots` finds the newest evidence capture of the page's hit (``evidence/``). When it
finds nothing, the page says 无截图."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from crawler.config import Config
from storage.models import EvidenceRecord, Hit, Page

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
