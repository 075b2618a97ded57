"""The channels that deliver alerts: e-mail over SMTP (plain, STARTTLS or TLS, with or without login), the
DingTalk group robot (optionally signed: timestamp and HMAC-SHA256 of ``timestamp\\nsecret``, base64, URL
encoded) and the WeCom (企业微信) group robot. A channel sends one alert or raises :class:`ChannelError`;
every network call has ``alerts.timeout_seconds`` as its time limit. Secrets (SMTP password, webhook URLs
with their tokens, the signing secret) come from environment variables named in config.yaml and never
appear in the delivery records: a delivery's target is the recipients or the webhook's host."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import smtplib
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Protocol

from alerts.message import Alert
from crawler.config import Config

MAX_ANSWER = 2000  # bytes of a webhook's answer that are read


class ChannelError(Exception):
    """A delivery failed; the message says why (never containing a secret)."""


class Channel(Protocol):
    name: str

    @property
    def target(self) -> str: ...

    def send(self, alert: Alert) -> None: ...


def _env(environ: Mapping[str, str], name: str, what: str) -> str:
    value = environ.get(name, "") if name else ""
    if not value:
        raise ChannelError(f"{what}: environment variable {name or '(not configured)'} is not set")
    return value


@dataclass
class EmailChannel:
    host: str
    port: int
    sender: str
    recipients: tuple[str, ...]
    starttls: bool = False
    tls: bool = False
    username: str = ""
    password_env: str = ""
    ca_file: str = ""
    timeout: float = 10.0
    environ: Mapping[str, str] = None  # type: ignore[assignment]
    name: str = "email"

    @property
    def target(self) -> str:
        return ",".join(self.recipients)[:255]

    def _context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.ca_file or None)

    def send(self, alert: Alert) -> None:
        message = EmailMessage()
        message["Subject"] = f"[touthunt] {alert.heading}"
        message["From"] = self.sender
        message["To"] = ", ".join(self.recipients)
        message["Date"] = formatdate(localtime=True)
        message["Message-ID"] = make_msgid(domain="touthunt")
        message["X-Touthunt-Alert"] = alert.dedupe_key
        message.set_content(alert.as_text(), charset="utf-8")
        try:
            if self.tls:
                client: smtplib.SMTP = smtplib.SMTP_SSL(
                    self.host, self.port, timeout=self.timeout, context=self._context()
                )
            else:
                client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            with client:
                if self.starttls:
                    client.starttls(context=self._context())
                if self.username:
                    password = _env(self.environ or {}, self.password_env, "alerts.email.password_env")
                    try:
                        client.login(self.username, password)
                    except UnicodeEncodeError:
                        raise ChannelError("SMTP login: name and password must be ASCII") from None
                refused = client.send_message(message)
            if refused:
                raise ChannelError(f"some recipients were refused: {sorted(refused)}")
        except smtplib.SMTPResponseException as exc:
            raise ChannelError(f"SMTP {exc.smtp_code}: {_text(exc.smtp_error)}") from None
        except smtplib.SMTPRecipientsRefused as exc:
            codes = {rcpt: code for rcpt, (code, _msg) in exc.recipients.items()}
            raise ChannelError(f"SMTP refused every recipient: {codes}") from None
        except (smtplib.SMTPException, OSError) as exc:
            raise ChannelError(f"SMTP {self.host}:{self.port}: {type(exc).__name__}: {exc}") from None


def _text(value: bytes | str) -> str:
    return (value.decode("utf-8", "replace") if isinstance(value, bytes) else value)[:300]


# Robots (webhooks) -----------------------------------------------------------------------------------------

_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # alerts never follow proxy variables


def post_json(url: str, payload: dict[str, object], timeout: float) -> dict[str, object]:
    """POST JSON; the answer must be HTTP 200 with JSON ``errcode`` 0 (both robots answer that way)."""
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": "application/json; charset=utf-8"}
    )
    host = urllib.parse.urlsplit(url).netloc
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            raw = response.read(MAX_ANSWER)
    except urllib.error.HTTPError as exc:
        raise ChannelError(f"{host} answered HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ChannelError(f"{host}: {type(reason).__name__}: {reason}") from None
    try:
        answer = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ChannelError(f"{host} answered something that is not JSON: {raw[:100]!r}") from None
    if not isinstance(answer, dict) or answer.get("errcode", 0) != 0:
        raise ChannelError(f"{host} refused the message: {str(answer)[:300]}")
    return answer


def dingtalk_signed_url(url: str, secret: str, now_ms: int | None = None) -> str:
    """The webhook URL with DingTalk's ``timestamp`` and ``sign`` parameters."""
    timestamp = str(now_ms if now_ms is not None else round(time.time() * 1000))
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    sign = urllib.parse.quote_plus(base64.b64encode(digest))
    return f"{url}{'&' if '?' in url else '?'}timestamp={timestamp}&sign={sign}"


@dataclass
class DingTalkChannel:
    url_env: str
    secret_env: str = ""
    timeout: float = 10.0
    environ: Mapping[str, str] = None  # type: ignore[assignment]
    name: str = "dingtalk"

    @property
    def target(self) -> str:
        return urllib.parse.urlsplit((self.environ or {}).get(self.url_env, "")).netloc or self.url_env

    def send(self, alert: Alert) -> None:
        url = _env(self.environ or {}, self.url_env, "alerts.dingtalk.url_env")
        if self.secret_env:
            url = dingtalk_signed_url(url, _env(self.environ or {}, self.secret_env, "alerts.dingtalk.secret_env"))
        payload = {"msgtype": "markdown", "markdown": {"title": alert.heading[:64], "text": alert.as_markdown()}}
        post_json(url, payload, self.timeout)


@dataclass
class WeComChannel:
    url_env: str
    timeout: float = 10.0
    environ: Mapping[str, str] = None  # type: ignore[assignment]
    name: str = "wecom"

    @property
    def target(self) -> str:
        return urllib.parse.urlsplit((self.environ or {}).get(self.url_env, "")).netloc or self.url_env

    def send(self, alert: Alert) -> None:
        url = _env(self.environ or {}, self.url_env, "alerts.wecom.url_env")
        post_json(url, {"msgtype": "markdown", "markdown": {"content": alert.as_markdown()}}, self.timeout)


def channels_from_config(config: Config, environ: Mapping[str, str]) -> list[Channel]:
    """The enabled channels, in a fixed order (email, dingtalk, wecom)."""
    settings = config.alerts
    timeout = settings.timeout_seconds
    channels: list[Channel] = []
    if settings.email.enabled:
        mail = settings.email
        channels.append(
            EmailChannel(
                host=mail.host,
                port=mail.port,
                sender=mail.sender,
                recipients=mail.recipients,
                starttls=mail.starttls,
                tls=mail.tls,
                username=mail.username,
                password_env=mail.password_env,
                ca_file=str(config.resolve_path(mail.ca_file)) if mail.ca_file else "",
                timeout=timeout,
                environ=environ,
            )
        )
    if settings.dingtalk.enabled:
        ding = settings.dingtalk
        channels.append(
            DingTalkChannel(url_env=ding.url_env, secret_env=ding.secret_env, timeout=timeout, environ=environ)
        )
    if settings.wecom.enabled:
        channels.append(WeComChannel(url_env=settings.wecom.url_env, timeout=timeout, environ=environ))
    return channels
