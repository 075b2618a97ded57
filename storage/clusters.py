"""Operator clusters: pages connected by the contacts they share (a phone, a WeChat or QQ ID …), across
domains, so that one operator's many sites, posts and re-registered accounts are seen as one case.

`rebuild_clusters` recomputes them from the ``contacts`` table and stores them (``clusters`` rows and
``pages.cluster_id``). The pages considered are the hits (not dismissed) and the pages sharing a contact with
one; two of them are connected when they show the same ``kind:value``; a connected component of at least two
pages is a cluster. Contacts that are official hotlines (``keywords/data/official_hotlines.txt`` when the file
exists: a hospital's switchboard quoted by scalpers and warnings alike) connect nothing.

Identity is kept stable between runs so analysts can refer to a cluster: its ``key`` is the smallest
``kind:value`` shared by two of its pages, except that a cluster keeps its existing key for as long as that
contact still links two of its pages (a growing cluster does not change key when a smaller contact joins). A
component without such a key reuses the row (and id) of the stored cluster it shares most pages with. Clusters
that no longer exist are deleted. Running it twice changes nothing the second time.

Cost: one query each for contacts, hits, current assignments and clusters, union-find in memory, and bulk
updates of the pages whose cluster changed -- fine for 100k pages. Like `storage.repository`, nothing here
commits: the caller owns the transaction.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from storage.models import Cluster, Contact, Hit, Page, utcnow

__all__ = [
    "OFFICIAL_HOTLINES_FILE",
    "ClusterDetail",
    "ClusterPage",
    "ClusterStats",
    "ClusterSummary",
    "cluster_detail",
    "list_clusters",
    "load_official_hotlines",
    "rebuild_clusters",
]

OFFICIAL_HOTLINES_FILE = Path(__file__).resolve().parent.parent / "keywords" / "data" / "official_hotlines.txt"
TOP_DOMAINS = 3
_CHUNK = 500
_NOT_ALNUM = re.compile(r"[^0-9a-z]+")


@dataclass(frozen=True, slots=True)
class ClusterStats:
    """What a rebuild did."""

    clusters: int = 0  # clusters stored after the rebuild
    pages: int = 0  # pages in them
    created: int = 0
    changed: int = 0  # existing clusters whose key, pages or counts changed
    deleted: int = 0
    pages_moved: int = 0  # pages whose cluster_id changed (joined, left or moved)


@dataclass(frozen=True, slots=True)
class ClusterSummary:
    id: int
    key: str
    page_count: int
    domain_count: int
    contact_count: int
    top_domains: tuple[str, ...]  # most pages first
    newest_hit: datetime | None  # when the newest hit among its pages was first found
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class ClusterPage:
    id: int
    url: str
    domain: str
    registrable_domain: str
    title: str
    contacts: dict[str, list[str]]
    hit_score: int | None = None
    hit_category: str | None = None
    hit_status: str | None = None
    hit_created: datetime | None = None


@dataclass(frozen=True, slots=True)
class ClusterDetail:
    summary: ClusterSummary
    shared: tuple[str, ...]  # "kind:value" contacts on two or more of its pages
    pages: tuple[ClusterPage, ...] = field(default_factory=tuple)


def _normalised(value: str) -> str:
    return _NOT_ALNUM.sub("", value.lower())


def load_official_hotlines(path: Path | None = None) -> frozenset[str]:
    """Official numbers that must not link pages: one per line, written any usual way (``#`` starts a comment;
    anything after a tab is a note), compared on letters and digits only. A missing file is an empty list."""
    path = path or OFFICIAL_HOTLINES_FILE
    if not path.is_file():
        return frozenset()
    values = set()
    for line in path.read_text(encoding="utf-8-sig").splitlines():
        entry = line.split("#", 1)[0].split("\t", 1)[0].strip()
        if entry and not entry.startswith("#") and _normalised(entry):
            values.add(_normalised(entry))
    return frozenset(values)


def _ignored(values: Iterable[str] | None) -> frozenset[str]:
    if values is None:
        return load_official_hotlines()
    return frozenset(v for v in (_normalised(x) for x in values) if v)


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[int, int] = {}

    def find(self, item: int) -> int:
        parent = self.parent.setdefault(item, item)
        root = item
        while parent != root:
            root, parent = parent, self.parent[parent]
        while item != root:  # path compression
            self.parent[item], item = root, self.parent[item]
        return root

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


@dataclass(slots=True)
class _Component:
    pages: list[int]
    linking: list[str]  # sorted "kind:value" on two or more pages
    domains: int
    contacts: int


def _components(
    rows: Iterable[tuple[int, str, str, str]], hit_pages: set[int], ignored: frozenset[str]
) -> list[_Component]:
    """Connected components (>= 2 pages) of hits and the pages sharing a contact with a hit."""
    pages_of: dict[str, set[int]] = defaultdict(set)
    contacts_of: dict[int, set[str]] = defaultdict(set)
    domain_of: dict[int, str] = {}
    for page_id, kind, value, domain in rows:
        if ignored and _normalised(value) in ignored:
            continue
        key = f"{kind}:{value}"
        pages_of[key].add(page_id)
        contacts_of[page_id].add(key)
        domain_of[page_id] = domain
    nodes = {p for p in hit_pages if p in contacts_of}
    for pages in pages_of.values():
        if len(pages) > 1 and not pages.isdisjoint(hit_pages):
            nodes.update(pages)
    forest = _UnionFind()
    linking_of: dict[str, list[int]] = {}
    for key, pages in pages_of.items():
        members = sorted(pages & nodes)
        if len(members) < 2:
            continue
        linking_of[key] = members
        for other in members[1:]:
            forest.union(members[0], other)
    grouped: dict[int, list[int]] = defaultdict(list)
    for page_id in nodes:
        grouped[forest.find(page_id)].append(page_id)
    links: dict[int, list[str]] = defaultdict(list)
    for key, members in linking_of.items():
        links[forest.find(members[0])].append(key)
    components = []
    for root, pages in sorted(grouped.items()):
        if len(pages) < 2:
            continue
        contacts = set().union(*(contacts_of[p] for p in pages))
        components.append(
            _Component(
                pages=sorted(pages),
                linking=sorted(links[root]),
                domains=len({domain_of[p] for p in pages}),
                contacts=len(contacts),
            )
        )
    return components


def rebuild_clusters(
    session: Session, *, ignored_values: Iterable[str] | None = None, now: datetime | None = None
) -> ClusterStats:
    """Recompute and store the operator clusters (see the module docstring). ``ignored_values`` replaces the
    official-hotline list (`load_official_hotlines`); ``now`` stamps changed clusters. Flushes, never commits.

    Page objects already loaded in ``session`` get their new ``cluster_id``; loaded `Cluster` objects of
    deleted clusters are stale afterwards."""
    now = now or utcnow()
    ignored = _ignored(ignored_values)
    session.flush()
    rows = session.execute(
        select(Contact.page_id, Contact.kind, Contact.value, Page.registrable_domain).join(
            Page, Page.id == Contact.page_id
        )
    ).all()
    hit_pages = set(session.scalars(select(Hit.page_id).where(Hit.status != "dismissed")))
    components = _components(rows, hit_pages, ignored)

    current: dict[int, int] = dict(
        session.execute(select(Page.id, Page.cluster_id).where(Page.cluster_id.is_not(None))).all()
    )
    existing = {c.key: c for c in session.scalars(select(Cluster))}
    by_id = {c.id: c for c in existing.values()}

    # 1. Components that still link an existing cluster's key keep that cluster (the smallest such key).
    claimed: dict[int, Cluster] = {}
    for index, component in enumerate(components):
        for key in component.linking:
            if key in existing:
                claimed[index] = existing[key]
                break
    # 2. Others reuse the unclaimed cluster they share most pages with, under a new key; or get a new row.
    taken = {c.id for c in claimed.values()}
    created = changed = 0
    for index, component in enumerate(components):
        if index in claimed:
            continue
        votes = Counter(current[p] for p in component.pages if p in current and current[p] not in taken)
        if votes:
            cluster_id = max(votes, key=lambda cid: (votes[cid], -cid))
            claimed[index] = by_id[cluster_id]
            taken.add(cluster_id)
        else:
            cluster = Cluster(key=component.linking[0], updated_at=now)
            session.add(cluster)
            claimed[index] = cluster
            created += 1

    members_before: dict[int, set[int]] = defaultdict(set)
    for page_id, cluster_id in current.items():
        members_before[cluster_id].add(page_id)
    for index, component in enumerate(components):
        cluster = claimed[index]
        key = cluster.key if cluster.key in component.linking else component.linking[0]
        values = (key, len(component.pages), component.domains, component.contacts)
        before = (cluster.key, cluster.page_count, cluster.domain_count, cluster.contact_count)
        same_pages = cluster.id is not None and members_before.get(cluster.id) == set(component.pages)
        if values != before or not same_pages:
            if cluster.id is not None:
                changed += 1
            cluster.key, cluster.page_count, cluster.domain_count, cluster.contact_count = values
            cluster.updated_at = now
    session.flush()

    wanted = {page_id: claimed[i].id for i, component in enumerate(components) for page_id in component.pages}
    moves = [{"id": p, "cluster_id": c} for p, c in wanted.items() if current.get(p) != c]
    moves += [{"id": p, "cluster_id": None} for p in current if p not in wanted]
    if moves:
        session.execute(update(Page), moves)
        loaded = {obj.id: obj for obj in session.identity_map.values() if isinstance(obj, Page)}
        for move in moves:
            if move["id"] in loaded:
                set_committed_value(loaded[move["id"]], "cluster_id", move["cluster_id"])

    kept = {c.id for c in claimed.values()}
    vanished = [cid for cid in by_id if cid not in kept]
    for start in range(0, len(vanished), _CHUNK):
        chunk = vanished[start : start + _CHUNK]
        session.execute(delete(Cluster).where(Cluster.id.in_(chunk)).execution_options(synchronize_session=False))
    for cid in vanished:
        session.expunge(by_id[cid])
    return ClusterStats(
        clusters=len(components),
        pages=len(wanted),
        created=created,
        changed=changed,
        deleted=len(vanished),
        pages_moved=len(moves),
    )


def _summaries(session: Session, clusters: Sequence[Cluster]) -> list[ClusterSummary]:
    ids = [c.id for c in clusters]
    domains: dict[int, Counter[str]] = defaultdict(Counter)
    newest: dict[int, datetime] = {}
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        for cluster_id, domain, count in session.execute(
            select(Page.cluster_id, Page.registrable_domain, func.count())
            .where(Page.cluster_id.in_(chunk))
            .group_by(Page.cluster_id, Page.registrable_domain)
        ):
            if cluster_id is not None:
                domains[cluster_id][domain] = count
        for cluster_id, created in session.execute(
            select(Page.cluster_id, func.max(Hit.created_at))
            .join(Hit, Hit.page_id == Page.id)
            .where(Page.cluster_id.in_(chunk))
            .group_by(Page.cluster_id)
        ):
            if cluster_id is not None and created is not None:
                newest[cluster_id] = created
    return [
        ClusterSummary(
            id=c.id,
            key=c.key,
            page_count=c.page_count,
            domain_count=c.domain_count,
            contact_count=c.contact_count,
            top_domains=tuple(
                d for d, _ in sorted(domains[c.id].items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_DOMAINS]
            ),
            newest_hit=newest.get(c.id),
            updated_at=c.updated_at,
        )
        for c in clusters
    ]


def list_clusters(session: Session, *, min_pages: int = 2, min_domains: int = 1) -> list[ClusterSummary]:
    """Stored clusters with at least ``min_pages`` pages on at least ``min_domains`` registrable domains,
    largest first (pages, then domains), then by key."""
    clusters = session.scalars(
        select(Cluster)
        .where(Cluster.page_count >= min_pages, Cluster.domain_count >= min_domains)
        .order_by(Cluster.page_count.desc(), Cluster.domain_count.desc(), Cluster.key)
    ).all()
    return _summaries(session, clusters)


def cluster_detail(session: Session, key: str, *, ignored_values: Iterable[str] | None = None) -> ClusterDetail | None:
    """One cluster by key: its summary, the contacts linking its pages (official hotlines left out, as in
    `rebuild_clusters`), and its pages (hits first, by score)."""
    cluster = session.scalar(select(Cluster).where(Cluster.key == key))
    if cluster is None:
        return None
    ignored = _ignored(ignored_values)
    pages = session.scalars(
        select(Page).where(Page.cluster_id == cluster.id).options(selectinload(Page.contacts), selectinload(Page.hit))
    ).all()
    seen: Counter[str] = Counter(
        f"{c.kind}:{c.value}" for page in pages for c in page.contacts if _normalised(c.value) not in ignored
    )
    rows = []
    for page in pages:
        contacts: dict[str, list[str]] = defaultdict(list)
        for contact in sorted(page.contacts, key=lambda c: (c.kind, c.value)):
            contacts[contact.kind].append(contact.value)
        hit = page.hit
        rows.append(
            ClusterPage(
                id=page.id,
                url=page.final_url,
                domain=page.domain,
                registrable_domain=page.registrable_domain,
                title=page.title,
                contacts=dict(contacts),
                hit_score=hit.score if hit else None,
                hit_category=hit.category if hit else None,
                hit_status=hit.status if hit else None,
                hit_created=hit.created_at if hit else None,
            )
        )
    rows.sort(key=lambda r: (r.hit_score is None, -(r.hit_score or 0), r.registrable_domain, r.id))
    return ClusterDetail(
        summary=_summaries(session, [cluster])[0],
        shared=tuple(sorted(k for k, n in seen.items() if n > 1)),
        pages=tuple(rows),
    )
