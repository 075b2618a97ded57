"""Where the hit detail page gets a page's screenshot. Evidence capture is another part of the system; the app
takes a `ScreenshotFinder` (a callable: session and page -> path of a PNG or JPEG file, or None) and serves
the file from its own origin as an image. Without a finder, or when it finds nothing, the page says 无截图."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy.orm import Session

from storage.models import Page

ScreenshotFinder = Callable[[Session, Page], Path | None]

IMAGE_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}
MAX_SCREENSHOT_BYTES = 20 * 1024 * 1024


def no_screenshots(session: Session, page: Page) -> Path | None:
    """The finder used until evidence capture is wired in: no page has a screenshot."""
    return None


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
