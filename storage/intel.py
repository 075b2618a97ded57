"""Intelligence the database already holds for scoring: the known-bad sites and pages of confirmed hits.

`known_bad_from_db` reads the hits analysts confirmed and returns them as a `keywords.links.KnownBad`, to be
merged (``|``) with the analyst's list before a crawl. A confirmed hit on a stand-alone site makes its whole
registrable domain known-bad; on a platform (`referrals.platforms`: weibo, tieba, a shop …) only the page's
own URL is, since the platform is not the offender.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from keywords.links import KnownBad, normalise_host, url_key
from referrals.platforms import is_platform, load_platforms
from storage.models import Hit, Page

__all__ = ["known_bad_from_db"]


def known_bad_from_db(session: Session, *, platforms: Iterable[str] | None = None) -> KnownBad:
    """Registrable domains of stand-alone sites with confirmed hits, and the URLs (requested and final) of
    confirmed hits on platform hosts. ``platforms`` defaults to the bundled list (`load_platforms`); pass
    ``load_platforms(config.referrals.platform_domains)`` to include the configured ones. One query."""
    platform_hosts = load_platforms() if platforms is None else frozenset(h.lower() for h in platforms)
    rows = session.execute(
        select(Page.domain, Page.registrable_domain, Page.url, Page.final_url)
        .join(Hit, Hit.page_id == Page.id)
        .where(Hit.status == "confirmed")
    )
    domains: set[str] = set()
    urls: set[str] = set()
    for host, registrable, url, final_url in rows:
        if is_platform(host, platform_hosts):
            urls.update(key for key in (url_key(url), url_key(final_url)) if key)
        elif registrable:
            domains.add(normalise_host(registrable))
    return KnownBad(domains=frozenset(domains), urls=frozenset(urls))


def suggestion_texts(session: Session, *, benign_limit: int = 2000) -> tuple[list[str], list[str]]:
    """Texts to learn new lexicon terms from: pages of confirmed hits, and benign pages (dismissed hits first,
    then the most recent pages that never became hits), at most ``benign_limit`` of those."""
    with_hit = select(Page.text).join(Hit, Hit.page_id == Page.id)
    confirmed = list(session.scalars(with_hit.where(Hit.status == "confirmed")))
    dismissed = list(session.scalars(with_hit.where(Hit.status == "dismissed").limit(benign_limit)))
    never_hit = list(
        session.scalars(
            select(Page.text)
            .outerjoin(Hit, Hit.page_id == Page.id)
            .where(Hit.id.is_(None))
            .order_by(Page.last_seen.desc())
            .limit(max(0, benign_limit - len(dismissed)))
        )
    )
    return confirmed, dismissed + never_hit
