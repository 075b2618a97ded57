"""Alert channels against real local servers: mail to aiosmtpd (plain, and STARTTLS with login checked
against a private CA), DingTalk's signed webhook and WeCom's webhook to an http.server receiver. A channel
that refuses (SMTP 554, HTTP 500, an errcode) or hangs fails alone and is recorded; the others deliver;
nothing is sent twice."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from email.header import decode_header, make_header
from pathlib import Path
from typing import Any

from sqlalchemy import select

from alerts.channels import DingTalkChannel, EmailChannel, WeComChannel, channels_from_config, dingtalk_signed_url
from alerts.deliver import deliver
from alerts.message import Alert, Link
from storage.models import AlertDelivery
from tests.receivers import SMTPServer, Webhook

ALERT = Alert(
    kind="urgent_hit",
    dedupe_key="urgent_hit:7",
    title="发现高分命中 #7（92 分，号贩子/代挂号）",
    severity="urgent",
    lines=(Link("专家号代挂*加急*[点我](http://evil.example/)", "http://127.0.0.1:8000/hits/7"), "请尽快审核。"),
)


def subject(message: Any) -> str:
    return str(make_header(decode_header(message["Subject"])))


def deliveries(sessions: Any) -> list[tuple[str, str, str, str]]:
    with sessions() as s:
        rows = s.scalars(select(AlertDelivery).order_by(AlertDelivery.id)).all()
        return [(r.dedupe_key, r.channel, r.status, r.error) for r in rows]


def test_mail_arrives_in_chinese_with_the_link(sessions: Any) -> None:
    with SMTPServer() as smtp:
        channel = EmailChannel(
            host="127.0.0.1", port=smtp.port, sender="touthunt@hz.example", recipients=("duty@hz.example",)
        )
        outcomes = deliver(sessions, [channel], [ALERT], max_attempts=3)
        assert [o.status for o in outcomes] == ["sent"]
        [(mail_from, rcpts, message)] = smtp.box.messages
    assert mail_from == "touthunt@hz.example" and rcpts == ["duty@hz.example"]
    assert subject(message) == "[touthunt] 【紧急】发现高分命中 #7（92 分，号贩子/代挂号）"
    body = message.get_payload(decode=True).decode("utf-8")
    assert "http://127.0.0.1:8000/hits/7" in body and "请尽快审核" in body
    assert deliveries(sessions) == [("urgent_hit:7", "email", "sent", "")]


def test_mail_with_starttls_and_login(sessions: Any, tmp_path: Path, monkeypatch: Any) -> None:
    with SMTPServer(tls_folder=tmp_path, login=("alerts", "s3cret-Pw")) as smtp:
        channel = EmailChannel(
            host="127.0.0.1",
            port=smtp.port,
            sender="touthunt@hz.example",
            recipients=("a@hz.example", "b@hz.example"),
            starttls=True,
            username="alerts",
            password_env="TOUTHUNT_SMTP_PASSWORD",
            ca_file=str(smtp.cert_file),
            environ={"TOUTHUNT_SMTP_PASSWORD": "s3cret-Pw"},
        )
        assert deliver(sessions, [channel], [ALERT], max_attempts=3)[0].status == "sent"
        assert smtp.logins == ["alerts"]
        assert smtp.box.messages[0][1] == ["a@hz.example", "b@hz.example"]
        # a wrong password is refused by the server (SMTP 535) and recorded without the password
        wrong = EmailChannel(**{**channel.__dict__, "environ": {"TOUTHUNT_SMTP_PASSWORD": "wrong-Pw"}})
        third = Alert(kind="digest", dedupe_key="digest:2026-11-22", title="每日简报", severity="info")
        [refused] = deliver(sessions, [wrong], [third], max_attempts=3)
        assert refused.status == "failed" and refused.error.startswith("SMTP 535") and "wrong-Pw" not in refused.error
        assert len(smtp.box.messages) == 1
        # without its password variable the channel fails with a message naming the variable
        unset = EmailChannel(**{**channel.__dict__, "environ": {}})
        second = Alert(kind="digest", dedupe_key="digest:2026-11-23", title="每日简报", severity="info")
        [outcome] = deliver(sessions, [unset], [second], max_attempts=3)
    assert outcome.status == "failed" and "TOUTHUNT_SMTP_PASSWORD is not set" in outcome.error


def test_starttls_against_an_untrusted_certificate_fails(sessions: Any, tmp_path: Path) -> None:
    with SMTPServer(tls_folder=tmp_path) as smtp:
        channel = EmailChannel(
            host="127.0.0.1", port=smtp.port, sender="t@hz.example", recipients=("a@hz.example",), starttls=True
        )
        [outcome] = deliver(sessions, [channel], [ALERT], max_attempts=3)
        assert outcome.status == "failed" and "CERTIFICATE_VERIFY_FAILED" in outcome.error
        assert smtp.box.messages == []


def test_dingtalk_signed_and_wecom_posts_arrive(sessions: Any) -> None:
    with Webhook() as ding, Webhook() as wecom:
        environ = {
            "DING_URL": f"{ding.url}/robot/send?access_token=tok123",
            "DING_SECRET": "SECabc123",
            "WECOM_URL": f"{wecom.url}/cgi-bin/webhook/send?key=k-1",
        }
        channels = [
            DingTalkChannel(url_env="DING_URL", secret_env="DING_SECRET", environ=environ),
            WeComChannel(url_env="WECOM_URL", environ=environ),
        ]
        before_ms = int(time.time() * 1000)
        outcomes = deliver(sessions, channels, [ALERT], max_attempts=3)
        assert {(o.channel, o.status) for o in outcomes} == {("dingtalk", "sent"), ("wecom", "sent")}
    [(path, query, body)] = ding.received
    assert path == "/robot/send" and query["access_token"] == ["tok123"]
    timestamp = query["timestamp"][0]
    assert before_ms <= int(timestamp) <= int(time.time() * 1000)
    expected = base64.b64encode(
        hmac.new(b"SECabc123", f"{timestamp}\nSECabc123".encode(), hashlib.sha256).digest()
    ).decode()
    assert query["sign"] == [expected]  # parse_qs undoes the URL encoding
    assert body["msgtype"] == "markdown" and body["markdown"]["title"].startswith("【紧急】发现高分命中")
    text = body["markdown"]["text"]
    assert "(http://127.0.0.1:8000/hits/7)" in text
    assert "\\[点我\\]\\(http://evil.example/\\)" in text  # crawled text cannot make its own link
    [(wpath, wquery, wbody)] = wecom.received
    assert wpath == "/cgi-bin/webhook/send" and wquery == {"key": ["k-1"]}
    assert wbody["markdown"]["content"] == text
    targets = {r.channel: r.target for r in _rows(sessions)}
    assert targets["dingtalk"].startswith("127.0.0.1:") and "tok123" not in targets["dingtalk"]


def _rows(sessions: Any) -> list[AlertDelivery]:
    with sessions() as s:
        return list(s.scalars(select(AlertDelivery)))


def test_signed_url_matches_dingtalks_recipe() -> None:
    url = dingtalk_signed_url("https://oapi.dingtalk.com/robot/send?access_token=x", "SEC000", now_ms=1700000000000)
    digest = hmac.new(b"SEC000", b"1700000000000\nSEC000", hashlib.sha256).digest()
    sign = base64.b64encode(digest).decode().replace("+", "%2B").replace("/", "%2F").replace("=", "%3D")
    assert url == f"https://oapi.dingtalk.com/robot/send?access_token=x&timestamp=1700000000000&sign={sign}"


def test_failing_and_hanging_channels_do_not_block_the_others(sessions: Any) -> None:
    with (
        SMTPServer(refuse=True) as refusing_smtp,
        SMTPServer() as smtp,
        Webhook("http500") as broken,
        Webhook("hang") as hanging,
        Webhook("errcode") as unsigned,
        Webhook() as wecom,
    ):
        environ = {"BROKEN": broken.url, "HANG": hanging.url, "BADSIGN": unsigned.url, "WECOM": wecom.url}
        channels = [
            EmailChannel(
                host="127.0.0.1",
                port=refusing_smtp.port,
                sender="t@hz.example",
                recipients=("a@hz.example",),
                name="email-refusing",
            ),
            DingTalkChannel(url_env="BROKEN", environ=environ),
            DingTalkChannel(url_env="HANG", timeout=1.0, environ=environ, name="dingtalk-hang"),
            DingTalkChannel(url_env="BADSIGN", environ=environ, name="dingtalk-badsign"),
            WeComChannel(url_env="MISSING", environ=environ, name="wecom-unset"),
            EmailChannel(host="127.0.0.1", port=smtp.port, sender="t@hz.example", recipients=("a@hz.example",)),
            WeComChannel(url_env="WECOM", environ=environ),
        ]
        started = time.monotonic()
        outcomes = {o.channel: o for o in deliver(sessions, channels, [ALERT], max_attempts=2)}
        elapsed = time.monotonic() - started
        assert len(smtp.box.messages) == 1 and len(wecom.received) == 1
        assert len(hanging.received) == 1
    assert elapsed < 10  # the hanging receiver cost its own time limit, not the others'
    assert outcomes["email"].status == outcomes["wecom"].status == "sent"
    assert "554" in outcomes["email-refusing"].error
    assert "HTTP 500" in outcomes["dingtalk"].error
    assert "timed out" in outcomes["dingtalk-hang"].error
    assert "sign not match" in outcomes["dingtalk-badsign"].error
    assert "MISSING is not set" in outcomes["wecom-unset"].error
    recorded = {(channel, status) for _key, channel, status, _error in deliveries(sessions)}
    assert recorded == {(name, o.status) for name, o in outcomes.items()}


def test_nothing_is_sent_twice_and_failures_are_retried_up_to_the_limit(sessions: Any) -> None:
    with Webhook() as good, Webhook("http500") as bad:
        environ = {"GOOD": good.url, "BAD": bad.url}
        channels = [WeComChannel(url_env="GOOD", environ=environ), DingTalkChannel(url_env="BAD", environ=environ)]
        for _ in range(4):
            deliver(sessions, channels, [ALERT, ALERT], max_attempts=2)
        assert len(good.received) == 1
        assert len(bad.received) == 2
    statuses = [(channel, status) for _k, channel, status, _e in deliveries(sessions)]
    assert statuses.count(("wecom", "sent")) == 1 and statuses.count(("dingtalk", "failed")) == 2


def test_channels_from_config(write_config: Any) -> None:
    config = write_config(
        {
            "alerts": {
                "timeout_seconds": 3,
                "email": {
                    "enabled": True,
                    "host": "mail.hz.example",
                    "port": 587,
                    "starttls": True,
                    "recipients": ["duty@hz.example"],
                    "ca_file": "ca.pem",
                },
                "dingtalk": {"enabled": True, "secret_env": "DING_SECRET"},
                "wecom": {"enabled": False},
            }
        }
    )
    channels = channels_from_config(
        config, {"TOUTHUNT_DINGTALK_URL": "https://oapi.dingtalk.com/robot/send?access_token=t"}
    )
    assert [c.name for c in channels] == ["email", "dingtalk"]
    email, ding = channels
    assert isinstance(email, EmailChannel) and email.starttls and email.timeout == 3
    assert email.ca_file == str(config.base_dir / "ca.pem")
    assert isinstance(ding, DingTalkChannel) and ding.target == "oapi.dingtalk.com"
