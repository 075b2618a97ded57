"""Evidence benchmark: what the post-crawl evidence step costs. Crawls the demo sources through the replay
web twice in the same run, with evidence capture off (the baseline) and on, each into a fresh database, and
prints the crawl time of both (the crawl itself must not change: capture runs after it), the time the
evidence step added, seconds per captured hit, and the ratio of total times. Asserts nothing.

    .venv/bin/python bench/bench_evidence.py
"""

from __future__ import annotations

import logging
import tempfile
import time
from pathlib import Path

import yaml
from sqlalchemy import func, select

from crawler.config import load_config, load_overlay, with_changes
from crawler.runner import run_source
from evidence.capture import capture_new_hits
from replayweb import ReplayWeb, demo_sources_path
from storage.db import make_engine, make_sessionmaker, upgrade
from storage.models import EvidenceRecord


def crawl(root: Path, proxy: str, *, evidence: bool) -> tuple[float, float, int]:
    root.mkdir(parents=True)
    (root / "config.yaml").write_text(yaml.safe_dump({"database": {"url": "sqlite:///b.sqlite"}}), encoding="utf-8")
    network = {"proxy": proxy, "timeout_seconds": 2.0, "retries": 0, "download_delay_seconds": 0.0}
    config = with_changes(
        load_config(root / "config.yaml"),
        "bench",
        **load_overlay(demo_sources_path()),
        network=network,
        evidence={"enabled": False},
    )
    engine = make_engine(config.database_url)
    upgrade(engine)
    sessions = make_sessionmaker(engine)
    start = time.perf_counter()
    runs = [run_source(config, source, sessions, show_progress=False) for source in config.sources]
    crawled = time.perf_counter() - start
    captured_seconds = 0.0
    if evidence:
        on = with_changes(config, "bench", evidence={"enabled": True})
        start = time.perf_counter()
        for run in runs:
            capture_new_hits(on, sessions, run_id=run.run_id)
        captured_seconds = time.perf_counter() - start
    with sessions() as session:
        captures = session.scalar(select(func.count(EvidenceRecord.id))) or 0
    engine.dispose()
    return crawled, captured_seconds, captures


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp, ReplayWeb() as web:
        base_crawl, _, _ = crawl(Path(tmp) / "off", web.proxy_url, evidence=False)
        crawl_time, capture_time, captures = crawl(Path(tmp) / "on", web.proxy_url, evidence=True)
    print(f"crawl without evidence (baseline): {base_crawl:.1f} s")
    print(f"crawl with evidence:               {crawl_time:.1f} s (crawl) + {capture_time:.1f} s (evidence step)")
    print(f"captures: {captures}, {capture_time / max(captures, 1):.2f} s per hit (WARC + screenshot + manifest)")
    total = (crawl_time + capture_time) / base_crawl
    print(f"crawl-time ratio on/off: {crawl_time / base_crawl:.2f}; total ratio: {total:.2f}")


if __name__ == "__main__":
    main()
