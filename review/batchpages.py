"""The referral batch pages of the web app (移交批次): the list with a filter by authority and state and the
number of confirmed hits waiting for each authority, one batch's items (target, ICP filing and bureau for
miit, category, whether evidence was captured, the authority's answer, the re-checks so far), and the
actions: create a batch (analyst), approve a draft (supervisor only: the button is not shown to analysts
and the POST answers 403), mark an approved batch sent, discard a draft, export the package and download
its files, and import the authority's answer file (CSV or xlsx, as ``touthunt batch answer``).

Every action is a POST with the session's CSRF token and goes through ``referrals.batches`` or
``referrals.package.export_batch``, which check the state, the account's role and write the audit event; this
module only reads, renders and translates their errors. Exports are written under
``<paths.var_dir>/web-exports/<NUMBER>/``; a download serves only a regular file listed in that batch's
folder, found by comparing names (never by joining a requested path).

``register(app, state)`` is called by ``review.app.create_app``.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload
from starlette.concurrency import run_in_threadpool

from crawler.errors import AccessError, ExportError
from crawler.labels import AUTHORITIES, BATCH_STATUSES, RECHECK_OUTCOMES
from referrals.answers import import_answer
from referrals.batches import approve_batch, candidate_hits, create_batch, discard_batch, get_batch, mark_sent
from referrals.package import export_batch
from referrals.platforms import load_platforms
from referrals.report import Figures, count_referral, fate_of
from referrals.routing import AUTHORITY_CODES, IcpRouting, icp_for_domain
from referrals.sheets import evidence_by_hit
from storage import audit
from storage.models import Recheck, ReferralBatch, ReferralItem

if TYPE_CHECKING:
    from review.app import App

EXPORT_FOLDER = "web-exports"
MAX_BATCHES = 500
MAX_ANSWER_BYTES = 5_000_000  # an answer file lists a batch's targets: a few hundred KB at most
FATES = {"removed": "已删除/关闭", "still_online": "仍在线", "pending": "待复查"}
ITEM_STATES = {"open": "跟踪中", "closed": "已关闭 (连续两次复查已删除)"}
MEDIA_TYPES = {
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".csv": "text/csv; charset=utf-8",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".zip": "application/zip",
}


def export_root(state: App) -> Path:
    return state.config.var_dir / EXPORT_FOLDER


def exported_files(root: Path, number: str) -> list[tuple[str, int]]:
    """(name, size) of the regular files in the batch's export folder, if that folder is inside ``root``."""
    folder = root / number
    try:
        if folder.resolve().parent != root.resolve() or not folder.is_dir():
            return []
        return sorted((p.name, p.stat().st_size) for p in folder.iterdir() if p.is_file() and not p.is_symlink())
    except OSError:
        return []


@dataclass(frozen=True)
class ItemView:
    """One referral item as the batch page shows it."""

    item: ReferralItem
    fate: str  # key of FATES, "" while the batch was not sent
    rechecks: list[Recheck]
    icp: IcpRouting | None  # miit only
    has_evidence: bool  # a kept evidence capture exists (the export packs it)


def batch_figures(batch: ReferralBatch) -> Figures:
    """The batch's referred / removed / still online / pending counts (all zero until it is sent)."""
    figures = Figures()
    if batch.sent_at is not None:
        for item in batch.items:
            count_referral(fate_of(item, batch.sent_at), figures)
    return figures


def register(app: FastAPI, state: App) -> None:
    """Add the batch pages to ``app``."""
    from review.app import BadRequest, local_path

    config = state.config
    platforms = load_platforms(config.referrals.platform_domains)

    def refused(exc: Exception) -> BadRequest:
        return BadRequest(str(exc))

    def load(db: Session, number: str) -> ReferralBatch:
        try:
            return get_batch(db, number[:60])
        except ExportError as exc:
            raise refused(exc) from None

    @app.get("/batches")
    def batches(request: Request) -> Response:
        authority = request.query_params.get("authority", "")
        status = request.query_params.get("status", "")
        authority = authority if authority in AUTHORITIES else ""
        status = status if status in BATCH_STATUSES else ""
        with state.sessions() as db:
            state.user(request, db)
            stmt = (
                select(ReferralBatch)
                .options(selectinload(ReferralBatch.items).selectinload(ReferralItem.rechecks))
                .order_by(ReferralBatch.id.desc())
                .limit(MAX_BATCHES)
            )
            if authority:
                stmt = stmt.where(ReferralBatch.authority == authority)
            if status:
                stmt = stmt.where(ReferralBatch.status == status)
            rows = [(b, batch_figures(b)) for b in db.scalars(stmt)]
            waiting = {code: len(candidate_hits(db, code, platforms)) for code in AUTHORITY_CODES}
            return state.render(
                request,
                "batches.html",
                rows=rows,
                authority=authority,
                status=status,
                waiting=waiting,
                BATCH_STATUSES=BATCH_STATUSES,
                done=request.query_params.get("done", ""),
                limit=MAX_BATCHES,
            )

    @app.get("/batches/{number}")
    def batch_detail(request: Request, number: str) -> Response:
        with state.sessions() as db:
            state.user(request, db)
            batch = load(db, number)
            # the re-checks of every item in one query (the items are the ones get_batch loaded)
            db.scalars(
                select(ReferralItem)
                .where(ReferralItem.batch_id == batch.id)
                .options(selectinload(ReferralItem.rechecks))
            ).all()
            captured = evidence_by_hit(db, [item.hit_id for item in batch.items])
            icp: dict[str, IcpRouting] = {}
            items = []
            for item in batch.items:
                if batch.authority == "miit" and item.target not in icp:
                    icp[item.target] = icp_for_domain(db, item.target)
                fate = fate_of(item, batch.sent_at).state if batch.sent_at is not None else ""
                items.append(ItemView(item, fate, list(item.rechecks), icp.get(item.target), item.hit_id in captured))
            return state.render(
                request,
                "batch.html",
                batch=batch,
                items=items,
                figures=batch_figures(batch),
                files=exported_files(export_root(state), batch.number),
                without_evidence=[v.item.hit_id for v in items if not v.has_evidence],
                BATCH_STATUSES=BATCH_STATUSES,
                RECHECK_OUTCOMES=RECHECK_OUTCOMES,
                FATES=FATES,
                ITEM_STATES=ITEM_STATES,
                done=request.query_params.get("done", ""),
            )

    async def act(request: Request, role: str, action: Callable[[Session, str, Any], str]) -> Response:
        """Run one POST action in a transaction after the session, role and CSRF checks; redirect to its page."""
        form = await request.form()

        def run() -> str:
            with state.sessions.begin() as db:
                user = state.user(request, db, role=role)
                state.check_csrf(request, form)
                try:
                    return action(db, user.name, form)
                except (ExportError, AccessError) as exc:
                    raise refused(exc) from None

        try:
            return RedirectResponse(local_path(await run_in_threadpool(run), "/batches"), status_code=303)
        finally:
            await form.close()  # uploaded files (an answer) are spooled to temporary files

    def now() -> datetime:
        return datetime.now(UTC)

    def path_of(number: str, done: str) -> str:
        return f"/batches/{quote(number, safe='')}?done={done}"

    @app.post("/batches/create")
    async def batch_create(request: Request) -> Response:
        def create(db: Session, user: str, form: Any) -> str:
            authority = str(form.get("authority") or "")
            if authority not in AUTHORITY_CODES:
                raise BadRequest(f"未知的移交部门 {authority[:20]!r}")
            batch = create_batch(
                db,
                authority=authority,
                user=user,
                institute_code=config.referrals.institute_code,
                platforms=platforms,
                now=now(),
            )
            if batch is None:
                raise BadRequest(f"没有待移交{AUTHORITIES[authority]}的已确认命中。")
            return path_of(batch.number, "created")

        return await act(request, "analyst", create)

    @app.post("/batches/{number}/approve")
    async def batch_approve(request: Request, number: str) -> Response:
        def approve(db: Session, user: str, _form: Any) -> str:
            return path_of(approve_batch(db, number[:60], user=user, now=now()).number, "approved")

        return await act(request, "supervisor", approve)

    @app.post("/batches/{number}/send")
    async def batch_send(request: Request, number: str) -> Response:
        def send(db: Session, user: str, _form: Any) -> str:
            return path_of(mark_sent(db, number[:60], user=user, now=now()).number, "sent")

        return await act(request, "analyst", send)

    @app.post("/batches/{number}/discard")
    async def batch_discard(request: Request, number: str) -> Response:
        def discard(db: Session, user: str, _form: Any) -> str:
            discard_batch(db, number[:60], user=user)
            return "/batches?done=discarded"

        return await act(request, "analyst", discard)

    @app.post("/batches/{number}/export")
    async def batch_export(request: Request, number: str) -> Response:
        def export(db: Session, user: str, _form: Any) -> str:
            batch = load(db, number)
            export_batch(config, db, batch.number, export_root(state), user=user)
            return path_of(batch.number, "exported")

        return await act(request, "analyst", export)

    @app.post("/batches/{number}/answer")
    async def batch_answer(request: Request, number: str) -> Response:
        """The authority's answer file, uploaded: checked whole and imported as ``touthunt batch answer`` does."""

        def answer(db: Session, user: str, form: Any) -> str:
            upload = form.get("file")
            if upload is None or not hasattr(upload, "file"):
                raise BadRequest("请选择回复文件 (CSV 或 xlsx)")
            name = Path(str(upload.filename or "answer.csv")).name
            suffix = Path(name).suffix.lower()
            if suffix not in (".csv", ".xlsx"):
                raise BadRequest(f"{name}: 只能导入 CSV 或 xlsx 文件")
            data = upload.file.read(MAX_ANSWER_BYTES + 1)
            if len(data) > MAX_ANSWER_BYTES:
                raise BadRequest(f"{name}: 文件超过 {MAX_ANSWER_BYTES // 1_000_000} MB")
            with tempfile.TemporaryDirectory(prefix="touthunt-answer-") as folder:
                path = Path(folder) / (Path(name).stem[:80] + suffix)  # the name the error messages cite
                path.write_bytes(data)
                import_answer(db, number[:60], path, user=user, now=now())
            return path_of(number[:60], "answered")

        return await act(request, "analyst", answer)

    @app.get("/batches/{number}/files/{name}")
    def batch_file(request: Request, number: str, name: str) -> Response:
        with state.sessions.begin() as db:
            user = state.user(request, db)
            batch = load(db, number)
            root = export_root(state)
            listed = dict(exported_files(root, batch.number))
            if name not in listed:
                return Response("没有这个导出文件", status_code=404, media_type="text/plain; charset=utf-8")
            audit.record(db, user.name, "export", f"batch:{batch.number}", file=name, via="web_download")
            path = root / batch.number / name
        media = MEDIA_TYPES.get(path.suffix, "application/octet-stream")
        return FileResponse(path, media_type=media, filename=name, content_disposition_type="attachment")


__all__ = ["EXPORT_FOLDER", "batch_figures", "exported_files", "register"]
