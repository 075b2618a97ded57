"""Evidence capture for hits: the raw exchanges in a WARC file (warcio), a full-page screenshot from the
browser, the final URL and redirect chain, the resolved address and how it was obtained, the capture time
in UTC and China time, the tools and their versions, all listed with SHA-256 in a JSON manifest whose own
hash is stored in ``evidence_records``.

Where it runs: a post-crawl step. ``crawler.runner.run_source`` calls :func:`capture_new_hits` for the
run's new hits at or above ``evidence.threshold`` once the crawl process has ended. Not a Scrapy pipeline
stage, because (1) the evidence browser must never slow normal pages: a pipeline stage would hold the
crawl's item flow (and its reactor) while Chromium renders, whereas after the run only hits are touched;
(2) a hit is only a hit once the score is stored, and a page that was a hit in an earlier run is not
captured again; (3) the step is restartable: a capture that failed (browser missing, proxy down) is
retried for hits still without evidence the next time it runs, or with ``touthunt evidence capture``.
The capture fetches the page again through the same proxy seconds after the crawl saw it, with a client
that keeps the bytes on the wire (see ``evidence.fetch``).

Evidence folders are never changed after they are written (``evidence.files``); ``prune_expired`` deletes
whole folders of hits that were never referred once ``evidence.retention_days`` have passed.
"""

from __future__ import annotations

import io
import logging
import re
import shutil
import socket
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from importlib import metadata
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import exists, select
from sqlalchemy.orm import Session, sessionmaker
from warcio.warcwriter import WARCWriter

from crawler.config import Config
from evidence.fetch import FetchError, FetchResult, fetch_chain, lookup_addresses
from evidence.files import MANIFEST_NAME, EvidenceFileError, check_folder, manifest_bytes, write_once
from storage.models import EvidenceRecord, Hit, Page, ReferralItem

log = logging.getLogger(__name__)

CHINA = ZoneInfo("Asia/Shanghai")
WARC_NAME = "response.warc.gz"
SCREENSHOT_NAME = "screenshot.png"
VIEWPORT = {"width": 1280, "height": 900}
_SAFE_DOMAIN = re.compile(r"^[a-z0-9][a-z0-9.-]{0,200}$")


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "unknown"


def evidence_root(config: Config) -> Path:
    return config.resolve_path(config.evidence.folder)


def _warc_date(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def build_warc(result: FetchResult, *, captured_at: datetime, filename: str) -> bytes:
    """A gzipped WARC 1.0 file: a warcinfo record, then a request and a response record per exchange."""
    buffer = io.BytesIO()
    writer = WARCWriter(buffer, gzip=True)
    info = {
        "software": f"touthunt/{_version('touthunt')} warcio/{_version('warcio')}",
        "format": "WARC File Format 1.0",
        "hostname": socket.gethostname(),
        "description": "touthunt evidence capture",
    }
    writer.write_record(writer.create_warcinfo_record(filename, info))
    date = _warc_date(captured_at)
    for exchange in result.exchanges:
        response = writer.create_warc_record(
            exchange.url,
            "response",
            payload=io.BytesIO(exchange.response),
            length=len(exchange.response),
            warc_headers_dict={"WARC-Date": date, "WARC-IP-Address": exchange.peer_address},
        )
        request = writer.create_warc_record(
            exchange.url,
            "request",
            payload=io.BytesIO(exchange.request),
            length=len(exchange.request),
            warc_headers_dict={
                "WARC-Date": date,
                "WARC-Concurrent-To": response.rec_headers.get_header("WARC-Record-ID"),
            },
        )
        writer.write_record(request)
        writer.write_record(response)
    return buffer.getvalue()


class Screenshotter:
    """One headless Chromium (Playwright, launched with ``crawler.browser.launch_options``) for a series of
    screenshots; a new browser context per page so no state leaks from one capture into the next."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self._playwright: Any = None
        self._browser: Any = None

    def __enter__(self) -> Screenshotter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _start(self) -> Any:
        if self._browser is None:
            from playwright.sync_api import sync_playwright

            from crawler.browser import launch_options

            options = launch_options(self.config)
            self._playwright = sync_playwright().start()
            try:
                self._browser = self._playwright.chromium.launch(**options)
            except Exception:
                self._playwright.stop()
                self._playwright = None
                raise
        return self._browser

    @property
    def version(self) -> str:
        return self._browser.version if self._browser is not None else ""

    def shoot(self, url: str) -> bytes:
        browser = self._start()
        context = browser.new_context(
            viewport=VIEWPORT,
            user_agent=self.config.network.user_agent,
            locale="zh-CN",
            timezone_id="Asia/Shanghai",
            ignore_https_errors=True,
        )
        try:
            page = context.new_page()
            page.set_default_timeout(self.config.browser.navigation_timeout_seconds * 1000)
            page.goto(url, wait_until="load")
            # a bounded query (a page script that never yields cannot hang it, unlike page.evaluate)
            box = page.locator("html").bounding_box(timeout=self.config.browser.navigation_timeout_seconds * 1000)
            height = int(box["height"]) if box else VIEWPORT["height"]
            limit = self.config.evidence.max_screenshot_height
            if height > limit:
                clip = {"x": 0, "y": 0, "width": VIEWPORT["width"], "height": limit}
                return bytes(page.screenshot(full_page=True, clip=clip, type="png"))
            return bytes(page.screenshot(full_page=True, type="png"))
        finally:
            context.close()

    def close(self) -> None:
        if self._browser is not None:
            self._browser.close()
            self._browser = None
        if self._playwright is not None:
            self._playwright.stop()
            self._playwright = None


def _folder_for(config: Config, hit: Hit, prefix: str, moment: datetime) -> tuple[Path, str]:
    root = evidence_root(config)
    stamp = moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    if config.evidence.layout == "domain":
        domain = hit.page.registrable_domain.lower()
        parent = domain if _SAFE_DOMAIN.match(domain) and ".." not in domain else "_other"
    else:
        parent = moment.astimezone(CHINA).strftime("%Y/%m/%d")
    base = f"{parent}/{prefix}{hit.id:06d}-{stamp}"
    relative = base
    for n in range(2, 100):
        try:
            (root / relative).mkdir(parents=True, exist_ok=False)
            return root / relative, relative
        except FileExistsError:
            relative = f"{base}-{n}"
    raise EvidenceFileError(f"no free evidence folder for {base}")


@dataclass
class CaptureOutcome:
    record: EvidenceRecord
    fetch: FetchResult | None
    fetch_error: FetchError | None
    problems: list[str] = field(default_factory=list)


def capture(
    config: Config,
    session: Session,
    hit: Hit,
    *,
    kind: str = "capture",
    url: str | None = None,
    screenshotter: Screenshotter | None = None,
    now: datetime | None = None,
) -> CaptureOutcome:
    """Capture ``url`` (default: the hit's page URL) into a new evidence folder and record it."""
    captured_at = now or datetime.now(UTC)
    url = url or hit.page.url
    net = config.network
    problems: list[str] = []
    folder, relative = _folder_for(config, hit, "H" if kind == "capture" else "R", captured_at)
    files: list[dict[str, Any]] = []
    fetch: FetchResult | None = None
    fetch_error: FetchError | None = None
    try:
        fetch = fetch_chain(
            url,
            proxy=net.proxy,
            user_agent=net.user_agent,
            timeout=net.timeout_seconds if kind == "capture" else config.recheck.timeout_seconds,
            max_bytes=net.max_page_bytes,
            max_redirects=net.max_redirects,
        )
    except FetchError as exc:
        fetch_error = exc
        problems.append(f"fetch failed: {exc.reason}: {exc.detail}"[:500])
    if fetch is not None:
        data = build_warc(fetch, captured_at=captured_at, filename=WARC_NAME)
        files.append({"name": WARC_NAME, "sha256": write_once(folder / WARC_NAME, data), "size": len(data),
                      "media_type": "application/warc"})  # fmt: skip
        if fetch.final.truncated:
            problems.append(f"response cut at {net.max_page_bytes} bytes")
    browser_version = ""
    if screenshotter is not None and config.evidence.screenshot:
        try:
            png = screenshotter.shoot(url)
            browser_version = screenshotter.version
            files.append({"name": SCREENSHOT_NAME, "sha256": write_once(folder / SCREENSHOT_NAME, png),
                          "size": len(png), "media_type": "image/png"})  # fmt: skip
        except EvidenceFileError:
            raise
        except Exception as exc:  # a browser failure must not lose the rest of the evidence
            problems.append(f"screenshot failed: {type(exc).__name__}: {exc}"[:500])
    host = (fetch.final_url if fetch else url).split("/")[2] if "//" in url else ""
    host = host.rpartition("@")[2].split(":")[0]
    resolved: dict[str, Any] = {"peer_address": fetch.final.peer_address if fetch else None}
    if net.proxy:
        resolved["method"] = (
            "through the proxy: the proxy resolved the name; peer_address is the proxy's, the target's address "
            "is not disclosed to the client"
        )
        resolved["proxy"] = net.proxy
    else:
        resolved["method"] = "direct connection: peer_address is the address this machine's DNS gave and connected to"
    if config.evidence.local_dns_lookup and host:
        addresses, error = lookup_addresses(host)
        resolved["local_dns"] = {"host": host, "addresses": addresses, "error": error}
    final_url = fetch.final_url if fetch else url
    manifest = {
        "format": "touthunt-evidence/1",
        "kind": kind,
        "hit_id": hit.id,
        "page_id": hit.page_id,
        "url": url,
        "final_url": final_url,
        "http_status": fetch.final.status if fetch else None,
        "redirect_chain": fetch.redirect_chain if fetch else [],
        "resolved_address": resolved,
        "captured_at_utc": captured_at.astimezone(UTC).isoformat(timespec="seconds"),
        "captured_at_china": captured_at.astimezone(CHINA).isoformat(timespec="seconds"),
        "capture_host": socket.gethostname(),
        "user_agent": net.user_agent,
        "tools": {
            "touthunt": _version("touthunt"),
            "warcio": _version("warcio"),
            "playwright": _version("playwright"),
            "chromium": browser_version,
        },
        "files": files,
        "problems": problems,
    }
    data = manifest_bytes(manifest)
    digest = write_once(folder / MANIFEST_NAME, data)
    record = EvidenceRecord(
        hit_id=hit.id,
        kind=kind,
        folder=relative,
        url=url[:2048],
        final_url=final_url[:2048],
        http_status=fetch.final.status if fetch else None,
        captured_at=captured_at,
        manifest_sha256=digest,
        file_count=len(files) + 1,
        problems=problems,
    )
    session.add(record)
    session.flush()
    return CaptureOutcome(record, fetch, fetch_error, problems)


def hits_needing_evidence(session: Session, config: Config, *, run_id: int | None = None) -> list[int]:
    """Ids of hits at or above the evidence threshold without a capture, oldest first (bounded)."""
    captured = exists().where(EvidenceRecord.hit_id == Hit.id, EvidenceRecord.kind == "capture")
    stmt = (
        select(Hit.id)
        .join(Hit.page)
        .where(Hit.score >= config.evidence.threshold, Hit.status != "dismissed", ~captured)
        .order_by(Hit.id)
        .limit(config.evidence.max_per_run)
    )
    if run_id is not None:
        stmt = stmt.where(Page.last_run_id == run_id)
    return list(session.scalars(stmt))


@dataclass(frozen=True)
class CaptureSummary:
    captured: int
    with_problems: int
    failed: int


def capture_new_hits(
    config: Config, sessions: sessionmaker[Session], *, run_id: int | None = None, hit_ids: list[int] | None = None
) -> CaptureSummary:
    """Capture evidence for the hits that need it (of one run, or the given ids); one browser for all."""
    if not config.evidence.enabled and hit_ids is None:
        return CaptureSummary(0, 0, 0)
    with sessions() as session:
        ids = hit_ids if hit_ids is not None else hits_needing_evidence(session, config, run_id=run_id)
    captured = with_problems = failed = 0
    if not ids:
        return CaptureSummary(0, 0, 0)
    with Screenshotter(config) as shooter:
        for hit_id in ids:
            try:
                with sessions.begin() as session:
                    hit = session.get(Hit, hit_id)
                    if hit is None:
                        continue
                    outcome = capture(config, session, hit, screenshotter=shooter)
                captured += 1
                if outcome.problems:
                    with_problems += 1
                    log.warning("evidence of hit %s is incomplete: %s", hit_id, "; ".join(outcome.problems))
            except Exception as exc:  # one hit's failure never stops the others
                failed += 1
                log.error("evidence capture of hit %s failed: %s", hit_id, exc)
    return CaptureSummary(captured, with_problems, failed)


def prune_expired(config: Config, sessions: sessionmaker[Session], *, now: datetime | None = None) -> int:
    """Delete evidence folders of hits never referred (and not confirmed) older than the retention period."""
    days = config.evidence.retention_days
    if days == 0:
        return 0
    cutoff = (now or datetime.now(UTC)) - timedelta(days=days)
    referred = exists().where(ReferralItem.hit_id == EvidenceRecord.hit_id)
    root = evidence_root(config).resolve()
    pruned = 0
    with sessions.begin() as session:
        stmt = (
            select(EvidenceRecord)
            .join(Hit, Hit.id == EvidenceRecord.hit_id)
            .where(EvidenceRecord.captured_at < cutoff, EvidenceRecord.pruned_at.is_(None), ~referred)
            .where(Hit.status != "confirmed")
        )
        for record in session.scalars(stmt):
            folder = (root / record.folder).resolve()
            if root in folder.parents and folder.is_dir():
                shutil.rmtree(folder)
            record.pruned_at = now or datetime.now(UTC)
            pruned += 1
    return pruned


@dataclass(frozen=True)
class IntegrityProblem:
    record_id: int
    hit_id: int
    folder: str
    name: str
    problem: str


def check_integrity(config: Config, session: Session) -> list[IntegrityProblem]:
    """Re-hash every kept evidence folder against its manifest and the manifest hash in the database."""
    root = evidence_root(config)
    problems = []
    for record in session.scalars(select(EvidenceRecord).where(EvidenceRecord.pruned_at.is_(None))):
        for problem in check_folder(root / record.folder, record.manifest_sha256):
            problems.append(IntegrityProblem(record.id, record.hit_id, record.folder, problem.name, problem.problem))
    return problems
