"""Web app benchmark for the referral pages: time to render the batch list (which counts the confirmed hits
waiting for each authority), one batch of many items, and the dashboard (which computes take-downs from every
sent referral), against the hit list page on the same database in the same run. Prints each page's time and
its ratio to the hit list; asserts nothing.

    .venv/bin/python bench/bench_web_batches.py [--hits 4000] [--confirmed 1000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import yaml
from fastapi.testclient import TestClient

from crawler.config import load_config
from crawler.domains import registrable_domain
from referrals.batches import approve_batch, create_batch, mark_sent
from referrals.platforms import load_platforms
from review.app import create_app
from review.auth import add_user
from storage import repository
from storage.db import make_engine, make_sessionmaker, upgrade
from storage.models import Recheck, ReferralItem, utcnow


def seed(sessions: object, hits: int, confirmed: int) -> None:
    now = utcnow()
    with sessions.begin() as s:  # type: ignore[attr-defined]
        source = repository.ensure_source(s, "bench", "site")
        for n in range(hits):
            host = f"www.bench{n % 400}-guahao.cn"
            url = f"http://{host}/p{n}"
            record = repository.PageRecord(
                canonical_url=url, url=url, final_url=url, domain=host, registrable_domain=registrable_domain(host),
                title=f"专家号代挂 {n}", text=f"专家号代挂 电话 139{n:08d}", content_hash=f"{n:064d}",
                http_status=200, encoding="utf-8",
            )  # fmt: skip
            page, _ = repository.upsert_page(s, record, source_id=source.id, run_id=None, seen_at=now)
            reasons = [{"rule_id": "service.代挂", "text": "代挂", "start": 0, "end": 2, "weight": 25.0}]
            contacts = {"mobile": [f"139{n:08d}"], "wechat": [], "qq": [], "landline": [], "tollfree": []}
            score = repository.ScoreRecord(80, True, "scalper_service", reasons, contacts, "v1", {}, [])
            hit, _ = repository.save_score(s, page, score, at=now - timedelta(minutes=n))
            assert hit is not None
            if n < confirmed:
                hit.status = "confirmed"
        add_user(s, "bench", "supervisor", "bench password 1")
    with sessions.begin() as s:  # type: ignore[attr-defined]
        batch = create_batch(s, authority="miit", user="bench", institute_code="HZWJS", platforms=load_platforms(()),
                             now=now - timedelta(days=10))  # fmt: skip
        assert batch is not None
        approve_batch(s, batch.number, user="bench", now=now - timedelta(days=10))
        mark_sent(s, batch.number, user="bench", now=now - timedelta(days=10))
        for index, item in enumerate(s.query(ReferralItem).all()):
            s.add(Recheck(item_id=item.id, checked_at=now - timedelta(days=9), outcome="still_online", reason="b"))
            if index % 2:
                s.add(Recheck(item_id=item.id, checked_at=now - timedelta(days=7), outcome="removed", reason="b"))
    # the confirmed hits now wait for police (scalper pages with a mobile number): the list counts them


def timed(client: TestClient, path: str, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        response = client.get(path)
        times.append(time.perf_counter() - start)
        assert response.status_code == 200, (path, response.status_code)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hits", type=int, default=4000)
    parser.add_argument("--confirmed", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "config.yaml"
        path.write_text(yaml.safe_dump({"database": {"url": "sqlite:///var/bench.sqlite"}}), encoding="utf-8")
        config = load_config(path)
        engine = make_engine(config.database_url)
        upgrade(engine)
        sessions = make_sessionmaker(engine)
        started = time.perf_counter()
        seed(sessions, args.hits, args.confirmed)
        print(f"seeded {args.hits} hits ({args.confirmed} confirmed, one sent miit batch) "
              f"in {time.perf_counter() - started:.1f}s")  # fmt: skip
        client = TestClient(create_app(config, sessions))
        token = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text).group(1)
        client.post("/login", data={"name": "bench", "password": "bench password 1", "csrf": token})
        number = re.search(r'href="/batches/([^"?/]+)"', client.get("/batches").text).group(1)
        baseline = timed(client, "/hits", args.repeat)
        print(f"{'/hits (baseline)':28} {baseline * 1000:8.1f} ms")
        for page in ("/batches", f"/batches/{number}", "/dashboard", "/dashboard?days=180"):
            took = timed(client, page, args.repeat)
            print(f"{page:28} {took * 1000:8.1f} ms  ratio {took / baseline:5.2f}")
        engine.dispose()


if __name__ == "__main__":
    main()
