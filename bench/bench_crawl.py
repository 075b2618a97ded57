"""Crawl benchmark: pages per second of touthunt's full pipeline (extract, normalise, score, dedupe, store in
SQLite) against plain Scrapy fetching the same pages with no pipelines, both through the replay web proxy,
in the same run. Prints both rates and their ratio; asserts nothing.

    .venv/bin/python bench/bench_crawl.py [--pages 600] [--repeat 2]
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import yaml

from crawler.config import parse_config
from crawler.runner import run_source
from replayweb import ReplayWeb
from storage.db import make_engine, make_sessionmaker, upgrade

HOSTS = ("www.bench-guahao.cn", "bbs.bench-luntan.cn", "news.bench-ribao.cn", "www.bench-yiyuan.org.cn")
PHRASES = (
    "北京协和医院专家号代挂，当天可挂，服务费300元，挂号费另付，微信：bench_gh{n}",
    "本院提醒广大患者：请通过官方渠道预约挂号，谨防号贩子，挂号费以医院公示为准。",
    "瀚州市开展打击号贩子专项整治行动，依法查处代挂号、倒号等违法行为。",
    "周末家常菜做法：番茄炒蛋需要两个番茄、三个鸡蛋和少许葱花。",
    "陪诊师可以安排知名专家号，私聊加v，电话 139{n:08d}",
)


def build_web(root: Path, pages: int) -> list[str]:
    """A synthetic web of ``pages`` pages spread over HOSTS, each linking to a few others."""
    rng = random.Random(7)
    per_host = pages // len(HOSTS)
    for host in HOSTS:
        folder = root / host
        folder.mkdir(parents=True)
        routes = {}
        for n in range(per_host):
            links = "".join(
                f'<a href="http://{rng.choice(HOSTS)}/p{rng.randrange(per_host)}.html">链接{k}</a>' for k in range(6)
            )
            links += f'<a href="/p{(n + 1) % per_host}.html">下一页</a>'
            body = "".join(f"<p>{rng.choice(PHRASES).format(n=n)}</p>" for _ in range(30))
            (folder / f"p{n}.html").write_text(
                f"<html><head><title>{host} 第{n}页</title></head><body>{body}{links}</body></html>", encoding="utf-8"
            )
            routes[f"/p{n}.html"] = {"file": f"p{n}.html"}
        routes["/"] = {"file": "p0.html"}
        (folder / "_site.yaml").write_text(yaml.safe_dump({"routes": routes}), encoding="utf-8")
    return [f"http://{host}/" for host in HOSTS]


PLAIN_SPIDER = textwrap.dedent(
    """
    import sys, scrapy
    from scrapy.crawler import CrawlerProcess
    proxy, starts, hosts = sys.argv[1], sys.argv[2].split(","), sys.argv[3].split(",")

    class Plain(scrapy.Spider):
        name = "plain"
        allowed_domains = hosts
        async def start(self):
            for url in starts:
                yield scrapy.Request(url, meta={"proxy": proxy})
        def parse(self, response):
            self.crawler.stats.inc_value("plain/pages")
            for href in response.css("a::attr(href)").getall():
                yield response.follow(href, meta={"proxy": proxy})

    process = CrawlerProcess({"LOG_LEVEL": "ERROR", "ROBOTSTXT_OBEY": True, "CONCURRENT_REQUESTS": 8,
                              "CONCURRENT_REQUESTS_PER_DOMAIN": 2, "DOWNLOAD_DELAY": 0, "COOKIES_ENABLED": False,
                              "TELNETCONSOLE_ENABLED": False, "DEPTH_LIMIT": 0})
    crawler = process.create_crawler(Plain)
    process.crawl(crawler)
    process.start()
    print(crawler.stats.get_value("plain/pages"))
    """
)


def plain_scrapy(proxy: str, starts: list[str]) -> tuple[int, float]:
    began = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", PLAIN_SPIDER, proxy, ",".join(starts), ",".join(HOSTS)],
        check=True,
        capture_output=True,
        text=True,
    )
    return int(out.stdout.strip().splitlines()[-1]), time.perf_counter() - began


def full_pipeline(proxy: str, starts: list[str], work: Path, attempt: int) -> tuple[int, float]:
    config = parse_config(
        {
            "database": {"url": f"sqlite:///{work}/bench-{attempt}.sqlite"},
            "paths": {"var_dir": str(work / f"var-{attempt}")},
            "network": {"proxy": proxy, "download_delay_seconds": 0, "retries": 0, "concurrency": 8},
            "sources": [{"name": "bench", "start_urls": starts, "max_depth": 20, "allowed_domains": list(HOSTS)}],
        }
    )
    engine = make_engine(config.database_url)
    upgrade(engine)
    began = time.perf_counter()
    summary = run_source(config, config.sources[0], make_sessionmaker(engine), show_progress=False)
    elapsed = time.perf_counter() - began
    engine.dispose()
    return summary.pages_stored, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=600)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        starts = build_web(work / "web", args.pages)
        with ReplayWeb(work / "web") as web:
            rows = []
            for attempt in range(args.repeat):
                base_pages, base_s = plain_scrapy(web.proxy_url, starts)
                full_pages, full_s = full_pipeline(web.proxy_url, starts, work, attempt)
                rows.append((base_pages / base_s, full_pages / full_s))
                print(
                    f"run {attempt + 1}: plain scrapy {base_pages} pages in {base_s:.2f} s "
                    f"({base_pages / base_s:.1f}/s); "
                    f"touthunt pipeline {full_pages} pages in {full_s:.2f} s ({full_pages / full_s:.1f}/s)"
                )
    base = max(r[0] for r in rows)
    full = max(r[1] for r in rows)
    print(
        f"best of {args.repeat}: plain scrapy {base:.1f} pages/s, touthunt {full:.1f} pages/s, ratio {full / base:.2f}"
    )
    print("(both include process start-up; touthunt also loads the lexicon and jieba, and migrates SQLite)")


if __name__ == "__main__":
    main()
