"""The alert a check produces and how it reads: plain text for mail, Markdown for the DingTalk and WeCom
robots. Alerts are written in Chinese; anything that came from a crawled page (titles, host names) is
treated as hostile: control characters removed, Markdown syntax escaped, length bounded."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

KINDS = {
    "zero_items": "零结果",
    "error_spike": "错误率突增",
    "login_wall": "登录墙/验证码",
    "missed_schedule": "未按计划运行",
    "urgent_hit": "紧急命中",
    "digest": "每日简报",
    "config_invalid": "配置无效",
    "evidence_integrity": "取证文件校验失败",
}
SEVERITIES = ("info", "warning", "urgent")

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]")
_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+!|<>~])")
MAX_BYTES = 3800  # UTF-8 bytes of a robot message (WeCom's limit is 4096 bytes of Markdown)


def clean(text: str, limit: int = 80) -> str:
    """One line of untrusted text: no control or invisible characters, at most ``limit`` characters."""
    text = _CONTROL.sub("", " ".join(str(text).split()))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def md_escape(text: str) -> str:
    return _MARKDOWN.sub(r"\\\1", text)


@dataclass(frozen=True)
class Link:
    """A line that links somewhere (a hit in the web app): ``text`` is untrusted, ``url`` is ours (empty when
    ``web.base_url`` is not set: the line is shown without a link)."""

    text: str
    url: str


@dataclass(frozen=True)
class Alert:
    kind: str  # one of KINDS
    dedupe_key: str  # the same key is never sent twice over a channel
    title: str  # our own words (no crawled text)
    lines: tuple[str | Link, ...] = field(default=())
    severity: str = "warning"

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown alert kind {self.kind!r}")
        if self.severity not in SEVERITIES:
            raise ValueError(f"unknown severity {self.severity!r}")

    @property
    def heading(self) -> str:
        mark = {"urgent": "【紧急】", "warning": "【告警】", "info": "【通知】"}[self.severity]
        return f"{mark}{self.title}"

    def as_text(self) -> str:
        """The mail body."""
        out = [self.heading, ""]
        for line in self.lines:
            if isinstance(line, Link):
                out.append(f"{clean(line.text, 120)}\n    {line.url}" if line.url else clean(line.text, 120))
            else:
                out.append(clean(line, 400))
        out += ["", "—— touthunt 网络号贩子与医托有害信息监测平台（自动发送，请勿回复）"]
        return "\n".join(out)

    def as_markdown(self) -> str:
        """The robot message, bounded to MAX_BYTES of UTF-8 (whole lines are dropped from the end)."""
        out = [f"### {md_escape(self.heading)}", ""]
        for line in self.lines:
            if isinstance(line, Link) and line.url:
                out.append(f"- [{md_escape(clean(line.text, 60))}]({line.url})")
            elif isinstance(line, Link):
                out.append(f"- {md_escape(clean(line.text, 60))}")
            else:
                out.append(f"- {md_escape(clean(line, 300))}")
        text = "\n".join(out)
        if len(text.encode("utf-8")) > MAX_BYTES:
            head = text.encode("utf-8")[: MAX_BYTES - 120].decode("utf-8", "ignore")
            text = head.rsplit("\n", 1)[0] + "\n- ……（内容过长，其余请在系统中查看）"
        # robots set up with keywords only accept messages containing one: "touthunt" always is
        return text + "\n\n—— touthunt 监测平台"


def hit_link(base_url: str, hit_id: int) -> str:
    """``<web.base_url>/hits/<id>``; empty when no base URL is configured."""
    return f"{base_url.rstrip('/')}/hits/{hit_id}" if base_url else ""
