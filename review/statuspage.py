"""The status page of the web app (运行状态, ``/status``): what ``touthunt status`` prints, for any signed-in
account. The figures come from ``crawler.status.status_data`` unchanged (scheduler lease holder and
heartbeat, each source's schedule, next and last runs with their health and the URLs left to resume, the
scheduled job kinds, the last 24 hours of alert deliveries and the latest failed one); this module only
turns codes into Chinese labels and ISO times into China time.

``register(app, state)`` is called by ``review.app.create_app``.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from fastapi import FastAPI, Request
from fastapi.responses import Response

from alerts.message import KINDS as ALERT_KINDS
from crawler.labels import RUN_STATUSES, SOURCE_STATES
from crawler.status import status_data

if TYPE_CHECKING:
    from review.app import App

CHANNELS = {"email": "邮件", "dingtalk": "钉钉机器人", "wecom": "企业微信机器人"}
NEXT_RUN_FROM = {"scheduler": "调度器", "config": "按配置推算"}
MAX_MESSAGE = 300


def iso_china(value: str | None) -> str:
    """An ISO time from ``status_data`` (already in China time) as ``YYYY-MM-DD HH:MM``; "—" when absent."""
    from review.app import china

    if not value:
        return "—"
    try:
        return china(datetime.fromisoformat(value))
    except ValueError:
        return value[:32]


def seconds_between(earlier: str | None, later: str | None) -> int | None:
    """Whole seconds from ``earlier`` to ``later`` (ISO times with offsets), None if either is missing."""
    if not earlier or not later:
        return None
    return max(0, int((datetime.fromisoformat(later) - datetime.fromisoformat(earlier)).total_seconds()))


def register(app: FastAPI, state: App) -> None:
    """Add the status page to ``app``."""
    env = state.templates.env
    env.filters["iso_china"] = iso_china

    @app.get("/status")
    def status_page(request: Request) -> Response:
        with state.sessions() as db:
            state.user(request, db)
            data = status_data(state.config, db)
        scheduler = data["scheduler"]
        return state.render(
            request,
            "status.html",
            data=data,
            heartbeat_age=seconds_between(scheduler["heartbeat"], data["now"]),
            RUN_STATUSES=RUN_STATUSES,
            SOURCE_STATES=SOURCE_STATES,
            ALERT_KINDS=ALERT_KINDS,
            CHANNELS=CHANNELS,
            NEXT_RUN_FROM=NEXT_RUN_FROM,
            max_message=MAX_MESSAGE,
        )


__all__ = ["iso_china", "register"]
