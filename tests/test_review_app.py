"""The web app through FastAPI's TestClient: accounts, sessions, CSRF, login rate limit, the hit list's
filters and grouping, verdicts (web and command line alike), lexicon edits feeding the crawl scorer,
dashboards, the audit log, screenshots, security headers and hostile crawled content."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import select

from crawler.cli import main
from crawler.scoring import inputs_from_config, make_scorer
from review.app import create_app, csv_cell, local_path
from review.auth import LoginLimiter, load_secret
from storage.models import AuditEvent, Hit, LexiconChange, User, Verdict
from tests.review_seed import ANALYST, SUPERVISOR, XSS_URL, login, seed


@pytest.fixture
def env(write_config: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.delenv("TOUTHUNT_WEB_SECRET", raising=False)
    config = write_config({"web": {"login_max_failures": 3, "page_size": 5}})
    from storage.db import make_engine, make_sessionmaker, upgrade

    engine = make_engine(config.database_url)
    upgrade(engine)
    sessions = make_sessionmaker(engine)
    seeded = seed(config, sessions)

    class Env:
        pass

    e = Env()
    e.config, e.sessions, e.hits, e.tmp = config, sessions, seeded.hits, tmp_path
    e.app = create_app(config, sessions)
    yield e
    engine.dispose()


def csrf_of(client: TestClient) -> str:
    return re.search(r'name="csrf-token" content="([^"]+)"', client.get("/hits").text).group(1)


def signed_in(env: Any, who: tuple[str, str] = ANALYST) -> TestClient:
    client = TestClient(env.app)
    assert login(client, *who).status_code == 303
    return client


def audit_actions(env: Any) -> list[tuple[str, str, str]]:
    with env.sessions() as s:
        return [(e.actor, e.action, e.target) for e in s.scalars(select(AuditEvent).order_by(AuditEvent.id))]


# accounts and sessions --------------------------------------------------------------------------------


def test_every_page_but_login_needs_a_session(env: Any) -> None:
    client = TestClient(env.app)
    for path in ("/", "/hits", "/hits/1", "/lexicon", "/dashboard", "/audit", "/audit.csv", "/hits/1/screenshot"):
        response = client.get(path, follow_redirects=True)
        assert response.url.path == "/login", path
        assert "登录" in response.text
    assert (
        client.get("/hits?status=new", follow_redirects=False).headers["location"]
        == "/login?next=%2Fhits%3Fstatus%3Dnew"
    )
    for path in ("/hits/1/verdict", "/hits/bulk", "/lexicon/edit", "/lexicon/test", "/logout"):
        assert client.post(path, data={"verdict": "confirmed"}).status_code == 401, path
    with env.sessions() as s:
        assert s.get(Hit, env.hits["scalper"]).status == "new"


def test_login_sets_a_strict_session_cookie_and_is_audited(env: Any) -> None:
    client = TestClient(env.app)
    assert login(client, "analyst1", "wrong password").status_code == 401
    response = login(client, *ANALYST)
    assert response.status_code == 303 and response.headers["location"] == "/hits"
    cookie = response.headers["set-cookie"]
    assert "touthunt_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "命中列表" in client.get("/hits").text
    actions = audit_actions(env)
    assert ("analyst1", "login_failed", "user:analyst1") in actions
    assert ("analyst1", "login", "user:analyst1") in actions
    with env.sessions() as s:
        stored = s.scalar(select(User).where(User.name == "analyst1"))
        assert stored.password_hash.startswith("$argon2")


def test_login_form_needs_its_csrf_token(env: Any) -> None:
    client = TestClient(env.app)
    client.get("/login")
    response = client.post("/login", data={"name": ANALYST[0], "password": ANALYST[1], "csrf": "forged"})
    assert response.status_code == 400 and "touthunt_session" not in response.headers.get("set-cookie", "")


def test_login_redirect_stays_on_this_site(env: Any) -> None:
    assert local_path("//evil.example/") == "/hits"
    assert local_path("https://evil.example/") == "/hits"
    assert local_path("/\\evil.example") == "/hits"
    assert local_path("/hits/2?back=%2Fhits") == "/hits/2?back=%2Fhits"


def test_failed_logins_are_limited_per_account_and_per_address(env: Any) -> None:
    client = TestClient(env.app)
    for _ in range(3):
        assert login(client, "analyst1", "nope nope nope").status_code == 401
    blocked = login(client, *ANALYST)  # right password, but the account is locked for the window
    assert blocked.status_code == 429 and "次数过多" in blocked.text
    # the same client address is locked for other accounts too
    assert login(client, *SUPERVISOR).status_code == 429
    assert any(a == ("analyst1", "login_failed", "user:analyst1") for a in audit_actions(env))


def test_login_limiter_window_slides() -> None:
    now = [1000.0]
    limiter = LoginLimiter(2, 60, clock=lambda: now[0])
    limiter.failed("user:a", "ip:1")
    limiter.failed("user:a", "ip:1")
    assert limiter.blocked_for("user:a") == pytest.approx(60)
    assert limiter.blocked_for("user:b") == 0
    now[0] += 61
    assert limiter.blocked_for("user:a", "ip:1") == 0


def test_a_password_change_ends_existing_sessions(env: Any) -> None:
    client = signed_in(env)
    assert client.get("/hits", follow_redirects=False).status_code == 200
    runner = CliRunner()
    config_path = str(env.config.base_dir / "config.yaml")
    result = runner.invoke(
        main, ["user", "add", "analyst1", "--role", "analyst", "--password-stdin", "--config", config_path],
        input="a brand new password\n",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert client.get("/hits", follow_redirects=False).status_code == 303


def test_user_add_refuses_short_passwords(env: Any) -> None:
    config_path = str(env.config.base_dir / "config.yaml")
    result = CliRunner().invoke(
        main,
        ["user", "add", "newbie", "--role", "analyst", "--password-stdin", "--config", config_path],
        input="short\n",
    )
    assert result.exit_code == 1 and "至少" in result.output


def test_cookie_secret_comes_from_the_environment_or_a_private_file(env: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    path = env.config.var_dir / "web_secret"
    assert path.is_file() and (path.stat().st_mode & 0o777) == 0o600
    assert load_secret(env.config) == path.read_text().strip()
    monkeypatch.setenv("TOUTHUNT_WEB_SECRET", "x" * 40)
    assert load_secret(env.config) == "x" * 40


def test_logout_needs_csrf_and_ends_the_session_even_for_a_copied_cookie(env: Any) -> None:
    client = signed_in(env)
    copied = client.cookies.get("touthunt_session")
    assert client.post("/logout", data={"csrf": "bad"}).status_code == 400
    response = client.post("/logout", data={"csrf": csrf_of(client)}, follow_redirects=False)
    assert response.status_code == 303
    assert client.get("/hits", follow_redirects=False).status_code == 303
    thief = TestClient(env.app, cookies={"touthunt_session": copied})
    assert thief.get("/hits", follow_redirects=False).status_code == 303
    assert ("analyst1", "logout", "user:analyst1") in audit_actions(env)


def test_forged_or_tampered_session_cookies_are_refused(env: Any) -> None:
    client = signed_in(env)
    token = client.cookies.get("touthunt_session")
    for forged in (token[:-2] + ("AA" if not token.endswith("AA") else "BB"), "x" * 5000, "", "eyJ1IjoxfQ.abc.def"):
        assert (
            TestClient(env.app, cookies={"touthunt_session": forged}).get("/hits", follow_redirects=False).status_code
            == 303
        )


# security ---------------------------------------------------------------------------------------------


def test_security_headers_on_pages_and_static_files(env: Any) -> None:
    client = signed_in(env)
    for path in ("/login", "/hits", "/static/app.js", "/static/app.css"):
        headers = client.get(path).headers
        csp = headers["content-security-policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
        assert headers["x-frame-options"] == "DENY"
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"
    assert client.get("/hits").headers["cache-control"] == "no-store"


def test_hostile_crawled_content_is_escaped_everywhere(env: Any) -> None:
    client = signed_in(env)
    hostile = env.hits["hostile"]
    pages = [client.get("/hits").text, client.get(f"/hits/{hostile}").text]
    for html in pages:
        assert "window.__pwned" in html  # the payload is shown, as text
        assert "<script>window" not in html and "<img src=x" not in html and 'onerror="' not in html
        assert 'href="javascript:' not in html.lower()
        # the only script is the app's own
        assert re.findall(r"<script[^>]*>", html) == ['<script src="/static/app.js" defer>']
    detail = pages[1]
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in detail
    assert "&#34;&gt;&lt;script&gt;window.__pwned=7&lt;/script&gt;&lt;b&gt;" in detail  # the hostile contact
    assert XSS_URL.split("//")[0] in detail and "不提供链接" in detail
    safe = client.get(f"/hits/{env.hits['scalper']}").text
    assert re.search(r'<a href="http://guahao-hz\.example\.cn/zhuanjia" rel="noopener noreferrer nofollow"', safe)


def test_verdict_posts_need_the_session_csrf_token(env: Any) -> None:
    client = signed_in(env)
    hit = env.hits["scalper"]
    assert client.post(f"/hits/{hit}/verdict", data={"verdict": "confirmed"}).status_code == 400
    assert client.post(f"/hits/{hit}/verdict", data={"verdict": "confirmed", "csrf": "x" * 43}).status_code == 400
    other = signed_in(env, SUPERVISOR)  # another session's token is no good either
    response = client.post(f"/hits/{hit}/verdict", data={"verdict": "confirmed", "csrf": csrf_of(other)})
    assert response.status_code == 400
    with env.sessions() as s:
        assert s.get(Hit, hit).status == "new"
        assert s.scalars(select(Verdict)).all() == []


# hit list ---------------------------------------------------------------------------------------------


def listed_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'class="hit-row[^"]*" data-id="(\d+)"', html)]


def test_hit_list_shows_new_hits_first_with_clusters_together_and_coverage(env: Any) -> None:
    client = signed_in(env)
    html = client.get("/hits").text
    ids = listed_ids(html)
    assert sorted(ids) == sorted(env.hits.values())
    first, second = ids.index(env.hits["scalper"]), ids.index(env.hits["scalper2"])
    assert abs(first - second) == 1  # the two pages sharing a phone number are one cluster
    assert "运营团伙" in html and "mobile:13912345678" in html
    assert "forum-hz" in html and "验证码拦截" in html and "运行失败" in html  # degraded source named
    hit = env.hits["tout"]
    client.post(f"/hits/{hit}/verdict", data={"verdict": "confirmed", "csrf": csrf_of(client)})
    assert listed_ids(client.get("/hits").text)[-1] == hit  # decided hits after the new ones


def test_hit_list_filters(env: Any) -> None:
    client = signed_in(env)
    h = env.hits

    def ids(query: str) -> set[int]:
        return set(listed_ids(client.get(f"/hits?{query}").text))

    assert ids("contact=13912345678") == {h["scalper"], h["scalper2"]}
    assert ids("contact=139-1234") == {h["scalper"], h["scalper2"]}
    assert ids("domain=laozhongyi") == {h["tout"]}
    assert ids("category=illegal_medical_ad") == {h["tout"]}
    assert ids("source=hub-hz") == set(h.values())
    assert ids("source=forum-hz") == set()
    assert ids("min_score=75") == {i for i in h.values() if score_of(env, i) >= 75}
    assert ids("max_score=70") == {i for i in h.values() if score_of(env, i) <= 70}
    assert ids("status=confirmed") == set()
    assert ids("from=2000-01-01&to=2000-01-02") == set()
    assert ids("from=2000-01-01") == set(h.values())
    # the wildcard characters of LIKE are matched literally
    assert ids("domain=%25") == set() and ids("domain=_") == {h["hostile"]}  # only its URL has a "_"
    bad = client.get("/hits?from=yesterday&min_score=abc&sort=drop table")
    assert bad.status_code == 200 and "YYYY-MM-DD" in bad.text


def score_of(env: Any, hit_id: int) -> int:
    with env.sessions() as s:
        return s.get_one(Hit, hit_id).score


def test_hit_list_sorts_and_pages(env: Any) -> None:
    client = signed_in(env)
    extra = add_hits(env, 4)  # 8 hits, 5 a page
    first = listed_ids(client.get("/hits?sort=score").text)
    second = listed_ids(client.get("/hits?sort=score&page=2").text)
    assert len(first) == 5 and len(second) == 3 and not set(first) & set(second)
    assert set(first) | set(second) == set(env.hits.values()) | set(extra)
    page = client.get("/hits?sort=score").text
    assert "第 1 / 2 页" in page and "sort=score&amp;page=2" in page
    scores = [score_of(env, i) for i in first + second]
    assert scores[0] == max(scores)
    assert listed_ids(client.get("/hits?page=99").text) == second or len(listed_ids(client.get("/hits?page=99").text))


def add_hits(env: Any, count: int) -> list[int]:
    from crawler.domains import registrable_domain
    from storage import repository
    from storage.models import Source, utcnow

    scorer = make_scorer(inputs_from_config(env.config, with_database=False))
    ids = []
    with env.sessions.begin() as s:
        source = s.scalar(select(Source).where(Source.name == "hub-hz"))
        for n in range(count):
            host = f"extra{n}.example.cn"
            url = f"http://{host}/"
            text = f"专家号代挂号，黄牛号加价，加微信 extra{n}wx 电话 1390000{n:04d}"
            record = repository.PageRecord(url, url, url, host, registrable_domain(host), f"代挂号 {n}", text, f"x{n}",
                                           200, "utf-8")  # fmt: skip
            page, _ = repository.upsert_page(s, record, source_id=source.id, run_id=None, seen_at=utcnow())
            s.flush()
            r = scorer.score(text, url=url)
            score = repository.ScoreRecord(r.score, r.hit, r.category, [x.to_dict() for x in r.reasons], r.contacts,
                                           r.lexicon_version)  # fmt: skip
            hit, _ = repository.save_score(s, page, score, at=utcnow())
            s.flush()
            ids.append(hit.id)
    return ids


# verdicts ---------------------------------------------------------------------------------------------


def test_web_and_command_line_verdicts_are_recorded_alike(env: Any) -> None:
    client = signed_in(env)
    web_hit, cli_hit = env.hits["scalper"], env.hits["tout"]
    response = client.post(
        f"/hits/{web_hit}/verdict",
        data={"verdict": "confirmed", "category": "medical_tout", "note": "网页确认", "csrf": csrf_of(client)},
        headers={"accept": "application/json"},
    )
    assert response.json() == {
        "id": web_hit, "status": "confirmed", "status_label": "已确认", "category": "medical_tout",
        "category_label": "网络医托",
    }  # fmt: skip
    config_path = str(env.config.base_dir / "config.yaml")
    runner = CliRunner()
    result = runner.invoke(
        main,
        ["review", "dismiss", str(cli_hit), "--as", "analyst1", "--reason", "正规医院科普", "--config", config_path],
    )
    assert result.exit_code == 0 and "已排除" in result.output, result.output
    result = runner.invoke(main, ["review", "confirm", "999", "--as", "analyst1", "--config", config_path])
    assert result.exit_code == 1 and "999" in result.output
    result = runner.invoke(main, ["review", "confirm", str(cli_hit), "--as", "nobody", "--config", config_path])
    assert result.exit_code == 1 and "nobody" in result.output
    with env.sessions() as s:
        verdicts = {v.hit_id: v for v in s.scalars(select(Verdict))}
        assert set(verdicts) == {web_hit, cli_hit}
        web, cli = verdicts[web_hit], verdicts[cli_hit]
        assert (web.actor, web.verdict, web.category, web.note, web.previous_status) == (
            "analyst1", "confirmed", "medical_tout", "网页确认", "new",
        )  # fmt: skip
        assert (cli.actor, cli.verdict, cli.category, cli.reason) == ("analyst1", "dismissed", None, "正规医院科普")
        assert s.get_one(Hit, web_hit).status == "confirmed" and s.get_one(Hit, web_hit).category == "medical_tout"
        assert s.get_one(Hit, cli_hit).status == "dismissed"
        events = {e.target: e for e in s.scalars(select(AuditEvent).where(AuditEvent.action == "verdict"))}
        assert events[f"hit:{web_hit}"].detail["via"] == "web" and events[f"hit:{cli_hit}"].detail["via"] == "cli"
    # re-open from the command line, then the history shows both verdicts
    result = runner.invoke(
        main, ["review", "reopen", str(web_hit), "--as", "analyst1", "--reason", "类别有误", "--config", config_path]
    )
    assert result.exit_code == 0 and "待审核" in result.output
    detail = client.get(f"/hits/{web_hit}").text
    assert "重新打开" in detail and "类别有误" in detail and "网页确认" in detail


def test_dismissing_needs_a_reason(env: Any) -> None:
    client = signed_in(env)
    response = client.post(
        f"/hits/{env.hits['scalper']}/verdict", data={"verdict": "dismissed", "csrf": csrf_of(client)}
    )
    assert response.status_code == 400 and "理由" in response.text


def test_bulk_verdicts(env: Any) -> None:
    client = signed_in(env)
    ids = [env.hits["scalper"], env.hits["scalper2"]]
    response = client.post(
        "/hits/bulk",
        data={"hit_id": [str(i) for i in ids], "verdict": "dismissed", "reason": "重复命中", "csrf": csrf_of(client),
              "back": "/hits?status=new"},
        follow_redirects=False,
    )  # fmt: skip
    assert response.status_code == 303 and response.headers["location"] == "/hits?status=new&done=dismissed-2"
    with env.sessions() as s:
        assert {s.get_one(Hit, i).status for i in ids} == {"dismissed"}
        assert len(s.scalars(select(Verdict)).all()) == 2


def test_hit_detail_shows_reasons_spans_contacts_domain_and_cluster(env: Any) -> None:
    client = signed_in(env)
    html = client.get(f"/hits/{env.hits['scalper']}").text
    assert "瀚州第一医院专家号代挂号" in html
    assert re.search(r'<mark title="[^"]*service\.代挂号[^"]*">代挂号<sup>', html)
    assert "service.代挂号" in html and "13912345678" in html and "hz-guahao88" in html
    assert "example.cn" in html and "IP 地址" in html and "ICP" in html
    assert f'href="/hits/{env.hits["scalper2"]}"' in html  # the other page of the cluster
    assert "无截图" in html and "首次发现" in html


def test_screenshot_shown_and_served_when_evidence_has_one(env: Any) -> None:
    shot = env.tmp / "shot.png"
    Image.new("RGB", (40, 30), "white").save(shot)
    app = create_app(env.config, env.sessions, screenshots=lambda session, page: shot if "guahao" in page.url else None)
    client = TestClient(app)
    login(client, *ANALYST)
    html = client.get(f"/hits/{env.hits['scalper']}").text
    assert f'src="/hits/{env.hits["scalper"]}/screenshot"' in html and "无截图" not in html
    image = client.get(f"/hits/{env.hits['scalper']}/screenshot")
    assert image.headers["content-type"] == "image/png" and image.content == shot.read_bytes()
    assert client.get(f"/hits/{env.hits['tout']}/screenshot").status_code == 404


def test_screenshot_comes_from_the_newest_evidence_capture_inside_the_evidence_folder(env: Any) -> None:
    from storage.models import EvidenceRecord

    root = env.config.resolve_path(env.config.evidence.folder)
    for folder, colour in (("2026/11/22/H1-old", "red"), ("2026/11/23/H1-new", "blue")):
        (root / folder).mkdir(parents=True)
        Image.new("RGB", (20, 10), colour).save(root / folder / "screenshot.png")
    with env.sessions.begin() as session:
        hits = env.hits
        for day, folder in ((22, "2026/11/22/H1-old"), (23, "2026/11/23/H1-new")):
            session.add(
                EvidenceRecord(
                    hit_id=hits["scalper"], folder=folder, url="http://x/", final_url="http://x/",
                    captured_at=datetime(2026, 11, day, tzinfo=UTC), manifest_sha256="0" * 64,
                )
            )  # fmt: skip
        session.add(
            EvidenceRecord(
                hit_id=hits["tout"], folder="../../..", url="http://x/", final_url="http://x/", manifest_sha256="0" * 64
            )
        )
    client = TestClient(create_app(env.config, env.sessions))
    login(client, *ANALYST)
    image = client.get(f"/hits/{env.hits['scalper']}/screenshot")
    assert image.content == (root / "2026/11/23/H1-new/screenshot.png").read_bytes()
    assert client.get(f"/hits/{env.hits['tout']}/screenshot").status_code == 404  # outside the evidence folder


# lexicon ----------------------------------------------------------------------------------------------


def test_lexicon_edits_are_versioned_attributed_and_used_by_crawls(env: Any) -> None:
    client = signed_in(env)
    token = csrf_of(client)
    text = "本店提供约号神器服务"
    before = client.post("/lexicon/test", data={"text": text, "csrf": token}, headers={"accept": "application/json"})
    assert "service.约号神器" not in [r["rule_id"] for r in before.json()["reasons"]]
    response = client.post(
        "/lexicon/edit",
        data={"kind": "term", "action": "set", "group": "service", "text": "约号神器", "weight": "30",
              "flags": ["boundary"], "note": "新说法", "csrf": token},
        follow_redirects=False,
    )  # fmt: skip
    assert response.status_code == 303
    after = client.post("/lexicon/test", data={"text": text, "csrf": token}, headers={"accept": "application/json"})
    assert "service.约号神器" in [r["rule_id"] for r in after.json()["reasons"]]
    assert after.json()["lexicon_version"].endswith("+1")
    # the scorer a crawl builds (inputs with the database) applies the edit too
    crawl_scorer = make_scorer(inputs_from_config(env.config, with_database=True))
    assert "service.约号神器" in [r.rule_id for r in crawl_scorer.score(text).reasons]
    assert crawl_scorer.lexicon_version == after.json()["lexicon_version"]
    # remove a term of the files and add a domain to the allow-list
    client.post("/lexicon/edit", data={"kind": "term", "action": "remove", "group": "service", "text": "代挂号",
                                       "csrf": token})  # fmt: skip
    client.post("/lexicon/edit", data={"kind": "domain", "action": "set", "text": "hzyy.example.cn", "csrf": token})
    scorer = make_scorer(inputs_from_config(env.config, with_database=True))
    assert "service.代挂号" not in [r.rule_id for r in scorer.score("代挂号").reasons]
    assert "hzyy.example.cn" in scorer.lexicon.official_domains
    with env.sessions() as s:
        changes = s.scalars(select(LexiconChange).order_by(LexiconChange.id)).all()
        assert [(c.author, c.kind, c.action, c.text) for c in changes] == [
            ("analyst1", "term", "set", "约号神器"), ("analyst1", "term", "remove", "代挂号"),
            ("analyst1", "domain", "set", "hzyy.example.cn"),
        ]  # fmt: skip
        assert changes[0].flags == "boundary" and changes[0].note == "新说法"
    assert [a[1] for a in audit_actions(env) if "change" in a[1]] == ["lexicon_change"] * 2 + ["allowlist_change"]
    page = client.get("/lexicon?group=service").text
    assert "约号神器" in page and "网页修改 #1" in page and "+3" in page


def test_invalid_lexicon_edits_are_refused(env: Any) -> None:
    client = signed_in(env)
    token = csrf_of(client)
    cases = [
        {
            "kind": "term",
            "action": "set",
            "group": "context",
            "text": "通报",
            "weight": "5",
        },  # context must be negative
        {"kind": "term", "action": "set", "group": "service", "text": "！！", "weight": "5"},  # empty skeleton
        {
            "kind": "term",
            "action": "set",
            "group": "cure",
            "text": "代挂号",
            "weight": "5",
        },  # same key as a service term
        {"kind": "term", "action": "remove", "group": "service", "text": "没有这个词"},
        {"kind": "domain", "action": "set", "text": "not a domain"},
        {"kind": "term", "action": "set", "group": "nope", "text": "x", "weight": "1"},
    ]
    for case in cases:
        response = client.post("/lexicon/edit", data={**case, "csrf": token})
        assert response.status_code == 400, case
    with env.sessions() as s:
        assert s.scalars(select(LexiconChange)).all() == []


# dashboards and audit ---------------------------------------------------------------------------------


def test_dashboard_draws_svg_charts_from_verdicts(env: Any) -> None:
    client = signed_in(env)
    token = csrf_of(client)
    client.post(f"/hits/{env.hits['scalper']}/verdict", data={"verdict": "confirmed", "csrf": token})
    client.post(f"/hits/{env.hits['tout']}/verdict", data={"verdict": "dismissed", "reason": "其他", "csrf": token})
    html = client.get("/dashboard").text
    assert html.count("<svg") == 7  # six review charts and the take-downs
    assert "每日新命中 (按类别)" in html and "号贩子/代挂号" in html and "hub-hz" in html
    assert re.search(r"<td>hub-hz</td><td>1</td><td>1</td><td>50%</td>", html)
    assert 'id="backlog-total">2<' in html
    assert "<script" not in html.split("</head>")[1]


def test_audit_log_is_for_supervisors_and_exports_as_csv(env: Any) -> None:
    analyst = signed_in(env)
    assert analyst.get("/audit").status_code == 403
    assert analyst.get("/audit.csv").status_code == 403
    boss = signed_in(env, SUPERVISOR)
    html = boss.get("/audit?action=login").text
    assert "analyst1" in html and "boss" in html and "登录" in html
    export = boss.get("/audit.csv")
    assert (
        export.headers["content-type"].startswith("text/csv") and "attachment" in export.headers["content-disposition"]
    )
    rows = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert rows[0] == ["编号", "时间 (北京时间)", "账号", "操作", "对象", "详情"]
    assert {r[2] for r in rows[1:]} >= {"analyst1", "boss"}
    assert ("boss", "export", "audit_log") in audit_actions(env)


def test_csv_cells_never_start_a_formula() -> None:
    assert csv_cell("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert csv_cell("@SUM") == "'@SUM" and csv_cell("正常") == "正常" and csv_cell(5) == 5


def test_web_command_serves_the_app(env: Any) -> None:
    import socket
    import subprocess
    import sys
    import time
    import urllib.error
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config_path = str(env.config.base_dir / "config.yaml")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "crawler.cli",
            "web",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--config",
            config_path,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline, body = time.monotonic() + 60, ""
        while time.monotonic() < deadline and process.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=5) as response:
                    body = response.read().decode("utf-8")
                    headers = response.headers
                break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.3)
        assert "用户名" in body, process.stdout.read().decode() if process.poll() is not None else "no answer"
        assert headers["x-frame-options"] == "DENY"
    finally:
        process.terminate()
        output = process.communicate(timeout=20)[0].decode()
    assert f"http://127.0.0.1:{port}/" in output


def test_referral_exports_are_audited(env: Any) -> None:
    config_path = str(env.config.base_dir / "config.yaml")
    out = env.tmp / "out"
    result = CliRunner().invoke(main, ["export", "--authority", "miit", "--out", str(out), "--config", config_path])
    assert result.exit_code == 0, result.output
    with env.sessions() as s:
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "export"))
        assert (event.actor, event.target) == ("system", "referral:miit")
        assert Path(event.detail["path"]).is_file() and event.detail["hits"] >= 1


def test_a_confirmed_category_outlives_rescoring(env: Any) -> None:
    from storage import repository
    from storage.verdicts import record_verdicts

    hit_id = env.hits["scalper"]
    with env.sessions.begin() as s:
        record_verdicts(s, [hit_id], actor="analyst1", verdict="confirmed", category="medical_tout")
    with env.sessions.begin() as s:
        hit = s.get_one(Hit, hit_id)
        again = repository.ScoreRecord(90, True, "scalper_service", hit.reasons, {}, "v2")
        repository.save_score(s, hit.page, again, at=hit.updated_at)
    with env.sessions() as s:
        hit = s.get_one(Hit, hit_id)
        assert (hit.status, hit.category, hit.score) == ("confirmed", "medical_tout", 90)
