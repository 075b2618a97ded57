"""The web app: `create_app(config, sessions=None)` builds the FastAPI application (routes, templates, static
files, security headers). Pages are rendered on the server with Jinja2 (autoescaping on); the small script in
``static/app.js`` only adds keyboard shortcuts, in-place verdicts and the live lexicon test box.

Every page but the login page needs a session; supervisors alone see the audit log. Every POST carries the
session's CSRF token (a form field or the ``X-CSRF-Token`` header). Crawled titles, texts and URLs are only
ever inserted as escaped text; a crawled URL becomes a link only when it is plain http(s), with
``rel="noopener noreferrer"``, and a crawled page's HTML is never served.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from collections.abc import MutableMapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload, sessionmaker
from starlette.concurrency import run_in_threadpool

from crawler.config import Config
from crawler.hitlist import CHINA
from crawler.labels import AUTHORITIES, CATEGORIES, HIT_STATUSES
from crawler.scoring import inputs_from_config, make_scorer
from keywords import Scorer
from keywords.lexicon import GROUPS, load_lexicon
from referrals.report import referral_figures, sent_items
from review import charts, stats
from review.auth import LOGIN_COOKIE, SESSION_COOKIE, LoginLimiter, SessionCodec, load_secret, same_token
from review.auth import verify_password as check_password
from review.evidence import ScreenshotFinder, evidence_screenshots, screenshot_file
from review.hitquery import SORTS, HitFilters, grouped, list_hits
from review.marks import safe_link as safe_link_of
from review.marks import segments
from storage import audit
from storage.lexiconedits import EditError, apply_edits, current_edits, edit_level, history, propose
from storage.models import AuditEvent, CrawlRun, Hit, Page, Source, User
from storage.users import ROLE_RANK, get_user
from storage.verdicts import VerdictError, hit_verdicts, record_verdicts

log = logging.getLogger(__name__)
HERE = Path(__file__).resolve().parent

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]
DISMISS_REASONS = (
    "正常内容，非违规",
    "官方或正规机构页面",
    "新闻报道或打击通报",
    "重复命中",
    "页面已删除或无法访问",
    "其他",
)
CONTACT_KINDS = {"mobile": "手机", "wechat": "微信", "qq": "QQ", "landline": "座机", "tollfree": "400/800"}
IDENTIFIER_KINDS = {
    "icp": "ICP 备案号",
    "icp_licence": "ICP 经营许可证",
    "police_filing": "公安备案号",
    "ad_cert": "医疗广告审查证明",
    "uscc": "统一社会信用代码",
    "drug_info": "药品信息服务资格证",
}
GROUP_LABELS = {
    "service": "代挂号服务",
    "guarantee": "保证/包成功",
    "fees": "收费",
    "identity": "身份/渠道",
    "disguise": "伪装说法",
    "cta": "招揽联系",
    "tout": "医托话术",
    "cure": "疗效承诺",
    "ad_claims": "广告用语",
    "context": "正常语境 (负分)",
}
AUDIT_ACTIONS = {
    "login": "登录",
    "login_failed": "登录失败",
    "logout": "退出",
    "verdict": "审核结论",
    "reopen": "重新打开",
    "lexicon_change": "词库修改",
    "allowlist_change": "白名单修改",
    "export": "导出",
    "batch_create": "创建移交批次",
    "batch_approve": "批准移交批次",
    "batch_export": "导出移交批次",
    "batch_send": "移交批次已发送",
    "batch_discard": "删除草稿批次",
    "batch_answer": "导入部门回复",
    "user_add": "添加账号",
}
MAX_TEST_TEXT = 20_000


class LoginRequired(Exception):
    """No valid session: pages redirect to the login page, script requests get 401."""


class Forbidden(Exception):
    """A valid session whose role may not do this."""


class BadRequest(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class SecurityHeaders:
    """Adds the security headers to every response (pages, static files, errors)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = [h for h in message.get("headers", []) if h[0].lower() not in dict(SECURITY_HEADERS)]
                headers += SECURITY_HEADERS
                if not scope["path"].startswith("/static/"):
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


def local_path(value: str | None, default: str = "/hits") -> str:
    """A redirect target that stays on this site (a path, never ``//host`` or a scheme)."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")) or any(c in value for c in "\r\n\\"):
        return default
    return value


def china(value: datetime | None) -> str:
    return value.astimezone(CHINA).strftime("%Y-%m-%d %H:%M") if value else ""


def wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


@dataclass(frozen=True)
class Viewer:
    """The signed-in account as pages show it."""

    id: int
    name: str
    role: str


class App:
    """The state behind the routes: config, database, cookie codec, login limiter, scorer cache, finder."""

    def __init__(self, config: Config, sessions: sessionmaker[Session], screenshots: ScreenshotFinder) -> None:
        self.config = config
        self.sessions = sessions
        self.screenshots = screenshots
        self.codec = SessionCodec(load_secret(config), max_age_seconds=config.web.session_hours * 3600)
        self.limiter = LoginLimiter(config.web.login_max_failures, config.web.login_window_minutes * 60)
        self.scoring_inputs = inputs_from_config(config, with_database=True)
        self._scorer: tuple[int, Scorer] | None = None
        env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=True, auto_reload=False)
        env.filters["china"] = china
        env.globals.update(
            CATEGORIES=CATEGORIES,
            HIT_STATUSES=HIT_STATUSES,
            AUTHORITIES=AUTHORITIES,
            CONTACT_KINDS=CONTACT_KINDS,
            IDENTIFIER_KINDS=IDENTIFIER_KINDS,
            GROUP_LABELS=GROUP_LABELS,
            AUDIT_ACTIONS=AUDIT_ACTIONS,
            DISMISS_REASONS=DISMISS_REASONS,
            SORTS=SORTS,
            safe_link=safe_link_of,
        )
        self.templates = Jinja2Templates(env=env)

    # sessions ------------------------------------------------------------------------------------------

    def user(self, request: Request, db: Session, role: str = "analyst") -> User:
        data = self.codec.read(request.cookies.get(SESSION_COOKIE))
        user = db.get(User, data.user_id) if data else None
        if data is None or not self.codec.still_valid(data, user):
            raise LoginRequired
        assert user is not None
        if ROLE_RANK.get(user.role, 0) < ROLE_RANK[role]:
            raise Forbidden
        request.state.csrf = data.csrf
        request.state.viewer = Viewer(user.id, user.name, user.role)  # outlives the database session
        return user

    def check_csrf(self, request: Request, form: Any) -> None:
        given = request.headers.get("x-csrf-token") or (form.get("csrf") if form is not None else None)
        if not same_token(getattr(request.state, "csrf", None), given):
            raise BadRequest("表单已失效 (CSRF 校验失败)，请刷新页面后重试")

    def scorer(self, db: Session) -> Scorer:
        """The scorer crawls would build now: rebuilt when the lexicon was edited since the last one."""
        level = edit_level(db)
        if self._scorer is None or self._scorer[0] != level:
            self._scorer = (level, make_scorer(self.scoring_inputs))
        return self._scorer[1]

    def render(self, request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        context.setdefault("user", getattr(request.state, "viewer", None))
        context.setdefault("csrf", getattr(request.state, "csrf", ""))
        return self.templates.TemplateResponse(request, template, context, status_code=status_code)


def create_app(
    config: Config, sessions: sessionmaker[Session] | None = None, *, screenshots: ScreenshotFinder | None = None
) -> FastAPI:
    """The web app for ``config``; ``sessions`` defaults to the configured database (migrated on start)."""
    if sessions is None:
        from crawler.command import open_database

        sessions = open_database(config)
    state = App(config, sessions, screenshots or evidence_screenshots(config))
    app = FastAPI(title="touthunt", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.review = state
    app.add_middleware(SecurityHeaders)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    from review import batchpages  # imports this module's helpers, so only once create_app runs

    batchpages.register(app, state)

    @app.exception_handler(LoginRequired)
    async def _login_required(request: Request, _exc: LoginRequired) -> Response:
        if wants_json(request) or request.method != "GET":
            return JSONResponse({"error": "请先登录"}, status_code=401)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, _exc: Forbidden) -> Response:
        if wants_json(request):
            return JSONResponse({"error": "无权限"}, status_code=403)
        return state.render(request, "message.html", 403, title="无权限", message="此页面仅限主管账号访问。")

    @app.exception_handler(BadRequest)
    async def _bad_request(request: Request, exc: BadRequest) -> Response:
        if wants_json(request):
            return JSONResponse({"error": exc.message}, status_code=400)
        return state.render(request, "message.html", 400, title="无法完成", message=exc.message)

    # login --------------------------------------------------------------------------------------------

    def login_page(request: Request, *, error: str = "", status: int = 200, name: str = "") -> Response:
        cookie, csrf = state.codec.login_token()
        response = state.render(
            request,
            "login.html",
            status,
            csrf=csrf,
            error=error,
            name=name,
            next=local_path(request.query_params.get("next")),
        )
        response.set_cookie(
            LOGIN_COOKIE, cookie, max_age=3600, httponly=True, samesite="lax", secure=config.web.secure_cookies
        )
        return response

    @app.get("/login")
    def login_form(request: Request) -> Response:
        return login_page(request)

    @app.post("/login")
    async def login(request: Request) -> Response:
        form = await request.form()
        name = str(form.get("name") or "").strip()[:64]
        password = str(form.get("password") or "")[:1024]
        target = local_path(str(form.get("next") or ""))
        if not same_token(state.codec.read_login_token(request.cookies.get(LOGIN_COOKIE)), str(form.get("csrf") or "")):
            return login_page(request, error="登录表单已失效，请重新输入", status=400, name=name)
        ip = request.client.host if request.client else "unknown"
        keys = (f"user:{name}", f"ip:{ip}")

        def attempt() -> tuple[str | None, float]:
            with state.sessions.begin() as db:
                wait = state.limiter.blocked_for(*keys)
                if wait > 0:
                    audit.record(db, name or "?", "login_failed", f"user:{name}", ip=ip, reason="rate_limited")
                    return None, wait
                user = get_user(db, name) if name else None
                ok = check_password(user.password_hash if user else "", password) and user is not None and user.active
                if not ok:
                    state.limiter.failed(*keys)
                    audit.record(db, name or "?", "login_failed", f"user:{name}", ip=ip, reason="bad_password")
                    return None, 0
                assert user is not None
                state.limiter.succeeded(keys[0])
                audit.record(db, user.name, "login", f"user:{user.name}", ip=ip)
                token, _data = state.codec.issue(user)
                return token, 0

        token, wait = await run_in_threadpool(attempt)
        if wait > 0:
            minutes = max(1, round(wait / 60))
            return login_page(request, error=f"登录失败次数过多，请约 {minutes} 分钟后再试", status=429, name=name)
        if token is None:
            return login_page(request, error="用户名或密码错误", status=401, name=name)
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(
            SESSION_COOKIE,
            token,
            max_age=state.codec.max_age,
            httponly=True,
            samesite="lax",
            secure=config.web.secure_cookies,
        )
        response.delete_cookie(LOGIN_COOKIE)
        return response

    @app.post("/logout")
    async def logout(request: Request) -> Response:
        form = await request.form()

        def out() -> None:
            with state.sessions.begin() as db:
                user = state.user(request, db)
                state.check_csrf(request, form)
                user.session_epoch = (user.session_epoch or 0) + 1  # the cookie, even if copied, is dead now
                audit.record(db, user.name, "logout", f"user:{user.name}")

        await run_in_threadpool(out)
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE)
        return response

    # hit list -----------------------------------------------------------------------------------------

    @app.get("/")
    def home() -> Response:
        return RedirectResponse("/hits", status_code=303)

    @app.get("/hits")
    def hits(request: Request) -> Response:
        filters = HitFilters.from_query(request.query_params)
        with state.sessions() as db:
            state.user(request, db)
            page = list_hits(db, filters, page_size=config.web.page_size)
            sources = list(db.scalars(select(Source.name).order_by(Source.name)))
            cover = stats.coverage(db, tuple(s.name for s in config.sources if s.enabled))
            new_total = db.scalar(select(func.count(Hit.id)).where(Hit.status == "new")) or 0
            return state.render(
                request,
                "hits.html",
                filters=filters,
                page=page,
                groups=grouped(page.hits),
                sources=sources,
                coverage=cover,
                degraded=[c for c in cover if c.degraded],
                new_total=new_total,
                today=(today := datetime.now(CHINA).date()),
                week_ago=today - timedelta(days=6),
                done=request.query_params.get("done", ""),
                here="/hits" + (f"?{query}" if (query := filters.query_string()) else ""),
            )

    @app.post("/hits/bulk")
    async def bulk(request: Request) -> Response:
        form = await request.form()

        def apply() -> tuple[str, int]:
            with state.sessions.begin() as db:
                user = state.user(request, db)
                state.check_csrf(request, form)
                ids = [int(v) for v in form.getlist("hit_id") if str(v).isdigit()][:1000]
                verdict = str(form.get("verdict") or "")
                reason = " ".join(x for x in (str(form.get("reason") or ""), str(form.get("reason_text") or "")) if x)
                try:
                    outcome = record_verdicts(
                        db,
                        ids,
                        actor=user.name,
                        verdict=verdict,
                        category=str(form.get("category") or "") or None,
                        reason=reason,
                        note=str(form.get("note") or ""),
                    )
                except VerdictError as exc:
                    raise BadRequest(str(exc)) from None
                return verdict, len(outcome.verdicts)

        verdict, count = await run_in_threadpool(apply)
        back = local_path(str(form.get("back") or ""))
        joiner = "&" if "?" in back else "?"
        return RedirectResponse(f"{back}{joiner}done={verdict}-{count}", status_code=303)

    # hit detail ---------------------------------------------------------------------------------------

    def load_hit(db: Session, hit_id: int) -> Hit:
        hit = db.scalars(
            select(Hit)
            .where(Hit.id == hit_id)
            .options(
                selectinload(Hit.page).options(
                    selectinload(Page.source),
                    selectinload(Page.contacts),
                    selectinload(Page.identifiers),
                    selectinload(Page.cluster),
                )
            )
        ).one_or_none()
        if hit is None:
            raise BadRequest(f"不存在编号为 {hit_id} 的命中")
        return hit

    @app.get("/hits/{hit_id}")
    def hit_detail(request: Request, hit_id: int) -> Response:
        with state.sessions() as db:
            state.user(request, db)
            hit = load_hit(db, hit_id)
            page = hit.page
            text_segments, truncated = segments(page.text, hit.reasons)
            cluster_pages: list[Page] = []
            if page.cluster_id is not None:
                cluster_pages = list(
                    db.scalars(
                        select(Page)
                        .where(Page.cluster_id == page.cluster_id, Page.id != page.id)
                        .options(selectinload(Page.hit))
                        .order_by(Page.last_seen.desc())
                        .limit(50)
                    )
                )
            runs = {
                run.id: run
                for run in db.scalars(select(CrawlRun).where(CrawlRun.id.in_([page.first_run_id, page.last_run_id])))
            }
            neighbours = adjacent(db, hit.id)
            return state.render(
                request,
                "hit.html",
                hit=hit,
                page=page,
                segments=text_segments,
                truncated=truncated,
                cluster_pages=cluster_pages,
                verdicts=hit_verdicts(db, hit.id),
                first_run=runs.get(page.first_run_id or -1),
                last_run=runs.get(page.last_run_id or -1),
                icp=[i for i in page.identifiers if i.kind in ("icp", "icp_licence")],
                has_screenshot=screenshot_file(state.screenshots, db, page) is not None,
                link=safe_link_of(page.final_url),
                back=local_path(request.query_params.get("back")),
                neighbours=neighbours,
                done=request.query_params.get("done", ""),
            )

    def adjacent(db: Session, hit_id: int) -> dict[str, int | None]:
        """The next new hit after this one in id order (the detail page's "next" for working through a day)."""
        nxt = db.scalar(select(func.min(Hit.id)).where(Hit.status == "new", Hit.id > hit_id))
        return {"next": nxt}

    @app.get("/hits/{hit_id}/screenshot")
    def hit_screenshot(request: Request, hit_id: int) -> Response:
        with state.sessions() as db:
            state.user(request, db)
            found = screenshot_file(state.screenshots, db, load_hit(db, hit_id).page)
        if found is None:
            return Response("无截图", status_code=404, media_type="text/plain; charset=utf-8")
        return FileResponse(found[0], media_type=found[1], headers={"content-disposition": "inline"})

    @app.post("/hits/{hit_id}/verdict")
    async def verdict(request: Request, hit_id: int) -> Response:
        form = await request.form()

        def apply() -> dict[str, Any]:
            with state.sessions.begin() as db:
                user = state.user(request, db)
                state.check_csrf(request, form)
                kind = str(form.get("verdict") or "")
                reason = " ".join(x for x in (str(form.get("reason") or ""), str(form.get("reason_text") or "")) if x)
                try:
                    record_verdicts(
                        db,
                        [hit_id],
                        actor=user.name,
                        verdict=kind,
                        category=str(form.get("category") or "") or None,
                        reason=reason,
                        note=str(form.get("note") or ""),
                    )
                except VerdictError as exc:
                    raise BadRequest(str(exc)) from None
                hit = db.get_one(Hit, hit_id)
                return {
                    "id": hit.id,
                    "status": hit.status,
                    "status_label": HIT_STATUSES[hit.status],
                    "category": hit.category,
                    "category_label": CATEGORIES.get(hit.category, hit.category),
                }

        result = await run_in_threadpool(apply)
        if wants_json(request):
            return JSONResponse(result)
        back = local_path(str(form.get("back") or ""), default=f"/hits/{hit_id}")
        joiner = "&" if "?" in back else "?"
        return RedirectResponse(f"{back}{joiner}done={result['status']}", status_code=303)

    # lexicon ------------------------------------------------------------------------------------------

    def base_lexicon() -> Any:
        inputs = state.scoring_inputs
        return load_lexicon(Path(inputs.lexicon_dir) if inputs.lexicon_dir else None)

    @app.get("/lexicon")
    def lexicon_page(request: Request) -> Response:
        group = request.query_params.get("group", "")
        group = group if group in GROUPS else "service"
        with state.sessions() as db:
            state.user(request, db)
            base = base_lexicon()
            edits = current_edits(db)
            try:
                effective = apply_edits(base, edits)
                problem = ""
            except EditError as exc:
                effective, problem = base, str(exc)
            return state.render(
                request,
                "lexicon.html",
                group=group,
                groups=GROUPS,
                terms=[t for t in effective.terms if t.group == group],
                domains=sorted(effective.official_domains),
                edits=edits,
                changes=history(db, limit=100),
                version=effective.version,
                problem=problem,
                done=request.query_params.get("done", ""),
            )

    @app.post("/lexicon/edit")
    async def lexicon_edit(request: Request) -> Response:
        form = await request.form()

        def apply() -> str:
            with state.sessions.begin() as db:
                user = state.user(request, db)
                state.check_csrf(request, form)
                weight_text = str(form.get("weight") or "").strip()
                try:
                    weight = float(weight_text) if weight_text else None
                except ValueError:
                    raise BadRequest(f"权重 {weight_text!r} 不是数字") from None
                flags = ",".join(str(f) for f in form.getlist("flags"))
                try:
                    change = propose(
                        db,
                        base_lexicon(),
                        author=user.name,
                        kind=str(form.get("kind") or ""),
                        action=str(form.get("action") or ""),
                        group=str(form.get("group") or ""),
                        text=str(form.get("text") or "")[:255],
                        weight=weight,
                        flags=flags,
                        note=str(form.get("note") or ""),
                    )
                except EditError as exc:
                    raise BadRequest(str(exc)) from None
                return change.group or "service"

        group = await run_in_threadpool(apply)
        return RedirectResponse(f"/lexicon?group={quote(group)}&done=1", status_code=303)

    @app.post("/lexicon/test")
    async def lexicon_test(request: Request) -> Response:
        form = await request.form()
        text = str(form.get("text") or "")[:MAX_TEST_TEXT]
        url = str(form.get("url") or "").strip()[:2048] or None

        def run() -> dict[str, Any]:
            with state.sessions() as db:
                state.user(request, db)
                state.check_csrf(request, form)
                scorer = state.scorer(db)
            result = scorer.score(text, url=url)
            return {
                "score": result.score,
                "hit": result.hit,
                "category": result.category,
                "category_label": CATEGORIES.get(result.category or "", "无"),
                "lexicon_version": result.lexicon_version,
                "reasons": [
                    {"rule_id": r.rule_id, "text": r.text, "weight": round(r.weight, 2)} for r in result.reasons
                ],
                "contacts": {k: v for k, v in result.contacts.items() if v},
            }

        result = await run_in_threadpool(run)
        if wants_json(request):
            return JSONResponse(result)
        return state.render(request, "lexicon_test.html", result=result, text=text, url=url or "")

    # dashboards ---------------------------------------------------------------------------------------

    @app.get("/dashboard")
    def dashboard(request: Request) -> Response:
        try:
            days_wanted = max(7, min(180, int(request.query_params.get("days", "30"))))
        except ValueError:
            days_wanted = 30
        with state.sessions() as db:
            state.user(request, db)
            days = stats.day_range(days_wanted)
            by_category, by_source = stats.hits_per_day(db, days)
            backlog = stats.backlog(db)
            per_source, per_rule = stats.precision(db)
            referred = stats.referrals_per_day(db, days)
            sent = sent_items(db, with_hits=False)  # every sent referral: the figures and the take-downs
            taken_down = stats.takedowns_over_time(sent, days)
            total, by_authority = referral_figures(sent)

            def precision_chart(title: str, rows: list[stats.Precision]) -> Any:
                return charts.horizontal_bars(
                    title,
                    [(p.label, p.ratio, f"{p.ratio:.0%} ({p.confirmed}/{p.decided})") for p in rows],
                    maximum=1.0,
                )

            return state.render(
                request,
                "dashboard.html",
                days=days_wanted,
                chart_category=charts.stacked_bars("每日新命中 (按类别)", by_category.days, by_category.series),
                chart_source=charts.stacked_bars("每日新命中 (按来源)", by_source.days, by_source.series),
                chart_backlog=charts.horizontal_bars(
                    "待审核积压 (按发现时间)", [(label, n, str(n)) for label, n in backlog.by_age]
                ),
                chart_source_precision=precision_chart("各来源准确率 (已确认 / 已审核)", per_source),
                chart_rule_precision=precision_chart("各规则准确率 (审核最多的规则)", per_rule),
                chart_referrals=charts.stacked_bars("每日移交 (按部门)", referred.days, referred.series),
                chart_takedowns=charts.stacked_bars(
                    f"{'每周' if len(days) > stats.WEEKLY_AFTER else '每日'}删除/关闭 (按部门，以复查确认为准)",
                    taken_down.days,
                    taken_down.series,
                ),
                referral_rows=[("合计", total), *((AUTHORITIES.get(c, c), f) for c, f in by_authority.items())],
                backlog=backlog,
                per_source=per_source,
                per_rule=per_rule,
            )

    # audit log ----------------------------------------------------------------------------------------

    def audit_query(request: Request) -> Any:
        action = request.query_params.get("action", "")
        actor = request.query_params.get("actor", "").strip()[:64]
        stmt = select(AuditEvent).order_by(AuditEvent.id.desc())
        if action in AUDIT_ACTIONS:
            stmt = stmt.where(AuditEvent.action == action)
        if actor:
            stmt = stmt.where(AuditEvent.actor == actor)
        return stmt, action if action in AUDIT_ACTIONS else "", actor

    @app.get("/audit")
    def audit_page(request: Request) -> Response:
        with state.sessions() as db:
            state.user(request, db, role="supervisor")
            stmt, action, actor = audit_query(request)
            events = list(db.scalars(stmt.limit(500)))
            return state.render(
                request,
                "audit.html",
                events=events,
                action=action,
                actor=actor,
                detail_text=lambda d: json.dumps(d, ensure_ascii=False, sort_keys=True),
                query=request.url.query,
            )

    @app.get("/audit.csv")
    def audit_csv(request: Request) -> Response:
        with state.sessions.begin() as db:
            user = state.user(request, db, role="supervisor")
            stmt, action, actor = audit_query(request)
            events = list(db.scalars(stmt.limit(100_000)))
            buffer = io.StringIO()
            writer = csv.writer(buffer)
            writer.writerow(["编号", "时间 (北京时间)", "账号", "操作", "对象", "详情"])
            for event in events:
                row = [
                    event.id,
                    china(event.at),
                    event.actor,
                    AUDIT_ACTIONS.get(event.action, event.action),
                    event.target,
                    json.dumps(event.detail, ensure_ascii=False, sort_keys=True),
                ]
                writer.writerow([csv_cell(v) for v in row])
            audit.record(
                db, user.name, "export", "audit_log", rows=len(events), filter_action=action, filter_actor=actor
            )
        body = "\ufeff" + buffer.getvalue()
        stamp = datetime.now(CHINA).strftime("%Y%m%d-%H%M%S")
        return Response(
            body.encode("utf-8"),
            media_type="text/csv; charset=utf-8",
            headers={"content-disposition": f'attachment; filename="touthunt-audit-{stamp}.csv"'},
        )

    return app


def csv_cell(value: Any) -> Any:
    """A CSV cell that a spreadsheet will not run as a formula."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


__all__ = ["CONTENT_SECURITY_POLICY", "create_app", "csv_cell", "local_path"]
