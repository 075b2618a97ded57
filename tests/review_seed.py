"""Test data for the web app: pages scored by the production scorer and stored through the repository
functions, as a crawl stores them; two pages share a phone (one operator cluster), one is hostile (markup and
script in its title, text and URL), one run of a second source failed."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from crawler.config import Config
from crawler.domains import registrable_domain
from crawler.scoring import build_scorer, inputs_from_config
from review.auth import add_user
from storage import repository
from storage.clusters import rebuild_clusters
from storage.models import utcnow

# The accounts `seed` adds (name, password).
ANALYST = ("analyst1", "correct horse battery")
SUPERVISOR = ("boss", "supervisor secret 1")

XSS_TITLE = '<script>window.__pwned=1</script>"\'><img src=x onerror="window.__pwned=2">代挂号'
XSS_TEXT = (
    "代挂号 黄牛号 专家号加价 加V：13987654321 <script>window.__pwned=3</script>"
    '<img src=x onerror="window.__pwned=4"> <a href="javascript:window.__pwned=5">点我</a>'
)
XSS_URL = "javascript:window.__pwned=6//http://evil.example/"
XSS_CONTACT = '"><script>window.__pwned=7</script><b>'


PAGES = [
    # (key, url, title, text, hours ago)
    (
        "scalper",
        "http://guahao-hz.example.cn/zhuanjia",
        "瀚州第一医院专家号代挂号",
        "瀚州第一医院专家号代挂号，当天可约，包成功，加微信 hz-guahao88 或电话 13912345678 咨询，不成功全额退款",
        2,
    ),
    (
        "scalper2",
        "http://hz-yuyue.example.net/",
        "瀚州名医预约服务",
        "瀚州名医号源，专家号代挂号，黄牛号加价可约，电话 13912345678 微信同号",
        5,
    ),
    (
        "tout",
        "http://laozhongyi.example.com/mifang",
        "祖传老中医",
        "看病难？我带你去找老中医，祖传秘方根治糖尿病，包治好，联系 13811112222",
        30,
    ),
    ("hostile", "http://xss.example.org/p?q=%3Cscript%3E", XSS_TITLE, XSS_TEXT, 1),
]


@dataclass
class Seeded:
    hits: dict[str, int]  # key -> hit id


def seed(config: Config, sessions: Any, *, users: bool = True) -> Seeded:
    scorer = build_scorer(inputs_from_config(config, with_database=False))
    now = utcnow()
    hits: dict[str, int] = {}
    with sessions.begin() as session:
        source = repository.ensure_source(session, "hub-hz", "site")
        run = repository.start_run(session, source)
        broken = repository.ensure_source(session, "forum-hz", "site")
        failed = repository.start_run(session, broken)
        for key, url, title, text, hours in PAGES:
            seen = now - timedelta(hours=hours)
            host = url.split("/")[2].split("?")[0]
            record = repository.PageRecord(
                canonical_url=url,
                url=url,
                final_url=XSS_URL if key == "hostile" else url,
                domain=host,
                registrable_domain=registrable_domain(host),
                title=title,
                text=text,
                content_hash=key,
                http_status=200,
                encoding="utf-8",
            )
            page, _created = repository.upsert_page(session, record, source_id=source.id, run_id=run.id, seen_at=seen)
            session.flush()
            result = scorer.score(text, url=url).to_dict()
            score = repository.ScoreRecord(
                score=result["score"],
                hit=result["hit"],
                category=result["category"],
                reasons=result["reasons"],
                contacts=result["contacts"],
                lexicon_version=result["lexicon_version"],
                identifiers=result["identifiers"],
            )
            if key == "hostile":  # a contact no extractor would produce, as if a parser were fooled
                score = replace(score, contacts={**score.contacts, "wechat": [XSS_CONTACT]})
            hit, _ = repository.save_score(session, page, score, at=seen)
            assert hit is not None, key
            session.flush()
            hits[key] = hit.id
        repository.finish_run(session, run.id, status="finished", health=repository.RunHealth(items=4, requests=5))
        repository.finish_run(
            session, failed.id, status="failed", health=repository.RunHealth(source_state="captcha", blocked=3)
        )
        rebuild_clusters(session, now=now)
        if users:
            add_user(session, ANALYST[0], "analyst", ANALYST[1])
            add_user(session, SUPERVISOR[0], "supervisor", SUPERVISOR[1])
    return Seeded(hits)


def login(client: Any, name: str, password: str) -> Any:
    """Log in through the form (with its CSRF token), as a browser would; the answer is not followed."""
    page = client.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    return client.post("/login", data={"name": name, "password": password, "csrf": token}, follow_redirects=False)


def when(hours: float) -> datetime:
    return utcnow() - timedelta(hours=hours)
