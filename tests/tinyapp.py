"""A tiny ASGI app standing in for the analysts' web app in the serve tests: answers every GET with the
institute code of the config it was built from, and counts lifespan events."""

from __future__ import annotations

from typing import Any

from crawler.config import Config

EVENTS: list[str] = []


def create_app(config: Config) -> Any:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    EVENTS.append("startup")
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    EVENTS.append("shutdown")
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        elif scope["type"] == "http":
            body = f"touthunt web {config.referrals.institute_code}".encode()
            await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
            await send({"type": "http.response.body", "body": body})

    return app
