"""Which hosts are platforms (content is referred to cac) and which are stand-alone sites (referred to miit):
the bundled list in ``referrals/data/platforms.txt`` plus ``referrals.platform_domains`` from config."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

_BUNDLED = Path(__file__).with_name("data") / "platforms.txt"


def load_platforms(extra: Iterable[str] = ()) -> frozenset[str]:
    hosts = set()
    for line in _BUNDLED.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            hosts.add(line.lower())
    hosts.update(h.strip().lower().lstrip(".") for h in extra if h.strip())
    return frozenset(hosts)


def is_platform(host: str, platforms: frozenset[str]) -> bool:
    host = host.lower().rstrip(".")
    return any(host == p or host.endswith("." + p) for p in platforms)


def authority_for(host: str, platforms: frozenset[str]) -> str:
    """cac for platforms, miit for stand-alone sites: the host half of ``referrals.routing``'s rule (which also
    looks at the category and the contacts)."""
    return "cac" if is_platform(host, platforms) else "miit"
