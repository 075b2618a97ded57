"""The web app in a real browser: Debian's Chromium driven by Playwright against the app served by uvicorn on
an ephemeral loopback port. Logging in, working through the list with the keyboard, the lexicon test box
following an edit, a dashboard, the redirect to login, hostile crawled content that must stay inert, and a
supervisor approving and exporting a referral batch."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
import yaml
from playwright.sync_api import Browser, Page, expect, sync_playwright
from sqlalchemy import select

from crawler.browser import launch_options
from crawler.config import load_config, parse_config
from referrals.batches import create_batch
from referrals.platforms import load_platforms
from review.app import create_app
from storage.db import make_engine, make_sessionmaker, upgrade
from storage.models import AuditEvent, Hit, ReferralBatch, Verdict, utcnow
from storage.verdicts import record_verdicts
from tests.review_seed import ANALYST, SUPERVISOR, XSS_CONTACT, seed

# set to a folder to keep the hit list's screenshot (the README's picture is made this way)
SCREENSHOT_DIR_ENV = "TOUTHUNT_WEB_SCREENSHOTS"


class Served:
    def __init__(self, url: str, config: Any, sessions: Any, hits: dict[str, int]) -> None:
        self.url, self.config, self.sessions, self.hits = url, config, sessions, hits


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(**launch_options(parse_config({})))
        yield chromium
        chromium.close()


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    monkeypatch.delenv("TOUTHUNT_WEB_SECRET", raising=False)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({"database": {"url": "sqlite:///var/web.sqlite"}}), encoding="utf-8")
    config = load_config(path)
    engine = make_engine(config.database_url)
    upgrade(engine)
    sessions = make_sessionmaker(engine)
    seeded = seed(config, sessions)
    server = uvicorn.Server(
        uvicorn.Config(create_app(config, sessions), host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield Served(f"http://127.0.0.1:{port}", config, sessions, seeded.hits)
    server.should_exit = True
    thread.join(timeout=10)
    engine.dispose()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 900})
    tab = context.new_page()
    yield tab
    context.close()


def log_in(page: Page, served: Served, name: str = ANALYST[0], password: str = ANALYST[1]) -> None:
    page.goto(f"{served.url}/hits")
    expect(page).to_have_url(f"{served.url}/login?next=%2Fhits")  # no session: the login page
    page.get_by_label("用户名").fill(name)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(f"{served.url}/hits")


def status_of(served: Served, hit_id: int) -> str:
    with served.sessions() as session:
        return session.get_one(Hit, hit_id).status


def test_log_in_and_work_through_the_list_with_the_keyboard(served: Served, page: Page, tmp_path: Path) -> None:
    log_in(page, served)
    expect(page.locator("h1")).to_contain_text("命中列表")
    expect(page.locator("#coverage")).to_contain_text("forum-hz")
    rows = page.locator("tr.hit-row")
    first, second = (int(rows.nth(i).get_attribute("data-id")) for i in (0, 1))
    page.keyboard.press("j")
    expect(rows.nth(0)).to_have_class("hit-row status-new selected")
    page.keyboard.press("c")  # confirm the first, the selection moves on
    expect(rows.nth(0).locator("td.status")).to_have_text("已确认")
    expect(rows.nth(1)).to_have_class("hit-row status-new selected")
    page.keyboard.press("d")  # dismiss the second with the reason chosen in the toolbar
    expect(rows.nth(1).locator("td.status")).to_have_text("已排除")
    page.keyboard.press("k")
    expect(rows.nth(1)).to_have_class("hit-row status-dismissed selected")
    assert status_of(served, first) == "confirmed" and status_of(served, second) == "dismissed"
    with served.sessions() as session:
        verdicts = session.scalars(select(Verdict).order_by(Verdict.id)).all()
        assert [(v.hit_id, v.actor, v.verdict) for v in verdicts] == [
            (first, "analyst1", "confirmed"),
            (second, "analyst1", "dismissed"),
        ]
        assert verdicts[1].reason == "正常内容，非违规"
    page.reload()
    shot = Path(os.environ.get(SCREENSHOT_DIR_ENV) or tmp_path) / "web-hit-list.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    assert "已确认" in page.locator("#hits-table").inner_text()


def test_confirm_and_dismiss_from_the_detail_page(served: Served, page: Page) -> None:
    log_in(page, served)
    hit = served.hits["tout"]
    page.goto(f"{served.url}/hits/{hit}")
    expect(page.locator(".no-shot")).to_have_text("无截图")
    expect(page.locator("#page-text mark").first).to_be_visible()
    page.locator("select[name=category]").select_option("illegal_medical_ad")
    page.locator("#confirm-button").click()
    expect(page.locator("#hit-status")).to_have_text("已确认")
    page.locator("input[name=reason_text]").fill("广告已下线")
    page.locator("#reopen-button").click()
    expect(page.locator("#hit-status")).to_have_text("待审核")
    expect(page.locator("table.verdicts")).to_contain_text("广告已下线")


def test_lexicon_edit_shows_in_the_test_box(served: Served, page: Page) -> None:
    log_in(page, served)
    page.goto(f"{served.url}/lexicon")
    page.locator("#test-text").fill("这里有约号神器，欢迎咨询")
    expect(page.locator("#test-result")).to_contain_text("评分")
    expect(page.locator("#test-result")).not_to_contain_text("service.约号神器")
    page.locator("#term-text").fill("约号神器")
    page.locator("#term-weight").fill("30")
    page.locator("#term-save").click()
    expect(page.locator(".notice")).to_contain_text("修改已保存")
    page.locator("#test-text").fill("这里有约号神器，欢迎咨询")
    expect(page.locator("#test-result")).to_contain_text("service.约号神器", timeout=20_000)
    expect(page.locator("table.changes")).to_contain_text("analyst1")


def test_dashboard_draws_charts(served: Served, page: Page) -> None:
    log_in(page, served)
    page.goto(f"{served.url}/dashboard")
    expect(page.locator("svg.chart")).to_have_count(7)
    expect(page.locator("svg.chart").first).to_be_visible()
    assert page.locator("svg.chart rect").count() > 10


def test_no_page_of_the_app_breaks_its_own_content_security_policy(served: Served, page: Page) -> None:
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    log_in(page, served, *SUPERVISOR)
    for path in ("/hits", f"/hits/{served.hits['scalper']}", "/lexicon", "/dashboard", "/audit", "/batches", "/status"):
        page.goto(served.url + path)
        page.wait_for_load_state("networkidle")
    page.goto(f"{served.url}/lexicon")
    page.locator("#test-text").fill("代挂号")
    expect(page.locator("#test-result")).to_contain_text("service.代挂号")
    assert problems == []


def test_hostile_content_stays_inert(served: Served, page: Page) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    log_in(page, served)
    hostile = served.hits["hostile"]
    for path in ("/hits", f"/hits/{hostile}", "/hits?domain=xss", "/hits?contact=%3Cscript%3E"):
        page.goto(served.url + path)
        assert page.evaluate("() => window.__pwned") is None, path
        assert page.locator("img[src=x]").count() == 0
    page.goto(f"{served.url}/hits/{hostile}")
    expect(page.locator(".page-title")).to_contain_text("<script>window.__pwned=1</script>")
    expect(page.locator("ul.contacts")).to_contain_text(XSS_CONTACT)
    page.locator("ul.contacts a", has_text="__pwned=7").click()  # the contact filter link
    expect(page.locator("input[name=contact]")).to_have_value(XSS_CONTACT)
    assert page.evaluate("() => window.__pwned") is None
    page.goto(f"{served.url}/hits/{hostile}")
    assert page.locator("a[href^='javascript']").count() == 0
    page.locator("#page-text").click()
    assert page.evaluate("() => window.__pwned") is None and dialogs == []


def test_supervisor_sees_the_audit_log(served: Served, page: Page) -> None:
    log_in(page, served, *SUPERVISOR)
    page.goto(f"{served.url}/audit")
    expect(page.locator("table.audit")).to_contain_text("登录")
    with page.expect_download() as download:
        page.locator("#audit-export").click()
    assert download.value.suggested_filename.startswith("touthunt-audit-")


def test_supervisor_approves_a_referral_batch(served: Served, page: Page) -> None:
    with served.sessions.begin() as session:
        confirmed = [served.hits[key] for key in ("scalper", "scalper2", "hostile")]
        record_verdicts(session, confirmed, actor="analyst1", verdict="confirmed")
        batch = create_batch(
            session,
            authority="miit",
            user="analyst1",
            now=utcnow(),
            institute_code=served.config.referrals.institute_code,
            platforms=load_platforms(()),
        )
        assert batch is not None
        number = batch.number
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    log_in(page, served, *SUPERVISOR)
    page.get_by_role("link", name="移交批次").click()
    expect(page.locator("table.batches")).to_contain_text("草稿")
    page.get_by_role("link", name=number).click()
    expect(page.locator("#batch-status")).to_have_text("草稿")
    expect(page.locator("table.items")).to_contain_text("<script>window.__pwned=1</script>")  # the hostile title
    page.locator("#approve-button").click()
    expect(page.locator("#batch-status")).to_have_text("已审批")
    expect(page.locator(".notice")).to_contain_text("已审批")
    expect(page.locator("#batch-approved")).to_contain_text("boss")
    page.locator("#export-button").click()
    expect(page.locator("#export-files a")).to_have_count(4)
    if os.environ.get(SCREENSHOT_DIR_ENV):
        page.screenshot(path=str(Path(os.environ[SCREENSHOT_DIR_ENV]) / "web-batch.png"), full_page=True)
    with page.expect_download() as download:
        page.locator("#export-files a", has_text=".xlsx").click()
    assert download.value.suggested_filename == f"{number}.xlsx"
    assert page.evaluate("() => window.__pwned") is None and dialogs == []
    with served.sessions() as session:
        stored = session.scalar(select(ReferralBatch).where(ReferralBatch.number == number))
        assert (stored.status, stored.approved_by) == ("approved", "boss")
        events = session.scalars(select(AuditEvent).where(AuditEvent.target == f"batch:{number}")).all()
        assert [(e.actor, e.action) for e in events] == [
            ("analyst1", "batch_create"),
            ("boss", "batch_approve"),
            ("boss", "batch_export"),
            ("boss", "export"),
        ]
