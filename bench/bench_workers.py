"""Shared-frontier benchmark: the same crawl of the replay web by one worker and by two (the owner alone, then
the owner and one ``touthunt worker`` process), both on a Redis frontier, in the same run. Prints pages per
second of each, the speed-up, the duplicate fetches (URLs the replay web served more than once in a crawl;
must be 0) and whether both crawls stored the same pages and hits. Asserts nothing.

The web is bench_crawl.py's synthetic one; ``--delay`` is each answer's latency in seconds (a real crawl waits
on the network far more than on the CPU). Each crawl gets its own SQLite database and a fresh Redis.

    .venv/bin/python bench/bench_workers.py [--pages 2000] [--delay 0.1] [--repeat 1]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_crawl import HOSTS, build_web
from sqlalchemy import select

from crawler.config import parse_config
from crawler.runner import run_source
from crawler.worker import run_worker
from replayweb import ReplayWeb
from storage.db import make_engine, make_sessionmaker, upgrade
from storage.models import Hit, Page
from tests.servers import RedisServer


def add_latency(root: Path, delay: float) -> None:
    for site in root.glob("*/_site.yaml"):
        data = yaml.safe_load(site.read_text(encoding="utf-8"))
        for route in data["routes"].values():
            route["delay"] = delay
        site.write_text(yaml.safe_dump(data), encoding="utf-8")


def crawl(web: ReplayWeb, starts: list[str], work: Path, workers: int, tag: str) -> dict[str, object]:
    redis = RedisServer(appendonly=True).start()
    try:
        config = parse_config(
            {
                "database": {"url": f"sqlite:///{work}/{tag}.sqlite"},
                "paths": {"var_dir": str(work / f"var-{tag}")},
                "network": {"proxy": web.proxy_url, "download_delay_seconds": 0, "retries": 0, "concurrency": 8},
                "sources": [{"name": "bench", "start_urls": starts, "max_depth": 20, "allowed_domains": list(HOSTS)}],
                "images": {"enabled": False},
                "evidence": {"enabled": False},
                "frontier": {"url": redis.url, "heartbeat_seconds": 1},
            }
        )
        engine = make_engine(config.database_url)
        upgrade(engine)
        sessions = make_sessionmaker(engine)
        stop = threading.Event()
        helpers = [
            threading.Thread(
                target=run_worker, args=(config,), kwargs={"stop": stop, "max_runs": 1, "poll_seconds": 0.1}
            )
            for _ in range(workers - 1)
        ]
        for helper in helpers:
            helper.start()
        web.clear_log()
        began = time.perf_counter()
        summary = run_source(config, config.sources[0], sessions, show_progress=False)
        elapsed = time.perf_counter() - began
        for helper in helpers:
            helper.join(120)
        stop.set()
        fetches = Counter(url for _method, url, _status in web.requests_log if not url.endswith("/robots.txt"))
        with sessions() as session:
            pages = set(session.scalars(select(Page.canonical_url)))
            hits = set(session.scalars(select(Page.canonical_url).join(Hit, Hit.page_id == Page.id)))
        engine.dispose()
        return {
            "status": summary.status,
            "pages": pages,
            "hits": hits,
            "seconds": elapsed,
            "rate": len(pages) / elapsed,
            "duplicates": sum(n - 1 for n in fetches.values() if n > 1),
            "failures": summary.error_reasons,
        }
    finally:
        redis.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--delay", type=float, default=0.1)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        starts = build_web(work / "web", args.pages)
        add_latency(work / "web", args.delay)
        with ReplayWeb(work / "web") as web:
            best: dict[int, dict[str, object]] = {}
            for attempt in range(args.repeat):
                for workers in (1, 2):
                    result = crawl(web, starts, work, workers, f"w{workers}-{attempt}")
                    print(
                        f"run {attempt + 1}, {workers} worker(s): {result['status']}, {len(result['pages'])} pages "
                        f"in {result['seconds']:.1f} s ({result['rate']:.1f} pages/s), "
                        f"{len(result['hits'])} hits, {result['duplicates']} duplicate fetches, "
                        f"failed URLs {result['failures'] or 'none'}"
                    )
                    if workers not in best or result["rate"] > best[workers]["rate"]:  # type: ignore[operator]
                        best[workers] = result
    one, two = best[1], best[2]
    print(
        f"best of {args.repeat}: one worker {one['rate']:.1f} pages/s, two workers {two['rate']:.1f} pages/s, "
        f"speed-up {two['rate'] / one['rate']:.2f}x; "  # type: ignore[operator]
        f"duplicate fetches {one['duplicates']} / {two['duplicates']}; "
        f"same pages: {one['pages'] == two['pages']}, same hits: {one['hits'] == two['hits']}"
    )
    for url in sorted(one["pages"] ^ two["pages"]):  # type: ignore[operator]
        print(f"  stored by one crawl only: {url}")
    print(f"(latency {args.delay} s per answer; 2 CPU cores shared by both workers, Redis and the replay web)")


if __name__ == "__main__":
    main()
