"""The referral batch pages and the take-down figures of the web app, through FastAPI's TestClient: the
list with what is waiting per authority and its filters, a batch's items (target, ICP filing and bureau,
re-checks), the actions (create, approve by supervisors only, send, discard, export and download) with
their CSRF and role checks, state transitions and audit events, downloads that never leave the export
folder, hostile crawled data shown inert, and the dashboard's take-downs agreeing with the summary report."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select

from crawler.hitlist import CHINA
from referrals.batches import approve_batch, create_batch, mark_sent
from referrals.platforms import load_platforms
from referrals.report import build_report
from review.app import create_app
from review.batchpages import EXPORT_FOLDER
from storage.models import AuditEvent, EvidenceRecord, Hit, Identifier, Recheck, ReferralBatch, ReferralItem, utcnow
from storage.verdicts import record_verdicts
from tests.review_seed import ANALYST, SUPERVISOR, XSS_URL, login, seed

HOSTILE_HOST = "xss.example.org"  # listed as a platform: the hostile hit goes to cac with its javascript: URL
ICP_NUMBER = "浙ICP备2025012345号-1"


@pytest.fixture
def env(write_config: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.delenv("TOUTHUNT_WEB_SECRET", raising=False)
    config = write_config({
        "referrals": {"platform_domains": [HOSTILE_HOST], "institute_code": "HZWJS"},
        "evidence": {"folder": str(tmp_path / "evidence")},
    })  # fmt: skip
    from storage.db import make_engine, make_sessionmaker, upgrade

    engine = make_engine(config.database_url)
    upgrade(engine)
    sessions = make_sessionmaker(engine)
    seeded = seed(config, sessions)
    with sessions.begin() as s:
        scalper = s.get_one(Hit, seeded.hits["scalper"])
        s.add(Identifier(page_id=scalper.page_id, kind="icp", value=ICP_NUMBER, valid=True))
        confirmed = [seeded.hits[k] for k in ("scalper", "scalper2", "hostile")]
        record_verdicts(s, confirmed, actor="analyst1", verdict="confirmed")

    class Env:
        pass

    e = Env()
    e.config, e.sessions, e.hits, e.tmp = config, sessions, seeded.hits, tmp_path
    e.app = create_app(config, sessions)
    yield e
    engine.dispose()


def signed_in(env: Any, who: tuple[str, str] = ANALYST) -> tuple[TestClient, str]:
    client = TestClient(env.app)
    assert login(client, *who).status_code == 303
    token = re.search(r'name="csrf-token" content="([^"]+)"', client.get("/batches").text).group(1)
    return client, token


def audit_rows(env: Any, *actions: str) -> list[tuple[str, str, str]]:
    with env.sessions() as s:
        stmt = select(AuditEvent).where(AuditEvent.action.in_(actions)).order_by(AuditEvent.id)
        return [(e.actor, e.action, e.target) for e in s.scalars(stmt)]


def batch_state(env: Any, number: str) -> str | None:
    with env.sessions() as s:
        return s.scalar(select(ReferralBatch.status).where(ReferralBatch.number == number))


def create(client: TestClient, token: str, authority: str) -> str:
    response = client.post("/batches/create", data={"authority": authority, "csrf": token}, follow_redirects=False)
    assert response.status_code == 303, response.text
    match = re.fullmatch(r"/batches/(HZWJS-[a-z]+-\d{4}-\d{3})\?done=created", response.headers["location"])
    assert match, response.headers["location"]
    return match.group(1)


def make_batch(env: Any, authority: str, *, approve: bool = False, send_at: datetime | None = None) -> str:
    """A batch made as the command line makes it (the same functions the pages call)."""
    with env.sessions.begin() as s:
        batch = create_batch(s, authority=authority, user="analyst1", institute_code="HZWJS",
                             platforms=load_platforms([HOSTILE_HOST]), now=utcnow())  # fmt: skip
        assert batch is not None
        number = batch.number
        if approve or send_at:
            approve_batch(s, number, user="boss", now=utcnow())
        if send_at:
            mark_sent(s, number, user="analyst1", now=send_at)
    return number


def waiting(html: str, authority: str) -> int:
    return int(re.search(rf'id="waiting-{authority}">.*?<td class="count">(\d+)</td>', html, re.S).group(1))


# pages and access ---------------------------------------------------------------------------------------


def test_batch_pages_need_a_session(env: Any) -> None:
    number = make_batch(env, "miit")
    client = TestClient(env.app)
    for path in ("/batches", f"/batches/{number}", f"/batches/{number}/files/{number}.csv"):
        assert client.get(path, follow_redirects=True).url.path == "/login", path
    for path in (
        "/batches/create",
        *(f"/batches/{number}/{a}" for a in ("approve", "send", "discard", "export", "answer")),
    ):
        assert client.post(path, data={"authority": "miit"}).status_code == 401, path
    assert batch_state(env, number) == "draft"


def test_analyst_creates_a_batch_from_what_is_waiting(env: Any) -> None:
    client, token = signed_in(env)
    page = client.get("/batches").text
    assert '<a href="/batches">移交批次</a>' in page  # the nav link
    assert (waiting(page, "cac"), waiting(page, "miit"), waiting(page, "samr")) == (1, 2, 0)
    assert waiting(page, "police") == 3  # every confirmed scalper page shows a mobile number
    assert 'id="create-samr"' not in page and "暂无" in page

    assert client.post("/batches/create", data={"authority": "miit", "csrf": "forged"}).status_code == 400
    assert client.post("/batches/create", data={"authority": "nasa", "csrf": token}).status_code == 400
    refused = client.post("/batches/create", data={"authority": "samr", "csrf": token})
    assert refused.status_code == 400 and "没有待移交市场监管部门的已确认命中" in refused.text
    with env.sessions() as s:
        assert s.scalars(select(ReferralBatch)).all() == []

    number = create(client, token, "miit")
    assert number.startswith(f"HZWJS-miit-{datetime.now(CHINA).year}-")
    assert batch_state(env, number) == "draft"
    with env.sessions() as s:
        items = s.scalars(select(ReferralItem).order_by(ReferralItem.hit_id)).all()
        assert sorted(i.hit_id for i in items) == sorted([env.hits["scalper"], env.hits["scalper2"]])
    assert audit_rows(env, "batch_create") == [("analyst1", "batch_create", f"batch:{number}")]
    after = client.get("/batches").text
    assert waiting(after, "miit") == 0 and waiting(after, "cac") == 1  # referred once per authority
    assert number in after and "草稿" in after


def test_list_filters_by_authority_and_state(env: Any) -> None:
    miit = make_batch(env, "miit", approve=True)
    cac = make_batch(env, "cac")
    client, _token = signed_in(env)
    both = client.get("/batches").text
    assert miit in both and cac in both
    only_cac = client.get("/batches?authority=cac").text
    assert cac in only_cac and miit not in only_cac
    approved = client.get("/batches?status=approved").text
    assert miit in approved and cac not in approved
    assert "没有符合条件的批次" in client.get("/batches?authority=samr").text
    assert cac in client.get("/batches?authority=<script>&status=x").text  # unknown filter values are ignored


def test_batch_detail_shows_targets_icp_bureau_and_rechecks(env: Any) -> None:
    sent = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)
    number = make_batch(env, "miit", send_at=sent)
    with env.sessions.begin() as s:
        first = s.scalar(select(ReferralItem).where(ReferralItem.hit_id == env.hits["scalper"]))
        s.add_all([
            Recheck(item_id=first.id, checked_at=sent + timedelta(days=1), outcome="still_online",
                    reason="same_content", http_status=200),
            Recheck(item_id=first.id, checked_at=sent + timedelta(days=3), outcome="removed", reason="http_404",
                    http_status=404),
            EvidenceRecord(hit_id=env.hits["scalper"], kind="capture", folder="2026/11/01/H000001", url="http://x/",
                           final_url="http://x/", http_status=200, manifest_sha256="0" * 64, file_count=3),
        ])  # fmt: skip
    client, _token = signed_in(env)
    html = client.get(f"/batches/{number}").text
    assert f'<a href="/hits/{env.hits["scalper"]}">' in html
    assert "example.cn" in html and ICP_NUMBER in html and "浙江省通信管理局" in html
    assert "网站未标示备案号" in html  # the other domain shows no filing number
    assert "仍在线" in html and "已删除" in html and "http_404 HTTP 404" in html
    assert "已删除/关闭 1，仍在线 0，待复查 1" in html
    assert "尚未复查" in html
    # only the first page's evidence was captured: what the evidence zip will lack is said before approving
    assert f"1 条命中尚无取证文件（命中 #{env.hits['scalper2']}）" in html and html.count(">无取证<") == 1
    assert 'id="approve-button"' not in html and 'id="send-button"' not in html  # sent: no more transitions
    missing = client.get("/batches/HZWJS-miit-1999-001")
    assert missing.status_code == 400 and "没有编号为 HZWJS-miit-1999-001 的移交批次" in missing.text


# transitions, roles, CSRF, audit ------------------------------------------------------------------------


def test_only_supervisors_approve(env: Any) -> None:
    number = make_batch(env, "miit")
    analyst, analyst_token = signed_in(env)
    page = analyst.get(f"/batches/{number}").text
    assert 'id="approve-button"' not in page and "需主管审批" in page
    refused = analyst.post(f"/batches/{number}/approve", data={"csrf": analyst_token})
    assert refused.status_code == 403
    assert batch_state(env, number) == "draft" and audit_rows(env, "batch_approve") == []

    boss, boss_token = signed_in(env, SUPERVISOR)
    assert 'id="approve-button"' in boss.get(f"/batches/{number}").text
    assert boss.post(f"/batches/{number}/approve", data={"csrf": "forged"}).status_code == 400
    assert boss.post(f"/batches/{number}/approve", data={}).status_code == 400
    assert batch_state(env, number) == "draft"
    done = boss.post(f"/batches/{number}/approve", data={"csrf": boss_token}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == f"/batches/{number}?done=approved"
    assert batch_state(env, number) == "approved"
    assert audit_rows(env, "batch_approve") == [("boss", "batch_approve", f"batch:{number}")]
    with env.sessions() as s:
        batch = s.scalar(select(ReferralBatch).where(ReferralBatch.number == number))
        assert batch.approved_by == "boss" and batch.approved_at is not None
    again = boss.post(f"/batches/{number}/approve", data={"csrf": boss_token})
    assert again.status_code == 400 and "不能审批" in again.text
    assert len(audit_rows(env, "batch_approve")) == 1


def test_send_and_discard_follow_the_batch_states(env: Any) -> None:
    draft = make_batch(env, "cac")
    approved = make_batch(env, "miit", approve=True)
    client, token = signed_in(env)
    assert client.post(f"/batches/{draft}/send", data={"csrf": token}).status_code == 400
    assert client.post(f"/batches/{approved}/discard", data={"csrf": token}).status_code == 400
    assert client.post(f"/batches/{approved}/send", data={"csrf": "nope"}).status_code == 400
    assert batch_state(env, draft) == "draft" and batch_state(env, approved) == "approved"
    assert 'id="send-button"' in client.get(f"/batches/{approved}").text

    sent = client.post(f"/batches/{approved}/send", data={"csrf": token}, follow_redirects=False)
    assert sent.status_code == 303 and batch_state(env, approved) == "sent"
    with env.sessions() as s:
        batch = s.scalar(select(ReferralBatch).where(ReferralBatch.number == approved))
        assert batch.sent_by == "analyst1" and batch.sent_at is not None
    assert "已标记为已发送" in client.get(sent.headers["location"]).text

    discarded = client.post(f"/batches/{draft}/discard", data={"csrf": token}, follow_redirects=False)
    assert discarded.status_code == 303 and discarded.headers["location"] == "/batches?done=discarded"
    assert batch_state(env, draft) is None
    page = client.get("/batches").text
    assert waiting(page, "cac") == 1  # the discarded draft's hit waits again
    assert audit_rows(env, "batch_send", "batch_discard") == [
        ("analyst1", "batch_send", f"batch:{approved}"),
        ("analyst1", "batch_discard", f"batch:{draft}"),
    ]


def test_the_authoritys_answer_is_uploaded_checked_whole_and_imported(env: Any) -> None:
    number = make_batch(env, "miit", send_at=datetime(2026, 11, 2, 2, 0, tzinfo=UTC))
    client, token = signed_in(env)
    with env.sessions() as s:
        targets = sorted(
            s.scalars(select(ReferralItem.target).join(ReferralBatch).where(ReferralBatch.number == number))
        )
    assert 'id="answer-form"' in client.get(f"/batches/{number}").text
    url = f"/batches/{number}/answer"

    def upload(name: str, body: bytes, csrf: str = token) -> Any:
        return client.post(url, data={"csrf": csrf}, files={"file": (name, body, "text/csv")}, follow_redirects=False)

    good = "\ufeff主域名,处置结果,受理编号\n" + "".join(f"{t},已关停,ZJ-2026-{i}\n" for i, t in enumerate(targets))
    assert upload("回复.csv", good.encode(), csrf="forged").status_code == 400
    assert upload("回复.exe", b"MZ").status_code == 400
    bad = upload("回复.csv", (good + "no-such.example.cn,已关停,\n").encode())
    assert bad.status_code == 400
    assert "回复.csv 未导入" in bad.text and f"第 {len(targets) + 2} 行" in bad.text and "不在批次" in bad.text
    assert batch_state(env, number) == "sent"  # nothing imported from a file with a bad line

    done = upload("回复.csv", good.encode())
    assert done.status_code == 303 and done.headers["location"] == f"/batches/{number}?done=answered"
    assert batch_state(env, number) == "answered"
    html = client.get(done.headers["location"]).text
    assert "部门回复已导入" in html and "已关停" in html and "ZJ-2026-0" in html
    assert audit_rows(env, "batch_answer") == [("analyst1", "batch_answer", f"batch:{number}")]


def test_export_and_download_stay_in_the_export_folder(env: Any) -> None:
    draft = make_batch(env, "cac")
    client, token = signed_in(env)
    refused = client.post(f"/batches/{draft}/export", data={"csrf": token})
    assert refused.status_code == 400 and "尚未审批" in refused.text
    assert not (env.config.var_dir / EXPORT_FOLDER / draft).exists()

    number = make_batch(env, "miit", approve=True)
    assert client.post(f"/batches/{number}/export", data={"csrf": "bad"}).status_code == 400
    done = client.post(f"/batches/{number}/export", data={"csrf": token}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == f"/batches/{number}?done=exported"
    page = client.get(done.headers["location"]).text
    names = re.findall(rf'href="/batches/{number}/files/([^"]+)"', page)
    assert sorted(names) == sorted([f"{number}.xlsx", f"{number}.csv", f"{number}-letter.docx",
                                    f"{number}-evidence.zip"])  # fmt: skip
    folder = env.config.var_dir / EXPORT_FOLDER / number
    xlsx = client.get(f"/batches/{number}/files/{number}.xlsx")
    assert xlsx.status_code == 200 and "attachment" in xlsx.headers["content-disposition"]
    assert xlsx.content == (folder / f"{number}.xlsx").read_bytes()
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert ICP_NUMBER in [c.value for c in sheet[2]]
    with zipfile.ZipFile(io.BytesIO(client.get(f"/batches/{number}/files/{number}-evidence.zip").content)) as z:
        assert "SHA256SUMS" in z.namelist()
    # a second export gives the same files (the function refuses to overwrite different ones)
    assert client.post(f"/batches/{number}/export", data={"csrf": token}).status_code == 200
    assert audit_rows(env, "batch_export") == [("analyst1", "batch_export", f"batch:{number}")] * 2
    assert ("analyst1", "export", f"batch:{number}") in audit_rows(env, "export")

    secret = env.config.var_dir / "web_secret"
    (folder / "link-out").symlink_to(secret)
    (env.config.var_dir / EXPORT_FOLDER / "other.txt").write_text("not a batch file", encoding="utf-8")
    for name in ("..%2F..%2Fweb_secret", "..%2Fother.txt", "link-out", "%2Fetc%2Fpasswd", "x.xlsx", "%2E%2E"):
        response = client.get(f"/batches/{number}/files/{name}")
        assert response.status_code in (404, 400), name
        assert secret.read_text() not in response.text and "not a batch file" not in response.text
    assert client.get(f"/batches/{draft}/files/{number}.csv").status_code == 404  # another batch's file
    assert client.get("/batches/..%2F..%2Fweb_secret/files/web_secret").status_code in (400, 404)


# hostile data --------------------------------------------------------------------------------------------


def test_hostile_crawled_url_and_title_in_a_batch_stay_inert(env: Any) -> None:
    number = make_batch(env, "cac")
    with env.sessions() as s:
        item = s.scalar(select(ReferralItem).where(ReferralItem.hit_id == env.hits["hostile"]))
        assert item.target == XSS_URL
    client, _token = signed_in(env)
    html = client.get(f"/batches/{number}").text
    body = html.split("</head>")[1]
    assert "<script>window.__pwned" not in body and "<img src=x" not in body
    assert 'href="javascript' not in body
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in body
    assert "javascript:window.__pwned=6//http://evil.example/" in body  # shown as text, not a link
    assert "非 http(s) 网址，不提供链接" in body
    listing = client.get("/batches").text.split("</head>")[1]
    assert "<script" not in listing


# dashboard ----------------------------------------------------------------------------------------------


def test_dashboard_shows_takedowns_over_time_and_the_report_figures(env: Any) -> None:
    today = datetime.now(CHINA).date()
    sent_at = datetime.combine(today - timedelta(days=6), datetime.min.time(), CHINA).astimezone(UTC)
    sent_at += timedelta(hours=2)
    miit = make_batch(env, "miit", send_at=sent_at)
    cac = make_batch(env, "cac", send_at=sent_at)
    make_batch(env, "police", approve=True)  # approved, not sent: not a referral yet
    with env.sessions.begin() as s:
        items = s.scalars(select(ReferralItem)).all()

        def checks(hit: str, *outcomes: tuple[int, str]) -> None:
            [item] = [i for i in items if i.hit_id == env.hits[hit] and i.batch.number in (miit, cac)]
            for days, outcome in outcomes:
                s.add(Recheck(item_id=item.id, checked_at=sent_at + timedelta(days=days), outcome=outcome,
                              reason="test", http_status=None))  # fmt: skip

        checks("scalper", (1, "still_online"), (3, "removed"), (5, "removed"))  # removed 3 days after sending
        checks("scalper2", (1, "still_online"))
        checks("hostile", (1, "removed"))  # cac: removed on day 1
    client, _token = signed_in(env)
    html = client.get("/dashboard").text
    assert html.count("<svg") == 7
    chart = re.search(r"<svg[^>]*aria-label=\"每日删除/关闭[^\"]*\".*?</svg>", html, re.S).group(0)
    day3 = (today - timedelta(days=3)).isoformat()
    day5 = (today - timedelta(days=5)).isoformat()
    assert f"<title>{day3} 通信管理局: 1</title>" in chart
    assert f"<title>{day5} 网信部门: 1</title>" in chart
    assert chart.count("<rect") == 2 + 2  # two bars, two legend swatches
    referred = re.search(r"<svg[^>]*aria-label=\"每日移交[^\"]*\".*?</svg>", html, re.S).group(0)
    day6 = (today - timedelta(days=6)).isoformat()
    assert f"<title>{day6} 通信管理局: 2</title>" in referred and f"<title>{day6} 网信部门: 1</title>" in referred

    table = re.search(r'<table class="precision" id="takedown-figures">.*?</table>', html, re.S).group(0)
    rows = re.findall(r"<tr><td>([^<]+)</td>((?:<td>[^<]*</td>)+)</tr>", table)
    cells = {label: re.findall(r"<td>([^<]*)</td>", rest) for label, rest in rows}
    assert cells["合计"] == ["3", "2", "1", "0", "67%", "2.0"]  # median of 3 (miit) and ~1 (cac) days
    assert cells["通信管理局"] == ["2", "1", "1", "0", "50%", "3.0"]
    assert cells["网信部门"] == ["1", "1", "0", "0", "100%", "1.0"]
    assert cells["公安机关"] == ["0", "0", "0", "0", "-", "-"]
    with env.sessions() as s:  # the same figures as the summary report of the same referrals
        report = build_report(s, date(2000, 1, 1), today)
    total = report.total
    assert [total.referred, total.removed, total.still_online, total.pending] == [3, 2, 1, 0]
    assert total.median_days == 2.0

    weekly = client.get("/dashboard?days=90").text
    assert "每周删除/关闭" in weekly
    week_chart = re.search(r"<svg[^>]*aria-label=\"每周删除/关闭[^\"]*\".*?</svg>", weekly, re.S).group(0)
    assert sum(int(n) for n in re.findall(r"<title>\S+ \S+: (\d+)</title>", week_chart)) == 2
