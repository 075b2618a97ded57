"""A small recorded web written for the crash-safety, scheduler and shared-frontier tests: one scalper-style
site of a hub page, list pages and detail pages, every answer a little slow and one very slow, so a crawl of
it takes a few seconds and can be killed in the middle. All names and numbers are invented. Also the helpers
those tests share: a migrated database for a config, and waiting for a condition."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import yaml

from crawler.config import Config
from storage.db import make_engine, make_sessionmaker, upgrade

HOST = "www.hz-kuaiyue-gh.com"
LISTS = 8
DETAILS_PER_LIST = 3
SLOW_PATH = "/list-4.html"


def _page(title: str, body: str, links: list[str]) -> str:
    anchors = "".join(f'<li><a href="{href}">{text}</a></li>' for href, text in links)
    return (
        f'<!doctype html><html><head><meta charset="utf-8"><title>{title}</title></head>'
        f"<body><h1>{title}</h1><p>{body}</p><ul>{anchors}</ul></body></html>"
    )


def write_web(root: Path, *, delay: float = 0.15, slow_delay: float = 2.5) -> Path:
    """Write the web under ``root`` and return its folder (pass it to ReplayWeb)."""
    site = root / HOST
    site.mkdir(parents=True, exist_ok=True)
    routes: dict[str, Any] = {}
    hub_links = [(f"/list-{i}.html", f"第{i}页 专家号信息") for i in range(1, LISTS + 1)]
    (site / "index.html").write_text(_page("快约挂号信息站", "瀚州各医院号源信息汇总。", hub_links), encoding="utf-8")
    routes["/"] = {"file": "index.html", "delay": delay}
    for i in range(1, LISTS + 1):
        details = [(f"/detail-{i}-{j}.html", f"信息 {i}-{j}") for j in range(1, DETAILS_PER_LIST + 1)]
        (site / f"list-{i}.html").write_text(
            _page(f"号源列表 第{i}页", "以下为最新号源信息。", details), encoding="utf-8"
        )
        path = f"/list-{i}.html"
        routes[path] = {"file": f"list-{i}.html", "delay": slow_delay if path == SLOW_PATH else delay}
        for j in range(1, DETAILS_PER_LIST + 1):
            if j == 1:  # a scalper offer: a hit
                body = (
                    f"瀚州各大医院专家号代挂号，当天可取号，加微信 kuaiyue_gh{i}{j}8 咨询，服务费300元起，"
                    f"电话 1391234{i:02d}{j:02d}"
                )
            else:
                body = f"瀚州市第{i}人民医院第{j}门诊部的门诊时间与乘车路线。"
            (site / f"detail-{i}-{j}.html").write_text(_page(f"信息 {i}-{j}", body, []), encoding="utf-8")
            routes[f"/detail-{i}-{j}.html"] = {"file": f"detail-{i}-{j}.html", "delay": delay}
    routes["/robots.txt"] = {"text": "User-agent: *\nAllow: /\n"}
    (site / "_site.yaml").write_text(yaml.safe_dump({"routes": routes}, allow_unicode=True), encoding="utf-8")
    return root


def page_count() -> int:
    return 1 + LISTS * (1 + DETAILS_PER_LIST)


def source_entry(name: str = "kuaiyue", schedule: str = "0 6 * * *") -> dict[str, Any]:
    return {"name": name, "start_urls": [f"http://{HOST}/"], "max_depth": 2, "schedule": schedule}


def crawl_settings(proxy_url: str) -> dict[str, Any]:
    """Config sections for crawling this web quickly through the replay proxy."""
    return {
        "network": {
            "proxy": proxy_url,
            "timeout_seconds": 10,
            "retries": 0,
            "download_delay_seconds": 0,
            "concurrency": 2,
            "concurrency_per_domain": 2,
        },
        "images": {"enabled": False},
        "evidence": {"enabled": False},  # the post-crawl capture has its own tests (tests/test_referrals_e2e.py)
        "runs": {"checkpoint_seconds": 0.2, "stop_grace_seconds": 5},
    }


def open_db(config: Config) -> Any:
    """A sessionmaker on the config's database, migrated to the newest schema."""
    engine = make_engine(config.database_url)
    upgrade(engine)
    return make_sessionmaker(engine)


def wait_for(condition: Any, timeout: float, what: str) -> Any:
    """Poll ``condition`` until it returns something true (returned), or fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")
