"""replayweb: a recorded web of realistic Chinese pages served by a loopback HTTP proxy.

The package owns the replay web used by the test suite and by ``touthunt demo``: the recorded
hosts and pages under ``replayweb/web/`` (scalper, medical-tout and illegal-ad sites, hubs that
link to them, hard negatives, hostile routes), the server that replays them
(:class:`ReplayWeb`), the demo crawl sources (``web/demo_sources.yaml``) and the ground truth a
correct crawl and scorer should reproduce (:func:`load_ground_truth`). See ``README.md`` here.
"""

from __future__ import annotations

from pathlib import Path

from replayweb.server import ReplayWeb
from replayweb.site import DEFAULT_WEB_DIR, Route, Site, Web, WebError, load_web
from replayweb.truth import CATEGORIES, FAILURES, LABELS, Contacts, TruthEntry, load_ground_truth

__all__ = [
    "CATEGORIES",
    "DEFAULT_WEB_DIR",
    "DEMO_SOURCES",
    "FAILURES",
    "LABELS",
    "Contacts",
    "ReplayWeb",
    "Route",
    "Site",
    "TruthEntry",
    "Web",
    "WebError",
    "demo_sources_path",
    "load_ground_truth",
    "load_web",
]

DEMO_SOURCES = DEFAULT_WEB_DIR / "demo_sources.yaml"


def demo_sources_path(web_dir: Path | str | None = None) -> Path:
    """Path of ``demo_sources.yaml`` (the sources ``touthunt demo`` crawls) in ``web_dir`` or the packaged web."""
    return (Path(web_dir) if web_dir is not None else DEFAULT_WEB_DIR) / "demo_sources.yaml"
