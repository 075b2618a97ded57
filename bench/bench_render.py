"""Rendering benchmark and memory ceiling: crawl a generated web of script-built pages twice through the
replay web proxy, in the same run: once statically (``render: never``) and once with every page rendered in
Chromium (``render: always``, contexts recycled every ``--pages-per-context`` pages). While each crawl runs,
its child process is sampled: the crawler's own RSS, and the browser process tree's summed RSS and PSS
(shared pages divided among Chromium's processes: what the tree really occupies).

Prints pages/s and peak memory of both crawls, their ratios, and whether the browser tree stayed under the
ceiling (``--ceiling-mb``, default ``browser.memory_ceiling_mb``); exits 1 when it did not.

    .venv/bin/python bench/bench_render.py [--pages 200] [--pages-per-context 50] [--concurrency 4]
    .venv/bin/python bench/bench_render.py --pages 1000      # the full benchmark (5-7 minutes on 2 busy cores)
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import psutil
import yaml

from crawler.config import Config, parse_config
from crawler.runner import RunSummary, run_source
from replayweb import ReplayWeb
from storage.db import make_engine, make_sessionmaker, upgrade
from storage.models import CrawlRun

HOST = "www.bench-xuanran.cn"
PER_LIST = 100
SAMPLE_SECONDS = 0.2
MIB = 1024 * 1024


def build_web(root: Path, pages: int) -> str:
    """``/`` links to list pages of PER_LIST links each; every page writes its contact with a script and
    carries an image the browser must not load."""
    folder = root / HOST
    folder.mkdir(parents=True)
    routes: dict[str, dict[str, object]] = {"/img/qr.png": {"generate": "binary"}}
    lists = (pages + PER_LIST - 1) // PER_LIST
    index = "".join(f'<a href="/list{k}.html">列表{k}</a> ' for k in range(lists))
    (folder / "index.html").write_text(f"<html><body><h1>号源列表</h1>{index}</body></html>", encoding="utf-8")
    routes["/"] = {"file": "index.html"}
    for k in range(lists):
        links = "".join(
            f'<a href="/p{n}.html">第{n}条</a> ' for n in range(k * PER_LIST, min(pages, (k + 1) * PER_LIST))
        )
        (folder / f"list{k}.html").write_text(f"<html><body>{links}</body></html>", encoding="utf-8")
        routes[f"/list{k}.html"] = {"file": f"list{k}.html"}
    for n in range(pages):
        body = (
            f"<html><head><title>专家号 第{n}号</title></head><body>"
            "<p>瀚州各大三甲医院专家门诊信息，每日更新出诊时间，欢迎咨询。本页内容由脚本加载。</p>"
            f'<div id="lianxi"></div><img src="/img/qr.png" alt="二维码"><script>'
            f"document.getElementById('lianxi').textContent = '代挂号 加微信 bench_{n:05d} 电话 ' + '139' + "
            f"'{n:08d}';</script></body></html>"
        )
        (folder / f"p{n}.html").write_text(body, encoding="utf-8")
        routes[f"/p{n}.html"] = {"file": f"p{n}.html"}
    (folder / "_site.yaml").write_text(yaml.safe_dump({"routes": routes}), encoding="utf-8")
    return f"http://{HOST}/"


@dataclass
class Measured:
    seconds: float
    pages: int
    crawler_peak_rss: int = 0
    browser_peak_rss: int = 0
    browser_peak_pss: int = 0
    summary: RunSummary | None = None

    @property
    def rate(self) -> float:
        return self.pages / self.seconds if self.seconds else 0.0


def _sample(stop: threading.Event, out: Measured) -> None:
    me = psutil.Process()
    while not stop.is_set():
        for child in me.children():
            try:
                if "crawler.run" not in " ".join(child.cmdline()):
                    continue
                out.crawler_peak_rss = max(out.crawler_peak_rss, child.memory_info().rss)
                rss = pss = 0
                for process in child.children(recursive=True):
                    info = process.memory_full_info()
                    rss += info.rss
                    pss += getattr(info, "pss", info.rss)
                out.browser_peak_rss = max(out.browser_peak_rss, rss)
                out.browser_peak_pss = max(out.browser_peak_pss, pss)
            except psutil.Error:
                continue
        stop.wait(SAMPLE_SECONDS)


def crawl(config: Config, sessions: object, *, render: str) -> Measured:
    source = next(s for s in config.sources if s.render == render)
    measured = Measured(seconds=0.0, pages=0)
    stop = threading.Event()
    sampler = threading.Thread(target=_sample, args=(stop, measured), daemon=True)
    sampler.start()
    started = time.perf_counter()
    summary = run_source(config, source, sessions, show_progress=False)  # type: ignore[arg-type]
    measured.seconds = time.perf_counter() - started
    stop.set()
    sampler.join()
    measured.summary = summary
    with sessions() as session:  # type: ignore[operator]
        run = session.get(CrawlRun, summary.run_id)
        health = dict(run.health) if run else {}
    measured.pages = int(health.get("rendered_pages", 0)) if render == "always" else summary.pages_fetched
    return measured


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=200, help="script-built pages to render (full run: 1000)")
    parser.add_argument("--pages-per-context", type=int, default=50, help="browser.pages_per_context")
    parser.add_argument("--concurrency", type=int, default=4, help="network.concurrency (pages rendered at once)")
    parser.add_argument("--ceiling-mb", type=int, default=0, help="memory ceiling (default browser.memory_ceiling_mb)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="touthunt-bench-render-") as tmp_name:
        tmp = Path(tmp_name)
        start = build_web(tmp / "web", args.pages)
        source = {"start_urls": [start], "max_depth": 2, "obey_robots": False}
        with ReplayWeb(tmp / "web") as web:
            config = parse_config(
                {
                    "database": {"url": "sqlite:///bench.sqlite"},
                    "network": {
                        "proxy": web.proxy_url, "concurrency": args.concurrency,
                        "concurrency_per_domain": args.concurrency, "download_delay_seconds": 0, "retries": 0,
                    },
                    "images": {"enabled": False},
                    "browser": {
                        "pages_per_context": args.pages_per_context, "settle_ms": 0,
                        "max_rendered_pages": args.pages + 100,
                    },
                    "logging": {"level": "WARNING"},
                    "sources": [
                        {"name": "static", "render": "never", **source},
                        {"name": "rendered", "render": "always", **source},
                    ],
                },
                base_dir=tmp,
            )  # fmt: skip
            ceiling = (args.ceiling_mb or config.browser.memory_ceiling_mb) * MIB
            engine = make_engine(config.database_url)
            upgrade(engine)
            sessions = make_sessionmaker(engine)
            static = crawl(config, sessions, render="never")
            rendered = crawl(config, sessions, render="always")
            engine.dispose()

    print(f"pages: {args.pages} script-built (+ {1 + (args.pages + PER_LIST - 1) // PER_LIST} list pages), "
          f"{args.pages_per_context} pages per browser context, concurrency {args.concurrency}")  # fmt: skip
    for name, m in (("static", static), ("rendered", rendered)):
        line = f"{name:9s} {m.pages:5d} pages in {m.seconds:6.1f} s = {m.rate:6.1f} pages/s; "
        line += f"crawler peak RSS {m.crawler_peak_rss / MIB:6.0f} MiB"
        if m.browser_peak_rss:
            line += f"; browser tree peak RSS {m.browser_peak_rss / MIB:6.0f} MiB"
            line += f", PSS {m.browser_peak_pss / MIB:6.0f} MiB"
        print(line)
    if static.rate:
        print(f"rendered/static: {rendered.rate / static.rate:.3f}x pages/s")
    if static.crawler_peak_rss:
        total = rendered.crawler_peak_rss + rendered.browser_peak_pss
        print(f"memory rendered (crawler + browser PSS) / static crawler: {total / static.crawler_peak_rss:.1f}x")
    holds = 0 < rendered.browser_peak_pss <= ceiling
    print(
        f"ceiling {ceiling // MIB} MiB (browser tree PSS): {'holds' if holds else 'EXCEEDED or not measured'} "
        f"(peak {rendered.browser_peak_pss / MIB:.0f} MiB)"
    )
    complete = rendered.pages >= args.pages
    if not complete:
        log_file = rendered.summary.log_file if rendered.summary else "the crawl log"
        print(f"only {rendered.pages} of {args.pages} pages were rendered; see {log_file}")
    return 0 if holds and complete else 1


if __name__ == "__main__":
    sys.exit(main())
