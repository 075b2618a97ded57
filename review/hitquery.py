"""The hit list as the web app shows it: filters read from the query string, new hits first, hits of one
operator cluster kept together (ordered by the cluster's best member), sorting and pagination, in one query
with window functions plus one count."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import Select, case, exists, func, or_, select
from sqlalchemy.orm import Session, joinedload, selectinload

from crawler.hitlist import day_bounds
from keywords.result import CATEGORIES
from storage.models import HIT_STATUSES, Contact, Hit, Page, Source

SORTS = {"new": "新命中优先", "score": "评分从高到低", "latest": "最新发现", "domain": "按域名"}
MAX_FILTER_TEXT = 200


def _day(value: str) -> date | None:
    try:
        return date.fromisoformat(value.strip()) if value.strip() else None
    except ValueError:
        return None


def _int(value: str, low: int, high: int) -> int | None:
    try:
        return max(low, min(high, int(value.strip())))
    except ValueError:
        return None


def _like(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


@dataclass(frozen=True)
class HitFilters:
    """What the analyst asked for; every field is validated and bounded, unknown values are dropped."""

    date_from: date | None = None  # first found, China time, inclusive
    date_to: date | None = None  # inclusive
    source: str = ""
    category: str = ""
    status: str = ""
    min_score: int | None = None
    max_score: int | None = None
    domain: str = ""
    contact: str = ""
    sort: str = "new"
    page: int = 1
    problems: tuple[str, ...] = field(default=(), compare=False)

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> HitFilters:
        def text(name: str) -> str:
            return (query.get(name) or "").strip()[:MAX_FILTER_TEXT]

        problems = []
        date_from, date_to = _day(text("from")), _day(text("to"))
        if text("from") and date_from is None:
            problems.append("起始日期格式应为 YYYY-MM-DD")
        if text("to") and date_to is None:
            problems.append("结束日期格式应为 YYYY-MM-DD")
        category = text("category") if text("category") in CATEGORIES else ""
        status = text("status") if text("status") in HIT_STATUSES else ""
        sort = text("sort") if text("sort") in SORTS else "new"
        return cls(
            date_from=date_from,
            date_to=date_to,
            source=text("source"),
            category=category,
            status=status,
            min_score=_int(text("min_score"), 0, 100) if text("min_score") else None,
            max_score=_int(text("max_score"), 0, 100) if text("max_score") else None,
            domain=text("domain").lower(),
            contact=text("contact"),
            sort=sort,
            page=_int(text("page"), 1, 100_000) or 1,
            problems=tuple(problems),
        )

    def query_string(self, **changes: Any) -> str:
        """This filter as a query string, with ``changes`` applied (``page=2``)."""
        values = replace(self, **changes) if changes else self
        pairs = {
            "from": values.date_from.isoformat() if values.date_from else "",
            "to": values.date_to.isoformat() if values.date_to else "",
            "source": values.source,
            "category": values.category,
            "status": values.status,
            "min_score": "" if values.min_score is None else str(values.min_score),
            "max_score": "" if values.max_score is None else str(values.max_score),
            "domain": values.domain,
            "contact": values.contact,
            "sort": "" if values.sort == "new" else values.sort,
            "page": "" if values.page == 1 else str(values.page),
        }
        return urlencode({k: v for k, v in pairs.items() if v})

    def where(self, stmt: Select[Any]) -> Select[Any]:
        if self.date_from:
            stmt = stmt.where(Hit.created_at >= day_bounds(self.date_from)[0])
        if self.date_to:
            stmt = stmt.where(Hit.created_at < day_bounds(self.date_to)[1])
        if self.source:
            stmt = stmt.where(Page.source_id.in_(select(Source.id).where(Source.name == self.source)))
        if self.category:
            stmt = stmt.where(Hit.category == self.category)
        if self.status:
            stmt = stmt.where(Hit.status == self.status)
        if self.min_score is not None:
            stmt = stmt.where(Hit.score >= self.min_score)
        if self.max_score is not None:
            stmt = stmt.where(Hit.score <= self.max_score)
        if self.domain:
            pattern = _like(self.domain)
            stmt = stmt.where(or_(Page.domain.like(pattern, escape="\\"), Page.final_url.like(pattern, escape="\\")))
        if self.contact:
            digits_or_text = _like(self.contact.replace(" ", "").replace("-", ""))
            stmt = stmt.where(
                exists().where(Contact.page_id == Page.id, Contact.value.like(digits_or_text, escape="\\"))
            )
        return stmt


@dataclass(frozen=True)
class HitPage:
    hits: Sequence[Hit]
    total: int
    page: int
    pages: int
    page_size: int


def list_hits(session: Session, filters: HitFilters, *, page_size: int) -> HitPage:
    """One page of hits matching ``filters``; hits of a cluster stay together, groups ordered by the sort."""
    base = filters.where(select(Hit.id).join(Page, Hit.page_id == Page.id))
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    pages = max(1, math.ceil(total / page_size))
    page = min(filters.page, pages)

    group = case((Page.cluster_id.is_not(None), Page.cluster_id), else_=-Hit.id)
    is_new = case((Hit.status == "new", 0), else_=1)
    window = {"partition_by": group}
    ranked = filters.where(
        select(
            Hit.id.label("hit_id"),
            group.label("grp"),
            is_new.label("is_new"),
            Hit.score.label("score"),
            Hit.created_at.label("created_at"),
            Page.registrable_domain.label("domain"),
            func.min(is_new).over(**window).label("g_new"),
            func.max(Hit.score).over(**window).label("g_score"),
            func.max(Hit.created_at).over(**window).label("g_latest"),
            func.min(Page.registrable_domain).over(**window).label("g_domain"),
        ).join(Page, Hit.page_id == Page.id)
    ).subquery()
    r = ranked.c
    orders = {
        "new": (r.g_new, r.g_latest.desc(), r.g_score.desc(), r.grp, r.is_new, r.created_at.desc(), r.score.desc()),
        "score": (r.g_score.desc(), r.g_new, r.grp, r.score.desc(), r.created_at.desc()),
        "latest": (r.g_latest.desc(), r.grp, r.created_at.desc()),
        "domain": (r.g_domain, r.grp, r.domain, r.score.desc()),
    }
    ids = list(
        session.scalars(
            select(r.hit_id)
            .order_by(*orders[filters.sort], r.hit_id.desc())
            .limit(page_size)
            .offset((page - 1) * page_size)
        )
    )
    loaded = {
        hit.id: hit
        for hit in session.scalars(
            select(Hit)
            .where(Hit.id.in_(ids))
            .options(
                joinedload(Hit.page).options(
                    joinedload(Page.source), joinedload(Page.cluster), selectinload(Page.contacts)
                )
            )
        ).unique()
    }
    return HitPage([loaded[i] for i in ids if i in loaded], total, page, pages, page_size)


@dataclass(frozen=True)
class HitGroup:
    """Consecutive hits of the list that belong to one operator cluster (or a single hit without one)."""

    cluster: Any  # storage.models.Cluster | None
    hits: list[Hit]


def grouped(hits: Sequence[Hit]) -> list[HitGroup]:
    groups: list[HitGroup] = []
    for hit in hits:
        cluster = hit.page.cluster
        if cluster is not None and groups and groups[-1].cluster is not None and groups[-1].cluster.id == cluster.id:
            groups[-1].hits.append(hit)
        else:
            groups.append(HitGroup(cluster, [hit]))
    return groups
